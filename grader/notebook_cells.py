"""Reading and writing nbgrader cell metadata.

nbgrader marks a cell's role in ``cell.metadata.nbgrader``:

=================  =========  ======  ==========  ========================================
role               solution   grade   locked      used for
=================  =========  ======  ==========  ========================================
answer (code)      True       False   False       a function or constant the student writes
test (code)        False      True    True        visible test, plus hidden tests; has points
read-only          False      False   True        instructions and demos the student keeps
=================  =========  ======  ==========  ========================================

The constructors below make cells with that metadata (for authoring notebooks
in ``solutions/``); the readers find them again (for tests and grading tools).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import nbformat

SCHEMA_VERSION = 3
NB_VERSION = 4


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def answer_cell(source: str, grade_id: str) -> nbformat.NotebookNode:
    """A code cell the student edits; wrap the solution in BEGIN/END SOLUTION markers."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.metadata["nbgrader"] = _meta(grade_id, solution=True, grade=False, locked=False)
    return cell


def test_cell(source: str, grade_id: str, points: float) -> nbformat.NotebookNode:
    """A locked, graded code cell (visible test, then optional hidden tests)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.metadata["nbgrader"] = _meta(grade_id, solution=False, grade=True, locked=True,
                                      points=points)
    return cell


def code_cell(source: str, grade_id: str | None = None) -> nbformat.NotebookNode:
    """A code cell (setup, demo, figure); locked when a ``grade_id`` is given."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    if grade_id:
        cell.metadata["nbgrader"] = _meta(grade_id, solution=False, grade=False, locked=True)
    return cell


def markdown_cell(source: str, grade_id: str | None = None) -> nbformat.NotebookNode:
    """A markdown cell; locked (read-only) when a ``grade_id`` is given."""
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    if grade_id:
        cell.metadata["nbgrader"] = _meta(grade_id, solution=False, grade=False, locked=True)
    return cell


def new_notebook(cells: list) -> nbformat.NotebookNode:
    """A notebook with the course's Python 3 kernelspec."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                 "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata, or an empty dict."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_answer(cell) -> bool:
    """A cell the student writes into."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell (code, with points)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell["cell_type"] == "code"


def iter_cells(nb, kind: str) -> Iterator:
    """Yield the ``"answer"`` or ``"test"`` cells of a notebook, in order."""
    pick = {"answer": is_answer, "test": is_test}[kind]
    for cell in nb.cells:
        if pick(cell):
            yield cell


def total_points(nb) -> float:
    """Sum of the points of every test cell."""
    return float(sum(nbgrader_meta(c).get("points", 0) for c in iter_cells(nb, "test")))


def read(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=NB_VERSION)


def assignments(solutions_dir: str | Path) -> list[str]:
    """Assignment names (folder stems such as ``01_edge_detection``), sorted."""
    root = Path(solutions_dir)
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")) and not p.name.startswith("."))


def strip_solution_markers(source: str) -> str:
    """The solution code of an answer cell without the BEGIN/END SOLUTION marker lines."""
    keep = [line for line in source.splitlines()
            if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(keep)

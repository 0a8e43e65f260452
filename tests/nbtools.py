"""Helpers for tests that look inside the course notebooks."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from grader import notebook_cells as cells

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
RELEASE = REPO / "notebooks"


def solution_path(stem: str) -> Path:
    """``solutions/<stem>/<stem>.ipynb``."""
    return SOLUTIONS / stem / f"{stem}.ipynb"


def release_path(stem: str) -> Path:
    """``notebooks/<stem>/<stem>.ipynb``."""
    return RELEASE / stem / f"{stem}.ipynb"


def assignments() -> list[str]:
    """Every assignment stem in ``solutions/``."""
    return cells.assignments(SOLUTIONS)


@functools.lru_cache(maxsize=None)
def _namespace(stem: str) -> dict:
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = cells.read(solution_path(stem))
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code:
        raise ValueError(f"{stem} has no code cells")
    ns: dict = {"__name__": f"solution_{stem}"}
    exec(compile(code[0].source, f"{stem}:setup", "exec"), ns)  # the setup cell
    for cell in cells.iter_cells(nb, "answer"):
        gid = cells.nbgrader_meta(cell)["grade_id"]
        src = cells.strip_solution_markers(cell.source)
        exec(compile(src, f"{stem}:{gid}", "exec"), ns)
    return ns


def solution_namespace(stem: str) -> dict:
    """The names the solution notebook defines: its setup cell, then every answer cell.

    Tests use it to call the reference solutions (worked examples, checks that
    pass a correct answer) without running the whole notebook.
    """
    return dict(_namespace(stem))

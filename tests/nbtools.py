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


def score_in_process(stem: str, replacements: dict[str, str] | None = None, *,
                     student: str | None = None, secret: bytes = b"nbtools-test-secret"
                     ) -> tuple[float, float, list[str]]:
    """Grade a solution notebook in this process the way ``python -m grader autograde`` does.

    The setup cell and each answer cell (or its replacement from ``replacements``,
    keyed by grade_id, as in ``data/example_class/typical_mistakes``) run in one
    namespace that stands in for the student's kernel. Each test cell then runs in
    a separate, trusted namespace (:func:`grader.trusted.verdicts.run_test`) whose
    student names call into that namespace through the real wire encoding
    (:class:`grader.trusted.remote.LocalChannel`). With ``student`` the hidden inputs
    are seeded per student as in grading; without, fixed seeds as in plain nbgrader.
    Returns ``(points, total, failed test grade_ids)``; ``test_roundtrip.py`` does
    the real nbgrader run.
    """
    from grader.trusted.remote import LocalChannel, Remote, defining_sources
    from grader.trusted.verdicts import run_test, setup_namespace

    os.environ.setdefault("MPLBACKEND", "Agg")
    replacements = replacements or {}
    nb = cells.read(solution_path(stem))
    code = [c for c in nb.cells if c.cell_type == "code"]
    kernel: dict = {"__name__": "__main__"}
    exec(compile(code[0].source, f"{stem}:setup", "exec"), kernel)
    base = setup_namespace([c.source for c in code
                            if not cells.is_answer(c) and not cells.is_test(c)])
    answers = [replacements.get(cells.nbgrader_meta(c)["grade_id"],
                                cells.strip_solution_markers(c.source))
               for c in code[1:] if cells.is_answer(c)]
    remote = Remote(LocalChannel(kernel), sources=defining_sources(answers))
    points = total = 0.0
    failed = []
    ran = [code[0].source]
    for cell in code[1:]:
        meta = cells.nbgrader_meta(cell)
        if cells.is_answer(cell):
            src = replacements.get(meta["grade_id"], cells.strip_solution_markers(cell.source))
            ran.append(src)
            try:
                exec(compile(src, f"{stem}:{meta['grade_id']}", "exec"), kernel)
            except Exception:  # noqa: BLE001 - a broken answer cell fails its tests later
                pass
        elif cells.is_test(cell):
            total += meta["points"]
            verdict = run_test(cell.source, meta["grade_id"], base, remote,
                               secret=secret if student else None, assignment=stem,
                               student=student or "", cells=ran)
            if verdict.passed:
                points += meta["points"]
            else:
                failed.append(meta["grade_id"])
    return points, total, failed


def fails(fn, *args, match: str) -> str:
    """Assert that ``fn(*args)`` raises a CheckFailure whose message matches ``match``
    (a case-insensitive regular expression); return the message."""
    import re

    import pytest

    from utils.checks.core import CheckFailure

    with pytest.raises(CheckFailure) as info:
        fn(*args)
    assert re.search(match, str(info.value), re.I | re.S), str(info.value)
    return str(info.value)

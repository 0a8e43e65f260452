"""Grades cannot be forged: every forgery attempt scores 0 on every test of every notebook.

Each attempt (``tests/fixtures/forgeries.py``) is an empty release notebook with code
in its first answer cell that reprograms its own kernel, forges replies or files,
leaves a process behind, or reads the course's references. The whole class, plus
a control student with correct answers (so that "everything is 0" cannot come from
broken grading), is graded once with ``python -m grader autograde``'s machinery.
A positive control shows that the reading attack is real: with the sandbox off
it copies the solutions and gets full marks.
"""
from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from grader import notebook_cells as cells
from grader.authoring import example_class
from grader.settings import REPO
from grader.trusted.autograde import autograde
from grader.trusted.course import Course, prepare
from grader.trusted.sandbox import Limits, landlock_abi

from fixtures.forgeries import ATTEMPTS, MARKER
from fixtures.shared import once

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("forgery")]
STEMS = Course.default().assignments()
#: attempts written plainly, which the tamper scan must name in the feedback
NAMED = {"silenced_tracebacks": "set_custom_exc",
         "guard_and_modules_replaced": "a module's dictionary"}
LIMITS = Limits(cell_timeout=30, notebook_timeout=600)


def _forged(course: Course, stem: str, code: str):
    nb = cells.read(course.build / "release" / stem / f"{stem}.ipynb")
    first = next(c for c in nb.cells if cells.is_answer(c))
    first.source = code.strip("\n") + "\n\n" + first.source
    return nb


def _write_class(course: Course, dest: Path) -> None:
    import nbformat
    solutions = {stem: example_class.solutions_by_id(cells.read(REPO / "solutions" / stem /
                                                                f"{stem}.ipynb"))
                 for stem in STEMS}
    for stem in STEMS:
        for attempt, code in ATTEMPTS.items():
            folder = dest / attempt / stem
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(_forged(course, stem, code), str(folder / f"{stem}.ipynb"))
        folder = dest / "control_correct" / stem
        folder.mkdir(parents=True, exist_ok=True)
        release = cells.read(course.build / "release" / stem / f"{stem}.ipynb")
        nbformat.write(example_class.fill(release, solutions[stem]), str(folder / f"{stem}.ipynb"))


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grade(root: Path) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    course = Course(root=REPO, source=REPO / "solutions", build=root / "build")
    prepare(course, STEMS, log=lambda *a: None)
    _write_class(course, root / "class")
    secret = root / "secret"
    secret.write_text("forgery-suite-secret-" + "0123456789abcdef" * 3 + "\n", encoding="utf-8")
    rep = autograde(root / "class", course=course, limits=LIMITS, workers=2,
                    log=lambda *a: None, progress=False, secret_file=secret)
    return {"course": course, "report": rep, "root": root,
            "grades": _rows(course.reports / "grades.csv"),
            "tests": _rows(course.reports / "tests.csv")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if landlock_abi() < 1:
        pytest.skip("this Linux has no Landlock, so grading refuses to start (fail closed)")
    return once(tmp_path_factory, "forgery_class", _grade)


def test_the_control_student_gets_full_marks(graded):
    """Grading works in this very run: correct answers get every point."""
    rows = [r for r in graded["grades"] if r["student_id"] == "control_correct"]
    assert {r["assignment"] for r in rows} == set(STEMS)
    for row in rows:
        assert float(row["score"]) == float(row["max_score"]) > 0, row


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_forgery_scores_zero_on_every_test_of_every_notebook(graded, attempt):
    rows = [r for r in graded["grades"] if r["student_id"] == attempt]
    assert {r["assignment"] for r in rows} == set(STEMS), "a notebook was not graded"
    for row in rows:
        assert float(row["score"]) == 0.0, (attempt, row["assignment"], row["notes"])
    tests = [t for t in graded["tests"] if t["student_id"] == attempt]
    assert tests and all(t["passed"] == "no" for t in tests), \
        [t["test"] for t in tests if t["passed"] != "no"]


@pytest.mark.parametrize("attempt", sorted(NAMED))
def test_plain_tampering_is_named_in_the_feedback(graded, attempt):
    course = graded["course"]
    for stem in STEMS:
        page = course.feedback / attempt / stem / f"{stem}.html"
        text = page.read_text(encoding="utf-8")
        assert "tampering detected" in text and NAMED[attempt] in text, page


def test_no_process_outlives_its_notebook(graded):
    survivors = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if MARKER.encode() in (entry / "cmdline").read_bytes():
                survivors.append(entry.name)
        except OSError:
            continue
    assert not survivors, f"processes left behind by graded kernels: {survivors}"


def test_forged_files_landed_nowhere_that_counts(graded):
    course, root = graded["course"], graded["root"]
    assert not list(root.rglob("result.json")), "a forged result file outlived grading"
    with sqlite3.connect(str(course.db_path)) as db:  # the gradebook is still a database
        n = db.execute("select count(*) from student").fetchone()[0]
    assert n == len(ATTEMPTS) + 1
    graded_nb = (course.autograded / "forged_result_files" / STEMS[0] / f"{STEMS[0]}.ipynb"
                 ).read_text(encoding="utf-8")
    assert "refused ../../gradebook.db" in graded_nb and "wrote ../../gradebook.db" not in graded_nb


def test_the_kernel_read_nothing_of_the_course(graded):
    course = graded["course"]
    for stem in STEMS:
        text = (course.autograded / "reads_references" / stem / f"{stem}.ipynb"
                ).read_text(encoding="utf-8")
        assert "READ 0 files; 0 solution cells" in text, stem


def test_protections_were_measured_in_every_kernel(graded):
    for row in graded["tests"]:
        if row["student_id"] == "control_correct":
            assert "reads fenced" in row["protections"] and "NO " not in row["protections"], row


def test_positive_control_reading_works_without_the_sandbox(tmp_path):
    """The reading attack is real: with the file fence off it copies the solutions."""
    if not STEMS:
        pytest.skip("no notebooks")
    stem = "02_padding" if "02_padding" in STEMS else STEMS[0]
    course = Course(root=REPO, source=REPO / "solutions", build=tmp_path / "build")
    prepare(course, [stem], log=lambda *a: None)
    import nbformat
    folder = tmp_path / "class" / "reader" / stem
    folder.mkdir(parents=True)
    nbformat.write(_forged(course, stem, ATTEMPTS["reads_references"]),
                   str(folder / f"{stem}.ipynb"))
    secret = tmp_path / "secret"
    secret.write_text("positive-control-" + "0123456789abcdef" * 3, encoding="utf-8")
    unsafe = Limits(cell_timeout=60, notebook_timeout=600, landlock=False, sandbox=False)
    autograde(tmp_path / "class", course=course, limits=unsafe, workers=1, log=lambda *a: None,
              progress=False, secret_file=secret, assignments=[stem])
    row = next(r for r in _rows(course.reports / "grades.csv") if r["student_id"] == "reader")
    assert float(row["score"]) == float(row["max_score"]) > 0, row

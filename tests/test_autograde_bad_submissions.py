"""The bad-submission suite: each student gets a fair result with the reason, others are untouched.

One class of the fixture assignment (``tests/fixtures``) is graded once with
short limits (CELL_TIMEOUT seconds per cell, 1 GiB per kernel); each test then checks one
student's score, the reason in the grades CSV and in the HTML feedback, and
that the gradebook and the course files are intact.
"""
from __future__ import annotations

import csv
import shutil
import sqlite3

import pytest

from grader.trusted import autograde as ag
from grader.trusted.sandbox import GIB, Limits, landlock_abi

from fixtures.bad_submissions import CELL_TIMEOUT, write_class
from fixtures.shared import copy_course, once
from fixtures.fixture_course import HIDDEN_MARKER, STEM, make_course
from grader.trusted.course import prepare

pytestmark = pytest.mark.xdist_group("autograde_bad")

LIMITS = Limits(cell_timeout=CELL_TIMEOUT, notebook_timeout=60, memory_bytes=1 * GIB)


def _grade_class(root):
    root.mkdir(parents=True, exist_ok=True)
    course = make_course(root / "course")
    prepare(course, [STEM], log=lambda *a: None)
    outside = root / "OUTSIDE_TARGET.txt"
    expected = write_class(course, root / "submissions", outside)
    source_before = (course.source / STEM / f"{STEM}.ipynb").read_bytes()
    logs = []
    rep = ag.autograde(root / "submissions", course=course, limits=LIMITS, workers=2,
                       log=logs.append)
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    return {"course": course, "expected": expected, "report": rep, "rows": rows,
            "outside": outside, "root": root, "logs": logs, "source_before": source_before}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    # graded once per session, even when xdist workers share this module's tests
    return once(tmp_path_factory, "badclass", _grade_class)


def _students():
    # the names are fixed by write_class; listed here so each gets its own test
    return ["perfect", "Ana María Ñúñez", "infinite_loop", "loop_at_top_level", "slow_code",
            "hang_ignores_interrupt", "sys_exit", "os_exit", "segfault", "memory_bomb",
            "huge_output", "deleted_test_cell", "edited_test_cell", "altered_metadata",
            "missing_notebook", "extra_notebook", "invalid_json", "empty_file", "old_nbformat",
            "patches_numpy", "patches_checks", "patches_checks_dynamically", "writes_outside"]


@pytest.mark.parametrize("student", _students())
def test_fair_score_and_reason(graded, student):
    exp = graded["expected"][student]
    row = graded["rows"][student]
    assert float(row["max_score"]) == 7.0
    assert float(row["score"]) == pytest.approx(exp.score), (student, row["notes"])
    if exp.reason:
        assert exp.reason in row["notes"], row["notes"]
        html = graded["course"].feedback / student / STEM / f"{STEM}.html"
        assert html.is_file(), f"no feedback for {student}"
        text = html.read_text(encoding="utf-8")
        assert exp.reason.split(" after")[0].split(" (")[0] in text


@pytest.mark.parametrize("student", ["missing_notebook", "extra_notebook"])
def test_extra_files_are_reported_not_dropped(graded, student):
    extra = graded["expected"][student].extra
    reported = [f for f, _ in graded["report"].unmatched]
    assert any(f.endswith(extra) and student in f for f in reported), reported
    summary = (graded["course"].reports / "summary.md").read_text(encoding="utf-8")
    assert extra in summary


def test_feedback_never_shows_hidden_tests(graded):
    course = graded["course"]
    pages = list(course.feedback.rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert HIDDEN_MARKER not in text, page
        assert "BEGIN HIDDEN TESTS" not in text, page
    # ...but a failing hidden test's message is there
    text = (course.feedback / "edited_test_cell" / STEM / f"{STEM}.html").read_text(encoding="utf-8")
    assert "returned wrong values" in text
    assert "hidden tests run here" in text


def test_graded_notebooks_keep_hidden_tests_for_the_instructor(graded):
    nb = (graded["course"].autograded / "perfect" / STEM / f"{STEM}.ipynb").read_text(encoding="utf-8")
    assert HIDDEN_MARKER in nb
    assert "cnn-grading-guard" not in nb  # the injected guard is taken out again


@pytest.mark.skipif(landlock_abi() < 1, reason="this Linux has no Landlock")
def test_writes_outside_the_working_copy_are_refused(graded):
    assert not graded["outside"].exists()
    course = graded["course"]
    assert not (course.root / "OUTSIDE.txt").exists()
    assert (course.source / STEM / f"{STEM}.ipynb").read_bytes() == graded["source_before"]
    with sqlite3.connect(str(course.db_path)) as db:  # the gradebook is still a database
        assert db.execute("select count(*) from student").fetchone()[0] >= 20


def test_gradebook_has_every_student_and_tests_csv_has_reasons(graded):
    rows = graded["rows"]
    assert set(_students()) <= set(rows)
    with open(graded["course"].reports / "tests.csv", newline="", encoding="utf-8") as fh:
        tests = list(csv.DictReader(fh))
    seg = {r["test"]: r for r in tests if r["student_id"] == "segfault"}
    assert seg["double_tests"]["passed"] == "yes"
    # after the crash nothing counts as passed, and the message says why
    assert seg["square_tests"]["passed"] == "no" and "kernel died" in seg["square_tests"]["message"]
    assert seg["total_tests"]["passed"] == "no" and "not run" in seg["total_tests"]["message"]


def test_summary_and_histogram(graded):
    course = graded["course"]
    assert (course.reports / "histogram.png").stat().st_size > 1000
    summary = (course.reports / "summary.md").read_text(encoding="utf-8")
    assert "Hardest tests" in summary and "pass rate" in summary
    rep = graded["report"]
    hardest = rep.hardest(1)[0]
    assert hardest.pass_rate <= min(t.pass_rate for t in rep.tests)


def test_rerun_resumes_and_keeps_grades(graded, tmp_path):
    course = copy_course(graded["course"], tmp_path)
    logs = []
    rep = ag.autograde(graded["root"] / "submissions", course=course, limits=LIMITS, workers=2,
                       log=logs.append)
    assert any("grading 0 submission(s)" in line for line in logs), logs[:3]
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    for student, exp in graded["expected"].items():
        assert float(rows[student]["score"]) == pytest.approx(exp.score), student
    assert rows["invalid_json"]["notes"]  # reasons survive a resumed run
    assert rep.students == sorted(rows)


def test_a_changed_submission_is_regraded(graded, tmp_path):
    course = copy_course(graded["course"], tmp_path)
    sub = tmp_path / "subs" / "perfect" / STEM
    sub.mkdir(parents=True)
    shutil.copy(graded["root"] / "submissions" / "edited_test_cell" / STEM / f"{STEM}.ipynb",
                sub / f"{STEM}.ipynb")
    logs = []
    ag.autograde(tmp_path / "subs", course=course, limits=LIMITS, workers=1, log=logs.append)
    assert any("grading 1 submission(s)" in line for line in logs)
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["perfect"]["score"]) == 5.0
    assert float(rows["segfault"]["score"]) == 2.0  # everyone else untouched

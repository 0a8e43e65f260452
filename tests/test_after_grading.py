"""After grading: the regrade report and what the class got wrong, on a real grading run.

The fixture assignment (``tests/fixtures``) is graded three times for one small
class, as an instructor would:

1. with a lenient ``total`` test (no hidden case): first grading;
2. after fixing that test (its hidden case put back): one student's score drops,
   and ``reports/regrade.md`` / ``regrade.csv`` must say who, old, new and which test;
3. ``--force`` with nothing changed: the report says no score changed.

The summary of run 2 must group the failures per test by the mistake the check
names ("you squared instead of doubling": 2 students).
"""
from __future__ import annotations

import csv
import json

import nbformat
import pytest

from grader import notebook_cells as cells
from grader.authoring import example_class
from grader.trusted import autograde as ag
from grader.trusted import mistakes, regrade
from grader.trusted.course import prepare
from grader.trusted.intake import clean_id
from grader.trusted.sandbox import GIB, Limits

from fixtures.bad_submissions import RIGHT
from fixtures.fixture_course import STEM, make_course, source_notebook
from fixtures.shared import once

pytestmark = pytest.mark.xdist_group("after_grading")

LIMITS = Limits(cell_timeout=20, notebook_timeout=120, memory_bytes=1 * GIB)
SQUARES = "def double(x):\n    return np.asarray(x, dtype=float) ** 2"
FIRST_ROW = ("def total(x):\n    x = np.asarray(x)\n"
             "    return float(np.sum(x[0] if x.ndim > 1 else x))")
ANA = 'Ana "Nina" Ortiz, jr'   # a folder name; its grader id has _ for the quotes
ANA_ID = clean_id(ANA)
CLASS = {
    "right": {},
    "Zoë Ng": {},
    ANA: {"double": SQUARES},
    "squares_too": {"double": SQUARES},
    "first_row_only": {"total": FIRST_ROW},
}


def _lenient_source():
    """The fixture notebook with the hidden case of ``total_tests`` missing (the bug)."""
    nb = source_notebook()
    cell = next(c for c in nb.cells if cells.nbgrader_meta(c).get("grade_id") == "total_tests")
    cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip() + "\n"
    return nb


def _write_class(course, dest):
    release = cells.read(course.build / "release" / STEM / f"{STEM}.ipynb")
    for student, answers in CLASS.items():
        folder = dest / student / STEM
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(example_class.fill(release, {**RIGHT, **answers}),
                       str(folder / f"{STEM}.ipynb"))


def _csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grade_three_times(root):
    course = make_course(root / "course")
    source = course.source / STEM / f"{STEM}.ipynb"
    nbformat.write(_lenient_source(), str(source))
    prepare(course, [STEM], log=lambda *a: None)
    _write_class(course, root / "submissions")
    runs = {}
    for run, force in (("first", False), ("fixed", False), ("forced", True)):
        if run == "fixed":
            nbformat.write(source_notebook(), str(source))  # the instructor fixes the test
        logs = []
        rep = ag.autograde(root / "submissions", course=course, limits=LIMITS, workers=2,
                           force=force, log=logs.append, progress=False)
        reports = course.reports
        runs[run] = {
            "table": rep.table, "files": {k: str(v) for k, v in rep.files.items()},
            "logs": logs,
            "regrade_md": (reports / "regrade.md").read_text(encoding="utf-8"),
            "regrade_csv": _csv(reports / "regrade.csv"),
            "summary_md": (reports / "summary.md").read_text(encoding="utf-8"),
            "summary_json": json.loads((reports / "summary.json").read_text(encoding="utf-8")),
            "mistakes_csv": _csv(reports / "mistakes.csv"),
            "mistakes_png": (reports / "mistakes.png").is_file(),
            "snapshot_left": (course.build / regrade.SNAPSHOT).exists(),
        }
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return once(tmp_path_factory, "after_grading", _grade_three_times)


def test_scores_of_the_three_runs(runs):
    first, fixed = runs["first"]["table"], runs["fixed"]["table"]
    assert first["right"][STEM] == (7.0, 7.0)
    assert first["first_row_only"][STEM] == (7.0, 7.0)   # the lenient test let it pass
    assert fixed["first_row_only"][STEM] == (5.0, 7.0)   # the fixed test catches it
    assert first["squares_too"][STEM] == fixed["squares_too"][STEM] == (5.0, 7.0)


def test_first_grading_has_nothing_to_compare(runs):
    first = runs["first"]
    assert "First grading of 5 submission(s)" in first["regrade_md"]
    assert sorted(r["student_id"] for r in first["regrade_csv"]) == sorted(map(clean_id, CLASS))
    assert {r["status"] for r in first["regrade_csv"]} == {"new"}
    assert not first["snapshot_left"]


def test_regrade_after_a_fixed_test_lists_exactly_who_changed(runs):
    fixed = runs["fixed"]
    rows = fixed["regrade_csv"]
    assert rows == [{"student_id": "first_row_only", "assignment": STEM, "status": "changed",
                     "old_score": "7", "new_score": "5", "change": "-2", "max_score": "7",
                     "tests_changed": f"{STEM}/total_tests: 2 -> 0"}]
    md = fixed["regrade_md"]
    assert "**1 student(s)** changed score" in md
    assert f"| first_row_only | {STEM} | 7 / 7 | 5 / 7 | -2 | {STEM}/total_tests: 2 → 0 |" in md
    assert any("regrade: 1 student(s) have a different score" in line for line in fixed["logs"])
    assert fixed["files"]["regrade"].endswith("regrade.md")


def test_forced_regrade_with_no_change_says_so(runs):
    forced = runs["forced"]
    assert forced["regrade_csv"] == []
    assert "No score changed" in forced["regrade_md"]
    assert not any("regrade:" in line for line in forced["logs"])


def test_summary_groups_failures_by_named_mistake(runs):
    fixed = runs["fixed"]
    md = fixed["summary_md"]
    assert "## What the class got wrong" in md
    section = md.split(f"### {STEM} / double_tests (2 of 5 students failed)")[1].split("###")[0]
    assert "**2 students**" in section and "you squared instead of doubling" in section
    assert ANA_ID in section and "squares_too" in section
    entry = next(e for e in fixed["summary_json"]["mistakes"] if e["test"] == "double_tests")
    assert entry["failed"] == 2 and entry["graded"] == 5
    assert entry["mistakes"] == [{"mistake": "you squared instead of doubling", "named": True,
                                  "students": 2,
                                  "who": sorted([ANA_ID, "squares_too"])}]
    rows = [r for r in fixed["mistakes_csv"] if r["test"] == "double_tests"]
    assert len(rows) == 1 and rows[0]["students"] == "2" and rows[0]["failed"] == "2"
    # the other failing test of that run: a wrong answer without a named mistake
    total = [r for r in fixed["mistakes_csv"] if r["test"] == "total_tests"]
    assert [(r["who"], r["named"]) for r in total] == [("first_row_only", "no")]
    assert fixed["mistakes_png"] and fixed["files"]["mistakes_plot"].endswith("mistakes.png")


# ------------------------------------------------------------------ units
def test_mistake_of_reads_the_likely_mistake_line():
    msg = ("CheckFailure: `conv2d_valid` returned wrong values.\nFirst mismatch ...\n"
           "Likely mistake: the kernel is flipped: you computed\n  the convolution.")
    assert mistakes.mistake_of(msg) == ("the kernel is flipped: you computed the convolution", True)
    assert mistakes.mistake_of("CheckFailure: `f` is not written yet: it still raises")[1] is False
    assert mistakes.mistake_of("NameError: name 'K' is not defined")[0] == mistakes.NOT_WRITTEN
    assert mistakes.mistake_of("CheckFailure: `f` raised TypeError: bad")[0] == mistakes.RAISED
    assert mistakes.mistake_of("")[0] == mistakes.COULD_NOT_RUN
    assert mistakes.mistake_of("CheckFailure: `f` returned the wrong shape.")[0] == mistakes.UNNAMED


def test_group_counts_each_student_once_and_keeps_every_test():
    rows = [
        {"student_id": s, "assignment": "a", "notebook": "n", "test": t, "passed": p,
         "message": m}
        for s, t, p, m in [
            ("s1", "t1", "no", "x\nLikely mistake: flipped."),
            ("s2", "t1", "no", "y\nLikely mistake: flipped"),
            ("s3", "t1", "no", "z\nLikely mistake: off by one"),
            ("s4", "t1", "yes", ""),
            ("s1", "t2", "yes", ""), ("s2", "t2", "yes", ""),
        ]]
    groups = mistakes.group(rows)
    assert [g.test for g in groups] == ["t1", "t2"]
    t1 = groups[0]
    assert t1.graded == ["s1", "s2", "s3", "s4"] and t1.failed == ["s1", "s2", "s3"]
    assert [(m.text, m.students) for m in t1.mistakes] == [("flipped", ["s1", "s2"]),
                                                           ("off by one", ["s3"])]
    assert groups[1].failed == [] and mistakes.hardest(groups) == [t1]


def test_compare_sees_changed_tests_even_when_the_total_is_the_same():
    before = {"s": {"a": {"score": 3.0, "max_score": 5.0, "tests": {"n/t1": 1.0, "n/t2": 2.0}}}}
    after = {"s": {"a": {"score": 3.0, "max_score": 5.0, "tests": {"n/t1": 3.0, "n/t2": 0.0}}},
             "new": {"a": {"score": 1.0, "max_score": 5.0, "tests": {"n/t1": 1.0}}}}
    changes = regrade.compare(before, after)
    assert [(c.student, c.status) for c in changes] == [("new", "new"), ("s", "changed")]
    assert changes[1].tests == [("n/t1", 1.0, 3.0), ("n/t2", 2.0, 0.0)]
    assert regrade.compare(before, before) == []

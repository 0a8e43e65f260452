"""nbgrader round trip on the real course: generate_assignment, submissions, autograde, export.

The example class (:mod:`grader.authoring.example_class`) is graded by ``grader.trusted.autograde``
(nbgrader's apps underneath); the perfect student gets full marks, the empty
submission 0, the typical-mistakes student partial marks, on every notebook in
``solutions/``. nbgrader's own ``nbgrader export`` of the resulting gradebook
agrees with the grades CSV.
"""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from grader.authoring import example_class
from grader.trusted.autograde import autograde
from grader.trusted.course import Course, nbgrader_args
from grader.settings import REPO, tool_env
from grader.trusted.sandbox import Limits

from fixtures.shared import once

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("roundtrip")]
STEMS = Course.default().assignments()


def _grade(root):
    root.mkdir(parents=True, exist_ok=True)
    course = Course(root=REPO, source=REPO / "solutions", build=root / "build")
    example_class.build(root / "class", course=course, assignments=STEMS, log=lambda *a: None,
                        kinds=["perfect", "typical_mistakes", "empty", "broken_json"])
    rep = autograde(root / "class", course=course, limits=Limits(cell_timeout=300),
                    workers=2, log=lambda *a: None)
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    return course, rep, rows


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not STEMS:
        pytest.skip("no notebooks in solutions/ yet")
    return once(tmp_path_factory, "roundtrip", _grade)


@pytest.mark.parametrize("stem", STEMS)
def test_perfect_empty_and_mistakes(graded, stem):
    _, _, rows = graded
    perfect, empty = rows[("perfect", stem)], rows[("empty", stem)]
    mistakes, broken = rows[("typical_mistakes", stem)], rows[("broken_json", stem)]
    top = float(perfect["max_score"])
    assert top > 0
    assert float(perfect["score"]) == top, perfect["notes"]
    assert float(empty["score"]) == 0
    assert 0 < float(mistakes["score"]) < top, mistakes["notes"]
    assert float(broken["score"]) == 0 and "not valid JSON" in broken["notes"]


def test_nbgrader_export_agrees(graded, tmp_path):
    course, _, rows = graded
    out = tmp_path / "export.csv"
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={out}",
                           *nbgrader_args(course)], cwd=tmp_path, capture_output=True,
                          text=True, env=tool_env())
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        theirs = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    assert set(theirs) == set(rows)
    for key, row in theirs.items():
        for col in ("raw_score", "score", "max_score", "timestamp"):
            assert row[col] == rows[key][col], (key, col)


def test_feedback_for_every_student_and_notebook(graded):
    course, _, _ = graded
    for student in ("perfect", "typical_mistakes", "empty", "broken_json"):
        for stem in STEMS:
            assert (course.feedback / student / stem / f"{stem}.html").is_file(), (student, stem)

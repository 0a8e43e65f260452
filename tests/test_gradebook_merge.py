"""The batched merge leaves the gradebook nbgrader's own API calls leave, on SQLite and PostgreSQL.

The fixture assignment is registered by nbgrader ``generate_assignment`` in each
database; the same results (full marks, partial marks, a test left for manual
grading, a notebook the worker could not report, a re-merge after an instructor
gave a manual score) are merged through nbgrader's ``Gradebook`` calls one at a
time (the way ``autograde`` merged before, written out here) and through
:class:`grader.trusted.gradebook_merge.Merger`. Every row must agree. Then the
exports: the grades CSV and nbgrader's own ``nbgrader export`` work against a real
PostgreSQL server and give what they give on SQLite.
"""
from __future__ import annotations

import csv
import subprocess
import sys
import warnings

import pytest

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc

from grader.settings import COURSE_ID, tool_env
from grader.trusted.course import Course, nbgrader_args, prepare
from grader.trusted.gradebook_merge import Merger, count_rows, write_template
from grader.trusted.records import GradeRecord, GradingResult, NotebookResult
from grader.trusted.report import CsvWithNotesExportPlugin

from fixtures.fixture_course import STEM, make_course

pytestmark = pytest.mark.xdist_group("postgres")
MAX = {"double_tests": 2.0, "square_tests": 3.0, "total_tests": 2.0}


def _result(student, scores, timestamp=None, status="graded", notes=(), nb_notes=(),
            comments=None, report=True):
    res = GradingResult(student, STEM, status=status, notes=list(notes), timestamp=timestamp)
    if report:
        res.notebooks[STEM] = NotebookResult(
            graded=True, notes=list(nb_notes), comments=dict(comments or {}),
            grades={gid: GradeRecord(s, MAX[gid]) for gid, s in scores.items()})
    return res


FULL = {"double_tests": 2.0, "square_tests": 3.0, "total_tests": 2.0}
ROUND1 = [
    _result("alice", FULL, "2024-05-01 10:00:00.250000", comments={"double": "neat"}),
    _result("bob", {"double_tests": 0.0, "square_tests": 3.0, "total_tests": None},
            "2024-05-02 11:30:00", nb_notes=["a cell ran for too long"]),
    _result("Zoë Ng, 2nd", {"double_tests": 2.0, "square_tests": 0.0, "total_tests": 2.0}),
    _result("carol", {}, status="error", notes=["fx_basics.ipynb is not valid JSON"],
            report=False),
]
ROUND2 = [  # alice resubmits; the instructor had given bob a manual score meanwhile
    _result("alice", {"double_tests": 2.0, "square_tests": 0.0, "total_tests": 2.0},
            "2024-05-03 09:00:00"),
    _result("bob", {"double_tests": 2.0, "square_tests": 3.0, "total_tests": 2.0}, None),
]


def merge_with_nbgrader_api(db_url, student, assignment, result):
    """One result through nbgrader's Gradebook calls (the per-result merge this replaces)."""
    notes = list(result.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(db_url, COURSE_ID) as gb:
            gb.update_or_create_student(student)
            kwargs = {"timestamp": parse_utc(result.timestamp)} if result.timestamp else {}
            sub = gb.update_or_create_submission(assignment, student, **kwargs)
            seen = set()
            for nb_name, entry in result.notebooks.items():
                seen.add(nb_name)
                for nb_note in entry.notes:
                    notes.append(f"{nb_name}: {nb_note}")
                for gid, g in entry.grades.items():
                    try:
                        grade = gb.find_grade(gid, nb_name, assignment, student)
                    except MissingEntry:
                        continue
                    grade.auto_score = g.auto_score
                    grade.needs_manual_grade = bool(grade.manual_score is not None
                                                    or g.auto_score is None)
                for gid, text in entry.comments.items():
                    try:
                        gb.find_comment(gid, nb_name, assignment, student).auto_comment = text
                    except MissingEntry:
                        continue
            for snb in sub.notebooks:
                if snb.name not in seen:
                    for grade in snb.grades:
                        grade.auto_score = 0.0
                        grade.needs_manual_grade = grade.manual_score is not None
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            return notes, (float(sub.score), float(sub.max_score))


def _manual_score(db_url):
    with Gradebook(db_url, COURSE_ID) as gb:
        gb.find_grade("total_tests", STEM, STEM, "bob").manual_score = 1.5
        gb.db.commit()


def dump(db_url):
    """Every row of the gradebook that grading writes, without the random ids."""
    out = {"rows": count_rows(db_url)}
    with Gradebook(db_url, COURSE_ID) as gb:
        out["students"] = sorted((s.id, s.first_name, s.last_name, s.email) for s in gb.students)
        subs = {}
        for s in gb.students:
            try:
                sub = gb.find_submission(STEM, s.id)
            except MissingEntry:
                continue
            subs[s.id] = {
                "timestamp": sub.timestamp, "extension": sub.extension,
                "score": float(sub.score), "max_score": float(sub.max_score),
                "notebooks": {nb.name: {
                    "flagged": nb.flagged, "penalty": nb.late_submission_penalty,
                    "grades": sorted((g.name, g.auto_score, g.manual_score, g.extra_credit,
                                      g.needs_manual_grade) for g in nb.grades),
                    "comments": sorted((c.name, c.auto_comment, c.manual_comment)
                                       for c in nb.comments)} for nb in sub.notebooks}}
        out["submissions"] = subs
    return out


def _registered(root, db_url=None):
    course = make_course(root)
    course.db = db_url
    prepare(course, [STEM], log=lambda *a: None)
    return course


def _merge_rounds(course, how):
    """Both rounds merged; (scores, gradebook dump after each round)."""
    scores, dumps = {}, []
    for round_ in (ROUND1, ROUND2):
        if round_ is ROUND2:
            _manual_score(course.db_url)
        if how == "api":
            for res in round_:
                scores[res.student] = merge_with_nbgrader_api(course.db_url, res.student, STEM,
                                                              res)
        else:
            with Merger(course.db_url) as m:
                notes = {res.student: m.merge(res.student, STEM, res) for res in round_}
                for (student, _), sc in m.commit().items():
                    scores[student] = (notes[student], sc)
        dumps.append(dump(course.db_url))
    return scores, dumps


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    course = _registered(tmp_path_factory.mktemp("api") / "course")
    return (course, *_merge_rounds(course, "api"))


def test_merge_equals_nbgrader_api_on_sqlite(reference, tmp_path):
    _, ref_scores, ref_dumps = reference
    course = _registered(tmp_path / "course")
    scores, dumps = _merge_rounds(course, "merger")
    assert dumps[0] == ref_dumps[0]  # new submissions
    assert dumps[1] == ref_dumps[1]  # re-merged ones
    assert scores == ref_scores
    first, last = ref_dumps[0]["submissions"], ref_dumps[1]["submissions"]
    assert first["carol"]["score"] == 0.0
    assert ("total_tests", None, None, None, True) in first["bob"]["notebooks"][STEM]["grades"]
    assert last["bob"]["score"] == 2.0 + 3.0 + 1.5  # the manual score stands


@pytest.fixture(scope="module")
def on_postgresql(postgres, tmp_path_factory):
    course = _registered(tmp_path_factory.mktemp("pg") / "course", postgres.database())
    return (course, *_merge_rounds(course, "merger"))


def test_merge_equals_nbgrader_api_on_postgresql(reference, on_postgresql):
    _, ref_scores, ref_dumps = reference
    course, scores, dumps = on_postgresql
    assert dumps == ref_dumps
    assert scores == ref_scores


def test_template_has_the_assignment_and_no_student(on_postgresql, tmp_path):
    course, _, _ = on_postgresql
    template = write_template(course.db_url, tmp_path / "template.db")
    rows = count_rows(f"sqlite:///{template}")
    full = count_rows(course.db_url)
    for table in ("assignment", "notebook", "base_cell", "grade_cells", "source_cell"):
        assert rows[table] == full[table] > 0, table
    for table in ("student", "submitted_assignment", "grade", "comment"):
        assert rows[table] == 0, table
    with Gradebook(f"sqlite:///{template}", COURSE_ID) as gb:  # nbgrader opens it as is
        assert [gc.name for gc in gb.find_notebook(STEM, STEM).grade_cells]


def _our_csv(db_url, path):
    with Gradebook(db_url, COURSE_ID) as gb:
        CsvWithNotesExportPlugin(to=str(path), notes={"carol\x1ffx_basics": "not valid JSON"}
                                 ).export(gb)
    return path.read_text(encoding="utf-8")


def _nbgrader_export(course, path):
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={path}",
                           *nbgrader_args(course)], cwd=path.parent, capture_output=True,
                          text=True, env=tool_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(path, newline="", encoding="utf-8") as fh:
        return sorted(tuple(r.items()) for r in csv.DictReader(fh))


def test_exports_on_postgresql_equal_sqlite(reference, on_postgresql, tmp_path):
    ref_course, _, _ = reference
    course, _, _ = on_postgresql
    ours_pg = _our_csv(course.db_url, tmp_path / "pg.csv")
    ours_sqlite = _our_csv(ref_course.db_url, tmp_path / "sqlite.csv")
    assert ours_pg == ours_sqlite
    assert "Zoë Ng, 2nd" in ours_pg and "not valid JSON" in ours_pg
    theirs_pg = _nbgrader_export(course, tmp_path / "nbgrader-pg.csv")
    theirs_sqlite = _nbgrader_export(ref_course, tmp_path / "nbgrader-sqlite.csv")
    assert theirs_pg == theirs_sqlite
    assert len(theirs_pg) == 4  # alice, bob, carol, Zoë: one row each

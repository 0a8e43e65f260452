"""``python -m grader export --lms canvas|moodle``: grades into the platform's own gradebook file.

The rosters below are in each platform's real export layout (Canvas: Student, ID,
SIS User ID, SIS Login ID, Section, assignment columns "Name (id)", read-only
totals, and the "Points Possible" row; Moodle: the user fields of its plain-text
grade export, grade items "Assignment: Name (Real)", the course total and "Last
downloaded from this course"), with names that hold commas, quotes and
non-ASCII letters. The gradebook is nbgrader's, filled through its API with the
example class's student ids plus students made for these cases.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import warnings

import pytest

from nbgrader.api import Gradebook

from grader.settings import REPO, tool_env
from grader.trusted import lms
from grader.trusted.course import COURSE_ID, Course

A1, A2 = "01_edge_detection", "02_padding"
MAX = {A1: 15.0, A2: 9.0}
# student id -> {assignment: score}; a missing assignment is no submission
SCORES = {
    "perfect": {A1: 15.0, A2: 9.0},
    "typical_mistakes": {A1: 8.0, A2: 5.5},
    "empty": {A1: 0.0, A2: 0.0},
    "broken_json": {A1: 0.0},
    "Zoë Ng": {A1: 15.0, A2: 9.0},
    "doejane": {A1: 12.25},                 # as Canvas names a student in submission files
    "José Ramírez-O'Brien": {A1: 10.0, A2: 4.0},
    "not_on_roster": {A1: 7.0, A2: 3.0},
}
STUDENTS_WITHOUT_SUBMISSION = ["late_joiner"]  # in the gradebook, never submitted

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 "01 Edge detection (48213)", "Quiz 1 (48214)", "Current Score",
                 "Unposted Current Score", "Final Score", "Unposted Final Score"]
CANVAS_ROWS = [
    ["    Points Possible", "", "", "", "", "15.00", "10.00", "(read only)", "(read only)",
     "(read only)", "(read only)"],
    ["perfect, student", "101", "perfect", "perfect@uni.example", "CNN 1", "", "9",
     "90", "90", "90", "90"],
    ["mistakes, typical", "102", "typical_mistakes", "tm@uni.example", "CNN 1", "", "7",
     "70", "70", "70", "70"],
    ["empty, the", "103", "empty", "empty@uni.example", "CNN 2", "", "", "", "", "", ""],
    ["json, broken", "104", "broken_json", "bj@uni.example", "CNN 2", "", "5", "50", "50",
     "50", "50"],
    ["Ng, Zoë", "105", "S-0105", "zng@uni.example", "CNN 1", "", "10", "100", "100", "100",
     "100"],
    ["Doe, Jane", "106", "S-0106", "jdoe@uni.example", "CNN 2", "", "", "", "", "", ""],
    ['Ramírez-O\'Brien, José "Pepe"', "107", "S-0107", "jro@uni.example", "CNN 1, evening",
     "", "8", "80", "80", "80", "80"],
    ["Müller, Anaïs", "108", "S-0108", "amuller@uni.example", "CNN 2", "", "6", "60", "60",
     "60", "60"],
    ["Student, Test", "109", "", "", "CNN 1", "", "", "", "", "", ""],
]

MOODLE_HEADER = ["First name", "Last name", "ID number", "Institution", "Department",
                 "Email address", "Assignment: Edge detection (Real)", "Course total (Real)",
                 "Last downloaded from this course"]
MOODLE_ROWS = [
    ["Zoë", "Ng", "S-0105", "Uni, Example", "Physics", "zng@uni.example", "-", "-",
     "1733000000"],
    ["student", "perfect", "S-0101", "Uni, Example", "CS", "perfect@uni.example", "-", "-",
     "1733000000"],
    ["José \"Pepe\"", "Ramírez-O'Brien", "S-0107", "Uni, Example", "CS", "jro@uni.example",
     "-", "-", "1733000000"],
    ["Anaïs", "Müller", "S-0108", "Uni, Example", "Maths", "amuller@uni.example", "-", "-",
     "1733000000"],
    ["typical", "mistakes", "S-0102", "", "", "typical_mistakes@uni.example", "-", "-",
     "1733000000"],
]


def _csv(header, rows, delimiter=",", newline="\r\n", bom=False) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def _read(path, delimiter=","):
    text = path.read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return table[0], table[1:]


def make_gradebook(course: Course, scores: dict, max_scores: dict, without=()) -> None:
    """An nbgrader gradebook with one test per assignment and these scores."""
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader runs alembic by name
    try:
        _fill_gradebook(course, scores, max_scores, without)
    finally:
        os.environ["PATH"] = old_path


def _fill_gradebook(course, scores, max_scores, without):
    with warnings.catch_warnings(), Gradebook(course.db_url, COURSE_ID) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy autoflush notes from nbgrader
        for a, max_score in max_scores.items():
            gb.add_assignment(a)
            gb.add_notebook(a, a)
            gb.add_grade_cell("only_test", a, a, max_score=max_score, cell_type="code")
        for student in list(scores) + list(without):
            gb.add_student(student)
        for student, by_assignment in scores.items():
            for a, score in by_assignment.items():
                sub = gb.add_submission(a, student)
                for snb in sub.notebooks:
                    for grade in snb.grades:
                        grade.auto_score = score
        gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    course = Course(root=root, source=root / "solutions", build=root / "build")
    course.build.mkdir(parents=True)
    make_gradebook(course, SCORES, MAX, STUDENTS_WITHOUT_SUBMISSION)
    return course


def _rows_by_id(header, rows):
    i = header.index("ID")
    return {r[i]: dict(zip(header, r)) for r in rows if r[i]}


# ------------------------------------------------------------------ Canvas
def test_canvas_fills_matching_columns_and_keeps_everything_else(course, tmp_path):
    roster = tmp_path / "canvas.csv"
    roster.write_bytes(_csv(CANVAS_HEADER, CANVAS_ROWS, bom=True))
    out = tmp_path / "canvas_import.csv"
    logs = []
    result = lms.run(course, "canvas", roster, out=out, log=logs.append)
    header, rows = _read(out)
    # every original column, in order, then one new column for 02_padding
    assert header[:len(CANVAS_HEADER)] == CANVAS_HEADER
    assert header[len(CANVAS_HEADER):] == [A2]
    assert len(rows) == len(CANVAS_ROWS)
    # every cell outside the filled columns is exactly as Canvas exported it
    filled = {CANVAS_HEADER.index("01 Edge detection (48213)"), len(CANVAS_HEADER)}
    for before, after in zip(CANVAS_ROWS, rows):
        assert ([v for i, v in enumerate(after) if i not in filled]
                == [v for i, v in enumerate(before) if i not in filled]), (before, after)
    by_id = _rows_by_id(header, rows)
    edge, pad = "01 Edge detection (48213)", A2
    expected = {"101": ("15", "9"), "102": ("8", "5.5"), "103": ("0", "0"), "104": ("0", ""),
                "105": ("15", "9"), "106": ("12.25", ""), "107": ("10", "4"), "108": ("", ""),
                "109": ("", "")}
    for canvas_id, (e, p) in expected.items():
        assert (by_id[canvas_id][edge], by_id[canvas_id][pad]) == (e, p), canvas_id
    # the Points Possible row: unchanged for the existing column, the maximum for the new one
    assert rows[0][header.index(edge)] == "15.00" and rows[0][header.index(pad)] == "9"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Canvas' BOM kept
    # matched: ids, SIS logins, and names in Canvas' "Last, First" or file-name form
    assert result.match.by["perfect"] == "id"
    assert result.match.by["Zoë Ng"] == "name" and result.match.by["doejane"] == "name"
    assert result.match.by["José Ramírez-O'Brien"] == "name"
    # the graded student who is not on the roster is listed, never dropped
    assert [s for s, _ in result.match.unmatched] == ["not_on_roster"]
    text = "\n".join(logs)
    assert "NOT IN THE FILE" in text and "not_on_roster" in text
    _, unmatched = _read(out.with_name("canvas_import_unmatched.csv"))
    assert unmatched == [["not_on_roster", "no roster row matches this student id", "7", "3",
                          "10"]]


def test_canvas_total_column_and_zero_for_missing(course, tmp_path):
    roster = tmp_path / "canvas.csv"
    roster.write_bytes(_csv(CANVAS_HEADER, CANVAS_ROWS))
    out = tmp_path / "totals.csv"
    lms.run(course, "canvas", roster, out=out, total="CNN total", missing="zero",
            log=lambda *a: None)
    header, rows = _read(out)
    assert header == CANVAS_HEADER + ["CNN total"]
    by_id = _rows_by_id(header, rows)
    assert by_id["101"]["CNN total"] == "24"       # 15 + 9
    assert by_id["104"]["CNN total"] == "0"        # one notebook, scored 0
    assert by_id["106"]["CNN total"] == "12.25"    # only notebook 01 handed in
    assert by_id["108"]["CNN total"] == "0"        # no submission: 0 by option
    assert by_id["109"]["CNN total"] == "0"
    assert by_id["101"]["01 Edge detection (48213)"] == ""  # untouched in --total mode
    assert rows[0][header.index("CNN total")] == "24"       # points possible: 15 + 9


def test_canvas_explicit_column_and_points_possible_mismatch(course, tmp_path):
    header = CANVAS_HEADER[:5] + ["Edge maps (50001)"]
    rows = [r[:5] + ["20"] for r in CANVAS_ROWS[:3]]
    roster = tmp_path / "canvas.csv"
    roster.write_bytes(_csv(header, rows))
    logs = []
    result = lms.run(course, "canvas", roster, out=tmp_path / "o.csv", assignments=[A1],
                     column_map={A1: "Edge maps (50001)"}, log=logs.append)
    out_header, out_rows = _read(tmp_path / "o.csv")
    assert out_header == header
    assert [r[5] for r in out_rows] == ["20", "15", "8"]
    assert any("20 points possible" in n for n in result.notes)


def test_canvas_rejects_a_file_that_is_not_a_canvas_export(course, tmp_path):
    roster = tmp_path / "other.csv"
    roster.write_bytes(_csv(["name", "grade"], [["a", "1"]]))
    with pytest.raises(lms.RosterError, match="not a Canvas gradebook export"):
        lms.run(course, "canvas", roster, out=tmp_path / "o.csv", log=lambda *a: None)


def test_ambiguous_name_is_listed_not_guessed(tmp_path):
    grades = lms.Grades([A1], {A1: 15.0}, {"janedoe": {A1: 3.0}})
    roster = tmp_path / "c.csv"
    roster.write_bytes(_csv(CANVAS_HEADER[:5], [
        ["Doe, Jane", "1", "", "", "A"], ["Doe, Jane", "2", "", "", "B"]]))
    result = lms.export(grades, lms.read_roster(roster, "canvas"))
    assert result.filled == 0
    assert result.match.unmatched[0][0] == "janedoe"
    assert "several roster rows" in result.match.unmatched[0][1]


# ------------------------------------------------------------------ Moodle
def test_moodle_fills_new_columns_matched_by_email_and_name(course, tmp_path):
    roster = tmp_path / "moodle.csv"
    roster.write_bytes(_csv(MOODLE_HEADER, MOODLE_ROWS, newline="\n"))
    out = tmp_path / "moodle_import.csv"
    result = lms.run(course, "moodle", roster, out=out, log=lambda *a: None)
    header, rows = _read(out)
    # "Assignment: Edge detection (Real)" is not 01_edge_detection's name: both are new columns
    assert header == MOODLE_HEADER + [A1, A2]
    assert len(rows) == len(MOODLE_ROWS)
    for before, after in zip(MOODLE_ROWS, rows):
        assert after[:len(MOODLE_HEADER)] == before
    by_email = {r[header.index("Email address")]: r for r in rows}
    got = {e: (r[header.index(A1)], r[header.index(A2)]) for e, r in by_email.items()}
    assert got == {"zng@uni.example": ("15", "9"), "perfect@uni.example": ("15", "9"),
                   "jro@uni.example": ("10", "4"), "amuller@uni.example": ("", ""),
                   "typical_mistakes@uni.example": ("8", "5.5")}
    assert b"\r\n" not in out.read_bytes()  # the export's own line ends
    assert result.match.by["typical_mistakes"] == "id"      # email's local part
    assert result.match.by["José Ramírez-O'Brien"] == "name"  # quotes and accents ignored
    unmatched = sorted(s for s, _ in result.match.unmatched)
    assert unmatched == ["broken_json", "doejane", "empty", "not_on_roster"]


def test_moodle_semicolon_export_and_existing_grade_item(course, tmp_path):
    header = ["First name", "Surname", "Email address", "Assignment: 01 edge detection (Real)",
              "Course total (Real)"]
    rows = [["Zoë", "Ng", "zng@uni.example", "-", "-"],
            ["Anaïs", "Müller", "amuller@uni.example", "-", "-"]]
    roster = tmp_path / "moodle.csv"
    roster.write_bytes(_csv(header, rows, delimiter=";"))
    out = tmp_path / "o.csv"
    lms.run(course, "moodle", roster, out=out, assignments=[A1], missing="zero",
            log=lambda *a: None)
    out_header, out_rows = _read(out, delimiter=";")
    assert out_header == header
    assert out_rows == [["Zoë", "Ng", "zng@uni.example", "15", "-"],
                        ["Anaïs", "Müller", "amuller@uni.example", "0", "-"]]


def test_moodle_needs_an_identifier_column(course, tmp_path):
    roster = tmp_path / "m.csv"
    roster.write_bytes(_csv(["First name", "Last name", "Grade"], [["A", "B", "1"]]))
    with pytest.raises(lms.RosterError, match="identifier column"):
        lms.read_roster(roster, "moodle")


# ------------------------------------------------------------------ the command
def test_export_command_line(course, tmp_path):
    roster = tmp_path / "canvas.csv"
    roster.write_bytes(_csv(CANVAS_HEADER, CANVAS_ROWS))
    out = tmp_path / "import.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "export", "--lms", "canvas", "--roster", str(roster),
         "--out", str(out), "--course-build", str(course.build), "--missing", "zero"],
        cwd=REPO, capture_output=True, text=True, env=tool_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "7 of 9 roster student(s) matched" in proc.stdout
    assert "not_on_roster" in proc.stdout
    header, rows = _read(out)
    assert len(rows) == len(CANVAS_ROWS) and header[:len(CANVAS_HEADER)] == CANVAS_HEADER
    assert _rows_by_id(header, rows)["108"]["01 Edge detection (48213)"] == "0"
    bad = subprocess.run(
        [sys.executable, "-m", "grader", "export", "--lms", "canvas", "--roster", str(roster),
         "--course-build", str(tmp_path / "nothing")],
        cwd=REPO, capture_output=True, text=True, env=tool_env(), timeout=120)
    assert bad.returncode == 2 and "no gradebook" in bad.stderr

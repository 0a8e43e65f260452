"""Grades into the learning platform: fill the gradebook CSV that Canvas or Moodle exported.

``python -m grader export --lms canvas|moodle --roster ROSTER.csv`` reads the
gradebook file the platform itself exports, fills one column per notebook (or
one total column, ``--total``) for every student it can match to a graded
submission, and writes a file of the same layout that the platform imports back.
Every other cell, row and column stays as it was.

Canvas (*Grades > Export*)
    columns ``Student, ID, SIS User ID, SIS Login ID, Section`` (sometimes more
    identity columns), then one column per assignment named ``Name (id)``, then
    read-only totals (``Current Score``, ...). The first row under the header is
    ``Points Possible``. A notebook fills the assignment column whose name is the
    notebook's (``01 Edge detection (1234)`` for ``01_edge_detection``), or a new
    column named after the notebook, which Canvas imports as a new assignment
    with the points written in ``Points Possible``.
Moodle (*Grades > Export > Plain text file*, imported with *Import > CSV file*)
    user columns (``First name, Last name, ID number, Institution, Department,
    Email address``, ``Username`` when chosen), then one column per grade item
    (``Assignment: Name (Real)``), ``Course total (Real)`` and ``Last downloaded
    from this course``. At import, map ``Email address`` (or ``ID number``) to the
    user and each notebook column to its grade item (or a new one).

A submission's student id (what the grader calls the student: an nbgrader id, or
the name an LMS put in the submitted file's name) is matched to a roster row by
an identifier column first (Canvas ``ID``, ``SIS User ID``, ``SIS Login ID``;
Moodle ``ID number``, ``Email address``, ``Username``; or ``--id-column``), then
by name ("Doe, Jane", "Jane Doe", "doejane" as Canvas writes it in file names;
case, accents and punctuation ignored). A submission that matches no row, or
more than one, is *listed* (on the terminal and in ``<out>_unmatched.csv``),
never dropped; so is a row that two submissions claim.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import COURSE_ID, Course

CANVAS_IDS = ("ID", "SIS User ID", "SIS Login ID", "Integration ID")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
MOODLE_IDS = ("ID number", "Email address", "Username")
MOODLE_NAMES = (("First name",), ("Last name", "Surname"))
POINTS_POSSIBLE = "Points Possible"
LMS = ("canvas", "moodle")


class RosterError(ValueError):
    """The roster file is not the platform's layout (the message says what is missing)."""


# ------------------------------------------------------------------ grades
@dataclass
class Grades:
    """Scores from the gradebook: ``scores[student][assignment]`` (None = no submission)."""
    assignments: list[str]
    max_scores: dict[str, float]
    scores: dict[str, dict[str, float | None]]

    def submitted(self, student: str) -> bool:
        return any(v is not None for v in self.scores.get(student, {}).values())

    def total(self, student: str) -> float | None:
        values = [v for v in self.scores.get(student, {}).values() if v is not None]
        return sum(values) if values else None


def course_grades(course: Course, assignments=None) -> Grades:
    """Every student's score per assignment, from the course's nbgrader gradebook."""
    if not course.db_path.is_file():
        raise FileNotFoundError(f"no gradebook at {course.db_path}: grade the class first "
                                "(python -m grader autograde SUBMISSIONS), or pass --course-build")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(course.db_url, COURSE_ID) as gb:
            known = [a.name for a in gb.assignments]
            wanted = list(assignments) if assignments else sorted(known)
            unknown = [a for a in wanted if a not in known]
            if unknown:
                raise ValueError(f"the gradebook has no assignment {unknown}; it has {known}")
            max_scores = {a: float(gb.find_assignment(a).max_score) for a in wanted}
            scores: dict[str, dict[str, float | None]] = {}
            for student in gb.students:
                row = scores.setdefault(student.id, {})
                for a in wanted:
                    try:
                        sub = gb.find_submission(a, student.id)
                    except MissingEntry:
                        row[a] = None
                        continue
                    row[a] = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
    return Grades(wanted, max_scores, scores)


# ------------------------------------------------------------------ the roster file
@dataclass
class Roster:
    lms: str
    header: list[str]
    rows: list[list[str]]
    delimiter: str = ","
    bom: bool = False
    newline: str = "\r\n"
    special: set[int] = field(default_factory=set)  # rows that are not students

    def col(self, name: str) -> int | None:
        low = [h.strip().lower() for h in self.header]
        return low.index(name.lower()) if name.lower() in low else None

    def cell(self, row: list[str], name: str) -> str:
        i = self.col(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    def students(self) -> list[int]:
        return [i for i in range(len(self.rows)) if i not in self.special]

    def describe(self, i: int) -> str:
        row = self.rows[i]
        if self.lms == "canvas":
            return f"{self.cell(row, 'Student')} (ID {self.cell(row, 'ID')})"
        names = " ".join(self.cell(row, n) for group in MOODLE_NAMES for n in group
                         if self.cell(row, n))
        ident = next((self.cell(row, c) for c in MOODLE_IDS if self.cell(row, c)), "")
        return f"{names} ({ident})" if ident else names


def read_roster(path: Path, lms: str) -> Roster:
    """Read the platform's gradebook export as it is (delimiter, BOM, line ends kept)."""
    if lms not in LMS:
        raise ValueError(f"--lms must be one of {LMS}, not {lms!r}")
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8-sig")
    bom = raw.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if b"\r\n" in raw else "\n"
    first = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not table:
        raise RosterError(f"{path} is empty")
    header, rows = table[0], [r + [""] * (len(table[0]) - len(r)) for r in table[1:] if r]
    roster = Roster(lms, header, rows, delimiter, bom, newline)
    if lms == "canvas":
        missing = [c for c in ("Student", "ID") if roster.col(c) is None]
        if missing:
            raise RosterError(
                f"{path} is not a Canvas gradebook export: no {' or '.join(missing)} column "
                "(Canvas: Grades > Export > Export Entire Gradebook; its columns start with "
                "Student, ID, SIS User ID, SIS Login ID, Section)")
        for i, row in enumerate(rows):
            if (roster.cell(row, "Student") == POINTS_POSSIBLE
                    or not any(roster.cell(row, c) for c in CANVAS_IDS)):
                roster.special.add(i)
    else:
        if not any(roster.col(c) is not None for c in MOODLE_IDS):
            raise RosterError(
                f"{path} is not a Moodle grade export: it needs an identifier column "
                f"({', '.join(MOODLE_IDS)}); export it with Grades > Export > Plain text file")
        for i, row in enumerate(rows):
            if not any(roster.cell(row, c) for c in MOODLE_IDS):
                roster.special.add(i)
    return roster


def write_roster(roster: Roster, path: Path) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=roster.delimiter, lineterminator=roster.newline)
    w.writerow(roster.header)
    w.writerows(roster.rows)
    data = buf.getvalue()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes((("\ufeff" if roster.bom else "") + data).encode("utf-8"))
    return Path(path)


# ------------------------------------------------------------------ matching
def norm(text: str) -> str:
    """Lower case, no accents, letters and digits only: ``"Ng, Zoë"`` -> ``"ngzoe"``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", plain.casefold())


def _name_keys(first: str, last: str) -> set[str]:
    """Both name orders, with and without a nickname in quotes or brackets."""
    keys = set()
    for f, l in ((first, last), (_no_nickname(first), _no_nickname(last))):
        keys |= {norm(f"{f} {l}"), norm(f"{l} {f}")}
    return {k for k in keys if k}


def _no_nickname(name: str) -> str:
    return re.sub(r'"[^"]*"|\([^)]*\)', " ", name)


def row_keys(roster: Roster, i: int, id_column: str | None = None) -> tuple[set[str], set[str]]:
    """(identifier keys, name keys) of roster row ``i``, normalised."""
    row = roster.rows[i]
    ids, names = set(), set()
    if id_column:
        value = roster.cell(row, id_column)
        return ({norm(value)} if norm(value) else set()), set()
    id_cols = CANVAS_IDS if roster.lms == "canvas" else MOODLE_IDS
    for c in id_cols:
        value = roster.cell(row, c)
        if value:
            ids.add(norm(value))
            if "@" in value:
                ids.add(norm(value.split("@", 1)[0]))
    if roster.lms == "canvas":
        student = roster.cell(row, "Student")
        if "," in student:
            last, first = (p.strip() for p in student.split(",", 1))
            names |= _name_keys(first, last)
        elif student:
            names.add(norm(student))
    else:
        first = next((roster.cell(row, c) for c in MOODLE_NAMES[0] if roster.cell(row, c)), "")
        last = next((roster.cell(row, c) for c in MOODLE_NAMES[1] if roster.cell(row, c)), "")
        names |= _name_keys(first, last)
    return {k for k in ids if k}, {k for k in names if k}


@dataclass
class Match:
    rows: dict[str, int] = field(default_factory=dict)           # student -> roster row
    by: dict[str, str] = field(default_factory=dict)             # student -> "id" | "name"
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (student, why)


def match(roster: Roster, students: list[str], id_column: str | None = None) -> Match:
    """Match each graded student to one roster row (identifier first, then name)."""
    if id_column and roster.col(id_column) is None:
        raise RosterError(f"--id-column {id_column!r} is not a column of the roster "
                          f"(columns: {', '.join(roster.header)})")
    keys = {i: row_keys(roster, i, id_column) for i in roster.students()}
    result = Match()
    for student in students:
        k = norm(student)
        rows = [i for i, (ids, _) in keys.items() if k and k in ids]
        how = "id"
        if not rows:
            rows = [i for i, (_, names) in keys.items() if k and k in names]
            how = "name"
        if len(rows) == 1:
            result.rows[student] = rows[0]
            result.by[student] = how
        elif not rows:
            result.unmatched.append((student, "no roster row matches this student id"))
        else:
            result.unmatched.append((student, "matches several roster rows: "
                                     + "; ".join(roster.describe(i) for i in rows)))
    claimed: dict[int, list[str]] = {}
    for student, i in result.rows.items():
        claimed.setdefault(i, []).append(student)
    for i, who in claimed.items():
        if len(who) > 1:
            for student in who:
                del result.rows[student]
                del result.by[student]
                others = ", ".join(s for s in who if s != student)
                result.unmatched.append((student, f"the roster row {roster.describe(i)} is also "
                                                  f"matched by {others}; not filled"))
    return result


# ------------------------------------------------------------------ columns
def _bare(header: str) -> str:
    """An assignment column's name without the platform's decoration."""
    h = re.sub(r"\s*\(\d+\)\s*$", "", header.strip())                      # Canvas "(1234)"
    h = re.sub(r"\s*\((Real|Percentage|Letter|Scale)\)\s*$", "", h, flags=re.I)  # Moodle type
    h = re.sub(r"^(Assignment|Quiz|Manual item|Assign)\s*:\s*", "", h, flags=re.I)
    return h


def find_column(roster: Roster, name: str) -> int | None:
    """The index of the existing column for ``name`` (a notebook or the total), or None."""
    exact = roster.col(name)
    if exact is not None:
        return exact
    target = norm(name)
    hits = [i for i, h in enumerate(roster.header) if norm(_bare(h)) == target]
    return hits[0] if len(hits) == 1 else None


def fmt_score(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Export:
    roster: Roster
    match: Match
    columns: dict[str, str]          # notebook (or total) -> column header written
    new_columns: list[str]
    filled: int                      # roster students given a score
    empty: list[str]                 # roster students without a submission (descriptions)
    notes: list[str]
    unmatched_scores: dict[str, dict[str, float | None]]


def export(grades: Grades, roster: Roster, total: str | None = None, missing: str = "empty",
           column_map: dict[str, str] | None = None, id_column: str | None = None) -> Export:
    """Fill ``roster`` in place with ``grades``; return what was done."""
    if missing not in ("empty", "zero"):
        raise ValueError("--missing is 'empty' or 'zero'")
    column_map = dict(column_map or {})
    students = sorted(s for s in grades.scores if grades.submitted(s))
    m = match(roster, students, id_column)
    targets = [total] if total else list(grades.assignments)
    max_of = ({total: sum(grades.max_scores.values())} if total else dict(grades.max_scores))
    columns, col_idx, new_columns, notes = {}, {}, [], []
    for name in targets:
        header = column_map.get(name)
        idx = roster.col(header) if header else find_column(roster, name)
        identity = {roster.col(c) for c in CANVAS_IDENTITY + MOODLE_IDS + ("First name",
                                                                          "Last name", "Surname")}
        if idx is not None and idx in identity:
            raise RosterError(f"column {roster.header[idx]!r} identifies students; "
                              f"grades cannot go there")
        if idx is None:
            header = header or name
            roster.header.append(header)
            for row in roster.rows:
                row.extend([""] * (len(roster.header) - len(row)))
            idx = len(roster.header) - 1
            new_columns.append(header)
            if roster.lms == "canvas":
                for i in roster.special:
                    if roster.cell(roster.rows[i], "Student") == POINTS_POSSIBLE:
                        roster.rows[i][idx] = fmt_score(max_of[name])
        elif roster.lms == "canvas":
            for i in roster.special:
                row = roster.rows[i]
                if roster.cell(row, "Student") == POINTS_POSSIBLE and row[idx].strip():
                    try:
                        possible = float(row[idx])
                    except ValueError:
                        continue
                    if abs(possible - max_of[name]) > 1e-9:
                        notes.append(f"Canvas gives {roster.header[idx]!r} {row[idx]} points "
                                     f"possible; {name} has {fmt_score(max_of[name])}: the "
                                     "scores written are points out of "
                                     f"{fmt_score(max_of[name])}")
        columns[name] = roster.header[idx]
        col_idx[name] = idx
    by_row = {i: s for s, i in m.rows.items()}
    filled, empty = 0, []
    for i in roster.students():
        row = roster.rows[i]
        student = by_row.get(i)
        if student is None:
            empty.append(roster.describe(i))
        else:
            filled += 1
        for name in targets:
            idx = col_idx[name]
            value = None
            if student is not None:
                value = grades.total(student) if total else grades.scores[student].get(name)
            if value is None:
                row[idx] = "0" if missing == "zero" else ""
            else:
                row[idx] = fmt_score(value)
    unmatched_scores = {s: dict(grades.scores[s]) for s, _ in m.unmatched}
    return Export(roster, m, columns, new_columns, filled, empty, notes, unmatched_scores)


def write_unmatched(result: Export, grades: Grades, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "why", *grades.assignments, "total"])
        for student, why in result.match.unmatched:
            scores = grades.scores.get(student, {})
            w.writerow([student, why,
                        *["" if scores.get(a) is None else fmt_score(scores[a])
                          for a in grades.assignments],
                        "" if grades.total(student) is None else fmt_score(grades.total(student))])
    return Path(path)


def run(course: Course, lms: str, roster_path: Path, out: Path | None = None,
        assignments=None, total: str | None = None, missing: str = "empty",
        column_map: dict[str, str] | None = None, id_column: str | None = None,
        log=print) -> Export:
    """The ``export`` command: read, fill, write ``out`` and ``<out>_unmatched.csv``."""
    grades = course_grades(course, assignments)
    roster = read_roster(roster_path, lms)
    result = export(grades, roster, total=total, missing=missing, column_map=column_map,
                    id_column=id_column)
    out = Path(out) if out else course.reports / f"{lms}_grades.csv"
    write_roster(result.roster, out)
    unmatched_path = out.with_name(out.stem + "_unmatched.csv")
    write_unmatched(result, grades, unmatched_path)
    n_students = len(roster.students())
    log(f"{lms}: wrote {out}")
    log(f"  {result.filled} of {n_students} roster student(s) matched a graded submission "
        f"({sum(1 for v in result.match.by.values() if v == 'name')} by name); "
        f"{len(result.empty)} without a submission got "
        f"{'0' if missing == 'zero' else 'an empty cell'}")
    for name, header in result.columns.items():
        flag = " (new column)" if header in result.new_columns else ""
        log(f"  {name:<20} -> {header}{flag}")
    for note in result.notes:
        log(f"  note: {note}")
    if result.match.unmatched:
        log(f"  NOT IN THE FILE: {len(result.match.unmatched)} graded student(s) match no single "
            f"roster row (listed in {unmatched_path}):")
        for student, why in result.match.unmatched:
            log(f"    {student}: {why}")
    return result

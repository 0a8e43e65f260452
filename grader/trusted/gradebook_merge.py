"""The course gradebook at class scale: merging results, resume look-ups, task templates.

nbgrader's :class:`~nbgrader.api.Gradebook` API opens an engine per ``with`` block,
commits after every ``update_or_create_*`` call and finds each grade with a query
of seven joins. Merged one result at a time that way, a class of 10,000 costs
hundreds of thousands of small queries and as many commits (``benchmarks/scale.py``
measures both ways). :class:`Merger` keeps one Gradebook open for the whole run and
writes the *same rows* through nbgrader's own ORM classes, in batches: students it
lacks, a submission mirroring the assignment exactly as
:meth:`~nbgrader.api.Gradebook.add_submission` builds it, each grade's
``auto_score`` and ``needs_manual_grade``, each comment's ``auto_comment``; then
one commit per batch. ``tests/test_gradebook_merge.py`` checks that the gradebook
it leaves equals the one nbgrader's API calls leave, on SQLite and PostgreSQL.

Any SQLAlchemy URL nbgrader accepts works (``sqlite:///...``,
``postgresql://user@host/db``); :func:`write_template` gives the grading workers a
small SQLite gradebook holding only the course's assignments, whatever the course
gradebook is and however many students it holds.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import selectinload

from nbgrader.api import (Assignment, Base, Gradebook, Notebook, Student, SubmittedAssignment,
                          SubmittedNotebook, Comment, Grade)
from nbgrader.utils import parse_utc

from ..settings import COURSE_ID
from .records import GradingResult

#: indexes nbgrader's schema lacks: without them, finding a submission's notebooks,
#: grades and comments, and every ``score``, reads whole tables (a class of 10,000
#: then costs O(students^2)). Extra indexes change no row; nbgrader ignores them.
INDEXES = (("cnn_submitted_notebook_assignment", "submitted_notebook", ("assignment_id",)),
           ("cnn_grade_notebook", "grade", ("notebook_id",)),
           ("cnn_comment_notebook", "comment", ("notebook_id",)),
           ("cnn_submitted_assignment_student", "submitted_assignment", ("student_id",)))
#: the tables a merge writes; on PostgreSQL their planner statistics are refreshed as
#: the class grows (stale statistics after a bulk load turn index look-ups into scans)
WRITTEN_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")
#: the tables that define the assignments (what ``generate_assignment`` writes)
DEFINITION_TABLES = ("course", "assignment", "notebook", "base_cell", "source_cell",
                     "grade_cells", "solution_cells", "task_cells")


def ensure_indexes(engine) -> None:
    """Create :data:`INDEXES` where they are missing (SQLite and PostgreSQL alike)."""
    with engine.begin() as conn:
        for name, table, columns in INDEXES:
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                              f"({', '.join(columns)})"))


def write_template(db_url: str, dest: Path) -> Path:
    """A SQLite gradebook at ``dest`` with the course and its assignments, no students.

    A grading worker needs the test cells, points and checksums of the assignment it
    grades, nothing about other students: the copy it gets stays the same size for a
    class of 10 or 10,000 (the course gradebook grows with the class).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    src, out = create_engine(db_url, future=True), create_engine(f"sqlite:///{tmp}", future=True)
    try:
        # nbgrader's tables and the course gradebook's alembic version, as nbgrader makes them
        Base.metadata.create_all(bind=out)
        with src.connect() as a, out.begin() as b:
            version = a.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            b.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            b.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                      {"v": version})
            for name in DEFINITION_TABLES:
                table = Base.metadata.tables[name]
                rows = [dict(r._mapping) for r in a.execute(select(table))]
                if rows:
                    b.execute(table.insert(), rows)
    finally:
        src.dispose()
        out.dispose()
    tmp.replace(dest)
    return dest


class Merger:
    """Results into the course gradebook: one session for the run, one commit per batch.

    ``merge`` stages a result (nothing is visible to other readers until ``commit``);
    ``commit`` writes the batch in one transaction and returns each merged
    submission's ``(score, max_score)`` as nbgrader computes them.
    """

    def __init__(self, db_url: str, course_id: str = COURSE_ID):
        self.db_url = db_url
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # nbgrader's relationships trip SQLAlchemy autoflush / cascade warnings
        warnings.simplefilter("ignore")
        self.gb = Gradebook(db_url, course_id)
        ensure_indexes(self.gb.engine)
        self.db = self.gb.db
        self._students = {sid for (sid,) in self.db.execute(select(Student.id))}
        self._assignments: dict[str, Assignment] = {}
        self._pending: list[tuple[str, str, SubmittedAssignment]] = []
        self._new_students: dict[str, Student] = {}
        self._new_subs: dict[tuple[str, str], SubmittedAssignment] = {}
        self._postgres = self.gb.engine.dialect.name == "postgresql"
        self._since_analyze = 0
        self._analyzed_at = self.db.execute(select(func.count()).select_from(
            SubmittedAssignment.__table__)).scalar_one()

    # ------------------------------------------------------------ look-ups
    def submitted(self) -> set[tuple[str, str]]:
        """Every ``(student, assignment)`` that has a submission, in one query."""
        rows = self.db.execute(select(Student.id, Assignment.name)
                               .join(SubmittedAssignment, SubmittedAssignment.student_id == Student.id)
                               .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id))
        return {(s, a) for s, a in rows}

    def _assignment(self, name: str) -> Assignment:
        if name not in self._assignments:
            self._assignments[name] = (
                self.db.query(Assignment).filter(Assignment.name == name)
                .options(selectinload(Assignment.notebooks).selectinload(Notebook._base_cells))
                .one())
        return self._assignments[name]

    def _submission(self, assignment: Assignment, student: Student) -> SubmittedAssignment | None:
        return (self.db.query(SubmittedAssignment)
                .filter(SubmittedAssignment.assignment_id == assignment.id,
                        SubmittedAssignment.student_id == student.id)
                .options(selectinload(SubmittedAssignment.notebooks)
                         .selectinload(SubmittedNotebook.grades).selectinload(Grade.cell),
                         selectinload(SubmittedAssignment.notebooks)
                         .selectinload(SubmittedNotebook.comments).selectinload(Comment.cell),
                         selectinload(SubmittedAssignment.notebooks)
                         .selectinload(SubmittedNotebook.notebook))
                .one_or_none())

    # ------------------------------------------------------------ writing
    def merge(self, student_id: str, assignment_name: str, result: GradingResult) -> list[str]:
        """Stage one result; return the notes for the grades CSV (result and notebook notes).

        The same rows as the per-call API: the student is added if new; the
        submission is created mirroring the assignment (a ``Grade`` per grade and
        task cell, a ``Comment`` per solution and task cell) or its timestamp
        updated; each reported grade gets its ``auto_score`` and
        ``needs_manual_grade``; a notebook the worker did not report scores zero.
        """
        notes = list(result.notes)
        with self.db.no_autoflush:  # one flush per batch: the ORM then inserts in bulk
            sub = self._stage(student_id, assignment_name, result)
            self._scores(sub, result, notes)
        self._pending.append((student_id, assignment_name, sub))
        return notes

    def _stage(self, student_id: str, assignment_name: str,
               result: GradingResult) -> SubmittedAssignment:
        """The submission to fill in: an existing one, or a new one mirroring the assignment."""
        student = self._new_students.get(student_id)
        if student is None and student_id in self._students:
            student = self.db.get(Student, student_id)
        if student is None:
            student = Student(id=student_id)
            self.db.add(student)
            self._students.add(student_id)
            self._new_students[student_id] = student
        assignment = self._assignment(assignment_name)
        key = (student_id, assignment_name)
        if key in self._new_subs:
            raise ValueError(f"{student_id} / {assignment_name} merged twice in one batch")
        sub = None if student_id in self._new_students else self._submission(assignment, student)
        timestamp = parse_utc(result.timestamp) if result.timestamp else None
        if sub is None:
            kwargs = {"timestamp": timestamp} if timestamp is not None else {}
            sub = SubmittedAssignment(assignment=assignment, student=student, **kwargs)
            for notebook in assignment.notebooks:
                nb = SubmittedNotebook(notebook=notebook, assignment=sub)
                for cell in notebook.grade_cells:
                    Grade(cell=cell, notebook=nb)
                for cell in notebook.solution_cells:
                    Comment(cell=cell, notebook=nb)
                for cell in notebook.task_cells:
                    Comment(cell=cell, notebook=nb)
                    Grade(cell=cell, notebook=nb)
            self.db.add(sub)
            self._new_subs[key] = sub
        elif timestamp is not None:
            sub.timestamp = timestamp
        return sub

    def _scores(self, sub: SubmittedAssignment, result: GradingResult, notes: list[str]) -> None:
        """Each reported grade and comment into ``sub``; zeros where nothing was reported."""
        seen = set()
        by_name = {snb.notebook.name: snb for snb in sub.notebooks}
        for nb_name, entry in result.notebooks.items():
            seen.add(nb_name)
            for nb_note in entry.notes:
                if nb_note not in notes:
                    notes.append(f"{nb_name}: {nb_note}")
            snb = by_name.get(nb_name)
            if snb is None:
                continue
            grades = {g.cell.name: g for g in snb.grades}
            for gid, g in entry.grades.items():
                grade = grades.get(gid)
                if grade is None:
                    continue
                grade.auto_score = g.auto_score
                grade.needs_manual_grade = bool(grade.manual_score is not None
                                                or g.auto_score is None)
            comments = {c.cell.name: c for c in snb.comments}
            for gid, text in entry.comments.items():
                if gid in comments:
                    comments[gid].auto_comment = text
        # whatever the worker could not report scores zero, never a stale pass
        for snb in sub.notebooks:
            if snb.notebook.name not in seen:
                for grade in snb.grades:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = grade.manual_score is not None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def commit(self) -> dict[tuple[str, str], tuple[float, float]]:
        """Commit the staged results; ``{(student, assignment): (score, max_score)}``."""
        if not self._pending:
            return {}
        self.db.flush()
        ids = {sub.id: (s, a) for s, a, sub in self._pending}
        self.db.commit()
        self._pending, self._new_students, self._new_subs = [], {}, {}
        rows = self.db.execute(select(SubmittedAssignment.id, SubmittedAssignment.score,
                                      SubmittedAssignment.max_score)
                               .where(SubmittedAssignment.id.in_(list(ids))))
        out = {ids[i]: (float(score), float(max_score)) for i, score, max_score in rows}
        self._since_analyze += len(ids)
        if self._postgres and self._since_analyze >= max(1000, self._analyzed_at):
            self._analyze()
        # let the committed objects go (a class's worth would otherwise stay in memory)
        self.db.expunge_all()
        self._assignments = {}
        return out

    def _analyze(self) -> None:
        """PostgreSQL: fresh planner statistics for the tables the merge has grown."""
        self.db.execute(text("ANALYZE " + ", ".join(WRITTEN_TABLES)))
        self.db.commit()
        self._analyzed_at += self._since_analyze
        self._since_analyze = 0

    def rollback(self) -> None:
        self.db.rollback()
        self._pending, self._new_students, self._new_subs = [], {}, {}
        self._students = {sid for (sid,) in self.db.execute(select(Student.id))}

    def close(self) -> None:
        try:
            if self._pending:
                self.db.rollback()
            if self._postgres and self._since_analyze:
                self._analyze()  # the reports and exports that follow read these tables
            self.gb.close()
        finally:
            self._warnings.__exit__(None, None, None)

    def __enter__(self) -> "Merger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def count_rows(db_url: str) -> dict[str, int]:
    """Rows per nbgrader table (for reports and benchmarks)."""
    engine = create_engine(db_url, future=True)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for name, table in Base.metadata.tables.items()}
    finally:
        engine.dispose()

"""What a regrade changed: every student whose score moved, before anything is published.

``python -m grader autograde`` takes a snapshot of the gradebook before it grades
(:func:`take_snapshot`: every submission's score and each test's score) and
compares it with the gradebook afterwards (:func:`write`). A regrade with
``--force``, or after a test was fixed in ``solutions/`` (which re-registers the
assignment and regrades it), then lists under ``reports/``:

``regrade.csv``
    one row per student and assignment whose result differs from the snapshot:
    ``status`` (``changed``, ``new`` for a first grading, ``removed``), old and
    new score, the change, the maximum, and every test whose score changed
    (``test: old -> new``, also when the total stayed the same);
``regrade.md``
    the same as a table, with a count of what changed, for review before the
    grades go out.

The snapshot is kept in ``build/.../regrade_snapshot.json`` until the report is
written, so a run that stops half-way is compared, at the next run, with the
gradebook as it was before that first run: nothing changes silently.
"""
from __future__ import annotations

import csv
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from .course import COURSE_ID, Course

SNAPSHOT = "regrade_snapshot.json"
EPS = 1e-9


def read_gradebook(course: Course) -> dict:
    """``{student: {assignment: {"score", "max_score", "tests": {"notebook/test": score}}}}``."""
    grades: dict = {}
    if course.db_url.startswith("sqlite") and not course.db_path.is_file():
        return grades  # no SQLite gradebook yet (a server database is always there)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy notes from nbgrader's models
        with Gradebook(course.db_url, COURSE_ID) as gb:
            for assignment in gb.assignments:
                for sub in assignment.submissions:
                    tests = {}
                    for snb in sub.notebooks:
                        for grade in snb.grades:
                            tests[f"{snb.name}/{grade.name}"] = float(grade.score or 0.0)
                    grades.setdefault(sub.student.id, {})[assignment.name] = {
                        "score": float(sub.score or 0.0), "max_score": float(sub.max_score or 0.0),
                        "tests": tests}
    return grades


def take_snapshot(course: Course) -> dict:
    """The gradebook as it is before grading (or as it was before an unfinished run).

    Saved to ``build/.../regrade_snapshot.json``; :func:`write` removes it.
    """
    path = course.build / SNAPSHOT
    if path.is_file():
        try:
            snap = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(snap, dict) and "grades" in snap:
                snap["resumed"] = True
                return snap
        except ValueError:
            pass
    snap = {"taken": time.strftime("%Y-%m-%d %H:%M:%S"), "grades": read_gradebook(course)}
    course.build.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snap, ensure_ascii=False), encoding="utf-8")
    return snap


@dataclass
class Change:
    student: str
    assignment: str
    status: str                   # changed | new | removed
    old: float | None
    new: float | None
    max_score: float
    tests: list[tuple[str, float | None, float | None]] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return (self.new or 0.0) - (self.old or 0.0)

    def tests_text(self) -> str:
        return "; ".join(f"{t}: {_num(a)} -> {_num(b)}" for t, a, b in self.tests)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{round(x, 4):g}"


def compare(before: dict, after: dict, assignments=None) -> list[Change]:
    """Every (student, assignment) whose total or any test score differs."""
    keep = set(assignments) if assignments else None
    changes = []
    for student in sorted(set(before) | set(after)):
        old_s, new_s = before.get(student, {}), after.get(student, {})
        for assignment in sorted(set(old_s) | set(new_s)):
            if keep is not None and assignment not in keep:
                continue
            old, new = old_s.get(assignment), new_s.get(assignment)
            if old is None and new is None:
                continue
            old_t = (old or {}).get("tests", {})
            new_t = (new or {}).get("tests", {})
            tests = [(t, old_t.get(t), new_t.get(t)) for t in sorted(set(old_t) | set(new_t))
                     if old is not None and new is not None
                     and (old_t.get(t) is None or new_t.get(t) is None
                          or abs(old_t[t] - new_t[t]) > EPS)]
            if old is None:
                status = "new"
            elif new is None:
                status = "removed"
            elif abs(old["score"] - new["score"]) > EPS or tests:
                status = "changed"
            else:
                continue
            changes.append(Change(student, assignment, status,
                                  None if old is None else old["score"],
                                  None if new is None else new["score"],
                                  (new or old)["max_score"], tests))
    return changes


def write_csv(changes: list[Change], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "assignment", "status", "old_score", "new_score", "change",
                    "max_score", "tests_changed"])
        for c in changes:
            w.writerow([c.student, c.assignment, c.status,
                        "" if c.old is None else _num(c.old), "" if c.new is None else _num(c.new),
                        f"{c.delta:+g}" if c.status == "changed" else "", _num(c.max_score),
                        c.tests_text()])
    return Path(path)


def markdown(changes: list[Change], snapshot: dict) -> str:
    changed = [c for c in changes if c.status == "changed"]
    new = [c for c in changes if c.status == "new"]
    removed = [c for c in changes if c.status == "removed"]
    since = snapshot.get("taken", "?")
    lines = ["# Regrade report", "",
             f"Compared with the gradebook as it was on {since}"
             + (" (before an earlier run that did not finish)" if snapshot.get("resumed") else "")
             + ". Review these before you publish grades or feedback.", ""]
    students = sorted({c.student for c in changed})
    if not changes:
        lines += ["No score changed: every graded submission has the score it had before.", ""]
    elif not changed and not removed:
        lines += [f"First grading of {len(new)} submission(s): nothing to compare yet.", ""]
    else:
        lines += [f"**{len(students)} student(s)** changed score in {len(changed)} "
                  f"submission(s); {len(new)} submission(s) graded for the first time"
                  + (f"; {len(removed)} removed" if removed else "") + ".", ""]
    if changed or removed:
        lines += ["| student | assignment | old | new | change | tests that changed |",
                  "|---|---|---|---|---|---|"]
        for c in changed + removed:
            tests = "<br>".join(f"{t}: {_num(a)} → {_num(b)}" for t, a, b in c.tests) or "-"
            change = f"{c.delta:+g}" if c.status == "changed" else "removed"
            lines.append(f"| {c.student} | {c.assignment} | {_num(c.old)} / {_num(c.max_score)} | "
                         f"{_num(c.new)} / {_num(c.max_score)} | {change} | {tests} |")
        lines.append("")
    if new and (changed or removed):
        lines += ["Graded for the first time: "
                  + ", ".join(f"{c.student} / {c.assignment}" for c in new), ""]
    lines += ["Every row: regrade.csv.", ""]
    return "\n".join(lines)


def write(course: Course, snapshot: dict, rep=None, log=print) -> list[Change]:
    """Compare the gradebook with ``snapshot``; write ``reports/regrade.{md,csv}``.

    ``rep`` (the class report) limits the comparison to its assignments and gets
    the two files in ``rep.files``.
    """
    assignments = getattr(rep, "assignments", None)
    changes = compare(snapshot.get("grades", {}), read_gradebook(course), assignments)
    out = course.reports
    out.mkdir(parents=True, exist_ok=True)
    write_csv(changes, out / "regrade.csv")
    (out / "regrade.md").write_text(markdown(changes, snapshot), encoding="utf-8")
    (course.build / SNAPSHOT).unlink(missing_ok=True)
    if rep is not None:
        rep.files.update(regrade=out / "regrade.md", regrade_csv=out / "regrade.csv")
    moved = sorted({c.student for c in changes if c.status != "new"})
    if moved:
        log(f"regrade: {len(moved)} student(s) have a different score than before: "
            f"{', '.join(moved[:10])}{' ...' if len(moved) > 10 else ''} "
            f"(see {out / 'regrade.md'})")
    return changes

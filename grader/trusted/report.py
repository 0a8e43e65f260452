"""What a class's grading produced: grades CSV, per-test CSV, summary, histogram, table.

Files (under ``build/course/reports/``):

``grades.csv``
    nbgrader's export format (``nbgrader export``: ``assignment, duedate,
    timestamp, student_id, last_name, first_name, email, raw_score,
    late_submission_penalty, score, max_score``, one row per student and
    assignment) with one more column, ``notes``: why a student lost marks for a
    reason outside the tests (timeout, crash, invalid notebook, tampering, files
    not graded). Written by :class:`CsvWithNotesExportPlugin`, an nbgrader
    export plugin (also usable as ``nbgrader export --exporter=grader.trusted.report.CsvWithNotesExportPlugin``),
    with proper CSV quoting (ids may hold commas, spaces or unicode).
``tests.csv``
    one row per student, notebook and test: score, max, passed, the failure message.
``summary.md`` / ``summary.json``
    per-test mean score and pass rate, the hardest tests, totals, files not graded.
``histogram.png``
    the distribution of students' total scores (percent).
"""
from __future__ import annotations

import csv
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Dict

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import ExportPlugin

from . import mistakes
from .course import COURSE_ID, Course

NBGRADER_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name",
                    "first_name", "email", "raw_score", "late_submission_penalty", "score",
                    "max_score"]


class CsvWithNotesExportPlugin(ExportPlugin):
    """nbgrader's CSV export (same columns, same values) plus a ``notes`` column."""

    notes = Dict({}, help="{(student, assignment) as 'student\\x1fassignment': note text}").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = [str(s) for s in self.student] if self.student else []
        assignments = [str(a) for a in self.assignment] if self.assignment else []
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(NBGRADER_COLUMNS + ["notes"])
            # nbgrader orders students by name only; ids break ties so that the file is
            # the same on every database (PostgreSQL returns equal names in any order)
            everyone = sorted(gradebook.students, key=lambda s: (s.last_name or "",
                                                                  s.first_name or "", s.id))
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in everyone:
                    if students and student.id not in students:
                        continue
                    row = {"assignment": assignment.name, "duedate": assignment.duedate,
                           "student_id": student.id, "last_name": student.last_name,
                           "first_name": student.first_name, "email": student.email,
                           "max_score": assignment.max_score}
                    try:
                        sub = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0,
                                   score=0.0)
                        note = self.notes.get(f"{student.id}\x1f{assignment.name}", "no submission")
                    else:
                        penalty = sub.late_submission_penalty
                        row.update(timestamp=sub.timestamp, raw_score=sub.score,
                                   late_submission_penalty=penalty,
                                   score=max(0.0, sub.score - penalty))
                        note = self.notes.get(f"{student.id}\x1f{assignment.name}", "")
                    values = ["" if row[k] is None else str(row[k]) for k in NBGRADER_COLUMNS]
                    writer.writerow(values + [note])


@dataclass
class TestStat:
    assignment: str
    notebook: str
    test: str
    max_score: float
    scores: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def pass_rate(self) -> float:
        if not self.scores:
            return 0.0
        return sum(1 for s in self.scores if s >= self.max_score - 1e-9) / len(self.scores)


@dataclass
class ClassReport:
    assignments: list[str]
    students: list[str]
    table: dict[str, dict[str, tuple[float, float] | None]]  # student -> assignment -> (score, max)
    tests: list[TestStat]
    notes: dict[tuple[str, str], list[str]]
    unmatched: list[tuple[str, str]]
    outcomes: list = field(default_factory=list)
    #: the protections measured inside the kernels: one-line summary -> how many kernels
    protections: dict = field(default_factory=dict)
    wall_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    def total(self, student: str) -> tuple[float, float]:
        score = sum(v[0] for v in self.table[student].values() if v)
        max_score = sum(self.max_of(a) for a in self.assignments)
        return score, max_score

    def max_of(self, assignment: str) -> float:
        return sum(t.max_score for t in self.tests if t.assignment == assignment)

    def hardest(self, n: int = 5) -> list[TestStat]:
        graded = [t for t in self.tests if t.scores]
        return sorted(graded, key=lambda t: (t.pass_rate, t.mean / (t.max_score or 1)))[:n]


def _short(name: str) -> str:
    return name if len(name) <= 18 else name[:17] + "…"


def build(course: Course, assignments: list[str], state: dict, outcomes: list,
          unmatched: list, wall_seconds: float = 0.0) -> ClassReport:
    notes: dict[tuple[str, str], list[str]] = {}
    for key, rec in state.get("graded", {}).items():
        student, assignment = key.split("\x1f", 1)
        if rec.get("notes"):
            notes[(student, assignment)] = list(rec["notes"])
    tests: dict[tuple[str, str, str], TestStat] = {}
    table: dict[str, dict[str, tuple[float, float] | None]] = {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        students = sorted(s.id for s in gb.students)
        for name in assignments:
            try:
                assignment = gb.find_assignment(name)
            except MissingEntry:
                continue
            for nb in assignment.notebooks:
                for gc in nb.grade_cells:
                    tests[(name, nb.name, gc.name)] = TestStat(name, nb.name, gc.name,
                                                               float(gc.max_score))
            for student in students:
                try:
                    sub = gb.find_submission(name, student)
                except MissingEntry:
                    table.setdefault(student, {})[name] = None
                    continue
                table.setdefault(student, {})[name] = (float(sub.score), float(sub.max_score))
                for snb in sub.notebooks:
                    for grade in snb.grades:
                        stat = tests.get((name, snb.name, grade.name))
                        if stat is not None:
                            stat.scores.append(float(grade.score or 0.0))
    return ClassReport(assignments=list(assignments), students=students, table=table,
                       tests=list(tests.values()), notes=notes, unmatched=list(unmatched),
                       outcomes=outcomes, wall_seconds=wall_seconds)


def format_table(rep: ClassReport) -> str:
    """The grade table, student x notebook, with totals (``-`` = no submission)."""
    cols = [_short(a) for a in rep.assignments]
    width_s = max([7] + [len(s) for s in rep.students])
    widths = [max(len(c), 9) for c in cols]
    head = f"{'student':<{width_s}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cols, widths)) \
        + f"  {'total':>12}"
    lines = [head, "-" * len(head)]
    for student in rep.students:
        cells = []
        for a, w in zip(rep.assignments, widths):
            v = rep.table.get(student, {}).get(a)
            cells.append(f"{'-':>{w}}" if v is None else f"{v[0]:>{w - 4}g}/{v[1]:<3g}")
        score, max_score = rep.total(student)
        pct = 100 * score / max_score if max_score else 0
        lines.append(f"{student:<{width_s}}  " + "  ".join(cells)
                     + f"  {score:>6g}/{max_score:<4g}{pct:>4.0f}%")
    return "\n".join(lines)


def _notes_text(rep: ClassReport, student: str, assignment: str) -> str:
    return " | ".join(rep.notes.get((student, assignment), []))


def write(course: Course, rep: ClassReport) -> ClassReport:
    out = course.reports
    out.mkdir(parents=True, exist_ok=True)
    # grades.csv through the nbgrader export plugin
    notes = {f"{s}\x1f{a}": " | ".join(v) for (s, a), v in rep.notes.items()}
    plugin = CsvWithNotesExportPlugin(to=str(out / "grades.csv"), assignment=rep.assignments,
                                      notes=notes)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        plugin.export(gb)
        rows = []
        for a in rep.assignments:
            for student in rep.students:
                try:
                    sub = gb.find_submission(a, student)
                except MissingEntry:
                    continue
                for snb in sub.notebooks:
                    for grade in snb.grades:
                        rows.append((student, a, snb.name, grade.name, grade.score, grade.max_score))
    state_outcomes, state_protections = {}, {}
    from .course import load_state
    for key, rec in load_state(course).get("graded", {}).items():
        state_outcomes[key] = rec.get("outcomes", {})
        state_protections[key] = rec.get("protections", {})
    rep.protections = {}
    for key, per_nb in state_protections.items():
        for found in per_nb.values():
            if found:
                line = protection_summary(found)
                rep.protections[line] = rep.protections.get(line, 0) + 1
    with open(out / "tests.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "assignment", "notebook", "test", "score", "max_score",
                    "passed", "message", "protections"])
        for student, a, nb, test, score, mx in rows:
            key = f"{student}\x1f{a}"
            msg = state_outcomes.get(key, {}).get(nb, {}).get(test, "")
            found = state_protections.get(key, {}).get(nb) or {}
            score = float(score or 0.0)
            passed = score >= float(mx) - 1e-9
            if not passed and not msg:
                msg = _notes_text(rep, student, a) or "failed"
            w.writerow([student, a, nb, test, f"{score:g}", f"{float(mx):g}",
                        "yes" if passed else "no", "" if passed else msg,
                        protection_summary(found) if found else "not measured (no kernel ran)"])
    rep.files = {"grades": out / "grades.csv", "tests": out / "tests.csv",
                 "summary": out / "summary.md", "summary_json": out / "summary.json",
                 "histogram": out / "histogram.png", "feedback": course.feedback,
                 "gradebook": course.db_path if course.db_url.startswith("sqlite:")
                 else _without_password(course.db_url)}
    _histogram(rep, out / "histogram.png")
    groups = mistakes.write(out, course.autograded)  # mistakes.csv/png: what the class got wrong
    rep.files.update(mistakes=out / "mistakes.csv", mistakes_plot=out / "mistakes.png")
    (out / "summary.md").write_text(summary_markdown(rep) + mistakes.markdown(groups),
                                    encoding="utf-8")
    (out / "summary.json").write_text(json.dumps({**summary_dict(rep),
                                                  "mistakes": mistakes.as_json(groups)},
                                                 indent=1, ensure_ascii=False), encoding="utf-8")
    return rep


def _without_password(url: str) -> str:
    """A database URL fit to print (the password, if any, masked)."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def protection_summary(found: dict) -> str:
    """One line for the protections a kernel measured (see :mod:`grader_kernel.probe`)."""
    from grader_kernel.probe import summary
    if found.get("error"):
        return f"unknown ({found['error']})"
    return summary(found)


def _totals_pct(rep: ClassReport) -> list[float]:
    pcts = []
    for s in rep.students:
        score, mx = rep.total(s)
        pcts.append(100.0 * score / mx if mx else 0.0)
    return pcts


def _histogram(rep: ClassReport, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    pcts = _totals_pct(rep)
    ax.hist(pcts, bins=list(range(0, 101, 10)), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("total score (%)")
    ax.set_ylabel("students")
    ax.set_xlim(0, 100)
    ax.set_title(f"Scores of {len(pcts)} student(s) over {len(rep.assignments)} notebook(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary_dict(rep: ClassReport) -> dict:
    pcts = _totals_pct(rep)
    return {
        "students": len(rep.students), "assignments": rep.assignments,
        "wall_seconds": round(rep.wall_seconds, 1),
        "mean_percent": round(statistics.fmean(pcts), 1) if pcts else 0.0,
        "median_percent": round(statistics.median(pcts), 1) if pcts else 0.0,
        "tests": [{"assignment": t.assignment, "notebook": t.notebook, "test": t.test,
                   "max_score": t.max_score, "mean_score": round(t.mean, 3),
                   "pass_rate": round(t.pass_rate, 3), "graded": len(t.scores)}
                  for t in rep.tests],
        "hardest": [f"{t.assignment}/{t.test}" for t in rep.hardest()],
        "notes": {f"{s} / {a}": v for (s, a), v in sorted(rep.notes.items())},
        "not_graded_files": [{"file": f, "why": w} for f, w in rep.unmatched],
        "protections": rep.protections,
        "warnings": rep.warnings,
    }


def summary_markdown(rep: ClassReport) -> str:
    pcts = _totals_pct(rep)
    lines = ["# Grading summary", "",
             f"{len(rep.students)} student(s), {len(rep.assignments)} notebook(s), "
             f"graded in {rep.wall_seconds:.0f} s.", ""]
    if pcts:
        lines += [f"Total score: mean {statistics.fmean(pcts):.1f}%, median "
                  f"{statistics.median(pcts):.1f}% (histogram: histogram.png).", ""]
    for w in rep.warnings:
        lines += [f"**Warning:** {w}", ""]
    lines += ["## Grades", "", "```", format_table(rep), "```", ""]
    if rep.protections:
        lines += ["## Protections in force", "",
                  "As measured inside each graded kernel, before any student code ran:", ""]
        for line, n in sorted(rep.protections.items(), key=lambda kv: -kv[1]):
            lines.append(f"- {n} kernel(s): {line}")
        lines.append("")
    lines += ["## Hardest tests", "", "| test | pass rate | mean score |", "|---|---|---|"]
    for t in rep.hardest():
        lines.append(f"| {t.assignment} / {t.test} | {100 * t.pass_rate:.0f}% | "
                     f"{t.mean:.2f} / {t.max_score:g} |")
    lines += ["", "## Every test", "", "| notebook | test | points | pass rate | mean score |",
              "|---|---|---|---|---|"]
    for t in rep.tests:
        lines.append(f"| {t.notebook} | {t.test} | {t.max_score:g} | {100 * t.pass_rate:.0f}% | "
                     f"{t.mean:.2f} |")
    if rep.notes:
        lines += ["", "## Grading notes", ""]
        for (s, a), v in sorted(rep.notes.items()):
            for n in v:
                lines.append(f"- **{s}** / {a}: {n}")
    if rep.unmatched:
        lines += ["", "## Files not graded", ""]
        for f, why in rep.unmatched:
            lines.append(f"- `{f}`: {why}")
    return "\n".join(lines) + "\n"

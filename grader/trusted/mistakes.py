"""What the class got wrong: failure messages grouped per test by the mistake they name.

Every check of the course ends a failure message with a line
``Likely mistake: <description>`` when the wrong answer matches a known wrong
answer (:func:`utils.checks.core.fail`). This module reads the per-test table the
grader writes (``reports/tests.csv``: one row per student, notebook and test) and,
for each test, counts the students behind each named mistake, so an instructor
sees what to re-teach ("the kernel is flipped: 12 students"). Failures that name
no mistake are grouped by what kind of failure they are (not written yet, an
error raised, the notebook could not run, a wrong answer of another kind).

Outputs, beside the score histogram in ``reports/``:

``mistakes.csv``
    one row per test and mistake: assignment, notebook, test, the mistake, how
    many students, who (``;``-separated), and how many failed that test in all;
``mistakes.png``
    the hardest tests (most students failing), one bar per mistake;
the ``## What the class got wrong`` section of ``summary.md`` and the
``mistakes`` list of ``summary.json`` (:func:`markdown`, :func:`as_json`).
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LIKELY = "Likely mistake:"
NOT_WRITTEN = "not written yet (or its cell did not run)"
RAISED = "raised an error"
COULD_NOT_RUN = "the notebook could not run this test"
UNNAMED = "wrong answer, no named mistake"
#: failure kinds without a named mistake, in the order the summary lists them
OTHER_KINDS = (NOT_WRITTEN, RAISED, COULD_NOT_RUN, UNNAMED)
_RAISED = re.compile(r"\braised (\w*(?:Error|Exception)\w*)\b")
_NOTES = re.compile(r"timed out|time limit|memory|kernel died|not valid JSON|could not "
                    r"be read|deleted|tamper|stopped|no such notebook|missing", re.I)


@dataclass
class Mistake:
    """One named mistake (or failure kind) of one test, and who made it."""
    text: str
    students: list[str] = field(default_factory=list)
    named: bool = True  # False for the failure kinds of OTHER_KINDS

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass
class TestMistakes:
    """The failures of one test across the class, grouped by mistake."""
    assignment: str
    notebook: str
    test: str
    graded: list[str] = field(default_factory=list)     # every student with a result
    failed: list[str] = field(default_factory=list)     # students who lost points
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.assignment} / {self.test}"

    def sort(self) -> None:
        order = {k: i for i, k in enumerate(OTHER_KINDS)}
        self.mistakes.sort(key=lambda m: (not m.named,
                                          -m.count if m.named else order.get(m.text, 9), m.text))


def mistake_of(message: str) -> tuple[str, bool]:
    """``(mistake, named)`` for one failure message.

    ``named`` is True when the message has a ``Likely mistake:`` line; the mistake is
    then its text (several lines joined, trailing full stop dropped). Otherwise the
    failure kind of :data:`OTHER_KINDS`.
    """
    text = message or ""
    i = text.rfind(LIKELY)
    if i >= 0:
        hint = " ".join(text[i + len(LIKELY):].split()).rstrip(".").strip()
        if hint:
            return hint, True
    if "not written yet" in text or re.match(r"^NameError: name '\w+' is not defined", text):
        return NOT_WRITTEN, False  # a stub, or a name its answer cell never defined
    first = text.strip().splitlines()[0] if text.strip() else ""
    if _RAISED.search(first) or re.match(r"^\w*(Error|Exception)\b", first):
        return RAISED, False
    if not first or first == "failed" or _NOTES.search(first):
        return COULD_NOT_RUN, False
    return UNNAMED, False


def group(rows) -> list[TestMistakes]:
    """Group rows of ``tests.csv`` (dicts) into one :class:`TestMistakes` per test.

    Tests keep the order in which they first appear; a student counts once per
    test and mistake.
    """
    tests: dict[tuple[str, str, str], TestMistakes] = {}
    for row in rows:
        key = (row["assignment"], row["notebook"], row["test"])
        tm = tests.setdefault(key, TestMistakes(*key))
        student = row["student_id"]
        if student not in tm.graded:
            tm.graded.append(student)
        if str(row.get("passed", "")).strip().lower() in ("yes", "true", "1"):
            continue
        if student not in tm.failed:
            tm.failed.append(student)
        text, named = mistake_of(row.get("message", ""))
        found = next((m for m in tm.mistakes if m.text == text), None)
        if found is None:
            found = Mistake(text, named=named)
            tm.mistakes.append(found)
        if student not in found.students:
            found.students.append(student)
    for tm in tests.values():
        tm.sort()
    return list(tests.values())


def full_messages(autograded: Path, student: str, assignment: str, notebook: str) -> dict:
    """``{grade_id: error message}`` of the failed test cells of one graded notebook.

    ``tests.csv`` keeps the first line of each message; the ``Likely mistake:`` line
    is further down, in the graded notebook's copy of the test cell's output (written
    by the grader's process, never by the student's kernel).
    """
    path = Path(autograded) / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    found = {}
    for cell in nb.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found[meta.get("grade_id")] = f"{out.get('ename')}: {out.get('evalue') or ''}"
                break
    return found


def from_tests_csv(path: Path, autograded: Path | None = None) -> list[TestMistakes]:
    """:func:`group` on the grader's ``tests.csv`` (empty list when it is missing).

    With ``autograded`` (the graded notebooks' folder), a failed test's message is
    the whole message from the graded notebook, so its ``Likely mistake:`` is seen.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if autograded is not None:
        cache: dict = {}
        for row in rows:
            if row.get("passed") == "yes":
                continue
            key = (row["student_id"], row["assignment"], row["notebook"])
            if key not in cache:
                cache[key] = full_messages(autograded, *key)
            full = cache[key].get(row["test"])
            if full and LIKELY in full:
                row["message"] = full
    return group(rows)


def hardest(groups: list[TestMistakes], n: int = 6) -> list[TestMistakes]:
    """The ``n`` tests that most students failed (ties: more named mistakes first)."""
    failing = [g for g in groups if g.failed]
    return sorted(failing, key=lambda g: (-len(g.failed) / max(len(g.graded), 1),
                                          -sum(m.named for m in g.mistakes), g.label))[:n]


def _students_text(m: Mistake) -> str:
    return f"{m.count} student{'s' if m.count != 1 else ''}"


def markdown(groups: list[TestMistakes], max_names: int = 8) -> str:
    """The ``What the class got wrong`` section of ``summary.md``."""
    lines = ["", "## What the class got wrong", ""]
    failing = [g for g in groups if g.failed]
    if not failing:
        return "\n".join(lines + ["Every graded student passed every test.", ""])
    lines += ["![score histogram](histogram.png) ![mistakes in the hardest tests](mistakes.png)",
              "",
              "Failures per test, grouped by the mistake the test's message names "
              "(`Likely mistake: ...`); failures that name none are grouped by kind "
              "(in italics). Every row: mistakes.csv.", ""]
    for g in hardest(groups, n=len(failing)):
        lines.append(f"### {g.label} ({len(g.failed)} of {len(g.graded)} students failed)")
        lines.append("")
        for m in g.mistakes:
            names = ", ".join(m.students[:max_names]) + (", ..." if m.count > max_names else "")
            what = m.text if m.named else f"*{m.text}*"
            lines.append(f"- **{_students_text(m)}** ({names}): {what}")
        lines.append("")
    return "\n".join(lines)


def as_json(groups: list[TestMistakes]) -> list[dict]:
    """The ``mistakes`` entry of ``summary.json``: every test that someone failed."""
    return [{"assignment": g.assignment, "notebook": g.notebook, "test": g.test,
             "graded": len(g.graded), "failed": len(g.failed),
             "mistakes": [{"mistake": m.text, "named": m.named, "students": m.count,
                           "who": list(m.students)} for m in g.mistakes]}
            for g in groups if g.failed]


def write_csv(groups: list[TestMistakes], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["assignment", "notebook", "test", "mistake", "named", "students", "who",
                    "failed", "graded"])
        for g in groups:
            for m in g.mistakes:
                w.writerow([g.assignment, g.notebook, g.test, m.text, "yes" if m.named else "no",
                            m.count, ";".join(m.students), len(g.failed), len(g.graded)])
    return Path(path)


def short(text: str) -> str:
    """The part of a mistake's description before its explanation (for the plot)."""
    head = re.split(r": |; ", text, maxsplit=1)[0]
    return head if len(head) >= 12 else text


def _wrap(text: str, width: int = 58) -> str:
    text = text if len(text) <= 2 * width else text[:2 * width - 1] + "…"
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join(lines + [line])


def plot(groups: list[TestMistakes], path: Path, n_tests: int = 5,
         per_test: int = 4) -> Path | None:
    """Bar chart of the hardest tests' mistakes (students per mistake); None if none failed."""
    top = hardest(groups, n_tests)
    if not top:
        return None
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    labels, counts, colours, ticks = [], [], [], []
    for g in top:
        shown = g.mistakes[:per_test]
        rest = g.mistakes[per_test:]
        for m in shown:
            labels.append(_wrap(short(m.text)))
            counts.append(m.count)
            colours.append("#c44e52" if m.named else "#8c8c8c")
        if rest:
            labels.append(f"{len(rest)} other kind(s) of failure")
            counts.append(len({s for m in rest for s in m.students}))
            colours.append("#8c8c8c")
        ticks.append((len(labels) - len(shown) - (1 if rest else 0), len(labels) - 1, g))
        labels.append("")  # a gap between tests
        counts.append(0)
        colours.append("none")
    labels, counts, colours = labels[:-1], counts[:-1], colours[:-1]
    height = 0.38 * len(labels) + 0.9
    fig, ax = plt.subplots(figsize=(10, height))
    y = list(range(len(labels)))[::-1]
    bars = ax.barh(y, counts, color=colours)
    for bar, n in zip(bars, counts):
        if n:
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {n}",
                    va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    for first, last, g in ticks:
        ax.text(1.0, y[first] + 0.55, f"{g.label}: {len(g.failed)} of {len(g.graded)} failed",
                transform=ax.get_yaxis_transform(), ha="right", va="bottom", fontsize=8.5,
                fontweight="bold")
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Hardest tests: what the students got wrong "
                 "(red: a named mistake, grey: other failures)", fontsize=10)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def write(reports: Path, autograded: Path | None = None) -> list[TestMistakes]:
    """Read ``reports/tests.csv`` (and the graded notebooks in ``autograded``); write
    ``mistakes.csv`` and ``mistakes.png`` beside it."""
    reports = Path(reports)
    groups = from_tests_csv(reports / "tests.csv", autograded)
    write_csv(groups, reports / "mistakes.csv")
    png = reports / "mistakes.png"
    if plot(groups, png) is None and png.exists():
        png.unlink()  # a stale plot from an earlier run would mislead
    return groups

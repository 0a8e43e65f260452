"""Feedback for notebooks nbgrader could not turn into feedback itself.

nbgrader's ``generate_feedback`` (run per student by :mod:`grader.trusted.worker`,
with :class:`grader.trusted.preprocessors.HideHiddenTests` and
:class:`~grader.trusted.preprocessors.FeedbackNotes`) writes the feedback of every
notebook that ran. A notebook that is not valid JSON, is empty, was not
submitted, or whose grading failed has no graded notebook to render, so the
student would get nothing; :func:`write_missing_feedback` writes a short page
for it instead: the score (0), the reason, and the tests it holds.
"""
from __future__ import annotations

import html
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import COURSE_ID, Course

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.45}}
.note{{background:#fff3cd;border:1px solid #e0c36a;padding:.6em 1em;border-radius:4px}}
td,th{{padding:.2em .8em;text-align:left}}</style></head>
<body><h1>{title}</h1>
<p>Student: <b>{student}</b> &middot; Score: <b>{score:g} / {max_score:g}</b></p>
<div class="note"><p><b>Why:</b></p><ul>{notes}</ul></div>
<h2>Tests in this notebook</h2><table><tr><th>test</th><th>points</th><th>your score</th></tr>
{rows}</table>
<p>Fix the problem above (open the notebook in JupyterLab, check that it saves, run
<code>python -m grader validate {notebook}.ipynb</code>) and submit it again.</p>
</body></html>
"""


def write_missing_feedback(course: Course, assignments: list[str], state: dict) -> list[Path]:
    written = []
    records = state.get("graded", {})
    with Gradebook(course.db_url, COURSE_ID) as gb:
        for name in assignments:
            for student in gb.students:
                key = f"{student.id}\x1f{name}"
                if key not in records:
                    continue
                try:
                    sub = gb.find_submission(name, student.id)
                except MissingEntry:
                    continue
                notes = records[key].get("notes") or []
                for snb in sub.notebooks:
                    path = course.feedback / student.id / name / f"{snb.name}.html"
                    if path.is_file():
                        continue
                    mine = [n for n in notes if snb.name in n] or notes or \
                        ["this notebook could not be graded"]
                    rows = "\n".join(
                        f"<tr><td>{html.escape(g.name)}</td><td>{g.max_score:g}</td>"
                        f"<td>{(g.score or 0):g}</td></tr>" for g in snb.grades)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(PAGE.format(
                        title=html.escape(f"Feedback: {snb.name}"), student=html.escape(student.id),
                        score=float(snb.score), max_score=float(snb.max_score),
                        notes="".join(f"<li>{html.escape(n)}</li>" for n in mine), rows=rows,
                        notebook=html.escape(snb.name)), encoding="utf-8")
                    written.append(path)
    return written

"""Commands for after grading: ``export`` (grades into Canvas or Moodle) and ``similarity``.

See :mod:`grader.trusted.lms` and :mod:`grader.trusted.similarity`. The regrade
report and the mistakes summary need no command: ``autograde`` writes them
(:mod:`grader.trusted.regrade`, :mod:`grader.trusted.mistakes`).
"""
from __future__ import annotations

import sys
from pathlib import Path


def _course(course_build: str | None):
    from .trusted.course import Course
    default = Course.default()
    if not course_build:
        return default
    return Course(root=default.root, source=default.source, build=Path(course_build))


def _column_map(items) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--column takes NOTEBOOK=COLUMN, not {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _export(args) -> int:
    from .trusted import lms
    try:
        lms.run(_course(args.course_build), args.lms, Path(args.roster),
                out=Path(args.out) if args.out else None, assignments=args.assignment,
                total=args.total, missing=args.missing, column_map=_column_map(args.column),
                id_column=args.id_column)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _similarity(args) -> int:
    from .trusted import similarity as sim
    course = _course(None)
    known = course.assignments()
    wanted = args.assignment or known
    unknown = [a for a in wanted if a not in known]
    if unknown:
        print(f"error: unknown assignment(s) {unknown}; known: {known}", file=sys.stderr)
        return 2
    source = Path(args.submissions)
    if not source.exists():
        print(f"error: {source} does not exist", file=sys.stderr)
        return 2
    layout = {a: course.notebooks(a) for a in known}
    result = sim.compare_submissions(source, layout, release_dir=Path(args.release),
                                     threshold=args.threshold, assignments=wanted)
    out = Path(args.out) if args.out else course.reports
    sim.write(result, out, top=args.top)
    n = sum(len(v) for v in result.answers.values())
    students = {a.student for v in result.answers.values() for a in v}
    print(f"compared {n} notebook(s) of {len(students)} student(s): {len(result.pairs)} pair(s), "
          f"{len(result.flagged())} at or above {args.threshold:.2f}")
    for p in result.flagged():
        print(f"  {p.notebook}: {p.a} / {p.b}  {p.score:.0%}")
    for f, why in result.unmatched:
        print(f"  not compared: {f}: {why}")
    print(sim.VERDICT_NOTE)
    for path in result.files.values():
        print(f"  {path}")
    return 0


def register(sub) -> None:
    from .settings import RELEASE
    from .trusted.lms import LMS
    from .trusted.similarity import THRESHOLD, TOP
    p = sub.add_parser(
        "export", help="fill the gradebook CSV exported from Canvas or Moodle with the grades",
        description="Read the gradebook file your learning platform exported (--roster), fill "
                    "one column per notebook (or one total column) for every student matched "
                    "to a graded submission, and write a file the platform imports back. Every "
                    "other cell is kept as it was. Graded students that match no roster row "
                    "are listed (and written to <out>_unmatched.csv), never dropped.")
    p.add_argument("--lms", required=True, choices=LMS, help="the platform the roster comes from")
    p.add_argument("--roster", required=True, metavar="ROSTER.csv",
                   help="Canvas: Grades > Export; Moodle: Grades > Export > Plain text file")
    p.add_argument("--out", metavar="FILE",
                   help="the file to import (default reports/<lms>_grades.csv of the course)")
    p.add_argument("--assignment", action="append", metavar="STEM",
                   help="only this notebook (repeatable; default: every graded notebook)")
    p.add_argument("--total", nargs="?", const="CNN course total", default=None, metavar="NAME",
                   help="one column with each student's total instead of one per notebook "
                        "(default name: 'CNN course total')")
    p.add_argument("--missing", choices=("empty", "zero"), default="empty",
                   help="roster students without a submission: an empty cell (default) or 0")
    p.add_argument("--column", action="append", metavar="NOTEBOOK=COLUMN",
                   help="write NOTEBOOK's score into this existing column (repeatable; default: "
                        "the column named like the notebook, else a new column)")
    p.add_argument("--id-column", metavar="COLUMN",
                   help="match student ids only against this roster column")
    p.add_argument("--course-build", metavar="DIR",
                   help="the graded course (default build/course; the demo: build/demo)")
    p.set_defaults(func=_export)

    p = sub.add_parser(
        "similarity", help="compare students' answer cells; HTML and CSV of the most similar pairs",
        description="Compare every pair of students' answer cells, per notebook, with copydetect "
                    "(names normalised, comments and formatting ignored, the release's starter "
                    "code left out). Writes similarity.html (most similar pairs side by side) "
                    "and similarity.csv (every pair). Similarity is a lead for a person to "
                    "look at, not a verdict.")
    p.add_argument("submissions", help="folder or .zip of submissions (any layout autograde takes)")
    p.add_argument("--assignment", action="append", metavar="STEM",
                   help="only this notebook (repeatable; default: all)")
    p.add_argument("--threshold", type=float, default=THRESHOLD,
                   help=f"flag pairs at or above this similarity, 0-1 (default {THRESHOLD})")
    p.add_argument("--top", type=int, default=TOP,
                   help=f"pairs shown per notebook besides the flagged ones (default {TOP})")
    p.add_argument("--out", metavar="DIR",
                   help="where the report goes (default build/course/reports)")
    p.add_argument("--release", default=str(RELEASE), metavar="DIR",
                   help="the release the students started from (default notebooks/)")
    p.set_defaults(func=_similarity)

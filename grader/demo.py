"""``python -m grader demo``: release the notebooks and grade the bundled example class.

1. regenerate ``notebooks/`` from ``solutions/`` (nbgrader ``generate_assignment``);
2. build the example class (:mod:`grader.authoring.example_class`) in ``build/demo/example_class``:
   a perfect student, one with typical mistakes, an empty submission, a notebook
   that is not valid JSON, and a student whose id has a space and unicode;
3. autograde it with :mod:`grader.trusted.autograde` into its own course folder
   ``build/demo/`` (so a real class in ``build/course/`` is never mixed with it);
4. print the grade table and where the grades CSV, the feedback and the summary are.
"""
from __future__ import annotations

import time

from .authoring import example_class
from .authoring import release as rel
from .settings import REPO
from .trusted.autograde import autograde
from .trusted.course import Course
from .trusted.report import format_table
from .trusted.sandbox import Limits


def demo_course() -> Course:
    return Course(root=REPO, source=REPO / "solutions", build=REPO / "build" / "demo")


def run(workers: int | None = None, limits: Limits | None = None, force: bool = False,
        skip_release: bool = False) -> int:
    t0 = time.monotonic()
    course = demo_course()
    stems = course.assignments()
    if not stems:
        print("no assignments in solutions/ yet: nothing to demonstrate")
        return 1
    if not skip_release:
        print(f"== 1. release: {len(stems)} notebook(s) -> notebooks/")
        rel.release(stems)
        print(f"   ({time.monotonic() - t0:.0f} s)")
    t1 = time.monotonic()
    print("== 2. example class -> build/demo/example_class")
    dest = course.build / "example_class"
    for note in example_class.build(dest, course=course, assignments=stems):
        print(f"   note: {note}")
    for student, what in example_class.STUDENTS.items():
        print(f"   {student:<17} {what}")
    print(f"   ({time.monotonic() - t1:.0f} s)")
    t2 = time.monotonic()
    print("== 3. autograde (nbgrader, in parallel, sandboxed kernels)")
    rep = autograde(dest, course=course, limits=limits or Limits(cell_timeout=300),
                    workers=workers, force=force)
    print(f"   ({time.monotonic() - t2:.0f} s)")
    print("== 4. grades (points per notebook)")
    print(format_table(rep))
    print()
    for (student, assignment), notes in sorted(rep.notes.items()):
        for note in notes:
            print(f"   {student} / {assignment}: {note}")
    print()
    print(f"grades CSV        {rep.files['grades'].relative_to(REPO)}")
    print(f"per-test CSV      {rep.files['tests'].relative_to(REPO)}")
    print(f"summary           {rep.files['summary'].relative_to(REPO)} (+ histogram.png)")
    print(f"HTML feedback     {rep.files['feedback'].relative_to(REPO)}/<student>/<notebook>/")
    print(f"gradebook         {rep.files['gradebook'].relative_to(REPO)} "
          "(browse it: make formgrader COURSE_BUILD=build/demo)")
    print(f"mistakes          {rep.files['mistakes'].relative_to(REPO)} (+ mistakes.png)")
    print(f"regrade report    {rep.files['regrade'].relative_to(REPO)}")
    print(f"done in {time.monotonic() - t0:.0f} s")
    for w in rep.warnings:
        print(f"WARNING: {w}")
    return 0

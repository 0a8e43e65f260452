"""Where the course lives and how its tools are started: shared by every part of ``grader``.

The nbgrader settings themselves (which folders are which step, the
preprocessors, the limits) are built by :func:`grader.trusted.course.nbgrader_config`
so that ``nbgrader_config.py``, the grading workers and the command line agree.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
RELEASE = REPO / "notebooks"
COURSE_ID = "cnn-course"


def tool_env() -> dict:
    """The environment for nbgrader subprocesses: this interpreter's ``bin`` first on PATH.

    nbgrader runs helper programs (``alembic``) by name, so they must be found in
    the same environment even when it is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env

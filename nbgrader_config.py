"""nbgrader configuration for this course (read by every `nbgrader` command run here).

The course keeps nbgrader's standard pipeline but renames two folders:
``solutions/`` is nbgrader's *source* step (the instructor notebooks) and
``notebooks/`` is its *release* step (what students get). Everything nbgrader
writes while grading (gradebook, submitted/, autograded/, feedback/) goes under
``build/course/`` (or the folder in the environment variable ``CNN_COURSE_BUILD``,
e.g. ``build/demo`` for ``make formgrader COURSE_BUILD=build/demo``), so that the
repository itself stays clean. The settings themselves are
:func:`grader.trusted.course.base_config` (one place for all of them).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
# Another graded course folder: make formgrader COURSE_BUILD=build/demo sets CNN_COURSE_BUILD.
BUILD = (os.path.abspath(os.environ["CNN_COURSE_BUILD"]) if os.environ.get("CNN_COURSE_BUILD")
         else os.path.join("build", "course"))
os.makedirs(os.path.join(HERE, BUILD), exist_ok=True)

from grader.trusted.course import base_config  # noqa: E402

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)
c.merge(base_config(HERE, build=BUILD))

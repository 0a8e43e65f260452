"""nbgrader configuration for this course (read by every `nbgrader` command run here).

The course keeps nbgrader's standard pipeline but renames two folders:
``solutions/`` is nbgrader's *source* step (the instructor notebooks) and
``notebooks/`` is its *release* step (what students get). Everything nbgrader
writes while grading (gradebook, submitted/, autograded/, feedback/) goes under
``build/course/`` so that the repository itself stays clean. The settings
themselves are :func:`grader.trusted.course.base_config` (one place for all of them).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
os.makedirs(os.path.join(HERE, "build", "course"), exist_ok=True)

from grader.trusted.course import base_config  # noqa: E402

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)
c.merge(base_config(HERE))

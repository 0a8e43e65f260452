"""nbgrader configuration for this course (read by every `nbgrader` command run here).

The course keeps nbgrader's standard pipeline but renames two folders:
``solutions/`` is nbgrader's *source* step (the instructor notebooks) and
``notebooks/`` is its *release* step (what students get). Everything nbgrader
writes while grading (gradebook, submitted/, autograded/, feedback/) goes under
``build/course/`` (or the folder in the environment variable ``CNN_COURSE_BUILD``,
e.g. ``build/demo``), so that the repository itself stays clean.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# Another graded course folder (make formgrader COURSE_BUILD=build/demo sets this).
BUILD = os.path.abspath(os.environ.get("CNN_COURSE_BUILD") or os.path.join(HERE, "build", "course"))

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join(BUILD, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(BUILD, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(BUILD, "feedback")
c.CourseDirectory.solution_directory = os.path.join(BUILD, "solution")
os.makedirs(BUILD, exist_ok=True)
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(BUILD, "gradebook.db")
# Only notebooks and the small files they read travel with an assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: each cell gets at most this many seconds before it is interrupted.
c.Execute.timeout = 120
# The release keeps no outputs and no volatile metadata.
c.ClearOutput.enabled = True

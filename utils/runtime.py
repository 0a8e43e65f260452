"""Facts about how a notebook is being run (interactive, or under the autograder)."""
import os

GRADING_ENV = "CNN_COURSE_GRADING"


def is_grading() -> bool:
    """True when the course's autograder runs this kernel (it sets ``CNN_COURSE_GRADING=1``).

    Notebooks use it to shrink expensive demonstrations (e.g. train on a small
    subset for one epoch) so a class can be graded quickly; graded tests never
    depend on it.
    """
    return os.environ.get(GRADING_ENV, "") not in ("", "0", "false", "False")

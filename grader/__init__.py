"""Instructor side of the course: nbgrader configuration helpers, the
``python -m grader`` command line, and the references that hidden tests use."""

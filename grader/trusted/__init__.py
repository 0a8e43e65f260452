"""The trusted side of grading: everything that decides, records or reports a grade.

Nothing here runs inside a student's kernel. Verdicts are decided in this
process from values the student's functions returned (see :mod:`grader.trusted.verdicts`).
"""

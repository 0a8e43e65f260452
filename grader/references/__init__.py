"""Hidden-test helpers, one module per notebook topic.

Hidden test cells (between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``
in ``solutions/``) import these. They compare a student's function with
references held here, on random shapes, batches and channels the student has not
seen, and name the likely mistake through :mod:`utils.checks.core`.
"""

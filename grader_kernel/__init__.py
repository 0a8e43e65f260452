"""What runs inside a student's kernel while grading: small, public, and never trusted.

Nothing in this package decides a grade. The grader's own process asks the
kernel to call the student's functions on inputs it chose (:mod:`grader_kernel.collector`),
and every value crosses the process boundary in the plain encoding of
:mod:`grader_kernel.wire`, so what comes back is data, never an object that
could pretend to be right. The launcher (:mod:`grader_kernel.launcher`) starts
the kernel inside its sandbox.
"""

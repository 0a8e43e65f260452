"""Random generators for hidden tests: fixed seeds in the kernel, per-student seeds when grading.

Hidden tests never call ``np.random.default_rng`` themselves; they ask
:func:`rng` for a generator with their own base seed. Run inside a notebook (plain
``nbgrader autograde``, ``make test``) that is simply ``default_rng(base)``, so
results are reproducible. When ``python -m grader autograde`` runs a test cell in
its own process, :func:`for_test` is active and the seed is made from the course
secret, the assignment, the test's grade id, the student id and the base seed
(HMAC-SHA256): the same on every regrade, different for every student, and
unknown to them, because the secret never reaches a student's kernel.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac

import numpy as np

_CONTEXT: contextvars.ContextVar[tuple[bytes, str] | None] = contextvars.ContextVar(
    "cnn_course_seed_context", default=None)


def derived_seed(secret: bytes, label: str, base: int) -> int:
    """A 256-bit seed from the secret, a label (assignment, test, student) and a base seed."""
    digest = hmac.new(secret, f"{label}\x1f{int(base)}".encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest, "big")


def seed(base: int) -> int:
    """The seed a hidden test with base seed ``base`` uses now (see the module docstring)."""
    ctx = _CONTEXT.get()
    if ctx is None:
        return int(base)
    secret, label = ctx
    return derived_seed(secret, label, base)


def rng(base: int) -> np.random.Generator:
    """``np.random.default_rng`` for hidden test inputs; per student while grading."""
    return np.random.default_rng(seed(base))


def small_seed(base: int) -> int:
    """The seed folded into 32 bits, for APIs that take a small int (``keras.utils.set_random_seed``)."""
    return seed(base) % (2 ** 32)


@contextlib.contextmanager
def for_test(secret: bytes, assignment: str, grade_id: str, student: str):
    """Make :func:`rng` per-student while one test cell runs in the grader's process."""
    if not secret:
        raise ValueError("the course secret is empty; hidden inputs would be predictable")
    token = _CONTEXT.set((bytes(secret), f"{assignment}\x1f{grade_id}\x1f{student}"))
    try:
        yield
    finally:
        _CONTEXT.reset(token)

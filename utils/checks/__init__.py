"""Visible test checks, one module per notebook topic, built on :mod:`utils.checks.core`."""
from .core import CheckFailure  # noqa: F401  (re-exported for `except CheckFailure`)

"""Visible test checks, one module per notebook topic, built on :mod:`utils.checks.core`."""
from .core import CheckFailure  # noqa: F401  (re-exported for `except CheckFailure`)
from .unwritten import install as _install_unwritten_hint

# In a notebook: a test that reads a constant whose exercise is not written yet says so
# (instead of a bare NameError); see utils/checks/unwritten.py. Outside IPython: nothing.
_install_unwritten_hint()

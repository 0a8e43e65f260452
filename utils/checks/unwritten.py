"""Say "not written yet" when a test cell reads a name that an unfinished exercise defines.

A test of a *function* that is still a stub already says "`conv2d_valid` is not
written yet" (:func:`utils.checks.core.call` catches the stub's
``NotImplementedError``). A test of a *constant* cannot: the answer cell that
should define ``VERTICAL_EDGE`` stopped at ``raise NotImplementedError()``, so the
test cell fails with ``NameError: name 'VERTICAL_EDGE' is not defined`` before any
check runs. In JupyterLab and in nbgrader's *Validate* dialog that looked like a
crash of the course.

:func:`install` (called when :mod:`utils.checks` is imported, in the notebook's
setup cell) gives IPython a handler for exactly that case: a ``NameError`` raised
by the cell's own top-level code, for a name that an earlier cell still raising
``NotImplementedError`` mentions, or that no cell run so far defines. The error is
still a ``NameError`` (so nbgrader still scores the test 0 and a notebook run still
stops there), with a message that names the exercise to write. Any other error,
including a ``NameError`` inside a student's own function, is shown as usual.
"""
from __future__ import annotations

import re
import sys

STUB = "raise NotImplementedError"
_INSTALLED_FLAG = "_cnn_unwritten_handler"


def _history(shell) -> list[str]:
    try:
        return [c for c in shell.history_manager.input_hist_raw if c]
    except Exception:  # noqa: BLE001 - no history: no hint, the usual traceback
        return []


def _defines(source: str, name: str) -> bool:
    return re.search(rf"^\s*(?:def\s+{name}\b|class\s+{name}\b|{name}\s*(?::[^=]*)?=[^=])",
                     source, re.M) is not None


def exercise_for(name: str, cells: list[str]) -> str | None:
    """The first line of the latest earlier cell that mentions ``name`` and is still a stub."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    for source in reversed(cells):
        if STUB in source and word.search(source):
            first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
            return first[:100]
    return None


def message(name: str, cells: list[str]) -> str | None:
    """The friendly text for ``NameError: name`` after ``cells`` ran, or None (no hint).

    Lines stay under 80 characters: nbgrader's Validate cuts longer ones.
    """
    exercise = exercise_for(name, cells)
    if exercise is not None:
        return (f"`{name}` is not written yet: its exercise still raises NotImplementedError.\n"
                f"That exercise's cell starts with:\n"
                f"    {exercise if len(exercise) <= 75 else exercise[:74] + '…'}\n"
                f"Write your answer there in place of `raise NotImplementedError()`,\n"
                f"run that cell, then run this test again.")
    if any(_defines(c, name) for c in cells):
        return None  # defined once and deleted since: the plain error says it best
    return (f"`{name}` is not defined yet: the exercise that defines it is not written\n"
            f"yet, or its cell has not been run. Write it (its answer cell is above\n"
            f"this one), run that cell, then run this test again.")


def _at_top_level(tb) -> bool:
    """True when the error was raised by the cell's own code, not inside a function it called."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    if not frames:
        return False
    last = frames[-1]
    return last.f_code.co_name == "<module>"


def _handler(shell, etype, value, tb, tb_offset=None):
    name = getattr(value, "name", None)
    text = None
    if name and _at_top_level(tb):
        cells = _history(shell)
        text = message(name, cells[:-1] if cells else cells)
    if text is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    exercise = exercise_for(name, _history(shell)[:-1])
    summary = (f"`{name}` is not written yet (its exercise's cell starts with: {exercise})"
               if exercise else text.splitlines()[0])
    friendly = NameError(f"name '{name}' is not defined: {summary}")
    friendly.name = name
    lines = ["\x1b[1;31m\u2718 Not written yet\x1b[0m (NameError)"] + text.splitlines()
    shell._showtraceback(NameError, friendly, lines)
    return None


def install() -> bool:
    """Register the handler in the running IPython (once); False outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001
        return False
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if getattr(shell, _INSTALLED_FLAG, False):
        return True
    if getattr(shell, "custom_exceptions", ()):
        return False  # someone else's handler: leave it alone
    shell.set_custom_exc((NameError,), _handler)
    setattr(shell, _INSTALLED_FLAG, True)
    return True

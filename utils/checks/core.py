"""The comparison engine behind every test cell of the course.

A check either prints one short line that starts with a tick, or raises
:class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a failed
test) whose message says, in this order:

1. what was checked, on which small case (the inputs, when they are small);
2. the first problem found: wrong type, wrong shape, wrong dtype, or wrong
   values (first mismatching index, expected vs actual there, largest error);
3. the likely mistake, when the wrong answer matches a known wrong answer
   (``mistakes``) or a generic pattern (an output off by one in size).

The notebook-specific checks in ``utils/checks/<topic>.py`` and the hidden
tests in ``grader/references/<topic>.py`` build on these functions; they never hold
the solution of a graded function, only inputs, expected outputs, and the
outputs of typical mistakes.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import sys
import traceback
import warnings
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

TICK = "\u2714"  # heavy check mark
SMALL = 64  # arrays with at most this many elements are printed in full
FLOAT32_EPS = float(np.finfo(np.float32).eps)


_OUR_CODE = (str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2] / "grader"))


class CheckFailure(AssertionError):
    """A test found a wrong answer; the message explains what and why.

    In Jupyter, IPython shows the message itself instead of a traceback through
    the course's check modules (``_render_traceback_``); when the student's own
    code raised, the frames of *their* code are shown under it.
    """

    def _render_traceback_(self) -> list[str]:
        lines = [f"\x1b[1;31m\u2718 Test failed\x1b[0m ({type(self).__name__})"]
        lines += str(self).splitlines()
        cause = self.__cause__
        if cause is not None and not isinstance(cause, CheckFailure):
            # an error from a call the grader made into the kernel carries the frames
            # of the student's code as (file, line, function, text)
            remote = getattr(cause, "_cnn_student_frames", None)
            frames = ([traceback.FrameSummary(f, n, name, line=text) for f, n, name, text in remote]
                      if remote else
                      [f for f in traceback.extract_tb(cause.__traceback__)
                       if not f.filename.startswith(_OUR_CODE)])
            if frames:
                lines.append("Where it happened in your code:")
                lines += [line.rstrip("\n") for line in traceback.format_list(frames)]
        return lines


def passed(what: str) -> None:
    """Print the one short line a passing check shows."""
    print(f"{TICK} {what}")


def fail(title: str, *details: str, hint: str | None = None) -> None:
    """Raise a :class:`CheckFailure` built from a title, detail lines and a hint."""
    lines = [title]
    lines += [d for d in details if d]
    if hint:
        lines.append(f"Likely mistake: {hint}")
    raise CheckFailure("\n".join(lines))


# ---------------------------------------------------------------- formatting
def fmt_array(a: Any, max_elements: int = SMALL) -> str:
    """Format an array for a message: in full when small, else shape and a corner."""
    arr = np.asarray(a)
    if arr.size <= max_elements:
        body = np.array2string(arr, precision=4, suppress_small=True, separator=", ",
                               max_line_width=100)
    else:
        corner = arr[tuple(slice(0, 3) for _ in range(arr.ndim))]
        body = (f"<array of shape {arr.shape}; top-left corner:>\n"
                + np.array2string(corner, precision=4, suppress_small=True,
                                  separator=", ", max_line_width=100))
    return body


def fmt_value(v: Any) -> str:
    """Format any input or output value briefly (arrays by shape when large)."""
    if isinstance(v, np.ndarray):
        if v.size <= 16 and v.ndim <= 2:
            return fmt_array(v).replace("\n", "")
        return f"array of shape {v.shape}, dtype {v.dtype}"
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_case(inputs: Mapping[str, Any] | None) -> str:
    """One line per input, e.g. ``image: array of shape (6, 6), dtype int64``."""
    if not inputs:
        return ""
    return "\n".join(f"  {k} = {fmt_value(v)}" for k, v in inputs.items())


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


# ---------------------------------------------------------------- calling
def _copy_input(value: Any) -> Any:
    """A private copy of an input, so a student's function cannot change the caller's."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (dict, list, tuple)):
        try:
            return copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - uncopyable contents are passed as they are
            return value
    return value


def named_inputs(fn: Callable, args: tuple, kwargs: dict) -> dict:
    """``{parameter name: value}`` for a call, falling back to ``arg0, arg1 ...``."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        return dict(bound.arguments)
    except (TypeError, ValueError):
        inputs = {f"arg{i}": a for i, a in enumerate(args)}
        inputs.update(kwargs)
        return inputs


#: notes already printed, per student function (a note is shown once, not on every call)
_NOTED: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def _noted(owner: Any) -> set[str]:
    if owner is None:
        return set()
    try:
        return _NOTED.setdefault(owner, set())
    except TypeError:  # not weak-referenceable or not hashable: no memory between calls
        return set()


@contextlib.contextmanager
def warnings_as_notes(owner: Any = None, what: str = "your code"):
    """Run a block that runs the student's code; show its warnings and stderr as notes on stdout.

    Plain ``nbgrader autograde`` scores 0 any test cell that writes to stderr, and
    Python prints warnings there (Keras warns, for example, about
    ``input_shape=`` in ``model.add(...)`` style). A warning is not a mistake, so
    inside this block every warning is recorded and printed afterwards as one
    short ``note:`` line on stdout (once per ``owner``, e.g. the student's
    function), and whatever the code writes to ``sys.stderr`` goes to stdout.
    """
    seen = _noted(owner)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stderr(sys.stdout):
                yield
        finally:
            for w in caught:
                text = " ".join(f"{w.category.__name__}: {w.message}".split())
                text = text if len(text) <= 300 else text[:297] + "..."
                if text not in seen:
                    seen.add(text)
                    print(f"note: {what} raised a warning (it costs no points): {text}")


def call(fn: Callable, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call a student's function on *copies* of its inputs and return the result.

    Turns the errors a student meets most into a message that says what to do:
    a stub still raising ``NotImplementedError``, an exception inside the
    function (shown with the inputs that caused it), and a mutated input (the
    copies are compared with the originals afterwards; the originals stay intact).
    Warnings the function raises, and what it writes to stderr, are printed as
    notes on stdout (:func:`warnings_as_notes`): they never fail a test.
    """
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        fail(f"`{name}` is not a function: it is {type(fn).__name__} {fmt_value(fn)}.",
             hint="run the cell that defines it, and keep its name and signature.")
    c_args = tuple(_copy_input(a) for a in args)
    c_kwargs = {k: _copy_input(v) for k, v in kwargs.items()}
    try:
        with warnings_as_notes(fn):
            out = fn(*c_args, **c_kwargs)
    except NotImplementedError:
        raise CheckFailure(
            f"`{name}` is not written yet: it still raises NotImplementedError.\n"
            "Replace `raise NotImplementedError()` in its cell with your code, "
            "run that cell, then run this test again.") from None
    except CheckFailure:
        raise
    except Exception as err:  # noqa: BLE001 - any student error becomes a message
        raise CheckFailure(
            f"`{name}` raised {type(err).__name__}: {err}\n"
            f"It was called with:\n{describe_case(named_inputs(fn, args, kwargs))}") from err
    _check_unchanged(name, (args, kwargs), (c_args, c_kwargs))
    return out


def source_of(fn: Callable) -> str | None:
    """The source code of the whole cell that defines a student's function, or None.

    While grading, the grader reads it from the submitted notebook itself
    (``fn.__cnn_source__``). In a notebook IPython keeps each cell's text in
    ``linecache`` under the name its code objects carry, so the same whole cell is
    found there (``inspect.getsource`` alone would give the function without the
    helpers defined beside it). A test uses it to judge *how* a function is
    written, e.g. that it has no Python loop over the output positions.
    """
    import ast
    import linecache

    source = getattr(fn, "__cnn_source__", None)
    if source is not None:
        return source
    code = getattr(fn, "__code__", None)
    if code is not None:
        text = "".join(linecache.getlines(code.co_filename))
        if text.strip():
            try:
                ast.parse(text)
                return text
            except SyntaxError:
                pass
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def _check_unchanged(name: str, before: Any, after: Any) -> None:
    b_args, b_kwargs = before
    a_args, a_kwargs = after
    pairs = list(zip(b_args, a_args)) + [(b_kwargs[k], a_kwargs[k]) for k in b_kwargs]
    for i, (b, a) in enumerate(pairs):
        if isinstance(b, np.ndarray) and not np.array_equal(b, a, equal_nan=True):
            fail(f"`{name}` changed its input argument #{i + 1} in place.",
                 "Inputs must be left as they were: the caller may still need them.",
                 hint="build the result in a new array (`out = np.zeros(...)`, or work on "
                      "`x = x.copy()`) instead of assigning into the input.")


# ---------------------------------------------------------------- comparing
def rounding_atol(terms: int, scale: float, dtype: Any = None) -> float:
    """The absolute error a *correct* sum of ``terms`` products may carry.

    Any float dtype is fair, so a student may sum in float32 even when the inputs
    are float64. Each of the ``terms`` additions then rounds by at most one unit
    in the last place of the running sum, whose size is bounded by
    ``terms * scale`` (``scale``: the largest absolute value of one product, e.g.
    ``max|image| * max|kernel|``). The bound used is ``4 * terms * eps * scale``
    with float32's eps (or the result's own, when coarser): far below what any
    real mistake changes, and above what float32 rounding reaches.
    """
    eps = FLOAT32_EPS
    if dtype is not None and np.issubdtype(np.dtype(dtype), np.floating):
        eps = max(eps, float(np.finfo(dtype).eps))
    return 4.0 * max(int(terms), 1) * eps * float(scale)


def as_array(actual: Any, name: str) -> np.ndarray:
    """Check that a result is array-like and numeric; return it as an ndarray."""
    if actual is None:
        fail(f"`{name}` returned None.", hint="the function is missing a `return` statement.")
    if isinstance(actual, tuple) and len(actual) == 2 and isinstance(actual[1], tuple):
        fail(f"`{name}` returned a tuple, expected one array.",
             hint="return only the array, not (array, cache).")
    try:
        arr = np.asarray(actual)
    except Exception:  # noqa: BLE001
        fail(f"`{name}` returned {type(actual).__name__}, which is not an array.")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == bool):
        fail(f"`{name}` returned {type(actual).__name__} with dtype {arr.dtype}, "
             "expected a numeric NumPy array.")
    return arr


def check_shape(actual: np.ndarray, expected_shape: Sequence[int], name: str,
                inputs: Mapping[str, Any] | None = None,
                shape_mistakes: Mapping[str, Sequence[int]] | None = None,
                formula: str | None = None) -> None:
    """Fail with a shape message (and a likely cause) unless shapes agree."""
    expected_shape = tuple(int(s) for s in expected_shape)
    if tuple(actual.shape) == expected_shape:
        return
    hint = None
    for mistake, shape in (shape_mistakes or {}).items():
        if tuple(shape) == tuple(actual.shape):
            hint = mistake
            break
    if hint is None and len(actual.shape) == len(expected_shape):
        diffs = [a - e for a, e in zip(actual.shape, expected_shape)]
        if any(diffs) and all(abs(d) <= 1 for d in diffs):
            hint = ("off by one in the output size"
                    + (f": it should be {formula}" if formula else "")
                    + " (remember the `+ 1`, and that range(n) stops before n).")
    if hint is None and len(actual.shape) != len(expected_shape):
        hint = (f"the output has {actual.ndim} axes, expected {len(expected_shape)}; "
                "check which axes you loop over and that no axis was dropped or added.")
    fail(f"`{name}` returned the wrong shape.",
         f"Expected shape: {expected_shape}",
         f"Your shape:     {tuple(actual.shape)}",
         f"Inputs:\n{describe_case(inputs)}" if inputs else "",
         f"Formula: {formula}" if formula else "",
         hint=hint)


def check_array(actual: Any, expected: Any, name: str, *,
                inputs: Mapping[str, Any] | None = None,
                mistakes: Mapping[str, Any] | None = None,
                shape_mistakes: Mapping[str, Sequence[int]] | None = None,
                formula: str | None = None,
                rtol: float = 1e-5, atol: float = 1e-6,
                require_float: bool = False,
                case: str | None = None,
                terms: int | None = None, scale: float | None = None) -> np.ndarray:
    """Compare a student's array with the expected one and explain any difference.

    Parameters
    ----------
    actual, expected : array-like
        The student's result and the right answer (any shape).
    name : str
        Function name shown in messages, e.g. ``"conv2d_valid"``.
    inputs : dict, optional
        The inputs of this case, printed in the message (small ones in full).
    mistakes : dict, optional
        ``{description of a mistake: the output that mistake produces}``. When
        the student's result equals one of them, the message names it.
    shape_mistakes : dict, optional
        ``{description: the shape that mistake produces}``, used on wrong shapes.
    formula : str, optional
        The output-size formula, shown on a wrong shape.
    require_float : bool
        Fail when the result has an integer dtype (e.g. the output array was
        created with the input's int dtype, which truncates).
    case : str, optional
        A short label for the case, e.g. ``"the 6x6 worked example"``.
    terms, scale : optional
        Each expected value is a sum of ``terms`` products of at most ``scale`` in
        size: ``atol`` grows to :func:`rounding_atol` so that a correct result
        computed in float32 passes (``scale`` defaults to the largest expected value).

    Returns the student's result as an ndarray, so callers can check more.
    """
    arr = as_array(actual, name)
    exp = np.asarray(expected)
    if terms is not None:
        if scale is None:
            scale = max(1.0, float(np.abs(exp.astype(np.float64)).max(initial=0.0)))
        atol = max(atol, rounding_atol(terms, scale, arr.dtype))
    where = f" on {case}" if case else ""
    check_shape(arr, exp.shape, name, inputs, shape_mistakes, formula)
    if require_float and not np.issubdtype(arr.dtype, np.floating):
        fail(f"`{name}` returned dtype {arr.dtype}{where}; expected a float array.",
             f"Inputs:\n{describe_case(inputs)}" if inputs else "",
             hint="create the output with a float dtype (e.g. `np.zeros(shape)`, "
                  "which is float64) so fractional results are not truncated.")
    arr_f = arr.astype(np.float64)
    exp_f = exp.astype(np.float64)
    close = np.isclose(arr_f, exp_f, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return arr
    bad = np.argwhere(~close)
    first = tuple(int(i) for i in bad[0]) if arr.ndim else ()
    err = np.abs(arr_f - exp_f)
    err = np.where(np.isnan(err), np.inf, err)
    details = [
        f"`{name}` returned wrong values{where}.",
        f"Inputs:\n{describe_case(inputs)}" if inputs else "",
        f"First mismatch at index {first}: expected {exp_f[first]:.6g}, got {arr_f[first]:.6g}.",
        f"{len(bad)} of {arr.size} values differ; largest error {float(err.max()):.4g}.",
    ]
    if exp.size <= SMALL:
        details.append("Expected:\n" + _indent(fmt_array(exp_f)))
        details.append("Yours:\n" + _indent(fmt_array(arr_f)))
    hint = diagnose(arr_f, mistakes, rtol=rtol, atol=atol)
    fail(details[0], *details[1:], hint=hint)
    return arr  # pragma: no cover - fail() always raises


def diagnose(actual: np.ndarray, mistakes: Mapping[str, Any] | None,
             rtol: float = 1e-5, atol: float = 1e-6) -> str | None:
    """Return the description of the first known mistake whose output equals ``actual``."""
    for description, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == actual.shape and np.allclose(actual, wrong, rtol=rtol, atol=atol,
                                                       equal_nan=True):
            return description
    return None


def group_alternatives(candidates: Mapping[str, Any]) -> dict:
    """Merge mistakes that give the same result: ``{"A\n  or: B": result}``.

    ``candidates`` maps a description to a shape (tuple) or an array; when two
    mistakes cannot be told apart from their output, the message names both.
    """
    groups: list[tuple[Any, list[str]]] = []
    for description, result in candidates.items():
        for seen, names in groups:
            same = (seen == result if isinstance(result, tuple) else
                    np.shape(seen) == np.shape(result) and np.allclose(seen, result))
            if same:
                names.append(description)
                break
        else:
            groups.append((result, [description]))
    return {"\n  or: ".join(names): result for result, names in groups}


def check_scalar(actual: Any, expected: float, name: str, *,
                 inputs: Mapping[str, Any] | None = None,
                 mistakes: Mapping[str, float] | None = None,
                 rtol: float = 1e-6, atol: float = 1e-8,
                 integer: bool = False) -> None:
    """Compare a number (an ``int`` when ``integer``) and name a known mistake."""
    if actual is None:
        fail(f"`{name}` returned None.", hint="the function is missing a `return` statement.")
    arr = np.asarray(actual)
    if arr.shape != ():
        fail(f"`{name}` returned {type(actual).__name__} of shape {arr.shape}; "
             "expected a single number.",
             f"Inputs:\n{describe_case(inputs)}" if inputs else "",
             hint="reduce with `np.sum(...)` over all axes, or convert with `float(...)`.")
    if not np.issubdtype(arr.dtype, np.number):
        fail(f"`{name}` returned {fmt_value(actual)}, which is not a number.")
    if integer:
        if not np.issubdtype(arr.dtype, np.integer) and not float(actual).is_integer():
            fail(f"`{name}` returned {actual!r}; expected a whole number.",
                 f"Inputs:\n{describe_case(inputs)}" if inputs else "",
                 hint="use floor division `//` (or `int(...)`) in the size formula.")
    if np.isclose(float(actual), float(expected), rtol=rtol, atol=atol):
        if integer and not isinstance(actual, (int, np.integer)):
            fail(f"`{name}` returned {actual!r} ({type(actual).__name__}); expected an int.",
                 hint="wrap the result in `int(...)` or use `//` so the type is int.")
        return
    hint = None
    for description, wrong in (mistakes or {}).items():
        if np.isclose(float(actual), float(wrong), rtol=rtol, atol=atol):
            hint = description
            break
    fail(f"`{name}` returned the wrong value.",
         f"Inputs:\n{describe_case(inputs)}" if inputs else "",
         f"Expected: {expected!r}",
         f"Yours:    {actual!r}",
         hint=hint)


def check_equal(actual: Any, expected: Any, name: str, *,
                inputs: Mapping[str, Any] | None = None,
                mistakes: Mapping[str, Any] | None = None,
                what: str = "value") -> None:
    """Exact comparison for tuples, ints and other plain values."""
    if isinstance(expected, tuple) and isinstance(actual, (list, np.ndarray)) \
            and not isinstance(actual, tuple):
        same = len(actual) == len(expected) and all(a == e for a, e in zip(actual, expected))
        fail(f"`{name}` returned a {type(actual).__name__} {fmt_value(actual)}; expected a tuple.",
             f"Expected: {expected!r}",
             hint="return `tuple(...)` (a tuple, like Keras shapes), not a list."
             if same else None)
    if actual == expected and type(actual) is type(expected):
        return
    if actual == expected:
        if isinstance(expected, int) and not isinstance(actual, (int, np.integer)):
            fail(f"`{name}` returned {actual!r} of type {type(actual).__name__}; expected an int.",
                 hint="use `//` or `int(...)` so the result is an integer.")
        return
    hint = None
    for description, wrong in (mistakes or {}).items():
        if actual == wrong:
            hint = description
            break
    fail(f"`{name}` returned the wrong {what}.",
         f"Inputs:\n{describe_case(inputs)}" if inputs else "",
         f"Expected: {expected!r}",
         f"Yours:    {actual!r}",
         hint=hint)


def check_raises(fn: Callable, exc_type: type, *args: Any, name: str | None = None,
                 why: str = "", **kwargs: Any) -> None:
    """Fail unless ``fn(*args, **kwargs)`` raises ``exc_type``."""
    name = name or getattr(fn, "__name__", "your function")
    inputs = named_inputs(fn, args, kwargs)
    try:
        with warnings_as_notes(fn):
            out = fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(f"`{name}` is not written yet: it still raises "
                           "NotImplementedError.") from None
    except exc_type:
        return
    except Exception as err:  # noqa: BLE001
        fail(f"`{name}` raised {type(err).__name__}: {err}; expected {exc_type.__name__}.",
             f"Inputs:\n{describe_case(inputs)}", hint=why or None)
    fail(f"`{name}` returned {fmt_value(out)} instead of raising {exc_type.__name__}.",
         f"Inputs:\n{describe_case(inputs)}", hint=why or None)


def check_cases(label: str, cases: Iterable[Callable[[], None]]) -> None:
    """Run several zero-argument checks and print one tick line when all pass."""
    n = 0
    for run_case in cases:
        run_case()
        n += 1
    passed(f"{label} ({n} case{'s' if n != 1 else ''})")

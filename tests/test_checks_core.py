"""The check engine's messages: shape first, expected vs actual, first mismatch, likely mistake."""
from pathlib import Path

import numpy as np
import pytest

from utils.checks import core
from utils.checks.core import CheckFailure


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_passing_array_prints_one_tick_line(capsys):
    core.check_array(np.eye(2), np.eye(2), "f")
    core.passed("f works")
    assert capsys.readouterr().out == f"{core.TICK} f works\n"


def test_none_names_missing_return():
    msg = message(core.check_array, None, np.eye(2), "f")
    assert "returned None" in msg and "return" in msg


def test_wrong_shape_reports_both_shapes_and_off_by_one():
    msg = message(core.check_array, np.zeros((5, 5)), np.zeros((4, 4)), "conv",
                  formula="H - f + 1")
    assert "Expected shape: (4, 4)" in msg and "Your shape:     (5, 5)" in msg
    assert "off by one" in msg and "H - f + 1" in msg


def test_wrong_shape_uses_named_shape_mistake():
    msg = message(core.check_array, np.zeros((3, 8, 8, 4)), np.zeros((1, 8, 8, 2)), "pad",
                  shape_mistakes={"padding applied to the batch axis": (3, 8, 8, 4)})
    assert "Likely mistake: padding applied to the batch axis" in msg


def test_wrong_values_show_first_mismatch_and_arrays():
    expected = np.arange(6.0).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] = 99
    msg = message(core.check_array, actual, expected, "f", case="a 2x3 case",
                  inputs={"x": np.ones((2, 2))})
    assert "on a 2x3 case" in msg
    assert "First mismatch at index (1, 2): expected 5, got 99" in msg
    assert "1 of 6 values differ" in msg and "Expected:" in msg and "Yours:" in msg
    assert "x = [[1., 1.]," in msg


def test_known_mistake_is_named():
    expected = np.array([[1.0, 2.0]])
    flipped = np.array([[2.0, 1.0]])
    msg = message(core.check_array, flipped, expected, "conv",
                  mistakes={"the kernel is flipped": flipped})
    assert "Likely mistake: the kernel is flipped" in msg


def test_integer_output_is_flagged_when_float_required():
    msg = message(core.check_array, np.array([1, 2]), np.array([1.0, 2.0]), "f",
                  require_float=True)
    assert "dtype int" in msg and "float" in msg


def test_float32_and_views_pass():
    base = np.arange(12.0).reshape(3, 4)
    core.check_array(base.astype(np.float32)[:, 1:], base[:, 1:], "f")


def test_call_reports_stub_and_exceptions():
    def stub(x):
        raise NotImplementedError()

    def broken(x):
        return x[10]

    assert "not written yet" in message(core.call, stub, np.ones(3))
    msg = message(core.call, broken, np.ones(3))
    assert "raised IndexError" in msg and "array of shape" not in msg and "[1., 1., 1.]" in msg


def test_call_detects_mutated_input():
    def relu_in_place(z):
        z[z < 0] = 0
        return z

    msg = message(core.call, relu_in_place, np.array([-1.0, 2.0]), name="relu")
    assert "changed its input" in msg and "new array" in msg


def test_call_returns_result_and_leaves_inputs():
    x = np.array([1.0, -2.0])
    out = core.call(lambda a: np.maximum(a, 0), x)
    assert out.tolist() == [1.0, 0.0] and x.tolist() == [1.0, -2.0]


def test_scalar_checks_type_and_mistakes():
    assert "Likely mistake: bias forgotten" in message(
        core.check_scalar, 5.0, 6.0, "step", mistakes={"bias forgotten": 5.0})
    msg = message(core.check_scalar, 3.5, 3, "size", integer=True)
    assert "whole number" in msg and "//" in msg
    assert "expected an int" in message(core.check_scalar, 3.0, 3, "size", integer=True)
    assert "single number" in message(core.check_scalar, np.ones(2), 2.0, "step")
    core.check_scalar(np.float32(6.0), 6.0, "step")
    core.check_scalar(np.int64(3), 3, "size", integer=True)


def test_equal_checks_tuple_type():
    assert "expected a tuple" in message(core.check_equal, [2, 3], (2, 3), "shape")
    assert "Expected: (2, 3)" in message(core.check_equal, (3, 2), (2, 3), "shape")
    core.check_equal((2, 3), (2, 3), "shape")


def test_check_raises():
    def accepts_even(f):
        return (f - 1) // 2

    msg = message(core.check_raises, accepts_even, ValueError, 4, why="even f has no centre")
    assert "instead of raising ValueError" in msg and "even f has no centre" in msg

    def rejects(f):
        raise ValueError("even")

    core.check_raises(rejects, ValueError, 4)


def test_large_arrays_are_summarised():
    text = core.fmt_array(np.zeros((20, 20)))
    assert "shape (20, 20)" in text and len(text) < 400


def test_call_protects_the_callers_arrays_and_names_inputs():
    """A mutating function is reported, and the caller's array is still intact."""
    x = np.array([-1.0, 2.0])

    def relu_in_place(z):
        z[z < 0] = 0
        return z

    with pytest.raises(CheckFailure):
        core.call(relu_in_place, x)
    assert x.tolist() == [-1.0, 2.0]

    def needs_kernel(image, kernel):
        return image[kernel]

    msg = message(core.call, needs_kernel, np.ones(2), 5)
    assert "image = [1., 1.]" in msg and "kernel = 5" in msg


def test_jupyter_shows_the_message_not_our_traceback():
    """IPython renders CheckFailure as the message plus only the student's frames."""
    def student_conv(image, kernel):
        return image[kernel]  # IndexError inside the student's code

    with pytest.raises(CheckFailure) as err:
        core.call(student_conv, np.ones(2), 5)
    lines = err.value._render_traceback_()
    text = "\n".join(lines)
    assert "Test failed" in lines[0] and "raised IndexError" in text
    assert "Where it happened in your code:" in text and "student_conv" in text
    assert "utils/checks/core.py" not in text

    with pytest.raises(CheckFailure) as err:
        core.check_array(np.zeros(2), np.ones(2), "f")
    assert "Where it happened" not in "\n".join(err.value._render_traceback_())


def test_no_check_or_hidden_test_reads_the_clock():
    """No grade depends on the machine's speed: checks count work (epochs, steps), never time."""
    import ast

    root = Path(__file__).resolve().parents[1]
    clocks = {"time", "perf_counter", "monotonic", "process_time", "perf_counter_ns",
              "monotonic_ns", "time_ns", "thread_time"}
    found = []
    for path in sorted([*(root / "utils" / "checks").glob("*.py"),
                        *(root / "grader" / "references").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] in ("time", "timeit", "datetime") for n in names):
                found.append(f"{path.relative_to(root)}:{node.lineno} imports {names}")
            if isinstance(node, ast.Attribute) and node.attr in clocks - {"time"}:
                found.append(f"{path.relative_to(root)}:{node.lineno} reads .{node.attr}")
    assert not found, found


def test_warnings_and_stderr_of_the_students_code_become_notes_on_stdout(capsys):
    import sys
    import warnings

    def noisy(x):
        warnings.warn("Do not pass an `input_shape` argument to a layer.", UserWarning)
        print("debug: got", x, file=sys.stderr)
        return x + 1

    assert core.call(noisy, 1) == 2
    assert core.call(noisy, 2) == 3
    out, err = capsys.readouterr()
    assert err == ""
    note = ("note: your code raised a warning (it costs no points): UserWarning: Do not pass an "
            "`input_shape` argument to a layer.")
    assert out.count(note) == 1  # once per function, not on every call
    assert "debug: got 1" in out and "debug: got 2" in out


def test_a_warning_does_not_hide_the_students_error(capsys):
    import warnings

    def warns_then_fails(x):
        warnings.warn("x is deprecated", DeprecationWarning)
        raise ValueError("bad x")

    msg = message(core.call, warns_then_fails, 1)
    assert "raised ValueError: bad x" in msg
    out, err = capsys.readouterr()
    assert "DeprecationWarning: x is deprecated" in out and err == ""

"""Notebook 11 (fast convolution): spec facts, the visible checks' constants, full marks
for correct solutions in several styles (graded the way the real grader does, for several
student ids), and each typical mistake losing points with a message that names it.
"""
from __future__ import annotations

import linecache
import os
import re
import textwrap

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from grader import notebook_cells as cells
from grader.references import conv_layer as conv_hidden
from grader.references import fast_conv as hidden
from nbtools import score_in_process, solution_namespace, solution_path
from utils.checks import conv_layer as conv_check
from utils.checks import fast_conv as check
from utils.checks.core import CheckFailure

STEM = "11_fast_convolution"
STUDENTS = ("s-001", "s-002", "s-003")


@pytest.fixture(scope="module")
def ns():
    """The solution's names; im2col and conv_forward defined as cells whose text the
    source checks can read (conv_forward_fast's calls into them are followed)."""
    names = solution_namespace(STEM)
    nb = cells.read(solution_path(STEM))
    for cell in cells.iter_cells(nb, "answer"):
        gid = cells.nbgrader_meta(cell)["grade_id"]
        if gid in ("im2col", "conv_forward"):
            names[gid] = _define(cells.strip_solution_markers(cell.source), gid)
    return names


def _define(source: str, name: str):
    """``name`` from ``source``, compiled as a notebook cell (its text kept in linecache,
    as IPython keeps a cell's, so the source checks can read it)."""
    source = textwrap.dedent(source).strip("\n") + "\n"
    filename = f"<test cell {abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    space = {"np": np, "sliding_window_view": sliding_window_view, "as_strided": as_strided}
    exec(compile(source, filename, "exec"), space)
    return space[name]


def _fails_with(run, args, text):
    with pytest.raises(CheckFailure) as err:
        run(*args)
    assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"
    return str(err.value)


# ------------------------------------------------------------ spec facts (3.11)
def test_im2col_times_w_is_the_convolution(ns):
    """im2col(...) @ W.reshape(-1, n_C) is the convolution (Keras Conv2D), in the spec's orders."""
    rng = np.random.default_rng(3)
    A, W, b = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 3, 3, 4)), np.zeros((1, 1, 1, 4))
    X = ns["im2col"](A, 3, 2, 1)
    assert X.shape == (2 * 4 * 3, 27)
    Z = (X @ W.reshape(-1, 4)).reshape(2, 4, 3, 4)
    np.testing.assert_allclose(Z, conv_hidden.keras_conv(A, W, b, 2, 1), atol=1e-9)


def test_fast_equals_loops_to_1e_10(ns):
    """conv_forward_fast and notebook 04's loops agree below 1e-10 on float64."""
    rng = np.random.default_rng(4)
    for s, p in [(1, 0), (2, 1), (3, 2)]:
        A, W, b = rng.normal(size=(2, 9, 8, 3)), rng.normal(size=(3, 3, 3, 5)), \
            rng.normal(size=(1, 1, 1, 5))
        hp = {"stride": s, "pad": p}
        fast, cache = ns["conv_forward_fast"](A, W, b, hp)
        loops, _ = ns["conv_forward"](A, W, b, hp)
        assert np.abs(fast - loops).max() < 1e-10
        assert cache[0] is A and cache[3] is hp


def test_im2col_memory_is_f_times_f(ns):
    """With stride 1 and same padding, im2col holds f*f times the input."""
    A = np.random.default_rng(5).normal(size=(2, 10, 12, 3))
    for f, p in [(1, 0), (3, 1), (5, 2), (7, 3)]:
        assert ns["im2col"](A, f, 1, p).nbytes == f * f * A.nbytes


def test_constants_match_the_reference():
    """The expected outputs written in utils/checks/fast_conv.py equal the grader's reference."""
    np.testing.assert_array_equal(check.IM2COL_EXPECTED_1,
                                  hidden.reference_im2col(check.coded_input((1, 3, 4, 2)), 2))
    A2 = check.coded_input((2, 3, 4, 2))
    np.testing.assert_array_equal(check.IM2COL_EXPECTED_2, hidden.reference_im2col(A2, 2, 2, 1))
    np.testing.assert_array_equal(check.IM2COL_STRIDE_IGNORED_2,
                                  hidden.im2col_mistakes(A2, 2, 2, 1)[check.STRIDE_IGNORED])
    for shape, f, s, p, expected, mistakes in check.SHAPE_CASES:
        assert expected == hidden.reference_im2col(np.zeros(shape), f, s, p).shape
        assert mistakes == hidden.im2col_shape_mistakes(shape, f, s, p)
    assert check.IM2COL_SHAPE_MISTAKES_2 == hidden.im2col_shape_mistakes((2, 3, 4, 2), 2, 2, 1)
    A, W, b = conv_check.worked_example_inputs()
    wrong = hidden.fast_conv_mistakes(A, W, b, 1, 0)
    np.testing.assert_allclose(check.WORKED_CHANNELS_MISMATCH, wrong[check.FAST_CHANNELS_MISMATCH])
    np.testing.assert_allclose(check.WORKED_W_RESHAPE, wrong[check.FAST_W_RESHAPE])
    A, W, b, hp = conv_check.stride_pad_batch_inputs()
    wrong = hidden.fast_conv_mistakes(A, W, b, 2, 1)
    np.testing.assert_allclose(check.SPB_CHANNELS_MISMATCH, wrong[check.FAST_CHANNELS_MISMATCH])
    np.testing.assert_allclose(check.SPB_W_RESHAPE, wrong[check.FAST_W_RESHAPE])
    shapes = {**conv_hidden.conv_shape_mistakes(A.shape, 3, 3, 2, 1),
              **hidden.fast_conv_shape_mistakes(A.shape, 3, 3, 2, 1)}
    assert check.SPB_SHAPE_MISTAKES == {k: v for k, v in shapes.items()
                                        if not k.startswith(conv_check.HARD_CODED)}


def test_coded_input_says_where_each_value_sits():
    A = check.coded_input((2, 3, 4, 2))
    assert A[0, 1, 2, 0] == 231 and A[1, 0, 0, 1] == 1112 and A.min() > 0


# ------------------------------------------------------------ correct solutions, several styles
IM2COL_STYLES = {
    "sliding_window_view": """
        def im2col(A_prev, f, stride=1, pad=0):
            A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
            m, n_H, n_W = win.shape[:3]
            return win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, -1)
        """,
    "as_strided": """
        from numpy.lib.stride_tricks import as_strided

        def im2col(A_prev, f, stride=1, pad=0):
            A = np.ascontiguousarray(np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0))))
            m, H, W, C = A.shape
            n_H, n_W = (H - f) // stride + 1, (W - f) // stride + 1
            s0, s1, s2, s3 = A.strides
            win = as_strided(A, (m, n_H, n_W, f, f, C), (s0, s1 * stride, s2 * stride, s1, s2, s3))
            return win.reshape(m * n_H * n_W, f * f * C)
        """,
    "index arrays, float32": """
        def im2col(A_prev, f, stride=1, pad=0):
            A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0))).astype(np.float32)
            m, H, W, C = A.shape
            n_H, n_W = (H - f) // stride + 1, (W - f) // stride + 1
            rows = np.repeat(stride * np.arange(n_H), n_W)[:, None] + np.repeat(np.arange(f), f)
            cols = np.tile(stride * np.arange(n_W), n_H)[:, None] + np.tile(np.arange(f), f)
            return A[:, rows, cols, :].reshape(m * n_H * n_W, f * f * C)
        """,
}

FAST_STYLES = {
    "im2col + einsum": """
        def conv_forward_fast(A_prev, W, b, hparameters):
            m, n_H_prev, n_W_prev, _ = A_prev.shape
            f, _, _, n_C = W.shape
            s, p = hparameters["stride"], hparameters["pad"]
            n_H, n_W = (n_H_prev + 2 * p - f) // s + 1, (n_W_prev + 2 * p - f) // s + 1
            Z = np.einsum("rk,kn->rn", im2col(A_prev, f, s, p), W.reshape(-1, n_C)) + b.ravel()
            return Z.reshape(m, n_H, n_W, n_C), (A_prev, W, b, hparameters)
        """,
    "im2col + tensordot, one loop over the filters": """
        def conv_forward_fast(A_prev, W, b, hparameters):
            m = A_prev.shape[0]
            f, _, n_C_prev, n_C = W.shape
            stride, pad = hparameters["stride"], hparameters["pad"]
            n_H = (A_prev.shape[1] + 2 * pad - f) // stride + 1
            n_W = (A_prev.shape[2] + 2 * pad - f) // stride + 1
            X = im2col(A_prev, f, stride, pad)
            Z = np.empty((X.shape[0], n_C))
            for c in range(n_C):
                Z[:, c] = np.tensordot(X, W[..., c].reshape(-1), axes=1) + b[0, 0, 0, c]
            return Z.reshape(m, n_H, n_W, n_C), (A_prev, W, b, hparameters)
        """,
    "sliding_window_view + einsum": """
        def conv_forward_fast(A_prev, W, b, hparameters):
            f = W.shape[0]
            s, p = hparameters["stride"], hparameters["pad"]
            A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
            win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::s, ::s]
            return np.einsum("mhwcij,ijcn->mhwn", win, W) + b, (A_prev, W, b, hparameters)
        """,
    "as_strided + tensordot, helper in the same cell, float32": """
        from numpy.lib.stride_tricks import as_strided

        def _windows(A, f, s):
            A = np.ascontiguousarray(A)
            m, H, W, C = A.shape
            st = A.strides
            shape = (m, (H - f) // s + 1, (W - f) // s + 1, f, f, C)
            return as_strided(A, shape, (st[0], st[1] * s, st[2] * s, st[1], st[2], st[3]))

        def conv_forward_fast(A_prev, W, b, hparameters):
            p = hparameters["pad"]
            A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0))).astype(np.float32)
            win = _windows(A, W.shape[0], hparameters["stride"])
            Z = np.tensordot(win, W.astype(np.float32), axes=3) + b.astype(np.float32)
            return Z, (A_prev, W, b, hparameters)
        """,
}

CHECKS = {
    "im2col": [check.im2col_shapes, check.im2col_worked_example, check.im2col_stride_pad,
               hidden.im2col_random_shapes, hidden.im2col_order_random,
               hidden.im2col_stride_pad_random],
    "conv_forward_fast": [check.conv_forward_fast_shapes, check.conv_forward_fast_worked_examples,
                          hidden.conv_forward_fast_random_shapes,
                          hidden.conv_forward_fast_matches_reference],
}


@pytest.mark.parametrize("style", list(IM2COL_STYLES))
def test_im2col_styles_pass_every_check(style, capsys):
    fn = _define(IM2COL_STYLES[style], "im2col")
    for run in CHECKS["im2col"]:
        run(fn)
    assert capsys.readouterr().out.count("\u2714") == len(CHECKS["im2col"])


@pytest.mark.parametrize("style", list(FAST_STYLES))
def test_fast_styles_pass_every_check(style, ns, capsys):
    fn = _define(FAST_STYLES[style], "conv_forward_fast")
    fn.__globals__["im2col"] = ns["im2col"]  # a style that calls im2col gets the solution's
    for run in CHECKS["conv_forward_fast"]:
        run(fn)
    check.conv_forward_fast_no_position_loops(fn, ns["im2col"])
    assert capsys.readouterr().out.count("\u2714") == len(CHECKS["conv_forward_fast"]) + 1


def test_solution_gets_full_marks_for_several_students():
    for student in STUDENTS:
        points, total, failed = score_in_process(STEM, student=student)
        assert failed == [] and points == total == 17


@pytest.mark.parametrize("k,im2col_style,fast_style",
                         [(k, i, f) for k, (i, f) in
                          enumerate(zip(list(IM2COL_STYLES) + [None], FAST_STYLES))])
def test_styles_get_full_marks_when_graded(k, im2col_style, fast_style):
    """Graded in-process the way the grader does (sources read from the cells), per student."""
    replacements = {"conv_forward_fast": textwrap.dedent(FAST_STYLES[fast_style])}
    if im2col_style:
        replacements["im2col"] = textwrap.dedent(IM2COL_STYLES[im2col_style])
    student = STUDENTS[k % len(STUDENTS)]
    points, total, failed = score_in_process(STEM, replacements, student=student)
    assert failed == [] and points == total, failed


def test_hidden_inputs_differ_per_student():
    """The grader seeds hidden inputs per student; a fixed seed outside grading."""
    from grader.references import seeding
    draws = set()
    for student in STUDENTS:
        with seeding.for_test(b"secret", STEM, "im2col_order", student):
            draws.add(float(seeding.rng(hidden.SEED + 1).normal()))
    assert len(draws) == len(STUDENTS)
    assert seeding.rng(hidden.SEED + 1).normal() == np.random.default_rng(hidden.SEED + 1).normal()


# ------------------------------------------------------------ typical mistakes: im2col
IM2COL_MISTAKES = [  # (source, graded tests that must fail, text the message must contain)
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
         m, n_H, n_W = win.shape[:3]
         return win.reshape(m * n_H * n_W, -1)
     """, {"im2col_order", "im2col_stride_pad"}, check.CHANNEL_FIRST),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
         m, n_H, n_W = win.shape[:3]
         return win.transpose(0, 2, 1, 4, 5, 3).reshape(m * n_H * n_W, -1)
     """, {"im2col_order", "im2col_stride_pad"}, check.POSITIONS_COLUMN_MAJOR),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
         m, n_H, n_W = win.shape[:3]
         return win.transpose(1, 2, 0, 4, 5, 3).reshape(m * n_H * n_W, -1)
     """, {"im2col_stride_pad"}, check.SAMPLE_LAST),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride, :, ::-1, ::-1]
         m, n_H, n_W = win.shape[:3]
         return win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, -1)
     """, {"im2col_order", "im2col_stride_pad"}, check.WINDOW_FLIPPED),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         m, n_H_prev, n_W_prev, n_C = A_prev.shape
         n_H = (n_H_prev + 2 * pad - f) // stride + 1
         n_W = (n_W_prev + 2 * pad - f) // stride + 1
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, :n_H, :n_W]
         return win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, -1)
     """, {"im2col_stride_pad"}, check.STRIDE_IGNORED),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         win = sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
         m, n_H, n_W = win.shape[:3]
         return win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, -1)
     """, {"im2col_shapes", "im2col_stride_pad"}, check.SHAPE_PAD),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
         m, n_H, n_W = win.shape[:3]
         return win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, -1).T
     """, {"im2col_shapes", "im2col_order", "im2col_stride_pad"}, check.SHAPE_TRANSPOSED),
    ("""
     def im2col(A_prev, f, stride=1, pad=0):
         A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         return sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
     """, {"im2col_shapes", "im2col_order", "im2col_stride_pad"}, check.SHAPE_NOT_FLAT_CF),
]
_IM2COL_TESTS = {"im2col_shapes": [check.im2col_shapes, hidden.im2col_random_shapes],
                 "im2col_order": [check.im2col_worked_example, hidden.im2col_order_random],
                 "im2col_stride_pad": [check.im2col_stride_pad, hidden.im2col_stride_pad_random]}


def _mistake_id(text: str) -> str:
    return re.sub(r"\W+", "_", text[:32]).strip("_")


@pytest.mark.parametrize("source,failing,text", IM2COL_MISTAKES,
                         ids=[_mistake_id(m[2]) for m in IM2COL_MISTAKES])
def test_im2col_mistakes_are_named_and_lose_points(source, failing, text):
    fn = _define(source, "im2col")
    for gid in failing:
        for run in _IM2COL_TESTS[gid]:
            _fails_with(run, (fn,), text)
    points, total, failed = score_in_process(STEM, {"im2col": textwrap.dedent(source)},
                                             student=STUDENTS[0])
    assert failing <= set(failed) and points < total


# ------------------------------------------------------------ typical mistakes: conv_forward_fast
_HEAD = """
def conv_forward_fast(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    s, p = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * p - f) // s + 1
    n_W = (n_W_prev + 2 * p - f) // s + 1
"""
FAST_MISTAKES = [  # (body after _HEAD, graded tests that must fail, text in the message)
    ("""
    A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    X = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::s, ::s].reshape(m * n_H * n_W, -1)
    Z = (X @ W.reshape(-1, n_C) + b.reshape(1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     check.FAST_CHANNELS_MISMATCH),
    ("""
    n_H, n_W = (n_H_prev - f) // s + 1, (n_W_prev - f) // s + 1
    X = im2col(A_prev, f, s, 0)
    Z = (X @ W.reshape(-1, n_C) + b.reshape(1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_shapes", "conv_forward_fast_values",
          "conv_forward_fast_no_position_loops"}, conv_check.SHAPE_PAD),
    ("""
    A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    win = sliding_window_view(A, (f, f), axis=(1, 2))[:, :n_H, :n_W]
    Z = np.einsum("mhwcij,ijcn->mhwn", win, W) + b
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     conv_check.STRIDE_IGNORED),
    ("""
    A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::s, ::s]
    X = win.transpose(0, 2, 1, 4, 5, 3).reshape(m * n_H * n_W, -1)
    Z = (X @ W.reshape(-1, n_C) + b.reshape(1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     check.FAST_ROWS_COLUMN_MAJOR),
    ("""
    X = im2col(A_prev, f, s, p)
    Z = (X @ W.reshape(-1, n_C) + b.reshape(1, n_C)).reshape(m, n_W, n_H, n_C)
    return Z.transpose(0, 2, 1, 3), (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     check.FAST_RESHAPE_TRANSPOSED),
    ("""
    X = im2col(A_prev, f, s, p)
    Z = (X @ W.reshape(-1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     conv_check.NO_BIAS),
    ("""
    X = im2col(A_prev, f, s, p)
    Z = (X @ W[::-1, ::-1].reshape(-1, n_C) + b.reshape(1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     conv_check.KERNEL_FLIPPED),
    ("""
    X = im2col(A_prev, f, s, p)
    Z = (X @ W.reshape(n_C, -1).T + b.reshape(1, n_C)).reshape(m, n_H, n_W, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_values", "conv_forward_fast_no_position_loops"},
     check.FAST_W_RESHAPE),
    # right values, but a Python loop over output positions: only the third test fails
    ("""
    A = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            patch = A[:, h * s:h * s + f, w * s:w * s + f, :]
            Z[:, h, w, :] = np.tensordot(patch, W, axes=3) + b.reshape(1, n_C)
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_no_position_loops"}, "`for h in range(n_H):`"),
    ("""
    X = im2col(A_prev, f, s, p)
    Wc = W.reshape(-1, n_C)
    rows = np.stack([x @ Wc for x in X]) + b.reshape(1, n_C)
    return rows.reshape(m, n_H, n_W, n_C), (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_no_position_loops"}, "X depends on the batch or image size"),
    ("""
    out = []
    for i in range(m):
        X = im2col(A_prev[i:i + 1], f, s, p)
        out.append((X @ W.reshape(-1, n_C) + b.reshape(1, n_C)).reshape(1, n_H, n_W, n_C))
    return np.concatenate(out), (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_no_position_loops"}, "m depends on the batch or image size"),
    ("""
    return conv_forward(A_prev, W, b, hparameters)
    """, {"conv_forward_fast_no_position_loops"}, "in `conv_forward`, line"),
    ("""
    import tensorflow as tf
    Ap = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0))).astype(float)
    Z = tf.nn.conv2d(Ap, W.astype(float), strides=s, padding="VALID").numpy() + b
    return Z, (A_prev, W, b, hparameters)
    """, {"conv_forward_fast_no_position_loops"}, "the convolution must be NumPy code"),
]
_FAST_TESTS = {
    "conv_forward_fast_shapes": [check.conv_forward_fast_shapes,
                                 hidden.conv_forward_fast_random_shapes],
    "conv_forward_fast_values": [check.conv_forward_fast_worked_examples,
                                 hidden.conv_forward_fast_matches_reference],
    "conv_forward_fast_no_position_loops": [check.conv_forward_fast_no_position_loops,
                                            hidden.conv_forward_fast_no_position_loops],
}


@pytest.mark.parametrize("body,failing,text", FAST_MISTAKES,
                         ids=[_mistake_id(m[2]) for m in FAST_MISTAKES])
def test_fast_mistakes_are_named_and_lose_points(body, failing, text, ns):
    source = _HEAD + textwrap.dedent(body).replace("\n", "\n    ").rstrip() + "\n"
    fn = _define(source, "conv_forward_fast")
    fn.__globals__.update(im2col=ns["im2col"], conv_forward=ns["conv_forward"])
    helpers = (ns["im2col"], ns["conv_forward"])
    for gid in failing:
        for run in _FAST_TESTS[gid]:
            args = (fn, *helpers) if gid == "conv_forward_fast_no_position_loops" else (fn,)
            _fails_with(run, args, text)
    points, total, failed = score_in_process(STEM, {"conv_forward_fast": source},
                                             student=STUDENTS[1])
    assert set(failed) == failing and points < total


def test_fast_stub_and_unreadable_source_fail_clearly():
    def stub(A_prev, W, b, hparameters):
        raise NotImplementedError()
    for runs in _FAST_TESTS.values():
        for run in runs:
            _fails_with(run, (stub,), "not written yet")
    compiled = {}
    exec(compile(textwrap.dedent(FAST_STYLES["sliding_window_view + einsum"]), "<nowhere>",
                 "exec"), {"np": np, "sliding_window_view": sliding_window_view}, compiled)
    _fails_with(check.conv_forward_fast_no_position_loops, (compiled["conv_forward_fast"],),
                "could not be read")


# ------------------------------------------------------------ the source analysis itself
ALLOWED = {
    "window offsets via itertools.product": """
        import itertools
        def im2col(A_prev, f, stride=1, pad=0):
            m, n_H_prev, n_W_prev, n_C = A_prev.shape
            out = []
            for di, dj in itertools.product(range(f), range(f)):
                out.append(A_prev[:, di::stride, dj::stride, :])
            return out
        """,
    "channel count from A_prev.shape[-1] and a while over f": """
        def im2col(A_prev, f, stride=1, pad=0):
            *_, n_C = A_prev.shape
            k = 0
            while k < f * f:
                k += 1
            return [A_prev[..., c] for c in range(n_C)]
        """,
}
FORBIDDEN = {
    "np.ndindex over the output shape": ("""
        def im2col(A_prev, f, stride=1, pad=0):
            Z = np.zeros(A_prev.shape[:3])
            for idx in np.ndindex(Z.shape):
                pass
            return Z
        """, "for idx in np.ndindex(Z.shape):"),
    "while over the rows": ("""
        def im2col(A_prev, f, stride=1, pad=0):
            h, n = 0, A_prev.shape[1]
            while h < n:
                h += stride
            return h
        """, "while h < n:"),
    "np.vectorize": ("""
        def im2col(A_prev, f, stride=1, pad=0):
            return np.vectorize(lambda x: x)(A_prev)
        """, "vectorize runs a Python function"),
    "map over the examples": ("""
        def im2col(A_prev, f, stride=1, pad=0):
            return list(map(np.ravel, A_prev))
        """, "map runs a Python function once per position"),
    "eval": ("""
        def im2col(A_prev, f, stride=1, pad=0):
            return eval("A_prev")
        """, "cannot be checked"),
    "an alias of a loop": ("""
        def _slow(A_prev, f, stride=1, pad=0):
            for i in range(len(A_prev)):
                pass
        im2col = _slow
        """, "for i in range(len(A_prev)):"),
}


@pytest.mark.parametrize("name", list(ALLOWED))
def test_loops_over_offsets_and_channels_are_allowed(name):
    assert check.position_loops(_define(ALLOWED[name], "im2col")) == []


@pytest.mark.parametrize("name", list(FORBIDDEN))
def test_loops_over_positions_are_found(name):
    source, quoted = FORBIDDEN[name]
    found = check.position_loops(_define(source, "im2col"))
    assert found and any(quoted in str(f) for f in found), found


def test_grading_shrinks_the_benchmark_by_counted_sizes(monkeypatch):
    """Under the autograder the benchmark runs n = 4 and 8 once each (no time budget)."""
    monkeypatch.setenv("CNN_COURSE_GRADING", "1")
    nb = cells.read(solution_path(STEM))
    code = [c.source for c in nb.cells if c.cell_type == "code" and not cells.is_test(c)]
    space: dict = {"__name__": "__main__"}
    for src in code:
        exec(compile(cells.strip_solution_markers(src), STEM, "exec"), space)
    assert space["GRADING"] is True and space["sizes"] == [4, 8]
    assert space["loops_up_to"] == 8
    runs = {name: sum(t is not None for t in times) for name, times in space["seconds"].items()}
    assert runs == {name: 2 for name in space["methods"]}
    assert os.environ["CNN_COURSE_GRADING"] == "1"


# ------------------------------------------------------------ notebook structure
def test_notebook_layout():
    nb = cells.read(solution_path(STEM))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    assert answers == ["conv_forward", "im2col", "conv_forward_fast", "conv_forward_einsum"]
    tests = {cells.nbgrader_meta(c)["grade_id"]: cells.nbgrader_meta(c)["points"]
             for c in cells.iter_cells(nb, "test")}
    assert tests == {"im2col_shapes": 2, "im2col_order": 3, "im2col_stride_pad": 3,
                     "conv_forward_fast_shapes": 2, "conv_forward_fast_values": 4,
                     "conv_forward_fast_no_position_loops": 3}
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text and "Key points" in text and "Open exercises" in text
    assert "../../docs/cheat_sheet.md" in text

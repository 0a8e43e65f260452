"""Notebook 05 (pooling): spec facts, and that every visible check and hidden test passes
correct solutions (loops, vectorised, float32) and fails typical mistakes with a message
that names them.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader import notebook_cells as cells
from grader.references import pooling as hidden
from nbtools import solution_namespace, solution_path
from utils.checks import pooling as check
from utils.runtime import import_keras
from utils.checks.core import CheckFailure

STEM = "05_pooling"


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


def _pool2d(ns, grid, mode):
    A, cache = ns["pool_forward"](np.array(grid)[None, :, :, None], {"f": 2, "stride": 2},
                                  mode=mode)
    return A[0, :, :, 0].tolist()


# ------------------------------------------------------------ spec facts (3.05)
def test_worked_examples_exactly(ns):
    assert _pool2d(ns, [[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]],
                   "max") == [[9, 2], [6, 3]]
    assert _pool2d(ns, [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]],
                   "max") == [[6, 8], [3, 4]]
    assert _pool2d(ns, [[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]],
                   "average") == [[3.75, 1.25], [4, 2]]


def test_output_size_channels_and_cache(ns):
    A = np.random.default_rng(0).normal(size=(2, 7, 5, 3))
    hp = {"f": 3, "stride": 2}
    out, cache = ns["pool_forward"](A, hp)
    assert out.shape == (2, (7 - 3) // 2 + 1, (5 - 3) // 2 + 1, 3)
    assert cache[0] is A and cache[1] is hp


def test_global_average_pool_7x7x1000(ns):
    A = np.random.default_rng(1).normal(size=(1, 7, 7, 1000))
    out = ns["global_average_pool"](A)
    assert out.shape == (1, 1000)
    np.testing.assert_allclose(out, hidden.keras_global_average(A))


def test_pooling_has_no_parameters():
    keras = import_keras()
    for layer in (keras.layers.MaxPooling2D(2), keras.layers.AveragePooling2D(3, 2),
                  keras.layers.GlobalAveragePooling2D()):
        layer.build((None, 8, 8, 4))
        assert layer.count_params() == 0


def test_small_shift_invariance_of_max_pooling(ns):
    """A feature moved within its window leaves the max-pooled map unchanged."""
    x = np.zeros((1, 4, 4, 1))
    x[0, 0, 0, 0] = 1
    moved = np.roll(x, 1, axis=2)
    hp = {"f": 2, "stride": 2}
    assert not np.array_equal(x, moved)
    np.testing.assert_array_equal(ns["pool_forward"](x, hp)[0], ns["pool_forward"](moved, hp)[0])


def test_visible_constants_match_keras():
    for (A, hp), per_mode in zip(check.batch_inputs(), check.BATCH_CASES):
        for mode, expected, _ in per_mode:
            np.testing.assert_allclose(expected, hidden.keras_pool(A, hp["f"], hp["stride"],
                                                                   mode))
    for A, (expected, _, _) in zip(check.gap_inputs(), check.GAP_CASES):
        np.testing.assert_allclose(expected, hidden.keras_global_average(A))


# ------------------------------------------------------------ correct solutions
def pool_vectorised(A_prev, hparameters, mode="max"):
    f, s = hparameters["f"], hparameters["stride"]
    win = sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::s, ::s]
    red = np.max if mode == "max" else np.mean
    return red(win, axis=(-2, -1)), (A_prev, hparameters)


def pool_float32(A_prev, hparameters, mode="max"):
    out, _ = pool_vectorised(np.asarray(A_prev, dtype=np.float32), hparameters, mode)
    return out, (A_prev, hparameters)


def gap_reshape(A):
    m, n_h, n_w, n_c = A.shape
    return A.reshape(m, n_h * n_w, n_c).mean(axis=1)


def gap_float32(A):
    return np.asarray(A, dtype=np.float32).mean(axis=(1, 2))


POOL_CHECKS = [check.pool_forward_worked_examples, check.pool_forward_shapes,
               check.pool_forward_batch_channels, hidden.pool_forward_worked_examples,
               hidden.pool_forward_random_shapes, hidden.pool_forward_matches_reference]
GAP_CHECKS = [check.global_average_pool_values, hidden.global_average_pool_random]


def test_checks_pass_correct_solutions(ns, capsys):
    for fn in (ns["pool_forward"], pool_vectorised, pool_float32):
        for run in POOL_CHECKS:
            run(fn)
    for fn in (ns["global_average_pool"], gap_reshape, gap_float32):
        for run in GAP_CHECKS:
            run(fn)
    assert capsys.readouterr().out.count("\u2714") == 3 * (len(POOL_CHECKS) + len(GAP_CHECKS))


# ------------------------------------------------------------ typical mistakes
def _pool(A_prev, hp, mode="max", *, force=None, across=False, stride_in_window=True,
          reshape=False, first_example=False, int_out=False, ceil=False, cache=None,
          hard_coded=False):
    """A vectorised pool_forward with switchable mistakes."""
    f, s = hp["f"], hp["stride"]
    mode = force or mode
    red = {"max": np.max, "average": np.mean}[mode]
    m, n_hp, n_wp, n_c = A_prev.shape
    n_h, n_w = (n_hp - f) // s + 1, (n_wp - f) // s + 1
    if reshape:
        out = red(A_prev.reshape(m, n_h, f, n_w, f, n_c), axis=(2, 4))
    else:
        win = sliding_window_view(A_prev, (f, f), axis=(1, 2))
        win = win[:, ::s, ::s] if stride_in_window else win[:, :n_h, :n_w]
        if across:
            out = np.broadcast_to(red(win, axis=(-3, -2, -1))[..., None], win.shape[:4])
        else:
            out = red(win, axis=(-2, -1))
    if first_example:
        out = np.repeat(out[:1], m, axis=0)
    out = out.astype(A_prev.dtype if int_out else float)
    if ceil:
        out = np.zeros((m, -(-(n_hp - f) // s) + 1, -(-(n_wp - f) // s) + 1, n_c))
    if hard_coded:
        out = np.zeros((1, 2, 2, 1))
    if cache == "output":
        return out, (out, hp)
    return out, (A_prev, hp)


def _mk(**kw):
    return lambda A, hp, mode="max": _pool(A, hp, mode, **kw)


POOL_MISTAKES = [  # (implementation, checks that must fail, text the message must contain)
    (_mk(force="average"), [check.pool_forward_worked_examples,
                            hidden.pool_forward_matches_reference], check.AVERAGE_FOR_MAX),
    (_mk(force="max"), [check.pool_forward_worked_examples,
                        hidden.pool_forward_matches_reference], check.MAX_FOR_AVERAGE),
    (_mk(across=True), [check.pool_forward_batch_channels,
                        hidden.pool_forward_matches_reference], check.ACROSS_CHANNELS),
    (_mk(stride_in_window=False), [check.pool_forward_worked_examples,
                                   hidden.pool_forward_worked_examples,
                                   hidden.pool_forward_matches_reference],
     check.STRIDE_IGNORED),
    (_mk(reshape=True), [check.pool_forward_shapes, check.pool_forward_batch_channels,
                         hidden.pool_forward_matches_reference], check.ONLY_DIVIDES),
    (_mk(first_example=True), [check.pool_forward_batch_channels,
                               hidden.pool_forward_matches_reference], check.FIRST_EXAMPLE),
    (_mk(int_out=True), [check.pool_forward_worked_examples,
                         hidden.pool_forward_matches_reference], "expected a float array"),
    (_mk(ceil=True), [check.pool_forward_shapes, hidden.pool_forward_random_shapes],
     check.SHAPE_CEIL),
    (_mk(hard_coded=True), [check.pool_forward_shapes, hidden.pool_forward_random_shapes],
     check.HARD_CODED),
    (_mk(cache="output"), [check.pool_forward_shapes, hidden.pool_forward_random_shapes],
     "cache holds the output"),
    (lambda A, hp, mode="average": _pool(A, hp, mode), [check.pool_forward_worked_examples],
     check.WRONG_DEFAULT_MODE),
    (lambda A, hp, mode="max": _pool(A, hp, mode)[0], [check.pool_forward_shapes],
     "expected a pair (A, cache)"),
]


@pytest.mark.parametrize("impl,runs,text", POOL_MISTAKES,
                         ids=[re.sub(r"\W+", "_", t[2][:30]) for t in POOL_MISTAKES])
def test_pool_forward_mistakes_are_named(impl, runs, text):
    for run in runs:
        with pytest.raises(CheckFailure) as err:
            run(impl)
        assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"


def _step_f(A, hp, mode="max"):
    """Windows f apart (crop, then reshape into f x f blocks): right only if stride == f."""
    f = hp["f"]
    m, n_hp, n_wp, n_c = A.shape
    n_h, n_w = (n_hp - f) // hp["stride"] + 1, (n_wp - f) // hp["stride"] + 1
    red = np.max if mode == "max" else np.mean
    block = A[:, :n_h * f, :n_w * f].reshape(m, n_h, f, n_w, f, n_c)
    return red(block, axis=(2, 4)), (A, hp)


def test_step_f_mistake_is_named():
    with pytest.raises(CheckFailure) as err:
        hidden.pool_forward_matches_reference(_step_f)
    assert check.STEP_F in str(err.value) or check.ONLY_DIVIDES in str(err.value)


def test_input_mutation_is_caught():
    def mutating(A, hp, mode="max"):
        out = pool_vectorised(A, hp, mode)[0].copy()
        A[...] = 0
        return out, (A, hp)
    with pytest.raises(CheckFailure, match="in place"):
        check.pool_forward_worked_examples(mutating)


GAP_MISTAKES = [
    (lambda A: A.mean(axis=(0, 1)), check.GAP_AXES),
    (lambda A: A.mean(axis=(1, 2), keepdims=True), check.GAP_KEEPDIMS),
    (lambda A: A.sum(axis=(1, 2)), check.GAP_SUM),
    (lambda A: A.max(axis=(1, 2)), check.GAP_MAX),
    (lambda A: A.reshape(A.shape[0], A.shape[3], -1).mean(axis=2), check.GAP_RESHAPE),
    (lambda A: A.mean(axis=(2, 3)), check.GAP_AXES),
]


@pytest.mark.parametrize("impl,text", GAP_MISTAKES)
def test_global_average_pool_mistakes_are_named(impl, text):
    for run in GAP_CHECKS:
        with pytest.raises(CheckFailure) as err:
            run(impl)
        assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"


def test_stub_says_not_written():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for run in POOL_CHECKS + GAP_CHECKS:
        with pytest.raises(CheckFailure, match="not written yet"):
            run(stub)


# ------------------------------------------------------------ notebook structure
def test_notebook_layout():
    nb = cells.read(solution_path(STEM))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    assert answers == ["pool_forward", "global_average_pool"]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text and "Key points" in text and "Open exercises" in text


@pytest.mark.parametrize("seed", range(6))
def test_numpy_references_equal_keras_pooling(seed):
    """Hidden tests compare with the NumPy references; they must equal Keras' layers."""
    rng = np.random.default_rng(seed)
    f, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    A = rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(f, 12)),
                         int(rng.integers(f, 12)), int(rng.integers(1, 5))))
    for mode in ("max", "average"):
        np.testing.assert_allclose(hidden.reference_pool(A, f, s, mode),
                                   hidden.keras_pool(A, f, s, mode), atol=1e-12)
    np.testing.assert_allclose(hidden.reference_global_average(A), hidden.keras_global_average(A))

"""Notebook 08 (backpropagation through convolution and pooling).

- the grader's references agree with TensorFlow's automatic differentiation, and the
  visible checks' constants with the references;
- the spec's facts (section 3, "08") hold for the solution;
- every visible check and hidden test gives full marks to correct solutions written in
  other styles (loops, einsum, sliding_window_view, argmax, np.add.at, copies, float32),
  for several students' hidden inputs;
- every typical mistake of the issue loses points, and its message names it;
- the whole notebook grades the way the real grader does (``score_in_process``).
"""
from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader import notebook_cells as cells
from grader.references import backprop as hidden
from grader.references import seeding
from grader_kernel import testfns
from nbtools import score_in_process, solution_namespace, solution_path
from utils.checks import backprop as check
from utils.checks.core import CheckFailure

STEM = "08_backprop"
STUDENTS = ["s001", "ada lovelace", "z\u00e9ro"]
SECRET = b"test-backprop-secret"


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


@pytest.fixture(scope="module")
def tf():
    from utils.runtime import import_keras
    import_keras()  # starts TensorFlow quietly
    import tensorflow
    return tensorflow


# ================================================================ references vs TensorFlow
def _tf_conv_grads(tf, dZ, A, W, b, s, p):
    At, Wt, bt = (tf.Variable(np.asarray(v, dtype=np.float64)) for v in (A, W, b.reshape(-1)))
    with tf.GradientTape() as tape:
        Z = tf.nn.conv2d(tf.pad(At, [[0, 0], [p, p], [p, p], [0, 0]]), Wt, strides=s,
                         padding="VALID") + bt
        loss = tf.reduce_sum(Z * dZ)
    return [g.numpy() for g in tape.gradient(loss, [At, Wt, bt])]


def test_conv_reference_matches_tensorflow(tf):
    rng = np.random.default_rng(1)
    for m, n_h, n_w, n_cp, f, n_c, s, p in hidden._conv_cases(rng, 14):
        A = rng.normal(size=(m, n_h, n_w, n_cp))
        W = rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        dZ = rng.normal(size=(m, (n_h + 2 * p - f) // s + 1, (n_w + 2 * p - f) // s + 1, n_c))
        gA, gW, gb = _tf_conv_grads(tf, dZ, A, W, b, s, p)
        dA, dW, db = hidden.conv_backward_ref(dZ, A, W, s, p)
        np.testing.assert_allclose(dA, gA, atol=1e-10)
        np.testing.assert_allclose(dW, gW, atol=1e-10)
        np.testing.assert_allclose(db.reshape(-1), gb, atol=1e-10)
        # the mistake variants with every switch off are the reference too
        for ours, theirs in zip(hidden.conv_backward_variant(dZ, A, W, s, p), (dA, dW, db)):
            np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_pool_reference_matches_tensorflow(tf):
    rng = np.random.default_rng(2)
    for m, n_h, n_w, n_c, f, s in hidden._pool_cases(rng, 12):
        A = hidden.distinct_values(rng, (m, n_h, n_w, n_c))
        dA = rng.normal(size=(m, (n_h - f) // s + 1, (n_w - f) // s + 1, n_c))
        for mode, op in (("max", tf.nn.max_pool2d), ("average", tf.nn.avg_pool2d)):
            At = tf.Variable(A)
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(op(At, f, s, "VALID") * dA)
            expected = tape.gradient(loss, At).numpy()
            np.testing.assert_allclose(hidden.pool_backward_ref(dA, A, f, s, mode), expected,
                                       atol=1e-12)
            np.testing.assert_allclose(hidden.pool_backward_variant(dA, A, f, s, mode),
                                       expected, atol=1e-12)


def test_relu_convention_matches_tensorflow(tf):
    Z = np.array([-1.0, 0.0, 2.0])
    Zt = tf.Variable(Z)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.relu(Zt) * np.array([5.0, 6.0, 7.0]))
    assert tape.gradient(loss, Zt).numpy().tolist() == [0.0, 0.0, 7.0]  # 0 at Z == 0


def test_centred_difference_reference():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=(3, 4))
    fn = testfns.sin_dot(w=rng.normal(size=(3, 4)).tolist())
    np.testing.assert_allclose(hidden.centred_difference(fn, x, 1e-5), fn.gradient(x),
                               rtol=1e-8, atol=1e-9)
    cubic = testfns.cubic_sum(a=2.0, b=-1.0)  # the centred difference of x**3 is 3x**2 + h**2
    np.testing.assert_allclose(hidden.centred_difference(cubic, x, 0.1),
                               2 * (3 * x ** 2 + 0.01) - 1, rtol=1e-12)


def test_distinct_values_have_one_max_and_min_per_window():
    rng = np.random.default_rng(4)
    A = hidden.distinct_values(rng, (2, 6, 5, 3), np.float32)
    assert len(np.unique(A)) == A.size
    win = sliding_window_view(A, (3, 3), axis=(1, 2))
    assert ((win == win.max(axis=(-2, -1), keepdims=True)).sum(axis=(-2, -1)) == 1).all()


# ================================================================ visible constants
def test_visible_constants_equal_the_reference():
    dZ, (A, W, b, hp) = check.tiny_inputs()
    for ours, ref in zip(check.TINY_EXPECTED, hidden.conv_backward_ref(dZ, A, W, 1, 0)):
        np.testing.assert_array_equal(ours, ref)
    for ours, ref in zip(check.TINY_MISTAKES, hidden.conv_mistakes(dZ, A, W, 1, 0)):
        assert list(ours) == list(ref)
        for k in ours:
            np.testing.assert_allclose(ours[k], ref[k])
    for (dZ, (A, W, b, hp)), (expected, mistakes) in zip(check.conv_batch_inputs(),
                                                         check.CONV_BATCH_CASES):
        for ours, ref in zip(expected, hidden.conv_backward_ref(dZ, A, W, hp["stride"],
                                                                hp["pad"])):
            np.testing.assert_allclose(ours, ref)
        for ours, ref in zip(mistakes, hidden.conv_mistakes(dZ, A, W, hp["stride"], hp["pad"])):
            assert list(ours) == list(ref) and all(np.allclose(ours[k], ref[k]) for k in ours)
    for (grid, dA), (mode, f, s, expected, mistakes) in zip(check.POOL_GRID_INPUTS,
                                                            check.POOL_GRID_CASES):
        A, dA = check.as_batch(grid), check.as_batch(dA)
        np.testing.assert_allclose(check.as_batch(expected),
                                   hidden.pool_backward_ref(dA, A, f, s, mode))
        ref = hidden.pool_mistakes(dA, A, f, s, mode)
        assert list(mistakes) == list(ref)
        assert all(np.allclose(check.as_batch(mistakes[k]), ref[k]) for k in ref)
    dA, (A, hp) = check.pool_batch_inputs()
    for mode, (expected, mistakes) in check.POOL_BATCH_CASES.items():
        np.testing.assert_allclose(expected, hidden.pool_backward_ref(dA, A, 3, 2, mode))
        ref = hidden.pool_mistakes(dA, A, 3, 2, mode)
        assert list(mistakes) == list(ref) and all(np.allclose(mistakes[k], ref[k]) for k in ref)
    for (a, b), (expected, mistakes) in zip(check.RE_CASES_INPUTS, check.RE_CASES):
        assert expected == hidden.relative_error_ref(a, b)
        assert mistakes == pytest.approx(hidden.relative_error_mistakes(a, b))
    np.testing.assert_array_equal(check.RELU_EXPECTED,
                                  np.where(check.RELU_Z > 0, check.RELU_DA, 0))


def test_numerical_gradient_constants():
    cases = [(testfns.cubic_sum(**check.NG_CUBIC), check.NG_X, 0.1, check.NG_CUBIC_EXPECTED,
              check.NG_CUBIC_MISTAKES),
             (testfns.weighted_square(w=check.NG_SQUARE_W), check.NG_SQUARE_X, 1e-3,
              check.NG_SQUARE_EXPECTED, check.NG_SQUARE_MISTAKES),
             (testfns.sin_dot(w=check.NG_SIN_W), check.NG_SIN_X, 1e-5, check.NG_SIN_EXPECTED,
              check.NG_SIN_MISTAKES)]
    for fn, x, h, expected, mistakes in cases:
        np.testing.assert_allclose(expected, hidden.centred_difference(fn, x, h), rtol=1e-10)
        ref = hidden.numerical_gradient_mistakes(fn, x, h)
        assert list(mistakes) == list(ref)
        assert all(np.allclose(mistakes[k], ref[k], rtol=1e-10) for k in ref)


# ================================================================ spec facts (3.08)
def test_tiny_case_by_hand(ns):
    dZ, cache = check.tiny_inputs()
    dA, dW, db = ns["conv_backward"](dZ, cache)
    assert dA[0, :, :, 0].tolist() == [[2, -5, 2], [6, 0, -3], [0, 3, 1]]
    assert dW[:, :, 0, 0].tolist() == [[-3, 12], [-1, -1]]
    assert db.shape == (1, 1, 1, 1) and db.item() == check.TINY_DZ.sum() == 3


def test_full_convolution_with_the_flipped_kernel(ns):
    """One channel, stride 1, no padding: dA_prev = convolve2d_valid(pad(dZ, f - 1), K)."""
    rng = np.random.default_rng(5)
    for f, n_h, n_w in [(2, 5, 6), (3, 6, 7), (4, 7, 5)]:
        K = rng.normal(size=(f, f))
        dZ = rng.normal(size=(1, n_h - f + 1, n_w - f + 1, 1))
        A = rng.normal(size=(1, n_h, n_w, 1))
        dA, dW, _ = ns["conv_backward"](dZ, (A, K[:, :, None, None], np.zeros((1, 1, 1, 1)),
                                             {"stride": 1, "pad": 0}))
        padded = ns["zero_pad"](dZ, f - 1)[0, :, :, 0]
        np.testing.assert_allclose(dA[0, :, :, 0], ns["convolve2d_valid"](padded, K), atol=1e-12)
        np.testing.assert_allclose(dA[0, :, :, 0], ns["conv2d_valid"](padded, K[::-1, ::-1]),
                                   atol=1e-12)
        # its twin: dW is the valid cross-correlation of the input with dZ
        np.testing.assert_allclose(dW[:, :, 0, 0], ns["conv2d_valid"](A[0, :, :, 0],
                                                                       dZ[0, :, :, 0]),
                                   atol=1e-12)


def test_a_single_one_paints_the_kernel(ns):
    K = np.arange(1.0, 10.0).reshape(3, 3)
    for stride, (h, w) in [(1, (1, 2)), (2, (1, 1)), (3, (0, 1))]:
        dZ = np.zeros((1, 3, 3, 1))
        dZ[0, h, w, 0] = 1.0
        n = 3 + 2 * stride
        dA, _, _ = ns["conv_backward"](dZ, (np.zeros((1, n, n, 1)), K[:, :, None, None],
                                            np.zeros((1, 1, 1, 1)), {"stride": stride, "pad": 0}))
        expected = np.zeros((n, n))
        expected[h * stride:h * stride + 3, w * stride:w * stride + 3] = K
        np.testing.assert_array_equal(dA[0, :, :, 0], expected)


def test_db_is_the_sum_of_dZ(ns):
    rng = np.random.default_rng(6)
    dZ = rng.normal(size=(3, 4, 4, 5))
    cache = (rng.normal(size=(3, 6, 6, 2)), rng.normal(size=(3, 3, 2, 5)),
             rng.normal(size=(1, 1, 1, 5)), {"stride": 1, "pad": 0})
    _, _, db = ns["conv_backward"](dZ, cache)
    np.testing.assert_allclose(db.reshape(-1), dZ.sum(axis=(0, 1, 2)))


def test_gradient_check_below_1e7_in_float64(ns):
    """conv_backward and pool_backward against numerical_gradient of the forward passes."""
    rng = np.random.default_rng(7)
    A, W, b = rng.normal(size=(2, 5, 4, 3)), rng.normal(size=(3, 3, 3, 2)), \
        rng.normal(size=(1, 1, 1, 2))
    hp = {"stride": 2, "pad": 1}
    fwd, num, rel = ns["conv_forward"], ns["numerical_gradient"], ns["relative_error"]
    Z, cache = fwd(A, W, b, hp)
    dZ = rng.normal(size=Z.shape)
    dA, dW, db = ns["conv_backward"](dZ, cache)
    assert rel(dA, num(lambda v: np.sum(fwd(v, W, b, hp)[0] * dZ), A.copy())) < 1e-7
    assert rel(dW, num(lambda v: np.sum(fwd(A, v, b, hp)[0] * dZ), W.copy())) < 1e-7
    assert rel(db, num(lambda v: np.sum(fwd(A, W, v, hp)[0] * dZ), b.copy())) < 1e-7
    P = rng.normal(size=(2, 6, 5, 2))
    for mode in ("max", "average"):
        out, pcache = ns["pool_forward"](P, {"f": 3, "stride": 2}, mode=mode)
        dOut = rng.normal(size=out.shape)
        numeric = num(lambda v: np.sum(ns["pool_forward"](v, {"f": 3, "stride": 2}, mode)[0]
                                       * dOut), P.copy())
        assert rel(ns["pool_backward"](dOut, pcache, mode=mode), numeric) < 1e-7


def test_a_wrong_backward_pass_fails_the_gradient_check(ns):
    """The numerical check the notebook shows does see a mistake (stride ignored)."""
    rng = np.random.default_rng(8)
    A, W, b = rng.normal(size=(1, 5, 5, 1)), rng.normal(size=(3, 3, 1, 1)), np.zeros((1, 1, 1, 1))
    hp = {"stride": 2, "pad": 0}
    Z, cache = ns["conv_forward"](A, W, b, hp)
    dZ = rng.normal(size=Z.shape)
    wrong, _, _ = hidden.conv_backward_variant(dZ, A, W, 2, 0, ignore_stride=True)
    numeric = ns["numerical_gradient"](lambda v: np.sum(ns["conv_forward"](v, W, b, hp)[0] * dZ),
                                       A.copy())
    assert ns["relative_error"](wrong, numeric) > 1e-2


# ================================================================ correct solutions, other styles
STYLES = {  # answer grade_id: sources that define the graded function differently
    "conv_backward": [
        '''
def conv_backward(dZ, cache):
    """Vectorised: sliding windows and einsum for dW, a scatter per output position."""
    A_prev, W, b, hp = cache
    s, p = hp["stride"], hp["pad"]
    f = W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    win = sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::s, ::s][:, :n_H, :n_W]
    dW = np.einsum("mhwcij,mhwk->ijck", win, dZ)
    dA_pad = np.zeros(A_pad.shape)
    for h in range(n_H):
        for w in range(n_W):
            dA_pad[:, h * s:h * s + f, w * s:w * s + f, :] += np.einsum("ijck,mk->mijc", W,
                                                                       dZ[:, h, w, :])
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    dA = dA_pad[:, p:-p, p:-p, :] if p else dA_pad
    return dA, dW, db
''',
        '''
def conv_backward(dZ, cache):
    """float32 throughout, a matrix product per window, a list as the result."""
    A_prev, W, b, hp = cache
    s, p = hp["stride"], hp["pad"]
    A_pad = np.pad(np.asarray(A_prev, np.float32), ((0, 0), (p, p), (p, p), (0, 0)))
    W32, dZ32 = np.asarray(W, np.float32), np.asarray(dZ, np.float32)
    f = W.shape[0]
    dA_pad = np.zeros_like(A_pad)
    dW = np.zeros_like(W32)
    m, n_H, n_W, n_C = dZ.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                sl = (i, slice(h * s, h * s + f), slice(w * s, w * s + f))
                dA_pad[sl] += W32 @ dZ32[i, h, w]
                dW += A_pad[sl][..., None] * dZ32[i, h, w]
    n_Hp, n_Wp = A_prev.shape[1:3]
    return [dA_pad[:, p:p + n_Hp, p:p + n_Wp], dW, dZ32.sum(axis=(0, 1, 2), keepdims=True)]
''',
    ],
    "pool_backward": [
        '''
def pool_backward(dA, cache, mode="max"):
    """argmax and unravel_index in max mode, np.full in average mode."""
    A_prev, hp = cache
    f, s = hp["f"], hp["stride"]
    dA_prev = np.zeros(A_prev.shape, dtype=float)
    m, n_H, n_W, n_C = dA.shape
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    if mode == "max":
                        win = A_prev[i, h * s:h * s + f, w * s:w * s + f, c]
                        a, b = np.unravel_index(np.argmax(win), win.shape)
                        dA_prev[i, h * s + a, w * s + b, c] += dA[i, h, w, c]
                    else:
                        dA_prev[i, h * s:h * s + f, w * s:w * s + f, c] += np.full(
                            (f, f), dA[i, h, w, c] / f ** 2)
    return dA_prev
''',
        '''
def pool_backward(dA, cache, mode="max"):
    """No Python loop over positions: flat argmax of every window and np.add.at; float32."""
    A_prev, hp = cache
    f, s = hp["f"], hp["stride"]
    m, n_H, n_W, n_C = dA.shape
    A = np.asarray(A_prev, dtype=np.float32)
    win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::s, ::s][:, :n_H, :n_W]
    i, h, w, c = np.indices((m, n_H, n_W, n_C))
    out = np.zeros(A.shape, dtype=np.float32)
    if mode == "max":
        k = win.reshape(m, n_H, n_W, n_C, f * f).argmax(axis=-1)
        np.add.at(out, (i, h * s + k // f, w * s + k % f, c), dA)
    else:
        for a in range(f):
            for b in range(f):
                np.add.at(out, (i, h * s + a, w * s + b, c), dA / (f * f))
    return out
''',
    ],
    "relu_backward": [
        '''
def relu_backward(dA, Z):
    return dA * (Z > 0)
''',
        '''
def relu_backward(dA, Z):
    dZ = np.array(dA, dtype=np.float32, copy=True)
    dZ[Z <= 0] = 0
    return dZ
''',
    ],
    "numerical_gradient": [
        '''
def numerical_gradient(f, x, h=1e-5):
    """Copies instead of changing x."""
    grad = np.zeros_like(x, dtype=float)
    for i in range(x.size):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus.flat[i] += h
        x_minus.flat[i] -= h
        grad.flat[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad
''',
        '''
def numerical_gradient(f, x, h=1e-5):
    """np.nditer with readwrite, x[i] += h then -= 2h then += h (rounding may remain)."""
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        x[idx] += h
        up = f(x)
        x[idx] -= 2 * h
        down = f(x)
        x[idx] += h
        grad[idx] = (up - down) / (2 * h)
        it.iternext()
    return grad
''',
    ],
    "relative_error": [
        '''
def relative_error(a, b):
    worst = 0.0
    for x, y in zip(np.ravel(a), np.ravel(b)):
        worst = max(worst, abs(x - y) / max(1e-8, abs(x) + abs(y)))
    return worst
''',
        '''
def relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))
''',
    ],
}
CHECKS = {  # graded function: every visible check and hidden test that calls it
    "conv_backward": [check.conv_backward_shapes, check.conv_backward_tiny_example,
                      check.conv_backward_stride_pad_batch, hidden.conv_backward_random_shapes,
                      hidden.conv_backward_single_channel, hidden.conv_backward_matches_reference],
    "pool_backward": [check.pool_backward_max_examples, check.pool_backward_average_examples,
                      hidden.pool_backward_max_reference, hidden.pool_backward_average_reference],
    "relu_backward": [check.relu_backward_examples, hidden.relu_backward_random],
    "numerical_gradient": [check.numerical_gradient_examples,
                           hidden.numerical_gradient_matches_reference],
    "relative_error": [check.relative_error_examples, hidden.relative_error_random],
}


def _define(source: str, name: str):
    space = {"np": np, "sliding_window_view": sliding_window_view}
    exec(textwrap.dedent(source), space)
    return space[name]


@pytest.mark.parametrize("name", list(CHECKS))
def test_checks_pass_correct_solutions(ns, name, capsys):
    fns = [ns[name]] + [_define(src, name) for src in STYLES[name]]
    for fn in fns:
        for run in CHECKS[name]:
            run(fn)
    assert capsys.readouterr().out.count("\u2714") == len(CHECKS[name]) * len(fns)


@pytest.mark.parametrize("student", STUDENTS)
def test_hidden_tests_fair_for_every_student(ns, student, capsys):
    """Each student's own hidden inputs: full marks for every correct style."""
    for name, runs in CHECKS.items():
        fns = [ns[name]] + [_define(src, name) for src in STYLES[name]]
        for run in runs:
            if run.__module__ != hidden.__name__:
                continue
            with seeding.for_test(SECRET, STEM, run.__name__, student):
                for fn in fns:
                    run(fn)
    capsys.readouterr()


def test_hidden_inputs_differ_between_students():
    """Per-student seeds reach the hidden cases (so shown expected values cannot be typed in)."""
    drawn = []
    for student in STUDENTS[:2]:
        with seeding.for_test(SECRET, STEM, "conv_backward_stride_pad_batch", student):
            drawn.append(hidden._conv_cases(seeding.rng(hidden.SEED), 9)[-1])
    with seeding.for_test(SECRET, STEM, "conv_backward_stride_pad_batch", STUDENTS[0]):
        again = hidden._conv_cases(seeding.rng(hidden.SEED), 9)[-1]
    assert drawn[0] == again
    rng_a, rng_b = [], []
    for student, out in zip(STUDENTS[:2], (rng_a, rng_b)):
        with seeding.for_test(SECRET, STEM, "pool_backward_max", student):
            out.append(seeding.rng(hidden.SEED + 3).normal(size=5))
    assert not np.allclose(rng_a[0], rng_b[0])


# ================================================================ typical mistakes
def _conv_back(dZ, cache, *, flip=False, no_weights=False, ignore_stride=False,
               overwrite_dA=False, overwrite_dW=False, first_example=False, crop="pad",
               db="sum", dW_over_m=False, order=False, swap_W_axes=False):
    """A loop conv_backward (written here, apart from the grader's) with switchable mistakes."""
    A_prev, W, b, hp = cache
    s = 1 if ignore_stride else hp["stride"]
    p = hp["pad"]
    f = W.shape[0]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0))).astype(float)
    dA_pad = np.zeros(A_pad.shape)
    dW = np.zeros(W.shape)
    Wb = W[::-1, ::-1] if flip else W
    for i in range(1 if first_example else m):
        for h in range(n_H):
            for w in range(n_W):
                rows, cols = slice(h * s, h * s + f), slice(w * s, w * s + f)
                for c in range(n_C):
                    g = dZ[i, h, w, c]
                    add = g if no_weights else Wb[:, :, :, c] * g
                    if overwrite_dA:
                        dA_pad[i, rows, cols, :] = add
                    else:
                        dA_pad[i, rows, cols, :] += add
                    if overwrite_dW:
                        dW[:, :, :, c] = A_pad[i, rows, cols, :] * g
                    else:
                        dW[:, :, :, c] += A_pad[i, rows, cols, :] * g
    n_Hp, n_Wp = A_prev.shape[1:3]
    dA = {"pad": dA_pad[:, p:p + n_Hp, p:p + n_Wp], "keep": dA_pad,
          "minus": dA_pad[:, p:-p, p:-p], "offset": dA_pad[:, :n_Hp, :n_Wp]}[crop]
    total = (dZ[:1] if first_example else dZ).sum(axis=(0, 1, 2))
    db_out = {"sum": total.reshape(1, 1, 1, -1), "mean": dZ.mean(axis=(0, 1, 2), keepdims=True),
              "flat": total, "batch": total.reshape(1, 1, 1, -1) / m}[db]
    if dW_over_m:
        dW = dW / m
    if swap_W_axes:
        dW = dW.transpose(0, 1, 3, 2)
    return (dW, dA, db_out) if order else (dA, dW, db_out)


def _conv(**kw):
    return lambda dZ, cache: _conv_back(dZ, cache, **kw)


CONV_VALUE_CHECKS = [check.conv_backward_stride_pad_batch, hidden.conv_backward_matches_reference]
CONV_MISTAKES = [  # (implementation, checks that must fail, text the message must contain)
    (_conv(crop="keep"), [check.conv_backward_shapes, hidden.conv_backward_random_shapes,
                          hidden.conv_backward_matches_reference], check.DA_PADDED),
    (_conv(crop="minus"), [check.conv_backward_shapes, hidden.conv_backward_random_shapes,
                           check.conv_backward_tiny_example], check.DA_EMPTY_PAD0),
    (_conv(crop="offset"), CONV_VALUE_CHECKS, check.DA_CROP_OFFSET),
    (_conv(db="mean"), [check.conv_backward_tiny_example, hidden.conv_backward_single_channel]
     + CONV_VALUE_CHECKS, check.DB_AVERAGED),
    (_conv(db="batch"), CONV_VALUE_CHECKS, check.DB_AVERAGED_BATCH),
    (_conv(db="flat"), [check.conv_backward_shapes, hidden.conv_backward_random_shapes],
     check.DB_SHAPE),
    (_conv(ignore_stride=True), CONV_VALUE_CHECKS, check.STRIDE_IGNORED),
    (_conv(overwrite_dW=True), [check.conv_backward_tiny_example,
                                hidden.conv_backward_single_channel] + CONV_VALUE_CHECKS,
     check.DW_OVERWRITTEN),
    (_conv(overwrite_dA=True), [check.conv_backward_tiny_example,
                                hidden.conv_backward_single_channel] + CONV_VALUE_CHECKS,
     check.DA_OVERWRITTEN),
    (_conv(no_weights=True), [check.conv_backward_tiny_example,
                              hidden.conv_backward_single_channel] + CONV_VALUE_CHECKS,
     check.DA_NO_WEIGHTS),
    (_conv(flip=True), [check.conv_backward_tiny_example, hidden.conv_backward_single_channel]
     + CONV_VALUE_CHECKS, check.DA_FLIPPED),
    (_conv(first_example=True), CONV_VALUE_CHECKS, check.FIRST_EXAMPLE),
    (_conv(dW_over_m=True), CONV_VALUE_CHECKS, check.DW_AVERAGED),
    (_conv(order=True), [check.conv_backward_shapes, hidden.conv_backward_random_shapes],
     check.ORDER),
    (_conv(swap_W_axes=True), [check.conv_backward_shapes], check.DW_TRANSPOSED),
    (lambda dZ, cache: _conv_back(dZ, cache)[:2], [check.conv_backward_shapes],
     "expected three arrays"),
]


def _fails_with(run, fn, text):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"
    return str(err.value)


def _ids(table, at=2):
    return [re.sub(r"\W+", "_", row[at][:36]).strip("_") for row in table]


@pytest.mark.parametrize("impl,runs,text", CONV_MISTAKES, ids=_ids(CONV_MISTAKES))
def test_conv_backward_mistakes_are_named(impl, runs, text):
    for run in runs:
        _fails_with(run, impl, text)


def _pool_back(dA, cache, mode="max", *, route="max", divide=None, overwrite=False,
               ignore_stride=False, across=False, force=None, shape_of_dA=False):
    """A loop pool_backward (written here, apart from the grader's) with switchable mistakes."""
    A_prev, hp = cache
    f, s = hp["f"], 1 if ignore_stride else hp["stride"]
    mode = force or mode
    m, n_H, n_W, n_C = dA.shape
    out = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                rows, cols = slice(h * s, h * s + f), slice(w * s, w * s + f)
                for c in range(n_C):
                    if mode == "max":
                        win = A_prev[i, rows, cols, :] if across else A_prev[i, rows, cols, c]
                        pick = {"max": np.max, "min": np.min}.get(route)
                        mask = np.ones(win.shape) if route == "all" else (win == pick(win))
                        add = (mask[..., c] if across else mask) * dA[i, h, w, c]
                    else:
                        add = np.full((f, f), dA[i, h, w, c] / (divide or f * f))
                    if overwrite:
                        out[i, rows, cols, c] = add
                    else:
                        out[i, rows, cols, c] += add
    return dA.copy() if shape_of_dA else out


def _pool(**kw):
    return lambda dA, cache, mode="max": _pool_back(dA, cache, mode, **kw)


MAX_CHECKS = [check.pool_backward_max_examples, hidden.pool_backward_max_reference]
AVG_CHECKS = [check.pool_backward_average_examples, hidden.pool_backward_average_reference]
POOL_MISTAKES = [
    (_pool(route="all"), MAX_CHECKS, check.MAX_SPREAD),
    (_pool(route="min"), MAX_CHECKS, check.MAX_TO_MIN),
    (_pool(across=True), MAX_CHECKS, check.POOL_ACROSS_CHANNELS),
    (_pool(divide=1), AVG_CHECKS, check.AVG_NOT_DIVIDED),
    (lambda dA, cache, mode="max": _pool_back(dA, cache, mode, divide=cache[1]["f"]),
     AVG_CHECKS, check.AVG_DIVIDED_BY_F),
    (_pool(overwrite=True), MAX_CHECKS + AVG_CHECKS, check.POOL_OVERWRITTEN),
    (_pool(ignore_stride=True), MAX_CHECKS + AVG_CHECKS, check.POOL_STRIDE_IGNORED),
    (_pool(force="average"), MAX_CHECKS, check.AVG_FOR_MAX),
    (_pool(force="max"), AVG_CHECKS, check.MAX_FOR_AVG),
    (lambda dA, cache, mode="average": _pool_back(dA, cache, mode), MAX_CHECKS,
     check.POOL_DEFAULT),
    (_pool(shape_of_dA=True), MAX_CHECKS + AVG_CHECKS, check.POOL_SHAPE_OUT),
]


@pytest.mark.parametrize("impl,runs,text", POOL_MISTAKES, ids=_ids(POOL_MISTAKES))
def test_pool_backward_mistakes_are_named(impl, runs, text):
    for run in runs:
        _fails_with(run, impl, text)


def test_pool_backward_int_buffer_is_caught():
    """dA_prev = np.zeros_like(A_prev) takes an integer image's dtype and truncates."""
    def int_buffer(dA, cache, mode="max"):
        out = _pool_back(dA, cache, mode)
        return out.astype(cache[0].dtype)
    _fails_with(hidden.pool_backward_average_reference, int_buffer, "expected a float array")


def _ng(kind):
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros(x.shape)
        f0 = f(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + h
            up = f(x)
            x[idx] = old - h
            down = f(x)
            if kind != "left_minus":
                x[idx] = old
            if kind == "left_plus":
                x[idx] = old + h
            grad[idx] = {"one_sided": (up - f0) / h, "one_sided_back": (f0 - down) / h,
                         "over_h": (up - down) / h}.get(kind, (up - down) / (2 * h))
        if kind == "flat":
            return grad.ravel()
        if kind == "all_at_once":
            return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
        return grad
    return numerical_gradient


def _ng_exact(f, x, h=1e-5):
    return f.gradient(x)


def _ng_fixed_h(f, x, h=1e-5):
    return _ng("right")(f, x, 1e-5)


NG_CHECKS = [check.numerical_gradient_examples, hidden.numerical_gradient_matches_reference]
NG_MISTAKES = [
    (_ng("one_sided"), check.NG_ONE_SIDED),
    (_ng("one_sided_back"), check.NG_ONE_SIDED_BACK),
    (_ng("over_h"), check.NG_OVER_H),
    (_ng("all_at_once"), check.NG_ALL_AT_ONCE),
    (_ng("flat"), check.NG_FLAT),
    (_ng_exact, check.NG_EXACT),
    (_ng_fixed_h, check.NG_H_IGNORED),
    (_ng("left_plus"), "each changed entry was left at x[i] + h"),
    (_ng("left_minus"), "each changed entry was left at x[i] - h"),
]


@pytest.mark.parametrize("impl,text", NG_MISTAKES, ids=_ids(NG_MISTAKES, 1))
def test_numerical_gradient_mistakes_are_named(impl, text):
    for run in NG_CHECKS:
        message = _fails_with(run, impl, text)
        if "left at" in text:
            assert check.NG_LEFT_CHANGED in message and "did not put it back" in message


def test_x_restored_up_to_rounding_passes(capsys):
    """x[i] += h; x[i] -= 2h; x[i] += h leaves a rounding-level difference: that is fair."""
    fn = _define(STYLES["numerical_gradient"][1], "numerical_gradient")
    probe = check.NG_X.copy()
    fn(testfns.cubic_sum(a=1.0), probe, h=0.1)
    assert not np.array_equal(probe, check.NG_X)  # the style really leaves rounding behind
    np.testing.assert_allclose(probe, check.NG_X, rtol=0, atol=1e-15)
    for run in NG_CHECKS:
        run(fn)
    assert capsys.readouterr().out.count("\u2714") == 2


def _through_the_wire(source: str, name: str):
    """The student's function as the grader sees it: a remote into a kernel namespace."""
    from grader.trusted.remote import LocalChannel, Remote
    kernel = {"np": np}
    exec(textwrap.dedent(source), kernel)
    return Remote(LocalChannel(kernel)).bind([name])[name]


LEFT_CHANGED = '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        up = f(x)
        x[idx] -= 2 * h
        grad[idx] = (up - f(x)) / (2 * h)     # right values, but x stays at x - h
    return grad
'''


def test_x_left_changed_is_seen_through_the_wire(capsys):
    """The kernel's in-place change comes back to the grader, which names it."""
    remote = _through_the_wire(LEFT_CHANGED, "numerical_gradient")
    for run in NG_CHECKS:
        message = _fails_with(run, remote, check.NG_LEFT_CHANGED)
        assert "left at x[i] - h" in message
    fair = _through_the_wire(STYLES["numerical_gradient"][1], "numerical_gradient")
    for run in NG_CHECKS:
        run(fair)
    assert capsys.readouterr().out.count("\u2714") == 2


RELU_MISTAKES = [
    (lambda dA, Z: np.where(Z >= 0, dA, 0.0), check.RELU_AT_ZERO),
    (lambda dA, Z: np.where(dA > 0, dA, 0.0), check.RELU_MASK_FROM_DA),
    (lambda dA, Z: (Z > 0).astype(float), check.RELU_MASK_ONLY),
    (lambda dA, Z: dA * np.maximum(Z, 0), check.RELU_TIMES_Z),
    (lambda dA, Z: np.where(Z <= 0, dA, 0.0), check.RELU_INVERTED),
]


@pytest.mark.parametrize("impl,text", RELU_MISTAKES, ids=_ids(RELU_MISTAKES, 1))
def test_relu_backward_mistakes_are_named(impl, text):
    _fails_with(check.relu_backward_examples, impl, text)
    _fails_with(hidden.relu_backward_random, impl, text)


def test_relu_backward_in_place_and_identity_are_caught():
    def in_place(dA, Z):
        dA[Z <= 0] = 0
        return dA
    for run in (check.relu_backward_examples, hidden.relu_backward_random):
        _fails_with(run, in_place, "in place")
    _fails_with(check.relu_backward_examples, lambda dA, Z: dA, "returned its input dA itself")


RE_MISTAKES = [
    (lambda a, b: np.abs(a - b).max() / max(1e-8, (np.abs(a) + np.abs(b)).max()),
     check.RE_RATIO_OF_MAXES),
    (lambda a, b: np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))), check.RE_MEAN),
    (lambda a, b: np.sum(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))), check.RE_SUM),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))), check.RE_NO_ABS_DEN),
    (lambda a, b: np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))), check.RE_SIGNED),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(b))), check.RE_RELATIVE_TO_ONE),
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), check.RE_NO_GUARD),
]


@pytest.mark.parametrize("impl,text", RE_MISTAKES, ids=_ids(RE_MISTAKES, 1))
def test_relative_error_mistakes_are_named(impl, text):
    with np.errstate(all="ignore"):
        _fails_with(check.relative_error_examples, impl, text)
        _fails_with(hidden.relative_error_random, impl, text)


@pytest.mark.parametrize("student", STUDENTS)
def test_mistakes_caught_for_every_student(student):
    """Sensitivity does not depend on the hidden seed: each student's inputs catch them."""
    rows = [(impl, [r for r in runs if r.__module__ == hidden.__name__], text)
            for impl, runs, text in CONV_MISTAKES + POOL_MISTAKES]
    rows += [(impl, [NG_CHECKS[1]], text) for impl, text in NG_MISTAKES]
    for impl, runs, text in rows:
        for run in runs:
            with seeding.for_test(SECRET, STEM, run.__name__, student):
                _fails_with(run, impl, text)


def test_stub_says_not_written():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for runs in CHECKS.values():
        for run in runs:
            _fails_with(run, stub, "not written yet")


# ================================================================ whole notebook, as graded
@pytest.mark.slow
def test_whole_notebook_full_marks_in_every_style():
    full, total, failed = score_in_process(STEM)
    assert full == total == 24 and failed == []
    for gid, sources in STYLES.items():
        for src in sources:
            # the kernel namespace has np from the setup cell; the styles import what else they use
            code = "from numpy.lib.stride_tricks import sliding_window_view\n" + textwrap.dedent(src)
            points, total, failed = score_in_process(STEM, {gid: code}, student="s001")
            assert (points, failed) == (total, []), (gid, failed)


NOTEBOOK_MISTAKES = [  # (answer grade_id, replacement source, the tests it must fail)
    ("conv_backward", '''
def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_prev_pad = np.zeros(A_prev_pad.shape)
    dW = np.zeros(W.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                a_slice = A_prev_pad[i, h:h + f, w:w + f, :]      # stride forgotten
                for c in range(n_C):
                    dA_prev_pad[i, h:h + f, w:w + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
    db = np.mean(dZ, axis=(0, 1, 2), keepdims=True)               # averaged
    return dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :], dW, db
''', {"conv_backward_tiny_case", "conv_backward_stride_pad_batch"}),
    ("pool_backward", '''
def pool_backward(dA, cache, mode="max"):
    A_prev, hp = cache
    f, s = hp["f"], hp["stride"]
    out = np.zeros(A_prev.shape)
    for h in range(dA.shape[1]):
        for w in range(dA.shape[2]):
            # the whole window gets dA in both modes: not routed to the max, not divided
            out[:, h * s:h * s + f, w * s:w * s + f, :] += dA[:, h:h + 1, w:w + 1, :]
    return out
''', {"pool_backward_max", "pool_backward_average"}),
    ("numerical_gradient", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        x[idx] += h                       # never put back
        grad[idx] = (f(x) - f(x - h)) / h
    return grad
''', {"numerical_gradient_centred"}),
    ("relu_backward", '''
def relu_backward(dA, Z):
    return np.where(Z >= 0, dA, 0)
''', {"relu_backward_mask"}),
    ("relative_error", '''
def relative_error(a, b):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
''', {"relative_error_values"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("gid,source,must_fail", NOTEBOOK_MISTAKES,
                         ids=[row[0] for row in NOTEBOOK_MISTAKES])
def test_whole_notebook_mistakes_lose_points(gid, source, must_fail):
    points, total, failed = score_in_process(STEM, {gid: textwrap.dedent(source)},
                                             student="ada lovelace")
    assert set(failed) == must_fail and points < total


def test_typical_mistakes_student_file_names_real_cells():
    from grader.authoring.example_class import parse_mistakes
    from nbtools import REPO
    mistakes = parse_mistakes(REPO / "data" / "example_class" / "typical_mistakes" / f"{STEM}.py")
    points, total, failed = score_in_process(STEM, mistakes)
    assert 0 < points < total
    assert {"conv_backward_stride_pad_batch", "pool_backward_max",
            "pool_backward_average"} <= set(failed)
    assert "conv_backward_shapes" not in failed and "numerical_gradient_centred" not in failed


# ================================================================ notebook structure
def test_notebook_layout():
    nb = cells.read(solution_path(STEM))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    assert answers == ["earlier_edges_padding", "earlier_conv_pool", "numerical_gradient",
                       "relative_error", "relu_backward", "conv_backward", "pool_backward"]
    tests = [cells.nbgrader_meta(c) for c in cells.iter_cells(nb, "test")]
    assert sum(t["points"] for t in tests) == 24
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text and "Key points" in text and "Open exercises" in text


def test_no_test_cell_uses_the_pasted_forward_passes():
    """08's tests build their caches themselves: they never call 01-05's functions."""
    nb = cells.read(solution_path(STEM))
    pasted = {"conv2d_valid", "convolve2d_valid", "zero_pad", "conv_single_step",
              "conv_forward", "relu", "pool_forward"}
    for cell in cells.iter_cells(nb, "test"):
        from grader.trusted.verdicts import names_read
        assert not names_read(cell.source) & pasted, cells.nbgrader_meta(cell)["grade_id"]

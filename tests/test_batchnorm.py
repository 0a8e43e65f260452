"""Notebook 09 (batch normalisation): spec facts (against Keras and TensorFlow's gradients),
the visible constants, and that every visible check and hidden test gives full marks to
correct solutions (loops, vectorised, keepdims, reshapes, float32) and fails each typical
mistake with a message that names it, also when graded the trusted way (score_in_process)
and for every student's hidden inputs.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap

import numpy as np
import pytest

from grader import notebook_cells as cells
from grader.references import batchnorm as hidden
from grader.references.backprop import centred_difference, relative_error_ref
from grader.references import seeding
from nbtools import REPO, release_path, score_in_process, solution_namespace, solution_path
from utils.checks import batchnorm as check
from utils.checks.core import CheckFailure
from utils.plotting import batchnorm as bn_plots
from utils.runtime import import_keras

STEM = "09_batchnorm"
GRADED = ("batchnorm_forward", "batchnorm_inference", "update_running_stats",
          "batchnorm_backward")


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


# ------------------------------------------------------------ spec facts (3.09)
@pytest.mark.parametrize("shape", [(16, 3), (4, 5, 6, 3)])
def test_each_channel_has_mean_zero_and_variance_var_over_var_plus_eps(ns, shape):
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape) * np.array([3.0, 0.5, 0.004]) + np.array([5.0, -2.0, 1.0])
    eps = 1e-5
    out, mean, var = ns["batchnorm_forward"](X, np.ones(3), np.zeros(3), eps)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), var / (var + eps), rtol=1e-10)
    assert var[2] / (var[2] + eps) < 0.9  # a channel with variance near eps stays below 1
    np.testing.assert_allclose(var, X.reshape(-1, 3).var(axis=0))  # biased


def test_gamma_and_beta_can_undo_the_normalisation(ns):
    X = np.random.default_rng(1).normal(size=(3, 4, 4, 2)) * 2 + 1
    _, mean, var = ns["batchnorm_forward"](X, np.ones(2), np.zeros(2))
    out, _, _ = ns["batchnorm_forward"](X, np.sqrt(var + 1e-5), mean)
    np.testing.assert_allclose(out, X, atol=1e-12)


def test_a_batch_of_one_gives_beta_in_training_mode_only(ns):
    beta = np.array([0.1, -0.3, 0.7])
    gamma = np.array([2.0, 0.5, 1.0])
    for x in ([[1.0, 4.0, -2.0]], [[-10.0, 0.0, 3.0]]):
        out, _, var = ns["batchnorm_forward"](np.array(x), gamma, beta)
        np.testing.assert_array_equal(out, [beta])
        assert np.all(var == 0)
        inf = ns["batchnorm_inference"](np.array(x), gamma, beta, np.zeros(3), np.ones(3))
        assert not np.allclose(inf, [beta])


@pytest.mark.parametrize("shape", [(8, 3), (2, 5, 4, 3)])
def test_matches_keras_in_training_and_inference_mode(ns, shape):
    """BatchNormalization(epsilon=eps, momentum=0.99), float32 as a student would run it:
    training=True equals batchnorm_forward to 1e-5, the moving statistics after one step
    equal update_running_stats, and training=False equals batchnorm_inference."""
    keras = import_keras()
    rng = np.random.default_rng(2)
    eps = 1e-5
    X = (rng.normal(size=shape) * np.array([3.0, 0.5, 1.0]) + np.array([5.0, -2.0, 0.0])
         ).astype("float32")
    gamma = rng.uniform(0.5, 2, 3).astype("float32")
    beta = rng.normal(size=3).astype("float32")
    layer = keras.layers.BatchNormalization(epsilon=eps, momentum=0.99)
    layer.build(X.shape)
    layer.set_weights([gamma, beta, np.zeros(3, "float32"), np.ones(3, "float32")])
    k_train = keras.ops.convert_to_numpy(layer(X, training=True))
    out, mean, var = ns["batchnorm_forward"](X.astype(float), gamma, beta, eps)
    assert np.abs(k_train - out).max() < 1e-5
    new_mean, new_var = ns["update_running_stats"](np.zeros(3), np.ones(3), mean, var)
    k_mean = keras.ops.convert_to_numpy(layer.moving_mean)
    k_var = keras.ops.convert_to_numpy(layer.moving_variance)
    np.testing.assert_allclose(k_mean, new_mean, atol=1e-6)
    np.testing.assert_allclose(k_var, new_var, atol=1e-6)
    k_inf = keras.ops.convert_to_numpy(layer(X, training=False))
    inf = ns["batchnorm_inference"](X.astype(float), gamma, beta, k_mean, k_var, eps)
    assert np.abs(k_inf - inf).max() < 1e-5
    assert layer.count_params() == 4 * 3 and len(layer.trainable_weights) == 2


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 3, 2)])
def test_backward_matches_centred_differences_and_dx_sums_to_zero(ns, shape):
    rng = np.random.default_rng(3)
    n = shape[-1]
    X = 1 + 2 * rng.normal(size=shape)
    gamma, beta = rng.normal(size=n), rng.normal(size=n)
    dout = rng.normal(size=shape)
    fwd = ns["batchnorm_forward"]
    dX, dgamma, dbeta = ns["batchnorm_backward"](dout, X, gamma)
    num = [centred_difference(lambda x: np.sum(fwd(x, gamma, beta)[0] * dout), X, 1e-6),
           centred_difference(lambda g: np.sum(fwd(X, g, beta)[0] * dout), gamma, 1e-6),
           centred_difference(lambda b: np.sum(fwd(X, gamma, b)[0] * dout), beta, 1e-6)]
    for analytic, numerical in zip((dX, dgamma, dbeta), num):
        assert relative_error_ref(analytic, numerical) < 1e-7
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(dX.sum(axis=axes), 0, atol=1e-12)


def test_running_stats_follow_keras_convention_and_leave_inputs(ns):
    rm, rv, bm, bv = (np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([2.0, 3.0]),
                      np.array([0.5, 4.0]))
    before = [a.copy() for a in (rm, rv, bm, bv)]
    new_mean, new_var = ns["update_running_stats"](rm, rv, bm, bv)
    np.testing.assert_allclose(new_mean, [0.02, 1.02])
    np.testing.assert_allclose(new_var, [0.995, 2.02])
    for a, b in zip((rm, rv, bm, bv), before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ns["update_running_stats"](rm, rv, bm, bv, 0.9)[0], [0.2, 1.2])


# ------------------------------------------------------------ references and constants
def test_references_match_keras_and_tensorflow_gradients():
    import tensorflow as tf

    rng = np.random.default_rng(4)
    for shape in ((7, 3), (3, 4, 5, 3)):
        X = rng.normal(1, 2, shape)
        g, b = rng.normal(size=3), rng.normal(size=3)
        mm, mv = rng.normal(size=3), rng.uniform(0.5, 2, 3)
        for eps in (1e-5, 0.3):
            train, new_mean, new_var, infer = hidden.keras_batchnorm(X, g, b, mm, mv, eps)
            out, mean, var = hidden.reference_forward(X, g, b, eps)
            np.testing.assert_allclose(out, train, atol=1e-12)
            np.testing.assert_allclose(hidden.reference_inference(X, g, b, mm, mv, eps), infer,
                                       atol=1e-12)
            for mine, keras_value in zip(hidden.reference_update(mm, mv, mean, var),
                                         (new_mean, new_var)):
                np.testing.assert_allclose(mine, keras_value, atol=1e-12)
            dout = rng.normal(size=shape)
            Xt, gt, bt = tf.constant(X), tf.constant(g), tf.constant(b)
            axes = tuple(range(len(shape) - 1))
            with tf.GradientTape() as tape:
                tape.watch([Xt, gt, bt])
                mu = tf.reduce_mean(Xt, axis=axes)
                v = tf.reduce_mean((Xt - mu) ** 2, axis=axes)
                loss = tf.reduce_sum((gt * (Xt - mu) / tf.sqrt(v + eps) + bt) * dout)
            for mine, tf_grad in zip(hidden.reference_backward(dout, X, g, eps),
                                     tape.gradient(loss, [Xt, gt, bt])):
                np.testing.assert_allclose(mine, tf_grad.numpy(), atol=1e-10)


def _generated_constants():
    """Every expected output and mistake output the visible checks hold, recomputed."""
    C = check
    out = {}

    def put(prefix, names, values):
        for name, value in zip(names, values):
            out[f"{prefix}_{name}"] = value

    for p, args in (("FD", (C.FD_X, C.FD_GAMMA, C.FD_BETA)),
                    ("FM", (C.FM_X, C.FM_GAMMA, C.FM_BETA)),
                    ("EPS", (C.EPS_X, C.EPS_GAMMA, C.EPS_BETA, C.EPS_LARGE))):
        put(p, ("OUT", "MEAN", "VAR"), hidden.reference_forward(*args))
        out[f"{p}_MISTAKES"] = hidden.forward_mistakes(*args)
    for p, args in (("INF", (C.INF_X, C.INF_GAMMA, C.INF_BETA, C.INF_MEAN, C.INF_VAR)),
                    ("INF_ONE", (C.INF_X[:1], C.INF_GAMMA, C.INF_BETA, C.INF_MEAN, C.INF_VAR)),
                    ("INF_FM", (C.INF_FM_X, C.INF_FM_GAMMA, C.INF_FM_BETA, C.INF_FM_MEAN,
                                C.INF_FM_VAR, C.EPS_LARGE))):
        out[f"{p}_OUT"] = hidden.reference_inference(*args)
        out[f"{p}_MISTAKES"] = hidden.inference_mistakes(*args)
    stats = (C.RUN_MEAN, C.RUN_VAR, C.BATCH_MEAN, C.BATCH_VAR)
    for p, momentum, given in (("UPD_DEFAULT", 0.99, False), ("UPD_09", 0.9, True)):
        put(p, ("MEAN", "VAR"), hidden.reference_update(*stats, momentum))
        out[f"{p}_MISTAKES"] = hidden.update_mistakes(*stats, momentum, momentum_given=given)
    for p, args in (("FD_BW", (C.FD_DOUT, C.FD_X, C.FD_GAMMA)),
                    ("FM_BW", (C.FM_DOUT, C.FM_X, C.FM_GAMMA))):
        put(p, ("DX", "DGAMMA", "DBETA"), hidden.reference_backward(*args))
        out[f"{p}_MISTAKES"] = hidden.backward_mistakes(*args)
    return out


def _same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-10, equal_nan=True)


def test_visible_constants_equal_the_reference():
    """Each constant in utils/checks/batchnorm.py is what the reference computes; each
    written mistake output is that mistake's (None: the mistake gives the right value there)."""
    for name, value in _generated_constants().items():
        written = getattr(check, name)
        if not name.endswith("MISTAKES"):
            assert _same(written, value), name
            continue
        assert set(written) <= set(value), (name, set(written) - set(value))
        for description, parts in written.items():
            full = value[description]
            parts = parts if isinstance(parts, tuple) else (parts,)
            full = full if isinstance(full, tuple) else (full,)
            for part, ref in zip(parts, full):
                assert part is None or _same(part, ref), (name, description)


def test_visible_constants_agree_with_keras():
    for X, g, b in ((check.FD_X, check.FD_GAMMA, check.FD_BETA),
                    (check.FM_X, check.FM_GAMMA, check.FM_BETA)):
        np.testing.assert_allclose(hidden.keras_batchnorm(X, g, b, np.zeros(len(g)),
                                                          np.ones(len(g)))[0],
                                   check.FD_OUT if X is check.FD_X else check.FM_OUT,
                                   rtol=1e-9)
    inf = hidden.keras_batchnorm(check.INF_X, check.INF_GAMMA, check.INF_BETA, check.INF_MEAN,
                                 check.INF_VAR)[3]
    np.testing.assert_allclose(inf, check.INF_OUT, rtol=1e-9)


# ------------------------------------------------------------ correct solutions
def forward_loops(X, gamma, beta, eps=1e-5):
    """Python loops over a (values, features) view; float64 accumulators."""
    flat = X.reshape(-1, X.shape[-1])
    n, d = flat.shape
    mean, var = np.zeros(d), np.zeros(d)
    for j in range(d):
        total = 0.0
        for i in range(n):
            total += flat[i, j]
        mean[j] = total / n
        total = 0.0
        for i in range(n):
            total += (flat[i, j] - mean[j]) ** 2
        var[j] = total / n
    out = np.zeros(flat.shape)
    for i in range(n):
        for j in range(d):
            out[i, j] = gamma[j] * (flat[i, j] - mean[j]) / np.sqrt(var[j] + eps) + beta[j]
    return out.reshape(X.shape), mean, var


def forward_keepdims(X, gamma, beta, eps=1e-5):
    axes = tuple(range(X.ndim - 1))
    mu = np.mean(X, axis=axes, keepdims=True)
    v = np.mean((X - mu) ** 2, axis=axes, keepdims=True)
    return gamma * (X - mu) / np.sqrt(v + eps) + beta, mu.reshape(-1), v.reshape(-1)


def forward_branches(X, gamma, beta, eps=1e-5):
    axes = 0 if X.ndim == 2 else (0, 1, 2)
    mu, var = X.mean(axis=axes), X.var(axis=axes)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu, var


def forward_float32(X, gamma, beta, eps=1e-5):
    """Computes and returns float32 (any float dtype is fine)."""
    X32, g32, b32 = (np.asarray(a, dtype=np.float32) for a in (X, gamma, beta))
    axes = tuple(range(X.ndim - 1))
    mu, var = X32.mean(axis=axes), X32.var(axis=axes)
    out = g32 * (X32 - mu) / np.sqrt(var + np.float32(eps)) + b32
    return out, mu, var


def inference_loops(X, gamma, beta, running_mean, running_var, eps=1e-5):
    flat = X.reshape(-1, X.shape[-1]).astype(float)
    out = np.empty(flat.shape)
    for j in range(flat.shape[1]):
        out[:, j] = (gamma[j] * (flat[:, j] - running_mean[j]) / np.sqrt(running_var[j] + eps)
                     + beta[j])
    return out.reshape(X.shape)


def inference_float32(X, gamma, beta, running_mean, running_var, eps=1e-5):
    X32 = np.asarray(X, np.float32)
    scale = np.asarray(gamma, np.float32) / np.sqrt(np.asarray(running_var, np.float32)
                                                    + np.float32(eps))
    return (X32 - np.asarray(running_mean, np.float32)) * scale + np.asarray(beta, np.float32)


def update_copy_then_in_place(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    """In-place arithmetic on copies is fine."""
    new_mean, new_var = running_mean.copy(), running_var.copy()
    new_mean *= momentum
    new_mean += (1 - momentum) * batch_mean
    new_var *= momentum
    new_var += (1 - momentum) * batch_var
    return new_mean, new_var


def update_lerp(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    return (running_mean + (1 - momentum) * (batch_mean - running_mean),
            running_var + (1 - momentum) * (batch_var - running_var))


def update_float32(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    m = np.float32(momentum)
    return tuple((m * np.float32(1) * np.asarray(r, np.float32)
                  + (np.float32(1) - m) * np.asarray(b, np.float32))
                 for r, b in ((running_mean, batch_mean), (running_var, batch_var)))


def backward_staged(dout, X, gamma, eps=1e-5):
    """Node by node through the computational graph, on a (values, features) view."""
    d = X.shape[-1]
    x, g_out = X.reshape(-1, d), dout.reshape(-1, d)
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    xmu = x - mu
    var = (xmu ** 2).sum(axis=0) / n
    sqrtvar = np.sqrt(var + eps)
    ivar = 1 / sqrtvar
    xhat = xmu * ivar
    dbeta = g_out.sum(axis=0)
    dgamma = (g_out * xhat).sum(axis=0)
    dxhat = g_out * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / sqrtvar ** 2
    dvar = 0.5 * dsqrtvar / sqrtvar
    dxmu2 = 2 * xmu * dvar / n
    dmu = -(dxmu1 + dxmu2).sum(axis=0)
    dx = dxmu1 + dxmu2 + dmu / n
    return dx.reshape(X.shape), dgamma, dbeta


def backward_jacobian(dout, X, gamma, eps=1e-5):
    """A loop over features with the explicit N x N Jacobian of x_hat."""
    d = X.shape[-1]
    x, g_out = X.reshape(-1, d), dout.reshape(-1, d)
    n = x.shape[0]
    dX, dgamma, dbeta = np.zeros(x.shape), np.zeros(d), np.zeros(d)
    for j in range(d):
        s = np.sqrt(x[:, j].var() + eps)
        xh = (x[:, j] - x[:, j].mean()) / s
        dbeta[j], dgamma[j] = g_out[:, j].sum(), (g_out[:, j] * xh).sum()
        jac = (np.eye(n) - 1.0 / n - np.outer(xh, xh) / n) / s
        dX[:, j] = gamma[j] * jac.T @ g_out[:, j]
    return dX.reshape(X.shape), dgamma, dbeta


def backward_float32(dout, X, gamma, eps=1e-5):
    X32, d32, g32 = (np.asarray(a, np.float32) for a in (X, dout, gamma))
    axes = tuple(range(X.ndim - 1))
    n = np.float32(X.size // X.shape[-1])
    mu = X32.mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(((X32 - mu) ** 2).mean(axis=axes, keepdims=True) + np.float32(eps))
    xh = (X32 - mu) * inv
    g = d32 * g32
    dX = inv / n * (n * g - g.sum(axis=axes, keepdims=True)
                    - xh * (g * xh).sum(axis=axes, keepdims=True))
    return dX, (d32 * xh).sum(axis=axes), d32.sum(axis=axes)


CHECKS = {
    "batchnorm_forward": [check.batchnorm_forward_shapes, check.batchnorm_forward_worked_example,
                          check.batchnorm_forward_feature_maps, check.batchnorm_forward_eps,
                          hidden.batchnorm_forward_random_shapes,
                          hidden.batchnorm_forward_matches_reference,
                          hidden.batchnorm_forward_feature_maps_random,
                          hidden.batchnorm_forward_eps_random],
    "batchnorm_inference": [check.batchnorm_inference_values, hidden.batchnorm_inference_random],
    "update_running_stats": [check.update_running_stats_values,
                             hidden.update_running_stats_random],
    "batchnorm_backward": [check.batchnorm_backward_worked_example,
                           check.batchnorm_backward_feature_maps,
                           hidden.batchnorm_backward_random,
                           hidden.batchnorm_backward_feature_maps_random],
}
ALTERNATIVES = {
    "batchnorm_forward": [forward_loops, forward_keepdims, forward_branches, forward_float32],
    "batchnorm_inference": [inference_loops, inference_float32],
    "update_running_stats": [update_copy_then_in_place, update_lerp, update_float32],
    "batchnorm_backward": [backward_staged, backward_jacobian, backward_float32],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_checks_pass_correct_solutions(ns, name, capsys):
    for fn in [ns[name]] + ALTERNATIVES[name]:
        for run in CHECKS[name]:
            run(fn)
    out = capsys.readouterr().out
    assert out.count("\u2714") == len(CHECKS[name]) * (1 + len(ALTERNATIVES[name]))


# ------------------------------------------------------------ typical mistakes
def _axes(X):
    return tuple(range(X.ndim - 1))


def fw_unbiased(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X), ddof=1)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu, var


def fw_no_eps(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(var) + beta, mu, var


def fw_eps_outside(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / (np.sqrt(var) + eps) + beta, mu, var


def fw_eps_ignored(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(var + 1e-5) + beta, mu, var


def fw_no_sqrt(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / (var + eps) + beta, mu, var


def fw_batch_axis_only(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=0), X.var(axis=0)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu, var


def fw_per_example(X, gamma, beta, eps=1e-5):
    axes = tuple(range(1, X.ndim))
    mu, var = X.mean(axis=axes, keepdims=True), X.var(axis=axes, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu.reshape(-1), var.reshape(-1)


def fw_all_axes(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(), X.var()
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu, var


def fw_swapped(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return beta * (X - mu) / np.sqrt(var + eps) + gamma, mu, var


def fw_keepdims_returned(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=_axes(X), keepdims=True)
    var = X.var(axis=_axes(X), keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, mu, var


def fw_return_order(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, var, mu


def fw_returns_std(X, gamma, beta, eps=1e-5):
    mu, std = X.mean(axis=_axes(X)), X.std(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(std ** 2 + eps) + beta, mu, std


def fw_in_place(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    X -= mu
    X /= np.sqrt(var + eps)
    return gamma * X + beta, mu, var


def fw_int_output(X, gamma, beta, eps=1e-5):
    """Loops into np.zeros_like(X): truncates when X holds integers."""
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    out = np.zeros_like(X)
    out[...] = gamma * (X - mu) / np.sqrt(var + eps) + beta
    return out, mu, var


def fw_only_pair(X, gamma, beta, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(var + eps) + beta, (mu, var)


def inf_batch_stats(X, gamma, beta, running_mean, running_var, eps=1e-5):
    mu, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def inf_no_eps(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (X - running_mean) / np.sqrt(running_var) + beta


def inf_eps_outside(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (X - running_mean) / (np.sqrt(running_var) + eps) + beta


def inf_swapped(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return beta * (X - running_mean) / np.sqrt(running_var + eps) + gamma


def inf_no_sqrt(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (X - running_mean) / (running_var + eps) + beta


def inf_tuple(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta, running_mean


def upd_reversed(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    return ((1 - momentum) * running_mean + momentum * batch_mean,
            (1 - momentum) * running_var + momentum * batch_var)


def upd_in_place(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    running_mean *= momentum
    running_mean += (1 - momentum) * batch_mean
    running_var *= momentum
    running_var += (1 - momentum) * batch_var
    return running_mean, running_var


def upd_in_place_slice(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    running_mean[:] = momentum * running_mean + (1 - momentum) * batch_mean
    running_var[:] = momentum * running_var + (1 - momentum) * batch_var
    return running_mean, running_var


def upd_momentum_ignored(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    return (0.99 * running_mean + 0.01 * batch_mean, 0.99 * running_var + 0.01 * batch_var)


def upd_default_09(running_mean, running_var, batch_mean, batch_var, momentum=0.9):
    return (momentum * running_mean + (1 - momentum) * batch_mean,
            momentum * running_var + (1 - momentum) * batch_var)


def upd_swapped(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    return (momentum * running_var + (1 - momentum) * batch_var,
            momentum * running_mean + (1 - momentum) * batch_mean)


def upd_replaced(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    return batch_mean.copy(), batch_var.copy()


def _bw(dout, X, gamma, eps=1e-5, *, keep_mean=True, keep_var=True, use_gamma=True, ddof=0,
        dgamma_of="xhat", averaged=False, swapped=False, n_batch=False, batch_axis=False):
    """A student's vectorised backward pass with switchable mistakes."""
    axes = (0,) if batch_axis else _axes(X)
    n = X.shape[0] if (n_batch or batch_axis) else X.size // X.shape[-1]
    mu = X.mean(axis=axes)
    sigma = np.sqrt(X.var(axis=axes, ddof=ddof) + eps)
    xhat = (X - mu) / sigma
    g = dout * (gamma if use_gamma else 1.0)
    dX = (n * g - keep_mean * g.sum(axis=axes)
          - keep_var * xhat * (g * xhat).sum(axis=axes)) / (n * sigma)
    dgamma = (dout * {"xhat": xhat, "x": X, "none": 1.0}[dgamma_of]).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    if averaged:
        dgamma, dbeta = dgamma / n, dbeta / n
    return (dX, dbeta, dgamma) if swapped else (dX, dgamma, dbeta)


def _mk(**switches):
    def batchnorm_backward(dout, X, gamma, eps=1e-5):
        return _bw(dout, X, gamma, eps, **switches)
    return batchnorm_backward


def bw_constants(dout, X, gamma, eps=1e-5):
    """The gradient with the mean and variance treated as constants."""
    axes = _axes(X)
    return (dout * gamma / np.sqrt(X.var(axis=axes) + eps),
            (dout * (X - X.mean(axis=axes)) / np.sqrt(X.var(axis=axes) + eps)).sum(axis=axes),
            dout.sum(axis=axes))


V, H = check, hidden
FORWARD_MISTAKES = [  # (implementation, checks that must fail, text the message must contain)
    (fw_unbiased, [V.batchnorm_forward_worked_example, V.batchnorm_forward_feature_maps,
                   V.batchnorm_forward_eps, H.batchnorm_forward_matches_reference,
                   H.batchnorm_forward_feature_maps_random, H.batchnorm_forward_eps_random],
     check.UNBIASED),
    (fw_no_eps, [V.batchnorm_forward_eps, H.batchnorm_forward_eps_random], check.NO_EPS),
    (fw_eps_outside, [V.batchnorm_forward_eps, H.batchnorm_forward_eps_random],
     check.EPS_OUTSIDE),
    (fw_eps_ignored, [V.batchnorm_forward_eps, H.batchnorm_forward_eps_random],
     check.EPS_IGNORED),
    (fw_no_sqrt, [V.batchnorm_forward_worked_example, V.batchnorm_forward_feature_maps,
                  H.batchnorm_forward_matches_reference], check.NO_SQRT),
    (fw_batch_axis_only, [V.batchnorm_forward_shapes, V.batchnorm_forward_feature_maps,
                          H.batchnorm_forward_random_shapes,
                          H.batchnorm_forward_feature_maps_random], check.BATCH_AXIS_ONLY),
    (fw_per_example, [V.batchnorm_forward_shapes, V.batchnorm_forward_worked_example,
                      V.batchnorm_forward_feature_maps, H.batchnorm_forward_random_shapes,
                      H.batchnorm_forward_matches_reference], check.PER_EXAMPLE),
    (fw_all_axes, [V.batchnorm_forward_shapes, V.batchnorm_forward_worked_example,
                   H.batchnorm_forward_matches_reference], check.ALL_AXES),
    (fw_swapped, [V.batchnorm_forward_worked_example, V.batchnorm_forward_feature_maps,
                  V.batchnorm_forward_eps, H.batchnorm_forward_matches_reference,
                  H.batchnorm_forward_feature_maps_random], check.GAMMA_BETA_SWAPPED),
    (fw_keepdims_returned, [V.batchnorm_forward_shapes, H.batchnorm_forward_random_shapes,
                            V.batchnorm_forward_feature_maps], check.KEEPDIMS),
    (fw_return_order, [V.batchnorm_forward_worked_example, H.batchnorm_forward_matches_reference],
     check.RETURN_ORDER),
    (fw_returns_std, [V.batchnorm_forward_worked_example, H.batchnorm_forward_matches_reference],
     check.RETURNS_STD),
    (fw_in_place, [V.batchnorm_forward_worked_example, H.batchnorm_forward_matches_reference],
     "changed its input argument #1 in place"),
    (fw_int_output, [H.batchnorm_forward_matches_reference], "expected a float array"),
    (fw_only_pair, [V.batchnorm_forward_shapes, H.batchnorm_forward_random_shapes],
     "expected 3 values (out, batch_mean, batch_var)"),
]
INFERENCE_MISTAKES = [
    (inf_batch_stats, check.BATCH_STATS_AT_INFERENCE),
    (inf_no_eps, check.NO_EPS),
    (inf_eps_outside, check.EPS_OUTSIDE),
    (inf_swapped, check.GAMMA_BETA_SWAPPED),
    (inf_no_sqrt, check.NO_SQRT),
    (inf_tuple, "returned a tuple"),
]
UPDATE_MISTAKES = [
    (upd_reversed, check.MOMENTUM_REVERSED),
    (upd_in_place, check.IN_PLACE),
    (upd_in_place_slice, check.IN_PLACE),
    (upd_momentum_ignored, check.MOMENTUM_IGNORED),
    (upd_default_09, check.MOMENTUM_OTHER_DEFAULT),
    (upd_swapped, check.UPDATE_SWAPPED),
    (upd_replaced, check.REPLACED_BY_BATCH),
]
BACKWARD_MISTAKES = [  # (implementation, feature maps only?, text)
    (bw_constants, False, check.BW_NO_MEAN_VAR),
    (_mk(keep_mean=False, keep_var=False), False, check.BW_NO_MEAN_VAR),
    (_mk(keep_var=False), False, check.BW_NO_VAR),
    (_mk(keep_mean=False), False, check.BW_NO_MEAN),
    (_mk(use_gamma=False), False, check.BW_NO_GAMMA),
    (_mk(ddof=1), False, check.UNBIASED),
    (_mk(dgamma_of="x"), False, check.DGAMMA_X),
    (_mk(dgamma_of="none"), False, check.DGAMMA_NO_XHAT),
    (_mk(averaged=True), False, check.PARAMS_AVERAGED),
    (_mk(swapped=True), False, check.BW_SWAPPED),
    (_mk(n_batch=True), True, check.BW_N_BATCH),
    (_mk(batch_axis=True), True, check.BW_BATCH_AXIS_ONLY),
]


def _fails_with(run, fn, text):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"
    return str(err.value)


def _ids(rows):
    return [getattr(r[0], "__name__", "impl") + "-" + re.sub(r"\W+", "_", r[-1][:24])
            for r in rows]


@pytest.mark.parametrize("impl,runs,text", FORWARD_MISTAKES, ids=_ids(FORWARD_MISTAKES))
def test_batchnorm_forward_mistakes_are_named(impl, runs, text):
    for run in runs:
        _fails_with(run, impl, text)


@pytest.mark.parametrize("impl,text", INFERENCE_MISTAKES, ids=_ids(INFERENCE_MISTAKES))
def test_batchnorm_inference_mistakes_are_named(impl, text):
    _fails_with(check.batchnorm_inference_values, impl, text)
    _fails_with(hidden.batchnorm_inference_random, impl, text)


@pytest.mark.parametrize("impl,text", UPDATE_MISTAKES, ids=_ids(UPDATE_MISTAKES))
def test_update_running_stats_mistakes_are_named(impl, text):
    _fails_with(check.update_running_stats_values, impl, text)
    _fails_with(hidden.update_running_stats_random, impl, text)


@pytest.mark.parametrize("impl,maps_only,text", BACKWARD_MISTAKES, ids=_ids(BACKWARD_MISTAKES))
def test_batchnorm_backward_mistakes_are_named(impl, maps_only, text):
    runs = [check.batchnorm_backward_feature_maps, hidden.batchnorm_backward_feature_maps_random]
    if maps_only:  # right for (N, D): those tests pass
        check.batchnorm_backward_worked_example(impl)
        hidden.batchnorm_backward_random(impl)
    else:
        runs += [check.batchnorm_backward_worked_example, hidden.batchnorm_backward_random]
    for run in runs:
        _fails_with(run, impl, text)


def test_in_place_running_stats_message_names_the_argument():
    msg = _fails_with(check.update_running_stats_values, upd_in_place, check.IN_PLACE)
    assert "changed its input running_mean in place" in msg


def test_stub_says_not_written():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for runs in CHECKS.values():
        for run in runs:
            _fails_with(run, stub, "not written yet")


# ------------------------------------------------------------ graded the trusted way
def _replacement(fn, name):
    """The answer-cell source of a mistaken implementation, under the graded name."""
    src = textwrap.dedent(inspect.getsource(fn))
    helpers = "".join(textwrap.dedent(inspect.getsource(h)) + "\n"
                      for h in (_axes, _bw) if h.__name__ in src and h is not fn)
    return f"import numpy as np\n{helpers}{src}\n{name} = {fn.__name__}\n"


def _bw_replacement(**switches):
    args = ", ".join(f"{k}={v!r}" for k, v in switches.items())
    return (f"import numpy as np\n{textwrap.dedent(inspect.getsource(_axes))}\n"
            f"{textwrap.dedent(inspect.getsource(_bw))}\n"
            f"def batchnorm_backward(dout, X, gamma, eps=1e-5):\n"
            f"    return _bw(dout, X, gamma, eps, {args})\n")


TRUSTED_CASES = [  # (answer grade_id, replacement source, test cells that must fail)
    ("batchnorm_forward", _replacement(fw_unbiased, "batchnorm_forward"),
     {"batchnorm_forward_values", "batchnorm_forward_feature_maps", "batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_no_eps, "batchnorm_forward"),
     {"batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_eps_outside, "batchnorm_forward"),
     {"batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_eps_ignored, "batchnorm_forward"),
     {"batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_per_example, "batchnorm_forward"),
     {"batchnorm_forward_shapes", "batchnorm_forward_values", "batchnorm_forward_feature_maps",
      "batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_batch_axis_only, "batchnorm_forward"),
     {"batchnorm_forward_shapes", "batchnorm_forward_feature_maps", "batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_swapped, "batchnorm_forward"),
     {"batchnorm_forward_values", "batchnorm_forward_feature_maps", "batchnorm_forward_eps"}),
    ("batchnorm_forward", _replacement(fw_in_place, "batchnorm_forward"),
     {"batchnorm_forward_shapes", "batchnorm_forward_values", "batchnorm_forward_feature_maps",
      "batchnorm_forward_eps"}),
    ("batchnorm_inference", _replacement(inf_batch_stats, "batchnorm_inference"),
     {"batchnorm_inference_values"}),
    ("batchnorm_inference", _replacement(inf_swapped, "batchnorm_inference"),
     {"batchnorm_inference_values"}),
    ("update_running_stats", _replacement(upd_reversed, "update_running_stats"),
     {"update_running_stats_values"}),
    ("update_running_stats", _replacement(upd_in_place, "update_running_stats"),
     {"update_running_stats_values"}),
    ("batchnorm_backward", _bw_replacement(ddof=1),
     {"batchnorm_backward_values", "batchnorm_backward_feature_maps"}),
    ("batchnorm_backward", _bw_replacement(dgamma_of="x"),
     {"batchnorm_backward_values", "batchnorm_backward_feature_maps"}),
    ("batchnorm_backward", _bw_replacement(averaged=True),
     {"batchnorm_backward_values", "batchnorm_backward_feature_maps"}),
    ("batchnorm_backward", _bw_replacement(keep_mean=False, keep_var=False),
     {"batchnorm_backward_values", "batchnorm_backward_feature_maps"}),
    ("batchnorm_backward", _bw_replacement(keep_var=False),
     {"batchnorm_backward_values", "batchnorm_backward_feature_maps"}),
    ("batchnorm_backward", _bw_replacement(n_batch=True), {"batchnorm_backward_feature_maps"}),
]
CELLS_OF = {"batchnorm_forward": {"batchnorm_forward_shapes", "batchnorm_forward_values",
                                  "batchnorm_forward_feature_maps", "batchnorm_forward_eps"},
            "batchnorm_inference": {"batchnorm_inference_values"},
            "update_running_stats": {"update_running_stats_values"},
            "batchnorm_backward": {"batchnorm_backward_values",
                                   "batchnorm_backward_feature_maps"}}


def test_solution_gets_full_marks_the_trusted_way():
    points, total, failed = score_in_process(STEM)
    assert failed == [] and points == total == 22


@pytest.mark.parametrize("gid,source,must_fail", TRUSTED_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TRUSTED_CASES)])
def test_mistakes_lose_points_the_trusted_way(gid, source, must_fail):
    """Graded as the worker grades (test cells in this process, the student's functions
    behind the wire): the cells that exercise the mistake fail, no cell of another function."""
    points, total, failed = score_in_process(STEM, {gid: source}, student="student-7")
    assert must_fail <= set(failed) <= CELLS_OF[gid], failed
    assert points < total


def test_typical_mistakes_student_gets_partial_marks():
    from grader.authoring.example_class import parse_mistakes

    answers = parse_mistakes(REPO / "data" / "example_class" / "typical_mistakes"
                             / f"{STEM}.py")
    assert set(answers) == {"batchnorm_forward", "update_running_stats", "batchnorm_backward"}
    points, total, failed = score_in_process(STEM, answers)
    assert set(failed) == {"batchnorm_forward_shapes", "batchnorm_forward_feature_maps",
                           "batchnorm_forward_eps", "update_running_stats_values",
                           "batchnorm_backward_values", "batchnorm_backward_feature_maps"}
    assert 0 < points < total


def test_pasted_gradient_tools_are_not_graded():
    """The 08 tools the student pastes are used by no test cell: a notebook with them
    missing (or wrong) keeps full marks."""
    broken = "def numerical_gradient(f, x, h=1e-5):\n    return x * 0\n"
    points, total, failed = score_in_process(STEM, {"earlier_gradient_tools": broken})
    assert failed == [] and points == total


# ------------------------------------------------------------ fairness across students
HIDDEN_BY_FUNCTION = {name: [run for run in runs if run.__module__ == hidden.__name__]
                      for name, runs in CHECKS.items()}


@pytest.mark.parametrize("student", [f"student-{i}" for i in range(12)])
def test_every_correct_style_passes_every_students_hidden_inputs(ns, student, capsys):
    for name, runs in HIDDEN_BY_FUNCTION.items():
        for fn in [ns[name]] + ALTERNATIVES[name]:
            for run in runs:
                with seeding.for_test(b"fairness-test-secret", STEM, run.__name__, student):
                    run(fn)


@pytest.mark.parametrize("student", ["student-0", "student-5", "Zoë Ng"])
def test_mistakes_fail_every_students_hidden_inputs(student):
    cases = [(fw_unbiased, hidden.batchnorm_forward_matches_reference, check.UNBIASED),
             (fw_eps_outside, hidden.batchnorm_forward_eps_random, check.EPS_OUTSIDE),
             (fw_batch_axis_only, hidden.batchnorm_forward_feature_maps_random,
              check.BATCH_AXIS_ONLY),
             (inf_batch_stats, hidden.batchnorm_inference_random, check.BATCH_STATS_AT_INFERENCE),
             (upd_reversed, hidden.update_running_stats_random, check.MOMENTUM_REVERSED),
             (bw_constants, hidden.batchnorm_backward_random, check.BW_NO_MEAN_VAR),
             (_mk(keep_mean=False), hidden.batchnorm_backward_feature_maps_random,
              check.BW_NO_MEAN)]
    for impl, run, text in cases:
        with seeding.for_test(b"fairness-test-secret", STEM, run.__name__, student):
            _fails_with(run, impl, text)


def test_hidden_inputs_differ_between_students_and_repeat_for_one(ns):
    seen = {}

    def recording(X, gamma, beta, eps=1e-5):
        seen.setdefault(key, []).append(np.array(X))
        return ns["batchnorm_forward"](X, gamma, beta, eps)

    for key in ("a", "b", "a-again"):
        student = "a" if key == "a-again" else key
        with seeding.for_test(b"fairness-test-secret", STEM, "batchnorm_forward_values",
                              student):
            hidden.batchnorm_forward_feature_maps_random(recording)
    first = lambda k: seen[k][0]  # noqa: E731
    assert first("a").shape != first("b").shape or not np.allclose(first("a"), first("b"))
    assert all(np.array_equal(x, y) for x, y in zip(seen["a"], seen["a-again"]))


# ------------------------------------------------------------ notebook and utils
def test_notebook_layout():
    nb = cells.read(solution_path(STEM))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    assert answers == ["earlier_gradient_tools", "batchnorm_forward", "update_running_stats",
                       "batchnorm_inference", "batchnorm_backward"]
    tests = [c for c in cells.iter_cells(nb, "test")]
    assert [cells.nbgrader_meta(c)["grade_id"] for c in tests] == [
        "batchnorm_forward_shapes", "batchnorm_forward_values", "batchnorm_forward_feature_maps",
        "batchnorm_forward_eps", "update_running_stats_values", "batchnorm_inference_values",
        "batchnorm_backward_values", "batchnorm_backward_feature_maps"]
    assert cells.total_points(nb) == 22
    test_text = "\n".join(c.source for c in tests)
    assert "numerical_gradient" not in test_text and "relative_error" not in test_text
    setup = next(c for c in nb.cells if c.cell_type == "code").source
    assert "runtime.import_keras()" in setup and "SEED" in setup
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text and "Key points" in text and "Open exercises" in text


def test_release_stubs_the_pasted_08_tools():
    """The release holds no working numerical_gradient or relative_error (they are 08's
    graded functions) and no visible cell normalises a batch itself."""
    nb = cells.read(release_path(STEM))
    tools = next(c for c in nb.cells if cells.nbgrader_meta(c).get("grade_id")
                 == "earlier_gradient_tools")
    assert tools.source.count("raise NotImplementedError()") == 2
    assert "2 * h" not in tools.source and "np.maximum(1e-8" not in tools.source
    for cell in nb.cells:
        if cell.cell_type == "code" and not cells.is_answer(cell):
            assert not re.search(r"/\s*\(?np\.sqrt\(", cell.source), cell.source


def test_utils_hold_no_graded_function():
    graded_elsewhere = {"numerical_gradient", "relative_error", "conv_backward",
                        "pool_backward", "relu_backward"}
    for rel in ("utils/checks/batchnorm.py", "utils/plotting/batchnorm.py"):
        tree = ast.parse((REPO / rel).read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not defined & (set(GRADED) | graded_elsewhere), rel


def test_figures_draw():
    fig = bn_plots.show_normalised_axes()
    assert len(fig.axes) == 2 and "27 values" in fig.axes[1].get_title()
    X = np.random.default_rng(0).normal(size=(4, 3, 3, 2))
    fig = bn_plots.show_channel_histograms(X, (X - X.mean()) / X.std())
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="same batch"):
        bn_plots.show_channel_histograms(X, X[:2])
    fig = bn_plots.plot_running_averages(np.ones(5), {"momentum 0.9": np.linspace(0, 1, 5)},
                                         true_value=1.0)
    assert len(fig.axes[0].lines) == 3
    fig = bn_plots.plot_gradient_check({"dX": (np.ones(3), np.ones(3)),
                                        "dbeta": (np.zeros(2), np.zeros(2))})
    assert len(fig.axes) == 2
    fig = bn_plots.compare_training_curves({"a": {"loss": [2, 1], "val_accuracy": [0.1, 0.5]},
                                            "b": {"loss": [2, 2], "val_accuracy": [0.1, 0.1]}})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="has no 'accuracy'"):
        bn_plots.compare_training_curves({"a": {"loss": [1.0]}}, ("accuracy",))


def test_references_are_cross_checked_against_keras_once(monkeypatch):
    """A reference that drifted from Keras stops grading instead of grading wrongly."""
    monkeypatch.setattr(hidden, "_CROSS_CHECKED", [])
    hidden.cross_check_once()
    assert hidden._CROSS_CHECKED == [True]
    monkeypatch.setattr(hidden, "_CROSS_CHECKED", [])
    # a drifted reference: the running statistics replaced by the batch's
    monkeypatch.setattr(hidden, "reference_update", lambda rm, rv, bm, bv, momentum=0.99: (bm, bv))
    with pytest.raises(RuntimeError, match="disagree with Keras"):
        hidden.cross_check_once()

"""Hidden tests for notebook 09 (batch normalisation).

Students are compared with independent NumPy implementations in float64. Those are
checked against Keras' ``BatchNormalization`` once per grading process
(:func:`cross_check_once`: training and inference output, moving statistics after one
step), and on many more cases, with TensorFlow's automatic differentiation and centred
differences, by ``tests/test_batchnorm.py``. Checking once, not once per student, keeps
TensorFlow's layer building out of every grade. The outputs of typical mistakes come from
the same references with a switch flipped, so a wrong answer is named in the message.
Inputs come from :func:`seeding.rng` (per student while grading). Keras is imported only
inside the functions that need it.
"""
from __future__ import annotations

import numpy as np

from utils.checks import batchnorm as visible
from utils.checks import core
from utils.runtime import import_keras

from . import seeding

SEED = 9009
KERAS_MOMENTUM = 0.99


# ------------------------------------------------------------ references
def _axes(X, mode: str = "channels") -> tuple:
    """The axes the statistics pool: every axis but the last (or a mistaken choice)."""
    nd = np.ndim(X)
    return {"channels": tuple(range(nd - 1)), "batch": (0,),
            "example": tuple(range(1, nd)), "all": tuple(range(nd))}[mode]


def _stats(X, axes, ddof=0):
    """Mean and variance (``ddof=1``: the unbiased one) over ``axes``, axes kept."""
    mean = X.mean(axis=axes, keepdims=True)
    var = ((X - mean) ** 2).sum(axis=axes, keepdims=True) / (_count(X, axes) - ddof)
    return mean, var


def _count(X, axes) -> int:
    return int(np.prod([X.shape[a] for a in axes])) if axes else 1


def _flat(stat, axes):
    """Drop the kept axes: ``(D,)`` for the right axes, the mistake's own shape otherwise."""
    return np.squeeze(stat, axis=axes)


def _denominator(var, eps, eps_mode: str):
    return {"inside": np.sqrt(var + eps), "none": np.sqrt(var),
            "outside": np.sqrt(var) + eps, "fixed": np.sqrt(var + 1e-5),
            "no_sqrt": var + eps}[eps_mode]


def reference_forward(X, gamma, beta, eps=1e-5, *, axes: str = "channels", ddof: int = 0,
                      eps_mode: str = "inside", swap: bool = False, affine: bool = True):
    """Training-mode batch norm ``(out, batch_mean, batch_var)`` in float64.

    The keyword switches make the typical mistakes (statistics over other axes,
    unbiased variance, eps left out / outside the root / ignored, gamma and beta
    swapped, no affine step).
    """
    X = np.asarray(X, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    ax = _axes(X, axes)
    mean, var = _stats(X, ax, ddof)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hat = (X - mean) / _denominator(var, eps, eps_mode)
    if swap:
        gamma, beta = beta, gamma
    out = gamma * x_hat + beta if affine else x_hat
    return out, _flat(mean, ax), _flat(var, ax)


def reference_inference(X, gamma, beta, running_mean, running_var, eps=1e-5, *,
                        eps_mode: str = "inside", swap: bool = False, batch_stats: bool = False):
    """Inference-mode batch norm with the running statistics (or mistakes), float64."""
    X = np.asarray(X, dtype=np.float64)
    mean, var = np.asarray(running_mean, np.float64), np.asarray(running_var, np.float64)
    if batch_stats:
        mean, var = (s.reshape(-1) for s in _stats(X, _axes(X)))
    if swap:
        gamma, beta = beta, gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(gamma, np.float64) * (X - mean) / _denominator(var, eps, eps_mode)
                + np.asarray(beta, np.float64))


def reference_update(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    """Keras' moving averages after one step: ``momentum * running + (1 - momentum) * batch``."""
    m = float(momentum)
    return (m * np.asarray(running_mean, np.float64) + (1 - m) * np.asarray(batch_mean, np.float64),
            m * np.asarray(running_var, np.float64) + (1 - m) * np.asarray(batch_var, np.float64))


def reference_backward(dout, X, gamma, eps=1e-5, *, mode: str = "right", axes: str = "channels",
                       n_mode: str = "count", ddof: int = 0):
    """``(dX, dgamma, dbeta)`` of training-mode batch norm, float64, or a mistake's.

    ``mode``: ``"right"``; ``"no_mean_var"``, ``"no_var"``, ``"no_mean"`` (paths through
    the statistics left out); ``"no_gamma"``; ``"dgamma_x"``, ``"dgamma_no_xhat"``;
    ``"averaged"`` (dgamma, dbeta divided by N); ``"swapped"``. ``axes="batch"`` sums
    over axis 0 only, ``n_mode="batch"`` takes ``N = X.shape[0]``, ``ddof=1`` the unbiased
    variance.
    """
    X = np.asarray(X, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    ax = _axes(X, axes)
    n = X.shape[0] if n_mode == "batch" else _count(X, ax)
    mean, var = _stats(X, ax, ddof)
    sigma = np.sqrt(var + eps)
    x_hat = (X - mean) / sigma
    g = dout * (1.0 if mode == "no_gamma" else gamma)
    sum_g = g.sum(axis=ax, keepdims=True)
    sum_gx = (g * x_hat).sum(axis=ax, keepdims=True)
    keep_mean = mode not in ("no_mean_var", "no_mean")
    keep_var = mode not in ("no_mean_var", "no_var")
    dX = (n * g - keep_mean * sum_g - keep_var * x_hat * sum_gx) / (n * sigma)
    dgamma = (dout * (X if mode == "dgamma_x" else 1.0 if mode == "dgamma_no_xhat" else x_hat)
              ).sum(axis=ax)
    dbeta = dout.sum(axis=ax)
    if mode == "averaged":
        dgamma, dbeta = dgamma / n, dbeta / n
    if mode == "swapped":
        dgamma, dbeta = dbeta, dgamma
    return dX, dgamma, dbeta


# ------------------------------------------------------------ Keras
def keras_batchnorm(X, gamma, beta, moving_mean, moving_var, eps=1e-5, momentum=KERAS_MOMENTUM):
    """One ``BatchNormalization`` layer on ``X`` (float64), given its four weights.

    Returns ``(training_out, new_moving_mean, new_moving_var, inference_out)``: the output
    with ``training=True``, the moving statistics after that one step, and the output
    with ``training=False`` on the same ``X`` *before* the step (the given moving statistics).
    """
    keras = import_keras()
    X = np.asarray(X, dtype=np.float64)
    layer = keras.layers.BatchNormalization(axis=-1, epsilon=eps, momentum=momentum,
                                            dtype="float64")
    layer.build(X.shape)
    layer.set_weights([np.asarray(w, dtype=np.float64)
                       for w in (gamma, beta, moving_mean, moving_var)])
    inference_out = np.asarray(keras.ops.convert_to_numpy(layer(X, training=False)))
    training_out = np.asarray(keras.ops.convert_to_numpy(layer(X, training=True)))
    new_mean, new_var = (np.asarray(keras.ops.convert_to_numpy(v))
                         for v in (layer.moving_mean, layer.moving_variance))
    return training_out, new_mean, new_var, inference_out


_CROSS_CHECKED: list = []


def cross_check_once() -> None:
    """Check the NumPy references against Keras on fixed cases, once per process."""
    if _CROSS_CHECKED:
        return
    rng = np.random.default_rng(9090)
    for shape, eps in (((7, 3), 1e-5), ((2, 3, 4, 2), 0.3)):
        n = shape[-1]
        X = 1.0 + 2.0 * rng.normal(size=shape)
        gamma, beta = rng.normal(size=n), rng.normal(size=n)
        mm, mv = rng.normal(size=n), rng.uniform(0.5, 2.0, size=n)
        train, new_mean, new_var, infer = keras_batchnorm(X, gamma, beta, mm, mv, eps)
        out, mean, var = reference_forward(X, gamma, beta, eps)
        mine = (out, *reference_update(mm, mv, mean, var), reference_inference(
            X, gamma, beta, mm, mv, eps))
        if not all(np.allclose(a, b, atol=1e-9)
                   for a, b in zip(mine, (train, new_mean, new_var, infer))):
            raise RuntimeError("the grader's batch-norm references disagree with Keras "
                               "BatchNormalization; fix grader/references/batchnorm.py "
                               "before grading")
    _CROSS_CHECKED.append(True)


# ------------------------------------------------------------ mistakes
def forward_mistakes(X, gamma, beta, eps=1e-5) -> dict:
    """``{description: (out, batch_mean, batch_var)}`` of typical forward mistakes."""
    X = np.asarray(X, dtype=np.float64)
    out = {
        visible.UNBIASED: reference_forward(X, gamma, beta, eps, ddof=1),
        visible.NO_EPS: reference_forward(X, gamma, beta, eps, eps_mode="none"),
        visible.EPS_OUTSIDE: reference_forward(X, gamma, beta, eps, eps_mode="outside"),
        visible.NO_SQRT: reference_forward(X, gamma, beta, eps, eps_mode="no_sqrt"),
        visible.GAMMA_BETA_SWAPPED: reference_forward(X, gamma, beta, eps, swap=True),
        visible.NO_GAMMA_BETA: reference_forward(X, gamma, beta, eps, affine=False),
        visible.ALL_AXES: reference_forward(X, gamma, beta, eps, axes="all"),
        visible.PER_EXAMPLE: reference_forward(X, gamma, beta, eps, axes="example"),
    }
    if eps != 1e-5:
        out[visible.EPS_IGNORED] = reference_forward(X, gamma, beta, eps, eps_mode="fixed")
    if X.ndim > 2:
        out[visible.BATCH_AXIS_ONLY] = reference_forward(X, gamma, beta, eps, axes="batch")
    return out


def inference_mistakes(X, gamma, beta, running_mean, running_var, eps=1e-5) -> dict:
    """``{description: out}`` of typical inference mistakes (those that differ here)."""
    args = (X, gamma, beta, running_mean, running_var, eps)
    good = reference_inference(*args)
    out = {visible.BATCH_STATS_AT_INFERENCE: reference_inference(*args, batch_stats=True),
           visible.NO_EPS: reference_inference(*args, eps_mode="none"),
           visible.EPS_OUTSIDE: reference_inference(*args, eps_mode="outside"),
           visible.NO_SQRT: reference_inference(*args, eps_mode="no_sqrt"),
           visible.GAMMA_BETA_SWAPPED: reference_inference(*args, swap=True)}
    if eps != 1e-5:
        out[visible.EPS_IGNORED] = reference_inference(*args, eps_mode="fixed")
    return {k: v for k, v in out.items() if not np.allclose(v, good, equal_nan=True)}


def update_mistakes(running_mean, running_var, batch_mean, batch_var, momentum=0.99,
                    momentum_given: bool = True) -> dict:
    """``{description: (new_mean, new_var)}`` of typical running-statistics mistakes."""
    stats = (running_mean, running_var, batch_mean, batch_var)
    out = {visible.MOMENTUM_REVERSED: reference_update(*stats, 1 - momentum),
           visible.NOT_UPDATED: reference_update(*stats, 1.0),
           visible.REPLACED_BY_BATCH: reference_update(*stats, 0.0)}
    if momentum != KERAS_MOMENTUM:
        out[visible.MOMENTUM_IGNORED] = reference_update(*stats, KERAS_MOMENTUM)
    if not momentum_given:
        for other in (0.9, 0.1):
            out[f"{visible.MOMENTUM_OTHER_DEFAULT} (here momentum={other})"] = \
                reference_update(*stats, other)
    return out


def backward_mistakes(dout, X, gamma, eps=1e-5) -> dict:
    """``{description: (dX, dgamma, dbeta)}`` of typical backward mistakes."""
    X = np.asarray(X, dtype=np.float64)
    args = (dout, X, gamma, eps)
    out = {visible.BW_NO_MEAN_VAR: reference_backward(*args, mode="no_mean_var"),
           visible.BW_NO_VAR: reference_backward(*args, mode="no_var"),
           visible.BW_NO_MEAN: reference_backward(*args, mode="no_mean"),
           visible.BW_NO_GAMMA: reference_backward(*args, mode="no_gamma"),
           visible.UNBIASED: reference_backward(*args, ddof=1),
           visible.DGAMMA_X: reference_backward(*args, mode="dgamma_x"),
           visible.DGAMMA_NO_XHAT: reference_backward(*args, mode="dgamma_no_xhat"),
           visible.PARAMS_AVERAGED: reference_backward(*args, mode="averaged")}
    if X.ndim > 2:
        out[visible.BW_N_BATCH] = reference_backward(*args, n_mode="batch")
        out[visible.BW_BATCH_AXIS_ONLY] = reference_backward(*args, axes="batch")
    return out


# ------------------------------------------------------------ random inputs
def _features(rng, shape, dtype=np.float64):
    """Random ``X`` whose features have their own offset and spread (|mean| <= 3 sigma)."""
    n = shape[-1]
    sigma = rng.uniform(0.5, 3.0, size=n)
    loc = rng.uniform(-3.0, 3.0, size=n) * sigma
    return (loc + sigma * rng.normal(size=shape)).astype(dtype)


def _params(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=n) * rng.choice([-1.0, 1.0], size=n)
    return gamma, rng.normal(size=n)


def _random_shapes(rng, n_cases, feature_maps: bool):
    """(N, D) or (m, n_H, n_W, n_C) shapes, at most ~60 values per feature."""
    shapes = []
    while len(shapes) < n_cases:
        if feature_maps:
            m, h, w = (int(rng.integers(1, 5)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
            if m * h * w < 3:
                continue
            shapes.append((m, h, w, int(rng.integers(1, 5))))
        else:
            shapes.append((int(rng.integers(3, 40)), int(rng.integers(1, 8))))
    return shapes


def _forward_case(batchnorm_forward, X, gamma, beta, eps, case, eps_given=True):
    expected = reference_forward(X, gamma, beta, eps)
    kwargs = {"eps": eps} if eps_given else {}
    result = core.call(batchnorm_forward, X, gamma, beta, name="batchnorm_forward", **kwargs)
    visible.check_forward_result(result, X, gamma, beta, eps, expected,
                                 forward_mistakes(X, gamma, beta, eps), case)


# ------------------------------------------------------------ batchnorm_forward
def batchnorm_forward_random_shapes(batchnorm_forward, n_cases=10):
    """Shapes of out, batch_mean and batch_var on random (N, D) and 4-D batches."""
    rng = seeding.rng(SEED)
    shapes = _random_shapes(rng, n_cases // 2, False) + _random_shapes(rng, n_cases // 2, True)
    for shape in shapes:
        X = _features(rng, shape)
        gamma, beta = _params(rng, shape[-1])
        result = core.call(batchnorm_forward, X, gamma, beta, name="batchnorm_forward")
        out, mean, var = visible.unpack(result, "batchnorm_forward",
                                        ("out", "batch_mean", "batch_var"))
        inputs = {"X": X, "gamma": gamma, "beta": beta}
        core.check_shape(core.as_array(out, "batchnorm_forward (out)"), shape,
                         "batchnorm_forward (out)", inputs)
        for value, what in ((mean, "batch_mean"), (var, "batch_var")):
            core.check_shape(core.as_array(value, f"batchnorm_forward ({what})"),
                             (shape[-1],), f"batchnorm_forward ({what})", inputs,
                             visible.stat_shape_mistakes(shape))
    core.passed(f"batchnorm_forward: right shapes on {len(shapes)} hidden batches")


def batchnorm_forward_matches_reference(batchnorm_forward, n_cases=6):
    """Values on random (N, D) batches, float32 and integer inputs, and one Keras case."""
    rng = seeding.rng(SEED + 1)
    for k, shape in enumerate(_random_shapes(rng, n_cases, False)):
        X = _features(rng, shape)
        gamma, beta = _params(rng, shape[-1])
        _forward_case(batchnorm_forward, X, gamma, beta, 1e-5,
                      f"random case {k + 1}: X of shape {shape}", eps_given=k % 2 == 0)
    X = _features(rng, (17, 5), np.float32)
    gamma, beta = (p.astype(np.float32) for p in _params(rng, 5))
    _forward_case(batchnorm_forward, X, gamma, beta, 1e-5, "float32 inputs")
    X = rng.integers(0, 256, size=(12, 4))
    gamma, beta = _params(rng, 4)
    _forward_case(batchnorm_forward, X, gamma, beta, 1e-5, "integer inputs (0..255)")
    cross_check_once()
    core.passed(f"batchnorm_forward matches the reference (equal to Keras "
                f"BatchNormalization, training=True) on {n_cases + 2} hidden batches")


def batchnorm_forward_feature_maps_random(batchnorm_forward, n_cases=6):
    """Per-channel statistics over (m, n_H, n_W) on random feature maps (one float32)."""
    rng = seeding.rng(SEED + 2)
    shapes = _random_shapes(rng, n_cases, True)
    for k, shape in enumerate(shapes):
        dtype = np.float32 if k == len(shapes) - 1 else np.float64
        X = _features(rng, shape, dtype)
        gamma, beta = (p.astype(dtype) for p in _params(rng, shape[-1]))
        _forward_case(batchnorm_forward, X, gamma, beta, 1e-5,
                      f"random feature maps {k + 1}: X of shape {shape}"
                      + (" (float32)" if dtype == np.float32 else ""))
    core.passed(f"batchnorm_forward: per-channel statistics right on {len(shapes)} hidden "
                "batches of feature maps")


def batchnorm_forward_eps_random(batchnorm_forward, n_cases=4):
    """Random eps values, nearly constant and constant features, (N, D) and 4-D."""
    rng = seeding.rng(SEED + 3)
    for k in range(n_cases):
        shape = (int(rng.integers(3, 9)), int(rng.integers(2, 5)))
        if k % 2:
            shape = (int(rng.integers(1, 3)), 2, int(rng.integers(2, 4)), shape[1])
        X = _features(rng, shape)
        X[..., 0] = X[..., 0] * 0.05 + 1.0          # a nearly constant feature
        X[..., -1] = float(rng.integers(-3, 4))     # a constant one: its variance is 0
        gamma, beta = _params(rng, shape[-1])
        eps = float(rng.choice([0.01, 0.1, 0.5, 2.0]))
        _forward_case(batchnorm_forward, X, gamma, beta, eps,
                      f"a batch X of shape {shape} with eps = {eps} (its last feature is "
                      "constant)")
    core.passed(f"batchnorm_forward: eps used as given, inside the square root "
                f"({n_cases} hidden cases)")


# ------------------------------------------------------------ batchnorm_inference
def batchnorm_inference_random(batchnorm_inference, n_cases=6):
    """Random batches (a batch of one among them), random running statistics and eps."""
    rng = seeding.rng(SEED + 4)
    cases = [(1, int(rng.integers(2, 6)))] + _random_shapes(rng, n_cases // 2 - 1, False) \
        + [(1, 2, 3, 2)] + _random_shapes(rng, n_cases - n_cases // 2 - 1, True)
    for k, shape in enumerate(cases):
        n = shape[-1]
        X = _features(rng, shape)
        gamma, beta = _params(rng, n)
        mean = X.reshape(-1, n).mean(axis=0) + rng.normal(size=n)
        var = rng.uniform(0.2, 4.0, size=n)
        eps = float(rng.choice([0.05, 0.3, 1.0])) if k % 2 else 1e-5
        kwargs = {"eps": eps} if k % 2 or k % 4 == 2 else {}  # the default eps, or given
        out = core.call(batchnorm_inference, X, gamma, beta, mean, var,
                        name="batchnorm_inference", **kwargs)
        visible.check_inference_result(out, X, gamma, beta, mean, var, eps,
                                       reference_inference(X, gamma, beta, mean, var, eps),
                                       inference_mistakes(X, gamma, beta, mean, var, eps),
                                       f"hidden case {k + 1}: X of shape {shape}, eps = {eps}")
    cross_check_once()
    core.passed(f"batchnorm_inference right on {len(cases)} hidden cases (the reference equals "
                "Keras BatchNormalization, training=False)")


# ------------------------------------------------------------ update_running_stats
def update_running_stats_random(update_running_stats, n_cases=6):
    """Random statistics and momenta (and the default), inputs untouched, Keras' start."""
    rng = seeding.rng(SEED + 5)
    for k in range(n_cases):
        n = int(rng.integers(1, 9))
        stats = (rng.normal(size=n), rng.uniform(0.1, 3.0, size=n), rng.normal(size=n) * 2,
                 rng.uniform(0.1, 5.0, size=n))
        given = k % 3 != 0
        momentum = float(rng.choice([0.5, 0.8, 0.9, 0.95, 0.999])) if given else 0.99
        kwargs = {"momentum": momentum} if given else {}
        result = visible.call_update(update_running_stats, *stats, **kwargs)
        visible.check_update_result(result, *stats, momentum,
                                    reference_update(*stats, momentum),
                                    update_mistakes(*stats, momentum, momentum_given=given),
                                    f"hidden case {k + 1}: {n} channels, momentum "
                                    + (str(momentum) if given else "not given (0.99)"))
    # the moving statistics after one training step from Keras' start (0 and 1)
    X = _features(rng, (2, 3, 3, 4))
    stats = (np.zeros(4), np.ones(4), X.mean(axis=(0, 1, 2)), X.var(axis=(0, 1, 2)))
    cross_check_once()
    expected = reference_update(*stats, KERAS_MOMENTUM)
    result = visible.call_update(update_running_stats, *stats)
    visible.check_update_result(result, *stats, KERAS_MOMENTUM, expected,
                                update_mistakes(*stats, KERAS_MOMENTUM, momentum_given=False),
                                "one step from Keras' start (mean 0, variance 1), momentum 0.99")
    core.passed(f"update_running_stats right on {n_cases + 1} hidden cases, Keras' moving "
                "averages after one step among them")


# ------------------------------------------------------------ batchnorm_backward
def _backward_case(batchnorm_backward, dout, X, gamma, eps, case, eps_given=True):
    kwargs = {"eps": eps} if eps_given else {}
    result = core.call(batchnorm_backward, dout, X, gamma, name="batchnorm_backward", **kwargs)
    visible.check_backward_result(result, dout, X, gamma, eps,
                                  reference_backward(dout, X, gamma, eps),
                                  backward_mistakes(dout, X, gamma, eps), case)


def _dout(rng, shape, dtype=np.float64):
    """An upstream gradient with a nonzero mean per feature (as real ones have)."""
    return (rng.normal(size=shape) + rng.normal(size=shape[-1])).astype(dtype)


def batchnorm_backward_random(batchnorm_backward, n_cases=6):
    """dX, dgamma and dbeta on random (N, D) batches, eps values, and float32."""
    rng = seeding.rng(SEED + 6)
    for k, shape in enumerate(_random_shapes(rng, n_cases, False)):
        X = _features(rng, shape)
        gamma, _ = _params(rng, shape[-1])
        eps = 1e-5 if k % 2 == 0 else float(rng.choice([0.01, 0.5]))
        _backward_case(batchnorm_backward, _dout(rng, shape), X, gamma, eps,
                       f"random case {k + 1}: X of shape {shape}, eps = {eps}",
                       eps_given=k != 0)
    X = _features(rng, (11, 4), np.float32)
    gamma = _params(rng, 4)[0].astype(np.float32)
    _backward_case(batchnorm_backward, _dout(rng, (11, 4), np.float32), X, gamma, 1e-5,
                   "float32 inputs")
    core.passed(f"batchnorm_backward matches the reference on {n_cases + 1} hidden batches")


def batchnorm_backward_feature_maps_random(batchnorm_backward, n_cases=5):
    """dX, dgamma and dbeta on random feature maps: sums over (m, n_H, n_W)."""
    rng = seeding.rng(SEED + 7)
    shapes = _random_shapes(rng, n_cases, True)
    shapes = [s if s[0] > 1 else (2,) + s[1:] for s in shapes]  # m > 1: N is not m
    for k, shape in enumerate(shapes):
        X = _features(rng, shape)
        gamma, _ = _params(rng, shape[-1])
        _backward_case(batchnorm_backward, _dout(rng, shape), X, gamma, 1e-5,
                       f"random feature maps {k + 1}: X of shape {shape}")
    core.passed(f"batchnorm_backward: right gradients on {len(shapes)} hidden batches of "
                "feature maps")

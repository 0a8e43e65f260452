"""Hidden tests for notebook 08 (backpropagation through convolution and pooling).

The references here are written independently of the notebook's loops: the
convolution's gradients are accumulated one kernel offset ``(a, c)`` at a time
over every output position at once (a strided slice of the padded input), pooling
likewise, and the numerical gradient is the centred difference of the function
the test hands over. ``tests/test_backprop.py`` checks these references against
TensorFlow's automatic differentiation (``tf.GradientTape`` over ``tf.nn.conv2d``
and the pooling ops). The outputs of typical mistakes come from small loop
variants below (:func:`conv_backward_variant`, :func:`pool_backward_variant`), so a
wrong answer is named in the message.

Hidden inputs come from :func:`grader.references.seeding.rng`: fixed seeds in a
notebook, per-student seeds while grading. Max-pooling inputs hold distinct
values, so every window has one maximum (and one minimum).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader_kernel import testfns
from utils.checks import backprop as visible
from utils.checks import core

from . import seeding

SEED = 8008
MODES = ("max", "average")


# ================================================================ references
def _offset_slices(a: int, c: int, stride: int, n_h: int, n_w: int):
    """Rows and columns that kernel offset ``(a, c)`` touches over all output positions."""
    return (slice(a, a + stride * (n_h - 1) + 1, stride),
            slice(c, c + stride * (n_w - 1) + 1, stride))


def conv_backward_ref(dZ, A_prev, W, stride: int, pad: int):
    """``(dA_prev, dW, db)`` of a convolution layer, in float64.

    ``Z[i, h, w, k] = sum_{a, c, ch} A_pad[i, h*s + a, w*s + c, ch] * W[a, c, ch, k] + b[k]``,
    so for each kernel offset ``(a, c)`` the positions ``h*s + a`` of every output
    row receive ``dZ @ W[a, c].T`` and ``W[a, c]`` receives ``A_pad[...]^T dZ``.
    """
    dZ = np.asarray(dZ, dtype=np.float64)
    A = np.pad(np.asarray(A_prev, dtype=np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    W = np.asarray(W, dtype=np.float64)
    f = W.shape[0]
    _, n_h, n_w, _ = dZ.shape
    dA = np.zeros_like(A)
    dW = np.zeros_like(W)
    for a in range(f):
        for c in range(f):
            rows, cols = _offset_slices(a, c, stride, n_h, n_w)
            dA[:, rows, cols, :] += np.einsum("mhwk,ik->mhwi", dZ, W[a, c])
            dW[a, c] = np.einsum("mhwi,mhwk->ik", A[:, rows, cols, :], dZ)
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)
    n_hp, n_wp = np.shape(A_prev)[1:3]
    return dA[:, pad:pad + n_hp, pad:pad + n_wp, :], dW, db


def pool_backward_ref(dA, A_prev, f: int, stride: int, mode: str):
    """``dA_prev`` of max or average pooling, in float64 (windows may overlap)."""
    dA = np.asarray(dA, dtype=np.float64)
    A = np.asarray(A_prev, dtype=np.float64)
    _, n_h, n_w, _ = dA.shape
    out = np.zeros_like(A)
    if mode == "max":
        top = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
        top = top[:, :n_h, :n_w].max(axis=(-2, -1))
    for a in range(f):
        for c in range(f):
            rows, cols = _offset_slices(a, c, stride, n_h, n_w)
            if mode == "max":
                out[:, rows, cols, :] += (A[:, rows, cols, :] == top) * dA
            else:
                out[:, rows, cols, :] += dA / (f * f)
    return out


def centred_difference(fn, x, h: float) -> np.ndarray:
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every index ``i`` of ``x`` (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = fn(x)
        x[idx] = old - h
        down = fn(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def relative_error_ref(a, b) -> float:
    """``max |a - b| / max(1e-8, |a| + |b|)``, elementwise, then the maximum."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


# ================================================================ mistake variants
def conv_backward_variant(dZ, A_prev, W, stride: int, pad: int, *, flip=False,
                          no_weights=False, ignore_stride=False, overwrite_dA=False,
                          overwrite_dW=False, first_example=False):
    """The loops of a typical ``conv_backward`` with one mistake switched on (float64)."""
    dZ = np.asarray(dZ, dtype=np.float64)
    A = np.pad(np.asarray(A_prev, dtype=np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    W = np.asarray(W, dtype=np.float64)
    Wb = W[::-1, ::-1] if flip else W
    f = W.shape[0]
    m, n_h, n_w, n_c = dZ.shape
    dA = np.zeros_like(A)
    dW = np.zeros_like(W)
    s = 1 if ignore_stride else stride
    for i in range(1 if first_example else m):
        for h in range(n_h):
            for w in range(n_w):
                r, c = h * s, w * s
                for k in range(n_c):
                    g = dZ[i, h, w, k]
                    add = g if no_weights else Wb[:, :, :, k] * g
                    if overwrite_dA:
                        dA[i, r:r + f, c:c + f, :] = add
                    else:
                        dA[i, r:r + f, c:c + f, :] += add
                    if overwrite_dW:
                        dW[:, :, :, k] = A[i, r:r + f, c:c + f, :] * g
                    else:
                        dW[:, :, :, k] += A[i, r:r + f, c:c + f, :] * g
    n_hp, n_wp = np.shape(A_prev)[1:3]
    db = (dZ[:1] if first_example else dZ).sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)
    return dA[:, pad:pad + n_hp, pad:pad + n_wp, :], dW, db


def conv_mistakes(dZ, A_prev, W, stride: int, pad: int) -> tuple[dict, dict, dict]:
    """``({mistake: dA_prev}, {mistake: dW}, {mistake: db})`` on this input."""
    good_dA, good_dW, good_db = conv_backward_ref(dZ, A_prev, W, stride, pad)
    m, n_h, n_w, _ = np.shape(dZ)
    variants = {visible.DA_FLIPPED: dict(flip=True), visible.DA_NO_WEIGHTS: dict(no_weights=True),
                visible.DA_OVERWRITTEN: dict(overwrite_dA=True),
                visible.DW_OVERWRITTEN: dict(overwrite_dW=True)}
    if stride > 1:
        variants[visible.STRIDE_IGNORED] = dict(ignore_stride=True)
    if m > 1:
        variants[visible.FIRST_EXAMPLE] = dict(first_example=True)
    dA_m, dW_m, db_m = {}, {}, {}
    for text, switch in variants.items():
        dA, dW, db = conv_backward_variant(dZ, A_prev, W, stride, pad, **switch)
        dA_m[text], dW_m[text], db_m[text] = dA, dW, db
    if pad > 0:
        n_hp, n_wp = np.shape(A_prev)[1:3]
        full = conv_backward_variant(dZ, np.pad(np.asarray(A_prev, dtype=np.float64),
                                                ((0, 0), (pad, pad), (pad, pad), (0, 0))),
                                     W, stride, 0)[0]
        dA_m[visible.DA_CROP_OFFSET] = full[:, :n_hp, :n_wp, :]
    dW_m[visible.DW_AVERAGED] = good_dW / m
    db_m[visible.DB_AVERAGED] = good_db / (m * n_h * n_w)
    if m > 1:
        db_m[visible.DB_AVERAGED_BATCH] = good_db / m
    keep = (lambda d, good: core.group_alternatives(
        {k: v for k, v in d.items() if np.shape(v) == np.shape(good) and not np.allclose(v, good)}))
    return (keep(dA_m, good_dA), keep(dW_m, good_dW), keep(db_m, good_db))


def pool_backward_variant(dA, A_prev, f: int, stride: int, mode: str, *, route="max",
                          divide=None, overwrite=False, ignore_stride=False,
                          across_channels=False):
    """The loops of a typical ``pool_backward`` with one mistake switched on (float64).

    ``route``: ``"max"``, ``"min"`` (mask at the minimum), ``"all"`` (the whole window)
    for max mode; ``divide``: what average mode divides by (default ``f*f``).
    """
    dA = np.asarray(dA, dtype=np.float64)
    A = np.asarray(A_prev, dtype=np.float64)
    m, n_h, n_w, n_c = dA.shape
    out = np.zeros_like(A)
    s = 1 if ignore_stride else stride
    div = f * f if divide is None else divide
    for i in range(m):
        for h in range(n_h):
            for w in range(n_w):
                r, c = h * s, w * s
                for k in range(n_c):
                    if mode == "max":
                        window = A[i, r:r + f, c:c + f, :] if across_channels \
                            else A[i, r:r + f, c:c + f, k]
                        if route == "all":
                            mask = np.ones_like(window)
                        else:
                            pick = np.max if route == "max" else np.min
                            mask = (window == pick(window)).astype(float)
                        if across_channels:
                            mask = mask[..., k]
                        add = mask * dA[i, h, w, k]
                    else:
                        add = np.full((f, f), dA[i, h, w, k] / div)
                    if overwrite:
                        out[i, r:r + f, c:c + f, k] = add
                    else:
                        out[i, r:r + f, c:c + f, k] += add
    return out


def pool_mistakes(dA, A_prev, f: int, stride: int, mode: str) -> dict:
    """``{mistake: dA_prev}`` of typical ``pool_backward`` mistakes on this input."""
    good = pool_backward_ref(dA, A_prev, f, stride, mode)
    other = "average" if mode == "max" else "max"
    out = {visible.POOL_OVERWRITTEN: pool_backward_variant(dA, A_prev, f, stride, mode,
                                                           overwrite=True),
           {"max": visible.AVG_FOR_MAX, "average": visible.MAX_FOR_AVG}[mode]:
               pool_backward_ref(dA, A_prev, f, stride, other)}
    if mode == "max":
        out[visible.MAX_SPREAD] = pool_backward_variant(dA, A_prev, f, stride, mode, route="all")
        out[visible.MAX_TO_MIN] = pool_backward_variant(dA, A_prev, f, stride, mode, route="min")
        if np.shape(A_prev)[3] > 1:
            out[visible.POOL_ACROSS_CHANNELS] = pool_backward_variant(
                dA, A_prev, f, stride, mode, across_channels=True)
    else:
        out[visible.AVG_NOT_DIVIDED] = good * (f * f)
        out[visible.AVG_DIVIDED_BY_F] = good * f
    if stride > 1:
        out[visible.POOL_STRIDE_IGNORED] = pool_backward_variant(dA, A_prev, f, stride, mode,
                                                                 ignore_stride=True)
    return core.group_alternatives({k: v for k, v in out.items() if not np.allclose(v, good)})


def numerical_gradient_mistakes(fn, x, h: float) -> dict:
    """``{mistake: result}`` of typical ``numerical_gradient`` mistakes (float64)."""
    x = np.asarray(x, dtype=np.float64)
    good = centred_difference(fn, x, h)
    f0 = fn(x)
    up = np.zeros_like(x)
    down = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        up[idx], down[idx] = fn(x + e), fn(x - e)
    out = {visible.NG_ONE_SIDED: (up - f0) / h, visible.NG_ONE_SIDED_BACK: (f0 - down) / h,
           visible.NG_OVER_H: (up - down) / h,
           visible.NG_EXACT: fn.gradient(x),
           visible.NG_H_IGNORED: centred_difference(fn, x, 1e-5),
           visible.NG_ALL_AT_ONCE: np.full(x.shape, (fn(x + h) - fn(x - h)) / (2 * h))}
    out = core.group_alternatives(out)
    return {k: v for k, v in out.items() if not np.allclose(v, good, rtol=1e-9, atol=1e-12)}


def relu_backward_mistakes(dA, Z) -> dict:
    """``{mistake: result}`` of typical ``relu_backward`` mistakes."""
    dA = np.asarray(dA, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    good = np.where(Z > 0, dA, 0.0)
    out = {visible.RELU_AT_ZERO: np.where(Z >= 0, dA, 0.0),
           visible.RELU_MASK_FROM_DA: np.where(dA > 0, dA, 0.0),
           visible.RELU_MASK_ONLY: (Z > 0).astype(float),
           visible.RELU_TIMES_Z: dA * np.maximum(Z, 0),
           visible.RELU_INVERTED: np.where(Z <= 0, dA, 0.0),
           visible.RELU_INVERTED + " (here Z < 0)": np.where(Z < 0, dA, 0.0)}
    return core.group_alternatives({k: v for k, v in out.items() if not np.allclose(v, good)})


def relative_error_mistakes(a, b) -> dict:
    """``{mistake: value}`` of typical ``relative_error`` mistakes (nan ones left out)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.abs(a - b)
    den = np.maximum(1e-8, np.abs(a) + np.abs(b))
    good = relative_error_ref(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {visible.RE_RATIO_OF_MAXES: float(num.max() / max(1e-8, (np.abs(a) + np.abs(b)).max())),
               visible.RE_MEAN: float(np.mean(num / den)),
               visible.RE_SUM: float(np.sum(num / den)),
               visible.RE_NO_ABS_DEN: float(np.max(num / np.maximum(1e-8, np.abs(a + b)))),
               visible.RE_SIGNED: float(np.max((a - b) / den)),
               visible.RE_RELATIVE_TO_ONE: float(np.max(num / np.maximum(1e-8, np.abs(b)))),
               visible.RE_RELATIVE_TO_ONE + " (here |a|)":
                   float(np.max(num / np.maximum(1e-8, np.abs(a)))),
               visible.RE_NO_HALF: float(np.max(num / np.maximum(1e-8, np.abs(a + b) / 2)))}
    return core.group_alternatives({k: v for k, v in out.items()
                                    if np.isfinite(v) and not np.isclose(v, good, rtol=1e-6,
                                                                         atol=1e-12)})


# ================================================================ inputs
def distinct_values(rng, shape, dtype=np.float64) -> np.ndarray:
    """Distinct values (a shuffled grid of quarters), so every window has one max and one min."""
    n = int(np.prod(shape))
    values = (rng.permutation(n) - n / 2) * 0.25 + 0.125
    return values.reshape(shape).astype(dtype)


def _conv_cases(rng, n_cases: int):
    """Batches, non-square inputs, channels, strides above and below f, padding."""
    cases = [  # (m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad)
        (2, 5, 6, 3, 3, 2, 1, 0),
        (3, 7, 5, 2, 3, 3, 2, 1),
        (1, 6, 7, 1, 2, 2, 3, 2),
        (2, 4, 4, 3, 1, 4, 1, 0),
        (2, 8, 6, 2, 4, 2, 2, 3),
        (1, 7, 7, 2, 2, 3, 3, 0),
    ]
    while len(cases) < n_cases:
        f = int(rng.integers(1, 5))
        pad = int(rng.integers(0, 3))
        n_h = int(rng.integers(max(f - 2 * pad, 1) + 1, 9))
        n_w = int(rng.integers(max(f - 2 * pad, 1) + 1, 9))
        if n_h == n_w:
            n_w += 1
        cases.append((int(rng.integers(1, 4)), n_h, n_w, int(rng.integers(1, 4)), f,
                      int(rng.integers(1, 4)), int(rng.integers(1, 4)), pad))
    return cases


def _pool_cases(rng, n_cases: int):
    """Overlapping (stride < f), tiling (stride == f) and gapped (stride > f) windows."""
    cases = [  # (m, n_H_prev, n_W_prev, n_C, f, stride)
        (2, 5, 5, 2, 3, 1),
        (1, 6, 7, 3, 3, 2),
        (3, 4, 6, 1, 2, 2),
        (2, 7, 5, 2, 2, 3),
        (1, 8, 6, 2, 4, 2),
    ]
    while len(cases) < n_cases:
        f, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        cases.append((int(rng.integers(1, 4)), int(rng.integers(f, 9)),
                      int(rng.integers(f, 9)), int(rng.integers(1, 4)), f, s))
    return cases


# ================================================================ hidden tests
def _check_conv(conv_backward, dZ, A_prev, W, b, hp, case):
    s, p = hp["stride"], hp["pad"]
    dA_ref, dW_ref, db_ref = conv_backward_ref(dZ, A_prev, W, s, p)
    dA_m, dW_m, db_m = conv_mistakes(dZ, A_prev, W, s, p)
    shape_m = visible.conv_shape_mistakes(np.shape(A_prev), np.shape(W), p)
    visible.compare_conv_backward(conv_backward, dZ, (A_prev, W, b, hp), (dA_ref, dW_ref, db_ref),
                                  (dA_m, dW_m, db_m), shape_m, case)


def conv_backward_matches_reference(conv_backward, n_cases=9):
    """Random batches, shapes, channels, strides and padding; float32 and integer inputs."""
    rng = seeding.rng(SEED)
    cases = _conv_cases(rng, n_cases)
    for k, (m, n_h, n_w, n_cp, f, n_c, s, p) in enumerate(cases):
        A = rng.normal(size=(m, n_h, n_w, n_cp))
        W = rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        n_ho, n_wo = (n_h + 2 * p - f) // s + 1, (n_w + 2 * p - f) // s + 1
        dZ = rng.normal(size=(m, n_ho, n_wo, n_c))
        _check_conv(conv_backward, dZ, A, W, b, {"stride": s, "pad": p},
                    f"random case {k + 1}: A_prev {A.shape}, W {W.shape}, stride {s}, pad {p}")
    A = rng.normal(size=(2, 6, 5, 3)).astype(np.float32)
    W = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    b = rng.normal(size=(1, 1, 1, 2)).astype(np.float32)
    dZ = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    _check_conv(conv_backward, dZ, A, W, b, {"stride": 2, "pad": 1}, "float32 inputs")
    A = rng.integers(0, 256, size=(2, 5, 4, 2))
    W = rng.normal(size=(2, 2, 2, 3))
    dZ = rng.normal(size=(2, 5, 4, 3))
    _check_conv(conv_backward, dZ, A, W, rng.normal(size=(1, 1, 1, 3)), {"stride": 1, "pad": 1},
                "an integer image (0..255)")
    core.passed(f"conv_backward matches the reference on {len(cases) + 2} hidden cases")


def conv_backward_single_channel(conv_backward, n_cases=4):
    """One channel, one filter, stride 1, no padding: small random images and kernels."""
    rng = seeding.rng(SEED + 1)
    for k in range(n_cases):
        f = int(rng.integers(2, 4))
        n_h, n_w = int(rng.integers(f, 7)), int(rng.integers(f, 7))
        A = rng.integers(-3, 4, size=(1, n_h, n_w, 1)).astype(float)
        W = rng.integers(-3, 4, size=(f, f, 1, 1)).astype(float)
        W[0, 0, 0, 0] = 5.0  # never symmetric: a flipped kernel always shows
        dZ = rng.integers(-3, 4, size=(1, n_h - f + 1, n_w - f + 1, 1)).astype(float)
        _check_conv(conv_backward, dZ, A, W, np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": 0},
                    f"one channel, a {n_h}x{n_w} image and a {f}x{f} kernel")
    core.passed(f"conv_backward right on {n_cases} hidden one-channel cases")


def conv_backward_random_shapes(conv_backward, n_cases=10):
    """Shapes of dA_prev, dW and db on random sizes (no value check)."""
    rng = seeding.rng(SEED + 2)
    for m, n_h, n_w, n_cp, f, n_c, s, p in _conv_cases(rng, n_cases):
        A = rng.normal(size=(m, n_h, n_w, n_cp))
        W = rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        dZ = rng.normal(size=(m, (n_h + 2 * p - f) // s + 1, (n_w + 2 * p - f) // s + 1, n_c))
        hp = {"stride": s, "pad": p}
        visible.check_conv_shapes(conv_backward, dZ, (A, W, b, hp),
                                  visible.conv_shape_mistakes(A.shape, W.shape, p))
    core.passed(f"conv_backward shapes right on {n_cases} hidden cases")


def _check_pool(pool_backward, dA, A_prev, hp, mode, case, pass_mode=True):
    f, s = hp["f"], hp["stride"]
    expected = pool_backward_ref(dA, A_prev, f, s, mode)
    mistakes = pool_mistakes(dA, A_prev, f, s, mode)
    if not pass_mode:  # called without `mode`: average-mode values mean a wrong default
        mistakes = {visible.POOL_DEFAULT: pool_backward_ref(dA, A_prev, f, s, "average"),
                    **mistakes}
    visible.compare_pool_backward(pool_backward, dA, (A_prev, hp), mode if pass_mode else None,
                                  expected, mistakes, case)


def _pool_inputs(rng, m, n_h, n_w, n_c, f, s, dtype=np.float64):
    A = distinct_values(rng, (m, n_h, n_w, n_c), dtype)
    dA = rng.normal(size=(m, (n_h - f) // s + 1, (n_w - f) // s + 1, n_c)).astype(dtype)
    return A, dA


def _pool_random_cases(pool_backward, rng, mode: str, n_cases: int) -> int:
    """Random batches (overlapping, tiling and gapped windows) and float32; returns the count."""
    cases = _pool_cases(rng, n_cases)
    for k, (m, n_h, n_w, n_c, f, s) in enumerate(cases):
        A, dA = _pool_inputs(rng, m, n_h, n_w, n_c, f, s)
        _check_pool(pool_backward, dA, A, {"f": f, "stride": s}, mode,
                    f"random case {k + 1}: A_prev {A.shape}, f {f}, stride {s}, mode {mode!r}")
    A, dA = _pool_inputs(rng, 2, 6, 5, 2, 3, 2, np.float32)
    _check_pool(pool_backward, dA, A, {"f": 3, "stride": 2}, mode, "float32 inputs")
    return len(cases) + 1


def pool_backward_max_reference(pool_backward, n_cases=8):
    """Max pooling on random batches, overlapping and gapped windows, float32; default mode."""
    rng = seeding.rng(SEED + 3)
    n = _pool_random_cases(pool_backward, rng, "max", n_cases)
    A, dA = _pool_inputs(rng, 2, 5, 6, 2, 2, 1)
    _check_pool(pool_backward, dA, A, {"f": 2, "stride": 1}, "max",
                "called without `mode` (the default is max)", pass_mode=False)
    core.passed(f"pool_backward (max) matches the reference on {n + 1} hidden cases")


def pool_backward_average_reference(pool_backward, n_cases=8):
    """Average pooling on random batches, overlapping and gapped windows, float32, integers."""
    rng = seeding.rng(SEED + 4)
    n = _pool_random_cases(pool_backward, rng, "average", n_cases)
    A = rng.integers(0, 256, size=(2, 5, 5, 2))
    dA = rng.integers(-4, 5, size=(2, 2, 2, 2))
    _check_pool(pool_backward, dA, A, {"f": 3, "stride": 2}, "average",
                "an integer image and an integer dA")
    core.passed(f"pool_backward (average) matches the reference on {n + 1} hidden cases")


def _x_cases(rng):
    """Points of several shapes (1-D to 4-D), values in about [-2, 2]."""
    shapes = [(5,), (3, 4), (2, 3, 2), (1, 2, 2, 3)]
    return [rng.uniform(-2, 2, size=s) for s in shapes]


def numerical_gradient_matches_reference(numerical_gradient):
    """Centred differences of public test functions with hidden parameters, h large and default."""
    rng = seeding.rng(SEED + 5)
    xs = _x_cases(rng)
    for k, x in enumerate(xs):
        a, b = float(rng.uniform(0.5, 3)), float(rng.uniform(-2, 2))
        w = rng.uniform(-2, 2, size=x.shape)
        fns = [testfns.cubic_sum(a=a, b=b), testfns.sin_dot(w=w.tolist()),
               testfns.weighted_square(w=w.tolist())]
        fn = fns[k % len(fns)]
        for h in (0.1, 1e-3):
            visible.compare_numerical_gradient(numerical_gradient, fn, x, h,
                                               centred_difference(fn, x, h),
                                               numerical_gradient_mistakes(fn, x, h),
                                               f"{fn!r} at a point of shape {x.shape}, h = {h}")
        visible.compare_numerical_gradient(numerical_gradient, fn, x, None,
                                           centred_difference(fn, x, 1e-5), {},
                                           f"{fn!r} at a point of shape {x.shape}, default h",
                                           rtol=1e-6, atol=1e-6)
    core.passed(f"numerical_gradient matches centred differences on {3 * len(xs)} hidden "
                "cases; x restored every time")


def relu_backward_random(relu_backward):
    """Random batches with exact zeros in Z; float32; dA and Z unchanged."""
    rng = seeding.rng(SEED + 6)
    for shape, dtype in [((2, 4, 5, 3), np.float64), ((3, 7), np.float32),
                         ((1, 3, 3, 6), np.float64), ((8,), np.float64)]:
        Z = np.round(rng.normal(size=shape) * 2).astype(dtype)  # about a fifth are 0
        Z.flat[0] = 0.0
        dA = rng.normal(size=shape).astype(dtype)
        dA[dA == 0] = 1.0
        visible.check_relu_backward_case(relu_backward, dA, Z, np.where(Z > 0, dA, 0),
                                         relu_backward_mistakes(dA, Z))
    core.passed("relu_backward right on 4 hidden arrays with zeros in Z; inputs untouched")


def relative_error_random(relative_error):
    """Random pairs (some entries equal, some both zero), scalars of every size."""
    rng = seeding.rng(SEED + 7)
    for shape in [(6,), (3, 4), (2, 2, 3)]:
        a = rng.normal(size=shape) * 10 ** rng.uniform(-3, 2, size=shape)
        b = a * (1 + rng.normal(size=shape) * 10 ** rng.uniform(-9, -1, size=shape))
        b.flat[0] = a.flat[0]          # one exact match
        a.flat[-1] = b.flat[-1] = 0.0  # one pair of zeros: 0 / 1e-8 = 0
        visible.check_relative_error_case(relative_error, a, b, relative_error_ref(a, b),
                                          relative_error_mistakes(a, b))
    for a, b in [(np.array([3.0]), np.array([-3.0])), (np.zeros(4), np.zeros(4)),
                 (np.array([[1e-9, 0.0]]), np.array([[0.0, 0.0]]))]:
        visible.check_relative_error_case(relative_error, a, b, relative_error_ref(a, b),
                                          relative_error_mistakes(a, b))
    core.passed("relative_error right on 6 hidden pairs")

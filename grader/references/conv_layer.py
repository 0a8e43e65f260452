"""Hidden tests for notebook 04 (convolutions over volumes, one convolutional layer).

Students are compared with an independent NumPy convolution (:func:`reference_conv`),
which is itself checked against Keras once per grading process: a ``Conv2D`` layer
given the same ``W`` and ``b`` with ``set_weights`` (explicit zero padding of the two
spatial axes, then ``padding="valid"`` with the same strides), in float64. Checking
once, not once per student, keeps TensorFlow's layer building out of every grade.
The outputs of typical mistakes come from small NumPy variants below, so a wrong
answer is named in the message.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.checks import conv_layer as visible
from utils.checks import core
from utils.runtime import import_keras

from . import seeding

SEED = 4004


# ------------------------------------------------------------ references


def keras_conv(A_prev, W, b, stride, pad):
    """``Conv2D`` output for ``A_prev`` zero-padded by ``pad`` (float64, linear)."""
    keras = import_keras()
    A = np.pad(np.asarray(A_prev, dtype=np.float64),
               ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f, _, n_c_prev, n_c = W.shape
    layer = keras.layers.Conv2D(n_c, (f, f), strides=(stride, stride), padding="valid",
                                dtype="float64")
    layer.build((None,) + A.shape[1:])
    layer.set_weights([np.asarray(W, dtype=np.float64),
                       np.asarray(b, dtype=np.float64).reshape(n_c)])
    return np.asarray(keras.ops.convert_to_numpy(layer(A)), dtype=np.float64)


def keras_conv_params(f, n_c_prev, n_c):
    """Parameters Keras counts for a ``Conv2D(n_c, f)`` on ``n_c_prev`` input channels."""
    keras = import_keras()
    layer = keras.layers.Conv2D(n_c, (f, f))
    layer.build((None, f + 3, f + 3, n_c_prev))
    return int(layer.count_params())


_CROSS_CHECKED: list = []


def _cross_check_once() -> None:
    """Check the NumPy references against Keras on fixed cases, once per process.

    Hidden tests compare students with the NumPy references (fast, per student); that
    those equal Keras' ``Conv2D`` and its ``count_params`` is checked here once per
    grading worker, and on many random cases in ``tests/test_conv_layer.py``.
    """
    if _CROSS_CHECKED:
        return
    rng = np.random.default_rng(4242)
    for m, n_h, n_w, n_cp, f, n_c, s, p in [(2, 7, 6, 3, 3, 4, 2, 1), (1, 5, 5, 1, 1, 2, 1, 0),
                                             (3, 9, 8, 2, 4, 3, 3, 2)]:
        A, W = rng.normal(size=(m, n_h, n_w, n_cp)), rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        if not np.allclose(_conv(A, W, b, s, s, p), keras_conv(A, W, b, s, p), atol=1e-9):
            raise RuntimeError("the grader's reference convolution disagrees with Keras Conv2D; "
                               "fix grader/references/conv_layer.py before grading")
    for f, n_cp, n_c in [(3, 3, 10), (1, 64, 32), (5, 3, 8)]:
        if (f * f * n_cp + 1) * n_c != keras_conv_params(f, n_cp, n_c):
            raise RuntimeError("the grader's parameter count disagrees with Keras count_params")
    _CROSS_CHECKED.append(True)


def reference_conv(A_prev, W, b, stride, pad) -> np.ndarray:
    """What ``conv_forward`` must return: an independent NumPy convolution (float64).

    ``A_prev (m, n_H_prev, n_W_prev, n_C_prev)``, ``W (f, f, n_C_prev, n_C)``,
    ``b (1, 1, 1, n_C)`` -> ``(m, n_H, n_W, n_C)``; equal to Keras' ``Conv2D`` (checked
    once per process by :func:`_cross_check_once`).
    """
    _cross_check_once()
    return _conv(A_prev, W, b, stride, stride, pad)


def reference_conv_params(f, n_c_prev, n_c) -> int:
    """``(f * f * n_C_prev + 1) * n_C``, equal to Keras' ``count_params`` (checked once)."""
    _cross_check_once()
    return (int(f) * int(f) * int(n_c_prev) + 1) * int(n_c)


def _windows(A, f, s_h, s_w):
    """``(m, n_H, n_W, n_C_prev, f, f)`` windows of ``A`` with strides ``s_h``, ``s_w``."""
    return sliding_window_view(A, (f, f), axis=(1, 2))[:, ::s_h, ::s_w]


def _conv(A, W, b, s_h, s_w, pad, n_h=None, n_w=None):
    A = np.pad(np.asarray(A, dtype=np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = _windows(A, W.shape[0], s_h, s_w)
    if n_h is not None:
        win = win[:, :n_h, :n_w]
    return np.einsum("mhwcij,ijcn->mhwn", win, np.asarray(W, dtype=np.float64)) \
        + np.asarray(b, dtype=np.float64).reshape(1, 1, 1, -1)


def conv_mistakes(A_prev, W, b, stride, pad) -> dict:
    """``{description: output}`` of typical ``conv_forward`` mistakes on this input."""
    A = np.asarray(A_prev, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).reshape(1, 1, 1, -1)
    f, _, n_c_prev, _ = W.shape
    good = _conv(A, W, b, stride, stride, pad)
    m, n_h, n_w, _ = good.shape
    out = {
        visible.NO_BIAS: good - b,
        visible.BIAS_PER_ELEMENT: good + (f * f * n_c_prev - 1) * b,
        visible.BIAS_OF_FILTER_0: good - b + b[..., :1],
        visible.RELU_INSIDE: np.maximum(good, 0),
        visible.KERNEL_FLIPPED: _conv(A, W[::-1, ::-1], b, stride, stride, pad),
        visible.FIRST_CHANNEL: _conv(A[..., :1], W[:, :, :1], b, stride, stride, pad),
    }
    if stride > 1:
        out[visible.STRIDE_IGNORED] = _conv(A, W, b, 1, 1, pad, n_h, n_w)
        out[visible.STRIDE_IGNORED_VERTICAL] = _conv(A, W, b, 1, stride, pad, n_h, n_w)
        out[visible.STRIDE_IGNORED_HORIZONTAL] = _conv(A, W, b, stride, 1, pad, n_h, n_w)
    if m > 1:
        out[visible.FIRST_EXAMPLE] = np.repeat(good[:1], m, axis=0)
        only = good.copy()
        only[1:] = 0
        out[visible.FIRST_EXAMPLE_ONLY] = only
        if pad > 0:
            shifted = np.concatenate([np.zeros_like(A[:pad]), A], axis=0)[:m]
            out[visible.PAD_BATCH] = _conv(shifted, W, b, stride, stride, pad)
    return {k: v for k, v in out.items() if not np.allclose(v, good)}


def conv_shape_mistakes(A_shape, f, n_c, stride, pad) -> dict:
    """``{description: shape}`` of typical output-size mistakes."""
    m, n_h, n_w, n_c_prev = A_shape

    def size(n, total_pad, s):
        return (n + total_pad - f) // s + 1
    good = (m, size(n_h, 2 * pad, stride), size(n_w, 2 * pad, stride), n_c)
    out = {
        visible.SHAPE_STRIDE: (m, size(n_h, 2 * pad, 1), size(n_w, 2 * pad, 1), n_c),
        visible.SHAPE_PAD: (m, size(n_h, 0, stride), size(n_w, 0, stride), n_c),
        visible.SHAPE_ONE_SIDE: (m, size(n_h, pad, stride), size(n_w, pad, stride), n_c),
        visible.SHAPE_CHANNELS: (m, good[1], good[2], n_c_prev),
        visible.SHAPE_NO_BATCH: good[1:],
    }
    out = {k: tuple(int(x) for x in v) for k, v in out.items()}
    out.update(visible.hard_coded_shapes(good))
    return {k: v for k, v in out.items() if v != good}


# ------------------------------------------------------------ random cases
def _random_cases(rng, n_cases=8):
    """Batches, non-square images, several channels, odd strides, padding."""
    fixed = [  # (m, n_H, n_W, n_C_prev, f, n_C, stride, pad)
        (3, 7, 5, 3, 3, 4, 3, 1),
        (2, 6, 9, 2, 2, 3, 1, 2),
        (4, 5, 5, 1, 1, 2, 2, 0),
        (1, 8, 6, 4, 4, 2, 2, 3),
    ]
    cases = list(fixed)
    while len(cases) < n_cases:
        f = int(rng.integers(1, 5))
        pad = int(rng.integers(0, 3))
        n_h = int(rng.integers(max(f - 2 * pad, 1), 10))
        n_w = int(rng.integers(max(f - 2 * pad, 1), 10))
        if n_h == n_w:
            n_w += 1
        cases.append((int(rng.integers(1, 4)), n_h, n_w, int(rng.integers(1, 5)), f,
                      int(rng.integers(1, 5)), int(rng.integers(1, 4)), pad))
    return cases


def _compare(conv_forward, A, W, b, hp, case, dtype_tol=1e-6, *, name="conv_forward",
             extra_mistakes=None, extra_shape_mistakes=None):
    """``name(A, W, b, hp)`` against Keras; ``extra_*``: mistakes of another notebook (11)."""
    expected = reference_conv(A, W, b, hp["stride"], hp["pad"])
    result = visible.call_forward(conv_forward, A, W, b, hp, name=name)
    Z, cache = visible.unpack_forward(result, name)
    inputs = {"A_prev": A, "W": W, "b": b, "hparameters": hp}
    arr = core.as_array(Z, f"{name} (Z)")
    core.check_shape(arr, expected.shape, f"{name} (Z)", inputs,
                     {**conv_shape_mistakes(A.shape, W.shape[0], W.shape[3], hp["stride"],
                                            hp["pad"]), **(extra_shape_mistakes or {})},
                     formula=visible.SIZE_FORMULA)
    # each value sums f*f*n_C_prev products and the bias: fair to float32 arithmetic
    terms = int(np.prod(W.shape[:3])) + 1
    scale = max(1.0, float(np.abs(np.asarray(A, dtype=np.float64)).max(initial=0.0)) * float(np.abs(np.asarray(W, dtype=np.float64)).max(initial=0.0)), float(np.abs(np.asarray(b, dtype=np.float64)).max(initial=0.0)))
    core.check_array(arr, expected, f"{name} (Z)", inputs=inputs,
                     mistakes={**conv_mistakes(A, W, b, hp["stride"], hp["pad"]),
                               **(extra_mistakes or {})},
                     rtol=1e-6, atol=dtype_tol, terms=terms, scale=scale,
                     require_float=True, case=case)
    visible.check_cache(cache, A, W, b, hp, name)


def conv_forward_matches_reference(conv_forward, n_cases=10):
    """``conv_forward`` equals Keras ``Conv2D`` on random batches, shapes, strides, pads."""
    rng = seeding.rng(SEED)
    cases = _random_cases(rng, n_cases)
    for k, (m, n_h, n_w, n_cp, f, n_c, s, p) in enumerate(cases):
        A = rng.normal(size=(m, n_h, n_w, n_cp))
        W = rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        hp = {"stride": s, "pad": p}
        _compare(conv_forward, A, W, b, hp,
                 f"random case {k + 1}: A_prev {A.shape}, W {W.shape}, stride {s}, pad {p}")
    # float32 inputs (any float output dtype is fine) and integer images
    A = rng.normal(size=(2, 6, 7, 3)).astype(np.float32)
    W = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    b = rng.normal(size=(1, 1, 1, 2)).astype(np.float32)
    _compare(conv_forward, A, W, b, {"stride": 2, "pad": 1}, "float32 inputs",
             dtype_tol=1e-4)
    A = rng.integers(0, 256, size=(2, 5, 4, 3))
    W = rng.normal(size=(2, 2, 3, 3))
    _compare(conv_forward, A, W, b=rng.normal(size=(1, 1, 1, 3)),
             hp={"stride": 1, "pad": 1}, case="an integer image (0..255)")
    core.passed(f"conv_forward matches Keras Conv2D on {len(cases) + 2} hidden cases")


def conv_forward_worked_examples(conv_forward):
    """The notebook's worked examples (6x6x3 with two 3x3x3 filters) against Keras."""
    A, W, b = visible.worked_example_inputs()
    _compare(conv_forward, A, W, b, {"stride": 1, "pad": 0}, "the 6x6x3 worked example")
    A, W, b, hp = visible.stride_pad_batch_inputs()
    _compare(conv_forward, A, W, b, hp, "the stride-2, pad-1 batch example")
    rng = seeding.rng(SEED + 1)
    A = rng.normal(size=(1, 6, 6, 3))
    W = rng.normal(size=(3, 3, 3, 2))
    b = rng.normal(size=(1, 1, 1, 2))
    _compare(conv_forward, A, W, b, {"stride": 1, "pad": 0}, "a random 6x6x3 image")
    core.passed("conv_forward matches Keras Conv2D on the worked examples")


def conv_forward_random_shapes(conv_forward, n_cases=12):
    """Output shapes and the cache on random sizes (no value check)."""
    rng = seeding.rng(SEED + 2)
    for m, n_h, n_w, n_cp, f, n_c, s, p in _random_cases(rng, n_cases):
        A = rng.normal(size=(m, n_h, n_w, n_cp))
        W = rng.normal(size=(f, f, n_cp, n_c))
        b = rng.normal(size=(1, 1, 1, n_c))
        hp = {"stride": s, "pad": p}
        result = visible.call_forward(conv_forward, A, W, b, hp)
        Z, cache = visible.unpack_forward(result)
        expected = ((m, (n_h + 2 * p - f) // s + 1, (n_w + 2 * p - f) // s + 1, n_c))
        core.check_shape(core.as_array(Z, "conv_forward (Z)"), expected, "conv_forward (Z)",
                         {"A_prev": A, "W": W, "b": b, "hparameters": hp},
                         conv_shape_mistakes(A.shape, f, n_c, s, p),
                         formula=visible.SIZE_FORMULA)
        visible.check_cache(cache, A, W, b, hp, "conv_forward")
    core.passed(f"conv_forward shapes and cache right on {n_cases} hidden cases")


# ------------------------------------------------------------ conv_single_step
def conv_single_step_random(conv_single_step, n_cases=8):
    """Random slices (several sizes, channels), ``b`` as (1,1,1) array, float or float32."""
    rng = seeding.rng(SEED + 3)
    for k in range(n_cases):
        f, n_cp = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        a = rng.normal(size=(f, f, n_cp))
        W = rng.normal(size=(f, f, n_cp))
        b_val = float(rng.normal())
        b = [np.array([[[b_val]]]), b_val, np.float32(b_val),
             np.array([[[b_val]]], dtype=np.float32)][k % 4]
        b_val = float(np.asarray(b).item())  # the value as stored (float32 rounds)
        if k == n_cases - 1:
            a, W = a.astype(np.float32), W.astype(np.float32)
        s = float(np.sum(np.asarray(a, np.float64) * np.asarray(W, np.float64)))
        mistakes = {visible.NO_BIAS: s,
                    visible.BIAS_PER_ELEMENT: s + f * f * n_cp * b_val,
                    visible.SINGLE_MEAN: s / a.size + b_val,
                    visible.FIRST_CHANNEL: float(np.sum(a[..., 0] * W[..., 0])) + b_val}
        if n_cp == 1:
            mistakes.pop(visible.FIRST_CHANNEL)
        out = visible.call_single_step(conv_single_step, a, W, b)
        scale = max(1.0, float(np.abs(a).max()) * float(np.abs(W).max()), abs(b_val))
        visible.check_single_step_result(out, s + b_val, mistakes,
                                         {"a_slice_prev": a, "W": W, "b": b},
                                         tol=core.rounding_atol(a.size + 1, scale))
    core.passed(f"conv_single_step right on {n_cases} hidden slices")


# ------------------------------------------------------------ relu
def relu_random(relu):
    """Random 4-D batches (float64 and float32), values unchanged in place."""
    rng = seeding.rng(SEED + 4)
    for shape, dtype in [((2, 5, 4, 3), np.float64), ((3, 7), np.float32),
                         ((1, 3, 3, 8), np.float64), ((6,), np.float64)]:
        Z = (rng.normal(size=shape) * 3).astype(dtype)
        visible.check_relu_case(relu, Z, np.maximum(Z.astype(np.float64), 0),
                                relu_mistakes(Z))
    core.passed("relu right on 4 hidden arrays, inputs untouched")


# ------------------------------------------------------------ conv_layer_params
def conv_layer_params_random(conv_layer_params):
    """Parameter counts for random layer sizes, checked against Keras ``count_params``."""
    rng = seeding.rng(SEED + 5)
    cases = [(3, 3, 10), (7, 1, 4), (1, 512, 128)]
    cases += [(int(rng.integers(1, 8)), int(rng.integers(1, 65)), int(rng.integers(1, 65)))
              for _ in range(5)]
    for f, n_cp, n_c in cases:
        expected = reference_conv_params(f, n_cp, n_c)
        out = core.call(conv_layer_params, f, n_cp, n_c, name="conv_layer_params")
        core.check_scalar(out, expected, "conv_layer_params",
                          inputs={"f": f, "n_C_prev": n_cp, "n_C": n_c},
                          mistakes=params_mistakes(f, n_cp, n_c), integer=True)
    core.passed(f"conv_layer_params agrees with Keras on {len(cases)} hidden layers")


# ------------------------------------------------------------ mistake variants
def relu_mistakes(Z) -> dict:
    """``{description: output}`` of typical ``relu`` mistakes."""
    Z = np.asarray(Z, dtype=np.float64)
    out = {visible.RELU_ABS: np.abs(Z), visible.RELU_MIN: np.minimum(Z, 0),
           visible.RELU_CLIP: np.clip(Z, 0, 1), visible.RELU_AT_ONE: np.maximum(Z, 1),
           visible.RELU_STEP: (Z > 0).astype(float)}
    good = np.maximum(Z, 0)
    return {k: v for k, v in out.items() if not np.allclose(v, good)}


def params_mistakes(f, n_c_prev, n_c) -> dict:
    """``{description: count}`` of typical parameter-count mistakes."""
    out = {visible.PARAMS_NO_BIAS: f * f * n_c_prev * n_c,
           visible.PARAMS_ONE_BIAS: f * f * n_c_prev * n_c + 1,
           visible.PARAMS_NO_CHANNELS: (f * f + 1) * n_c,
           visible.PARAMS_BIAS_PER_CHANNEL: (f * f + 1) * n_c_prev * n_c}
    good = (f * f * n_c_prev + 1) * n_c
    return {k: v for k, v in out.items() if v != good}

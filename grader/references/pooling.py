"""Hidden tests for notebook 05 (pooling).

Students are compared with NumPy references (:func:`reference_pool`,
:func:`reference_global_average`), which are checked once per grading process
against Keras layers in float64: ``MaxPooling2D`` and ``AveragePooling2D``
(``padding="valid"``, the same pool size and strides) and ``GlobalAveragePooling2D``.
The outputs of typical mistakes come from small NumPy variants below, so a wrong
answer is named in the message.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.runtime import import_keras
from utils.checks import core
from utils.checks import pooling as visible

from . import seeding

SEED = 5005
MODES = ("max", "average")


# ------------------------------------------------------------ references
def keras_pool(A_prev, f, stride, mode):
    """Keras ``MaxPooling2D`` / ``AveragePooling2D`` output (float64, valid padding)."""
    keras = import_keras()
    cls = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[mode]
    layer = cls(pool_size=(f, f), strides=(stride, stride), padding="valid", dtype="float64")
    out = layer(np.asarray(A_prev, dtype=np.float64))
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)


def keras_global_average(A):
    """Keras ``GlobalAveragePooling2D`` output ``(m, n_C)`` in float64."""
    keras = import_keras()
    layer = keras.layers.GlobalAveragePooling2D(dtype="float64")
    return np.asarray(keras.ops.convert_to_numpy(layer(np.asarray(A, dtype=np.float64))),
                      dtype=np.float64)


_CROSS_CHECKED: list = []


def _cross_check_once() -> None:
    """Check the NumPy references against Keras' pooling layers, once per process.

    Hidden tests compare students with the NumPy references (fast, per student); that
    those equal ``MaxPooling2D``, ``AveragePooling2D`` and ``GlobalAveragePooling2D`` is
    checked here once per grading worker, and on random cases in ``tests/test_pooling.py``.
    """
    if _CROSS_CHECKED:
        return
    rng = np.random.default_rng(5151)
    for m, n_h, n_w, n_c, f, s in [(2, 7, 6, 3, 2, 2), (1, 5, 8, 1, 3, 1), (3, 9, 9, 2, 3, 2)]:
        A = rng.normal(size=(m, n_h, n_w, n_c))
        for mode, red in (("max", np.max), ("average", np.mean)):
            if not np.allclose(_pool(A, f, s, s, red), keras_pool(A, f, s, mode), atol=1e-12):
                raise RuntimeError(f"the grader's {mode} pooling disagrees with Keras; fix "
                                   "grader/references/pooling.py before grading")
        if not np.allclose(A.mean(axis=(1, 2)), keras_global_average(A), atol=1e-12):
            raise RuntimeError("the grader's global average pooling disagrees with Keras")
    _CROSS_CHECKED.append(True)


def reference_pool(A_prev, f, stride, mode) -> np.ndarray:
    """What ``pool_forward`` must return for ``mode`` in ("max", "average"), float64.

    ``A_prev (m, n_H_prev, n_W_prev, n_C)`` -> ``(m, n_H, n_W, n_C)``; equal to Keras'
    pooling layers (checked once per process by :func:`_cross_check_once`).
    """
    _cross_check_once()
    return _pool(A_prev, f, stride, stride, {"max": np.max, "average": np.mean}[mode])


def reference_global_average(A) -> np.ndarray:
    """``(m, n_H, n_W, n_C) -> (m, n_C)``: the mean over both spatial axes (checked once)."""
    _cross_check_once()
    return np.asarray(A, dtype=np.float64).mean(axis=(1, 2))


def _pool(A, f, s_h, s_w, reduce, n_h=None, n_w=None):
    win = sliding_window_view(np.asarray(A, dtype=np.float64), (f, f), axis=(1, 2))
    win = win[:, ::s_h, ::s_w]
    if n_h is not None:
        win = win[:, :n_h, :n_w]
    return reduce(win, axis=(-2, -1))


def pool_mistakes(A_prev, f, stride, mode) -> dict:
    """``{description: output}`` of typical ``pool_forward`` mistakes on this input."""
    A = np.asarray(A_prev, dtype=np.float64)
    red = {"max": np.max, "average": np.mean}[mode]
    good = _pool(A, f, stride, stride, red)
    m, n_h, n_w, n_c = good.shape
    out = {}
    if mode == "max":
        out[visible.AVERAGE_FOR_MAX] = _pool(A, f, stride, stride, np.mean)
        out[visible.SUM_FOR_MAX] = _pool(A, f, stride, stride, np.sum)
    else:
        out[visible.MAX_FOR_AVERAGE] = _pool(A, f, stride, stride, np.max)
        out[visible.SUM_FOR_AVERAGE] = _pool(A, f, stride, stride, np.sum)
    win = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    across = red(win, axis=(-3, -2, -1), keepdims=True)[..., 0, 0]  # (m, n_H, n_W, 1)
    out[visible.ACROSS_CHANNELS] = np.broadcast_to(across, good.shape)
    if stride > 1:
        out[visible.STRIDE_IGNORED] = _pool(A, f, 1, 1, red, n_h, n_w)
        out[visible.STRIDE_IGNORED_VERTICAL] = _pool(A, f, 1, stride, red, n_h, n_w)
        out[visible.STRIDE_IGNORED_HORIZONTAL] = _pool(A, f, stride, 1, red, n_h, n_w)
    if stride != f and n_h * f <= A.shape[1] and n_w * f <= A.shape[2]:
        out[visible.STEP_F] = _pool(A, f, f, f, red, n_h, n_w)
    if m > 1:
        out[visible.FIRST_EXAMPLE] = np.repeat(good[:1], m, axis=0)
    return {k: v for k, v in out.items() if not np.allclose(v, good)}


def pool_shape_mistakes(A_shape, f, stride) -> dict:
    """``{description: shape}`` of typical output-size mistakes."""
    m, n_h, n_w, n_c = A_shape
    good = (m, (n_h - f) // stride + 1, (n_w - f) // stride + 1, n_c)
    ceil = (m, -(-(n_h - f) // stride) + 1, -(-(n_w - f) // stride) + 1, n_c)
    out = {visible.SHAPE_CEIL: ceil,
           visible.SHAPE_N_OVER_S: (m, n_h // stride, n_w // stride, n_c),
           visible.SHAPE_N_OVER_F: (m, n_h // f, n_w // f, n_c),
           visible.SHAPE_CHANNELS: good[:3] + (1,),
           visible.SHAPE_NO_BATCH: good[1:]}
    out.update(visible.hard_coded_shapes(good))
    return {k: tuple(int(x) for x in v) for k, v in out.items() if tuple(v) != good}


def gap_mistakes(A) -> tuple[dict, dict]:
    """``({description: output}, {description: shape})`` for global average pooling."""
    A = np.asarray(A, dtype=np.float64)
    m, n_h, n_w, n_c = A.shape
    good = A.mean(axis=(1, 2))
    values = {visible.GAP_SUM: A.sum(axis=(1, 2)), visible.GAP_MAX: A.max(axis=(1, 2)),
              visible.GAP_RESHAPE: A.reshape(m, n_c, n_h * n_w).mean(axis=2)}
    shapes = {visible.GAP_KEEPDIMS: (m, 1, 1, n_c)}
    by_shape: dict = {}
    for axes in [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3), (1,), (2,)]:
        wrong = A.mean(axis=axes)
        if wrong.shape == good.shape:
            values.setdefault(visible.GAP_AXES + f" (you averaged over axes {axes})", wrong)
        else:
            by_shape.setdefault(wrong.shape, []).append(str(axes))
    for shape, axes in by_shape.items():
        shapes[visible.GAP_AXES + f" (e.g. over axes {' or '.join(axes)})"] = shape
    values = {k: v for k, v in values.items() if not np.allclose(v, good)}
    shapes = {k: v for k, v in shapes.items() if tuple(v) != good.shape}
    return values, shapes


# ------------------------------------------------------------ pool_forward
def _random_cases(rng, n_cases=10):
    """Batches, non-square images, several channels, odd strides, sizes f does not divide."""
    cases = [  # (m, n_H, n_W, n_C, f, stride)
        (3, 7, 5, 3, 2, 2), (2, 9, 6, 4, 3, 2), (1, 8, 11, 2, 3, 3), (4, 5, 7, 1, 2, 1),
        (2, 10, 7, 3, 4, 3), (2, 6, 6, 2, 1, 2),
    ]
    while len(cases) < n_cases:
        f, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        n_h, n_w = int(rng.integers(f, 12)), int(rng.integers(f, 12))
        cases.append((int(rng.integers(1, 4)), n_h, n_w, int(rng.integers(1, 5)), f, s))
    return cases


def _compare_pool(pool_forward, A, hp, mode, case, tol=1e-6):
    f, s = hp["f"], hp["stride"]
    expected = reference_pool(A, f, s, mode)
    result = visible.call_pool(pool_forward, A, hp, mode)
    out, cache = visible.unpack_pool(result)
    inputs = {"A_prev": A, "hparameters": hp, "mode": mode}
    arr = core.as_array(out, "pool_forward (A)")
    core.check_shape(arr, expected.shape, "pool_forward (A)", inputs,
                     pool_shape_mistakes(A.shape, f, s), formula=visible.SIZE_FORMULA)
    scale = max(1.0, float(np.abs(A).max()))  # an average sums f*f values of A
    core.check_array(arr, expected, "pool_forward (A)", inputs=inputs,
                     mistakes=pool_mistakes(A, f, s, mode), rtol=1e-6, atol=tol,
                     terms=f * f if mode == "average" else 1, scale=scale,
                     require_float=(mode == "average"), case=case)
    visible.check_pool_cache(cache, A, hp)


def pool_forward_matches_reference(pool_forward, n_cases=10):
    """``pool_forward`` equals Keras pooling on random batches, shapes and strides."""
    rng = seeding.rng(SEED)
    cases = _random_cases(rng, n_cases)
    for k, (m, n_h, n_w, n_c, f, s) in enumerate(cases):
        A = rng.normal(size=(m, n_h, n_w, n_c))
        for mode in MODES:
            _compare_pool(pool_forward, A, {"f": f, "stride": s}, mode,
                          f"random case {k + 1}, mode {mode!r}: A_prev {A.shape}, "
                          f"f {f}, stride {s}")
    A32 = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    A_int = rng.integers(0, 256, size=(2, 6, 5, 2))
    for mode in MODES:
        _compare_pool(pool_forward, A32, {"f": 3, "stride": 2}, mode, "float32 inputs")
        _compare_pool(pool_forward, A_int, {"f": 2, "stride": 2}, mode,
                      "an integer image (0..255)")
    core.passed(f"pool_forward matches Keras MaxPooling2D / AveragePooling2D on "
                f"{2 * (len(cases) + 2)} hidden cases")


def pool_forward_worked_examples(pool_forward):
    """The three worked examples (and their transposes, mirrored) against Keras."""
    for grid, mode, _, _ in visible.WORKED:
        for variant, label in [(np.asarray(grid), "worked example"),
                               (np.asarray(grid).T, "worked example, transposed"),
                               (np.asarray(grid)[:, ::-1], "worked example, mirrored")]:
            _compare_pool(pool_forward, visible.as_batch(variant), {"f": 2, "stride": 2},
                          mode, f"the {label} ({mode})")
    core.passed("pool_forward matches Keras on the worked examples and their variants")


def pool_forward_random_shapes(pool_forward, n_cases=12):
    """Output shapes and the cache on random sizes, both modes (no value check)."""
    rng = seeding.rng(SEED + 1)
    for m, n_h, n_w, n_c, f, s in _random_cases(rng, n_cases):
        A = rng.normal(size=(m, n_h, n_w, n_c))
        hp = {"f": f, "stride": s}
        for mode in MODES:
            out, cache = visible.unpack_pool(visible.call_pool(pool_forward, A, hp, mode))
            expected = (m, (n_h - f) // s + 1, (n_w - f) // s + 1, n_c)
            core.check_shape(core.as_array(out, "pool_forward (A)"), expected,
                             "pool_forward (A)", {"A_prev": A, "hparameters": hp, "mode": mode},
                             pool_shape_mistakes(A.shape, f, s), formula=visible.SIZE_FORMULA)
            visible.check_pool_cache(cache, A, hp)
    core.passed(f"pool_forward shapes and cache right on {n_cases} hidden cases, both modes")


# ------------------------------------------------------------ global_average_pool
def global_average_pool_random(global_average_pool):
    """Random shapes (some with n_H == n_W == n_C), float32 and integer inputs, vs Keras."""
    rng = seeding.rng(SEED + 2)
    shapes = [(3, 4, 5, 6), (2, 3, 3, 3), (1, 7, 7, 1000), (4, 2, 6, 2), (2, 5, 5, 5)]
    arrays = [rng.normal(size=s) for s in shapes]
    arrays.append(rng.normal(size=(2, 4, 3, 4)).astype(np.float32))
    arrays.append(rng.integers(0, 256, size=(2, 3, 5, 4)))
    for A in arrays:
        expected = reference_global_average(A)
        values, shapes_ = gap_mistakes(A)
        out = core.call(global_average_pool, A, name="global_average_pool")
        tol = 1e-6 * max(1.0, float(np.abs(A).max()))  # any float dtype is fine
        core.check_array(out, expected, "global_average_pool", inputs={"A": A},
                         mistakes=values, shape_mistakes=shapes_, rtol=1e-5, atol=tol,
                         require_float=True, case=f"an array of shape {A.shape}")
    core.passed(f"global_average_pool matches Keras GlobalAveragePooling2D on "
                f"{len(arrays)} hidden arrays")

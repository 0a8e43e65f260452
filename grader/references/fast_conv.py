"""Hidden tests for notebook 11 (fast convolution: ``im2col`` and ``conv_forward_fast``).

References:

* :func:`reference_im2col` gathers the windows with integer index arrays (fancy
  indexing), a different route from notebook 04's ``sliding_window_view`` reference
  and from the styles students use;
* ``conv_forward_fast`` is compared with Keras ``Conv2D`` (notebook 04's
  :func:`grader.references.conv_layer.keras_conv`), with notebook 04's list of typical
  mistakes plus those of the matrix-product route (columns and ``W.reshape`` in
  different orders, rows put back in the wrong order);
* *how* ``conv_forward_fast`` is written (no Python loop over the output positions)
  is judged from its source, :func:`utils.checks.fast_conv.position_loops`, never
  by timing it.
"""
from __future__ import annotations

import numpy as np

from utils.checks import conv_layer as conv_visible
from utils.checks import core
from utils.checks import fast_conv as visible

from . import conv_layer as conv_ref
from . import seeding

SEED = 1111


# ------------------------------------------------------------ references
def _windows(A_prev, f, pad, s_h, s_w, n_h=None, n_w=None):
    """``(m, n_H, n_W, f, f, n_C)``: the window of every output position, by index arrays.

    ``n_h``, ``n_w`` (default: what the strides allow) let a mistake variant cut the
    windows with the wrong stride but the right number of positions.
    """
    A = np.pad(np.asarray(A_prev), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    if n_h is None:
        n_h = (A.shape[1] - f) // s_h + 1
    if n_w is None:
        n_w = (A.shape[2] - f) // s_w + 1
    rows = (np.arange(n_h) * s_h)[:, None, None, None] + np.arange(f)[None, None, :, None]
    cols = (np.arange(n_w) * s_w)[None, :, None, None] + np.arange(f)[None, None, None, :]
    return A[:, rows, cols, :]


def _flat(windows):
    """Windows ``(m, n_H, n_W, a, b, c)`` as the ``(m*n_H*n_W, a*b*c)`` matrix."""
    m, n_h, n_w = windows.shape[:3]
    return windows.reshape(m * n_h * n_w, -1)


def reference_im2col(A_prev, f, stride=1, pad=0):
    """The im2col matrix ``(m*n_H*n_W, f*f*n_C)``: rows (sample, out row, out column),
    columns (window row, window column, channel)."""
    return _flat(_windows(A_prev, f, pad, stride, stride))


def im2col_size(A_shape, f, stride, pad) -> tuple[int, int, int]:
    """``(n_H, n_W, rows)`` of the im2col matrix of an input of shape ``A_shape``."""
    m, n_h_prev, n_w_prev, _ = A_shape
    n_h = (n_h_prev + 2 * pad - f) // stride + 1
    n_w = (n_w_prev + 2 * pad - f) // stride + 1
    return n_h, n_w, m * n_h * n_w


def im2col_mistakes(A_prev, f, stride, pad) -> dict:
    """``{description: output}`` of typical ``im2col`` mistakes on this input."""
    win = _windows(A_prev, f, pad, stride, stride)
    good = _flat(win).astype(np.float64)
    m, n_h, n_w = win.shape[:3]
    out = visible.order_mistakes(good, m, n_h, n_w, f, win.shape[-1])
    if stride > 1:
        out[visible.STRIDE_IGNORED] = _flat(_windows(A_prev, f, pad, 1, 1, n_h, n_w))
        out[visible.STRIDE_IGNORED_VERTICAL] = _flat(_windows(A_prev, f, pad, 1, stride,
                                                             n_h, n_w))
        out[visible.STRIDE_IGNORED_HORIZONTAL] = _flat(_windows(A_prev, f, pad, stride, 1,
                                                               n_h, n_w))
    out = core.group_alternatives({k: np.asarray(v, dtype=np.float64) for k, v in out.items()})
    return {k: v for k, v in out.items() if v.shape != good.shape or not np.allclose(v, good)}


def im2col_shape_mistakes(A_shape, f, stride, pad) -> dict:
    """``{description: shape}`` of typical ``im2col`` shape mistakes."""
    m, _, _, n_c = A_shape
    n_h, n_w, rows = im2col_size(A_shape, f, stride, pad)
    cols = f * f * n_c
    good = (rows, cols)
    out = {
        visible.SHAPE_TRANSPOSED: (cols, rows),
        visible.SHAPE_NOT_FLAT: (m, n_h, n_w, f, f, n_c),
        visible.SHAPE_NOT_FLAT_CF: (m, n_h, n_w, n_c, f, f),
        visible.SHAPE_PER_SAMPLE: (m, n_h * n_w, cols),
        visible.SHAPE_NO_CHANNELS: (rows, f * f),
        visible.SHAPE_STRIDE: (im2col_size(A_shape, f, 1, pad)[2], cols),
        visible.SHAPE_PAD: (im2col_size(A_shape, f, stride, 0)[2], cols),
        visible.SHAPE_ONE_SIDE: (m * ((A_shape[1] + pad - f) // stride + 1)
                                 * ((A_shape[2] + pad - f) // stride + 1), cols),
    }
    out = core.group_alternatives({k: tuple(int(x) for x in v) for k, v in out.items()})
    return {k: v for k, v in out.items() if v != good}


def fast_conv_mistakes(A_prev, W, b, stride, pad) -> dict:
    """``{description: Z}`` of the mistakes only the matrix-product route makes."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).reshape(1, -1)
    f, _, n_cp, n_c = W.shape
    win = _windows(np.asarray(A_prev, dtype=np.float64), f, pad, stride, stride)
    m, n_h, n_w = win.shape[:3]
    w_col = W.reshape(-1, n_c)
    good = (_flat(win) @ w_col + b).reshape(m, n_h, n_w, n_c)
    out = {
        visible.FAST_CHANNELS_MISMATCH: (_flat(win.transpose(0, 1, 2, 5, 3, 4)) @ w_col
                                         + b).reshape(good.shape),
        visible.FAST_W_RESHAPE: (_flat(win) @ W.reshape(n_c, -1).T + b).reshape(good.shape),
        visible.FAST_ROWS_COLUMN_MAJOR: visible.column_major_positions(good),
        visible.FAST_RESHAPE_TRANSPOSED: visible.transposed_reshape(good),
    }
    out = core.group_alternatives(out)
    return {k: v for k, v in out.items() if not np.allclose(v, good)}


def fast_conv_shape_mistakes(A_shape, f, n_c, stride, pad) -> dict:
    """Shapes only the matrix-product route gives (rows not put back into a volume)."""
    m = A_shape[0]
    n_h, n_w, rows = im2col_size(A_shape, f, stride, pad)
    out = {visible.FAST_NOT_RESHAPED: (rows, n_c), visible.FAST_SWAPPED_HW: (m, n_w, n_h, n_c)}
    return {k: v for k, v in out.items() if v != (m, n_h, n_w, n_c)}


# ------------------------------------------------------------ im2col tests
def _im2col_cases(rng, n_cases, strided: bool):
    """``(m, n_H_prev, n_W_prev, n_C, f, stride, pad)``: fixed corner cases, then random."""
    if strided:
        cases = [(2, 7, 6, 3, 3, 2, 1), (1, 5, 9, 2, 2, 3, 2), (3, 6, 5, 1, 4, 1, 3),
                 (2, 8, 7, 2, 3, 3, 0)]
    else:
        cases = [(1, 4, 6, 3, 3, 1, 0), (3, 5, 4, 2, 2, 1, 0), (2, 3, 3, 4, 3, 1, 0),
                 (1, 6, 5, 1, 1, 1, 0)]
    while len(cases) < n_cases:
        f = int(rng.integers(1, 5))
        pad = int(rng.integers(0, 3)) if strided else 0
        stride = int(rng.integers(1, 4)) if strided else 1
        n_h = int(rng.integers(max(f - 2 * pad, 1), 10))
        n_w = int(rng.integers(max(f - 2 * pad, 1), 10))
        if n_h == n_w:
            n_w += 1
        cases.append((int(rng.integers(1, 4)), n_h, n_w, int(rng.integers(1, 5)), f,
                      stride, pad))
    return cases


def _random_input(rng, shape, k):
    """Floats, float32 or integers (0..255), in turn: any input dtype is fair."""
    kind = k % 3
    if kind == 0:
        return rng.normal(size=shape)
    if kind == 1:
        return rng.normal(size=shape).astype(np.float32)
    return rng.integers(0, 256, size=shape)


def _check_im2col(im2col, A, f, stride, pad, case):
    expected = reference_im2col(A, f, stride, pad)
    inputs = {"A_prev": A, "f": f, "stride": stride, "pad": pad}
    out = core.call(im2col, A, f, stride, pad, name="im2col")
    arr = core.as_array(out, "im2col")
    core.check_shape(arr, expected.shape, "im2col", inputs,
                     im2col_shape_mistakes(A.shape, f, stride, pad),
                     formula=visible.IM2COL_FORMULA)
    # im2col only copies values: exact up to the dtype the student chose
    core.check_array(arr, expected, "im2col", inputs=inputs,
                     mistakes=im2col_mistakes(A, f, stride, pad), rtol=1e-6, atol=1e-6,
                     case=case)


def im2col_random_shapes(im2col, n_cases=12):
    """Shape ``(m*n_H*n_W, f*f*n_C)`` on random batches, sizes, strides and padding."""
    rng = seeding.rng(SEED)
    cases = _im2col_cases(rng, n_cases, strided=True)
    for m, n_h, n_w, n_c, f, s, p in cases:
        A = rng.normal(size=(m, n_h, n_w, n_c))
        out = core.call(im2col, A, f, s, p, name="im2col")
        core.check_shape(core.as_array(out, "im2col"), (im2col_size(A.shape, f, s, p)[2],
                                                        f * f * n_c), "im2col",
                         {"A_prev": A, "f": f, "stride": s, "pad": p},
                         im2col_shape_mistakes(A.shape, f, s, p),
                         formula=visible.IM2COL_FORMULA)
    core.passed(f"im2col: right shapes on {len(cases)} hidden cases")


def _im2col_values_random(im2col, base, n_cases, strided):
    rng = seeding.rng(base)
    cases = _im2col_cases(rng, n_cases, strided=strided)
    for k, (m, n_h, n_w, n_c, f, s, p) in enumerate(cases):
        A = _random_input(rng, (m, n_h, n_w, n_c), k)
        _check_im2col(im2col, A, f, s, p, f"hidden case {k + 1}: A_prev {A.shape} ({A.dtype}), "
                      f"f = {f}, stride {s}, pad {p}")
    return len(cases)


def im2col_order_random(im2col, n_cases=9):
    """Row and column order on random inputs, stride 1, no padding (float, float32, int)."""
    n = _im2col_values_random(im2col, SEED + 1, n_cases, strided=False)
    core.passed(f"im2col: rows and columns in the right order on {n} hidden cases")


def im2col_stride_pad_random(im2col, n_cases=10):
    """Values with random strides (1-3) and padding (0-3), non-square, batches."""
    n = _im2col_values_random(im2col, SEED + 2, n_cases, strided=True)
    core.passed(f"im2col: right windows with strides and padding on {n} hidden cases")


# ------------------------------------------------------------ conv_forward_fast tests
def _compare_fast(conv_forward_fast, A, W, b, hp, case, dtype_tol=1e-6):
    conv_ref._compare(conv_forward_fast, A, W, b, hp, case, dtype_tol, name="conv_forward_fast",
                      extra_mistakes=fast_conv_mistakes(A, W, b, hp["stride"], hp["pad"]),
                      extra_shape_mistakes=fast_conv_shape_mistakes(
                          A.shape, W.shape[0], W.shape[3], hp["stride"], hp["pad"]))


def _fast_case(rng, m, n_h, n_w, n_cp, f, n_c):
    return (rng.normal(size=(m, n_h, n_w, n_cp)), rng.normal(size=(f, f, n_cp, n_c)),
            rng.normal(size=(1, 1, 1, n_c)))


def conv_forward_fast_random_shapes(conv_forward_fast, n_cases=10):
    """Shapes of Z and the cache on random batches, sizes, strides and padding."""
    rng = seeding.rng(SEED + 3)
    cases = conv_ref._random_cases(rng, n_cases)
    for m, n_h, n_w, n_cp, f, n_c, s, p in cases:
        A, W, b = _fast_case(rng, m, n_h, n_w, n_cp, f, n_c)
        hp = {"stride": s, "pad": p}
        Z, cache = conv_visible.unpack_forward(
            conv_visible.call_forward(conv_forward_fast, A, W, b, hp, name="conv_forward_fast"),
            "conv_forward_fast")
        n_h_out, n_w_out, _ = im2col_size(A.shape, f, s, p)
        core.check_shape(core.as_array(Z, "conv_forward_fast (Z)"), (m, n_h_out, n_w_out, n_c),
                         "conv_forward_fast (Z)", {"A_prev": A, "W": W, "b": b, "hparameters": hp},
                         {**conv_ref.conv_shape_mistakes(A.shape, f, n_c, s, p),
                          **fast_conv_shape_mistakes(A.shape, f, n_c, s, p)},
                         formula=conv_visible.SIZE_FORMULA)
        conv_visible.check_cache(cache, A, W, b, hp, "conv_forward_fast")
    core.passed(f"conv_forward_fast: right shapes and cache on {len(cases)} hidden cases")


def conv_forward_fast_matches_reference(conv_forward_fast, n_cases=10):
    """Equals Keras ``Conv2D`` on random batches, shapes, strides, padding and dtypes."""
    rng = seeding.rng(SEED + 4)
    cases = conv_ref._random_cases(rng, n_cases)
    for k, (m, n_h, n_w, n_cp, f, n_c, s, p) in enumerate(cases):
        A, W, b = _fast_case(rng, m, n_h, n_w, n_cp, f, n_c)
        _compare_fast(conv_forward_fast, A, W, b, {"stride": s, "pad": p},
                      f"hidden case {k + 1}: A_prev {A.shape}, W {W.shape}, stride {s}, pad {p}")
    A, W, b = (x.astype(np.float32) for x in _fast_case(rng, 2, 7, 6, 3, 3, 4))
    _compare_fast(conv_forward_fast, A, W, b, {"stride": 2, "pad": 1}, "float32 inputs",
                  dtype_tol=1e-4)
    A = rng.integers(0, 256, size=(2, 5, 6, 2))
    W, b = rng.normal(size=(2, 2, 2, 3)), rng.normal(size=(1, 1, 1, 3))
    _compare_fast(conv_forward_fast, A, W, b, {"stride": 1, "pad": 1}, "an integer image (0..255)")
    core.passed(f"conv_forward_fast matches Keras Conv2D on {len(cases) + 2} hidden cases")


def conv_forward_fast_no_position_loops(conv_forward_fast, *others):
    """No Python loop over output positions in ``conv_forward_fast`` or in what it calls.

    ``others``: the student's other functions of this notebook (``im2col``, the pasted
    ``conv_forward``, ``conv_forward_einsum``); a call into one of them is followed,
    so delegating to the loops of notebook 04 counts as a loop. The function must also
    be right on one hidden case (a stub or a wrong answer earns nothing here).
    """
    rng = seeding.rng(SEED + 5)
    A, W, b = _fast_case(rng, 2, 6, 7, 3, 3, 2)
    _compare_fast(conv_forward_fast, A, W, b, {"stride": 2, "pad": 1}, "a hidden case")
    visible.require_no_position_loops(conv_forward_fast, *others)
    followed = ", ".join(o.__name__ for o in others)
    core.passed("conv_forward_fast has no Python loop over the output positions"
                + (f" (calls into {followed} followed)" if followed else ""))

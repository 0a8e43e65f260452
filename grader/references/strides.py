"""Hidden tests for notebook 03 (strides): ``conv_output_size`` and ``conv2d``.

The reference convolution here is independent of any student code (a strided
view and one ``einsum``). For each random case the usual mistakes are computed
as small variants of the reference (flipped kernel, a stride or pad ignored or
swapped, windows that do not move, a non-zero border, int truncation), so a
failing message names the mistake in the words of ``utils/checks/strides.py``.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.checks import core
from utils.checks import padding as padding_checks
from utils.checks import strides as vis

from . import seeding

SEED = 3003


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def reference_size(n: int, f: int, pad: int = 0, stride: int = 1) -> int:
    """Number of window positions along one axis."""
    return (n + 2 * pad - f) // stride + 1


def reference_conv2d(image, kernel, stride=1, pad=0, mode: str = "constant") -> np.ndarray:
    """Cross-correlation of a 2-D image with a 2-D kernel, padded (``mode``) and strided."""
    s_v, s_h = _pair(stride)
    p_v, p_h = _pair(pad)
    img = np.pad(np.asarray(image, dtype=np.float64), ((p_v, p_v), (p_h, p_h)), mode=mode)
    k = np.asarray(kernel, dtype=np.float64)
    windows = sliding_window_view(img, k.shape)  # (H', W', f_h, f_w)
    full = np.einsum("ijab,ab->ij", windows, k)
    return full[::s_v, ::s_h]


# ------------------------------------------------------------ conv_output_size
def _size_mistakes(n: int, f: int, pad: int, stride: int, hard_coded: bool = True) -> dict:
    expected = reference_size(n, f, pad, stride)
    span = n + 2 * pad - f
    cand = {
        vis.SIZE_NO_PLUS_ONE: expected - 1,
        vis.SIZE_PLUS_ONE_INSIDE: (span + 1) // stride,
        vis.SIZE_CEIL: math.ceil(span / stride) + 1,
        vis.SIZE_STRIDE_IGNORED: span + 1,
        vis.SIZE_PAD_ONCE: (n + pad - f) // stride + 1,
        vis.SIZE_PAD_IGNORED: (n - f) // stride + 1,
    }
    if hard_coded:
        cand[vis.SIZE_F_HARD_CODED] = (n + 2 * pad - 3) // stride + 1
    return padding_checks.group_alternatives({k: v for k, v in cand.items() if v != expected})


def _size_case(fn, n, f, pad, stride, hard_coded: bool = True) -> None:
    out = core.call(fn, n, f, pad=pad, stride=stride, name="conv_output_size")
    core.check_scalar(out, reference_size(n, f, pad, stride), "conv_output_size",
                      inputs={"n": n, "f": f, "pad": pad, "stride": stride}, integer=True,
                      mistakes=_size_mistakes(n, f, pad, stride, hard_coded))


def _random_size_args(rng, divides: bool | None):
    while True:
        n = int(rng.integers(1, 65))
        pad = int(rng.integers(0, 5))
        f = int(rng.integers(1, min(n + 2 * pad, 11) + 1))
        stride = int(rng.integers(1, 6))
        span = n + 2 * pad - f
        if divides is None or (span % stride == 0) == divides:
            return n, f, pad, stride


def conv_output_size_random(conv_output_size, n_cases: int = 40) -> None:
    """Random n (1-64), f, pad (0-4) and stride (1-5) where the stride divides evenly.

    (Uneven cases, where rounding matters, are graded separately by
    :func:`conv_output_size_random_floor`, so a rounding mistake costs one test only.)
    """
    rng = seeding.rng(SEED)
    for _ in range(n_cases):
        _size_case(conv_output_size, *_random_size_args(rng, True))
    core.passed(f"conv_output_size matches the formula on {n_cases} random cases")


def conv_output_size_random_floor(conv_output_size, n_cases: int = 30) -> None:
    """Random cases where the stride does NOT divide n + 2*pad - f: floor, and an int."""
    rng = seeding.rng(SEED + 1)
    for _ in range(n_cases):
        _size_case(conv_output_size, *_random_size_args(rng, False), hard_coded=False)
    core.passed(f"conv_output_size floors correctly on {n_cases} random uneven cases")


# ------------------------------------------------------------ conv2d
def _variant(image, kernel, stride, pad, **kw):
    try:
        out = reference_conv2d(image, kernel, stride, pad, **kw)
    except ValueError:  # the variant's window does not fit
        return None
    return out if out.size else None


def _conv2d_mistakes(image, kernel, stride, pad, expected) -> dict:
    """``{description: output}`` of the usual mistakes, most telling first."""
    s_v, s_h = _pair(stride)
    p_v, p_h = _pair(pad)
    k = np.asarray(kernel)
    cand = {
        vis.KERNEL_FLIPPED: _variant(image, k[::-1, ::-1], stride, pad),
        vis.STRIDE_IGNORED: _variant(image, k, 1, pad),
        vis.STRIDE_SWAPPED: _variant(image, k, (s_h, s_v), pad),
        vis.PAD_SWAPPED: _variant(image, k, stride, (p_h, p_v)),
        vis.STRIDE_ONLY_VERTICAL: _variant(image, k, (s_v, 1), pad),
        vis.STRIDE_ONLY_HORIZONTAL: _variant(image, k, (1, s_h), pad),
        vis.STRIDE_FIRST_ONLY: _variant(image, k, (s_v, s_v), pad),
        vis.STRIDE_SECOND_ONLY: _variant(image, k, (s_h, s_h), pad),
        vis.PAD_IGNORED: _variant(image, k, stride, 0),
        vis.PAD_FIRST_ONLY: _variant(image, k, stride, (p_v, p_v)),
        vis.PAD_SECOND_ONLY: _variant(image, k, stride, (p_h, p_h)),
        vis.PAD_DOUBLE: _variant(image, k, stride, (2 * p_v, 2 * p_h)),
        vis.PAD_NONZERO: _variant(image, k, stride, pad, mode="edge"),
        vis.INT_TRUNCATED: np.trunc(expected),
    }
    if p_v != p_h:  # np.pad(image, (pad_v, pad_h)): (before, after) on both axes
        lopsided = np.pad(np.asarray(image, dtype=np.float64), ((p_v, p_h), (p_v, p_h)))
        cand[vis.PAD_AS_BEFORE_AFTER] = _variant(lopsided, k, stride, 0)
    full = _variant(image, k, 1, pad)
    if full is not None:
        cand[vis.STRIDE_IN_WINDOW] = full[:expected.shape[0], :expected.shape[1]]
    return {d: v for d, v in cand.items() if v is not None
            and (v.shape != expected.shape or not np.allclose(v, expected))}


def _group(candidates: dict) -> dict:
    return padding_checks.group_alternatives(candidates)


def _conv2d_case(conv2d, image, kernel, stride, pad, label: str) -> None:
    expected = reference_conv2d(image, kernel, stride, pad)
    found = _conv2d_mistakes(image, kernel, stride, pad, expected)
    mistakes = _group({d: v for d, v in found.items() if v.shape == expected.shape})
    shapes = {d: tuple(v.shape) for d, v in found.items() if v.shape != expected.shape}
    if expected.shape != (3, 3):
        shapes[vis.SHAPE_HARD_CODED] = (3, 3)
    shape_mistakes = _group(shapes)
    kwargs = {"stride": stride, "pad": pad}
    out = vis.call_conv2d(conv2d, image, kernel, **kwargs)
    inputs = {"image": image, "kernel": kernel, **kwargs}
    scale = max(1.0, float(np.abs(np.asarray(image, dtype=np.float64)).max(initial=0.0)) * float(np.abs(np.asarray(kernel, dtype=np.float64)).max(initial=0.0)))
    core.check_array(out, expected, "conv2d", inputs=inputs, mistakes=mistakes,
                     shape_mistakes=shape_mistakes, formula=vis.SIZE_FORMULA, case=label,
                     terms=int(np.size(kernel)), scale=scale)


def _random_inputs(rng, k: int):
    """A non-square image and a kernel that fits; dtypes rotate with ``k``.

    Fractions are multiples of 1/4 so every dtype computes the sums exactly.
    """
    n_h = int(rng.integers(5, 13))
    n_w = int(rng.integers(5, 13))
    if n_w == n_h:
        n_w += 1
    f_h = int(rng.integers(1, 6))
    f_w = int(rng.integers(1, 6))
    kind = k % 4
    if kind == 0:    # int image, fractional float kernel (truncation shows)
        image = rng.integers(0, 10, size=(n_h, n_w))
        kernel = rng.integers(-8, 9, size=(f_h, f_w)) / 4
    elif kind == 1:  # float32 everywhere
        image = (rng.integers(-8, 9, size=(n_h, n_w)) / 2).astype(np.float32)
        kernel = (rng.integers(-4, 5, size=(f_h, f_w)) / 4).astype(np.float32)
    elif kind == 2:  # ints everywhere
        image = rng.integers(-5, 6, size=(n_h, n_w))
        kernel = rng.integers(-3, 4, size=(f_h, f_w))
    else:            # a non-contiguous float64 view (every other row, reversed columns)
        base = rng.integers(0, 10, size=(2 * n_h, n_w)) / 2
        image = base[::2, ::-1]
        kernel = rng.integers(-4, 5, size=(f_h, f_w)) / 2
    return image, kernel


def conv2d_random_strides(conv2d, n_cases: int = 8) -> None:
    """Random non-square images and kernels, int stride 2-4 (odd ones too), no padding."""
    rng = seeding.rng(SEED + 10)
    for k in range(n_cases):
        image, kernel = _random_inputs(rng, k)
        stride = int(rng.integers(2, 5))
        _conv2d_case(conv2d, image, kernel, stride, 0, f"hidden random case {k + 1} (stride)")
    core.passed(f"conv2d matches the reference on {n_cases} random strided cases")


def conv2d_random_padding(conv2d, n_cases: int = 8) -> None:
    """Random non-square images and kernels, int pad 1-3, stride 1-3."""
    rng = seeding.rng(SEED + 11)
    for k in range(n_cases):
        image, kernel = _random_inputs(rng, k)
        pad = int(rng.integers(1, 4))
        stride = int(rng.integers(1, 4))
        _conv2d_case(conv2d, image, kernel, stride, pad, f"hidden random case {k + 1} (pad)")
    core.passed(f"conv2d matches the reference on {n_cases} random padded cases")


def conv2d_random_pairs(conv2d, n_cases: int = 8) -> None:
    """Random (vertical, horizontal) strides and pads, each pair with unequal parts."""
    rng = seeding.rng(SEED + 12)
    for k in range(n_cases):
        image, kernel = _random_inputs(rng, k)
        s_v, s_h = (int(v) for v in rng.choice(np.arange(1, 5), size=2, replace=False))
        p_v, p_h = (int(v) for v in rng.choice(np.arange(0, 4), size=2, replace=False))
        _conv2d_case(conv2d, image, kernel, (s_v, s_h), (p_v, p_h),
                     f"hidden random case {k + 1} (pairs)")
    core.passed(f"conv2d matches the reference on {n_cases} random cases with "
                "(vertical, horizontal) stride and pad")

"""Hidden tests for notebook 02 (padding): ``coverage_counts``, ``zero_pad`` and
``same_padding``.

The references here are written independently of any student code. Each random
case also computes what the usual mistakes would return (the wrong axes, the
pair the wrong way round, a non-zero border ...) so that a failure names the
mistake, with the same wording as the visible checks in
``utils/checks/padding.py``.
"""
from __future__ import annotations

import numpy as np

from utils.checks import core
from utils.checks import padding as vis

from . import seeding

SEED = 2002


# ------------------------------------------------------------ coverage_counts
def _axis_counts(n: int, f: int, pad: int, n_windows: int | None = None,
                 before: int | None = None) -> np.ndarray:
    """For each original pixel q of one axis, how many window starts s cover it.

    The padded axis has ``before`` zeros in front of the image (default ``pad``)
    and the window starts at ``0 .. n_windows - 1`` (default: every start where it
    fits, ``n + 2 pad - f + 1``). A window at start s covers padded positions
    ``s .. s + f - 1``; pixel q sits at padded position ``q + before``. Each count is
    the size of an interval of starts, so no loop over windows is needed.
    """
    before = pad if before is None else before
    if n_windows is None:
        n_windows = n + 2 * pad - f + 1
    pos = np.arange(n) + before
    lo = np.maximum(pos - f + 1, 0)
    hi = np.minimum(pos, n_windows - 1)
    return np.maximum(hi - lo + 1, 0)


def reference_coverage_counts(n: int, f: int, pad: int) -> np.ndarray:
    """``(n, n)`` counts: the product of the row and column counts of :func:`_axis_counts`."""
    along = _axis_counts(n, f, pad)
    return np.outer(along, along)


def _coverage_mistakes(n: int, f: int, pad: int, expected: np.ndarray) -> dict:
    """What the typical mistakes return for (n, f, pad), when it differs from ``expected``."""
    size = n + 2 * pad

    def outer(a):
        return np.outer(a, a)

    cand = {
        vis.COV_MISSING_LAST: outer(_axis_counts(n, f, pad, n_windows=size - f)),
        # one window too many: its slice is cut short at the end of the padded grid,
        # which is what counting with one more start gives
        vis.COV_EXTRA: outer(_axis_counts(n, f, pad, n_windows=size - f + 2)),
        vis.COV_ONE_SIDE: outer(_axis_counts(n, f, pad, n_windows=n + pad - f + 1)),
        vis.COV_ADDED: _axis_counts(n, f, pad)[:, None] + _axis_counts(n, f, pad)[None, :],
    }
    if f <= n:
        cand[vis.COV_PAD_IGNORED] = reference_coverage_counts(n, f, 0)
    if pad:  # the counts of the whole padded grid, cut at its top-left n x n corner
        cand[vis.COV_TOP_LEFT] = outer(_axis_counts(n, f, pad, before=0))
    return vis.group_alternatives({k: v for k, v in cand.items()
                                   if v.shape != expected.shape
                                   or not np.array_equal(v, expected)})


def _coverage_case(coverage_counts, n: int, f: int, pad: int, label: str) -> None:
    expected = reference_coverage_counts(n, f, pad)
    out = core.call(coverage_counts, n, f, pad, name="coverage_counts")
    vis.check_coverage(out, expected, n, f, pad,
                       mistakes=_coverage_mistakes(n, f, pad, expected),
                       case=f"{label}: n={n}, f={f}, pad={pad}")


def coverage_counts_random_valid(coverage_counts, n_cases: int = 10) -> None:
    """pad = 0: random image sizes 1-12 and window sizes 1-n (even and odd), n = f included."""
    rng = seeding.rng(SEED + 10)
    for k in range(n_cases):
        n = int(rng.integers(1, 13))
        f = n if k == 0 else int(rng.integers(1, n + 1))
        _coverage_case(coverage_counts, n, f, 0, f"hidden case {k + 1} (no padding)")
    core.passed(f"coverage_counts matches the reference on {n_cases} random sizes without "
                "padding")


def coverage_counts_random_padded(coverage_counts, n_cases: int = 10) -> None:
    """pad 1-4 with random sizes: same padding, full padding, windows larger than the image."""
    rng = seeding.rng(SEED + 11)
    for k in range(n_cases):
        n = int(rng.integers(1, 11))
        pad = int(rng.integers(1, 5))
        f = int(rng.integers(1, n + 2 * pad + 1))   # any window that fits the padded grid
        if k == 0:
            f = 2 * pad + 1                          # same padding: the output is n x n
        elif k == 1:
            f = min(n + 2 * pad, pad + 1)            # pad = f - 1: every pixel read f*f times
        _coverage_case(coverage_counts, n, f, pad, f"hidden case {k + 1} (pad {pad})")
    core.passed(f"coverage_counts matches the reference on {n_cases} random padded sizes")


# ------------------------------------------------------------ zero_pad
def _pair(pad) -> tuple[int, int]:
    if isinstance(pad, (tuple, list)):
        return int(pad[0]), int(pad[1])
    return int(pad), int(pad)


def reference_zero_pad(X: np.ndarray, pad) -> np.ndarray:
    """Zeros of shape ``(m, n_H + 2 pad_h, n_W + 2 pad_w, n_C)`` with ``X`` in the middle."""
    pad_h, pad_w = _pair(pad)
    m, n_h, n_w, n_c = X.shape
    out = np.zeros((m, n_h + 2 * pad_h, n_w + 2 * pad_w, n_c), dtype=np.float64)
    out[:, pad_h:pad_h + n_h, pad_w:pad_w + n_w, :] = X
    return out


def _shape_mistakes(shape, pad_h: int, pad_w: int, expected_shape) -> dict:
    """What the usual axis/width mistakes do to the output shape (most telling first)."""
    m, h, w, c = shape
    cand = {
        vis.PAD_UNCHANGED: (m, h, w, c),
        vis.PAD_SWAPPED: (m, h + 2 * pad_w, w + 2 * pad_h, c),
        vis.PAD_BATCH_AXIS: (m + 2 * pad_h, h + 2 * pad_h, w + 2 * pad_w, c),
        vis.PAD_CHANNEL_AXIS: (m, h + 2 * pad_h, w + 2 * pad_w, c + 2 * pad_w),
        vis.PAD_ALL_AXES: (m + 2 * pad_h, h + 2 * pad_h, w + 2 * pad_w, c + 2 * pad_w),
        vis.PAD_FIRST_TWO_AXES: (m + 2 * pad_h, h + 2 * pad_w, w, c),
        vis.PAD_LAST_TWO_AXES: (m, h, w + 2 * pad_h, c + 2 * pad_w),
        vis.PAD_AS_BEFORE_AFTER: (m, h + pad_h + pad_w, w + pad_h + pad_w, c),
        vis.PAD_ONLY_FIRST: (m, h + 2 * pad_h, w + 2 * pad_h, c),
        vis.PAD_ONLY_SECOND: (m, h + 2 * pad_w, w + 2 * pad_w, c),
        vis.PAD_ONE_SIDE: (m, h + pad_h, w + pad_w, c),
        vis.PAD_DOUBLE: (m, h + 4 * pad_h, w + 4 * pad_w, c),
        vis.PAD_HARD_CODED_ONE: (m, h + 2, w + 2, c),
        vis.PAD_HARD_CODED_SHAPE: vis.ZERO_PAD_WORKED_SHAPE,
    }
    if pad_h != pad_w:  # np.pad(X, (pad_h, pad_w)): every axis, (before, after)
        cand[vis.PAD_ALL_AXES] = (m + pad_h + pad_w, h + pad_h + pad_w, w + pad_h + pad_w,
                                  c + pad_h + pad_w)
    return vis.group_alternatives({k: tuple(v) for k, v in cand.items()
                                   if tuple(v) != tuple(expected_shape)})


def _value_mistakes(X: np.ndarray, pad_h: int, pad_w: int, expected: np.ndarray) -> dict:
    """Outputs of the right shape but wrong values."""
    widths = ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0))
    Xf = X.astype(np.float64)
    cand = {vis.PAD_ONES: np.pad(Xf, widths, constant_values=1.0),
            vis.PAD_EDGE: np.pad(Xf, widths, mode="edge")}
    try:
        cand[vis.PAD_REFLECT] = np.pad(Xf, widths, mode="reflect")
    except ValueError:  # reflecting a 1-pixel axis is undefined
        pass
    corner = np.zeros_like(expected)
    m, h, w, c = X.shape
    corner[:, :h, :w, :] = Xf
    cand[vis.PAD_CORNER] = corner
    if pad_h != pad_w:
        cand[vis.PAD_SWAPPED] = reference_zero_pad(X, (pad_w, pad_h))
    return vis.group_alternatives({k: v for k, v in cand.items()
                                   if v.shape != expected.shape
                                   or not np.array_equal(v, expected)})


def _check_case(zero_pad, X: np.ndarray, pad, label: str) -> None:
    pad_h, pad_w = _pair(pad)
    expected = reference_zero_pad(X, pad)
    inputs = {"X.shape": X.shape, "X.dtype": str(X.dtype), "pad": pad}
    if X.shape[0] == 1 and X.shape[3] == 1 and X[0, :, :, 0].size <= 16:
        inputs["X[0, :, :, 0]"] = X[0, :, :, 0]
    out = vis.call_zero_pad(zero_pad, X, pad)
    vis.check_padded(out, expected, "zero_pad", pad_hw=(pad_h, pad_w), inputs=inputs,
                     mistakes=_value_mistakes(X, pad_h, pad_w, expected),
                     shape_mistakes=_shape_mistakes(X.shape, pad_h, pad_w, expected.shape),
                     case=label)


def _random_batch(rng, dtype, view: bool = False) -> np.ndarray:
    m = int(rng.integers(1, 5))
    n_h, n_w = (int(v) for v in rng.integers(1, 8, size=2))
    n_c = int(rng.integers(1, 5))
    if view:  # a non-contiguous view of a larger array (every other column, reversed)
        base = rng.integers(-9, 10, size=(m, n_h, 2 * n_w, n_c)).astype(dtype)
        return base[:, :, ::-2, :]
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-9, 10, size=(m, n_h, n_w, n_c)).astype(dtype)
    return rng.standard_normal((m, n_h, n_w, n_c)).astype(dtype)


def zero_pad_random_int(zero_pad, n_cases: int = 8) -> None:
    """Random batches (1-4 examples, 1-4 channels, non-square), int pad 0-3, mixed dtypes."""
    rng = seeding.rng(SEED)
    dtypes = [np.float64, np.float32, np.int64, np.float64]
    for k in range(n_cases):
        X = _random_batch(rng, dtypes[k % len(dtypes)], view=(k == n_cases - 1))
        pad = 0 if k == 3 else int(rng.integers(1, 4))
        _check_case(zero_pad, X, pad, f"hidden random case {k + 1} (int pad)")
    core.passed(f"zero_pad matches the reference on {n_cases} random batches (int pad)")


def zero_pad_random_pairs(zero_pad, n_cases: int = 8) -> None:
    """Random batches with pad = (pad_h, pad_w), including (0, k) and (k, 0)."""
    rng = seeding.rng(SEED + 1)
    dtypes = [np.float32, np.float64, np.int32, np.float64]
    fixed = [(0, 2), (3, 0), (1, 3)]
    for k in range(n_cases):
        X = _random_batch(rng, dtypes[k % len(dtypes)], view=(k == 4))
        if k < len(fixed):
            pad = fixed[k]
        else:
            pad_h, pad_w = (int(v) for v in rng.integers(0, 4, size=2))
            if pad_h == pad_w:
                pad_w = pad_h + 1
            pad = (pad_h, pad_w)
        _check_case(zero_pad, X, pad, f"hidden random case {k + 1} (pad pair)")
    core.passed(f"zero_pad matches the reference on {n_cases} random batches "
                "(pad = (pad_h, pad_w))")


def same_padding_all_odd(same_padding) -> None:
    """Every odd f from 1 to 31 gives (f - 1) // 2 as an int, which keeps n x n at n x n."""
    for f in range(1, 32, 2):
        out = core.call(same_padding, f, name="same_padding")
        mistakes = {vis.SAME_TOTAL: f - 1, vis.SAME_PLUS_ONE: (f + 1) // 2, vis.SAME_F: f}
        mistakes = {k: v for k, v in mistakes.items() if v != (f - 1) // 2}
        core.check_scalar(out, (f - 1) // 2, "same_padding", inputs={"f": f}, integer=True,
                          mistakes=mistakes)
    core.passed("same_padding is right for every odd f from 1 to 31")


def same_padding_all_even(same_padding) -> None:
    """Even f (2 to 32) always raises ValueError."""
    for f in (6, 8, 10, 16, 32):
        core.check_raises(same_padding, ValueError, f, name="same_padding", why=vis.SAME_EVEN)
    core.passed("same_padding rejects every even f tried (6, 8, 10, 16, 32)")

"""Visible checks for notebook 02 (padding): ``coverage_counts``, ``zero_pad`` and
``same_padding``.

Every input, expected output and wrong output below is a constant written out
by hand (one 2-D slice per example and channel, so the numbers are easy to
read). Nothing here pads an array for you: the checks only compare.

The descriptions of typical mistakes (``PAD_BATCH_AXIS`` ...) are shared with
the hidden tests in ``grader/references/padding.py`` so both name a mistake the
same way.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .core import (CheckFailure, as_array, call, check_array, check_raises, check_scalar,
                   check_shape, diagnose, group_alternatives, passed)

__all__ = ["coverage_counts_valid", "coverage_counts_padded", "zero_pad_worked_example", "zero_pad_pad_pair", "same_padding_odd_filters",
           "same_padding_rejects_even", "check_padded", "call_zero_pad", "group_alternatives",
           "CheckFailure"]

# ------------------------------------------------------------ mistake names
PAD_BATCH_AXIS = ("the batch axis (axis 0) was padded too: pad only the two spatial axes, "
                  "e.g. np.pad(X, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0))).")
PAD_CHANNEL_AXIS = ("the channel axis (axis 3) was padded too: channels-last arrays are "
                    "(m, n_H, n_W, n_C); pad axes 1 and 2 only, never the last one.")
PAD_ALL_AXES = ("all four axes were padded (np.pad(X, pad) pads every axis): give one "
                "(before, after) pair per axis, with (0, 0) for the batch and channel axes.")
PAD_FIRST_TWO_AXES = ("axes 0 and 1 (batch and height) were padded instead of axes 1 and 2 "
                      "(height and width): the batch axis comes first in (m, n_H, n_W, n_C).")
PAD_LAST_TWO_AXES = ("axes 2 and 3 (width and channels) were padded instead of axes 1 and 2 "
                     "(height and width): the channels come last in (m, n_H, n_W, n_C).")
PAD_SWAPPED = ("pad = (pad_h, pad_w) was used the other way round: pad_h (the first number) "
               "goes on the height axis (axis 1), pad_w on the width axis (axis 2).")
PAD_AS_BEFORE_AFTER = ("pad = (pad_h, pad_w) was handed to np.pad as the (before, after) "
                       "widths of every axis; turn it into ((0, 0), (pad_h, pad_h), "
                       "(pad_w, pad_w), (0, 0)).")
PAD_ONLY_FIRST = ("only pad_h (the first number of the pair) was used, on both axes; "
                  "pad_w belongs on the width axis.")
PAD_ONLY_SECOND = ("only pad_w (the second number of the pair) was used, on both axes; "
                   "pad_h belongs on the height axis.")
PAD_UNCHANGED = ("the input came back unchanged (no rows or columns were added); the result "
                 "must have pad zeros on each side of each spatial axis.")
PAD_ONE_SIDE = ("only one side of each spatial axis was padded; zero padding adds pad rows "
                "at the top AND at the bottom, pad columns on the left AND on the right.")
PAD_DOUBLE = ("2 * pad rows/columns were added on each side; pad is the width on ONE side, "
              "so each spatial size grows by 2 * pad in total.")
PAD_HARD_CODED_ONE = ("the padding width is hard-coded to 1; use the `pad` argument.")
PAD_HARD_CODED_SHAPE = ("the output shape is hard-coded to the worked example's shape; "
                        "compute it from X.shape and pad.")
PAD_ONES = ("the border is filled with ones, not zeros: in np.pad, `constant_values` is the "
            "value written into the border (it must stay 0), not the padding width.")
PAD_EDGE = ("the border repeats the edge pixels (np.pad mode='edge'); zero padding writes "
            "zeros (mode='constant', the default).")
PAD_REFLECT = ("the border mirrors the image (np.pad mode='reflect'); zero padding writes "
               "zeros (mode='constant', the default).")
PAD_NONZERO = ("the border is not zero: zero padding fills every new row and column with 0.")
PAD_CORNER = ("the image was copied into the top-left corner; it belongs in the middle, "
              "starting at row pad_h and column pad_w (X_pad[:, pad_h:pad_h + n_H, "
              "pad_w:pad_w + n_W, :] = X).")

SAME_TOTAL = ("returned f - 1, the padding of both sides together; same_padding is the "
              "padding on ONE side, (f - 1) // 2.")
SAME_PLUS_ONE = ("off by one: (f + 1) // 2 is one too many; the padding that keeps the size "
                 "is (f - 1) // 2.")
SAME_F = "returned f itself; the padding on one side is (f - 1) // 2."
SAME_EVEN = ("an even filter size was accepted: with an even f the output cannot stay the "
             "same size with equal padding on both sides ((f - 1) / 2 is not a whole number) "
             "and the filter has no centre pixel. `raise ValueError(...)` when f % 2 == 0.")

PADDED_FORMULA = "(m, n_H + 2*pad_h, n_W + 2*pad_w, n_C)"

COV_MISSING_LAST = ("off by one in the number of window positions: the last window along "
                    "each axis is missing. An f-wide window fits n + 2*pad - f + 1 times "
                    "(range(n + 2*pad - f + 1), not range(n + 2*pad - f)).")
COV_EXTRA = ("off by one in the number of window positions: one window too many along each "
             "axis, which sticks out past the end (a slice beyond the end is silently cut "
             "short). There are n + 2*pad - f + 1 positions, starting at 0.")
COV_PAD_IGNORED = ("the padding is ignored: these are the counts of a valid convolution "
                   "(pad = 0). With pad > 0 the window slides over the (n + 2*pad)-wide "
                   "padded grid, so border pixels are read more often.")
COV_ONE_SIDE = ("the image was padded on one side only (n + pad instead of n + 2*pad); "
                "the frame goes on both sides of each axis.")
COV_TOP_LEFT = ("the counts of the padded grid were cut at [:n, :n] (its top-left corner); "
                "the original pixels sit in the middle, at [pad:pad + n, pad:pad + n].")
COV_FRAME_COUNTED = ("the padded frame is included: the result has one entry per pixel of "
                     "the (n + 2*pad) x (n + 2*pad) padded grid. Return the counts of the n x n "
                     "original pixels only, counts[pad:pad + n, pad:pad + n].")
COV_WINDOW_GRID = ("one entry per window position (the output map, n + 2*pad - f + 1 on a "
                   "side) instead of one per pixel of the image (n x n).")
COV_ONE_AXIS = ("the counts along one axis only (shape (n,)); a window reads pixel (r, c) when "
                "it covers row r AND column c, so the 2-D count is the product of the row "
                "count and the column count.")
COV_ADDED = ("the row count and the column count were added; a window reads pixel (r, c) "
             "when it covers row r AND column c, so they multiply (np.outer).")
COV_FORMULA = "(n, n): one count per pixel of the original image"


def call_zero_pad(zero_pad, X, pad):
    """Call ``zero_pad`` via :func:`call`; explain a broadcast error (sizes not from X)."""
    try:
        return call(zero_pad, X, pad, name="zero_pad")
    except CheckFailure as err:
        text = str(err)
        if "could not broadcast" in text or "operands could not" in text:
            raise CheckFailure(f"{text}\nLikely mistake: {PAD_HARD_CODED_SHAPE}") from None
        raise


def _volume(slices: Sequence[Sequence[Any]]) -> np.ndarray:
    """Assemble ``(m, n_H, n_W, n_C)`` from ``slices[i][c]``, each a 2-D list."""
    return np.stack([np.stack([np.asarray(s) for s in per_example], axis=-1)
                     for per_example in slices])


def _border(arr: np.ndarray, pad_h: int, pad_w: int) -> np.ndarray:
    """The values of the padded ring of a ``(m, H, W, C)`` result (interior set to 0)."""
    ring = np.array(arr, dtype=np.float64, copy=True)
    h, w = ring.shape[1], ring.shape[2]
    ring[:, pad_h:h - pad_h, pad_w:w - pad_w, :] = 0
    return ring


def check_padded(actual: Any, expected: np.ndarray, name: str, *,
                 pad_hw: tuple[int, int],
                 inputs: Mapping[str, Any] | None = None,
                 mistakes: Mapping[str, Any] | None = None,
                 shape_mistakes: Mapping[str, Sequence[int]] | None = None,
                 case: str = "") -> None:
    """Compare a padded batch with the expected one, one 2-D slice at a time.

    The shape is checked first (naming an axis mistake), then each
    ``(example, channel)`` slice, so a message prints 2-D grids a student can read.
    A result whose border is not all zero is reported as "padded with non-zero
    values" even when it matches no listed mistake.
    """
    arr = as_array(actual, name)
    exp = np.asarray(expected)
    check_shape(arr, exp.shape, name, inputs, shape_mistakes, PADDED_FORMULA)
    hint = diagnose(arr.astype(np.float64), mistakes)
    pad_h, pad_w = pad_hw
    if hint is None and np.any(_border(arr, pad_h, pad_w) != 0):
        hint = PAD_NONZERO
    for i in range(exp.shape[0]):
        for c in range(exp.shape[3]):
            got = arr[i, :, :, c]
            label = f"{case}, slice X_pad[{i}, :, :, {c}] (example {i}, channel {c})"
            check_array(got, exp[i, :, :, c], name, inputs=inputs,
                        mistakes={hint: got} if hint else None, case=label.lstrip(", "))


# ------------------------------------------------------------ coverage_counts
# (n, f, pad, the right counts, {mistake: the counts it gives})
_COV_VALID = [
    (6, 3, 0,
     [[1, 2, 3, 3, 2, 1], [2, 4, 6, 6, 4, 2], [3, 6, 9, 9, 6, 3], [3, 6, 9, 9, 6, 3],
      [2, 4, 6, 6, 4, 2], [1, 2, 3, 3, 2, 1]],
     {COV_MISSING_LAST: [[1, 2, 3, 2, 1, 0], [2, 4, 6, 4, 2, 0], [3, 6, 9, 6, 3, 0],
                         [2, 4, 6, 4, 2, 0], [1, 2, 3, 2, 1, 0], [0, 0, 0, 0, 0, 0]],
      COV_EXTRA: [[1, 2, 3, 3, 3, 2], [2, 4, 6, 6, 6, 4], [3, 6, 9, 9, 9, 6],
                  [3, 6, 9, 9, 9, 6], [3, 6, 9, 9, 9, 6], [2, 4, 6, 6, 6, 4]],
      COV_ADDED: [[2, 3, 4, 4, 3, 2], [3, 4, 5, 5, 4, 3], [4, 5, 6, 6, 5, 4],
                  [4, 5, 6, 6, 5, 4], [3, 4, 5, 5, 4, 3], [2, 3, 4, 4, 3, 2]]}),
    (5, 2, 0,
     [[1, 2, 2, 2, 1], [2, 4, 4, 4, 2], [2, 4, 4, 4, 2], [2, 4, 4, 4, 2], [1, 2, 2, 2, 1]],
     {COV_MISSING_LAST: [[1, 2, 2, 1, 0], [2, 4, 4, 2, 0], [2, 4, 4, 2, 0], [1, 2, 2, 1, 0],
                         [0, 0, 0, 0, 0]],
      COV_EXTRA: [[1, 2, 2, 2, 2], [2, 4, 4, 4, 4], [2, 4, 4, 4, 4], [2, 4, 4, 4, 4],
                  [2, 4, 4, 4, 4]],
      COV_ADDED: [[2, 3, 3, 3, 2], [3, 4, 4, 4, 3], [3, 4, 4, 4, 3], [3, 4, 4, 4, 3],
                  [2, 3, 3, 3, 2]]}),
    (4, 4, 0, [[1, 1, 1, 1]] * 4, {COV_MISSING_LAST: [[0, 0, 0, 0]] * 4}),
]
_COV_PADDED = [
    (6, 3, 1,
     [[4, 6, 6, 6, 6, 4], [6, 9, 9, 9, 9, 6], [6, 9, 9, 9, 9, 6], [6, 9, 9, 9, 9, 6],
      [6, 9, 9, 9, 9, 6], [4, 6, 6, 6, 6, 4]],
     {COV_PAD_IGNORED: [[1, 2, 3, 3, 2, 1], [2, 4, 6, 6, 4, 2], [3, 6, 9, 9, 6, 3],
                        [3, 6, 9, 9, 6, 3], [2, 4, 6, 6, 4, 2], [1, 2, 3, 3, 2, 1]],
      # a missing last window and a one-sided frame give the same counts here
      COV_MISSING_LAST + "\n  or: " + COV_ONE_SIDE:
          [[4, 6, 6, 6, 4, 2], [6, 9, 9, 9, 6, 3], [6, 9, 9, 9, 6, 3], [6, 9, 9, 9, 6, 3],
           [4, 6, 6, 6, 4, 2], [2, 3, 3, 3, 2, 1]],
      COV_TOP_LEFT: [[1, 2, 3, 3, 3, 3], [2, 4, 6, 6, 6, 6], [3, 6, 9, 9, 9, 9],
                     [3, 6, 9, 9, 9, 9], [3, 6, 9, 9, 9, 9], [3, 6, 9, 9, 9, 9]]}),
    (5, 5, 2,
     [[9, 12, 15, 12, 9], [12, 16, 20, 16, 12], [15, 20, 25, 20, 15], [12, 16, 20, 16, 12],
      [9, 12, 15, 12, 9]],
     {COV_PAD_IGNORED: [[1, 1, 1, 1, 1]] * 5,
      COV_MISSING_LAST: [[9, 12, 12, 9, 6], [12, 16, 16, 12, 8], [12, 16, 16, 12, 8],
                         [9, 12, 12, 9, 6], [6, 8, 8, 6, 4]],
      COV_ONE_SIDE: [[9, 9, 9, 6, 3], [9, 9, 9, 6, 3], [9, 9, 9, 6, 3], [6, 6, 6, 4, 2],
                     [3, 3, 3, 2, 1]],
      COV_TOP_LEFT: [[1, 2, 3, 4, 5], [2, 4, 6, 8, 10], [3, 6, 9, 12, 15],
                     [4, 8, 12, 16, 20], [5, 10, 15, 20, 25]]}),
]


def coverage_shape_mistakes(n: int, f: int, pad: int) -> dict:
    """The shapes that the usual shape mistakes of ``coverage_counts`` give."""
    side, n_out = n + 2 * pad, n + 2 * pad - f + 1
    cand = {COV_FRAME_COUNTED: (side, side), COV_WINDOW_GRID: (n_out, n_out),
            COV_ONE_AXIS: (n,)}
    return group_alternatives({k: v for k, v in cand.items() if v != (n, n)})


def check_coverage(actual: Any, expected: Any, n: int, f: int, pad: int,
                   mistakes: Mapping[str, Any] | None = None, case: str = "") -> None:
    """Compare ``coverage_counts(n, f, pad)`` with the right counts, naming a mistake."""
    check_array(actual, expected, "coverage_counts", inputs={"n": n, "f": f, "pad": pad},
                mistakes=mistakes, shape_mistakes=coverage_shape_mistakes(n, f, pad),
                formula=COV_FORMULA, case=case or f"n={n}, f={f}, pad={pad}")


def _coverage_cases(coverage_counts, cases) -> None:
    for n, f, pad, expected, mistakes in cases:
        out = call(coverage_counts, n, f, pad, name="coverage_counts")
        check_coverage(out, np.array(expected), n, f, pad,
                       mistakes={k: np.array(v) for k, v in mistakes.items()})


def coverage_counts_valid(coverage_counts) -> None:
    """``coverage_counts(n, f, 0)``: 6x6 with 3x3 (corner 1, centre 9), 5x5 with 2x2, 4x4 with 4x4."""
    _coverage_cases(coverage_counts, _COV_VALID)
    passed("coverage_counts without padding: corner 1, centre 9 for 6x6 and 3x3; "
           "5x5 with 2x2; 4x4 with 4x4")


def coverage_counts_padded(coverage_counts) -> None:
    """``coverage_counts`` with pad 1 (6x6, 3x3) and pad 2 (5x5, 5x5): original pixels only."""
    _coverage_cases(coverage_counts, _COV_PADDED)
    passed("coverage_counts with padding: corner 4, edge 6, centre 9 for 6x6, 3x3, pad 1; "
           "5x5, 5x5, pad 2; only the original pixels")


# ------------------------------------------------------------ zero_pad, int pad
# X_INT: one example (m=1), 2 x 3 pixels, 2 channels; pad = 1.
_X_INT = [[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]]
_X_INT_PAD1 = [[
    [[0, 0, 0, 0, 0], [0, 1, 2, 3, 0], [0, 4, 5, 6, 0], [0, 0, 0, 0, 0]],
    [[0, 0, 0, 0, 0], [0, 7, 8, 9, 0], [0, 10, 11, 12, 0], [0, 0, 0, 0, 0]],
]]
_X_INT_ONES = [[
    [[1, 1, 1, 1, 1], [1, 1, 2, 3, 1], [1, 4, 5, 6, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 1], [1, 7, 8, 9, 1], [1, 10, 11, 12, 1], [1, 1, 1, 1, 1]],
]]
_X_INT_EDGE = [[
    [[1, 1, 2, 3, 3], [1, 1, 2, 3, 3], [4, 4, 5, 6, 6], [4, 4, 5, 6, 6]],
    [[7, 7, 8, 9, 9], [7, 7, 8, 9, 9], [10, 10, 11, 12, 12], [10, 10, 11, 12, 12]],
]]
_X_INT_REFLECT = [[
    [[5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [2, 1, 2, 3, 2]],
    [[11, 10, 11, 12, 11], [8, 7, 8, 9, 8], [11, 10, 11, 12, 11], [8, 7, 8, 9, 8]],
]]
_X_INT_CORNER = [[
    [[1, 2, 3, 0, 0], [4, 5, 6, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    [[7, 8, 9, 0, 0], [10, 11, 12, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
]]
#: shape of the worked example's answer (used by the hidden tests to spot hard-coding)
ZERO_PAD_WORKED_SHAPE = (1, 4, 5, 2)
_X_INT_SHAPE_MISTAKES = {
    PAD_UNCHANGED: (1, 2, 3, 2),
    PAD_ALL_AXES: (3, 4, 5, 4),
    PAD_BATCH_AXIS: (3, 4, 5, 2),
    PAD_CHANNEL_AXIS: (1, 4, 5, 4),
    PAD_FIRST_TWO_AXES: (3, 4, 3, 2),
    PAD_LAST_TWO_AXES: (1, 2, 5, 4),
    PAD_ONE_SIDE: (1, 3, 4, 2),
    PAD_DOUBLE: (1, 6, 7, 2),
}


def zero_pad_worked_example(zero_pad) -> None:
    """``zero_pad(X, 1)`` on a (1, 2, 3, 2) batch: shape, zero border, image in the middle."""
    X = _volume(_X_INT)
    inputs = {"X[0, :, :, 0]": X[0, :, :, 0], "X[0, :, :, 1]": X[0, :, :, 1],
              "X.shape": X.shape, "pad": 1}
    out = call_zero_pad(zero_pad, X, 1)
    check_padded(out, _volume(_X_INT_PAD1), "zero_pad", pad_hw=(1, 1), inputs=inputs,
                 mistakes={PAD_ONES: _volume(_X_INT_ONES), PAD_EDGE: _volume(_X_INT_EDGE),
                           PAD_REFLECT: _volume(_X_INT_REFLECT),
                           PAD_CORNER: _volume(_X_INT_CORNER)},
                 shape_mistakes=_X_INT_SHAPE_MISTAKES, case="X of shape (1, 2, 3, 2), pad=1")
    # pad = 0 must give the same values back (a copy or the input itself are both fine)
    out0 = call_zero_pad(zero_pad, X, 0)
    check_padded(out0, X, "zero_pad", pad_hw=(0, 0),
                 inputs={"X.shape": X.shape, "pad": 0},
                 shape_mistakes={PAD_HARD_CODED_ONE: (1, 4, 5, 2)},
                 case="the same X, pad=0")
    passed("zero_pad pads height and width with zeros and leaves batch and channels alone "
           "(pad=1 and pad=0)")


# ------------------------------------------------------------ zero_pad, (pad_h, pad_w)
# X_PAIR: two examples (m=2), 2 x 3 pixels, 1 channel; pad = (1, 2).
_X_PAIR = [[[[1, 2, 3], [4, 5, 6]]], [[[9, 8, 7], [6, 5, 4]]]]
_X_PAIR_PAD = [
    [[[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0, 0], [0, 0, 4, 5, 6, 0, 0],
      [0, 0, 0, 0, 0, 0, 0]]],
    [[[0, 0, 0, 0, 0, 0, 0], [0, 0, 9, 8, 7, 0, 0], [0, 0, 6, 5, 4, 0, 0],
      [0, 0, 0, 0, 0, 0, 0]]],
]
_X_PAIR_CORNER = [
    [[[1, 2, 3, 0, 0, 0, 0], [4, 5, 6, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0]]],
    [[[9, 8, 7, 0, 0, 0, 0], [6, 5, 4, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0]]],
]
_X_PAIR_SHAPE_MISTAKES = {
    PAD_SWAPPED: (2, 6, 5, 1),
    PAD_AS_BEFORE_AFTER: (2, 5, 6, 1),
    PAD_ONLY_FIRST: (2, 4, 5, 1),
    PAD_ONLY_SECOND: (2, 6, 7, 1),
    PAD_UNCHANGED: (2, 2, 3, 1),
    PAD_FIRST_TWO_AXES: (4, 6, 3, 1),
    PAD_LAST_TWO_AXES: (2, 2, 5, 5),
    PAD_HARD_CODED_SHAPE: ZERO_PAD_WORKED_SHAPE,
    PAD_HARD_CODED_ONE: (2, 4, 5, 1),
}


def zero_pad_pad_pair(zero_pad) -> None:
    """``zero_pad(X, (1, 2))`` on a batch of two 2 x 3 images: 1 row, 2 columns each side."""
    X = _volume(_X_PAIR)
    inputs = {"X[0, :, :, 0]": X[0, :, :, 0], "X[1, :, :, 0]": X[1, :, :, 0],
              "X.shape": X.shape, "pad": (1, 2)}
    out = call_zero_pad(zero_pad, X, (1, 2))
    check_padded(out, _volume(_X_PAIR_PAD), "zero_pad", pad_hw=(1, 2), inputs=inputs,
                 mistakes={PAD_CORNER: _volume(_X_PAIR_CORNER)},
                 shape_mistakes=_X_PAIR_SHAPE_MISTAKES,
                 case="X of shape (2, 2, 3, 1), pad=(1, 2)")
    passed("zero_pad takes pad = (pad_h, pad_w): 1 row above and below, 2 columns left and "
           "right, for every example")


# ------------------------------------------------------------ same_padding
# (f, expected, {mistake: the value it gives})
_SAME_CASES = [
    (1, 0, {SAME_PLUS_ONE: 1, SAME_F: 1}),
    (3, 1, {SAME_TOTAL: 2, SAME_PLUS_ONE: 2, SAME_F: 3}),
    (5, 2, {SAME_TOTAL: 4, SAME_PLUS_ONE: 3, SAME_F: 5}),
    (7, 3, {SAME_TOTAL: 6, SAME_PLUS_ONE: 4, SAME_F: 7}),
]


def same_padding_odd_filters(same_padding) -> None:
    """``same_padding(f)`` for f = 1, 3, 5, 7 is 0, 1, 2, 3, as an int."""
    for f, expected, mistakes in _SAME_CASES:
        out = call(same_padding, f, name="same_padding")
        check_scalar(out, expected, "same_padding", inputs={"f": f}, integer=True,
                     mistakes=mistakes)
    passed("same_padding gives (f - 1) // 2 for f = 1, 3, 5, 7")


def same_padding_rejects_even(same_padding) -> None:
    """``same_padding(f)`` raises ValueError for f = 2 and f = 4."""
    for f in (2, 4):
        check_raises(same_padding, ValueError, f, name="same_padding", why=SAME_EVEN)
    passed("same_padding raises ValueError for even filter sizes (2 and 4)")

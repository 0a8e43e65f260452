"""Visible checks for notebook 01, edge detection (2-D, one channel).

Every check calls the student's function on small fixed inputs and compares the
result with expected outputs written below as constants. The outputs of typical
mistakes are constants too (or simple rearrangements of an expected output, such
as its negation or its transpose), so a wrong answer is named, not just flagged.
Nothing here computes a valid cross-correlation: the course's reference
implementations live in the grader, not in ``utils``.

The functions, in notebook order:

- :func:`conv2d_valid_worked_example`, :func:`conv2d_valid_any_shape`,
  :func:`conv2d_valid_float_output`
- :func:`convolve2d_valid_flips_kernel`
- :func:`vertical_edge_kernel`, :func:`horizontal_edge_kernel`,
  :func:`sobel_x_kernel`, :func:`scharr_x_kernel`
- :func:`edge_magnitude_small_image`, :func:`edge_magnitude_any_shape`
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from . import core, expected
from .core import CheckFailure

# ------------------------------------------------------------------ messages
# Shared with the hidden tests, so both name a mistake in the same words.
FORMULA = "(H - f_h + 1, W - f_w + 1)"
FLIPPED = ("the kernel is flipped in both axes: that is the mathematical convolution "
           "(`convolve2d_valid`). `conv2d_valid` multiplies image[i + a, j + b] by "
           "kernel[a, b] as it is, without reversing the kernel.")
NOT_FLIPPED = ("the kernel is not flipped: this is the cross-correlation that "
               "`conv2d_valid` computes. The convolution uses the kernel rotated by 180 "
               "degrees, `kernel[::-1, ::-1]` (or `np.flip(kernel)`).")
FLIPPED_ROWS_ONLY = ("the kernel is flipped upside down only (its rows reversed); the "
                     "convolution reverses both axes: `kernel[::-1, ::-1]`.")
FLIPPED_COLS_ONLY = ("the kernel is flipped left-right only (its columns reversed); the "
                     "convolution reverses both axes: `kernel[::-1, ::-1]`.")
ROWS_REVERSED = ("the kernel is flipped upside down (its rows reversed): `conv2d_valid` "
                 "uses the kernel as it is, kernel[a, b] with image[i + a, j + b].")
COLS_REVERSED = ("the kernel is flipped left-right (its columns reversed): `conv2d_valid` "
                 "uses the kernel as it is, kernel[a, b] with image[i + a, j + b].")
TRANSPOSED_KERNEL = ("the kernel is transposed (kernel[b, a] was used instead of "
                     "kernel[a, b]): the kernel's first axis runs down the image (rows, "
                     "f_h), its second across (columns, f_w).")
TRANSPOSED_NOT_FLIPPED = ("the kernel was transposed (`kernel.T`) instead of flipped: "
                          "flipping reverses both axes, `kernel[::-1, ::-1]`; a "
                          "transpose swaps them.")
TRANSPOSED_OUTPUT = ("the output is transposed: out[j, i] was filled where out[i, j] "
                     "belongs (i indexes rows, j columns).")
SWAPPED_SHAPE = ("rows and columns of the output are swapped: the shape is "
                 f"{FORMULA}, with H, W = image.shape and f_h, f_w = kernel.shape.")
KERNEL_SIZE_SWAPPED = ("the kernel's height and width are swapped in the output size: "
                       "f_h is kernel.shape[0] (rows), f_w is kernel.shape[1] (columns).")
KERNEL_3X3_ASSUMED = ("the kernel size is hard-coded to 3x3 (output H - 2 by W - 2): take "
                      "f_h, f_w = kernel.shape, so that any kernel works.")
HARD_CODED_4X4 = ("the output size is hard-coded to the 6x6 example's 4x4: compute it "
                  f"from the shapes, {FORMULA}.")
LAST_ROW_COL_ZERO = ("the last row and column of the output were never filled (still 0): "
                     "the loops stop one step early. Loop over range(H - f_h + 1) and "
                     "range(W - f_w + 1).")
LAST_ROW_ZERO = ("the last row of the output was never filled (still 0): loop over "
                 "range(H - f_h + 1) rows.")
LAST_COL_ZERO = ("the last column of the output was never filled (still 0): loop over "
                 "range(W - f_w + 1) columns.")
TRUNCATED = ("the results were truncated to whole numbers: the output array has an "
             "integer dtype (e.g. `np.zeros_like(image)` for an integer image) or "
             "values went through `int(...)`. Create it with `np.zeros(shape)` (float).")
WRAPPED = ("negative results wrapped around (e.g. -200 became 56): the arithmetic ran in "
           "the image's uint8 dtype. Convert first, `image = np.asarray(image, dtype=float)`, "
           "and create the output with `np.zeros(shape)`.")
SHAPE_ASSUMED = ("your function may assume a square kernel, a 3x3 kernel or a 6x6 image. "
                 "Take every size from the arguments: H, W = image.shape and "
                 "f_h, f_w = kernel.shape, and slice the window as "
                 "image[i:i + f_h, j:j + f_w].")
NO_SQRT = ("the square root is missing: the magnitude is np.sqrt(gx**2 + gy**2), "
           "not gx**2 + gy**2.")
ABS_SUM = ("|gx| + |gy| was used: a cheaper approximation of the length, but the task "
           "asks for the Euclidean length np.sqrt(gx**2 + gy**2).")
GX_ONLY = ("only gx (the response to SOBEL_X) was used: add gy, the response to the "
           "transposed kernel SOBEL_X.T.")
GY_ONLY = ("only gy (the response to SOBEL_X.T) was used: add gx, the response to SOBEL_X.")
SAME_KERNEL_TWICE = ("gx and gy are the same: gy must use the transposed kernel "
                     "SOBEL_X.T (horizontal edges), not SOBEL_X again.")
PREWITT_USED = ("VERTICAL_EDGE and HORIZONTAL_EDGE were used; the magnitude uses the "
                "Sobel kernels SOBEL_X and SOBEL_X.T (centre row weighted 2).")
SCHARR_USED = "SCHARR_X was used; the magnitude uses SOBEL_X and SOBEL_X.T."
SOBEL_SCALED = ("the result is 8 times too small: SOBEL_X was divided by 8 (normalised); "
                "keep the integer weights [[1, 0, -1], [2, 0, -2], [1, 0, -1]].")
MAGNITUDE_DEPENDS = ("`edge_magnitude` calls your `conv2d_valid` and uses your "
                     "`SOBEL_X`: make their tests pass first, and take every size from "
                     "image.shape (the output is (H - 2, W - 2)).")

# ------------------------------------------------------------------ worked examples
# Course spec 3.01: the 6x6 image and its response to VERTICAL_EDGE.
EXAMPLE_6X6 = np.array([[3, 0, 1, 2, 7, 4],
                        [1, 5, 8, 9, 3, 1],
                        [2, 7, 2, 5, 1, 3],
                        [0, 1, 3, 1, 7, 8],
                        [4, 2, 1, 6, 2, 8],
                        [2, 4, 5, 2, 3, 9]])
VERTICAL = expected.VERTICAL_EDGE  # the kernels are generated from grader/references/edges.py
HORIZONTAL = expected.HORIZONTAL_EDGE
EXAMPLE_6X6_VERTICAL = np.array([[-5, -4, 0, 8],
                                 [-10, -2, 2, 3],
                                 [0, -2, -4, -7],
                                 [-3, -2, -3, -16]])
# The same image with the kernel transposed (that is, with HORIZONTAL).
EXAMPLE_6X6_HORIZONTAL = np.array([[-7, -11, 2, 4],
                                   [10, 17, 9, -3],
                                   [4, 5, -1, -7],
                                   [-7, -6, 1, 2]])
# Bright left half, dark right half, and its mirror image.
HALVES = np.array([[10, 10, 10, 0, 0, 0]] * 6)
HALVES_MIRRORED = np.array([[0, 0, 0, 10, 10, 10]] * 6)
HALVES_VERTICAL = np.array([[0, 30, 30, 0]] * 4)
# Three bright-then-dark rows above three dark-then-bright rows.
CHECKERBOARD = np.array([[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3)
CHECKERBOARD_HORIZONTAL = np.array([[0, 0, 0, 0],
                                    [30, 10, -10, -30],
                                    [30, 10, -10, -30],
                                    [0, 0, 0, 0]])
CHECKERBOARD_VERTICAL = np.array([[0, 30, 30, 0],
                                  [0, 10, 10, 0],
                                  [0, -10, -10, 0],
                                  [0, -30, -30, 0]])

# ------------------------------------------------------------------ other shapes
IMAGE_7X8 = np.array([[9, 6, 6, 8, 5, 7, 8, 2],
                      [0, 3, 2, 8, 9, 0, 4, 8],
                      [1, 7, 1, 4, 8, 3, 3, 2],
                      [7, 2, 9, 4, 4, 5, 5, 5],
                      [5, 9, 8, 7, 7, 6, 3, 9],
                      [4, 2, 8, 1, 8, 6, 1, 0],
                      [4, 0, 1, 5, 9, 4, 8, 9]])
KERNEL_3X3 = np.array([[1, 2, 0], [0, 1, -1], [-2, 0, 1]])
IMAGE_7X8_OUT = np.array([[21, 2, 27, 22, 2, 15],
                          [7, 4, 0, 28, 6, 4],
                          [6, 3, 0, 11, 3, 6],
                          [12, 18, 9, 17, 2, -3],
                          [10, 37, 22, 17, 14, 14]])
IMAGE_7X8_FLIPPED = np.array([[15, -5, 18, 14, -11, 15],
                              [15, 3, -1, 25, 11, -1],
                              [20, 29, 1, 18, 18, 14],
                              [5, 10, 10, 16, 6, -6],
                              [-12, 8, 6, 24, 15, 8]])
IMAGE_7X8_TRANSPOSED = np.array([[-6, 1, 12, 14, 7, 6],
                                 [12, -3, -10, 25, 20, -7],
                                 [14, 11, 7, 9, 12, 20],
                                 [14, 13, 31, 13, 9, 9],
                                 [0, 11, 15, 0, 27, 2]])
IMAGE_4X5 = np.array([[8, 6, 4, 5, 2],
                      [4, 3, 2, 9, 0],
                      [0, 1, 9, 6, 8],
                      [2, 7, 3, 4, 0]])
KERNEL_TALL = np.array([[1], [0], [-1]])  # 3x1: compares a pixel with the one 2 rows below
IMAGE_4X5_TALL_OUT = np.array([[8, 5, -5, -1, -6], [2, -4, -1, 5, 0]])
IMAGE_5X4 = np.array([[6, 8, 6, 1],
                      [5, 2, 9, 8],
                      [1, 5, 9, 8],
                      [7, 6, 0, 7],
                      [4, 0, 2, 5]])
KERNEL_WIDE = np.array([[1, 2, 3], [-1, 0, 1]])  # 2x3
IMAGE_5X4_WIDE_OUT = np.array([[44, 29], [44, 47], [31, 48], [17, 32]])
IMAGE_5X4_WIDE_FLIPPED = np.array([[28, 39], [18, 35], [25, 22], [21, 8]])
IMAGE_5X4_WIDE_ROWS_FLIPPED = np.array([[36, 37], [42, 53], [27, 30], [3, 20]])
IMAGE_5X4_WIDE_COLS_FLIPPED = np.array([[36, 31], [20, 29], [29, 40], [35, 20]])
IMAGE_3X4 = np.array([[7, 5, 6, 8], [6, 3, 6, 5], [1, 0, 6, 3]])
KERNEL_3X4 = np.array([[1, 0, -1, 2], [0, 3, 1, 0], [-2, 1, 0, 1]])  # as large as the image
IMAGE_3X4_OUT = np.array([[33]])
IMAGE_3X4_FLIPPED = np.array([[23]])
IMAGE_2X3 = np.array([[4, -1, 0], [2, 7, 3]])
KERNEL_1X1 = np.array([[2]])
IMAGE_2X3_OUT = np.array([[8, -2, 0], [4, 14, 6]])
# A 3x3 image and an asymmetric 2x2 kernel (convolution: transposed != flipped).
IMAGE_3X3 = np.array([[1, 0, 2], [3, 1, 0], [0, 2, 1]])
KERNEL_2X2 = np.array([[1, 2], [3, 4]])
IMAGE_3X3_CONVOLVED = np.array([[11, 8], [17, 9]])
IMAGE_3X3_CORRELATED = np.array([[14, 7], [13, 11]])
IMAGE_3X3_TRANSPOSED = np.array([[11, 8], [14, 9]])
IMAGE_3X3_ROWS_FLIPPED = np.array([[8, 9], [17, 7]])
IMAGE_3X3_COLS_FLIPPED = np.array([[17, 6], [13, 13]])

# ------------------------------------------------------------------ dtypes
INT_IMAGE = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 13]])  # int64
FRACTION_KERNEL = np.array([[0.5, 0.25], [-0.25, 0.0]])
INT_IMAGE_OUT = np.array([[-0.25, 0.25, 0.75], [1.75, 2.25, 2.75]])
UINT8_IMAGE = np.array([[0, 200, 255], [30, 10, 0]], dtype=np.uint8)
DIFF_KERNEL = np.array([[1, -1]])
UINT8_IMAGE_OUT = np.array([[-200, -55], [20, 10]])
FLOAT32_IMAGE = np.array([[0.5, 1.5, -2.0], [0.25, 0.0, 3.0], [1.0, -1.0, 0.5]],
                         dtype=np.float32)
FLOAT_KERNEL = np.array([[0.5, -1.0], [2.0, 0.25]])
FLOAT32_IMAGE_OUT = np.array([[-0.75, 3.5], [1.875, -4.875]])

# ------------------------------------------------------------------ kernels
SOBEL = expected.SOBEL_X
SCHARR = expected.SCHARR_X

# ------------------------------------------------------------------ edge magnitude
# A bright region below a staircase edge; gx, gy are its valid cross-correlations
# with SOBEL and SOBEL.T (PREWITT_ and SCHARR_ with the other kernels).
MAG_IMAGE = np.array([[0, 0, 0, 0, 0, 0, 0],
                      [0, 0, 0, 0, 0, 9, 9],
                      [0, 0, 0, 0, 9, 9, 9],
                      [0, 0, 9, 9, 9, 9, 9],
                      [9, 9, 9, 9, 9, 9, 9],
                      [9, 9, 9, 9, 9, 9, 6]])
MAG_GX = np.array([[0, 0, -9, -27, -18], [-9, -9, -18, -27, -9],
                   [-18, -18, -9, -9, 0], [-9, -9, 0, 0, 3]])
MAG_GY = np.array([[0, 0, -9, -27, -36], [-9, -27, -36, -27, -9],
                   [-36, -36, -27, -9, 0], [-27, -9, 0, 0, 3]])
MAG_PREWITT_GX = np.array([[0, 0, -9, -18, -9], [-9, -9, -9, -18, -9],
                           [-9, -9, -9, -9, 0], [-9, -9, 0, 0, 3]])
MAG_PREWITT_GY = np.array([[0, 0, -9, -18, -27], [-9, -18, -27, -18, -9],
                           [-27, -27, -18, -9, 0], [-18, -9, 0, 0, 3]])
MAG_SCHARR_GX = np.array([[0, 0, -27, -117, -90], [-27, -27, -90, -117, -27],
                          [-90, -90, -27, -27, 0], [-27, -27, 0, 0, 9]])
MAG_SCHARR_GY = np.array([[0, 0, -27, -117, -144], [-27, -117, -144, -117, -27],
                          [-144, -144, -117, -27, 0], [-117, -27, 0, 0, 9]])
TINY_IMAGE = np.array([[0, 0, 9], [0, 9, 9], [9, 9, 9]])
TINY_GX = np.array([[-27]])
TINY_GY = np.array([[-27]])
TALL_IMAGE = np.array([[0, 0, 0, 0, 255],
                       [0, 0, 0, 255, 255],
                       [0, 0, 255, 255, 255],
                       [0, 0, 255, 255, 255],
                       [0, 255, 255, 255, 255],
                       [0, 255, 255, 255, 0],
                       [255, 255, 255, 0, 0],
                       [255, 255, 0, 0, 0]], dtype=np.uint8)
TALL_GX = np.array([[-255, -765, -765], [-765, -1020, -255], [-1020, -765, 0],
                    [-1020, -255, 255], [-765, 255, 765], [0, 765, 765]])
TALL_GY = np.array([[-255, -765, -765], [-255, -510, -255], [-510, -255, 0],
                    [-510, -255, 255], [-255, 255, 765], [0, 765, 765]])
WIDE_IMAGE = np.array([[0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0],
                       [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
                       [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0],
                       [2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0]],
                      dtype=np.float32)
WIDE_GX = np.array([[-1.5, -1.5, -1.5, -1.0, -0.5, -0.5, -0.5],
                    [0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0]])
WIDE_GY = np.array([[-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
                    [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0]])
# The same images with the Prewitt (VERTICAL/HORIZONTAL_EDGE) and Scharr kernels.
TINY_PREWITT_GX = np.array([[-18]])
TINY_PREWITT_GY = np.array([[-18]])
TINY_SCHARR_GX = np.array([[-117]])
TINY_SCHARR_GY = np.array([[-117]])
TALL_PREWITT_GX = np.array([[-255, -510, -510], [-510, -765, -255], [-765, -510, 0], [-765, -255, 255], [-510, 255, 510], [0, 510, 510]])
TALL_PREWITT_GY = np.array([[-255, -510, -510], [-255, -255, -255], [-255, -255, 0], [-255, -255, 255], [-255, 255, 510], [0, 510, 510]])
TALL_SCHARR_GX = np.array([[-765, -3315, -3315], [-3315, -4080, -765], [-4080, -3315, 0], [-4080, -765, 765], [-3315, 765, 3315], [0, 3315, 3315]])
TALL_SCHARR_GY = np.array([[-765, -3315, -3315], [-765, -2550, -765], [-2550, -765, 0], [-2550, -765, 765], [-765, 765, 3315], [0, 3315, 3315]])
WIDE_PREWITT_GX = np.array([[-1.0, -1.0, -1.0, -0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.25, 0.5, 0.5, 0.5]])
WIDE_PREWITT_GY = np.array([[-2.25, -1.5, -0.75, 0.0, 0.75, 1.5, 2.25], [-4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5]])
WIDE_SCHARR_GX = np.array([[-6.5, -6.5, -6.5, -5.0, -3.5, -3.5, -3.5], [0.0, 0.0, 0.0, 2.5, 5.0, 5.0, 5.0]])
WIDE_SCHARR_GY = np.array([[-12, -8, -4, 0, 4, 8, 12], [-24, -16, -8, 0, 8, 16, 24]])


# ------------------------------------------------------------------ helpers
def call_noting(fn: Callable, name: str, *args: Any, note: str | None = None) -> Any:
    """``core.call`` on copies of ``args``; when the function crashes, add ``note`` as the
    likely mistake (e.g. a size assumption that only fits the worked example)."""
    args = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
    try:
        return core.call(fn, *args, name=name)
    except CheckFailure as err:
        text = str(err)
        if note and " raised " in text.splitlines()[0] and "Likely mistake" not in text:
            raise CheckFailure(f"{text}\nLikely mistake: {note}") from None
        raise


def output_mistakes(expected: np.ndarray) -> dict:
    """Mistakes visible from the expected output alone: transposed, last row/column unset."""
    exp = np.asarray(expected, dtype=float)
    found = {}
    if exp.ndim == 2 and exp.shape[0] == exp.shape[1] and exp.shape[0] > 1:
        found[TRANSPOSED_OUTPUT] = exp.T
    if exp.ndim == 2 and min(exp.shape) > 1:
        both = exp.copy()
        both[-1, :] = 0
        both[:, -1] = 0
        found[LAST_ROW_COL_ZERO] = both
    if exp.ndim == 2 and exp.shape[0] > 1:
        row = exp.copy()
        row[-1, :] = 0
        found[LAST_ROW_ZERO] = row
    if exp.ndim == 2 and exp.shape[1] > 1:
        col = exp.copy()
        col[:, -1] = 0
        found[LAST_COL_ZERO] = col
    return found


def shape_mistakes_for(image_shape, kernel_shape) -> dict:
    """Output shapes that typical size mistakes give (only those that differ from the right one)."""
    (H, W), (f_h, f_w) = image_shape, kernel_shape
    right = (H - f_h + 1, W - f_w + 1)
    candidates = {
        HARD_CODED_4X4: (4, 4),
        SWAPPED_SHAPE: right[::-1],
        KERNEL_SIZE_SWAPPED: (H - f_w + 1, W - f_h + 1),
    }
    if max(abs(f_h - 3), abs(f_w - 3)) >= 2:  # else it looks like (and may be) an off-by-one
        candidates[KERNEL_3X3_ASSUMED] = (H - 2, W - 2)
    return {k: v for k, v in candidates.items() if tuple(v) != right}


def compare_output(fn: Callable, name: str, image, kernel, expected, *, case: str,
                   mistakes: Mapping[str, Any] | None = None, require_float: bool = False,
                   rtol: float = 1e-5, atol: float = 1e-6, note: str | None = None):
    """Call ``fn(image, kernel)`` and compare with ``expected``, naming known mistakes."""
    out = call_noting(fn, name, image, kernel, note=note or SHAPE_ASSUMED)
    known = dict(mistakes or {})
    for k, v in output_mistakes(expected).items():
        known.setdefault(k, v)
    return core.check_array(out, expected, name, inputs={"image": image, "kernel": kernel},
                            mistakes=known,
                            shape_mistakes=shape_mistakes_for(np.shape(image), np.shape(kernel)),
                            formula=FORMULA, require_float=require_float, case=case,
                            rtol=rtol, atol=atol, terms=int(np.size(kernel)),
                            scale=max(1.0, float(np.abs(np.asarray(image, dtype=float)).max())
                                      * float(np.abs(np.asarray(kernel, dtype=float)).max())))


def check_kernel(value: Any, expected, name: str, mistakes: Mapping[str, Any]) -> None:
    """Check a kernel constant (a NumPy array or nested list) against ``expected``."""
    expected = np.asarray(expected, dtype=float)
    example = "np.array([[...], [...], [...]])"
    if value is None:
        core.fail(f"`{name}` is None.", hint=f"assign the kernel to it: `{name} = {example}`.")
    if callable(value):
        core.fail(f"`{name}` is a function; it should be an array of weights.",
                  hint=f"write the numbers themselves: `{name} = {example}`.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        core.fail(f"`{name}` is {core.fmt_value(value)}, which is not a grid of numbers.",
                  hint="every row needs the same number of entries, all numbers.")
    if arr.shape != expected.shape:
        core.fail(f"`{name}` has shape {arr.shape}; expected {expected.shape}.",
                  f"Yours:\n{core.fmt_array(arr)}",
                  hint="a 3x3 kernel is a list of 3 rows with 3 numbers each, "
                       f"`{name} = {example}`.")
    if np.array_equal(arr, expected):
        return
    bad = tuple(int(i) for i in np.argwhere(arr != expected)[0])
    core.fail(f"`{name}` has the wrong weights.",
              f"First difference at index {bad}: expected {expected[bad]:g}, "
              f"yours is {arr[bad]:g}.",
              "Expected:\n" + core.fmt_array(expected),
              "Yours:\n" + core.fmt_array(arr),
              hint=core.diagnose(arr, mistakes))


def magnitude_mistakes(gx, gy, prewitt=None, scharr=None) -> dict:
    """Outputs of typical ``edge_magnitude`` mistakes, from the gradients of one image."""
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    found = {
        NO_SQRT: gx ** 2 + gy ** 2,
        ABS_SUM: np.abs(gx) + np.abs(gy),
        SAME_KERNEL_TWICE: np.sqrt(2.0) * np.abs(gx),
        GX_ONLY: np.abs(gx),
        GY_ONLY: np.abs(gy),
        SOBEL_SCALED: np.sqrt(gx ** 2 + gy ** 2) / 8,
    }
    found[GX_ONLY + " (Its sign was kept, too.)"] = gx
    found[GY_ONLY + " (Its sign was kept, too.)"] = gy
    if prewitt is not None:
        px, py = (np.asarray(p, dtype=float) for p in prewitt)
        found[PREWITT_USED] = np.sqrt(px ** 2 + py ** 2)
    if scharr is not None:
        sx, sy = (np.asarray(s, dtype=float) for s in scharr)
        found[SCHARR_USED] = np.sqrt(sx ** 2 + sy ** 2)
    return found


def compare_magnitude(fn: Callable, image, gx, gy, *, case: str, prewitt=None, scharr=None,
                      rtol: float = 1e-5, atol: float = 1e-6):
    """Call ``edge_magnitude(image)`` and compare with ``sqrt(gx**2 + gy**2)``."""
    name = "edge_magnitude"
    out = call_noting(fn, name, image, note=MAGNITUDE_DEPENDS)
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    H, W = np.shape(image)
    try:
        core.check_array(out, np.sqrt(gx ** 2 + gy ** 2), name, inputs={"image": image},
                         mistakes=magnitude_mistakes(gx, gy, prewitt, scharr),
                         shape_mistakes={HARD_CODED_4X4: (4, 4), SWAPPED_SHAPE: (W - 2, H - 2)}
                         if (H, W) != (6, 6) else {},
                         formula="(H - 2, W - 2)", require_float=True, case=case,
                         rtol=rtol, atol=atol, terms=9,
                         scale=max(1.0, 2.0 * float(np.abs(np.asarray(image, dtype=float)).max())))
    except CheckFailure as err:
        if "Likely mistake" in str(err):
            raise
        raise CheckFailure(f"{err}\nAlso check: {MAGNITUDE_DEPENDS}") from None


# ------------------------------------------------------------------ conv2d_valid
def conv2d_valid_worked_example(conv2d_valid: Callable) -> None:
    """The 6x6 example with VERTICAL_EDGE, and the bright/dark halves (spec 3.01)."""
    name = "conv2d_valid"
    compare_output(conv2d_valid, name, EXAMPLE_6X6, VERTICAL, EXAMPLE_6X6_VERTICAL,
                   case="the 6x6 worked example with VERTICAL_EDGE",
                   mistakes={FLIPPED: -EXAMPLE_6X6_VERTICAL,
                             TRANSPOSED_KERNEL: EXAMPLE_6X6_HORIZONTAL})
    compare_output(conv2d_valid, name, HALVES, VERTICAL, HALVES_VERTICAL,
                   case="a bright left half next to a dark right half",
                   mistakes={FLIPPED: -HALVES_VERTICAL,
                             TRANSPOSED_KERNEL: np.zeros((4, 4))})
    compare_output(conv2d_valid, name, HALVES_MIRRORED, VERTICAL, -HALVES_VERTICAL,
                   case="a dark left half next to a bright right half",
                   mistakes={FLIPPED: HALVES_VERTICAL,
                             TRANSPOSED_KERNEL: np.zeros((4, 4))})
    core.passed("conv2d_valid: the 6x6 worked example and both half-bright images are right.")


def conv2d_valid_any_shape(conv2d_valid: Callable) -> None:
    """Non-square images, tall and wide kernels, a kernel as large as the image, 1x1."""
    name = "conv2d_valid"
    compare_output(conv2d_valid, name, IMAGE_7X8, KERNEL_3X3, IMAGE_7X8_OUT,
                   case="a 7x8 image and an asymmetric 3x3 kernel",
                   mistakes={FLIPPED: IMAGE_7X8_FLIPPED, TRANSPOSED_KERNEL: IMAGE_7X8_TRANSPOSED})
    compare_output(conv2d_valid, name, IMAGE_4X5, KERNEL_TALL, IMAGE_4X5_TALL_OUT,
                   case="a tall 3x1 kernel", mistakes={FLIPPED: -IMAGE_4X5_TALL_OUT})
    compare_output(conv2d_valid, name, IMAGE_5X4, KERNEL_WIDE, IMAGE_5X4_WIDE_OUT,
                   case="a wide 2x3 kernel",
                   mistakes={FLIPPED: IMAGE_5X4_WIDE_FLIPPED,
                             ROWS_REVERSED: IMAGE_5X4_WIDE_ROWS_FLIPPED,
                             COLS_REVERSED: IMAGE_5X4_WIDE_COLS_FLIPPED})
    compare_output(conv2d_valid, name, IMAGE_3X4, KERNEL_3X4, IMAGE_3X4_OUT,
                   case="a kernel as large as the image (one output value)",
                   mistakes={FLIPPED: IMAGE_3X4_FLIPPED})
    compare_output(conv2d_valid, name, IMAGE_2X3, KERNEL_1X1, IMAGE_2X3_OUT,
                   case="a 1x1 kernel (it only scales the image)")
    core.passed("conv2d_valid: right shape and values for 5 image/kernel shapes.")


def conv2d_valid_float_output(conv2d_valid: Callable) -> None:
    """Integer and uint8 images give float results, neither truncated nor wrapped."""
    name = "conv2d_valid"
    compare_output(conv2d_valid, name, INT_IMAGE, FRACTION_KERNEL, INT_IMAGE_OUT,
                   case="an integer image and a kernel with fractions",
                   mistakes={TRUNCATED: np.trunc(INT_IMAGE_OUT)}, require_float=True)
    compare_output(conv2d_valid, name, UINT8_IMAGE, DIFF_KERNEL, UINT8_IMAGE_OUT,
                   case="a uint8 image (as photos are stored) with negative results",
                   mistakes={WRAPPED: UINT8_IMAGE_OUT % 256}, require_float=True)
    compare_output(conv2d_valid, name, FLOAT32_IMAGE, FLOAT_KERNEL, FLOAT32_IMAGE_OUT,
                   case="a float32 image", mistakes={TRUNCATED: np.trunc(FLOAT32_IMAGE_OUT)},
                   require_float=True)
    core.passed("conv2d_valid: float results for int64, uint8 and float32 images.")


# ------------------------------------------------------------------ convolve2d_valid
def convolve2d_valid_flips_kernel(convolve2d_valid: Callable) -> None:
    """The convolution flips the kernel in both axes before sliding it."""
    name = "convolve2d_valid"
    compare_output(convolve2d_valid, name, IMAGE_3X3, KERNEL_2X2, IMAGE_3X3_CONVOLVED,
                   case="an asymmetric 2x2 kernel",
                   mistakes={NOT_FLIPPED: IMAGE_3X3_CORRELATED,
                             TRANSPOSED_NOT_FLIPPED: IMAGE_3X3_TRANSPOSED,
                             FLIPPED_ROWS_ONLY: IMAGE_3X3_ROWS_FLIPPED,
                             FLIPPED_COLS_ONLY: IMAGE_3X3_COLS_FLIPPED})
    out = call_noting(convolve2d_valid, name, IMAGE_5X4, KERNEL_WIDE, note=SHAPE_ASSUMED)
    core.check_array(out, IMAGE_5X4_WIDE_FLIPPED, name,
                     inputs={"image": IMAGE_5X4, "kernel": KERNEL_WIDE},
                     mistakes={NOT_FLIPPED: IMAGE_5X4_WIDE_OUT,
                               FLIPPED_ROWS_ONLY: IMAGE_5X4_WIDE_ROWS_FLIPPED,
                               FLIPPED_COLS_ONLY: IMAGE_5X4_WIDE_COLS_FLIPPED,
                               **output_mistakes(IMAGE_5X4_WIDE_FLIPPED)},
                     shape_mistakes={TRANSPOSED_NOT_FLIPPED: (3, 3),
                                     **shape_mistakes_for((5, 4), (2, 3))},
                     formula=FORMULA, case="a wide 2x3 kernel")
    compare_output(convolve2d_valid, name, EXAMPLE_6X6, VERTICAL, -EXAMPLE_6X6_VERTICAL,
                   case="the 6x6 worked example with VERTICAL_EDGE",
                   mistakes={NOT_FLIPPED: EXAMPLE_6X6_VERTICAL,
                             TRANSPOSED_NOT_FLIPPED: EXAMPLE_6X6_HORIZONTAL})
    core.passed("convolve2d_valid: the kernel is flipped in both axes (3 cases).")


# ------------------------------------------------------------------ kernels
def vertical_edge_kernel(VERTICAL_EDGE: Any) -> None:
    """VERTICAL_EDGE is [[1, 0, -1]] * 3: bright on the left gives a positive response."""
    check_kernel(VERTICAL_EDGE, VERTICAL, "VERTICAL_EDGE", {
        "the signs are reversed: with +1 in the left column and -1 in the right, a "
        "bright-left/dark-right edge gives a positive response.": -VERTICAL,
        "this is HORIZONTAL_EDGE (the transpose): a vertical edge is found by "
        "comparing left and right columns.": HORIZONTAL,
        "this is SOBEL_X; VERTICAL_EDGE weighs its three rows equally.": SOBEL,
    })
    core.passed("VERTICAL_EDGE has the right weights.")


def horizontal_edge_kernel(HORIZONTAL_EDGE: Any) -> None:
    """HORIZONTAL_EDGE is [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]."""
    check_kernel(HORIZONTAL_EDGE, HORIZONTAL, "HORIZONTAL_EDGE", {
        "the signs are reversed: +1 goes in the top row and -1 in the bottom row, so "
        "bright-above/dark-below gives a positive response.": -HORIZONTAL,
        "this is VERTICAL_EDGE; HORIZONTAL_EDGE is its transpose (compare the top "
        "row with the bottom row).": VERTICAL,
    })
    core.passed("HORIZONTAL_EDGE has the right weights.")


def sobel_x_kernel(SOBEL_X: Any) -> None:
    """SOBEL_X is [[1, 0, -1], [2, 0, -2], [1, 0, -1]]."""
    check_kernel(SOBEL_X, SOBEL, "SOBEL_X", {
        "the signs are reversed: the course puts +1, +2, +1 in the left column.": -SOBEL,
        "this is the transpose (the Sobel kernel for horizontal edges): the 2s go in "
        "the middle row, [2, 0, -2].": SOBEL.T,
        "the 2s are missing: this is VERTICAL_EDGE (the Prewitt kernel).": VERTICAL,
        "the kernel was divided by 8 (normalised); keep the integer weights.": SOBEL / 8,
        "the kernel was divided by 4; keep the integer weights.": SOBEL / 4,
    })
    core.passed("SOBEL_X has the right weights.")


def scharr_x_kernel(SCHARR_X: Any) -> None:
    """SCHARR_X is [[3, 0, -3], [10, 0, -10], [3, 0, -3]]."""
    check_kernel(SCHARR_X, SCHARR, "SCHARR_X", {
        "the signs are reversed: the course puts +3, +10, +3 in the left column.": -SCHARR,
        "this is the transpose (the Scharr kernel for horizontal edges): the 10s go "
        "in the middle row, [10, 0, -10].": SCHARR.T,
        "3 and 10 are swapped: the middle row carries the large weight, "
        "[10, 0, -10].": np.array([[10, 0, -10], [3, 0, -3], [10, 0, -10]]),
        "the kernel was divided by 32 (normalised); keep the integer weights.": SCHARR / 32,
        "the kernel was divided by 16; keep the integer weights.": SCHARR / 16,
    })
    core.passed("SCHARR_X has the right weights.")


# ------------------------------------------------------------------ edge_magnitude
def edge_magnitude_small_image(edge_magnitude: Callable) -> None:
    """sqrt(gx**2 + gy**2) with the Sobel kernels, on a 6x7 staircase edge."""
    compare_magnitude(edge_magnitude, MAG_IMAGE, MAG_GX, MAG_GY,
                      case="a 6x7 image with a staircase edge",
                      prewitt=(MAG_PREWITT_GX, MAG_PREWITT_GY),
                      scharr=(MAG_SCHARR_GX, MAG_SCHARR_GY))
    core.passed("edge_magnitude: right values on a 6x7 image with a staircase edge.")


def edge_magnitude_any_shape(edge_magnitude: Callable) -> None:
    """A 3x3 image, a tall uint8 image and a wide float32 image: shape (H-2, W-2), floats."""
    compare_magnitude(edge_magnitude, TINY_IMAGE, TINY_GX, TINY_GY,
                      case="a 3x3 image (one output value)",
                      prewitt=(TINY_PREWITT_GX, TINY_PREWITT_GY),
                      scharr=(TINY_SCHARR_GX, TINY_SCHARR_GY))
    try:
        compare_magnitude(edge_magnitude, TALL_IMAGE, TALL_GX, TALL_GY,
                          case="a tall 8x5 uint8 image",
                          prewitt=(TALL_PREWITT_GX, TALL_PREWITT_GY),
                          scharr=(TALL_SCHARR_GX, TALL_SCHARR_GY))
    except CheckFailure as err:
        if "Likely mistake" in str(err) or "is not written yet" in str(err):
            raise
        raise CheckFailure(
            f"{err}\nThis image is uint8: if `conv2d_valid` keeps the image's dtype "
            "(e.g. `np.zeros_like(image)`), negative responses wrap around; its "
            "float-output test shows this.") from None
    compare_magnitude(edge_magnitude, WIDE_IMAGE, WIDE_GX, WIDE_GY,
                      case="a wide 4x9 float32 image", rtol=1e-4, atol=1e-5,
                      prewitt=(WIDE_PREWITT_GX, WIDE_PREWITT_GY),
                      scharr=(WIDE_SCHARR_GX, WIDE_SCHARR_GY))
    core.passed("edge_magnitude: right shape and values for 3x3, 8x5 uint8 and 4x9 float32 images.")

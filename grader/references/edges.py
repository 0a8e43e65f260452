"""Hidden tests for notebook 01, edge detection (2-D, one channel).

The hidden test cells of ``solutions/01_edge_detection`` call these helpers. Each
compares the student's function with a reference implementation held here (a
shift-and-add cross-correlation in float64, written independently of the
notebook's loop solution) on shapes the student has not seen: non-square images,
tall and wide kernels, kernels as large as the image, 1-row images, and integer
(uint8, int32, int64) as well as float (float32, float64) inputs. The outputs of
typical mistakes are computed with small variants of the reference and passed as
``mistakes=``, so a failing hidden test names the mistake, as the visible one does.

Every helper seeds its own generator; none reads a student's global state other
than the function or constant it is given.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from utils.checks import core
from utils.checks import edges as msg  # shared wording of the mistakes

from . import seeding

SEED = 20240101

# The course's kernels (spec 3.01): the only hand-written copy. The visible checks read a
# generated copy, utils/checks/expected.py (`python -m grader.authoring.expected`).
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
HORIZONTAL_EDGE = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float)
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
SCHARR_X = np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]], dtype=float)


# ------------------------------------------------------------------ references
def reference_xcorr(image, kernel) -> np.ndarray:
    """Valid cross-correlation in float64: a sum of shifted copies of the image,
    one per kernel weight (no loop over output positions)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    (H, W), (f_h, f_w) = image.shape, kernel.shape
    n_H, n_W = H - f_h + 1, W - f_w + 1
    out = np.zeros((n_H, n_W))
    for a in range(f_h):
        for b in range(f_w):
            out += kernel[a, b] * image[a:a + n_H, b:b + n_W]
    return out


def reference_convolve(image, kernel) -> np.ndarray:
    """Valid mathematical convolution: the cross-correlation with the kernel rotated 180°."""
    return reference_xcorr(image, np.rot90(np.asarray(kernel), 2))


def reference_edge_magnitude(image) -> np.ndarray:
    """sqrt(gx**2 + gy**2) with the grader's Sobel kernels."""
    gx = reference_xcorr(image, SOBEL_X)
    gy = reference_xcorr(image, SOBEL_X.T)
    return np.hypot(gx, gy)


# ------------------------------------------------------------------ cases
# (H, W, f_h, f_w): square and non-square images, tall/wide/1x1/full-size kernels.
FIXED_SHAPES = [
    (6, 6, 3, 3), (7, 11, 3, 3), (11, 7, 3, 3), (9, 5, 3, 1), (5, 9, 1, 3),
    (8, 8, 5, 2), (4, 10, 2, 5), (1, 7, 1, 3), (6, 1, 3, 1), (5, 5, 5, 5),
    (3, 4, 1, 1), (10, 13, 4, 4), (12, 6, 2, 2), (5, 8, 5, 1),
]


def random_shapes(rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
    """The fixed shapes plus ``n`` random ones (images up to 14x14)."""
    shapes = list(FIXED_SHAPES)
    for _ in range(n):
        H, W = (int(v) for v in rng.integers(1, 15, size=2))
        f_h, f_w = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
        shapes.append((H, W, f_h, f_w))
    return shapes


def random_image(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """A random image of ``dtype``: 0..255 for uint8, -50..50 for other ints, floats in [-2, 2)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape).astype(np.uint8)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-50, 51, size=shape).astype(dtype)
    return rng.uniform(-2, 2, size=shape).astype(dtype)


def random_kernel(rng: np.random.Generator, shape, integer: bool) -> np.ndarray:
    """Integer weights in -3..3 (as edge kernels have) or floats in steps of 0.25."""
    if integer:
        return rng.integers(-3, 4, size=shape)
    return rng.integers(-8, 9, size=shape) * 0.25


def tolerances(image: np.ndarray, kernel_shape, kernel_max: float) -> dict:
    """Tolerances fair to any float dtype: each output is a sum of f_h * f_w products.

    A correct result summed in float32 (even from float64 inputs) differs from the
    float64 reference by up to ``core.rounding_atol``; real mistakes differ by far more.
    """
    scale = max(1.0, float(np.abs(np.asarray(image, dtype=np.float64)).max(initial=0.0))
                * max(float(kernel_max), 1e-12))
    return {"rtol": 1e-6, "atol": 1e-6, "terms": int(np.prod(kernel_shape)), "scale": scale}


def xcorr_mistakes(image, kernel, expected) -> dict:
    """Outputs of typical cross-correlation mistakes on this case."""
    k = np.asarray(kernel, dtype=float)
    found = {msg.FLIPPED: reference_xcorr(image, np.rot90(k, 2)),
             msg.ROWS_REVERSED: reference_xcorr(image, k[::-1]),
             msg.COLS_REVERSED: reference_xcorr(image, k[:, ::-1])}
    if k.shape[0] == k.shape[1]:
        found[msg.TRANSPOSED_KERNEL] = reference_xcorr(image, k.T)
    found.update(msg.output_mistakes(expected))
    return found


def convolve_mistakes(image, kernel, expected) -> dict:
    """Outputs of typical convolution mistakes on this case."""
    k = np.asarray(kernel, dtype=float)
    found = {msg.NOT_FLIPPED: reference_xcorr(image, k),
             msg.FLIPPED_ROWS_ONLY: reference_xcorr(image, k[::-1]),
             msg.FLIPPED_COLS_ONLY: reference_xcorr(image, k[:, ::-1])}
    H, W = np.shape(image)
    if k.shape[1] <= H and k.shape[0] <= W:  # the transposed kernel still fits
        found[msg.TRANSPOSED_NOT_FLIPPED] = reference_xcorr(image, k.T)
    found.update(msg.output_mistakes(expected))
    return found


def _compare(fn: Callable, name: str, image, kernel, expected, mistakes, *, case: str,
             require_float: bool = False, shape_mistakes: dict | None = None) -> None:
    out = msg.call_noting(fn, name, image, kernel, note=msg.SHAPE_ASSUMED)
    shapes = msg.shape_mistakes_for(np.shape(image), np.shape(kernel))
    shapes.update(shape_mistakes or {})
    core.check_array(out, expected, name, inputs={"image": image, "kernel": kernel},
                     mistakes=mistakes, shape_mistakes=shapes, formula=msg.FORMULA,
                     require_float=require_float, case=case,
                     **tolerances(image, np.shape(kernel),
                                  float(np.abs(np.asarray(kernel, dtype=float)).max(initial=0.0))))


def _case_label(image, kernel, kind: str = "") -> str:
    return (f"a hidden {kind}{np.shape(image)[0]}x{np.shape(image)[1]} {np.asarray(image).dtype} "
            f"image with a {np.shape(kernel)[0]}x{np.shape(kernel)[1]} kernel")


# ------------------------------------------------------------------ conv2d_valid
def conv2d_valid_more_examples(conv2d_valid: Callable) -> None:
    """The spec's checkerboard with both edge kernels, and the 6x6 image with Sobel, Scharr
    and a random integer kernel."""
    rng = seeding.rng(SEED)
    checker = np.array([[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3)
    example = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                        [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])
    cases = [(checker, HORIZONTAL_EDGE, "the checkerboard with HORIZONTAL_EDGE"),
             (checker, VERTICAL_EDGE, "the checkerboard with VERTICAL_EDGE"),
             (example, SOBEL_X, "the 6x6 example with SOBEL_X"),
             (example, SCHARR_X.T, "the 6x6 example with SCHARR_X.T"),
             (example, rng.integers(-3, 4, size=(3, 3)), "the 6x6 example with a random kernel"),
             (example.T, rng.integers(-3, 4, size=(2, 3)), "the transposed 6x6 example, 2x3 kernel")]
    for image, kernel, case in cases:
        expected = reference_xcorr(image, kernel)
        _compare(conv2d_valid, "conv2d_valid", image, kernel, expected,
                 xcorr_mistakes(image, kernel, expected), case=case)
    core.passed(f"conv2d_valid: {len(cases)} more 6x6 examples match (hidden test).")


def conv2d_valid_random(conv2d_valid: Callable, n_random: int = 20) -> None:
    """Random float64 images of many shapes, square and non-square kernels."""
    rng = seeding.rng(SEED + 1)
    shapes = random_shapes(rng, n_random)
    for H, W, f_h, f_w in shapes:
        image = random_image(rng, (H, W), np.float64)
        kernel = random_kernel(rng, (f_h, f_w), integer=bool(rng.integers(0, 2)))
        expected = reference_xcorr(image, kernel)
        _compare(conv2d_valid, "conv2d_valid", image, kernel, expected,
                 xcorr_mistakes(image, kernel, expected), case=_case_label(image, kernel))
    core.passed(f"conv2d_valid: matches the reference on {len(shapes)} random shapes "
                "(hidden test).")


def conv2d_valid_dtypes(conv2d_valid: Callable) -> None:
    """uint8, int32, int64, float32 and float64 images: float output, no truncation or wrap."""
    rng = seeding.rng(SEED + 2)
    n = 0
    for dtype in (np.uint8, np.int32, np.int64, np.float32, np.float64):
        for H, W, f_h, f_w in [(7, 9, 3, 3), (10, 6, 2, 4), (5, 5, 1, 2)]:
            for integer in (True, False):
                image = random_image(rng, (H, W), dtype)
                kernel = random_kernel(rng, (f_h, f_w), integer=integer)
                expected = reference_xcorr(image, kernel)
                mistakes = xcorr_mistakes(image, kernel, expected)
                mistakes[msg.TRUNCATED] = np.trunc(expected)
                if dtype == np.uint8:
                    mistakes[msg.WRAPPED] = np.mod(expected, 256)
                _compare(conv2d_valid, "conv2d_valid", image, kernel, expected, mistakes,
                         case=_case_label(image, kernel), require_float=True)
                n += 1
    core.passed(f"conv2d_valid: float output for {n} uint8/int/float images (hidden test).")


# ------------------------------------------------------------------ convolve2d_valid
def convolve2d_valid_random(convolve2d_valid: Callable, n_random: int = 20) -> None:
    """Random shapes (mostly non-square kernels, so every partial flip shows); int64,
    float32 and float64 images."""
    rng = seeding.rng(SEED + 3)
    shapes = random_shapes(rng, n_random)
    # Integer images get integer kernels: a float-output mistake in conv2d_valid
    # (which convolve2d_valid may call) loses points in conv2d_valid's tests only.
    dtypes = (np.float64, np.int64, np.float32)
    for i, (H, W, f_h, f_w) in enumerate(shapes):
        dtype = dtypes[i % len(dtypes)]
        image = random_image(rng, (H, W), dtype)
        kernel = random_kernel(rng, (f_h, f_w),
                               integer=bool(i % 2) or np.issubdtype(dtype, np.integer))
        expected = reference_convolve(image, kernel)
        shapes_wrong = {}
        if f_h != f_w:
            shapes_wrong[msg.TRANSPOSED_NOT_FLIPPED] = (H - f_w + 1, W - f_h + 1)
        _compare(convolve2d_valid, "convolve2d_valid", image, kernel, expected,
                 convolve_mistakes(image, kernel, expected), case=_case_label(image, kernel),
                 shape_mistakes=shapes_wrong)
    core.passed(f"convolve2d_valid: matches the reference on {len(shapes)} random shapes "
                "(hidden test).")


# ------------------------------------------------------------------ kernels
def vertical_edge(VERTICAL_EDGE_: Any) -> None:
    """VERTICAL_EDGE equals the grader's kernel and is positive on a bright-to-dark step."""
    msg.check_kernel(VERTICAL_EDGE_, VERTICAL_EDGE, "VERTICAL_EDGE",
                     {"the signs are reversed.": -VERTICAL_EDGE,
                      "this is HORIZONTAL_EDGE.": HORIZONTAL_EDGE})
    _step_sign(VERTICAL_EDGE_, "VERTICAL_EDGE", np.array([[9, 9, 9, 1, 1]] * 4))
    core.passed("VERTICAL_EDGE matches the grader's kernel (hidden test).")


def horizontal_edge(HORIZONTAL_EDGE_: Any) -> None:
    """HORIZONTAL_EDGE equals the grader's kernel and is positive on a bright-above step."""
    msg.check_kernel(HORIZONTAL_EDGE_, HORIZONTAL_EDGE, "HORIZONTAL_EDGE",
                     {"the signs are reversed.": -HORIZONTAL_EDGE,
                      "this is VERTICAL_EDGE.": VERTICAL_EDGE})
    _step_sign(HORIZONTAL_EDGE_, "HORIZONTAL_EDGE",
               np.array([[9, 9, 9, 9]] * 3 + [[1, 1, 1, 1]] * 2))
    core.passed("HORIZONTAL_EDGE matches the grader's kernel (hidden test).")


def sobel_x(SOBEL_X_: Any) -> None:
    """SOBEL_X equals the grader's kernel; it is zero on a flat image."""
    msg.check_kernel(SOBEL_X_, SOBEL_X, "SOBEL_X",
                     {"the signs are reversed.": -SOBEL_X, "this is the transpose.": SOBEL_X.T,
                      "the 2s are missing (this is VERTICAL_EDGE).": VERTICAL_EDGE})
    _flat_zero(SOBEL_X_, "SOBEL_X")
    core.passed("SOBEL_X matches the grader's kernel (hidden test).")


def scharr_x(SCHARR_X_: Any) -> None:
    """SCHARR_X equals the grader's kernel; it is zero on a flat image."""
    msg.check_kernel(SCHARR_X_, SCHARR_X, "SCHARR_X",
                     {"the signs are reversed.": -SCHARR_X, "this is the transpose.": SCHARR_X.T})
    _flat_zero(SCHARR_X_, "SCHARR_X")
    core.passed("SCHARR_X matches the grader's kernel (hidden test).")


def _flat_zero(kernel: Any, name: str) -> None:
    flat = reference_xcorr(np.full((5, 5), 7.0), np.asarray(kernel, dtype=float))
    core.check_array(flat, np.zeros((3, 3)), name,
                     case="a flat image (an edge kernel's weights sum to 0)")


def _step_sign(kernel: Any, name: str, step: np.ndarray) -> None:
    """A bright-then-dark step must give a positive response everywhere it is seen."""
    response = reference_xcorr(step, np.asarray(kernel, dtype=float))
    if not (response >= 0).all() or not (response > 0).any():
        core.fail(f"`{name}` responds with the wrong sign to a bright-to-dark edge.",
                  "Response:\n" + core.fmt_array(response),
                  hint="the +1 weights go on the bright (left or top) side, -1 on the other.")


# ------------------------------------------------------------------ edge_magnitude
def _magnitude_mistakes(image) -> dict:
    gx, gy = reference_xcorr(image, SOBEL_X), reference_xcorr(image, SOBEL_X.T)
    prewitt = (reference_xcorr(image, VERTICAL_EDGE), reference_xcorr(image, HORIZONTAL_EDGE))
    scharr = (reference_xcorr(image, SCHARR_X), reference_xcorr(image, SCHARR_X.T))
    return msg.magnitude_mistakes(gx, gy, prewitt, scharr)


def _compare_magnitude(fn: Callable, image, case: str) -> None:
    expected = reference_edge_magnitude(image)
    H, W = image.shape
    out = msg.call_noting(fn, "edge_magnitude", image, note=msg.MAGNITUDE_DEPENDS)
    shapes = {msg.HARD_CODED_4X4: (4, 4), msg.SWAPPED_SHAPE: (W - 2, H - 2)}
    shapes = {k: v for k, v in shapes.items() if tuple(v) != expected.shape}
    core.check_array(out, expected, "edge_magnitude", inputs={"image": image},
                     mistakes=_magnitude_mistakes(image), shape_mistakes=shapes,
                     formula="(H - 2, W - 2)", require_float=True, case=case,
                     **tolerances(image, (3, 3), 2.0))  # Sobel weights are at most 2


def edge_magnitude_random(edge_magnitude: Callable, n_random: int = 12) -> None:
    """Random float64 images, square and non-square, from 3x3 up to 16x16."""
    rng = seeding.rng(SEED + 4)
    sizes = [(8, 11), (11, 8), (6, 6), (3, 3), (5, 12), (12, 5), (3, 9), (9, 3)]
    sizes += [tuple(int(v) for v in rng.integers(3, 17, size=2)) for _ in range(n_random)]
    for H, W in sizes:
        image = random_image(rng, (H, W), np.float64)
        _compare_magnitude(edge_magnitude, image,
                           case=f"a hidden {H}x{W} float64 image")
    core.passed(f"edge_magnitude: matches the reference on {len(sizes)} random images "
                "(hidden test).")


def edge_magnitude_dtypes(edge_magnitude: Callable) -> None:
    """uint8, int32 and float32 images of non-square shapes, plus a photo-like step edge."""
    rng = seeding.rng(SEED + 5)
    n = 0
    for dtype in (np.uint8, np.int32, np.float32, np.float64):
        for H, W in [(7, 10), (11, 4)]:
            image = random_image(rng, (H, W), dtype)
            _compare_magnitude(edge_magnitude, image,
                               case=f"a hidden {H}x{W} {np.dtype(dtype)} image")
            n += 1
    step = np.zeros((9, 8), dtype=np.uint8)
    step[:, 4:] = 255
    step[5:, :] = 255 - step[5:, :]
    _compare_magnitude(edge_magnitude, step, case="a uint8 image with 0/255 edges")
    core.passed(f"edge_magnitude: float output for {n + 1} uint8/int32/float images "
                "(hidden test).")

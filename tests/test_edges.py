"""Notebook 01 (edge detection): worked examples, and the sensitivity and fairness of
its visible checks (``utils.checks.edges``) and hidden tests (``grader.references.edges``).

Fair: every check passes a loop solution (the notebook's), vectorised ones, one that
computes in float32, and uint8/float32 inputs. Sensitive: each typical mistake fails
the checks meant to catch it, with a message that names the mistake.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader import notebook_cells as cells
from grader.references import edges as hidden
from nbtools import REPO, score_in_process, solution_namespace, solution_path
from utils.checks import CheckFailure
from utils.checks import edges as check
from utils.plotting import edges as edge_plots

STEM = "01_edge_detection"
SPEC_6X6 = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
            [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


# ------------------------------------------------------------------ implementations
def conv_einsum(image, kernel):
    """Vectorised: all windows at once, then one contraction."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    return np.einsum("ijab,ab->ij", sliding_window_view(image, kernel.shape), kernel)


def conv_shift_add(image, kernel):
    """Vectorised the other way: loop over the kernel's weights, add shifted slices."""
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel)
    (H, W), (f_h, f_w) = image.shape, kernel.shape
    out = np.zeros((H - f_h + 1, W - f_w + 1))
    for a in range(f_h):
        for b in range(f_w):
            out = out + kernel[a, b] * image[a:a + out.shape[0], b:b + out.shape[1]]
    return out


def conv_float32(image, kernel):
    """Works in float32 throughout and returns float32 (fair: any float dtype)."""
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    windows = sliding_window_view(image, kernel.shape)
    return (windows * kernel).sum(axis=(-2, -1), dtype=np.float32)


def conv_einsum_float32(image, kernel):
    """Vectorised and in float32 even for float64 images: einsum's own summation order."""
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    return np.einsum("ijab,ab->ij", sliding_window_view(image, kernel.shape), kernel)


def conv_loop_int_kernel_list(image, kernel):
    """Loops with Python lists of lists as inputs allowed (asarray), returns float64."""
    image, kernel = np.array(image, dtype=np.float64), np.array(kernel)
    f_h, f_w = kernel.shape
    rows = [[float((image[i:i + f_h, j:j + f_w] * kernel).sum())
             for j in range(image.shape[1] - f_w + 1)]
            for i in range(image.shape[0] - f_h + 1)]
    return np.array(rows).reshape(image.shape[0] - f_h + 1, image.shape[1] - f_w + 1)


def convolve_flip_view(image, kernel):
    return conv_einsum(image, np.flip(kernel))


def convolve_rot90(image, kernel):
    return conv_shift_add(image, np.rot90(np.asarray(kernel), 2))


def magnitude_hypot(image):
    return np.hypot(conv_einsum(image, SOBEL), conv_einsum(image, SOBEL.T))


def magnitude_float32(image):
    gx, gy = conv_float32(image, SOBEL), conv_float32(image, SOBEL.T)
    return np.sqrt(gx * gx + gy * gy)


CONV_IMPLS = {"einsum": conv_einsum, "shift_add": conv_shift_add, "float32": conv_float32,
              "einsum_float32": conv_einsum_float32, "list_loop": conv_loop_int_kernel_list}
CONV_CHECKS = [check.conv2d_valid_worked_example, check.conv2d_valid_any_shape,
               check.conv2d_valid_float_output, hidden.conv2d_valid_more_examples,
               hidden.conv2d_valid_random, hidden.conv2d_valid_dtypes]
CONVOLVE_CHECKS = [check.convolve2d_valid_flips_kernel, hidden.convolve2d_valid_random]
MAGNITUDE_CHECKS = [check.edge_magnitude_small_image, check.edge_magnitude_any_shape,
                    hidden.edge_magnitude_random, hidden.edge_magnitude_dtypes]
ALL_CHECKS = CONV_CHECKS + CONVOLVE_CHECKS + MAGNITUDE_CHECKS


def _name(fn):
    return f"{fn.__module__.split('.')[0]}.{fn.__name__}"


# ------------------------------------------------------------------ worked examples (spec 3.01)
def test_spec_6x6_example(ns):
    out = ns["conv2d_valid"](np.array(SPEC_6X6), ns["VERTICAL_EDGE"])
    assert out.shape == (4, 4) and np.issubdtype(out.dtype, np.floating)
    assert out.tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_spec_halves_and_sign(ns):
    bright_left = np.array([[10, 10, 10, 0, 0, 0]] * 6)
    out = ns["conv2d_valid"](bright_left, ns["VERTICAL_EDGE"])
    assert out.tolist() == [[0, 30, 30, 0]] * 4
    mirrored = ns["conv2d_valid"](bright_left[:, ::-1], ns["VERTICAL_EDGE"])
    assert mirrored.tolist() == [[0, -30, -30, 0]] * 4


def test_spec_checkerboard(ns):
    board = np.array([[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3)
    out = ns["conv2d_valid"](board, ns["HORIZONTAL_EDGE"])
    assert out.tolist() == [[0, 0, 0, 0], [30, 10, -10, -30], [30, 10, -10, -30], [0, 0, 0, 0]]


def test_spec_kernels(ns):
    assert np.asarray(ns["VERTICAL_EDGE"]).tolist() == [[1, 0, -1]] * 3
    assert np.asarray(ns["HORIZONTAL_EDGE"]).tolist() == [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
    assert np.asarray(ns["SOBEL_X"]).tolist() == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    assert np.asarray(ns["SCHARR_X"]).tolist() == [[3, 0, -3], [10, 0, -10], [3, 0, -3]]


def test_spec_convolution_flips_and_magnitude(ns):
    image = np.array(SPEC_6X6)
    assert np.array_equal(ns["convolve2d_valid"](image, ns["VERTICAL_EDGE"]),
                          -ns["conv2d_valid"](image, ns["VERTICAL_EDGE"]))
    mag = ns["edge_magnitude"](np.arange(35.0).reshape(5, 7) ** 1.5)
    assert mag.shape == (3, 5) and np.issubdtype(mag.dtype, np.floating)


def test_visible_constants_agree_with_grader_reference():
    """The constants written in utils/checks/edges.py are what the reference computes."""
    ref = hidden.reference_xcorr
    assert np.array_equal(ref(check.EXAMPLE_6X6, check.VERTICAL), check.EXAMPLE_6X6_VERTICAL)
    assert np.array_equal(ref(check.EXAMPLE_6X6, check.HORIZONTAL), check.EXAMPLE_6X6_HORIZONTAL)
    assert np.array_equal(ref(check.CHECKERBOARD, check.HORIZONTAL), check.CHECKERBOARD_HORIZONTAL)
    assert np.array_equal(ref(check.CHECKERBOARD, check.VERTICAL), check.CHECKERBOARD_VERTICAL)
    assert np.array_equal(ref(check.HALVES, check.VERTICAL), check.HALVES_VERTICAL)
    pairs = [(check.IMAGE_7X8, check.KERNEL_3X3, check.IMAGE_7X8_OUT),
             (check.IMAGE_4X5, check.KERNEL_TALL, check.IMAGE_4X5_TALL_OUT),
             (check.IMAGE_5X4, check.KERNEL_WIDE, check.IMAGE_5X4_WIDE_OUT),
             (check.IMAGE_3X4, check.KERNEL_3X4, check.IMAGE_3X4_OUT),
             (check.IMAGE_2X3, check.KERNEL_1X1, check.IMAGE_2X3_OUT),
             (check.INT_IMAGE, check.FRACTION_KERNEL, check.INT_IMAGE_OUT),
             (check.UINT8_IMAGE, check.DIFF_KERNEL, check.UINT8_IMAGE_OUT),
             (check.FLOAT32_IMAGE, check.FLOAT_KERNEL, check.FLOAT32_IMAGE_OUT),
             (check.IMAGE_3X3, check.KERNEL_2X2, check.IMAGE_3X3_CORRELATED)]
    for image, kernel, out in pairs:
        assert np.allclose(ref(image, kernel), out)
    assert np.array_equal(hidden.reference_convolve(check.IMAGE_3X3, check.KERNEL_2X2),
                          check.IMAGE_3X3_CONVOLVED)
    assert np.array_equal(hidden.reference_convolve(check.IMAGE_5X4, check.KERNEL_WIDE),
                          check.IMAGE_5X4_WIDE_FLIPPED)
    for image, gx, gy in [(check.MAG_IMAGE, check.MAG_GX, check.MAG_GY),
                          (check.TINY_IMAGE, check.TINY_GX, check.TINY_GY),
                          (check.TALL_IMAGE, check.TALL_GX, check.TALL_GY),
                          (check.WIDE_IMAGE, check.WIDE_GX, check.WIDE_GY)]:
        assert np.allclose(ref(image, SOBEL), gx) and np.allclose(ref(image, SOBEL.T), gy)
    assert np.allclose(ref(check.MAG_IMAGE, check.SCHARR), check.MAG_SCHARR_GX)


def test_mistake_constants_differ_from_the_right_answers():
    """A known mistake that equals the right answer would make a message lie."""
    for exp, wrong in [(check.EXAMPLE_6X6_VERTICAL, check.EXAMPLE_6X6_HORIZONTAL),
                       (check.IMAGE_7X8_OUT, check.IMAGE_7X8_FLIPPED),
                       (check.IMAGE_7X8_OUT, check.IMAGE_7X8_TRANSPOSED),
                       (check.IMAGE_3X3_CONVOLVED, check.IMAGE_3X3_TRANSPOSED),
                       (check.IMAGE_3X3_CONVOLVED, check.IMAGE_3X3_ROWS_FLIPPED),
                       (check.IMAGE_3X3_CONVOLVED, check.IMAGE_3X3_COLS_FLIPPED)]:
        assert not np.allclose(exp, wrong)
    mag = np.hypot(check.MAG_GX, check.MAG_GY)
    for wrong in check.magnitude_mistakes(check.MAG_GX, check.MAG_GY,
                                          (check.MAG_PREWITT_GX, check.MAG_PREWITT_GY),
                                          (check.MAG_SCHARR_GX, check.MAG_SCHARR_GY)).values():
        assert not np.allclose(mag, wrong)


# ------------------------------------------------------------------ fairness
@pytest.mark.parametrize("check_fn", CONV_CHECKS, ids=_name)
@pytest.mark.parametrize("impl", list(CONV_IMPLS), ids=str)
def test_conv_checks_pass_correct_implementations(check_fn, impl, capsys):
    check_fn(CONV_IMPLS[impl])
    assert capsys.readouterr().out.startswith("\u2714")


@pytest.mark.parametrize("check_fn", ALL_CHECKS, ids=_name)
def test_checks_pass_the_notebook_solution(check_fn, ns, capsys):
    target = {**{c: "conv2d_valid" for c in CONV_CHECKS},
              **{c: "convolve2d_valid" for c in CONVOLVE_CHECKS},
              **{c: "edge_magnitude" for c in MAGNITUDE_CHECKS}}[check_fn]
    check_fn(ns[target])
    out = capsys.readouterr().out
    assert out.startswith("\u2714") and out.count("\n") == 1


@pytest.mark.parametrize("check_fn", CONVOLVE_CHECKS, ids=_name)
@pytest.mark.parametrize("impl", [convolve_flip_view, convolve_rot90], ids=lambda f: f.__name__)
def test_convolve_checks_pass_vectorised(check_fn, impl):
    check_fn(impl)


@pytest.mark.parametrize("check_fn", MAGNITUDE_CHECKS, ids=_name)
@pytest.mark.parametrize("impl", [magnitude_hypot, magnitude_float32], ids=lambda f: f.__name__)
def test_magnitude_checks_pass_vectorised(check_fn, impl):
    check_fn(impl)


@pytest.mark.parametrize("value", [
    [[1, 0, -1]] * 3,                                   # the spec's list form
    np.array([[1.0, 0.0, -1.0]] * 3),                  # floats
    np.array([[1, 0, -1]] * 3, dtype=np.int8),
], ids=["list", "float", "int8"])
def test_vertical_edge_accepts_any_array_like(value):
    check.vertical_edge_kernel(value)
    hidden.vertical_edge(value)


def test_kernel_checks_pass_right_constants(ns):
    for visible, hid, name in [
            (check.vertical_edge_kernel, hidden.vertical_edge, "VERTICAL_EDGE"),
            (check.horizontal_edge_kernel, hidden.horizontal_edge, "HORIZONTAL_EDGE"),
            (check.sobel_x_kernel, hidden.sobel_x, "SOBEL_X"),
            (check.scharr_x_kernel, hidden.scharr_x, "SCHARR_X")]:
        visible(ns[name])
        hid(ns[name])


# ------------------------------------------------------------------ sensitivity: conv2d_valid
def _loop(image, kernel, *, flip=False, transpose=False, size_delta=0, short_loop=False,
          dtype_like_image=False, int_cast=False, fixed=None, fixed_kernel=None):
    """The notebook's loop solution with one switch per typical mistake."""
    image = np.asarray(image) if dtype_like_image else np.asarray(image, dtype=float)
    kernel = np.asarray(kernel)
    if flip:
        kernel = kernel[::-1, ::-1]
    if transpose:
        kernel = kernel.T
    (H, W), (f_h, f_w) = image.shape, np.asarray(kernel).shape
    if fixed_kernel:
        f_h = f_w = fixed_kernel
    n_H, n_W = (fixed or (H - f_h + 1 + size_delta, W - f_w + 1 + size_delta))
    out = np.zeros_like(image, shape=(n_H, n_W)) if dtype_like_image else np.zeros((n_H, n_W))
    for i in range(n_H - short_loop):
        for j in range(n_W - short_loop):
            value = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
            out[i, j] = int(value) if int_cast else value
    return out


def _mutating(image, kernel):
    image -= image.min()           # "normalising" the caller's array in place
    return conv_einsum(image, kernel)


def _no_return(image, kernel):
    conv_einsum(image, kernel)


def _stub(image, kernel):
    raise NotImplementedError()


V, WC, HC = check.conv2d_valid_worked_example, check.conv2d_valid_any_shape, check.conv2d_valid_float_output
HM, HR, HD = hidden.conv2d_valid_more_examples, hidden.conv2d_valid_random, hidden.conv2d_valid_dtypes

CONV_MISTAKES = {
    # name: (implementation, {check: text the message must contain})
    "kernel_flipped": (lambda x, k: _loop(x, k, flip=True),
                       {V: "flipped in both axes", WC: "flipped in both axes",
                        HM: "flipped in both axes", HR: "flipped in both axes"}),
    "off_by_one_size": (lambda x, k: _loop(x, k, size_delta=-1),
                        {V: "off by one", WC: "off by one", HR: "off by one"}),
    "loop_stops_early": (lambda x, k: _loop(x, k, short_loop=True),
                         {V: "never filled", WC: "never filled", HR: "never filled"}),
    "kernel_transposed": (lambda x, k: _loop(x, k, transpose=True),
                          {V: "transposed", WC: "transposed", HM: "transposed"}),
    "integer_output": (lambda x, k: _loop(x, k, dtype_like_image=True),
                       {HC: "expected a float array", HD: "expected a float array"}),
    "int_truncation": (lambda x, k: _loop(x, k, int_cast=True),
                       {HC: "truncated", HD: "truncated"}),
    "hard_coded_6x6": (lambda x, k: _loop(x, k, fixed=(4, 4)),
                       {WC: "hard-coded", HR: "hard-coded"}),
    "hard_coded_3x3_kernel": (lambda x, k: _loop(x, k, fixed_kernel=3),
                              {WC: "hard-coded to 3x3", HR: "3x3"}),
    "mutated_input": (_mutating, {WC: "changed its input", HR: "changed its input"}),
    "returns_none": (_no_return, {V: "returned None", WC: "missing a `return`",
                                  HR: "returned None"}),
    "stub": (_stub, {V: "not written yet", HR: "not written yet"}),
}


@pytest.mark.parametrize("mistake", list(CONV_MISTAKES))
def test_conv_mistakes_are_caught_and_named(mistake):
    impl, expectations = CONV_MISTAKES[mistake]
    for check_fn, text in expectations.items():
        with pytest.raises(CheckFailure) as err:
            check_fn(impl)
        assert text in str(err.value), f"{_name(check_fn)}:\n{err.value}"


@pytest.mark.parametrize("mistake", ["integer_output", "hard_coded_6x6"])
def test_conv_mistakes_lose_only_their_own_points(mistake):
    """A float-dtype slip fails only the float-output test; a hard-coded size passes the
    visible worked example (where 4x4 is right) and fails every other shape."""
    impl, _ = CONV_MISTAKES[mistake]
    passing = {"integer_output": [V, WC, HM, HR], "hard_coded_6x6": [V]}[mistake]
    for check_fn in passing:
        check_fn(impl)


def test_conv_float_messages_show_expected_vs_actual_and_index():
    impl, _ = CONV_MISTAKES["kernel_flipped"]
    with pytest.raises(CheckFailure) as err:
        check.conv2d_valid_worked_example(impl)
    text = str(err.value)
    for part in ("First mismatch at index (0, 0)", "expected -5, got 5", "Expected:", "Yours:",
                 "Likely mistake", "6x6 worked example"):
        assert part in text, text


def test_uint8_wraparound_is_named():
    """Arithmetic in uint8 (output created like the image) wraps negatives around."""
    def uint8_everything(image, kernel):
        image = np.asarray(image)
        out = conv_einsum(image, kernel)
        return np.mod(out, 256).astype(np.float64) if image.dtype == np.uint8 else out
    with pytest.raises(CheckFailure, match="wrapped around"):
        check.conv2d_valid_float_output(uint8_everything)
    with pytest.raises(CheckFailure, match="wrapped around"):
        hidden.conv2d_valid_dtypes(uint8_everything)


# ------------------------------------------------------------------ sensitivity: convolve2d_valid
def _convolve_in_place(image, kernel):
    kernel[:] = kernel[::-1, ::-1].copy()
    return conv_einsum(image, kernel)


CONVOLVE_MISTAKES = {
    "not_flipped": (conv_einsum, "not flipped"),
    "rows_only": (lambda x, k: conv_einsum(x, np.asarray(k)[::-1]), "upside down only"),
    "cols_only": (lambda x, k: conv_einsum(x, np.asarray(k)[:, ::-1]), "left-right only"),
    "transposed": (lambda x, k: conv_einsum(x, np.asarray(k).T), "transposed (`kernel.T`)"),
    "flipped_in_place": (_convolve_in_place, "changed its input"),
    "off_by_one": (lambda x, k: _loop(x, k, flip=True, size_delta=-1), "off by one"),
    "returns_none": (lambda x, k: None, "returned None"),
}


@pytest.mark.parametrize("check_fn", CONVOLVE_CHECKS, ids=_name)
@pytest.mark.parametrize("mistake", list(CONVOLVE_MISTAKES))
def test_convolve_mistakes_are_caught_and_named(mistake, check_fn):
    impl, text = CONVOLVE_MISTAKES[mistake]
    with pytest.raises(CheckFailure) as err:
        check_fn(impl)
    assert text in str(err.value), str(err.value)


# ------------------------------------------------------------------ sensitivity: kernels
VERT = np.array([[1, 0, -1]] * 3)
KERNEL_MISTAKES = [
    (check.vertical_edge_kernel, hidden.vertical_edge, -VERT, "reversed"),
    (check.vertical_edge_kernel, hidden.vertical_edge, VERT.T, "HORIZONTAL_EDGE"),
    (check.vertical_edge_kernel, hidden.vertical_edge, [[1, 0, -1]], "shape"),
    (check.vertical_edge_kernel, hidden.vertical_edge, None, "is None"),
    (check.horizontal_edge_kernel, hidden.horizontal_edge, -VERT.T, "reversed"),
    (check.horizontal_edge_kernel, hidden.horizontal_edge, VERT, "VERTICAL_EDGE"),
    (check.sobel_x_kernel, hidden.sobel_x, SOBEL.T, "transpose"),
    (check.sobel_x_kernel, hidden.sobel_x, -SOBEL, "reversed"),
    (check.sobel_x_kernel, hidden.sobel_x, VERT, "2s are missing"),
    (check.sobel_x_kernel, None, SOBEL / 8, "divided by 8"),
    (check.scharr_x_kernel, hidden.scharr_x, check.SCHARR.T, "transpose"),
    (check.scharr_x_kernel, None, [[10, 0, -10], [3, 0, -3], [10, 0, -10]], "swapped"),
    (check.scharr_x_kernel, None, check.SCHARR / 32, "divided by 32"),
]


@pytest.mark.parametrize("visible,hid,value,text", KERNEL_MISTAKES,
                         ids=[f"{v.__name__}-{t}" for v, _, _, t in KERNEL_MISTAKES])
def test_kernel_mistakes_are_caught_and_named(visible, hid, value, text):
    with pytest.raises(CheckFailure) as err:
        visible(value)
    assert text in str(err.value), str(err.value)
    if hid is not None:
        with pytest.raises(CheckFailure):
            hid(value)


# ------------------------------------------------------------------ sensitivity: edge_magnitude
def _gradients(image, kx=SOBEL):
    return conv_einsum(image, kx), conv_einsum(image, np.asarray(kx).T)


def _mag_hard_coded(image):
    """Loops written for the 6x6 example: a 4x4 output whatever the image."""
    image = np.asarray(image, dtype=float)
    gx, gy = np.zeros((4, 4)), np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            gx[i, j] = np.sum(image[i:i + 3, j:j + 3] * SOBEL)
            gy[i, j] = np.sum(image[i:i + 3, j:j + 3] * SOBEL.T)
    return np.sqrt(gx ** 2 + gy ** 2)


MAGNITUDE_MISTAKES = {
    "no_sqrt": (lambda x: sum(g ** 2 for g in _gradients(x)), "square root is missing"),
    "abs_sum": (lambda x: sum(np.abs(g) for g in _gradients(x)), "|gx| + |gy|"),
    "gx_only": (lambda x: np.abs(_gradients(x)[0]), "only gx"),
    "same_kernel_twice": (lambda x: np.sqrt(2 * conv_einsum(x, SOBEL) ** 2), "SOBEL_X.T"),
    "prewitt": (lambda x: np.hypot(*_gradients(x, VERT)), "VERTICAL_EDGE and HORIZONTAL_EDGE"),
    "scharr": (lambda x: np.hypot(*_gradients(x, check.SCHARR)), "SCHARR_X was used"),
    "sobel_scaled": (lambda x: np.hypot(*_gradients(x, SOBEL / 8)), "8 times too small"),
    "int_output": (lambda x: magnitude_hypot(x).astype(int), "expected a float array"),
    "returns_none": (lambda x: None, "returned None"),
}


@pytest.mark.parametrize("check_fn", MAGNITUDE_CHECKS, ids=_name)
@pytest.mark.parametrize("mistake", list(MAGNITUDE_MISTAKES))
def test_magnitude_mistakes_are_caught_and_named(mistake, check_fn):
    impl, text = MAGNITUDE_MISTAKES[mistake]
    with pytest.raises(CheckFailure) as err:
        check_fn(impl)
    assert text in str(err.value), str(err.value)


def test_magnitude_hard_coded_size_is_named():
    with pytest.raises(CheckFailure, match="hard-coded"):
        check.edge_magnitude_small_image(_mag_hard_coded)
    with pytest.raises(CheckFailure, match="hard-coded"):
        hidden.edge_magnitude_random(_mag_hard_coded)


def test_magnitude_with_uint8_conv_gets_a_dtype_note():
    """A conv2d_valid that keeps uint8 spoils edge_magnitude; the message says where to look."""
    def wrapped_magnitude(image):
        image = np.asarray(image)
        gx, gy = _gradients(image)
        if image.dtype == np.uint8:
            gx, gy = np.mod(gx, 256), np.mod(gy, 256)
        return np.hypot(gx, gy)
    with pytest.raises(CheckFailure, match="uint8"):
        check.edge_magnitude_any_shape(wrapped_magnitude)
    check.edge_magnitude_small_image(wrapped_magnitude)   # int64 image: unaffected


def test_magnitude_is_fair_to_sign_and_axis_conventions():
    """Flipped or transposed Sobel kernels give the same magnitude: full marks."""
    flipped = lambda x: np.hypot(conv_einsum(x, -SOBEL), conv_einsum(x, -SOBEL.T))  # noqa: E731
    for check_fn in MAGNITUDE_CHECKS:
        check_fn(flipped)


# ------------------------------------------------------------------ notebook and example class
def _test_cells():
    nb = cells.read(solution_path(STEM))
    return nb, list(cells.iter_cells(nb, "test"))


def test_notebook_layout():
    nb, tests = _test_cells()
    ids = [cells.nbgrader_meta(c)["grade_id"] for c in tests]
    assert ids == ["conv2d_valid_worked_example", "conv2d_valid_any_shape",
                   "conv2d_valid_float_output", "vertical_edge_kernel", "horizontal_edge_kernel",
                   "convolve2d_valid_flips_kernel", "sobel_x_kernel", "scharr_x_kernel",
                   "edge_magnitude_small_image", "edge_magnitude_any_shape"]
    assert cells.total_points(nb) == 15
    for c in tests:
        lines = c.source.splitlines()
        assert lines[0].startswith('"""') and lines[0].endswith('"""')
        assert lines[1].startswith("check.")
        assert "### BEGIN HIDDEN TESTS" in c.source
    assert "Learning" in nb.cells[0].source or "After this notebook" in nb.cells[0].source
    assert "Key points" in nb.cells[-1].source and "Exercises" in nb.cells[-1].source
    setup = nb.cells[1].source
    assert "default_rng(0)" in setup and "import *" not in setup


def test_typical_mistakes_student_gets_partial_marks(capsys):
    from grader.authoring.example_class import parse_mistakes
    path = REPO / "data" / "example_class" / "typical_mistakes" / f"{STEM}.py"
    answers = parse_mistakes(Path(path))
    nb, _ = _test_cells()
    answer_ids = {cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")}
    assert answers and set(answers) <= answer_ids
    points, total, failed = score_in_process(STEM, answers)
    assert 0 < points < total
    assert set(failed) == {"convolve2d_valid_flips_kernel", "vertical_edge_kernel",
                           "edge_magnitude_small_image", "edge_magnitude_any_shape"}
    full, total, failed = score_in_process(STEM)
    assert full == total == 15 and failed == []


# ------------------------------------------------------------------ figures
def test_figures_draw():
    fig = edge_plots.show_sliding_window(check.EXAMPLE_6X6, check.VERTICAL, 1, 2,
                                         output=check.EXAMPLE_6X6_VERTICAL)
    assert len(fig.axes) == 4 and "= 2" in fig._suptitle.get_text()
    texts = [t.get_text() for t in fig.axes[3].texts]
    assert texts.count("?") == 16 - 7 and "2" in texts
    fig = edge_plots.show_conv_equation(check.HALVES, check.VERTICAL, check.HALVES_VERTICAL)
    assert len(fig.axes) == 3
    fig = edge_plots.show_kernel_flip(np.arange(9).reshape(3, 3))
    assert [t.get_text() for t in fig.axes[1].texts][0] == "8"
    photo = np.random.default_rng(0).random((20, 30))
    fig = edge_plots.show_edge_maps(photo, {"gx": photo[1:-1, 1:-1] - 0.5,
                                            "mag": np.abs(photo[1:-1, 1:-1])})
    assert len([a for a in fig.axes if a.images]) == 3
    fig = edge_plots.show_kernel_learning({0: np.zeros((3, 3)), 5: SOBEL}, [1.0, 0.1, 0.01],
                                          target=SOBEL)
    assert len(fig.axes) == 4


def test_sliding_window_rejects_bad_position():
    with pytest.raises(ValueError, match="outside"):
        edge_plots.show_sliding_window(check.EXAMPLE_6X6, check.VERTICAL, 4, 0)


def test_utils_holds_no_solution():
    """utils/checks/edges.py and utils/plotting/edges.py hold no cross-correlation loop."""
    for rel in ("utils/checks/edges.py", "utils/plotting/edges.py"):
        src = (REPO / rel).read_text(encoding="utf-8")
        assert not re.search(r"sliding_window_view|einsum|for a in range\(f_h\)", src), rel
        assert "def conv2d_valid(" not in src and "def edge_magnitude(" not in src


# ------------------------------------------------------------------ fairness across students
@pytest.mark.parametrize("student", [f"student-{i}" for i in range(40)])
def test_float32_einsum_gets_every_hidden_case_right_for_every_student(student):
    """Hidden inputs differ per student; a correct float32 sum must pass for all of them.

    (With tolerances that ignored the number of summed terms, about one student in ten
    lost these points for a correct answer.)
    """
    from grader.references import seeding

    for check_fn in (hidden.conv2d_valid_more_examples, hidden.conv2d_valid_random,
                     hidden.conv2d_valid_dtypes):
        with seeding.for_test(b"fairness-test-secret", STEM, check_fn.__name__, student):
            check_fn(conv_einsum_float32)

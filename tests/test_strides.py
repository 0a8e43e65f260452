"""Notebook 03 (strides): spec facts, and checks/hidden tests that are fair and sensitive."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader.references import strides as hidden
from nbtools import solution_namespace
from utils.checks import strides as check
from utils.checks.core import CheckFailure
from utils.plotting import strides as stride_plots

NS = solution_namespace("03_strides")
SPEC_IMAGE = np.array([[2, 3, 7, 4, 6, 2, 9], [6, 6, 9, 8, 7, 4, 3], [3, 4, 8, 3, 8, 9, 7],
                       [7, 8, 3, 6, 6, 3, 4], [4, 2, 1, 8, 3, 4, 6], [3, 2, 4, 1, 9, 8, 3],
                       [0, 1, 3, 9, 2, 1, 4]])
SPEC_KERNEL = np.array([[3, 4, 4], [1, 0, 2], [-1, 0, 3]])
SPEC_RESULT = [[91, 100, 88], [69, 91, 117], [44, 72, 74]]


# ------------------------------------------------------------------ spec facts
def test_spec_7x7_3x3_stride_2_is_3x3():
    assert NS["conv_output_size"](7, 3, pad=0, stride=2) == 3
    assert NS["conv2d"](np.zeros((7, 7)), np.zeros((3, 3)), stride=2).shape == (3, 3)


def test_spec_worked_example_values_exactly():
    out = NS["conv2d"](SPEC_IMAGE, SPEC_KERNEL, stride=2)
    np.testing.assert_array_equal(out, SPEC_RESULT)
    np.testing.assert_array_equal(hidden.reference_conv2d(SPEC_IMAGE, SPEC_KERNEL, 2),
                                  SPEC_RESULT)


def test_spec_slide_is_wrong_in_exactly_two_places():
    slide = np.array([[91, 100, 83], [69, 91, 127], [44, 72, 74]])
    out = NS["conv2d"](SPEC_IMAGE, SPEC_KERNEL, stride=2)
    assert [tuple(ix) for ix in np.argwhere(out != slide)] == [(0, 2), (1, 2)]
    assert out[0, 2] == 88 and out[1, 2] == 117


def test_spec_output_size_formula_facts():
    size = NS["conv_output_size"]
    assert size(6, 3) == 4                    # valid 6x6 * 3x3
    assert size(6, 3, pad=1) == 6             # same padding
    assert size(8, 3, stride=2) == 3          # floor
    assert isinstance(size(8, 3, stride=2), int)


def test_visible_constants_match_the_reference():
    """The constants in utils/checks/strides.py agree with the independent reference."""
    ref = hidden.reference_conv2d
    np.testing.assert_array_equal(ref(check.STRIDE_IMAGE, check.STRIDE_KERNEL, 2),
                                  check._STRIDE_2)
    np.testing.assert_array_equal(ref(check.STRIDE_IMAGE, check.STRIDE_KERNEL), check._STRIDE_1)
    np.testing.assert_array_equal(ref(check._PAD_IMAGE, check._PAD_KERNEL, 1, 1), check._PAD_1)
    np.testing.assert_array_equal(ref(check._PAD_IMAGE, check._PAD_KERNEL, 2, 1),
                                  check._PAD_1_S2)
    np.testing.assert_array_equal(ref(check._PAIR_IMAGE, check._PAIR_KERNEL, (1, 2), (0, 1)),
                                  check._PAIR)
    for n, f, pad, stride, expected, _ in check._SIZE_WORKED + check._SIZE_FLOOR:
        assert hidden.reference_size(n, f, pad, stride) == expected


# ------------------------------------------------------------------ correct styles
def size_floor_div(n, f, pad=0, stride=1):
    return (n + 2 * pad - f) // stride + 1


def size_math_floor(n, f, pad=0, stride=1):
    return math.floor((n + 2 * pad - f) / stride) + 1


def size_numpy(n, f, pad=0, stride=1):
    return np.int64(np.floor_divide(n + 2 * pad - f, stride) + 1)


def _pairs(stride, pad):
    s = (stride, stride) if np.isscalar(stride) else tuple(stride)
    p = (pad, pad) if np.isscalar(pad) else tuple(pad)
    return s, p


def conv2d_vectorised(image, kernel, stride=1, pad=0):
    (s_v, s_h), (p_v, p_h) = _pairs(stride, pad)
    padded = np.pad(np.asarray(image, dtype=float), ((p_v, p_v), (p_h, p_h)))
    windows = sliding_window_view(padded, np.shape(kernel))[::s_v, ::s_h]
    return np.tensordot(windows, kernel, axes=([2, 3], [0, 1]))


def conv2d_float32_loops(image, kernel, stride=1, pad=0):
    (s_v, s_h), (p_v, p_h) = _pairs(stride, pad)
    n_h, n_w = image.shape
    f_h, f_w = kernel.shape
    padded = np.zeros((n_h + 2 * p_v, n_w + 2 * p_h), dtype=np.float32)
    padded[p_v:p_v + n_h, p_h:p_h + n_w] = image
    out_h = size_math_floor(n_h, f_h, p_v, s_v)
    out_w = size_math_floor(n_w, f_w, p_h, s_h)
    out = np.zeros((out_h, out_w), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            for a in range(f_h):
                for b in range(f_w):
                    out[i, j] += padded[i * s_v + a, j * s_h + b] * kernel[a, b]
    return out


def conv2d_int_output_for_int_inputs(image, kernel, stride=1, pad=0):
    """Keeps an int dtype when both inputs are ints (exact), float otherwise."""
    out = conv2d_vectorised(image, kernel, stride, pad)
    if np.issubdtype(np.asarray(image).dtype, np.integer) and \
            np.issubdtype(np.asarray(kernel).dtype, np.integer):
        return np.rint(out).astype(np.int64)
    return out


SIZE_CHECKS = [check.conv_output_size_worked_examples, check.conv_output_size_floor,
               hidden.conv_output_size_random, hidden.conv_output_size_random_floor]
CONV_CHECKS = [check.conv2d_stride_worked_example, check.conv2d_zero_padding,
               check.conv2d_pairs, hidden.conv2d_random_strides, hidden.conv2d_random_padding,
               hidden.conv2d_random_pairs]


@pytest.mark.parametrize("fn", [NS["conv_output_size"], size_floor_div, size_math_floor,
                                size_numpy], ids=lambda f: f.__name__)
@pytest.mark.parametrize("run", SIZE_CHECKS, ids=lambda f: f.__name__)
def test_conv_output_size_correct_styles_pass(run, fn, capsys):
    run(fn)
    assert "\u2714" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [NS["conv2d"], conv2d_vectorised, conv2d_float32_loops,
                                conv2d_int_output_for_int_inputs], ids=lambda f: f.__name__)
@pytest.mark.parametrize("run", CONV_CHECKS, ids=lambda f: f.__name__)
def test_conv2d_correct_styles_pass(run, fn, capsys):
    run(fn)
    assert "\u2714" in capsys.readouterr().out


# ------------------------------------------------------------------ typical mistakes: size
def size_no_plus_one(n, f, pad=0, stride=1):
    return (n + 2 * pad - f) // stride


def size_true_division(n, f, pad=0, stride=1):
    return (n + 2 * pad - f) / stride + 1


def size_ceil(n, f, pad=0, stride=1):
    return math.ceil((n + 2 * pad - f) / stride) + 1


def size_round(n, f, pad=0, stride=1):
    return round((n + 2 * pad - f) / stride) + 1


def size_pad_once(n, f, pad=0, stride=1):
    return (n + pad - f) // stride + 1


def size_pad_ignored(n, f, pad=0, stride=1):
    return (n - f) // stride + 1


def size_stride_ignored(n, f, pad=0, stride=1):
    return n + 2 * pad - f + 1


def size_plus_one_inside(n, f, pad=0, stride=1):
    return (n + 2 * pad - f + 1) // stride


def size_f_hard_coded(n, f, pad=0, stride=1):
    return (n + 2 * pad - 3) // stride + 1


def size_np_floor_float(n, f, pad=0, stride=1):
    return np.floor((n + 2 * pad - f) / stride) + 1


SIZE_MISTAKES = [
    (size_no_plus_one, check.conv_output_size_worked_examples, "`+ 1` is missing"),
    (size_no_plus_one, hidden.conv_output_size_random, "`+ 1` is missing"),
    (size_true_division, check.conv_output_size_worked_examples, "expected an int"),
    (size_true_division, check.conv_output_size_floor, "floor division"),
    (size_true_division, hidden.conv_output_size_random_floor, "floor division"),
    (size_np_floor_float, check.conv_output_size_worked_examples, "expected an int"),
    (size_ceil, check.conv_output_size_floor, "rounded up"),
    (size_ceil, hidden.conv_output_size_random_floor, "rounded up"),
    (size_round, check.conv_output_size_floor, "rounded up (or to the nearest"),
    (size_pad_once, check.conv_output_size_worked_examples, "counted once"),
    (size_pad_once, hidden.conv_output_size_random, "counted once"),
    (size_pad_ignored, check.conv_output_size_worked_examples, "padding was ignored"),
    (size_pad_ignored, hidden.conv_output_size_random, "padding was ignored"),
    (size_stride_ignored, check.conv_output_size_worked_examples, "stride was ignored"),
    (size_stride_ignored, hidden.conv_output_size_random, "stride was ignored"),
    (size_plus_one_inside, check.conv_output_size_worked_examples, "before dividing"),
    (size_plus_one_inside, hidden.conv_output_size_random_floor, "before dividing"),
    (size_f_hard_coded, check.conv_output_size_worked_examples, "hard-coded"),
    (size_f_hard_coded, hidden.conv_output_size_random, "hard-coded"),
]


@pytest.mark.parametrize("fn, run, words", SIZE_MISTAKES,
                         ids=[f"{f.__name__}-{r.__name__}" for f, r, _ in SIZE_MISTAKES])
def test_conv_output_size_mistakes_fail_with_named_cause(fn, run, words):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    message = str(err.value)
    assert words in message, message
    assert "conv_output_size" in message


# ------------------------------------------------------------------ typical mistakes: conv2d
def _loop_conv(image, kernel, pos, size, pad=(0, 0), mode="constant", window=None,
               out_dtype=float):
    """A loop convolution whose window positions/sizes are given as functions (for mistakes)."""
    p_v, p_h = pad
    padded = np.pad(np.asarray(image), ((p_v, p_v), (p_h, p_h)), mode=mode)
    f_h, f_w = np.shape(kernel)
    n_h, n_w = size(padded.shape, (f_h, f_w))
    out = np.zeros((n_h, n_w), dtype=out_dtype)
    for i in range(n_h):
        for j in range(n_w):
            top, left = pos(i, j)
            w_h, w_w = window or (f_h, f_w)
            out[i, j] = np.sum(padded[top:top + w_h, left:left + w_w] * kernel)
    return out


def _sizes(s_v, s_h):
    return lambda shape, f: ((shape[0] - f[0]) // s_v + 1, (shape[1] - f[1]) // s_h + 1)


def conv_flipped(image, kernel, stride=1, pad=0):
    return conv2d_vectorised(image, np.asarray(kernel)[::-1, ::-1], stride, pad)


def conv_stride_ignored(image, kernel, stride=1, pad=0):
    return conv2d_vectorised(image, kernel, 1, pad)


def conv_only_vertical(image, kernel, stride=1, pad=0):
    (s_v, _), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i * s_v, j), _sizes(s_v, 1), p)


def conv_only_horizontal(image, kernel, stride=1, pad=0):
    (_, s_h), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i, j * s_h), _sizes(1, s_h), p)


def conv_stride_in_window(image, kernel, stride=1, pad=0):
    (s_v, s_h), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i, j), _sizes(s_v, s_h), p)


def conv_window_is_stride(image, kernel, stride=1, pad=0):
    (s_v, s_h), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i * s_v, j * s_h), _sizes(s_v, s_h), p,
                      window=(s_v, s_h))


def conv_square_window(image, kernel, stride=1, pad=0):
    (s_v, s_h), p = _pairs(stride, pad)
    f = np.shape(kernel)[0]
    return _loop_conv(image, kernel, lambda i, j: (i * s_v, j * s_h), _sizes(s_v, s_h), p,
                      window=(f, f))


def conv_pad_ignored(image, kernel, stride=1, pad=0):
    return conv2d_vectorised(image, kernel, stride, 0)


def conv_pad_swapped(image, kernel, stride=1, pad=0):
    _, (p_v, p_h) = _pairs(stride, pad)
    return conv2d_vectorised(image, kernel, stride, (p_h, p_v))


def conv_pad_before_after(image, kernel, stride=1, pad=0):
    (s_v, s_h), (p_v, p_h) = _pairs(stride, pad)
    padded = np.pad(image, (p_v, p_h))  # the pair read as (before, after)
    return conv2d_vectorised(padded, kernel, stride, 0)


def conv_stride_swapped(image, kernel, stride=1, pad=0):
    (s_v, s_h), _ = _pairs(stride, pad)
    return conv2d_vectorised(image, kernel, (s_h, s_v), pad)


def conv_stride_first_only(image, kernel, stride=1, pad=0):
    (s_v, _), _ = _pairs(stride, pad)
    return conv2d_vectorised(image, kernel, s_v, pad)


def conv_edge_padding(image, kernel, stride=1, pad=0):
    (s_v, s_h), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i * s_v, j * s_h), _sizes(s_v, s_h), p,
                      mode="edge")


def conv_int_output(image, kernel, stride=1, pad=0):
    (s_v, s_h), p = _pairs(stride, pad)
    return _loop_conv(image, kernel, lambda i, j: (i * s_v, j * s_h), _sizes(s_v, s_h), p,
                      out_dtype=np.asarray(image).dtype)


def conv_hard_coded(image, kernel, stride=1, pad=0):
    out = np.zeros((3, 3))  # the worked example's output size, typed in
    (s_v, s_h), (p_v, p_h) = _pairs(stride, pad)
    padded = np.pad(image, ((p_v, p_v), (p_h, p_h)))
    f_h, f_w = kernel.shape
    for i in range(3):
        for j in range(3):
            out[i, j] = np.sum(padded[i * s_v:i * s_v + f_h, j * s_h:j * s_h + f_w] * kernel)
    return out


def conv_mutates_kernel(image, kernel, stride=1, pad=0):
    out = conv2d_vectorised(image, kernel, stride, pad)
    kernel[...] = kernel[::-1, ::-1].copy()  # "flip back" in place: changes the caller's array
    return out


CONV_MISTAKES = [
    (conv_flipped, check.conv2d_stride_worked_example, "kernel is flipped"),
    (conv_flipped, check.conv2d_zero_padding, "kernel is flipped"),
    (conv_flipped, check.conv2d_pairs, "kernel is flipped"),
    (conv_flipped, hidden.conv2d_random_strides, "kernel is flipped"),
    (conv_stride_ignored, check.conv2d_stride_worked_example, "stride was ignored"),
    (conv_stride_ignored, hidden.conv2d_random_strides, "stride was ignored"),
    (conv_only_vertical, check.conv2d_stride_worked_example, "only vertically"),
    (conv_only_vertical, hidden.conv2d_random_strides, "only vertically"),
    (conv_only_horizontal, check.conv2d_stride_worked_example, "only horizontally"),
    (conv_only_horizontal, hidden.conv2d_random_strides, "only horizontally"),
    (conv_stride_in_window, check.conv2d_stride_worked_example, "not the window's position"),
    (conv_stride_in_window, hidden.conv2d_random_strides, "not the window's position"),
    (conv_window_is_stride, check.conv2d_stride_worked_example, "not the kernel's size"),
    (conv_window_is_stride, hidden.conv2d_random_pairs, "not the kernel's size"),
    (conv_square_window, check.conv2d_pairs, "not the kernel's size"),
    (conv_pad_ignored, check.conv2d_zero_padding, "padding was ignored"),
    (conv_pad_ignored, hidden.conv2d_random_padding, "padding was ignored"),
    (conv_pad_swapped, check.conv2d_pairs, "pad = (vertical, horizontal) was used the other"),
    (conv_pad_swapped, hidden.conv2d_random_pairs, "pad = (vertical, horizontal) was used"),
    (conv_pad_before_after, check.conv2d_pairs, "(before, after)"),
    (conv_pad_before_after, hidden.conv2d_random_pairs, "(before, after)"),
    (conv_stride_swapped, check.conv2d_pairs, "stride = (vertical, horizontal) was used"),
    (conv_stride_swapped, hidden.conv2d_random_pairs, "stride = (vertical, horizontal) was"),
    (conv_stride_first_only, check.conv2d_pairs, "stride[1] was not used"),
    (conv_stride_first_only, hidden.conv2d_random_pairs, "stride[1] was not used"),
    (conv_edge_padding, check.conv2d_zero_padding, "not padded with zeros"),
    (conv_edge_padding, hidden.conv2d_random_padding, "not padded with zeros"),
    (conv_int_output, hidden.conv2d_random_strides, "integer dtype"),
    (conv_hard_coded, check.conv2d_stride_worked_example, "hard-coded"),
    (conv_hard_coded, hidden.conv2d_random_padding, "hard-coded"),
    (conv_mutates_kernel, check.conv2d_stride_worked_example, "changed its input argument #2"),
    (conv_mutates_kernel, hidden.conv2d_random_pairs, "changed its input argument #2"),
]


@pytest.mark.parametrize("fn, run, words", CONV_MISTAKES,
                         ids=[f"{f.__name__}-{r.__name__}" for f, r, _ in CONV_MISTAKES])
def test_conv2d_mistakes_fail_with_named_cause(fn, run, words):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    message = str(err.value)
    assert words in message, message
    assert message.startswith("`conv2d`")


def test_conv2d_value_message_shows_index_and_both_arrays():
    with pytest.raises(CheckFailure) as err:
        check.conv2d_stride_worked_example(conv_flipped)
    message = str(err.value)
    assert "First mismatch at index (0, 0): expected 91, got 72" in message
    assert "Expected:" in message and "Yours:" in message
    assert "image = array of shape (7, 7)" in message and "stride = 2" in message


def test_slide_values_are_named():
    def copies_the_slide(image, kernel, stride=1, pad=0):
        return np.array([[91, 100, 83], [69, 91, 127], [44, 72, 74]])
    with pytest.raises(CheckFailure, match="lecture slide"):
        check.conv2d_stride_worked_example(copies_the_slide)


def test_stubs_give_not_written_yet():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for run in SIZE_CHECKS + CONV_CHECKS:
        with pytest.raises(CheckFailure, match="not written yet"):
            run(stub)


# ------------------------------------------------------------------ figures
def test_show_windows_marks_windows_off_the_edge():
    ax = stride_plots.show_windows(7, 7, 3, stride=2, pad=0, out_shape=(4, 3))
    assert "off the edge" in ax.get_xlabel()
    ax = stride_plots.show_windows(7, 7, 3, stride=2, pad=0, out_shape=(3, 3))
    assert "off the edge" not in ax.get_xlabel()
    ax = stride_plots.show_windows(8, 8, 3, stride=2, pad=0, out_shape=(3, 3))
    assert "no window reads" in ax.get_xlabel()


def test_show_windows_outlines_few_windows_on_the_grid():
    """Dense (stride-1) windows: only 4 are outlined, each set in from its cells by a small
    margin, so every outline stays within the f x f block of cells it stands for."""
    import matplotlib.pyplot as plt
    ax = stride_plots.show_windows(7, 7, 3, stride=1, pad=0, out_shape=(5, 5))
    outlines = [p for p in ax.patches if not p.get_fill()
                and p.get_linewidth() > 2]
    assert len(outlines) == 4
    for p in outlines:
        x, y = p.get_xy()
        left, top = round(x), round(y)     # the window's top-left cell
        assert 0 < x + 0.5 - left <= 0.2 and 0 < y + 0.5 - top <= 0.2
        assert p.get_width() > 2.5 and p.get_height() > 2.5
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["0,0", "0,1", "1,0", "4,4"]
    assert "4 of the 25 windows" in ax.get_xlabel()
    with pytest.raises(ValueError, match="outline"):
        stride_plots.show_windows(7, 7, 3, stride=1, pad=0, out_shape=(5, 5), outline="some")
    plt.close("all")


def test_show_strided_step_writes_the_products():
    out = np.array(SPEC_RESULT)
    fig = stride_plots.show_strided_step(SPEC_IMAGE, SPEC_KERNEL, out, 2, (1, 2))
    assert fig._suptitle.get_text().endswith("= 117")

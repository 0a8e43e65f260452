"""Visible checks for notebook 03 (strides): ``conv_output_size`` and ``conv2d``.

Inputs, expected outputs and the outputs of typical mistakes are constants
written out here; nothing in this module computes a convolution or an output
size. The mistake descriptions are shared with ``grader/references/strides.py``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .core import CheckFailure, call, check_array, check_scalar, passed
from .core import group_alternatives

__all__ = ["conv_output_size_worked_examples", "conv_output_size_floor",
           "conv2d_stride_worked_example", "conv2d_zero_padding", "conv2d_pairs",
           "call_conv2d", "CheckFailure"]

# ------------------------------------------------------------ mistake names: sizes
SIZE_NO_PLUS_ONE = ("off by one: the `+ 1` is missing. The window's first position counts "
                    "too: floor((n + 2*pad - f) / stride) + 1.")
SIZE_PLUS_ONE_INSIDE = ("the `+ 1` was added before dividing by the stride; it belongs "
                        "outside: floor((n + 2*pad - f) / stride) + 1.")
SIZE_CEIL = ("rounded up (or to the nearest whole number) instead of down: a window that "
             "would stick out past the padded border is not used, so take the floor (`//`).")
SIZE_PAD_ONCE = ("the padding was counted once; it is added on both sides: n + 2*pad.")
SIZE_PAD_IGNORED = "the padding was ignored: the padded size is n + 2*pad."
SIZE_STRIDE_IGNORED = ("the stride was ignored: the window jumps `stride` pixels at a time, "
                       "so divide (n + 2*pad - f) by stride (with `//`).")
SIZE_F_HARD_CODED = "the filter size is hard-coded (to 3); use the argument f."

# ------------------------------------------------------------ mistake names: conv2d
KERNEL_FLIPPED = ("the kernel is flipped (rotated by 180 degrees): that is the mathematical "
                  "convolution of notebook 01. Deep learning's 'convolution' multiplies "
                  "window[a, b] by kernel[a, b], with no flip.")
STRIDE_IGNORED = ("the stride was ignored: the window moved one pixel at a time; move it "
                  "`stride` rows down and `stride` columns across.")
STRIDE_ONLY_VERTICAL = ("the stride was applied only vertically (down the rows): the window "
                        "must also jump the horizontal stride across the columns "
                        "(left = j * stride_h).")
STRIDE_ONLY_HORIZONTAL = ("the stride was applied only horizontally (across the columns): the "
                          "window must also jump the vertical stride down the rows "
                          "(top = i * stride_v).")
STRIDE_SWAPPED = ("stride = (vertical, horizontal) was used the other way round: stride[0] "
                  "moves the window down the rows, stride[1] across the columns.")
STRIDE_FIRST_ONLY = ("the horizontal stride stride[1] was not used (stride[0] was used on "
                     "both axes, or the columns were not strided): left = j * stride[1].")
STRIDE_SECOND_ONLY = ("the vertical stride stride[0] was not used (stride[1] was used on "
                      "both axes, or the rows were not strided): top = i * stride[0].")
STRIDE_IN_WINDOW = ("the stride set the output size but not the window's position: output "
                    "(i, j) reads the window whose top-left corner is (i * stride_v, "
                    "j * stride_h), not (i, j). The stride moves the window; the window is "
                    "always f_h x f_w.")
WINDOW_SIZE = ("the window slice is not the kernel's size: take image[top:top + f_h, "
               "left:left + f_w] with f_h, f_w = kernel.shape (the stride changes where the "
               "window starts, never how big it is).")
PAD_IGNORED = ("the padding was ignored: add `pad` rows of zeros above and below and `pad` "
               "columns left and right before sliding the window.")
PAD_SWAPPED = ("pad = (vertical, horizontal) was used the other way round: pad[0] adds rows "
               "(top and bottom), pad[1] adds columns (left and right).")
PAD_FIRST_ONLY = "only pad[0] was used, on both axes; pad[1] pads the columns."
PAD_SECOND_ONLY = "only pad[1] was used, on both axes; pad[0] pads the rows."
PAD_DOUBLE = ("2 * pad zeros were added on each side; pad is the width on ONE side.")
PAD_AS_BEFORE_AFTER = ("pad = (pad_v, pad_h) was handed to np.pad as (before, after) widths "
                       "of both axes; use ((pad_v, pad_v), (pad_h, pad_h)).")
PAD_NONZERO = ("the border was not padded with zeros (e.g. np.pad mode='edge' repeats the "
               "edge pixels); zero padding uses np.pad's default mode='constant'.")
INT_TRUNCATED = ("the output has an integer dtype (e.g. np.zeros_like(image) on an int image), "
                 "so fractional sums were cut off; make the output float with np.zeros(shape).")
SHAPE_HARD_CODED = ("the output shape is hard-coded to the worked example's (3, 3); compute "
                    "it from the image, kernel, stride and pad.")
SLIDE_VALUES = ("these are the numbers of a widely copied lecture slide (83 at the top right, "
                "127 in the middle right), which are wrong: compute every entry.")

SIZE_FORMULA = "floor((n + 2*pad - f) / stride) + 1 on each axis"

# ------------------------------------------------------------ conv_output_size cases
# (n, f, pad, stride, expected, {mistake: the value it gives})
_SIZE_WORKED = [
    (6, 3, 0, 1, 4, {SIZE_NO_PLUS_ONE: 3}),
    (6, 3, 1, 1, 6, {SIZE_NO_PLUS_ONE: 5, SIZE_PAD_ONCE: 5, SIZE_PAD_IGNORED: 4}),
    (7, 3, 0, 2, 3, {SIZE_NO_PLUS_ONE: 2, SIZE_PLUS_ONE_INSIDE: 2, SIZE_STRIDE_IGNORED: 5}),
    (5, 5, 2, 1, 5, {SIZE_NO_PLUS_ONE: 4, SIZE_PAD_ONCE: 3, SIZE_PAD_IGNORED: 1,
                     SIZE_F_HARD_CODED: 7}),
    (10, 3, 1, 3, 4, {SIZE_NO_PLUS_ONE: 3, SIZE_PLUS_ONE_INSIDE: 3, SIZE_PAD_ONCE: 3,
                      SIZE_PAD_IGNORED: 3, SIZE_STRIDE_IGNORED: 10}),
    (28, 5, 0, 1, 24, {SIZE_NO_PLUS_ONE: 23, SIZE_F_HARD_CODED: 26}),
]
_SIZE_FLOOR = [
    (8, 3, 0, 2, 3, {SIZE_NO_PLUS_ONE: 2, SIZE_CEIL: 4, SIZE_STRIDE_IGNORED: 6}),
    (9, 4, 0, 2, 3, {SIZE_NO_PLUS_ONE: 2, SIZE_CEIL: 4, SIZE_STRIDE_IGNORED: 6}),
    (15, 5, 2, 4, 4, {SIZE_NO_PLUS_ONE: 3, SIZE_PLUS_ONE_INSIDE: 3, SIZE_CEIL: 5,
                      SIZE_PAD_IGNORED: 3, SIZE_STRIDE_IGNORED: 15}),
    (7, 2, 0, 3, 2, {SIZE_NO_PLUS_ONE: 1, SIZE_CEIL: 3, SIZE_STRIDE_IGNORED: 6}),
    (6, 3, 1, 4, 2, {SIZE_NO_PLUS_ONE: 1, SIZE_PLUS_ONE_INSIDE: 1, SIZE_CEIL: 3,
                     SIZE_PAD_IGNORED: 1, SIZE_STRIDE_IGNORED: 6}),
]


def _size_cases(conv_output_size, cases) -> None:
    for n, f, pad, stride, expected, mistakes in cases:
        out = call(conv_output_size, n, f, pad=pad, stride=stride, name="conv_output_size")
        check_scalar(out, expected, "conv_output_size",
                     inputs={"n": n, "f": f, "pad": pad, "stride": stride},
                     integer=True, mistakes=group_alternatives(mistakes))


def conv_output_size_worked_examples(conv_output_size) -> None:
    """Sizes where the stride divides evenly, plus the default pad=0, stride=1."""
    _size_cases(conv_output_size, _SIZE_WORKED)
    out = call(conv_output_size, 6, 3, name="conv_output_size")
    check_scalar(out, 4, "conv_output_size",
                 inputs={"n": 6, "f": 3, "pad, stride": "left out (defaults 0 and 1)"},
                 integer=True, mistakes={SIZE_NO_PLUS_ONE: 3})
    passed("conv_output_size: 6*3 -> 4, same padding 6 -> 6, 7*3 stride 2 -> 3, "
           "and three more")


def conv_output_size_floor(conv_output_size) -> None:
    """Sizes where the stride does not divide evenly: the result is floored, and an int."""
    _size_cases(conv_output_size, _SIZE_FLOOR)
    passed("conv_output_size rounds down and returns an int when the stride does not "
           "divide evenly (5 cases)")


# ------------------------------------------------------------ conv2d helpers
def call_conv2d(conv2d: Callable, image, kernel, **kwargs) -> Any:
    """Call ``conv2d`` (via :func:`core.call`) and explain a window-size broadcast error."""
    try:
        return call(conv2d, image, kernel, name="conv2d", **kwargs)
    except CheckFailure as err:
        text = str(err)
        if "could not be broadcast" in text or "operands could not" in text:
            raise CheckFailure(f"{text}\nLikely mistake: {WINDOW_SIZE}") from None
        raise


def _conv2d_case(conv2d, image, kernel, expected, *, kwargs: Mapping[str, Any],
                 mistakes: Mapping[str, Any] | None = None,
                 shape_mistakes: Mapping[str, Sequence[int]] | None = None,
                 case: str) -> None:
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    out = call_conv2d(conv2d, image, kernel, **kwargs)
    inputs = {"image": image, "kernel": kernel, **kwargs}
    scale = max(1.0, float(np.abs(image.astype(float)).max(initial=0.0))
                * float(np.abs(kernel.astype(float)).max(initial=0.0)))
    check_array(out, expected, "conv2d", inputs=inputs, mistakes=mistakes,
                shape_mistakes=shape_mistakes, formula=SIZE_FORMULA, case=case,
                terms=int(kernel.size), scale=scale)


# ------------------------------------------------------------ conv2d: stride
#: the 7 x 7 image and 3 x 3 kernel of the course's stride example
STRIDE_IMAGE = [[2, 3, 7, 4, 6, 2, 9], [6, 6, 9, 8, 7, 4, 3], [3, 4, 8, 3, 8, 9, 7],
                [7, 8, 3, 6, 6, 3, 4], [4, 2, 1, 8, 3, 4, 6], [3, 2, 4, 1, 9, 8, 3],
                [0, 1, 3, 9, 2, 1, 4]]
STRIDE_KERNEL = [[3, 4, 4], [1, 0, 2], [-1, 0, 3]]
_STRIDE_2 = [[91, 100, 88], [69, 91, 117], [44, 72, 74]]
_STRIDE_2_FLIPPED = [[72, 108, 115], [45, 73, 79], [34, 71, 48]]
_STRIDE_2_AT_I = [[91, 80, 100], [99, 106, 126], [69, 98, 91]]
_STRIDE_2_SLIDE = [[91, 100, 83], [69, 91, 127], [44, 72, 74]]
_STRIDE_1 = [[91, 80, 100, 84, 88], [99, 106, 126, 92, 77], [69, 98, 91, 93, 117],
             [80, 79, 87, 93, 61], [44, 72, 72, 63, 74]]
_STRIDE_1_FLIPPED = [[72, 82, 108, 101, 115], [92, 83, 98, 92, 89], [45, 67, 73, 71, 79],
                     [59, 57, 55, 99, 103], [34, 46, 71, 77, 48]]


def conv2d_stride_worked_example(conv2d) -> None:
    """The 7x7 image and 3x3 kernel with stride 2 give the 3x3 result; the defaults give 5x5."""
    _conv2d_case(conv2d, STRIDE_IMAGE, STRIDE_KERNEL, _STRIDE_2, kwargs={"stride": 2},
                 mistakes={KERNEL_FLIPPED: _STRIDE_2_FLIPPED, STRIDE_IN_WINDOW: _STRIDE_2_AT_I,
                           SLIDE_VALUES: _STRIDE_2_SLIDE},
                 shape_mistakes={STRIDE_IGNORED: (5, 5), STRIDE_ONLY_VERTICAL: (3, 5),
                                 STRIDE_ONLY_HORIZONTAL: (5, 3)},
                 case="the 7x7 worked example, stride 2")
    _conv2d_case(conv2d, STRIDE_IMAGE, STRIDE_KERNEL, _STRIDE_1, kwargs={},
                 mistakes={KERNEL_FLIPPED: _STRIDE_1_FLIPPED},
                 shape_mistakes={SHAPE_HARD_CODED: (3, 3)},
                 case="the 7x7 worked example with the defaults (stride=1, pad=0)")
    passed("conv2d: 7x7 * 3x3 with stride 2 gives [[91, 100, 88], [69, 91, 117], "
           "[44, 72, 74]]; the defaults give the 5x5 valid result")


# ------------------------------------------------------------ conv2d: zero padding
_PAD_IMAGE = [[1, 2, 0, 3, 1], [0, 1, 2, 1, 0], [2, 0, 1, 0, 3], [1, 1, 0, 2, 1]]
_PAD_KERNEL = [[1, 0, -1], [2, 1, 0], [0, 1, 1]]
_PAD_1 = [[2, 7, 7, 4, 7], [0, 3, 4, 7, 8], [3, 3, 3, 7, 5], [1, 4, 2, 0, 5]]
_PAD_1_EDGE = [[3, 8, 6, 3, 9], [1, 3, 4, 7, 10], [7, 3, 3, 7, 6], [7, 5, 4, 3, 4]]
_PAD_1_FLIPPED = [[6, 4, 6, 3, 0], [3, 7, 6, 6, 4], [3, 2, 5, 10, 2], [5, 3, 5, 5, 4]]
_PAD_1_S2 = [[2, 7, 7], [3, 3, 5]]
_PAD_1_S2_AT_I = [[2, 7, 7], [0, 3, 4]]
_PAD_1_S2_FLIPPED = [[6, 6, 0], [3, 5, 2]]
_PAD_1_S2_EDGE = [[3, 6, 9], [7, 3, 6]]


def conv2d_zero_padding(conv2d) -> None:
    """A 4x5 image, 3x3 kernel, pad=1: 'same' 4x5 output; with stride 2 as well: 2x3."""
    _conv2d_case(conv2d, _PAD_IMAGE, _PAD_KERNEL, _PAD_1, kwargs={"pad": 1},
                 mistakes={PAD_NONZERO: _PAD_1_EDGE, KERNEL_FLIPPED: _PAD_1_FLIPPED},
                 shape_mistakes={PAD_IGNORED: (2, 3), PAD_DOUBLE: (6, 7),
                                 SHAPE_HARD_CODED: (3, 3)},
                 case="a 4x5 image, 3x3 kernel, pad=1")
    _conv2d_case(conv2d, _PAD_IMAGE, _PAD_KERNEL, _PAD_1_S2, kwargs={"stride": 2, "pad": 1},
                 mistakes={STRIDE_IN_WINDOW: _PAD_1_S2_AT_I, KERNEL_FLIPPED: _PAD_1_S2_FLIPPED,
                           PAD_NONZERO: _PAD_1_S2_EDGE},
                 shape_mistakes={PAD_IGNORED: (1, 2), STRIDE_IGNORED: (4, 5),
                                 STRIDE_ONLY_VERTICAL: (2, 5), STRIDE_ONLY_HORIZONTAL: (4, 3),
                                 SHAPE_HARD_CODED: (3, 3)},
                 case="a 4x5 image, 3x3 kernel, stride=2, pad=1")
    passed("conv2d pads with zeros: pad=1 keeps a 4x5 image 4x5, and stride=2 with pad=1 "
           "gives 2x3")


# ------------------------------------------------------------ conv2d: (vertical, horizontal)
_PAIR_IMAGE = [[3, 1, 0, 2, 5, 1], [1, 4, 2, 0, 1, 3], [0, 2, 6, 1, 2, 0],
               [2, 1, 0, 3, 1, 4], [1, 0, 2, 2, 0, 1]]
_PAIR_KERNEL = [[1, 2, 0], [-1, 0, 1]]
_PAIR = [[10, -3, 15], [4, 7, 1], [1, 16, 6], [4, 3, 4]]
_PAIR_FLIPPED = [[5, 3, 6], [-2, 17, 1], [3, 4, 7], [1, 4, 0]]
_PAIR_AT_J = [[10, 6, -3], [4, 15, 7], [1, 2, 16], [4, 5, 3]]
_PAIR_EDGE = [[12, -3, 15], [5, 7, 1], [-1, 16, 6], [5, 3, 4]]


def conv2d_pairs(conv2d) -> None:
    """A 5x6 image, 2x3 kernel, stride=(1, 2), pad=(0, 1): a 4x3 output."""
    _conv2d_case(conv2d, _PAIR_IMAGE, _PAIR_KERNEL, _PAIR,
                 kwargs={"stride": (1, 2), "pad": (0, 1)},
                 mistakes={KERNEL_FLIPPED: _PAIR_FLIPPED, STRIDE_IN_WINDOW: _PAIR_AT_J,
                           PAD_NONZERO: _PAIR_EDGE},
                 shape_mistakes={STRIDE_SWAPPED: (2, 6), PAD_SWAPPED: (6, 2),
                                 STRIDE_FIRST_ONLY: (4, 6), STRIDE_SECOND_ONLY: (2, 3),
                                 PAD_FIRST_ONLY: (4, 2), PAD_SECOND_ONLY: (6, 3),
                                 PAD_AS_BEFORE_AFTER: (5, 3),
                                 SHAPE_HARD_CODED: (3, 3)},
                 case="a 5x6 image, 2x3 kernel, stride=(1, 2), pad=(0, 1)")
    passed("conv2d reads stride and pad as (vertical, horizontal) pairs, with a non-square "
           "kernel")

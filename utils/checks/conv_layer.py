"""Visible checks for notebook 04: convolutions over volumes and one convolutional layer.

Every check uses small fixed inputs and compares with expected outputs written
here as constants. The outputs that typical mistakes give are constants too, so a
failing check can name the mistake. No graded function is solved in this module.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import core

SIZE_FORMULA = ("n_H = (n_H_prev + 2*pad - f) // stride + 1, "
                "n_W = (n_W_prev + 2*pad - f) // stride + 1, n_C = W.shape[3]")

# ------------------------------------------------------------ likely mistakes
# (shared with grader/references/conv_layer.py, so visible and hidden messages agree)
NO_BIAS = "the bias was forgotten: add `b` once to every output value."
BIAS_PER_ELEMENT = ("the bias was added to every element of the slice (inside the sum), "
                    "so it counts f*f*n_C_prev times; add it once, after summing.")
BIAS_OF_FILTER_0 = ("every filter used the bias of filter 0; filter c needs its own "
                    "bias `b[0, 0, 0, c]` (or `b[..., c]`).")
SINGLE_MEAN = "the mean was taken instead of the sum (`np.mean` instead of `np.sum`)."
FIRST_CHANNEL = ("only the first input channel was used; the slice and the filter are "
                 "(f, f, n_C_prev): multiply and sum over all channels.")
RELU_INSIDE = ("a ReLU was applied inside conv_forward; it returns the linear output Z "
               "(the activation is a separate step, `relu(Z)`).")
KERNEL_FLIPPED = ("the filter is flipped (mathematical convolution); deep learning "
                  "multiplies the slice by W as it is (cross-correlation).")
STRIDE_IGNORED = ("the stride was ignored when cutting the slice: output (h, w) starts at "
                  "row h*stride, column w*stride, not at row h, column w.")
STRIDE_IGNORED_VERTICAL = ("the stride was ignored on the vertical axis only: "
                           "vert_start must be h * stride.")
STRIDE_IGNORED_HORIZONTAL = ("the stride was ignored on the horizontal axis only: "
                             "horiz_start must be w * stride.")
FIRST_EXAMPLE = ("only the first example of the batch was used (every output example "
                 "equals example 0): take the slice from A_prev_pad[i], not A_prev_pad[0].")
FIRST_EXAMPLE_ONLY = ("only the first example of the batch was computed (the loop over "
                      "the m examples is missing or stops early).")
PAD_BATCH = ("the padding was also applied to the batch axis (the first examples became "
             "all zeros): pad only the two spatial axes, "
             "`np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))`.")
PAD_CHANNELS = ("the padding was applied to the batch and/or channel axis too "
                "(`np.pad(A_prev, pad)` pads all four axes), so the slices have "
                "n_C_prev + 2*pad channels: pad only the two spatial axes, "
                "`np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))`.")
SHAPE_STRIDE = f"the stride was left out of the output size: {SIZE_FORMULA}."
SHAPE_PAD = f"the padding was left out of the output size: {SIZE_FORMULA}."
SHAPE_ONE_SIDE = ("the padding was counted once; it is added on both sides: "
                  f"{SIZE_FORMULA}.")
SHAPE_CHANNELS = ("the output has n_C_prev channels; it has one channel per filter, "
                  "n_C = W.shape[3].")
SHAPE_NO_BATCH = "the batch axis is missing: Z has shape (m, n_H, n_W, n_C)."
HARD_CODED = ("the shape of another example was returned: the sizes look hard-coded; "
              "compute m, n_H, n_W and n_C from A_prev.shape, W.shape, pad and stride.")
RELU_ABS = "the absolute value was taken; ReLU sets negative values to 0 (max(Z, 0))."
RELU_MIN = "the minimum was taken (min(Z, 0)); ReLU keeps the positive part: max(Z, 0)."
RELU_CLIP = ("the values were clipped to [0, 1]; ReLU has no upper limit: large "
             "positive values pass unchanged.")
RELU_AT_ONE = "the values were clipped at 1 (max(Z, 1)); ReLU clips at 0: max(Z, 0)."
RELU_STEP = ("a 0/1 step was returned (Z > 0, the derivative of ReLU); return the "
             "values themselves: max(Z, 0).")
PARAMS_NO_BIAS = "the n_C biases were left out: each filter has one bias."
PARAMS_ONE_BIAS = "only one bias was counted for the layer; each of the n_C filters has one."
PARAMS_NO_CHANNELS = ("n_C_prev was left out: each filter has f*f*n_C_prev weights "
                      "(one f x f kernel per input channel).")
PARAMS_BIAS_PER_CHANNEL = ("a bias was counted per input channel; each filter has one "
                           "bias: (f*f*n_C_prev + 1) * n_C.")

# ------------------------------------------------------------ fixed inputs
# conv_single_step: a 3x3x2 slice, its filter, and a bias of shape (1, 1, 1)
SLICE = np.array([[[1, -2], [0, 3], [2, 1]],
                  [[-1, 0], [4, -3], [1, 2]],
                  [[0, 1], [-2, 2], [3, 0]]], dtype=float)
SLICE_W = np.array([[[0.5, 1], [-1, 0], [2, -0.5]],
                    [[1, 1], [0, 2], [-1, 0]],
                    [[0.5, -1], [1, 0.5], [0, 1]]])
SLICE_B = np.array([[[-0.25]]])
# relu: negative, zero, small and large positive values
RELU_Z = np.array([[-3.0, -0.5, 0.0, 0.25, 1.0, 2.5]])


def worked_example_inputs():
    """The 6x6x3 image (one example) and two 3x3x3 filters of the worked example."""
    A = (np.arange(108).reshape(1, 6, 6, 3) * 37) % 11 - 5
    W = ((np.arange(54).reshape(3, 3, 3, 2) * 13) % 5 - 2).astype(float)
    b = np.array([0.5, -1.5]).reshape(1, 1, 1, 2)
    return A, W, b


def stride_pad_batch_inputs():
    """Two 4x5x2 examples, three 3x3x2 filters, stride 2, pad 1."""
    A = ((np.arange(80).reshape(2, 4, 5, 2) * 7) % 9 - 4).astype(float)
    W = ((np.arange(54).reshape(3, 3, 2, 3) * 5) % 7 - 3).astype(float)
    b = np.array([1.0, -2.0, 0.5]).reshape(1, 1, 1, 3)
    return A, W, b, {"stride": 2, "pad": 1}


# ------------------------------------------------------------ shared helpers
def unpack_forward(result: Any, name: str = "conv_forward", what: str = "(Z, cache)"):
    """Split a ``(Z, cache)`` result, failing clearly on any other return value."""
    if result is None:
        core.fail(f"`{name}` returned None.",
                  hint=f"end the function with `return {what.strip('()')}`.")
    if not isinstance(result, tuple) or len(result) != 2:
        kind = type(result).__name__
        extra = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        core.fail(f"`{name}` returned a {kind}{extra}; expected a pair {what}.",
                  hint=f"return both: `return {what.strip('()')}`.")
    return result


def check_cache(cache: Any, A_prev, W, b, hparameters: Mapping, name: str = "conv_forward"):
    """The cache must be ``(A_prev, W, b, hparameters)``: the inputs as given, in order."""
    want = "(A_prev, W, b, hparameters)"
    if not isinstance(cache, tuple) or len(cache) != 4:
        size = f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        core.fail(f"`{name}` returned a wrong cache: a {type(cache).__name__}{size}.",
                  f"Expected the tuple {want}.",
                  hint="return `Z, (A_prev, W, b, hparameters)`; the backward pass needs "
                       "exactly these four.")
    names = ["A_prev", "W", "b"]
    refs = [A_prev, W, b]
    for i, (label, ref) in enumerate(zip(names, refs)):
        got = cache[i]
        if isinstance(got, np.ndarray) and got.shape == np.shape(ref) \
                and np.array_equal(got, ref):
            continue
        hint = f"cache[{i}] must be {label} as it was passed in."
        if i == 0 and isinstance(got, np.ndarray) and got.ndim == 4 \
                and got.shape[1:3] != np.shape(ref)[1:3] and got.shape[0] == np.shape(ref)[0]:
            hint = ("the cache holds the padded input; store the original A_prev "
                    "(the backward pass pads it again).")
        else:
            for j, other in enumerate(refs):
                if j != i and isinstance(got, np.ndarray) and got.shape == np.shape(other) \
                        and np.array_equal(got, other):
                    hint = f"the cache is in the wrong order: it must be {want}."
        shape = getattr(got, "shape", None)
        core.fail(f"`{name}` returned a wrong cache: cache[{i}] is not {label}.",
                  f"cache[{i}]: {type(got).__name__}"
                  + (f" of shape {shape}" if shape is not None else ""),
                  f"Expected {label} of shape {np.shape(ref)}.", hint=hint)
    if not isinstance(cache[3], Mapping) or dict(cache[3]) != dict(hparameters):
        core.fail(f"`{name}` returned a wrong cache: cache[3] is not hparameters.",
                  f"cache[3]: {core.fmt_value(cache[3])}",
                  f"Expected: {dict(hparameters)!r}",
                  hint=f"the cache is {want}; keep the hparameters dict as given.")


def check_single_step_result(out: Any, expected: float, mistakes: Mapping[str, float],
                             inputs: Mapping[str, Any], tol: float = 1e-8) -> None:
    """``conv_single_step`` must return one number equal to ``expected``."""
    arr = np.asarray(out) if out is not None else None
    if arr is not None and arr.shape not in ((),) and arr.size == 1:
        core.fail(f"`conv_single_step` returned an array of shape {arr.shape}; expected "
                  "a single number.",
                  f"Inputs:\n{core.describe_case(inputs)}",
                  hint="b has shape (1, 1, 1), so `np.sum(...) + b` is a (1, 1, 1) array: "
                       "add `b.item()` (a plain number) instead, or return "
                       "`float(np.squeeze(...))`.")
    core.check_scalar(out, expected, "conv_single_step", inputs=inputs, mistakes=mistakes,
                      rtol=tol, atol=tol)


def call_forward(fn, A_prev, W, b, hparameters, name: str = "conv_forward"):
    """Call ``conv_forward`` on copies; name the likely cause when it crashes only with padding.

    When the call raises and ``pad > 0``, the same call with ``pad = 0`` is tried: if
    that one runs, the padding is what breaks, most often because ``np.pad`` padded
    the batch or channel axis too.
    """
    try:
        return core.call(fn, A_prev, W, b, dict(hparameters), name=name)
    except core.CheckFailure as err:
        if err.__cause__ is None or not hparameters.get("pad", 0):
            raise
        try:
            fn(np.array(A_prev), np.array(W), np.array(b), dict(hparameters, pad=0))
        except Exception:  # noqa: BLE001 - it fails without padding too: another cause
            raise err from err.__cause__
        raise core.CheckFailure(f"{err}\nIt runs with pad = 0 and fails with pad = "
                                f"{hparameters['pad']}.\nLikely mistake: {PAD_CHANNELS}"
                                ) from err.__cause__


def check_relu_case(relu, Z: np.ndarray, expected, mistakes: Mapping[str, Any]) -> None:
    """Values of ``relu(Z)``, a new array, and ``Z`` left unchanged."""
    out = core.call(relu, Z, name="relu")  # fails when Z was changed in place
    mine = np.array(Z)  # call once more on an array we hold, to see what comes back
    back = relu(mine)
    if back is mine or (isinstance(back, np.ndarray) and np.shares_memory(back, mine)):
        core.fail("`relu` returned its input array itself (or a view of it).",
                  "It must return a new array and leave Z as it was.",
                  hint="compute into a new array, e.g. with `np.maximum`, instead of "
                       "modifying Z and returning it.")
    core.check_array(out, expected, "relu", inputs={"Z": Z}, mistakes=mistakes,
                     case=f"an array of shape {Z.shape}")


# ------------------------------------------------------------ expected outputs
# Written out (computed once with Keras Conv2D); the mistakes' outputs likewise.
SLICE_EXPECTED = -8.25
SLICE_MISTAKES = {NO_BIAS: -8.0, BIAS_PER_ELEMENT: -12.5, SINGLE_MEAN: -0.6944444444444444,
                  FIRST_CHANNEL: 0.25}
WORKED_Z = np.array([[[[-14.5, -35.5], [-17.5, -21.5], [23.5, -40.5], [42.5, -26.5]], [[-10.5,
    59.5], [-24.5, 40.5], [-38.5, 21.5], [-19.5, -19.5]], [[-17.5, -21.5], [23.5, -40.5],
    [42.5, -26.5], [61.5, -12.5]], [[-24.5, 40.5], [-38.5, 21.5], [-19.5, -19.5], [-33.5,
    -16.5]]]])
WORKED_MISTAKES = {
    NO_BIAS: np.array([[[[-15, -34], [-18, -20], [23, -39], [42, -25]], [[-11, 61], [-25, 42],
        [-39, 23], [-20, -18]], [[-18, -20], [23, -39], [42, -25], [61, -11]], [[-25, 42],
        [-39, 23], [-20, -18], [-34, -15]]]]),
    BIAS_PER_ELEMENT: np.array([[[[-1.5, -74.5], [-4.5, -60.5], [36.5, -79.5], [55.5, -65.5]],
        [[2.5, 20.5], [-11.5, 1.5], [-25.5, -17.5], [-6.5, -58.5]], [[-4.5, -60.5], [36.5,
        -79.5], [55.5, -65.5], [74.5, -51.5]], [[-11.5, 1.5], [-25.5, -17.5], [-6.5, -58.5],
        [-20.5, -55.5]]]]),
    BIAS_OF_FILTER_0: np.array([[[[-14.5, -33.5], [-17.5, -19.5], [23.5, -38.5], [42.5,
        -24.5]], [[-10.5, 61.5], [-24.5, 42.5], [-38.5, 23.5], [-19.5, -17.5]], [[-17.5,
        -19.5], [23.5, -38.5], [42.5, -24.5], [61.5, -10.5]], [[-24.5, 42.5], [-38.5, 23.5],
        [-19.5, -17.5], [-33.5, -14.5]]]]),
    RELU_INSIDE: np.array([[[[0, 0], [0, 0], [23.5, 0], [42.5, 0]], [[0, 59.5], [0, 40.5], [0,
        21.5], [0, 0]], [[0, 0], [23.5, 0], [42.5, 0], [61.5, 0]], [[0, 40.5], [0, 21.5], [0,
        0], [0, 0]]]]),
    KERNEL_FLIPPED: np.array([[[[-14.5, 19.5], [37.5, -21.5], [12.5, 3.5], [-1.5, -15.5]],
        [[-10.5, 4.5], [-13.5, -3.5], [5.5, 10.5], [-19.5, 35.5]], [[37.5, -21.5], [12.5, 3.5],
        [-1.5, -15.5], [6.5, -12.5]], [[-13.5, -3.5], [5.5, 10.5], [-19.5, 35.5], [21.5,
        -16.5]]]]),
    FIRST_CHANNEL: np.array([[[[0.5, -11.5], [0.5, -9.5], [0.5, -7.5], [22.5, -16.5]], [[0.5,
        11.5], [0.5, 13.5], [-21.5, 15.5], [0.5, -26.5]], [[0.5, -9.5], [0.5, -7.5], [22.5,
        -16.5], [22.5, 7.5]], [[0.5, 13.5], [-21.5, 15.5], [0.5, -26.5], [-21.5, -2.5]]]]),
}
SPB_Z = np.array([[[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5, -6.5]], [[-1, -31, 7.5], [-5, -8,
    15.5], [8, -4, 10.5]]], [[[-13, -9, 7.5], [15, -3, -1.5], [12, 14, -6.5]], [[-7, -4, 25.5],
    [7, 1, 21.5], [-1, 5, 16.5]]]])
SPB_MISTAKES = {
    NO_BIAS: np.array([[[[-6, -4, -2], [-19, -11, 11], [14, 7, -7]], [[-2, -29, 7], [-6, -6,
        15], [7, -2, 10]]], [[[-14, -7, 7], [14, -1, -2], [11, 16, -7]], [[-8, -2, 25], [6, 3,
        21], [-2, 7, 16]]]]),
    BIAS_PER_ELEMENT: np.array([[[[12, -40, 7], [-1, -47, 20], [32, -29, 2]], [[16, -65, 16],
        [12, -42, 24], [25, -38, 19]]], [[[4, -43, 16], [32, -37, 7], [29, -20, 2]], [[10, -38,
        34], [24, -33, 30], [16, -29, 25]]]]),
    BIAS_OF_FILTER_0: np.array([[[[-5, -3, -1], [-18, -10, 12], [15, 8, -6]], [[-1, -28, 8],
        [-5, -5, 16], [8, -1, 11]]], [[[-13, -6, 8], [15, 0, -1], [12, 17, -6]], [[-7, -1, 26],
        [7, 4, 22], [-1, 8, 17]]]]),
    RELU_INSIDE: np.array([[[[0, 0, 0], [0, 0, 11.5], [15, 5, 0]], [[0, 0, 7.5], [0, 0, 15.5],
        [8, 0, 10.5]]], [[[0, 0, 7.5], [15, 0, 0], [12, 14, 0]], [[0, 0, 25.5], [7, 1, 21.5],
        [0, 5, 16.5]]]]),
    KERNEL_FLIPPED: np.array([[[[18, -46, 7.5], [1, -43, 30.5], [9, 6, 1.5]], [[-58, 38, -0.5],
        [0, 18, -42.5], [-3, 20, 13.5]]], [[[9, -43, 15.5], [14, 10, -2.5], [9, -3, 4.5]],
        [[-13, 11, 5.5], [3, 18, 17.5], [-9, 11, 22.5]]]]),
    FIRST_CHANNEL: np.array([[[[1, -7, -2.5], [-4, -6, 4.5], [23, -14, -3.5]], [[-6, -15, 9.5],
        [-1, 3, -8.5], [-18, 19, 5.5]]], [[[-5, -7, 3.5], [22, -23, 7.5], [23, -8, -5.5]],
        [[-3, 8, -3.5], [-14, 29, -6.5], [-22, 24, 5.5]]]]),
    STRIDE_IGNORED: np.array([[[[-5, -6, -1.5], [-3, -18, -13.5], [-18, -13, 11.5]], [[-4, 14,
        16.5], [22, 1, 6.5], [1, 19, 0.5]]], [[[-13, -9, 7.5], [-6, 19, 0.5], [15, -3, -1.5]],
        [[-10, 23, -1.5], [16, -8, -5.5], [-14, 1, -20.5]]]]),
    STRIDE_IGNORED_VERTICAL: np.array([[[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5, -6.5]],
        [[-4, 14, 16.5], [1, 19, 0.5], [-19, -4, -4.5]]], [[[-13, -9, 7.5], [15, -3, -1.5],
        [12, 14, -6.5]], [[-10, 23, -1.5], [-14, 1, -20.5], [-28, 5, 1.5]]]]),
    STRIDE_IGNORED_HORIZONTAL: np.array([[[[-5, -6, -1.5], [-3, -18, -13.5], [-18, -13, 11.5]],
        [[-1, -31, 7.5], [-20, 1, -14.5], [-5, -8, 15.5]]], [[[-13, -9, 7.5], [-6, 19, 0.5],
        [15, -3, -1.5]], [[-7, -4, 25.5], [1, 19, 0.5], [7, 1, 21.5]]]]),
    FIRST_EXAMPLE: np.array([[[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5, -6.5]], [[-1, -31,
        7.5], [-5, -8, 15.5], [8, -4, 10.5]]], [[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5,
        -6.5]], [[-1, -31, 7.5], [-5, -8, 15.5], [8, -4, 10.5]]]]),
    FIRST_EXAMPLE_ONLY: np.array([[[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5, -6.5]], [[-1,
        -31, 7.5], [-5, -8, 15.5], [8, -4, 10.5]]], [[[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0,
        0], [0, 0, 0], [0, 0, 0]]]]),
    PAD_BATCH: np.array([[[[1, -2, 0.5], [1, -2, 0.5], [1, -2, 0.5]], [[1, -2, 0.5], [1, -2,
        0.5], [1, -2, 0.5]]], [[[-5, -6, -1.5], [-18, -13, 11.5], [15, 5, -6.5]], [[-1, -31,
        7.5], [-5, -8, 15.5], [8, -4, 10.5]]]]),
}
RELU_EXPECTED = np.array([[0, 0, 0, 0.25, 1, 2.5]])
RELU_MISTAKES = {RELU_ABS: np.array([[3, 0.5, 0, 0.25, 1, 2.5]]), RELU_MIN: np.array([[-3,
    -0.5, 0, 0, 0, 0]]), RELU_CLIP: np.array([[0, 0, 0, 0.25, 1, 1]]), RELU_AT_ONE:
    np.array([[1, 1, 1, 1, 1, 2.5]]), RELU_STEP: np.array([[0, 0, 0, 1, 1, 1]])}
PARAMS_CASES = [  # (f, n_C_prev, n_C, expected, {mistake: value})
    (3, 3, 10, 280, {PARAMS_NO_BIAS: 270, PARAMS_ONE_BIAS: 271, PARAMS_NO_CHANNELS: 100,
      PARAMS_BIAS_PER_CHANNEL: 300}),
    (5, 3, 6, 456, {PARAMS_NO_BIAS: 450, PARAMS_ONE_BIAS: 451, PARAMS_NO_CHANNELS: 156,
      PARAMS_BIAS_PER_CHANNEL: 468}),
    (5, 1, 6, 156, {PARAMS_NO_BIAS: 150, PARAMS_ONE_BIAS: 151}),
    (1, 64, 32, 2080, {PARAMS_NO_BIAS: 2048, PARAMS_ONE_BIAS: 2049, PARAMS_NO_CHANNELS: 64,
      PARAMS_BIAS_PER_CHANNEL: 4096}),
]


SHAPE_CASES = [
    # (A_prev shape, W shape, hparameters, expected Z shape, {mistake: shape it gives})
    ((1, 6, 6, 3), (3, 3, 3, 2), {"stride": 1, "pad": 0}, (1, 4, 4, 2),
     {SHAPE_CHANNELS: (1, 4, 4, 3), SHAPE_NO_BATCH: (4, 4, 2)}),
    ((2, 6, 7, 3), (3, 3, 3, 4), {"stride": 2, "pad": 2}, (2, 4, 5, 4),
     {SHAPE_STRIDE: (2, 8, 9, 4), SHAPE_PAD: (2, 2, 3, 4), SHAPE_ONE_SIDE: (2, 3, 4, 4),
      SHAPE_CHANNELS: (2, 4, 5, 3), SHAPE_NO_BATCH: (4, 5, 4), HARD_CODED: (1, 4, 4, 2)}),
    ((3, 4, 6, 2), (2, 2, 2, 5), {"stride": 1, "pad": 2}, (3, 7, 9, 5),
     {SHAPE_PAD: (3, 3, 5, 5), SHAPE_ONE_SIDE: (3, 5, 7, 5), SHAPE_CHANNELS: (3, 7, 9, 2),
      SHAPE_NO_BATCH: (7, 9, 5), HARD_CODED: (1, 4, 4, 2)}),
    ((2, 7, 5, 1), (3, 3, 1, 3), {"stride": 3, "pad": 0}, (2, 2, 1, 3),
     {SHAPE_STRIDE: (2, 5, 3, 3), SHAPE_CHANNELS: (2, 2, 1, 1), SHAPE_NO_BATCH: (2, 1, 3),
      HARD_CODED: (2, 4, 5, 4)}),
]


def hard_coded_shapes(expected) -> dict:
    """Shapes that sizes copied from the worked example would give (appended last)."""
    m, _, _, n_c = expected
    out = {HARD_CODED + " (here n_H = n_W = 4)": (m, 4, 4, n_c),
           HARD_CODED + " (here m = 1)": (1,) + tuple(expected[1:]),
           HARD_CODED + " (here the worked example's (1, 4, 4, 2))": (1, 4, 4, 2)}
    return {k: v for k, v in out.items() if tuple(v) != tuple(expected)}


def _filled(shape) -> np.ndarray:
    """A fixed, non-constant array of the given shape (values -2..2)."""
    return (np.arange(int(np.prod(shape))).reshape(shape) % 5 - 2).astype(float)


# ------------------------------------------------------------ the visible checks
def call_single_step(conv_single_step, a, W, b):
    """Call ``conv_single_step`` on copies; explain the NumPy 2 `float((1, 1, 1) array)` error."""
    try:
        return core.call(conv_single_step, a, W, b, name="conv_single_step")
    except core.CheckFailure as err:
        if "0-dimensional" in str(err) or "size-1 arrays" in str(err):
            raise core.CheckFailure(
                f"{err}\nLikely mistake: b has shape (1, 1, 1), and `float(...)` of a "
                "(1, 1, 1) array fails in NumPy 2: take the number out with `b.item()` "
                "(or `np.squeeze(b)`) before adding it.") from None
        raise


def conv_single_step_worked_example(conv_single_step) -> None:
    """``conv_single_step`` on a fixed 3x3x2 slice, with b as a (1, 1, 1) array and a float."""
    for b in (SLICE_B.copy(), SLICE_B.item()):
        inputs = {"a_slice_prev": SLICE, "W": SLICE_W, "b": b}
        out = call_single_step(conv_single_step, SLICE.copy(), SLICE_W.copy(), b)
        check_single_step_result(out, SLICE_EXPECTED, SLICE_MISTAKES, inputs)
    core.passed(f"conv_single_step gives {SLICE_EXPECTED} on the 3x3x2 slice "
                "(b as a (1, 1, 1) array and as a float)")


def conv_forward_shapes(conv_forward, name: str = "conv_forward") -> None:
    """Shapes of Z and the cache on four fixed cases (batches, strides, padding)."""
    for a_shape, w_shape, hp, z_shape, shape_mistakes in SHAPE_CASES:
        A, W = _filled(a_shape), _filled(w_shape)
        b = np.zeros((1, 1, 1, w_shape[3]))
        Z, cache = unpack_forward(call_forward(conv_forward, A, W, b, hp, name=name), name)
        arr = core.as_array(Z, f"{name} (Z)")
        core.check_shape(arr, z_shape, f"{name} (Z)",
                         {"A_prev": A, "W": W, "b": b, "hparameters": hp},
                         {**shape_mistakes, **hard_coded_shapes(z_shape)},
                         formula=SIZE_FORMULA)
        check_cache(cache, A, W, b, hp, name)
    core.passed(f"{name}: right shapes and cache on {len(SHAPE_CASES)} cases, "
                "e.g. (1, 6, 6, 3) with two 3x3x3 filters -> (1, 4, 4, 2)")


def _forward_values(conv_forward, A, W, b, hp, expected, mistakes, case,
                    name: str = "conv_forward"):
    inputs = {"A_prev": A, "W": W, "b": b, "hparameters": hp}
    Z, cache = unpack_forward(call_forward(conv_forward, A, W, b, hp, name=name), name)
    scale = max(1.0, float(np.abs(np.asarray(A, dtype=float)).max())
                * float(np.abs(np.asarray(W, dtype=float)).max()),
                float(np.abs(np.asarray(b, dtype=float)).max()))
    core.check_array(Z, expected, f"{name} (Z)", inputs=inputs, mistakes=mistakes,
                     formula=SIZE_FORMULA, require_float=True, case=case,
                     terms=int(np.prod(np.shape(W)[:3])) + 1, scale=scale)
    check_cache(cache, A, W, b, hp, name)


def conv_forward_worked_example(conv_forward) -> None:
    """Values of Z on the 6x6x3 image with two 3x3x3 filters (stride 1, no padding)."""
    A, W, b = worked_example_inputs()
    _forward_values(conv_forward, A, W, b, {"stride": 1, "pad": 0}, WORKED_Z,
                    WORKED_MISTAKES, "the 6x6x3 worked example")
    core.passed("conv_forward: the 6x6x3 worked example gives the right 4x4x2 volume")


def conv_forward_stride_pad_batch(conv_forward) -> None:
    """Values of Z on a batch of two 4x5x2 examples, three filters, stride 2, pad 1."""
    A, W, b, hp = stride_pad_batch_inputs()
    _forward_values(conv_forward, A, W, b, hp, SPB_Z, SPB_MISTAKES,
                    "a batch of two 4x5x2 examples with stride 2, pad 1")
    core.passed("conv_forward: right values with a batch, stride 2 and pad 1")


def relu_new_array(relu) -> None:
    """``relu`` values on a fixed row and on a 4-D batch; a new array, Z unchanged."""
    check_relu_case(relu, RELU_Z.copy(), RELU_EXPECTED, RELU_MISTAKES)
    Z4 = RELU_Z.reshape(1, 2, 3, 1)
    mistakes4 = {k: np.asarray(v).reshape(1, 2, 3, 1) for k, v in RELU_MISTAKES.items()}
    check_relu_case(relu, Z4.copy(), RELU_EXPECTED.reshape(1, 2, 3, 1), mistakes4)
    core.passed("relu keeps positive values, zeroes negative ones, returns a new array "
                "and leaves Z unchanged")


def conv_layer_params_examples(conv_layer_params) -> None:
    """Parameter counts of four layers (weights plus one bias per filter)."""
    for f, n_c_prev, n_c, expected, mistakes in PARAMS_CASES:
        out = core.call(conv_layer_params, f, n_c_prev, n_c, name="conv_layer_params")
        core.check_scalar(out, expected, "conv_layer_params",
                          inputs={"f": f, "n_C_prev": n_c_prev, "n_C": n_c},
                          mistakes=mistakes, integer=True)
    core.passed("conv_layer_params: 280 for ten 3x3x3 filters, 456 for six 5x5x3, "
                "156 for six 5x5x1, 2080 for thirty-two 1x1x64")

"""Visible checks for notebook 05: pooling.

Small fixed inputs, expected outputs written as constants, and the outputs of
typical mistakes as constants too, so a failing check can name the mistake. No
graded function is solved in this module.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import core

SIZE_FORMULA = ("n_H = (n_H_prev - f) // stride + 1, n_W = (n_W_prev - f) // stride + 1, "
                "n_C = n_C_prev")

# ------------------------------------------------------------ likely mistakes
# (shared with grader/references/pooling.py, so visible and hidden messages agree)
AVERAGE_FOR_MAX = ("the average was taken in max mode: mode='max' keeps the largest value "
                   "of each window.")
MAX_FOR_AVERAGE = ("the maximum was taken in average mode: mode='average' takes the mean "
                   "of each window (np.mean), not np.max.")
SUM_FOR_AVERAGE = ("the windows were summed, not averaged: divide by f*f (or use np.mean).")
SUM_FOR_MAX = "the windows were summed; max mode keeps the largest value (np.max)."
ACROSS_CHANNELS = ("the pooling mixed the channels: pool each channel on its own, over "
                   "the f x f window only (slice `[i, rows, cols, c]`, or reduce over the "
                   "two window axes, never the channel axis).")
STRIDE_IGNORED = ("the stride was ignored when placing the window: output (h, w) uses the "
                  "window starting at row h*stride, column w*stride.")
STRIDE_IGNORED_VERTICAL = ("the stride was ignored on the vertical axis: the window of "
                           "output row h starts at row h*stride.")
STRIDE_IGNORED_HORIZONTAL = ("the stride was ignored on the horizontal axis: the window "
                             "of output column w starts at column w*stride.")
STEP_F = ("the windows were placed f apart instead of stride apart (e.g. a reshape into "
          "f x f blocks); that only works when stride == f.")
ONLY_DIVIDES = ("the pooling only works when f divides the image size (a reshape into "
                "f x f blocks?): use windows starting at h*stride, w*stride, and the output "
                f"size {SIZE_FORMULA}.")
FIRST_EXAMPLE = ("only the first example of the batch was used (every output example equals "
                 "example 0): pool A_prev[i] for each i.")
WRONG_DEFAULT_MODE = ("the default mode must be max: "
                      "`def pool_forward(A_prev, hparameters, mode=\"max\")`.")
SHAPE_CEIL = ("the output size was rounded up: a window must fit entirely inside the "
              f"input, so {SIZE_FORMULA}.")
SHAPE_N_OVER_S = ("the output size was computed as n // stride; windows must fit entirely "
                  f"inside the input: {SIZE_FORMULA}.")
SHAPE_N_OVER_F = ("the output size was computed as n // f, which is right only when "
                  f"stride == f: {SIZE_FORMULA}.")
SHAPE_CHANNELS = ("the channel axis was pooled away: pooling keeps every channel, "
                  "n_C = n_C_prev.")
SHAPE_NO_BATCH = "the batch axis is missing: A has shape (m, n_H, n_W, n_C)."
HARD_CODED = ("the shape of another example was returned: the sizes look hard-coded; "
              "compute them from A_prev.shape, f and stride.")
GAP_SUM = "the values were summed; global average pooling divides by n_H * n_W (np.mean)."
GAP_MAX = "the maximum was taken (global max pooling); take the mean instead."
GAP_RESHAPE = ("the array was reshaped to (m, n_C, n_H*n_W), which mixes pixels and "
               "channels in a channels-last array; reshape to (m, n_H*n_W, n_C) or "
               "take np.mean over axes (1, 2).")
GAP_AXES = ("the mean was taken over the wrong axes: average over the two spatial axes "
            "(1, 2) and keep the batch axis 0 and the channel axis 3.")
GAP_KEEPDIMS = ("the result kept the spatial axes (keepdims=True, shape (m, 1, 1, n_C)); "
                "return shape (m, n_C).")


# ------------------------------------------------------------ fixed inputs
def as_batch(grid) -> np.ndarray:
    """A 2-D grid as a batch of one single-channel image, shape (1, n_H, n_W, 1)."""
    return np.asarray(grid)[None, :, :, None]


# the three worked examples of the notebook (f = 2, stride = 2)
EXAMPLE_1 = [[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]]
EXAMPLE_2 = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
EXAMPLE_3 = [[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]]
WORKED = [  # (input grid, mode, expected output, {mistake: output it gives})
    (EXAMPLE_1, "max", [[9, 2], [6, 3]],
     {AVERAGE_FOR_MAX: [[3.75, 1.25], [3.75, 2.0]], STRIDE_IGNORED: [[9, 9], [9, 9]],
      SUM_FOR_MAX: [[15, 5], [15, 8]]}),
    (EXAMPLE_2, "max", [[6, 8], [3, 4]],
     {AVERAGE_FOR_MAX: [[3.25, 5.25], [2.0, 2.0]], STRIDE_IGNORED: [[6, 7], [6, 7]],
      SUM_FOR_MAX: [[13, 21], [8, 8]]}),
    (EXAMPLE_3, "average", [[3.75, 1.25], [4.0, 2.0]],
     {MAX_FOR_AVERAGE: [[9, 2], [6, 3]], SUM_FOR_AVERAGE: [[15, 5], [16, 8]],
      STRIDE_IGNORED: [[3.75, 3.75], [4.0, 4.0]]}),
]


def batch_inputs():
    """Two 5x5x2 examples (pooled with f=3, stride 2) and one 3x4x2 (f=2, stride 1)."""
    A1 = ((np.arange(100).reshape(2, 5, 5, 2) * 7) % 23 - 11).astype(float)
    A2 = ((np.arange(24).reshape(1, 3, 4, 2) * 5) % 13 - 6).astype(float)
    return [(A1, {"f": 3, "stride": 2}), (A2, {"f": 2, "stride": 1})]


def gap_inputs():
    """Two arrays for global average pooling: (2, 3, 4, 5) and (2, 3, 3, 3)."""
    return [((np.arange(120).reshape(2, 3, 4, 5) * 7) % 13 - 6).astype(float),
            ((np.arange(54).reshape(2, 3, 3, 3) * 5) % 7 - 3).astype(float)]


# ------------------------------------------------------------ shared helpers
def call_pool(pool_forward, A_prev, hparameters, mode=None, name: str = "pool_forward"):
    """Call ``pool_forward`` (with ``mode`` when given) and name a reshape failure."""
    kwargs = {} if mode is None else {"mode": mode}
    try:
        return core.call(pool_forward, A_prev, dict(hparameters), name=name, **kwargs)
    except core.CheckFailure as err:
        if "reshape" in str(err):
            raise core.CheckFailure(f"{err}\nLikely mistake: {ONLY_DIVIDES}") from None
        raise


def unpack_pool(result: Any, name: str = "pool_forward"):
    """Split an ``(A, cache)`` result, failing clearly on any other return value."""
    if result is None:
        core.fail(f"`{name}` returned None.", hint="end the function with `return A, cache`.")
    if not isinstance(result, tuple) or len(result) != 2:
        kind = type(result).__name__
        extra = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        core.fail(f"`{name}` returned a {kind}{extra}; expected a pair (A, cache).",
                  hint="return both: `return A, cache`.")
    return result


def check_pool_cache(cache: Any, A_prev, hparameters: Mapping, name: str = "pool_forward"):
    """The cache must be ``(A_prev, hparameters)``: the inputs as given."""
    if not isinstance(cache, tuple) or len(cache) != 2:
        size = f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        core.fail(f"`{name}` returned a wrong cache: a {type(cache).__name__}{size}.",
                  "Expected the tuple (A_prev, hparameters).",
                  hint="return `A, (A_prev, hparameters)`; mode is not part of the cache.")
    got = cache[0]
    if not (isinstance(got, np.ndarray) and got.shape == np.shape(A_prev)
            and np.array_equal(got, A_prev)):
        hint = "cache[0] must be A_prev as it was passed in."
        if isinstance(got, Mapping):
            hint = "the cache is in the wrong order: it must be (A_prev, hparameters)."
        elif isinstance(got, np.ndarray) and got.shape != np.shape(A_prev):
            hint = "the cache holds the output; store the input A_prev."
        core.fail(f"`{name}` returned a wrong cache: cache[0] is not A_prev.",
                  f"cache[0]: {core.fmt_value(got)}", hint=hint)
    if not isinstance(cache[1], Mapping) or dict(cache[1]) != dict(hparameters):
        core.fail(f"`{name}` returned a wrong cache: cache[1] is not hparameters.",
                  f"cache[1]: {core.fmt_value(cache[1])}",
                  f"Expected: {dict(hparameters)!r}",
                  hint="the cache is (A_prev, hparameters), the dict as given.")


# ------------------------------------------------------------ expected outputs
# Written out (computed once with Keras pooling layers); the mistakes' outputs likewise.
BATCH_CASES = [  # (mode, expected, {mistake: output}) for each of batch_inputs()
    [
        ('max', np.array([[[[5, 11], [10, 8]], [[7, 5], [11, 10]]], [[[10, 8], [6, 11]], [[11,
            10], [8, 10]]]]), {
            AVERAGE_FOR_MAX: np.array([[[[-33, 7], [12, 6]], [[-15, -21], [7, 24]]], [[[12, 6],
                [-12, 5]], [[7, 24], [6, 0]]]]) / 9,
            SUM_FOR_MAX: np.array([[[[-33, 7], [12, 6]], [[-15, -21], [7, 24]]], [[[12, 6],
                [-12, 5]], [[7, 24], [6, 0]]]]),
            ACROSS_CHANNELS: np.array([[[[11, 11], [10, 10]], [[7, 7], [11, 11]]], [[[10, 10],
                [11, 11]], [[11, 11], [10, 10]]]]),
            STRIDE_IGNORED: np.array([[[[5, 11], [10, 11]], [[6, 11], [11, 11]]], [[[10, 8],
                [10, 8]], [[11, 9], [11, 9]]]]),
            STRIDE_IGNORED_VERTICAL: np.array([[[[5, 11], [10, 8]], [[6, 11], [11, 9]]], [[[10,
                8], [6, 11]], [[11, 9], [7, 9]]]]),
            STRIDE_IGNORED_HORIZONTAL: np.array([[[[5, 11], [10, 11]], [[7, 5], [11, 5]]],
                [[[10, 8], [10, 8]], [[11, 10], [11, 10]]]]),
            FIRST_EXAMPLE: np.array([[[[5, 11], [10, 8]], [[7, 5], [11, 10]]], [[[5, 11], [10,
                8]], [[7, 5], [11, 10]]]]),
        }),
        ('average', np.array([[[[-33, 7], [12, 6]], [[-15, -21], [7, 24]]], [[[12, 6], [-12,
            5]], [[7, 24], [6, 0]]]]) / 9, {
            MAX_FOR_AVERAGE: np.array([[[[5, 11], [10, 8]], [[7, 5], [11, 10]]], [[[10, 8], [6,
                11]], [[11, 10], [8, 10]]]]),
            SUM_FOR_AVERAGE: np.array([[[[-33, 7], [12, 6]], [[-15, -21], [7, 24]]], [[[12, 6],
                [-12, 5]], [[7, 24], [6, 0]]]]),
            ACROSS_CHANNELS: np.array([[[[-26, -26], [18, 18]], [[-36, -36], [31, 31]]], [[[18,
                18], [-7, -7]], [[31, 31], [6, 6]]]]) / 18,
            STRIDE_IGNORED: np.array([[[[-33, 7], [24, -5]], [[-24, -7], [33, -19]]], [[[12,
                6], [0, -6]], [[21, 15], [9, 3]]]]) / 9,
            STRIDE_IGNORED_VERTICAL: np.array([[[[-33, 7], [12, 6]], [[-24, -7], [21, 15]]],
                [[[12, 6], [-12, 5]], [[21, 15], [-3, -9]]]]) / 9,
            STRIDE_IGNORED_HORIZONTAL: np.array([[[[-33, 7], [24, -5]], [[-15, -21], [19,
                -33]]], [[[12, 6], [0, -6]], [[7, 24], [-5, 12]]]]) / 9,
            FIRST_EXAMPLE: np.array([[[[-33, 7], [12, 6]], [[-15, -21], [7, 24]]], [[[-33, 7],
                [12, 6]], [[-15, -21], [7, 24]]]]) / 9,
        }),
    ],
    [
        ('max', np.array([[[[5, 0], [5, 6], [2, 6]], [[6, 1], [6, -2], [3, 5]]]]), {
            AVERAGE_FOR_MAX: np.array([[[[-2, -8], [12, -7], [0, 7]], [[2, -4], [16, -16], [4,
                -2]]]]) / 4,
            SUM_FOR_MAX: np.array([[[[-2, -8], [12, -7], [0, 7]], [[2, -4], [16, -16], [4, -2]]]]),
            ACROSS_CHANNELS: np.array([[[[5, 5], [6, 6], [6, 6]], [[6, 6], [6, 6], [5, 5]]]]),
        }),
        ('average', np.array([[[[-2, -8], [12, -7], [0, 7]], [[2, -4], [16, -16], [4, -2]]]]) /
            4, {
            MAX_FOR_AVERAGE: np.array([[[[5, 0], [5, 6], [2, 6]], [[6, 1], [6, -2], [3, 5]]]]),
            SUM_FOR_AVERAGE: np.array([[[[-2, -8], [12, -7], [0, 7]], [[2, -4], [16, -16], [4,
                -2]]]]),
            ACROSS_CHANNELS: np.array([[[[-10, -10], [5, 5], [7, 7]], [[-2, -2], [0, 0], [2,
                2]]]]) / 8,
        }),
    ],
]
GAP_CASES = [  # (expected, {mistake: output}, {mistake: shape}) for gap_inputs()
    (np.array([[2, -5, 1, -6, 0], [-2, 4, -3, 3, -4]]) / 12, {
        GAP_SUM: np.array([[2, -5, 1, -6, 0], [-2, 4, -3, 3, -4]]),
        GAP_MAX: np.array([[6, 6, 6, 5, 6], [6, 6, 6, 6, 6]]),
        GAP_RESHAPE: np.array([[0, -6, 1, -5, 2], [-4, 3, -3, 4, -2]]) / 12,
    }, {
        GAP_KEEPDIMS: (2, 1, 1, 5),
        GAP_AXES + ' (e.g. over axes (0, 1))': (4, 5),
        GAP_AXES + ' (e.g. over axes (0, 2))': (3, 5),
        GAP_AXES + ' (e.g. over axes (1, 3))': (2, 4),
        GAP_AXES + ' (e.g. over axes (2, 3))': (2, 3),
        GAP_AXES + ' (e.g. over axes (0, 3))': (3, 4),
        GAP_AXES + ' (e.g. over axes (1,))': (2, 4, 5),
        GAP_AXES + ' (e.g. over axes (2,))': (2, 3, 5),
    }),
    (np.array([[-5, 5, 1], [-1, -5, 5]]) / 9, {
        GAP_SUM: np.array([[-5, 5, 1], [-1, -5, 5]]),
        GAP_MAX: np.array([[3, 3, 3], [3, 3, 3]]),
        GAP_RESHAPE: np.array([[-1, -2, 4], [-4, 2, 1]]) / 9,
        GAP_AXES + ' (you averaged over axes (1, 3))': np.array([[3, -2, 0], [0, 2, -3]]) / 9,
        GAP_AXES + ' (you averaged over axes (2, 3))': np.array([[-1, -2, 4], [-4, 2, 1]]) / 9,
    }, {
        GAP_KEEPDIMS: (2, 1, 1, 3),
        GAP_AXES + ' (e.g. over axes (0, 1) or (0, 2) or (0, 3))': (3, 3),
        GAP_AXES + ' (e.g. over axes (1,) or (2,))': (2, 3, 3),
    }),
]

SHAPE_CASES = [
    # (A_prev shape, hparameters, expected shape, {mistake: shape it gives})
    ((1, 4, 4, 1), {"f": 2, "stride": 2}, (1, 2, 2, 1),
     {SHAPE_NO_BATCH: (2, 2, 1)}),
    ((2, 6, 7, 3), {"f": 3, "stride": 2}, (2, 2, 3, 3),
     {SHAPE_CEIL: (2, 3, 3, 3), SHAPE_N_OVER_F: (2, 2, 2, 3), SHAPE_CHANNELS: (2, 2, 3, 1),
      SHAPE_NO_BATCH: (2, 3, 3), HARD_CODED: (1, 2, 2, 1)}),
    ((3, 5, 5, 2), {"f": 2, "stride": 2}, (3, 2, 2, 2),
     {SHAPE_CEIL: (3, 3, 3, 2), SHAPE_CHANNELS: (3, 2, 2, 1), SHAPE_NO_BATCH: (2, 2, 2),
      HARD_CODED: (2, 2, 3, 3)}),
    ((2, 7, 4, 1), {"f": 3, "stride": 1}, (2, 5, 2, 1),
     {SHAPE_N_OVER_S: (2, 7, 4, 1), SHAPE_N_OVER_F: (2, 2, 1, 1), SHAPE_NO_BATCH: (5, 2, 1),
      HARD_CODED: (3, 2, 2, 2)}),
    ((1, 9, 6, 4), {"f": 1, "stride": 3}, (1, 3, 2, 4),
     {SHAPE_CEIL: (1, 4, 3, 4), SHAPE_N_OVER_F: (1, 9, 6, 4), SHAPE_CHANNELS: (1, 3, 2, 1),
      SHAPE_NO_BATCH: (3, 2, 4), HARD_CODED: (2, 5, 2, 1)}),
]


def hard_coded_shapes(expected) -> dict:
    """Shapes that sizes copied from the worked examples would give (appended last)."""
    m, _, _, n_c = expected
    out = {HARD_CODED + " (here n_H = n_W = 2)": (m, 2, 2, n_c),
           HARD_CODED + " (here m = 1)": (1,) + tuple(expected[1:]),
           HARD_CODED + " (here n_C = 1)": tuple(expected[:3]) + (1,),
           HARD_CODED + " (here the worked examples' (1, 2, 2, 1))": (1, 2, 2, 1)}
    return {k: v for k, v in out.items() if tuple(v) != tuple(expected)}


def _filled(shape) -> np.ndarray:
    """A fixed, non-constant array of the given shape."""
    return (np.arange(int(np.prod(shape))).reshape(shape) % 7 - 3).astype(float)


# ------------------------------------------------------------ the visible checks
def _pool_values(pool_forward, A, hp, mode, expected, mistakes, case):
    out, cache = unpack_pool(call_pool(pool_forward, A, hp, mode))
    core.check_array(out, expected, "pool_forward (A)",
                     inputs={"A_prev": A, "hparameters": hp, "mode": mode},
                     mistakes=mistakes, formula=SIZE_FORMULA,
                     require_float=(mode == "average"), case=case)
    check_pool_cache(cache, A, hp)


def pool_forward_worked_examples(pool_forward) -> None:
    """The three 4x4 worked examples (f=2, stride 2), and max as the default mode."""
    hp = {"f": 2, "stride": 2}
    for k, (grid, mode, expected, mistakes) in enumerate(WORKED):
        A = as_batch(grid)
        _pool_values(pool_forward, A, hp, mode, as_batch(expected),
                     {d: as_batch(v) for d, v in mistakes.items()},
                     f"worked example {k + 1} ({mode} pooling)")
    A = as_batch(EXAMPLE_1)
    out, _ = unpack_pool(call_pool(pool_forward, A, hp))
    core.check_array(out, as_batch(WORKED[0][2]), "pool_forward (A)",
                     inputs={"A_prev": A, "hparameters": hp},
                     mistakes={WRONG_DEFAULT_MODE: as_batch(WORKED[0][3][AVERAGE_FOR_MAX])},
                     case="worked example 1 called without `mode` (the default is max)")
    core.passed("pool_forward: max pooling gives [[9, 2], [6, 3]] and [[6, 8], [3, 4]], "
                "average pooling [[3.75, 1.25], [4, 2]]")


def pool_forward_shapes(pool_forward) -> None:
    """Shapes and cache on five fixed cases, both modes (sizes f does not divide, too)."""
    for shape, hp, expected, shape_mistakes in SHAPE_CASES:
        A = _filled(shape)
        for mode in ("max", "average"):
            out, cache = unpack_pool(call_pool(pool_forward, A, hp, mode))
            core.check_shape(core.as_array(out, "pool_forward (A)"), expected,
                             "pool_forward (A)", {"A_prev": A, "hparameters": hp, "mode": mode},
                             {**shape_mistakes, **hard_coded_shapes(expected)},
                             formula=SIZE_FORMULA)
            check_pool_cache(cache, A, hp)
    core.passed(f"pool_forward: right shapes and cache on {len(SHAPE_CASES)} cases, "
                "both modes")


def pool_forward_batch_channels(pool_forward) -> None:
    """Values on a batch with two channels (f=3, stride 2 on 5x5) and overlapping windows."""
    for (A, hp), per_mode in zip(batch_inputs(), BATCH_CASES):
        for mode, expected, mistakes in per_mode:
            _pool_values(pool_forward, A, hp, mode, expected, mistakes,
                         f"A_prev of shape {A.shape}, f={hp['f']}, stride={hp['stride']}, "
                         f"mode {mode!r}")
    core.passed("pool_forward: right values with batches, two channels, overlapping "
                "windows and a size that f does not divide")


def global_average_pool_values(global_average_pool) -> None:
    """Means over the spatial axes on two fixed arrays, and 7x7x1000 -> (1, 1000)."""
    for A, (expected, mistakes, shape_mistakes) in zip(gap_inputs(), GAP_CASES):
        out = core.call(global_average_pool, A, name="global_average_pool")
        core.check_array(out, expected, "global_average_pool", inputs={"A": A},
                         mistakes=mistakes, shape_mistakes=shape_mistakes,
                         require_float=True, case=f"an array of shape {A.shape}")
    A = np.broadcast_to(np.arange(1000.0), (1, 7, 7, 1000)).copy()  # channel c holds c
    out = core.call(global_average_pool, A, name="global_average_pool")
    core.check_array(out, np.arange(1000.0)[None], "global_average_pool", inputs={"A": A},
                     shape_mistakes={GAP_KEEPDIMS: (1, 1, 1, 1000)},
                     case="a 7x7x1000 volume whose channel c is filled with c")
    core.passed("global_average_pool: (m, n_H, n_W, n_C) -> (m, n_C); "
                "7x7x1000 -> 1000 numbers")

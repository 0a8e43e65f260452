"""Visible checks for notebook 08: backpropagation through convolution and pooling.

Every check uses small fixed inputs and compares with expected outputs written
here as constants (computed once with the grader's reference and checked against
TensorFlow's automatic differentiation by ``tests/test_backprop.py``). The outputs
that typical mistakes give are constants too, so a failing check names the
mistake. No graded function is solved in this module; the helpers below only
call the student's function and compare (the hidden tests use them as well, with
their own expected values).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from grader_kernel import testfns

from . import core

# ------------------------------------------------------------ likely mistakes
# (shared with grader/references/backprop.py, so visible and hidden messages agree)
RELU_AT_ZERO = ("the gradient was passed where Z == 0 (`Z >= 0`): ReLU's slope at 0 is "
                "taken as 0, so pass dA only where Z > 0.")
RELU_MASK_FROM_DA = ("the mask was taken from dA (`dA > 0`); the gate is the forward input: "
                     "pass dA where Z > 0, whatever the sign of dA.")
RELU_MASK_ONLY = "only the 0/1 mask (Z > 0) was returned: multiply it by dA."
RELU_TIMES_Z = ("dA was multiplied by Z (or by relu(Z)); the slope of ReLU is 1 where Z > 0, "
                "so there dZ is dA itself.")
RELU_INVERTED = ("the mask is inverted: the gradient passed where Z <= 0 and was blocked where "
                 "Z > 0.")

DA_PADDED = ("dA_prev still has the padding (the shape of the padded input): cut the border "
             "off, `dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]`; the gradient "
             "that falls on the padding is dropped.")
DA_EMPTY_PAD0 = ("dA_prev is empty when pad = 0: `[pad:-pad]` is then `[0:0]`, an empty "
                 "slice. Cut with `[pad:pad + n_H_prev]` instead.")
DA_CROP_OFFSET = ("the padding was cut off on one side only (`dA_prev_pad[:, :n_H_prev, "
                  ":n_W_prev]`): drop `pad` rows and columns on every side, "
                  "`dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev]`.")
DA_CHANNELS = ("dA_prev has n_C channels (one per filter); it has the shape of A_prev, "
               "(m, n_H_prev, n_W_prev, n_C_prev): each window receives a whole "
               "(f, f, n_C_prev) filter times one number of dZ.")
DA_NO_BATCH = ("the batch axis is missing: dA_prev has the shape of A_prev, "
               "(m, n_H_prev, n_W_prev, n_C_prev).")
DA_FLIPPED = ("the kernel was flipped in the backward pass: with the loops of the forward "
              "pass, window (h, w) receives `W[:, :, :, c] * dZ[i, h, w, c]` with W as it "
              "is. (The flip of the full convolution comes out of those loops by itself.)")
DA_NO_WEIGHTS = ("dA_prev was computed without the weights (dZ[i, h, w, c] added to the "
                 "whole window): each window receives `W[:, :, :, c] * dZ[i, h, w, c]`.")
DA_OVERWRITTEN = ("dA_prev was overwritten (`=`) instead of accumulated (`+=`): where windows "
                  "overlap, and over the filters c, the contributions add up.")
STRIDE_IGNORED = ("the stride was ignored in the backward indexing: the window of output "
                  "(h, w) starts at row h*stride, column w*stride, as in the forward pass.")
DW_OVERWRITTEN = ("dW was overwritten (`dW[:, :, :, c] = ...`) instead of accumulated "
                  "(`+=`): every window of every example adds `a_slice * dZ[i, h, w, c]`.")
DW_AVERAGED = ("dW was divided by m (averaged over the batch); do not divide: if the loss is "
               "a mean over the batch, the 1/m is already inside dZ.")
DW_TRANSPOSED = "dW has its last two axes swapped; it has the shape of W, (f, f, n_C_prev, n_C)."
DB_AVERAGED = ("db was averaged instead of summed: db[c] is the sum of dZ[..., c] over the "
               "batch and both spatial axes (the bias is added at every position).")
DB_AVERAGED_BATCH = ("db was divided by m (averaged over the batch); it is the plain sum of "
                     "dZ[..., c] over the batch and both spatial axes.")
DB_SHAPE = ("db has lost its axes; it has the shape of b, (1, 1, 1, n_C): "
            "`np.sum(dZ, axis=(0, 1, 2), keepdims=True)`.")
ORDER = "the three gradients come back in the wrong order: return `dA_prev, dW, db`."
FIRST_EXAMPLE = ("only the first example of the batch was used: loop over all m examples "
                 "(dA_prev[i] for every i; dW and db summed over all of them).")

MAX_SPREAD = ("in max mode the gradient was spread over the whole window; it goes only to the "
              "position of the window's maximum (mask `a_slice == np.max(a_slice)`).")
MAX_TO_MIN = "the gradient went to the window's minimum; in max mode it goes to the maximum."
POOL_ACROSS_CHANNELS = ("the maximum was taken over the window and all channels together: each "
                        "channel has its own maximum, so take the mask over the f x f window "
                        "of that channel only (`A_prev[i, rows, cols, c]`).")
AVG_NOT_DIVIDED = ("in average mode the gradient was not divided: each of the f*f positions of "
                   "the window gets dA / (f*f).")
AVG_DIVIDED_BY_F = ("in average mode the gradient was divided by f; divide by f*f, the number of "
                    "values in the window.")
POOL_OVERWRITTEN = ("overlapping windows were overwritten (`=`) instead of added (`+=`): where "
                    "windows overlap (stride < f) their contributions add up.")
POOL_STRIDE_IGNORED = ("the stride was ignored: the window of output (h, w) starts at row "
                       "h*stride, column w*stride.")
AVG_FOR_MAX = ("max mode spread the gradient evenly, as average mode does; in max mode it goes "
               "to the position of each window's maximum.")
MAX_FOR_AVG = ("average mode routed the gradient to the maximum, as max mode does; in average "
               "mode each position of the window gets dA / (f*f).")
POOL_DEFAULT = ("the default mode must be max: "
                "`def pool_backward(dA, cache, mode=\"max\")`.")
POOL_SHAPE_OUT = ("dA_prev has the shape of dA (the pooled output); it has the shape of the "
                  "pooling's input A_prev = cache[0].")

NG_ONE_SIDED = ("a one-sided difference (f(x + h e_i) - f(x)) / h was used; use the centred "
                "difference (f(x + h e_i) - f(x - h e_i)) / (2h), whose error shrinks like h**2.")
NG_ONE_SIDED_BACK = ("a one-sided difference (f(x) - f(x - h e_i)) / h was used; use the "
                     "centred difference (f(x + h e_i) - f(x - h e_i)) / (2h).")
NG_OVER_H = ("the difference was divided by h instead of 2h: x + h e_i and x - h e_i are 2h "
             "apart (the result is twice the gradient).")
NG_EXACT = ("the result is the exact gradient, not the centred difference with this h: "
            "evaluate f at x + h e_i and x - h e_i and divide by 2h.")
NG_H_IGNORED = "the h argument was ignored (a fixed step was used): use the h you are given."
NG_ALL_AT_ONCE = ("every entry of x was moved at once (f(x + h) - f(x - h)); move one entry at "
                  "a time: x[i] + h with all the others unchanged.")
NG_FLAT = ("the gradient was returned flattened; return an array of x's shape "
           "(`grad = np.zeros(x.shape)`, filled at the same index as x).")
NG_LEFT_CHANGED = ("x was left changed. After evaluating f at x[i] + h and x[i] - h, put the "
                   "original value back (`old = x[i]` first, `x[i] = old` at the end), or "
                   "work on copies (`x_plus = x.copy()`).")

RE_RATIO_OF_MAXES = ("max |a - b| was divided by max(|a| + |b|), a ratio of two maxima; divide "
                     "element by element first, then take the maximum of the ratios.")
RE_MEAN = "the mean of the elementwise ratios was returned; return their maximum."
RE_SUM = "the elementwise ratios were summed; return their maximum."
RE_NO_ABS_DEN = "the denominator is |a + b|; it is |a| + |b| (add the absolute values)."
RE_SIGNED = "the sign was kept in the numerator (a - b); use the absolute difference |a - b|."
RE_RELATIVE_TO_ONE = ("the error was taken relative to one array only (|b|); the denominator "
                      "is |a| + |b|, symmetric in a and b.")
RE_NO_HALF = ("the denominator was halved (|a + b| / 2); it is max(1e-8, |a| + |b|).")
RE_NO_GUARD = ("the result is nan: where a and b are both 0 the ratio is 0 / 0. Divide by "
               "`np.maximum(1e-8, np.abs(a) + np.abs(b))`, which guards against it.")


# ------------------------------------------------------------ shared helpers
def conv_shape_mistakes(A_shape, W_shape, pad: int) -> tuple[dict, dict, dict]:
    """``({mistake: shape} for dA_prev, dW, db)`` for a layer with these shapes."""
    m, n_hp, n_wp, n_cp = A_shape
    f, _, _, n_c = W_shape
    dA = {DA_PADDED: (m, n_hp + 2 * pad, n_wp + 2 * pad, n_cp),
          DA_CHANNELS: (m, n_hp, n_wp, n_c),
          ORDER: tuple(W_shape),
          DA_NO_BATCH: (n_hp, n_wp, n_cp)}
    if pad == 0:
        dA[DA_EMPTY_PAD0] = (m, 0, 0, n_cp)
    dW = {ORDER: tuple(A_shape), DW_TRANSPOSED: (f, f, n_c, n_cp)}
    db = {DB_SHAPE: (n_c,), DB_SHAPE + " (here (1, n_C))": (1, n_c)}
    good = [(m, n_hp, n_wp, n_cp), tuple(W_shape), (1, 1, 1, n_c)]
    return tuple({k: tuple(int(s) for s in v) for k, v in d.items() if tuple(v) != g}
                 for d, g in zip((dA, dW, db), good))


def unpack_gradients(result: Any):
    """Split a ``(dA_prev, dW, db)`` result, failing clearly on any other return value."""
    if result is None:
        core.fail("`conv_backward` returned None.", hint="end it with `return dA_prev, dW, db`.")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        size = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        core.fail(f"`conv_backward` returned a {type(result).__name__}{size}; expected three "
                  "arrays (dA_prev, dW, db).", hint="return all three: `return dA_prev, dW, db`.")
    return tuple(result)


def _cache_inputs(dZ, cache) -> dict:
    A_prev, W, b, hp = cache
    return {"dZ": dZ, "A_prev (cache[0])": A_prev, "W (cache[1])": W, "b (cache[2])": b,
            "hparameters (cache[3])": hp}


def _max_abs(a) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64)).max(initial=0.0))


def check_conv_shapes(conv_backward, dZ, cache, shape_mistakes) -> tuple:
    """Call ``conv_backward(dZ, cache)``; check the three shapes; return the three arrays."""
    A_prev, W, b, hp = cache
    out = unpack_gradients(core.call(conv_backward, dZ, cache, name="conv_backward"))
    inputs = _cache_inputs(dZ, cache)
    names = ("conv_backward (dA_prev)", "conv_backward (dW)", "conv_backward (db)")
    shapes = (np.shape(A_prev), np.shape(W), (1, 1, 1, np.shape(W)[3]))
    arrays = []
    for arr, name, shape, mistakes in zip(out, names, shapes, shape_mistakes):
        arr = core.as_array(arr, name)
        core.check_shape(arr, shape, name, inputs, mistakes,
                         formula="dA_prev like A_prev, dW like W, db like b")
        arrays.append(arr)
    return tuple(arrays)


def compare_conv_backward(conv_backward, dZ, cache, expected, mistakes, shape_mistakes,
                          case: str) -> None:
    """Shapes, then values of ``dA_prev``, ``dW`` and ``db`` (float32 arithmetic is fair)."""
    A_prev, W, b, hp = cache
    dA, dW, db = check_conv_shapes(conv_backward, dZ, cache, shape_mistakes)
    inputs = _cache_inputs(dZ, cache)
    f, s = np.shape(W)[0], hp["stride"]
    m, n_h, n_w, n_c = np.shape(dZ)
    per_pos = int(np.ceil(f / s)) ** 2
    checks = [  # (array, name, terms, scale): each value sums `terms` products of `scale`
        (dA, "conv_backward (dA_prev)", per_pos * n_c, _max_abs(W) * _max_abs(dZ)),
        (dW, "conv_backward (dW)", m * n_h * n_w, _max_abs(A_prev) * _max_abs(dZ)),
        (db, "conv_backward (db)", m * n_h * n_w, _max_abs(dZ)),
    ]
    if m == 1 and n_c == 1 and np.shape(A_prev)[3] == 1:
        # one example, one channel: show and compare the 2-D grids, easier to read
        image = lambda a: np.asarray(a)[0, :, :, 0]  # noqa: E731 - (1, H, W, 1) -> (H, W)
        kernel = lambda a: np.asarray(a)[:, :, 0, 0]  # noqa: E731 - (f, f, 1, 1) -> (f, f)
        squeeze = (image, kernel, lambda a: np.asarray(a))
        inputs = {"dZ[0, :, :, 0]": image(dZ), "A_prev[0, :, :, 0]": image(A_prev),
                  "W[:, :, 0, 0]": kernel(W), "hparameters": hp}
        checks = [(sq(arr), name, terms, scale)
                  for sq, (arr, name, terms, scale) in zip(squeeze, checks)]
        expected = [sq(e) for sq, e in zip(squeeze, expected)]
        mistakes = [{k: sq(v) for k, v in d.items()} for sq, d in zip(squeeze, mistakes)]
    for (arr, name, terms, scale), exp, wrong in zip(checks, expected, mistakes):
        core.check_array(arr, exp, name, inputs=inputs, mistakes=wrong, require_float=True,
                         case=case, terms=terms, scale=max(scale, 1e-3))


def compare_pool_backward(pool_backward, dA, cache, mode, expected, mistakes, case: str) -> None:
    """``pool_backward(dA, cache[, mode])`` against ``expected`` (the shape of A_prev)."""
    A_prev, hp = cache
    kwargs = {} if mode is None else {"mode": mode}
    out = core.call(pool_backward, dA, cache, name="pool_backward", **kwargs)
    inputs = {"dA": dA, "A_prev (cache[0])": A_prev, "hparameters (cache[1])": hp}
    if mode is not None:
        inputs["mode"] = mode
    f, s = hp["f"], hp["stride"]
    m, n_hp, n_wp, n_c = np.shape(A_prev)
    core.check_array(out, expected, "pool_backward", inputs=inputs, mistakes=mistakes,
                     shape_mistakes={POOL_SHAPE_OUT: np.shape(dA),
                                     DA_NO_BATCH: (n_hp, n_wp, n_c)},
                     formula="dA_prev has the shape of A_prev", require_float=True,
                     case=case, terms=int(np.ceil(f / s)) ** 2, scale=max(_max_abs(dA), 1e-3))


def _describe_change(before: np.ndarray, after: np.ndarray, h: float) -> str:
    moved = ~np.isclose(after, before, rtol=0, atol=1e-12)
    idx = tuple(int(i) for i in np.argwhere(moved)[0])
    delta = after - before
    where = f"e.g. x{list(idx)} was {before[idx]:.6g} and is now {after[idx]:.6g}"
    if np.allclose(delta[moved], h):
        how = "each changed entry was left at x[i] + h"
    elif np.allclose(delta[moved], -h):
        how = "each changed entry was left at x[i] - h"
    else:
        how = f"{int(moved.sum())} of {before.size} entries changed"
    return f"{how} ({where})"


def call_numerical_gradient(numerical_gradient, f, x, h=None):
    """Call ``numerical_gradient(f, x[, h])`` on a copy of ``x``; fail if x is left changed.

    ``x`` may change during the call, but must hold its original values on return.
    Changes at the level of rounding (``x[i] += h`` followed by ``x[i] -= h``) are fine.
    """
    kwargs = {} if h is None else {"h": h}
    try:
        return core.call(numerical_gradient, f, x, name="numerical_gradient", **kwargs)
    except core.CheckFailure as err:
        if err.__cause__ is not None or "changed its input argument #2" not in str(err):
            raise
    # x was changed in place: run once more on an array we hold, to see how
    mine = np.array(x, copy=True)
    with core.warnings_as_notes(numerical_gradient):
        out = numerical_gradient(f, mine, **kwargs)
    step = 1e-5 if h is None else float(h)
    rounding = 8 * np.finfo(np.float64).eps * (np.abs(x) + step)
    if np.all(np.abs(mine - x) <= rounding):
        return out
    core.fail("`numerical_gradient` changed x and did not put it back.",
              "x must hold its original values on return: " + _describe_change(x, mine, step)
              + ".", f"Inputs:\n{core.describe_case({'f': f, 'x': x, 'h': h})}",
              hint=NG_LEFT_CHANGED)


def compare_numerical_gradient(numerical_gradient, f, x, h, expected, mistakes, case: str,
                               rtol: float = 1e-6, atol: float | None = None) -> None:
    """``numerical_gradient(f, x, h)`` against ``expected``; x restored; no nan."""
    out = call_numerical_gradient(numerical_gradient, f, x, h)
    arr = core.as_array(out, "numerical_gradient")
    inputs = {"f": f, "x": x} if h is None else {"f": f, "x": x, "h": h}
    if arr.size and np.isnan(arr.astype(np.float64)).any():
        core.fail("`numerical_gradient` returned nan.", f"Inputs:\n{core.describe_case(inputs)}",
                  hint="divide by 2 * h, never by 0; and return floats.")
    flat = {NG_FLAT: (int(np.size(x)),)} if np.ndim(x) > 1 else {}
    scale = max(1.0, _max_abs(expected))
    core.check_array(arr, expected, "numerical_gradient", inputs=inputs, mistakes=mistakes,
                     shape_mistakes=flat, rtol=rtol, atol=1e-8 * scale if atol is None else atol,
                     require_float=True, case=case)


def check_relu_backward_case(relu_backward, dA, Z, expected, mistakes) -> None:
    """Values of ``relu_backward(dA, Z)``; a new array; dA and Z unchanged."""
    out = core.call(relu_backward, dA, Z, name="relu_backward")
    mine = np.array(dA)
    with core.warnings_as_notes(relu_backward):
        back = relu_backward(mine, np.array(Z))
    if back is mine or (isinstance(back, np.ndarray) and np.shares_memory(back, mine)):
        core.fail("`relu_backward` returned its input dA itself (or a view of it).",
                  "It must return a new array and leave dA as it was.",
                  hint="build dZ as a new array, e.g. `dZ = np.where(Z > 0, dA, 0)` or "
                       "`dZ = dA * (Z > 0)`.")
    core.check_array(out, expected, "relu_backward", inputs={"dA": dA, "Z": Z},
                     mistakes=mistakes, require_float=True,
                     case=f"arrays of shape {np.shape(Z)}")


def check_relative_error_case(relative_error, a, b, expected: float, mistakes) -> None:
    """``relative_error(a, b)`` is one number equal to ``expected``; no nan."""
    out = core.call(relative_error, a, b, name="relative_error")
    inputs = {"a": a, "b": b}
    if out is not None and np.size(out) == 1 and np.isnan(np.asarray(out, dtype=float)).all():
        core.fail("`relative_error` returned nan.", f"Inputs:\n{core.describe_case(inputs)}",
                  hint=RE_NO_GUARD)
    core.check_scalar(out, expected, "relative_error", inputs=inputs, mistakes=mistakes,
                      rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------ fixed inputs
# The tiny case the notebook derives by hand: a 3x3 image, one 2x2 kernel, stride 1.
TINY_X = np.array([[1, 2, 0], [-1, 3, 1], [2, 0, -2]], dtype=float)
TINY_K = np.array([[2, -1], [0, 1]], dtype=float)
TINY_DZ = np.array([[1, -2], [3, 1]], dtype=float)
TINY_B = 0.5


def tiny_inputs():
    """``(dZ, cache)`` of the tiny case as a batch of one: (1, 2, 2, 1) and a (1, 3, 3, 1) input."""
    cache = (TINY_X[None, :, :, None], TINY_K[:, :, None, None],
             np.full((1, 1, 1, 1), TINY_B), {"stride": 1, "pad": 0})
    return TINY_DZ[None, :, :, None], cache


def _pattern(shape, mult: int, mod: int, shift: int) -> np.ndarray:
    """A fixed, non-constant integer-valued float array of the given shape."""
    return ((np.arange(int(np.prod(shape))).reshape(shape) * mult) % mod - shift).astype(float)


def conv_batch_inputs():
    """Two ``(dZ, cache)`` cases: stride 2 with pad 1 (overlapping windows), and stride 1."""
    A1 = _pattern((2, 5, 4, 2), 7, 9, 4)
    W1 = _pattern((3, 3, 2, 3), 5, 7, 3)
    b1 = np.array([1.0, -2.0, 0.5]).reshape(1, 1, 1, 3)
    dZ1 = _pattern((2, 3, 2, 3), 4, 7, 3)
    A2 = _pattern((2, 4, 4, 3), 5, 11, 5)
    W2 = _pattern((2, 2, 3, 2), 3, 5, 2)
    b2 = np.array([0.25, -0.75]).reshape(1, 1, 1, 2)
    dZ2 = _pattern((2, 3, 3, 2), 2, 5, 2)
    return [(dZ1, (A1, W1, b1, {"stride": 2, "pad": 1})),
            (dZ2, (A2, W2, b2, {"stride": 1, "pad": 0}))]


CONV_SHAPE_CASES = [  # (A_prev shape, W shape, hparameters)
    ((1, 3, 3, 1), (2, 2, 1, 1), {"stride": 1, "pad": 0}),
    ((2, 5, 4, 2), (3, 3, 2, 3), {"stride": 2, "pad": 1}),
    ((3, 6, 5, 2), (3, 3, 2, 4), {"stride": 1, "pad": 0}),
    ((2, 7, 6, 3), (2, 2, 3, 2), {"stride": 3, "pad": 2}),
    ((1, 4, 4, 1), (1, 1, 1, 3), {"stride": 1, "pad": 0}),
]

# Pooling: notebook 05's first worked example, a grid with distinct values pooled with
# overlapping windows, notebook 05's average example, and a batch with two channels.
POOL_EXAMPLE_1 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
POOL_EXAMPLE_1_DA = np.array([[1, 2], [3, 4]], dtype=float)
POOL_EXAMPLE_3 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 4, 2, 3], [5, 6, 1, 2]], dtype=float)
POOL_EXAMPLE_3_DA = np.array([[4, 8], [-4, 2]], dtype=float)
POOL_OVERLAP = np.array([[3, 8, 1, 6], [7, 2, 9, 4], [0, 11, 5, 14], [13, 10, 15, 12]],
                        dtype=float)
POOL_OVERLAP_DA = np.array([[1, 2, 3], [-1, 1, 2], [2, -2, 1]], dtype=float)


def as_batch(grid) -> np.ndarray:
    """A 2-D grid as a batch of one single-channel image, shape (1, n_H, n_W, 1)."""
    return np.asarray(grid, dtype=float)[None, :, :, None]


def pool_batch_inputs():
    """``(dA, cache)``: two 5x5x2 examples with distinct values, f = 3, stride 2."""
    A = (((np.arange(100) * 37) % 100 - 50) * 0.25).reshape(2, 5, 5, 2)
    dA = _pattern((2, 2, 2, 2), 5, 9, 4)
    return dA, (A, {"f": 3, "stride": 2})


# numerical_gradient: public test functions (grader_kernel.testfns) at fixed points
NG_X = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
NG_CUBIC = {"a": 2.0, "b": -1.0}
NG_SIN_X = np.array([[0.3, -1.2], [2.0, 0.7]])
NG_SIN_W = [[1.0, -2.0], [0.5, 3.0]]
NG_SQUARE_X = np.arange(12, dtype=float).reshape(2, 3, 2) / 4 - 1.25
NG_SQUARE_W = (np.arange(12, dtype=float).reshape(2, 3, 2) % 5 - 2).tolist()

# relative_error: same signs, opposite signs, and all zeros
RE_CASES_INPUTS = [
    (np.array([1.0, -2.0, 0.0, 4.0, 10.0]), np.array([1.5, -2.0, 0.0, 3.0, 9.9])),
    (np.array([[2.0, -1.0], [0.5, 8.0]]), np.array([[1.0, 0.25], [0.5, 6.0]])),
    (np.zeros((2, 2)), np.zeros((2, 2))),
]

# relu_backward: negative, zero and positive Z; dA of both signs
RELU_Z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0, 0.0]])
RELU_DA = np.array([[1.0, -2.0, 3.0, -4.0, 5.0, -6.0]])


# ------------------------------------------------------------ expected outputs
# Written out (computed once with grader/references/backprop.py, which the tests check
# against TensorFlow); the mistakes' outputs likewise.
TINY_EXPECTED = (np.array([[[[2], [-5], [2]], [[6], [0], [-3]], [[0], [3], [1]]]]),  # dA_prev
                 np.array([[[[-3]], [[12]]], [[[-1]], [[-1]]]]),  # dW
                 np.array([[[[3]]]]))  # db
TINY_MISTAKES = ({
        DA_FLIPPED: np.array([[[[1], [-2], [0]], [[2], [5], [-4]], [[-3], [5], [2]]]]),
        DA_NO_WEIGHTS: np.array([[[[1], [-1], [-2]], [[4], [3], [-1]], [[3], [4], [1]]]]),
        DA_OVERWRITTEN: np.array([[[[2], [-4], [2]], [[6], [2], [-1]], [[0], [0], [1]]]]),
    },
    {
        DW_OVERWRITTEN: np.array([[[[3]], [[1]]], [[[0]], [[-2]]]]),
    },
    {
        DB_AVERAGED: np.array([[[[3]]]]) / 4,
    })
CONV_BATCH_CASES = [  # (expected (dA_prev, dW, db), mistakes) for conv_batch_inputs()
    ((np.array([[[[7, -4], [-6, -6], [-4, 7], [11, -6]], [[22, 16], [4, 1], [-14, -11], [6, 9]],
        [[-8, 11], [6, 10], [9, -6], [-7, -1]], [[-15, -17], [14, 12], [19, 19], [-9, -9]],
        [[-9, -9], [-10, 5], [-6, 9], [10, -3]]], [[[11, -8], [-12, 7], [7, -4], [-8, 2]],
        [[16, 22], [-22, -22], [22, 16], [-4, -10]], [[-4, 7], [7, -12], [-8, 11], [9, 0]],
        [[-14, -11], [-5, -4], [-15, -17], [23, 21]], [[9, -6], [5, -10], [-9, -9], [-9,
        12]]]]),
      np.array([[[[-11, -2, 0], [-15, 4, 2]], [[15, 5, -19], [5, 15, -17]], [[-5, 7, 12], [-15,
        -10, 23]]], [[[7, 2, -3], [-13, -1, -3]], [[22, -17, 0], [22, 12, -5]], [[-5, 23,
        -19], [-5, 7, 12]]], [[[-2, 0, 2], [4, 2, 0]], [[5, -19, 13], [15, -17, 7]], [[7,
        12, 10], [-10, 23, -14]]]]),
      np.array([[[[0, -1, -2]]]])),
     ({
          DA_FLIPPED: np.array([[[[7, -4], [5, 5], [-4, 7], [2, -8]], [[-10, -16], [-3, -6],
        [17, 20], [-10, -7]], [[-8, 11], [-11, -7], [9, -6], [-3, 10]], [[2, 0], [14, 12],
        [-13, -13], [8, 8]], [[-9, -9], [22, -12], [-6, 9], [-1, -7]]], [[[11, -8], [-8,
        11], [7, -4], [-6, 11]], [[-16, -10], [20, 20], [-10, -16], [9, 3]], [[-4, 7], [11,
        -8], [-8, 11], [-4, -6]], [[17, 20], [-19, -18], [2, 0], [6, 4]], [[9, -6], [-12,
        22], [-9, -9], [12, -9]]]]),
          DA_NO_WEIGHTS: np.array([[[[-4, -4], [0, 0], [4, 4], [4, 4]], [[-6, -6], [-3, -3],
        [3, 3], [3, 3]], [[-2, -2], [-3, -3], [-1, -1], [-1, -1]], [[-2, -2], [-2, -2], [0,
        0], [0, 0]], [[0, 0], [1, 1], [1, 1], [1, 1]]], [[[2, 2], [-2, -2], [-4, -4], [-4,
        -4]], [[6, 6], [0, 0], [-6, -6], [-6, -6]], [[4, 4], [2, 2], [-2, -2], [-2, -2]],
        [[3, 3], [1, 1], [-2, -2], [-2, -2]], [[-1, -1], [-1, -1], [0, 0], [0, 0]]]]),
          DA_OVERWRITTEN: np.array([[[[-2, -4], [-3, 0], [3, 6], [9, -9]], [[2, 3], [0, -1],
        [-2, -3], [3, 2]], [[1, 2], [1, 0], [-1, -2], [-3, 3]], [[-6, -9], [0, 2], [4, 6],
        [-6, -4]], [[-3, -6], [-2, 0], [2, 4], [6, -6]]], [[[0, 0], [2, 0], [-2, -4], [-6,
        6]], [[6, 9], [0, 1], [2, 3], [-3, -2]], [[3, 6], [-1, 0], [1, 2], [3, -3]], [[-2,
        -3], [0, -3], [-6, -9], [9, 6]], [[-1, -2], [3, 0], [-3, -6], [-9, 9]]]]),
          STRIDE_IGNORED: np.array([[[[30, 6], [-18, 0], [10, -8], [0, 0]], [[-18, 15], [27,
        4], [-3, 8], [0, 0]], [[-18, -27], [6, 39], [4, -10], [0, 0]], [[-11, -10], [-16,
        -15], [9, 10], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0]]], [[[6, 6], [6, -1], [-8,
        0], [0, 0]], [[-16, -10], [-4, -5], [17, 4], [0, 0]], [[11, -23], [-15, -7], [2,
        21], [0, 0]], [[22, 21], [-15, -16], [-9, -9], [0, 0]], [[0, 0], [0, 0], [0, 0], [0,
        0]]]]),
          FIRST_EXAMPLE: np.array([[[[7, -4], [-6, -6], [-4, 7], [11, -6]], [[22, 16], [4,
        1], [-14, -11], [6, 9]], [[-8, 11], [6, 10], [9, -6], [-7, -1]], [[-15, -17], [14,
        12], [19, 19], [-9, -9]], [[-9, -9], [-10, 5], [-6, 9], [10, -3]]], [[[0, 0], [0,
        0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0,
        0]], [[0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0]]]]),
          DA_CROP_OFFSET: np.array([[[[11, 7], [-4, -8], [-6, -6], [7, 11]], [[-6, 11], [7,
        -4], [-6, -6], [-4, 7]], [[-8, -14], [22, 16], [4, 1], [-14, -11]], [[-4, -6], [-8,
        11], [6, 10], [9, -6]], [[-11, -13], [-15, -17], [14, 12], [19, 19]]], [[[9, 11],
        [-8, -6], [7, 5], [-4, -8]], [[0, 9], [11, -8], [-12, 7], [7, -4]], [[-10, -4], [16,
        22], [-22, -22], [22, 16]], [[2, -8], [-4, 7], [7, -12], [-8, 11]], [[8, 11], [-14,
        -11], [-5, -4], [-15, -17]]]]),
      },
      {
          DW_OVERWRITTEN: np.array([[[[-3, 0, 3], [-9, 0, 9]], [[12, 0, -12], [6, 0, -6]],
        [[0, 0, 0], [-6, 0, 6]]], [[[3, 0, -3], [-3, 0, 3]], [[-9, 0, 9], [12, 0, -12]],
        [[6, 0, -6], [0, 0, 0]]], [[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]], [[0, 0,
        0], [0, 0, 0]]]]),
          STRIDE_IGNORED: np.array([[[[3, 5, 0], [-19, 2, 2]], [[3, 3, -11], [11, -23, 27]],
        [[10, 5, -7], [-18, 33, -14]]], [[[8, 0, -8], [-3, 6, 1]], [[-12, -1, 3], [-12, 19,
        -20]], [[6, -15, 20], [33, -4, 15]]], [[[10, -6, -8], [8, 0, -8]], [[6, 6, -1],
        [-12, -1, 3]], [[-12, 19, -20], [6, -15, 20]]]]),
          FIRST_EXAMPLE: np.array([[[[-8, 10, -7], [-6, 10, -9]], [[11, -2, -1], [7, 4, 1]],
        [[-15, 1, 3], [-19, 7, 5]]], [[[10, -9, 7], [-10, 11, -10]], [[12, 9, -22], [10, -3,
        5]], [[8, 3, 5], [-12, 0, 5]]], [[[10, -7, 11], [10, -9, 7]], [[-2, -1, 0], [4, 1,
        -2]], [[1, 3, 5], [7, 5, 3]]]]),
          DW_AVERAGED: np.array([[[[-11, -2, 0], [-15, 4, 2]], [[15, 5, -19], [5, 15, -17]],
        [[-5, 7, 12], [-15, -10, 23]]], [[[7, 2, -3], [-13, -1, -3]], [[22, -17, 0], [22,
        12, -5]], [[-5, 23, -19], [-5, 7, 12]]], [[[-2, 0, 2], [4, 2, 0]], [[5, -19, 13],
        [15, -17, 7]], [[7, 12, 10], [-10, 23, -14]]]]) / 2,
      },
      {
          FIRST_EXAMPLE: np.array([[[[1, -3, 0]]]]),
          DB_AVERAGED: np.array([[[[0, -1, -2]]]]) / 12,
          DB_AVERAGED_BATCH: np.array([[[[0, -1, -2]]]]) / 2,
      })),
    ((np.array([[[[4, 2, 0], [-7, -8, 6], [-1, -1, -1], [3, 2, -4]], [[4, 4, -6], [-7, 9, 5], [1,
        -1, 2], [0, -8, -1]], [[-1, -8, 0], [2, -1, 1], [5, 9, -7], [-6, 4, 4]], [[-4, 2,
        3], [-1, -1, -1], [6, -8, -7], [0, 2, 4]]], [[[3, 3, -2], [2, 0, 3], [-7, -8, 6],
        [3, 4, -5]], [[-1, -7, 2], [5, 9, -7], [-7, 9, 5], [2, -7, -1]], [[-1, 6, 3], [-1,
        -16, -1], [2, -1, 1], [1, 5, -1]], [[2, 0, -2], [-8, 6, 5], [-1, -1, -1], [2, -4,
        -5]]]]),
      np.array([[[[14, 12], [8, -25], [-20, 26]], [[29, -33], [1, 18], [28, 14]]], [[[8, -25],
        [-20, 26], [29, -33]], [[1, 18], [28, 14], [-44, 21]]]]),
      np.array([[[[1, -3]]]])),
     ({
          DA_FLIPPED: np.array([[[[-4, 4, 2], [6, -5, -6], [-2, -2, -2], [-5, 4, 3]], [[-2,
        -2, 8], [9, 5, -4], [-3, 0, -2], [-2, -5, 2]], [[2, -5, -2], [-2, 0, -3], [-4, 5,
        9], [8, -2, -2]], [[3, 4, -5], [-2, -2, -2], [-6, -5, 6], [2, 4, -4]]], [[[-2, 3,
        3], [-1, 2, 0], [6, -5, -6], [-4, 2, 3]], [[0, -6, -2], [-4, 5, 9], [9, 5, -4], [-2,
        -6, 0]], [[-1, 6, -2], [0, -10, 0], [-2, 0, -3], [-2, 7, 1]], [[-2, -4, 4], [7, 6,
        -5], [-2, -2, -2], [-4, -5, 4]]]]),
          DA_NO_WEIGHTS: np.array([[[[-2, -2, -2], [-1, -1, -1], [0, 0, 0], [-1, -1, -1]],
        [[0, 0, 0], [1, 1, 1], [-2, -2, -2], [-3, -3, -3]], [[3, 3, 3], [2, 2, 2], [-1, -1,
        -1], [0, 0, 0]], [[1, 1, 1], [0, 0, 0], [1, 1, 1], [2, 2, 2]]], [[[0, 0, 0], [-2,
        -2, -2], [-1, -1, -1], [1, 1, 1]], [[-1, -1, -1], [-1, -1, -1], [1, 1, 1], [1, 1,
        1]], [[-3, -3, -3], [0, 0, 0], [2, 2, 2], [-1, -1, -1]], [[-2, -2, -2], [-1, -1,
        -1], [0, 0, 0], [-1, -1, -1]]]]),
          DA_OVERWRITTEN: np.array([[[[0, 0, 0], [-1, -2, 2], [-2, -4, 4], [2, 0, -2]], [[2,
        4, -4], [1, 2, -2], [0, 0, 0], [0, 0, 0]], [[-1, -2, 2], [-2, -4, 4], [2, 4, -4],
        [-2, 0, 2]], [[-2, 2, 1], [-4, 4, 2], [4, -4, -2], [0, 2, 4]]], [[[1, 2, -2], [0, 0,
        0], [-1, -2, 2], [1, 0, -1]], [[-2, -4, 4], [2, 4, -4], [1, 2, -2], [-1, 0, 1]],
        [[0, 0, 0], [-1, -2, 2], [-2, -4, 4], [2, 0, -2]], [[0, 0, 0], [-2, 2, 1], [-4, 4,
        2], [0, -2, -4]]]]),
          FIRST_EXAMPLE: np.array([[[[4, 2, 0], [-7, -8, 6], [-1, -1, -1], [3, 2, -4]], [[4,
        4, -6], [-7, 9, 5], [1, -1, 2], [0, -8, -1]], [[-1, -8, 0], [2, -1, 1], [5, 9, -7],
        [-6, 4, 4]], [[-4, 2, 3], [-1, -1, -1], [6, -8, -7], [0, 2, 4]]], [[[0, 0, 0], [0,
        0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0,
        0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0,
        0]]]]),
      },
      {
          DW_OVERWRITTEN: np.array([[[[0, 0], [5, -10], [-1, 2]], [[4, -8], [-2, 4], [3,
        -6]]], [[[5, -10], [-1, 2], [4, -8]], [[-2, 4], [3, -6], [-3, 6]]]]),
          FIRST_EXAMPLE: np.array([[[[21, 2], [4, -3], [-2, 3]], [[3, -2], [-3, 4], [2,
        21]]], [[[4, -3], [-2, 3], [3, -2]], [[-3, 4], [2, 21], [-26, 5]]]]),
          DW_AVERAGED: np.array([[[[14, 12], [8, -25], [-20, 26]], [[29, -33], [1, 18], [28,
        14]]], [[[8, -25], [-20, 26], [29, -33]], [[1, 18], [28, 14], [-44, 21]]]]) / 2,
      },
      {
          FIRST_EXAMPLE: np.array([[[[1, -1]]]]),
          DB_AVERAGED: np.array([[[[1, -3]]]]) / 18,
          DB_AVERAGED_BATCH: np.array([[[[1, -3]]]]) / 2,
      })),
]
POOL_GRID_CASES = [  # (mode, f, stride, expected dA_prev, mistakes) on 2-D grids
    # notebook 05's example 1 (max), the overlapping grid (both modes), example 3 (average)
    ('max', 2, 2, np.array([[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 4], [0, 3, 0, 0]]),
     {
         AVG_FOR_MAX: np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]) / 4,
         MAX_SPREAD: np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]),
         MAX_TO_MIN: np.array([[1, 0, 0, 2], [0, 0, 2, 2], [3, 0, 0, 0], [0, 0, 4, 0]]),
         POOL_STRIDE_IGNORED: np.array([[0, 0, 0, 0], [0, 10, 0, 0], [0, 0, 0, 0], [0, 0, 0,
        0]]),
     }),
    ('max', 2, 1, np.array([[0, 1, 0, 0], [0, 0, 5, 0], [0, 0, 0, 2], [2, 0, -1, 0]]),
     {
         POOL_OVERWRITTEN: np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [2, 0, 1,
        0]]),
         AVG_FOR_MAX: np.array([[1, 3, 5, 3], [0, 3, 8, 5], [1, 0, 2, 3], [2, 0, -1, 1]]) /
        4,
         MAX_SPREAD: np.array([[1, 3, 5, 3], [0, 3, 8, 5], [1, 0, 2, 3], [2, 0, -1, 1]]),
         MAX_TO_MIN: np.array([[0, 0, 5, 0], [0, 2, 0, 2], [1, 0, -1, 0], [0, 0, 0, 0]]),
     }),
    ('average', 2, 1, np.array([[1, 3, 5, 3], [0, 3, 8, 5], [1, 0, 2, 3], [2, 0, -1, 1]]) / 4,
     {
         POOL_OVERWRITTEN: np.array([[1, 2, 3, 3], [-1, 1, 2, 2], [2, -2, 1, 1], [2, -2, 1,
        1]]) / 4,
         MAX_FOR_AVG: np.array([[0, 1, 0, 0], [0, 0, 5, 0], [0, 0, 0, 2], [2, 0, -1, 0]]),
         AVG_NOT_DIVIDED: np.array([[1, 3, 5, 3], [0, 3, 8, 5], [1, 0, 2, 3], [2, 0, -1,
        1]]),
         AVG_DIVIDED_BY_F: np.array([[1, 3, 5, 3], [0, 3, 8, 5], [1, 0, 2, 3], [2, 0, -1,
        1]]) / 2,
     }),
    ('average', 2, 2, np.array([[2, 2, 4, 4], [2, 2, 4, 4], [-2, -2, 1, 1], [-2, -2, 1, 1]]) / 2,
     {
         MAX_FOR_AVG: np.array([[0, 0, 8, 0], [0, 4, 0, 0], [0, 0, 0, 2], [0, -4, 0, 0]]),
         AVG_NOT_DIVIDED: np.array([[4, 4, 8, 8], [4, 4, 8, 8], [-4, -4, 2, 2], [-4, -4, 2,
        2]]),
         AVG_DIVIDED_BY_F: np.array([[2, 2, 4, 4], [2, 2, 4, 4], [-2, -2, 1, 1], [-2, -2, 1,
        1]]),
         POOL_STRIDE_IGNORED: np.array([[2, 6, 4, 0], [0, 5, 5, 0], [-2, -1, 1, 0], [0, 0,
        0, 0]]) / 2,
     }),
]
POOL_BATCH_CASES = {  # mode: (expected dA_prev, mistakes) for pool_batch_inputs()
    'max': (
        np.array([[[[0, 0], [0, 0], [0, 1], [0, 0], [-3, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0,
        0]], [[0, 0], [0, 0], [-7, 0], [0, 6], [0, 0]], [[0, 0], [0, 0], [0, 3], [0, 0], [0,
        0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]], [[[0, -4], [0, 0], [1, 0], [0, 0],
        [0, -3]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[2, 0], [0, 0], [0, 0], [0, 0],
        [3, 0]], [[0, -2], [0, 0], [0, 0], [0, 0], [0, -1]], [[0, 0], [0, 0], [0, 0], [0,
        0], [0, 0]]]]),
        {
            POOL_OVERWRITTEN: np.array([[[[0, 0], [0, 0], [0, 0], [0, 0], [-3, 0]], [[0, 0],
        [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [-1, 0], [0, 4], [0, 0]], [[0, 0],
        [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]], [[[0,
        -4], [0, 0], [1, 0], [0, 0], [0, -3]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
        [[2, 0], [0, 0], [0, 0], [0, 0], [3, 0]], [[0, -2], [0, 0], [0, 0], [0, 0], [0,
        -1]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]]]),
            AVG_FOR_MAX: np.array([[[[-4, 1], [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-4, 1],
        [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-6, 4], [-6, 4], [-10, 10], [-4, 6], [-4,
        6]], [[-2, 3], [-2, 3], [-3, 7], [-1, 4], [-1, 4]], [[-2, 3], [-2, 3], [-3, 7], [-1,
        4], [-1, 4]]], [[[0, -4], [0, -4], [1, -7], [1, -3], [1, -3]], [[0, -4], [0, -4],
        [1, -7], [1, -3], [1, -3]], [[2, -6], [2, -6], [6, -10], [4, -4], [4, -4]], [[2,
        -2], [2, -2], [5, -3], [3, -1], [3, -1]], [[2, -2], [2, -2], [5, -3], [3, -1], [3,
        -1]]]]) / 9,
            MAX_SPREAD: np.array([[[[-4, 1], [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-4, 1],
        [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-6, 4], [-6, 4], [-10, 10], [-4, 6], [-4,
        6]], [[-2, 3], [-2, 3], [-3, 7], [-1, 4], [-1, 4]], [[-2, 3], [-2, 3], [-3, 7], [-1,
        4], [-1, 4]]], [[[0, -4], [0, -4], [1, -7], [1, -3], [1, -3]], [[0, -4], [0, -4],
        [1, -7], [1, -3], [1, -3]], [[2, -6], [2, -6], [6, -10], [4, -4], [4, -4]], [[2,
        -2], [2, -2], [5, -3], [3, -1], [3, -1]], [[2, -2], [2, -2], [5, -3], [3, -1], [3,
        -1]]]]),
            MAX_TO_MIN: np.array([[[[-4, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 1], [0,
        0], [-3, 0], [0, 0], [0, 2]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[-2, 0],
        [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 3], [0, 0], [0, 0], [-1, 0], [0, 4]]], [[[0,
        0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, -3], [0, 0], [0, 0]], [[0,
        0], [0, -6], [0, 0], [1, 0], [0, 0]], [[0, 0], [0, 0], [3, 0], [0, 0], [0, 0]], [[0,
        0], [2, 0], [0, -1], [0, 0], [0, 0]]]]),
            POOL_ACROSS_CHANNELS: np.array([[[[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0,
        0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [-4, 0], [0, 6], [0, 0]], [[0,
        0], [0, 0], [0, 3], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]],
        [[[0, 0], [0, 0], [1, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
        [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0, -2], [0, 0], [0, 0], [0, 0], [0,
        -1]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]]]),
            POOL_STRIDE_IGNORED: np.array([[[[0, 0], [0, 0], [0, 1], [0, 0], [0, 0]], [[0,
        0], [0, 0], [0, 0], [-4, 0], [0, 0]], [[0, 0], [0, 0], [-6, 0], [0, 6], [0, 0]],
        [[0, 0], [0, 0], [0, 3], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]],
        [[[0, -4], [0, 0], [1, 0], [0, 0], [0, 0]], [[0, 0], [5, 0], [0, 0], [0, -4], [0,
        0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[0, -2], [0, 0], [0, 0], [0, 0], [0,
        0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]]]),
        }),
    'average': (
        np.array([[[[-4, 1], [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-4, 1], [-4, 1], [-7, 3], [-3,
        2], [-3, 2]], [[-6, 4], [-6, 4], [-10, 10], [-4, 6], [-4, 6]], [[-2, 3], [-2, 3],
        [-3, 7], [-1, 4], [-1, 4]], [[-2, 3], [-2, 3], [-3, 7], [-1, 4], [-1, 4]]], [[[0,
        -4], [0, -4], [1, -7], [1, -3], [1, -3]], [[0, -4], [0, -4], [1, -7], [1, -3], [1,
        -3]], [[2, -6], [2, -6], [6, -10], [4, -4], [4, -4]], [[2, -2], [2, -2], [5, -3],
        [3, -1], [3, -1]], [[2, -2], [2, -2], [5, -3], [3, -1], [3, -1]]]]) / 9,
        {
            POOL_OVERWRITTEN: np.array([[[[-4, 1], [-4, 1], [-3, 2], [-3, 2], [-3, 2]],
        [[-4, 1], [-4, 1], [-3, 2], [-3, 2], [-3, 2]], [[-2, 3], [-2, 3], [-1, 4], [-1, 4],
        [-1, 4]], [[-2, 3], [-2, 3], [-1, 4], [-1, 4], [-1, 4]], [[-2, 3], [-2, 3], [-1, 4],
        [-1, 4], [-1, 4]]], [[[0, -4], [0, -4], [1, -3], [1, -3], [1, -3]], [[0, -4], [0,
        -4], [1, -3], [1, -3], [1, -3]], [[2, -2], [2, -2], [3, -1], [3, -1], [3, -1]], [[2,
        -2], [2, -2], [3, -1], [3, -1], [3, -1]], [[2, -2], [2, -2], [3, -1], [3, -1], [3,
        -1]]]]) / 9,
            MAX_FOR_AVG: np.array([[[[0, 0], [0, 0], [0, 1], [0, 0], [-3, 0]], [[0, 0], [0,
        0], [0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [-7, 0], [0, 6], [0, 0]], [[0, 0], [0,
        0], [0, 3], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]], [[[0, -4],
        [0, 0], [1, 0], [0, 0], [0, -3]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], [[2, 0],
        [0, 0], [0, 0], [0, 0], [3, 0]], [[0, -2], [0, 0], [0, 0], [0, 0], [0, -1]], [[0,
        0], [0, 0], [0, 0], [0, 0], [0, 0]]]]),
            AVG_NOT_DIVIDED: np.array([[[[-4, 1], [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-4,
        1], [-4, 1], [-7, 3], [-3, 2], [-3, 2]], [[-6, 4], [-6, 4], [-10, 10], [-4, 6], [-4,
        6]], [[-2, 3], [-2, 3], [-3, 7], [-1, 4], [-1, 4]], [[-2, 3], [-2, 3], [-3, 7], [-1,
        4], [-1, 4]]], [[[0, -4], [0, -4], [1, -7], [1, -3], [1, -3]], [[0, -4], [0, -4],
        [1, -7], [1, -3], [1, -3]], [[2, -6], [2, -6], [6, -10], [4, -4], [4, -4]], [[2,
        -2], [2, -2], [5, -3], [3, -1], [3, -1]], [[2, -2], [2, -2], [5, -3], [3, -1], [3,
        -1]]]]),
            AVG_DIVIDED_BY_F: np.array([[[[-12, 3], [-12, 3], [-21, 9], [-9, 6], [-9, 6]],
        [[-12, 3], [-12, 3], [-21, 9], [-9, 6], [-9, 6]], [[-18, 12], [-18, 12], [-30, 30],
        [-12, 18], [-12, 18]], [[-6, 9], [-6, 9], [-9, 21], [-3, 12], [-3, 12]], [[-6, 9],
        [-6, 9], [-9, 21], [-3, 12], [-3, 12]]], [[[0, -12], [0, -12], [3, -21], [3, -9],
        [3, -9]], [[0, -12], [0, -12], [3, -21], [3, -9], [3, -9]], [[6, -18], [6, -18],
        [18, -30], [12, -12], [12, -12]], [[6, -6], [6, -6], [15, -9], [9, -3], [9, -3]],
        [[6, -6], [6, -6], [15, -9], [9, -3], [9, -3]]]]) / 9,
            POOL_STRIDE_IGNORED: np.array([[[[-4, 1], [-7, 3], [-7, 3], [-3, 2], [0, 0]],
        [[-6, 4], [-10, 10], [-10, 10], [-4, 6], [0, 0]], [[-6, 4], [-10, 10], [-10, 10],
        [-4, 6], [0, 0]], [[-2, 3], [-3, 7], [-3, 7], [-1, 4], [0, 0]], [[0, 0], [0, 0], [0,
        0], [0, 0], [0, 0]]], [[[0, -4], [1, -7], [1, -7], [1, -3], [0, 0]], [[2, -6], [6,
        -10], [6, -10], [4, -4], [0, 0]], [[2, -6], [6, -10], [6, -10], [4, -4], [0, 0]],
        [[2, -2], [5, -3], [5, -3], [3, -1], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0], [0,
        0]]]]) / 9,
        }),
}
# a (3 x**2 + h**2) + b with h = 0.1 (the centred difference of a cubic, exactly)
NG_CUBIC_EXPECTED = np.array([0.52, 5.02, 23.02, 12.52, -0.98, 0.52]).reshape(2, 3)
NG_CUBIC_MISTAKES = {
        NG_ONE_SIDED: np.array([0.82, 4.42, 24.22, 13.42, -0.98, 0.22]).reshape(2, 3),
        NG_ONE_SIDED_BACK: np.array([0.22, 5.62, 21.82, 11.62, -0.98, 0.82]).reshape(2, 3),
        NG_OVER_H: np.array([1.04, 10.04, 46.04, 25.04, -1.96, 1.04]).reshape(2, 3),
        NG_EXACT + "\n  or: " + NG_H_IGNORED: np.array([[1, 10, 46], [25, -2, 1]]) / 2,
        NG_ALL_AT_ONCE: np.array([40.62, 40.62, 40.62, 40.62, 40.62, 40.62]).reshape(2, 3),
    }
# w * x (the centred difference of a quadratic is exact)
NG_SQUARE_EXPECTED = np.array([[[10, 4], [0, -2], [-2, 0]], [[-1, 0], [3, 8], [-10, -6]]]) / 4
NG_SQUARE_MISTAKES = {
        NG_ONE_SIDED: np.array([2.499, 0.9995, 0.0, -0.4995, -0.499, -0.00100000000014,
        -0.2505, 0.0, 0.7505, 2.001, -2.501, -1.5005]).reshape(2, 3, 2),
        NG_ONE_SIDED_BACK: np.array([2.501, 1.0005, 0.0, -0.5005, -0.501, 0.00100000000014,
        -0.2495, 0.0, 0.7495, 1.999, -2.499, -1.4995]).reshape(2, 3, 2),
        NG_OVER_H: np.array([[[10, 4], [0, -2], [-2, 0]], [[-1, 0], [3, 8], [-10, -6]]]) / 2,
        NG_ALL_AT_ONCE: np.array([[[1, 1], [1, 1], [1, 1]], [[1, 1], [1, 1], [1, 1]]]),
    }
# about cos(x) * w: the centred difference with the default h = 1e-5
NG_SIN_EXPECTED = np.array([0.955336489117, -0.724715508937, -0.208073418317,
                            2.29452656182]).reshape(2, 2)
NG_SIN_MISTAKES = {
        NG_ONE_SIDED: np.array([0.955335011454, -0.724724829304, -0.20807569161,
        2.29451689853]).reshape(2, 2),
        NG_ONE_SIDED_BACK: np.array([0.955337966779, -0.724706188571, -0.208071145025,
        2.29453622511]).reshape(2, 2),
        NG_OVER_H: np.array([1.91067297823, -1.44943101787, -0.416146836635,
        4.58905312364]).reshape(2, 2),
        NG_ALL_AT_ONCE: np.array([2.31707412368, 2.31707412368, 2.31707412368,
        2.31707412368]).reshape(2, 2),
    }
RE_CASES = [  # (expected, {mistake: value}) for RE_CASES_INPUTS
    (0.2, {
        RE_RATIO_OF_MAXES: 0.05025125628140704,
        RE_MEAN: 0.0695764536970567,
        RE_SUM: 0.34788226848528353,
        RE_SIGNED: 0.14285714285714285,
        RE_RELATIVE_TO_ONE: 0.3333333333333333,
        RE_RELATIVE_TO_ONE + ' (here |a|)': 0.5,
        RE_NO_HALF: 0.4,
    }),
    (1.0, {
        RE_RATIO_OF_MAXES: 0.14285714285714285,
        RE_MEAN: 0.369047619047619,
        RE_SUM: 1.476190476190476,
        RE_NO_ABS_DEN: 1.6666666666666667,
        RE_SIGNED: 0.3333333333333333,
        RE_RELATIVE_TO_ONE: 5.0,
        RE_RELATIVE_TO_ONE + ' (here |a|)': 1.25,
        RE_NO_HALF: 3.3333333333333335,
    }),
    (0.0, {}),
]
RELU_EXPECTED = np.array([[0, 0, 0, -4, 5, 0]])
RELU_MISTAKES = {
        RELU_AT_ZERO: np.array([[0, 0, 3, -4, 5, -6]]),
        RELU_MASK_FROM_DA: np.array([[1, 0, 3, 0, 5, 0]]),
        RELU_MASK_ONLY: np.array([[0, 0, 0, 1, 1, 0]]),
        RELU_TIMES_Z: np.array([[0, 0, 0, -2, 15, 0]]),
        RELU_INVERTED: np.array([[1, -2, 3, 0, 0, -6]]),
        RELU_INVERTED + ' (here Z < 0)': np.array([[1, -2, 0, 0, 0, 0]]),
    }
POOL_GRID_INPUTS = [(POOL_EXAMPLE_1, POOL_EXAMPLE_1_DA), (POOL_OVERLAP, POOL_OVERLAP_DA),
                    (POOL_OVERLAP, POOL_OVERLAP_DA), (POOL_EXAMPLE_3, POOL_EXAMPLE_3_DA)]


# ------------------------------------------------------------ the visible checks
def relu_backward_examples(relu_backward) -> None:
    """``relu_backward`` on a fixed row (zeros in Z), as a 4-D batch and in float32."""
    batch = (1, 2, 3, 1)
    cases = [(RELU_DA, RELU_Z, RELU_EXPECTED, RELU_MISTAKES),
             (RELU_DA.reshape(batch), RELU_Z.reshape(batch), RELU_EXPECTED.reshape(batch),
              {k: np.reshape(v, batch) for k, v in RELU_MISTAKES.items()}),
             (RELU_DA.astype(np.float32), RELU_Z.astype(np.float32), RELU_EXPECTED,
              RELU_MISTAKES)]
    for dA, Z, expected, mistakes in cases:
        check_relu_backward_case(relu_backward, dA.copy(), Z.copy(), expected, mistakes)
    core.passed("relu_backward passes dA where Z > 0 (not at Z == 0), in a new array, "
                "inputs unchanged")


def numerical_gradient_examples(numerical_gradient) -> None:
    """Centred differences of three public test functions; x restored; the default h."""
    cubic = testfns.cubic_sum(**NG_CUBIC)
    compare_numerical_gradient(numerical_gradient, cubic, NG_X.copy(), 0.1, NG_CUBIC_EXPECTED,
                               NG_CUBIC_MISTAKES, "f(x) = sum(2 x**3 - x), h = 0.1")
    square = testfns.weighted_square(w=NG_SQUARE_W)
    compare_numerical_gradient(numerical_gradient, square, NG_SQUARE_X.copy(), 1e-3,
                               NG_SQUARE_EXPECTED, NG_SQUARE_MISTAKES,
                               "f(x) = 0.5 * sum(w * x**2) on a (2, 3, 2) array, h = 1e-3")
    sine = testfns.sin_dot(w=NG_SIN_W)
    compare_numerical_gradient(numerical_gradient, sine, NG_SIN_X.copy(), None, NG_SIN_EXPECTED,
                               NG_SIN_MISTAKES, "f(x) = sum(w * sin(x)), default h")
    core.passed("numerical_gradient gives centred differences (1-D steps, divided by 2h), "
                "any shape, and puts x back")


def relative_error_examples(relative_error) -> None:
    """Three fixed pairs: same signs, opposite signs, and all zeros (the 1e-8 guard)."""
    for (a, b), (expected, mistakes) in zip(RE_CASES_INPUTS, RE_CASES):
        check_relative_error_case(relative_error, a.copy(), b.copy(), expected, mistakes)
    core.passed("relative_error: 0.2, 1.0 and 0.0 on the three fixed pairs")


def conv_backward_shapes(conv_backward) -> None:
    """Shapes of dA_prev, dW and db on five fixed layers (strides, padding, batches)."""
    for a_shape, w_shape, hp in CONV_SHAPE_CASES:
        A, W = _pattern(a_shape, 5, 7, 3), _pattern(w_shape, 3, 5, 2)
        b = np.zeros((1, 1, 1, w_shape[3]))
        f, s, p = w_shape[0], hp["stride"], hp["pad"]
        dZ = _pattern((a_shape[0], (a_shape[1] + 2 * p - f) // s + 1,
                       (a_shape[2] + 2 * p - f) // s + 1, w_shape[3]), 2, 5, 2)
        check_conv_shapes(conv_backward, dZ, (A, W, b, dict(hp)),
                          conv_shape_mistakes(a_shape, w_shape, p))
    core.passed(f"conv_backward: right shapes on {len(CONV_SHAPE_CASES)} layers "
                "(dA_prev like A_prev, dW like W, db like b)")


def conv_backward_tiny_example(conv_backward) -> None:
    """The notebook's tiny case: a 3x3 image, one 2x2 kernel, stride 1, no padding."""
    dZ, cache = tiny_inputs()
    compare_conv_backward(conv_backward, dZ, cache, TINY_EXPECTED, TINY_MISTAKES,
                          conv_shape_mistakes(cache[0].shape, cache[1].shape, 0),
                          "the tiny case (3x3 image, 2x2 kernel)")
    core.passed("conv_backward: the tiny case gives dA_prev = [[2, -5, 2], [6, 0, -3], "
                "[0, 3, 1]], dW = [[-3, 12], [-1, -1]], db = 3")


def conv_backward_stride_pad_batch(conv_backward) -> None:
    """Two batches with channels: stride 2 with pad 1 (overlapping windows), and stride 1."""
    for (dZ, cache), (expected, mistakes) in zip(conv_batch_inputs(), CONV_BATCH_CASES):
        A, W, _, hp = cache
        compare_conv_backward(conv_backward, dZ, cache, expected, mistakes,
                              conv_shape_mistakes(A.shape, W.shape, hp["pad"]),
                              f"A_prev {A.shape}, W {W.shape}, stride {hp['stride']}, "
                              f"pad {hp['pad']}")
    core.passed("conv_backward: right values with batches, channels, stride 2 and pad 1")


def _pool_grid_cases(mode: str):
    for (grid, dA), (m, f, s, expected, mistakes) in zip(POOL_GRID_INPUTS, POOL_GRID_CASES):
        if m == mode:
            yield (as_batch(dA), (as_batch(grid), {"f": f, "stride": s}), as_batch(expected),
                   {k: as_batch(v) for k, v in mistakes.items()})


def _pool_examples(pool_backward, mode: str) -> None:
    for dA, cache, expected, mistakes in _pool_grid_cases(mode):
        hp = cache[1]
        compare_pool_backward(pool_backward, dA, cache, mode, expected, mistakes,
                              f"a 4x4 grid, f={hp['f']}, stride={hp['stride']}, mode {mode!r}")
    dA, cache = pool_batch_inputs()
    expected, mistakes = POOL_BATCH_CASES[mode]
    compare_pool_backward(pool_backward, dA, cache, mode, expected, mistakes,
                          f"two 5x5x2 examples, f=3, stride=2, mode {mode!r}")


def pool_backward_max_examples(pool_backward) -> None:
    """Max mode: notebook 05's example, overlapping windows, a batch; max is the default."""
    _pool_examples(pool_backward, "max")
    dA, cache, expected, mistakes = next(_pool_grid_cases("max"))
    compare_pool_backward(pool_backward, dA, cache, None, expected,
                          {POOL_DEFAULT: mistakes[AVG_FOR_MAX]},
                          "notebook 05's example 1 called without `mode` (the default is max)")
    core.passed("pool_backward (max): each window's gradient goes to its maximum; "
                "overlapping windows add up")


def pool_backward_average_examples(pool_backward) -> None:
    """Average mode: notebook 05's example, overlapping windows, a batch with channels."""
    _pool_examples(pool_backward, "average")
    core.passed("pool_backward (average): each window's gradient is spread as dA / (f*f); "
                "overlapping windows add up")

"""Hidden tests for notebook 06 (LeNet-5 shapes and parameter counts).

References live here (independent of the student's notebook). Random cases use
non-square inputs, odd strides, padding and many channel counts; the outputs of
typical mistakes are computed with small variants of the references and passed
as ``mistakes`` so a failing test names the likely cause.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from utils.checks import lenet5 as visible
from utils.checks.core import call, fail, passed, warnings_as_notes

from . import seeding

SEED = 6060
N_CASES = 40

#: The spec's table (3.06): the course's only hand-written copy. The visible checks read a
#: generated copy, utils/checks/expected.py (`python -m grader.authoring.expected`).
TABLE = (
    ("input", (32, 32, 3), 3072, 0),
    ("CONV1", (28, 28, 8), 6272, 608),
    ("POOL1", (14, 14, 8), 1568, 0),
    ("CONV2", (10, 10, 16), 1600, 3216),
    ("POOL2", (5, 5, 16), 400, 0),
    ("FC3", (120,), 120, 48120),
    ("FC4", (84,), 84, 10164),
    ("softmax", (10,), 10, 850),
)
TOTAL = 62958


# ---------------------------------------------------------------- references
def _conv_size(n: int, f: int, s: int, p: int) -> int:
    return (n + 2 * p - f) // s + 1


def ref_conv_output_shape(input_shape, f, n_filters, stride=1, pad=0) -> tuple:
    n_h, n_w, _ = input_shape
    return (_conv_size(n_h, f, stride, pad), _conv_size(n_w, f, stride, pad), n_filters)


def ref_pool_output_shape(input_shape, f, stride) -> tuple:
    n_h, n_w, n_c = input_shape
    return ((n_h - f) // stride + 1, (n_w - f) // stride + 1, n_c)


def _conv_mistakes(shape, f, n, s, p) -> dict:
    n_h, n_w, n_c = shape
    return {
        "the output keeps the input's channels; the number of channels is n_filters":
            (_conv_size(n_h, f, s, p), _conv_size(n_w, f, s, p), n_c),
        "the `+ 1` is missing from the size formula":
            ((n_h + 2 * p - f) // s, (n_w + 2 * p - f) // s, n),
        "the padding is ignored: add 2*pad to n":
            (_conv_size(n_h, f, s, 0), _conv_size(n_w, f, s, 0), n),
        "the padding is added once; it goes on both sides, so add 2*pad":
            ((n_h + p - f) // s + 1, (n_w + p - f) // s + 1, n),
        "the stride is ignored: divide (n + 2*pad - f) by the stride":
            (_conv_size(n_h, f, 1, p), _conv_size(n_w, f, 1, p), n),
        "the stride is applied to the height only":
            (_conv_size(n_h, f, s, p), _conv_size(n_w, f, 1, p), n),
        "height and width are swapped":
            (_conv_size(n_w, f, s, p), _conv_size(n_h, f, s, p), n),
        "true division `/` gives a fraction; sizes need floor division `//`":
            ((n_h + 2 * p - f) / s + 1, (n_w + 2 * p - f) / s + 1, n),
        "the size was rounded up (ceil); it is floor((n + 2*pad - f) / stride) + 1":
            (-(-(n_h + 2 * p - f) // s) + 1, -(-(n_w + 2 * p - f) // s) + 1, n),
    }


def _pool_mistakes(shape, f, s) -> dict:
    n_h, n_w, n_c = shape
    return {
        "the channels were dropped; pooling keeps every channel":
            ((n_h - f) // s + 1, (n_w - f) // s + 1),
        "the window size f is ignored (n // stride); use (n - f) // stride + 1":
            (n_h // s, n_w // s, n_c),
        "the stride is ignored: divide (n - f) by the stride":
            (n_h - f + 1, n_w - f + 1, n_c),
        "the `+ 1` is missing from the size formula":
            ((n_h - f) // s, (n_w - f) // s, n_c),
        "height and width are swapped":
            ((n_w - f) // s + 1, (n_h - f) // s + 1, n_c),
    }


# ---------------------------------------------------------------- tests
def _collect(per_case: list[dict]) -> dict:
    """``[{mistake: output}, ...]`` per case -> ``{mistake: [output per case]}``."""
    out: dict = {}
    for k, case in enumerate(per_case):
        for description, wrong in case.items():
            out.setdefault(description, [None] * len(per_case))[k] = wrong
    return out


def conv_output_shape_random(conv_output_shape: Callable) -> None:
    """Random non-square inputs, odd kernels, strides 1-3, padding 0-3, any channel count."""
    rng = seeding.rng(SEED)
    cases, wrong = [], []
    for _ in range(N_CASES):
        f = int(rng.choice([1, 2, 3, 5, 7]))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, 4))
        n_h = int(rng.integers(f + 1, 64))
        n_w = int(rng.integers(f + 1, 64))
        while n_w == n_h:
            n_w = int(rng.integers(f + 1, 64))
        shape = (n_h, n_w, int(rng.integers(1, 65)))
        n = int(rng.integers(1, 257))
        cases.append(((shape, f, n), {"stride": s, "pad": p},
                      ref_conv_output_shape(shape, f, n, stride=s, pad=p)))
        wrong.append(_conv_mistakes(shape, f, n, s, p))
    cases.append((((20, 13, 4), 3, 6), {}, (18, 11, 6)))  # default stride=1, pad=0
    wrong.append(_conv_mistakes((20, 13, 4), 3, 6, 1, 0))
    visible.check_tuple_cases(conv_output_shape, "conv_output_shape", cases, _collect(wrong),
                              ("input_shape", "f", "n_filters"), visible.CONV_FORMULA)
    passed(f"conv_output_shape: {len(cases)} random shapes, strides and paddings")


def pool_output_shape_random(pool_output_shape: Callable) -> None:
    """Random non-square inputs, window sizes 1-4, strides 1-3."""
    rng = seeding.rng(SEED + 1)
    cases, wrong = [], []
    for _ in range(N_CASES):
        f = int(rng.integers(1, 5))
        s = int(rng.integers(1, 4))
        n_h = int(rng.integers(f, 60))
        n_w = int(rng.integers(f, 60))
        while n_w == n_h:
            n_w = int(rng.integers(f, 60))
        shape = (n_h, n_w, int(rng.integers(1, 129)))
        cases.append(((shape, f, s), {}, ref_pool_output_shape(shape, f, s)))
        wrong.append(_pool_mistakes(shape, f, s))
    visible.check_tuple_cases(pool_output_shape, "pool_output_shape", cases, _collect(wrong),
                              ("input_shape", "f", "stride"), visible.POOL_FORMULA)
    passed(f"pool_output_shape: {len(cases)} random shapes and strides")


def conv_params_random(conv_params: Callable) -> None:
    """Random kernel sizes and channel counts (1x1 convolutions included)."""
    rng = seeding.rng(SEED + 2)
    cases, wrong = [], []
    for _ in range(N_CASES):
        f = int(rng.choice([1, 3, 5, 7, 11]))
        c_prev, c = int(rng.integers(1, 513)), int(rng.integers(1, 513))
        cases.append(((f, c_prev, c), {}, (f * f * c_prev + 1) * c))
        wrong.append({
            "the bias is forgotten: each filter has one bias, (f*f*n_C_prev + 1) * n_C":
                f * f * c_prev * c,
            "one bias for the whole layer; each filter has its own bias": f * f * c_prev * c + 1,
            "the input channels are forgotten: a filter is f x f x n_C_prev": (f * f + 1) * c,
            "f is not squared: a filter is f x f x n_C_prev": (f * c_prev + 1) * c,
            "one bias per input channel; there is one bias per filter": (f * f + 1) * c_prev * c,
        })
    visible.check_count_cases(conv_params, "conv_params", cases, _collect(wrong),
                              ("f", "n_C_prev", "n_C"))
    passed(f"conv_params: {len(cases)} random layers")


def dense_params_random(dense_params: Callable) -> None:
    """Random layer widths, including 1-unit layers."""
    rng = seeding.rng(SEED + 3)
    sizes = [(1, 1), (1, 7), (9, 1)] + [(int(rng.integers(1, 5000)), int(rng.integers(1, 2000)))
                                        for _ in range(N_CASES)]
    cases = [((n_in, n_out), {}, (n_in + 1) * n_out) for n_in, n_out in sizes]
    wrong = [{
        "the bias is forgotten: each output unit has one bias, (n_in + 1) * n_out": n_in * n_out,
        "one bias per *input* unit; there is one bias per output unit": n_in * (n_out + 1),
        "one bias for the whole layer; each output unit has its own bias": n_in * n_out + 1,
    } for n_in, n_out in sizes]
    visible.check_count_cases(dense_params, "dense_params", cases, _collect(wrong),
                              ("n_in", "n_out"))
    passed(f"dense_params: {len(cases)} random layers")


def lenet5_table_consistent(lenet5_table: Callable) -> None:
    """Every row exact (names, tuple shapes, int sizes), size = product of shape, total."""
    rows = call(lenet5_table, name="lenet5_table")
    if not isinstance(rows, (list, tuple)) or len(rows) != len(TABLE):
        fail(f"`lenet5_table` returned {type(rows).__name__} with "
             f"{len(rows) if hasattr(rows, '__len__') else '?'} rows; expected a list of "
             f"{len(TABLE)} rows.")
    for i, (row, exp) in enumerate(zip(rows, TABLE)):
        layer, shape, size, n_params = row
        if not isinstance(shape, tuple):
            fail(f"`lenet5_table` row {i} ({exp[0]}): activation_shape is a "
                 f"{type(shape).__name__}; expected a tuple like {exp[1]!r}.",
                 hint="write shapes as tuples, as Keras does.")
        if tuple(int(v) for v in shape) != exp[1]:
            fail(f"`lenet5_table` row {i} ({exp[0]}): activation_shape {shape!r}; expected {exp[1]!r}.")
        for what, got, want in (("activation_size", size, exp[2]), ("n_params", n_params, exp[3])):
            if not isinstance(got, (int, np.integer)):
                fail(f"`lenet5_table` row {i} ({exp[0]}): {what} is {got!r} of type "
                     f"{type(got).__name__}; expected an int.",
                     hint="use ints (e.g. `int(np.prod(shape))`), not floats or arrays.")
            if int(got) != want:
                fail(f"`lenet5_table` row {i} ({exp[0]}): {what} is {got}; expected {want}.")
        if int(size) != int(np.prod(shape)):
            fail(f"`lenet5_table` row {i}: activation_size {size} is not the product of "
                 f"its shape {shape}.")
        if str(layer).lower() != exp[0].lower():
            fail(f"`lenet5_table` row {i} is named {layer!r}; expected {exp[0]!r}.")
    total = sum(int(r[3]) for r in rows)
    if total != TOTAL:
        fail(f"`lenet5_table`: the parameters add up to {total:,}; expected {TOTAL:,}.")
    passed("lenet5_table: types, products and total are consistent")


def build_lenet5_layers(build_lenet5: Callable) -> None:
    """Each Keras layer matches its table row; the output is a probability vector; fresh models."""
    expected = visible.lenet5_expected()
    for e in expected:  # refill from this module's own copy of the table
        if e.get("row"):
            row = next(r for r in TABLE if r[0] == e["row"])
            e["output_shape"], e["params"] = row[1], row[3]
    model = call(build_lenet5, name="build_lenet5")
    rows = visible.check_architecture(model, expected, "build_lenet5", input_shape=TABLE[0][1],
                                      total=TOTAL)
    # row by row: the summary's parameter column equals the table's n_params column
    table_rows = [r for r in rows if r["kind"] != "Flatten"]
    for r, t in zip(table_rows, TABLE[1:]):
        if r["params"] != t[3] or tuple(r["output_shape"]) != t[1]:
            fail(f"`build_lenet5`: layer {visible.describe(r)} gives {r['output_shape']} and "
                 f"{r['params']:,} parameters; table row {t[0]} says {t[1]} and {t[3]:,}.")
    rng = seeding.rng(SEED + 4)
    batch = rng.uniform(0, 1, size=(5, 32, 32, 3)).astype(np.float32)
    with warnings_as_notes(model, "your model"):
        probs = np.asarray(model(batch, training=False))
    if probs.shape != (5, 10):
        fail(f"`build_lenet5`: a batch of 5 images gives output shape {probs.shape}; "
             "expected (5, 10).")
    if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        fail("`build_lenet5`: the outputs are not probabilities (each row must be >= 0 and "
             "sum to 1).", hint="the last layer needs activation='softmax'.")
    other = call(build_lenet5, name="build_lenet5")
    if other is model:
        fail("`build_lenet5` returned the same model object twice.",
             hint="build a new model inside the function instead of returning a global one.")
    passed("build_lenet5: layers, table rows, probabilities and fresh models")

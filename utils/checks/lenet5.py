"""Visible checks for notebook 06 (LeNet-5 shapes and parameter counts).

Expected values are constants: the rows of the LeNet-5 table in the course
specification (section 3.06), generated from the references into
:mod:`utils.checks.expected`, and small worked cases. The model-inspection
helpers at the bottom (:func:`model_layers`, :func:`check_architecture`) are the
course's generic way to compare a Keras model with a constant list of expected
layers; notebook 07 and the hidden tests reuse them.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .core import CheckFailure, call, check_equal, check_scalar, fail, passed
from .expected import LENET5_TABLE, LENET5_TOTAL

# ---------------------------------------------------------------- constants
# LENET5_TABLE, the spec's table (layer, activation_shape, activation_size, n_params), and
# LENET5_TOTAL come from utils/checks/expected.py, generated from grader/references/lenet5.py.
TABLE_COLUMNS = ("layer", "activation_shape", "activation_size", "n_params")

CONV_FORMULA = "n_out = floor((n + 2*pad - f) / stride) + 1 on each spatial axis; channels = n_filters"
POOL_FORMULA = "n_out = floor((n - f) / stride) + 1 on each spatial axis; channels unchanged"

# Each case: (args, kwargs, expected). Each mistake: its (wrong) output on every case.
_CONV_CASES = (
    (((32, 32, 3), 5, 8), {"stride": 1, "pad": 0}, (28, 28, 8)),
    (((14, 14, 8), 5, 16), {"stride": 1, "pad": 0}, (10, 10, 16)),
    (((6, 6, 1), 3, 4), {"stride": 1, "pad": 1}, (6, 6, 4)),
    (((7, 9, 3), 3, 2), {"stride": 2, "pad": 0}, (3, 4, 2)),
    (((8, 8, 3), 3, 5), {"stride": 2, "pad": 1}, (4, 4, 5)),
)
_CONV_MISTAKES = {
    "the output keeps the input's channels; the number of channels is n_filters":
        ((28, 28, 3), (10, 10, 8), (6, 6, 1), (3, 4, 3), (4, 4, 3)),
    "the `+ 1` is missing from the size formula":
        ((27, 27, 8), (9, 9, 16), (5, 5, 4), (2, 3, 2), (3, 3, 5)),
    "the padding is ignored: add 2*pad to n":
        ((28, 28, 8), (10, 10, 16), (4, 4, 4), (3, 4, 2), (3, 3, 5)),
    "the padding is added once; it goes on both sides, so add 2*pad":
        ((28, 28, 8), (10, 10, 16), (5, 5, 4), (3, 4, 2), (4, 4, 5)),
    "the stride is ignored: divide (n + 2*pad - f) by the stride":
        ((28, 28, 8), (10, 10, 16), (6, 6, 4), (5, 7, 2), (8, 8, 5)),
    "height and width are swapped":
        ((28, 28, 8), (10, 10, 16), (6, 6, 4), (4, 3, 2), (4, 4, 5)),
    "true division `/` gives a fraction; sizes need floor division `//`":
        ((28, 28, 8), (10, 10, 16), (6, 6, 4), (3, 4, 2), (4.5, 4.5, 5)),
}

_POOL_CASES = (
    (((28, 28, 8), 2, 2), {}, (14, 14, 8)),
    (((10, 10, 16), 2, 2), {}, (5, 5, 16)),
    (((5, 7, 2), 3, 1), {}, (3, 5, 2)),
    (((9, 8, 4), 3, 2), {}, (4, 3, 4)),
)
_POOL_MISTAKES = {
    "the channels were dropped; pooling keeps every channel":
        ((14, 14), (5, 5), (3, 5), (4, 3)),
    "the window size f is ignored (n // stride); use (n - f) // stride + 1":
        ((14, 14, 8), (5, 5, 16), (5, 7, 2), (4, 4, 4)),
    "the stride is ignored: divide (n - f) by the stride":
        ((27, 27, 8), (9, 9, 16), (3, 5, 2), (7, 6, 4)),
    "the `+ 1` is missing from the size formula":
        ((13, 13, 8), (4, 4, 16), (2, 4, 2), (3, 2, 4)),
    "height and width are swapped":
        ((14, 14, 8), (5, 5, 16), (5, 3, 2), (3, 4, 4)),
}

_CONV_PARAM_CASES = (((5, 3, 8), {}, 608), ((5, 8, 16), {}, 3216), ((3, 3, 10), {}, 280),
                     ((1, 64, 32), {}, 2080))
_CONV_PARAM_MISTAKES = {
    "the bias is forgotten: each filter has one bias, (f*f*n_C_prev + 1) * n_C":
        (600, 3200, 270, 2048),
    "one bias for the whole layer; each filter has its own bias": (601, 3201, 271, 2049),
    "the input channels are forgotten: a filter is f x f x n_C_prev": (208, 416, 100, 64),
    "f is not squared: a filter is f x f x n_C_prev": (128, 656, 100, 2080),
    "one bias per input channel; there is one bias per filter": (624, 3328, 300, 4096),
}

_DENSE_PARAM_CASES = (((400, 120), {}, 48120), ((120, 84), {}, 10164), ((84, 10), {}, 850))
_DENSE_PARAM_MISTAKES = {
    "the bias is forgotten: each output unit has one bias, (n_in + 1) * n_out":
        (48000, 10080, 840),
    "one bias per *input* unit; there is one bias per output unit": (48400, 10200, 924),
    "one bias for the whole layer; each output unit has its own bias": (48001, 10081, 841),
}


# ---------------------------------------------------------------- helpers
def _check_int_tuple(actual: Any, expected: tuple, name: str, inputs: Mapping[str, Any],
                     mistakes: Mapping[str, Any], formula: str) -> None:
    """Exact tuple comparison; every entry must be an ``int`` (not 28.0)."""
    if actual is None:
        fail(f"`{name}` returned None.", hint="the function is missing a `return` statement.")
    if isinstance(actual, np.ndarray) or isinstance(actual, list):
        fail(f"`{name}` returned a {type(actual).__name__} {actual!r}; expected a tuple.",
             hint="return `(n_H, n_W, n_C)` as a tuple, like Keras shapes.")
    if not isinstance(actual, tuple):
        fail(f"`{name}` returned {type(actual).__name__} {actual!r}; expected a tuple "
             f"such as {expected!r}.")
    floats = [v for v in actual if not isinstance(v, (int, np.integer))]
    try:
        same = len(actual) == len(expected) and all(
            np.isclose(float(a), float(e)) for a, e in zip(actual, expected))
    except (TypeError, ValueError):
        same = False
    if floats and same:
        fail(f"`{name}` returned {actual!r}: the sizes are {type(floats[0]).__name__}s, "
             "expected ints.", "Inputs:\n" + "\n".join(f"  {k} = {v!r}" for k, v in inputs.items()),
             hint="true division `/` makes floats; use floor division `//` so sizes are ints.")
    try:
        hashable = tuple(float(v) for v in actual)
    except (TypeError, ValueError):
        hashable = actual
    hint_map = {m: tuple(float(v) for v in w) for m, w in mistakes.items()}
    guess = next((m for m, w in hint_map.items() if w == hashable), None)
    if guess is None and any(isinstance(v, float) and not float(v).is_integer() for v in actual):
        guess = "true division `/` gives a fraction; sizes need floor division `//`"
    if not same:
        fail(f"`{name}` returned the wrong shape tuple.",
             "Inputs:\n" + "\n".join(f"  {k} = {v!r}" for k, v in inputs.items()),
             f"Expected: {expected!r}", f"Yours:    {actual!r}", f"Formula: {formula}",
             hint=guess)


# ---------------------------------------------------------------- checks
def _same(a: Any, b: Any) -> bool:
    """Numerically equal outputs (tuples entry by entry, or numbers)."""
    try:
        if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
            return (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list))
                    and len(a) == len(b)
                    and all(np.isclose(float(x), float(y)) for x, y in zip(a, b)))
        return bool(np.isclose(float(a), float(b)))
    except (TypeError, ValueError):
        return False


def likely_mistake(outputs: Sequence[Any], mistakes: Mapping[str, Sequence[Any]],
                   index: int) -> str | None:
    """The mistake that explains the wrong output of case ``index`` and most other cases.

    ``mistakes`` maps a description to that mistake's output on every case, so a
    mistake that happens to give the same number as another on one case is told
    apart by the others.
    """
    best, score = None, 0
    for description, wrongs in mistakes.items():
        if not _same(outputs[index], wrongs[index]):
            continue
        agree = sum(_same(o, w) for o, w in zip(outputs, wrongs))
        if agree > score:
            best, score = description, agree
    return best


def _inputs(names: Sequence[str], args: tuple, kwargs: Mapping[str, Any]) -> dict:
    out = dict(zip(names, args))
    out.update(kwargs)
    return out


def check_tuple_cases(fn: Callable, name: str, cases: Sequence, mistakes: Mapping[str, Sequence],
                      arg_names: Sequence[str], formula: str) -> None:
    """Run every ``(args, kwargs, expected)`` case; on the first wrong tuple, name the mistake."""
    outputs = [call(fn, *args, name=name, **kwargs) for args, kwargs, _ in cases]
    for i, (out, (args, kwargs, expected)) in enumerate(zip(outputs, cases)):
        hint = likely_mistake(outputs, mistakes, i)
        _check_int_tuple(out, expected, name, _inputs(arg_names, args, kwargs),
                         {hint: mistakes[hint][i]} if hint else {}, formula)


def check_count_cases(fn: Callable, name: str, cases: Sequence, mistakes: Mapping[str, Sequence],
                      arg_names: Sequence[str]) -> None:
    """Run every ``(args, kwargs, expected int)`` case; on the first wrong count, name the mistake."""
    outputs = [call(fn, *args, name=name, **kwargs) for args, kwargs, _ in cases]
    for i, (out, (args, kwargs, expected)) in enumerate(zip(outputs, cases)):
        hint = likely_mistake(outputs, mistakes, i)
        check_scalar(out, expected, name, integer=True,
                     mistakes={hint: mistakes[hint][i]} if hint else {},
                     inputs=_inputs(arg_names, args, kwargs))


# ---------------------------------------------------------------- checks
def conv_output_shape_examples(conv_output_shape: Callable) -> None:
    """CONV1 and CONV2 of LeNet-5, a padded case, strided and non-square cases."""
    check_tuple_cases(conv_output_shape, "conv_output_shape", _CONV_CASES, _CONV_MISTAKES,
                      ("input_shape", "f", "n_filters"), CONV_FORMULA)
    passed(f"conv_output_shape: LeNet-5's CONV1 and CONV2 and {len(_CONV_CASES) - 2} "
           "padded/strided cases")


def pool_output_shape_examples(pool_output_shape: Callable) -> None:
    """POOL1 and POOL2 of LeNet-5, an overlapping window, a strided non-square case."""
    check_tuple_cases(pool_output_shape, "pool_output_shape", _POOL_CASES, _POOL_MISTAKES,
                      ("input_shape", "f", "stride"), POOL_FORMULA)
    passed(f"pool_output_shape: LeNet-5's POOL1 and POOL2 and {len(_POOL_CASES) - 2} more cases")


def conv_params_examples(conv_params: Callable) -> None:
    """CONV1 (608), CONV2 (3216), ten 3x3x3 filters (280), a 1x1 convolution (2080)."""
    check_count_cases(conv_params, "conv_params", _CONV_PARAM_CASES, _CONV_PARAM_MISTAKES,
                      ("f", "n_C_prev", "n_C"))
    passed("conv_params: 608, 3216, 280 and 2080 parameters")


def dense_params_examples(dense_params: Callable) -> None:
    """FC3 (48120), FC4 (10164) and the softmax layer (850) of LeNet-5."""
    check_count_cases(dense_params, "dense_params", _DENSE_PARAM_CASES, _DENSE_PARAM_MISTAKES,
                      ("n_in", "n_out"))
    passed("dense_params: 48120, 10164 and 850 parameters")


def _norm_shape(shape: Any) -> Any:
    try:
        return tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        return shape


def lenet5_table_rows(lenet5_table: Callable) -> None:
    """The eight rows of the spec's table, in order, and the total of 62,958."""
    rows = call(lenet5_table, name="lenet5_table")
    if rows is None:
        fail("`lenet5_table` returned None.", hint="the function is missing a `return` statement.")
    try:
        rows = list(rows)
    except TypeError:
        fail(f"`lenet5_table` returned {type(rows).__name__}; expected a list of rows.")
    names = [r[0] if isinstance(r, (tuple, list)) and r else r for r in rows]
    expected_names = [r[0] for r in LENET5_TABLE]
    if len(rows) != len(LENET5_TABLE):
        fail(f"`lenet5_table` returned {len(rows)} rows; expected {len(LENET5_TABLE)}.",
             f"Expected layers: {expected_names}", f"Yours:           {names}",
             hint="one row per layer, starting with the input and ending with the softmax "
                  "(the flatten step is not a row).")
    for i, (row, exp) in enumerate(zip(rows, LENET5_TABLE)):
        if not isinstance(row, (tuple, list)) or len(row) != 4:
            fail(f"`lenet5_table` row {i} is {row!r}; expected a 4-tuple "
                 "(layer, activation_shape, activation_size, n_params).")
        layer, shape, size, n_params = row
        if str(layer).strip().lower() != exp[0].lower():
            fail(f"`lenet5_table` row {i} is named {layer!r}; expected {exp[0]!r}.",
                 f"Expected layers, in order: {expected_names}")
        if _norm_shape(shape) != exp[1]:
            hint = None
            if _norm_shape(shape) == exp[1][:2]:
                hint = "the channels are missing from the shape."
            elif i and _norm_shape(shape) == LENET5_TABLE[i - 1][1]:
                hint = "the shape of the previous layer was repeated."
            fail(f"`lenet5_table` row {i} ({exp[0]}): activation_shape is {shape!r}; "
                 f"expected {exp[1]!r}.", hint=hint)
        for what, got, want in (("activation_size", size, exp[2]), ("n_params", n_params, exp[3])):
            if not isinstance(got, (int, np.integer)) or int(got) != want:
                hint = None
                if what == "activation_size" and np.prod(exp[1]) == want and got == sum(exp[1]):
                    hint = "the sizes were added; the activation size is their product."
                if what == "n_params" and exp[0].startswith("POOL"):
                    hint = "pooling layers have no parameters."
                if what == "n_params" and exp[0] == "input":
                    hint = "the input has no parameters."
                if what == "n_params" and isinstance(got, (int, np.integer)) and got in (
                        600, 3200, 48000, 10080, 840):
                    hint = "the bias is forgotten (one per filter or output unit)."
                fail(f"`lenet5_table` row {i} ({exp[0]}): {what} is {got!r}; expected {want!r}"
                     + (" (an int)" if isinstance(got, float) and got == want else "") + ".",
                     hint=hint)
    total = sum(int(r[3]) for r in rows)
    check_equal(total, LENET5_TOTAL, "lenet5_table (sum of n_params)")
    passed(f"lenet5_table: all {len(LENET5_TABLE)} rows agree; total {LENET5_TOTAL:,} parameters")


# ---------------------------------------------------------------- Keras models
GLUE_NAMES = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu",
              "PReLU": "prelu"}
GLUE = ("Activation", *GLUE_NAMES)


def _activation_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        cfg = value.get("config")
        return cfg if isinstance(cfg, str) else value.get("class_name")
    return getattr(value, "__name__", type(value).__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def model_layers(model: Any, name: str) -> list[dict]:
    """Describe each layer of a built Keras model (the rows of ``model.summary()``).

    Returns a list of dicts with ``kind`` (class name), ``config`` (``get_config()``),
    ``activation`` (``'relu'``, ``'softmax'``, ``'linear'`` or ``None`` for layers
    without one), ``output_shape`` (without the batch axis) and ``params``.
    Stand-alone activation layers (``Activation``, ``ReLU``, ``Softmax``) are folded
    into the layer before them when that layer is linear, so both Keras styles
    describe the same model. The ``InputLayer`` is left out.
    """
    import keras

    if model is None:
        fail(f"`{name}` returned None.", hint="the function is missing `return model`.")
    if not isinstance(model, keras.Model):
        fail(f"`{name}` returned {type(model).__name__}; expected a keras.Model "
             "(e.g. `keras.Sequential([...])`).")
    try:
        inputs = model.inputs
    except Exception:  # noqa: BLE001 - Keras raises ValueError for unbuilt models
        inputs = None
    if not inputs:
        fail(f"`{name}` returned a model that is not built: it has no input shape.",
             hint="start the Sequential list with `keras.Input(shape=...)` so Keras knows "
                  "the input shape and can count the parameters.")
    rows: list[dict] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        cfg = layer.get_config()
        try:
            out_shape = tuple(layer.output.shape[1:])
        except Exception:  # noqa: BLE001
            out_shape = None
        if kind in GLUE:
            act = (_activation_name(cfg.get("activation")) if kind == "Activation"
                   else GLUE_NAMES[kind])
            if rows and rows[-1]["activation"] in ("linear", None) and rows[-1]["kind"] != "Flatten":
                rows[-1]["activation"] = act
                rows[-1]["output_shape"] = out_shape
                continue
        rows.append({"kind": kind, "config": cfg, "layer": layer,
                     "activation": _activation_name(cfg["activation"]) if "activation" in cfg else None,
                     "output_shape": out_shape, "params": int(layer.count_params())})
    return rows


def describe(row: Mapping[str, Any]) -> str:
    """A short label such as ``Conv2D(32, 3x3, relu)`` for a layer row."""
    cfg, kind = row["config"], row["kind"]
    if kind == "Conv2D":
        k = cfg.get("kernel_size")
        extra = [f"{k[0]}x{k[1]}"]
        if tuple(cfg.get("strides", (1, 1))) != (1, 1):
            extra.append(f"stride {cfg['strides'][0]}")
        if cfg.get("padding") != "valid":
            extra.append(f"padding='{cfg.get('padding')}'")
        return f"Conv2D({cfg.get('filters')}, {', '.join(extra)}, {row['activation']})"
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        p = cfg.get("pool_size")
        return f"{kind}({p[0]}x{p[1]})"
    if kind == "Dense":
        return f"Dense({cfg.get('units')}, {row['activation']})"
    return kind


def summary_lines(rows: Sequence[Mapping[str, Any]]) -> str:
    """The model as a short numbered table (layer, output shape, parameters)."""
    lines = [f"  {i}. {describe(r):<34} {str(r['output_shape']):<16} {r['params']:>7,}"
             for i, r in enumerate(rows)]
    return "\n".join(lines)


def _expected_lines(expected: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(f"  {i}. {e['label']:<34} {str(e['output_shape']):<16} {e['params']:>7,}"
                     for i, e in enumerate(expected))


def _kinds(e: Mapping[str, Any]) -> tuple:
    k = e["kind"]
    return k if isinstance(k, tuple) else (k,)


def check_architecture(model: Any, expected: Sequence[Mapping[str, Any]], name: str, *,
                       input_shape: tuple, total: int) -> list[dict]:
    """Compare a Keras model with a constant list of expected layers, layer by layer.

    Each entry of ``expected`` has ``kind`` (a class name or a tuple of accepted
    names), ``label``, ``output_shape`` (no batch axis), ``params`` and optionally
    ``filters``, ``kernel_size``, ``strides``, ``padding``, ``units``, ``pool_size``
    and ``activation`` (a name, or ``"nonlinear"`` for any activation but linear).
    The message names the likely mistake: a missing or extra layer, a missing
    activation, a wrong kernel size, ``padding='same'``, a wrong input shape.
    """
    rows = model_layers(model, name)
    got_input = tuple(model.inputs[0].shape[1:])
    yours = f"Your model:\n{summary_lines(rows)}"
    wanted = f"Expected:\n{_expected_lines(expected)}"
    if got_input != tuple(input_shape):
        hint = None
        if got_input == (input_shape[-1],) + tuple(input_shape[:-1]):
            hint = ("the input is channels-first; Keras here is channels-last: "
                    f"`keras.Input(shape={tuple(input_shape)})`.")
        fail(f"`{name}`: the model's input shape is {got_input}; expected {tuple(input_shape)}.",
             hint=hint)
    got_kinds = [r["kind"] for r in rows]
    if len(rows) != len(expected) or any(k not in _kinds(e) for k, e in zip(got_kinds, expected)):
        exp_kinds = [_kinds(e)[0] for e in expected]
        groups = [next((ks for ks in map(_kinds, expected) if k in ks), (k,)) for k in got_kinds]
        matcher = difflib.SequenceMatcher(a=[_kinds(e) for e in expected], b=groups,
                                          autojunk=False)
        hints = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "delete":
                hints += [f"a missing layer: {expected[i].get('label')} (layer {i})" for i in range(i1, i2)]
            elif tag == "insert":
                hints += [f"an extra layer: {describe(rows[j])} (layer {j})" for j in range(j1, j2)]
            elif tag == "replace":
                hints.append(f"layer {j1} is {', '.join(got_kinds[j1:j2])} where "
                             f"{', '.join(expected[i]['label'] for i in range(i1, i2))} belongs")
        fail(f"`{name}`: the model has {len(rows)} layers {got_kinds}; expected {len(expected)} "
             f"{exp_kinds}.", wanted, yours, hint="; ".join(hints) or None)
    for i, (row, exp) in enumerate(zip(rows, expected)):
        cfg = row["config"]
        where = f"`{name}`: layer {i} ({describe(row)})"
        for key in ("filters", "units"):
            if key in exp and cfg.get(key) != exp[key]:
                fail(f"{where} has {key}={cfg.get(key)}; expected {exp[key]}.", wanted, yours,
                     hint=f"layer {i} should be {exp['label']}.")
        if "kernel_size" in exp and tuple(cfg.get("kernel_size", ())) != tuple(exp["kernel_size"]):
            k = exp["kernel_size"]
            fail(f"{where} has kernel_size {tuple(cfg['kernel_size'])}; expected {tuple(k)}.",
                 wanted, yours, hint=f"wrong kernel size: use `kernel_size=({k[0]}, {k[1]})`.")
        if "strides" in exp and tuple(cfg.get("strides", ())) != tuple(exp["strides"]):
            fail(f"{where} has strides {tuple(cfg['strides'])}; expected {tuple(exp['strides'])}.",
                 wanted, yours, hint="leave the stride at its default (1 for Conv2D, the pool "
                                     "size for pooling).")
        if "pool_size" in exp and tuple(cfg.get("pool_size", ())) != tuple(exp["pool_size"]):
            fail(f"{where} has pool_size {tuple(cfg['pool_size'])}; expected "
                 f"{tuple(exp['pool_size'])}.", wanted, yours)
        if "padding" in exp and cfg.get("padding") != exp["padding"]:
            fail(f"{where} uses padding='{cfg.get('padding')}'; expected '{exp['padding']}'.",
                 wanted, yours,
                 hint="padding='same' keeps the height and width, so every later shape and the "
                      "parameter count of the first Dense layer change; use the default "
                      "padding='valid'." if cfg.get("padding") == "same" else None)
        want_act = exp.get("activation")
        if want_act:
            act = row["activation"]
            if want_act == "nonlinear" and act in ("linear", None):
                fail(f"{where} has no activation (it is linear).", wanted, yours,
                     hint="a missing activation: without a non-linearity two stacked layers "
                          "collapse into one linear map; add e.g. `activation='relu'`.")
            if want_act != "nonlinear" and act != want_act:
                hint = (f"a missing activation: add `activation='{want_act}'`."
                        if act in ("linear", None) else
                        f"use `activation='{want_act}'` here.")
                if want_act == "softmax":
                    hint += " The output layer needs softmax so its outputs are probabilities."
                fail(f"{where} has activation '{act}'; expected '{want_act}'.", wanted, yours,
                     hint=hint)
        if row["output_shape"] is not None and tuple(row["output_shape"]) != tuple(exp["output_shape"]):
            fail(f"{where} outputs shape {row['output_shape']}; expected {exp['output_shape']}.",
                 wanted, yours)
        if row["params"] != exp["params"]:
            fail(f"{where} has {row['params']:,} parameters; expected {exp['params']:,}.",
                 wanted, yours, hint="use_bias=False was set?" if cfg.get("use_bias") is False else None)
    n = int(model.count_params())
    if n != total:
        fail(f"`{name}`: count_params() is {n:,}; expected {total:,}.", wanted, yours)
    return rows


def lenet5_expected() -> list[dict]:
    """The LeNet-5 layers of the table, as :func:`check_architecture` expects them."""
    t = {r[0]: r for r in LENET5_TABLE}
    pool = ("MaxPooling2D", "AveragePooling2D")
    return [
        dict(kind="Conv2D", label="Conv2D(8, 5x5, stride 1, valid)", filters=8, kernel_size=(5, 5),
             strides=(1, 1), padding="valid", activation="nonlinear",
             output_shape=t["CONV1"][1], params=t["CONV1"][3], row="CONV1"),
        dict(kind=pool, label="pooling 2x2, stride 2", pool_size=(2, 2), strides=(2, 2),
             output_shape=t["POOL1"][1], params=0, row="POOL1"),
        dict(kind="Conv2D", label="Conv2D(16, 5x5, stride 1, valid)", filters=16,
             kernel_size=(5, 5), strides=(1, 1), padding="valid", activation="nonlinear",
             output_shape=t["CONV2"][1], params=t["CONV2"][3], row="CONV2"),
        dict(kind=pool, label="pooling 2x2, stride 2", pool_size=(2, 2), strides=(2, 2),
             output_shape=t["POOL2"][1], params=0, row="POOL2"),
        dict(kind="Flatten", label="Flatten", output_shape=(400,), params=0, row=None),
        dict(kind="Dense", label="Dense(120)", units=120, activation="nonlinear",
             output_shape=t["FC3"][1], params=t["FC3"][3], row="FC3"),
        dict(kind="Dense", label="Dense(84)", units=84, activation="nonlinear",
             output_shape=t["FC4"][1], params=t["FC4"][3], row="FC4"),
        dict(kind="Dense", label="Dense(10, softmax)", units=10, activation="softmax",
             output_shape=t["softmax"][1], params=t["softmax"][3], row="softmax"),
    ]


def build_lenet5_matches_table(build_lenet5: Callable) -> None:
    """build_lenet5(): every summary row agrees with the table; 62,958 parameters."""
    model = call(build_lenet5, name="build_lenet5")
    check_architecture(model, lenet5_expected(), "build_lenet5", input_shape=LENET5_TABLE[0][1],
                       total=LENET5_TOTAL)
    passed(f"build_lenet5: 8 layers agree with the table row by row; {LENET5_TOTAL:,} parameters")


__all__ = [
    "CheckFailure", "LENET5_TABLE", "LENET5_TOTAL", "TABLE_COLUMNS",
    "conv_output_shape_examples", "pool_output_shape_examples", "conv_params_examples",
    "dense_params_examples", "lenet5_table_rows", "build_lenet5_matches_table",
    "model_layers", "check_architecture", "describe", "summary_lines", "lenet5_expected",
]

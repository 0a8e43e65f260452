"""Visible checks for notebook 10 (deeper networks: receptive fields, residual and dense blocks).

Expected values are constants: receptive fields and parameter counts of small fixed
cases, with the outputs of typical mistakes written out next to them. The Keras
blocks are judged by the graph they build, never by a training run:
:func:`keras_graph` lists every operation of a functional graph (its kind, the
configuration that matters, which operations feed it), and the ``check_*_graph``
functions walk that list to find the main path, the shortcut and the
concatenations, so a message can say "ReLU is applied before the Add" or "the
shortcut has no 1x1 projection although the stride is 2". Nothing here builds a
block: that is the student's work. The hidden tests reuse these walkers with
random shapes and the grader's own expected counts.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .core import CheckFailure, call, fail, passed
from .lenet5 import _activation_name, check_count_cases

# ---------------------------------------------------------------- receptive fields
#: notebook 07's network: Conv 3x3, MaxPool 2x2 (stride 2), Conv 3x3, MaxPool 2x2, Conv 3x3
NB07_LAYERS = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]
NB07_FIELD = 18
#: LeNet-5 up to CONV2: CONV1 5x5, POOL1 2x2 stride 2, CONV2 5x5
LENET5_CONV2_LAYERS = [(5, 1), (2, 2), (5, 1)]
LENET5_CONV2_FIELD = 14

RF_FORMULA = "r = 1 + sum_i (f_i - 1) * (s_1 * s_2 * ... * s_{i-1})  (the strides of the layers *below* layer i)"

_RF_CASES = (
    ((NB07_LAYERS,), {}, NB07_FIELD),
    ((LENET5_CONV2_LAYERS,), {}, LENET5_CONV2_FIELD),
    (([(3, 1), (3, 1), (3, 1)],), {}, 7),
    (([(3, 2), (3, 2), (3, 2)],), {}, 15),
    (([(7, 2), (3, 1)],), {}, 11),
    (([(5, 2), (3, 1), (3, 3)],), {}, 13),
    (([(5, 1)],), {}, 5),
    (([],), {}, 1),
)
#: the output of each typical mistake on every case above, in order
RF_MISTAKES = {
    "the strides are ignored: each layer adds (f - 1) times the product of the strides of "
    "the layers before it, not just f - 1": (9, 10, 7, 7, 9, 9, 5, 1),
    "the layer's own stride is multiplied in: layer i's (f_i - 1) is scaled by the strides "
    "of the layers *before* it (s_1 ... s_{i-1}), not including s_i": (21, 15, 7, 29, 17, 25, 5, 1),
    "the `+ 1` is missing: a stack of no layers still sees one pixel, so r starts at 1":
        (17, 13, 6, 14, 10, 12, 4, 0),
    "the strides are taken from the layers *above* layer i; the list runs from the input to "
    "the output, and only the layers below layer i spread its window": (18, 14, 7, 15, 9, 21, 5, 1),
}


def receptive_field_examples(receptive_field: Callable) -> None:
    """Notebook 07's network (18), LeNet-5's CONV2 (14), stacks with and without strides, []."""
    check_count_cases(receptive_field, "receptive_field", _RF_CASES, RF_MISTAKES, ("layers",))
    passed(f"receptive_field: notebook 07's network sees {NB07_FIELD}x{NB07_FIELD}, LeNet-5's "
           f"CONV2 {LENET5_CONV2_FIELD}x{LENET5_CONV2_FIELD}, and {len(_RF_CASES) - 2} more stacks")


# ---------------------------------------------------------------- residual block parameters
PARAMS_ARGS = ("n_C_prev", "filters", "stride")
_PARAM_CASES = (
    ((16, 16, 1), {}, 4768),
    ((16, 32, 2), {}, 14688),
    ((16, 32, 1), {}, 14688),
    ((3, 8), {}, 904),
    ((64, 64, 2), {}, 78528),
    ((8, 8, 2), {}, 1304),
)
#: the output of each typical mistake on every case above, in order
PARAM_MISTAKES = {
    "only the trainable batch-norm parameters are counted: BatchNormalization keeps 4 numbers "
    "per channel (gamma and beta are trained, the moving mean and variance are not), and "
    "count_params() counts all four": (4704, 14560, 14560, 872, 78272, 1272),
    "the batch-norm parameters are left out (4 per channel: gamma, beta, moving mean, "
    "moving variance)": (4640, 14432, 14432, 840, 78016, 1240),
    "the 1x1 projection is not counted; the shortcut needs one whenever the stride is not 1 "
    "or the channel count changes": (4768, 14144, 14144, 872, 74368, 1232),
    "a projection is counted although the shape does not change; an identity shortcut adds "
    "no parameters": (5040, 14688, 14688, 904, 78528, 1304),
    "the projection is counted only when the stride is not 1; it is also needed when the "
    "channel count changes": (4768, 14688, 14144, 872, 78528, 1304),
    "the projection is counted only when the channel count changes; it is also needed when "
    "the stride is not 1": (4768, 14688, 14688, 904, 74368, 1232),
    "the biases are left out: each Conv2D has one bias per filter": (4736, 14592, 14592, 880,
                                                                     78336, 1280),
    "the second Conv2D is counted with n_C_prev input channels; it reads the first one's "
    "output, which has `filters` channels": (4768, 10080, 10080, 544, 78528, 1304),
    "the projection is counted as a 3x3 convolution; it is 1x1: (n_C_prev + 1) * filters":
        (4768, 18784, 18784, 1096, 111296, 1816),
}


def residual_block_params_examples(residual_block_params: Callable) -> None:
    """Identity and projection shortcuts, stride 1 and 2, channel changes (constants)."""
    check_count_cases(residual_block_params, "residual_block_params", _PARAM_CASES,
                      PARAM_MISTAKES, PARAMS_ARGS)
    passed(f"residual_block_params: {len(_PARAM_CASES)} blocks (identity and projection "
           "shortcuts), batch norm counted with 4 parameters per channel")


# ---------------------------------------------------------------- describing a Keras graph
@dataclass
class Op:
    """One call of a layer (or a ``keras.ops`` function) in a functional graph.

    ``kind`` is normalised so that the Keras styles agree: ``"ReLU"`` for
    ``layers.ReLU()``, ``layers.Activation("relu")``, ``keras.ops.relu`` and a
    layer's own ``activation="relu"`` (then ``fused`` is True and the ReLU is its
    own step right after that layer); ``"Add"`` for ``layers.Add()``, ``layers.add``
    and ``+``; ``"Concatenate"`` for the layer and ``keras.ops.concatenate``;
    ``"Input"`` for the block's input; otherwise the class name.
    """

    index: int
    kind: str
    label: str
    inputs: tuple
    shape: tuple | None
    params: int
    config: dict
    layer_id: int | None = None
    fused: bool = False


def _keras():
    from utils import runtime

    return runtime.import_keras()


def _pair(v: Any) -> tuple:
    if isinstance(v, (list, tuple)):
        return tuple(int(a) for a in v)
    return (int(v), int(v))


def _config(op: Any) -> dict:
    try:
        cfg = op.get_config()
    except Exception:  # noqa: BLE001 - a keras.ops operation may have no config
        cfg = {}
    cfg = dict(cfg) if isinstance(cfg, Mapping) else {}
    if "axis" not in cfg and hasattr(op, "axis"):
        cfg["axis"] = getattr(op, "axis")
    return cfg


def _label(kind: str, cfg: Mapping[str, Any], rank: int | None) -> str:
    if kind == "Conv2D":
        k = _pair(cfg.get("kernel_size", 1))
        parts = [str(cfg.get("filters")), f"{k[0]}x{k[1]}"]
        s = _pair(cfg.get("strides", 1))
        if s != (1, 1):
            parts.append(f"stride {s[0]}" if s[0] == s[1] else f"strides {s}")
        parts.append(f"padding='{cfg.get('padding')}'")
        if cfg.get("use_bias") is False:
            parts.append("use_bias=False")
        if _pair(cfg.get("dilation_rate", 1)) != (1, 1):
            parts.append(f"dilation {_pair(cfg['dilation_rate'])}")
        return f"Conv2D({', '.join(parts)})"
    if kind == "BatchNormalization":
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        return "BatchNormalization" if axis in (-1, rank) else f"BatchNormalization(axis={axis})"
    if kind == "Concatenate":
        return f"Concatenate(axis={cfg.get('axis', -1)})"
    return kind


def _kind(op: Any, cfg: Mapping[str, Any]) -> str:
    cls = type(op).__name__
    if cls == "InputLayer":
        return "Input"
    if cls == "Activation":
        act = _activation_name(cfg.get("activation"))
        return "ReLU" if act == "relu" else f"Activation('{act}')"
    if cls == "ReLU":
        plain = (cfg.get("max_value") is None and not cfg.get("negative_slope")
                 and not cfg.get("threshold"))
        return "ReLU" if plain else (f"ReLU(max_value={cfg.get('max_value')}, negative_slope="
                                     f"{cfg.get('negative_slope')}, threshold={cfg.get('threshold')})")
    if cls == "Relu":  # keras.ops.relu
        return "ReLU"
    return cls


def _tensor_shape(t: Any) -> tuple | None:
    try:
        return tuple(None if d is None else int(d) for d in t.shape[1:])
    except Exception:  # noqa: BLE001
        return None


def keras_graph(x: Any, y: Any, name: str = "your block") -> list[Op]:
    """Every operation between the input tensor ``x`` and the output tensor ``y``.

    Returns the operations in an order where each comes after the ones that feed it
    (``ops[0]`` is the input, ``ops[-1]`` makes ``y``). Each layer call is one
    :class:`Op`; a layer called twice gives two (with the same ``layer_id``). A
    layer's own ``activation=...`` becomes an extra step right after it.
    """
    ops: list[Op] = []
    memo: dict[int, int] = {}
    x_node = x._keras_history.operation._inbound_nodes[x._keras_history.node_index]

    def visit(t: Any, depth: int = 0) -> int:
        history = getattr(t, "_keras_history", None)
        if history is None or history.operation is None:
            fail(f"`{name}` returned a tensor that is not built from the input it was given.",
                 hint="apply the layers to the tensor `x` passed to the function; do not create "
                      "a new keras.Input inside it.")
        op = history.operation
        node = op._inbound_nodes[history.node_index]
        if id(node) in memo:
            return memo[id(node)]
        if depth > 500:
            fail(f"`{name}`: the graph is more than 500 operations deep.")
        cfg = _config(op)
        kind = _kind(op, cfg)
        if kind == "Input":
            if node is not x_node:
                fail(f"`{name}` returned a tensor built on another keras.Input, not on `x`.",
                     hint="apply the layers to the tensor `x` passed to the function; do not "
                          "create a new keras.Input inside it.")
            inputs: tuple = ()
        else:
            inputs = tuple(visit(t_in, depth + 1) for t_in in node.input_tensors)
        shape = _tensor_shape(node.output_tensors[history.tensor_index])
        rank = None if shape is None else len(shape)
        try:
            params = int(op.count_params()) if hasattr(op, "count_params") else 0
        except Exception:  # noqa: BLE001 - an unbuilt layer
            params = 0
        is_layer = hasattr(op, "count_params")
        ops.append(Op(len(ops), kind, _label(kind, cfg, rank), inputs, shape, params, cfg,
                      id(op) if is_layer else None))
        act = _activation_name(cfg.get("activation")) if kind not in ("ReLU",) and \
            not kind.startswith("Activation") else None
        if act not in (None, "linear"):
            act_kind = "ReLU" if act == "relu" else f"Activation('{act}')"
            ops.append(Op(len(ops), act_kind,
                          f"{act_kind} (the activation='{act}' of step {len(ops) - 1})",
                          (len(ops) - 1,), shape, 0, {}, None, fused=True))
        memo[id(node)] = len(ops) - 1
        return len(ops) - 1

    visit(y)
    return ops


def graph_lines(ops: Sequence[Op]) -> str:
    """The graph as a numbered table: step, operation, the steps that feed it, shape, parameters."""
    lines = [f"  {'step':>4}  {'operation':<44} {'inputs':<9} {'output shape':<16} {'params':>7}"]
    for op in ops:
        feeds = ", ".join(str(i) for i in op.inputs) if op.inputs else "-"
        shape = "-" if op.shape is None else str(op.shape)
        lines.append(f"  {op.index:>4}  {op.label:<44} {feeds:<9} {shape:<16} {op.params:>7,}")
    return "\n".join(lines)


def show_graph(x: Any, y: Any) -> None:
    """Print the graph from ``x`` to ``y`` as :func:`graph_lines` does (for notebooks)."""
    print(graph_lines(keras_graph(x, y)))


# ---------------------------------------------------------------- building a block to judge
_SHAPES_ADD = re.compile(r"Received shapes \(([^)]*)\) and \(([^)]*)\)")
_SHAPES_BROADCAST = re.compile(r"Input shapes are: \[([^\]]*)\] and \[([^\]]*)\]")
_SHAPES_CONCAT = re.compile(r"input_shape=\[\(([^)]*)\), \(([^)]*)\)")


def _parse_shape(text: str) -> tuple:
    dims = [d.strip() for d in text.split(",") if d.strip()]
    return tuple(int(d) for d in dims if d != "None")


def _error_shapes(message: str) -> tuple | None:
    for pattern in (_SHAPES_ADD, _SHAPES_BROADCAST, _SHAPES_CONCAT):
        found = pattern.search(message)
        if found:
            try:
                return _parse_shape(found.group(1)), _parse_shape(found.group(2))
            except ValueError:
                return None
    return None


def out_size(n: int, stride: int) -> int:
    """Height or width after a padding='same' convolution with this stride: ceil(n / stride)."""
    return -(-int(n) // int(stride))


_VALID_TOO_SMALL = ("padding='valid': a 3x3 Conv2D without padding takes a pixel off every side, "
                    "and here the maps shrank to nothing; use padding='same'.")


def _too_small(message: str) -> bool:
    return "zero or negative" in message and "padding=valid" in message


def _residual_build_hint(message: str, input_shape: tuple, filters: int, stride: int) -> str | None:
    if _too_small(message):
        return _VALID_TOO_SMALL
    if "Concatenate" in message or "concatenat" in message.lower():
        return ("the shortcut is concatenated; a residual block *adds* it (Add), so the main path "
                "and the shortcut must have the same shape.")
    shapes = _error_shapes(message)
    if shapes is None:
        return None
    h, w, c = input_shape
    main = (out_size(h, stride), out_size(w, stride), filters)
    a, b = shapes
    pair = {a, b}
    if pair == {main, tuple(input_shape)}:
        why = []
        if stride != 1:
            why.append(f"the stride is {stride}")
        if c != filters:
            why.append(f"the channel count changes from {c} to {filters}")
        also = " (or a 1x1 projection without the stride)" if c == filters else ""
        return (f"no projection on the shortcut although {' and '.join(why)}{also}: the Add gets the "
                f"main path's {main} and the input's {tuple(input_shape)}. When the shape changes "
                f"the shortcut must be Conv2D({filters}, 1x1, strides={stride}) applied to x.")
    if any(len(s) == 3 and s[-1] in (c, filters) and s[0] <= main[0] and s[1] <= main[1]
           and s[:2] != main[:2] for s in pair):
        return ("padding='valid': each 3x3 Conv2D without padding takes a pixel off every side, so "
                f"the main path's maps shrink ({a} vs {b}); both 3x3 Conv2D need padding='same'.")
    if stride != 1 and pair == {main, (h, w, filters)}:
        return f"the 1x1 projection has no stride: it needs strides={stride}, like the first Conv2D."
    if pair == {main, (main[0], main[1], c)}:
        return f"the projection keeps {c} channels; it needs `filters` = {filters} filters."
    return (f"the two inputs of the Add have shapes {a} and {b}; the main path and the shortcut "
            f"must both give {main}.")


def _dense_build_hint(message: str, input_shape: tuple) -> str | None:
    if _too_small(message):
        return _VALID_TOO_SMALL
    if "Concatenate" in message or "concatenat" in message.lower():
        shapes = _error_shapes(message)
        if shapes and all(len(s) == 3 for s in shapes) and shapes[0][:2] != shapes[1][:2]:
            return ("padding='valid': the 3x3 Conv2D without padding shrinks the maps "
                    f"({shapes[0]} vs {shapes[1]}), so they cannot be stacked with the input; "
                    "use padding='same'.")
        return ("the concatenation is on the wrong axis: the feature maps have the same height "
                "and width but different channel counts, so they are stacked along the channels, "
                "the last axis (Concatenate(axis=-1)).")
    if _error_shapes(message) is not None or "broadcast" in message.lower():
        return ("the block adds instead of concatenating: Add needs equal shapes, and each layer's "
                "new features have growth_rate channels; a dense block stacks them onto its input "
                "with Concatenate(axis=-1).")
    return None


def build_block(fn: Callable, name: str, input_shape: tuple, args: tuple,
                hint_for_error: Callable[[str], str | None] | None = None):
    """Call ``fn(x, *args)`` on a new ``keras.Input(input_shape)``; return ``(x, y, ops, model)``.

    An error while building (shapes that do not fit an Add or a Concatenate) is
    turned into a message with the likely mistake; a result that is not a Keras
    tensor built on ``x`` is refused with advice.
    """
    keras = _keras()
    x = keras.Input(shape=tuple(input_shape))
    try:
        y = call(fn, x, *args, name=name)
    except CheckFailure as err:
        cause = err.__cause__
        hint = hint_for_error(str(cause)) if (hint_for_error and cause is not None) else None
        if hint:
            raise CheckFailure(f"{err}\nLikely mistake: {hint}") from cause
        raise
    if y is None:
        fail(f"`{name}` returned None.",
             hint="the function is missing a `return` of the block's output tensor.")
    if isinstance(y, keras.Model):
        fail(f"`{name}` returned a keras.Model; expected the block's output tensor.",
             hint="return the tensor after the last layer (the caller wraps it in a model, "
                  "e.g. `keras.Model(x, residual_block(x, 32))`).")
    if isinstance(y, (list, tuple)):
        fail(f"`{name}` returned a {type(y).__name__} of {len(y)} items; expected one tensor.",
             hint="return only the block's output tensor.")
    if not isinstance(y, keras.KerasTensor):
        fail(f"`{name}` returned {type(y).__name__} {y!r:.80}; expected a Keras tensor.",
             hint="apply Keras layers to `x` and return the last result.")
    ops = keras_graph(x, y, name)
    model = keras.Model(x, y)
    return x, y, ops, model


# ---------------------------------------------------------------- judging a residual block
MAIN_PATH = ("Conv2D", "BatchNormalization", "ReLU", "Conv2D", "BatchNormalization")


def residual_expected_lines(input_shape: tuple, filters: int, stride: int,
                            params: int | None = None) -> str:
    """The block the spec asks for, in words, for messages."""
    h, w, c = input_shape
    out = (out_size(h, stride), out_size(w, stride), filters)
    s = f", stride {stride}" if stride != 1 else ""
    needs = stride != 1 or c != filters
    shortcut = (f"Conv2D({filters}, 1x1{s}) applied to x (the shape changes)" if needs
                else "x itself (identity: the shape does not change)")
    tail = f", {params:,} parameters" if params is not None else ""
    return (f"Expected for input {tuple(input_shape)}, filters={filters}, stride={stride}:\n"
            f"  main path: Conv2D({filters}, 3x3{s}, padding='same') -> BatchNormalization -> ReLU"
            f" -> Conv2D({filters}, 3x3, padding='same') -> BatchNormalization\n"
            f"  shortcut:  {shortcut}\n"
            f"  then:      Add(main path, shortcut) -> ReLU; output {out}{tail}")


def _chain_to_input(ops: Sequence[Op], start: int) -> list[Op] | None:
    """The single-input steps from the block's input up to ``start``, or None if it branches."""
    path = []
    op = ops[start]
    while op.kind != "Input":
        if len(op.inputs) != 1:
            return None
        path.append(op)
        op = ops[op.inputs[0]]
    return path[::-1]


def _main_path_hints(kinds: list[str], main: list[Op], final_relu: bool) -> list[str]:
    hints = []
    n_bn = kinds.count("BatchNormalization")
    if kinds and kinds[-1] == "ReLU":
        hints.append("ReLU is applied before the Add: the main path must end with "
                     "BatchNormalization, and the block's ReLU comes after the addition "
                     "(relu(F(x) + shortcut)), so the shortcut's values pass unchanged into the sum"
                     + ("" if final_relu else "; there is no ReLU after the Add"))
    if n_bn < 2 and kinds.count("Conv2D") >= 2:
        if n_bn == 0:
            hints.append("batch normalisation is missing: each 3x3 Conv2D of the main path is "
                         "followed by BatchNormalization")
        else:
            first_conv = kinds.index("Conv2D")
            second_conv = kinds.index("Conv2D", first_conv + 1)
            where = "first" if "BatchNormalization" not in kinds[first_conv:second_conv] else "second"
            hints.append(f"batch normalisation is missing after the {where} Conv2D")
    for i in range(len(kinds) - 1):
        if kinds[i] == "ReLU" and kinds[i + 1] == "BatchNormalization":
            fused = " (activation='relu' on the Conv2D applies it straight away)" \
                if main[i].fused else ""
            hints.append("ReLU comes before BatchNormalization" + fused + "; the order is "
                         "Conv2D -> BatchNormalization -> ReLU")
            break
    return hints


def _check_conv(op: Op, name: str, where: str, *, filters: int, kernel: tuple, stride: int,
                details: tuple, same_padding: bool = True) -> None:
    cfg = op.config
    msg = f"`{name}`: {where} is {op.label}"
    if cfg.get("filters") != filters:
        fail(f"{msg}; it needs {filters} filters.", *details,
             hint=f"use `filters` ({filters}) filters in {where}.")
    if _pair(cfg.get("kernel_size", 1)) != kernel:
        fail(f"{msg}; its kernel must be {kernel[0]}x{kernel[1]}.", *details)
    if _pair(cfg.get("strides", 1)) != (stride, stride):
        fail(f"{msg}; it needs strides={stride}.", *details)
    if same_padding and cfg.get("padding") != "same":
        fail(f"{msg}.", *details,
             hint="padding='valid': a 3x3 Conv2D without padding takes a pixel off every side; "
                  "use padding='same' so the maps keep their size (divided by the stride).")
    if _pair(cfg.get("dilation_rate", 1)) != (1, 1) or cfg.get("groups", 1) != 1:
        fail(f"{msg}; use the default dilation_rate and groups.", *details)
    if cfg.get("use_bias") is False:
        fail(f"{msg}.", *details,
             hint="use_bias=False: keep Keras' default biases, as the parameter counts in this "
                  "notebook do.")


def _check_bn(op: Op, name: str, where: str, details: tuple) -> None:
    cfg = op.config
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    rank = len(op.shape) if op.shape else 3
    if axis not in (-1, rank):
        fail(f"`{name}`: {where} normalises axis {axis}.", *details,
             hint="BatchNormalization works per channel, and channels are the last axis: keep "
                  "the default axis=-1.")
    if cfg.get("center") is False or cfg.get("scale") is False:
        fail(f"`{name}`: {where} has center or scale turned off.", *details,
             hint="keep BatchNormalization's defaults (a learned gamma and beta per channel).")


def _reused_layers(ops: Sequence[Op]) -> list[str]:
    seen: dict[int, list[int]] = {}
    for op in ops:
        if op.layer_id is not None and op.params:
            seen.setdefault(op.layer_id, []).append(op.index)
    return [f"{ops[steps[0]].label} at steps {', '.join(map(str, steps))}"
            for steps in seen.values() if len(steps) > 1]


def _check_totals(ops: Sequence[Op], model: Any, name: str, expected_shape: tuple,
                  expected_params: int, details: tuple) -> None:
    out_shape = ops[-1].shape
    if tuple(out_shape or ()) != tuple(expected_shape):
        fail(f"`{name}`: the block's output has shape {out_shape}; expected {tuple(expected_shape)}.",
             *details)
    n = int(model.count_params())
    if n != expected_params:
        reused = _reused_layers(ops)
        fail(f"`{name}`: keras.Model(x, y).count_params() is {n:,}; expected {expected_params:,}.",
             *details,
             hint=("a layer object is called twice, so its weights are shared: "
                   + "; ".join(reused) + ". Create a new layer for each step.") if reused else None)


def check_residual_graph(ops: Sequence[Op], model: Any, name: str, input_shape: tuple,
                         filters: int, stride: int, expected_params: int) -> None:
    """Judge a residual block's graph against the spec; fail naming the first problem found."""
    h, w, c = input_shape
    expected_shape = (out_size(h, stride), out_size(w, stride), filters)
    details = (residual_expected_lines(input_shape, filters, stride, expected_params),
               "Your block:\n" + graph_lines(ops))
    out = ops[-1]
    adds = [op for op in ops if op.kind == "Add"]
    if out.kind == "Add":
        add, final_relu = out, False
    elif out.kind == "ReLU" and len(out.inputs) == 1 and ops[out.inputs[0]].kind == "Add":
        add, final_relu = ops[out.inputs[0]], True
    elif not adds:
        if any(op.kind == "Concatenate" for op in ops):
            hint = ("the shortcut is concatenated; a residual block *adds* it (Add), so the "
                    "channel count stays `filters`.")
        else:
            hint = "the shortcut is missing: there is no Add of the main path and the shortcut."
        fail(f"`{name}`: the block has no Add.", *details, hint=hint)
    else:
        fail(f"`{name}`: the block's output comes from step {out.index}, {out.label}; expected a "
             "ReLU applied to the Add.", *details,
             hint="the last two steps are Add(main path, shortcut) and then ReLU.")
    if len(add.inputs) != 2:
        fail(f"`{name}`: the Add (step {add.index}) has {len(add.inputs)} inputs; expected 2, the "
             "main path and the shortcut.", *details)
    chains = [_chain_to_input(ops, i) for i in add.inputs]
    if any(ch is None for ch in chains):
        fail(f"`{name}`: the inputs of the Add (steps {add.inputs[0]} and {add.inputs[1]}) are not "
             "two separate paths from the block's input x.", *details)
    short, main = sorted(chains, key=len)
    if {id(op) for op in short} & {id(op) for op in main} or (short and main and short[0] is main[0]):
        fail(f"`{name}`: the shortcut starts inside the main path.", *details,
             hint="the shortcut must start from the block's input x, not from a layer of the "
                  "main path.")
    kinds = [op.kind for op in main]
    if kinds != list(MAIN_PATH):
        hints = _main_path_hints(kinds, main, final_relu)
        fail(f"`{name}`: the main path is {' -> '.join(kinds) or 'empty'}; expected "
             f"{' -> '.join(MAIN_PATH)}.", *details, hint="; also ".join(hints) or None)
    if not final_relu:
        fail(f"`{name}`: the block ends with the Add.", *details,
             hint="the final ReLU after the Add is missing: the block returns relu(F(x) + shortcut).")
    conv1, bn1, _, conv2, bn2 = main
    if stride != 1 and _pair(conv1.config.get("strides", 1)) == (1, 1) \
            and _pair(conv2.config.get("strides", 1)) == (stride, stride):
        fail(f"`{name}`: the stride is on the second Conv2D.", *details,
             hint=f"strides={stride} belongs to the first 3x3 Conv2D; the second keeps stride 1.")
    _check_conv(conv1, name, "the first Conv2D of the main path", filters=filters, kernel=(3, 3),
                stride=stride, details=details)
    _check_conv(conv2, name, "the second Conv2D of the main path", filters=filters, kernel=(3, 3),
                stride=1, details=details)
    _check_bn(bn1, name, "the first BatchNormalization", details)
    _check_bn(bn2, name, "the second BatchNormalization", details)
    needs = stride != 1 or c != filters
    if not short:
        if needs:  # Keras refuses such an Add for a real shape change; kept for completeness
            fail(f"`{name}`: the shortcut is x itself.", *details,
                 hint="no projection although the shape changes: use Conv2D(filters, 1x1, "
                      "strides=stride) on the shortcut.")
    else:
        if not needs:
            fail(f"`{name}`: the shortcut goes through {' -> '.join(op.label for op in short)}.",
                 *details,
                 hint="a projection although the shape does not change (stride 1, same channel "
                      "count): use x itself; an identity shortcut adds no parameters.")
        if [op.kind for op in short] != ["Conv2D"]:
            hint = None
            if [op.kind for op in short] == ["Conv2D", "BatchNormalization"]:
                hint = ("the shortcut has a BatchNormalization after its 1x1 Conv2D; in this "
                        "block the projection is the 1x1 Conv2D alone.")
            fail(f"`{name}`: the shortcut is {' -> '.join(op.label for op in short)}; expected "
                 f"one Conv2D({filters}, 1x1, stride {stride}).", *details, hint=hint)
        proj = short[0]
        if _pair(proj.config.get("kernel_size", 1)) != (1, 1):
            fail(f"`{name}`: the projection is {proj.label}.", *details,
                 hint="the projection is a 1x1 convolution: it only changes the channel count "
                      "(and, with the stride, the size), it looks at no neighbours.")
        _check_conv(proj, name, "the 1x1 projection", filters=filters, kernel=(1, 1),
                    stride=stride, details=details, same_padding=False)
    _check_totals(ops, model, name, expected_shape, expected_params, details)


def judge_residual_block(residual_block: Callable, input_shape: tuple, filters: int, stride: int,
                         expected_params: int, name: str = "residual_block", *,
                         omit_stride: bool = False):
    """Build ``residual_block(x, filters, stride)`` on ``keras.Input(input_shape)`` and judge it.

    With ``omit_stride`` (and ``stride == 1``) the call leaves the stride at its default.
    """
    args = (filters,) if omit_stride and stride == 1 else (filters, stride)
    _, _, ops, model = build_block(
        residual_block, name, input_shape, args,
        lambda msg: _residual_build_hint(msg, tuple(input_shape), filters, stride))
    check_residual_graph(ops, model, name, tuple(input_shape), filters, stride, expected_params)
    return ops


# (input_shape, filters, stride, expected parameter count)
RESIDUAL_IDENTITY_CASES = (((8, 8, 16), 16, 1, 4768), ((6, 5, 8), 8, 1, 1232))
RESIDUAL_PROJECTION_CASES = (((8, 8, 16), 32, 2, 14688), ((8, 8, 16), 32, 1, 14688),
                             ((9, 7, 8), 8, 2, 1304))


def residual_block_identity(residual_block: Callable) -> None:
    """Stride 1, same channel count: main path, identity shortcut, Add then ReLU, counts."""
    for shape, filters, stride, params in RESIDUAL_IDENTITY_CASES:
        judge_residual_block(residual_block, shape, filters, stride, params)
    passed("residual_block: identity shortcut on (8, 8, 16) and (6, 5, 8): layers, order, Add "
           "then ReLU, shapes and parameter counts")


def residual_block_projection(residual_block: Callable) -> None:
    """Stride 2 and/or a channel change: the 1x1 projection with the stride, shapes, counts."""
    for shape, filters, stride, params in RESIDUAL_PROJECTION_CASES:
        judge_residual_block(residual_block, shape, filters, stride, params)
    passed("residual_block: 1x1 projection when the stride or the channel count changes "
           "(3 cases, one with odd sizes): layers, shapes and parameter counts")


# ---------------------------------------------------------------- judging a dense block
def dense_expected_lines(input_shape: tuple, n_layers: int, growth_rate: int,
                         params: int | None = None) -> str:
    """The block the spec asks for, in words, for messages."""
    h, w, c = input_shape
    tail = f", {params:,} parameters" if params is not None else ""
    return (f"Expected for input {tuple(input_shape)}, n_layers={n_layers}, "
            f"growth_rate={growth_rate}:\n"
            f"  {n_layers} times: BatchNormalization -> ReLU -> Conv2D({growth_rate}, 3x3, "
            "padding='same'), whose output is concatenated to the layer's input along the "
            "channels (Concatenate(axis=-1))\n"
            f"  layer k sees the block's input and the new features of layers 1..k-1; output "
            f"{(h, w, c + n_layers * growth_rate)}{tail}")


def _describe_content(content: Counter) -> str:
    names = sorted(content.elements(), key=lambda s: (s != "x", s))
    return "[" + ", ".join(names) + "]" if names else "[]"


def check_dense_graph(ops: Sequence[Op], model: Any, name: str, input_shape: tuple,
                      n_layers: int, growth_rate: int, expected_params: int) -> None:
    """Judge a dense block's graph against the spec; fail naming the first problem found."""
    h, w, c = input_shape
    expected_shape = (h, w, c + n_layers * growth_rate)
    details = (dense_expected_lines(input_shape, n_layers, growth_rate, expected_params),
               "Your block:\n" + graph_lines(ops))
    if any(op.kind == "Add" for op in ops):
        fail(f"`{name}`: the block contains an Add.", *details,
             hint="the block adds instead of concatenating: a dense block keeps every earlier "
                  "feature map and stacks the new ones onto it with Concatenate(axis=-1).")
    for op in ops:
        if op.kind == "Concatenate":
            axis = op.config.get("axis", -1)
            rank = len(op.shape) if op.shape else 3
            if axis not in (-1, rank):
                fail(f"`{name}`: step {op.index} concatenates on axis {axis}.", *details,
                     hint="the concatenation is on the wrong axis: in (m, n_H, n_W, n_C) the "
                          f"channels are the last axis (axis=-1), axis {axis} is the "
                          f"{['batch', 'height', 'width'][axis] if 0 <= axis < 3 else 'wrong'} axis.")
    convs = [op for op in ops if op.kind == "Conv2D"]
    if len(convs) != n_layers:
        fail(f"`{name}`: the block has {len(convs)} Conv2D layers; expected n_layers = {n_layers}, "
             "one per layer.", *details)
    number = {op.index: k + 1 for k, op in enumerate(convs)}

    def content(i: int) -> Counter:
        op = ops[i]
        if op.kind == "Input":
            return Counter(["x"])
        if op.index in number:
            return Counter([f"layer {number[op.index]}"])
        if op.kind == "Concatenate":
            total: Counter = Counter()
            for j in op.inputs:
                total += content(j)
            return total
        return Counter([f"{op.label} (step {op.index})"])

    for k, conv in enumerate(convs, start=1):
        where = f"layer {k}'s Conv2D (step {conv.index})"
        _check_conv(conv, name, where, filters=growth_rate, kernel=(3, 3), stride=1,
                    details=details)
        if _activation_name(conv.config.get("activation")) not in (None, "linear"):
            fail(f"`{name}`: {where} has activation='{_activation_name(conv.config['activation'])}'.",
                 *details, hint="in a dense layer the ReLU comes before the convolution "
                                "(BatchNormalization -> ReLU -> Conv2D), and the convolution's "
                                "output is concatenated as it is.")
        relu = ops[conv.inputs[0]] if len(conv.inputs) == 1 else None
        bn = ops[relu.inputs[0]] if relu is not None and relu.kind == "ReLU" else None
        if relu is None or relu.kind != "ReLU" or bn is None or bn.kind != "BatchNormalization":
            after = [o.kind for o in ops if conv.index in o.inputs]
            if relu is not None and relu.kind == "BatchNormalization":
                hint = "the ReLU is missing between BatchNormalization and the Conv2D."
            elif relu is not None and relu.kind == "ReLU":
                hint = "batch normalisation is missing: each layer starts with BatchNormalization."
            elif "BatchNormalization" in after:
                hint = ("each layer here is Conv2D -> BatchNormalization -> ReLU; a dense layer "
                        "uses the pre-activation order BatchNormalization -> ReLU -> Conv2D.")
            else:
                hint = ("batch normalisation is missing: each layer is BatchNormalization -> "
                        "ReLU -> Conv2D.")
            fail(f"`{name}`: {where} is not preceded by BatchNormalization -> ReLU.", *details,
                 hint=hint)
        _check_bn(bn, name, f"layer {k}'s BatchNormalization", details)
        if len(bn.inputs) != 1:
            fail(f"`{name}`: layer {k}'s BatchNormalization has {len(bn.inputs)} inputs.", *details)
        seen = content(bn.inputs[0])
        wanted = Counter(["x"] + [f"layer {j}" for j in range(1, k)])
        if seen != wanted:
            hint = ("each layer's input is the concatenation of the block's input x and the new "
                    "features of every earlier layer.")
            if k > 1 and seen == Counter([f"layer {k - 1}"]):
                hint = ("layer {k} sees only layer {p}'s new features, as in a plain stack; "
                        .format(k=k, p=k - 1) + hint)
            fail(f"`{name}`: layer {k} sees {_describe_content(seen)}; expected "
                 f"{_describe_content(wanted)}.", *details, hint=hint)
    out_seen = content(ops[-1].index)
    out_wanted = Counter(["x"] + [f"layer {j}" for j in range(1, n_layers + 1)])
    if out_seen != out_wanted:
        hint = None
        if out_seen == Counter([f"layer {n_layers}"]):
            hint = ("the block returns only the last layer's new features; return them "
                    "concatenated to that layer's input.")
        fail(f"`{name}`: the block's output holds {_describe_content(out_seen)}; expected "
             f"{_describe_content(out_wanted)}.", *details, hint=hint)
    _check_totals(ops, model, name, expected_shape, expected_params, details)


def judge_dense_block(dense_block: Callable, input_shape: tuple, n_layers: int, growth_rate: int,
                      expected_params: int, name: str = "dense_block"):
    """Build ``dense_block(x, n_layers, growth_rate)`` on ``keras.Input(input_shape)`` and judge it."""
    _, _, ops, model = build_block(dense_block, name, input_shape, (n_layers, growth_rate),
                                   lambda msg: _dense_build_hint(msg, tuple(input_shape)))
    check_dense_graph(ops, model, name, tuple(input_shape), n_layers, growth_rate,
                      expected_params)
    return ops


# (input_shape, n_layers, growth_rate, expected parameter count)
DENSE_CASES = (((8, 8, 16), 3, 12, 9444), ((5, 6, 4), 2, 4, 488))


def dense_block_examples(dense_block: Callable) -> None:
    """BN -> ReLU -> Conv2D per layer, concatenated along the channels; shapes and counts."""
    for shape, n_layers, growth, params in DENSE_CASES:
        judge_dense_block(dense_block, shape, n_layers, growth, params)
    passed("dense_block: (8, 8, 16) with 3 layers of growth 12 gives (8, 8, 52), and (5, 6, 4) "
           "with 2 layers of growth 4 gives (5, 6, 12): layers, concatenations, parameter counts")


__all__ = [
    "CheckFailure", "NB07_LAYERS", "NB07_FIELD", "LENET5_CONV2_LAYERS", "LENET5_CONV2_FIELD",
    "receptive_field_examples", "residual_block_params_examples", "residual_block_identity",
    "residual_block_projection", "dense_block_examples", "keras_graph", "graph_lines",
    "show_graph", "build_block", "check_residual_graph", "check_dense_graph",
    "judge_residual_block", "judge_dense_block", "out_size", "Op",
]

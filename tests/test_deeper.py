"""Notebook 10 (deeper networks): spec facts, and that every visible check and hidden test
gives full marks to correct answers in several styles and fails each typical mistake with a
message that names it.

The Keras blocks are judged by their graphs (no training). Answers are written as cell
sources, as a student's notebook holds them, so the same text serves direct calls of the
checks and whole-notebook grading through the wire (``nbtools.score_in_process``).
"""
from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from grader import notebook_cells as cells  # noqa: E402
from grader.references import deeper as hidden  # noqa: E402
from grader.references import seeding  # noqa: E402
from nbtools import REPO, fails, score_in_process, solution_namespace, solution_path  # noqa: E402
from utils.checks import deeper as check  # noqa: E402

STEM = "10_deeper_networks"
TOTAL = 14


@pytest.fixture(scope="module")
def keras():
    from utils import runtime

    return runtime.import_keras()


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


def define(source: str, keras_module=None) -> dict:
    """The names an answer cell's source defines, run as the notebook runs it."""
    from utils import runtime

    k = keras_module or runtime.import_keras()
    namespace = {"np": np, "keras": k, "layers": k.layers, "math": math}
    exec(compile(source, "<answer>", "exec"), namespace)
    return namespace


def fn(source: str, name: str):
    return define(source)[name]


# ================================================================= receptive_field
RF_STYLES = {
    "closed form with math.prod": """
def receptive_field(layers):
    return 1 + sum((f - 1) * math.prod(s for _, s in layers[:i]) for i, (f, _) in enumerate(layers))
""",
    "from the output back to the input": """
def receptive_field(layers):
    r = 1
    for f, s in reversed(layers):
        r = s * r + (f - s)
    return r
""",
    "numpy, returning np.int64": """
def receptive_field(layers):
    if not layers:
        return 1
    f = np.array([p[0] for p in layers])
    s = np.array([p[1] for p in layers])
    jumps = np.concatenate([[1], np.cumprod(s)[:-1]])
    return np.int64(1 + np.sum((f - 1) * jumps))
""",
}

RF_MISTAKES = {
    "ignores the strides": ("""
def receptive_field(layers):
    return 1 + sum(f - 1 for f, s in layers)
""", "strides are ignored"),
    "multiplies in the layer's own stride": ("""
def receptive_field(layers):
    r, jump = 1, 1
    for f, s in layers:
        jump *= s
        r += (f - 1) * jump
    return r
""", "own stride is multiplied in"),
    "forgets the +1": ("""
def receptive_field(layers):
    r, jump = 0, 1
    for f, s in layers:
        r += (f - 1) * jump
        jump *= s
    return r
""", r"`\+ 1` is missing"),
    "takes the strides from the layers above": ("""
def receptive_field(layers):
    r = 1
    for i, (f, s) in enumerate(layers):
        r += (f - 1) * math.prod(t for _, t in layers[i + 1:])
    return r
""", "layers \\*above\\* layer i"),
    "returns a float (np.prod of an empty list is 1.0)": ("""
def receptive_field(layers):
    return 1 + sum((f - 1) * np.prod([s for _, s in layers[:i]]) for i, (f, _) in enumerate(layers))
""", "expected an int|whole number"),
}


def test_receptive_field_facts(ns):
    """Notebook 07's last convolution sees 18x18 of 28x28; LeNet-5's CONV2 14x14 of 32x32."""
    rf = ns["receptive_field"]
    assert rf([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]) == 18
    assert rf([(5, 1), (2, 2), (5, 1)]) == 14
    assert [rf([(3, 1)] * k) for k in range(4)] == [1, 3, 5, 7]
    assert type(rf([(3, 2)])) is int


def test_visible_receptive_field_constants_match_the_reference():
    """The visible check's expected values and mistake outputs equal the grader's recursions."""
    cases = check._RF_CASES
    assert [exp for _, _, exp in cases] == [hidden.ref_receptive_field(args[0]) for args, _, _ in cases]
    assert (check.NB07_FIELD, check.LENET5_CONV2_FIELD) == (
        hidden.ref_receptive_field(check.NB07_LAYERS),
        hidden.ref_receptive_field(check.LENET5_CONV2_LAYERS))
    for description, kw in hidden._RF_VARIANTS.items():
        assert list(check.RF_MISTAKES[description]) == [
            hidden._field_variant(args[0], **kw) for args, _, _ in cases], description


def test_receptive_field_reference_agrees_with_measured_gradients(keras):
    """Independent check of the reference: the support of a gradient through all-ones convolutions."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    for _ in range(4):
        stack = [(int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 2]))) for _ in range(4)]
        size = hidden.ref_receptive_field(stack) + 12
        probe = keras.Sequential([keras.Input((size, size, 1))] + [
            keras.layers.Conv2D(1, f, strides=s, use_bias=False, kernel_initializer="ones")
            for f, s in stack])
        image = tf.ones((1, size, size, 1))
        with tf.GradientTape() as tape:
            tape.watch(image)
            out = probe(image)[0, 0, 0, 0]
        rows = np.nonzero(tape.gradient(out, image).numpy()[0, :, 0, 0])[0]
        assert rows.max() - rows.min() + 1 == hidden.ref_receptive_field(stack), stack


# ================================================================= residual_block_params
PARAMS_MISTAKES = {
    "counts only the trainable batch-norm parameters": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    n = (9 * n_C_prev + 1) * filters + (9 * filters + 1) * filters + 2 * 2 * filters
    if stride != 1 or n_C_prev != filters:
        n += (n_C_prev + 1) * filters
    return n
""", "only the trainable batch-norm parameters"),
    "never counts the projection": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    return (9 * n_C_prev + 1) * filters + (9 * filters + 1) * filters + 8 * filters
""", "projection is not counted"),
    "always counts a projection": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    return (9 * n_C_prev + 1) * filters + (9 * filters + 1) * filters + 8 * filters + (n_C_prev + 1) * filters
""", "identity shortcut adds no parameters"),
    "projection only for a stride": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    n = (9 * n_C_prev + 1) * filters + (9 * filters + 1) * filters + 8 * filters
    return n + ((n_C_prev + 1) * filters if stride != 1 else 0)
""", "only when the stride is not 1"),
    "biases left out": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    n = 9 * n_C_prev * filters + 9 * filters * filters + 8 * filters
    return n + (n_C_prev * filters if stride != 1 or n_C_prev != filters else 0)
""", "biases are left out"),
    "second conv on the input's channels": ("""
def residual_block_params(n_C_prev, filters, stride=1):
    n = 2 * (9 * n_C_prev + 1) * filters + 8 * filters
    return n + ((n_C_prev + 1) * filters if stride != 1 or n_C_prev != filters else 0)
""", "second Conv2D is counted with n_C_prev"),
}


def test_visible_parameter_constants_match_the_reference():
    cases = check._PARAM_CASES
    assert [exp for _, _, exp in cases] == [hidden.ref_residual_block_params(*a) for a, _, _ in cases]
    rows = [hidden._param_mistakes(*(tuple(a) + (1,))[:3]) for a, _, _ in cases]
    for i, description in enumerate(check.PARAM_MISTAKES):
        assert list(check.PARAM_MISTAKES[description]) == [r[i] for r in rows], description
    for shape, filters, stride, params in check.RESIDUAL_IDENTITY_CASES + check.RESIDUAL_PROJECTION_CASES:
        assert params == hidden.ref_residual_block_params(shape[-1], filters, stride)
    for shape, n_layers, growth, params in check.DENSE_CASES:
        assert params == hidden.ref_dense_block_params(shape[-1], n_layers, growth)


def test_reference_counts_agree_with_keras_count_params(ns, keras):
    """The spec's fact: the counting formulas give what count_params() reports (random blocks)."""
    rng = np.random.default_rng(10)
    for _ in range(5):
        c, f, s = int(rng.integers(1, 40)), int(rng.integers(1, 40)), int(rng.choice([1, 2, 3]))
        x = keras.Input((9, 7, c))
        model = keras.Model(x, ns["residual_block"](x, f, s))
        assert model.count_params() == hidden.ref_residual_block_params(c, f, s) \
            == ns["residual_block_params"](c, f, s), (c, f, s)
        n, g = int(rng.integers(1, 5)), int(rng.integers(1, 20))
        x = keras.Input((6, 5, c))
        model = keras.Model(x, ns["dense_block"](x, n, g))
        assert model.count_params() == hidden.ref_dense_block_params(c, n, g), (c, n, g)
        assert model.output.shape[1:] == (6, 5, c + n * g)


def test_identity_shortcut_adds_no_parameters(ns, keras):
    """The identity block has exactly the parameters of its two Conv2D and two BN layers."""
    x = keras.Input((8, 8, 16))
    model = keras.Model(x, ns["residual_block"](x, 16, 1))
    kinds = [type(layer).__name__ for layer in model.layers if layer.count_params()]
    assert kinds == ["Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization"]
    assert model.count_params() == 2 * (9 * 16 + 1) * 16 + 2 * 4 * 16
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert model.count_params() - trainable == 2 * 2 * 16  # moving mean and variance


# ================================================================= residual_block
RESIDUAL_STYLES = {
    "Activation('relu'), layers.add, a projection with tuples and padding='same'": """
def residual_block(x, filters, stride=1):
    if stride == 1 and x.shape[3] == filters:
        shortcut = x
    else:
        shortcut = layers.Conv2D(filters=filters, kernel_size=(1, 1), strides=(stride, stride),
                                 padding="same")(x)
    h = layers.Conv2D(filters, kernel_size=3, strides=(stride, stride), padding="same")(x)
    h = layers.BatchNormalization(axis=-1)(h)
    h = layers.Activation("relu")(h)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    h = layers.BatchNormalization(axis=3)(h)
    h = layers.add([shortcut, h])
    return layers.Activation("relu")(h)
""",
    "keras.ops: + and relu": """
def residual_block(x, filters, stride=1):
    h = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
    h = keras.ops.relu(layers.BatchNormalization()(h))
    h = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(h))
    shortcut = x if (stride, x.shape[-1]) == (1, filters) else layers.Conv2D(filters, 1, strides=stride)(x)
    return keras.ops.relu(h + shortcut)
""",
    "one ReLU object reused (it has no weights)": """
def residual_block(x, filters, stride=1):
    relu = layers.ReLU()
    h = relu(layers.BatchNormalization()(layers.Conv2D(filters, 3, strides=stride, padding="same")(x)))
    h = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(h))
    if stride > 1 or int(x.shape[-1]) != filters:
        x = layers.Conv2D(filters, 1, strides=stride, padding="valid")(x)
    return relu(layers.Add()([h, x]))
""",
}

_GOOD_MAIN = """
    h = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    h = layers.BatchNormalization()(h)
"""
_GOOD_SHORTCUT = """
    s = x
    if stride != 1 or x.shape[-1] != filters:
        s = layers.Conv2D(filters, 1, strides=stride)(x)
"""
_HEAD = "def residual_block(x, filters, stride=1):\n"
_END = "    return layers.ReLU()(layers.Add()([h, s]))\n"

# mistake: (source, tests it loses ("identity", "projection"), message)
RESIDUAL_MISTAKES = {
    "no projection (identity always)": (_HEAD + _GOOD_MAIN + "    s = x\n" + _END, {"projection"},
                                        "no projection on the shortcut although the stride is 2"),
    "projection only when the stride changes": (
        _HEAD + _GOOD_MAIN + "    s = layers.Conv2D(filters, 1, strides=stride)(x) if stride != 1 else x\n"
        + _END, {"projection"}, "channel count changes from 16 to 32"),
    "a projection always": (_HEAD + _GOOD_MAIN + "    s = layers.Conv2D(filters, 1, strides=stride)(x)\n"
                            + _END, {"identity"}, "projection although the shape does not change"),
    "ReLU before the Add, none after": (
        _HEAD + _GOOD_MAIN + "    h = layers.ReLU()(h)\n" + _GOOD_SHORTCUT
        + "    return layers.Add()([h, s])\n", {"identity", "projection"},
        "ReLU is applied before the Add.*no ReLU after the Add"),
    "ReLU before and after the Add": (
        _HEAD + _GOOD_MAIN + "    h = layers.ReLU()(h)\n" + _GOOD_SHORTCUT + _END,
        {"identity", "projection"}, "ReLU is applied before the Add"),
    "no final ReLU": (_HEAD + _GOOD_MAIN + _GOOD_SHORTCUT + "    return layers.Add()([h, s])\n",
                      {"identity", "projection"}, "final ReLU after the Add is missing"),
    "batch normalisation missing": (
        _HEAD + _GOOD_MAIN.replace("    h = layers.BatchNormalization()(h)\n", "") + _GOOD_SHORTCUT + _END,
        {"identity", "projection"}, "batch normalisation is missing"),
    "batch normalisation missing after the second Conv2D": (
        _HEAD + _GOOD_MAIN.rsplit("    h = layers.BatchNormalization()(h)\n", 1)[0] + _GOOD_SHORTCUT + _END,
        {"identity", "projection"}, "batch normalisation is missing after the second Conv2D"),
    "padding='valid'": (_HEAD + _GOOD_MAIN.replace('padding="same"', 'padding="valid"')
                        + _GOOD_SHORTCUT + _END, {"identity", "projection"}, "padding='valid'"),
    "padding='valid' on the second Conv2D": (
        _HEAD + _GOOD_MAIN.replace('(filters, 3, padding="same")', '(filters, 3)') + _GOOD_SHORTCUT
        + _END, {"identity", "projection"}, "padding='valid'"),
    "activation='relu' on the first Conv2D": (
        _HEAD + _GOOD_MAIN.replace('strides=stride, padding="same")', 'strides=stride, padding="same", '
                                   'activation="relu")').replace("    h = layers.ReLU()(h)\n", "")
        + _GOOD_SHORTCUT + _END, {"identity", "projection"}, "ReLU comes before BatchNormalization"),
    "the stride on the second Conv2D": (
        _HEAD + _GOOD_MAIN.replace('strides=stride, padding="same")', 'padding="same")', 1)
        .replace('(filters, 3, padding="same")(h)', '(filters, 3, strides=stride, padding="same")(h)')
        + _GOOD_SHORTCUT + _END, {"projection"}, "stride is on the second Conv2D"),
    "a 3x3 projection": (_HEAD + _GOOD_MAIN + _GOOD_SHORTCUT.replace("(filters, 1,", "(filters, 3, padding='same',")
                         + _END, {"projection"}, "the projection is a 1x1 convolution"),
    "a projection without the stride": (
        _HEAD + _GOOD_MAIN + _GOOD_SHORTCUT.replace(", strides=stride)(x)", ")(x)") + _END,
        {"projection"}, "projection has no stride|projection without the stride"),
    "BatchNormalization after the projection": (
        _HEAD + _GOOD_MAIN + _GOOD_SHORTCUT.replace("(x)\n", "(x)\n        s = layers.BatchNormalization()(s)\n")
        + _END, {"projection"}, "BatchNormalization after its 1x1 Conv2D"),
    "Concatenate instead of Add": (
        _HEAD + _GOOD_MAIN + "    return layers.ReLU()(layers.Concatenate()([h, x]))\n",
        {"identity", "projection"}, "shortcut is concatenated"),
    "the shortcut taken inside the main path": (
        _HEAD + """    first = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
    h = layers.BatchNormalization()(first)
    h = layers.ReLU()(h)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    h = layers.BatchNormalization()(h)
    return layers.ReLU()(layers.Add()([h, first]))
""", {"identity", "projection"}, "shortcut starts inside the main path"),
    "one BatchNormalization layer used twice": (
        _HEAD + """    bn = layers.BatchNormalization()
    h = layers.ReLU()(bn(layers.Conv2D(filters, 3, strides=stride, padding="same")(x)))
    h = bn(layers.Conv2D(filters, 3, padding="same")(h))
""" + _GOOD_SHORTCUT + _END, {"identity", "projection"}, "layer object is called twice"),
    "use_bias=False": (_HEAD + _GOOD_MAIN.replace('padding="same")', 'padding="same", use_bias=False)')
                       + _GOOD_SHORTCUT + _END, {"identity", "projection"}, "use_bias=False"),
    "returns a model": (_HEAD + _GOOD_MAIN + _GOOD_SHORTCUT
                        + "    return keras.Model(x, layers.ReLU()(layers.Add()([h, s])))\n",
                        {"identity", "projection"}, "returned a keras.Model"),
    "returns nothing": (_HEAD + _GOOD_MAIN + _GOOD_SHORTCUT + "    layers.ReLU()(layers.Add()([h, s]))\n",
                        {"identity", "projection"}, "returned None"),
}

VISIBLE_RESIDUAL = {"identity": check.residual_block_identity,
                    "projection": check.residual_block_projection}
HIDDEN_RESIDUAL = {"identity": hidden.residual_block_identity_random,
                   "projection": hidden.residual_block_projection_random}


def test_solution_residual_block_passes(ns, capsys):
    for test in (*VISIBLE_RESIDUAL.values(), *HIDDEN_RESIDUAL.values()):
        test(ns["residual_block"])
    assert capsys.readouterr().out.count("\u2714") == 4


@pytest.mark.parametrize("style", sorted(RESIDUAL_STYLES))
def test_residual_block_other_correct_styles_pass(style):
    answer = fn(RESIDUAL_STYLES[style], "residual_block")
    for test in (*VISIBLE_RESIDUAL.values(), *HIDDEN_RESIDUAL.values()):
        test(answer)


@pytest.mark.parametrize("mistake", sorted(RESIDUAL_MISTAKES))
def test_residual_block_mistakes_are_named(mistake):
    source, loses, message = RESIDUAL_MISTAKES[mistake]
    answer = fn(source, "residual_block")
    for which in ("identity", "projection"):
        if which in loses:
            fails(VISIBLE_RESIDUAL[which], answer, match=message)
            fails(HIDDEN_RESIDUAL[which], answer, match=message.replace("16 to 32", r"\d+ to \d+")
                  .replace("stride is 2", "stride is [23]"))
        else:
            VISIBLE_RESIDUAL[which](answer)
            HIDDEN_RESIDUAL[which](answer)


def test_a_block_on_its_own_input_is_refused(keras):
    answer = fn("""
def residual_block(x, filters, stride=1):
    return layers.ReLU()(keras.Input((8, 8, 16)))
""", "residual_block")
    fails(check.residual_block_identity, answer, match="not built from the input|another keras.Input")


# ================================================================= dense_block
DENSE_STYLES = {
    "DenseNet's list of features, concatenated each time": """
def dense_block(x, n_layers, growth_rate):
    features = [x]
    for _ in range(n_layers):
        h = features[0] if len(features) == 1 else layers.Concatenate()(features)
        h = layers.Conv2D(growth_rate, 3, padding="same")(layers.ReLU()(layers.BatchNormalization()(h)))
        features.append(h)
    return layers.concatenate(features)
""",
    "keras.ops.concatenate, new maps first, axis=3": """
def dense_block(x, n_layers, growth_rate):
    for k in range(n_layers):
        h = layers.BatchNormalization()(x)
        h = layers.Activation("relu")(h)
        h = layers.Conv2D(filters=growth_rate, kernel_size=(3, 3), strides=1, padding="same")(h)
        x = keras.ops.concatenate([h, x], axis=3) if k % 2 else layers.Concatenate(axis=3)([h, x])
    return x
""",
}

_DENSE_GOOD = """def dense_block(x, n_layers, growth_rate):
    for _ in range(n_layers):
        h = layers.BatchNormalization()(x)
        h = layers.ReLU()(h)
        h = layers.Conv2D(growth_rate, 3, padding="same")(h)
        x = layers.Concatenate(axis=-1)([x, h])
    return x
"""
DENSE_MISTAKES = {
    "adds instead of concatenating": (_DENSE_GOOD.replace("layers.Concatenate(axis=-1)([x, h])",
                                                          "layers.Add()([x, h])"),
                                      "adds instead of concatenating"),
    "adds with +": (_DENSE_GOOD.replace("layers.Concatenate(axis=-1)([x, h])", "x + h"),
                    "adds instead of concatenating"),
    "concatenates on the height axis": (_DENSE_GOOD.replace("axis=-1", "axis=1"), "wrong axis"),
    "concatenates on the width axis": (_DENSE_GOOD.replace("axis=-1", "axis=2"), "wrong axis"),
    "Conv2D -> BN -> ReLU (post-activation)": ("""def dense_block(x, n_layers, growth_rate):
    for _ in range(n_layers):
        h = layers.Conv2D(growth_rate, 3, padding="same")(x)
        h = layers.ReLU()(layers.BatchNormalization()(h))
        x = layers.Concatenate()([x, h])
    return x
""", "pre-activation"),
    "batch normalisation missing": (_DENSE_GOOD.replace("layers.BatchNormalization()(x)", "x"),
                                    "batch normalisation is missing"),
    "ReLU missing": (_DENSE_GOOD.replace("        h = layers.ReLU()(h)\n", ""), "ReLU is missing"),
    "padding='valid'": (_DENSE_GOOD.replace(', padding="same"', ""), "padding='valid'"),
    "returns only the last layer's new maps": (_DENSE_GOOD.replace("    return x\n", "    return h\n"),
                                               "returns only the last layer's new features"),
    "a plain stack, concatenated at the end": ("""def dense_block(x, n_layers, growth_rate):
    outputs, h = [x], x
    for _ in range(n_layers):
        h = layers.Conv2D(growth_rate, 3, padding="same")(layers.ReLU()(layers.BatchNormalization()(h)))
        outputs.append(h)
    return layers.Concatenate()(outputs)
""", "sees only layer 1's new features"),
    "each layer adds n_C_prev channels": (_DENSE_GOOD.replace("Conv2D(growth_rate", "Conv2D(x.shape[-1]"),
                                          "needs \\d+ filters"),
}


def test_wrong_axis_is_named_when_the_shapes_happen_to_fit(keras):
    """growth_rate == n_C_prev: Concatenate(axis=1) builds, the graph shows the axis."""
    answer = fn(_DENSE_GOOD.replace("axis=-1", "axis=1"), "dense_block")
    ops = check.build_block(answer, "dense_block", (6, 6, 4), (2, 4))[2]
    msg = fails(check.check_dense_graph, ops, None, "dense_block", (6, 6, 4), 2, 4, 0,
                match="concatenates on axis 1")
    assert "height axis" in msg
    add = fn(_DENSE_GOOD.replace("layers.Concatenate(axis=-1)([x, h])", "layers.Add()([x, h])"),
             "dense_block")
    ops = check.build_block(add, "dense_block", (6, 6, 4), (2, 4))[2]
    fails(check.check_dense_graph, ops, None, "dense_block", (6, 6, 4), 2, 4, 0,
          match="adds instead of concatenating")


# ================================================================= one visible and one hidden test each
# name: (visible check, hidden test, other correct styles, mistakes)
SINGLE = {
    "receptive_field": (check.receptive_field_examples, hidden.receptive_field_random,
                        RF_STYLES, RF_MISTAKES),
    "residual_block_params": (check.residual_block_params_examples,
                              hidden.residual_block_params_random, {}, PARAMS_MISTAKES),
    "dense_block": (check.dense_block_examples, hidden.dense_block_random, DENSE_STYLES,
                    DENSE_MISTAKES),
}


@pytest.mark.parametrize("name, style", [(n, None) for n in SINGLE] + [
    (n, style) for n, spec in SINGLE.items() for style in sorted(spec[2])])
def test_solution_and_other_correct_styles_pass(name, style, ns):
    visible_check, hidden_test, styles, _ = SINGLE[name]
    answer = ns[name] if style is None else fn(styles[style], name)
    visible_check(answer)
    hidden_test(answer)


@pytest.mark.parametrize("name, mistake", [
    (n, mistake) for n, spec in SINGLE.items() for mistake in sorted(spec[3])])
def test_mistakes_are_named(name, mistake):
    visible_check, hidden_test, _, mistakes = SINGLE[name]
    source, message = mistakes[mistake]
    answer = fn(source, name)
    fails(visible_check, answer, match=message)
    fails(hidden_test, answer, match=message)


# ================================================================= describing graphs
def test_graph_folds_styles_and_marks_fused_activations(keras):
    layers = keras.layers
    x = keras.Input((5, 5, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = layers.Activation("relu")(h)
    h = keras.ops.relu(h)
    h = h + layers.ReLU(max_value=6.0)(h)
    h = layers.Concatenate()([h, x])
    ops = check.keras_graph(x, h)
    assert [op.kind for op in ops] == ["Input", "Conv2D", "ReLU", "ReLU", "ReLU",
                                       ops[5].kind, "Add", "Concatenate"]
    assert ops[2].fused and not ops[3].fused and ops[5].kind.startswith("ReLU(max_value=6.0")
    assert ops[6].inputs == (4, 5) and ops[7].inputs == (6, 0) and ops[7].shape == (5, 5, 7)
    assert ops[1].params == (27 + 1) * 4
    table = check.graph_lines(ops)
    assert "Conv2D(4, 3x3, padding='same')" in table and "activation='relu' of step 1" in table


def test_graph_keeps_each_call_of_a_shared_layer(keras):
    layers = keras.layers
    x = keras.Input((4, 4, 2))
    conv = layers.Conv2D(2, 1)
    ops = check.keras_graph(x, conv(conv(x)))
    assert [op.kind for op in ops] == ["Input", "Conv2D", "Conv2D"]
    assert ops[1].layer_id == ops[2].layer_id and ops[2].inputs == (1,)
    assert check._reused_layers(ops)


# ================================================================= whole notebook, as graded
def _mistakes(*pairs):
    return {gid: source for gid, source in pairs}


@pytest.mark.parametrize("student", [None, "student-a", "student-b"])
def test_solution_gets_full_marks_when_graded(student):
    points, total, failed = score_in_process(STEM, student=student)
    assert (points, total, failed) == (TOTAL, TOTAL, [])


def test_other_correct_styles_get_full_marks_when_graded():
    answers = {
        "receptive_field": RF_STYLES["from the output back to the input"],
        "residual_block": RESIDUAL_STYLES["keras.ops: + and relu"],
        "dense_block": DENSE_STYLES["DenseNet's list of features, concatenated each time"],
    }
    assert score_in_process(STEM, answers, student="student-c") == (TOTAL, TOTAL, [])
    answers = {
        "receptive_field": RF_STYLES["numpy, returning np.int64"],
        "residual_block": RESIDUAL_STYLES[
            "Activation('relu'), layers.add, a projection with tuples and padding='same'"],
        "dense_block": DENSE_STYLES["keras.ops.concatenate, new maps first, axis=3"],
    }
    assert score_in_process(STEM, answers, student="student-d") == (TOTAL, TOTAL, [])


# each run combines one listed mistake per answer cell; the failed tests show the points lost
GRADED_MISTAKES = [
    (_mistakes(("receptive_field", RF_MISTAKES["ignores the strides"][0]),
               ("residual_block", RESIDUAL_MISTAKES["no projection (identity always)"][0]),
               ("residual_block_params", PARAMS_MISTAKES["counts only the trainable batch-norm parameters"][0]),
               ("dense_block", DENSE_MISTAKES["adds instead of concatenating"][0])),
     {"receptive_field_examples", "residual_block_projection", "residual_block_params_counts",
      "dense_block_concatenates"}),
    (_mistakes(("receptive_field", RF_MISTAKES["multiplies in the layer's own stride"][0]),
               ("residual_block", RESIDUAL_MISTAKES["ReLU before the Add, none after"][0]),
               ("dense_block", DENSE_MISTAKES["concatenates on the height axis"][0])),
     {"receptive_field_examples", "residual_block_identity", "residual_block_projection",
      "dense_block_concatenates"}),
    (_mistakes(("receptive_field", RF_MISTAKES["forgets the +1"][0]),
               ("residual_block", RESIDUAL_MISTAKES["batch normalisation missing"][0])),
     {"receptive_field_examples", "residual_block_identity", "residual_block_projection"}),
    (_mistakes(("residual_block", RESIDUAL_MISTAKES["padding='valid'"][0])),
     {"residual_block_identity", "residual_block_projection"}),
]


@pytest.mark.parametrize("case", range(len(GRADED_MISTAKES)))
def test_listed_mistakes_lose_points_when_graded(case):
    answers, lost = GRADED_MISTAKES[case]
    points, total, failed = score_in_process(STEM, answers, student="student-e")
    assert set(failed) == lost
    nb = cells.read(solution_path(STEM))
    worth = {cells.nbgrader_meta(c)["grade_id"]: cells.nbgrader_meta(c)["points"]
             for c in cells.iter_cells(nb, "test")}
    assert points == total - sum(worth[g] for g in lost)


def test_typical_mistakes_student_loses_the_right_tests():
    from grader.authoring.example_class import parse_mistakes

    answers = parse_mistakes(REPO / "data" / "example_class" / "typical_mistakes" / f"{STEM}.py")
    points, total, failed = score_in_process(STEM, answers)
    assert set(failed) == {"residual_block_identity", "residual_block_projection",
                           "residual_block_params_counts"}
    assert 0 < points < total


@pytest.mark.parametrize("student", [f"student-{i}" for i in range(6)])
def test_hidden_inputs_differ_per_student_and_the_solution_passes(student, ns):
    """Under for_test the hidden inputs are per student; the reference solution passes each."""
    seen = []

    def recording(x, filters, stride=1):
        seen.append((tuple(x.shape[1:]), filters, stride))
        return ns["residual_block"](x, filters, stride)

    stacks = []

    def recording_rf(layers):
        stacks.append(tuple(layers))
        return ns["receptive_field"](layers)

    with seeding.for_test(b"deeper-test-secret", STEM, "residual_block_projection", student):
        hidden.residual_block_projection_random(recording)
    with seeding.for_test(b"deeper-test-secret", STEM, "receptive_field_examples", student):
        hidden.receptive_field_random(recording_rf)
    with seeding.for_test(b"deeper-test-secret", STEM, "dense_block_concatenates", student):
        hidden.dense_block_random(ns["dense_block"])
    with seeding.for_test(b"deeper-test-secret", STEM, "residual_block_params_counts", student):
        hidden.residual_block_params_random(ns["residual_block_params"])
    plain_seen, plain_stacks = [], []
    hidden.residual_block_projection_random(
        lambda x, f, s=1: plain_seen.append((tuple(x.shape[1:]), f, s)) or ns["residual_block"](x, f, s))
    hidden.receptive_field_random(lambda L: plain_stacks.append(tuple(L)) or ns["receptive_field"](L))
    assert seen != plain_seen and stacks != plain_stacks


# ================================================================= the executed notebook
def _saved_text() -> str:
    nb = cells.read(solution_path(STEM))
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


def test_saved_solution_shows_the_spec_facts():
    text = _saved_text()
    assert "a neuron sees 18x18 of the 28x28 digit" in text
    assert "after CONV2 5x5 : a neuron sees 14x14 of the 32x32 input" in text
    assert "formula 18, measured 18x18" in text and "formula 14, measured 14x14 of 32x32" in text
    for line in re.findall(r"^\s+\d+\s+\d+\s+\d+ \|.*$", text, re.M):  # yours == Keras
        yours, theirs = re.search(r"\|\s*([\d,]+)\s+([\d,]+)", line).groups()
        assert yours == theirs, line


def test_saved_experiment_supports_what_the_text_says():
    """The notebook's prose reads the measured numbers; the saved run must bear it out."""
    text = _saved_text()
    grads = {kind.strip(): float(v) for kind, v in
             re.findall(r"^(plain, no batch norm|plain|residual)\s+\(.*?gradient norm ([\d.e+-]+) at the "
                        r"first layer", text, re.M)}
    assert set(grads) == {"plain, no batch norm", "plain", "residual"}
    assert grads["plain, no batch norm"] < 1e-3 * grads["plain"]
    assert 1 / 3 < grads["plain"] / grads["residual"] < 3
    losses = {kind: [float(v) for v in values.split()] for kind, values in
              re.findall(r"^(plain|residual)\s*: training loss per epoch \[([^\]]*)\]", text, re.M)}
    assert len(losses["plain"]) == len(losses["residual"]) == 4
    assert losses["residual"][-1] < 0.6 * losses["plain"][-1]
    assert "2000 training digits" in text


@pytest.mark.slow
def test_solution_runs_fast_when_grading(mnist_path):
    """Under the autograder the experiment shrinks to the notebook's grading sizes and every test still passes."""
    from grader.authoring.execute import errors, execute

    nb = cells.read(solution_path(STEM))
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    shrink = re.search(r"if runtime\.is_grading\(\):.*\n\s+N_TRAIN, EPOCHS, N_BLOCKS = (\d+), (\d+), (\d+)", source)
    assert shrink, "the experiment cell no longer shrinks under the autograder"
    n_train, epochs = int(shrink.group(1)), int(shrink.group(2))
    assert n_train < 2000
    execute(nb, solution_path(STEM).parent, timeout=300,
            env={"CNN_COURSE_GRADING": "1", "MNIST_PATH": str(mnist_path)})
    assert errors(nb) == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert f"{n_train} training digits" in text and f"{epochs} epoch(s)" in text
    assert text.count("\u2714") == 10


# ================================================================= figures, and no solutions in utils
def test_figures_draw():
    from utils.plotting import deeper as plots

    image = np.zeros((28, 28))
    fig = plots.show_receptive_fields(image, [(12, 12, 3, 3), (4, 4, 18, 18)], ["a", "b"])
    assert len(fig.axes[0].patches) == 2 and len(fig.axes[1].patches) == 2
    with pytest.raises(ValueError, match="one .* window and one label"):
        plots.show_receptive_fields(image, [(0, 0, 3, 3)], ["a", "b"])
    fig = plots.plot_field_growth({"a": [3, 5, 7], "b": [3, 4, 8]}, image_size=28)
    assert len(fig.axes[0].lines) == 3
    fig = plots.plot_gradient_norms({"plain": [0.5, 0.1], "residual": [0.4, 0.3]})
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="positive"):
        plots.plot_gradient_norms({"dead": [0.0, 1.0]})
    fig = plots.plot_runs({"plain": {"loss": [2, 1], "accuracy": [0.2, 0.5]},
                           "residual": {"loss": [1.5, 0.5], "accuracy": [0.5, 0.9]}})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="has no"):
        plots.plot_runs({"x": {"loss": [1.0]}})
    fig = plots.plot_dense_growth([16, 28], [1804, 3148], 12)
    assert len(fig.axes) == 2


def test_utils_hold_no_solution():
    """utils/ for notebook 10 has no receptive-field recursion and builds no block."""
    for rel in ("utils/checks/deeper.py", "utils/plotting/deeper.py"):
        src = (REPO / rel).read_text(encoding="utf-8")
        assert "def receptive_field(" not in src and "def residual_block(" not in src
        assert "def dense_block(" not in src and "jump *=" not in src
        assert "layers.Add()(" not in src and "Concatenate()(" not in src

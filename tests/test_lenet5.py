"""Notebook 06 (LeNet-5 shapes and parameter counts): spec facts, checks, hidden tests, figure.

The reference solutions come from the solution notebook itself
(``nbtools.solution_namespace``); each check and hidden helper must pass them and
fail, with a message naming the mistake, on typical wrong answers.
"""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from grader.references import lenet5 as hidden  # noqa: E402
from nbtools import fails, solution_namespace, solution_path  # noqa: E402
from utils.checks import lenet5 as check  # noqa: E402

STEM = "06_lenet5"
SPEC_TABLE = [
    ("input", (32, 32, 3), 3072, 0),
    ("CONV1", (28, 28, 8), 6272, 608),
    ("POOL1", (14, 14, 8), 1568, 0),
    ("CONV2", (10, 10, 16), 1600, 3216),
    ("POOL2", (5, 5, 16), 400, 0),
    ("FC3", (120,), 120, 48120),
    ("FC4", (84,), 84, 10164),
    ("softmax", (10,), 10, 850),
]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)




# ---------------------------------------------------------------- spec facts
def test_table_is_the_spec_table(ns):
    rows = ns["lenet5_table"]()
    assert rows == SPEC_TABLE
    assert all(type(r[1]) is tuple and type(r[2]) is int and type(r[3]) is int for r in rows)
    assert sum(r[3] for r in rows) == 62958
    assert check.LENET5_TABLE == tuple(SPEC_TABLE) == hidden.TABLE


def test_shape_and_param_functions_on_spec_layers(ns):
    assert ns["conv_output_shape"]((32, 32, 3), 5, 8) == (28, 28, 8)
    assert ns["pool_output_shape"]((28, 28, 8), 2, 2) == (14, 14, 8)
    assert ns["conv_output_shape"]((14, 14, 8), 5, 16) == (10, 10, 16)
    assert ns["pool_output_shape"]((10, 10, 16), 2, 2) == (5, 5, 16)
    assert ns["conv_output_shape"]((7, 7, 1), 3, 1, stride=2) == (3, 3, 1)
    assert ns["conv_output_shape"]((6, 6, 1), 3, 1, pad=1) == (6, 6, 1)
    assert [ns["conv_params"](5, 3, 8), ns["conv_params"](5, 8, 16)] == [608, 3216]
    assert [ns["dense_params"](400, 120), ns["dense_params"](120, 84),
            ns["dense_params"](84, 10)] == [48120, 10164, 850]


def _summary_rows(model) -> list[tuple[str, tuple, int]]:
    """(layer type, output shape, params) per row of the text of ``model.summary()``."""
    lines = []
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "160"  # rich (Keras' table printer) cuts lines at the terminal width
    try:
        model.summary(print_fn=lambda s, line_break=False: lines.append(s), line_length=120)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    text = "\n".join(lines)
    rows = []
    for m in re.finditer(r"│\s*(\S+) \((\w+)\)\s*│\s*\(None, ([\d, ]+)\)\s*│\s*([\d,]+)\s*│", text):
        shape = tuple(int(v) for v in m.group(3).replace(" ", "").split(",") if v)
        rows.append((m.group(2), shape, int(m.group(4).replace(",", ""))))
    total = int(re.search(r"Total params: ([\d,]+)", text).group(1).replace(",", ""))
    return rows, total


def test_build_lenet5_summary_agrees_with_table_row_by_row(ns):
    model = ns["build_lenet5"]()
    assert model.count_params() == 62958
    summary, total = _summary_rows(model)
    assert total == 62958
    kinds = [k for k, _, _ in summary]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten",
                     "Dense", "Dense", "Dense"]
    table_like = [(shape, params) for kind, shape, params in summary if kind != "Flatten"]
    assert table_like == [(row[1], row[3]) for row in SPEC_TABLE[1:]]
    by_attr = [(tuple(layer.output.shape[1:]), layer.count_params())
               for layer in model.layers if type(layer).__name__ != "Flatten"]
    assert by_attr == table_like
    assert tuple(model.inputs[0].shape[1:]) == SPEC_TABLE[0][1]


# ---------------------------------------------------------------- checks pass
def test_visible_and_hidden_checks_pass_the_solution(ns, capsys):
    check.conv_output_shape_examples(ns["conv_output_shape"])
    check.pool_output_shape_examples(ns["pool_output_shape"])
    check.conv_params_examples(ns["conv_params"])
    check.dense_params_examples(ns["dense_params"])
    check.lenet5_table_rows(ns["lenet5_table"])
    check.build_lenet5_matches_table(ns["build_lenet5"])
    hidden.conv_output_shape_random(ns["conv_output_shape"])
    hidden.pool_output_shape_random(ns["pool_output_shape"])
    hidden.conv_params_random(ns["conv_params"])
    hidden.dense_params_random(ns["dense_params"])
    hidden.lenet5_table_consistent(ns["lenet5_table"])
    hidden.build_lenet5_layers(ns["build_lenet5"])
    out = capsys.readouterr().out
    assert out.count("\u2714") == 12


def test_checks_accept_other_correct_styles():
    """numpy ints, float input dims, avg pooling, tanh and stand-alone activation layers."""
    import keras
    from keras import layers

    def conv_shape(input_shape, f, n_filters, stride=1, pad=0):
        n = np.array(input_shape[:2])
        h, w = (n + 2 * pad - f) // stride + 1
        return (h, w, n_filters)  # numpy ints

    check.conv_output_shape_examples(conv_shape)
    hidden.conv_output_shape_random(conv_shape)

    def lenet_avg_tanh():
        return keras.Sequential([
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(8, (5, 5)), layers.Activation("tanh"),
            layers.AveragePooling2D(2, strides=2),
            layers.Conv2D(16, 5, activation="tanh"), layers.AveragePooling2D(2),
            layers.Flatten(), layers.Dense(120), layers.ReLU(), layers.Dense(84, activation="tanh"),
            layers.Dense(10), layers.Softmax()])

    check.build_lenet5_matches_table(lenet_avg_tanh)
    hidden.build_lenet5_layers(lenet_avg_tanh)


# ---------------------------------------------------------------- checks fail
def test_conv_output_shape_mistakes_are_named():
    def no_plus_one(s, f, n, stride=1, pad=0):
        return ((s[0] + 2 * pad - f) // stride, (s[1] + 2 * pad - f) // stride, n)

    def no_pad(s, f, n, stride=1, pad=0):
        return ((s[0] - f) // stride + 1, (s[1] - f) // stride + 1, n)

    def no_stride(s, f, n, stride=1, pad=0):
        return (s[0] + 2 * pad - f + 1, s[1] + 2 * pad - f + 1, n)

    def keeps_channels(s, f, n, stride=1, pad=0):
        return ((s[0] + 2 * pad - f) // stride + 1, (s[1] + 2 * pad - f) // stride + 1, s[2])

    def true_div(s, f, n, stride=1, pad=0):
        return ((s[0] + 2 * pad - f) / stride + 1, (s[1] + 2 * pad - f) / stride + 1, n)

    def as_list(s, f, n, stride=1, pad=0):
        return [(s[0] + 2 * pad - f) // stride + 1, (s[1] + 2 * pad - f) // stride + 1, n]

    def stride_on_height_only(s, f, n, stride=1, pad=0):
        return ((s[0] + 2 * pad - f) // stride + 1, s[1] + 2 * pad - f + 1, n)

    for visible_or_hidden in (check.conv_output_shape_examples, hidden.conv_output_shape_random):
        fails(visible_or_hidden, no_plus_one, match=r"`\+ 1` is missing")
        fails(visible_or_hidden, no_pad, match="padding is ignored")
        fails(visible_or_hidden, no_stride, match="stride is ignored")
        fails(visible_or_hidden, keeps_channels, match="channels is n_filters")
        fails(visible_or_hidden, true_div, match="floor division")
        fails(visible_or_hidden, as_list, match="expected a tuple")
    fails(hidden.conv_output_shape_random, stride_on_height_only, match="height only")


def test_pool_output_shape_mistakes_are_named():
    def drops_channels(s, f, stride):
        return ((s[0] - f) // stride + 1, (s[1] - f) // stride + 1)

    def ignores_f(s, f, stride):
        return (s[0] // stride, s[1] // stride, s[2])

    def ignores_stride(s, f, stride):
        return (s[0] - f + 1, s[1] - f + 1, s[2])

    for fn in (check.pool_output_shape_examples, hidden.pool_output_shape_random):
        fails(fn, drops_channels, match="channels were dropped")
        fails(fn, ignores_f, match="window size f is ignored")
        fails(fn, ignores_stride, match="stride is ignored")


def test_param_count_mistakes_are_named():
    for fn in (check.conv_params_examples, hidden.conv_params_random):
        fails(fn, lambda f, c_prev, c: f * f * c_prev * c, match="bias is forgotten")
        fails(fn, lambda f, c_prev, c: (f * f + 1) * c, match="input channels are forgotten")
        fails(fn, lambda f, c_prev, c: (f * f * c_prev + 1) * c / 1.0 + 0.5, match="whole number")
    fails(check.conv_params_examples, lambda f, c_prev, c: float((f * f * c_prev + 1) * c),
          match="expected an int")
    for fn in (check.dense_params_examples, hidden.dense_params_random):
        fails(fn, lambda n_in, n_out: n_in * n_out, match="bias is forgotten")
        fails(fn, lambda n_in, n_out: n_in * (n_out + 1), match="per \\*input\\* unit")


def test_lenet5_table_mistakes_are_named():
    good = list(SPEC_TABLE)
    no_bias = [(n, s, a, {608: 600, 3216: 3200}.get(p, p)) for n, s, a, p in good]
    fails(check.lenet5_table_rows, lambda: no_bias, match="CONV1.*n_params.*bias is forgotten")
    fails(check.lenet5_table_rows, lambda: good[1:], match="7 rows.*expected 8")
    pool_params = [r if r[0] != "POOL1" else ("POOL1", (14, 14, 8), 1568, 10) for r in good]
    fails(check.lenet5_table_rows, lambda: pool_params, match="pooling layers have no parameters")
    summed = [r if r[0] != "CONV1" else ("CONV1", (28, 28, 8), 64, 608) for r in good]
    fails(check.lenet5_table_rows, lambda: summed, match="sizes were added")
    no_channels = [r if r[0] != "POOL2" else ("POOL2", (5, 5), 400, 0) for r in good]
    fails(check.lenet5_table_rows, lambda: no_channels, match="channels are missing")
    list_shapes = [(n, list(s), a, p) for n, s, a, p in good]
    check.lenet5_table_rows(lambda: list_shapes)  # the visible check is lenient on list shapes
    fails(hidden.lenet5_table_consistent, lambda: list_shapes, match="expected a tuple")
    float_sizes = [(n, s, float(a), p) for n, s, a, p in good]
    fails(hidden.lenet5_table_consistent, lambda: float_sizes, match="expected an int")


def _lenet(conv1=None, pool1=True, act="relu", last="softmax", flatten=True, with_input=True):
    import keras
    from keras import layers

    stack = [keras.Input(shape=(32, 32, 3))] if with_input else []
    stack.append(conv1 or layers.Conv2D(8, 5, activation=act))
    if pool1:
        stack.append(layers.MaxPooling2D(2))
    stack += [layers.Conv2D(16, 5, activation=act), layers.MaxPooling2D(2)]
    if flatten:
        stack.append(layers.Flatten())
    stack += [layers.Dense(120, activation=act), layers.Dense(84, activation=act),
              layers.Dense(10, activation=last)]
    return keras.Sequential(stack)


def test_build_lenet5_mistakes_are_named():
    from keras import layers

    cases = [
        (lambda: _lenet(conv1=layers.Conv2D(8, 5, padding="same", activation="relu")),
         "padding='same'"),
        (lambda: _lenet(conv1=layers.Conv2D(8, 3, activation="relu")), "wrong kernel size"),
        (lambda: _lenet(pool1=False), "missing layer: pooling"),
        (lambda: _lenet(act=None), "missing activation"),
        (lambda: _lenet(last=None), "softmax"),
        (lambda: _lenet(flatten=False), "missing layer: Flatten"),
        (lambda: _lenet(with_input=False), "not built.*keras.Input"),
        (lambda: None, "returned None"),
    ]
    for build, message in cases:
        fails(check.build_lenet5_matches_table, build, match=message)
        fails(hidden.build_lenet5_layers, build, match=message)
    shared = _lenet()
    fails(hidden.build_lenet5_layers, lambda: shared, match="same model object twice")


# ---------------------------------------------------------------- figure
def test_plot_table_draws_both_columns():
    from utils.plotting import lenet5 as lenet_plots

    fig = lenet_plots.plot_table(SPEC_TABLE)
    ax_sizes, ax_params = fig.axes[:2]
    assert [round(p.get_width()) for p in ax_sizes.patches] == [r[2] for r in SPEC_TABLE]
    assert [round(p.get_width()) for p in ax_params.patches] == [r[3] for r in SPEC_TABLE]
    assert "62,958" in ax_params.get_title()
    assert any("94%" in t.get_text() for t in ax_params.texts)
    with pytest.raises(ValueError, match="rows"):
        lenet_plots.plot_table([("x", (1,), 1)])


def test_plot_volumes_draws_each_layer_to_scale():
    from utils.plotting import lenet5 as lenet_plots

    fig = lenet_plots.plot_volumes(SPEC_TABLE)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * len(SPEC_TABLE)   # every volume and bar: three faces
    fronts = ax.patches[::3]
    heights = [p.get_xy()[:, 1].max() - p.get_xy()[:, 1].min() for p in fronts]
    assert heights[0] / heights[1] == pytest.approx(32 / 28)    # input vs CONV1, to scale
    assert heights[5] / heights[6] == pytest.approx(120 / 84)   # FC3 vs FC4
    labels = " ".join(t.get_text() for t in ax.texts)
    assert "28x28x8" in labels and "6,272 numbers" in labels and "10 numbers" in labels
    with pytest.raises(ValueError, match="shape"):
        lenet_plots.plot_volumes([("odd", (2, 2), 4, 0)])


# ---------------------------------------------------------------- the notebook
@pytest.mark.slow
def test_solution_notebook_runs():
    """The solution runs top to bottom in a fresh kernel, every test passing."""
    from grader import notebook_cells as cells
    from grader.authoring.execute import errors, execute

    nb = cells.read(solution_path(STEM))
    execute(nb, solution_path(STEM).parent, timeout=300)
    assert errors(nb) == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert text.count("\u2714") == 12
    assert "total: ours 62,958, Keras 62,958" in text

"""docs/cheat_sheet.md cannot drift: every formula, example, shape and Keras call in its
tables is recomputed here from the course's reference code (grader/references) and Keras,
every row links a notebook of the course, and no number stands outside a checked table.

Each table row is matched to a checker by its first column. A row without a checker, or
a checker without a row, fails the test, so a new row must come with its check.
"""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from grader.references import conv_layer as conv_ref
from grader.references import fast_conv as fast_ref
from grader.references import keras_mnist as mnist_ref
from grader.references import lenet5 as lenet_ref
from grader.references import strides as strides_ref
from nbtools import REPO, solution_path
from utils.runtime import import_keras

SHEET = REPO / "docs" / "cheat_sheet.md"
STEMS = {"01_edge_detection", "02_padding", "03_strides", "04_conv_layer", "05_pooling",
         "06_lenet5", "07_keras_mnist", "08_backprop", "09_batchnorm", "10_deeper_networks",
         "11_fast_convolution"}
FORMULA_NAMES = {"__builtins__": {}, "sum": sum, "range": range, "len": len, "prod": math.prod}


# ------------------------------------------------------------ reading the sheet
def _tables(text: str) -> list[list[list[str]]]:
    """Every markdown table: a list of rows (header first), each a list of cell texts."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _table(header_start: str) -> list[dict]:
    """The rows of the table whose first header cell is ``header_start``, as dicts."""
    for table in _tables(SHEET.read_text()):
        if table[0][0] == header_start:
            return [dict(zip(table[0], row)) for row in table[1:]]
    raise AssertionError(f"docs/cheat_sheet.md has no table headed {header_start!r}")


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _examples(cell: str) -> list[tuple[dict, object]]:
    """``n=7, f=3`` → ``3`` pairs of a cell, as ({name: value}, value)."""
    found = re.findall(r"`([^`]+)`\s*→\s*`([^`]+)`", cell)
    assert found, f"no `inputs` → `value` example in {cell!r}"
    return [(eval(f"dict({inputs})", {"__builtins__": {"dict": dict}}),  # literals only
             ast.literal_eval(value)) for inputs, value in found]


def _formula(cell: str):
    (source,) = _code(cell)
    compiled = compile(source, "<cheat sheet formula>", "eval")
    # the names as globals, so that a generator inside the formula sees them too
    return source, lambda **names: eval(compiled, {**FORMULA_NAMES, **names})


@pytest.fixture(scope="module")
def keras():
    return import_keras()


def _count(keras, layer, shape) -> int:
    x = keras.Input(shape)
    return int(keras.Model(x, layer(x)).count_params())


# ------------------------------------------------------------ references for the size table
def _measured_receptive_field(keras, f, s) -> int:
    """How many input rows one output of a stack of (f, s) layers depends on (Keras gradient)."""
    import tensorflow as tf
    n = 1 + sum(fi * math.prod(s[:i + 1]) for i, fi in enumerate(f))  # enough input rows
    x = keras.Input((n, n, 1))
    h = x
    for fi, si in zip(f, s):  # a pool has the geometry of a conv with the same f and s
        h = keras.layers.Conv2D(1, fi, strides=si, use_bias=False,
                                kernel_initializer="ones")(h)
    model = keras.Model(x, h)
    image = tf.Variable(np.ones((1, n, n, 1), dtype=np.float32))
    with tf.GradientTape() as tape:
        out = model(image)[0, 0, 0, 0]
    rows = np.nonzero(tape.gradient(out, image).numpy()[0, :, :, 0].any(axis=1))[0]
    return int(rows.max() - rows.min() + 1)


def _residual_block(keras, x, filters, stride, shortcut=True):
    """The spec's residual block (section 3, notebook 10), built here independently."""
    L = keras.layers
    y = L.Conv2D(filters, 3, strides=stride, padding="same")(x)
    y = L.ReLU()(L.BatchNormalization()(y))
    y = L.BatchNormalization()(L.Conv2D(filters, 3, padding="same")(y))
    if not shortcut:
        return y
    short = x if stride == 1 and x.shape[-1] == filters else L.Conv2D(filters, 1, strides=stride)(x)
    return L.ReLU()(L.Add()([y, short]))


def _dense_block(keras, x, n_layers, k):
    L = keras.layers
    for _ in range(n_layers):
        y = L.Conv2D(k, 3, padding="same")(L.ReLU()(L.BatchNormalization()(x)))
        x = L.Concatenate(axis=-1)([x, y])
    return x


def _same_padding_reference(keras, f):
    """The padding with which a stride-1 conv keeps the size (the strides reference);
    Keras' padding="same" keeps it too."""
    n = 11
    (p,) = [p for p in range(f) if strides_ref.reference_size(n, f, p, 1) == n]
    assert keras.layers.Conv2D(1, f, padding="same")(keras.Input((n, n, 1))).shape[1] == n
    return p


def _batchnorm_params(keras, n_C):
    layer = keras.layers.BatchNormalization()
    total = _count(keras, layer, (3, 3, n_C))
    assert sum(int(np.prod(w.shape)) for w in layer.trainable_weights) == total // 2
    return total


def _projection_adds(keras, n_C_prev, F):
    x = keras.Input((8, 8, n_C_prev))
    full = keras.Model(x, _residual_block(keras, x, F, 2)).count_params()
    main = keras.Model(x, _residual_block(keras, x, F, 2, shortcut=False)).count_params()
    return int(full - main)


def _im2col_shape_product(n_H, n_W, n_C, f, n_C_prev):
    """Multiply-adds of one example's conv as im2col's (rows x columns) @ (columns x n_C)."""
    A = np.zeros((1, n_H, n_W, n_C_prev), dtype=np.int8)
    rows, cols = fast_ref.reference_im2col(A, f, 1, (f - 1) // 2).shape
    return rows * cols * n_C


SIZE_CHECKS = {  # quantity -> (reference(keras, **inputs), random inputs(rng))
    "output size, no padding, stride one": (
        lambda K, n, f: strides_ref.reference_size(n, f, 0, 1),
        lambda r: dict(n=int(r.integers(3, 40)), f=int(r.integers(1, 4)))),
    "output size": (
        lambda K, n, f, p, s: strides_ref.reference_size(n, f, p, s),
        lambda r: dict(n=int(r.integers(5, 40)), f=int(r.integers(1, 6)),
                       p=int(r.integers(0, 3)), s=int(r.integers(1, 4)))),
    "same padding (odd f)": (
        lambda K, f: _same_padding_reference(K, f),
        lambda r: dict(f=int(r.choice([1, 3, 5, 7, 9])))),
    "pooling output size": (
        lambda K, n, f, s: lenet_ref.ref_pool_output_shape((n, n, 1), f, s)[0],
        lambda r: dict(n=int(r.integers(6, 40)), f=int(r.integers(1, 5)),
                       s=int(r.integers(1, 4)))),
    "conv layer parameters": (
        lambda K, f, n_C_prev, n_C: conv_ref.keras_conv_params(f, n_C_prev, n_C),
        lambda r: dict(f=int(r.integers(1, 6)), n_C_prev=int(r.integers(1, 65)),
                       n_C=int(r.integers(1, 65)))),
    "dense layer parameters": (
        lambda K, n_in, n_out: _count(K, K.layers.Dense(n_out), (n_in,)),
        lambda r: dict(n_in=int(r.integers(1, 500)), n_out=int(r.integers(1, 200)))),
    "pooling layer parameters": (
        lambda K, f, s: _count(K, K.layers.MaxPooling2D(f, s), (12, 12, 3))
        + _count(K, K.layers.AveragePooling2D(f, s), (12, 12, 3)),
        lambda r: dict(f=int(r.integers(1, 5)), s=int(r.integers(1, 4)))),
    "batch-norm parameters (half of them trainable)": (
        lambda K, n_C: _batchnorm_params(K, n_C),
        lambda r: dict(n_C=int(r.integers(1, 129)))),
    "receptive field of layers `(f[i], s[i])`, input first": (
        lambda K, f, s: _measured_receptive_field(K, f, s),
        lambda r: (lambda L: dict(f=[int(x) for x in r.integers(1, 6, L)],
                                  s=[int(x) for x in r.integers(1, 4, L)]))(int(r.integers(1, 5)))),
    "residual block, identity shortcut": (
        lambda K, F: (lambda x: int(K.Model(x, _residual_block(K, x, F, 1)).count_params()))(
            K.Input((8, 8, F))),
        lambda r: dict(F=int(r.integers(1, 40)))),
    "parameters a projection shortcut adds": (
        lambda K, n_C_prev, F: _projection_adds(K, n_C_prev, F),
        lambda r: dict(n_C_prev=int(r.integers(1, 40)), F=int(r.integers(1, 40)))),
    "dense block output channels": (  # k: the growth rate
        lambda K, n_C_prev, n_layers, k: int(_dense_block(K, K.Input((6, 6, n_C_prev)),
                                                          n_layers, k).shape[-1]),
        lambda r: dict(n_C_prev=int(r.integers(1, 33)), n_layers=int(r.integers(1, 4)),
                       k=int(r.integers(1, 17)))),
    "multiply-adds of a conv layer, one example": (
        lambda K, n_H, n_W, n_C, f, n_C_prev: _im2col_shape_product(n_H, n_W, n_C, f, n_C_prev),
        lambda r: dict(n_H=int(r.integers(1, 12)), n_W=int(r.integers(1, 12)),
                       n_C=int(r.integers(1, 9)), f=int(r.choice([1, 3, 5])),
                       n_C_prev=int(r.integers(1, 9)))),
    "im2col size / input size (stride one, same padding)": (
        lambda K, f: (lambda A: fast_ref.reference_im2col(A, f, 1, (f - 1) // 2).size / A.size)(
            np.zeros((2, 9, 7, 3))),
        lambda r: dict(f=int(r.choice([1, 3, 5, 7])))),
}


def _size_row(quantity: str) -> dict:
    rows = {r["quantity"]: r for r in _table("quantity")}
    return rows[quantity]


def test_every_size_row_has_a_check_and_every_check_a_row():
    assert set(r["quantity"] for r in _table("quantity")) == set(SIZE_CHECKS)


@pytest.mark.parametrize("quantity", list(SIZE_CHECKS))
def test_size_formula_and_examples(quantity, keras):
    """The example equals both the formula and the reference; the formula equals the
    reference on random inputs too."""
    row = _size_row(quantity)
    reference, sample = SIZE_CHECKS[quantity]
    source, formula = _formula(row["formula"])
    for inputs, value in _examples(row["example"]):
        assert formula(**inputs) == value, f"{quantity}: {source} on {inputs}"
        assert reference(keras, **inputs) == value, f"{quantity}: the reference disagrees"
    rng = np.random.default_rng(11)
    for _ in range(6):
        inputs = sample(rng)
        assert formula(**inputs) == reference(keras, **inputs), f"{quantity}: {source} on {inputs}"


def test_receptive_field_examples_are_the_courses_networks():
    """07's first five layers and LeNet-5 up to CONV2, read from the grader's references."""
    row = _size_row("receptive field of layers `(f[i], s[i])`, input first")
    (mnist, _), (lenet, _) = _examples(row["example"])
    layers = [l for l in mnist_ref.LAYERS if l["kind"] in ("Conv2D", "MaxPooling2D")]
    geometry = [((l.get("kernel_size") or l["pool_size"])[0], l["strides"][0]) for l in layers]
    assert list(zip(mnist["f"], mnist["s"])) == geometry
    shape = (32, 32, 3)
    for (f, s), (name, table_shape, _, _) in zip(zip(lenet["f"], lenet["s"]), lenet_ref.TABLE[1:]):
        n_filters = table_shape[-1]
        shape = (lenet_ref.ref_pool_output_shape(shape, f, s) if name.startswith("POOL")
                 else lenet_ref.ref_conv_output_shape(shape, f, n_filters, s))
        assert shape == table_shape, name


# ------------------------------------------------------------ the shapes table
def _conv_case(rng):
    import tensorflow as tf
    m, n_hp, n_wp, n_cp, f, n_c = 2, 9, 7, 3, 3, 4
    s, p = 2, 1
    A = tf.Variable(rng.normal(size=(m, n_hp, n_wp, n_cp)))
    W = tf.Variable(rng.normal(size=(f, f, n_cp, n_c)))
    b = tf.Variable(rng.normal(size=(1, 1, 1, n_c)))
    with tf.GradientTape() as tape:
        Z = tf.nn.conv2d(A, W, s, [[0, 0], [p, p], [p, p], [0, 0]]) + b
        G = tf.constant(rng.normal(size=Z.shape))
        loss = tf.reduce_sum(Z * G)
    dA, dW, db = tape.gradient(loss, [A, W, b])
    names = dict(m=m, n_H_prev=n_hp, n_W_prev=n_wp, n_C_prev=n_cp, f=f, n_C=n_c,
                 n_H=strides_ref.reference_size(n_hp, f, p, s),
                 n_W=strides_ref.reference_size(n_wp, f, p, s))
    arrays = {"A_prev": A, "dA_prev": dA, "W": W, "dW": dW, "b": b, "db": db, "Z": Z, "dZ": G}
    return names, arrays


def _pool_case(rng):
    import tensorflow as tf
    m, n_hp, n_wp, n_c, f, s = 2, 9, 8, 3, 3, 2
    A_prev = tf.Variable(rng.normal(size=(m, n_hp, n_wp, n_c)))
    with tf.GradientTape() as tape:
        A = tf.nn.max_pool2d(A_prev, f, s, "VALID")
        dA = tf.constant(rng.normal(size=A.shape))
        loss = tf.reduce_sum(A * dA)
    dA_prev = tape.gradient(loss, A_prev)
    n_h, n_w, _ = lenet_ref.ref_pool_output_shape((n_hp, n_wp, n_c), f, s)
    names = dict(m=m, n_H_prev=n_hp, n_W_prev=n_wp, n_C=n_c, n_H=n_h, n_W=n_w)
    return names, {"A_prev": A_prev, "dA_prev": dA_prev, "A": A, "dA": dA}


def _gap_case(rng, keras):
    A = rng.normal(size=(3, 7, 5, 6)).astype(np.float32)
    out = keras.layers.GlobalAveragePooling2D()(A)
    return dict(m=3, n_H=7, n_W=5, n_C=6), {"global_average_pool(A)": out}


def _batchnorm_case(rng, keras):
    import tensorflow as tf
    m, n_h, n_w, n_c = 4, 5, 3, 6
    X = tf.Variable(rng.normal(size=(m, n_h, n_w, n_c)).astype(np.float32))
    layer = keras.layers.BatchNormalization()
    with tf.GradientTape() as tape:
        out = layer(X, training=True)
        dout = tf.constant(rng.normal(size=out.shape).astype(np.float32))
        loss = tf.reduce_sum(out * dout)
    dX, dgamma, dbeta = tape.gradient(loss, [X, layer.gamma, layer.beta])
    arrays = {"X": X, "out": out, "dout": dout, "dX": dX, "gamma": layer.gamma,
              "beta": layer.beta, "batch_mean": layer.moving_mean,
              "batch_var": layer.moving_variance, "dgamma": dgamma, "dbeta": dbeta}
    return dict(m=m, n_H=n_h, n_W=n_w, n_C=n_c), arrays


def _im2col_case(rng):
    m, n_hp, n_wp, n_cp, f, s, p = 2, 7, 6, 3, 3, 2, 1
    X = fast_ref.reference_im2col(rng.normal(size=(m, n_hp, n_wp, n_cp)), f, s, p)
    n_h, n_w, _ = fast_ref.im2col_size((m, n_hp, n_wp, n_cp), f, s, p)
    return dict(m=m, n_H=n_h, n_W=n_w, f=f, n_C_prev=n_cp), {"im2col(A_prev, f, s, p)": X}


def test_every_shape_row_is_checked(keras):
    rng = np.random.default_rng(12)
    cases = {"convolution": _conv_case(rng), "pooling": _pool_case(rng),
             "global average pooling": _gap_case(rng, keras),
             "batch norm": _batchnorm_case(rng, keras), "im2col": _im2col_case(rng)}
    rows = _table("layer")
    assert {r["layer"] for r in rows} == set(cases)
    checked = set()
    for row in rows:
        names, arrays = cases[row["layer"]]
        (shape_source,) = _code(row["shape"])
        expected = tuple(eval(shape_source, {"__builtins__": {}}, names))
        for array in _code(row["arrays"]):
            assert tuple(arrays[array].shape) == expected, f"{row['layer']}: {array}"
            checked.add((row["layer"], array))
    assert checked == {(layer, a) for layer, (_, arrays) in cases.items() for a in arrays}


# ------------------------------------------------------------ the Keras tables
def test_every_keras_call_builds_with_its_parameter_count(keras):
    rows = _table("to build")
    assert len(rows) >= 8
    for row in rows:
        (call,) = _code(row["call"])
        shape = ast.literal_eval(_code(row["on input"])[0])
        params = ast.literal_eval(_code(row["parameters"])[0])
        inputs = {name: keras.Input(shape) for name in ("x", "y", "shortcut")}
        result = eval(call, {"keras": keras, **inputs})
        if isinstance(result, keras.layers.Layer):
            x = keras.Input(shape)
            model = keras.Model(x, result(x))
        else:  # a layer called on tensors: x, y or shortcut
            used = [inputs[n] for n in ("x", "y", "shortcut") if re.search(rf"\b{n}\b", call)]
            model = keras.Model(used, result)
        assert model.count_params() == params, call


def test_keras_counts_agree_with_the_course_references(keras):
    """Where the course's references hold the same layer, they give the same count."""
    rows = {r["to build"]: r for r in _table("to build")}
    params = {k: ast.literal_eval(_code(r["parameters"])[0]) for k, r in rows.items()}
    assert params["a convolution"] == mnist_ref.LAYERS[0]["params"]
    assert ast.literal_eval(_code(rows["max pooling"]["on input"])[0]) == \
        mnist_ref.LAYERS[0]["output_shape"]
    assert params["a dense softmax layer"] == mnist_ref.LAYERS[-1]["params"]
    assert params["a 1x1 convolution"] == conv_ref.keras_conv_params(1, 64, 32)
    assert params["strided, same padding"] == conv_ref.keras_conv_params(3, 32, 64)
    _, formula = _formula(_size_row("batch-norm parameters (half of them trainable)")["formula"])
    assert params["batch normalisation"] == formula(n_C=64)


def _solution_code(stem: str) -> str:
    from grader import notebook_cells as cells
    nb = cells.read(solution_path(stem))
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_model_steps_run_and_match_notebook_07(keras):
    """compile / fit / evaluate run as written; their settings are notebook 07's."""
    rows = {r["step"]: r for r in _table("step")}
    assert set(rows) == {"compile", "train", "evaluate", "count"}
    code07 = re.sub(r"\s+", " ", _solution_code("07_keras_mnist"))
    (compile_call,) = _code(rows["compile"]["call"])
    assert compile_call in code07
    (fit_call,) = _code(rows["train"]["call"])
    settings = dict(re.findall(r"(epochs|batch_size)=(\d+)", fit_call))
    assert f"EPOCHS = {settings['epochs']}" in code07
    assert f"BATCH_SIZE = {settings['batch_size']}" in code07
    rng = np.random.default_rng(13)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    x = rng.random((8, 4, 4, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    space = {"model": model, "x": x, "y": y, "x_val": x, "y_val": y, "x_test": x, "y_test": y}
    exec(compile_call, space)
    history = eval(fit_call[:-1] + ", verbose=0)", space)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == int(settings["epochs"])
    (evaluate_call,) = _code(rows["evaluate"]["call"])
    result = eval(evaluate_call[:-1] + ", verbose=0)", space)
    assert len(result) == 2 and _code(rows["evaluate"]["result"]) == ["[loss, accuracy]"]


def test_model_counts_are_the_courses_networks(keras):
    """93,322 for notebook 07's network and 62,958 for LeNet-5, built from the references."""
    row = {r["step"]: r for r in _table("step")}["count"]
    mnist_total, lenet_total = (int(v) for v in _code(row["result"]))
    L = keras.layers
    kinds = {"Conv2D": lambda l: L.Conv2D(l["filters"], l["kernel_size"], activation="relu"),
             "MaxPooling2D": lambda l: L.MaxPooling2D(l["pool_size"]),
             "Flatten": lambda l: L.Flatten(),
             "Dense": lambda l: L.Dense(l["units"], activation=l["activation"])}
    mnist = keras.Sequential([keras.Input((28, 28, 1))]
                             + [kinds[l["kind"]](l) for l in mnist_ref.LAYERS])
    assert mnist.count_params() == mnist_ref.TOTAL == mnist_total
    lenet = keras.Sequential([keras.Input((32, 32, 3)), L.Conv2D(8, 5), L.MaxPooling2D(2),
                              L.Conv2D(16, 5), L.MaxPooling2D(2), L.Flatten(), L.Dense(120),
                              L.Dense(84), L.Dense(10)])
    assert lenet.count_params() == lenet_ref.TOTAL == lenet_total


# ------------------------------------------------------------ links, numbers, length
def test_every_row_links_a_notebook_of_the_course():
    for table in _tables(SHEET.read_text()):
        for row in table[1:]:
            links = re.findall(r"\]\(\.\./notebooks/([^/]+)/([^)]+)\.ipynb\)", row[-1])
            assert links, f"row {row[0]!r} links no notebook"
            for stem, name in links:
                assert stem == name and stem in STEMS, f"{row[0]!r}: bad link {stem}/{name}"
                path = REPO / "notebooks" / stem / f"{stem}.ipynb"
                assert path.is_file(), f"{path} does not exist"


def test_no_number_outside_the_checked_tables():
    prose = [line for line in SHEET.read_text().splitlines() if not line.startswith("|")]
    assert not [line for line in prose if re.search(r"\d", line)]


def test_fits_on_one_printed_page():
    text = SHEET.read_text()
    assert len([line for line in text.splitlines() if line.strip()]) <= 60
    assert len(text) <= 7000

"""Notebook 07 (Keras on MNIST): data, preprocess and model checks, hidden tests, figures.

No test here trains on 60,000 images: the architecture and compile settings are
inspected, preprocess runs on real digits, and learning is checked on small subsets.
"""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from grader.references import keras_mnist as hidden  # noqa: E402
from nbtools import fails, solution_namespace, solution_path  # noqa: E402
from utils.checks import CheckFailure  # noqa: E402
from utils.checks import keras_mnist as check  # noqa: E402

STEM = "07_keras_mnist"


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)




# ---------------------------------------------------------------- data
def test_real_loader_and_preprocess_on_real_mnist(mnist_path, ns):
    from utils.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    x, y = ns["preprocess"](x_test, y_test)
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.shape == (10000, 10) and np.array_equal(y.argmax(axis=1), y_test)
    assert np.array_equal(y.sum(axis=1), np.ones(10000))
    hidden.preprocess_real_digits(ns["preprocess"])


def test_preprocess_check_passes_other_correct_styles(ns):
    import keras

    def numpy_style(images, labels):
        x = (images / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
        return x, np.eye(10, dtype=int)[labels]

    def keras_style(images, labels):
        return (np.expand_dims(images, -1).astype("float32") / 255,
                keras.utils.to_categorical(labels))

    for fn in (ns["preprocess"], numpy_style, keras_style):
        check.preprocess_examples(fn)
    hidden.preprocess_real_digits(numpy_style)


PREPROCESS_MISTAKES = {
    "unscaled": (lambda im, lab: (im.astype("float32")[..., None], np.eye(10)[lab]),
                 "not scaled: divide by 255"),
    "integer-divided": (lambda im, lab: ((im // 255)[..., None], np.eye(10)[lab]),
                        "integer division"),
    "integer-divided, then float": (
        lambda im, lab: ((im // 255).astype("float32")[..., None], np.eye(10)[lab]),
        "integer division"),
    "channels-first": (lambda im, lab: ((im / 255).astype("float32")[:, None], np.eye(10)[lab]),
                       "channels-first"),
    "no channel axis": (lambda im, lab: ((im / 255).astype("float32"), np.eye(10)[lab]),
                        "channel axis is missing"),
    "float64": (lambda im, lab: ((im / 255)[..., None], np.eye(10)[lab]), "float64"),
    "labels not one-hot": (lambda im, lab: ((im / 255).astype("float32")[..., None], lab),
                           "not one-hot"),
    "standardised": (lambda im, lab: (((im - im.mean()) / im.std()).astype("float32")[..., None],
                                      np.eye(10)[lab]), "standardised"),
    "input mutated": (lambda im, lab: (np.divide(im, 255, out=im, casting="unsafe"), lab),
                      "changed its input"),
}


@pytest.mark.parametrize("mistake", sorted(PREPROCESS_MISTAKES))
def test_preprocess_mistakes_are_named(mistake, mnist_path):
    fn, message = PREPROCESS_MISTAKES[mistake]
    fails(check.preprocess_examples, fn, match=message)
    fails(hidden.preprocess_real_digits, fn, match=message)


# ---------------------------------------------------------------- model
def _model(*, drop=None, kernel=(3, 3), conv_kw=None, act="relu", last="softmax", loss="categorical_crossentropy",
           optimizer="rmsprop", compile=True):
    import keras
    from keras import layers

    stack = [
        ("conv1", layers.Conv2D(32, kernel, activation=act, **(conv_kw or {}))),
        ("pool1", layers.MaxPooling2D((2, 2))),
        ("conv2", layers.Conv2D(64, (3, 3), activation="relu")),
        ("pool2", layers.MaxPooling2D((2, 2))),
        ("conv3", layers.Conv2D(64, (3, 3), activation="relu")),
        ("flatten", layers.Flatten()),
        ("dense", layers.Dense(64, activation="relu")),
        ("out", layers.Dense(10, activation=last)),
    ]
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))]
                             + [layer for name, layer in stack if name != drop])
    if compile:
        model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def test_solution_model_passes_every_check(ns, capsys):
    model = ns["build_model"]()
    assert model.count_params() == 93322
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense"]
    check.build_model_architecture(ns["build_model"])
    check.build_model_compile(ns["build_model"])
    hidden.build_model_exact(ns["build_model"])
    hidden.compile_exact(ns["build_model"])
    check.preprocess_examples(ns["preprocess"])
    assert capsys.readouterr().out.count("\u2714") == 5


def test_other_correct_keras_styles_pass():
    import keras
    from keras import layers

    def functional_with_objects():
        inputs = keras.Input(shape=(28, 28, 1))
        h = layers.Conv2D(32, 3)(inputs)
        h = layers.Activation("relu")(h)
        h = layers.MaxPooling2D(pool_size=2)(h)
        h = layers.Conv2D(64, kernel_size=(3, 3), activation=keras.activations.relu)(h)
        h = layers.MaxPool2D()(h)
        h = layers.Conv2D(64, 3)(h)
        h = layers.ReLU()(h)
        h = layers.Flatten()(h)
        h = layers.Dense(64, activation="relu")(h)
        outputs = layers.Dense(10)(h)
        outputs = layers.Softmax()(outputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.RMSprop(),
                      loss=keras.losses.CategoricalCrossentropy(),
                      metrics=[keras.metrics.CategoricalAccuracy()])
        return model

    check.build_model_architecture(functional_with_objects)
    check.build_model_compile(functional_with_objects)
    hidden.build_model_exact(functional_with_objects)
    hidden.compile_exact(functional_with_objects)


ARCHITECTURE_MISTAKES = {
    "missing layer": (dict(drop="pool2"), "missing layer: MaxPooling2D"),
    "missing activation": (dict(act=None), "missing activation"),
    "missing softmax": (dict(last=None), "activation='softmax'"),
    "wrong kernel size": (dict(kernel=(5, 5)), "wrong kernel size"),
    "same padding": (dict(conv_kw={"padding": "same"}), "padding='same'"),
}


@pytest.mark.parametrize("mistake", sorted(ARCHITECTURE_MISTAKES))
def test_architecture_mistakes_are_named(mistake):
    kwargs, message = ARCHITECTURE_MISTAKES[mistake]

    def build():
        return _model(**kwargs)

    fails(check.build_model_architecture, build, match=message)
    fails(hidden.build_model_exact, build, match=message)


def test_input_and_build_mistakes_are_named():
    import keras
    from keras import layers

    def channels_first_input():
        return keras.Sequential([keras.Input(shape=(1, 28, 28)), layers.Flatten(),
                                 layers.Dense(10, activation="softmax")])

    fails(check.build_model_architecture, channels_first_input, match="channels-first")
    fails(check.build_model_architecture, lambda: None, match="returned None")
    fails(check.build_model_architecture,
          lambda: keras.Sequential([layers.Conv2D(32, 3)]), match="not built")
    shared = _model()
    fails(hidden.build_model_exact, lambda: shared, match="same model object twice")


COMPILE_MISTAKES = {
    "sparse loss": (dict(loss="sparse_categorical_crossentropy"), "expects integer labels"),
    "mse loss": (dict(loss="mse"), "regression loss"),
    "binary loss": (dict(loss="binary_crossentropy"), "binary_crossentropy is for yes/no"),
    "sgd": (dict(optimizer="sgd"), "optimizer is SGD"),
    "adam": (dict(optimizer="adam"), "optimizer is Adam"),
    "from logits": (dict(loss=None), "from_logits=True"),
    "not compiled": (dict(compile=False), "not compiled"),
}


@pytest.mark.parametrize("mistake", sorted(COMPILE_MISTAKES))
def test_compile_mistakes_are_named(mistake):
    import keras

    kwargs, message = COMPILE_MISTAKES[mistake]
    if kwargs.get("loss", "") is None:
        kwargs = dict(loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    fails(check.build_model_compile, lambda: _model(**kwargs), match=message)
    fails(hidden.compile_exact, lambda: _model(**kwargs), match=message)


def test_metric_missing_is_named():
    def no_metric():
        model = _model(compile=False)
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
        return model

    fails(check.build_model_compile, no_metric, match="metrics=\\['accuracy'\\]")


# ---------------------------------------------------------------- learning
def test_synthetic_learning_check_passes_and_fails(ns, capsys):
    import keras

    check.build_model_learns(ns["build_model"])
    assert "after 64 training steps" in capsys.readouterr().out  # 2 epochs of 1,000 / 32

    def frozen():  # a model that cannot learn: learning rate 0
        model = _model(compile=False)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.0),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    fails(check.build_model_learns, frozen, match="does not learn")
    sparse = lambda: _model(loss="sparse_categorical_crossentropy")  # noqa: E731
    fails(check.build_model_learns, sparse, match="raised|does not learn")


def test_work_is_counted_from_the_layers(ns):
    from utils.checks.lenet5 import model_layers

    # by hand: conv 320 x 26*26 + 18,496 x 11*11 + 36,928 x 3*3, dense 36,928 + 650
    assert check.multiply_adds(check.EXPECTED_LAYERS) == 2_824_266
    assert check.multiply_adds(model_layers(ns["build_model"](), "build_model")) == 2_824_266
    # both pooling layers forgotten: about 11 times the work, still trained (the architecture
    # tests name that mistake)
    no_pools = _model_without_pooling()
    assert check.multiply_adds(model_layers(no_pools, "build_model")) == 30_726_346
    check.check_work(no_pools)


def _model_without_pooling():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             layers.Conv2D(32, 3, activation="relu"),
                             layers.Conv2D(64, 3, activation="relu"),
                             layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
                             layers.Dense(64, activation="relu"),
                             layers.Dense(10, activation="softmax")])


def test_a_far_bigger_model_fails_before_any_training():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                              layers.Conv2D(64, 3, padding="same", activation="relu"),
                              layers.Conv2D(256, 3, padding="same", activation="relu"),
                              layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    def no_fit(*args, **kwargs):
        raise AssertionError("the check trained a model it should have refused")

    model.fit = no_fit
    x, y = check.synthetic_patterns(2, seed=0)
    with pytest.raises(CheckFailure, match=r"million multiply-adds per image, \d+ times"):
        check.check_learns(model, x, y, x, y, epochs=1, batch_size=10, min_accuracy=0.0,
                           what="a tiny set")


@pytest.mark.slow
def test_hidden_learning_on_mnist_subset(ns, mnist_path, capsys):
    import math

    hidden.learns_on_mnist_subset(ns["build_model"])
    steps = hidden.LEARN_EPOCHS * math.ceil(hidden.N_TRAIN_SUBSET / hidden.LEARN_BATCH)
    assert (f"held-out digits after {hidden.LEARN_EPOCHS} epochs on {hidden.N_TRAIN_SUBSET:,} "
            f"({steps} steps of {hidden.LEARN_BATCH})") in capsys.readouterr().out


ADD_STYLE_BUILD_MODEL = """\
def build_model():
    model = keras.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def test_a_keras_warning_reaches_no_test_cell_stderr_in_a_real_kernel():
    """model.add(...) with input_shape=: Keras warns; plain nbgrader would score stderr 0."""
    import nbformat

    from grader import notebook_cells as cells
    from grader.authoring.execute import execute

    source = cells.read(solution_path(STEM))
    code = [c for c in source.cells if c.cell_type == "code"]
    tests = [c for c in code if cells.nbgrader_meta(c).get("grade_id") in
             ("build_model_architecture", "build_model_compile_settings")]
    assert len(tests) == 2
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code[0].source),
                                         nbformat.v4.new_code_cell(ADD_STYLE_BUILD_MODEL)]
                                  + [nbformat.v4.new_code_cell(c.source) for c in tests])
    execute(nb, solution_path(STEM).parent, timeout=300, allow_errors=True)
    outputs = [o for c in nb.cells[2:] for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], outputs
    assert not [o for o in outputs if o.get("name") == "stderr"], outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert text.count("\u2714") == 4
    assert "note: your code raised a warning (it costs no points): UserWarning: Do not pass" in text


# ---------------------------------------------------------------- figures
def test_confusion_counts_and_figures(ns):
    from utils.plotting import keras_mnist as mnist_plots

    y_true = np.array([0, 1, 2, 2, 9, 9, 9])
    y_pred = np.array([0, 1, 2, 7, 9, 4, 9])
    counts = mnist_plots.confusion_counts(y_true, y_pred)
    assert counts.shape == (10, 10) and counts.sum() == 7 and np.trace(counts) == 5
    assert counts[2, 7] == 1 and counts[9, 4] == 1 and counts[9, 9] == 2
    fig = mnist_plots.plot_confusion_matrix(y_true, y_pred)
    assert "2 errors in 7" in fig.axes[0].get_title()
    images = np.random.default_rng(0).uniform(size=(7, 28, 28, 1))
    probs = np.full((7, 10), 0.1)
    fig = mnist_plots.show_misclassified(images, y_true, y_pred, probs)
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    model = ns["build_model"]()
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    fig = mnist_plots.show_first_layer_filters(model, compare={"SOBEL_X": sobel})
    assert len(fig.axes) == 32
    assert sum("SOBEL_X" in ax.get_title() for ax in fig.axes) == 1
    with pytest.raises(ValueError, match="labels"):
        mnist_plots.confusion_counts([1, 2], [1])


def test_kernel_cosines_and_filters_with_maps():
    from utils.plotting import keras_mnist as mnist_plots

    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)
    kernels = np.stack([sobel, -2 * sobel, sobel.T, np.ones((3, 3))], axis=-1)
    np.testing.assert_allclose(mnist_plots.kernel_cosines(kernels, sobel), [1, -1, 0, 0],
                               atol=1e-9)
    maps = np.random.default_rng(0).uniform(size=(26, 26, 4))
    maps[:, :, 3] = 0
    fig = mnist_plots.show_filters_with_maps(kernels, maps, ncols=2)
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 8                                   # four filters, four maps
    assert {im.get_clim() for im in shown[1::2] if im.get_array().shape == (26, 26)} \
        == {(0.0, float(maps.max()))}                        # one scale for every map
    with pytest.raises(ValueError, match="one map per kernel"):
        mnist_plots.show_filters_with_maps(kernels, maps[:, :, :3])


@pytest.mark.parametrize("val_loss, val_acc, words", [
    ([0.5, 0.4, 0.3], [0.90, 0.92, 0.93], "fell in every epoch"),
    ([0.5, 0.4, 0.45], [0.90, 0.92, 0.93], "early warning of overfitting"),
    ([0.5, 0.4, 0.45], [0.90, 0.92, 0.91], "started to overfit"),
    ([0.5, 0.55, 0.3], [0.90, 0.92, 0.93], "a blip, not a trend"),
])
def test_describe_validation_words_what_the_numbers_show(val_loss, val_acc, words):
    from utils.plotting import keras_mnist as mnist_plots

    history = {"loss": [0.6, 0.3, 0.2], "val_loss": val_loss, "val_accuracy": val_acc}
    text = mnist_plots.describe_validation(history)
    assert words in text, text
    if "fell in every" not in words:
        e = next(k for k in (1, 2) if val_loss[k] > val_loss[k - 1])
        assert f"Epoch {e + 1}: the validation loss rose from {val_loss[e - 1]:.4f}" in text
    assert "One epoch only" in mnist_plots.describe_validation({"loss": [1.0],
                                                                "val_loss": [1.0]})
    with pytest.raises(ValueError, match="validation_data"):
        mnist_plots.describe_validation({"loss": [1.0]})


# ---------------------------------------------------------------- the notebook
def test_saved_solution_reaches_the_spec_accuracy():
    """The executed solution (full 5-epoch run) shows test accuracy >= 0.99 and its time."""
    from grader import notebook_cells as cells

    nb = cells.read(solution_path(STEM))
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "training on 60,000 images for 5 epoch(s), batch size 64" in text
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", text).group(1))
    assert accuracy >= 0.99
    assert re.search(r"training time: \d+ s for 5 epoch\(s\) on 60,000 images", text)


def test_saved_solution_words_its_own_numbers():
    """07's reading of the curves and the filters' polarity are printed from the run itself."""
    from grader import notebook_cells as cells

    nb = cells.read(solution_path(STEM))
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    rows = re.findall(r"^\s+(\d) \| +([\d.]+) \| +([\d.]+) \| ([\d.]+)$", text, re.M)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    val_loss = [float(r[2]) for r in rows]
    rose = [k + 1 for k in range(1, 5) if val_loss[k] > val_loss[k - 1]]
    for epoch in rose:
        assert f"Epoch {epoch}: the validation loss rose" in text
    if not rose:
        assert "fell in every epoch" in text
    for m in re.finditer(r"cosine ([+-][\d.]+), a (light-to-dark|dark-to-light)", text):
        assert (float(m.group(1)) > 0) == (m.group(2) == "light-to-dark")
    assert len(re.findall(r"is the closest to SOBEL_[XY]", text)) == 2


@pytest.mark.slow
def test_solution_runs_fast_when_grading(mnist_path):
    """Under the autograder the solution shrinks its training and every test still passes."""
    from grader import notebook_cells as cells
    from grader.authoring.execute import errors, execute

    nb = cells.read(solution_path(STEM))
    execute(nb, solution_path(STEM).parent, timeout=300,
            env={"CNN_COURSE_GRADING": "1", "MNIST_PATH": str(mnist_path)})
    assert errors(nb) == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "training on 256 images for 1 epoch(s)" in text
    assert text.count("\u2714") == 8


def test_training_cache_reuses_only_identical_work(tmp_path, ns):
    """The grader trains each distinct (model, initial weights, data, work) once."""
    import keras

    from grader.trusted.cache import DiskCache

    x, y = check.synthetic_patterns(20, seed=1)
    x_val, y_val = check.synthetic_patterns(5, seed=2)

    def fresh(seed, units=64):
        keras.utils.set_random_seed(seed)
        model = ns["build_model"]()
        if units != 64:  # the same model with a narrower hidden layer
            model = keras.Sequential([keras.Input((28, 28, 1))] + [
                keras.layers.Dense(units, activation="relu") if isinstance(lay, keras.layers.Dense)
                and lay.units == 64 else lay.__class__.from_config(lay.get_config())
                for lay in model.layers])
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                          metrics=["accuracy"])
        return model

    same_a, same_b = fresh(3), fresh(3)
    key = check.training_key(same_a, (x, y, x_val, y_val), 1, 32)
    assert key == check.training_key(same_b, (x, y, x_val, y_val), 1, 32)  # names differ
    assert key != check.training_key(fresh(4), (x, y, x_val, y_val), 1, 32)  # other weights
    assert key != check.training_key(fresh(3, units=32), (x, y, x_val, y_val), 1, 32)
    assert key != check.training_key(same_a, (x, y, x_val, y_val), 2, 32)  # more work

    cache = DiskCache(tmp_path)
    check.set_training_cache(cache)
    try:
        first = check.check_learns(same_a, x, y, x_val, y_val, epochs=1, batch_size=32,
                                   min_accuracy=0.0, what="test data")
        assert len(list(tmp_path.glob("*.json"))) == 1

        def no_training(*a, **k):
            raise AssertionError("trained again although the result was known")

        same_b.fit = no_training
        assert check.check_learns(same_b, x, y, x_val, y_val, epochs=1, batch_size=32,
                                  min_accuracy=0.0, what="test data") == first
    finally:
        check.set_training_cache(None)

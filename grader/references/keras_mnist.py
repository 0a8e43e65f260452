"""Hidden tests for notebook 07 (Keras on MNIST).

Grading never trains on 60,000 images: it inspects the architecture and the
compile settings exactly, runs ``preprocess`` on real MNIST digits (loaded with
:func:`utils.data.load_mnist`) against a reference held here, and trains the
student's model on a fixed small subset for a counted amount of work (epochs and
batches; nothing is timed, so the verdict does not depend on the machine's speed).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from utils.checks import keras_mnist as visible
from utils.checks.core import call, fail, passed, warnings_as_notes
from utils.checks.lenet5 import check_architecture

from . import seeding

SEED = 7070
N_TRAIN_SUBSET = 3000  # fixed subset used to check that the model learns
N_VAL_SUBSET = 1000
LEARN_EPOCHS = 2
LEARN_BATCH = 64
MIN_SUBSET_ACCURACY = 0.75  # the specified model gets 0.91 on this subset (0.91-0.92 on others); chance is 0.10

INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10
#: The expected architecture (spec 3.07): the course's only hand-written copy. The visible
#: checks read a generated copy, utils/checks/expected.py (`python -m grader.authoring.expected`).
LAYERS = (
    dict(kind="Conv2D", label="Conv2D(32, 3x3, relu)", filters=32, kernel_size=(3, 3),
         strides=(1, 1), padding="valid", activation="relu", output_shape=(26, 26, 32), params=320),
    dict(kind="MaxPooling2D", label="MaxPooling2D(2x2)", pool_size=(2, 2), strides=(2, 2),
         output_shape=(13, 13, 32), params=0),
    dict(kind="Conv2D", label="Conv2D(64, 3x3, relu)", filters=64, kernel_size=(3, 3),
         strides=(1, 1), padding="valid", activation="relu", output_shape=(11, 11, 64),
         params=18496),
    dict(kind="MaxPooling2D", label="MaxPooling2D(2x2)", pool_size=(2, 2), strides=(2, 2),
         output_shape=(5, 5, 64), params=0),
    dict(kind="Conv2D", label="Conv2D(64, 3x3, relu)", filters=64, kernel_size=(3, 3),
         strides=(1, 1), padding="valid", activation="relu", output_shape=(3, 3, 64),
         params=36928),
    dict(kind="Flatten", label="Flatten", output_shape=(576,), params=0),
    dict(kind="Dense", label="Dense(64, relu)", units=64, activation="relu", output_shape=(64,),
         params=36928),
    dict(kind="Dense", label="Dense(10, softmax)", units=10, activation="softmax",
         output_shape=(10,), params=650),
)
TOTAL = 93322


def _reference(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grader's reference preprocessing (never shown to students)."""
    x = (images.astype(np.float32) / np.float32(255.0))[..., np.newaxis]
    y = np.zeros((labels.shape[0], 10), dtype=np.float32)
    y[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1.0
    return x, y


def _mnist():
    from utils.data import load_mnist

    return load_mnist()


def _subset(n_train: int, n_val: int, seed: int):
    (x_train, y_train), (x_test, y_test) = _mnist()
    rng = np.random.default_rng(seed)
    tr = np.sort(rng.choice(x_train.shape[0], size=n_train, replace=False))
    va = np.sort(rng.choice(x_test.shape[0], size=n_val, replace=False))
    return (x_train[tr], y_train[tr]), (x_test[va], y_test[va])


# ---------------------------------------------------------------- preprocess
def preprocess_real_digits(preprocess: Callable) -> None:
    """Real MNIST digits (train and test, two batch sizes): dtype, shape, range, one-hot."""
    (tr_x, tr_y), (te_x, te_y) = _subset(300, 37, SEED)
    for images, labels, case in ((tr_x, tr_y, "300 real training digits"),
                                 (te_x, te_y, "37 real test digits")):
        out = call(preprocess, images, labels, name="preprocess")
        if not isinstance(out, tuple) or len(out) != 2:
            fail(f"`preprocess` returned {type(out).__name__}; expected a pair (x, y).",
                 hint="end with `return x, y`.")
        exp_x, exp_y = _reference(images, labels)
        visible.check_preprocessed(out[0], out[1], exp_x, exp_y, images, case=case)
        x = np.asarray(out[0])
        if not (0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) > 0.99):
            fail(f"`preprocess` on {case}: x spans [{x.min():.3g}, {x.max():.3g}]; expected "
                 "[0, 1] with white pixels at 1.")
    passed("preprocess: real MNIST digits scaled, float32, channels-last, one-hot")


# ---------------------------------------------------------------- the model
def build_model_exact(build_model: Callable) -> None:
    """Exact layers, activations, kernel sizes, padding, shapes and parameter count."""
    model = call(build_model, name="build_model")
    check_architecture(model, LAYERS, "build_model", input_shape=INPUT_SHAPE, total=TOTAL)
    rng = seeding.rng(SEED + 1)
    with warnings_as_notes(model, "your model"):
        probs = np.asarray(model(rng.uniform(0, 1, (4, 28, 28, 1)).astype(np.float32),
                                 training=False))
    if probs.shape != (4, 10) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        fail(f"`build_model`: the output for 4 images has shape {probs.shape} and is not a "
             "probability per row.", hint="the last layer needs activation='softmax'.")
    if call(build_model, name="build_model") is model:
        fail("`build_model` returned the same model object twice.",
             hint="create and compile a new model inside the function.")
    passed("build_model: exact architecture (8 layers, 93,322 parameters)")


def compile_exact(build_model: Callable) -> None:
    """Optimizer RMSprop, loss categorical cross-entropy (not from logits), accuracy metric."""
    model = call(build_model, name="build_model")
    if model is None:
        fail("`build_model` returned None.", hint="the function is missing `return model`.")
    visible.check_compile(model)
    passed("build_model: compile settings exact")


def learns_on_mnist_subset(build_model: Callable) -> None:
    """Train a fresh model on a fixed subset of 3,000 real digits: 2 epochs of batches of 64."""
    import keras

    (tr_x, tr_y), (va_x, va_y) = _subset(N_TRAIN_SUBSET, N_VAL_SUBSET, SEED + 2)
    x, y = _reference(tr_x, tr_y)
    x_val, y_val = _reference(va_x, va_y)
    keras.utils.set_random_seed(SEED)  # fixed: a training check, not a hidden value
    model = call(build_model, name="build_model")
    if model is None:
        fail("`build_model` returned None.", hint="the function is missing `return model`.")
    acc, steps = visible.check_learns(
        model, x, y, x_val, y_val, epochs=LEARN_EPOCHS, batch_size=LEARN_BATCH,
        min_accuracy=MIN_SUBSET_ACCURACY, what=f"a fixed subset of {N_TRAIN_SUBSET:,} MNIST digits")
    passed(f"build_model: {acc:.3f} accuracy on {N_VAL_SUBSET:,} held-out digits after "
           f"{LEARN_EPOCHS} epochs on {N_TRAIN_SUBSET:,} ({steps} steps of {LEARN_BATCH})")

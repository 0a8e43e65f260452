"""Expected values of the visible checks (GENERATED: do not edit by hand).

Written by `python -m grader.authoring.expected` from grader/references/edges.py,
lenet5.py and keras_mnist.py, the course's only hand-written copy of these values;
tests/test_expected.py fails when this file differs from what that command writes.
Constants only: nothing here computes the answer of a graded function.
"""
import numpy as np

# --------------------------------------------------------------- notebook 01 (references/edges.py)
VERTICAL_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
HORIZONTAL_EDGE = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
SCHARR_X = np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]])

# -------------------------------------------------------------- notebook 06 (references/lenet5.py)
#: The spec's table: (layer, activation_shape, activation_size, n_params).
LENET5_TABLE = (
    ("input", (32, 32, 3), 3072, 0),
    ("CONV1", (28, 28, 8), 6272, 608),
    ("POOL1", (14, 14, 8), 1568, 0),
    ("CONV2", (10, 10, 16), 1600, 3216),
    ("POOL2", (5, 5, 16), 400, 0),
    ("FC3", (120,), 120, 48120),
    ("FC4", (84,), 84, 10164),
    ("softmax", (10,), 10, 850),
)
LENET5_TOTAL = 62958

# --------------------------------------------------------- notebook 07 (references/keras_mnist.py)
MNIST_INPUT_SHAPE = (28, 28, 1)
MNIST_N_CLASSES = 10
#: build_model(), layer by layer: what model.summary() must show.
MNIST_LAYERS = (
    dict(kind="Conv2D", label="Conv2D(32, 3x3, relu)", filters=32, kernel_size=(3, 3),
         strides=(1, 1), padding="valid", activation="relu", output_shape=(26, 26, 32),
         params=320),
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
MNIST_TOTAL_PARAMS = 93322

# Typical mistakes in 06_lenet5: the answer cells of a student who
# (1) forgets the bias of each filter when counting convolution parameters
#     (this also spoils the CONV rows of lenet5_table, which uses conv_params),
# (2) ignores the window size in pool_output_shape (n // stride), and
# (3) uses padding="same" in the Keras model.
# conv_output_shape and dense_params are right, so the score is partial.

# %% grade_id: pool_output_shape
def pool_output_shape(input_shape, f, stride):
    """Output shape of an f x f pooling layer without padding (channels last)."""
    n_H_prev, n_W_prev, n_C_prev = input_shape
    return (n_H_prev // stride, n_W_prev // stride, n_C_prev)

# %% grade_id: conv_params
def conv_params(f, n_C_prev, n_C):
    """Number of learned parameters of a Conv2D layer."""
    return f * f * n_C_prev * n_C

# %% grade_id: build_lenet5
def build_lenet5():
    """LeNet-5 in Keras for (32, 32, 3) inputs and 10 classes."""
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(8, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    return model

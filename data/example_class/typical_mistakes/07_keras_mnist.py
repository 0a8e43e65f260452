# Typical mistakes in 07_keras_mnist: the answer cells of a student who
# (1) divides the uint8 pixels with integer division (almost every pixel becomes 0)
#     and forgets the channel axis, and
# (2) forgets the ReLU of the first Dense layer.
# The compile settings are right and the model still learns, so the score is partial.

# %% grade_id: preprocess
def preprocess(images, labels):
    """Turn raw MNIST arrays into network inputs and targets."""
    x = images // 255
    y = keras.utils.to_categorical(labels, 10)
    return x, y

# %% grade_id: build_model
def build_model():
    """A new, compiled ConvNet for 28x28x1 digit images and 10 classes."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model

"""Visible checks for notebook 07 (Keras on MNIST).

The expected architecture is a constant list of layers (spec section 3.07,
generated from the references into :mod:`utils.checks.expected`); the
preprocessing check uses small made-up "digits" whose pixel values come from a
lookup table, so the expected scaled values are constants too. Nothing here
preprocesses MNIST or builds the model: that is the student's work.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import expected
from .core import CheckFailure, call, check_array, fail, fmt_value, passed, warnings_as_notes
from .lenet5 import check_architecture, model_layers

# The architecture (spec 3.07), generated from grader/references/keras_mnist.py.
INPUT_SHAPE = expected.MNIST_INPUT_SHAPE
N_CLASSES = expected.MNIST_N_CLASSES
TOTAL_PARAMS = expected.MNIST_TOTAL_PARAMS
#: build_model(), layer by layer: what model.summary() must show.
EXPECTED_LAYERS = expected.MNIST_LAYERS

OPTIMIZER = "RMSprop"
LOSSES_OK = ("categorical_crossentropy",)
METRICS_OK = ("accuracy", "acc", "categorical_accuracy")

LOSS_MISTAKES = {
    "sparse_categorical_crossentropy":
        "sparse_categorical_crossentropy expects integer labels (5), but preprocess makes "
        "one-hot labels ([0,0,0,0,0,1,0,0,0,0]); use loss='categorical_crossentropy'.",
    "binary_crossentropy":
        "binary_crossentropy is for yes/no outputs; ten exclusive classes with one-hot "
        "labels need loss='categorical_crossentropy'.",
    "mean_squared_error":
        "mean squared error is a regression loss; for one-hot class labels and a softmax "
        "output use loss='categorical_crossentropy'.",
    "kl_divergence": "use loss='categorical_crossentropy' for one-hot labels.",
}
LOSS_ALIASES = {"mse": "mean_squared_error", "mean_squared_error": "mean_squared_error",
                "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
                "categorical_crossentropy": "categorical_crossentropy",
                "binary_crossentropy": "binary_crossentropy", "kld": "kl_divergence",
                "kl_divergence": "kl_divergence"}


# ---------------------------------------------------------------- preprocess
# Made-up 28x28 "digits": each pixel is PIXELS[index]; the scaled value is SCALED[index].
PIXELS = np.array([0, 1, 51, 102, 127, 128, 200, 254, 255], dtype=np.uint8)
SCALED = np.array([0.0, 1 / 255, 0.2, 0.4, 127 / 255, 128 / 255, 200 / 255, 254 / 255, 1.0])
EXAMPLE_LABELS = np.array([3, 0, 9, 5, 7], dtype=np.uint8)
EXAMPLE_ONE_HOT = np.array([
    [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
])


def example_index(n: int = 5) -> np.ndarray:
    """Indices into PIXELS for ``n`` small 28x28 test images (a fixed pattern)."""
    i = np.arange(n)[:, None, None]
    r = np.arange(28)[None, :, None]
    c = np.arange(28)[None, None, :]
    return (3 * i + r * 5 + c * 7 + (r * c) % 4) % len(PIXELS)


def check_preprocessed(x: Any, y: Any, expected_x: np.ndarray, expected_y: np.ndarray,
                       raw: np.ndarray, name: str = "preprocess", case: str = "") -> None:
    """Compare ``(x, y)`` from preprocess with the expected arrays; name the mistake.

    ``raw`` is the uint8 image batch that went in (used to recognise the output of
    typical mistakes: unscaled pixels, integer division, standardising).
    """
    n = raw.shape[0]
    where = f" on {case}" if case else ""
    x = np.asarray(x) if isinstance(x, (list, tuple)) else x
    if not isinstance(x, np.ndarray):
        fail(f"`{name}` returned x of type {type(x).__name__}; expected a NumPy array.",
             hint="return NumPy arrays, e.g. `images.astype('float32') / 255`.")
    shape_hints = {
        "the channel axis is missing: add it at the end, e.g. `x[..., np.newaxis]` "
        "or `x.reshape(-1, 28, 28, 1)`.": (n, 28, 28),
        "the array is channels-first (N, 1, 28, 28); Keras here is channels-last: "
        "put the channel axis at the end, (N, 28, 28, 1).": (n, 1, 28, 28),
        "the images were flattened to vectors; a ConvNet needs (N, 28, 28, 1).": (n, 784),
    }
    if x.shape != expected_x.shape:
        hint = next((h for h, s in shape_hints.items() if tuple(x.shape) == s), None)
        fail(f"`{name}` returned x with shape {x.shape}{where}; expected {expected_x.shape}.",
             f"Input images: shape {raw.shape}, dtype {raw.dtype}", hint=hint)
    if not np.issubdtype(x.dtype, np.floating):
        hint = "convert to float32 before dividing: `images.astype('float32') / 255`."
        if x.max() <= 1:
            hint = ("integer division `//` turns every pixel below 255 into 0; convert to "
                    "float32 and use `/`.")
        fail(f"`{name}` returned x with dtype {x.dtype}{where}; expected float32.", hint=hint)
    if x.dtype != np.float32:
        fail(f"`{name}` returned x with dtype {x.dtype}{where}; expected float32.",
             hint="float64 doubles the memory and Keras computes in float32 anyway: "
                  "use `.astype('float32')` (dividing a float32 array by 255 keeps float32).")
    raw4 = raw.reshape(expected_x.shape).astype(np.float64)
    mistakes = {
        "the pixels are not scaled: divide by 255 so they lie in [0, 1].": raw4,
        "integer division `//` turns every pixel below 255 into 0; use `/` on floats.":
            (raw4 >= 255).astype(np.float64),
        "dividing by 256 leaves the largest value below 1; divide by 255.": raw4 / 256,
    }
    if x.min() < 0 or x.max() > 1:
        hint = next((m for m, w in mistakes.items() if np.allclose(x, w)), None)
        if hint is None and x.min() < 0:
            hint = ("the pixels were standardised (mean 0); this notebook wants them "
                    "scaled to [0, 1] by dividing by 255.")
        fail(f"`{name}` returned x with values in [{float(x.min()):.4g}, {float(x.max()):.4g}]"
             f"{where}; expected [0, 1].", hint=hint)
    check_array(x, expected_x, f"{name} (x)", mistakes=mistakes, case=case or None,
                rtol=1e-6, atol=1e-6)
    y = np.asarray(y) if isinstance(y, (list, tuple)) else y
    if not isinstance(y, np.ndarray):
        fail(f"`{name}` returned y of type {type(y).__name__}; expected a NumPy array.")
    if y.shape != expected_y.shape:
        hint = None
        if y.shape in ((n,), (n, 1)):
            hint = ("the labels are not one-hot: turn each digit into a row of 10 with a 1 "
                    "at the digit's position, e.g. `keras.utils.to_categorical(labels, 10)`.")
        elif y.ndim == 2 and y.shape[0] == n:
            hint = "one-hot rows need exactly 10 entries (digits 0 to 9)."
        fail(f"`{name}` returned y with shape {y.shape}{where}; expected {expected_y.shape}.",
             f"Labels in: {fmt_value(raw_labels_hint(expected_y))}", hint=hint)
    check_array(y, expected_y, f"{name} (y)", case=case or None,
                mistakes={"the one-hot rows are shifted by one (label k put in column k+1)":
                          np.roll(expected_y, 1, axis=1)})


def raw_labels_hint(one_hot: np.ndarray) -> np.ndarray:
    """The digits behind a one-hot block (for messages only)."""
    return np.argmax(one_hot, axis=1)[:10]


def preprocess_examples(preprocess: Callable) -> None:
    """preprocess on five made-up 28x28 uint8 images: float32 (5, 28, 28, 1) in [0, 1], one-hot y."""
    idx = example_index(len(EXAMPLE_LABELS))
    images = PIXELS[idx]
    expected_x = SCALED[idx][..., None].astype(np.float32)
    out = call(preprocess, images, EXAMPLE_LABELS.copy(), name="preprocess")
    if not isinstance(out, tuple) or len(out) != 2:
        fail(f"`preprocess` returned {fmt_value(out)}; expected a pair (x, y).",
             hint="end with `return x, y`.")
    x, y = out
    check_preprocessed(x, y, expected_x, EXAMPLE_ONE_HOT.astype(np.float32), images,
                       case="five made-up 28x28 uint8 images")
    passed("preprocess: x float32 (5, 28, 28, 1) scaled to [0, 1]; y one-hot (5, 10)")


# ---------------------------------------------------------------- the model
def build_model_architecture(build_model: Callable) -> None:
    """build_model(): the eight layers, their settings and output shapes; 93,322 parameters."""
    model = call(build_model, name="build_model")
    check_architecture(model, EXPECTED_LAYERS, "build_model", input_shape=INPUT_SHAPE,
                       total=TOTAL_PARAMS)
    passed(f"build_model: 8 layers as specified; {TOTAL_PARAMS:,} parameters")


def _name_of(spec: Any) -> str:
    """Normalise a serialised loss/metric/optimizer from ``get_compile_config()``."""
    from .lenet5 import _snake

    if spec is None:
        return "none"
    if isinstance(spec, str):
        return spec.lower()
    if isinstance(spec, Mapping):
        cfg = spec.get("config")
        if isinstance(cfg, str):
            return cfg.lower()
        if spec.get("class_name") in (None, "function") and isinstance(cfg, Mapping):
            return str(cfg.get("name", "")).lower()
        return _snake(str(spec.get("class_name")))
    return str(getattr(spec, "__name__", type(spec).__name__)).lower()


def compile_settings(model: Any) -> dict:
    """``{"optimizer": class name, "loss": name, "from_logits": bool, "metrics": [names]}``."""
    cfg = model.get_compile_config() if getattr(model, "compiled", False) else None
    if not cfg:
        return {}
    loss_spec = cfg.get("loss")
    from_logits = bool(isinstance(loss_spec, Mapping) and isinstance(loss_spec.get("config"), Mapping)
                       and loss_spec["config"].get("from_logits"))
    metrics = cfg.get("metrics") or []
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    loss = _name_of(loss_spec)
    return {"optimizer": type(model.optimizer).__name__, "loss": LOSS_ALIASES.get(loss, loss),
            "from_logits": from_logits, "metrics": [_name_of(m) for m in metrics]}


def check_compile(model: Any, name: str = "build_model") -> None:
    """Fail unless the model is compiled with RMSprop, categorical cross-entropy and accuracy."""
    settings = compile_settings(model)
    if not settings:
        fail(f"`{name}` returned a model that is not compiled.",
             hint="call `model.compile(optimizer='rmsprop', loss='categorical_crossentropy', "
                  "metrics=['accuracy'])` before `return model`.")
    if settings["optimizer"] != OPTIMIZER:
        fail(f"`{name}`: the optimizer is {settings['optimizer']}; expected {OPTIMIZER}.",
             hint="compile with `optimizer='rmsprop'` (the spec's choice; plain SGD at its "
                  "default learning rate learns much more slowly here).")
    if settings["loss"] not in LOSSES_OK:
        fail(f"`{name}`: the loss is '{settings['loss']}'; expected 'categorical_crossentropy'.",
             hint=LOSS_MISTAKES.get(settings["loss"],
                                    "one-hot labels and a softmax output need "
                                    "loss='categorical_crossentropy'."))
    if settings["from_logits"]:
        fail(f"`{name}`: the loss has from_logits=True, but the last layer already applies "
             "softmax.", hint="leave from_logits at its default (False).")
    if not any(m in METRICS_OK for m in settings["metrics"]):
        fail(f"`{name}`: the metrics are {settings['metrics']}; expected accuracy.",
             hint="add `metrics=['accuracy']` to compile so training reports accuracy.")


def build_model_compile(build_model: Callable) -> None:
    """build_model(): compiled with rmsprop, categorical cross-entropy and accuracy."""
    model = call(build_model, name="build_model")
    if model is None:
        fail("`build_model` returned None.", hint="the function is missing `return model`.")
    check_compile(model)
    passed("build_model: compiled with RMSprop, categorical cross-entropy and accuracy")


# ---------------------------------------------------------------- learning
def synthetic_patterns(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten made-up classes of 28x28 images: a bright bar on a noisy background.

    Classes 0-4 are horizontal bars at rows ~3, 8, 13, 18, 23; classes 5-9 vertical bars
    at the same columns (position jittered by one pixel, bar start random). Returns ``x``
    float32 ``(10*n_per_class, 28, 28, 1)`` and one-hot ``y`` ``(10*n_per_class, 10)``,
    shuffled. Not MNIST: it only tests that a model learns.
    """
    rng = np.random.default_rng(seed)
    n = 10 * n_per_class
    classes = np.repeat(np.arange(10), n_per_class)
    x = rng.uniform(0.0, 0.3, size=(n, 28, 28)).astype(np.float32)
    where = 3 + 5 * (classes % 5) + rng.integers(-1, 2, size=n)
    start = rng.integers(1, 13, size=n)
    for i in range(n):
        if classes[i] < 5:
            x[i, where[i]:where[i] + 2, start[i]:start[i] + 14] = 1.0
        else:
            x[i, start[i]:start[i] + 14, where[i]:where[i] + 2] = 1.0
    y = np.zeros((n, 10), dtype=np.float32)
    y[np.arange(n), classes] = 1.0
    order = rng.permutation(n)
    return x[order][..., None], y[order]


#: The learning checks train a model only when one image costs at most this many times the
#: specified model's multiply-adds (counted from its layers, never timed).
MAX_WORK_FACTOR = 20


def multiply_adds(rows: Any) -> int:
    """About how many multiply-adds a forward pass costs per image, counted from the layers.

    ``rows``: :func:`utils.checks.lenet5.model_layers` of a model, or
    :data:`EXPECTED_LAYERS`. Each layer's parameters are applied once per output
    position: ``H * W`` times for a layer with an ``(H, W, C)`` output (a
    convolution), once for a flat output (a dense layer).
    """
    total = 0
    for row in rows:
        shape = tuple(row.get("output_shape") or ())
        positions = math.prod(shape[:-1]) if len(shape) == 3 else 1
        total += int(row["params"]) * int(positions)
    return total


def check_work(model: Any, name: str = "build_model") -> None:
    """Fail, before any training, when the model costs far more work than the specified one.

    A model that is not built yet (no ``keras.Input``) is left to training, which builds it.
    """
    try:
        built = bool(model.inputs)
    except Exception:  # noqa: BLE001 - Keras raises ValueError for unbuilt models
        built = False
    if not built:
        return
    work, spec = multiply_adds(model_layers(model, name)), multiply_adds(EXPECTED_LAYERS)
    if work > MAX_WORK_FACTOR * spec:
        fail(f"The model from `{name}` needs about {work / 1e6:,.1f} million multiply-adds per "
             f"image, {work / spec:,.0f} times the specified model's {spec / 1e6:.1f} million; "
             f"the learning test trains models up to {MAX_WORK_FACTOR} times that size.",
             hint="compare the layers with the specification (filters, kernel sizes, pooling "
                  "after each convolution).")


#: where the grader keeps training results (None: always train); see set_training_cache
_TRAINING_CACHE: list = []


def set_training_cache(cache: Any) -> None:
    """Let the grader reuse training results: ``cache.get(key)`` / ``cache.put(key, value)``.

    A learning check's outcome is fixed by the model's architecture and compile
    settings, its initial weights, the data and the counted work; the key covers all of
    them (:func:`training_key`), so two students who built the same model get the very
    result one training run gave. ``None`` turns caching off.
    """
    _TRAINING_CACHE.clear()
    if cache is not None:
        _TRAINING_CACHE.append(cache)


def _canonical(config: Any, names: dict) -> Any:
    """The config with layer names replaced by their order of appearance."""
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if key == "name" and isinstance(value, str):
                names.setdefault(value, f"L{len(names)}")
                out[key] = names[value]
            else:
                out[key] = _canonical(value, names)
        return out
    if isinstance(config, list):
        return [_canonical(v, names) for v in config]
    if isinstance(config, str) and config in names:
        return names[config]
    return config


def training_key(model: Any, arrays: Sequence[np.ndarray], epochs: int, batch_size: int) -> str:
    """A digest of everything a training run's outcome depends on."""
    import hashlib
    import json

    import keras
    h = hashlib.sha256(f"{keras.__version__}|{epochs}|{batch_size}".encode())
    h.update(json.dumps(_canonical(json.loads(model.to_json()), {}), sort_keys=True).encode())
    compiled = model.get_compile_config() if getattr(model, "compiled", False) else None
    compiled = json.loads(json.dumps(compiled, default=str))  # optimizers are named and numbered too
    h.update(json.dumps(_canonical(compiled, {}), sort_keys=True).encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_learns(model: Any, x: np.ndarray, y: np.ndarray, x_val: np.ndarray,
                 y_val: np.ndarray, *, epochs: int, batch_size: int, min_accuracy: float,
                 what: str, name: str = "build_model") -> tuple[float, int]:
    """Train ``model`` for a counted amount of work and fail unless it learns.

    The work is fixed: ``epochs`` passes over ``x`` in batches of ``batch_size``
    (one optimizer step per batch), after :func:`check_work` has made sure one
    step costs no more than :data:`MAX_WORK_FACTOR` times the specified model's.
    No time is measured, so the verdict is the same on a fast and a slow machine.
    Returns ``(validation accuracy, optimizer steps)``.
    """
    check_work(model, name)
    steps = epochs * math.ceil(len(x) / batch_size)
    cache = _TRAINING_CACHE[0] if _TRAINING_CACHE else None
    key = training_key(model, (x, y, x_val, y_val), epochs, batch_size) if cache else None
    known = cache.get(key) if cache else None
    if known is not None:
        losses, acc = [float(v) for v in known["losses"]], float(known["accuracy"])
    else:
        try:
            with warnings_as_notes(model, "training your model"):
                history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
                _, acc = model.evaluate(x_val, y_val, verbose=0)[:2]
        except CheckFailure:
            raise
        except Exception as err:  # noqa: BLE001 - Keras errors become a message
            fail(f"Training the model from `{name}` on {what} raised {type(err).__name__}: "
                 f"{str(err)[:400]}",
                 hint="check the input shape (28, 28, 1), the 10-unit output and the loss.")
        losses = [float(v) for v in history.history.get("loss", [])]
        if cache:
            cache.put(key, {"losses": losses, "accuracy": float(acc)})
    if not np.isfinite(losses).all() or acc < min_accuracy:
        fail(f"The model from `{name}` does not learn: after {epochs} epoch(s) ({steps} steps of "
             f"{batch_size} images) on {what} its accuracy is {acc:.3f} (needs >= "
             f"{min_accuracy}); loss per epoch {[round(v, 3) for v in losses]}.",
             hint="check the output activation (softmax), the loss "
                  "(categorical_crossentropy) and the optimizer (rmsprop).")
    return float(acc), steps


def build_model_learns(build_model: Callable) -> None:
    """build_model(): the compiled model learns ten synthetic patterns in 2 epochs."""
    import keras

    keras.utils.set_random_seed(7)
    x, y = synthetic_patterns(100, seed=1)
    x_val, y_val = synthetic_patterns(20, seed=2)
    model = call(build_model, name="build_model")
    if model is None:
        fail("`build_model` returned None.", hint="the function is missing `return model`.")
    acc, steps = check_learns(model, x, y, x_val, y_val, epochs=2, batch_size=32,
                              min_accuracy=0.8, what="1,000 synthetic 28x28 images (10 classes)")
    passed(f"build_model: learns ten synthetic patterns (accuracy {acc:.2f} after {steps} "
           "training steps)")

"""Data the notebooks use: MNIST and a real photograph.

MNIST is looked for, in this order:

1. the ``path`` argument of :func:`load_mnist`;
2. the file named by the environment variable ``MNIST_PATH``;
3. the course cache ``data/mnist.npz``;
4. otherwise it is downloaded once with ``keras.utils.get_file`` from the standard
   Keras location, checked against the standard Keras SHA-256, and cached in ``data/``.

The file must hold ``x_train (60000, 28, 28)``, ``y_train (60000,)``,
``x_test (10000, 28, 28)`` and ``y_test (10000,)``, all ``uint8``; anything else
gives a :class:`DataError` that says where the loader looked and what to do.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MNIST_ENV = "MNIST_PATH"
MNIST_FILE = "mnist.npz"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


class DataError(RuntimeError):
    """A data file is missing or unreadable; the message says what to do."""


def mnist_candidates(path: str | os.PathLike | None = None) -> list[Path]:
    """The places :func:`load_mnist` looks, in order (the download target last)."""
    places = []
    if path is not None:
        places.append(Path(path))
    if os.environ.get(MNIST_ENV):
        places.append(Path(os.environ[MNIST_ENV]))
    places.append(DATA_DIR / MNIST_FILE)
    return places


def _download(target: Path) -> Path:
    try:
        import keras
    except ImportError as err:  # pragma: no cover - keras is a course dependency
        raise DataError("Keras is needed to download MNIST; install the course "
                        "environment (see README.md).") from err
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        got = keras.utils.get_file(fname=target.name, origin=MNIST_URL,
                                   file_hash=MNIST_SHA256, cache_dir=str(target.parent),
                                   cache_subdir="")
    except Exception as err:  # noqa: BLE001 - network errors come in many types
        raise DataError(
            f"MNIST was not found and could not be downloaded ({type(err).__name__}: {err}).\n"
            f"Looked in: {', '.join(str(p) for p in mnist_candidates())}.\n"
            f"Fix: download {MNIST_URL} by hand and save it as {target}, or set the "
            f"environment variable {MNIST_ENV} to the path of a copy.") from err
    return Path(got)


def _read_mnist(file: Path) -> tuple:
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in MNIST_SHAPES if k not in npz.files]
            if missing:
                raise DataError(f"{file} is not an MNIST file: it lacks {missing} "
                                f"(it has {npz.files}).")
            arrays = {k: npz[k] for k in MNIST_SHAPES}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise DataError(
            f"{file} exists but cannot be read as MNIST ({type(err).__name__}: {err}).\n"
            "It is probably a partial download or a different file. Delete it and run "
            f"again to download a fresh copy, or point {MNIST_ENV} at a good one.") from err
    for key, shape in MNIST_SHAPES.items():
        a = arrays[key]
        if a.shape != shape or a.dtype != np.uint8:
            raise DataError(f"{file}: '{key}' has shape {a.shape} and dtype {a.dtype}; "
                            f"MNIST's is {shape}, uint8. Replace the file with the "
                            "original MNIST.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist(path: str | os.PathLike | None = None, download: bool = True) -> tuple:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like ``keras.datasets.mnist``.

    Returns
    -------
    x_train : uint8 array (60000, 28, 28), y_train : uint8 array (60000,)
    x_test : uint8 array (10000, 28, 28), y_test : uint8 array (10000,)

    Raises :class:`DataError` when a named file is missing or corrupt, or when no
    file is found and downloading is off or fails.
    """
    places = mnist_candidates(path)
    named = places[:-1]  # a path the user named (argument, then MNIST_PATH) must exist
    if named:
        explicit = named[0]
        source = "the path argument" if path is not None else f"${MNIST_ENV}"
        if not explicit.is_file():
            raise DataError(f"MNIST file not found: {explicit} (given by {source}).\n"
                            f"Fix the path, or unset it to use {DATA_DIR / MNIST_FILE} "
                            "(downloaded there on first use).")
        return _read_mnist(explicit)
    cache = places[-1]
    if cache.is_file():
        return _read_mnist(cache)
    if not download:
        raise DataError(f"MNIST not found in {cache} and downloading is off. Set "
                        f"{MNIST_ENV} to a copy of mnist.npz or call load_mnist(download=True).")
    return _read_mnist(_download(cache))


def load_sample_photo(gray: bool = True) -> np.ndarray:
    """A real photograph that ships with matplotlib (Grace Hopper, 512 x 600).

    Returns a float array in [0, 1]: ``(H, W)`` when ``gray`` (luminance
    ``0.299 R + 0.587 G + 0.114 B``), else ``(H, W, 3)``.
    """
    import matplotlib.cbook as cbook
    import matplotlib.image as mpimg

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = mpimg.imread(f, format="jpg").astype(np.float64) / 255.0
    if not gray:
        return rgb
    return rgb @ np.array([0.299, 0.587, 0.114])

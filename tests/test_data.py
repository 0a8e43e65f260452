"""The MNIST loader (spec section 5) and the sample photograph."""
import hashlib
import os

import numpy as np
import pytest

from utils import data

# SHA-256 of each array's raw bytes, from ../shared/data/README.md.
MNIST_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}


def test_loads_real_mnist_exactly(mnist_path):
    """The real file loads with the right shapes, dtype and exact content."""
    (x_tr, y_tr), (x_te, y_te) = data.load_mnist(mnist_path)
    arrays = {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}
    for key, arr in arrays.items():
        assert arr.shape == data.MNIST_SHAPES[key] and arr.dtype == np.uint8
        assert hashlib.sha256(arr.tobytes()).hexdigest() == MNIST_ARRAY_SHA256[key], key
    assert set(np.unique(y_tr)) == set(range(10))


def test_env_variable_is_used(mnist_path, monkeypatch):
    """MNIST_PATH is where the loader looks when no path is given."""
    monkeypatch.setenv("MNIST_PATH", str(mnist_path))
    (_, y_tr), _ = data.load_mnist(download=False)
    assert y_tr.shape == (60000,)


def test_missing_file_names_the_path(tmp_path, monkeypatch):
    """A path that does not exist gives a DataError naming it and the fix."""
    missing = tmp_path / "nope.npz"
    monkeypatch.setenv("MNIST_PATH", str(missing))
    with pytest.raises(data.DataError) as err:
        data.load_mnist()
    msg = str(err.value)
    assert str(missing) in msg and "MNIST_PATH" in msg


def test_corrupt_file_says_what_to_do(tmp_path):
    """A truncated download gives a DataError that says to delete and re-download."""
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(data.DataError) as err:
        data.load_mnist(bad)
    assert "cannot be read as MNIST" in str(err.value) and "Delete it" in str(err.value)


def test_wrong_content_is_rejected(tmp_path):
    """An .npz with other arrays (or wrong shapes) is not taken for MNIST."""
    other = tmp_path / "other.npz"
    np.savez(other, x_train=np.zeros((5, 28, 28), np.uint8), y_train=np.zeros(5, np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))
    with pytest.raises(data.DataError, match="shape"):
        data.load_mnist(other)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(data.DataError, match="lacks"):
        data.load_mnist(partial)


def test_no_download_when_offline_and_disabled(tmp_path, monkeypatch):
    """With downloading off and no file anywhere, the error says where it looked."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(data.DataError) as err:
        data.load_mnist(download=False)
    assert str(tmp_path / "mnist.npz") in str(err.value)


def test_failed_download_is_explained(tmp_path, monkeypatch):
    """A failed download (no network) gives a DataError with the manual fix."""
    import keras

    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(data.DataError) as err:
        data.load_mnist()
    assert data.MNIST_URL in str(err.value) and "network unreachable" in str(err.value)


def test_cached_copy_in_data_dir_is_used(mnist_path, tmp_path, monkeypatch):
    """Once data/mnist.npz exists, it is used without any download."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    os.symlink(mnist_path, tmp_path / "mnist.npz")
    (_, y_tr), _ = data.load_mnist(download=False)
    assert y_tr.shape == (60000,)


def test_sample_photo_is_a_real_grey_image():
    """The photograph ships with matplotlib: grey (H, W) in [0, 1], colour (H, W, 3)."""
    grey = data.load_sample_photo()
    rgb = data.load_sample_photo(gray=False)
    assert grey.ndim == 2 and rgb.shape == grey.shape + (3,)
    assert 0.0 <= grey.min() < 0.2 and 0.8 < grey.max() <= 1.0
    assert grey.std() > 0.1

"""Shared pytest setup: headless matplotlib, MNIST location, repository paths."""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MPLBACKEND", "Agg")
_shared = REPO.parent / "shared" / "data" / "mnist.npz"
if "MNIST_PATH" not in os.environ and _shared.is_file():
    os.environ["MNIST_PATH"] = str(_shared)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close matplotlib figures a test opened."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.fixture
def mnist_path():
    """Path of a real MNIST file, or skip with the reason when none is present."""
    path = os.environ.get("MNIST_PATH")
    if not path or not Path(path).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the real MNIST loader, but MNIST_PATH={path!r} "
                        "is not a file (.ci/run points it at ../shared/data/mnist.npz)")
        pytest.skip("no MNIST file: set MNIST_PATH to mnist.npz (CI points it at "
                    "../shared/data/mnist.npz)")
    return Path(path)

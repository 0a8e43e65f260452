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


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server (``fixtures.postgres.PostgresServer``), stopped at the end.

    Skips with the reason when the server binaries are absent, except in CI, which
    must test the gradebook on a real PostgreSQL (.ci/run installs Debian's package).
    """
    from fixtures.postgres import PostgresServer, find_bin
    bin_dir = find_bin()
    if bin_dir is None:
        why = ("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's "
               "postgresql package or set PG_BIN")
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the gradebook on PostgreSQL, but {why} "
                        "(.ci/run installs it)")
        pytest.skip(why)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must test the gradebook on PostgreSQL, but psycopg (3) is not installed")
        pytest.skip("psycopg (3) is not installed (pip install -e .)")
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()

"""utils.runtime: grading mode, and starting Keras without TensorFlow's C++ start-up log."""
import os
import subprocess
import sys

from utils import runtime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_is_grading_reads_the_environment(monkeypatch):
    monkeypatch.delenv(runtime.GRADING_ENV, raising=False)
    assert not runtime.is_grading()
    monkeypatch.setenv(runtime.GRADING_ENV, "1")
    assert runtime.is_grading()
    monkeypatch.setenv(runtime.GRADING_ENV, "0")
    assert not runtime.is_grading()


def test_keras_starts_without_writing_to_stderr():
    """After import_keras(), building and running a model prints nothing on stderr
    (plain nbgrader scores a test cell with stderr output 0)."""
    code = ("from utils.runtime import import_keras\n"
            "keras = import_keras()\n"
            "import numpy as np, sys\n"
            "m = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)])\n"
            "m.predict(np.zeros((1, 4, 4, 1)), verbose=0)\n"
            "assert import_keras() is keras\n"
            "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert proc.stderr == "", proc.stderr

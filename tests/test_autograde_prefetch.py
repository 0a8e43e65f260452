"""The grader fetches MNIST itself before grading: sandboxed kernels cannot download it."""
from types import SimpleNamespace

from grader.trusted import autograde
from utils import data


def _course(tmp_path, text):
    (tmp_path / "07_x").mkdir()
    (tmp_path / "07_x" / "07_x.ipynb").write_text(text)
    return SimpleNamespace(source=tmp_path)


def test_mnist_is_loaded_once_when_a_notebook_uses_it(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "load_mnist", lambda: calls.append(1))
    autograde.prefetch_data(_course(tmp_path, '{"source": "data.load_mnist()"}'), log=print)
    assert calls == [1]


def test_no_fetch_for_notebooks_without_mnist(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "load_mnist", lambda: calls.append(1))
    autograde.prefetch_data(_course(tmp_path, '{"source": "conv2d(x, k)"}'), log=print)
    assert calls == []


def test_missing_mnist_is_a_clear_warning_not_a_crash(tmp_path, monkeypatch):
    def fail():
        raise data.DataError("MNIST file not found: /nowhere")

    monkeypatch.setattr(data, "load_mnist", fail)
    said = []
    autograde.prefetch_data(_course(tmp_path, "load_mnist"), log=said.append)
    assert len(said) == 1 and "tests that need it will fail" in said[0] and "/nowhere" in said[0]

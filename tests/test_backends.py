"""The Dask worker's side of grading fails closed, each time with the reason.

``grade_on_worker`` is called here in the test process, as a Dask worker would
call it: a worker whose grading code differs from the driver's, or whose machine
cannot give the sandbox's protections, grades nothing and says why; a task cannot
write outside its folder. (Real clusters: tests/test_dask_grading.py.)
"""
from __future__ import annotations

import pytest

from grader.trusted import autograde as ag
from grader.trusted import backends
from grader.trusted.records import GradingResult
from grader.trusted.sandbox import Limits, SandboxUnavailable


def _payload(**kw):
    base = {"student": "ana", "assignment": "fx_basics", "notebooks": ["fx_basics"],
            "notes": ["renamed fx_basics (1).ipynb"], "limits": Limits().as_dict(),
            "code": ag.code_digest(), "store": "copy", "secret": None, "slug": "s1",
            "files": {"fx_basics.ipynb": b"{}"}}
    base.update(kw)
    return base


@pytest.fixture
def fresh_worker(monkeypatch, tmp_path):
    monkeypatch.setattr(backends, "_STATE", {"root": tmp_path})

    class NoProcess:
        def __init__(self):
            raise AssertionError("a grading process was started")
    monkeypatch.setattr(ag, "WorkerProcess", NoProcess)
    return tmp_path


def test_other_grading_code_grades_nothing(fresh_worker):
    out = backends.grade_on_worker(_payload(code="0" * 64))
    result = GradingResult.from_json(out["result"])
    assert result.status == "error"
    assert any("other grading code than the driver" in n for n in result.notes), result.notes
    assert "renamed fx_basics (1).ipynb" in result.notes  # the intake's notes travel along
    assert out["files"] == {}


def test_worker_without_the_sandbox_fails_closed(fresh_worker, monkeypatch):
    def no_sandbox(root, limits):
        raise SandboxUnavailable("Landlock is not available (Linux 5.10)\nmore text")
    monkeypatch.setattr(backends, "prepare_machine", no_sandbox)
    for slug in ("s1", "s2"):  # every task of that worker, not just the first
        out = backends.grade_on_worker(_payload(slug=slug))
        result = GradingResult.from_json(out["result"])
        assert result.status == "error"
        why = " ".join(result.notes)
        assert "cannot give the required protections" in why and "Landlock" in why, why
        assert "fail closed" in why
    assert not (fresh_worker / "work").exists()  # nothing was staged, nothing ran


@pytest.mark.parametrize("rel", ["../escape.ipynb", "/etc/passwd", "a/../../b", ""])
def test_task_files_stay_in_their_folder(tmp_path, rel):
    with pytest.raises(ValueError, match="outside the task's folder"):
        backends._safe_join(tmp_path, rel)


def test_local_pool_is_the_default_backend():
    g = ag.Grader(course=None, limits=Limits(), workers=3)
    assert isinstance(g.backend, backends.LocalPool) and g.backend.workers == 3

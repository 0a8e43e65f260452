"""Grading on a real Dask cluster over loopback: same grades, dead workers, scheduler restarts.

- The example class (two notebooks) graded by ``python -m grader autograde`` with the
  local worker pool and with ``--scheduler local`` (a ``LocalCluster``, copy store)
  gives the same grades CSV and per-test CSV, byte for byte.
- On a ``LocalCluster`` the test starts itself, a worker SIGKILLed in the middle of a
  task loses no student (the task runs again), and a submission whose every try
  kills its worker scores 0 with the reason while the others keep their grades.
- A scheduler and workers started as the ``dask scheduler`` / ``dask worker``
  programs are stopped and started again between runs: the second run resumes (the
  resume state is the driver's), and a changed submission is regraded on the new
  scheduler (through the shared store: the workers grade in the driver's folder).
"""
from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader import notebook_cells as cells
from grader.authoring import example_class
from grader.settings import REPO, tool_env
from grader.trusted import autograde as ag
from grader.trusted.backends import slug
from grader.trusted.course import Course, prepare
from grader.trusted.sandbox import GIB, Limits

from fixtures.bad_submissions import WRONG_DOUBLE, _nb
from fixtures.fixture_course import STEM, make_course

distributed = pytest.importorskip("distributed", reason="the distributed package is not installed")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]

EXAMPLE_STEMS = ["02_padding", "03_strides"]
LIMITS = Limits(cell_timeout=60, notebook_timeout=300, memory_bytes=2 * GIB)


def _env() -> dict:
    env = tool_env()
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in
                                                       env.get("PYTHONPATH", "").split(os.pathsep)
                                                       if p])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _rows(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}


def _secret(folder: Path) -> Path:
    path = folder / "secret"
    path.write_text("dask-test-secret-" + "x" * 40, encoding="utf-8")
    path.chmod(0o600)
    return path


# ------------------------------------------------------------------ same grades as the local pool
def test_example_class_same_grades_csv_as_local_pool(tmp_path):
    course = Course(root=REPO, source=REPO / "solutions", build=tmp_path / "build0")
    stems = [s for s in EXAMPLE_STEMS if s in course.assignments()]
    if len(stems) < 2:
        pytest.skip(f"the example-class test needs {EXAMPLE_STEMS} in solutions/")
    example_class.build(tmp_path / "class", course=course, assignments=stems, log=lambda *a: None,
                        kinds=["perfect", "typical_mistakes", "broken_json"])
    secret = _secret(tmp_path)
    out = {}
    for name, extra in (("local", ["--workers", "2"]),
                        ("dask", ["--scheduler", "local", "--workers", "2"])):
        build = tmp_path / f"build-{name}"
        cmd = [sys.executable, "-m", "grader", "autograde", str(tmp_path / "class"),
               "--course-build", str(build), "--secret-file", str(secret), "--timeout", "120",
               *[a for s in stems for a in ("--assignment", s)], *extra]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=_env(),
                              timeout=1500)
        assert proc.returncode == 0, (name, proc.stdout[-3000:], proc.stderr[-3000:])
        out[name] = build / "reports"
        if name == "dask":
            assert "LocalCluster" in proc.stdout, proc.stdout[-2000:]
    for report in ("grades.csv", "tests.csv"):
        local = (out["local"] / report).read_text(encoding="utf-8")
        dask = (out["dask"] / report).read_text(encoding="utf-8")
        assert dask == local, report
    rows = _rows(out["dask"] / "grades.csv")
    for stem in stems:
        top = float(rows[("perfect", stem)]["max_score"])
        assert float(rows[("perfect", stem)]["score"]) == top > 0
        assert 0 < float(rows[("typical_mistakes", stem)]["score"]) < top
        assert float(rows[("broken_json", stem)]["score"]) == 0
        for student in ("perfect", "typical_mistakes"):
            assert (tmp_path / "build-dask" / "feedback" / student / stem / f"{stem}.html").is_file()
            assert (tmp_path / "build-dask" / "autograded" / student / stem / f"{stem}.ipynb").is_file()


# ------------------------------------------------------------------ fixture class
def _fixture_class(root: Path) -> Course:
    course = make_course(root / "course")
    prepare(course, [STEM], log=lambda *a: None)
    subs = root / "subs"
    victim = _nb(course, {})
    at = next(i for i, c in enumerate(victim.cells) if cells.nbgrader_meta(c).get("grade_id")
              == "square_tests")
    victim.cells.insert(at + 1, nbformat.v4.new_code_cell("import time\ntime.sleep(8)"))
    for student, nb in (("alice", _nb(course, {})), ("bob", _nb(course, {"double": WRONG_DOUBLE})),
                        ("victim", victim), ("killer", _nb(course, {}))):
        folder = subs / student / STEM
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{STEM}.ipynb"))
    return course


def test_killed_workers_lose_no_student(tmp_path):
    import dask
    from distributed import Client, LocalCluster
    from fixtures.dask_kill import KillWorkers
    course = _fixture_class(tmp_path)
    markers = tmp_path / "kills"
    markers.mkdir()
    killer, victim = slug("killer", STEM), slug("victim", STEM)
    logs = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.scheduler.worker-saturation": 1.0}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.register_plugin(KillWorkers(always=[killer], once=[victim],
                                               marker_dir=str(markers), delay=4.0))
            rep = ag.autograde(tmp_path / "subs", course=course, limits=LIMITS,
                               scheduler=cluster.scheduler_address, log=logs.append,
                               secret_file=_secret(tmp_path))
    rows = _rows(course.reports / "grades.csv")
    assert float(rows[("alice", STEM)]["score"]) == 7
    assert float(rows[("bob", STEM)]["score"]) == 5
    # the victim's worker died 4 s into its 8 s cell; the task ran again and counts in full
    assert len((markers / victim).read_text().splitlines()) == 1
    assert float(rows[("victim", STEM)]["score"]) == 7, rows[("victim", STEM)]["notes"]
    assert rows[("victim", STEM)]["notes"] == ""
    # the killer's task killed its workers among the others, then, tried alone, killed
    # allowed-failures (1) + 1 = 2 more; only then does it score 0
    kills = (markers / killer).read_text().splitlines()
    alone = [line for line in kills if line.endswith("-alone")]
    assert len(alone) == 2 and len(kills) > 2, kills
    assert float(rows[("killer", STEM)]["score"]) == 0
    assert "stopped its worker" in rows[("killer", STEM)]["notes"], rows[("killer", STEM)]
    assert "ran alone" in rows[("killer", STEM)]["notes"]
    assert "2 grading workers died" in rows[("killer", STEM)]["notes"]
    # the killer is regraded next run (an error keeps no fingerprint), nobody else is lost
    assert not rep.warnings, rep.warnings
    state = ag.load_state(course)["graded"]
    assert state[f"killer\x1f{STEM}"]["fingerprint"] == ""
    assert all(state[f"{s}\x1f{STEM}"]["fingerprint"] for s in ("alice", "bob", "victim"))


# ------------------------------------------------------------------ scheduler restart
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """``dask scheduler`` and ``dask worker`` as separate programs on loopback."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port, self.procs = folder, port, []
        self.address = f"tcp://127.0.0.1:{port}"

    def start(self) -> "_Cluster":
        env = _env()
        env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
        log = open(self.folder / "cluster.log", "a")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-dashboard"], env=env, stdout=log, stderr=log,
            start_new_session=True, cwd=self.folder))
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], env=env, stdout=log,
            stderr=log, start_new_session=True, cwd=self.folder))
        from distributed import Client
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(self.address, timeout=5) as client:
                    if len(client.scheduler_info()["workers"]) >= 2:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError((self.folder / "cluster.log").read_text()[-3000:])
            time.sleep(1)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(timeout=30)
        self.procs = []


def test_scheduler_restart_between_runs_resumes(tmp_path):
    course = _fixture_class(tmp_path)
    for student in ("victim", "killer"):
        import shutil
        shutil.rmtree(tmp_path / "subs" / student)
    secret = _secret(tmp_path)
    cluster = _Cluster(tmp_path, _port())

    def grade(store="copy"):
        logs = []
        ag.autograde(tmp_path / "subs", course=course, limits=LIMITS, scheduler=cluster.address,
                     log=logs.append, secret_file=secret, store=store)
        return logs, (course.reports / "grades.csv").read_text(encoding="utf-8")

    try:
        cluster.start()
        logs1, csv1 = grade()
        assert any("grading 2 submission(s)" in line for line in logs1), logs1
        cluster.stop()
        cluster.start()  # a new scheduler at the same address, new workers
        logs2, csv2 = grade()
        assert any("grading 0 submission(s)" in line and "2 unchanged" in line
                   for line in logs2), logs2
        assert csv2 == csv1
        # bob fixes his answer: only he is regraded, on the restarted scheduler, this
        # time through the shared store (the workers see the driver's build folder)
        nb = _nb(course, {})
        nbformat.write(nb, str(tmp_path / "subs" / "bob" / STEM / f"{STEM}.ipynb"))
        cluster.stop()
        cluster.start()
        logs3, csv3 = grade(store="shared")
        assert any("shared store" in line for line in logs3), logs3
        assert any("grading 1 submission(s)" in line and "1 unchanged" in line
                   for line in logs3), logs3
        rows = _rows(course.reports / "grades.csv")
        assert float(rows[("bob", STEM)]["score"]) == 7
        assert float(rows[("alice", STEM)]["score"]) == 7
        assert (course.feedback / "bob" / STEM / f"{STEM}.html").is_file()
        assert rows[("bob", STEM)]["notes"] == ""
    finally:
        cluster.stop()

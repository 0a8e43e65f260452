"""Warm kernels from the fork server: the same sandbox, the same grades, no way around it."""
from __future__ import annotations

import csv
import json
import os
import socket
import time
from pathlib import Path

import pytest

from grader.settings import REPO
from grader.trusted import sandbox
from grader_kernel.forkserver import PREFIX

pytestmark = pytest.mark.skipif(sandbox.landlock_abi() < 1, reason="this Linux has no Landlock")


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A kernelspec and a running fork server (without Keras, to keep it quick)."""
    root = tmp_path_factory.mktemp("warm")
    limits = sandbox.Limits(cell_timeout=60)
    sandbox.write_kernelspec(root / "jupyter", limits, env={"CNN_COURSE_GRADING": "1"})
    work = root / "work"
    (work / "task" / "kernel").mkdir(parents=True)
    os.environ.setdefault("MPLBACKEND", "agg")
    path, proc = sandbox.start_fork_server(root / "jupyter", limits, work_root=work, keras=False)
    assert path, "the fork server did not start"
    old = {k: os.environ.get(k) for k in ("CNN_FORKSERVER_SOCKET", "JUPYTER_PATH")}
    os.environ["CNN_FORKSERVER_SOCKET"] = path
    os.environ["JUPYTER_PATH"] = str(root / "jupyter")
    yield {"root": root, "work": work / "task" / "kernel", "socket": path, "proc": proc}
    proc.kill()
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _kernel(cwd: Path):
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name=sandbox.KERNEL_NAME)
    km.start_kernel(cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def _run(kc, code: str, timeout: float = 30) -> str:
    out = []
    kc.execute_interactive(code, timeout=timeout, output_hook=lambda m: out.append(
        m["content"].get("text") or m["content"].get("evalue") or ""))
    return "".join(out)


def test_a_warm_kernel_is_sandboxed_interruptible_and_leaves_nothing_behind(warm):
    km, kc = _kernel(warm["work"])
    try:
        report = _run(kc, "import grader_kernel.probe as p\n"
                          f"print(p.summary(p.measure({sandbox.forbidden_probes()!r})))")
        for held in ("writes fenced", "reads fenced", "network fenced", "pid namespace",
                     "pids.max"):
            assert held in report and f"NO {held}" not in report, report
        assert "warm" in _run(kc, "import sys; print('warm' if 'numpy' in sys.modules else 'cold')")
        kc.execute("import time; time.sleep(60)")
        time.sleep(1)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        assert reply["content"].get("ename") == "KeyboardInterrupt"
        _run(kc, "import subprocess; subprocess.Popen(['setsid', 'sleep', '4242'])")
    finally:
        km.shutdown_kernel(now=True)
    time.sleep(1)
    survivors = [p for p in Path("/proc").glob("[0-9]*")
                 if b"4242" in (p / "cmdline").read_bytes()] if Path("/proc").is_dir() else []
    assert not survivors


def test_a_graded_kernel_cannot_ask_the_server_for_another_kernel(warm):
    km, kc = _kernel(warm["work"])
    try:
        code = (
            "import glob, json, socket\n"
            "sock = None\n"
            "for f in glob.glob('/proc/[0-9]*/cmdline'):\n"
            "    try:\n"
            "        args = open(f, 'rb').read().split(b'\\0')\n"
            "    except OSError:\n"
            "        continue\n"
            "    if b'grader_kernel.forkserver' in args:\n"
            "        sock = args[args.index(b'--socket') + 1].decode()\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "s.connect(sock)\n"
            "s.settimeout(10)\n"
            "# a refused caller is told so at once, before it sends a request: read first, so\n"
            "# that the server hanging up cannot race with the write (EPIPE, ECONNRESET)\n"
            "first = s.recv(200)\n"
            "try:\n"
            "    s.sendall((json.dumps({'argv': ['x'], 'env': {}, 'cwd': '/'}) + '\\n').encode())\n"
            "    later = s.recv(200)\n"
            "except OSError:\n"
            "    later = b''\n"
            "print('ANSWER', first, later)\n")
        answer = _run(kc, code)
    finally:
        km.shutdown_kernel(now=True)
    assert "ANSWER" in answer and "refused" in answer and "sandboxed" in answer, answer


def test_a_working_folder_outside_the_work_area_is_refused(warm):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(warm["socket"])
    conn.sendall((json.dumps({"argv": ["python", "-m", "ipykernel_launcher", "-f", "x.json"],
                              "env": {}, "cwd": str(REPO)}) + "\n").encode())
    answer = conn.makefile("r").read()
    assert PREFIX + "pid" not in answer and "outside" in answer, answer


@pytest.mark.slow
def test_warm_and_cold_kernels_give_the_same_grades(tmp_path):
    from grader.authoring import example_class
    from grader.trusted.autograde import autograde
    from grader.trusted.course import Course

    stem = "02_padding"
    secret = tmp_path / "secret"
    secret.write_text("warm-cold-" + "0123456789abcdef" * 3, encoding="utf-8")
    rows = {}
    for warm_kernels in (True, False):
        course = Course(root=REPO, source=REPO / "solutions", build=tmp_path / f"b{warm_kernels}")
        example_class.build(tmp_path / "class", course=course, assignments=[stem],
                            log=lambda *a: None, kinds=["perfect", "typical_mistakes", "empty"])
        autograde(tmp_path / "class", course=course, assignments=[stem], workers=1,
                  limits=sandbox.Limits(cell_timeout=120, warm_kernels=warm_kernels),
                  log=lambda *a: None, progress=False, secret_file=secret)
        with open(course.reports / "tests.csv", newline="", encoding="utf-8") as fh:
            rows[warm_kernels] = {(r["student_id"], r["test"]): r["score"]
                                  for r in csv.DictReader(fh)}
    assert rows[True] == rows[False] and len(rows[True]) >= 9

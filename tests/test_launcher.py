"""The sandbox launcher when many kernels start at once: each gets every protection."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader_kernel import launcher


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_cgroups_whose_launcher_is_gone(tmp_path):
    mine, gone = tmp_path / f"k{os.getpid()}", tmp_path / f"k{_dead_pid()}"
    other = tmp_path / "not-a-kernel"
    for folder in (mine, gone, other):
        folder.mkdir()
    launcher._sweep(str(tmp_path))
    assert mine.is_dir(), "the cgroup of a launcher that still runs was removed"
    assert not gone.exists(), "the empty cgroup of a finished launcher was kept"
    assert other.is_dir()


def test_kernels_starting_together_all_get_a_process_limit():
    """Thirty-two kernels set up their process limit at the same moment (a class graded
    in parallel, warm kernels forking): none may lose its pids cgroup to another one's
    clean-up, which made it fail closed and cost the student every point."""
    if os.geteuid() != 0 or not os.path.isdir("/sys/fs/cgroup/pids"):
        pytest.skip("needs root and a cgroup v1 pids hierarchy (as on the course's machines)")
    go_read, go_write = os.pipe()
    answers = []
    for _ in range(32):
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a stand-in for one launcher: wait for the start, then take a limit
            os.close(go_write)
            os.read(go_read, 1)
            how, _ = launcher.limit_processes(64)
            os.write(out_write, (how or "none").encode())
            os._exit(0)
        os.close(out_write)
        answers.append((pid, out_read))
    os.write(go_write, b"x" * 32)  # every child starts at once
    got = []
    for pid, fd in answers:
        os.waitpid(pid, 0)
        got.append(os.read(fd, 200).decode())
        os.close(fd)
    os.close(go_read)
    os.close(go_write)
    launcher._sweep("/sys/fs/cgroup/pids/cnn-grading")  # the children have exited
    missing = [how for how in got if not how.startswith("cgroup pids.max=64")]
    assert not missing, f"{len(missing)} of 32 kernels got no process limit: {missing[:3]}"

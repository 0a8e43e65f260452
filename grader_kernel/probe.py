"""Measure, from inside a graded kernel, which protections are in force.

The grader runs :func:`report` as the kernel's very first cell, before any of the
student's code, and records the answer with the graded notebook (the summary and
the per-test CSV show it). Each protection is *tried*, not read from a setting:
writing outside the working folder, reading the course's files, connecting out,
counting processes. Being a report from the kernel it can only inform; it decides
no grade.
"""
from __future__ import annotations

import errno
import json
import os
import resource
import socket

PROBE_MIME = "application/vnd.cnn-course.protections+json"


def _limit(which) -> int | None:
    soft, _ = resource.getrlimit(which)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _refused(action) -> bool | None:
    """True when ``action`` is refused with a permission error; None when it could not be tried."""
    try:
        action()
    except PermissionError:
        return True
    except OSError as err:
        return True if err.errno in (errno.EACCES, errno.EPERM) else None
    return False


def _process_limit() -> str:
    try:
        for line in open("/proc/self/cgroup", encoding="utf-8"):
            parts = line.strip().split(":", 2)
            if len(parts) == 3 and ("pids" in parts[1].split(",") or parts[1] == ""):
                for root in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                    path = os.path.join(root, parts[2].lstrip("/"), "pids.max")
                    if os.path.isfile(path):
                        value = open(path, encoding="utf-8").read().strip()
                        if value != "max":
                            return f"cgroup pids.max={value}"
    except OSError:
        pass
    nproc = _limit(resource.RLIMIT_NPROC)
    return f"RLIMIT_NPROC={nproc}" if nproc is not None and os.geteuid() != 0 else ""


def measure(forbidden: list[str] | None = None) -> dict:
    """What holds in this process now (see the module docstring)."""
    work = os.getcwd()
    outside = os.path.join(os.path.dirname(work), f".probe-{os.getpid()}")
    forbidden = [p for p in (forbidden or []) if os.path.exists(p)]

    def write_outside():
        with open(outside, "w") as fh:
            fh.write("x")
        os.remove(outside)

    reads = [_refused(lambda p=p: os.listdir(p) if os.path.isdir(p) else open(p, "rb").close())
             for p in forbidden]

    def connect_out():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            try:
                s.connect(("127.0.0.1", 9))
            except (ConnectionRefusedError, TimeoutError, socket.timeout):
                return

    status = {}
    try:
        for line in open("/proc/self/status", encoding="utf-8"):
            key, _, value = line.partition(":")
            status[key] = value.strip()
    except OSError:
        pass
    return {
        "memory_limit": _limit(resource.RLIMIT_DATA),
        "file_size_limit": _limit(resource.RLIMIT_FSIZE),
        "core_dumps": _limit(resource.RLIMIT_CORE) != 0,
        "writes_fenced": _refused(write_outside),
        "reads_fenced": (all(reads) if reads else None),
        "network_fenced": _refused(connect_out),
        "pid_namespace": os.getpid() == 1,
        "process_limit": _process_limit(),
        "no_new_privs": status.get("NoNewPrivs") == "1",
        "threads": os.environ.get("OMP_NUM_THREADS", ""),
        "launcher": json.loads(os.environ.get("CNN_SANDBOX", "{}") or "{}"),
    }


def summary(found: dict) -> str:
    """One line for reports, e.g. ``memory 4 GiB, files fenced, ..., 1 thread``."""
    def yes(key, label):
        value = found.get(key)
        return label if value else f"NO {label}" if value is False else f"{label}?"

    parts = []
    mem = found.get("memory_limit")
    parts.append(f"memory {mem / 1024 ** 3:.3g} GiB" if mem else "NO memory limit")
    parts.append(yes("writes_fenced", "writes fenced"))
    parts.append(yes("reads_fenced", "reads fenced"))
    parts.append(yes("network_fenced", "network fenced"))
    parts.append(yes("pid_namespace", "pid namespace"))
    parts.append(found.get("process_limit") or "NO process limit")
    if found.get("threads"):
        parts.append(f"{found['threads']} thread(s) per library")
    return ", ".join(parts)


def report(forbidden: list[str] | None = None) -> None:
    """Publish :func:`measure` as a display output (what the grader's first cell runs).

    Also loads the collector and its memory reserve now, before any student code,
    so that later calls work even in a notebook that exhausted its memory.
    """
    from IPython.display import publish_display_data

    from . import collector, wire  # noqa: F401 - loaded before the student's code runs
    collector.hold_reserve()
    publish_display_data({PROBE_MIME: json.dumps(measure(forbidden))})

"""Limits for the kernels that run student notebooks while grading.

A graded kernel is started through a *kernelspec* whose command is this module:
``python -m grader.trusted.sandbox --memory BYTES -- python -m ipykernel_launcher -f ...``.
Before it replaces itself with the real kernel (``os.execv``), the launcher

* caps the kernel's memory with ``RLIMIT_DATA`` (heap and private writable
  mappings: what NumPy arrays and Python objects use). ``RLIMIT_AS`` would also
  count the large *reserved* address space TensorFlow maps at import (about
  2.6 GB of VmSize for 0.4 GB of data), so it would kill the Keras notebook for
  nothing; a memory bomb raises ``MemoryError`` under either;
* forbids core dumps and caps the size of one written file;
* points HOME, TMPDIR, IPYTHONDIR, MPLCONFIGDIR and Jupyter's folders into the
  kernel's working folder (the student's copy under ``build/``);
* where Linux offers Landlock (kernel >= 5.13), makes every folder except the
  working folder and ``/dev`` read-only *for this process and its children*,
  so a submission can not change the course files, the gradebook or another
  student's work. Reading stays allowed (the course's packages and data).

The nbgrader ``Execute`` preprocessor starts kernels by kernelspec name, so
:func:`write_kernelspec` writes one (``cnn-grading``) under a folder that the
grading process puts first on ``JUPYTER_PATH``.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
from dataclasses import dataclass, asdict
from pathlib import Path

KERNEL_NAME = "cnn-grading"
GIB = 1024 ** 3


@dataclass
class Limits:
    """What one graded kernel may use."""
    cell_timeout: int = 120          # seconds per cell (nbgrader's Execute.timeout)
    notebook_timeout: int = 900      # seconds for a whole notebook
    memory_bytes: int = 4 * GIB      # RLIMIT_DATA of the kernel
    max_file_bytes: int = 512 * 1024 ** 2  # RLIMIT_FSIZE: largest file it may write
    output_bytes: int = 100_000      # printed output kept per cell
    landlock: bool = True            # make everything but the working folder read-only

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Limits":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def human_bytes(n: int) -> str:
    """``4 GiB``, ``512 MiB``."""
    for unit, size in (("GiB", GIB), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


# ------------------------------------------------------------------ kernelspec
def write_kernelspec(root: Path, limits: Limits, env: dict | None = None) -> Path:
    """Write ``<root>/kernels/cnn-grading/kernel.json``; put ``root`` on ``JUPYTER_PATH``."""
    spec_dir = Path(root) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "grader.trusted.sandbox",
            "--memory", str(int(limits.memory_bytes)),
            "--max-file", str(int(limits.max_file_bytes))]
    if not limits.landlock:
        argv.append("--no-landlock")
    argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (CNN course grading sandbox)",
            "language": "python", "env": dict(env or {}),
            "metadata": {"debugger": False}}
    mpl = Path(root) / "matplotlib"
    spec["env"].setdefault("MPLCONFIGDIR", str(mpl))
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    if not any(mpl.glob("fontlist*.json")):
        # build matplotlib's font cache once, so each kernel does not rebuild it (seconds)
        mpl.mkdir(parents=True, exist_ok=True)
        import subprocess
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"],
                       env={**os.environ, "MPLCONFIGDIR": str(mpl)}, capture_output=True)
    return Path(root)


# ------------------------------------------------------------------ landlock
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
# filesystem access rights that change things (reading and executing stay allowed)
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE_ALL = sum(1 << b for b in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_TRUNCATE = 1 << 14  # ABI >= 3


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The Landlock ABI version this Linux offers (0 when it has none)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def restrict_writes(writable: list[str]) -> bool:
    """Allow file changes only beneath ``writable`` (Landlock); False when unsupported."""
    abi = landlock_abi()
    if abi < 1:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_ALL
    if abi >= 3:
        handled |= _TRUNCATE
    attr = _RulesetAttr(handled)
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                      ctypes.c_uint32(0))
    if fd < 0:
        return False
    try:
        for path in writable:
            if not os.path.exists(path):
                continue
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                allowed = handled if os.path.isdir(path) else (handled & (_WRITE_FILE | _TRUNCATE))
                rule = _PathBeneathAttr(allowed, pfd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(1), ctypes.byref(rule),
                                ctypes.c_uint32(0)) != 0:
                    return False
            finally:
                os.close(pfd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) == 0
    finally:
        os.close(fd)


# ------------------------------------------------------------------ launcher
def _launch(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.trusted.sandbox")
    parser.add_argument("--memory", type=int, required=True, help="RLIMIT_DATA in bytes")
    parser.add_argument("--max-file", type=int, default=512 * 1024 ** 2)
    parser.add_argument("--no-landlock", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
    if command and command[0] == "--":
        command = command[1:]
    work = os.getcwd()
    private = {"HOME": work, "TMPDIR": os.path.join(work, ".tmp"),
               "IPYTHONDIR": os.path.join(work, ".ipython"),
               "JUPYTER_RUNTIME_DIR": os.path.join(work, ".jupyter", "runtime"),
               "JUPYTER_DATA_DIR": os.path.join(work, ".jupyter", "data"),
               "KERAS_HOME": os.path.join(work, ".keras"),
               "PYTHONDONTWRITEBYTECODE": "1"}
    if not os.environ.get("MPLCONFIGDIR"):
        private["MPLCONFIGDIR"] = os.path.join(work, ".cache", "matplotlib")
    for key, value in private.items():
        os.environ[key] = value
        if key not in ("HOME", "PYTHONDONTWRITEBYTECODE"):
            os.makedirs(value, exist_ok=True)
    os.environ["CNN_GRADING_MEMORY_LIMIT"] = str(args.memory)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if args.memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (args.memory, args.memory))
    if args.max_file > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.max_file, args.max_file))
    # The connection file (read by the kernel) stays readable; only writes are limited.
    os.environ["CNN_GRADING_LANDLOCK"] = "0"
    if not args.no_landlock and restrict_writes([work, "/dev"]):
        os.environ["CNN_GRADING_LANDLOCK"] = "1"
    os.execv(command[0], command)


if __name__ == "__main__":
    _launch()

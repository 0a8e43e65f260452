"""What a graded kernel may use and touch, and the kernelspec that starts it in its sandbox.

The grader writes a *policy* (:func:`policy`) and a kernelspec whose command is
``python -m grader_kernel.launcher --policy POLICY.json -- python -m ipykernel_launcher ...``;
the launcher (in the student's process, :mod:`grader_kernel.launcher`) applies it.

What a kernel may read is listed, not guessed: the Python installation, the system
folders, the course's *kernel-side* packages (``utils``, ``grader_kernel``, through a
folder of links that is the kernel's ``PYTHONPATH``), the data files notebooks load,
Matplotlib's font cache and its own working folder. Not readable: the rest of the
repository (``solutions/``, ``grader/``, hidden tests and references), the gradebook,
other students' work, the course secret.

:func:`preflight` applies the policy once in a throw-away process before grading
and says which protections this machine can give; ``autograde`` stops unless all of
:data:`REQUIRED` hold (or the instructor passed ``--unsafe-no-sandbox``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from grader_kernel.launcher import EXIT_UNPROTECTED, landlock_abi  # noqa: F401 - re-exported

from ..settings import REPO

KERNEL_NAME = "cnn-grading"
GIB = 1024 ** 3
#: protections ``autograde`` will not grade without (unless ``--unsafe-no-sandbox``)
REQUIRED = ("landlock", "pid_namespace", "process_limit")
#: what ``validate`` (a student's own check, often on a laptop) asks for: nothing
BEST_EFFORT: tuple = ()
SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys",
               "/dev", "/opt/conda")


@dataclass
class Limits:
    """What one graded kernel may use."""
    cell_timeout: int = 120          # seconds per cell (nbgrader's Execute.timeout)
    notebook_timeout: int = 900      # seconds for a whole notebook
    memory_bytes: int = 4 * GIB      # RLIMIT_DATA of the kernel
    max_file_bytes: int = 512 * 1024 ** 2  # RLIMIT_FSIZE: largest file it may write
    output_bytes: int = 100_000      # printed output kept per cell
    processes: int = 256             # processes and threads (a pids cgroup counts threads)
    threads: int = 1                 # threads per math library (OpenMP, BLAS, TensorFlow)
    landlock: bool = True            # fence the file system (reads and writes) and network
    sandbox: bool = True             # False only with --unsafe-no-sandbox
    figures: bool = False            # draw figures into the graded notebook (and feedback)
    warm_kernels: bool = True        # fork kernels from a warm server (grader_kernel.forkserver)

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


class SandboxUnavailable(RuntimeError):
    """A required protection cannot be applied on this machine; the message says what to do."""


# ------------------------------------------------------------------ policy
def _python_roots() -> list[str]:
    roots = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)):
        for q in (p, os.path.realpath(p)):
            if q and q not in roots:
                roots.append(q)
    return roots


def data_files() -> list[str]:
    """The data files notebooks load (MNIST wherever ``utils.data`` looks for it)."""
    files = [os.environ.get("MNIST_PATH", ""), str(REPO / "data" / "mnist.npz")]
    return [os.path.realpath(f) for f in files if f and os.path.isfile(f)]


def kernel_path(root: Path) -> Path:
    """A folder of links to the kernel-side packages: the kernel's whole ``PYTHONPATH``."""
    folder = Path(root) / "kernel_path"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("utils", "grader_kernel"):
        link = folder / name
        target = REPO / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target, target_is_directory=True)
    return folder


def policy(root: Path, limits: Limits, required=REQUIRED) -> dict:
    """The policy the launcher applies (see :mod:`grader_kernel.launcher`)."""
    root = Path(root)
    kpath = kernel_path(root)
    read = list(SYSTEM_READ) + _python_roots() + [str(kpath), str(REPO / "utils"),
                                                    str(REPO / "grader_kernel"),
                                                    str(root / "matplotlib")] + data_files()
    return {"memory_bytes": int(limits.memory_bytes), "max_file_bytes": int(limits.max_file_bytes),
            "processes": int(limits.processes), "threads": int(limits.threads),
            "landlock": bool(limits.landlock), "pid_namespace": True,
            "kernel_path": str(kpath), "read": read, "write": ["/dev"],
            "required": list(required) if limits.sandbox else []}


def forbidden_probes() -> list[str]:
    """Paths a sandboxed kernel must not read; the probe tries them."""
    return [str(REPO / "grader"), str(REPO / "solutions")]


# ------------------------------------------------------------------ kernelspec
def write_kernelspec(root: Path, limits: Limits, env: dict | None = None,
                     required=REQUIRED) -> Path:
    """Write the policy and ``<root>/kernels/cnn-grading/kernel.json``; return ``root``.

    ``root`` goes first on ``JUPYTER_PATH`` in the grading process, so nbgrader's
    ``Execute`` starts kernels through the launcher.
    """
    root = Path(root)
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    mpl = root / "matplotlib"
    if not any(mpl.glob("fontlist*.json")):
        # build matplotlib's font cache once, so no kernel rebuilds it (seconds)
        mpl.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"],
                       env={**os.environ, "MPLCONFIGDIR": str(mpl)}, capture_output=True)
    pol = policy(root, limits, required)
    policy_path = root / "policy.json"
    policy_path.write_text(json.dumps(pol, indent=1), encoding="utf-8")
    # the fork server's client (a warm start when the worker runs a fork server, see
    # start_fork_server; otherwise it becomes the launcher itself)
    # (no SQLite input history: a graded kernel is thrown away, and committing every
    # cell's source to disk cost about a tenth of a second per notebook)
    argv = [sys.executable, "-m", "grader_kernel.forkclient", "--policy", str(policy_path),
            "--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--HistoryManager.enabled=False"]
    spec = {"argv": argv, "display_name": "Python 3 (CNN course grading sandbox)",
            "language": "python", "env": {"MPLCONFIGDIR": str(mpl), **dict(env or {})},
            "metadata": {"debugger": False}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return root


def start_fork_server(root: Path, limits: Limits, work_root: Path, keras: bool = True):
    """Start a fork server for this worker's kernels: ``(socket path, process)``.

    ``(None, None)`` when it did not come up (kernels then start cold, through the launcher).

    The server (:mod:`grader_kernel.forkserver`) is started with ``exec`` from an
    environment that holds what kernels get (threads, the font cache, the kernel-side
    packages) and nothing else of the grader's; it dies with the worker.
    """
    import tempfile
    root = Path(root)
    path = Path(tempfile.mkdtemp(prefix="cnn-forkserver-")) / "kernels.sock"
    home = root / "forkserver-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "MNIST_PATH")}
    env.update({"PYTHONPATH": str(kernel_path(root)), "MPLCONFIGDIR": str(root / "matplotlib"),
                "MPLBACKEND": os.environ.get("MPLBACKEND", "agg"), "HOME": str(home),
                "KERAS_HOME": str(home / ".keras"), "TF_CPP_MIN_LOG_LEVEL": "3",
                "CNN_COURSE_GRADING": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        env[key] = str(max(1, int(limits.threads)))
    cmd = [sys.executable, "-m", "grader_kernel.forkserver", "--socket", str(path),
           "--policy", str(root / "policy.json"), "--work-root", str(work_root)]
    if keras:
        cmd.append("--keras")
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=str(home))
    import select
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    if not ready or proc.stdout.readline().strip() != "ready":
        proc.kill()
        return None, None
    return str(path), proc


def launcher_env() -> dict:
    """The environment the launcher itself needs to import ``grader_kernel``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in
                                                       env.get("PYTHONPATH", "").split(os.pathsep)
                                                       if p])
    return env


def preflight(root: Path, limits: Limits, required=REQUIRED) -> dict:
    """Apply the policy in a throw-away process; return what held, or raise :class:`SandboxUnavailable`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    pol = policy(root, limits, required)
    path = root / "preflight-policy.json"
    path.write_text(json.dumps(pol), encoding="utf-8")
    work = root / "preflight"
    work.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "grader_kernel.launcher", "--policy", str(path),
                           "--check"], cwd=work, capture_output=True, text=True,
                          env=launcher_env(), timeout=60)
    if proc.returncode == EXIT_UNPROTECTED or proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["the sandbox launcher failed"])[-1]
        raise SandboxUnavailable(
            f"{why}.\nGrading runs students' code, so it does not start without these "
            f"protections: {', '.join(required)}. Run it on Linux 5.13 or newer, as root or "
            "with unprivileged user namespaces and a pids cgroup available; or, if you "
            "accept grading without them (for example on your own laptop, for your own "
            "notebooks), pass --unsafe-no-sandbox.")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}

"""Start a graded kernel inside its sandbox: ``python -m grader_kernel.launcher``.

A graded kernel's kernelspec runs::

    python -m grader_kernel.launcher --policy POLICY.json -- python -m ipykernel_launcher -f CONN

The launcher reads the policy the grader wrote (:class:`grader.trusted.sandbox.Policy`),
applies it, and runs the kernel as the first process of a new PID namespace. What it
applies, in order:

* a clean environment: private HOME, TMPDIR and Jupyter/IPython/Matplotlib/Keras
  folders in the working folder; only the variables a notebook needs (no tokens,
  passwords or keys the grader's shell may hold); one thread per math library;
* resource limits: memory (``RLIMIT_DATA``), largest written file, no core dumps;
* a process-count limit: a ``pids`` cgroup (as root), else ``RLIMIT_NPROC``;
* a PID namespace (``unshare(CLONE_NEWPID)``; a user namespace too when not root):
  the kernel is PID 1 there, so when it ends, *every* process it started ends with
  it, including ones that called ``setsid``, and it cannot signal any process outside;
* Landlock (Linux >= 5.13): reading only the Python installation, the system
  folders, the course's kernel-side packages (``utils``, ``grader_kernel``), the data
  files the policy names, and the working folder; writing only the working folder
  (and ``/dev``); with ABI >= 4 no outgoing TCP connection; with ABI >= 6 no
  signals or abstract sockets outside.

``required`` in the policy lists the protections that must hold: if one of them
cannot be applied, the launcher exits with status :data:`EXIT_UNPROTECTED` and says
why, and the kernel never runs (the grader fails closed). ``--check`` applies
everything in a throw-away child and prints what held, as JSON (the grader's
preflight).

The kernel can read what it measured in ``CNN_SANDBOX_*`` variables;
:mod:`grader_kernel.probe` re-measures each protection from inside.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import signal
import sys
from typing import Callable

EXIT_UNPROTECTED = 70
#: signals the launcher passes on to the kernel (interrupts, shutdown)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
             signal.SIGUSR2)

# ---------------------------------------------------------------- Landlock constants
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)  # + truncate, ioctl
_NET_CONNECT = 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_CLONE_NEWPID, _CLONE_NEWUSER = 0x20000000, 0x10000000
#: filesystem rights each ABI knows (ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV)
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1,
              5: (1 << 16) - 1}
SAFE_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "MNIST_PATH",
            "CNN_COURSE_GRADING", "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND", "MPLCONFIGDIR",
            "PYTHONHASHSEED", "JPY_PARENT_PID", "JPY_SESSION_NAME")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]



def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this Linux offers (0 when it has none)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def restrict(read: list[str], write: list[str]) -> dict:
    """Apply Landlock to this process (and what it starts); return what held."""
    abi = landlock_abi()
    if abi < 1:
        return {"landlock": 0}
    libc = _libc()
    fs = _FS_BY_ABI.get(abi, _FS_BY_ABI[5])
    # outgoing TCP is refused; binding stays free (ipykernel binds its ports, and a
    # random one for subprocess output), which lets nothing leave the machine
    net = _NET_CONNECT if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = _RulesetAttr(fs, net, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        def add_path(path: str, rights: int) -> None:
            if not os.path.exists(path):
                return
            pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_RIGHTS
                rule = _PathBeneathAttr(rights & fs, pfd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                                ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), f"landlock rule for {path} failed")
            finally:
                os.close(pfd)

        for path in read:
            add_path(path, _READ)
        for path in write:
            add_path(path, fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return {"landlock": abi, "files": True, "network": bool(net), "scoped": bool(scoped)}


# ---------------------------------------------------------------- processes
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


def _sweep(base: str) -> None:
    """Remove empty cgroups of kernels whose launcher was killed (busy ones stay).

    A cgroup ``k<pid>`` whose launcher still runs is left alone even when it is
    empty: that launcher has just made it and is about to move into it (removing
    it then made the launcher fail closed when many kernels started at once).
    """
    try:
        for name in os.listdir(base):
            owner = name[1:]
            if name.startswith("k") and owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                try:
                    os.rmdir(os.path.join(base, name))
                except OSError:
                    pass
    except OSError:
        pass


def _cgroup_dir() -> str | None:
    """A writable cgroup folder with the pids controller, for one kernel."""
    for root in _CGROUP_ROOTS:
        base = os.path.join(root, "cnn-grading")
        _sweep(base)
        try:
            if root != "/sys/fs/cgroup/pids":
                controllers = open(os.path.join(root, "cgroup.controllers")).read().split()
                if "pids" not in controllers:
                    continue
                os.makedirs(base, exist_ok=True)
                with open(os.path.join(root, "cgroup.subtree_control"), "w") as fh:
                    fh.write("+pids")
                with open(os.path.join(base, "cgroup.subtree_control"), "w") as fh:
                    fh.write("+pids")
            else:
                os.makedirs(base, exist_ok=True)
            path = os.path.join(base, f"k{os.getpid()}")
            os.makedirs(path, exist_ok=True)
            if os.path.exists(os.path.join(path, "pids.max")):
                return path
        except OSError:
            continue
    return None


def limit_processes(n: int) -> tuple[str, str | None]:
    """Cap the processes this kernel may have; return (how, cgroup folder or None)."""
    if n <= 0:
        return "", None
    if os.geteuid() == 0:
        path = _cgroup_dir()
        if path is not None:
            try:
                with open(os.path.join(path, "pids.max"), "w") as fh:
                    fh.write(str(int(n)))
                with open(os.path.join(path, "cgroup.procs"), "w") as fh:
                    fh.write(str(os.getpid()))
                return f"cgroup pids.max={n}", path
            except OSError:
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        return "", None
    # not root: RLIMIT_NPROC counts every process of this user, so allow what runs now
    mine = 0
    uid = os.getuid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    mine += 1
            except OSError:
                continue
    resource.setrlimit(resource.RLIMIT_NPROC, (mine + n, mine + n))
    return f"RLIMIT_NPROC={mine + n} (this user's processes + {n})", None


def _release_cgroup(path: str | None) -> None:
    """Move this process back to the hierarchy's root, then remove the kernel's cgroup."""
    if not path:
        return
    root = os.path.dirname(os.path.dirname(path))  # <root>/cnn-grading/k<pid>
    try:
        with open(os.path.join(root, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))
        os.rmdir(path)
    except OSError:
        pass


def new_pid_namespace() -> str:
    """Make this process's next child PID 1 of a new PID namespace; return how, or ''."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWPID) == 0:
        return "pid namespace"
    if os.geteuid() != 0:
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID) == 0:
            try:
                with open("/proc/self/setgroups", "w") as fh:
                    fh.write("deny")
                with open("/proc/self/uid_map", "w") as fh:
                    fh.write(f"{uid} {uid} 1")
                with open("/proc/self/gid_map", "w") as fh:
                    fh.write(f"{gid} {gid} 1")
            except OSError:
                pass
            return "pid namespace (in a user namespace)"
    return ""


# ---------------------------------------------------------------- environment
def clean_environment(work: str, threads: int) -> dict:
    """The kernel's environment: only what a notebook needs, private folders in ``work``."""
    env = {k: v for k, v in os.environ.items() if k in SAFE_ENV}
    private = {"HOME": work, "TMPDIR": os.path.join(work, ".tmp"),
               "IPYTHONDIR": os.path.join(work, ".ipython"),
               "JUPYTER_RUNTIME_DIR": os.path.join(work, ".jupyter", "runtime"),
               "JUPYTER_DATA_DIR": os.path.join(work, ".jupyter", "data"),
               "JUPYTER_CONFIG_DIR": os.path.join(work, ".jupyter", "config"),
               "KERAS_HOME": os.path.join(work, ".keras"),
               "XDG_CACHE_HOME": os.path.join(work, ".cache"),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
    if not env.get("MPLCONFIGDIR"):
        private["MPLCONFIGDIR"] = os.path.join(work, ".cache", "matplotlib")
    env.update(private)
    for key in ("TMPDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR",
                "JUPYTER_CONFIG_DIR", "KERAS_HOME", "XDG_CACHE_HOME"):
        os.makedirs(env[key], exist_ok=True)
    if "MPLCONFIGDIR" in private:
        os.makedirs(private["MPLCONFIGDIR"], exist_ok=True)
    if threads > 0:
        for key in THREAD_ENV:
            env[key] = str(threads)
    return env



def _connection_file(command: list[str]) -> list[str]:
    if "-f" in command and command.index("-f") + 1 < len(command):
        return [os.path.abspath(command[command.index("-f") + 1])]
    return []


# ---------------------------------------------------------------- the launch
def _fail(message: str) -> None:
    sys.stderr.write(f"grader_kernel.launcher: refusing to start the kernel: {message}\n")
    sys.stderr.flush()
    os._exit(EXIT_UNPROTECTED)


def _apply_limits(policy: dict) -> dict:
    held = {}
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory = int(policy.get("memory_bytes") or 0)
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        held["memory"] = memory
    max_file = int(policy.get("max_file_bytes") or 0)
    if max_file > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, max_file))
        held["max_file"] = max_file
    return held


def spawn(policy: dict, command: list[str], check: bool = False,
          run_kernel: Callable[[list[str], dict], None] | None = None) -> tuple[int, str | None]:
    """Apply ``policy`` and start ``command`` as PID 1 of a new PID namespace.

    Returns ``(pid, cgroup)`` in this process; the child never returns. It runs the
    kernel with ``os.execve``, or with ``run_kernel(command, env)`` (the fork server,
    :mod:`grader_kernel.forkserver`, runs ipykernel in the already warm process).
    """
    work = os.getcwd()
    required = set(policy.get("required", []))
    held: dict = {}
    env = clean_environment(work, int(policy.get("threads") or 0))
    if policy.get("kernel_path"):
        env["PYTHONPATH"] = policy["kernel_path"]
    held.update(_apply_limits(policy))
    how, cgroup = limit_processes(int(policy.get("processes") or 0))
    held["process_limit"] = how
    if "process_limit" in required and not how:
        _fail("no process-count limit could be set (needs a writable pids cgroup as root, or "
              "a non-root user for RLIMIT_NPROC)")
    ns = new_pid_namespace() if policy.get("pid_namespace", True) else ""
    held["pid_namespace"] = ns
    if "pid_namespace" in required and not ns:
        _release_cgroup(cgroup)
        _fail("no PID namespace could be made (needs root, or unprivileged user namespaces)")
    read = list(policy.get("read", [])) + _connection_file(command)
    write = [work] + list(policy.get("write", []))
    pid = os.fork()
    if pid == 0:  # becomes PID 1 of the new namespace
        try:
            _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            landlock = {"landlock": 0}
            if policy.get("landlock", True):
                try:
                    landlock = restrict(read, write)
                except OSError as err:
                    if "landlock" in required:
                        _fail(f"Landlock could not be applied ({err})")
            if "landlock" in required and not landlock.get("landlock"):
                _fail("this Linux has no Landlock (needs Linux 5.13 or newer with Landlock "
                      "enabled), so the file system cannot be fenced off")
            held.update(landlock)
            env["CNN_SANDBOX"] = json.dumps(held, sort_keys=True)
            if check:
                sys.stdout.write(json.dumps(held, sort_keys=True) + "\n")
                sys.stdout.flush()
                os._exit(0)
            if run_kernel is not None:
                run_kernel(command, env)
                os._exit(0)
            os.execve(command[0], command, env)
        except BaseException as err:  # noqa: BLE001 - never fall through into the parent's code
            sys.stderr.write(f"grader_kernel.launcher: {type(err).__name__}: {err}\n")
            os._exit(EXIT_UNPROTECTED)
    return pid, cgroup


def wait(pid: int, cgroup: str | None, forward_signals: bool = True) -> int:
    """Wait for the kernel (forwarding signals to it); release its cgroup; its exit code."""
    if forward_signals:
        def forward(signum, _frame):
            try:
                os.kill(pid, signum)
            except OSError:
                pass

        for sig in FORWARDED:
            signal.signal(sig, forward)
    status = 0
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            break
    _release_cgroup(cgroup)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def launch(policy: dict, command: list[str], check: bool = False) -> None:
    """Apply ``policy``, run ``command`` as PID 1 of a new PID namespace, exit with its code."""
    pid, cgroup = spawn(policy, command, check)
    os._exit(wait(pid, cgroup))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader_kernel.launcher")
    parser.add_argument("--policy", required=True, help="the policy JSON the grader wrote")
    parser.add_argument("--check", action="store_true",
                        help="apply everything in a throw-away child and print what held")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with open(args.policy, encoding="utf-8") as fh:
        policy = json.load(fh)
    if not command:
        command = [sys.executable, "-c", "pass"]
    launch(policy, command, check=args.check)


if __name__ == "__main__":
    main()

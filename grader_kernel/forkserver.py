"""A warm start for graded kernels: import the libraries once, fork a kernel per notebook.

Starting a kernel costs more than running most students' notebooks: Python, IPython,
ipykernel, NumPy and Matplotlib (and TensorFlow, for the Keras notebooks) are imported
afresh each time. A grading worker therefore starts one fork server
(``python -m grader_kernel.forkserver --socket PATH``) that imports them once and then
waits. For each kernel, the kernelspec's client (:mod:`grader_kernel.forkclient`) sends
the kernel's command, environment and working folder and the sandbox policy; the
server forks, and the child applies *the same sandbox as the launcher*
(:func:`grader_kernel.launcher.spawn`: limits, cgroup, PID namespace, Landlock, a clean
environment) and then runs ipykernel in the warm interpreter instead of ``execve``-ing a
new one. Nothing of a student's ever runs in the server itself.

Safety of the fork: the server is started with ``exec`` (it holds nothing of the
grader's memory, no secret), runs one thread (math libraries are limited to one
thread, checked before every fork: a server that finds a second thread refuses and the
client falls back to a cold start), and creates no ZeroMQ context or event loop before
forking. Each child gets the state a new interpreter would have where it matters: the
new environment, fresh random seeds, no cached temporary folder.

Who may ask: the socket is a path, and Landlock does not fence ``connect`` to path
sockets, so the server checks each caller itself. It serves only processes of its own
user that are *not* sandboxed (``NoNewPrivs`` is 0: every sandboxed process has it set,
for good, see :func:`grader_kernel.launcher.restrict`), the policy is the server's own
(given when it started, never taken from a request), and a kernel's working folder must
lie inside the grading work area. So a student's kernel cannot obtain a kernel with a
weaker fence or a folder of its choosing.

Protocol (one connection per kernel, lines over a Unix socket): the client sends one
JSON request (command, environment, working folder); the server's child answers ``\\0cnn pid N`` when the kernel started and
``\\0cnn exit CODE`` when it ended; the client sends ``\\0cnn signal N`` to pass on a
signal (an interrupt). If the client goes away, the kernel is killed.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys

PREFIX = "\0cnn "
#: modules every graded kernel needs; TensorFlow (keras) is added with --keras
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "IPython", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "utils", "utils.checks", "utils.plotting", "grader_kernel.probe",
           "grader_kernel.collector")


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def run_kernel_here(command: list[str], env: dict) -> None:
    """Run ipykernel in this (forked, sandboxed) process as ``command`` would have."""
    import random
    import tempfile

    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None          # TMPDIR changed: forget the server's choice
    random.seed()                    # what a new interpreter would draw
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    args = command[command.index("ipykernel_launcher") + 1:] if "ipykernel_launcher" in command \
        else command[1:]
    sys.argv = ["ipykernel_launcher", *args]
    from ipykernel import kernelapp
    try:
        kernelapp.launch_new_instance()
    except SystemExit as err:
        os._exit(err.code if isinstance(err.code, int) else 0)
    os._exit(0)


def _send(conn: socket.socket, line: str) -> None:
    try:
        conn.sendall((PREFIX + line + "\n").encode())
    except OSError:
        pass


def peer_allowed(conn: socket.socket) -> str:
    """'' when the connecting process may ask for a kernel, else why not."""
    import struct
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", creds)
    except OSError as err:
        return f"the caller's credentials could not be read ({err})"
    if uid != os.getuid():
        return "the caller runs as another user"
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            status = fh.read()
    except OSError:
        return "the caller is gone"
    if "NoNewPrivs:\t0" not in status:
        return "the caller is sandboxed (a graded kernel may not start kernels)"
    return ""


def _inside(path: str, root: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real.startswith(top.rstrip(os.sep) + os.sep)


def _serve_one(conn: socket.socket, policy: dict, work_root: str) -> None:
    """In a forked child of the server: start one sandboxed kernel, relay signals and exit."""
    from . import launcher
    reader = conn.makefile("r", encoding="utf-8", newline="\n")
    request = json.loads(reader.readline())
    if not _inside(request["cwd"], work_root):
        raise PermissionError(f"the working folder {request['cwd']} is outside {work_root}")
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.dup2(conn.fileno(), 2)  # a refusal to start (launcher._fail) reaches the client
    def run(command, env):
        conn.close()  # the kernel keeps only its stderr copy of the connection
        run_kernel_here(command, env)

    pid, cgroup = launcher.spawn(policy, request["argv"], run_kernel=run)
    _send(conn, f"pid {pid}")
    # Relay signals until the kernel ends. No thread: a process that unshared its PID
    # namespace for its children cannot start threads (clone with CLONE_THREAD fails).
    import select
    buffer, status, gone = b"", None, False
    while status is None:
        ready, _, _ = select.select([] if gone else [conn], [], [], 0.1)
        if ready:
            data = conn.recv(4096)
            if not data:  # the client went away (killed): the kernel goes too
                gone = True
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith(PREFIX + "signal "):
                    try:
                        os.kill(pid, int(text.split()[-1]))
                    except (OSError, ValueError):
                        pass
        try:
            done, raw = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break
        if done:
            status = raw
    launcher._release_cgroup(cgroup)
    code = os.waitstatus_to_exitcode(status) if status is not None else 1
    _send(conn, f"exit {code if code >= 0 else 128 - code}")
    os._exit(0)


def _warm_tracebacks() -> None:
    """Format one traceback as IPython does, so that no kernel pays for its first one.

    The first traceback in a process costs about 0.2 s with TensorFlow loaded:
    ``inspect.getmodule`` maps every loaded module to its file, and the formatting
    code loads its parts. Done here once, every forked kernel inherits the result.
    Pure Python, no thread: forking stays safe.
    """
    try:
        from IPython.core import ultratb
        try:
            raise RuntimeError("warm-up")
        except RuntimeError:
            ultratb.AutoFormattedTB(mode="Context", theme_name="nocolor").structured_traceback(
                *sys.exc_info())
    except Exception:  # noqa: BLE001 - an optimisation only: never stop the server
        pass


def serve(path: str, preload: list[str], policy: dict, work_root: str) -> None:
    """Import ``preload``, then fork a kernel sandboxed by ``policy`` for each allowed caller."""
    import ctypes
    parent = os.getppid()
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: go with the worker
    if os.getppid() != parent:
        os._exit(0)
    import gc
    import importlib
    for name in preload:
        importlib.import_module(name)
    _warm_tracebacks()
    # keep the collector off the preloaded objects in every kernel (they are shared and
    # never garbage): a full collection would otherwise walk TensorFlow's million objects
    gc.collect()
    gc.freeze()
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the per-kernel children reap themselves
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = server.accept()
        why = peer_allowed(conn)
        if why:
            try:
                conn.sendall(f"fork server: refused: {why}\n".encode())
            except OSError:
                pass
            conn.close()
            continue
        if _threads() != 1:  # forking a threaded process is not safe: refuse, cold start
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve_one(conn, policy, work_root)
            except BaseException as err:  # noqa: BLE001 - never return into the server loop
                try:
                    conn.sendall(f"fork server: {type(err).__name__}: {err}\n".encode())
                except OSError:
                    pass
                os._exit(70)
        conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader_kernel.forkserver")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--policy", required=True, help="the sandbox policy of every kernel")
    parser.add_argument("--work-root", required=True,
                        help="kernels' working folders must lie inside this folder")
    parser.add_argument("--keras", action="store_true",
                        help="also import Keras (TensorFlow) once, for the Keras notebooks")
    args = parser.parse_args(argv)
    with open(args.policy, encoding="utf-8") as fh:
        policy = json.load(fh)
    serve(args.socket, list(PRELOAD) + (["keras"] if args.keras else []), policy,
          args.work_root)


if __name__ == "__main__":
    main()

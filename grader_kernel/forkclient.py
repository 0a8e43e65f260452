"""The graded kernelspec's command: a kernel from the fork server, or a cold start.

``python -m grader_kernel.forkclient --policy POLICY.json -- python -m ipykernel_launcher -f CONN``

Jupyter starts this process as "the kernel". It asks the worker's fork server
(:mod:`grader_kernel.forkserver`, socket in ``CNN_FORKSERVER_SOCKET``) for a kernel with
this command, environment and working folder, then stands in for it: signals it
receives (an interrupt) are passed on, and it exits with the kernel's exit code when
the kernel ends; if it is killed, the server kills the kernel. When there is no
server, or it does not answer, it becomes the ordinary launcher
(:mod:`grader_kernel.launcher`), with the same sandbox, only slower to start.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys

from .forkserver import PREFIX

SOCKET_ENV = "CNN_FORKSERVER_SOCKET"


def _cold_start(policy_path: str, command: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, "-m", "grader_kernel.launcher", "--policy",
                              policy_path, "--", *command])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[0] != "--policy" or "--" not in argv:
        sys.stderr.write("usage: python -m grader_kernel.forkclient --policy FILE -- COMMAND\n")
        os._exit(2)
    policy_path = argv[1]
    command = argv[argv.index("--") + 1:]
    path = os.environ.get(SOCKET_ENV, "")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        conn.sendall((json.dumps({"argv": command, "env": dict(os.environ),
                                  "cwd": os.getcwd()}) + "\n").encode())
        reader = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
        first = reader.readline()
    except (OSError, ValueError):
        conn.close()
        _cold_start(policy_path, command)
        return
    if not first.startswith(PREFIX + "pid "):
        # the server refused (a second thread) or the sandbox refused to start the kernel
        if first:
            sys.stderr.write(first)
        rest = reader.read()
        if rest:
            sys.stderr.write(rest)
        conn.close()
        if not first and not rest:
            _cold_start(policy_path, command)
        os._exit(70)

    def forward(signum, _frame):
        try:
            conn.sendall(f"{PREFIX}signal {signum}\n".encode())
        except OSError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2):
        signal.signal(sig, forward)
    for line in reader:
        if line.startswith(PREFIX + "exit "):
            try:
                os._exit(int(line.split()[-1]))
            except ValueError:
                os._exit(1)
        elif not line.startswith(PREFIX):
            sys.stderr.write(line)
    os._exit(1)


if __name__ == "__main__":
    main()

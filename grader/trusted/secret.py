"""The course secret: what makes each student's hidden inputs unknown to them.

Hidden tests draw their inputs from a seed made of this secret, the assignment, the
test and the student id (:mod:`grader.references.seeding`). It lives outside the
repository and the release, by default in ``~/.config/cnn-course/grading-secret``
(``$XDG_CONFIG_HOME`` is honoured), or wherever ``CNN_COURSE_SECRET_FILE`` points.
``python -m grader autograde`` creates it (32 random bytes, readable by its owner
only) the first time; ``python -m grader secret`` shows where it is, and
``python -m grader secret --rotate`` replaces it, which changes every student's hidden
inputs on the next grading run (the resume fingerprint includes a digest of the
secret, so everything is regraded).

Only the grader's own processes read it: the worker passes it to the verdict runner
in memory; it is never written into a task file, an environment variable or a
kernel's reach (:func:`check_out_of_reach` refuses a location a kernel may read).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

ENV = "CNN_COURSE_SECRET_FILE"


class SecretError(RuntimeError):
    """The secret is missing, unreadable or in a place a kernel could read."""


def default_path() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "cnn-course" / "grading-secret"


def create(path: Path | None = None, *, replace: bool = False) -> Path:
    """Write a new random secret (mode 0600); refuse to overwrite unless ``replace``."""
    path = Path(path or default_path())
    if path.exists() and not replace:
        raise SecretError(f"{path} exists already; pass replace=True (grader secret --rotate)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    os.replace(tmp, path)
    return path


def load(path: Path | None = None) -> bytes:
    """The secret's bytes; :class:`SecretError` with what to do when it cannot be read."""
    path = Path(path or default_path())
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SecretError(f"no course secret at {path}: run `python -m grader secret --create` "
                          f"(or set {ENV} to the file that holds it)") from None
    except OSError as err:
        raise SecretError(f"the course secret {path} cannot be read: {err}") from None
    if len(text) < 32:
        raise SecretError(f"the course secret {path} is too short ({len(text)} characters); "
                          "replace it with `python -m grader secret --rotate`")
    return text.encode("utf-8")


def ensure(path: Path | None = None, log=print) -> Path:
    """The secret's path, creating it (and saying so) when there is none yet."""
    path = Path(path or default_path())
    if not path.exists():
        create(path)
        log(f"created a new course secret at {path}: keep it (students' hidden inputs depend "
            "on it; `python -m grader secret --rotate` replaces it)")
    return path


def digest(path: Path | None = None) -> str:
    """A digest of the secret for resume fingerprints (never the secret itself)."""
    return hashlib.sha256(b"cnn-course-secret-digest\0" + load(path)).hexdigest()[:32]


def check_out_of_reach(path: Path, readable_by_kernels: list[str]) -> None:
    """Refuse a secret inside a folder sandboxed kernels may read."""
    real = os.path.realpath(path)
    for root in readable_by_kernels:
        root_real = os.path.realpath(root)
        if real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep):
            raise SecretError(f"the course secret {path} lies inside {root}, which graded "
                              f"kernels may read; move it (e.g. to the default "
                              f"~/.config/cnn-course/grading-secret) and set {ENV}")

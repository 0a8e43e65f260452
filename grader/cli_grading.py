"""Commands ``autograde``, ``validate``, ``example-class`` and ``demo``.

See :mod:`grader.trusted.autograde`, :mod:`grader.trusted.validate`, :mod:`grader.authoring.example_class`
and :mod:`grader.demo`.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .trusted.sandbox import GIB, Limits


def parse_size(text: str) -> int:
    """``4G``, ``512M``, ``2GiB``, or a number of bytes."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.I)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G or 512M)")
    scale = {"": 1, "k": 1024, "m": 1024 ** 2, "g": GIB, "t": 1024 * GIB}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def memory_size(text: str) -> int:
    """argparse ``type=`` for a memory size: bytes, or a usage error that shows examples."""
    try:
        size = parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a memory size; write a number and a unit, for example "
            "4G, 512M, 1.5GiB or 2048MB") from None
    if size <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the memory limit must be more than 0, "
                                         "for example 4G or 512M")
    return size


def positive_int(text: str) -> int:
    """argparse ``type=`` for a count of seconds or workers: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0 (e.g. 120)")
    return value


def _limits(args) -> Limits:
    unsafe = bool(getattr(args, "unsafe_no_sandbox", False))
    return Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                  memory_bytes=args.memory, landlock=not (args.no_landlock or unsafe),
                  sandbox=not unsafe)


def _add_limit_args(p, timeout: int = 120) -> None:
    p.add_argument("--timeout", type=positive_int, default=timeout, metavar="S",
                   help=f"seconds per cell before it is interrupted (default {timeout})")
    p.add_argument("--notebook-timeout", type=positive_int, default=900, metavar="S",
                   help="seconds for a whole notebook (default 900)")
    p.add_argument("--memory", type=memory_size, default="4G", metavar="SIZE",
                   help="memory limit per kernel (RLIMIT_DATA), e.g. 4G (default), 512M")
    p.add_argument("--no-landlock", action="store_true",
                   help="do not fence the file system and network for kernels (autograde then "
                        "refuses to run unless --unsafe-no-sandbox is given too)")


def _autograde(args) -> int:
    from .trusted.autograde import autograde
    from .trusted.course import Course
    from .trusted.report import format_table
    from .trusted.sandbox import SandboxUnavailable
    from .trusted.secret import SecretError
    default = Course.default()
    course = Course(root=default.root, source=default.source,
                    build=Path(args.course_build) if args.course_build else default.build,
                    db=args.db_url)
    try:
        rep = autograde(args.submissions, course=course, limits=_limits(args),
                        workers=args.workers, assignments=args.assignment or None,
                        force=args.force,
                        secret_file=Path(args.secret_file) if args.secret_file else None,
                        scheduler=args.scheduler, store=args.store)
    except (ValueError, FileNotFoundError, SecretError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SandboxUnavailable as err:
        print(f"error: grading did not start: {err}", file=sys.stderr)
        return 3
    print()
    print(format_table(rep))
    print()
    for name, path in rep.files.items():
        print(f"{name:<13} {path}")
    for w in rep.warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    return 0


def _secret(args) -> int:
    from .trusted import secret
    path = Path(args.file) if args.file else secret.default_path()
    try:
        if args.rotate:
            secret.create(path, replace=True)
            print(f"rotated the course secret at {path}; the next autograde regrades everyone "
                  "with new hidden inputs")
        elif args.create:
            secret.ensure(path)
            print(f"course secret: {path}")
        else:
            secret.load(path)
            print(f"course secret: {path} (digest {secret.digest(path)[:12]})")
    except secret.SecretError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _validate(args) -> int:
    from .trusted.validate import format_report, validate
    code = 0
    for path in args.notebooks:
        result = validate(path, _limits(args))
        print(format_report(result))
        code = max(code, result.exit_code)
    return code


def _example_class(args) -> int:
    from .authoring import example_class
    for note in example_class.build(Path(args.dest)):
        print(f"note: {note}")
    print(f"example class written to {args.dest} (students: {', '.join(example_class.STUDENTS)})")
    return 0


def _demo(args) -> int:
    from . import demo
    return demo.run(workers=args.workers, force=args.force, skip_release=args.no_release)


def register(sub) -> None:
    p = sub.add_parser(
        "autograde", help="grade a folder or zip of submissions in parallel (nbgrader)",
        description="Grade every submission in SUBMISSIONS: nbgrader's submitted/<student>/"
                    "<assignment>/ layout, a folder per student, or a flat folder or zip as "
                    "an LMS exports it. Writes the gradebook, grades CSV, per-test CSV, HTML "
                    "feedback per student, and a summary with a score histogram under "
                    "build/course/. Re-running skips unchanged submissions.")
    p.add_argument("submissions", help="folder or .zip of submissions")
    p.add_argument("--assignment", action="append", metavar="STEM",
                   help="grade only this assignment (repeatable; default: all)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel workers (default: CPU cores, fewer if memory is short; "
                        "with --scheduler local: the LocalCluster's worker processes, default 2)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on a Dask cluster: its scheduler's address (tcp://host:8786), "
                        "or 'local' for a LocalCluster on this machine (docs/scaling.md)")
    p.add_argument("--store", choices=("copy", "shared"), default="copy",
                   help="with --scheduler: 'copy' sends each task's files to the worker and "
                        "the graded files back (default); 'shared' grades in build/course/work, "
                        "which every worker must see at the same path")
    p.add_argument("--db-url", default=None, metavar="URL",
                   help="the course gradebook's database (any URL nbgrader accepts, e.g. "
                        "postgresql://grader@dbhost/cnn_course; default $CNN_COURSE_DB_URL, "
                        "else build/course/gradebook.db)")
    p.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    p.add_argument("--course-build", default=None, metavar="DIR",
                   help="where the gradebook and outputs go (default build/course)")
    p.add_argument("--secret-file", default=None, metavar="FILE",
                   help="the course secret that seeds hidden inputs per student (default "
                        "$CNN_COURSE_SECRET_FILE or ~/.config/cnn-course/grading-secret, "
                        "created on first use)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade even where the kernel sandbox (Landlock, PID namespace, "
                        "process limit) cannot be applied; verdicts stay trusted, the "
                        "machine does not")
    _add_limit_args(p)
    p.set_defaults(func=_autograde)

    p = sub.add_parser("secret", help="show, create or rotate the course secret",
                       description="The course secret seeds every student's hidden test "
                                   "inputs. It lives outside the repository. Rotating it "
                                   "changes all hidden inputs; the next autograde regrades "
                                   "everyone.")
    p.add_argument("--file", default=None, metavar="FILE", help="another secret file")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--create", action="store_true", help="create it if it does not exist")
    g.add_argument("--rotate", action="store_true", help="replace it with a new random one")
    p.set_defaults(func=_secret)

    p = sub.add_parser("validate", help="run a notebook's tests in a fresh kernel; exit 1 on failure",
                       description="Run NOTEBOOK top to bottom in a fresh, sandboxed kernel and "
                                   "print a pass/fail line per test. Exit status 0 when every "
                                   "test passes, 1 when any fails, 2 when the file is unreadable.")
    p.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    _add_limit_args(p, timeout=300)
    p.set_defaults(func=_validate)

    p = sub.add_parser("example-class", help="write the example class's submissions to a folder")
    p.add_argument("dest", nargs="?", default="build/example_class")
    p.set_defaults(func=_example_class)

    p = sub.add_parser("demo", help="release, then autograde the bundled example class")
    p.add_argument("--workers", type=positive_int, default=None)
    p.add_argument("--force", action="store_true", help="re-grade even unchanged submissions")
    p.add_argument("--no-release", action="store_true", help="do not regenerate notebooks/")
    p.set_defaults(func=_demo)

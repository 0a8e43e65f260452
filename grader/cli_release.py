"""Commands ``release``, ``check`` and ``solutions`` (see :mod:`grader.authoring.release`)."""
from __future__ import annotations

import sys

from .authoring import release as rel


def _release(args) -> int:
    try:
        rel.release(args.assignments)
    except rel.ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _check(args) -> int:
    try:
        problems = rel.check(args.assignments)
    except rel.ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if problems:
        print("notebooks/ check FAILED:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("notebooks/ is in sync with solutions/ and leaks no solution or hidden test.")
    return 0


def _solutions(args) -> int:
    try:
        rel.run_solutions(args.assignments, save=not args.no_save)
    except rel.ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    p = sub.add_parser("release", help="regenerate notebooks/ from solutions/ (nbgrader generate_assignment)")
    p.add_argument("assignments", nargs="*", help="assignment stems (default: all)")
    p.set_defaults(func=_release)
    p = sub.add_parser("check", help="fail if notebooks/ is out of sync with solutions/ or leaks")
    p.add_argument("assignments", nargs="*", help="assignment stems (default: all)")
    p.set_defaults(func=_check)
    p = sub.add_parser("solutions", help="execute solution notebooks in place (saves outputs)")
    p.add_argument("assignments", nargs="*", help="assignment stems (default: all)")
    p.add_argument("--no-save", action="store_true", help="run only; do not save outputs")
    p.set_defaults(func=_solutions)

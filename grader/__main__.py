"""``python -m grader COMMAND``: the instructor's command line.

Each command lives in its own module, which exposes ``register(subparsers)``;
add a module to ``COMMAND_MODULES`` to add commands.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "grader.cli_release",
    "grader.cli_grading",
    "grader.cli_instructor",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Release, check and grade the CNN course (built on nbgrader).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""Write ``utils/checks/expected.py``: the visible checks' expected values, from the references.

``grader/references/`` holds the course's only hand-written copy of the LeNet-5
table (notebook 06), the MNIST model's layers (notebook 07) and the edge kernels
(notebook 01). The visible checks in ``utils/checks/`` need the same values, so
this command writes them into one generated module of plain constants (no
function that computes an answer)::

    python -m grader.authoring.expected          # rewrite utils/checks/expected.py
    python -m grader.authoring.expected --check  # exit 1 when the file is out of date

``tests/test_expected.py`` fails when the committed file differs from :func:`render`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).resolve().parents[2] / "utils" / "checks" / "expected.py"
COMMAND = "python -m grader.authoring.expected"
WIDTH = 99

HEADER = f'''\
"""Expected values of the visible checks (GENERATED: do not edit by hand).

Written by `{COMMAND}` from grader/references/edges.py,
lenet5.py and keras_mnist.py, the course's only hand-written copy of these values;
tests/test_expected.py fails when this file differs from what that command writes.
Constants only: nothing here computes the answer of a graded function.
"""
import numpy as np
'''


def literal(value: Any) -> str:
    """Python source for a constant: numbers, strings, tuples, lists, dicts, integer arrays."""
    if isinstance(value, np.ndarray):
        if not np.array_equal(value, np.round(value)):
            raise ValueError(f"only integer-valued arrays are written, not {value!r}")
        return f"np.array({literal(value.astype(np.int64).tolist())})"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{k}={literal(v)}" for k, v in value.items()) + ")"
    raise TypeError(f"cannot write a constant of type {type(value).__name__}")


def _wrapped(head: str, items: list[str], tail: str, indent: str) -> list[str]:
    """``head item, item, ... tail`` over as many lines as WIDTH needs."""
    lines, line = [], head
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else tail)
        if len(line) + len(piece.rstrip()) > WIDTH and line.strip() != head.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece
    lines.append(line.rstrip())
    return lines


def _sequence(name: str, rows: tuple, comment: str) -> list[str]:
    """``NAME = (`` one row per line ``)``; a row too long for a line is wrapped."""
    out = [f"#: {comment}", f"{name} = ("]
    for row in rows:
        if isinstance(row, dict):
            items = [f"{k}={literal(v)}" for k, v in row.items()]
            out += _wrapped("    dict(", items, "),", " " * 9)
        else:
            out.append(f"    {literal(row)},")
    out.append(")")
    return out


def _section(title: str) -> str:
    return "\n# " + "-" * (WIDTH - len(title) - 3) + " " + title


def render() -> str:
    """The text of ``utils/checks/expected.py`` from the current references."""
    from grader.references import edges, keras_mnist, lenet5

    lines = [HEADER.rstrip("\n"), _section("notebook 01 (references/edges.py)")]
    for name in ("VERTICAL_EDGE", "HORIZONTAL_EDGE", "SOBEL_X", "SCHARR_X"):
        lines.append(f"{name} = {literal(getattr(edges, name))}")
    lines.append(_section("notebook 06 (references/lenet5.py)"))
    lines += _sequence("LENET5_TABLE", lenet5.TABLE,
                       "The spec's table: (layer, activation_shape, activation_size, n_params).")
    lines.append(f"LENET5_TOTAL = {literal(lenet5.TOTAL)}")
    lines.append(_section("notebook 07 (references/keras_mnist.py)"))
    lines.append(f"MNIST_INPUT_SHAPE = {literal(keras_mnist.INPUT_SHAPE)}")
    lines.append(f"MNIST_N_CLASSES = {literal(keras_mnist.N_CLASSES)}")
    lines += _sequence("MNIST_LAYERS", keras_mnist.LAYERS,
                       "build_model(), layer by layer: what model.summary() must show.")
    lines.append(f"MNIST_TOTAL_PARAMS = {literal(keras_mnist.TOTAL)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 when the file differs from the references")
    args = parser.parse_args(argv)
    text = render()
    current = PATH.read_text(encoding="utf-8") if PATH.is_file() else ""
    if args.check:
        if current != text:
            print(f"{PATH} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{PATH} is up to date")
        return 0
    if current != text:
        PATH.write_text(text, encoding="utf-8")
        print(f"wrote {PATH}")
    else:
        print(f"{PATH} was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every reference from one notebook's text to another notebook points to one that exists.

The markdown of every notebook in ``solutions/`` and ``notebooks/`` is scanned for the
ways the course refers to other notebooks: "notebook 08", "notebooks 04 and 05",
"notebooks 02-05" (a range: every number in it), "in 05" / "builds on 03" (a
preposition before a zero-padded number), and stems or links such as "08_backprop" or
"../07_keras_mnist/07_keras_mnist.ipynb". A number counts as existing when a folder of
``solutions/`` starts with it; a stem must be exactly a folder of ``solutions/``. The
check reads ``solutions/`` as it is when the test runs, so a reference to a notebook that
is planned but not written yet fails until it lands.
"""
from __future__ import annotations

import re

import pytest

from grader import notebook_cells as cells
from nbtools import RELEASE, SOLUTIONS, assignments

_SEP = r"\s*(?:,|and|or|to|-|–|—)\s*"
# "notebook 08", "notebooks 04 and 05", "notebooks 02-05", "Notebooks 01–06, 07"
_NOTEBOOK_WORD = re.compile(rf"\bnotebooks?\s+(\d{{2}}(?:{_SEP}\d{{2}}\b)*)", re.I)
# "in 05", "builds on 03", "from 04 (", "see 07": a preposition, then 0N not followed by a
# digit, a decimal point, a unit-like letter or a multiplication sign ("in 05x05" is no
# reference)
_PREPOSITION = re.compile(r"\b(?:in|on|from|of|see|to|with)\s+(0[1-9])\b(?![.,]\d|\s*[x×%])",
                          re.I)
# "08_backprop", "../07_keras_mnist/07_keras_mnist.ipynb"
_STEM = re.compile(r"(?<![\w-])(\d{2}_[a-z][a-z0-9_]*[a-z0-9])", re.I)


def _numbers(group: str) -> list[int]:
    """The notebook numbers of a matched list: "04 and 05" -> 4, 5; "02-05" -> 2 .. 5."""
    tokens = re.findall(r"\d{2}|[-–—]|to", group)
    found: list[int] = []
    for k, tok in enumerate(tokens):
        if tok.isdigit():
            found.append(int(tok))
        elif 0 < k < len(tokens) - 1 and tokens[k - 1].isdigit() and tokens[k + 1].isdigit():
            found.extend(range(int(tokens[k - 1]) + 1, int(tokens[k + 1])))
    return found


def references(text: str) -> list[tuple[str, str]]:
    """``(kind, target)`` for every reference in ``text``: ``("number", "08")`` or
    ``("stem", "08_backprop")``."""
    refs: list[tuple[str, str]] = []
    for m in _NOTEBOOK_WORD.finditer(text):
        refs += [("number", f"{n:02d}") for n in _numbers(m.group(1))]
    refs += [("number", m.group(1)) for m in _PREPOSITION.finditer(text)]
    refs += [("stem", m.group(1)) for m in _STEM.finditer(text)]
    return refs


def missing_targets(text: str, stems: list[str]) -> list[str]:
    """The references in ``text`` that no notebook in ``stems`` satisfies."""
    numbers = {s[:2] for s in stems}
    bad = []
    for kind, target in references(text):
        if (kind == "number" and target not in numbers) or (kind == "stem"
                                                             and target not in stems):
            bad.append(target)
    return bad


# ------------------------------------------------------------------ the scanner itself
@pytest.mark.parametrize("text, expected", [
    ("In notebook 08 you meet it again.", [("number", "08")]),
    ("notebooks 04 and 05 explain", [("number", "04"), ("number", "05")]),
    ("as in notebooks 02-05.", [("number", n) for n in ("02", "03", "04", "05")]),
    ("Notebooks 01–06 took convolutions apart", [("number", f"{n:02d}") for n in range(1, 7)]),
    ("This notebook builds on 03 (sizes) and 05.", [("number", "03")]),
    ("the pooling in 05 keeps", [("number", "05")]),
    ("see [notebook 07](../07_keras_mnist/07_keras_mnist.ipynb)",
     [("number", "07"), ("stem", "07_keras_mnist"), ("stem", "07_keras_mnist")]),
    ("written in 08_backprop", [("stem", "08_backprop")]),
    ("a 6x6 image in 0.05 s with 3x3 filters, 28 notebooks", []),
    ("accuracy in 05 % of cases, up to 0.99", []),
])
def test_scanner_finds_each_kind_of_reference(text, expected):
    assert references(text) == expected


def test_scanner_reports_what_is_missing():
    stems = ["01_edge_detection", "05_pooling"]
    assert missing_targets("see notebook 05 and 08_backprop, then notebooks 01-02",
                           stems) == ["02", "08_backprop"]
    assert missing_targets("see notebook 05 and ../05_pooling/05_pooling.ipynb", stems) == []


# ------------------------------------------------------------------ the course's notebooks
def _notebooks() -> list:
    paths = []
    for root in (SOLUTIONS, RELEASE):
        for stem in cells.assignments(root):
            paths.append(root / stem / f"{stem}.ipynb")
    return paths


@pytest.mark.parametrize("path", _notebooks(),
                         ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_markdown_references_point_to_existing_notebooks(path):
    stems = assignments()  # what solutions/ holds right now
    nb = cells.read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for target in missing_targets(cell.source, stems):
            problems.append(f"cell {i}: refers to {target!r}, which is not in solutions/")
    assert not problems, (f"{path.relative_to(SOLUTIONS.parent)} points to notebooks that do "
                          f"not exist (solutions/ has {', '.join(stems)}):\n"
                          + "\n".join(problems))

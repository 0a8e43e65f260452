"""A test reading a constant whose exercise is not written yet says so (checks/unwritten.py).

Before, notebook 01's release showed ``NameError: name 'VERTICAL_EDGE' is not defined``
in nbgrader's Validate dialog. The notebook below has the same shape (setup cell
importing the checks, a stub answer cell for a constant, its test cell) and runs in a
real kernel, as Validate runs it; then notebook 01's own release is validated with
nbgrader's Validator, the code behind the Validate button.
"""
from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from grader.settings import REPO
from utils.checks import unwritten

STUB = "# Define KERNEL_2X2 as a 2x2 NumPy array.\n# YOUR CODE HERE\nraise NotImplementedError()"
CELLS = [
    "import numpy as np\nfrom utils.checks import core as check",
    STUB,
    '"""KERNEL_2X2: the identity."""\n'
    'check.check_array(KERNEL_2X2, [[1, 0], [0, 1]], "KERNEL_2X2")',
    "def uses_a_typo():\n    return undefined_inside_a_function\n",
    "uses_a_typo()",
    "print(NEVER_MENTIONED)",
]


def _errors(nb):
    out = []
    for cell in nb.cells:
        err = next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)
        out.append(err)
    return out


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    return _errors(nb)


def test_constant_of_an_unwritten_exercise_names_the_exercise(executed):
    err = executed[2]
    assert err is not None and err.ename == "NameError"  # still an error: the test scores 0
    assert err.evalue.startswith("name 'KERNEL_2X2' is not defined: `KERNEL_2X2` is not written")
    text = "\n".join(err.traceback)
    assert "not written yet" in text
    assert "# Define KERNEL_2X2 as a 2x2 NumPy array." in text  # which exercise
    assert "raise NotImplementedError()" in text              # what to replace
    assert "Traceback" not in text


def test_other_name_errors_keep_their_traceback(executed):
    err = executed[4]
    text = "\n".join(err.traceback)
    assert err.ename == "NameError" and "undefined_inside_a_function" in err.evalue
    assert "uses_a_typo" in text and "not written yet" not in text


def test_a_name_no_cell_defines_says_to_run_its_cell(executed):
    err = executed[5]
    assert err.ename == "NameError"
    assert "is not defined yet" in "\n".join(err.traceback)


def test_message_rules():
    cells = ["import numpy as np", "# Define A and B\nraise NotImplementedError()",
             "C = 3", "def f():\n    raise NotImplementedError()"]
    assert unwritten.exercise_for("A", cells) == "# Define A and B"
    assert unwritten.exercise_for("f", cells) == "def f():"
    assert unwritten.exercise_for("C", cells) is None
    assert unwritten.message("C", cells) is None          # defined once, deleted since
    assert "not defined yet" in unwritten.message("D", cells)
    assert all(len(line) < 80 for line in unwritten.message("A", cells).splitlines())


@pytest.mark.slow
def test_nbgrader_validate_of_release_01_names_the_unwritten_exercise(tmp_path):
    """What the Validate dialog shows for notebook 01 as released (nbgrader's Validator)."""
    from nbgrader.validator import Validator
    release = REPO / "notebooks" / "01_edge_detection" / "01_edge_detection.ipynb"
    if not release.is_file():
        pytest.skip("notebooks/01_edge_detection not generated yet")
    shutil.copy(release, tmp_path / release.name)
    result = Validator().validate(str(tmp_path / release.name))
    failed = {f["source"].splitlines()[0]: f["raw_error"] for f in result["failed"]}
    vertical = next(err for src, err in failed.items() if src.startswith('"""VERTICAL_EDGE'))
    assert "name 'VERTICAL_EDGE' is not defined" not in vertical
    assert "`VERTICAL_EDGE` is not written yet" in vertical
    assert "# Define VERTICAL_EDGE and HORIZONTAL_EDGE" in vertical

"""`python -m grader release/check`: sync and leak detection on a tiny fixture course."""
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader import notebook_cells as cells
from grader.authoring import release as rel

STEM = "00_fixture"


def fixture_notebook():
    return cells.new_notebook([
        cells.markdown_cell("# Fixture"),
        cells.code_cell("import numpy as np"),
        cells.answer_cell('def square(x):\n    """Square of x (any shape)."""\n'
                          "    ### BEGIN SOLUTION\n    return np.multiply(x, x)\n"
                          "    ### END SOLUTION", "square"),
        cells.test_cell('"""square of 3 is 9."""\nassert square(3) == 9\n'
                        "### BEGIN HIDDEN TESTS\nassert square(-4) == 16\n"
                        "### END HIDDEN TESTS", "square_values", 1),
    ])


@pytest.fixture
def course(tmp_path):
    solutions = tmp_path / "solutions"
    release = tmp_path / "notebooks"
    (solutions / STEM).mkdir(parents=True)
    release.mkdir()
    nbformat.write(fixture_notebook(), str(solutions / STEM / f"{STEM}.ipynb"))
    rel.generate(STEM, release_dir=release, db_dir=tmp_path, solutions=solutions)
    return solutions, release


def released(release):
    return release / STEM / f"{STEM}.ipynb"


def test_generated_release_is_clean_and_in_sync(course):
    solutions, release = course
    text = released(release).read_text()
    assert "raise NotImplementedError()" in text
    assert "np.multiply" not in text and "square(-4)" not in text
    assert rel.check([STEM], solutions, release) == []


def test_hand_edit_is_out_of_sync(course):
    solutions, release = course
    nb = cells.read(released(release))
    nb.cells[0].source = "# Fixture, edited by hand"
    nbformat.write(nb, str(released(release)))
    problems = rel.check([STEM], solutions, release)
    assert any("out of sync" in p and "python -m grader release" in p for p in problems)


def test_leaked_solution_and_hidden_test_are_found(course):
    solutions, release = course
    nb = cells.read(released(release))
    nb.cells[2].source += "\n    return np.multiply(x, x)"
    nb.cells[3].source += "\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16"
    nbformat.write(nb, str(released(release)))
    problems = rel.leaks(STEM, release, solutions)
    assert any("leaks `return np.multiply(x, x)`" in p for p in problems)
    assert any("assert square(-4) == 16" in p for p in problems)
    assert any("BEGIN HIDDEN TESTS" in p for p in problems)


def test_missing_and_broken_release_files(course):
    solutions, release = course
    released(release).write_text("{ not json")
    problems = rel.check([STEM], solutions, release)
    assert any("not a readable notebook" in p for p in problems)
    shutil.rmtree(release / STEM)
    problems = rel.check([STEM], solutions, release)
    assert any("is missing" in p for p in problems)


def test_unknown_assignment_is_a_clear_error(course):
    solutions, release = course
    with pytest.raises(rel.ReleaseError, match="unknown assignment"):
        rel.check(["99_nope"], solutions, release)


def test_cli_check_exit_codes():
    """`python -m grader check` on an unknown assignment exits non-zero with a message."""
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "99_nope"],
                          capture_output=True, text=True, cwd=rel.REPO)
    assert proc.returncode == 1 and "unknown assignment" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "grader"], capture_output=True, text=True,
                          cwd=rel.REPO)
    assert proc.returncode == 2 and "release" in proc.stdout


def test_leak_scanner_ignores_trivial_lines():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    pass\n    y = np.sum(x ** 2)\n    ### END SOLUTION"
    assert rel._secret_lines(src) == ["y = np.sum(x ** 2)"]
    assert rel._secret_lines("") == []


def test_volatile_widget_state_is_dropped_and_metadata_drift_is_caught(course):
    """Saved solutions carry no widget state (random ids); release metadata is compared too."""
    nb = fixture_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    rel._tidy_metadata(nb)
    assert "widgets" not in nb.metadata
    solutions, release = course
    shipped = cells.read(released(release))
    shipped.metadata["widgets"] = {"state": {"0a1b": {}}}
    nbformat.write(shipped, str(released(release)))
    assert any("out of sync" in p for p in rel.check([STEM], solutions, release))

"""``python -m grader validate``: per-test report and an exit status CI can rely on."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grader.authoring import example_class
from grader import notebook_cells as cells
from grader.trusted.course import prepare
from grader.settings import REPO, tool_env

from fixtures.bad_submissions import RIGHT, WRONG_DOUBLE
from fixtures.fixture_course import STEM, make_course

pytestmark = pytest.mark.xdist_group("validate")


@pytest.fixture(scope="module")
def release_nb(tmp_path_factory):
    root = tmp_path_factory.mktemp("validate")
    course = make_course(root / "course")
    prepare(course, [STEM], log=lambda *a: None)
    return cells.read(course.build / "release" / STEM / f"{STEM}.ipynb"), root


def _validate(path, *extra):
    proc = subprocess.run([sys.executable, "-m", "grader", "validate", "--timeout", "10",
                           *extra, str(path)], cwd=REPO, capture_output=True, text=True,
                          env=tool_env(), timeout=300)
    return proc.returncode, proc.stdout


def test_all_tests_pass_exit_0(release_nb):
    nb, root = release_nb
    path = root / "good.ipynb"
    nbformat.write(example_class.fill(nb, RIGHT), str(path))
    before = path.read_bytes()
    code, out = _validate(path)
    assert code == 0, out
    assert "PASS  double_tests (2 pts)" in out and "3/3 tests passed, 7/7 points" in out
    assert out.strip().endswith("OK")
    assert path.read_bytes() == before  # the student's file is not changed


def test_a_failing_test_exits_1_and_says_why(release_nb):
    nb, root = release_nb
    path = root / "wrong.ipynb"
    nbformat.write(example_class.fill(nb, {**RIGHT, "double": WRONG_DOUBLE}), str(path))
    code, out = _validate(path)
    assert code == 1, out
    assert "FAIL  double_tests (2 pts)" in out
    assert "returned wrong values" in out
    assert "PASS  square_tests" in out and out.strip().endswith("FAILED")


def test_unanswered_release_exits_1(release_nb):
    nb, root = release_nb
    path = root / "stub.ipynb"
    nbformat.write(nb, str(path))
    code, out = _validate(path)
    assert code == 1
    assert "not written yet" in out


def test_edited_test_cell_is_reported(release_nb):
    nb, root = release_nb
    nb = example_class.fill(nb, {**RIGHT, "double": WRONG_DOUBLE})
    next(c for c in nb.cells if cells.nbgrader_meta(c).get("grade_id") == "double_tests").source = "pass"
    path = root / "edited.ipynb"
    nbformat.write(nb, str(path))
    code, out = _validate(path)
    assert code == 1
    assert "EDITED  test cell 'double_tests'" in out


def test_timeout_and_crash_fail_with_reason(release_nb):
    nb, root = release_nb
    path = root / "crash.ipynb"
    nbformat.write(example_class.fill(nb, {**RIGHT, "double": "def double(x):\n    while True: pass",
                                           "square": "import os\nos._exit(3)"}), str(path))
    code, out = _validate(path, "--timeout", "2")
    assert code == 1
    assert "timed out after 2 s" in out
    assert "kernel exited with status 3" in out
    assert "FAIL  total_tests" in out


def test_invalid_file_exits_2(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json", encoding="utf-8")
    code, out = _validate(path)
    assert code == 2
    assert "not a readable notebook" in out


@pytest.mark.slow
def test_real_solution_notebook_passes():
    stems = cells.assignments(REPO / "solutions")
    if not stems:
        pytest.skip("no notebooks in solutions/ yet")
    code, out = _validate(REPO / "solutions" / stems[0] / f"{stems[0]}.ipynb", "--timeout", "300")
    assert code == 0, out

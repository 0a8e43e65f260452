"""What a student installs, and what plain nbgrader still does with the course."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from grader.authoring import example_class
from grader import notebook_cells as cells
from grader.settings import REPO, tool_env
from grader.trusted.course import Course, nbgrader_args


def test_the_students_package_carries_no_hidden_tests(tmp_path):
    """The wheel holds utils, grader_kernel and the command line, not grader/references."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("utils", "grader", "grader_kernel"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, env=tool_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("grader/references/")], "hidden tests shipped"
    assert not [n for n in names if "solutions/" in n]
    for needed in ("utils/checks/core.py", "grader_kernel/collector.py",
                   "grader_kernel/launcher.py", "grader/trusted/validate.py"):
        assert needed in names, needed


@pytest.mark.slow
def test_plain_nbgrader_autograde_still_grades_the_course(tmp_path):
    """`nbgrader autograde` (in-kernel verdicts, fixed seeds) gives full marks and zero."""
    stem = "02_padding"
    course = Course(root=tmp_path, source=REPO / "solutions", build=tmp_path / "build")
    course.build.mkdir(parents=True)
    args = nbgrader_args(course)
    env = tool_env()
    run = lambda *cmd: subprocess.run([sys.executable, "-m", "nbgrader", *cmd, *args,  # noqa: E731
                                       "--log-level=WARN"], cwd=tmp_path, env=env,
                                      capture_output=True, text=True)
    proc = run("generate_assignment", stem, "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    release = cells.read(course.build / "release" / stem / f"{stem}.ipynb")
    solutions = example_class.solutions_by_id(cells.read(REPO / "solutions" / stem / f"{stem}.ipynb"))
    import nbformat
    for student, nb in (("alice", example_class.fill(release, solutions)), ("bob", release)):
        folder = course.submitted / student / stem
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{stem}.ipynb"))
    proc = run("autograde", stem, "--force")
    assert proc.returncode == 0, proc.stderr[-3000:]
    from nbgrader.api import Gradebook
    with Gradebook(course.db_url, "cnn-course") as gb:
        scores = {s: gb.find_submission(stem, s).score for s in ("alice", "bob")}
        total = gb.find_assignment(stem).max_score
    assert scores == {"alice": total, "bob": 0.0}, scores

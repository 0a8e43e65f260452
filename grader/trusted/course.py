"""Where a course's files live, and getting its gradebook ready for grading.

The real course is :func:`Course.default` (``solutions/`` is nbgrader's source
step, grading output under ``build/course/``, as ``nbgrader_config.py`` says);
tests use small fixture courses in temporary folders with the same layout.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import notebook_cells as cells
from ..settings import COURSE_ID, REPO, tool_env

STATE_FILE = "grading_state.json"


@dataclass
class Course:
    root: Path
    source: Path
    build: Path

    @classmethod
    def default(cls) -> "Course":
        return cls(root=REPO, source=REPO / "solutions", build=REPO / "build" / "course")

    @classmethod
    def at(cls, root: Path) -> "Course":
        root = Path(root)
        return cls(root=root, source=root / "solutions", build=root / "build" / "course")

    @property
    def db_path(self) -> Path:
        return self.build / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def submitted(self) -> Path:
        return self.build / "submitted"

    @property
    def autograded(self) -> Path:
        return self.build / "autograded"

    @property
    def feedback(self) -> Path:
        return self.build / "feedback"

    @property
    def reports(self) -> Path:
        return self.build / "reports"

    @property
    def work(self) -> Path:
        return self.build / "work"

    def assignments(self) -> list[str]:
        return cells.assignments(self.source) if self.source.is_dir() else []

    def notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without ``.ipynb``) of one assignment."""
        return sorted(p.stem for p in (self.source / assignment).glob("*.ipynb")
                      if not p.name.startswith("."))

    def source_digest(self, assignment: str) -> str:
        h = hashlib.sha256()
        for p in sorted((self.source / assignment).rglob("*")):
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts:
                h.update(p.relative_to(self.source).as_posix().encode())
                h.update(p.read_bytes())
        return h.hexdigest()


def nbgrader_args(course: Course) -> list[str]:
    """Command-line settings that point nbgrader at ``course`` whatever the config file says."""
    return [f"--CourseDirectory.root={course.root}",
            f"--CourseDirectory.course_id={COURSE_ID}",
            f"--CourseDirectory.source_directory={course.source}",
            f"--CourseDirectory.release_directory={course.build / 'release'}",
            f"--CourseDirectory.submitted_directory={course.submitted}",
            f"--CourseDirectory.autograded_directory={course.autograded}",
            f"--CourseDirectory.feedback_directory={course.feedback}",
            f"--CourseDirectory.db_url={course.db_url}"]


def load_state(course: Course) -> dict:
    path = course.build / STATE_FILE
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return {}
    return {}


def save_state(course: Course, state: dict) -> None:
    path = course.build / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def prepare(course: Course, assignments: list[str], log=print) -> None:
    """Make sure the gradebook knows each assignment as it is now in the source folder.

    Runs nbgrader ``generate_assignment`` (into ``build/.../release``, never into
    the committed ``notebooks/``) for assignments that are new or whose source
    changed since the last time; that stores the test cells, points and
    checksums nbgrader grades against.
    """
    course.build.mkdir(parents=True, exist_ok=True)
    state = load_state(course)
    known = state.setdefault("sources", {})
    for stem in assignments:
        digest = course.source_digest(stem)
        if known.get(stem) == digest and course.db_path.is_file():
            continue
        cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", stem, "--force",
               "--log-level=WARN", *nbgrader_args(course)]
        proc = subprocess.run(cmd, cwd=course.build, capture_output=True, text=True, env=tool_env())
        if proc.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {stem} failed:\n"
                               f"{proc.stdout}\n{proc.stderr}")
        log(f"gradebook: registered {stem} (nbgrader generate_assignment)")
        known[stem] = digest
        save_state(course, state)

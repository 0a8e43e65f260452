"""Where a course's files live, nbgrader's settings, and getting the gradebook ready.

The real course is :func:`Course.default` (``solutions/`` is nbgrader's source
step, grading output under ``build/course/``); tests use small fixture courses in
temporary folders with the same layout.

nbgrader's settings live here and nowhere else: :func:`base_config` is what every
``nbgrader`` command run in the repository reads (``nbgrader_config.py`` loads it),
:func:`grading_config` adds the grading pipeline a worker runs, and
:func:`nbgrader_args` points a subprocess at another course folder.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import notebook_cells as cells
from ..settings import COURSE_ID, REPO, tool_env

STATE_FILE = "grading_state.json"
#: the course gradebook's database when it is not the SQLite file under build/course
#: (any SQLAlchemy URL nbgrader accepts, e.g. postgresql://grader@dbhost/cnn_course)
DB_URL_ENV = "CNN_COURSE_DB_URL"
#: what a student sees in place of a solution
CODE_STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
TEXT_STUB = "YOUR ANSWER HERE"
IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]


@dataclass
class Course:
    root: Path
    source: Path
    build: Path
    #: the gradebook's database URL; None: ``$CNN_COURSE_DB_URL``, else ``build/gradebook.db``
    db: str | None = None

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
        return self.db or os.environ.get(DB_URL_ENV) or f"sqlite:///{self.db_path}"

    def has_assignment(self, stem: str) -> bool:
        """Whether the gradebook knows ``stem`` (without creating a missing database)."""
        url = self.db_url
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
            return False
        from sqlalchemy import create_engine, text
        engine = create_engine(url, future=True)
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT 1 FROM assignment WHERE name = :n"),
                                    {"n": stem}).first() is not None
        except Exception:  # noqa: BLE001 - no tables yet: not registered
            return False
        finally:
            engine.dispose()

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


def base_config(root: Path, *, source="solutions", release="notebooks",
                build: str = os.path.join("build", "course"), db_url: str | None = None):
    """nbgrader's settings for the course at ``root`` (folders, stubs, plain execution)."""
    from traitlets.config import Config
    c = Config()
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = str(source)
    c.CourseDirectory.release_directory = str(release)
    c.CourseDirectory.submitted_directory = os.path.join(build, "submitted")
    c.CourseDirectory.autograded_directory = os.path.join(build, "autograded")
    c.CourseDirectory.feedback_directory = os.path.join(build, "feedback")
    c.CourseDirectory.solution_directory = os.path.join(build, "solution")
    c.CourseDirectory.db_url = db_url or os.environ.get(DB_URL_ENV) or (
        "sqlite:///" + os.path.join(str(root), build, "gradebook.db"))
    c.CourseDirectory.ignore = list(IGNORE)
    c.ClearSolutions.code_stub = dict(CODE_STUB)
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Execute.timeout = 120          # seconds per cell for plain `nbgrader autograde`
    c.ClearOutput.enabled = True     # the release keeps no outputs
    return c


def grading_config(work: Path, source: Path, limits, *, trusted: bool = True):
    """The settings a grading worker runs nbgrader's converters with, in folder ``work``.

    nbgrader's own converters and preprocessors, plus the course's
    (:mod:`grader.trusted.preprocessors`): metadata repair, the tamper scan,
    sandboxed execution with verdicts decided in the worker, hidden tests removed
    from feedback.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                        DeduplicateIds, GetGrades, IgnorePattern, LimitOutput,
                                        OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
    from .preprocessors import (ApplyFindings, FeedbackNotes, HideHiddenTests, RepairMetadata,
                                SandboxedExecute, ScanTampering)
    from .feedback_html import FeedbackHTMLExporter
    from .sandbox import human_bytes
    work = Path(work)
    c = base_config(work, source=str(source), release="release", build=".",
                    db_url=f"sqlite:///{work / 'gradebook.db'}")
    c.CourseDirectory.submitted_directory = "submitted"
    c.CourseDirectory.autograded_directory = "autograded"
    c.CourseDirectory.feedback_directory = "feedback"
    c.Autograde.sanitize_preprocessors = [ClearOutput, RepairMetadata, DeduplicateIds,
                                          OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    c.Autograde.autograde_preprocessors = [ScanTampering, SandboxedExecute, ApplyFindings,
                                           IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                           SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.OverwriteCells.add_missing_cells = True
    c.OverwriteCells.missing_cell_notification = (
        "This test cell (id:{cell_id}) was missing from the submission; the grader put it back.\n\n")
    c.Execute.timeout = int(limits.cell_timeout)
    c.Execute.startup_timeout = 120
    c.SandboxedExecute.notebook_timeout = int(limits.notebook_timeout)
    c.SandboxedExecute.output_bytes = int(limits.output_bytes)
    c.SandboxedExecute.memory_label = human_bytes(int(limits.memory_bytes))
    c.SandboxedExecute.trusted_verdicts = bool(trusted)
    c.SandboxedExecute.source_dir = str(source)
    c.SandboxedExecute.scratch_root = str(work / "kernel")
    c.LimitOutput.max_lines = 300
    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, FeedbackNotes,
                                        CSSHTMLHeaderPreprocessor]
    c.GenerateFeedback.exporter_class = FeedbackHTMLExporter  # templates compiled once per worker
    return c


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


def generate_assignments(stems: list[str], config) -> dict[str, str]:
    """Run nbgrader's ``GenerateAssignment`` converter in this process for each of ``stems``.

    What ``nbgrader generate_assignment STEM --force`` does, without starting Python
    and importing nbgrader again for every assignment. Returns ``{stem: error log}``
    for the ones that failed (empty when all succeeded).
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    # nbgrader runs `alembic` by name when it creates a gradebook
    os.environ["PATH"] = tool_env()["PATH"]
    failed = {}
    for stem in stems:
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = stem
        app = GenerateAssignment(coursedir=coursedir, config=config)
        app.force = True
        res = capture_log(app)
        if not res.get("success"):
            failed[stem] = (res.get("error") or "") + (res.get("log") or "")
    return failed


def course_config(course: Course):
    """:func:`base_config` pointed at ``course``'s folders (what :func:`nbgrader_args` says)."""
    c = base_config(course.root, source=str(course.source), release=str(course.build / "release"),
                    db_url=course.db_url)
    c.CourseDirectory.submitted_directory = str(course.submitted)
    c.CourseDirectory.autograded_directory = str(course.autograded)
    c.CourseDirectory.feedback_directory = str(course.feedback)
    return c


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
    config = course_config(course)
    for stem in assignments:
        digest = course.source_digest(stem)
        if known.get(stem) == digest and course.has_assignment(stem):
            continue
        failed = generate_assignments([stem], config)
        if failed:
            raise RuntimeError(f"nbgrader generate_assignment {stem} failed:\n{failed[stem]}")
        log(f"gradebook: registered {stem} (nbgrader generate_assignment)")
        known[stem] = digest
        save_state(course, state)

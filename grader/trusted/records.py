"""Typed records passed between the grading parent and its workers (as JSON files).

``GradingTask`` goes from :mod:`grader.trusted.autograde` to a worker
(:mod:`grader.trusted.worker`) as ``task.json``; the worker answers with a
``GradingResult`` in ``result.json``. Both round-trip through :func:`to_json` /
``from_json`` so that a missing or renamed field is an error here, not a silent
default somewhere else.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


def _build(cls, data: dict):
    """``cls(**data)`` that refuses unknown fields and names the missing ones."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    return cls(**data)


@dataclass
class GradingTask:
    """One (student, assignment) to grade, in a private folder ``work``."""
    student: str
    assignment: str
    work: str                      # the task's private folder (gradebook copy, submission)
    source: str                    # the course's source folder (solutions/)
    notebooks: list[str]           # notebook names the assignment has
    limits: dict                   # grader.trusted.sandbox.Limits.as_dict()
    jupyter_path: str              # holds the sandboxed kernelspec
    secret_file: str = ""          # the course secret (hidden inputs per student); "" = fixed seeds
    cache_dir: str = ""            # results the grader may reuse (grader.trusted.cache); "" = none
    notes: list[str] = field(default_factory=list)   # intake notes (renamed file, ...)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "GradingTask":
        return _build(cls, json.loads(text))

    @classmethod
    def read(cls, path: Path) -> "GradingTask":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


@dataclass
class GradeRecord:
    """One test cell's points, as nbgrader's gradebook holds them."""
    auto_score: float | None
    max_score: float
    manual_score: float | None = None
    needs_manual_grade: bool = False


@dataclass
class NotebookResult:
    """What grading one notebook gave."""
    graded: bool
    grades: dict[str, GradeRecord] = field(default_factory=dict)
    comments: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)   # grade id -> failure ('' = passed)
    protections: dict = field(default_factory=dict)          # measured inside the kernel
    seconds: float | None = None
    phases: dict[str, float] = field(default_factory=dict)   # kernel_start, imports, cells, verdicts

    @classmethod
    def from_dict(cls, data: dict) -> "NotebookResult":
        nb = _build(cls, data)
        nb.grades = {k: _build(GradeRecord, v) for k, v in nb.grades.items()}
        return nb


@dataclass
class GradingResult:
    """A worker's answer for one task."""
    student: str | None
    assignment: str | None
    status: str = "graded"                 # graded | error
    notebooks: dict[str, NotebookResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timestamp: str | None = None
    traceback: str = ""
    phases: dict[str, float] = field(default_factory=dict)   # autograde, feedback, gradebook (s)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "GradingResult":
        result = _build(cls, json.loads(text))
        result.notebooks = {k: NotebookResult.from_dict(v) for k, v in result.notebooks.items()}
        return result

    @classmethod
    def failed(cls, student: str | None, assignment: str | None, why: str,
               notes: list[str] | None = None) -> "GradingResult":
        return cls(student, assignment, status="error", notes=list(notes or []) + [why])

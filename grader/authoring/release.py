"""Make the student release from ``solutions/`` and check that it is right.

``release``   runs nbgrader's ``generate_assignment`` for each assignment, writing
              ``notebooks/<stem>/`` (no solutions, no hidden tests, no outputs).
``check``     regenerates the release in a temporary folder and fails when
              ``notebooks/`` differs from it, or when any solution line or hidden
              test appears in ``notebooks/``.
``solutions`` re-executes solution notebooks in place, so their saved outputs
              (what self-learners read) always come from the current code.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat

from .. import notebook_cells as cells
from ..settings import RELEASE, REPO, SOLUTIONS
from .execute import execute, errors

LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "grader.references")


class ReleaseError(RuntimeError):
    """The release could not be made, or is out of sync; the message says how to fix it."""




def _stems(stems, solutions: Path = SOLUTIONS) -> list[str]:
    known = cells.assignments(solutions)
    if not stems:
        return known
    unknown = [s for s in stems if s not in known]
    if unknown:
        raise ReleaseError(f"unknown assignment(s) {unknown}; known: {known}")
    return list(stems)


def generate(stem: str, release_dir: Path | None = None, db_dir: Path | None = None,
             solutions: Path = SOLUTIONS) -> Path:
    """Run nbgrader's ``generate_assignment`` for one assignment; return the release folder.

    With ``release_dir``/``db_dir`` the output and gradebook go to those folders
    instead of ``notebooks/`` and ``build/course/`` (used by :func:`check`);
    ``solutions`` names another source folder (used by tests). nbgrader's converter
    runs in this process (:func:`grader.trusted.course.generate_assignments`).
    """
    from ..trusted.course import base_config, generate_assignments
    config = base_config(REPO, source=str(Path(solutions).resolve()),
                         release=str(release_dir or RELEASE),
                         db_url=f"sqlite:///{db_dir / 'gradebook.db'}" if db_dir else None)
    failed = generate_assignments([stem], config)
    if failed:
        raise ReleaseError(f"nbgrader generate_assignment {stem} failed:\n{failed[stem]}")
    return (release_dir or RELEASE) / stem


def release(stems=None) -> list[Path]:
    """Regenerate ``notebooks/<stem>/`` for the given (default: all) assignments."""
    out = []
    for stem in _stems(stems):
        out.append(generate(stem))
        print(f"released {stem} -> {(RELEASE / stem).relative_to(REPO)}")
    return out


def _comparable(nb) -> dict:
    return {"metadata": dict(nb.metadata),
            "cells": [{"cell_type": c.cell_type, "source": c.source,
                       "metadata": dict(c.metadata), "outputs": c.get("outputs", [])}
                      for c in nb.cells]}


def leaks(stem: str, release_dir: Path = RELEASE, solutions: Path = SOLUTIONS) -> list[str]:
    """Solution lines and hidden-test lines of ``solutions/`` found in the release."""
    problems = []
    src = cells.read(solutions / stem / f"{stem}.ipynb")
    rel_path = release_dir / stem / f"{stem}.ipynb"
    rel = cells.read(rel_path)
    rel_text = rel_path.read_text(encoding="utf-8")
    for marker in LEAK_MARKERS:
        if marker in rel_text:
            problems.append(f"{rel_path.name}: contains '{marker}'")
    rel_by_id = {cells.nbgrader_meta(c).get("grade_id"): c for c in rel.cells}
    for cell in src.cells:
        meta = cells.nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not gid:
            continue
        secret = _secret_lines(cell.source)
        released = rel_by_id.get(gid)
        if released is None:
            continue
        shown = {line.strip() for line in released.source.splitlines()}
        for line in secret:
            if line in shown:
                problems.append(f"{rel_path.name}, cell {gid}: leaks `{line}`")
    return problems


def _secret_lines(source: str) -> list[str]:
    """Lines between solution or hidden-test markers that are worth checking for leaks."""
    secret, inside = [], False
    for raw in source.splitlines():
        line = raw.strip()
        if line in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            inside = True
            continue
        if line in ("### END SOLUTION", "### END HIDDEN TESTS"):
            inside = False
            continue
        if inside and len(line) >= 8 and not line.startswith("#") and line not in (
                "return out", "pass", "return result"):
            secret.append(line)
    return secret


def check(stems=None, solutions: Path = SOLUTIONS, release_dir: Path = RELEASE) -> list[str]:
    """Problems with ``notebooks/`` (empty when it is in sync and leaks nothing)."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="cnn-release-") as tmp:
        tmp = Path(tmp)
        for stem in _stems(stems, solutions):
            mine = release_dir / stem / f"{stem}.ipynb"
            if not mine.is_file():
                problems.append(f"{stem}: {mine} is missing; "
                                f"run `python -m grader release {stem}`")
                continue
            generate(stem, release_dir=tmp / "release", db_dir=tmp, solutions=solutions)
            fresh = cells.read(tmp / "release" / stem / f"{stem}.ipynb")
            try:
                shipped = cells.read(mine)
            except Exception as err:  # noqa: BLE001 - a broken file is a finding
                problems.append(f"{stem}: {mine.name} is not a readable notebook ({err})")
                continue
            if _comparable(fresh) != _comparable(shipped):
                problems.append(f"{stem}: notebooks/ is out of sync with solutions/; "
                                f"run `python -m grader release {stem}` and commit")
            extra = sorted(p.name for p in (release_dir / stem).iterdir())
            expected = sorted(p.name for p in (tmp / "release" / stem).iterdir())
            if extra != expected:
                problems.append(f"{stem}: release files {extra} differ from the "
                                f"generated {expected}")
            problems += leaks(stem, release_dir, solutions)
        stray = sorted(p.name for p in release_dir.iterdir()
                       if p.is_dir() and p.name not in cells.assignments(solutions))
        if stray and not stems:
            problems.append(f"notebooks/ has folders with no source in solutions/: {stray}")
    return problems


def _tidy_metadata(nb) -> None:
    """Drop volatile metadata (interpreter versions, widget state) so diffs stay clean."""
    nb.metadata["language_info"] = {"name": "python"}
    # Saved widget state has new random model ids on every run, and nbgrader would copy
    # it into the release; widget outputs keep their static picture and text without it.
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def run_solutions(stems=None, save: bool = True, timeout: int = 900) -> None:
    """Execute each solution notebook in a fresh kernel and save it with its outputs."""
    for stem in _stems(stems):
        path = SOLUTIONS / stem / f"{stem}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        execute(nb, path.parent, timeout=timeout)
        bad = errors(nb)
        if bad:
            raise ReleaseError(f"{stem}: cells raised errors: {bad}")
        _tidy_metadata(nb)
        if save:
            nbformat.write(nb, str(path))
        print(f"executed {stem}" + (" (saved with outputs)" if save else ""))

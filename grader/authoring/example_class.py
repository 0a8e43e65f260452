"""The example class: submissions of made-up students, built from the course itself.

``data/example_class/typical_mistakes/<stem>.py`` holds, per notebook, the answer
cells of a student who makes typical mistakes, as sections::

    # %% grade_id: conv2d_valid
    def conv2d_valid(image, kernel):
        ...  # the whole replacement code of that answer cell

Answer cells without a section get the correct solution. :func:`build` writes,
in nbgrader's layout ``<dest>/<student>/<assignment>/<notebook>.ipynb``:

==================  ==========================================================
``perfect``         solution code in every answer cell (expects full marks)
``typical_mistakes`` the sections above, solutions elsewhere (partial marks)
``empty``           the release as it is (expects 0)
``broken_json``     a notebook cut off half-way, not valid JSON (0, with the reason)
``Zoë Ng``          the perfect answers saved as ``<notebook> (1).ipynb``, as a
                    browser names a second download (a unicode id with a space)
==================  ==========================================================

The student notebooks start from the release made by nbgrader for grading
(``build/course/release``), so they carry the metadata and checksums nbgrader expects.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from .. import notebook_cells as cells
from ..settings import REPO
from ..trusted.course import Course, prepare

DATA = REPO / "data" / "example_class"
MISTAKES = DATA / "typical_mistakes"
SECTION = re.compile(r"^# %% grade_id:\s*(\S+)\s*$", re.M)

STUDENTS = {
    "perfect": "solution code in every answer cell",
    "typical_mistakes": "typical mistakes from data/example_class/typical_mistakes/",
    "empty": "the release, unchanged",
    "broken_json": "a notebook cut off half-way (not valid JSON)",
    "Zoë Ng": "perfect answers, files named '<notebook> (1).ipynb'",
}


def parse_mistakes(path: Path) -> dict[str, str]:
    """``{answer grade_id: replacement code}`` from a typical-mistakes file."""
    if not Path(path).is_file():
        return {}
    text = Path(path).read_text(encoding="utf-8")
    parts = SECTION.split(text)
    out = {}
    for i in range(1, len(parts) - 1, 2):
        out[parts[i]] = parts[i + 1].strip("\n") + "\n"
    return out


def solutions_by_id(solution_nb) -> dict[str, str]:
    return {cells.nbgrader_meta(c)["grade_id"]: cells.strip_solution_markers(c.source)
            for c in cells.iter_cells(solution_nb, "answer")}


def fill(release_nb, answers: dict[str, str]):
    """A copy of the release notebook with answer cells replaced by ``answers`` (by grade id)."""
    nb = nbformat.from_dict(release_nb)
    for cell in cells.iter_cells(nb, "answer"):
        gid = cells.nbgrader_meta(cell)["grade_id"]
        if gid in answers:
            cell.source = answers[gid].rstrip("\n")
    return nb


def student_notebooks(course: Course, stem: str, name: str, mistakes_dir: Path = MISTAKES):
    """``{kind: notebook}`` for one notebook of the assignment ``stem``."""
    release = cells.read(course.build / "release" / stem / f"{name}.ipynb")
    solution = cells.read(course.source / stem / f"{name}.ipynb")
    right = solutions_by_id(solution)
    wrong = parse_mistakes(mistakes_dir / f"{name}.py")
    notes = []
    unknown = sorted(set(wrong) - set(right))
    if unknown:
        notes.append(f"{name}: typical_mistakes sections for unknown answer cells {unknown}")
    if not wrong:
        first = next(iter(right), None)
        notes.append(f"{name}: no {mistakes_dir.name}/{name}.py; the typical-mistakes student "
                     f"leaves '{first}' unwritten")
        wrong = {first: next(c.source for c in cells.iter_cells(release, "answer")
                             if cells.nbgrader_meta(c)["grade_id"] == first)} if first else {}
    return {"perfect": fill(release, right),
            "typical_mistakes": fill(release, {**right, **wrong}),
            "empty": fill(release, {})}, notes


def build(dest: Path, course: Course | None = None, assignments=None,
          mistakes_dir: Path = MISTAKES, log=print, kinds=None) -> list[str]:
    """Write the example class into ``dest`` (nbgrader layout); return notes.

    ``kinds`` picks students (default: all of :data:`STUDENTS`)."""
    kinds = set(kinds or STUDENTS)
    course = course or Course.default()
    stems = assignments or course.assignments()
    prepare(course, stems, log=log)
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    notes = []
    for stem in stems:
        for name in course.notebooks(stem):
            made, more = student_notebooks(course, stem, name, mistakes_dir)
            notes += more
            for kind, nb in made.items():
                if kind not in kinds:
                    continue
                folder = dest / kind / stem
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(folder / f"{name}.ipynb"))
            if "Zoë Ng" in kinds:
                folder = dest / "Zoë Ng" / stem
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(made["perfect"], str(folder / f"{name} (1).ipynb"))
            if "broken_json" in kinds:
                text = nbformat.writes(made["perfect"])
                folder = dest / "broken_json" / stem
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{name}.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    return notes

"""Find the submissions in what an instructor has: a folder, a zip, or nbgrader's layout.

Accepted inputs (a folder, or a ``.zip`` of one):

* nbgrader's layout ``[submitted/]<student>/<assignment>/<notebook>.ipynb`` (an
  optional ``timestamp.txt`` beside the notebooks is kept);
* a folder per student ``<student>/<notebook>.ipynb``;
* a flat folder as a learning-management system exports it, where the file
  name carries the student and the notebook, for example

  - ``<student>__<notebook>.ipynb`` or ``<student>_<notebook>.ipynb`` (generic),
  - Canvas: ``<login>[_late]_<userid>_<submissionid>_<notebook>[-1].ipynb``,
  - Moodle: ``<Full Name>_<id>_assignsubmission_file_<notebook>.ipynb``,
  - Blackboard: ``<assignment>_<student>_attempt_<date>_<notebook>.ipynb``,
  - Brightspace: ``<id> - <Full Name> - <date> - <notebook>.ipynb``.

The notebook is recognised by its name anywhere in the file name (longest match
wins; copies such as ``name (1).ipynb`` or ``name-2.ipynb`` count). The student
id is what remains once the notebook name and the LMS's own fields are removed.
Files that match no notebook, notebooks that name no student, and other files
are *reported* (``Intake.unmatched``), never silently dropped; a student with
two files for one notebook keeps the newest and the other is reported.

:func:`stage` then writes nbgrader's layout under ``build/.../submitted`` with
notebooks only, upgrading old nbformat versions and leaving unreadable files
in place for the grader to report (invalid JSON, empty file).
"""
from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|[-_ ]\d{1,2}|[-_ ]copy\d*|[-_ ]late)$", re.I)
CANVAS = re.compile(r"^(?P<student>.+?)_(?:late_)?\d+_\d+_?$")
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$")
BLACKBOARD = re.compile(r"^.*?_(?P<student>[^_]+)_attempt_[\d-]+_?$")
BRIGHTSPACE = re.compile(r"^\d+-\d+\s*-\s*(?P<student>.+?)\s*-\s*.+?\s*-\s*$")


@dataclass
class Submission:
    student: str
    assignment: str
    files: dict[str, Path] = field(default_factory=dict)  # notebook name -> file
    timestamp: Path | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Intake:
    submissions: dict[tuple[str, str], Submission] = field(default_factory=dict)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    tmpdir: tempfile.TemporaryDirectory | None = None

    def students(self) -> list[str]:
        return sorted({s for s, _ in self.submissions})

    def add(self, student: str, assignment: str, notebook: str, path: Path, origin: str) -> None:
        sub = self.submissions.setdefault((student, assignment), Submission(student, assignment))
        if notebook in sub.files:
            old = sub.files[notebook]
            keep, drop = (path, old) if path.stat().st_mtime >= old.stat().st_mtime else (old, path)
            sub.files[notebook] = keep
            self.unmatched.append((str(drop), f"second file for {student} / {notebook}; "
                                              f"kept {keep.name}"))
        else:
            sub.files[notebook] = path
        if origin:
            sub.notes.append(origin)

    def close(self) -> None:
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def clean_id(raw: str) -> str:
    """A student id safe as an nbgrader id and a folder name (unicode and spaces kept)."""
    text = unicodedata.normalize("NFC", raw).strip(" _-.\t")
    text = re.sub(r"[\x00-\x1f/\\*?\[\]:\"<>|]+", "_", text)
    text = re.sub(r"\s+", " ", text)
    return text[:100]


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKD", text).lower())


class Matcher:
    """Map file names to (assignment, notebook) of the course."""

    def __init__(self, notebooks: dict[str, list[str]]):
        self.by_name = {}  # notebook name -> assignment
        for assignment, names in notebooks.items():
            for name in names:
                self.by_name[name] = assignment
        self.assignments = set(notebooks)
        self.order = sorted(self.by_name, key=len, reverse=True)

    def notebook_in(self, stem: str) -> tuple[str, int, int] | None:
        """(notebook, start, end) of the longest notebook name inside ``stem``."""
        low = stem.lower()
        for name in self.order:
            i = low.rfind(name.lower())
            if i >= 0:
                return name, i, i + len(name)
        squashed = _norm(stem)
        for name in self.order:
            if _norm(name) and squashed.endswith(_norm(name)):
                return name, -1, -1
        return None


def student_from(prefix: str) -> str:
    """The student id in what precedes the notebook name of an LMS file name."""
    prefix = prefix.rstrip()
    for pattern in (MOODLE, CANVAS, BLACKBOARD, BRIGHTSPACE):
        m = pattern.match(prefix)
        if m:
            return clean_id(m.group("student"))
    return clean_id(prefix.rstrip("_- ").replace("__", " ").strip())


def collect(source: Path, notebooks: dict[str, list[str]]) -> Intake:
    """Find every submission under ``source`` (a folder or a zip file)."""
    source = Path(source)
    intake = Intake()
    if source.is_file() and zipfile.is_zipfile(source):
        intake.tmpdir = tempfile.TemporaryDirectory(prefix="cnn-intake-")
        root = Path(intake.tmpdir.name)
        _safe_extract(source, root, intake)
        source = root
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a folder or a zip file of submissions")
    matcher = Matcher(notebooks)
    if source.name != "submitted" and (source / "submitted").is_dir():
        source = source / "submitted"
    for path in sorted(source.rglob("*")):
        if not path.is_file() or _ignored(path, source):
            continue
        rel = path.relative_to(source)
        _place(intake, matcher, path, rel)
    return intake


def _ignored(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p in ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
               for p in parts)


def _place(intake: Intake, matcher: Matcher, path: Path, rel: Path) -> None:
    parts = rel.parts
    if path.name == "timestamp.txt":
        if len(parts) >= 3 and parts[1] in matcher.assignments:
            key = (clean_id(parts[0]), parts[1])
            sub = intake.submissions.setdefault(key, Submission(*key))
            sub.timestamp = path
        else:
            intake.unmatched.append((str(rel), "timestamp.txt outside <student>/<assignment>/; ignored"))
        return
    if path.suffix.lower() != ".ipynb":
        intake.unmatched.append((str(rel), "not a notebook (.ipynb); not graded"))
        return
    stem = path.stem
    found = matcher.notebook_in(stem)
    folder_student = clean_id(parts[0]) if len(parts) >= 2 else ""
    if found is None:
        who = f" of {folder_student}" if folder_student else ""
        if folder_student and len(parts) >= 3 and parts[1] in matcher.assignments:
            # the student handed in this assignment, just not its notebook: grade it (0)
            intake.submissions.setdefault((folder_student, parts[1]),
                                          Submission(folder_student, parts[1]))
        intake.unmatched.append((str(rel), f"extra notebook{who}: its name matches no notebook "
                                           "of the course; not graded"))
        return
    name, start, end = found
    assignment = matcher.by_name[name]
    origin = ""
    if start >= 0:
        prefix, suffix = stem[:start], stem[end:]
    else:
        prefix, suffix = "", ""
    if suffix and not COPY_SUFFIX.fullmatch(suffix.strip()) and not re.fullmatch(r"[-_ ]*", suffix):
        intake.unmatched.append((str(rel), f"file name looks like '{name}' with extra text "
                                           f"'{suffix}'; not graded"))
        return
    if suffix.strip(" -_"):
        origin = f"graded {rel.name} as {name}.ipynb"
    if folder_student:
        student = folder_student
        if len(parts) >= 3 and parts[1] not in matcher.assignments:
            origin = origin or f"found {rel} outside an assignment folder"
        if prefix.strip(" _-"):
            origin = origin or f"graded {rel.name} as {name}.ipynb"
    else:
        student = student_from(prefix)
        if not student:
            intake.unmatched.append((str(rel), f"notebook '{name}' but no student id in the "
                                               "file name; not graded"))
            return
    intake.add(student, assignment, name, path, origin)


def _safe_extract(archive: Path, dest: Path, intake: Intake) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = info.filename
            target = (dest / name).resolve()
            if not str(target).startswith(str(dest.resolve()) + "/") or info.is_dir():
                if not info.is_dir():
                    intake.unmatched.append((name, "unsafe path in the zip file; skipped"))
                continue
            if info.file_size > 200 * 1024 ** 2:
                intake.unmatched.append((name, "larger than 200 MB; skipped"))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def stage(intake: Intake, submitted: Path, assignments: list[str] | None = None) -> list[Submission]:
    """Write each submission into nbgrader's layout under ``submitted``; return them.

    Notebooks are copied byte for byte, except that readable notebooks in an old
    nbformat are upgraded to version 4 (noted). Folders of students who are no
    longer in the intake are left alone.
    """
    staged = []
    for (student, assignment), sub in sorted(intake.submissions.items()):
        if assignments and assignment not in assignments:
            continue
        folder = submitted / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, path in sorted(sub.files.items()):
            data = path.read_bytes()
            dest = folder / f"{name}.ipynb"
            try:
                nb = nbformat.reads(data.decode("utf-8"), as_version=nbformat.NO_CONVERT)
                major = int(nb.get("nbformat", 4))
            except Exception:  # noqa: BLE001 - invalid files are graded 0 later, with the reason
                major = 4
            if major < 4:
                upgraded = nbformat.convert(nb, 4)
                for i, cell in enumerate(upgraded.cells):  # stable ids: same file, same result
                    cell["id"] = f"cell-{i}"
                nbformat.write(upgraded, str(dest))
                sub.notes.append(f"{name}.ipynb was in nbformat {major}; upgraded to 4 for grading")
            else:
                dest.write_bytes(data)
        if sub.timestamp is not None:
            shutil.copy(sub.timestamp, folder / "timestamp.txt")
        staged.append(sub)
    return staged

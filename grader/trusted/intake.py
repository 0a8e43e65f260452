"""Find the submissions in what an instructor has: a folder, a zip, or nbgrader's layout.

Accepted inputs (a folder, or a ``.zip`` of one):

* nbgrader's layout ``[submitted/]<student>/<assignment>/<notebook>.ipynb`` (an
  optional ``timestamp.txt`` beside the notebooks is kept);
* a folder per student ``<student>/<notebook>.ipynb``;
* a flat folder as a learning-management system exports it, where the file
  name carries the student and the notebook, either at the top of the input or
  in a folder of any name (``HW1/alice_02_padding.ipynb``,
  ``HW1/bob_02_padding.ipynb``: see :func:`flat_folders`), for example

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
two files for one notebook keeps the newest (by the zip's own timestamps inside
a zip, by modification time in a folder) and the other is reported, with both
dates in the note. A student folder that holds no notebook of the course still
gives the student a submission (graded 0, with the reason), so that the student
has a row in the grades export.

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
from datetime import datetime
from pathlib import Path

import nbformat

COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|[-_ ]\d{1,2}|[-_ ]copy\d*|[-_ ]late)$", re.I)
CANVAS = re.compile(r"^(?P<student>.+?)_(?:late_)?\d+_\d+_?$")
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_?$")
BLACKBOARD = re.compile(r"^.*?_(?P<student>[^_]+)_attempt_[\d-]+_?$")
BRIGHTSPACE = re.compile(r"^\d+-\d+\s*-\s*(?P<student>.+?)\s*-\s*.+?\s*-\s*$")
LMS_PATTERNS = (MOODLE, CANVAS, BLACKBOARD, BRIGHTSPACE)


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
    #: extracted file -> (its date in the zip, its position in the zip's listing)
    archive_times: dict[Path, tuple[datetime, int]] = field(default_factory=dict)

    def students(self) -> list[str]:
        return sorted({s for s, _ in self.submissions})

    def dated(self, path: Path) -> tuple[datetime, int, str]:
        """(when, order, where the date comes from) of a file, to keep the newest."""
        rec = self.archive_times.get(Path(path).resolve())
        if rec is not None:
            return rec[0], rec[1], "in the zip"
        return datetime.fromtimestamp(Path(path).stat().st_mtime), 0, "last modified"

    def add(self, student: str, assignment: str, notebook: str, path: Path, origin: str) -> None:
        sub = self.submissions.setdefault((student, assignment), Submission(student, assignment))
        if notebook in sub.files:
            old = sub.files[notebook]
            keep, reason = self._newest(old, path)
            drop = old if keep is path else path
            sub.files[notebook] = keep
            self.unmatched.append((str(drop), f"second file for {student} / {notebook}; {reason}"))
            sub.notes.append(f"two files for {notebook}.ipynb: {reason}")
        else:
            sub.files[notebook] = path
        if origin:
            sub.notes.append(origin)

    def _newest(self, old: Path, new: Path) -> tuple[Path, str]:
        """The file to keep of two for one notebook, and a sentence that says which and why."""
        (t_old, i_old, where), (t_new, i_new, _) = self.dated(old), self.dated(new)
        if t_old != t_new:
            keep, drop = (new, old) if t_new > t_old else (old, new)
            t_keep, t_drop = max(t_old, t_new), min(t_old, t_new)
            return keep, (f"kept {keep.name} (dated {_when(t_keep)} {where}), newer than "
                          f"{drop.name} (dated {_when(t_drop)})")
        if where == "in the zip":
            keep, drop = (new, old) if i_new > i_old else (old, new)
            rule = "the one listed later in the zip"
        else:
            keep, drop = (new, old) if str(new) > str(old) else (old, new)
            rule = "the one whose name sorts last"
        return keep, (f"kept {keep.name}: it and {drop.name} are both dated {_when(t_old)} "
                      f"{where}, so the grader kept {rule}")

    def close(self) -> None:
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


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
    for pattern in LMS_PATTERNS:
        m = pattern.match(prefix)
        if m:
            return clean_id(m.group("student"))
    return clean_id(prefix.rstrip("_- ").replace("__", " ").strip())


def _split(matcher: Matcher, stem: str) -> tuple[str, str, str] | None:
    """(notebook, text before it, text after it) of a file name's stem, or None."""
    found = matcher.notebook_in(stem)
    if found is None:
        return None
    name, start, end = found
    if start < 0:
        return name, "", ""
    return name, stem[:start], stem[end:]


def _extra_text(suffix: str) -> bool:
    """Whether what follows the notebook name is more than a copy mark (``(1)``, ``-2``)."""
    return bool(suffix) and not COPY_SUFFIX.fullmatch(suffix.strip()) \
        and not re.fullmatch(r"[-_ ]*", suffix)


def flat_folders(matcher: Matcher, rels: list[Path]) -> set[Path]:
    """The folders (relative paths) whose notebooks are read as a flat LMS export.

    A folder is a flat export, whatever its name, when the names of the course
    notebooks in it carry the student: two or more different students, or one
    student in an LMS's own format (Canvas, Moodle, Blackboard, Brightspace), or
    one student in a top folder named after an assignment (``02_padding/bob_02_padding.ipynb``).
    It is a student's folder instead when one of those students has the folder's
    name (``alice/alice_02_padding.ipynb``), and nbgrader's ``<student>/<assignment>/``
    is always a student's folder. Beside other students' folders (``alice/02_padding.ipynb``),
    a top folder with generic names (``bob/old_02_padding.ipynb``, ``bob/new_02_padding.ipynb``)
    is one more student's folder. One generic name in a folder of another name
    (``HW1/bob_02_padding.ipynb`` alone) stays the folder's student, with a note.
    """
    by_folder: dict[Path, list[Path]] = {}
    for rel in rels:
        if rel.suffix.lower() == ".ipynb" and rel.parent != Path("."):
            by_folder.setdefault(rel.parent, []).append(rel)
    flat, generic, student_folders = set(), set(), set()
    for folder, files in by_folder.items():
        parts = folder.parts
        students, lms = set(), False
        for rel in files:
            split = _split(matcher, rel.stem)
            if split is None or _extra_text(split[2]):
                continue
            student = student_from(split[1])
            students.add(student.casefold())
            lms = lms or any(p.match(split[1].rstrip()) for p in LMS_PATTERNS)
        own_name = clean_id(parts[0]).casefold()
        if "" in students or own_name in students:
            student_folders.add(parts[0])
        if len(parts) == 2 and parts[1] in matcher.assignments:
            continue
        students.discard("")
        if not students or clean_id(folder.name).casefold() in students:
            continue
        if lms or (len(parts) == 1 and folder.name in matcher.assignments):
            flat.add(folder)
        elif len(students) >= 2:
            generic.add(folder)
    return flat | {f for f in generic if len(f.parts) > 1 or not student_folders - {f.parts[0]}}


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
    files = [p for p in sorted(source.rglob("*")) if p.is_file() and not _ignored(p, source)]
    flat = flat_folders(matcher, [p.relative_to(source) for p in files])
    for path in files:
        _place(intake, matcher, path, path.relative_to(source), flat)
    _add_students_without_notebooks(intake, source, files, flat, matcher)
    return intake


def _add_students_without_notebooks(intake: Intake, source: Path, files: list[Path],
                                    flat: set[Path], matcher: Matcher) -> None:
    """A student folder with no notebook to grade: a submission that scores 0, and why.

    Without it the student would have no row in the grades export. The assignment
    is the folder's ``<assignment>/`` when it has one, else each assignment that
    the other students handed in (every assignment when there are none).
    """
    handed_in = sorted({a for _, a in intake.submissions}) or sorted(matcher.assignments)
    students = {s for s, _ in intake.submissions}
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not _ignored(p, source)):
        student = clean_id(folder.name)
        rel = Path(folder.name)
        if not student or any(f == rel or rel in f.parents for f in flat):
            continue
        own = sorted(p for p in folder.iterdir() if p.is_dir() and p.name in matcher.assignments)
        if own:
            todo = [(a.name, a) for a in own if (student, a.name) not in intake.submissions]
        elif student not in students:
            todo = [(a, folder) for a in handed_in]
        else:
            continue
        for assignment, where in todo:
            inside = [str(p.relative_to(where)) for p in files if where in p.parents]
            listing = ", ".join(inside[:5]) + (", ..." if len(inside) > 5 else "")
            what = f"holds only {listing}" if inside else "is empty"
            sub = intake.submissions.setdefault((student, assignment),
                                                Submission(student, assignment))
            sub.notes.append(f"the folder {where.relative_to(source)}/ {what}: no notebook of "
                             f"{assignment} to grade, so its tests score 0")


def _ignored(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p in ("__MACOSX", "__pycache__", ".ipynb_checkpoints")
               for p in parts)


def _place(intake: Intake, matcher: Matcher, path: Path, rel: Path, flat: set[Path]) -> None:
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
    split = _split(matcher, path.stem)
    folder_student = clean_id(parts[0]) if len(parts) >= 2 and rel.parent not in flat else ""
    if split is None:
        who = f" of {folder_student}" if folder_student else ""
        if folder_student and len(parts) >= 3 and parts[1] in matcher.assignments:
            # the student handed in this assignment, just not its notebook: grade it (0)
            intake.submissions.setdefault((folder_student, parts[1]),
                                          Submission(folder_student, parts[1]))
        intake.unmatched.append((str(rel), f"extra notebook{who}: its name matches no notebook "
                                           "of the course; not graded"))
        return
    name, prefix, suffix = split
    assignment = matcher.by_name[name]
    origin = ""
    if _extra_text(suffix):
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
            origin = origin or (f"graded {rel} as {name}.ipynb of {student} (the folder's "
                                "name taken as the student)")
    else:
        student = student_from(prefix)
        if not student:
            intake.unmatched.append((str(rel), f"notebook '{name}' but no student id in the "
                                               "file name; not graded"))
            return
    intake.add(student, assignment, name, path, origin)


def _safe_extract(archive: Path, dest: Path, intake: Intake) -> None:
    """Extract ``archive`` into ``dest``, remembering each file's date in the zip."""
    with zipfile.ZipFile(archive) as zf:
        for order, info in enumerate(zf.infolist()):
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
            try:
                when = datetime(*info.date_time)
            except ValueError:  # a zip with no valid date (all zeros)
                when = datetime(1980, 1, 1)
            intake.archive_times[target] = (when, order)


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

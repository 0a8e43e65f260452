"""Grade one student's assignment in a private copy of the course (a worker process).

:mod:`grader.trusted.autograde` keeps one long-lived
``python -m grader.trusted.worker --serve`` per parallel slot and sends it task files,
one per (student, assignment) (``python -m grader.trusted.worker TASK.json`` grades a
single one). A task's folder holds a small gradebook of its own (the assignments only,
as ``generate_assignment`` registered them) and the student's submitted notebooks. The worker runs
nbgrader's own ``Autograde`` and ``GenerateFeedback`` converters (what
``nbgrader autograde`` and ``nbgrader generate_feedback`` run) with the settings of
:func:`grader.trusted.course.grading_config`, and writes ``result.json``
(a :class:`grader.trusted.records.GradingResult`): every test's score, the grading
notes, the protections each kernel measured. Nothing outside its folder is written,
so workers run in parallel without sharing (or locking) a sqlite file; the parent
merges the results into the course gradebook one at a time.

The course secret is read here and handed to the verdict runner in memory
(:func:`grader.trusted.preprocessors.set_grading_secret`); it is never written into
the task folder, the environment or the kernel's reach.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import nbformat

from nbgrader.api import Gradebook, MissingEntry

from ..settings import COURSE_ID, tool_env
from .records import GradeRecord, GradingResult, GradingTask, NotebookResult


def _readable(path: Path) -> str | None:
    """None when ``path`` is a notebook nbgrader can read, else why not."""
    data = path.read_bytes()
    if not data.strip():
        return f"{path.name} is an empty file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"{path.name} is not UTF-8 text ({err.reason} at byte {err.start})"
    try:
        json.loads(text)
    except ValueError as err:
        return f"{path.name} is not valid JSON: {err}"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # noqa: BLE001
        return f"{path.name} is not a notebook nbformat can read: {str(err).splitlines()[0][:200]}"
    if not isinstance(nb.get("cells"), list):
        return f"{path.name} has no list of cells"
    return None


def _last_error(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line or "Exception" in line:
            return line[-300:]
    return lines[-1][-300:] if lines else "no output"


def _add_task_notes(folder: Path, names: list[str], notes: list[str]) -> None:
    """Copy the intake's notes (renamed file, upgraded format) into the graded notebooks."""
    if not notes:
        return
    for name in names:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            continue
        mine = [n for n in notes if name in n] or notes
        nb = nbformat.read(str(path), as_version=4)
        have = nb.metadata.setdefault("cnn_grading", {}).setdefault("notes", [])
        nb.metadata["cnn_grading"]["notes"] = mine + [n for n in have if n not in mine]
        os.chmod(path, 0o644)
        nbformat.write(nb, str(path))
        os.chmod(path, 0o444)


def _run_app(name: str, config, assignment: str, student: str) -> dict:
    """Run nbgrader's ``Autograde`` or ``GenerateFeedback`` converter in this process."""
    from nbgrader import converters
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    app = getattr(converters, name)(coursedir=coursedir, config=config)
    app.force = True
    return capture_log(app)


_FORK_SERVER: dict = {}


def _warm_kernels(task: GradingTask) -> None:
    """Keep one fork server per worker process (restarted if it died); see sandbox.start_fork_server."""
    from .sandbox import Limits, start_fork_server
    proc = _FORK_SERVER.get("proc")
    if proc is not None and proc.poll() is None and _FORK_SERVER.get("root") == task.jupyter_path:
        return
    if proc is not None and proc.poll() is None:
        proc.kill()
    path, proc = start_fork_server(Path(task.jupyter_path), Limits.from_dict(task.limits),
                                   work_root=Path(task.work).parent)
    _FORK_SERVER.update(proc=proc, root=task.jupyter_path)
    if path:
        os.environ["CNN_FORKSERVER_SOCKET"] = path
    else:
        os.environ.pop("CNN_FORKSERVER_SOCKET", None)


def grade(task: GradingTask) -> GradingResult:
    from . import preprocessors, secret
    from .course import grading_config
    from .sandbox import Limits
    work = Path(task.work)
    student, assignment = task.student, task.assignment
    sub_dir = work / "submitted" / student / assignment
    notes: list[str] = list(task.notes)
    result = GradingResult(student, assignment, notes=notes)
    # the sandboxed kernelspec is found through JUPYTER_PATH; kernels inherit this environment
    os.environ["PATH"] = tool_env()["PATH"]
    os.environ["JUPYTER_PATH"] = task.jupyter_path
    os.environ["CNN_COURSE_GRADING"] = "1"
    # Figures are drawn only when the feedback should show them: rasterising every
    # figure of a notebook costs more than running the student's code in most notebooks
    os.environ["MPLBACKEND"] = ("module://matplotlib_inline.backend_inline"
                                if Limits.from_dict(task.limits).figures else "agg")
    os.chdir(work)
    if Limits.from_dict(task.limits).warm_kernels:
        _warm_kernels(task)
    else:  # cold starts: never a server this worker did not start
        os.environ.pop("CNN_FORKSERVER_SOCKET", None)
    preprocessors.set_grading_secret(secret.load(Path(task.secret_file))
                                     if task.secret_file else None)
    if task.cache_dir:
        from utils.checks import keras_mnist

        from .cache import DiskCache
        keras_mnist.set_training_cache(DiskCache(Path(task.cache_dir) / "training"))

    readable = []
    for name in task.notebooks:
        path = sub_dir / f"{name}.ipynb"
        if not path.is_file():
            notes.append(f"{name}.ipynb was not submitted: its tests score 0")
            continue
        why = _readable(path)
        if why:
            notes.append(f"{why}; its tests score 0")
            path.rename(path.with_suffix(".ipynb.unreadable"))
            continue
        readable.append(name)

    if readable:
        config = grading_config(work, Path(task.source), Limits.from_dict(task.limits))
        t0 = time.monotonic()
        res = _run_app("Autograde", config, assignment, student)
        result.phases["autograde"] = round(time.monotonic() - t0, 3)
        if not res.get("success"):
            notes.append("nbgrader could not grade this submission: "
                         + _last_error(res.get("error") or res.get("log") or ""))
            result.status = "error"
            (work / "autograde.log").write_text((res.get("log") or "") + (res.get("error") or ""),
                                                encoding="utf-8")
        _add_task_notes(work / "autograded" / student / assignment, readable, list(task.notes))
        t0 = time.monotonic()
        res = _run_app("GenerateFeedback", config, assignment, student)
        result.phases["feedback"] = round(time.monotonic() - t0, 3)
        if not res.get("success"):
            notes.append("feedback could not be generated: "
                         + _last_error(res.get("error") or res.get("log") or ""))
            (work / "feedback.log").write_text((res.get("log") or "") + (res.get("error") or ""),
                                               encoding="utf-8")
    preprocessors.set_grading_secret(None)
    t0 = time.monotonic()
    _collect(task, work, result)
    result.phases["gradebook"] = round(time.monotonic() - t0, 3)
    return result


def _collect(task: GradingTask, work: Path, result: GradingResult) -> None:
    """Read every test's score from the worker's gradebook (zeros where nothing ran)."""
    student, assignment = task.student, task.assignment
    graded_dir = work / "autograded" / student / assignment
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", COURSE_ID) as gb:
        gb.update_or_create_student(student)
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            sub = gb.update_or_create_submission(assignment, student)
        result.timestamp = sub.timestamp.isoformat() if sub.timestamp else None
        for snb in sub.notebooks:
            name = snb.name
            graded = graded_dir / f"{name}.ipynb"
            entry = NotebookResult(graded=graded.is_file())
            if entry.graded:
                try:
                    nb = nbformat.read(str(graded), as_version=4)
                    state = nb.metadata.get("cnn_grading", {})
                    entry.notes = list(state.get("notes", []))
                    entry.seconds = state.get("seconds")
                    entry.protections = dict(state.get("protections") or {})
                    entry.phases = dict(state.get("phases") or {})
                    entry.outcomes = _outcomes(nb)
                except Exception:  # noqa: BLE001 - an unreadable graded notebook scores as graded
                    pass
            for grade in snb.grades:
                score = grade.auto_score if entry.graded else 0.0
                if not entry.graded:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
                entry.grades[grade.name] = GradeRecord(score, grade.max_score, grade.manual_score,
                                                       bool(grade.needs_manual_grade))
            for comment in snb.comments:
                entry.comments[comment.name] = comment.auto_comment
            result.notebooks[name] = entry
        gb.db.commit()


def _outcomes(nb) -> dict:
    """Per test cell: the first line of its failure message ('' when it passed)."""
    from nbgrader import utils as nbutils
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
            gid = cell.metadata["nbgrader"]["grade_id"]
            msg = ""
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    evalue = (o.get("evalue") or "").strip()
                    msg = f"{o.get('ename')}: {evalue.splitlines()[0] if evalue else ''}"[:300]
                    break
                if o.get("output_type") == "stream" and o.get("name") == "stderr":
                    msg = msg or "wrote to stderr (nbgrader counts this as a failure)"
            out[gid] = msg
    return out


def run_task(task_path: Path) -> None:
    try:
        task = GradingTask.read(task_path)
    except (OSError, ValueError) as err:
        result = GradingResult.failed(None, None, f"the grading task could not be read: {err}")
    else:
        try:
            result = grade(task)
        except Exception as err:  # noqa: BLE001 - the parent records the failure for this student
            result = GradingResult.failed(task.student, task.assignment,
                                          f"the grader failed: {type(err).__name__}: {err}",
                                          notes=task.notes)
            result.traceback = traceback.format_exc()
    (task_path.parent / "result.json").write_text(result.to_json(), encoding="utf-8")


def serve() -> int:
    """Grade task after task: read a task path per line on stdin, answer ``done`` on stdout.

    One long-lived worker per parallel slot saves importing nbgrader (and, for
    notebooks whose tests use it, TensorFlow) for every submission; the parent kills
    and replaces a worker that overruns its time.
    """
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the answer channel
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        run_task(Path(path))
        out.write(f"done {path}\n")
        out.flush()
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        return serve()
    run_task(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Grade a whole class: ``python -m grader autograde SUBMISSIONS``.

Steps (each built on nbgrader's own apps and gradebook):

1. :func:`grader.trusted.course.prepare` registers every assignment in the gradebook
   (nbgrader ``generate_assignment``) when it is new or its source changed.
2. :mod:`grader.trusted.intake` finds the submissions (nbgrader layout, a flat LMS
   export, or a zip) and stages them as ``build/course/submitted/<student>/<assignment>/``.
3. Each (student, assignment) whose files, source and limits are unchanged
   since the last run is skipped (resume); the others are graded in parallel by
   long-lived worker processes (:mod:`grader.trusted.worker`, one per core, killed and
   replaced if one overruns), each task in a private folder with a
   copy of the gradebook, nbgrader ``autograde`` with a sandboxed kernel
   (:mod:`grader.trusted.sandbox`) and nbgrader ``generate_feedback``.
4. The parent merges each result into the course gradebook as it arrives, one
   at a time, through nbgrader's ``Gradebook`` API (no concurrent sqlite writers),
   copies the graded notebook and the feedback into ``build/course/autograded``
   and ``build/course/feedback``, and saves the resume state.
5. :mod:`grader.trusted.report` writes the grades CSV (nbgrader's export columns plus
   ``notes``), a per-test CSV, the summary and the score histogram, and the
   feedback for notebooks that could not run (:mod:`grader.trusted.feedback`).
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import queue
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc

from . import feedback as fb
from . import intake as intake_mod
from . import regrade, report
from .course import COURSE_ID, Course, load_state, prepare, save_state
from ..settings import tool_env
from .sandbox import GIB, Limits, landlock_abi, write_kernelspec

GRADER_VERSION = "2"
#: environment of every graded kernel: grading mode (small training runs), and no
#: TensorFlow C++ start-up log on stderr
KERNEL_ENV = {"CNN_COURSE_GRADING": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass
class Outcome:
    student: str
    assignment: str
    status: str                 # graded | skipped (unchanged) | error
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def default_workers(limits: Limits) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * GIB
    by_memory = max(1, int(total // max(limits.memory_bytes + GIB // 2, 1)))
    return max(1, min(cores, by_memory))


def fingerprint(course: Course, sub_dir: Path, assignment: str, limits: Limits) -> str:
    h = hashlib.sha256(GRADER_VERSION.encode())
    h.update(course.source_digest(assignment).encode())
    h.update(json.dumps(limits.as_dict(), sort_keys=True).encode())
    for p in sorted(sub_dir.rglob("*")):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _slug(student: str, assignment: str) -> str:
    return hashlib.sha1(f"{student}\x1f{assignment}".encode()).hexdigest()[:16]


def _copy_db(src: Path, dest: Path) -> None:
    """A consistent copy of the sqlite gradebook (sqlite's backup API)."""
    with sqlite3.connect(str(src)) as a, sqlite3.connect(str(dest)) as b:
        a.backup(b)
    a.close()
    b.close()


class Grader:
    def __init__(self, course: Course, limits: Limits, workers: int | None = None,
                 force: bool = False, log=print, progress: bool = True):
        self.course = course
        self.limits = limits
        self.workers = workers or default_workers(limits)
        self.force = force
        self.log = log
        self.progress = progress
        self._lock = threading.Lock()
        self._idle: queue.Queue = queue.Queue()

    # ------------------------------------------------------------ running one task
    def _task(self, student: str, assignment: str, notes: list[str]) -> tuple[dict, Path]:
        c = self.course
        work = c.work / _slug(student, assignment)
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
        (work / "submitted" / student).mkdir(parents=True)
        shutil.copytree(c.submitted / student / assignment, work / "submitted" / student / assignment)
        with self._lock:
            _copy_db(c.db_path, work / "gradebook.db")
        task = {"student": student, "assignment": assignment, "work": str(work),
                "source": str(c.source), "notebooks": c.notebooks(assignment),
                "limits": self.limits.as_dict(), "jupyter_path": str(c.build / "jupyter"),
                "notes": notes}
        path = work / "task.json"
        path.write_text(json.dumps(task, ensure_ascii=False), encoding="utf-8")
        return task, path

    def _run_worker(self, task_path: Path, n_notebooks: int) -> dict:
        limit = (self.limits.notebook_timeout + 60) * max(n_notebooks, 1) + 180
        worker = self._idle.get()
        try:
            finished, detail = worker.run(task_path, limit)
        finally:
            self._idle.put(worker)
        result_path = task_path.parent / "result.json"
        if finished and result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        _kill_kernels_in(task_path.parent)
        if not finished and detail == "timeout":
            why = (f"grading this submission took longer than {limit} s; the grader "
                   "stopped it and its tests score 0")
        else:
            why = f"the grading worker stopped ({detail}); this submission's tests score 0"
        return {"status": "error", "notebooks": {}, "notes": [why]}

    # ------------------------------------------------------------ merging
    def _merge(self, student: str, assignment: str, result: dict, work: Path) -> Outcome:
        with warnings.catch_warnings():
            # nbgrader's update_or_create_submission trips SQLAlchemy autoflush warnings
            warnings.simplefilter("ignore")
            return self._merge_quiet(student, assignment, result, work)

    def _merge_quiet(self, student: str, assignment: str, result: dict, work: Path) -> Outcome:
        c = self.course
        notes = list(result.get("notes", []))
        with Gradebook(c.db_url, COURSE_ID) as gb:
            gb.update_or_create_student(student)
            kwargs = {}
            if result.get("timestamp"):
                kwargs["timestamp"] = parse_utc(result["timestamp"])
            sub = gb.update_or_create_submission(assignment, student, **kwargs)
            seen = set()
            for nb_name, entry in result.get("notebooks", {}).items():
                seen.add(nb_name)
                for nb_note in entry.get("notes", []):
                    if nb_note not in notes:
                        notes.append(f"{nb_name}: {nb_note}")
                for gid, g in entry.get("grades", {}).items():
                    try:
                        grade = gb.find_grade(gid, nb_name, assignment, student)
                    except MissingEntry:
                        continue
                    grade.auto_score = g["auto_score"]
                    grade.needs_manual_grade = bool(grade.manual_score is not None
                                                    or g["auto_score"] is None)
                for gid, text in entry.get("comments", {}).items():
                    try:
                        gb.find_comment(gid, nb_name, assignment, student).auto_comment = text
                    except MissingEntry:
                        continue
            # whatever the worker could not report scores zero, never a stale pass
            for snb in sub.notebooks:
                if snb.name not in seen:
                    for grade in snb.grades:
                        grade.auto_score = 0.0
                        grade.needs_manual_grade = grade.manual_score is not None
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            score, max_score = float(sub.score), float(sub.max_score)
        # graded notebooks and feedback into the course's folders
        for kind, target_root, ext in (("autograded", c.autograded, ".ipynb"),
                                       ("feedback", c.feedback, ".html")):
            src = work / kind / student / assignment
            dest = target_root / student / assignment
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                for f in src.iterdir():
                    if f.suffix == ext and f.is_file() and not f.is_symlink():
                        shutil.copy(f, dest / f.name)
        status = result.get("status", "graded")
        return Outcome(student, assignment, status, score, max_score, notes=notes)

    # ------------------------------------------------------------ the whole class
    def run(self, source: Path, assignments: list[str] | None = None) -> report.ClassReport:
        c = self.course
        start = time.monotonic()
        known = c.assignments()
        if assignments:
            unknown = [a for a in assignments if a not in known]
            if unknown:
                raise ValueError(f"unknown assignment(s) {unknown}; known: {known}")
        wanted = assignments or known
        if not wanted:
            raise ValueError(f"no assignments in {c.source}")
        prepare(c, wanted, log=self.log)
        layout = {a: c.notebooks(a) for a in wanted}
        found = intake_mod.collect(Path(source), layout)
        try:
            staged = intake_mod.stage(found, c.submitted, wanted)
        finally:
            found.close()
        unmatched = list(found.unmatched)
        for path, why in unmatched:
            self.log(f"  not graded: {path}: {why}")
        write_kernelspec(c.build / "jupyter", self.limits, env=KERNEL_ENV)
        sandboxed = self.limits.landlock and landlock_abi() >= 1
        if self.limits.landlock and landlock_abi() < 1:
            self.log("note: this Linux has no Landlock; kernels are limited in time and memory "
                     "but can write outside their folder (the grader checks the course files "
                     "afterwards)")
        guard_digest = None if sandboxed else _course_digest(c)

        state = load_state(c)
        done = state.setdefault("graded", {})
        todo, outcomes = [], []
        for sub in staged:
            key = f"{sub.student}\x1f{sub.assignment}"
            fp = fingerprint(c, c.submitted / sub.student / sub.assignment, sub.assignment, self.limits)
            prev = done.get(key)
            if not self.force and prev and prev.get("fingerprint") == fp and _has_submission(c, sub):
                outcomes.append(Outcome(sub.student, sub.assignment, "unchanged",
                                        prev.get("score", 0.0), prev.get("max_score", 0.0),
                                        notes=prev.get("notes", [])))
                continue
            todo.append((sub, fp))
        self.log(f"grading {len(todo)} submission(s) of {len({s.student for s in staged})} "
                 f"student(s) with {self.workers} worker(s); {len(outcomes)} unchanged since the "
                 f"last run (kept)")
        total = len(todo)

        def job(sub):
            t0 = time.monotonic()
            task, path = self._task(sub.student, sub.assignment, list(sub.notes))
            result = self._run_worker(path, len(task["notebooks"]))
            return result, path.parent, time.monotonic() - t0

        finished = 0
        workers = [WorkerProcess() for _ in range(min(self.workers, max(total, 1)))]
        for w in workers:
            self._idle.put(w)
        with cf.ThreadPoolExecutor(max_workers=len(workers)) as pool:
            futures = {pool.submit(job, sub): (sub, fp) for sub, fp in todo}
            try:
                for fut in cf.as_completed(futures):
                    sub, fp = futures[fut]
                    try:
                        result, work, secs = fut.result()
                    except Exception as err:  # noqa: BLE001
                        result, work, secs = ({"status": "error", "notebooks": {},
                                               "notes": [f"the grader failed: {err}"]},
                                              c.work / _slug(sub.student, sub.assignment), 0.0)
                    outcome = self._merge(sub.student, sub.assignment, result, work)
                    outcome.seconds = secs
                    outcomes.append(outcome)
                    done[f"{sub.student}\x1f{sub.assignment}"] = {
                        "fingerprint": fp if outcome.status != "error" else "",
                        "score": outcome.score, "max_score": outcome.max_score,
                        "notes": outcome.notes, "seconds": round(secs, 2),
                        "outcomes": {nb: e.get("outcomes", {}) for nb, e in
                                     result.get("notebooks", {}).items()},
                        "notebook_seconds": {nb: e.get("seconds") for nb, e in
                                             result.get("notebooks", {}).items()}}
                    save_state(c, state)
                    finished += 1
                    if self.progress:
                        flag = "" if outcome.status == "graded" else f" [{outcome.status}]"
                        self.log(f"[{finished:>3}/{total}] {sub.student} / {sub.assignment}: "
                                 f"{outcome.score:g}/{outcome.max_score:g} in {secs:.1f} s{flag}")
                    if not os.environ.get("CNN_GRADING_KEEP_WORK"):
                        shutil.rmtree(work, ignore_errors=True)
            finally:
                for w in workers:
                    w.stop()
        tampered = guard_digest is not None and _course_digest(c) != guard_digest
        state["unmatched"] = unmatched
        save_state(c, state)
        rep = report.build(c, wanted, state, outcomes, unmatched,
                           wall_seconds=time.monotonic() - start)
        if tampered:
            rep.warnings.append("the course files (solutions/, grader/, utils/) CHANGED while "
                                "grading (kernels were not sandboxed by Landlock): a submission "
                                "may have written outside its folder, or someone edited the "
                                "course; check `git status` before trusting these grades")
        fb.write_missing_feedback(c, wanted, state)
        report.write(c, rep)
        return rep


class WorkerProcess:
    """A long-lived ``python -m grader.trusted.worker --serve`` (restarted when it fails)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.trusted.worker", "--serve"], env=tool_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", start_new_session=True, cwd=tempfile.gettempdir())

    def run(self, task_path: Path, limit: float) -> tuple[bool, str]:
        """(finished, detail): grade one task, or stop the worker after ``limit`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        proc = self.proc
        try:
            proc.stdin.write(f"{task_path}\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            self.stop()
            return False, f"could not start: {err}"
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                return False, "timeout"
            ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 5.0))
            if ready:
                line = proc.stdout.readline()
                if not line:
                    code = proc.poll()
                    self.stop()
                    return False, f"exit status {code}"
                if line.strip() == f"done {task_path}":
                    return True, ""

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            _kill_group(self.proc)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


def _kill_kernels_in(work: Path) -> None:
    """Kill processes (kernels the grading started) still running inside ``work``."""
    root = str(Path(work).resolve())
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def _has_submission(course: Course, sub) -> bool:
    with Gradebook(course.db_url, COURSE_ID) as gb:
        try:
            gb.find_submission(sub.assignment, sub.student)
            return True
        except MissingEntry:
            return False


def _course_digest(course: Course) -> str:
    """A digest of the files a submission must never change (course code and sources)."""
    h = hashlib.sha256()
    roots = [course.source]
    pkg = Path(__file__).resolve().parents[1]
    roots += [pkg / "grader", pkg / "utils"]
    for root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts:
                h.update(str(p).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def autograde(source, course: Course | None = None, limits: Limits | None = None,
              workers: int | None = None, assignments=None, force: bool = False,
              log=print, progress: bool = True) -> report.ClassReport:
    """Grade every submission under ``source``; return the class report (also written to disk)."""
    course = course or Course.default()
    prefetch_data(course, log)
    grader = Grader(course, limits or Limits(), workers=workers, force=force, log=log,
                    progress=progress)
    before = regrade.take_snapshot(course)  # reports/regrade.md: what this run changed
    rep = grader.run(Path(source), assignments)
    regrade.write(course, before, rep, log=log)
    return rep


def prefetch_data(course: Course, log=print) -> None:
    """Make sure MNIST is on disk before grading notebooks that load it.

    Student kernels run sandboxed and cannot write to ``data/``, so the one-time
    download (or the check of ``MNIST_PATH``) happens here, in the grader, once.
    """
    uses_mnist = any("load_mnist" in nb.read_text(encoding="utf-8", errors="replace")
                     for nb in Path(course.source).glob("*/*.ipynb"))
    if not uses_mnist:
        return
    from utils.data import DataError, load_mnist
    try:
        load_mnist()
    except DataError as err:
        log(f"warning: MNIST is not available, so tests that need it will fail:\n{err}")

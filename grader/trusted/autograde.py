"""Grade a whole class: ``python -m grader autograde SUBMISSIONS``.

Steps (each built on nbgrader's own apps and gradebook):

1. :func:`grader.trusted.course.prepare` registers every assignment in the gradebook
   (nbgrader ``generate_assignment``) when it is new or its source changed.
2. :mod:`grader.trusted.intake` finds the submissions (nbgrader layout, a flat LMS
   export, or a zip) and stages them as ``build/course/submitted/<student>/<assignment>/``.
3. Each (student, assignment) whose files, source, limits, grading code and
   course secret are unchanged since the last run is skipped (resume); the others
   are graded in parallel by
   long-lived worker processes (:mod:`grader.trusted.worker`, one per core, killed and
   replaced if one overruns), each task in a private folder with a
   copy of the gradebook, nbgrader ``autograde`` with a sandboxed kernel
   (:mod:`grader_kernel.launcher`) and verdicts decided in the worker
   (:mod:`grader.trusted.verdicts`), then nbgrader ``generate_feedback``. Before
   any of that, :func:`grader.trusted.sandbox.preflight` checks that this machine
   can give every required protection; grading stops if not (fail closed).
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

from ..settings import REPO, tool_env
from . import feedback as fb
from . import intake as intake_mod
from . import regrade, report
from . import secret as secret_mod
from .course import COURSE_ID, Course, load_state, prepare, save_state
from .records import GradingResult, GradingTask
from .sandbox import GIB, REQUIRED, Limits, policy, preflight, write_kernelspec

GRADER_VERSION = "3"
#: the code that decides a grade: a change to any of it regrades everyone
GRADING_CODE = ("grader", "grader_kernel", "utils")
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


def code_digest() -> str:
    """A digest of every Python file that can change a grade (grader, kernel side, checks)."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    for name in GRADING_CODE:
        for p in sorted((REPO / name).rglob("*.py")):
            if "__pycache__" not in p.parts:
                h.update(p.relative_to(REPO).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def fingerprint(course: Course, sub_dir: Path, assignment: str, limits: Limits,
                context: str = "") -> str:
    """What a grade depends on: the submission, the source, the limits and ``context``.

    ``context`` is :func:`code_digest` plus a digest of the course secret, so fixing a
    hidden test or a check, or rotating the secret, regrades everyone.
    """
    h = hashlib.sha256(GRADER_VERSION.encode())
    h.update(context.encode())
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
                 force: bool = False, log=print, progress: bool = True,
                 secret_file: Path | None = None):
        self.course = course
        self.secret_file = secret_file
        self.limits = limits
        self.workers = workers or default_workers(limits)
        self.force = force
        self.log = log
        self.progress = progress
        self._lock = threading.Lock()
        self._idle: queue.Queue = queue.Queue()

    # ------------------------------------------------------------ running one task
    def _task(self, student: str, assignment: str, notes: list[str]) -> tuple[GradingTask, Path]:
        c = self.course
        work = c.work / _slug(student, assignment)
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
        (work / "submitted" / student).mkdir(parents=True)
        shutil.copytree(c.submitted / student / assignment, work / "submitted" / student / assignment)
        with self._lock:
            _copy_db(c.db_path, work / "gradebook.db")
        task = GradingTask(student=student, assignment=assignment, work=str(work),
                           source=str(c.source), notebooks=c.notebooks(assignment),
                           limits=self.limits.as_dict(), jupyter_path=str(c.build / "jupyter"),
                           secret_file=str(self.secret_file or ""),
                           cache_dir=str(c.build / "cache"), notes=list(notes))
        path = work / "task.json"
        path.write_text(task.to_json(), encoding="utf-8")
        return task, path

    def _run_worker(self, task_path: Path, n_notebooks: int) -> GradingResult:
        limit = (self.limits.notebook_timeout + 60) * max(n_notebooks, 1) + 180
        worker = self._idle.get()
        try:
            finished, detail = worker.run(task_path, limit)
        finally:
            self._idle.put(worker)
        result_path = task_path.parent / "result.json"
        if finished and result_path.is_file():
            try:
                return GradingResult.from_json(result_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                detail = f"its result could not be read: {err}"
                finished = False
        _kill_kernels_in(task_path.parent)
        if not finished and detail == "timeout":
            why = (f"grading this submission took longer than {limit} s; the grader "
                   "stopped it and its tests score 0")
        else:
            why = f"the grading worker stopped ({detail}); this submission's tests score 0"
        return GradingResult.failed(None, None, why)

    # ------------------------------------------------------------ merging
    def _merge(self, student: str, assignment: str, result: GradingResult, work: Path) -> Outcome:
        with warnings.catch_warnings():
            # nbgrader's update_or_create_submission trips SQLAlchemy autoflush warnings
            warnings.simplefilter("ignore")
            return self._merge_quiet(student, assignment, result, work)

    def _merge_quiet(self, student: str, assignment: str, result: GradingResult,
                     work: Path) -> Outcome:
        c = self.course
        notes = list(result.notes)
        with Gradebook(c.db_url, COURSE_ID) as gb:
            gb.update_or_create_student(student)
            kwargs = {}
            if result.timestamp:
                kwargs["timestamp"] = parse_utc(result.timestamp)
            sub = gb.update_or_create_submission(assignment, student, **kwargs)
            seen = set()
            for nb_name, entry in result.notebooks.items():
                seen.add(nb_name)
                for nb_note in entry.notes:
                    if nb_note not in notes:
                        notes.append(f"{nb_name}: {nb_note}")
                for gid, g in entry.grades.items():
                    try:
                        grade = gb.find_grade(gid, nb_name, assignment, student)
                    except MissingEntry:
                        continue
                    grade.auto_score = g.auto_score
                    grade.needs_manual_grade = bool(grade.manual_score is not None
                                                    or g.auto_score is None)
                for gid, text in entry.comments.items():
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
        return Outcome(student, assignment, result.status, score, max_score, notes=notes)

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
        required = REQUIRED if self.limits.sandbox else ()
        jupyter = c.build / "jupyter"
        if self.limits.sandbox:
            held = preflight(jupyter, self.limits, required)  # raises SandboxUnavailable
            self.log("sandbox: " + ", ".join(f"{k}={v}" for k, v in sorted(held.items())
                                             if k in ("landlock", "pid_namespace",
                                                      "process_limit")))
        else:
            self.log("WARNING: --unsafe-no-sandbox: students' code runs without the file, "
                     "process and network fences; grades stay decided by the grader, but a "
                     "hostile notebook could damage this machine or read the course's files")
        write_kernelspec(jupyter, self.limits, env=KERNEL_ENV, required=required)
        guard_digest = None if self.limits.sandbox else _course_digest(c)
        if self.secret_file:
            secret_mod.check_out_of_reach(self.secret_file, policy(jupyter, self.limits)["read"])
        context = code_digest() + (secret_mod.digest(self.secret_file) if self.secret_file
                                   else "fixed-seeds")

        state = load_state(c)
        done = state.setdefault("graded", {})
        todo, outcomes = [], []
        for sub in staged:
            key = f"{sub.student}\x1f{sub.assignment}"
            fp = fingerprint(c, c.submitted / sub.student / sub.assignment, sub.assignment,
                             self.limits, context)
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
            result = self._run_worker(path, len(task.notebooks))
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
                        result, work, secs = (GradingResult.failed(
                            sub.student, sub.assignment, f"the grader failed: {err}"),
                            c.work / _slug(sub.student, sub.assignment), 0.0)
                    t_merge = time.monotonic()
                    outcome = self._merge(sub.student, sub.assignment, result, work)
                    merge_seconds = time.monotonic() - t_merge
                    outcome.seconds = secs
                    outcomes.append(outcome)
                    done[f"{sub.student}\x1f{sub.assignment}"] = {
                        "fingerprint": fp if outcome.status != "error" else "",
                        "score": outcome.score, "max_score": outcome.max_score,
                        "notes": outcome.notes, "seconds": round(secs, 2),
                        "outcomes": {nb: e.outcomes for nb, e in result.notebooks.items()},
                        "protections": {nb: e.protections for nb, e in result.notebooks.items()},
                        "notebook_seconds": {nb: e.seconds for nb, e in
                                             result.notebooks.items()},
                        "phases": _phases(result, merge_seconds)}
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
                                "grading (kernels were not sandboxed): a submission "
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


def _phases(result: GradingResult, merge_seconds: float) -> dict:
    """Where one task's time went: the kernel's phases, then nbgrader's and ours (seconds)."""
    phases: dict[str, float] = {}
    for entry in result.notebooks.values():
        for key, value in entry.phases.items():
            phases[key] = phases.get(key, 0.0) + float(value)
    autograde = result.phases.get("autograde", 0.0)
    phases["nbgrader_other"] = max(0.0, autograde - sum(phases.values()))
    phases["feedback"] = result.phases.get("feedback", 0.0)
    phases["gradebook"] = result.phases.get("gradebook", 0.0) + merge_seconds
    return {k: round(v, 3) for k, v in phases.items()}


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
              log=print, progress: bool = True,
              secret_file: Path | None = None) -> report.ClassReport:
    """Grade every submission under ``source``; return the class report (also written to disk).

    ``secret_file``: the course secret (default :func:`grader.trusted.secret.default_path`,
    created on first use). Raises :class:`grader.trusted.sandbox.SandboxUnavailable`
    when a required protection cannot be applied (unless ``limits.sandbox`` is False).
    """
    course = course or Course.default()
    prefetch_data(course, log)
    secret_path = secret_mod.ensure(secret_file, log)
    secret_mod.load(secret_path)  # fail early, with what to do, on a bad secret
    grader = Grader(course, limits or Limits(), workers=workers, force=force, log=log,
                    progress=progress, secret_file=secret_path)
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

"""Grade a whole class: ``python -m grader autograde SUBMISSIONS [--scheduler ADDRESS]``.

Steps (each built on nbgrader's own apps and gradebook):

1. :func:`grader.trusted.course.prepare` registers every assignment in the gradebook
   (nbgrader ``generate_assignment``) when it is new or its source changed; the
   gradebook is any database nbgrader accepts (``--db-url``: SQLite by default,
   PostgreSQL for large classes).
2. :mod:`grader.trusted.intake` finds the submissions (nbgrader layout, a flat LMS
   export, or a zip) and stages them as ``build/course/submitted/<student>/<assignment>/``.
3. Each (student, assignment) whose files, source, limits, grading code and
   course secret are unchanged since the last run is skipped (resume); the others
   are graded by a *backend* (:mod:`grader.trusted.backends`): long-lived local
   worker processes (:mod:`grader.trusted.worker`, one per core, killed and
   replaced if one overruns), or the same workers on a Dask cluster
   (``--scheduler``). Each task runs in a private folder with a small template
   gradebook (the assignments only), nbgrader ``autograde`` with a sandboxed kernel
   (:mod:`grader_kernel.launcher`) and verdicts decided in the worker
   (:mod:`grader.trusted.verdicts`), then nbgrader ``generate_feedback``. Before
   any of that, :func:`grader.trusted.sandbox.preflight` checks that the machine
   running the kernels can give every required protection; grading stops if not
   (fail closed; on Dask, a worker that cannot fails its tasks with the reason).
4. The parent merges each result into the course gradebook as it arrives, through
   one session and one commit per batch of results that arrived together
   (:class:`grader.trusted.gradebook_merge.Merger`: the rows nbgrader's
   ``Gradebook`` API would write, no concurrent writers), copies the graded notebook
   and the feedback into ``build/course/autograded`` and ``build/course/feedback``,
   and saves the resume state after the gradebook commit.
5. :mod:`grader.trusted.report` writes the grades CSV (nbgrader's export columns plus
   ``notes``), a per-test CSV, the summary and the score histogram, and the
   feedback for notebooks that could not run (:mod:`grader.trusted.feedback`).
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import REPO, tool_env
from . import feedback as fb
from . import intake as intake_mod
from . import regrade, report
from . import secret as secret_mod
from .backends import KERNEL_ENV, Backend, Done, Job, LocalPool, RunContext  # noqa: F401
from .backends import slug as _slug  # noqa: F401 - kept for callers of the old name
from .course import Course, load_state, prepare, save_state
from .gradebook_merge import Merger, write_template
from .records import GradingResult
from .sandbox import GIB, Limits

GRADER_VERSION = "3"
#: the code that decides a grade: a change to any of it regrades everyone
GRADING_CODE = ("grader", "grader_kernel", "utils")
#: most results merged in one gradebook transaction
MERGE_BATCH = 500


@dataclass
class Outcome:
    student: str
    assignment: str
    status: str                 # graded | unchanged | error | lost (not graded this run)
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


class Grader:
    """One driver for every backend: staging, resume, merging and reports.

    ``backend`` runs the tasks (default: :class:`grader.trusted.backends.LocalPool`
    with ``workers`` processes).
    """

    def __init__(self, course: Course, limits: Limits, workers: int | None = None,
                 force: bool = False, log=print, progress: bool = True,
                 secret_file: Path | None = None, backend: Backend | None = None):
        self.course = course
        self.secret_file = secret_file
        self.limits = limits
        self.workers = workers or default_workers(limits)
        self.backend = backend or LocalPool(self.workers)
        self.force = force
        self.log = log
        self.progress = progress

    # ------------------------------------------------------------ merging
    def _copy_outputs(self, student: str, assignment: str, work: Path | None) -> None:
        """Graded notebooks and feedback from a task's folder into the course's folders."""
        c = self.course
        for kind, target_root, ext in (("autograded", c.autograded, ".ipynb"),
                                       ("feedback", c.feedback, ".html")):
            dest = target_root / student / assignment
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True, exist_ok=True)
            src = work / kind / student / assignment if work is not None else None
            if src is not None and src.is_dir():
                for f in src.iterdir():
                    if f.suffix == ext and f.is_file() and not f.is_symlink():
                        shutil.copy(f, dest / f.name)

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
        guard_digest = None if self.limits.sandbox else _course_digest(c)
        context = code_digest() + (secret_mod.digest(self.secret_file) if self.secret_file
                                   else "fixed-seeds")
        template = write_template(c.db_url, c.build / "template-gradebook.db")
        ctx = RunContext(course=c, limits=self.limits, secret_file=self.secret_file,
                         template=template, code=code_digest(), log=self.log)
        backend = self.backend
        state = load_state(c)
        done = state.setdefault("graded", {})
        outcomes: list[Outcome] = []
        lost: list[Done] = []
        with Merger(c.db_url) as merger:
            have = merger.submitted()
            todo = []
            for sub in staged:
                key = f"{sub.student}\x1f{sub.assignment}"
                fp = fingerprint(c, c.submitted / sub.student / sub.assignment, sub.assignment,
                                 self.limits, context)
                prev = done.get(key)
                if (not self.force and prev and prev.get("fingerprint") == fp
                        and (sub.student, sub.assignment) in have):
                    outcomes.append(Outcome(sub.student, sub.assignment, "unchanged",
                                            prev.get("score", 0.0), prev.get("max_score", 0.0),
                                            notes=prev.get("notes", [])))
                    continue
                todo.append(Job(sub.student, sub.assignment, layout[sub.assignment],
                                list(sub.notes), fp))
            total = len(todo)
            if total:
                backend.start(ctx)
            self.log(f"grading {total} submission(s) of {len({s.student for s in staged})} "
                     f"student(s) with {backend.describe() if total else 'no worker'}; "
                     f"{len(outcomes)} unchanged since the last run (kept)")
            try:
                if total:
                    backend.submit(todo)
                    self._collect(backend, merger, state, outcomes, lost, total)
            finally:
                if total:
                    backend.close()
        tampered = guard_digest is not None and _course_digest(c) != guard_digest
        state["unmatched"] = unmatched
        save_state(c, state)
        rep = report.build(c, wanted, state, outcomes, unmatched,
                           wall_seconds=time.monotonic() - start)
        if lost:
            whys = sorted({d.lost for d in lost})
            rep.warnings.append(f"{len(lost)} submission(s) were not graded in this run "
                                f"({'; '.join(whys)}); their previous grades are kept. Run the "
                                "same command again to grade them (the others are saved).")
        if tampered:
            rep.warnings.append("the course files (solutions/, grader/, utils/) CHANGED while "
                                "grading (kernels were not sandboxed): a submission "
                                "may have written outside its folder, or someone edited the "
                                "course; check `git status` before trusting these grades")
        fb.write_missing_feedback(c, wanted, state)
        report.write(c, rep)
        return rep

    def _collect(self, backend: Backend, merger: Merger, state: dict, outcomes: list,
                 lost: list, total: int) -> None:
        """Merge results as they come: a batch per commit, the resume state after it."""
        c = self.course
        done = state["graded"]
        batch: list[tuple[Done, list[str], float]] = []
        finished = 0
        last_save, save_cost = time.monotonic(), 0.0

        def flush(final: bool = False):
            nonlocal finished, last_save, save_cost
            if not batch and not final:
                return
            t_commit = time.monotonic()
            scores = merger.commit()
            commit_share = (time.monotonic() - t_commit) / max(len(batch), 1)
            for item, notes, merge_seconds in batch:
                job, result, secs = item.job, item.result, item.seconds
                score, max_score = scores.get((job.student, job.assignment), (0.0, 0.0))
                outcome = Outcome(job.student, job.assignment, result.status, score, max_score,
                                  secs, notes)
                outcomes.append(outcome)
                done[f"{job.student}\x1f{job.assignment}"] = {
                    "fingerprint": job.fingerprint if outcome.status != "error" else "",
                    "score": score, "max_score": max_score,
                    "notes": notes, "seconds": round(secs, 2),
                    "outcomes": {nb: e.outcomes for nb, e in result.notebooks.items()},
                    "protections": {nb: e.protections for nb, e in result.notebooks.items()},
                    "notebook_seconds": {nb: e.seconds for nb, e in result.notebooks.items()},
                    "phases": _phases(result, merge_seconds + commit_share)}
                finished += 1
                if self.progress:
                    flag = "" if outcome.status == "graded" else f" [{outcome.status}]"
                    self.log(f"[{finished:>3}/{total}] {job.student} / {job.assignment}: "
                             f"{score:g}/{max_score:g} in {secs:.1f} s{flag}")
            batch.clear()
            # the state is a whole-class file: rewritten at most every few seconds (and at
            # the end); what it has not recorded yet is simply regraded after a crash
            now = time.monotonic()
            if final or now - last_save >= max(2.0, 5 * save_cost):
                save_state(c, state)
                save_cost = time.monotonic() - now
                last_save = time.monotonic()

        while backend.outstanding > 0:
            # results that arrived together share a commit; waiting is bounded so that a
            # batch never waits for a slow task
            item = backend.next(timeout=0 if batch else 5.0)
            if item is None:
                flush()
                continue
            if item.lost:
                lost.append(item)
                finished += 1
                outcomes.append(Outcome(item.job.student, item.job.assignment, "lost",
                                        notes=[item.lost]))
                continue
            t_merge = time.monotonic()
            notes = merger.merge(item.job.student, item.job.assignment, item.result)
            self._copy_outputs(item.job.student, item.job.assignment, item.work)
            merge_seconds = time.monotonic() - t_merge
            if item.work is not None and not os.environ.get("CNN_GRADING_KEEP_WORK"):
                shutil.rmtree(item.work, ignore_errors=True)
            batch.append((item, notes, merge_seconds))
            if len(batch) >= MERGE_BATCH:
                flush()
        flush(final=True)


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
              secret_file: Path | None = None, scheduler: str | None = None,
              store: str = "copy", backend: Backend | None = None) -> report.ClassReport:
    """Grade every submission under ``source``; return the class report (also written to disk).

    ``secret_file``: the course secret (default :func:`grader.trusted.secret.default_path`,
    created on first use). Raises :class:`grader.trusted.sandbox.SandboxUnavailable`
    when a required protection cannot be applied (unless ``limits.sandbox`` is False).
    ``scheduler``: a Dask scheduler's address, or ``local`` for a ``LocalCluster`` of
    ``workers`` processes (:class:`grader.trusted.backends.DaskBackend`, with ``store``
    ``copy`` or ``shared``); None grades with local worker processes. ``backend``
    overrides both.
    """
    if backend is None and scheduler:
        from .backends import DaskBackend
        backend = DaskBackend(scheduler, store=store,
                              workers=workers if scheduler == "local" else None)
    course = course or Course.default()
    prefetch_data(course, log)
    secret_path = secret_mod.ensure(secret_file, log)
    secret_mod.load(secret_path)  # fail early, with what to do, on a bad secret
    grader = Grader(course, limits or Limits(), workers=workers, force=force, log=log,
                    progress=progress, secret_file=secret_path, backend=backend)
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

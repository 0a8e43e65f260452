"""Where the (student, assignment) tasks run: the local worker pool, or a Dask cluster.

:class:`grader.trusted.autograde.Grader` stages the class, decides what to regrade
(resume), merges each result into the gradebook and writes the reports; a
*backend* only runs tasks and hands back their results. Two backends share that
one driver:

:class:`LocalPool`
    long-lived ``python -m grader.trusted.worker --serve`` processes on this
    machine, one per slot (what ``autograde`` always did).
:class:`DaskBackend`
    each task is a Dask task (``distributed``) on a cluster given by its
    scheduler's address, or on a ``LocalCluster`` started here
    (``--scheduler local``). On the worker, :func:`grade_on_worker` grades it
    through the very same ``grader.trusted.worker --serve`` process, kernelspec
    and sandbox preflight as the local pool, so grades are identical.

A Dask worker needs the course installed (the same checkout: the worker refuses a
task whose grading code differs from the driver's, by digest) and the submissions,
in one of two ways (``store``):

``copy`` (default)
    the task carries the student's files, the assignment's source folder and a
    template gradebook (each of the last two sent once per run, as a Dask task
    the scheduler can recompute if the worker holding it dies); the result carries
    back the graded notebooks and the feedback pages. Nothing is shared but the
    scheduler's network.
``shared``
    the driver stages each task's folder under the course's ``build/course/work``,
    which every worker must see at the same path (NFS, a cluster file system, a
    Kubernetes volume), as must the course's ``solutions/``; the worker grades in
    that folder and the driver reads the outputs from it.

A worker that dies while grading is replaced by Dask and its task runs again
elsewhere; a task whose workers keep dying (``distributed.scheduler.allowed-failures``,
3 by default) ends in ``KilledWorker``. Dask counts a death against every task
assigned to the dead worker, so such a task is sent once more, alone on the
cluster; if its workers die again, that submission scores 0 with the reason, and
nobody else does. Tasks are sent in a bounded window (``window``) so
that neither the driver nor the scheduler holds 10,000 submissions at once.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .records import GradingResult, GradingTask
from .sandbox import REQUIRED, Limits, SandboxUnavailable, policy, preflight, write_kernelspec

#: environment of every graded kernel: grading mode (small training runs), and no
#: TensorFlow C++ start-up log on stderr
KERNEL_ENV = {"CNN_COURSE_GRADING": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
#: output folders of a task, and the files of each that go back to the course
OUTPUTS = (("autograded", ".ipynb"), ("feedback", ".html"))


@dataclass
class Job:
    """One (student, assignment) to grade."""
    student: str
    assignment: str
    notebooks: list[str]
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def slug(self) -> str:
        return slug(self.student, self.assignment)


@dataclass
class Done:
    """A finished job. ``work`` holds ``autograded/`` and ``feedback/`` (or is None).

    ``lost`` is set when the job was not graded this run for a reason that is not
    the submission's (the scheduler went away): the driver merges nothing for it,
    keeps the previous grade and regrades it next run.
    """
    job: Job
    result: GradingResult
    work: Path | None
    seconds: float = 0.0
    lost: str = ""
    where: str = ""


@dataclass
class RunContext:
    """What the driver hands a backend for one run."""
    course: object                    # grader.trusted.course.Course
    limits: Limits
    secret_file: Path | None
    template: Path                    # SQLite gradebook with the assignments only
    code: str                         # grader.trusted.autograde.code_digest()
    log: Callable = print


def slug(student: str, assignment: str) -> str:
    return hashlib.sha1(f"{student}\x1f{assignment}".encode()).hexdigest()[:16]


def task_limit(limits: Limits, n_notebooks: int) -> float:
    """Seconds a whole task may take before its worker is stopped."""
    return (limits.notebook_timeout + 60) * max(n_notebooks, 1) + 180


# ------------------------------------------------------------------ one task, anywhere
def stage(course, job: Job, work: Path, template: Path, *, jupyter_path: str,
          secret_file: str, limits: Limits, source: str | None = None,
          cache_dir: str = "") -> Path:
    """Write a task's private folder (submission, template gradebook, ``task.json``)."""
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    (work / "submitted" / job.student).mkdir(parents=True)
    shutil.copytree(course.submitted / job.student / job.assignment,
                    work / "submitted" / job.student / job.assignment)
    shutil.copyfile(template, work / "gradebook.db")
    task = GradingTask(student=job.student, assignment=job.assignment, work=str(work),
                       source=str(source or course.source), notebooks=list(job.notebooks),
                       limits=limits.as_dict(), jupyter_path=jupyter_path,
                       secret_file=secret_file, cache_dir=cache_dir, notes=list(job.notes))
    path = work / "task.json"
    path.write_text(task.to_json(), encoding="utf-8")
    return path


def run_staged(worker, task_path: Path, n_notebooks: int, limits: Limits) -> GradingResult:
    """Grade a staged task in ``worker`` (a :class:`WorkerProcess`); a failure is a result."""
    from .autograde import _kill_kernels_in
    limit = task_limit(limits, n_notebooks)
    finished, detail = worker.run(task_path, limit)
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


def prepare_machine(root: Path, limits: Limits) -> dict:
    """Preflight and kernelspec on the machine that runs kernels; what the sandbox holds.

    Raises :class:`SandboxUnavailable` (fail closed) when a required protection
    cannot be applied and ``limits.sandbox`` is on.
    """
    required = REQUIRED if limits.sandbox else ()
    held = preflight(root, limits, required) if limits.sandbox else {}
    write_kernelspec(root, limits, env=KERNEL_ENV, required=required)
    return held


# ------------------------------------------------------------------ backends
class Backend:
    """Runs jobs; :meth:`next` hands back :class:`Done` items as they finish."""
    name = "backend"
    #: True when kernels run on this machine (the driver then checks its own sandbox)
    local_kernels = False

    def __init__(self):
        self._done: queue.Queue = queue.Queue()
        self.outstanding = 0

    def start(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def describe(self) -> str:
        return self.name

    def submit(self, jobs: Iterable[Job]) -> None:
        raise NotImplementedError

    def next(self, timeout: float | None = None) -> Done | None:
        """The next finished job, or None when none finished within ``timeout`` seconds."""
        if self.outstanding <= 0:
            return None
        try:
            item = self._done.get(timeout=timeout) if timeout != 0 else self._done.get_nowait()
        except queue.Empty:
            return None
        done = self._finish(item)
        if done is not None:  # None: the job went back to the cluster (still outstanding)
            self.outstanding -= 1
        return done

    def _finish(self, item) -> Done | None:
        return item

    def close(self) -> None:
        pass


class LocalPool(Backend):
    """Long-lived grading worker processes on this machine, one per slot."""
    name = "local"
    local_kernels = True

    def __init__(self, workers: int):
        super().__init__()
        self.workers = max(1, int(workers))
        self._idle: queue.Queue = queue.Queue()
        self._procs: list = []
        self._pool: cf.ThreadPoolExecutor | None = None

    def describe(self) -> str:
        return f"{self.workers} local worker(s)"

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        c, limits = ctx.course, ctx.limits
        held = prepare_machine(c.build / "jupyter", limits)
        if limits.sandbox:
            ctx.log("sandbox: " + ", ".join(f"{k}={v}" for k, v in sorted(held.items())
                                             if k in ("landlock", "pid_namespace",
                                                      "process_limit")))
        else:
            ctx.log("WARNING: --unsafe-no-sandbox: students' code runs without the file, "
                    "process and network fences; grades stay decided by the grader, but a "
                    "hostile notebook could damage this machine or read the course's files")
        if ctx.secret_file:
            from . import secret as secret_mod
            secret_mod.check_out_of_reach(ctx.secret_file,
                                          policy(c.build / "jupyter", limits)["read"])

    def submit(self, jobs: Iterable[Job]) -> None:
        from .autograde import WorkerProcess
        jobs = list(jobs)
        if not jobs:
            return
        n = min(self.workers, len(jobs))
        if self._pool is None:
            self._procs = [WorkerProcess() for _ in range(n)]
            for w in self._procs:
                self._idle.put(w)
            self._pool = cf.ThreadPoolExecutor(max_workers=n)
        self.outstanding += len(jobs)
        for job in jobs:
            self._pool.submit(self._run, job)

    def _run(self, job: Job) -> None:
        ctx, c = self.ctx, self.ctx.course
        t0 = time.monotonic()
        work = c.work / job.slug
        try:
            path = stage(c, job, work, ctx.template, jupyter_path=str(c.build / "jupyter"),
                         secret_file=str(ctx.secret_file or ""), limits=ctx.limits,
                         cache_dir=str(c.build / "cache"))
            worker = self._idle.get()
            try:
                result = run_staged(worker, path, len(job.notebooks), ctx.limits)
            finally:
                self._idle.put(worker)
        except Exception as err:  # noqa: BLE001 - recorded for this student only
            result = GradingResult.failed(job.student, job.assignment, f"the grader failed: {err}")
        self._done.put(Done(job, result, work, time.monotonic() - t0, where="local"))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for w in self._procs:
            w.stop()
        self._procs = []


class DaskBackend(Backend):
    """Tasks on a Dask cluster: ``address`` is a scheduler (``tcp://host:8786``) or ``local``.

    ``local`` starts a ``LocalCluster`` of ``workers`` processes (one thread each,
    on the loopback interface) for this run. ``task`` replaces
    :func:`grade_on_worker` (benchmarks use a stand-in that skips the kernel).
    ``window``: how many tasks are on the cluster at once (default: four per worker
    thread, at least 32; 0 sends every task at once).
    """
    name = "dask"

    def __init__(self, address: str, store: str = "copy", workers: int | None = None,
                 window: int | None = None, task: Callable | None = None,
                 cluster_kwargs: dict | None = None):
        super().__init__()
        if store not in ("copy", "shared"):
            raise ValueError(f"store must be 'copy' or 'shared', not {store!r}")
        self.address, self.store = address, store
        self.local_workers = workers
        self.window = window
        self.task = task or grade_on_worker
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.cluster = None
        self.client = None
        self._backlog: deque = deque()
        self._suspects: deque = deque()    # KilledWorker once: tried again alone
        self._alone: set = set()
        self._jobs: dict = {}
        self._blobs: dict = {}
        self._run_id = uuid.uuid4().hex[:8]
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        where = "a LocalCluster" if self.address == "local" else f"the Dask scheduler {self.address}"
        return f"{where} ({self._threads()} worker thread(s), {self.store} store)"

    def _threads(self) -> int:
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # noqa: BLE001
            return 1

    def start(self, ctx: RunContext) -> None:
        super().start(ctx)
        import dask
        from distributed import Client, LocalCluster
        if self.address == "local":
            # one task per worker thread: a task never waits on a worker busy with
            # another, so a worker's death counts against the task it was grading only
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                kwargs = {"n_workers": self.local_workers or 2, "threads_per_worker": 1,
                          "processes": True, "host": "127.0.0.1", "dashboard_address": None}
                kwargs.update(self.cluster_kwargs)
                self.cluster = LocalCluster(**kwargs)
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address, timeout=60)
        if ctx.secret_file:
            from . import secret as secret_mod
            self._secret = secret_mod.load(ctx.secret_file)
        ctx.log(f"dask: scheduler {self.client.scheduler.address}, {self.describe()}")

    def _blob(self, kind: str, data: dict):
        """A Dask task holding ``data`` (recomputable if the worker holding it dies)."""
        digest = hashlib.sha256(repr(sorted((k, hashlib.sha256(v).hexdigest())
                                            for k, v in data.items())).encode()).hexdigest()[:16]
        key = f"cnn-{kind}-{self._run_id}-{digest}"
        if key not in self._blobs:
            self._blobs[key] = self.client.submit(_identity, {"digest": digest, "files": data},
                                                  key=key, pure=False)
        return self._blobs[key]

    def _payload(self, job: Job) -> tuple[dict, list]:
        ctx, c = self.ctx, self.ctx.course
        payload = {"student": job.student, "assignment": job.assignment,
                   "notebooks": list(job.notebooks), "notes": list(job.notes),
                   "limits": ctx.limits.as_dict(), "code": ctx.code, "store": self.store,
                   "secret": self._secret, "slug": job.slug}
        if self.store == "shared":
            path = stage(c, job, c.work / job.slug, ctx.template, jupyter_path="",
                         secret_file="", limits=ctx.limits)
            payload["task_path"] = str(path)
            return payload, []
        folder = c.submitted / job.student / job.assignment
        payload["files"] = {p.relative_to(folder).as_posix(): p.read_bytes()
                            for p in sorted(folder.rglob("*")) if p.is_file()}
        template = self._blob("gradebook", {"gradebook.db": ctx.template.read_bytes()})
        src = c.source / job.assignment
        source = self._blob("source", {f"{job.assignment}/{p.relative_to(src).as_posix()}":
                                       p.read_bytes() for p in sorted(src.rglob("*"))
                                       if p.is_file() and "__pycache__" not in p.parts
                                       and ".ipynb_checkpoints" not in p.parts})
        return payload, [template, source]

    def submit(self, jobs: Iterable[Job]) -> None:
        jobs = list(jobs)
        self.outstanding += len(jobs)
        self._backlog.extend(jobs)
        self._fill()

    def _fill(self) -> None:
        if self._suspects:
            # a task whose workers died is tried again with none of ours beside it: Dask
            # counts a worker's death against every task assigned to it, so only a death
            # while it runs alone is surely its own
            if not self._jobs:
                job = self._suspects.popleft()
                self._alone.add(job.slug)
                self._send(job, suffix="-alone")
            return
        window = self.window if self.window is not None else max(32, 4 * self._threads())
        while self._backlog and (window == 0 or len(self._jobs) < window):
            self._send(self._backlog.popleft())

    def _send(self, job: Job, suffix: str = "") -> None:
        t0 = time.monotonic()
        try:
            payload, deps = self._payload(job)
        except Exception as err:  # noqa: BLE001 - this student only
            self._done.put(Done(job, GradingResult.failed(
                job.student, job.assignment, f"the grader failed: {err}"), None))
            return
        fut = self.client.submit(self.task, payload, *deps, pure=False, retries=0,
                                 key=f"cnn-grade-{self._run_id}-{job.slug}{suffix}")
        self._jobs[fut.key] = (job, t0)
        fut.add_done_callback(self._done.put)

    def _finish(self, fut) -> Done | None:
        if isinstance(fut, Done):
            return fut
        from distributed import KilledWorker
        job, t0 = self._jobs.pop(fut.key)
        secs = time.monotonic() - t0
        c = self.ctx.course
        try:
            if fut.status == "cancelled":
                raise cf.CancelledError()
            out = fut.result()
        except KilledWorker as err:
            if job.slug not in self._alone:
                self._suspects.append(job)
                fut.release()
                self._fill()
                return None
            n = getattr(err, "allowed_failures", None)
            tries = f"{n + 1} grading workers" if isinstance(n, int) else "grading workers"
            done = Done(job, GradingResult.failed(
                job.student, job.assignment,
                f"every try to grade this submission stopped its worker, also when it ran "
                f"alone on the cluster ({tries} died while grading it: out of memory, a crash "
                "or a lost machine); it was not tried again and its tests score 0"), None, secs)
        except (cf.CancelledError, OSError) as err:
            done = Done(job, GradingResult.failed(job.student, job.assignment, "not graded"),
                        None, secs, lost=f"the Dask scheduler went away ({type(err).__name__})")
        except Exception as err:  # noqa: BLE001 - this student only
            done = Done(job, GradingResult.failed(
                job.student, job.assignment,
                f"the grader failed on a Dask worker: {type(err).__name__}: {err}"), None, secs)
        else:
            result = GradingResult.from_json(out["result"])
            if self.store == "shared":
                work = c.work / job.slug
            else:
                work = c.work / job.slug
                if work.exists():
                    shutil.rmtree(work, ignore_errors=True)
                for rel, data in out.get("files", {}).items():
                    dest = _safe_join(work, rel)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
            done = Done(job, result, work, out.get("seconds", secs), where=out.get("where", ""))
        fut.release()
        self._fill()
        return done

    def close(self) -> None:
        for fut in self._blobs.values():
            fut.release()
        self._blobs = {}
        if self.client is not None:
            try:
                # the grading processes (TensorFlow loaded, often) are this run's, not the cluster's
                self.client.run(stop_grading_processes)
            except Exception:  # noqa: BLE001 - a worker that is gone has nothing to stop
                pass
            try:
                self.client.close(timeout=30)
            except Exception:  # noqa: BLE001
                pass
            self.client = None
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=30)
            except Exception:  # noqa: BLE001
                pass
            self.cluster = None


def _identity(x):
    return x


def _safe_join(root: Path, rel: str) -> Path:
    """``root / rel`` for a relative path that stays inside ``root``."""
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or any(p in ("..", "") for p in parts):
        raise ValueError(f"refusing the path {rel!r} (outside the task's folder)")
    return root.joinpath(*parts)


# ------------------------------------------------------------------ on a Dask worker
_STATE: dict = {}
_STATE_LOCK = threading.Lock()


def _worker_root() -> Path:
    """This worker process's private folder (inside Dask's local directory)."""
    if "root" not in _STATE:
        base = None
        try:
            from distributed import get_worker
            base = get_worker().local_directory
        except (ImportError, ValueError):
            pass
        root = Path(tempfile.mkdtemp(prefix="cnn-grading-", dir=base))
        os.chmod(root, 0o700)
        _STATE["root"] = root
    return _STATE["root"]


def _where() -> str:
    try:
        from distributed import get_worker
        return f"{socket.gethostname()} ({get_worker().address})"
    except (ImportError, ValueError):
        return socket.gethostname()


def _machine(limits: Limits) -> tuple[Path, str]:
    """(kernelspec folder, '' or why this worker cannot grade): preflight once per limits."""
    key = repr(sorted(limits.as_dict().items()))
    with _STATE_LOCK:
        found = _STATE.setdefault("machines", {}).get(key)
        if found is None:
            root = _worker_root() / f"jupyter-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
            try:
                prepare_machine(root, limits)
                why = ""
            except SandboxUnavailable as err:
                why = (f"the grading worker {_where()} cannot give the required protections, "
                       f"so it graded nothing (fail closed): {str(err).splitlines()[0]}")
            except Exception as err:  # noqa: BLE001
                why = f"the grading worker {_where()} could not prepare its sandbox: {err}"
            found = _STATE["machines"][key] = (root, why)
    return found


def stop_grading_processes() -> int:
    """Stop this Dask worker's idle grading processes (at the end of a run); how many."""
    with _STATE_LOCK:
        idle, _STATE["idle"] = _STATE.get("idle", []), []
    for w in idle:
        w.stop()
    return len(idle)


def _worker_process():
    from .autograde import WorkerProcess
    with _STATE_LOCK:
        idle = _STATE.setdefault("idle", [])
        return idle.pop() if idle else WorkerProcess()


def _secret_file(secret: bytes | None, jupyter: Path, limits: Limits) -> str:
    if not secret:
        return ""
    from . import secret as secret_mod
    key = hashlib.sha256(secret).hexdigest()[:16]
    folder = _worker_root() / "secret"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / key
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secret)
    secret_mod.check_out_of_reach(path, policy(jupyter, limits)["read"])
    return str(path)


def _source_dir(blob: dict) -> Path:
    folder = _worker_root() / "source" / blob["digest"]
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}{threading.get_ident()}")
        for rel, data in blob["files"].items():
            dest = _safe_join(tmp, rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        try:
            tmp.rename(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def grade_on_worker(payload: dict, template: dict | None = None,
                    source: dict | None = None) -> dict:
    """Grade one task on a Dask worker; ``{"result": GradingResult JSON, "files": {...}}``.

    The same steps as the local pool: the worker's own preflight and kernelspec
    (fail closed for its tasks when a protection is missing), a private task
    folder, the long-lived ``grader.trusted.worker --serve`` process, the same
    time limit. ``files`` (copy store) are the graded notebooks and feedback pages.
    """
    from .autograde import code_digest
    t0 = time.monotonic()
    student, assignment = payload["student"], payload["assignment"]
    limits = Limits.from_dict(payload["limits"])
    where = _where()

    def answer(result: GradingResult, files: dict | None = None) -> dict:
        return {"result": result.to_json(), "files": files or {},
                "seconds": time.monotonic() - t0, "where": where}

    if "code" not in _STATE:
        _STATE["code"] = code_digest()
    if payload["code"] != _STATE["code"]:
        return answer(GradingResult.failed(
            student, assignment,
            f"the grading worker {where} has other grading code than the driver (digest "
            f"{_STATE['code'][:12]} against {payload['code'][:12]}), so it graded nothing; "
            "install the same version of the course on every worker", notes=payload["notes"]))
    jupyter, why = _machine(limits)
    if why:
        return answer(GradingResult.failed(student, assignment, why, notes=payload["notes"]))
    secret_file = _secret_file(payload.get("secret"), jupyter, limits)
    keep = bool(os.environ.get("CNN_GRADING_KEEP_WORK"))
    if payload["store"] == "shared":
        task_path = Path(payload["task_path"])
        task = GradingTask.read(task_path)
        task.jupyter_path, task.secret_file = str(jupyter), secret_file
        task.cache_dir = str(_worker_root() / "cache")
        task_path.write_text(task.to_json(), encoding="utf-8")
        work = task_path.parent
    else:
        work = _worker_root() / "work" / payload["slug"]
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
        sub = work / "submitted" / student / assignment
        sub.mkdir(parents=True)
        for rel, data in payload["files"].items():
            dest = _safe_join(sub, rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        (work / "gradebook.db").write_bytes(template["files"]["gradebook.db"])
        task = GradingTask(student=student, assignment=assignment, work=str(work),
                           source=str(_source_dir(source)), notebooks=list(payload["notebooks"]),
                           limits=limits.as_dict(), jupyter_path=str(jupyter),
                           secret_file=secret_file, cache_dir=str(_worker_root() / "cache"),
                           notes=list(payload["notes"]))
        task_path = work / "task.json"
        task_path.write_text(task.to_json(), encoding="utf-8")
    worker = _worker_process()
    try:
        result = run_staged(worker, task_path, len(task.notebooks), limits)
    finally:
        with _STATE_LOCK:
            _STATE.setdefault("idle", []).append(worker)
    files = {}
    if payload["store"] == "copy":
        for kind, ext in OUTPUTS:
            folder = work / kind / student / assignment
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if f.suffix == ext and f.is_file() and not f.is_symlink():
                        files[f"{kind}/{student}/{assignment}/{f.name}"] = f.read_bytes()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return answer(result, files)

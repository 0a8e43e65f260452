"""Benchmark: what grading a class of 10,000 costs besides the kernels (prints figures).

    .venv/bin/python benchmarks/scale.py [--sizes 100,1000,10000] [--parts merge,driver,real]
                                         [--assignment 01_edge_detection] [--real-students 20]
                                         [--real-assignment 02_padding] [--old-merge-max 1000]

Parts (each size measured in a fresh process, so that peak memory is its own):

``merge``
    N synthetic students' results for one assignment (scores drawn per student,
    a note for one in ten) merged into a gradebook by
    :class:`grader.trusted.gradebook_merge.Merger` (what ``autograde`` does), then
    exported: the grades CSV (:class:`grader.trusted.report.CsvWithNotesExportPlugin`),
    the driver's whole report (grades CSV, per-test CSV, summary, histogram) and
    nbgrader's own ``nbgrader export``; on SQLite and on a private PostgreSQL
    server (``tests/fixtures/postgres.py``: Debian's binaries, fsync on). For
    sizes up to ``--old-merge-max`` it also times the per-result merge through
    nbgrader's ``Gradebook`` calls (how ``autograde`` merged before).
``driver``
    ``autograde`` itself (intake, staging, fingerprints, the Dask backend, merge,
    resume state, reports) on N submissions, on a ``LocalCluster`` of 2 workers of
    1 thread, with a stand-in task that returns a made-up result instead of running
    the kernel: what is measured is the driver's and Dask's overhead. Peak memory
    is the driver process's, which also hosts the scheduler.
``real``
    real runs: ``--real-students`` perfect students on one short notebook, on the
    same ``LocalCluster`` (copy store) and on the local pool.

Peak memory is the process's peak resident set (``ru_maxrss``), imports included;
"base" is the resident set after the imports. Run it on an otherwise idle machine
to compare figures; a busy machine makes every time longer.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


# ------------------------------------------------------------------ synthetic results
def synthetic_results(db_url: str, assignment: str, n: int, seed: int = 0):
    """``[(student, GradingResult)]``: the assignment's real cells, random scores."""
    from nbgrader.api import Gradebook
    from grader.settings import COURSE_ID
    from grader.trusted.records import GradeRecord, GradingResult, NotebookResult
    rng = random.Random(seed)
    with Gradebook(db_url, COURSE_ID) as gb:
        layout = {nb.name: ([(gc.name, float(gc.max_score)) for gc in nb.grade_cells],
                            [sc.name for sc in nb.solution_cells])
                  for nb in gb.find_assignment(assignment).notebooks}
    out = []
    for i in range(n):
        student = f"student{i:05d}"
        res = GradingResult(student, assignment, timestamp=f"2024-05-01 10:{i % 60:02d}:00")
        if i % 10 == 3:
            res.notes.append("a cell ran for too long and was stopped")
        for nb, (grades, solutions) in layout.items():
            res.notebooks[nb] = NotebookResult(
                graded=True, comments={s: None for s in solutions},
                grades={g: GradeRecord(mx if rng.random() < 0.7 else 0.0, mx) for g, mx in grades},
                outcomes={g: "" for g, _ in grades})
        out.append((student, res))
    return out


def _registered(build: Path, assignment: str, db_url: str | None):
    from grader.trusted.course import Course, prepare
    course = Course(root=REPO, source=REPO / "solutions", build=build, db=db_url)
    prepare(course, [assignment], log=lambda *a: None)
    return course


def _perfect_class(course, assignment: str, n: int, dest: Path) -> None:
    """N perfect students' submissions of ``assignment`` (the example class's answers)."""
    import nbformat
    from grader.authoring import example_class
    made = {name: example_class.student_notebooks(course, assignment, name)[0]["perfect"]
            for name in course.notebooks(assignment)}
    for i in range(n):
        d = dest / f"student{i:05d}" / assignment
        d.mkdir(parents=True)
        for name, nb in made.items():
            nbformat.write(nb, str(d / f"{name}.ipynb"))


def one_merge(db: str, n: int, assignment: str, old: bool) -> dict:
    """Merge and export N results on ``db`` (sqlite | postgresql); figures as a dict."""
    from grader.trusted import report
    from grader.trusted.autograde import MERGE_BATCH
    from grader.trusted.course import nbgrader_args, save_state
    from grader.trusted.gradebook_merge import Merger
    from grader.settings import tool_env
    folder = Path(tempfile.mkdtemp(prefix="cnn-scale-"))
    server = None
    try:
        url = None
        if db == "postgresql":
            from fixtures.postgres import PostgresServer, find_bin
            server = PostgresServer(find_bin(), fsync=True).start()
            url = server.database()
        course = _registered(folder / "build", assignment, url)
        results = synthetic_results(course.db_url, assignment, n)
        base = current_rss_mib()
        out = {"part": "merge", "db": db, "students": n, "base_mib": round(base, 1)}
        t0 = time.perf_counter()
        state = {"graded": {}}
        with Merger(course.db_url) as m:
            for i, (student, res) in enumerate(results, 1):
                notes = m.merge(student, assignment, res)
                state["graded"][f"{student}\x1f{assignment}"] = {
                    "fingerprint": "x", "notes": notes,
                    "outcomes": {nb: e.outcomes for nb, e in res.notebooks.items()},
                    "protections": {}}
                if i % MERGE_BATCH == 0:
                    m.commit()
            m.commit()
        out["merge_s"] = round(time.perf_counter() - t0, 2)
        save_state(course, state)
        t0 = time.perf_counter()
        from nbgrader.api import Gradebook
        from grader.settings import COURSE_ID
        with Gradebook(course.db_url, COURSE_ID) as gb:
            report.CsvWithNotesExportPlugin(to=str(folder / "grades.csv")).export(gb)
        out["grades_csv_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        rep = report.build(course, [assignment], state, [], [])
        report.write(course, rep)
        out["report_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "export",
                               f"--to={folder / 'nbgrader.csv'}", *nbgrader_args(course)],
                              cwd=folder, capture_output=True, text=True, env=tool_env())
        out["nbgrader_export_s"] = round(time.perf_counter() - t0, 2)
        if proc.returncode != 0:
            out["nbgrader_export_error"] = proc.stderr[-500:]
        rows = sum(1 for _ in open(folder / "grades.csv", encoding="utf-8")) - 1
        out["csv_rows"] = rows
        out["peak_mib"] = round(rss_mib(), 1)
        if old:
            from test_gradebook_merge import merge_with_nbgrader_api
            course2 = _registered(folder / "build-old", assignment,
                                  server.database() if server else None)
            results2 = synthetic_results(course2.db_url, assignment, n)
            t0 = time.perf_counter()
            for student, res in results2:
                merge_with_nbgrader_api(course2.db_url, student, assignment, res)
            out["old_merge_s"] = round(time.perf_counter() - t0, 2)
        return out
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the driver, no kernels
def stand_in(grade_ids: dict, payload: dict, template=None, source=None) -> dict:
    """A Dask task that answers like :func:`grade_on_worker` without running a kernel."""
    from grader.trusted.records import GradeRecord, GradingResult, NotebookResult
    student = payload["student"]
    size = sum(len(v) for v in payload.get("files", {}).values())
    res = GradingResult(student, payload["assignment"])
    for nb, grades in grade_ids.items():
        res.notebooks[nb] = NotebookResult(
            graded=True, grades={g: GradeRecord(mx if (hash(student + g) % 10) < 7 else 0.0, mx)
                                 for g, mx in grades},
            outcomes={g: "" for g, _ in grades}, seconds=0.0)
    res.notes = [] if size else ["no files arrived"]
    return {"result": res.to_json(), "files": {}, "seconds": 0.0, "where": "stand-in"}


def one_driver(n: int, assignment: str, window: int | None) -> dict:
    from nbgrader.api import Gradebook
    from grader.settings import COURSE_ID
    from grader.trusted.autograde import Grader
    from grader.trusted.backends import DaskBackend
    from grader.trusted.sandbox import Limits
    folder = Path(tempfile.mkdtemp(prefix="cnn-scale-"))
    try:
        course = _registered(folder / "build", assignment, None)
        with Gradebook(course.db_url, COURSE_ID) as gb:
            grade_ids = {nb.name: [(gc.name, float(gc.max_score)) for gc in nb.grade_cells]
                         for nb in gb.find_assignment(assignment).notebooks}
        _perfect_class(course, assignment, n, folder / "class")
        base = current_rss_mib()
        marks = {}
        t_start = time.perf_counter()

        def log(line: str) -> None:
            if line.startswith("grading "):
                marks["queued"] = time.perf_counter()
            elif line.startswith("["):
                marks["last_result"] = time.perf_counter()

        backend = DaskBackend("local", workers=2, window=window, task=partial(stand_in, grade_ids))
        grader = Grader(course, Limits(), log=log, progress=True, secret_file=None,
                        backend=backend)
        rep = grader.run(folder / "class", [assignment])
        t_end = time.perf_counter()
        graded = sum(1 for o in rep.outcomes if o.status == "graded")
        return {"part": "driver", "students": n, "window": "all" if window == 0 else "default",
                "graded": graded, "wall_s": round(t_end - t_start, 1),
                "intake_fingerprint_s": round(marks.get("queued", t_end) - t_start, 1),
                "tasks_and_merge_s": round(marks.get("last_result", t_end)
                                           - marks.get("queued", t_start), 1),
                "reports_s": round(t_end - marks.get("last_result", t_end), 1),
                "ms_per_task": round(1000 * (marks.get("last_result", t_end)
                                             - marks.get("queued", t_start)) / max(n, 1), 2),
                "base_mib": round(base, 1), "peak_mib": round(rss_mib(), 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ real notebooks
def one_real(n: int, assignment: str, scheduler: str | None) -> dict:
    from grader.trusted.autograde import autograde
    from grader.trusted.sandbox import Limits
    folder = Path(tempfile.mkdtemp(prefix="cnn-scale-"))
    try:
        course = _registered(folder / "build", assignment, None)
        _perfect_class(course, assignment, n, folder / "class")
        secret = folder / "secret"
        secret.write_text("benchmark-secret-" + "y" * 40)
        secret.chmod(0o600)
        t0 = time.perf_counter()
        rep = autograde(folder / "class", course=course, limits=Limits(), workers=2,
                        assignments=[assignment], log=lambda *a: None, secret_file=secret,
                        scheduler=scheduler)
        wall = time.perf_counter() - t0
        scores = sorted({o.score for o in rep.outcomes})
        return {"part": "real", "students": n, "backend": scheduler or "local pool",
                "wall_s": round(wall, 1), "s_per_notebook": round(wall / max(n, 1), 2),
                "scores": scores, "peak_mib": round(rss_mib(), 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the runner
def _child(spec: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)],
                          capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {**spec, "error": (proc.stderr or proc.stdout)[-800:]}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--parts", default="merge,driver,real")
    ap.add_argument("--dbs", default="sqlite,postgresql")
    ap.add_argument("--assignment", default="01_edge_detection",
                    help="assignment of the merge and driver parts (default: the one with "
                         "the most tests)")
    ap.add_argument("--old-merge-max", type=int, default=1000)
    ap.add_argument("--real-students", type=int, default=20)
    ap.add_argument("--real-assignment", default="02_padding")
    ap.add_argument("--all-at-once", action="store_true",
                    help="driver part: also send every task to the scheduler at once (window 0)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        spec = json.loads(args.one)
        part = spec.pop("part")
        fn = {"merge": one_merge, "driver": one_driver, "real": one_real}[part]
        print(json.dumps(fn(**spec)), flush=True)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    parts = args.parts.split(",")
    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at start "
          "(others' work makes every time longer)", flush=True)
    rows = []
    if "merge" in parts:
        for db in args.dbs.split(","):
            for n in sizes:
                r = _child({"part": "merge", "db": db, "n": n, "assignment": args.assignment,
                            "old": n <= args.old_merge_max})
                rows.append(r)
                print(json.dumps(r), flush=True)
    if "driver" in parts:
        for n in sizes:
            r = _child({"part": "driver", "n": n, "assignment": args.assignment, "window": None})
            rows.append(r)
            print(json.dumps(r), flush=True)
        if args.all_at_once:
            r = _child({"part": "driver", "n": max(sizes), "assignment": args.assignment,
                        "window": 0})
            rows.append(r)
            print(json.dumps(r), flush=True)
    if "real" in parts:
        for scheduler in ("local", None):
            r = _child({"part": "real", "n": args.real_students,
                        "assignment": args.real_assignment, "scheduler": scheduler})
            rows.append(r)
            print(json.dumps(r), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

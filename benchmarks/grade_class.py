"""Benchmark: grade a synthetic class with ``grader.trusted.autograde`` and with plain nbgrader.

    .venv/bin/python benchmarks/grade_class.py [--students 30] [--assignment STEM ...]
                                               [--workers N] [--skip-plain]

Builds a class of N students over every notebook in ``solutions/`` (by default)
from the example class's kinds (perfect, typical mistakes, empty: 6/3/1 of
every 10 students), then, in one run and on the same submissions:

1. ``grader.trusted.autograde`` (parallel workers, sandboxed kernels, feedback, reports);
2. plain sequential ``nbgrader autograde <assignment>`` per assignment (its default
   Execute preprocessor, no feedback), the baseline.

It prints, for each: wall time, CPU seconds (user + system of every process it
started, kernels included), median seconds per graded notebook and peak memory
(the largest sum of resident memory of this process's descendants, sampled every
0.2 s); for ours also where the time went (kernel start, the setup cell's
imports, the other cells, the verdicts, the rest of nbgrader, feedback, the
gradebook). Then the two ratios issue 14 asks for: plain's wall time over ours,
and our notebooks per core-hour over plain's (plain runs on one core, we on
``--workers``), and whether every student's score on every notebook is the same in
both. Both runs set CNN_COURSE_GRADING=1 so the notebooks shrink their training in
each. It is a measurement that prints figures, not a timed test. Everything is
written under a temporary folder (or ``--keep DIR``).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.authoring import example_class  # noqa: E402
from grader.trusted.autograde import autograde, default_workers  # noqa: E402
from grader.trusted.course import Course, load_state, nbgrader_args, prepare  # noqa: E402
from grader.settings import tool_env  # noqa: E402
from grader.trusted.sandbox import Limits  # noqa: E402

KINDS = ["perfect"] * 6 + ["typical_mistakes"] * 3 + ["empty"]


class PeakMemory:
    """Sample the summed RSS of all descendants of this process."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            parents, rss = {}, {}
            for entry in Path("/proc").glob("[0-9]*"):
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                pid = int(entry.name)
                parents[pid] = int(fields.get("PPid", "0").strip() or 0)
                rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024 if "VmRSS" in fields else 0
            total = 0
            for pid in rss:
                p, seen = pid, 0
                while p and p != me and seen < 64:
                    p, seen = parents.get(p, 0), seen + 1
                if p == me or pid == me:
                    total += rss[pid]
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)


_CPUACCT: list = []


def _cpuacct() -> Path | None:
    """A cpuacct cgroup holding this process (and so everything it starts), if one can be made.

    Warm kernels are children of a fork server that is killed, not waited for, so
    ``getrusage`` would not see them; the cgroup counts every descendant.
    """
    if _CPUACCT:
        return _CPUACCT[0]
    for root in (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct")):
        try:
            group = root / f"cnn-bench-{os.getpid()}"
            group.mkdir(exist_ok=True)
            (group / "cgroup.procs").write_text(str(os.getpid()))
            _CPUACCT.append(group)
            return group
        except OSError:
            continue
    _CPUACCT.append(None)
    return None


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and everything it started."""
    group = _cpuacct()
    if group is not None:
        return int((group / "cpuacct.usage").read_text()) / 1e9
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def scores(course: Course, stems: list[str]) -> dict:
    """``{(student, assignment): score}`` from the course's gradebook."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(course.db_url, "cnn-course") as gb:
        for stem in stems:
            for sub in gb.assignment_submissions(stem):
                out[(sub.student.id, stem)] = round(float(sub.score), 6)
    return out


def make_class(course: Course, dest: Path, stems: list[str], n: int) -> None:
    kinds_dir = dest.parent / "kinds"
    example_class.build(kinds_dir, course=course, assignments=stems, log=lambda *a: None,
                        kinds=["perfect", "typical_mistakes", "empty"])
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        shutil.copytree(kinds_dir / kind, dest / f"student{i + 1:02d}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--assignment", action="append", default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    ap.add_argument("--skip-plain", action="store_true", help="do not run plain nbgrader")
    ap.add_argument("--keep", default=None, help="work here and keep the files")
    args = ap.parse_args(argv)

    os.environ["CNN_COURSE_GRADING"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    stems = args.assignment or Course.default().assignments()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cnn-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    ours = Course(root=REPO, source=REPO / "solutions", build=tmp / "ours")
    plain = Course(root=REPO, source=REPO / "solutions", build=tmp / "plain")
    for c in (ours, plain):
        if c.build.exists():
            shutil.rmtree(c.build)
    make_class(ours, tmp / "class", stems, args.students)
    limits = Limits(cell_timeout=args.timeout)
    workers = args.workers or default_workers(limits)
    n_nb = args.students * len(stems)
    print(f"synthetic class: {args.students} students x {len(stems)} notebook(s) = {n_nb} "
          f"notebooks; {os.cpu_count()} CPU cores; {workers} worker(s)")

    # 1. grader.trusted.autograde
    prepare(ours, stems, log=lambda *a: None)
    t0, c0 = time.monotonic(), cpu_seconds()
    with PeakMemory() as mem_ours:
        autograde(tmp / "class", course=ours, limits=limits, workers=workers,
                  assignments=stems, log=lambda *a: None, progress=False)
    wall_ours, cpu_ours = time.monotonic() - t0, cpu_seconds() - c0
    graded = load_state(ours).get("graded", {})
    per_nb = [v for rec in graded.values() for v in (rec.get("notebook_seconds") or {}).values()
              if v]
    task_secs = [rec.get("seconds", 0) for rec in graded.values()]
    print(f"grader.trusted.autograde  wall {wall_ours:8.1f} s   CPU {cpu_ours:8.1f} s   median per "
          f"notebook {statistics.median(task_secs):6.2f} s (kernel run "
          f"{statistics.median(per_nb):.2f} s)   peak memory {mem_ours.peak / 2**30:5.2f} GiB")
    phases: dict[str, float] = {}
    for rec in graded.values():
        for key, value in (rec.get("phases") or {}).items():
            phases[key] = phases.get(key, 0.0) + float(value)
    total = sum(phases.values()) or 1.0
    print("  where the time went (seconds summed over tasks, share):")
    for key in ("kernel_start", "imports", "cells", "verdicts", "nbgrader_other", "feedback",
                "gradebook"):
        if key in phases:
            print(f"    {key:<15} {phases[key]:8.1f} s  {100 * phases[key] / total:5.1f} %")

    if args.skip_plain:
        return 0
    # 2. plain sequential nbgrader autograde, same submissions
    prepare(plain, stems, log=lambda *a: None)
    shutil.copytree(ours.submitted, plain.submitted)
    env = tool_env()
    t0, c0 = time.monotonic(), cpu_seconds()
    failures = 0
    with PeakMemory() as mem_plain:
        for stem in stems:
            proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", stem,
                                   "--force", "--log-level=ERROR",
                                   f"--Execute.timeout={args.timeout}", *nbgrader_args(plain)],
                                  cwd=plain.build, env=env, capture_output=True, text=True)
            failures += proc.returncode != 0
    wall_plain, cpu_plain = time.monotonic() - t0, cpu_seconds() - c0
    print(f"plain nbgrader (seq.)     wall {wall_plain:8.1f} s   CPU {cpu_plain:8.1f} s   mean per "
          f"notebook {wall_plain / n_nb:6.2f} s   peak memory {mem_plain.peak / 2**30:5.2f} GiB"
          + (f"   ({failures} assignment run(s) reported errors)" if failures else ""))
    print(f"wall-time speed-up: plain / ours = {wall_plain / wall_ours:.2f}x (target 3x)")
    print(f"notebooks per core-hour: ours / plain = {wall_plain / (wall_ours * workers):.2f}x "
          f"(target 1.5x; ours on {workers} core(s), plain on 1); CPU seconds per notebook: "
          f"ours {cpu_ours / n_nb:.2f}, plain {cpu_plain / n_nb:.2f}")
    a, b = scores(ours, stems), scores(plain, stems)
    differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    print("grades: identical to plain nbgrader's for every student and notebook" if not differ
          else f"grades: {len(differ)} differ from plain nbgrader's, e.g. "
               + ", ".join(f"{s}/{n}: ours {a.get((s, n))}, plain {b.get((s, n))}"
                           for s, n in differ[:5]))
    print("(ours also writes feedback and reports, sandboxes every kernel, and decides every "
          "verdict outside the student's kernel)")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: grade a synthetic class with ``grader.trusted.autograde`` and with plain nbgrader.

    .venv/bin/python benchmarks/grade_class.py [--students 30] [--assignment STEM ...]
                                               [--workers N] [--skip-plain]

Builds a class of N students over every notebook in ``solutions/`` (by default)
from the example class's kinds (perfect, typical mistakes, empty: 6/3/1 of
every 10 students), then, in one run and on the same submissions:

1. ``grader.trusted.autograde`` (parallel workers, sandboxed kernels, feedback, reports);
2. plain sequential ``nbgrader autograde <assignment>`` per assignment (its default
   Execute preprocessor, no feedback), the baseline.

It prints wall time, median seconds per graded notebook, peak memory (the
largest sum of resident memory of this process's descendants, sampled every
0.2 s) and the ratio of the two wall times. Both runs set CNN_COURSE_GRADING=1
so notebook 07 trains on its small subset in each. It is a measurement that
prints figures, not a timed test. Everything is written under a temporary
folder (or ``--keep DIR``).
"""
from __future__ import annotations

import argparse
import os
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
from grader.authoring.release import tool_env  # noqa: E402
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
    t0 = time.monotonic()
    with PeakMemory() as mem_ours:
        autograde(tmp / "class", course=ours, limits=limits, workers=workers,
                  assignments=stems, log=lambda *a: None)
    wall_ours = time.monotonic() - t0
    per_nb = [v for rec in load_state(ours).get("graded", {}).values()
              for v in (rec.get("notebook_seconds") or {}).values() if v]
    task_secs = [rec.get("seconds", 0) for rec in load_state(ours).get("graded", {}).values()]
    print(f"grader.trusted.autograde      wall {wall_ours:8.1f} s   median per notebook "
          f"{statistics.median(task_secs):6.2f} s (kernel run {statistics.median(per_nb):.2f} s)   "
          f"peak memory {mem_ours.peak / 2**30:5.2f} GiB")

    if args.skip_plain:
        return 0
    # 2. plain sequential nbgrader autograde, same submissions
    prepare(plain, stems, log=lambda *a: None)
    shutil.copytree(ours.submitted, plain.submitted)
    env = tool_env()
    t0 = time.monotonic()
    failures = 0
    with PeakMemory() as mem_plain:
        for stem in stems:
            proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", stem,
                                   "--force", "--log-level=ERROR",
                                   f"--Execute.timeout={args.timeout}", *nbgrader_args(plain)],
                                  cwd=plain.build, env=env, capture_output=True, text=True)
            failures += proc.returncode != 0
    wall_plain = time.monotonic() - t0
    print(f"plain nbgrader (seq.) wall {wall_plain:8.1f} s   mean per notebook "
          f"{wall_plain / n_nb:6.2f} s   peak memory {mem_plain.peak / 2**30:5.2f} GiB"
          + (f"   ({failures} assignment run(s) reported errors)" if failures else ""))
    print(f"speed-up: plain / grader.trusted.autograde = {wall_plain / wall_ours:.2f}x "
          "(grader.trusted.autograde also writes feedback, reports and sandboxes every kernel)")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m grader validate NOTEBOOK``: a student's own check before submitting.

Runs the notebook top to bottom in a fresh kernel, the same sandboxed kernel the
autograder uses (time limit per cell, memory limit, ``CNN_COURSE_GRADING=1``),
then prints one line per test cell (pass or fail, points, and the first lines
of the failure message) and exits non-zero when anything fails, so that CI and
classroom scripts can rely on it (plain ``nbgrader validate`` exits 0 even when
tests fail). A test passes exactly when the autograder would give it full
points (nbgrader's ``determine_grade``). The notebook file is not changed.

Exit status: 0 every test passed; 1 a test failed or a test cell was edited;
2 the file is not a readable notebook (or has no test cells).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nbgrader import utils as nbutils

from .preprocessors import HIDDEN_RE, SandboxedExecute, notes_of, pass_fail_only
from .sandbox import BEST_EFFORT, Limits, human_bytes, write_kernelspec


@dataclass
class TestResult:
    grade_id: str
    points: float
    passed: bool
    message: str = ""


@dataclass
class Validation:
    path: Path
    tests: list[TestResult] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.edited and bool(self.tests) and all(
            t.passed for t in self.tests)

    @property
    def exit_code(self) -> int:
        if self.error or not self.tests:
            return 2
        return 0 if self.ok else 1


def _message(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = (out.get("evalue") or "").strip()
            return f"{out.get('ename')}: {value}" if value else out.get("ename", "error")
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "the test wrote to stderr (the autograder counts that as a failure): " \
                   + out.get("text", "").strip()[:300]
    return ""


def validate(path, limits: Limits | None = None) -> Validation:
    path = Path(path).resolve()
    result = Validation(path)
    limits = limits or Limits(cell_timeout=300, notebook_timeout=1800)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as err:  # noqa: BLE001
        result.error = f"{path.name} is not a readable notebook: {str(err).splitlines()[0][:300]}"
        return result
    for cell in nb.cells:
        if cell.cell_type == "code" and nbutils.is_grade(cell) and nbutils.is_locked(cell):
            saved = cell.metadata.get("nbgrader", {}).get("checksum")
            if saved and nbutils.compute_checksum(cell) != saved:
                result.edited.append(cell.metadata["nbgrader"]["grade_id"])
    for cell in nb.cells:  # a student's copy has no hidden tests; an instructor's is run as one
        if cell.cell_type == "code" and nbutils.is_grade(cell):
            cell.source = HIDDEN_RE.sub("", cell.source)
    with tempfile.TemporaryDirectory(prefix="cnn-validate-") as tmp:
        # a student's own check: the sandbox is applied as far as this machine allows
        write_kernelspec(Path(tmp), limits, env={"CNN_COURSE_GRADING": "1",
                                                 "TF_CPP_MIN_LOG_LEVEL": "3"},
                         required=BEST_EFFORT)
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + old if old else "")
        try:
            ex = SandboxedExecute(timeout=limits.cell_timeout,
                                  notebook_timeout=limits.notebook_timeout,
                                  output_bytes=limits.output_bytes,
                                  memory_label=human_bytes(limits.memory_bytes),
                                  trusted_verdicts=False, scratch_root=str(Path(tmp) / "kernel"))
            nb, _ = ex.preprocess(nb, {"metadata": {"path": str(path.parent)}})
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old
    result.notes = list(notes_of(nb))
    for cell in nb.cells:
        if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
            pass_fail_only(cell)  # as when grading
            score, max_points = nbutils.determine_grade(cell)
            passed = score is not None and score >= max_points
            result.tests.append(TestResult(cell.metadata["nbgrader"]["grade_id"], max_points,
                                           passed, "" if passed else _message(cell) or "failed"))
    return result


def format_report(v: Validation, lines_per_failure: int = 6) -> str:
    out = [f"Validating {v.path.name}"]
    if v.error:
        return "\n".join(out + [f"ERROR  {v.error}"])
    for t in v.tests:
        head = f"{'PASS' if t.passed else 'FAIL'}  {t.grade_id} ({t.points:g} pt{'s' if t.points != 1 else ''})"
        out.append(head)
        if not t.passed:
            msg = t.message.splitlines()
            out += ["      " + line for line in msg[:lines_per_failure]]
            if len(msg) > lines_per_failure:
                out.append("      ...")
    for gid in v.edited:
        out.append(f"EDITED  test cell '{gid}' differs from the original; the autograder "
                   "will put the original back (undo your change to see the real result)")
    for note in v.notes:
        out.append(f"NOTE  {note}")
    passed = sum(t.passed for t in v.tests)
    pts = sum(t.points for t in v.tests if t.passed)
    total = sum(t.points for t in v.tests)
    if not v.tests:
        out.append("no test cells found (is this a course notebook?)")
    else:
        out.append(f"{passed}/{len(v.tests)} tests passed, {pts:g}/{total:g} points "
                   "(visible tests only: hidden tests run when the notebook is graded)")
    out.append("OK" if v.ok else "FAILED")
    return "\n".join(out)

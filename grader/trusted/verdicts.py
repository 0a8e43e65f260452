"""Decide a test cell's verdict in the grader's own process.

:func:`run_test` executes the instructor's source of one test cell (visible checks
and hidden tests) here, not in the student's kernel. Its namespace holds what the
notebook's locked setup cells import (:func:`setup_namespace`: ``np``, ``check``,
...) and, for every other name the cell reads, the student's function or constant
as bound by a :class:`grader.trusted.remote.Remote`. The cell passes exactly when
it raises nothing; what it printed becomes its output, and the exception (a
``CheckFailure`` with its message, or any other error) its error output.

While grading, hidden inputs are seeded per student (:mod:`grader.references.seeding`).
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import time
import traceback
import warnings
from dataclasses import dataclass, field

import nbformat

from utils.checks.core import CheckFailure

from .remote import CallTimeout, KernelLost, Remote, RemoteProtocolError


@dataclass
class Verdict:
    """The outcome of one test cell, decided in the grader's process."""
    grade_id: str
    passed: bool
    stdout: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    kernel_lost: str = ""    # why the kernel cannot run anything more ("" when it can)
    calls: int = 0           # calls made to the student's functions
    seconds: float = 0.0

    def outputs(self) -> list:
        """The cell's outputs in nbformat: what the test printed, then its error."""
        outs = []
        if self.stdout:
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=self.stdout))
        if not self.passed:
            outs.append(nbformat.v4.new_output("error", ename=self.ename or "Error",
                                               evalue=self.evalue,
                                               traceback=self.traceback
                                               or [f"{self.ename}: {self.evalue}"]))
        return outs

    @property
    def message(self) -> str:
        """First line of the failure ('' when passed), for reports."""
        if self.passed:
            return ""
        first = self.evalue.strip().splitlines()[0] if self.evalue.strip() else ""
        return f"{self.ename}: {first}"[:300]


def _import_statements(source: str) -> list[ast.stmt]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def setup_namespace(sources: list[str]) -> dict:
    """The names the locked setup cells import, imported here (nothing else of them runs)."""
    ns: dict = {"__name__": "__cnn_test__", "__builtins__": builtins}
    for src in sources:
        body = _import_statements(src)
        if body:
            exec(compile(ast.Module(body=body, type_ignores=[]), "<setup imports>", "exec"), ns)
    return ns


def names_read(source: str) -> set[str]:
    """Names the cell reads but never binds itself (builtins excluded)."""
    tree = ast.parse(source)
    loaded, stored = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                stored.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stored.add(node.name)
    return {n for n in loaded - stored if not hasattr(builtins, n)}


def _failure(exc: BaseException) -> tuple[str, str, list[str]]:
    if isinstance(exc, CheckFailure):
        return type(exc).__name__, str(exc), exc._render_traceback_()
    lines = traceback.format_exception_only(type(exc), exc)
    frames = getattr(exc, "_cnn_student_frames", None)
    if frames:
        lines.append("Where it happened in your code:\n")
        lines += traceback.format_list([traceback.FrameSummary(f, n, name, line=text)
                                        for f, n, name, text in frames])
    return type(exc).__name__, str(exc), [line.rstrip("\n") for line in lines]


def _missing_message(missing: list[str], cells: list[str]) -> str:
    """Why the test cannot run: an exercise not written yet (named), or names not defined."""
    from utils.checks.unwritten import message
    for name in missing:
        text = message(name, cells) if cells else None
        if text:
            return text
    names = ", ".join(f"`{n}`" for n in missing)
    one = len(missing) == 1
    return (f"{names} {'is' if one else 'are'} not defined in the notebook, so this test cannot "
            f"run.\nRun the cell that defines {'it' if one else 'them'} (and keep the name as "
            "given), then run this test again.")


def run_test(source: str, grade_id: str, base: dict, remote: Remote, *,
             secret: bytes | None = None, assignment: str = "", student: str = "",
             cells: list[str] | None = None) -> Verdict:
    """Run one test cell's source here against the student's names; return its verdict.

    ``cells``: the sources of the submission's code cells so far (read by the grader),
    to name the exercise not written yet when the test reads a name nothing defines.
    """
    start = time.monotonic()
    calls_before = remote.calls
    out = io.StringIO()
    verdict = Verdict(grade_id, passed=False)
    try:
        wanted = names_read(source) - set(base)
        bound = remote.bind(wanted)
        missing = sorted(wanted - set(bound))
        if missing:
            raise CheckFailure(_missing_message(missing, cells or []))
        ns = dict(base)
        ns.update(bound)
        if secret:
            from ..references import seeding  # instructors only: not in the students' package
            seeds = seeding.for_test(secret, assignment, grade_id, student)
        else:
            seeds = contextlib.nullcontext()
        with seeds, contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, f"<test {grade_id}>", "exec"), ns)
        verdict.passed = True
    except KernelLost as exc:
        verdict.ename, verdict.evalue = "KernelLost", str(exc)
        verdict.kernel_lost = str(exc)
    except CallTimeout as exc:
        verdict.ename, verdict.evalue = "CellTimeoutError", str(exc)
    except RemoteProtocolError as exc:
        verdict.ename = "GradingError"
        verdict.evalue = f"the kernel did not answer the test properly: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure of the test is its verdict
        verdict.ename, verdict.evalue, verdict.traceback = _failure(exc)
    verdict.stdout = out.getvalue()[:100_000]
    verdict.calls = remote.calls - calls_before
    verdict.seconds = round(time.monotonic() - start, 3)
    return verdict

"""nbgrader preprocessors that make autograding robust (used by :mod:`grader.trusted.worker`).

They plug into nbgrader's own ``Autograde`` and ``GenerateFeedback`` converters
(``Autograde.sanitize_preprocessors``, ``Autograde.autograde_preprocessors``,
``GenerateFeedback.preprocessors``):

sanitize step
    :class:`RepairMetadata` resets every cell's nbgrader metadata to what the
    gradebook says for its grade id (points, grade/solution/locked flags, cell
    type), drops metadata with unknown or duplicated grade ids, and notes each
    repair. nbgrader's ``OverwriteCells`` (with ``add_missing_cells``) then
    restores edited and deleted test cells from the gradebook.
autograde step
    :class:`InjectGuard` scans the student's cells for tampering and injects the
    in-kernel guard (:mod:`grader.trusted.tamper`); :class:`SandboxedExecute` runs the
    notebook in the sandboxed kernel (:mod:`grader.trusted.sandbox`) with a time limit
    per cell and per notebook, caps printed output, and, when the kernel dies or
    hangs, marks every later cell as failed with the reason (plain nbgrader
    leaves them without output, which its ``determine_grade`` scores as
    *passed*); :class:`RemoveGuard` takes the injected code out again, scores
    tests zero when tampering was found, and removes symlinks the kernel made.
feedback step
    :class:`HideHiddenTests` removes hidden-test code and tracebacks (keeping the
    failure message); :class:`FeedbackNotes` adds the grading notes at the top.

Notes (why a test failed for a reason outside the test) travel in the notebook
metadata under ``cnn_grading``; the grading report reads them from there.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Bool, Integer, Unicode

from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from grader_kernel import collector, probe

from . import tamper
from .remote import CallTimeout, Channel, KernelLost, Remote, RemoteProtocolError, defining_sources
from .sandbox import KERNEL_NAME, forbidden_probes
from .verdicts import run_test, setup_namespace

META = "cnn_grading"
HIDDEN_RE = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*$\n?",
                       re.S | re.M)


def notes_of(nb) -> list[str]:
    return nb.metadata.setdefault(META, {}).setdefault("notes", [])


def add_note(nb, text: str) -> None:
    notes = notes_of(nb)
    if text not in notes:
        notes.append(text)


def pass_fail_only(cell) -> None:
    """Make a test cell's score depend only on whether it raised.

    nbgrader's ``determine_grade`` also scores a test cell 0 when anything was
    written to stderr (TensorFlow's C++ start-up log, a library's
    DeprecationWarning) and treats a displayed number as *partial credit* (a
    check returns the student's array). The course's tests pass or fail by
    raising, so stderr text is kept as ordinary output and a displayed result
    as display data.
    """
    if cell.get("cell_type") != "code" or not nbutils.is_grade(cell) or nbutils.is_solution(cell):
        return
    for out in cell.get("outputs", []):
        if out.get("output_type") == "execute_result":
            out["output_type"] = "display_data"
            out.pop("execution_count", None)
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            out["name"] = "stdout"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


# ====================================================================== sanitize
class RepairMetadata(NbGraderPreprocessor):
    """Reset nbgrader cell metadata to the gradebook's; drop unknown or duplicate ids."""

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        with Gradebook(nbg["db_url"]) as gb:
            try:
                source = gb.find_notebook(nbg["notebook"], nbg["assignment"])
            except MissingEntry:
                return nb, resources
            cells = {c.name: c for c in source.source_cells}
            grades = {c.name: c.max_score for c in source.grade_cells}
            solutions = {c.name for c in source.solution_cells}
            tasks = {c.name for c in source.task_cells}
        seen = set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            if not isinstance(meta, dict):
                del cell.metadata["nbgrader"]
                add_note(nb, "a cell had malformed nbgrader metadata; it was removed")
                continue
            gid = meta.get("grade_id")
            if gid is None and not any(meta.get(k) for k in ("grade", "solution", "locked", "task")):
                continue
            if gid not in cells and gid not in grades and gid not in solutions:
                del cell.metadata["nbgrader"]
                if gid is not None:
                    add_note(nb, f"cell metadata with unknown grade id '{gid}' was ignored "
                                 "(the cell runs as ordinary code)")
                else:
                    add_note(nb, "a cell was marked as graded without a grade id; "
                                 "its marking was ignored")
                continue
            if gid in seen:
                del cell.metadata["nbgrader"]
                add_note(nb, f"grade id '{gid}' appeared twice; the second copy runs as ordinary code")
                continue
            seen.add(gid)
            src = cells.get(gid)
            canonical = {"grade": gid in grades, "grade_id": gid,
                         "locked": bool(src.locked) if src is not None else False,
                         "schema_version": 3, "solution": gid in solutions,
                         "task": gid in tasks}
            if gid in grades:
                canonical["points"] = float(grades[gid])
            changed = [k for k, v in canonical.items()
                       if k in ("grade", "solution", "locked", "points", "task")
                       and meta.get(k, False if k != "points" else None) != v]
            if src is not None and cell.cell_type != src.cell_type:
                changed.append("cell_type")
                cell.cell_type = src.cell_type
                if src.cell_type == "code":
                    cell.setdefault("outputs", [])
                    cell.setdefault("execution_count", None)
                else:
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
            for key in ("checksum", "cell_type"):
                if key in meta:
                    canonical[key] = meta[key]
            cell.metadata["nbgrader"] = canonical
            if changed:
                add_note(nb, f"the nbgrader metadata of cell '{gid}' had been changed "
                             f"({', '.join(sorted(set(changed)))}); it was restored")
        return nb, resources


# ====================================================================== autograde
#: set by the worker for the notebook it grades (in memory only: never in a file)
_GRADING_SECRET: dict[str, bytes] = {}


def set_grading_secret(secret: bytes | None) -> None:
    """Hidden inputs per student while the worker grades (None: fixed seeds)."""
    _GRADING_SECRET.clear()
    if secret:
        _GRADING_SECRET["value"] = bytes(secret)


def is_test_cell(cell) -> bool:
    """A cell nbgrader scores automatically (graded, not a written answer)."""
    return (cell.get("cell_type") == "code" and nbutils.is_grade(cell)
            and not nbutils.is_solution(cell))


class ScanTampering(NbGraderPreprocessor):
    """Read the student's own cells for attempts to tamper with grading; record what was found."""

    def preprocess(self, nb, resources):
        findings = []
        for cell in nb.cells:
            if cell.cell_type != "code" or ("nbgrader" in cell.metadata
                                            and nbutils.is_locked(cell)):
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            where = f"answer cell '{gid}'" if gid else "a cell the student added"
            for finding in tamper.scan_source(cell.source):
                findings.append(f"{where}, {finding}")
        nb.metadata.setdefault(META, {})["static_tamper"] = findings
        return nb, resources


class KernelChannel(Channel):
    """Carries the verdict runner's requests to the kernel as one-line cells (see ``collector``)."""

    def __init__(self, executor: "SandboxedExecute", index: int, deadline: float):
        self.executor = executor
        self.index = index
        self.deadline = deadline

    def exchange(self, request: dict) -> dict:
        expression = (f'__import__("grader_kernel.collector", fromlist=["answer"]).answer('
                      f'"{collector.encode_request(request)}")')
        result, interrupted = self.executor.evaluate(expression, self.index, self.deadline)
        if result.get("status") == "ok":
            text = (result.get("data") or {}).get(collector.REPLY_MIME)
            try:
                reply = json.loads(text) if isinstance(text, str) else None
            except ValueError:
                reply = None
            if isinstance(reply, dict) and reply.get("nonce") == request.get("nonce"):
                return reply
            raise RemoteProtocolError("the kernel's reply did not answer the grader's request; "
                                      "the notebook may have changed how its code runs")
        ename = str(result.get("ename", "an error"))
        if interrupted or ename == "KeyboardInterrupt":
            raise CallTimeout(f"the call did not return within the test's {self.executor.timeout} s "
                              "(it was interrupted)")
        raise RemoteProtocolError(f"the kernel did not answer the grader's call ({ename}: "
                                  f"{str(result.get('evalue', ''))[:200]}); the notebook may "
                                  "have changed how its code runs")


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` in the sandboxed kernel; test cells decided by the grader."""

    notebook_timeout = Integer(900, help="seconds for the whole notebook").tag(config=True)
    output_bytes = Integer(100_000, help="printed output kept per cell").tag(config=True)
    memory_label = Unicode("", help="the kernel's memory limit, for messages").tag(config=True)
    trusted_verdicts = Bool(True, help="decide test cells in the grader's process (autograde); "
                                       "False runs them in the kernel (validate)").tag(config=True)
    source_dir = Unicode("", help="the course's source folder (instructor notebooks)").tag(config=True)
    scratch_root = Unicode("", help="where kernels get their scratch copy").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_name", KERNEL_NAME)
        # A graded kernel is disposable and every process it started lives in its PID
        # namespace, so it is killed at the end instead of asked to shut down (a
        # TensorFlow kernel takes about 2 s to tear itself down).
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(*args, **kwargs)

    # -- output cap: printed text beyond ``output_bytes`` per cell is dropped (a flood of
    # printing); anything beyond ``max_cell_bytes`` (figures included) too, to protect
    # the grader's memory
    max_cell_bytes = Integer(50_000_000, help="all output kept per cell").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        is_text = msg["msg_type"] == "stream"
        size = len(content.get("text", "")) if is_text else len(json.dumps(content, default=str))
        key = (cell_index, is_text)
        before = self._cnn_bytes.get(key, 0)
        cap = self.output_bytes if is_text else self.max_cell_bytes
        self._cnn_bytes[key] = before + size
        if before + size <= cap:
            return super().output(outs, msg, display_id, cell_index)
        if before >= cap:
            return None
        self._cnn_truncated.add(cell_index)
        if not is_text:
            return None
        text = content.get("text", "")[: max(0, cap - before)]
        out = nbformat.v4.new_output("stream", name=content.get("name", "stdout"),
                                     text=text + f"\n... output truncated: more than {cap} "
                                                 "bytes printed ...\n")
        outs.append(out)
        return out

    def _exit_reason(self) -> str:
        km = getattr(self, "km", None)
        code = None
        try:
            proc = getattr(getattr(km, "provisioner", None), "process", None)
            if proc is not None:
                code = proc.poll()
        except Exception:  # noqa: BLE001
            code = None
        mem = f" (memory limit {self.memory_label})" if self.memory_label else ""
        if code is None:
            return "the kernel died"
        if code == 70:
            return "the sandbox could not be applied, so the kernel was not started"
        if code < 0 or code > 128:
            sig = -code if code < 0 else code - 128
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            if sig in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
                return (f"the kernel died ({name}: a crash, often running out of memory"
                        f"{mem} or a crashing C extension)")
            if sig == signal.SIGXFSZ:
                return "the kernel died (SIGXFSZ: it wrote a file larger than the limit)"
            return f"the kernel died ({name})"
        return f"the kernel exited with status {code} (sys.exit/os._exit or a fatal error)"

    # ------------------------------------------------------------ scratch cells
    def run_scratch(self, code: str, index: int, deadline: float) -> list:
        """Run one line in the kernel, outside the notebook; return its outputs.

        nbclient writes an executed cell back into ``nb.cells[index]``, so scratch
        cells use their own slot at the end of the notebook (removed afterwards).
        """
        cell = nbformat.v4.new_code_cell(code)
        slot = self._scratch_slot
        self._cnn_bytes.pop((slot, True), None)
        self._cnn_bytes.pop((slot, False), None)
        saved = self.timeout
        self.timeout = max(1, int(deadline - time.monotonic() + 0.999))
        try:
            self.execute_cell(cell, slot, store_history=False)
        except DeadKernelError:
            raise KernelLost(self._exit_reason() + f" while {_label(self.nb.cells[index], index)} "
                             "was calling the student's code") from None
        except CellTimeoutError:
            raise KernelLost(f"{_label(self.nb.cells[index], index)} timed out and the kernel did "
                             "not respond to an interrupt") from None
        finally:
            self.timeout = saved
        return list(cell.get("outputs", []))

    async def _async_evaluate(self, expression: str, index: int, deadline: float):
        """Evaluate one user expression in the kernel; return (its result, interrupted).

        An empty, silent execute request carrying the expression: the result comes back
        in the execute reply itself (no output messages to wait for). Past ``deadline``
        the kernel is interrupted once; a kernel that still does not answer, or that
        died, is lost.
        """
        from queue import Empty

        from jupyter_core.utils import ensure_async

        msg_id = await ensure_async(self.kc.execute(
            "", silent=True, store_history=False, user_expressions={"r": expression},
            allow_stdin=False, stop_on_error=False))
        interrupted = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if interrupted:
                    raise KernelLost(f"{_label(self.nb.cells[index], index)} timed out and the "
                                     "kernel did not respond to an interrupt")
                await ensure_async(self.km.interrupt_kernel())
                interrupted = True
                deadline = time.monotonic() + 10  # time to answer the interrupt
                continue
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.kc.is_alive()):
                    raise KernelLost(self._exit_reason() + f" while {_label(self.nb.cells[index], index)} "
                                     "was calling the student's code") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue  # a late reply to an earlier, interrupted request
            content = msg.get("content", {})
            if content.get("status") != "ok":
                return ({"status": "error", "ename": content.get("ename", "Error"),
                         "evalue": content.get("evalue", "")}, interrupted)
            return (content.get("user_expressions", {}).get("r")
                    or {"status": "error", "ename": "NoResult", "evalue": ""}), interrupted

    def evaluate(self, expression: str, index: int, deadline: float):
        """Synchronous :meth:`_async_evaluate` (nbclient's event loop)."""
        from jupyter_core.utils import run_sync
        return run_sync(self._async_evaluate)(expression, index, deadline)

    def _probe(self) -> dict:
        outputs = self.run_scratch(
            f'__import__("grader_kernel.probe", fromlist=["report"]).report({forbidden_probes()!r})',
            0, time.monotonic() + 60)
        for out in outputs:
            data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
            if probe.PROBE_MIME in data:
                try:
                    return json.loads(data[probe.PROBE_MIME])
                except (TypeError, ValueError):
                    break
        return {"error": "the kernel did not report its protections"}

    def _answering(self, index: int) -> bool:
        """Whether the kernel still runs and answers a trivial request (after a timeout).

        A notebook can leave its kernel alive but deaf (it replaced how cells run, or
        deadlocked the shell): then every later cell would wait out its whole time
        limit. A short ping tells the two cases apart.
        """
        limit = max(5, min(15, int(self.timeout or 15)))
        remote = Remote(KernelChannel(self, index, time.monotonic() + limit))
        try:
            remote.ping()
            return True
        except (CallTimeout, RemoteProtocolError):
            return False

    # ------------------------------------------------------------ trusted test cells
    def _trusted_setup(self, resources) -> None:
        """Test sources from the gradebook; setup imports from the instructor's notebook."""
        nbg = resources.get("nbgrader", {})
        self._tests: dict[str, str] = {}
        with Gradebook(nbg["db_url"]) as gb:
            source_nb = gb.find_notebook(nbg["notebook"], nbg["assignment"])
            for cell in source_nb.source_cells:
                self._tests[cell.name] = cell.source
        path = Path(self.source_dir) / nbg["assignment"] / f"{nbg['notebook']}.ipynb"
        instructor = nbformat.read(str(path), as_version=4)
        setup = [c.source for c in instructor.cells if c.cell_type == "code"
                 and not nbutils.is_solution(c) and not nbutils.is_grade(c)]
        self._base = setup_namespace(setup)
        self._assignment, self._student = nbg.get("assignment", ""), nbg.get("student", "")
        answers = [c.source for c in self.nb.cells if c.cell_type == "code"
                   and not ("nbgrader" in c.metadata and nbutils.is_locked(c))]
        self._remote_sources = defining_sources(answers)

    def _run_test_cell(self, cell, index: int) -> str:
        """Decide one test cell here; return why the kernel is lost ('' when it is not)."""
        gid = cell.metadata["nbgrader"]["grade_id"]
        source = self._tests.get(gid)
        if source is None:
            cell.outputs = [error_output("GradingError", f"the gradebook has no test '{gid}'")]
            return ""
        deadline = time.monotonic() + max(1, int(self.timeout or 120))
        remote = Remote(KernelChannel(self, index, deadline), sources=self._remote_sources)
        remote.decoder.memo = self._memo  # one identity table per notebook
        before = [c.source for c in self.nb.cells[:index] if c.cell_type == "code"
                  and not is_test_cell(c)]
        verdict = run_test(source, gid, self._base, remote,
                           secret=_GRADING_SECRET.get("value"), assignment=self._assignment,
                           student=self._student, cells=before)
        cell.outputs = verdict.outputs()
        self._exec_count += 1
        cell.execution_count = self._exec_count
        self.nb.metadata.setdefault(META, {}).setdefault("verdicts", {})[gid] = {
            "passed": verdict.passed, "message": verdict.message, "calls": verdict.calls,
            "seconds": verdict.seconds}
        if verdict.ename in ("CellTimeoutError", "GradingError") and not verdict.kernel_lost:
            if verdict.ename == "CellTimeoutError":
                add_note(self.nb, f"{_label(cell, index)}: a call to the student's code timed "
                                  f"out after {self.timeout} s")
            if not self._answering(index):
                return (f"the kernel stopped answering the grader after {_label(cell, index)} "
                        "(the notebook changed how its cells run, or hung the kernel)")
        return verdict.kernel_lost

    # ------------------------------------------------------------ the notebook
    def _scratch_copy(self, resources) -> tuple[str, str | None]:
        """A scratch folder for the kernel with a copy of the submission's other files."""
        path = resources.get("metadata", {}).get("path")
        if not self.scratch_root or not path:
            return path, None
        nbg = resources.get("nbgrader", {})
        scratch = Path(self.scratch_root) / (nbg.get("notebook") or "notebook")
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for item in Path(path).iterdir():
            if item.is_file() and not item.is_symlink() and item.suffix != ".ipynb":
                shutil.copy(item, scratch / item.name)
        resources["metadata"]["path"] = str(scratch)
        return path, str(scratch)

    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient
        original_path, scratch = self._scratch_copy(resources or {})
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._cnn_bytes, self._cnn_truncated = {}, set()
        self._memo, self._exec_count = {}, 0
        self.nb.cells.append(nbformat.v4.new_code_cell(""))  # the scratch slot
        self._scratch_slot = len(self.nb.cells) - 1
        stopped = None
        start = time.monotonic()
        state = self.nb.metadata.setdefault(META, {})
        phases = {"kernel_start": 0.0, "imports": 0.0, "cells": 0.0, "verdicts": 0.0}
        first_code = next((i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"), -1)
        try:
            if self.trusted_verdicts:
                self._trusted_setup(resources)
            with self.setup_kernel():
                info_msg = self.wait_for_reply(self.kc.kernel_info())
                if info_msg:
                    self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                if self.trusted_verdicts:
                    state["protections"] = self._probe()
                phases["kernel_start"] = time.monotonic() - start
                for index, cell in enumerate(self.nb.cells[:self._scratch_slot]):
                    t_cell = time.monotonic()
                    if cell.cell_type != "code":
                        continue
                    if stopped:
                        self._mark_not_run(cell, stopped)
                        continue
                    if time.monotonic() - start > self.notebook_timeout:
                        stopped = (f"the notebook ran longer than its {self.notebook_timeout} s "
                                   "budget, so the grader stopped it")
                        add_note(self.nb, stopped)
                        self._mark_not_run(cell, stopped)
                        continue
                    if self.trusted_verdicts and is_test_cell(cell):
                        lost = self._run_test_cell(cell, index)
                        phases["verdicts"] += time.monotonic() - t_cell
                        if lost:
                            stopped = lost
                            add_note(self.nb, lost)
                        continue
                    stopped = self._run_cell(cell, resources, index)
                    phases["imports" if index == first_code else "cells"] += time.monotonic() - t_cell
                    if stopped is None and self.trusted_verdicts and _timed_out(cell) \
                            and not self._answering(index):
                        stopped = (f"the kernel stopped answering after {_label(cell, index)} "
                                   "timed out (the notebook changed how its cells run, or hung "
                                   "the kernel)")
                        add_note(self.nb, stopped)
                    if index in self._cnn_truncated:
                        add_note(self.nb, f"{_label(cell, index)} printed more than "
                                          f"{self.output_bytes} bytes; the output was truncated")
        except Exception as err:  # noqa: BLE001 - kernel start or shutdown failures
            reason = f"the kernel could not run the notebook ({type(err).__name__}: {err})"
            if not stopped:
                add_note(self.nb, reason)
                for cell in self.nb.cells[:self._scratch_slot]:
                    if cell.cell_type == "code" and not cell.get("outputs"):
                        self._mark_not_run(cell, reason)
        finally:
            del self.nb.cells[self._scratch_slot:]
            if scratch:
                resources["metadata"]["path"] = original_path
                shutil.rmtree(scratch, ignore_errors=True)
        self.set_widgets_metadata()
        state["seconds"] = round(time.monotonic() - start, 2)
        state["phases"] = {k: round(v, 3) for k, v in phases.items()}
        return self.nb, self.resources

    def _run_cell(self, cell, resources, index: int) -> str | None:
        """Run one ordinary cell in the kernel; return why grading must stop, or None."""
        try:
            self.preprocess_cell(cell, resources, index)
        except DeadKernelError:
            stopped = self._exit_reason() + f" while running {_label(cell, index)}"
            cell.outputs.append(error_output("DeadKernelError", stopped + "."))
            add_note(self.nb, stopped)
            return stopped
        except CellTimeoutError:
            stopped = (f"{_label(cell, index)} timed out after {self.timeout} s and "
                       "the kernel did not respond to an interrupt")
            cell.outputs.append(error_output("CellTimeoutError", stopped + "."))
            add_note(self.nb, stopped)
            return stopped
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.get("outputs", [])):
            for o in cell.outputs:
                if o.get("ename") == "CellTimeoutError":
                    o["evalue"] = f"cell timed out after {self.timeout} s"
                    o["traceback"] = [f"CellTimeoutError: cell timed out after "
                                      f"{self.timeout} s (it was interrupted)"]
            add_note(self.nb, f"{_label(cell, index)} timed out after {self.timeout} s")
        return None

    def _mark_not_run(self, cell, reason: str) -> None:
        cell.outputs = [error_output("NotRun", f"not run: {reason}.")]


def _timed_out(cell) -> bool:
    return any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.get("outputs", []))


def _label(cell, index: int) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell '{gid}'" if gid else f"cell {index}"


class ApplyFindings(NbGraderPreprocessor):
    """Score every test 0 when tampering was found; test cells pass or fail only by raising."""

    def preprocess(self, nb, resources):
        state = nb.metadata.setdefault(META, {})
        findings = state.get("static_tamper") or []
        for cell in nb.cells:
            pass_fail_only(cell)
        if findings:
            reason = ("tampering detected: " + "; ".join(findings[:3])
                      + (f" (and {len(findings) - 3} more)" if len(findings) > 3 else "")
                      + ". Changing NumPy, the check helpers or the notebook's machinery is "
                        "not allowed, so every test of this notebook scores 0")
            add_note(nb, reason)
            for cell in nb.cells:
                if is_test_cell(cell):
                    cell.outputs = list(cell.get("outputs", [])) + [error_output("TamperError",
                                                                                 reason)]
        return nb, resources


# ====================================================================== feedback
class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each failing test's message, never a hidden test's code or traceback."""

    placeholder = Unicode("# (hidden tests run here; their code is not shown)").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and nbutils.is_grade(cell):
            cell.source = HIDDEN_RE.sub(self.placeholder + "\n", cell.source).rstrip("\n")
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


class FeedbackNotes(NbGraderPreprocessor):
    """Put the grading notes (timeouts, crashes, repairs, tampering) at the top of the feedback."""

    def preprocess(self, nb, resources):
        notes = nb.metadata.get(META, {}).get("notes") or []
        if notes:
            text = ("**Grading notes** (what the autograder had to do with this notebook):\n\n"
                    + "\n".join(f"- {_md_escape(n)}" for n in notes))
            cell = nbformat.v4.new_markdown_cell(text)
            nb.cells.insert(0, cell)
        return nb, resources


def _md_escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")

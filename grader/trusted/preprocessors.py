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
import signal
import time
import uuid

import nbformat
from nbformat.notebooknode import NotebookNode
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Bool, Integer, Unicode

from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from . import tamper as guard
from .sandbox import KERNEL_NAME

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
class InjectGuard(NbGraderPreprocessor):
    """Scan student cells for tampering and inject the in-kernel guard."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        token = "_cnn_guard_" + uuid.uuid4().hex[:12]
        setup_sources, student = [], []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = nbutils.is_locked(cell) if "nbgrader" in cell.metadata else False
            if meta and not nbutils.is_grade(cell):
                setup_sources.append(cell.source)
            elif not meta:
                student.append(cell)
        test_sources = [c.source for c in nb.cells if c.cell_type == "code" and nbutils.is_grade(c)]
        modules = guard.course_modules(setup_sources + test_sources)
        protected = _imported_names(setup_sources)
        findings = []
        for cell in student:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            where = f"answer cell '{gid}'" if gid else "a cell the student added"
            for finding in guard.scan_source(cell.source, protected):
                findings.append(f"{where}, {finding}")
        state = nb.metadata.setdefault(META, {})
        state["static_tamper"] = findings
        cells = [_injected(guard.preamble(modules, token))]
        for cell in nb.cells:
            cells.append(cell)
            if cell.cell_type != "code":
                continue
            if nbutils.is_grade(cell) and not nbutils.is_solution(cell):
                cell.source = guard.verify_line(token) + "\n" + cell.source
            elif "nbgrader" in cell.metadata and nbutils.is_locked(cell):
                cells.append(_injected(guard.bind_line(token)))
        nb.cells = cells
        return nb, resources


def _injected(source: str) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[META] = {"injected": True}
    return cell


def _imported_names(sources: list[str]) -> set[str]:
    names = set()
    for src in sources:
        for m in re.finditer(r"^\s*(?:from\s+\S+\s+)?import\s+(.+)$", src, re.M):
            for part in m.group(1).split(","):
                bits = part.strip().strip("()").split()
                if not bits:
                    continue
                name = bits[-1] if len(bits) == 3 and bits[1] == "as" else bits[0].split(".")[0]
                if name.isidentifier():
                    names.add(name)
    return names


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` in the sandboxed kernel, with limits and dead-kernel handling."""

    notebook_timeout = Integer(900, help="seconds for the whole notebook").tag(config=True)
    output_bytes = Integer(100_000, help="printed output kept per cell").tag(config=True)
    memory_label = Unicode("", help="the kernel's memory limit, for messages").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_name", KERNEL_NAME)
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
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
                return (f"the kernel died ({name}: a crash, often running out of memory"
                        f"{mem} or a crashing C extension)")
            if -code == signal.SIGXFSZ:
                return "the kernel died (SIGXFSZ: it wrote a file larger than the limit)"
            return f"the kernel died ({name})"
        return f"the kernel exited with status {code} (sys.exit/os._exit or a fatal error)"

    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._cnn_bytes, self._cnn_truncated = {}, set()
        stopped = None
        start = time.monotonic()
        try:
            with self.setup_kernel():
                info_msg = self.wait_for_reply(self.kc.kernel_info())
                if info_msg:
                    self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
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
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except DeadKernelError:
                        stopped = self._exit_reason() + f" while running {_label(cell, index)}"
                        cell.outputs.append(error_output("DeadKernelError", stopped + "."))
                        add_note(self.nb, stopped)
                    except CellTimeoutError:
                        stopped = (f"{_label(cell, index)} timed out after {self.timeout} s and "
                                   "the kernel did not respond to an interrupt")
                        cell.outputs.append(error_output("CellTimeoutError", stopped + "."))
                        add_note(self.nb, stopped)
                    else:
                        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                               for o in cell.get("outputs", [])):
                            for o in cell.outputs:
                                if o.get("ename") == "CellTimeoutError":
                                    o["evalue"] = f"cell timed out after {self.timeout} s"
                                    o["traceback"] = [f"CellTimeoutError: cell timed out after "
                                                      f"{self.timeout} s (it was interrupted)"]
                            add_note(self.nb, f"{_label(cell, index)} timed out after {self.timeout} s")
                    if index in self._cnn_truncated:
                        add_note(self.nb, f"{_label(cell, index)} printed more than "
                                          f"{self.output_bytes} bytes; the output was truncated")
        except Exception as err:  # noqa: BLE001 - kernel start or shutdown failures
            reason = f"the kernel could not run the notebook ({type(err).__name__}: {err})"
            if not stopped:
                add_note(self.nb, reason)
                for cell in self.nb.cells:
                    if cell.cell_type == "code" and not cell.get("outputs"):
                        self._mark_not_run(cell, reason)
        self.set_widgets_metadata()
        self.nb.metadata.setdefault(META, {})["seconds"] = round(time.monotonic() - start, 2)
        return self.nb, self.resources

    def _mark_not_run(self, cell, reason: str) -> None:
        cell.outputs = [error_output("NotRun", f"not run: {reason}.")]


def _label(cell, index: int) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell '{gid}'" if gid else f"cell {index}"


class RemoveGuard(NbGraderPreprocessor):
    """Take the injected guard out, apply tamper findings, remove symlinks the kernel made."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(META, {}).get("injected")]
        state = nb.metadata.setdefault(META, {})
        findings = state.get("static_tamper") or []
        runtime = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.source = guard.strip_injected(cell.source)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") == "TamperError":
                    runtime.append(out.get("evalue", ""))
        for cell in nb.cells:
            pass_fail_only(cell)
        if findings:
            reason = ("tampering detected: " + "; ".join(findings[:3])
                      + (f" (and {len(findings) - 3} more)" if len(findings) > 3 else "")
                      + ". Changing NumPy, the check helpers or the test machinery is not "
                        "allowed, so every test of this notebook scores 0")
            add_note(nb, reason)
            for cell in nb.cells:
                if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
                    cell.outputs = list(cell.get("outputs", [])) + [error_output("TamperError", reason)]
        if runtime:
            add_note(nb, runtime[0].split(". Tests")[0] + "; tests that ran after it score 0")
        path = resources.get("metadata", {}).get("path")
        if path and os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                for name in dirnames + filenames:
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        os.unlink(full)
                        add_note(nb, f"the notebook created a symbolic link '{name}'; it was removed")
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

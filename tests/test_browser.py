"""The student experience in JupyterLab, driven end to end in headless Chromium.

The test starts JupyterLab exactly as students do (``make lab``, pointed at a
temporary copy of ``notebooks/01_edge_detection`` so the repository stays
clean) and drives it with Playwright and Debian's ``/usr/bin/chromium``:

1. open the release notebook 01 and *Run All*;
2. see a matplotlib figure rendered inline (an ``<img>`` output) and the
   friendly message of an unfinished exercise ("... is not written yet");
3. write a correct ``conv2d_valid`` into its answer cell, *Run All* again and
   see the tick line of its visible test;
4. press nbgrader's *Validate* button and read the result dialog (the fixed
   exercise is no longer among the failed cells; a constant whose exercise is not
   written yet is named as such, not shown as a raw ``NameError``);
5. open *Nbgrader > Assignment List* against a temporary exchange holding a
   released copy of the assignment, and see it listed with a *Fetch* button;
6. run notebook 03's output-size explorer (ipywidgets) in a scratch notebook,
   see its sliders, picture and formula, and move a slider with the keyboard;
7. the student's JupyterLab has no instructor panel (no Formgrader, Create
   Assignment or Course List; ``/formgrader`` answers 404);
8. the instructor's JupyterLab (``make formgrader``) has them all, and its
   formgrader lists the example class's students with the grades the grader gave
   them (notebook 01 graded as ``make demo`` grades it, into
   ``build/browser-test-course``), opens an autograded submission, and the
   student's feedback page opens in JupyterLab.

A screenshot of every step goes to ``build/artifacts/browser/``.

Skips (with the reason) only when no Chromium is installed and none can be
(``.ci/install-browser.sh`` installs it in CI), or, for steps 1-5, while the
release notebook has not been generated yet. Run time: about 50 s on 2 cores for
steps 1-7; step 8 grades notebook 01 of the example class first (about a minute, less
when it was graded before: unchanged submissions are kept).
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STEM = "01_edge_detection"
# CNN_BROWSER_TEST_RELEASE: another folder holding 01_edge_detection.ipynb (for trying the test).
RELEASE_DIR = Path(os.environ.get("CNN_BROWSER_TEST_RELEASE", REPO / "notebooks" / STEM))
NOTEBOOK = f"{STEM}.ipynb"
ARTIFACTS = REPO / "build" / "artifacts" / "browser"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SERVER_START_S = 90
RUN_S = 120          # one Run All of notebook 01
VALIDATE_S = 150     # nbgrader executes the whole notebook in a fresh kernel
FRIENDLY = "is not written yet"
TICK = "\u2714"

# A correct answer typed into the answer cell (any correct style gets the tick).
CONV2D_VALID = textwrap.dedent('''\
    import numpy as np


    def conv2d_valid(image, kernel):
        """Valid cross-correlation, stride 1 (written by the browser test)."""
        image = np.asarray(image, dtype=float)
        kernel = np.asarray(kernel, dtype=float)
        f_h, f_w = kernel.shape
        out = np.zeros((image.shape[0] - f_h + 1, image.shape[1] - f_w + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i:i + f_h, j:j + f_w] * kernel)
        return out
''')

# JavaScript run in the page.
JS_KERNEL_IDLE = """() => {
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const pending = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
      .some(p => p.textContent.includes('*'));
  return ind !== null && ind.getAttribute('data-status') === 'idle' && !pending;
}"""
JS_RENDERED_FIGURES = """() => [...document.querySelectorAll('.jp-OutputArea-output img')]
  .filter(img => img.complete && img.naturalWidth > 50 && img.naturalHeight > 50).length"""


# ------------------------------------------------------------------ helpers
def find_chromium() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _lab_command(root: Path, port: int, token: str, target: str = "lab",
                 course_build: Path | None = None) -> tuple[list[str], dict]:
    """(command, extra environment) of ``make lab`` or ``make formgrader``, with a root
    folder (lab) or a graded course (formgrader), port and token of our own (no browser)."""
    lab_args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
                f"--ServerApp.port_retries=0 --IdentityProvider.token={token}")
    if shutil.which("make"):
        extra = [f"LAB_ROOT={root}"] if target == "lab" else [f"COURSE_BUILD={course_build}"]
        return (["make", "-s", "-o", ".venv/.installed", target, *extra, f"LAB_ARGS={lab_args}"],
                {})
    # Without make: the same command and environment as the Makefile's target.
    if target == "lab":
        env = {"JUPYTER_CONFIG_PATH": str(REPO / "jupyter" / "student")}
    else:
        env, root = {"CNN_COURSE_BUILD": str(course_build)}, REPO
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", f"--ServerApp.root_dir={root}"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    return cmd + lab_args.split(), env


def _descendants(pid: int) -> list:
    try:
        import psutil
        return psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the process is gone
        return []


class LabServer:
    """A JupyterLab server started by ``make lab`` on a temporary copy of the release,
    or (``course_build``) by ``make formgrader`` on a graded course."""

    def __init__(self, workdir: Path, course_build: Path | None = None):
        self.workdir = workdir
        self.course_build = course_build
        self.target = "formgrader" if course_build else "lab"
        self.root = REPO if course_build else workdir / "notebooks"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = workdir / f"jupyter-{self.target}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Test-only user settings: no news pop-up over the page, every cell kept in
        # the DOM (so the test can read outputs far down the notebook).
        settings = self.workdir / "lab-settings"
        _write_json(settings / "@jupyterlab" / "apputils-extension" /
                    "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        _write_json(settings / "@jupyterlab" / "notebook-extension" /
                    "tracker.jupyterlab-settings", {"windowingMode": "none"})
        # A course that uses nbgrader's exchange: an exchange folder named by the
        # student's Jupyter configuration (as a hub's /etc/jupyter/nbgrader_config.py
        # would), with the assignment released into it.
        exchange = self.workdir / "exchange"
        config_dir = self.workdir / "jupyter-config"
        config_dir.mkdir(parents=True)
        (config_dir / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            "c.CourseDirectory.course_id = 'cnn-course'\n"
            f"c.Exchange.root = {str(exchange)!r}\n")
        if self.course_build or not (RELEASE_DIR / NOTEBOOK).is_file():
            return  # the tests that need notebook 01 skip; the others still run
        keep_out = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        shutil.copytree(RELEASE_DIR, self.root / STEM, ignore=keep_out)
        shutil.copytree(RELEASE_DIR, exchange / "cnn-course" / "outbound" / STEM,
                        ignore=keep_out)

    def env(self) -> dict:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("MPLBACKEND", None)          # the lab target sets the inline backend
        env.pop("CNN_COURSE_GRADING", None)  # a student's session, not the autograder
        for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter-config"),
                         ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
                         ("JUPYTER_DATA_DIR", "jupyter-data"),
                         ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces")]:
            env[var] = str(self.workdir / sub)
        return env

    def start(self) -> None:
        self.prepare()
        log = open(self.log_path, "w")
        cmd, extra_env = _lab_command(self.root, self.port, self.token, self.target,
                                      self.course_build)
        self.proc = subprocess.Popen(cmd, cwd=REPO, env={**self.env(), **extra_env}, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}",
                                            timeout=3) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                           + self.log_tail())

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        children = _descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # make and jupyter; kernels shut down
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for child in children:  # any kernel that outlived its server
            try:
                child.wait(timeout=5)
            except Exception:  # noqa: BLE001
                try:
                    child.kill()
                except Exception:  # noqa: BLE001
                    pass


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium: install Debian's chromium package (.ci/install-browser.sh "
                    "does it; needs apt and root) to run the JupyterLab browser test")
    return path


@pytest.fixture(scope="module")
def release_notebook():
    if not (RELEASE_DIR / NOTEBOOK).is_file():
        pytest.skip(f"notebooks/{STEM} not generated yet "
                    f"(run `python -m grader release {STEM}` once solutions/{STEM} exists)")
    return RELEASE_DIR / NOTEBOOK


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("failure_*.png"):  # from an earlier failed run
        old.unlink()
    return ARTIFACTS


@contextlib.contextmanager
def running(server: LabServer, artifacts: Path):
    """Start ``server``; stop it and keep its log whatever happens."""
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.copy(server.log_path, artifacts / server.log_path.name)


@pytest.fixture(scope="module")
def lab(chromium_path, tmp_path_factory, artifacts):
    with running(LabServer(tmp_path_factory.mktemp("lab")), artifacts) as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium_path):
    playwright_api = pytest.importorskip("playwright.sync_api",
                                         reason="playwright is not installed (pip install -e .[dev])")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


def _new_page(browser, artifacts, log_name: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    console = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    return pg, lambda: (artifacts / log_name).write_text("\n".join(console))


@pytest.fixture(scope="module")
def page(lab, browser, artifacts):
    pg, save_log = _new_page(browser, artifacts, "browser-console.log")
    yield pg
    save_log()
    pg.context.close()


# ------------------------------------------------------------------ UI steps
def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@contextlib.contextmanager
def screenshot_on_failure(page, name: str):
    """Keep a picture of the page as it was when a step failed."""
    try:
        yield
    except BaseException:
        try:
            shot(page, f"failure_{name}")
        except Exception:  # noqa: BLE001 - the page may be gone
            pass
        raise


def menu(page, menu_label: str, command: str) -> None:
    """Click a menu in JupyterLab's menu bar, then the item that runs ``command``."""
    label = page.locator(".lm-MenuBar-itemLabel").filter(
        has_text=re.compile(f"^{re.escape(menu_label)}$")).first
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]').first
    label.click()
    try:
        item.wait_for(state="visible", timeout=5_000)
    except Exception:  # noqa: BLE001 - the click closed a menu left open: open it again
        label.click()
        item.wait_for(state="visible")
    item.click()


def accept_kernel_dialog(page) -> bool:
    """Click "Select" if JupyterLab asks which kernel to start; True when it asked.

    JupyterLab sometimes asks "Select Kernel" when a notebook opens before the list of
    kernels has loaded; the notebook's own kernel is preselected, and a student clicks
    "Select". So does the test, wherever it waits.
    """
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.get_by_role("button", name="Select", exact=True).click()
        return True
    return False


def open_notebook(lab, page, path: str = f"{STEM}/{NOTEBOOK}") -> None:
    """Open a notebook and wait until its kernel is ready (idle for 3 s in a row).

    ``?reset`` starts from an empty layout, so the notebook is the only one open.
    """
    page.goto(f"{lab.base}/lab/tree/{path}?reset&token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    deadline = time.monotonic() + 90
    quiet_since = None
    while time.monotonic() < deadline:
        if accept_kernel_dialog(page):
            quiet_since = None
        elif page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').count():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 3.0:
                return
        page.wait_for_timeout(250)
    raise AssertionError("the notebook's kernel did not become ready within 90 s")


def wait_idle(page, timeout_s: float) -> None:
    """Wait until the kernel is idle and no cell is queued ([*]) for 1 s in a row."""
    deadline = time.monotonic() + timeout_s
    stable_since = None
    while time.monotonic() < deadline:
        if accept_kernel_dialog(page):
            stable_since = None
        elif page.evaluate(JS_KERNEL_IDLE):
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 1.0:
                return
        else:
            stable_since = None
        page.wait_for_timeout(250)
    raise AssertionError(f"the kernel was still busy after {timeout_s} s")


def run_all(page) -> None:
    accept_kernel_dialog(page)
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})  # focus the notebook
    page.keyboard.press("Escape")
    menu(page, "Run", "runmenu:run-all")
    # execution starts within a moment; then wait for it to end
    page.wait_for_timeout(1500)
    wait_idle(page, RUN_S)


def code_cells(page):
    return page.locator(".jp-Notebook .jp-CodeCell")


def cell_index(page, *needles: str, after: int = -1, docstring: bool = False) -> int:
    """Index of the first code cell (after ``after``) whose input contains every needle.

    ``docstring``: only cells that start with a docstring (the course's test cells).
    """
    texts = code_cells(page).evaluate_all(
        "cells => cells.map(c => c.querySelector('.jp-InputArea-editor').innerText)")
    for i, text in enumerate(texts):
        if i <= after or (docstring and not text.strip().startswith('"""')):
            continue
        if all(n in text for n in needles):
            return i
    raise AssertionError(f"no code cell contains {needles}; inputs seen:\n"
                         + "\n---\n".join(t[:200] for t in texts))


def output_text(page, index: int) -> str:
    return code_cells(page).nth(index).locator(".jp-OutputArea").inner_text()


# ------------------------------------------------------------------ the tests
@pytest.mark.browser
@pytest.mark.xdist_group("browser")  # one server and one browser for both tests
def test_student_round_trip_in_jupyterlab(release_notebook, lab, page, artifacts):
    with screenshot_on_failure(page, "round_trip"):
        _round_trip(lab, page, artifacts)


def _round_trip(lab, page, artifacts):
    t0 = time.monotonic()
    timings = {}
    open_notebook(lab, page)
    shot(page, "01_notebook_opened")
    validate = page.locator(".validate-button")
    assert validate.count() >= 1, "nbgrader's Validate button is missing from the toolbar"
    timings["open"] = time.monotonic() - t0

    # ---- Run All: a figure renders inline, an unfinished exercise says so kindly
    run_all(page)
    timings["run_all"] = time.monotonic() - t0
    page.wait_for_function(JS_RENDERED_FIGURES, timeout=30_000)
    figure = page.locator(".jp-OutputArea-output img").first
    figure.scroll_into_view_if_needed()
    shot(page, "02_ran_all_figure_inline")
    figure.screenshot(path=str(artifacts / "02b_figure_element.png"))

    answer = cell_index(page, "def conv2d_valid", "YOUR CODE HERE")
    test = cell_index(page, "conv2d_valid", after=answer, docstring=True)  # its first test
    failure = code_cells(page).nth(test).locator(".jp-OutputArea")
    failure.scroll_into_view_if_needed()
    text = output_text(page, test)
    assert FRIENDLY in text, f"expected the friendly stub message, got:\n{text}"
    assert "conv2d_valid" in text
    shot(page, "03_unfinished_exercise_message")

    # ---- write a correct conv2d_valid and run again: its test now passes
    editor = code_cells(page).nth(answer).locator(".jp-InputArea-editor .cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(CONV2D_VALID)  # no auto-indent: the text goes in as typed
    page.keyboard.press("Escape")
    typed = code_cells(page).nth(answer).locator(".jp-InputArea-editor").inner_text()
    assert "out[i, j] = np.sum" in typed and "NotImplementedError" not in typed, typed
    shot(page, "04_answer_written")
    run_all(page)
    timings["run_all_again"] = time.monotonic() - t0
    passed = code_cells(page).nth(test)
    passed.scroll_into_view_if_needed()
    text = output_text(page, test)
    assert TICK in text, f"expected the tick line of the passing check, got:\n{text}"
    assert FRIENDLY not in text and "Error" not in text, text
    # every visible test of conv2d_valid (the cells that call a check on it) passes now
    inputs = code_cells(page).evaluate_all(
        "cells => cells.map(c => c.querySelector('.jp-InputArea-editor').innerText)")
    fixed_tests = []
    for i, src in enumerate(inputs):
        if src.strip().startswith('"""') and "(conv2d_valid)" in src:
            assert TICK in output_text(page, i), f"cell {i} does not pass:\n{src}"
            fixed_tests.append(src.strip().splitlines()[0].strip())
    assert fixed_tests
    shot(page, "05_test_passes")

    # ---- nbgrader's Validate: saves, runs the notebook server-side, shows a result
    validate.first.click()
    dialog = page.locator(".jp-Dialog").filter(has=page.locator("#validation-message"))
    dialog.wait_for(state="visible", timeout=VALIDATE_S * 1000)
    timings["validate"] = time.monotonic() - t0
    message = dialog.locator("#validation-message")
    classes = message.get_attribute("class") or ""
    body = message.inner_text()
    shot(page, "06_validate_result")
    assert "validation-failed" in classes or "validation-success" in classes, (classes, body)
    assert "Validation Results" in dialog.inner_text()
    if "validation-failed" in classes:
        # other exercises are still stubs; the one we wrote must not be among them
        assert "The following cell failed" in body
        failed_sources = message.locator("pre").all_inner_texts()
        for first_line in fixed_tests:
            assert not any(first_line in src for src in failed_sources), (
                f"the fixed exercise's test still fails in Validate:\n{body[:2000]}")
        # a constant whose exercise is not written yet: named, not a raw NameError
        assert "name 'VERTICAL_EDGE' is not defined" not in body, body[:3000]
        assert "`VERTICAL_EDGE` is not written yet" in body, body[:3000]
        assert "# Define VERTICAL_EDGE and HORIZONTAL_EDGE" in body, body[:3000]
        vertical = message.locator("pre", has_text="VERTICAL_EDGE` is not written yet").first
        vertical.scroll_into_view_if_needed()
        shot(page, "06b_validate_names_unwritten_exercise")
    dialog.get_by_role("button", name="Ok").click()
    (artifacts / "timings.json").write_text(json.dumps(
        {k: round(v, 1) for k, v in timings.items()}, indent=1))


@pytest.mark.browser
@pytest.mark.xdist_group("browser")  # one server and one browser for both tests
def test_nbgrader_assignment_list_and_menus(release_notebook, lab, page):
    with screenshot_on_failure(page, "assignment_list"):
        _assignment_list(lab, page)


def _assignment_list(lab, page):
    open_notebook(lab, page)
    labels = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" in labels, labels
    menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()  # bring it to front
    released = page.locator("#released_assignments_list")
    released.wait_for(state="visible", timeout=30_000)
    item = released.locator(".list_item", has_text=STEM)
    item.first.wait_for(state="visible", timeout=30_000)
    shot(page, "07_assignment_list")
    assert "cnn-course" in released.inner_text()
    assert item.first.get_by_role("button", name="Fetch").count() == 1


EXPLORER_NOTEBOOK = {
    "cells": [{
        "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
        "source": ("def conv_output_size(n, f, pad=0, stride=1):\n"
                   "    # YOUR CODE HERE\n"
                   "    raise NotImplementedError()\n"
                   "\n"
                   "from utils.widgets import output_size_explorer\n"
                   "output_size_explorer(conv_output_size)"),
    }],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_output_size_explorer_renders_and_reacts(lab, page):
    """The ipywidgets panel of notebook 03 works in this JupyterLab (widgets extension)."""
    with screenshot_on_failure(page, "explorer"):
        (lab.root / "explorer.ipynb").write_text(json.dumps(EXPLORER_NOTEBOOK))
        open_notebook(lab, page, "explorer.ipynb")
        run_all(page)
        panel = page.locator(".jp-OutputArea-output .widget-vbox").first
        panel.wait_for(state="visible", timeout=30_000)
        assert page.locator(".widget-slider").count() == 4
        image = panel.locator("img").first
        image.wait_for(state="visible")
        assert "write conv_output_size above to compare" in panel.inner_text()
        assert "floor((7 + 2*0 - 3) / 2) + 1" in panel.inner_text()
        shot(page, "08_output_size_explorer")
        # move the padding slider one step with the keyboard: the panel redraws
        handle = panel.locator(".widget-slider", has_text="p (padding)").locator(
            ".noUi-handle").first
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => document.body.innerText.includes('floor((7 + 2*1 - 3) / 2) + 1')",
            timeout=30_000)
        wait_idle(page, 30)
        assert "cells of the padded input" in panel.inner_text()
        shot(page, "09_output_size_explorer_pad_1")


# ------------------------------------------------------------------ student vs instructor
#: nbgrader's instructor commands (their plugins: formgrader, course-list, create-assignment)
INSTRUCTOR_COMMANDS = {"nbgrader:open-formgrader", "nbgrader:open-formgrader-local",
                       "nbgrader:open-course-list", "nbgrader:open-create-assignment"}
CREATE_ASSIGNMENT_PANEL = "#nbgrader-create_assignemnt"  # nbgrader's own spelling
FORMGRADER_BUILD = REPO / "build" / "browser-test-course"
UNWRITTEN_STUDENT = "typical_mistakes"
#: a check's own line (case-sensitive: the notebook's intro says "the likely mistake is")
LIKELY_MISTAKE = re.compile(r"Likely mistake: ")


def nbgrader_menu_commands(page, screenshot: str | None = None) -> set[str]:
    """The commands of the visible items of the Nbgrader menu (opened, then closed)."""
    label = page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile("^Nbgrader$")).first
    label.click()
    open_menu = page.locator("#jp-mainmenu-nbgrader")
    open_menu.wait_for(state="visible")
    items = open_menu.locator(".lm-Menu-item")
    found = {items.nth(i).get_attribute("data-command") for i in range(items.count())
             if items.nth(i).is_visible()}
    if screenshot:
        shot(page, screenshot)
    # Escape closes the menu when it has the focus; a click on its title always does
    for close in (lambda: page.keyboard.press("Escape"), label.click,
                  lambda: page.mouse.click(5, 990)):
        close()
        try:
            open_menu.wait_for(state="hidden", timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - still open: the next way
            continue
    return found


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_student_lab_has_no_instructor_panels(release_notebook, lab, page):
    with screenshot_on_failure(page, "student_panels"):
        open_notebook(lab, page)
        commands = nbgrader_menu_commands(page, "10_student_nbgrader_menu")
        assert "nbgrader:open-assignment-list" in commands, commands
        assert not commands & INSTRUCTOR_COMMANDS, commands
        assert page.locator(CREATE_ASSIGNMENT_PANEL).count() == 0
        assert page.locator(".lm-TabBar-tab", has_text="Create Assignment").count() == 0
        assert page.locator(".validate-button").count() >= 1   # the student tools stay
        assert http_status(f"{lab.base}/formgrader?token={lab.token}") == 404


@pytest.fixture(scope="module")
def graded_class(chromium_path):
    """Notebook 01 of the example class, graded as ``make demo`` grades it."""
    from grader.authoring import example_class
    from grader.trusted.autograde import autograde
    from grader.trusted.course import Course
    from grader.trusted.sandbox import Limits
    if not (REPO / "solutions" / STEM / NOTEBOOK).is_file():
        pytest.skip(f"solutions/{STEM} does not exist yet")
    course = Course(root=REPO, source=REPO / "solutions", build=FORMGRADER_BUILD)
    dest = FORMGRADER_BUILD / "example_class"
    example_class.build(dest, course=course, assignments=[STEM], log=lambda *a: None)
    autograde(dest, course=course, limits=Limits(cell_timeout=300), assignments=[STEM],
              log=lambda *a: None, progress=False)
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["assignment"] == STEM]
    grades = {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}
    assert set(grades) == set(example_class.STUDENTS), grades
    return course, grades


@pytest.fixture(scope="module")
def instructor_lab(graded_class, tmp_path_factory, artifacts):
    server = LabServer(tmp_path_factory.mktemp("formgrader"), course_build=FORMGRADER_BUILD)
    with running(server, artifacts):
        yield server


@pytest.fixture(scope="module")
def instructor_page(instructor_lab, browser, artifacts):
    pg, save_log = _new_page(browser, artifacts, "browser-console-formgrader.log")
    yield pg
    save_log()
    pg.context.close()


def formgrader_frame(page, timeout_s: float = 60):
    """The iframe of JupyterLab's Formgrader panel (a Playwright Frame: it follows links)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "/formgrader" in frame.url:
                return frame
        page.wait_for_timeout(250)
    raise AssertionError("the Formgrader panel did not open: "
                         + ", ".join(f.url for f in page.frames))


def _score_text(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"  # formgrader rounds to 2 places and drops ".0"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_formgrader_lists_the_example_class_with_its_grades(graded_class, instructor_lab,
                                                            instructor_page):
    course, grades = graded_class
    page, lab = instructor_page, instructor_lab
    with screenshot_on_failure(page, "formgrader"):
        page.goto(f"{lab.base}/lab?reset&token={lab.token}")
        page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=90_000)
        # every instructor panel is there (what the student's lab must not have)
        commands = nbgrader_menu_commands(page)
        assert INSTRUCTOR_COMMANDS - {"nbgrader:open-formgrader-local"} <= commands, commands
        assert page.locator(CREATE_ASSIGNMENT_PANEL).count() == 1
        menu(page, "Nbgrader", "nbgrader:open-formgrader")
        frame = formgrader_frame(page)
        frame.get_by_role("link", name="Manage Students").click()
        frame.wait_for_url(re.compile(r".*/formgrader/manage_students/?(\?.*)?$"))
        rows = frame.locator("tbody tr", has=frame.locator("td.id"))
        rows.first.wait_for(state="visible", timeout=30_000)
        frame.locator("td.score", has_text=" / ").first.wait_for(timeout=30_000)
        listed = {}
        for i in range(rows.count()):
            row = rows.nth(i)
            listed[row.locator("td.id").inner_text().strip()] = \
                row.locator("td.score").inner_text().strip()
        shot(page, "11_formgrader_students")
        assert listed == {s: _score_text(*g) for s, g in grades.items()}, (listed, grades)
        assert grades["perfect"][0] == grades["perfect"][1] and grades["empty"][0] == 0
        # an autograded submission opens: student -> assignment -> notebook -> the graded copy
        rows.filter(has=frame.locator("td.id", has_text=UNWRITTEN_STUDENT)).locator(
            "td.name a").click()
        frame.wait_for_url(re.compile(rf".*/manage_students/{UNWRITTEN_STUDENT}/?(\?.*)?$"))
        frame.get_by_role("link", name=STEM).first.click()
        frame.wait_for_url(re.compile(rf".*/manage_students/{UNWRITTEN_STUDENT}/{STEM}/?(\?.*)?$"))
        frame.get_by_role("link", name=STEM).first.click()
        frame.wait_for_url(re.compile(r".*/formgrader/submissions/[^/]+/?(\?.*)?$"))
        mistake = frame.get_by_text(LIKELY_MISTAKE).first
        mistake.wait_for(timeout=60_000)
        mistake.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(500)
        shot(page, "12_formgrader_autograded_submission")
        # and the student's feedback page opens in JupyterLab
        feedback = course.feedback / UNWRITTEN_STUDENT / STEM / f"{STEM}.html"
        assert feedback.is_file()
        rel = feedback.relative_to(REPO).as_posix()
        page.goto(f"{lab.base}/lab/tree/{rel}?reset&token={lab.token}")
        viewer = page.frame_locator(".jp-HTMLViewer iframe").first
        line = viewer.get_by_text(LIKELY_MISTAKE).first
        line.wait_for(timeout=60_000)
        assert "BEGIN HIDDEN TESTS" not in viewer.locator("body").inner_text()
        line.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(500)
        shot(page, "13_feedback_in_jupyterlab")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_student_file_browser_lists_every_notebook(lab, page):
    """With the whole release as its root, the student's JupyterLab lists all eleven notebooks."""
    stems = sorted(p.name for p in (REPO / "notebooks").iterdir()
                   if (p / f"{p.name}.ipynb").is_file())
    assert len(stems) == len(list((REPO / "solutions").glob("*/*.ipynb")))
    for stem in stems:
        if not (lab.root / stem).exists():
            shutil.copytree(REPO / "notebooks" / stem, lab.root / stem)
    with screenshot_on_failure(page, "student_notebook_list"):
        page.goto(f"{lab.base}/lab?token={lab.token}")
        listing = page.locator(".jp-DirListing-content")
        listing.wait_for(timeout=60_000)
        # the file browser reopens the folder an earlier test left it in: go to the root
        page.locator(".jp-BreadCrumbs-home").first.click()
        page.locator(".jp-DirListing-itemText", has_text=stems[-1]).first.wait_for(timeout=30_000)
        for stem in stems:
            page.locator(".jp-DirListing-itemText", has_text=stem).first.wait_for(timeout=30_000)
        shot(page, "11_notebook_list")

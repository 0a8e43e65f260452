"""``python -m grader similarity``: calibrated on the example class and on synthetic cases.

Notebook 01's example class (perfect, typical mistakes, empty, not valid JSON, and
"Zoë Ng" with the perfect answers) plus students written here:

* ``renamed``: the perfect answers with every name changed, comments rewritten and
  the code reformatted: a copy, must be flagged;
* ``vectorised`` and ``shift_add``: independent correct solutions in other styles
  (the fairness implementations of tests/test_edges.py as answer cells): must not be
  flagged against each other or against the perfect answers;
* ``vectorised_copy``: ``vectorised`` renamed and reformatted: must be flagged.

Measured with the default settings (NOISE 25, GUARANTEE 30): identical answers 1.0,
renamed and reformatted copies 0.90 (the loop solution) and 0.72 (the short
vectorised one), typical mistakes against perfect 0.93 (the example class builds
that student from the solutions, so it *is* mostly a copy), independent styles 0.12
to 0.34. The default threshold 0.6 sits between the two groups.
"""
from __future__ import annotations

import csv
import inspect
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader import notebook_cells as cells
from grader.authoring import example_class
from grader.settings import REPO, tool_env
from grader.trusted import similarity as sim
from grader.trusted.course import Course

import test_edges

pytest.importorskip("copydetect", reason="copydetect is not installed (pip install -e .[dev])")

STEM = "01_edge_detection"


def _as_answer(fn, name: str = "conv2d_valid") -> str:
    """The source of one of tests/test_edges.py's fairness implementations, as an answer cell."""
    source = inspect.getsource(fn).replace(f"def {fn.__name__}(", f"def {name}(", 1)
    return "from numpy.lib.stride_tricks import sliding_window_view\n\n\n" + source


VECTORISED = {
    "conv2d_valid": _as_answer(test_edges.conv_einsum),
    "convolve2d_valid": '''def convolve2d_valid(image, kernel):
    """Convolution: flip both axes first."""
    return conv2d_valid(image, np.flip(np.asarray(kernel)))
''',
    "edge_magnitude": '''def edge_magnitude(image):
    """Sobel gradient length."""
    return np.hypot(conv2d_valid(image, SOBEL_X), conv2d_valid(image, SOBEL_X.T))
''',
}
VECTORISED_COPY = {
    "conv2d_valid": '''from numpy.lib.stride_tricks import sliding_window_view as windows_of
def conv2d_valid(picture, weights):
    # every window at once, then a single contraction
    picture = np.asarray(picture, dtype = float)
    weights = np.asarray(weights, dtype = float)
    return np.einsum("ijab,ab->ij",
                     windows_of(picture, weights.shape), weights)
''',
    "convolve2d_valid": '''def convolve2d_valid(picture, weights):
    return conv2d_valid(picture,np.flip(np.asarray(weights)))  # flipped
''',
    "edge_magnitude": '''def edge_magnitude(picture):
    return np.hypot(conv2d_valid(picture, SOBEL_X),
                    conv2d_valid(picture, SOBEL_X.T))
''',
}
SHIFT_ADD = {
    "conv2d_valid": _as_answer(test_edges.conv_shift_add),
    "convolve2d_valid": '''def convolve2d_valid(image, kernel):
    k = np.rot90(np.asarray(kernel), 2)
    return conv2d_valid(image, k)
''',
    "edge_magnitude": '''def edge_magnitude(image):
    horizontal_change = conv2d_valid(image, SOBEL_X)
    vertical_change = conv2d_valid(image, SOBEL_X.T)
    return np.sqrt(horizontal_change * horizontal_change + vertical_change * vertical_change)
''',
}
RENAMED = {
    "conv2d_valid": '''def conv2d_valid(picture, filt):
    # my own words here
    picture = np.asarray(picture, dtype=float)
    filt = np.asarray(filt, dtype=float)
    rows, cols = picture.shape
    fr, fc = filt.shape
    out_rows, out_cols = rows - fr + 1, cols - fc + 1
    result = np.zeros( (out_rows, out_cols) )
    for r in range(out_rows):
        for c in range(out_cols):
            patch = picture[r:r+fr, c:c+fc]   # the window under the filter
            result[r, c] = np.sum(patch*filt)
    return result
''',
    "convolve2d_valid": '''def convolve2d_valid(picture, filt):
    # turn it around
    reversed_filter = np.asarray(filt)[::-1, ::-1]
    return conv2d_valid(picture, reversed_filter)
''',
    "edge_magnitude": '''def edge_magnitude(picture):
    g1 = conv2d_valid(picture, SOBEL_X)
    g2 = conv2d_valid(picture, SOBEL_X.T)
    return np.sqrt(g1**2 + g2**2)
''',
}
SYNTHETIC = {"vectorised": VECTORISED, "vectorised_copy": VECTORISED_COPY,
             "shift_add": SHIFT_ADD, "renamed": RENAMED}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """The example class of notebook 01 plus the synthetic students, nbgrader layout."""
    root = tmp_path_factory.mktemp("similarity")
    course = Course(root=REPO, source=REPO / "solutions", build=root / "build")
    dest = root / "class"
    example_class.build(dest, course=course, assignments=[STEM], log=lambda *a: None)
    release = cells.read(course.build / "release" / STEM / f"{STEM}.ipynb")
    right = example_class.solutions_by_id(cells.read(course.source / STEM / f"{STEM}.ipynb"))
    for student, answers in SYNTHETIC.items():
        folder = dest / student / STEM
        folder.mkdir(parents=True)
        nbformat.write(example_class.fill(release, {**right, **answers}),
                       str(folder / f"{STEM}.ipynb"))
    return dest


@pytest.fixture(scope="module")
def result(klass):
    return sim.compare_submissions(klass, {STEM: [STEM]})


def _score(result, a, b):
    pair = next(p for p in result.pairs if {p.a, p.b} == {a, b})
    return pair.score


STUDENTS = ["Zoë Ng", "broken_json", "empty", "perfect", "renamed", "shift_add",
            "typical_mistakes", "vectorised", "vectorised_copy"]


def test_every_pair_of_every_student_is_compared(result):
    students = sorted({a.student for a in result.answers[(STEM, STEM)]})
    assert students == STUDENTS
    assert len(result.pairs) == len(STUDENTS) * (len(STUDENTS) - 1) // 2
    assert {frozenset((p.a, p.b)) for p in result.pairs} == {
        frozenset(pair) for pair in __import__("itertools").combinations(STUDENTS, 2)}


@pytest.mark.parametrize("a, b", [("perfect", "Zoë Ng"), ("perfect", "renamed"),
                                  ("Zoë Ng", "renamed"), ("vectorised", "vectorised_copy")])
def test_copies_are_flagged_whatever_the_names_and_layout(result, a, b):
    assert _score(result, a, b) >= sim.THRESHOLD


def test_identical_answers_score_one(result):
    assert _score(result, "perfect", "Zoë Ng") == pytest.approx(1.0)


@pytest.mark.parametrize("a, b", [("perfect", "vectorised"), ("perfect", "shift_add"),
                                  ("vectorised", "shift_add"), ("renamed", "shift_add"),
                                  ("typical_mistakes", "vectorised")])
def test_independent_solutions_in_other_styles_are_not_flagged(result, a, b):
    # they share the constants the task fixes (VERTICAL_EDGE ...) and the starter code
    assert _score(result, a, b) < sim.THRESHOLD - 0.15


def test_empty_and_broken_submissions_are_listed_not_scored(result):
    by = {a.student: a for a in result.answers[(STEM, STEM)]}
    assert "no answer written" in by["empty"].problem
    assert "not a readable notebook" in by["broken_json"].problem
    for p in result.pairs:
        if {"empty", "broken_json"} & {p.a, p.b}:
            assert p.score == 0 and p.note


def test_starter_code_alone_is_not_similarity(tmp_path):
    """Two students who wrote one trivial line under the starter code are not similar."""
    release = cells.read(REPO / "notebooks" / STEM / f"{STEM}.ipynb")
    stub = {gid: src for gid, src in sim.answer_sources(release).items()}
    for student in ("a", "b"):
        answers = {gid: src.replace("raise NotImplementedError()", f"return None  # {student}")
                   for gid, src in stub.items() if "def " in src}
        folder = tmp_path / student / STEM
        folder.mkdir(parents=True)
        nbformat.write(example_class.fill(release, answers), str(folder / f"{STEM}.ipynb"))
    res = sim.compare_submissions(tmp_path, {STEM: [STEM]})
    assert len(res.pairs) == 1 and res.pairs[0].score == 0
    assert all("too little code" in a.problem for a in res.answers[(STEM, STEM)])


def test_reports_hold_every_pair_and_say_it_is_not_a_verdict(result, tmp_path):
    sim.write(result, tmp_path)
    with open(tmp_path / "similarity.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(result.pairs)
    assert {r["student_a"] for r in rows} | {r["student_b"] for r in rows} == set(STUDENTS)
    flagged = {frozenset((r["student_a"], r["student_b"])) for r in rows if r["flagged"] == "yes"}
    assert frozenset(("perfect", "renamed")) in flagged
    assert frozenset(("perfect", "vectorised")) not in flagged
    page = (tmp_path / "similarity.html").read_text(encoding="utf-8")
    assert sim.VERDICT_NOTE in page
    assert "not a verdict" in page and "<mark>" in page
    assert "Zoë Ng" in page and "renamed" in page
    assert "no answer written" in page and "not a readable notebook" in page


def test_command_line_is_deterministic(klass, tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        proc = subprocess.run([sys.executable, "-m", "grader", "similarity", str(klass),
                               "--assignment", STEM, "--out", str(out)],
                              cwd=REPO, capture_output=True, text=True, env=tool_env(), timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "not a verdict" in proc.stdout and "perfect / renamed" in proc.stdout
        outs.append((out / "similarity.csv").read_bytes())
    assert outs[0] == outs[1]  # the same submissions give the same report in every run


def test_unknown_assignment_is_an_error(klass):
    proc = subprocess.run([sys.executable, "-m", "grader", "similarity", str(klass),
                           "--assignment", "99_nothing"],
                          cwd=REPO, capture_output=True, text=True, env=tool_env(), timeout=300)
    assert proc.returncode == 2 and "unknown assignment" in proc.stderr


def test_zip_of_a_flat_lms_export(klass, tmp_path):
    """A Canvas-style flat zip works too (the same intake as autograde)."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for student in ("perfect", "renamed"):
        shutil.copy(klass / student / STEM / f"{STEM}.ipynb",
                    flat / f"{student}_1234_5678_{STEM}.ipynb")
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", flat)
    res = sim.compare_submissions(archive, {STEM: [STEM]})
    assert [(p.a, p.b) for p in res.pairs] == [("perfect", "renamed")]
    assert res.pairs[0].score >= sim.THRESHOLD

"""Whole-notebook tests: solutions pass, the release fails only where it should, and
``notebooks/`` is exactly nbgrader's release of ``solutions/``.
"""
from __future__ import annotations

import ast

import pytest

from grader import notebook_cells as cells
from grader.authoring import release as rel
from grader.authoring.execute import errors, execute
from nbtools import assignments, release_path, solution_path

STEMS = assignments()
ALLOWED_IN_RELEASE = {"NotImplementedError", "NameError"}
#: answer cells whose grade id starts with this hold work from earlier notebooks: ungraded
EARLIER = "earlier_"


def test_course_has_notebooks():
    """The curriculum's notebooks exist, one folder each."""
    expected = {"01_edge_detection", "02_padding", "03_strides", "04_conv_layer",
                "05_pooling", "06_lenet5", "07_keras_mnist", "08_backprop",
                "09_batchnorm", "10_deeper_networks", "11_fast_convolution"}
    missing = expected - set(STEMS)
    assert not missing, f"solutions/ lacks {sorted(missing)}"


def _assigned_names(source: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_solution_runs_top_to_bottom(stem):
    """Every solution notebook runs in a fresh kernel with every test passing."""
    nb = cells.read(solution_path(stem))
    execute(nb, solution_path(stem).parent, timeout=900)
    assert errors(nb) == [], f"{stem}: cells raised errors"
    n_tests = sum(1 for _ in cells.iter_cells(nb, "test"))
    assert n_tests >= 2, f"{stem} has only {n_tests} test cells"


@pytest.mark.parametrize("stem", STEMS)
def test_saved_solution_is_executed(stem):
    """Self-learners read executed solutions: every code cell has run, none failed."""
    nb = cells.read(solution_path(stem))
    unrun = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and c.source.strip() and c.execution_count is None]
    assert not unrun, (f"{stem}: cells {unrun} have no saved output; run "
                       f"`python -m grader solutions {stem}`")
    assert errors(nb) == []


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_release_fails_only_where_work_is_missing(stem):
    """Run as shipped: every test cell fails; other cells fail only because of a stub."""
    nb = cells.read(release_path(stem))
    execute(nb, release_path(stem).parent, timeout=600, allow_errors=True,
            env={"CNN_COURSE_GRADING": "1"})
    tainted: set[str] = set()
    for cell in cells.iter_cells(cells.read(solution_path(stem)), "answer"):
        tainted |= _assigned_names(cells.strip_solution_markers(cell.source))
    failed = {i: (ename, evalue) for i, ename, evalue in errors(nb)}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        gid = cells.nbgrader_meta(cell).get("grade_id", f"cell {i}")
        if cells.is_test(cell):
            assert i in failed, f"{stem}: test {gid} passes on the unfinished release"
            continue
        if i not in failed:
            continue
        ename, evalue = failed[i]
        assert ename in ALLOWED_IN_RELEASE, (
            f"{stem}: {gid} fails with {ename}: {evalue} in the release "
            "(only a stub's NotImplementedError or a NameError from one is allowed)")
        if ename == "NameError":
            name = evalue.split("'")[1] if "'" in evalue else evalue
            assert name in tainted, (
                f"{stem}: {gid} fails with NameError for '{name}', which no exercise defines")
        tainted |= _assigned_names(cell.source)


@pytest.mark.parametrize("stem", STEMS)
def test_release_leaks_nothing(stem):
    """No solution line, hidden test or marker appears in notebooks/."""
    assert rel.leaks(stem) == []


@pytest.mark.parametrize("stem", STEMS)
def test_release_has_no_outputs(stem):
    """Student notebooks ship clean: no outputs, no execution counts."""
    nb = cells.read(release_path(stem))
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_release_in_sync_with_solutions():
    """notebooks/ equals what nbgrader generate_assignment makes from solutions/."""
    problems = rel.check()
    assert problems == [], "\n".join(problems)


def _between(source: str, begin: str, end: str) -> str:
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif inside:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("stem", STEMS)
def test_every_answer_has_a_test(stem):
    """Each graded function gets at least one visible and one hidden test."""
    nb = cells.read(solution_path(stem))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    tests = [c.source for c in cells.iter_cells(nb, "test")]
    assert answers, f"{stem} has no answer cells"
    for c in cells.iter_cells(nb, "test"):
        meta = cells.nbgrader_meta(c)
        assert meta.get("points", 0) > 0, f"{stem}: test {meta['grade_id']} has no points"
        first = c.source.lstrip().splitlines()[0]
        assert first.startswith('"""'), f"{stem}: test {meta['grade_id']} lacks a docstring"
    assert any("### BEGIN HIDDEN TESTS" in t for t in tests), f"{stem} has no hidden tests"
    hidden = "\n".join(_between(t, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
                       for t in tests)
    for gid in answers:
        if gid.startswith(EARLIER):  # the student's own functions from earlier notebooks
            continue
        defined = _assigned_names(cells.strip_solution_markers(
            next(c.source for c in cells.iter_cells(nb, "answer")
                 if cells.nbgrader_meta(c)["grade_id"] == gid)))
        assert any(name in t for name in defined for t in tests), (
            f"{stem}: answer {gid} ({sorted(defined)}) is used by no test cell")
        assert any(name in hidden for name in defined), (
            f"{stem}: answer {gid} ({sorted(defined)}) has no hidden test")


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_structure(stem):
    """Learning goals first, key points at the end, a figure, seeds set in the setup cell."""
    nb = cells.read(solution_path(stem))
    markdown = [c.source.lower() for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and "learning goals" in markdown[0] + (markdown[1] if len(markdown) > 1 else ""), \
        f"{stem}: the notebook should open with its learning goals"
    assert any("key points" in m for m in markdown[-3:]), f"{stem}: no key points recap at the end"
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {})]
    assert figures, f"{stem}: the executed solution shows no figure"
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "seed" in setup.lower(), f"{stem}: the setup cell should set seeds explicitly"
    assert "import *" not in "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("stem", STEMS)
def test_test_cells_pass_or_fail_only_by_raising(stem):
    """Plain nbgrader reads a shown number as partial credit and any stderr as a failure."""
    nb = cells.read(solution_path(stem))
    for cell in cells.iter_cells(nb, "test"):
        gid = cells.nbgrader_meta(cell)["grade_id"]
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "execute_result", (
                f"{stem}: test {gid} ends in an expression with a value")
            assert not (out.get("output_type") == "stream" and out.get("name") == "stderr"), (
                f"{stem}: test {gid} writes to stderr: {out.get('text', '')[:200]}")


# 07's hidden tests train a model; test_roundtrip.py grades its example class through nbgrader.
@pytest.mark.parametrize("stem", [s for s in STEMS if s != "07_keras_mnist"])
def test_typical_mistakes_get_partial_marks(stem):
    """Full marks for the solution; strictly between 0 and full for the example class's
    typical-mistakes student, whose sections must name real answer cells."""
    from grader.authoring.example_class import parse_mistakes
    from nbtools import REPO, score_in_process

    mistakes = parse_mistakes(REPO / "data" / "example_class" / "typical_mistakes" / f"{stem}.py")
    answers = {cells.nbgrader_meta(c)["grade_id"]
               for c in cells.iter_cells(cells.read(solution_path(stem)), "answer")}
    assert mistakes and set(mistakes) <= answers, f"{stem}: {sorted(set(mistakes) - answers)}"
    full, total, failed = score_in_process(stem)
    assert full == total and failed == [], f"{stem}: the solution fails {failed}"
    points, _, failed = score_in_process(stem, mistakes)
    assert 0 < points < total, f"{stem}: typical mistakes score {points}/{total}"

"""utils/checks/expected.py is generated from grader/references and must be current."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from grader.authoring import expected as generator
from grader.references import edges as ref_edges
from grader.references import keras_mnist as ref_mnist
from grader.references import lenet5 as ref_lenet5
from utils.checks import edges, expected, keras_mnist, lenet5


def test_committed_file_is_what_the_generator_writes():
    committed = generator.PATH.read_text(encoding="utf-8")
    assert committed == generator.render(), (
        f"utils/checks/expected.py is stale: run `{generator.COMMAND}` and commit the result")


def test_a_changed_reference_makes_the_committed_file_stale(monkeypatch, capsys):
    table = list(ref_lenet5.TABLE)
    table[1] = ("CONV1", (28, 28, 6), 4704, 456)  # the classic LeNet's 6 filters
    monkeypatch.setattr(ref_lenet5, "TABLE", tuple(table))
    assert generator.render() != generator.PATH.read_text(encoding="utf-8")
    assert generator.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_the_generated_module_reproduces_the_references():
    namespace: dict = {}
    exec(compile(generator.render(), "expected.py", "exec"), namespace)  # noqa: S102
    assert namespace["LENET5_TABLE"] == ref_lenet5.TABLE
    assert namespace["LENET5_TOTAL"] == ref_lenet5.TOTAL
    assert namespace["MNIST_LAYERS"] == ref_mnist.LAYERS
    assert namespace["MNIST_TOTAL_PARAMS"] == ref_mnist.TOTAL
    assert namespace["MNIST_INPUT_SHAPE"] == ref_mnist.INPUT_SHAPE
    for name in ("VERTICAL_EDGE", "HORIZONTAL_EDGE", "SOBEL_X", "SCHARR_X"):
        assert np.array_equal(namespace[name], getattr(ref_edges, name)), name


def test_the_visible_checks_read_the_generated_values():
    assert lenet5.LENET5_TABLE is expected.LENET5_TABLE
    assert lenet5.LENET5_TOTAL == expected.LENET5_TOTAL
    assert keras_mnist.EXPECTED_LAYERS is expected.MNIST_LAYERS
    assert keras_mnist.TOTAL_PARAMS == expected.MNIST_TOTAL_PARAMS
    assert edges.VERTICAL is expected.VERTICAL_EDGE and edges.HORIZONTAL is expected.HORIZONTAL_EDGE
    assert edges.SOBEL is expected.SOBEL_X and edges.SCHARR is expected.SCHARR_X


def test_the_generated_module_holds_constants_only():
    tree = ast.parse(generator.PATH.read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in ast.walk(tree)}
    assert not kinds & {"FunctionDef", "AsyncFunctionDef", "Lambda", "ClassDef", "For", "While",
                        "ListComp", "GeneratorExp", "DictComp"}
    assert all(isinstance(n, (ast.Expr, ast.Import, ast.Assign)) for n in tree.body)


def test_only_integer_arrays_are_written():
    with pytest.raises(ValueError, match="integer"):
        generator.literal(np.array([0.5, 1.0]))

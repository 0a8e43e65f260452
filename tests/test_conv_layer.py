"""Notebook 04 (convolutions over volumes, one conv layer): spec facts, and that every
visible check and hidden test passes correct solutions (loops, vectorised, float32) and
fails typical mistakes with a message that names them.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from grader import notebook_cells as cells
from grader.references import conv_layer as hidden
from nbtools import solution_namespace, solution_path
from utils.checks import conv_layer as check
from utils.checks.core import CheckFailure

STEM = "04_conv_layer"


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(STEM)


# ------------------------------------------------------------ spec facts (3.04)
def test_volume_shape_fact(ns):
    """6x6x3 with two 3x3x3 filters -> 4x4x2."""
    Z, cache = ns["conv_forward"](np.ones((1, 6, 6, 3)), np.ones((3, 3, 3, 2)),
                                  np.zeros((1, 1, 1, 2)), {"stride": 1, "pad": 0})
    assert Z.shape == (1, 4, 4, 2)
    assert len(cache) == 4


def test_parameter_counts(ns):
    """280 for ten 3x3x3 filters whatever the image; 456 / 156; 14.4 M dense weights."""
    params = ns["conv_layer_params"]
    assert params(3, 3, 10) == 280 and isinstance(params(3, 3, 10), int)
    W, b = np.ones((3, 3, 3, 10)), np.zeros((1, 1, 1, 10))
    for n in (8, 20):
        Z, _ = ns["conv_forward"](np.ones((1, n, n, 3)), W, b, {"stride": 1, "pad": 0})
        assert Z.shape == (1, n - 2, n - 2, 10)
    assert params(5, 3, 6) == 456 and params(5, 1, 6) == 156
    dense = (32 * 32 * 3) * (28 * 28 * 6)
    assert dense == 3072 * 4704 == 14_450_688 and round(dense / 1e6, 1) in (14.4, 14.5)
    assert hidden.keras_conv_params(3, 3, 10) == 280


def test_one_by_one_convolution(ns):
    """32 filters of 1x1x64 map 28x28x64 to 28x28x32: a 64-long dot product per pixel."""
    rng = np.random.default_rng(1)
    A, W, b = rng.normal(size=(1, 28, 28, 64)), rng.normal(size=(1, 1, 64, 32)), \
        rng.normal(size=(1, 1, 1, 32))
    Z, _ = ns["conv_forward"](A, W, b, {"stride": 1, "pad": 0})
    assert Z.shape == (1, 28, 28, 32)
    np.testing.assert_allclose(Z, A @ W[0, 0] + b, rtol=1e-10)
    assert ns["conv_layer_params"](1, 64, 32) == 65 * 32


def test_translation_equivariance(ns):
    """Shift the image, the feature map shifts (stride 1, valid)."""
    rng = np.random.default_rng(2)
    big = rng.normal(size=(30, 30, 3))
    W, b = rng.normal(size=(3, 3, 3, 2)), rng.normal(size=(1, 1, 1, 2))
    z1, _ = ns["conv_forward"](big[None, 0:20, 0:20], W, b, {"stride": 1, "pad": 0})
    z2, _ = ns["conv_forward"](big[None, 3:23, 5:25], W, b, {"stride": 1, "pad": 0})
    np.testing.assert_allclose(z1[0, 3:, 5:], z2[0, :-3, :-5], atol=1e-12)


def test_relu_new_array_and_single_step_float(ns):
    Z = np.array([[-1.0, 2.0]])
    out = ns["relu"](Z)
    assert out is not Z and Z[0, 0] == -1.0 and out.tolist() == [[0.0, 2.0]]
    v = ns["conv_single_step"](np.ones((2, 2, 3)), np.ones((2, 2, 3)), np.array([[[0.5]]]))
    assert isinstance(v, float) and v == 12.5


def test_constants_match_keras():
    """The constants written in the visible checks equal Keras on the same inputs."""
    A, W, b = check.worked_example_inputs()
    np.testing.assert_allclose(check.WORKED_Z, hidden.keras_conv(A, W, b, 1, 0))
    A, W, b, hp = check.stride_pad_batch_inputs()
    np.testing.assert_allclose(check.SPB_Z, hidden.keras_conv(A, W, b, 2, 1))
    assert check.SLICE_EXPECTED == pytest.approx(float(np.sum(check.SLICE * check.SLICE_W))
                                                 + check.SLICE_B.item())


# ------------------------------------------------------------ correct solutions
def conv_forward_vectorised(A_prev, W, b, hparameters):
    s, p = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    Ap = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    win = sliding_window_view(Ap, (f, f), axis=(1, 2))[:, ::s, ::s]
    Z = np.tensordot(win, W, axes=([3, 4, 5], [2, 0, 1])) + b.reshape(-1)
    return Z, (A_prev, W, b, hparameters)


def conv_forward_float32(A_prev, W, b, hparameters):
    """Computes in float32 and returns float32 (any float dtype is fine)."""
    Z, _ = conv_forward_vectorised(A_prev.astype(np.float32), W.astype(np.float32),
                                   np.asarray(b, dtype=np.float32), hparameters)
    return Z.astype(np.float32), (A_prev, W, b, hparameters)


def single_step_vectorised(a, W, b):
    return float(np.einsum("ijk,ijk->", a, W) + np.squeeze(b))


def relu_where(Z):
    return np.where(Z > 0, Z, 0.0).astype(np.result_type(Z, np.float32))


def params_alt(f, n_C_prev, n_C):
    return int(f * f * n_C_prev * n_C + n_C)


CHECKS = {
    "conv_single_step": [check.conv_single_step_worked_example, hidden.conv_single_step_random],
    "conv_forward": [check.conv_forward_shapes, check.conv_forward_worked_example,
                     check.conv_forward_stride_pad_batch, hidden.conv_forward_random_shapes,
                     hidden.conv_forward_worked_examples,
                     hidden.conv_forward_matches_reference],
    "relu": [check.relu_new_array, hidden.relu_random],
    "conv_layer_params": [check.conv_layer_params_examples, hidden.conv_layer_params_random],
}
ALTERNATIVES = {
    "conv_single_step": [single_step_vectorised],
    "conv_forward": [conv_forward_vectorised, conv_forward_float32],
    "relu": [relu_where],
    "conv_layer_params": [params_alt],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_checks_pass_correct_solutions(ns, name, capsys):
    for fn in [ns[name]] + ALTERNATIVES[name]:
        for run in CHECKS[name]:
            run(fn)
    out = capsys.readouterr().out
    assert out.count("\u2714") == len(CHECKS[name]) * (1 + len(ALTERNATIVES[name]))


# ------------------------------------------------------------ typical mistakes
def _conv(A_prev, W, b, hp, *, bias=1.0, per_element=False, stride_in_slice=True,
          pad_axes="spatial", first_example=False, first_channel=False, cache=None,
          hard_coded=False):
    """A vectorised conv_forward with switchable mistakes."""
    s, p = hp["stride"], hp["pad"]
    f, _, n_cp, n_c = W.shape
    m = A_prev.shape[0]
    widths = {"spatial": ((0, 0), (p, p), (p, p), (0, 0)),
              "batch": ((p, p), (p, p), (p, p), (0, 0)),
              "all": p}[pad_axes]
    Ap = np.pad(A_prev, widths)[:m] if pad_axes != "all" else np.pad(A_prev, widths)
    if first_channel:
        Ap, W = Ap[..., :1], W[:, :, :1]
    n_h = (A_prev.shape[1] + 2 * p - f) // s + 1
    n_w = (A_prev.shape[2] + 2 * p - f) // s + 1
    win = sliding_window_view(Ap, (f, f), axis=(1, 2))
    win = win[:, ::s, ::s] if stride_in_slice else win[:, :n_h, :n_w]
    Z = np.tensordot(win, W, axes=([3, 4, 5], [2, 0, 1]))
    Z = Z + bias * b.reshape(-1) * (f * f * n_cp if per_element else 1)
    if first_example:
        Z = np.repeat(Z[:1], m, axis=0)
    if hard_coded:
        Z = np.zeros((m, 4, 4, n_c))
    if cache == "padded":
        return Z, (Ap, W, b, hp)
    if cache == "order":
        return Z, (W, A_prev, b, hp)
    if cache == "short":
        return Z, (A_prev, W, b)
    return Z, (A_prev, W, b, hp)


def _mk(**kw):
    return lambda A, W, b, hp: _conv(A, W, b, hp, **kw)


CONV_MISTAKES = [  # (implementation, checks that must fail, text the message must contain)
    (_mk(bias=0.0), [check.conv_forward_worked_example, check.conv_forward_stride_pad_batch,
                     hidden.conv_forward_matches_reference], check.NO_BIAS),
    (_mk(per_element=True), [check.conv_forward_worked_example,
                             hidden.conv_forward_matches_reference], check.BIAS_PER_ELEMENT),
    (_mk(stride_in_slice=False), [check.conv_forward_stride_pad_batch,
                                  hidden.conv_forward_matches_reference,
                                  hidden.conv_forward_worked_examples], check.STRIDE_IGNORED),
    (_mk(pad_axes="batch"), [check.conv_forward_stride_pad_batch,
                             hidden.conv_forward_matches_reference], check.PAD_BATCH),
    (_mk(pad_axes="all"), [check.conv_forward_stride_pad_batch, check.conv_forward_shapes,
                           hidden.conv_forward_matches_reference], check.PAD_CHANNELS),
    (_mk(first_example=True), [check.conv_forward_stride_pad_batch,
                               hidden.conv_forward_matches_reference], check.FIRST_EXAMPLE),
    (_mk(first_channel=True), [check.conv_forward_worked_example,
                               hidden.conv_forward_matches_reference], check.FIRST_CHANNEL),
    (_mk(cache="padded"), [check.conv_forward_shapes, hidden.conv_forward_random_shapes],
     "padded input"),
    (_mk(cache="order"), [check.conv_forward_shapes], "wrong order"),
    (_mk(cache="short"), [check.conv_forward_shapes, hidden.conv_forward_matches_reference],
     "wrong cache"),
    (_mk(hard_coded=True), [check.conv_forward_shapes, hidden.conv_forward_random_shapes],
     check.HARD_CODED),
    (lambda A, W, b, hp: _conv(A, W, b, hp)[0], [check.conv_forward_shapes],
     "expected a pair (Z, cache)"),
    (lambda A, W, b, hp: (np.maximum(_conv(A, W, b, hp)[0], 0), (A, W, b, hp)),
     [check.conv_forward_worked_example, hidden.conv_forward_matches_reference],
     check.RELU_INSIDE),
    (lambda A, W, b, hp: (_conv(A, W[::-1, ::-1], b, hp)[0], (A, W, b, hp)),
     [check.conv_forward_worked_example, hidden.conv_forward_matches_reference],
     check.KERNEL_FLIPPED),
]


def _fails_with(run, fn, text):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    assert text in str(err.value), f"{run.__name__}: message lacks {text!r}:\n{err.value}"
    return str(err.value)


@pytest.mark.parametrize("impl,runs,text", CONV_MISTAKES,
                         ids=[re.sub(r"\W+", "_", t[2][:30]) for t in CONV_MISTAKES])
def test_conv_forward_mistakes_are_named(impl, runs, text):
    for run in runs:
        _fails_with(run, impl, text)


def _step_b_array(a, W, b):
    return np.sum(a * W) + b


def _step_float_b(a, W, b):
    return float(np.sum(a * W) + b)


SINGLE_STEP_MISTAKES = [
    (lambda a, W, b: float(np.sum(a * W)), check.NO_BIAS),
    (lambda a, W, b: float(np.sum(a * W + np.squeeze(b))), check.BIAS_PER_ELEMENT),
    (lambda a, W, b: float(np.mean(a * W) + np.squeeze(b)), check.SINGLE_MEAN),
    (lambda a, W, b: float(np.sum(a[..., 0] * W[..., 0]) + np.squeeze(b)), check.FIRST_CHANNEL),
    (_step_b_array, "(1, 1, 1)"),
    (_step_float_b, "b.item()"),
]


@pytest.mark.parametrize("impl,text", SINGLE_STEP_MISTAKES)
def test_conv_single_step_mistakes_are_named(impl, text):
    _fails_with(check.conv_single_step_worked_example, impl, text)
    _fails_with(hidden.conv_single_step_random, impl, text)


def _relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


RELU_MISTAKES = [
    (_relu_in_place, "in place"),
    (np.abs, check.RELU_ABS),
    (lambda Z: np.clip(Z, 0, 1), check.RELU_CLIP),
    (lambda Z: np.maximum(Z, 1), check.RELU_AT_ONE),
    (lambda Z: np.minimum(Z, 0), check.RELU_MIN),
    (lambda Z: (Z > 0).astype(float), check.RELU_STEP),
]


@pytest.mark.parametrize("impl,text", RELU_MISTAKES)
def test_relu_mistakes_are_named(impl, text):
    _fails_with(check.relu_new_array, impl, text)
    _fails_with(hidden.relu_random, impl, text)


def test_relu_returning_its_input_fails():
    _fails_with(check.relu_new_array, lambda Z: Z, "returned its input array itself")


PARAMS_MISTAKES = [
    (lambda f, a, c: f * f * a * c, check.PARAMS_NO_BIAS),
    (lambda f, a, c: f * f * a * c + 1, check.PARAMS_ONE_BIAS),
    (lambda f, a, c: (f * f + 1) * c, check.PARAMS_NO_CHANNELS),
    (lambda f, a, c: (f * f + 1) * a * c, check.PARAMS_BIAS_PER_CHANNEL),
    (lambda f, a, c: float((f * f * a + 1) * c), "expected an int"),
]


@pytest.mark.parametrize("impl,text", PARAMS_MISTAKES)
def test_conv_layer_params_mistakes_are_named(impl, text):
    _fails_with(check.conv_layer_params_examples, impl, text)
    _fails_with(hidden.conv_layer_params_random, impl, text)


def test_stub_says_not_written():
    def stub(*args):
        raise NotImplementedError()
    for runs in CHECKS.values():
        for run in runs:
            _fails_with(run, stub, "not written yet")


# ------------------------------------------------------------ notebook structure
def test_notebook_layout():
    nb = cells.read(solution_path(STEM))
    answers = [cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "answer")]
    assert answers == ["conv_single_step", "conv_forward", "relu", "conv_layer_params"]
    tests = {cells.nbgrader_meta(c)["grade_id"] for c in cells.iter_cells(nb, "test")}
    assert {"conv_forward_shapes", "conv_forward_matches_reference"} <= tests
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text and "Key points" in text and "Open exercises" in text


def test_photo_feature_maps_use_a_sequential_map_when_nothing_is_negative():
    import matplotlib.pyplot as plt
    from utils.plotting import conv_layer as conv_plots

    photo = np.random.default_rng(0).uniform(size=(6, 5, 3))
    maps = np.stack([photo[..., 0] - photo[..., 2], photo.mean(axis=-1)], axis=-1)
    fig = conv_plots.show_photo_feature_maps(photo, maps, ["red minus blue", "blur"])
    signed, blur = fig.axes[1].images[0], fig.axes[2].images[0]
    assert signed.get_cmap().name == "RdBu_r" and signed.get_clim()[0] < 0
    assert blur.get_cmap().name == "gray" and blur.get_clim()[0] == 0
    assert "black 0" in fig.axes[2].get_title()
    plt.close("all")


@pytest.mark.parametrize("seed", range(6))
def test_numpy_reference_equals_keras_conv2d(seed):
    """Hidden tests compare with the NumPy reference; it must equal Keras on any layer."""
    rng = np.random.default_rng(seed)
    m, n_cp, n_c = (int(v) for v in rng.integers(1, 4, size=3))
    f, s, p = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    n_h, n_w = (int(v) for v in rng.integers(max(f - 2 * p, 1), 11, size=2))
    A, W = rng.normal(size=(m, n_h, n_w, n_cp)), rng.normal(size=(f, f, n_cp, n_c))
    b = rng.normal(size=(1, 1, 1, n_c))
    np.testing.assert_allclose(hidden.reference_conv(A, W, b, s, p),
                               hidden.keras_conv(A, W, b, s, p), atol=1e-9)
    assert hidden.reference_conv_params(f, n_cp, n_c) == hidden.keras_conv_params(f, n_cp, n_c)

"""Notebook 02 (padding): spec facts, and checks/hidden tests that are fair and sensitive.

Fair: every correct style of ``coverage_counts`` / ``zero_pad`` / ``same_padding`` passes
every visible check and hidden helper. Sensitive: each typical mistake fails, and the
message names it.
"""
from __future__ import annotations

import numpy as np
import pytest

from grader.references import padding as hidden
from grader.references import strides as hidden_strides
from nbtools import score_in_process, solution_namespace
from utils.checks import padding as check
from utils.checks.core import CheckFailure
from utils.plotting import padding as padding_plots

NS = solution_namespace("02_padding")


# ------------------------------------------------------------------ spec facts
def test_spec_valid_6x6_with_3x3_gives_4x4():
    out = hidden_strides.reference_conv2d(np.ones((6, 6)), np.ones((3, 3)))
    assert out.shape == (4, 4)


def test_spec_6x6_padded_by_1_is_8x8_and_gives_6x6():
    padded = NS["zero_pad"](np.ones((1, 6, 6, 1)), 1)
    assert padded.shape == (1, 8, 8, 1)
    assert hidden_strides.reference_conv2d(padded[0, :, :, 0], np.ones((3, 3))).shape == (6, 6)


def test_spec_same_padding_values():
    same_padding = NS["same_padding"]
    assert same_padding(3) == 1 and same_padding(5) == 2
    assert isinstance(same_padding(3), int)
    for f in (2, 4, 6):
        with pytest.raises(ValueError):
            same_padding(f)


def test_solution_zero_pad_pads_only_spatial_axes():
    X = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    out = NS["zero_pad"](X, (1, 2))
    assert out.shape == (2, 5, 8, 5)
    np.testing.assert_array_equal(out[:, 1:4, 2:6, :], X)
    assert out.sum() == X.sum()


# ------------------------------------------------------------------ correct styles
def zp_np_pad(X, pad):
    ph, pw = pad if isinstance(pad, tuple) else (pad, pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (0, 0)))


def zp_slice(X, pad):
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    m, h, w, c = X.shape
    out = np.zeros((m, h + 2 * ph, w + 2 * pw, c), dtype=X.dtype)
    out[:, ph:ph + h, pw:pw + w, :] = X
    return out


def zp_loops_float32(X, pad):
    ph, pw = (pad, pad) if np.isscalar(pad) else tuple(pad)
    m, h, w, c = X.shape
    out = np.zeros((m, h + 2 * ph, w + 2 * pw, c), dtype=np.float32)
    for i in range(m):
        for r in range(h):
            for col in range(w):
                for ch in range(c):
                    out[i, ph + r, pw + col, ch] = X[i, r, col, ch]
    return out


def zp_view_for_zero(X, pad):
    if pad in (0, (0, 0)):
        return X[...]  # a view of the input is a fine answer for pad = 0
    return zp_np_pad(X, pad)


CORRECT_ZERO_PAD = [NS["zero_pad"], zp_np_pad, zp_slice, zp_loops_float32, zp_view_for_zero]
ZERO_PAD_CHECKS = [check.zero_pad_worked_example, check.zero_pad_pad_pair,
                   hidden.zero_pad_random_int, hidden.zero_pad_random_pairs]


@pytest.mark.parametrize("fn", CORRECT_ZERO_PAD, ids=lambda f: f.__name__)
@pytest.mark.parametrize("run", ZERO_PAD_CHECKS, ids=lambda f: f.__name__)
def test_zero_pad_correct_styles_pass(run, fn, capsys):
    run(fn)
    assert "\u2714" in capsys.readouterr().out


def sp_floor(f):
    if f % 2 == 0:
        raise ValueError("even")
    return (f - 1) // 2


def sp_numpy_int(f):
    if not f % 2:
        raise ValueError("even")
    return np.int64(f) // 2


SAME_CHECKS = [check.same_padding_odd_filters, check.same_padding_rejects_even,
               hidden.same_padding_all_odd, hidden.same_padding_all_even]


@pytest.mark.parametrize("fn", [NS["same_padding"], sp_floor, sp_numpy_int],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("run", SAME_CHECKS, ids=lambda f: f.__name__)
def test_same_padding_correct_styles_pass(run, fn, capsys):
    run(fn)
    assert "\u2714" in capsys.readouterr().out


# ------------------------------------------------------------------ typical mistakes
def _pair(pad):
    return tuple(pad) if isinstance(pad, tuple) else (pad, pad)


def zp_batch_axis(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((ph, ph), (ph, ph), (pw, pw), (0, 0)))


def zp_channel_axis(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (pw, pw)))


def zp_all_axes(X, pad):
    return np.pad(X, pad)


def zp_first_two_axes(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((ph, ph), (pw, pw), (0, 0), (0, 0)))


def zp_swapped(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (pw, pw), (ph, ph), (0, 0)))


def zp_before_after(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, pw), (ph, pw), (0, 0)))


def zp_only_first(X, pad):
    ph, _ = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (ph, ph), (0, 0)))


def zp_ones(X, pad):  # constant_values mistaken for the width
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=(ph, ph))


def zp_edge(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode="edge")


def zp_reflect(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode="reflect")


def zp_sevens(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=7)


def zp_unchanged(X, pad):
    return X


def zp_one_side(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (ph, 0), (pw, 0), (0, 0)))


def zp_double(X, pad):
    ph, pw = _pair(pad)
    return np.pad(X, ((0, 0), (2 * ph, 2 * ph), (2 * pw, 2 * pw), (0, 0)))


def zp_corner(X, pad):
    ph, pw = _pair(pad)
    m, h, w, c = X.shape
    out = np.zeros((m, h + 2 * ph, w + 2 * pw, c))
    out[:, :h, :w, :] = X
    return out


def zp_pad_hard_coded_one(X, pad):
    return np.pad(X, ((0, 0), (1, 1), (1, 1), (0, 0)))


def zp_shape_hard_coded(X, pad):
    out = np.zeros((1, 4, 5, 2))  # the worked example's answer shape, typed in
    out[:, 1:-1, 1:-1, :] = X
    return out


def zp_mutates(X, pad):
    out = zp_np_pad(X, pad)
    X[...] = 0
    return out


# (mistaken function, the check that must fail, words the message must contain)
ZERO_PAD_MISTAKES = [
    (zp_batch_axis, check.zero_pad_worked_example, "batch axis"),
    (zp_batch_axis, hidden.zero_pad_random_int, "batch axis"),
    (zp_channel_axis, check.zero_pad_worked_example, "channel axis"),
    (zp_channel_axis, hidden.zero_pad_random_int, "channel axis"),
    (zp_all_axes, check.zero_pad_worked_example, "all four axes"),
    (zp_all_axes, hidden.zero_pad_random_int, "all four axes"),
    (zp_all_axes, hidden.zero_pad_random_pairs, "all four axes"),
    (zp_first_two_axes, check.zero_pad_pad_pair, "axes 0 and 1"),
    (zp_first_two_axes, hidden.zero_pad_random_pairs, "axes 0 and 1"),
    (zp_swapped, check.zero_pad_pad_pair, "other way round"),
    (zp_swapped, hidden.zero_pad_random_pairs, "other way round"),
    (zp_before_after, check.zero_pad_pad_pair, "(before, after)"),
    (zp_before_after, hidden.zero_pad_random_pairs, "(before, after)"),
    (zp_only_first, check.zero_pad_pad_pair, "only pad_h"),
    (zp_only_first, hidden.zero_pad_random_pairs, "only pad_h"),
    (zp_ones, check.zero_pad_worked_example, "constant_values"),
    (zp_ones, hidden.zero_pad_random_int, "not zero"),
    (zp_edge, check.zero_pad_worked_example, "mode='edge'"),
    (zp_edge, hidden.zero_pad_random_pairs, "mode='edge'"),
    (zp_reflect, check.zero_pad_worked_example, "mode='reflect'"),
    (zp_sevens, check.zero_pad_pad_pair, "border is not zero"),
    (zp_sevens, hidden.zero_pad_random_int, "border is not zero"),
    (zp_unchanged, check.zero_pad_worked_example, "unchanged"),
    (zp_unchanged, hidden.zero_pad_random_pairs, "unchanged"),
    (zp_one_side, check.zero_pad_worked_example, "only one side"),
    (zp_one_side, hidden.zero_pad_random_int, "only one side"),
    (zp_double, check.zero_pad_worked_example, "2 * pad"),
    (zp_double, hidden.zero_pad_random_pairs, "2 * pad"),
    (zp_corner, check.zero_pad_worked_example, "top-left corner"),
    (zp_corner, hidden.zero_pad_random_pairs, "top-left corner"),
    (zp_pad_hard_coded_one, check.zero_pad_worked_example, "hard-coded to 1"),
    (zp_pad_hard_coded_one, hidden.zero_pad_random_int, "hard-coded to 1"),
    (zp_shape_hard_coded, check.zero_pad_pad_pair, "hard-coded to the worked example"),
    (zp_shape_hard_coded, hidden.zero_pad_random_int, "hard-coded to the worked example"),
    (zp_mutates, check.zero_pad_worked_example, "changed its input"),
    (zp_mutates, hidden.zero_pad_random_pairs, "changed its input"),
]


def test_zero_pad_value_message_shows_a_readable_slice():
    with pytest.raises(CheckFailure) as err:
        check.zero_pad_worked_example(zp_edge)
    message = str(err.value)
    assert "slice X_pad[0, :, :, 0]" in message
    assert "First mismatch at index (0, 0): expected 0, got 1" in message
    assert "Expected:" in message and "Yours:" in message


def test_zero_pad_shape_message_gives_both_shapes():
    with pytest.raises(CheckFailure) as err:
        check.zero_pad_worked_example(zp_batch_axis)
    message = str(err.value)
    assert "Expected shape: (1, 4, 5, 2)" in message and "Your shape:     (3, 4, 5, 2)" in message


def test_stub_gives_not_written_yet():
    def stub(X, pad):
        raise NotImplementedError()
    for run in ZERO_PAD_CHECKS:
        with pytest.raises(CheckFailure, match="not written yet"):
            run(stub)


def sp_no_raise(f):
    return f // 2


def sp_float(f):
    if f % 2 == 0:
        raise ValueError("even")
    return (f - 1) / 2


def sp_total(f):
    if f % 2 == 0:
        raise ValueError("even")
    return f - 1


def sp_plus_one(f):
    if f % 2 == 0:
        raise ValueError("even")
    return (f + 1) // 2


def sp_type_error(f):
    if f % 2 == 0:
        raise TypeError("even")
    return (f - 1) // 2


SAME_MISTAKES = [
    (sp_no_raise, check.same_padding_rejects_even, "even filter size was accepted"),
    (sp_no_raise, hidden.same_padding_all_even, "even filter size was accepted"),
    (sp_float, check.same_padding_odd_filters, "expected an int"),
    (sp_float, hidden.same_padding_all_odd, "expected an int"),
    (sp_total, check.same_padding_odd_filters, "both sides together"),
    (sp_total, hidden.same_padding_all_odd, "both sides together"),
    (sp_plus_one, check.same_padding_odd_filters, "off by one"),
    (sp_plus_one, hidden.same_padding_all_odd, "off by one"),
    (sp_type_error, check.same_padding_rejects_even, "expected ValueError"),
]


@pytest.mark.parametrize("fn, run, words", SAME_MISTAKES,
                         ids=[f"{f.__name__}-{r.__name__}" for f, r, _ in SAME_MISTAKES])
def test_same_padding_mistakes_fail_with_named_cause(fn, run, words):
    with pytest.raises(CheckFailure) as err:
        run(fn)
    assert words in str(err.value), str(err.value)


# ------------------------------------------------------------------ coverage_counts
def test_spec_coverage_counts_6x6_with_3x3():
    """The numbers behind the heat map: corner 1 and centre 9 (valid), corner 4 with pad 1."""
    coverage_counts = NS["coverage_counts"]
    valid, same = coverage_counts(6, 3, 0), coverage_counts(6, 3, 1)
    assert valid.shape == same.shape == (6, 6)
    assert valid[0, 0] == 1 and valid[3, 3] == 9 and valid.sum() == 16 * 9
    np.testing.assert_array_equal(valid[0], [1, 2, 3, 3, 2, 1])
    assert same[0, 0] == 4 and same[0, 3] == 6 and same[3, 3] == 9
    assert same.sum() == 36 * 9 - 4 * 5 - 16 * 3   # 36 windows of 9, minus what falls on zeros


def test_coverage_reference_agrees_with_brute_force():
    """The grader's interval formula equals sliding every window over the padded grid."""
    for n in range(1, 8):
        for pad in range(4):
            for f in range(1, n + 2 * pad + 1):
                size = n + 2 * pad
                grid = np.zeros((size, size), dtype=int)
                for top in range(size - f + 1):
                    for left in range(size - f + 1):
                        grid[top:top + f, left:left + f] += 1
                np.testing.assert_array_equal(hidden.reference_coverage_counts(n, f, pad),
                                              grid[pad:pad + n, pad:pad + n])


def cc_add_at(n, f, pad):
    counts = np.zeros((n + 2 * pad, n + 2 * pad), dtype=np.int64)
    starts = np.arange(n + 2 * pad - f + 1)
    rows = (starts[:, None] + np.arange(f)[None, :]).ravel()   # every row each window covers
    np.add.at(counts, (rows[:, None], rows[None, :]), 1)
    return counts[pad:pad + n, pad:pad + n]


def cc_convolve_ones(n, f, pad):
    """Full convolution of the window-position map (all ones) with an f x f box of ones."""
    from numpy.lib.stride_tricks import sliding_window_view
    positions = np.ones((n + 2 * pad - f + 1,) * 2)
    framed = np.pad(positions, f - 1)
    full = sliding_window_view(framed, (f, f)).sum(axis=(-2, -1))   # (n + 2*pad) square
    return full[pad:pad + n, pad:pad + n]                           # float counts


def _along(n, f, pad, dtype=int):
    """Windows per row (or column) of the original image, by sliding along one axis."""
    along = np.zeros(n + 2 * pad, dtype=dtype)
    for start in range(n + 2 * pad - f + 1):
        along[start:start + f] += 1
    return along[pad:pad + n]


def cc_outer_float32(n, f, pad):
    along = _along(n, f, pad, np.float32)
    return np.outer(along, along)


def cc_lists(n, f, pad):
    size = n + 2 * pad
    return [[sum(1 for top in range(size - f + 1) for left in range(size - f + 1)
                 if top <= r + pad < top + f and left <= c + pad < left + f)
             for c in range(n)] for r in range(n)]


CORRECT_COVERAGE = [NS["coverage_counts"], cc_add_at, cc_convolve_ones, cc_outer_float32,
                    cc_lists]
COVERAGE_CHECKS = [check.coverage_counts_valid, check.coverage_counts_padded,
                   hidden.coverage_counts_random_valid, hidden.coverage_counts_random_padded]


@pytest.mark.parametrize("fn", CORRECT_COVERAGE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("run", COVERAGE_CHECKS, ids=lambda f: f.__name__)
def test_coverage_counts_correct_styles_pass(run, fn, capsys):
    run(fn)
    assert "\u2714" in capsys.readouterr().out


def _sliding(n, f, pad, *, n_windows=None, size=None, crop=None):
    """Slide windows over a grid of ``size`` (default n + 2 pad), ``n_windows`` per axis."""
    size = n + 2 * pad if size is None else size
    n_windows = size - f + 1 if n_windows is None else n_windows
    grid = np.zeros((size, size), dtype=int)
    for top in range(max(n_windows, 0)):
        for left in range(max(n_windows, 0)):
            grid[top:top + f, left:left + f] += 1
    return grid if crop is None else crop(grid)


def cc_missing_last(n, f, pad):
    return _sliding(n, f, pad, n_windows=n + 2 * pad - f,
                    crop=lambda g: g[pad:pad + n, pad:pad + n])


def cc_one_too_many(n, f, pad):
    return _sliding(n, f, pad, n_windows=n + 2 * pad - f + 2,
                    crop=lambda g: g[pad:pad + n, pad:pad + n])


def cc_pad_ignored(n, f, pad):
    return _sliding(n, f, 0)


def cc_frame_counted(n, f, pad):
    return _sliding(n, f, pad)


def cc_top_left(n, f, pad):
    return _sliding(n, f, pad, crop=lambda g: g[:n, :n])


def cc_one_side(n, f, pad):
    return _sliding(n, f, pad, size=n + pad, crop=lambda g: g[pad:pad + n, pad:pad + n])


def cc_window_grid(n, f, pad):
    return np.full((n + 2 * pad - f + 1,) * 2, f * f)


def cc_one_axis(n, f, pad):
    return _along(n, f, pad)


def cc_added(n, f, pad):
    along = _along(n, f, pad)
    return along[:, None] + along[None, :]


# (mistaken function, the check that must fail, words the message must contain)
COVERAGE_MISTAKES = [
    (cc_missing_last, check.coverage_counts_valid, "last window along each axis is missing"),
    (cc_missing_last, hidden.coverage_counts_random_valid, "last window"),
    (cc_missing_last, hidden.coverage_counts_random_padded, "last window"),
    (cc_one_too_many, check.coverage_counts_valid, "one window too many"),
    (cc_one_too_many, hidden.coverage_counts_random_valid, "one window too many"),
    (cc_one_too_many, hidden.coverage_counts_random_padded, "one window too many"),
    (cc_pad_ignored, check.coverage_counts_padded, "padding is ignored"),
    (cc_pad_ignored, hidden.coverage_counts_random_padded, "padding is ignored"),
    (cc_frame_counted, check.coverage_counts_padded, "padded frame is included"),
    (cc_frame_counted, hidden.coverage_counts_random_padded, "padded frame is included"),
    (cc_top_left, check.coverage_counts_padded, "top-left corner"),
    (cc_top_left, hidden.coverage_counts_random_padded, "top-left corner"),
    (cc_one_side, check.coverage_counts_padded, "one side only"),
    (cc_one_side, hidden.coverage_counts_random_padded, "one side only"),
    (cc_window_grid, check.coverage_counts_valid, "one entry per window position"),
    (cc_window_grid, hidden.coverage_counts_random_valid, "one entry per window position"),
    (cc_one_axis, check.coverage_counts_valid, "along one axis only"),
    (cc_one_axis, hidden.coverage_counts_random_padded, "along one axis only"),
    (cc_added, check.coverage_counts_valid, "were added"),
    (cc_added, hidden.coverage_counts_random_valid, "were added"),
]


NAMED_MISTAKES = ([(f, r, w, "zero_pad") for f, r, w in ZERO_PAD_MISTAKES]
                  + [(f, r, w, "coverage_counts") for f, r, w in COVERAGE_MISTAKES])


@pytest.mark.parametrize("fn, run, words, name", NAMED_MISTAKES,
                         ids=[f"{f.__name__}-{r.__name__}" for f, r, _, _ in NAMED_MISTAKES])
def test_mistakes_fail_with_named_cause(fn, run, words, name):
    """Each typical mistake fails the check (so the test cell loses its points) and the
    message names the function and the mistake."""
    with pytest.raises(CheckFailure) as err:
        run(fn)
    message = str(err.value)
    assert words in message, message
    assert message.startswith(f"`{name}`")


def test_coverage_counts_message_shows_the_grids():
    with pytest.raises(CheckFailure) as err:
        check.coverage_counts_padded(cc_pad_ignored)
    message = str(err.value)
    assert "n = 6" in message and "pad = 1" in message
    assert "First mismatch at index (0, 0): expected 4, got 1" in message
    assert "Expected:" in message and "Yours:" in message


def test_coverage_counts_hard_coded_worked_example_fails_hidden_tests():
    def hard_coded(n, f, pad):
        return np.array(check._COV_PADDED[0][3]) if pad else np.array(check._COV_VALID[0][3])
    with pytest.raises(CheckFailure):
        hidden.coverage_counts_random_valid(hard_coded)
    with pytest.raises(CheckFailure):
        hidden.coverage_counts_random_padded(hard_coded)


def test_coverage_hidden_inputs_differ_per_student():
    """Graded with a secret, two students get different sizes (so answers cannot be typed in)."""
    from grader.references import seeding
    seen = []
    for student in ("ada", "bob"):
        calls = []

        def spy(n, f, pad, calls=calls):
            calls.append((n, f, pad))
            return hidden.reference_coverage_counts(n, f, pad)
        with seeding.for_test(b"secret", "02_padding", "coverage_counts_padded", student):
            hidden.coverage_counts_random_padded(spy)
        seen.append(calls)
    assert seen[0] != seen[1]


_GRADED_SOURCE = """
def coverage_counts(n, f, pad):
    size = n + 2 * pad
    grid = np.zeros((size, size), dtype=int)
    for top in range({windows}):
        for left in range({windows}):
            grid[top:top + f, left:left + f] += 1
    return grid{crop}
"""


@pytest.mark.parametrize("windows, crop, lost", [
    ("n - f + 1", "[:n, :n]", {"coverage_counts_padded"}),                 # pad ignored
    ("size - f", "[pad:pad + n, pad:pad + n]",                               # off by one
     {"coverage_counts_valid", "coverage_counts_padded"}),
    ("size - f + 1", "", {"coverage_counts_padded"}),                        # frame counted
    ("size - f + 1", "[pad:pad + n, pad:pad + n]", set()),                   # correct
], ids=["pad_ignored", "off_by_one", "frame_counted", "correct"])
def test_coverage_mistakes_lose_points_when_graded(windows, crop, lost):
    """Graded the trusted way (per-student seeds), a mistaken coverage_counts loses exactly
    its own two tests' points, and a correct one loses nothing."""
    source = _GRADED_SOURCE.format(windows=windows, crop=crop)
    points, total, failed = score_in_process("02_padding", {"coverage_counts": source},
                                             student="carol")
    assert set(failed) == lost
    assert points == total - 2 * len(lost)


# ------------------------------------------------------------------ figures
def test_figures_draw():
    import matplotlib.pyplot as plt
    counts = {0: np.ones((6, 6)), 1: np.full((6, 6), 4)}
    fig = padding_plots.show_coverage(counts, f=3)
    assert len(fig.axes) == 3  # two heat maps and the colour bar
    with pytest.raises(ValueError, match="one number per pixel"):
        padding_plots.show_coverage({1: np.ones(6)}, f=3)
    image = np.random.default_rng(0).uniform(size=(30, 20))
    fig = padding_plots.show_border_effect(image, {"constant": image * 0.9, "reflect": image},
                                           pad=3)
    assert len(fig.axes[1].lines) == 3  # the original row and two blurred rows
    fig = padding_plots.show_padded_versions(
        {"zeros": np.pad(np.arange(9).reshape(3, 3), 1)}, pad=1)
    assert fig.axes
    fig = padding_plots.plot_sizes_per_layer({"valid": [6, 4, 2], "same": [6, 6, 6]})
    assert fig.axes
    plt.close("all")


def test_utils_hold_no_coverage_counts():
    """The graded function is not in utils (students get every module)."""
    import utils.plotting as plotting_pkg
    from utils.checks import padding as checks_padding
    for module in (padding_plots, plotting_pkg, checks_padding):
        assert not hasattr(module, "coverage_counts"), module.__name__

"""utils.widgets: the output-size explorer, headless (no browser, no kernel)."""
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils import widgets
from utils.widgets import (NOT_WRITTEN, compare_with_student, figure_png,
                           output_size_explorer, window_figure)

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "artifacts" / "widgets"


def formula(n, f, pad=0, stride=1):
    """The reference for these tests only (utils holds no solution)."""
    return (n + 2 * pad - f) // stride + 1


def stub(n, f, pad=0, stride=1):
    # YOUR CODE HERE
    raise NotImplementedError()


def correct(n, f, pad=0, stride=1):
    return (n + 2 * pad - f) // stride + 1


# ------------------------------------------------------------------ window_figure
def test_worked_example_of_notebook_03():
    fig, info = window_figure(7, 3, pad=0, stride=2)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert info.count == 3
    assert info.starts == (0, 2, 4)
    assert info.fits and info.padded == 7 and info.left_out == ()
    assert "floor((n + 2p - f) / s) + 1" in info.formula
    assert "floor((7 + 2*0 - 3) / 2) + 1" in info.formula
    assert info.formula.endswith("= 3")
    assert "3 windows fit" in info.message


def test_count_by_placing_agrees_with_the_formula_everywhere():
    for n, f, pad, stride in itertools.product(range(1, 17), range(1, 10), range(0, 5),
                                               range(1, 6)):
        wc = widgets._count(n, f, pad, stride)
        if f <= n + 2 * pad:
            assert wc.count == formula(n, f, pad, stride), (n, f, pad, stride)
            assert all(s + f <= n + 2 * pad for s in wc.starts)
            assert wc.starts[-1] + stride + f > n + 2 * pad
            assert wc.formula.endswith(f"= {formula(n, f, pad, stride)}")
        else:
            assert wc.count == 0 and not wc.fits


def test_padding_is_drawn_on_both_sides():
    fig, info = window_figure(6, 3, pad=1, stride=1)
    assert info.padded == 8
    assert info.count == 6  # "same" padding keeps 6 -> 6
    assert "cells of the padded input" in info.message


def test_cells_the_stride_jumps_past_are_reported():
    _, info = window_figure(8, 3, pad=0, stride=2)
    assert info.count == 3
    assert info.left_out == (7,)
    assert "never covered" in info.message
    assert "rounds down" in info.message


def test_no_window_fits_is_said_clearly():
    fig, info = window_figure(3, 5, pad=0, stride=1)
    assert isinstance(fig, Figure)
    assert info.count == 0 and not info.fits
    assert info.starts == () and info.left_out == ()
    assert "No window fits" in info.message
    assert "f = 5" in info.message and "n + 2p = 3" in info.message
    # the formula is still shown, with its meaningless value
    assert info.formula.endswith("= -1")
    assert b"\x89PNG" == figure_png(fig)[:4]


def test_filter_exactly_as_wide_as_the_padded_input_gives_one_window():
    _, info = window_figure(3, 5, pad=1, stride=3)
    assert info.count == 1 and info.starts == (0,)


@pytest.mark.parametrize("bad, exc", [
    (dict(n=0, f=1), ValueError), (dict(n=3, f=0), ValueError),
    (dict(n=3, f=1, pad=-1), ValueError), (dict(n=3, f=1, stride=0), ValueError),
    (dict(n=3.0, f=1), TypeError), (dict(n=3, f=True), TypeError),
])
def test_invalid_settings_raise_a_clear_error(bad, exc):
    with pytest.raises(exc, match="must be"):
        window_figure(**bad)


def test_large_settings_draw_quickly_and_save(tmp_path):
    fig, info = window_figure(16, 1, pad=4, stride=1)
    assert info.count == 24
    png = figure_png(fig)
    assert png[:4] == b"\x89PNG"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for args in [(7, 3, 0, 2), (8, 3, 0, 2), (6, 3, 1, 1), (3, 5, 0, 1)]:
        fig, _ = window_figure(*args)
        (ARTIFACTS / "window_figure_n{}_f{}_p{}_s{}.png".format(*args)).write_bytes(
            figure_png(fig))


# ------------------------------------------------------------------ compare_with_student
def test_no_function_means_no_comparison():
    assert compare_with_student(None, 7, 3, 0, 2).status == "none"


def test_stub_says_write_it_first():
    c = compare_with_student(stub, 7, 3, 0, 2)
    assert c.status == "not_written"
    assert c.text == NOT_WRITTEN == "write conv_output_size above to compare"


def test_correct_function_matches_everywhere():
    for n, f, pad, stride in itertools.product(range(1, 12), range(1, 8), range(0, 4),
                                               range(1, 5)):
        c = compare_with_student(correct, n, f, pad, stride)
        expected = "match" if f <= n + 2 * pad else "no_window"
        assert c.status == expected, (n, f, pad, stride, c)


@pytest.mark.parametrize("wrong, args, words", [
    (lambda n, f, pad=0, stride=1: n + 2 * pad - f + 1, (7, 3, 0, 2), "stride"),
    (lambda n, f, pad=0, stride=1: (n - f) // stride + 1, (6, 3, 1, 1), "padding is missing"),
    (lambda n, f, pad=0, stride=1: (n + pad - f) // stride + 1, (6, 3, 2, 1), "one side"),
    (lambda n, f, pad=0, stride=1: (n + 2 * pad - f) // stride, (7, 3, 0, 2), "+ 1"),
    (lambda n, f, pad=0, stride=1: (n + 2 * pad - f) // stride + 2, (7, 3, 0, 2),
     "one too many"),
    (lambda n, f, pad=0, stride=1: (n + 2 * pad - f) / stride + 1, (8, 3, 0, 2), "//"),
    (lambda n, f, pad=0, stride=1: 42, (7, 3, 0, 2), "place the windows by hand"),
])
def test_mismatch_names_the_likely_slip(wrong, args, words):
    c = compare_with_student(wrong, *args)
    assert c.status == "mismatch", c
    assert words in c.hint, c
    assert "but" in c.text and "fit" in c.text


def test_right_number_of_the_wrong_type_is_flagged_softly():
    c = compare_with_student(lambda n, f, pad=0, stride=1: (n + 2 * pad - f) / stride + 1,
                             7, 3, 0, 2)
    assert c.status == "type"
    assert "//" in c.hint


def test_errors_in_the_students_function_never_escape():
    def broken(n, f, pad=0, stride=1):
        return n / 0

    def wrong_signature(n, f):
        return n - f + 1

    c = compare_with_student(broken, 7, 3, 0, 2)
    assert c.status == "error" and "ZeroDivisionError" in c.text
    c = compare_with_student(wrong_signature, 7, 3, 0, 2)
    assert c.status == "error" and "TypeError" in c.text
    c = compare_with_student(lambda n, f, pad=0, stride=1: "three", 7, 3, 0, 2)
    assert c.status == "mismatch" and "not a number" in c.text


def test_no_window_compares_nothing_but_says_why():
    c = compare_with_student(correct, 3, 5, 0, 1)
    assert c.status == "no_window"
    assert "no window fits" in c.text
    assert c.returned == -1


# ------------------------------------------------------------------ the widget
def test_explorer_builds_headless_with_a_stub():
    w = output_size_explorer(stub)
    assert set(w.sliders) == {"n", "f", "pad", "stride"}
    assert w.values() == {"n": 7, "f": 3, "pad": 0, "stride": 2}
    assert w.info.count == 3
    assert NOT_WRITTEN in w.summary.value
    assert "floor((7 + 2*0 - 3) / 2) + 1" in w.summary.value
    assert bytes(w.image.value[:4]) == b"\x89PNG"
    (ARTIFACTS).mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "output_size_explorer.png").write_bytes(bytes(w.image.value))


def test_moving_a_slider_redraws():
    w = output_size_explorer(correct)
    before = bytes(w.image.value)
    w.sliders["pad"].value = 1
    assert w.info.pad == 1 and w.info.count == 4
    assert w.comparison.status == "match"
    assert "\u2714" in w.summary.value
    assert bytes(w.image.value) != before
    w.sliders["stride"].value = 1
    assert w.info.count == 7


def test_mismatch_is_highlighted_with_a_hint():
    w = output_size_explorer(lambda n, f, pad=0, stride=1: n - f + 1)  # ignores p and s
    assert w.comparison.status == "mismatch"
    assert "explorer-mismatch" in w.summary.value
    assert "Hint:" in w.summary.value
    assert "\u2718" in w.summary.value


def test_explorer_says_when_no_window_fits():
    w = output_size_explorer(correct, n=3, f=5, pad=0, stride=1)
    assert w.info.count == 0
    assert "No window fits" in w.summary.value
    assert w.comparison.status == "no_window"
    w.update()  # calling the update function directly is safe too
    w.sliders["pad"].value = 1
    assert w.info.count == 1


def test_explorer_without_a_function_and_with_bad_settings():
    w = output_size_explorer()
    assert w.comparison.status == "none"
    assert "your" not in w.summary.value
    with pytest.raises(TypeError, match="unknown setting"):
        output_size_explorer(correct, size=3)


def test_widgets_module_offers_no_graded_solution():
    """Only drawing/comparing helpers are public; none answers conv_output_size."""
    public = {name for name, obj in vars(widgets).items()
              if callable(obj) and not name.startswith("_")
              and getattr(obj, "__module__", "") == widgets.__name__}
    assert public <= {"window_figure", "figure_png", "compare_with_student", "summary_html",
                      "output_size_explorer", "WindowCount", "Comparison"}, public
    assert not hasattr(widgets, "conv_output_size")
    for name in public:
        obj = getattr(widgets, name)
        try:
            out = obj(7, 3, 0, 2)
        except Exception:  # noqa: BLE001 - a different signature is fine
            continue
        assert not isinstance(out, (int, np.integer)), f"{name} returns an int size"


def test_formula_floor_is_not_truncation_for_negatives():
    # a negative numerator floors down; the text shows what the formula would say
    wc = widgets._count(2, 5, 0, 2)
    assert wc.formula.endswith(f"= {math.floor(-3 / 2) + 1}")


def test_static_viewers_get_the_picture_and_a_summary():
    """An executed notebook shows the figure on GitHub/nbviewer, not a widget repr."""
    import base64

    w = output_size_explorer(correct, n=8, f=3, pad=1, stride=2)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
    assert bundle["text/plain"].startswith("output_size_explorer: n=8, f=3, p=1, s=2 -> 4")

"""Shared drawing primitives: they draw what they are given and reject bad shapes clearly."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from utils import plotting


def test_show_matrix_writes_every_number():
    a = np.array([[1, -2], [3, 0]])
    img = plotting.show_matrix(a, highlight=(0, 0, 1, 2))
    texts = [t.get_text() for t in img.axes.texts]
    assert texts == ["1", "-2", "3", "0"]
    assert len(img.axes.patches) == 1  # the highlighted window


def test_show_matrix_rejects_3d_with_advice():
    with pytest.raises(ValueError, match="one channel"):
        plotting.show_matrix(np.zeros((2, 2, 3)))


def test_show_images_and_kernels_make_one_axis_each():
    fig = plotting.show_images([np.zeros((4, 4)), np.ones((4, 4, 3)), np.zeros((4, 4, 1))],
                               titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    fig = plotting.show_kernels(np.zeros((3, 3, 4)))
    assert len(fig.axes) == 4


def test_feature_maps_need_one_example():
    fig = plotting.show_feature_maps(np.zeros((1, 5, 5, 3)))
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="one example"):
        plotting.show_feature_maps(np.zeros((2, 5, 5, 3)))


def test_training_curves_from_history_dict():
    hist = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.9], "val_loss": [1.1, 0.6],
            "val_accuracy": [0.4, 0.8]}
    fig = plotting.plot_training_curves(hist)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="metrics"):
        plotting.plot_training_curves({"loss": [1.0]})


def test_heatmap_has_colorbar():
    img = plotting.show_heatmap(np.arange(9).reshape(3, 3))
    assert len(img.axes.figure.axes) == 2


def test_numbers_are_short_and_readable_on_dark_cells():
    """Fractions are shortened (no '0.333333' spilling out of a cell); on a dark cell the
    number is white, on a light one black, whatever the colour map."""
    img = plotting.show_matrix(np.array([[1 / 3, -1 / 3], [3.75, 12.0]]))
    assert [t.get_text() for t in img.axes.texts] == ["0.333", "-0.333", "3.75", "12"]
    img = plotting.show_heatmap(np.array([[0, 9]]), cmap="viridis")   # viridis: 0 is dark
    assert [t.get_color() for t in img.axes.texts] == ["white", "black"]
    img = plotting.show_matrix(np.array([[0, 9]]), cmap="Blues", symmetric=False)
    assert [t.get_color() for t in img.axes.texts] == ["black", "white"]   # 9 is dark blue


def test_recolour_after_a_new_colour_scale():
    from utils.plotting.core import recolour_texts
    img = plotting.show_matrix(np.array([[0, 9]]), cmap="gray", symmetric=False)
    assert [t.get_color() for t in img.axes.texts] == ["white", "black"]
    img.set_clim(9, 20)          # now both cells are at the dark end
    img.axes.text(0.5, 0.5, "+", transform=img.axes.transAxes, color="red")
    recolour_texts(img.axes, img)
    assert [t.get_color() for t in img.axes.texts] == ["white", "white", "red"]


def test_draw_box_returns_its_depth_offset():
    import matplotlib.pyplot as plt
    from utils.plotting.core import draw_box
    fig, ax = plt.subplots()
    assert draw_box(ax, 0, 0, 2, 3, 4, "tab:blue") == (2.0, 1.4)
    assert len(ax.patches) == 3   # front, top and side
    plt.close(fig)

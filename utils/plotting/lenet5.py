"""Figures for notebook 06: where LeNet-5 keeps its numbers.

:func:`plot_table` draws two bar charts side by side from the rows of
``lenet5_table()``: the size of each layer's activation (it shrinks) and the
number of parameters of each layer (most sit in the dense layers).
:func:`plot_volumes` draws the same rows as volumes, to scale, left to right.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

import matplotlib.pyplot as plt

from .core import draw_box, new_axes, tidy

CONV_COLOR = "#4c72b0"
POOL_COLOR = "#8c8c8c"
DENSE_COLOR = "#dd8452"


def _color(name: str) -> str:
    key = name.upper()
    if key.startswith("CONV"):
        return CONV_COLOR
    if key.startswith(("FC", "SOFTMAX")):
        return DENSE_COLOR
    return POOL_COLOR


def _bars(ax, names, values, title, xlabel):
    y = np.arange(len(names))
    bars = ax.barh(y, values, color=[_color(n) for n in names])
    ax.set_yticks(y, names)
    ax.invert_yaxis()  # the input at the top, as in model.summary()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    top = max(values) or 1
    ax.set_xlim(0, top * 1.28)
    for bar, v in zip(bars, values):
        ax.text(bar.get_width() + top * 0.02, bar.get_y() + bar.get_height() / 2, f"{v:,}",
                va="center", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return bars


def plot_table(rows: Sequence[tuple]):
    """Activation sizes and parameter counts per layer, from ``(layer, shape, size, params)`` rows.

    Returns the figure. Convolution rows are blue, pooling/input grey, dense orange.
    """
    rows = list(rows)
    if not rows or any(len(r) != 4 for r in rows):
        raise ValueError("plot_table expects rows (layer, activation_shape, activation_size, "
                         "n_params), e.g. the list lenet5_table() returns.")
    names = [str(r[0]) for r in rows]
    sizes = [int(r[2]) for r in rows]
    params = [int(r[3]) for r in rows]
    fig, (ax_a, ax_p) = new_axes(2, size=4.6)
    fig.set_size_inches(11, 4.2)
    _bars(ax_a, names, sizes, "activation size per layer", "numbers in the activation")
    total = sum(params)
    _bars(ax_p, names, params, f"parameters per layer (total {total:,})", "learned parameters")
    dense = sum(p for n, p in zip(names, params) if _color(n) == DENSE_COLOR)
    ax_p.text(0.97, 0.04, f"dense layers: {dense / total:.0%} of all parameters",
              transform=ax_p.transAxes, ha="right", va="bottom", fontsize=9,
              bbox=dict(boxstyle="round", facecolor="white", edgecolor=DENSE_COLOR))
    tidy(fig)
    return fig


def plot_volumes(rows: Sequence[tuple], pixel: float = 0.1, channel: float = 0.12,
                 unit: float = 0.025):
    """The activations of ``(layer, shape, size, params)`` rows drawn as volumes, to scale.

    A 3-D activation ``(n_H, n_W, n_C)`` is a box whose front face is ``n_H x n_W``
    (``pixel`` drawing units per pixel) and whose depth is ``n_C`` (``channel`` units
    per channel); a vector ``(n,)`` is a thin bar ``n * unit`` tall. Boxes and bars
    use the colours of :func:`plot_table`. Returns the figure.
    """
    rows = list(rows)
    if not rows or any(len(r) != 4 for r in rows):
        raise ValueError("plot_volumes expects rows (layer, activation_shape, activation_size, "
                         "n_params), e.g. the list lenet5_table() returns.")
    fig, ax = plt.subplots(figsize=(12, 3.8))
    x, top = 0.0, 0.0
    for name, shape, size, _ in rows:
        shape = tuple(int(v) for v in shape)
        colour = _color(str(name)) if str(name).lower() != "input" else "#c7d3e8"
        if len(shape) == 3:
            h, w, d = shape[0] * pixel, shape[1] * pixel, shape[2] * channel
            dx, dy = draw_box(ax, x, 0, w, h, d, colour)
            width, height = w + dx, h + dy
            label = f"{shape[0]}x{shape[1]}x{shape[2]}"
        elif len(shape) == 1:
            width, height = 0.25, shape[0] * unit
            draw_box(ax, x, 0, width, height, 0, colour)
            label = f"{shape[0]}"
        else:
            raise ValueError(f"row {name!r} has shape {shape}; expected (n_H, n_W, n_C) or (n,).")
        slot = max(width, 1.7)                     # room for the three-line label
        ax.text(x + width / 2, -0.35, f"{name}\n{label}\n{int(size):,} numbers",
                ha="center", va="top", fontsize=9)
        top = max(top, height)
        x += width + 0.9 + (slot - width) / 2
    ax.set_xlim(-0.4, x - 0.5)
    ax.set_ylim(-1.9, top + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The activation of each layer, drawn to scale: height x width as the front "
                 "face, channels as depth (vectors as bars)", fontsize=10)
    tidy(fig)
    return fig

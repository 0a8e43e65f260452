"""Figures for notebook 06: where LeNet-5 keeps its numbers.

:func:`plot_table` draws two bar charts side by side from the rows of
``lenet5_table()``: the size of each layer's activation (it shrinks) and the
number of parameters of each layer (most sit in the dense layers).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .core import new_axes

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
    fig.tight_layout()
    return fig

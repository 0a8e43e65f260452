"""Figures for notebook 05: pooling windows with their numbers, and what pooling does
to a small shift of the input. Built on :mod:`utils.plotting.core`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, recolour_texts, show_matrix, tidy

WINDOW_COLOURS = ("tab:orange", "tab:green", "tab:purple", "tab:blue", "tab:red",
                  "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def _light(img, arr):
    """Keep the cell colours pale so the written numbers and window frames stand out."""
    top = float(np.abs(arr).max()) or 1.0
    img.set_cmap("Greys")
    img.set_clim(-top, 3 * top)
    recolour_texts(img.axes, img)


def show_pooling(grid, f: int, stride: int, out=None, mode: str = "max", axes=None,
                 title: str | None = None):
    """One pooling example: the input with every window framed in its own colour, and
    the output with each cell framed in the colour of the window it comes from.

    ``grid`` is a 2-D input ``(n_H, n_W)``; ``out`` the pooled ``(n_H_out, n_W_out)``
    grid, or None to show "?" (before the exercise is solved). In max mode the largest
    number of each window is circled.
    """
    grid = np.asarray(grid, dtype=float)
    n_h = (grid.shape[0] - f) // stride + 1
    n_w = (grid.shape[1] - f) // stride + 1
    own = axes is None
    if own:
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0),
                                 gridspec_kw={"width_ratios": [grid.shape[1], max(n_w, 2)]})
    ax_in, ax_out = axes
    _light(show_matrix(grid, ax=ax_in, title="input"), grid)
    shown = np.zeros((n_h, n_w)) if out is None else np.asarray(out, dtype=float)
    if shown.shape != (n_h, n_w):
        raise ValueError(f"the output has shape {shown.shape}; with f={f}, stride={stride} "
                         f"it should be {(n_h, n_w)}.")
    _light(show_matrix(shown, ax=ax_out, title=f"{mode} pool, f={f}, s={stride}",
                       annotate=out is not None), shown)
    for k, (h, w) in enumerate(np.ndindex(n_h, n_w)):
        colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        inset = 0.07 + (0.07 * (k % 3) if stride < f else 0.0)  # overlapping frames stay visible
        r, c = h * stride, w * stride
        ax_in.add_patch(plt.Rectangle((c - 0.5 + inset, r - 0.5 + inset), f - 2 * inset,
                                      f - 2 * inset, fill=False, edgecolor=colour,
                                      linewidth=3))
        ax_out.add_patch(plt.Rectangle((w - 0.45, h - 0.45), 0.9, 0.9, fill=False,
                                       edgecolor=colour, linewidth=3))
        if out is None:
            ax_out.text(w, h, "?", ha="center", va="center", fontsize=12)
        elif mode == "max":
            window = grid[r:r + f, c:c + f]
            i, j = np.unravel_index(np.argmax(window), window.shape)
            ax_in.add_patch(plt.Circle((c + j, r + i), 0.32, fill=False, edgecolor=colour,
                                       linewidth=1.5))
    if title:
        ax_in.set_title(f"input ({title})")
    if own:
        tidy(ax_in.figure)
    return ax_in.figure


def show_pooling_examples(examples: Sequence[Mapping]):
    """Several pooling examples, one per row.

    Each example is a dict with ``grid``, ``f``, ``stride``, ``mode`` and optionally
    ``out`` and ``title``.
    """
    n = len(examples)
    fig, axes = plt.subplots(n, 2, figsize=(6.4, 3.0 * n), squeeze=False,
                             gridspec_kw={"width_ratios": [2, 1]})
    for row, ex in zip(axes, examples):
        show_pooling(ex["grid"], ex["f"], ex["stride"], out=ex.get("out"),
                     mode=ex.get("mode", "max"), axes=row)
        if ex.get("title"):
            row[0].set_title(ex["title"], loc="left", fontsize=10)
    tidy(fig)
    return fig


def show_shift_invariance(x, x_shifted, pooled, pooled_shifted, shift: int, f: int):
    """A feature map and its copy shifted by ``shift`` pixels, before and after max pooling.

    Top row: the two maps and the non-zero values of the first that changed; bottom row:
    the same after pooling. Each title counts the non-zero values that changed.
    """
    x, x_shifted, pooled, pooled_shifted = (np.asarray(a, dtype=float) for a in
                                            (x, x_shifted, pooled, pooled_shifted))
    fig, axes = new_axes(6, size=2.6, ncols=3)
    rows = [(x, x_shifted, "feature map"), (pooled, pooled_shifted, f"after {f}x{f} max pool")]
    for r, (a, b, what) in enumerate(rows):
        active = a != 0
        changed = active & ~np.isclose(a, b)
        panels = [(a, what, "magma"), (b, f"{what},\ninput shifted {shift} px", "magma"),
                  (changed.astype(float),
                   f"changed: {changed.sum()} of {active.sum()}\nnon-zero values", "Reds")]
        for ax, (img, t, cmap) in zip(axes[3 * r:3 * r + 3], panels):
            ax.imshow(img, cmap=cmap, vmin=0, vmax=1 if cmap == "Reds" else None)
            ax.set_title(t, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    tidy(fig)
    return fig


def plot_shift_sensitivity(shifts: Sequence[int], curves: Mapping[str, Sequence[float]],
                           ylabel: str = "values that changed"):
    """Fraction of output values that change when the input moves by ``shift`` pixels."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for (label, values), marker in zip(curves.items(), "osD^v"):
        ax.plot(shifts, values, marker=marker, label=label)
    ax.set_xlabel("horizontal shift of the input (pixels)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.grid(alpha=0.3)
    ax.legend()
    tidy(fig)
    return fig

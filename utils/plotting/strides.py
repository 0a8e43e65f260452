"""Figures for notebook 03 (strides), built on :mod:`utils.plotting.core`.

:func:`show_windows` draws where a sliding window lands. It does not work out
the number of positions itself: you pass ``out_shape`` (from your
``conv_output_size``), so a wrong size shows up as windows that run off the
edge, drawn red and dashed.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, show_matrix, tidy
from .padding import shade_padding


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def show_windows(n_h: int, n_w: int, f, stride, pad, out_shape: Sequence[int],
                 image=None, ax=None, title: str | None = None, outline: str = "auto"):
    """Draw the (padded) input grid and every window position of a strided filter.

    Parameters
    ----------
    n_h, n_w : input height and width (before padding)
    f : filter size, int or (f_h, f_w); stride, pad : int or (vertical, horizontal)
    out_shape : (rows, cols) of window positions, e.g. from ``conv_output_size``
    image : optional (n_h, n_w) array whose numbers are written in the cells

    outline : "all" (outline every window), "few" (windows (0, 0), (0, 1), (1, 0)
        and the last one: one step in each direction and where the windows end),
        "edges" (the windows of the first output row and column), or "auto"
        ("all" up to 9 windows, else "few")

    Window (i, j) has its top-left corner at (i * stride_v, j * stride_h) of the
    padded grid. Outlines follow the grid lines, set in by a small margin that
    alternates between neighbouring windows so that shared edges stay visible;
    outlined windows are labelled with their output index and their top-left pixel
    is shaded in their colour, the top-left pixels of the others in grey. Windows
    that do not fit inside the padded grid are drawn red and dashed; pixels that
    no window reads are hatched red.
    """
    f_h, f_w = _pair(f)
    s_v, s_h = _pair(stride)
    p_v, p_h = _pair(pad)
    rows, cols = (int(v) for v in out_shape)
    H, W = n_h + 2 * p_v, n_w + 2 * p_h
    if ax is None:
        _, (ax,) = new_axes(1, size=max(3.0, 0.55 * max(H, W)))
    if outline == "auto":
        outline = "all" if rows * cols <= 9 else "few"
    if outline not in ("all", "few", "edges"):
        raise ValueError(f"outline must be 'all', 'few', 'edges' or 'auto'; got {outline!r}.")
    few = {(0, 0), (0, min(1, cols - 1)), (min(1, rows - 1), 0), (rows - 1, cols - 1)}
    ax.imshow(np.zeros((H, W)), cmap="Greys", vmin=0, vmax=1)
    for k in range(H + 1):
        ax.axhline(k - 0.5, color="#bdbdbd", linewidth=0.8)
    for k in range(W + 1):
        ax.axvline(k - 0.5, color="#bdbdbd", linewidth=0.8)
    if image is not None:
        img = np.asarray(image)
        for (r, c), v in np.ndenumerate(img):
            ax.text(c + p_h, r + p_v, f"{v:g}", ha="center", va="center", fontsize=9)
        for r in range(H):
            for c in range(W):
                if not (p_v <= r < p_v + n_h and p_h <= c < p_h + n_w):
                    ax.text(c, r, "0", ha="center", va="center", fontsize=8, color="#555555")
    shade_padding(ax, (H, W), (p_v, p_h), outline="#333333")
    colours = plt.get_cmap("tab10").colors
    n_bad = 0
    read = np.zeros((H, W), dtype=bool)
    for i in range(rows):
        for j in range(cols):
            top, left = i * s_v, j * s_h
            fits = top + f_h <= H and left + f_w <= W
            n_bad += not fits
            k = i * cols + j
            colour = colours[k % len(colours)] if fits else "red"
            if fits:
                read[top:top + f_h, left:left + f_w] = True
            shown = (outline == "all" or not fits
                     or (outline == "few" and (i, j) in few)
                     or (outline == "edges" and (i == 0 or j == 0)))
            ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), 1, 1,
                                       facecolor=colour if shown else "#9e9e9e",
                                       alpha=0.35, edgecolor="none", zorder=1.5))
            if not shown:
                continue
            inset = 0.06 if (i + j) % 2 == 0 else 0.16
            ax.add_patch(plt.Rectangle((left - 0.5 + inset, top - 0.5 + inset),
                                       f_w - 2 * inset, f_h - 2 * inset, fill=False,
                                       edgecolor=colour, linewidth=2.2,
                                       linestyle="-" if fits else "--", zorder=4))
            ax.text(left - 0.5 + inset + 0.08, top - 0.5 + inset + 0.08, f"{i},{j}",
                    color=colour, fontsize=7, ha="left", va="top", zorder=5,
                    fontweight="bold")
    for r, c in np.argwhere(~read):
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                   edgecolor="#d62728", linewidth=0, alpha=0.6, zorder=1.6))
    ax.set_xlim(-0.6, max(W, (cols - 1) * s_h + f_w) - 0.4)
    ax.set_ylim(max(H, (rows - 1) * s_v + f_h) - 0.4, -0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    notes = []
    if outline == "few" and rows * cols > len(few):
        notes.append(f"outlined: 4 of the {rows * cols} windows; shaded: every window's "
                     "top-left pixel")
    elif outline == "edges" and rows * cols > rows + cols - 1:
        notes.append("outlined: first row and column; shaded: each window's corner")
    if rows and cols and not read.all():
        notes.append("red hatching: pixels that no window reads")
    if n_bad:
        notes.append(f"{n_bad} window{'s' if n_bad > 1 else ''} off the edge (red dashes)!")
    if notes:
        ax.set_xlabel("\n".join(notes), fontsize=8)
    if title is None:
        title = (f"{n_h}x{n_w} input, {f_h}x{f_w} filter, stride ({s_v}, {s_h}), "
                 f"pad ({p_v}, {p_h})\n-> {rows}x{cols} output")
    ax.set_title(title, fontsize=10)
    return ax


def show_strided_step(image, kernel, output, stride, position: Sequence[int],
                      size: float = 3.4):
    """Three panels: the window that output ``position`` reads, the kernel, the output.

    ``position = (i, j)`` is an output index; its window starts at
    ``(i * stride_v, j * stride_h)`` (no padding). The products of window and
    kernel are written under the panels, followed by the value ``output`` holds
    there, so the arithmetic can be checked by hand.
    """
    img = np.asarray(image)
    ker = np.asarray(kernel)
    out = np.asarray(output)
    s_v, s_h = _pair(stride)
    i, j = (int(v) for v in position)
    f_h, f_w = ker.shape
    top, left = i * s_v, j * s_h
    window = img[top:top + f_h, left:left + f_w]
    fig, axes = new_axes(3, size=size)
    show_matrix(img, ax=axes[0], cmap="Blues", symmetric=False,
                highlight=(top, left, f_h, f_w),
                title=f"image, window of output ({i}, {j})")
    show_matrix(ker, ax=axes[1], title="kernel")
    show_matrix(out, ax=axes[2], cmap="Oranges", symmetric=False, highlight=(i, j, 1, 1),
                title=f"output ({i}, {j}) = {out[i, j]:g}")
    terms = " + ".join(f"{a:g}*{b:g}" for a, b in zip(window.ravel(), ker.ravel()))
    fig.suptitle(f"{terms} = {out[i, j]:g}", fontsize=9, y=0.04)
    tidy(fig, rect=(0, 0.07, 1, 1))
    return fig

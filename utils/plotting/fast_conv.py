"""Figures for notebook 11: im2col laid out, the convolution as one matrix product,
im2col's memory and the benchmark. Built on :mod:`utils.plotting.core`.

Nothing here cuts windows or convolves: every figure draws arrays it is given.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .core import show_matrix, tidy

_WINDOW = "crimson"


def _soft(img, alpha: float = 0.35) -> None:
    img.set_alpha(alpha)  # light cells, so the numbers written in stay readable


def show_im2col(A, cols=None, f: int = 2, position: tuple[int, int] = (0, 0), n_W: int = 1,
                stride: int = 1):
    """One example ``A (n_H_prev, n_W_prev, n_C)`` channel by channel, and its im2col matrix.

    The window of output ``position = (h, w)`` (top-left corner ``(h*stride, w*stride)``)
    is outlined on every channel, and its row ``h * n_W + w`` of ``cols``
    ``(n_H * n_W, f * f * n_C)`` is outlined in the matrix: the same numbers, read
    window row by window row, channel fastest. With ``cols=None`` (before the exercise
    is solved) the matrix panel shows "?". No padding is drawn.
    """
    A = np.asarray(A)
    if A.ndim != 3:
        raise ValueError(f"show_im2col draws one example (n_H, n_W, n_C); got {A.shape}. "
                         "Index one example first, e.g. `A[0]`.")
    n_c = A.shape[-1]
    h, w = position
    top, left = h * stride, w * stride
    widths = [A.shape[1]] * n_c + [f * f * n_c if cols is None else np.shape(cols)[1]]
    fig, axes = plt.subplots(1, n_c + 1, figsize=(0.62 * sum(widths) + 1.5, 3.4),
                             gridspec_kw={"width_ratios": widths})
    for c in range(n_c):
        img = show_matrix(A[:, :, c], ax=axes[c], title=f"channel {c + 1}",
                          cmap="Blues", symmetric=False, highlight=(top, left, f, f))
        _soft(img)
        axes[c].patches[-1].set_edgecolor(_WINDOW)
    ax = axes[-1]
    if cols is None:
        ax.text(0.5, 0.5, "?", ha="center", va="center", fontsize=40, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("im2col(A, f): write it below")
    else:
        cols = np.asarray(cols)
        row = h * n_W + w
        img = show_matrix(cols, ax=ax, cmap="Blues", symmetric=False,
                          highlight=(row, 0, 1, cols.shape[1]),
                          title=f"im2col: one row per window, shape {cols.shape}")
        _soft(img)
        ax.patches[-1].set_edgecolor(_WINDOW)
        ax.set_yticks(range(cols.shape[0]))
        ax.set_yticklabels([f"row {r}" for r in range(cols.shape[0])], fontsize=8)
    fig.suptitle(f"the window of output (h, w) = {position} (outlined) becomes one row",
                 y=1.02)
    tidy(fig)
    return fig


def show_matrix_product(rows: int, k: int, n_C: int):
    """The convolution as ``X @ W_col = Z_rows``, drawn as three labelled rectangles.

    ``X`` is ``(rows, k)`` (one row per output position, ``k = f*f*n_C_prev``),
    ``W_col`` is ``(k, n_C)`` (one filter per column) and the product ``(rows, n_C)``.
    Box sides are drawn on a logarithmic scale so all three fit.
    """
    def size(n):
        return 0.8 + 0.9 * np.log10(max(n, 1))

    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = 0.0
    boxes = [("X = im2col(A_prev)", rows, k, "#9ecae1", "one row per output position\n"
              "(sample, out row, out col)"),
             ("W_col = W.reshape(-1, n_C)", k, n_C, "#fdae6b", "one column per filter"),
             ("Z_rows", rows, n_C, "#a1d99b", ".reshape(m, n_H, n_W, n_C)\ngives Z")]
    signs = ["@", "="]
    top = size(max(rows, k)) / 2 + 0.25  # every name on one line, above the tallest box
    for i, (name, r, c, color, note) in enumerate(boxes):
        w, h = size(c), size(r)
        ax.add_patch(Rectangle((x, -h / 2), w, h, facecolor=color, edgecolor="black"))
        ax.text(x + w / 2, top, name, ha="center", va="bottom", fontsize=10)
        ax.text(x + w / 2, 0, f"{r:,} x {c:,}", ha="center", va="center", fontsize=10,
                fontweight="bold")
        ax.text(x + w / 2, -h / 2 - 0.25, note, ha="center", va="top", fontsize=8.5)
        x += w
        if i < len(signs):
            ax.text(x + 0.9, 0, signs[i], ha="center", va="center", fontsize=20)
            x += 1.8
    tallest = size(max(rows, k))
    ax.set_xlim(-0.3, x + 0.3)
    ax.set_ylim(-tallest / 2 - 1.3, tallest / 2 + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("a convolutional layer as one matrix product (then add b to every row)")
    tidy(fig)
    return fig


def plot_memory(fs: Sequence[int], ratios: Sequence[float]):
    """Measured ``im2col`` bytes / input bytes for each filter size, against ``f * f``."""
    fs = np.asarray(fs)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.bar(fs, ratios, width=0.9, color="#9ecae1", edgecolor="black", label="measured")
    grid = np.linspace(fs.min(), fs.max(), 100)
    ax.plot(grid, grid ** 2, "--", color=_WINDOW, label="f * f")
    for f, r in zip(fs, ratios):
        ax.text(f, r, f"{r:g}x", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(fs)
    ax.set_xlabel("filter size f (stride 1, same padding)")
    ax.set_ylabel("im2col bytes / input bytes")
    ax.set_title("im2col copies every pixel into f * f windows")
    ax.legend()
    tidy(fig)
    return fig


def plot_benchmark(sizes: Sequence[int], seconds: Mapping[str, Sequence[float | None]],
                   title: str = "forward pass time, log-log"):
    """Measured times on a log-log plot: one line per method, ``None`` where it did not run.

    ``sizes``: the image side ``n`` of each input; ``seconds[name][k]``: the time of
    ``name`` on ``sizes[k]``. A straight line of slope 2 is a time proportional to ``n * n``.
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    markers = "osD^v<>"
    for (name, times), marker in zip(seconds.items(), markers):
        pts = [(n, t) for n, t in zip(sizes, times) if t is not None]
        if pts:
            ns, ts = zip(*pts)
            ax.loglog(ns, ts, marker + "-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes))
    ax.set_xticklabels([str(n) for n in sizes])
    ax.set_xlabel("image side n (input 1 x n x n x channels)")
    ax.set_ylabel("seconds (best of the repeats)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    tidy(fig)
    return fig

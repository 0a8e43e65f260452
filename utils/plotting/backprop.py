"""Figures for notebook 08, backpropagation (built on :mod:`utils.plotting.core`).

- :func:`show_tiny_derivation` - the tiny case written out symbol by symbol: which
  products each gradient entry collects (no numbers are computed);
- :func:`show_matrices` - a row of small matrices with their numbers, optional frames;
- :func:`show_pool_backward` - pooling windows, the gradient per window, and where it lands;
- :func:`plot_step_sizes` - error of finite differences against the step h (log-log);
- :func:`plot_gradient_check` - analytic against numerical gradient entries;
- :func:`plot_multiply_adds` - multiply-adds of the forward and backward passes;
- :func:`plot_loss_curve` - the loss of a training run, step by step.

No function here computes a gradient's values: every array is passed in, computed in the
notebook by the student's own functions.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, show_matrix, tidy
from .pooling import WINDOW_COLOURS


# ------------------------------------------------------------ the tiny case, in symbols
def _grid_text(ax, texts, colours, title: str, fontsize: float = 8.0):
    """A grid of cells, each with a text and a background colour value in [0, 1]."""
    n_rows, n_cols = len(texts), len(texts[0])
    ax.imshow(np.asarray(colours, dtype=float), cmap="Purples", vmin=0, vmax=1.6)
    for i in range(n_rows):
        for j in range(n_cols):
            ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=fontsize)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def tiny_case_terms(n: int = 3, f: int = 2) -> dict:
    """The products each gradient entry of an ``n x n`` input and ``f x f`` kernel collects.

    Stride 1, no padding, one channel; indices start at 1 as in the notebook's text.
    Returns ``{"dK": [[terms]], "dX": [[terms]]}`` where each ``terms`` is a list of
    strings such as ``"dz12·x23"``: a symbolic bookkeeping of the chain rule for the
    figure, computed from the index relation ``row = h + a`` and ``col = w + c``.
    """
    out = n - f + 1
    dK = [[[f"dz{h + 1}{w + 1}\u00b7x{h + a + 1}{w + c + 1}"
            for h in range(out) for w in range(out)] for c in range(f)] for a in range(f)]
    dX = [[[] for _ in range(n)] for _ in range(n)]
    for h in range(out):
        for w in range(out):
            for a in range(f):
                for c in range(f):
                    dX[h + a][w + c].append(f"dz{h + 1}{w + 1}\u00b7k{a + 1}{c + 1}")
    return {"dK": dK, "dX": dX}


def show_tiny_derivation(n: int = 3, f: int = 2):
    """The tiny case (``n x n`` image, one ``f x f`` kernel) in symbols, in four panels.

    1. the input ``X`` with the window of each output framed in its own colour;
    2. the output ``Z``, each cell framed in its window's colour;
    3. ``dK``: each weight collects ``dz · x`` over every window it was used in;
    4. ``dX``: each pixel collects ``dz · k`` from every window that covered it; the
       shade counts the windows (corners 1, edges 2, centre 4 for 3x3 and 2x2).
    """
    out = n - f + 1
    terms = tiny_case_terms(n, f)
    fig, axes = plt.subplots(1, 4, figsize=(14.5, 4.9),
                             gridspec_kw={"width_ratios": [n, out, f, n]})
    x_text = [[f"x{i + 1}{j + 1}" for j in range(n)] for i in range(n)]
    _grid_text(axes[0], x_text, np.zeros((n, n)), "input X (3x3)" if n == 3 else "input X",
               fontsize=11)
    z_text = [[f"z{h + 1}{w + 1}" for w in range(out)] for h in range(out)]
    _grid_text(axes[1], z_text, np.zeros((out, out)), "output Z = X \u22c6 K + b", fontsize=11)
    for k, (h, w) in enumerate(np.ndindex(out, out)):
        colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        inset = 0.06 + 0.06 * k
        axes[0].add_patch(plt.Rectangle((w - 0.5 + inset, h - 0.5 + inset), f - 2 * inset,
                                        f - 2 * inset, fill=False, edgecolor=colour,
                                        linewidth=2.5))
        axes[1].add_patch(plt.Rectangle((w - 0.45, h - 0.45), 0.9, 0.9, fill=False,
                                        edgecolor=colour, linewidth=2.5))
    dk_text = [[f"dk{a + 1}{c + 1} =\n" + " +\n".join(cell) for c, cell in enumerate(row)]
               for a, row in enumerate(terms["dK"])]
    _grid_text(axes[2], dk_text, np.full((f, f), 0.5), "dK: every window uses every weight",
               fontsize=8)
    counts = np.array([[len(cell) for cell in row] for row in terms["dX"]], dtype=float)
    dx_text = [[f"dx{p + 1}{q + 1} =\n" + " +\n".join(cell) for q, cell in enumerate(row)]
               for p, row in enumerate(terms["dX"])]
    _grid_text(axes[3], dx_text, counts / counts.max(),
               "dX: a pixel collects from each window over it", fontsize=8)
    fig.suptitle("The tiny case in symbols: each product x\u00b7k inside z sends dz\u00b7k back "
                 "to x and dz\u00b7x back to k", fontsize=11)
    tidy(fig, rect=(0, 0, 1, 0.93))
    return fig


# ------------------------------------------------------------ matrices in a row
def show_matrices(panels: Sequence[tuple], frames: Mapping[int, Sequence[tuple]] | None = None,
                  suptitle: str | None = None, size: float = 2.6, fmt: str = "{:g}"):
    """A row of 2-D arrays drawn with their numbers.

    ``panels``: ``(array, title)`` pairs. ``frames``: ``{panel index: [(row, col,
    height, width, colour), ...]}`` rectangles to outline (e.g. where a kernel copy
    lands). Returns the figure.
    """
    fig, axes = new_axes(len(panels), size=size)
    for k, (ax, (arr, title)) in enumerate(zip(axes, panels)):
        arr = np.asarray(arr, dtype=float)
        show_matrix(arr, ax=ax, title=title, fmt=fmt, annotate=arr.size <= 100)
        for r, c, h, w, colour in (frames or {}).get(k, []):
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), w, h, fill=False,
                                       edgecolor=colour, linewidth=2.5))
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    tidy(fig, rect=(0, 0, 1, 0.9 if suptitle else 1))
    return fig


# ------------------------------------------------------------ pooling
def show_pool_backward(A_prev, dA, dA_prev, f: int, stride: int, mode: str, axes=None):
    """One pooling layer backwards, on a 2-D grid.

    Panels: the input with each window framed in its own colour; ``dA`` with each cell
    framed in its window's colour; ``dA_prev`` (as computed by the student's
    ``pool_backward``) with the same frames, so one sees where each number went.
    """
    A_prev, dA, dA_prev = (np.asarray(a, dtype=float) for a in (A_prev, dA, dA_prev))
    n_h, n_w = dA.shape
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2),
                                 gridspec_kw={"width_ratios": [A_prev.shape[1], n_w,
                                                               A_prev.shape[1]]})
    fig = axes[0].figure
    show_matrix(A_prev, ax=axes[0], title="input A_prev (forward)", cmap="Greys",
                symmetric=False)
    axes[0].images[-1].set_clim(float(A_prev.min()), 3 * float(A_prev.max()) or 1.0)
    show_matrix(dA, ax=axes[1], title="dA (one per window)")
    show_matrix(dA_prev, ax=axes[2], title=f"dA_prev ({mode}, f={f}, s={stride})")
    for k, (h, w) in enumerate(np.ndindex(n_h, n_w)):
        colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        inset = 0.07 + (0.06 * (k % 3) if stride < f else 0.0)
        for ax in (axes[0], axes[2]):
            ax.add_patch(plt.Rectangle((w * stride - 0.5 + inset, h * stride - 0.5 + inset),
                                       f - 2 * inset, f - 2 * inset, fill=False,
                                       edgecolor=colour, linewidth=2.5))
        axes[1].add_patch(plt.Rectangle((w - 0.45, h - 0.45), 0.9, 0.9, fill=False,
                                        edgecolor=colour, linewidth=2.5))
    tidy(fig)
    return fig


# ------------------------------------------------------------ gradient checks
def plot_step_sizes(hs: Sequence[float], curves: Mapping[str, Sequence[float]],
                    ylabel: str = "relative error against the exact gradient"):
    """Error of finite-difference gradients against the step ``h``, both axes logarithmic."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for (label, errors), marker in zip(curves.items(), "osD^v"):
        ax.loglog(hs, np.maximum(np.asarray(errors, dtype=float), 1e-17), marker=marker,
                  label=label)
    ax.set_xlabel("step h")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    tidy(fig)
    return fig


def plot_gradient_check(pairs: Mapping[str, tuple], errors: Mapping[str, float] | None = None):
    """One panel per parameter: numerical against analytic gradient entries.

    ``pairs``: ``{name: (analytic, numerical)}``; ``errors``: ``{name: relative error}``
    shown in the titles. Points on the diagonal agree.
    """
    fig, axes = new_axes(len(pairs), size=3.2)
    for ax, (name, (analytic, numerical)) in zip(axes, pairs.items()):
        a = np.ravel(np.asarray(analytic, dtype=float))
        n = np.ravel(np.asarray(numerical, dtype=float))
        lim = float(max(np.abs(a).max(initial=0), np.abs(n).max(initial=0))) * 1.1 or 1.0
        ax.plot([-lim, lim], [-lim, lim], color="grey", linewidth=1, zorder=0)
        ax.scatter(a, n, s=14, color="tab:blue")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("analytic (your backward pass)")
        ax.set_ylabel("numerical (centred differences)")
        title = f"{name}: {a.size} entries"
        if errors and name in errors:
            title += f"\nrelative error {errors[name]:.1e}"
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    tidy(fig)
    return fig


def plot_multiply_adds(counts: Mapping[str, Mapping[str, int]]):
    """Grouped bars: multiply-adds of the forward pass and of each backward part, per layer.

    ``counts``: ``{layer: {"forward": n, "dA_prev": n, "dW": n}}``. The backward bar is
    stacked (dA_prev on dW) so it can be compared with the forward bar at a glance.
    """
    layers = list(counts)
    x = np.arange(len(layers))
    fwd = np.array([counts[k]["forward"] for k in layers], dtype=float)
    d_w = np.array([counts[k]["dW"] for k in layers], dtype=float)
    d_a = np.array([counts[k]["dA_prev"] for k in layers], dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    ax.bar(x - 0.2, fwd, 0.38, label="forward (Z)", color="tab:blue")
    ax.bar(x + 0.2, d_w, 0.38, label="backward: dW", color="tab:orange")
    ax.bar(x + 0.2, d_a, 0.38, bottom=d_w, label="backward: dA_prev", color="tab:red")
    for xi, f_, b_ in zip(x, fwd, d_w + d_a):
        ax.text(xi + 0.2, b_, f"{b_ / f_:.1f}x", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, layers)
    ax.set_ylabel("multiply-adds per example")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    tidy(fig)
    return fig


def plot_loss_curve(losses: Sequence[float], accuracies: Sequence[float] | None = None,
                    xlabel: str = "gradient-descent step"):
    """The loss of a training run, step by step (and the accuracy on a second axis)."""
    steps = np.arange(len(losses))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(steps, losses, "o-", color="tab:blue", label="loss")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cross-entropy loss", color="tab:blue")
    ax.grid(alpha=0.3)
    if accuracies is not None:
        ax2 = ax.twinx()
        ax2.plot(steps, accuracies, "s--", color="tab:green", label="accuracy")
        ax2.set_ylabel("accuracy on the batch", color="tab:green")
        ax2.set_ylim(0, 1.05)
    tidy(fig)
    return fig

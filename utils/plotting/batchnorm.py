"""Figures for notebook 09: batch normalisation.

- :func:`show_normalised_axes`: which values share one mean and variance, for a batch of
  feature vectors ``(N, D)`` and for a batch of feature maps ``(m, n_H, n_W, n_C)``;
- :func:`show_channel_histograms`: the values of each channel before and after normalising;
- :func:`plot_running_averages`: moving averages of a batch statistic, step by step;
- :func:`plot_gradient_check`: analytic against numerical gradients, point by point;
- :func:`compare_training_curves`: several measured training runs on shared axes.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, tidy

CHANNEL_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                   "tab:brown", "tab:pink", "tab:olive")


def _grid(ax, x0: float, y0: float, rows: int, cols: int, lit=None, colour="tab:blue",
          cell: float = 1.0) -> None:
    """Draw a ``rows x cols`` grid of cells at ``(x0, y0)`` (top-left); ``lit`` cells filled."""
    for r in range(rows):
        for c in range(cols):
            on = lit is None or lit(r, c)
            ax.add_patch(plt.Rectangle((x0 + c * cell, y0 - (r + 1) * cell), cell, cell,
                                       facecolor=colour if on else "white",
                                       alpha=0.75 if on else 1.0, edgecolor="black",
                                       linewidth=0.8))


def show_normalised_axes(N: int = 5, D: int = 4, m: int = 3, n_H: int = 3, n_W: int = 3,
                         n_C: int = 2, feature: int = 1, channel: int = 0):
    """Two panels: the values that share one mean and variance.

    Left, a batch ``(N, D)`` of feature vectors: feature ``feature`` is averaged over
    the ``N`` examples (one column). Right, a batch ``(m, n_H, n_W, n_C)`` of feature
    maps drawn as ``m`` examples of ``n_C`` small maps: channel ``channel`` is averaged
    over the ``m * n_H * n_W`` positions of every example ("spatial" batch norm).
    Returns the figure.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2),
                                      gridspec_kw={"width_ratios": [1, 2.2]})
    _grid(left, 0, N, N, D, lit=lambda r, c: c == feature)
    left.set_xlim(-0.8, D + 0.3)
    left.set_ylim(-1.6, N + 1.2)
    for c in range(D):
        left.text(c + 0.5, N + 0.3, f"{c}", ha="center", fontsize=9)
    left.text(D / 2, N + 0.8, "feature", ha="center", fontsize=9)
    for r in range(N):
        left.text(-0.3, N - r - 0.5, f"{r}", ha="right", va="center", fontsize=9)
    left.text(-0.65, N / 2, "example", rotation=90, ha="center", va="center", fontsize=9)
    left.set_title(f"(N, D) = ({N}, {D}): feature {feature} pools\n{N} values, one per example",
                   fontsize=10)
    gap, width = 0.8, n_W * n_C + (n_C - 1) * 0.4
    for i in range(m):
        x0 = i * (width + gap)
        for c in range(n_C):
            colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
            _grid(right, x0 + c * (n_W + 0.4), n_H, n_H, n_W,
                  lit=(lambda r, k: True) if c == channel else (lambda r, k: False),
                  colour=colour)
            right.text(x0 + c * (n_W + 0.4) + n_W / 2, -0.45, f"channel {c}", ha="center",
                       fontsize=8)
        right.text(x0 + width / 2, n_H + 0.35, f"example {i}", ha="center", fontsize=9)
    right.set_xlim(-0.3, m * (width + gap))
    right.set_ylim(-1.6, n_H + 1.2)
    right.set_title(f"(m, n_H, n_W, n_C) = ({m}, {n_H}, {n_W}, {n_C}): channel {channel} "
                    f"pools\nm * n_H * n_W = {m * n_H * n_W} values", fontsize=10)
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.axis("off")
    tidy(fig)
    return fig


def show_channel_histograms(X, out, bins: int = 30, names: Sequence[str] | None = None):
    """Histograms of each channel of ``X`` and of the normalised ``out`` (same shape).

    ``X`` and ``out`` are ``(N, D)`` or ``(m, n_H, n_W, n_C)``; every axis but the last
    is pooled. Returns the figure.
    """
    X = np.asarray(X, dtype=float)
    out = np.asarray(out, dtype=float)
    if X.shape != out.shape:
        raise ValueError(f"X has shape {X.shape} and out {out.shape}; pass the input and "
                         "the output of batchnorm_forward for the same batch.")
    n = X.shape[-1]
    names = names or [f"channel {c}" for c in range(n)]
    fig, axes = new_axes(2, size=4.2)
    panels = ((axes[0], X, "before: X"), (axes[1], out, "after: out (gamma=1, beta=0)"))
    for ax, data, title in panels:
        flat = data.reshape(-1, n)
        for c in range(n):
            ax.hist(flat[:, c], bins=bins, alpha=0.55, color=CHANNEL_COLOURS[c % 8],
                    label=names[c])
        ax.set_title(title)
        ax.set_xlabel("value")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("count")
    axes[0].legend(fontsize=8)
    fig.set_size_inches(10, 3.8)
    tidy(fig)
    return fig


def plot_running_averages(batch_values, runs: Mapping[str, Sequence[float]],
                          true_value: float | None = None, what: str = "mean"):
    """A batch statistic per step (dots) and its moving averages (one line per run).

    ``batch_values``: the statistic of each batch, shape ``(steps,)``; ``runs``: a label
    (e.g. ``"momentum 0.9"``) mapped to the moving average after each step. Returns
    the figure.
    """
    batch_values = np.asarray(batch_values, dtype=float)
    steps = np.arange(1, batch_values.size + 1)
    fig, (ax,) = new_axes(1, size=4)
    fig.set_size_inches(8.5, 3.8)
    ax.plot(steps, batch_values, ".", color="0.6", markersize=3, label=f"batch {what}")
    for k, (label, values) in enumerate(runs.items()):
        ax.plot(steps, np.asarray(values, dtype=float), "-", color=CHANNEL_COLOURS[k % 8],
                linewidth=2, label=label)
    if true_value is not None:
        ax.axhline(true_value, color="black", linestyle="--", linewidth=1,
                   label=f"{what} of the data")
    ax.set_xlabel("training step")
    ax.set_ylabel(what)
    ax.set_title(f"moving averages of the batch {what}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    tidy(fig)
    return fig


def plot_gradient_check(pairs: Mapping[str, tuple]):
    """Analytic (x axis) against numerical (y axis) gradients, one panel per parameter.

    ``pairs``: a name (``"dX"``) mapped to ``(analytic, numerical)``, arrays of one shape.
    Points on the diagonal agree. Returns the figure.
    """
    fig, axes = new_axes(len(pairs), size=3.3)
    for ax, (name, (analytic, numerical)) in zip(axes, pairs.items()):
        a = np.asarray(analytic, dtype=float).ravel()
        n = np.asarray(numerical, dtype=float).ravel()
        if a.shape != n.shape:
            raise ValueError(f"{name}: the analytic gradient has {a.size} values and the "
                             f"numerical one {n.size}; compare gradients of the same array.")
        lim = max(float(np.abs(np.concatenate([a, n])).max()), 1e-12) * 1.1
        ax.plot([-lim, lim], [-lim, lim], color="0.7", linewidth=1)
        ax.plot(a, n, "o", markersize=4)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("analytic (batchnorm_backward)")
        ax.set_ylabel("numerical")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    tidy(fig)
    return fig


def compare_training_curves(histories: Mapping[str, Mapping[str, Sequence[float]]],
                            metrics: Sequence[str] = ("loss", "val_accuracy"),
                            titles: Mapping[str, str] | None = None):
    """Several training runs on shared axes: one panel per metric, one line per run.

    ``histories``: a run's label mapped to a Keras ``History.history`` dict (or a
    ``History``). Returns the figure.
    """
    titles = dict(titles or {})
    fig, axes = new_axes(len(metrics), size=4)
    fig.set_size_inches(5 * len(metrics), 3.8)
    for ax, metric in zip(axes, metrics):
        for k, (label, history) in enumerate(histories.items()):
            hist = getattr(history, "history", history)
            if metric not in hist:
                raise ValueError(f"run {label!r} has no {metric!r}; it has {sorted(hist)}.")
            values = np.asarray(hist[metric], dtype=float)
            ax.plot(np.arange(1, values.size + 1), values, "o-", color=CHANNEL_COLOURS[k % 8],
                    label=label)
        ax.set_xlabel("epoch")
        ax.set_title(titles.get(metric, metric))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    tidy(fig)
    return fig

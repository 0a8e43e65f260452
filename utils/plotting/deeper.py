"""Figures for notebook 10: receptive fields, gradients at initialisation, training runs.

Every function draws numbers it is given (field sizes from the student's
``receptive_field``, windows measured from gradients, gradient norms and
histories from real runs); none of them computes a receptive field or builds a
block.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .core import new_axes, tidy

COLORS = ("#e41a1c", "#ff7f00", "#4daf4a", "#377eb8", "#984ea3", "#a65628", "#f781bf", "#999999")
MARKERS = ("o", "s", "^", "D", "v", "P")


def show_receptive_fields(image, windows: Sequence[Sequence[int]], labels: Sequence[str],
                          title: str | None = None):
    """Draw the receptive field of one neuron after each layer over an image.

    Parameters
    ----------
    image : array (H, W) or (H, W, 1), the input the fields are drawn on
    windows : one ``(top, left, height, width)`` per layer, in input pixels
    labels : one name per layer, e.g. ``"Conv2D 3x3"``

    Left: the image with one outlined square per layer (first layer innermost).
    Right: the field's side length after each layer against the image's size.
    Returns the figure.
    """
    img = np.asarray(image, dtype=float)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise ValueError(f"show_receptive_fields needs one grey image (H, W); got {img.shape}.")
    windows = [tuple(int(v) for v in w) for w in windows]
    if len(windows) != len(labels) or any(len(w) != 4 for w in windows):
        raise ValueError("give one (top, left, height, width) window and one label per layer.")
    fig, (ax_img, ax_size) = new_axes(2, size=4.2)
    fig.set_size_inches(10, 4.4)
    ax_img.imshow(img, cmap="gray")
    for k, ((top, left, h, w), label) in enumerate(zip(windows, labels)):
        color = COLORS[k % len(COLORS)]
        ax_img.add_patch(plt.Rectangle((left - 0.5, top - 0.5), w, h, fill=False,
                                       edgecolor=color, linewidth=2.2,
                                       label=f"{k + 1}. {label}: {h}x{w}"))
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_img.set_title(title or "receptive field of one neuron after each layer")
    ax_img.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8, ncol=2,
                  frameon=False)
    sizes = [h for _, _, h, _ in windows]
    steps = np.arange(1, len(sizes) + 1)
    ax_size.bar(steps, sizes, color=[COLORS[k % len(COLORS)] for k in range(len(sizes))])
    for s, v in zip(steps, sizes):
        ax_size.text(s, v + 0.3, str(v), ha="center", va="bottom", fontsize=9)
    ax_size.axhline(img.shape[0], color="black", linestyle="--", linewidth=1)
    ax_size.text(0.55, img.shape[0] + 0.3, f"image: {img.shape[0]} pixels", fontsize=8,
                 va="bottom")
    ax_size.set_xticks(steps, [f"{k}" for k in steps])
    ax_size.set_xlabel("layer")
    ax_size.set_ylabel("field side (input pixels)")
    ax_size.set_ylim(0, max(max(sizes), img.shape[0]) * 1.15)
    ax_size.set_title("field size after each layer")
    ax_size.spines[["top", "right"]].set_visible(False)
    tidy(fig)
    return fig


def plot_field_growth(curves: Mapping[str, Sequence[int]], image_size: int | None = None,
                      ax=None):
    """Receptive field side after 1, 2, 3 ... layers, one line per stack (values given)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.8))
    for k, (label, values) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(values) + 1), values, marker=MARKERS[k % len(MARKERS)],
                color=COLORS[k % len(COLORS)], label=label)
    if image_size:
        ax.axhline(image_size, color="black", linestyle="--", linewidth=1,
                   label=f"a {image_size}x{image_size} image")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of layers")
    ax.set_ylabel("receptive field side (pixels)")
    ax.set_title("How fast the receptive field grows")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    tidy(ax.figure)
    return ax.figure


def plot_gradient_norms(norms: Mapping[str, Sequence[float]], ax=None):
    """Norm of the loss gradient of each layer's kernel (log scale), one line per network."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        if (values <= 0).any():
            raise ValueError(f"{label}: gradient norms must be positive to draw on a log scale.")
        ax.semilogy(np.arange(1, len(values) + 1), values, marker=MARKERS[k % len(MARKERS)],
                    color=COLORS[k % len(COLORS)], label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("convolution layer (1 = next to the input)")
    ax.set_ylabel("gradient norm of its kernel")
    ax.set_title("Gradients at initialisation, one batch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    tidy(ax.figure)
    return ax.figure


def plot_runs(histories: Mapping[str, Mapping[str, Sequence[float]]],
              metrics: Sequence[str] = ("loss", "accuracy")):
    """Compare several training runs: one panel per metric, one line per run.

    ``histories`` maps a run's name to a Keras ``History.history`` dict (or the
    ``History`` itself). Returns the figure.
    """
    runs = {name: getattr(h, "history", h) for name, h in histories.items()}
    for name, hist in runs.items():
        missing = [m for m in metrics if m not in hist]
        if missing:
            raise ValueError(f"run {name!r} has no {missing}; it has {sorted(hist)}.")
    fig, axes = new_axes(len(metrics), size=4)
    fig.set_size_inches(4.6 * len(metrics), 3.8)
    for ax, metric in zip(axes, metrics):
        for k, (name, hist) in enumerate(runs.items()):
            values = hist[metric]
            ax.plot(np.arange(1, len(values) + 1), values, marker=MARKERS[k % len(MARKERS)],
                    color=COLORS[k % len(COLORS)], label=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(f"training {metric}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    tidy(fig)
    return fig


def plot_dense_growth(channels_in: Sequence[int], params: Sequence[int], growth_rate: int):
    """Channels each layer of a dense block reads, and its parameters (values given)."""
    channels_in = [int(c) for c in channels_in]
    params = [int(p) for p in params]
    if len(channels_in) != len(params) or not channels_in:
        raise ValueError("give one channel count and one parameter count per layer.")
    fig, (ax_c, ax_p) = new_axes(2, size=4)
    fig.set_size_inches(9.5, 3.6)
    steps = np.arange(1, len(channels_in) + 1)
    for ax, values, title in ((ax_c, channels_in, "channels each layer reads"),
                              (ax_p, params, "parameters per layer (BN + Conv2D)")):
        bars = ax.bar(steps, values, color=COLORS[3])
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:,}", ha="center", va="bottom",
                    fontsize=8)
        ax.set_xticks(steps)
        ax.set_xlabel("layer of the block")
        ax.set_title(title)
        ax.set_ylim(0, max(values) * 1.18)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"A dense block with growth rate {growth_rate}: each layer reads "
                 f"{growth_rate} more channels than the one before", y=1.02, fontsize=10)
    tidy(fig)
    return fig

"""Figures for notebook 07: what the trained MNIST network gets wrong and what it learned.

- :func:`confusion_counts` and :func:`plot_confusion_matrix`: true digit vs predicted digit;
- :func:`show_misclassified`: a grid of the test digits the model got wrong;
- :func:`show_first_layer_filters`: the 3x3 kernels of the first Conv2D layer.

Feature maps of one digit use :func:`utils.plotting.core.show_feature_maps`.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm

from .core import new_axes, show_matrix


def confusion_counts(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """``counts[i, j]`` = how many examples of class ``i`` were predicted as ``j``."""
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels and y_pred {y_pred.size}; "
                         "pass class numbers (e.g. `probs.argmax(axis=1)`) for the same examples.")
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def plot_confusion_matrix(y_true, y_pred, n_classes: int = 10, ax=None):
    """The confusion matrix with counts written in; errors (off the diagonal) stand out.

    A power-law colour scale keeps the few errors visible next to the ~1,000
    correct answers per digit. Returns the figure.
    """
    counts = confusion_counts(y_true, y_pred, n_classes)
    if ax is None:
        fig, (ax,) = new_axes(1, size=6.2)
    else:
        fig = ax.figure
    img = show_matrix(counts, ax=ax, cmap="Blues", symmetric=False, fmt="{:g}")
    img.set_norm(PowerNorm(gamma=0.35, vmin=0, vmax=max(int(counts.max()), 1)))
    dark = counts > 0.35 * counts.max()
    for text in ax.texts:
        j, i = (int(round(v)) for v in text.get_position())
        value = counts[i, j]
        text.set_text("" if value == 0 else f"{value}")
        text.set_color("white" if dark[i, j] else "black")
        text.set_fontsize(8)
    ticks = np.arange(n_classes)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    errors = int(counts.sum() - np.trace(counts))
    ax.set_title(f"confusion matrix: {errors:,} errors in {int(counts.sum()):,} test digits")
    fig.tight_layout()
    return fig


def show_misclassified(images, y_true, y_pred, probs=None, max_images: int = 24,
                       ncols: int = 8):
    """A grid of the digits whose prediction is wrong: 'true 4 / said 9 (87%)'.

    ``images`` are ``(N, 28, 28)`` or ``(N, 28, 28, 1)``; ``probs`` (optional,
    ``(N, 10)``) adds the model's confidence in its wrong answer. Returns the figure.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[..., 0]
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    wrong = np.flatnonzero(y_true != y_pred)
    if wrong.size == 0:
        fig, (ax,) = new_axes(1, size=3)
        ax.text(0.5, 0.5, "no misclassified digits", ha="center", va="center")
        ax.axis("off")
        return fig
    if probs is not None:  # the most confident mistakes first
        conf = np.asarray(probs)[wrong, y_pred[wrong]]
        wrong = wrong[np.argsort(-conf)]
    shown = wrong[:max_images]
    fig, axes = new_axes(len(shown), size=1.45, ncols=min(ncols, len(shown)))
    for ax, k in zip(axes, shown):
        ax.imshow(images[k], cmap="gray_r")
        ax.set_xticks([])
        ax.set_yticks([])
        label = f"true {y_true[k]} / said {y_pred[k]}"
        if probs is not None:
            label += f"\n({np.asarray(probs)[k, y_pred[k]]:.0%} sure)"
        ax.set_title(label, fontsize=8, color="firebrick")
    fig.suptitle(f"{len(shown)} of the {wrong.size:,} misclassified test digits"
                 + (" (most confident first)" if probs is not None else ""), fontsize=10)
    fig.tight_layout()
    return fig


def first_conv_kernels(model) -> np.ndarray:
    """The first Conv2D layer's kernels as ``(f, f, n_filters)`` (input channel 0)."""
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            weights = np.asarray(layer.get_weights()[0])  # (f, f, n_C_prev, n_C)
            return weights[:, :, 0, :]
    raise ValueError("the model has no Conv2D layer")


def show_first_layer_filters(model, ncols: int = 8, compare: dict | None = None):
    """Draw the learned 3x3 kernels of the first Conv2D layer, one small panel each.

    Each kernel has its own symmetric colour scale (red positive, blue negative),
    like the hand-made kernels of notebook 01. ``compare`` (``{name: 3x3 kernel}``,
    e.g. ``{"SOBEL_X": ...}``) marks, for each given kernel, the learned filter most
    similar to it (largest absolute cosine similarity). Returns the figure.
    """
    kernels = first_conv_kernels(model)
    n = kernels.shape[-1]
    marks: dict[int, str] = {}
    for name, k in (compare or {}).items():
        k = np.asarray(k, dtype=float).ravel()
        flat = kernels.reshape(-1, n).T
        cos = flat @ k / (np.linalg.norm(flat, axis=1) * np.linalg.norm(k) + 1e-12)
        best = int(np.argmax(np.abs(cos)))
        marks[best] = marks.get(best, "") + f"\n~{name} ({cos[best]:+.2f})"
    fig, axes = new_axes(n, size=1.35, ncols=min(ncols, n))
    for c, ax in enumerate(axes):
        show_matrix(kernels[:, :, c], ax=ax, annotate=False)
        title = f"filter {c}" + marks.get(c, "")
        ax.set_title(title, fontsize=8, color="darkgreen" if c in marks else "black")
        if c in marks:
            for spine in ax.spines.values():
                spine.set_edgecolor("darkgreen")
                spine.set_linewidth(2.5)
    fig.suptitle(f"the {n} learned 3x3 filters of the first Conv2D layer", fontsize=10)
    fig.tight_layout()
    return fig


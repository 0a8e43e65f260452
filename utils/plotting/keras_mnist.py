"""Figures for notebook 07: what the trained MNIST network gets wrong and what it learned.

- :func:`confusion_counts` and :func:`plot_confusion_matrix`: true digit vs predicted digit;
- :func:`show_misclassified`: a grid of the test digits the model got wrong;
- :func:`show_first_layer_filters`: the 3x3 kernels of the first Conv2D layer, and
  :func:`kernel_cosines`: how similar each one is to a given kernel;
- :func:`show_filters_with_maps`: each kernel above the feature map it makes of one digit;
- :func:`describe_validation`: what the training and validation curves of a run show.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm

from .core import new_axes, recolour_texts, show_matrix, tidy


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
    img = show_matrix(counts, ax=ax, cmap="Blues", symmetric=False,
                      fmt=lambda v: "" if v == 0 else f"{v:.0f}")
    img.set_norm(PowerNorm(gamma=0.35, vmin=0, vmax=max(int(counts.max()), 1)))
    recolour_texts(ax, img)
    for text in ax.texts:
        text.set_fontsize(8)
    ticks = np.arange(n_classes)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    errors = int(counts.sum() - np.trace(counts))
    ax.set_title(f"confusion matrix: {errors:,} errors in {int(counts.sum()):,} test digits")
    tidy(fig)
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
    tidy(fig)
    return fig


def first_conv_kernels(model) -> np.ndarray:
    """The first Conv2D layer's kernels as ``(f, f, n_filters)`` (input channel 0)."""
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            weights = np.asarray(layer.get_weights()[0])  # (f, f, n_C_prev, n_C)
            return weights[:, :, 0, :]
    raise ValueError("the model has no Conv2D layer")


def kernel_cosines(kernels, kernel) -> np.ndarray:
    """Cosine similarity of each kernel ``kernels[:, :, c]`` (``(f, f, n)``) with ``kernel``.

    ``+1``: the same pattern up to a positive scale; ``-1``: the same pattern with every
    sign flipped; ``0``: unrelated. Returns an array of ``n`` numbers.
    """
    kernels = np.asarray(kernels, dtype=float)
    k = np.asarray(kernel, dtype=float).ravel()
    flat = kernels.reshape(-1, kernels.shape[-1]).T            # (n, f*f)
    return flat @ k / (np.linalg.norm(flat, axis=1) * np.linalg.norm(k) + 1e-12)


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
        cos = kernel_cosines(kernels, k)
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
    tidy(fig)
    return fig



def show_filters_with_maps(kernels, maps, ncols: int = 8, size: float = 1.45):
    """Each learned kernel above the feature map it produces, on two shared colour scales.

    ``kernels`` is ``(f, f, n)`` (e.g. :func:`first_conv_kernels`), ``maps`` the
    ``(n_H, n_W, n)`` activations of one image. All kernels share one symmetric scale
    (red positive, blue negative, white 0) and all maps share one scale from 0 to the
    largest activation of any map, so strengths can be compared across filters.
    Returns the figure.
    """
    kernels = np.asarray(kernels, dtype=float)
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if kernels.ndim != 3 or maps.ndim != 3 or kernels.shape[-1] != maps.shape[-1]:
        raise ValueError(f"kernels {kernels.shape} and maps {maps.shape} must be (f, f, n) "
                         "and (n_H, n_W, n) with the same n: one map per kernel.")
    n = kernels.shape[-1]
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(size * ncols, 2 * size * nrows),
                             squeeze=False,
                             gridspec_kw={"height_ratios": [0.6, 1.0] * nrows})
    k_top = float(np.abs(kernels).max()) or 1.0
    m_top = float(maps.max()) or 1.0
    k_img = m_img = None
    for c in range(nrows * ncols):
        ax_k, ax_m = axes[2 * (c // ncols), c % ncols], axes[2 * (c // ncols) + 1, c % ncols]
        for ax in (ax_k, ax_m):
            ax.set_xticks([])
            ax.set_yticks([])
        if c >= n:
            ax_k.axis("off")
            ax_m.axis("off")
            continue
        k_img = ax_k.imshow(kernels[:, :, c], cmap="RdBu_r", vmin=-k_top, vmax=k_top)
        ax_k.set_title(f"filter {c}", fontsize=8)
        m_img = ax_m.imshow(maps[:, :, c], cmap="viridis", vmin=0, vmax=m_top)
    fig.suptitle("each filter above its feature map; one colour scale for all filters, "
                 "one for all maps", fontsize=10)
    tidy(fig, rect=(0, 0, 0.92, 0.97))
    cax_k = fig.add_axes((0.93, 0.55, 0.012, 0.35))
    cax_m = fig.add_axes((0.93, 0.1, 0.012, 0.35))
    fig.colorbar(k_img, cax=cax_k).set_label("weight", fontsize=8)
    fig.colorbar(m_img, cax=cax_m).set_label("activation", fontsize=8)
    return fig


def describe_validation(history) -> str:
    """What a run's curves show, epoch by epoch, worded from the numbers themselves.

    ``history`` is a Keras ``History`` (or its ``.history`` dict) with ``loss`` and
    ``val_loss`` (and ``val_accuracy`` when compiled with it). Returns a few lines: a
    table of the epochs, every epoch where the validation loss rose, and what that
    means given what the validation accuracy did.
    """
    hist = getattr(history, "history", history)
    missing = [k for k in ("loss", "val_loss") if k not in hist]
    if missing:
        raise ValueError(f"history has no {missing}; train with validation_data=... to get "
                         "validation curves.")
    loss, val_loss = list(hist["loss"]), list(hist["val_loss"])
    val_acc = list(hist.get("val_accuracy", [np.nan] * len(loss)))
    lines = ["epoch | train loss | val loss | val accuracy"]
    lines += [f"{e + 1:5d} | {loss[e]:10.4f} | {val_loss[e]:8.4f} | {val_acc[e]:.4f}"
              for e in range(len(loss))]
    if len(loss) < 2:
        lines.append("One epoch only: there is no trend to read yet.")
        return "\n".join(lines)
    rises = [e for e in range(1, len(loss)) if val_loss[e] > val_loss[e - 1]]
    if not rises:
        lines.append("The validation loss fell in every epoch, together with the training "
                     "loss: no sign of overfitting in this run.")
        return "\n".join(lines)
    for e in rises:
        change = "fell" if loss[e] < loss[e - 1] else "rose"
        lines.append(f"Epoch {e + 1}: the validation loss rose from {val_loss[e - 1]:.4f} to "
                     f"{val_loss[e]:.4f} while the training loss {change} from "
                     f"{loss[e - 1]:.4f} to {loss[e]:.4f}; validation accuracy went from "
                     f"{val_acc[e - 1]:.4f} to {val_acc[e]:.4f}.")
    best = int(np.argmin(val_loss))
    if best == len(loss) - 1:
        lines.append("The last epoch has the lowest validation loss of the run: the rise was "
                     "a blip, not a trend.")
    elif np.isnan(val_acc[-1]):
        lines.append(f"The lowest validation loss came after epoch {best + 1}; without a "
                     "validation accuracy the loss alone says the network has started to fit "
                     "its training digits more closely than new ones.")
    elif val_acc[-1] >= max(val_acc):
        lines.append(f"The validation accuracy is still at its best ({val_acc[-1]:.4f}): the "
                     "network gets more of these digits right, and the usual reason for the "
                     "higher loss is that it grows more confident, also on the few it gets "
                     "wrong: cross-entropy charges a confident mistake heavily. That is an "
                     "early warning of overfitting, not yet a loss of accuracy; a few more "
                     "epochs would tell whether the trend continues.")
    else:
        lines.append(f"The validation accuracy fell too (best {max(val_acc):.4f}, last "
                     f"{val_acc[-1]:.4f}): the network has started to overfit its training "
                     f"digits. The weights after epoch {best + 1}, the lowest validation loss, "
                     "would be the ones to keep (keras.callbacks.EarlyStopping does that).")
    return "\n".join(lines)

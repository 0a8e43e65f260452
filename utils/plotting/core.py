"""Drawing primitives shared by every notebook (matplotlib only).

Each function draws on an ``ax`` you pass (or makes a new figure) and returns
the matplotlib object it drew, so notebooks can compose figures and tests can
inspect them without showing anything.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import runtime


def new_axes(n: int = 1, size: float = 3.0, ncols: int | None = None):
    """A row (or grid) of ``n`` square axes; returns ``(fig, list_of_axes)``."""
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows),
                             squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def tidy(fig, **layout):
    """``fig.tight_layout(**layout)``, unless the figure will never be drawn; returns ``fig``.

    Under the autograder with matplotlib's non-interactive Agg backend (how kernels
    run when the feedback shows no figures) nothing is ever rendered, and laying a
    figure out measures every label's text: a tenth of a second per figure for nothing.
    """
    if not (runtime.is_grading() and plt.get_backend().lower() == "agg"):
        fig.tight_layout(**layout)
    return fig


def _validate_2d(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (H, W); got shape {arr.shape}. "
                         "Pick one channel (e.g. `a[:, :, 0]`) or one example first.")
    return arr


def short_number(v: float) -> str:
    """A cell label that fits a small cell: ``3``, ``-12``, ``0.333``, ``3.75``, ``0.037``."""
    v = float(v)
    if np.isnan(v):
        return ""
    if v.is_integer():
        return f"{v:.0f}"
    return f"{v:.3g}"


def text_colour(img, value: float) -> str:
    """``"white"`` on a dark cell of the image artist ``img``, ``"black"`` on a light one.

    The cell's colour is what ``img`` draws for ``value`` (its colour map and
    normalisation, so a later ``set_clim`` or ``set_norm`` is taken into account);
    its lightness is the usual luma, 0.299 R + 0.587 G + 0.114 B.
    """
    r, g, b, _ = img.cmap(img.norm(float(value)))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def recolour_texts(ax, img) -> None:
    """Give every number written on ``ax`` by :func:`show_matrix` the readable colour for
    its cell, after the colour scale of ``img`` has changed (e.g. ``img.set_clim``)."""
    data = np.asarray(img.get_array(), dtype=float)
    for text in ax.texts:
        if text.get_transform() is not ax.transData:
            continue  # a label placed in axes or figure coordinates, not a cell's number
        j, i = (int(round(p)) for p in text.get_position())
        if 0 <= i < data.shape[0] and 0 <= j < data.shape[1]:
            text.set_color(text_colour(img, data[i, j]))


def show_matrix(a, ax=None, title: str | None = None, cmap: str = "coolwarm",
                annotate: bool | None = None, fmt=None, highlight=None,
                symmetric: bool = True):
    """Draw a small 2-D array as coloured cells with its numbers written in.

    Parameters
    ----------
    a : array-like, shape (H, W)
    annotate : write the numbers (default: when H*W <= 100)
    fmt : a format string such as ``"{:g}"``, or a function of the value; default
        :func:`short_number` (whole numbers as they are, others to 3 significant digits)
    highlight : optional ``(row, col, height, width)`` rectangle to outline
        (e.g. the current sliding window)
    symmetric : centre the colour map on 0 so the sign of a value shows its colour

    Each number is written in white on a dark cell and in black on a light one.
    """
    arr = _validate_2d(a, "show_matrix's input").astype(float)
    if ax is None:
        _, (ax,) = new_axes(1, size=max(2.0, 0.45 * max(arr.shape)))
    vmax = float(np.abs(arr).max()) or 1.0
    kw = dict(vmin=-vmax, vmax=vmax) if symmetric else {}
    img = ax.imshow(arr, cmap=cmap, **kw)
    if annotate is None:
        annotate = arr.size <= 100
    if fmt is None:
        label = short_number
    elif callable(fmt):
        label = fmt
    else:
        label = fmt.format
    if annotate:
        for (i, j), v in np.ndenumerate(arr):
            ax.text(j, i, label(v), ha="center", va="center", fontsize=9,
                    color=text_colour(img, v))
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), w, h, fill=False,
                                   edgecolor="black", linewidth=2.5))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return img


def draw_box(ax, x: float, y: float, w: float, h: float, d: float, color,
             alpha: float = 0.85, edge: str = "black"):
    """A box of front size ``w x h`` and depth ``d`` in oblique projection (a volume).

    The front face has its lower-left corner at ``(x, y)``; the depth goes up and to
    the right (``0.5 d`` across, ``0.35 d`` up). Returns that offset ``(dx, dy)``.
    """
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Polygon

    dx, dy = 0.5 * d, 0.35 * d
    front = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    top = [(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)]
    side = [(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)]
    for face, shade in zip((front, top, side), (1.0, 0.8, 0.65)):
        ax.add_patch(Polygon(face, closed=True, facecolor=np.array(to_rgb(color)) * shade,
                             edgecolor=edge, alpha=alpha, linewidth=1))
    return dx, dy


def show_images(images: Sequence, titles: Sequence[str] | None = None,
                cmap: str = "gray", ncols: int | None = None, size: float = 3.0):
    """Show 2-D (grey) or (H, W, 3) (colour) images side by side; returns the figure."""
    images = list(images)
    if not images:
        raise ValueError("show_images needs at least one image.")
    fig, axes = new_axes(len(images), size=size, ncols=ncols or min(len(images), 6))
    for i, (ax, im) in enumerate(zip(axes, images)):
        arr = np.asarray(im)
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (2, 3):
            raise ValueError(f"image {i} has shape {arr.shape}; expected (H, W) or (H, W, 3).")
        ax.imshow(arr, cmap=cmap if arr.ndim == 2 else None)
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[i])
    tidy(fig)
    return fig


def show_kernels(kernels, titles: Sequence[str] | None = None, ncols: int | None = None,
                 annotate: bool = True):
    """Draw several small 2-D kernels with their weights written in; returns the figure.

    ``kernels`` is a list of ``(f, f)`` arrays or an array ``(f, f, n)`` (one kernel
    per last index, as Keras stores a one-channel Conv2D's weights after squeezing).
    """
    if isinstance(kernels, np.ndarray) and kernels.ndim == 3:
        kernels = [kernels[:, :, i] for i in range(kernels.shape[-1])]
    kernels = list(kernels)
    fig, axes = new_axes(len(kernels), size=2.2, ncols=ncols or min(len(kernels), 8))
    for i, (ax, k) in enumerate(zip(axes, kernels)):
        show_matrix(k, ax=ax, title=None if titles is None else titles[i],
                    annotate=annotate and np.asarray(k).size <= 49)
    tidy(fig)
    return fig


def show_heatmap(a, ax=None, title: str | None = None, cmap: str = "viridis",
                 annotate: bool | None = None, colorbar: bool = True):
    """A non-negative 2-D quantity (counts, magnitudes) as a heat map with a colour bar."""
    arr = _validate_2d(a, "show_heatmap's input")
    if ax is None:
        _, (ax,) = new_axes(1, size=4)
    img = show_matrix(arr, ax=ax, title=title, cmap=cmap, annotate=annotate,
                      symmetric=False)
    if colorbar:
        ax.figure.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
    return img


def show_feature_maps(maps, ncols: int = 8, titles: Sequence[str] | None = None,
                      cmap: str = "viridis", size: float = 1.6):
    """Draw the channels of one activation volume ``(n_H, n_W, n_C)`` as a grid."""
    arr = np.asarray(maps)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3:
        raise ValueError(f"show_feature_maps expects (n_H, n_W, n_C) for one example; "
                         f"got shape {arr.shape}. Index one example first, e.g. `A[0]`.")
    n = arr.shape[-1]
    fig, axes = new_axes(n, size=size, ncols=min(ncols, n))
    for c, ax in enumerate(axes):
        ax.imshow(arr[:, :, c], cmap=cmap)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[c] if titles is not None else f"channel {c}", fontsize=8)
    tidy(fig)
    return fig


def plot_training_curves(history, metrics: Sequence[str] = ("loss", "accuracy")):
    """Plot training and validation curves from a Keras ``History`` (or its ``.history`` dict)."""
    hist = getattr(history, "history", history)
    missing = [m for m in metrics if m not in hist]
    if missing:
        raise ValueError(f"history has no {missing}; it has {sorted(hist)}. "
                         "Did you compile the model with metrics=['accuracy']?")
    fig, axes = new_axes(len(metrics), size=4)
    for ax, m in zip(axes, metrics):
        epochs = np.arange(1, len(hist[m]) + 1)
        ax.plot(epochs, hist[m], "o-", label=f"train {m}")
        if f"val_{m}" in hist:
            ax.plot(epochs, hist[f"val_{m}"], "s--", label=f"validation {m}")
        ax.set_xlabel("epoch")
        ax.set_title(m)
        ax.legend()
        ax.grid(alpha=0.3)
    tidy(fig)
    return fig

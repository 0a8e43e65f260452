"""Figures for notebook 02 (padding), built on :mod:`utils.plotting.core`.

None of these functions pads an array for you: they draw arrays you have
already padded (with your ``zero_pad`` or ``np.pad``) and count how often the
pixels of an image are read by a sliding window.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, show_heatmap, show_matrix

PAD_COLOUR = "#9e9e9e"


def _pair(pad) -> tuple[int, int]:
    if isinstance(pad, (tuple, list)):
        return int(pad[0]), int(pad[1])
    return int(pad), int(pad)


def shade_padding(ax, shape: Sequence[int], pad, outline: str = "black") -> None:
    """Grey out the ``pad`` outer rows/columns of an ``(H, W)`` grid drawn on ``ax``
    and outline the original image inside it."""
    pad_h, pad_w = _pair(pad)
    h, w = int(shape[0]), int(shape[1])
    ring = np.ones((h, w))
    ring[pad_h:h - pad_h, pad_w:w - pad_w] = np.nan
    ax.imshow(ring, cmap="Greys", vmin=0, vmax=2.2, alpha=0.55,
              extent=(-0.5, w - 0.5, h - 0.5, -0.5), zorder=2)
    if pad_h or pad_w:
        ax.add_patch(plt.Rectangle((pad_w - 0.5, pad_h - 0.5), w - 2 * pad_w, h - 2 * pad_h,
                                   fill=False, edgecolor=outline, linewidth=2.2, zorder=3))
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)


def show_padded(padded, pad, ax=None, title: str | None = None, fmt: str = "{:g}",
                cmap: str = "Blues"):
    """Draw a padded 2-D array with its numbers; the added border is shaded grey.

    Parameters
    ----------
    padded : array-like (H + 2 pad_h, W + 2 pad_w), already padded
    pad : int or (pad_h, pad_w), the width that was added on each side
    """
    arr = np.asarray(padded, dtype=float)
    if ax is None:
        _, (ax,) = new_axes(1, size=max(2.5, 0.5 * max(arr.shape)))
    img = show_matrix(arr, ax=ax, title=title, cmap=cmap, fmt=fmt, symmetric=False,
                      annotate=arr.size <= 144)
    shade_padding(ax, arr.shape, pad)
    return img


def show_padded_versions(versions: Mapping[str, np.ndarray], pad, size: float = 3.2):
    """Several paddings of the same small image side by side (e.g. one per np.pad mode)."""
    fig, axes = new_axes(len(versions), size=size)
    for ax, (label, arr) in zip(axes, versions.items()):
        show_padded(arr, pad, ax=ax, title=label)
    fig.tight_layout()
    return fig


def coverage_counts(n_h: int, n_w: int, f: int, pad: int = 0) -> np.ndarray:
    """How many ``f x f`` windows (stride 1) read each pixel of an ``n_h x n_w`` image.

    The image is padded with ``pad`` on every side first; the counts are returned
    for the original pixels only, shape ``(n_h, n_w)``.
    """
    def along(n: int) -> np.ndarray:
        counts = np.zeros(n, dtype=int)
        for start in range(n + 2 * pad - f + 1):   # every window start, padded coordinates
            lo, hi = max(start - pad, 0), min(start - pad + f, n)
            counts[lo:hi] += 1
        return counts
    return np.outer(along(n_h), along(n_w))


def show_coverage(n: int, f: int, pads: Sequence[int] = (0, 1), size: float = 3.6):
    """Heat maps of :func:`coverage_counts` for an ``n x n`` image, one per padding."""
    fig, axes = new_axes(len(pads), size=size)
    vmax = f * f
    for ax, pad in zip(axes, pads):
        counts = coverage_counts(n, n, f, pad)
        out = n + 2 * pad - f + 1
        img = show_heatmap(counts, ax=ax, colorbar=False, annotate=n <= 10,
                           title=f"pad={pad}: {out}x{out} output\n"
                                 f"corner read {counts[0, 0]}x, centre {counts[n // 2, n // 2]}x")
        img.set_clim(0, vmax)
    fig.colorbar(img, ax=axes, fraction=0.035, pad=0.03, label="windows that read the pixel")
    fig.suptitle(f"How often each pixel of a {n}x{n} image is used by a {f}x{f} filter",
                 y=1.02)
    return fig


def plot_sizes_per_layer(sizes: Mapping[str, Sequence[int]], ax=None,
                         title: str = "Spatial size after each 3x3 convolution"):
    """Line plot of the side length after 0, 1, 2, ... layers, one line per setting."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
    markers = ["o", "s", "^", "D"]
    for k, (label, values) in enumerate(sizes.items()):
        ax.plot(range(len(values)), values, marker=markers[k % len(markers)], label=label)
    ax.set_xlabel("number of conv layers")
    ax.set_ylabel("height = width (pixels)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure

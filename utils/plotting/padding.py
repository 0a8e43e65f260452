"""Figures for notebook 02 (padding), built on :mod:`utils.plotting.core`.

None of these functions pads an array or counts windows for you: they draw
arrays you have already padded (with your ``zero_pad`` or ``np.pad``) and the
counts your ``coverage_counts`` returns.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .core import new_axes, recolour_texts, show_heatmap, show_matrix, tidy

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


def show_padded(padded, pad, ax=None, title: str | None = None, fmt=None,
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
    tidy(fig)
    return fig


def show_coverage(counts_by_pad: Mapping[int, np.ndarray], f: int, size: float = 3.6):
    """Heat maps of how often each pixel is read, one per padding.

    ``counts_by_pad`` maps a padding ``p`` to an ``(n, n)`` array of counts for the
    original pixels (what ``coverage_counts(n, f, p)`` returns in notebook 02); this
    function only draws them, with one colour scale from 0 to ``f * f`` for all maps.
    """
    items = [(int(p), np.asarray(c)) for p, c in counts_by_pad.items()]
    if not items:
        raise ValueError("show_coverage needs at least one {pad: counts} entry.")
    for p, counts in items:
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
            raise ValueError(f"the counts for pad={p} have shape {counts.shape}; expected "
                             "(n, n): one number per pixel of the original n x n image.")
    fig, axes = new_axes(len(items), size=size)
    n = items[0][1].shape[0]
    img = None
    for ax, (pad, counts) in zip(axes, items):
        out = counts.shape[0] + 2 * pad - f + 1
        centre = counts[counts.shape[0] // 2, counts.shape[1] // 2]
        img = show_heatmap(counts, ax=ax, colorbar=False, annotate=counts.shape[0] <= 10,
                           title=f"pad={pad}: {out}x{out} output\n"
                                 f"corner read {counts[0, 0]:g}x, centre {centre:g}x")
        img.set_clim(0, f * f)
        recolour_texts(ax, img)
    fig.colorbar(img, ax=axes, fraction=0.035, pad=0.03, label="windows that read the pixel")
    fig.suptitle(f"How often each pixel of a {n}x{n} image is used by a {f}x{f} filter",
                 y=1.02)
    return fig


def show_border_effect(original, blurred: Mapping[str, np.ndarray], pad: int,
                       difference: tuple[str, str] = ("reflect", "constant"),
                       row: int | None = None, size: float = 3.6):
    """Where two paddings of the same filter disagree, and by how much.

    Left: ``blurred[a] - blurred[b]`` for ``difference = (a, b)``, on its own colour
    scale (0 to its largest value) with a colour bar, so that a small difference is
    still visible. Right: the brightness along one ``row`` (default: the middle one)
    of the original image and of every blurred version, with the ``pad``-pixel frame
    at both ends shaded. All images are 2-D ``(H, W)`` of the same shape.
    """
    orig = np.asarray(original, dtype=float)
    a, b = difference
    diff = np.asarray(blurred[a], dtype=float) - np.asarray(blurred[b], dtype=float)
    row = orig.shape[0] // 2 if row is None else int(row)
    fig, (ax_d, ax_p) = new_axes(2, size=size)
    fig.set_size_inches(2.3 * size, size)
    top = float(np.abs(diff).max()) or 1.0
    img = ax_d.imshow(diff, cmap="magma", vmin=min(0.0, float(diff.min())), vmax=top)
    ax_d.axhline(row, color="tab:cyan", linewidth=1, linestyle="--")
    ax_d.set_title(f"{a} minus {b}\n(largest difference {top:.2f})", fontsize=10)
    ax_d.set_xticks([])
    ax_d.set_yticks([])
    fig.colorbar(img, ax=ax_d, fraction=0.046, pad=0.04)
    cols = np.arange(orig.shape[1])
    ax_p.plot(cols, orig[row], color="0.65", linewidth=1, label="original")
    for name, im in blurred.items():
        ax_p.plot(cols, np.asarray(im, dtype=float)[row], linewidth=1.8, label=f"blur, {name}")
    for lo, hi in ((0, pad), (orig.shape[1] - pad, orig.shape[1])):
        ax_p.axvspan(lo - 0.5, hi - 0.5, color=PAD_COLOUR, alpha=0.25, linewidth=0)
    ax_p.set_xlabel("column")
    ax_p.set_ylabel("brightness")
    ax_p.set_title(f"row {row} (dashed line); grey: the {pad}-pixel frame", fontsize=10)
    ax_p.legend(fontsize=8)
    ax_p.grid(alpha=0.3)
    tidy(fig)
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
    tidy(ax.figure)
    return ax.figure

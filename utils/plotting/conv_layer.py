"""Figures for notebook 04: filters over volumes, feature maps, 1x1 convolutions,
parameter counts and translation equivariance. Built on :mod:`utils.plotting.core`.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

from .core import draw_box, new_axes, recolour_texts, show_matrix, tidy

CHANNEL_NAMES = ("red", "green", "blue")
CHANNEL_CMAPS = ("Reds", "Greens", "Blues")


def show_filter_channels(filt, title: str | None = None,
                         channel_names: Sequence[str] = CHANNEL_NAMES):
    """One filter ``(f, f, n_C_prev)`` drawn channel by channel, weights written in.

    Each channel is the small kernel that slides over the matching input channel;
    the filter's output is the sum of the three kernel responses (plus the bias).
    """
    filt = np.asarray(filt, dtype=float)
    if filt.ndim != 3:
        raise ValueError(f"a filter has shape (f, f, n_C_prev); got {filt.shape}. "
                         "Pick one filter of W first, e.g. `W[:, :, :, 0]`.")
    n = filt.shape[-1]
    fig, axes = new_axes(n, size=2.4)
    vmax = float(np.abs(filt).max()) or 1.0
    for c, ax in enumerate(axes):
        name = channel_names[c] if c < len(channel_names) else f"channel {c}"
        show_matrix(filt[:, :, c], ax=ax, title=f"on the {name} channel")
        ax.images[-1].set_clim(-vmax, vmax)  # one colour scale for the whole filter
        recolour_texts(ax, ax.images[-1])
        ax.title.set_color({"red": "firebrick", "green": "darkgreen",
                            "blue": "navy"}.get(name, "black"))
    if n > 1:
        for ax in axes[:-1]:
            ax.text(1.13, 0.5, "+", transform=ax.transAxes, ha="center", va="center",
                    fontsize=20)
    if title:
        fig.suptitle(title)
    tidy(fig)
    return fig


def show_volume_example(A, W, Z=None, b=None, channel_names: Sequence[str] = CHANNEL_NAMES):
    """A small volume convolution laid out in a grid.

    Row 0: the input channels ``A (n_H, n_W, n_C_prev)``. Row ``k+1``: filter ``k``
    channel by channel, then its output map ``Z[:, :, k]`` (``"?"`` when ``Z`` is None,
    before the exercise is solved). With ``b`` (shape ``(1, 1, 1, n_C)``) each output
    title shows the filter's bias.
    """
    A = np.asarray(A, dtype=float)
    W = np.asarray(W, dtype=float)
    if A.ndim == 4:
        A = A[0]
    if Z is not None:
        Z = np.asarray(Z, dtype=float)
        Z = Z[0] if Z.ndim == 4 else Z
    n_c_prev, n_c = W.shape[2], W.shape[3]
    ncols = n_c_prev + 1
    fig, axes = plt.subplots(n_c + 1, ncols, figsize=(2.3 * ncols, 2.3 * (n_c + 1)),
                             squeeze=False)
    for c in range(n_c_prev):
        name = channel_names[c] if c < len(channel_names) else f"channel {c}"
        show_matrix(A[:, :, c], ax=axes[0, c], title=f"input, {name}")
    axes[0, -1].axis("off")
    axes[0, -1].text(0.5, 0.5, f"input volume\n{A.shape[0]} x {A.shape[1]} x {n_c_prev}",
                     ha="center", va="center", fontsize=11)
    for k in range(n_c):
        for c in range(n_c_prev):
            show_matrix(W[:, :, c, k], ax=axes[k + 1, c], title=f"filter {k}, channel {c}")
        ax = axes[k + 1, -1]
        if Z is None:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"output channel {k}")
            ax.text(0.5, 0.5, "?", ha="center", va="center", fontsize=28,
                    transform=ax.transAxes)
        else:
            show_matrix(Z[:, :, k], ax=ax, title=f"output channel {k}")
        if b is not None:
            bias = float(np.asarray(b).reshape(-1)[k])
            ax.set_title(ax.get_title() + f" (bias {bias:g})", fontsize=10)
    tidy(fig)
    return fig


def show_photo_feature_maps(photo, maps, titles: Sequence[str], cmap: str = "RdBu_r",
                            ncols: int = 5, size: float = 2.4, sequential: str = "gray"):
    """The photograph, then one feature map per filter (``maps`` is ``(n_H, n_W, n_C)``).

    A map with negative values is drawn with the diverging ``cmap`` centred on 0: red
    where the filter responds positively, blue where negatively, white at 0. A map
    that is nowhere negative (a blur, a map after ReLU) is drawn with the sequential
    ``sequential`` map from 0 (black) to its largest value (white), so it does not
    look like a photo negative. Each map has its own scale; the title says which.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4:
        maps = maps[0]
    n = maps.shape[-1]
    if len(titles) != n:
        raise ValueError(f"{n} maps but {len(titles)} titles.")
    fig, axes = new_axes(n + 1, size=size, ncols=ncols)
    axes[0].imshow(np.clip(photo, 0, 1))
    axes[0].set_title(f"input {photo.shape[0]} x {photo.shape[1]} x {photo.shape[2]}")
    axes[0].axis("off")
    for k, ax in enumerate(axes[1:]):
        m = maps[:, :, k]
        top = float(np.abs(m).max()) or 1.0
        if m.min() < 0:
            ax.imshow(m, cmap=cmap, vmin=-top, vmax=top)
            scale = f"blue {-top:.2g} .. red {top:.2g}"
        else:
            ax.imshow(m, cmap=sequential, vmin=0, vmax=top)
            scale = f"black 0 .. white {top:.2g}"
        ax.set_title(f"{titles[k]}\n({scale})", fontsize=9)
        ax.axis("off")
    tidy(fig)
    return fig


def show_one_by_one_conv(n_H: int = 28, n_W: int = 28, n_C_prev: int = 64, n_C: int = 32):
    """A 1x1 convolution: each output pixel is ``n_C`` dot products of one input column.

    Left: the input volume with one pixel's column of ``n_C_prev`` numbers marked;
    middle: the ``n_C`` filters, each ``1 x 1 x n_C_prev``; right: the output volume,
    same height and width, ``n_C`` channels.
    """
    fig, ax = plt.subplots(figsize=(11, 4))
    unit_h, unit_w = 3.0, 3.0
    d_in, d_out = 3.0 * n_C_prev / max(n_C_prev, n_C), 3.0 * n_C / max(n_C_prev, n_C)
    # input volume and the column through one pixel
    draw_box(ax, 0, 0, unit_w, unit_h, d_in, "lightsteelblue")
    col_x, col_y = 1.2, 1.6
    draw_box(ax, col_x, col_y, 0.3, 0.3, d_in, "crimson", alpha=1.0)
    ax.text(unit_w / 2 + 0.7, -0.5, f"input {n_H} x {n_W} x {n_C_prev}", ha="center")
    ax.text(col_x - 0.1, col_y - 0.45, f"one pixel: {n_C_prev} numbers", fontsize=9,
            color="crimson")
    # the filters
    for k in range(4):
        draw_box(ax, 6.0 + 0.25 * k, 0.6 + 0.55 * k, 0.3, 0.3, d_in, "gold", alpha=1.0)
    ax.text(7.1, 3.7, "...", fontsize=14)
    ax.text(7.3, -0.5, f"{n_C} filters, each 1 x 1 x {n_C_prev}\n(+ {n_C} biases)",
            ha="center")
    # the output volume and its column
    draw_box(ax, 11.0, 0, unit_w, unit_h, d_out, "lightsteelblue")
    draw_box(ax, 12.2, 1.6, 0.3, 0.3, d_out, "crimson", alpha=1.0)
    ax.text(11.0 + unit_w / 2 + 0.4, -0.5, f"output {n_H} x {n_W} x {n_C}", ha="center")
    for start, end in [((4.9, 2.0), (5.8, 2.0)), ((9.3, 2.0), (10.8, 2.0))]:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=18))
    ax.text(10.05, 2.3, f"{n_C} dot\nproducts", ha="center", fontsize=9)
    ax.set_xlim(-0.5, 16.0)
    ax.set_ylim(-1.2, 5.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A 1x1 convolution mixes channels at each pixel; it never looks at "
                 "neighbours")
    tidy(fig)
    return fig


def show_parameter_comparison(counts: dict, title: str | None = None):
    """Bar chart (log scale) of parameter counts, each bar labelled with its number."""
    names, values = list(counts), [float(v) for v in counts.values()]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bars = ax.barh(names, values, color=["indianred"] + ["steelblue"] * (len(values) - 1))
    ax.set_xscale("log")
    ax.set_xlim(1, max(values) * 20)
    for bar, v in zip(bars, values):
        ax.text(v * 1.15, bar.get_y() + bar.get_height() / 2, f"{int(v):,}", va="center")
    ax.invert_yaxis()
    ax.set_xlabel("number of parameters (log scale)")
    ax.set_title(title or "Parameters needed to map 32x32x3 to 28x28x6")
    ax.grid(axis="x", alpha=0.3)
    tidy(fig)
    return fig


def show_translation_equivariance(x, x_shifted, z, z_shifted, shift: tuple[int, int],
                                  channel: int = 0):
    """Convolution commutes with shifting: shift the image, the feature map shifts.

    ``x_shifted`` is ``x`` moved by ``shift = (dy, dx)`` pixels (content moves up/left
    by ``dy``/``dx``); ``z``, ``z_shifted`` are the feature maps of both. The last
    panel is ``z`` moved by the same shift minus ``z_shifted``: zero wherever both
    are defined.
    """
    dy, dx = shift
    z = np.asarray(z, dtype=float)
    z_shifted = np.asarray(z_shifted, dtype=float)
    z, z_shifted = (a[0] if a.ndim == 4 else a for a in (z, z_shifted))
    z, z_shifted = z[:, :, channel], z_shifted[:, :, channel]
    h, w = z.shape
    diff = z[dy:, dx:] - z_shifted[:h - dy, :w - dx]
    fig, axes = new_axes(5, size=2.8)
    images = [np.clip(x, 0, 1), np.clip(x_shifted, 0, 1)]
    vmax = float(max(np.abs(z).max(), np.abs(z_shifted).max())) or 1.0
    for ax, im, t in zip(axes[:2], images, ["image", f"image shifted by {shift}"]):
        ax.imshow(im if im.ndim == 3 else im, cmap=None if im.ndim == 3 else "gray")
        ax.set_title(t, fontsize=10)
    for ax, m, t in zip(axes[2:4], [z, z_shifted],
                        ["feature map of image", "feature map of shifted image"]):
        ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(t, fontsize=10)
    axes[4].imshow(diff, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    axes[4].set_title(f"shift(map) - map(shift)\nlargest |difference| "
                      f"{np.abs(diff).max():.1e}", fontsize=10)
    # mark one feature in both maps: the strongest response
    inner = np.zeros(diff.shape, dtype=bool)
    inner[diff.shape[0] // 6:-(diff.shape[0] // 6) or None,
          diff.shape[1] // 6:-(diff.shape[1] // 6) or None] = True
    i, j = np.unravel_index(np.argmax(np.where(inner, np.abs(z[dy:, dx:]), -1)), diff.shape)
    for ax, (r, c) in [(axes[2], (i + dy, j + dx)), (axes[3], (i, j))]:
        ax.add_patch(plt.Circle((c, r), radius=max(h, w) / 18, fill=False,
                                edgecolor="lime", linewidth=2))
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    tidy(fig)
    return fig

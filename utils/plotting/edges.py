"""Figures for notebook 01, edge detection (built on :mod:`utils.plotting.core`).

- :func:`show_pixels` - a small grey image with its pixel values written in;
- :func:`show_sliding_window` - one step of the sliding window, with every number;
- :func:`show_conv_equation` - ``image * kernel = output`` as three small matrices;
- :func:`show_kernel_flip` - a kernel next to its 180-degree rotation;
- :func:`show_edge_maps` - a photograph next to its edge maps;
- :func:`show_kernel_learning` - kernels found by gradient descent, and the loss.

No function here computes a whole cross-correlation: the output maps are passed
in (computed by the student's own functions in the notebook).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .core import new_axes, show_heatmap, show_kernels, show_matrix, text_colour, tidy


def _as_2d(a, what: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (H, W); got shape {arr.shape}.")
    return arr


def _number(v: float) -> str:
    """A weight or pixel as short text: 3, -1, 0.5."""
    return f"{v:g}" if float(v).is_integer() else f"{v:.2g}"


def show_pixels(img, ax=None, title: str | None = None, highlight=None):
    """An image drawn as grey cells (black = lowest, white = highest) with its numbers,
    written in white on dark cells and in black on light ones. Returns the image artist."""
    img = _as_2d(img, "image")
    if ax is None:
        _, (ax,) = new_axes(1, size=max(2.0, 0.45 * max(img.shape)))
    art = show_matrix(img, ax=ax, cmap="gray", symmetric=False, highlight=highlight, title=title)
    if highlight is not None:
        ax.patches[-1].set_edgecolor("tab:orange")
    return art


def _operator(fig, left_ax, right_ax, text: str) -> None:
    """Write an operator symbol in the gap between two axes."""
    l, r = left_ax.get_position(), right_ax.get_position()
    fig.text((l.x1 + r.x0) / 2, (l.y0 + l.y1) / 2, text, ha="center", va="center",
             fontsize=22)


def show_sliding_window(image, kernel, row: int = 0, col: int = 0, output=None):
    """One step of a valid cross-correlation, every number written in.

    Panels: the image with the ``f_h x f_w`` window at ``(row, col)`` outlined, the
    kernel, their element-wise products, and the output map with cell
    ``(row, col)`` outlined. The output cell is the sum of the products. When
    ``output`` (the full map) is given, the cells the window has already visited
    (row by row) show their values and later ones show ``?``.

    Returns the figure.
    """
    img = _as_2d(image, "image")
    ker = _as_2d(kernel, "kernel")
    (H, W), (f_h, f_w) = img.shape, ker.shape
    n_H, n_W = H - f_h + 1, W - f_w + 1
    if not (0 <= row < n_H and 0 <= col < n_W):
        raise ValueError(f"the window position ({row}, {col}) is outside the "
                         f"{n_H}x{n_W} output of a {H}x{W} image and a {f_h}x{f_w} kernel.")
    products = img[row:row + f_h, col:col + f_w] * ker
    value = float(products.sum())
    shown = np.zeros((n_H, n_W))
    known = np.zeros((n_H, n_W), dtype=bool)
    if output is not None:
        out = _as_2d(output, "output")
        if out.shape != (n_H, n_W):
            raise ValueError(f"output has shape {out.shape}; a {H}x{W} image and a "
                             f"{f_h}x{f_w} kernel give {(n_H, n_W)}.")
        order = np.arange(n_H * n_W).reshape(n_H, n_W)
        known = order <= row * n_W + col
        shown = np.where(known, out, 0.0)
    shown[row, col] = value
    known[row, col] = True

    fig, axes = new_axes(4, size=2.9)
    fig.set_size_inches(13, 3.6)
    show_pixels(img, axes[0], f"image X ({H}x{W})", highlight=(row, col, f_h, f_w))
    show_matrix(ker, ax=axes[1], title=f"kernel K ({f_h}x{f_w})")
    show_matrix(products, ax=axes[2],
                title=f"X[{row}:{row + f_h}, {col}:{col + f_w}] \u2299 K")
    vmax = float(np.abs(shown).max()) or 1.0
    show_matrix(shown, ax=axes[3], annotate=False, highlight=(row, col, 1, 1),
                title=f"output Z ({n_H}x{n_W})")
    axes[3].images[0].set_clim(-vmax, vmax)
    for (i, j), v in np.ndenumerate(shown):
        axes[3].text(j, i, _number(v) if known[i, j] else "?", ha="center", va="center",
                     fontsize=9, fontweight="bold" if (i, j) == (row, col) else "normal",
                     color=text_colour(axes[3].images[0], v))
    terms = " + ".join(f"{_number(x)}\u00b7{_number(k)}" if k >= 0
                       else f"{_number(x)}\u00b7({_number(k)})"
                       for x, k in zip(img[row:row + f_h, col:col + f_w].ravel(), ker.ravel()))
    if len(terms) > 150:
        terms = "sum of the products"
    fig.suptitle(f"Z[{row}, {col}] = {terms} = {_number(value)}", fontsize=11)
    tidy(fig, rect=(0, 0, 1, 0.92))
    fig.subplots_adjust(wspace=0.35)
    _operator(fig, axes[0], axes[1], "\u2299")
    _operator(fig, axes[2], axes[3], "\u03a3\u2192")
    return fig


def show_conv_equation(image, kernel, output, titles: Sequence[str] = ("image", "kernel",
                                                                        "output"),
                       suptitle: str | None = None):
    """``image * kernel = output`` drawn as three matrices with their numbers.

    The image is drawn in grey (dark is black, bright is white), kernel and output
    in a diverging map where positive is red and negative is blue. Returns the figure.
    """
    img, ker, out = (_as_2d(a, w) for a, w in ((image, "image"), (kernel, "kernel"),
                                                (output, "output")))
    fig, axes = new_axes(3, size=2.9)
    show_pixels(img, axes[0], titles[0])
    show_matrix(ker, ax=axes[1], title=titles[1])
    show_matrix(out, ax=axes[2], title=titles[2])
    fig.set_size_inches(10, 3.4)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    tidy(fig, rect=(0, 0, 1, 0.9 if suptitle else 1))
    fig.subplots_adjust(wspace=0.5)
    _operator(fig, axes[0], axes[1], "\u2217")
    _operator(fig, axes[1], axes[2], "=")
    return fig


def show_kernel_flip(kernel, name: str = "K"):
    """A kernel and its 180-degree rotation (both axes reversed), as convolution uses it."""
    ker = _as_2d(kernel, "kernel")
    fig = show_kernels([ker, np.rot90(ker, 2)],
                       titles=[f"{name}: cross-correlation uses it as is",
                               f"{name} rotated 180\u00b0: convolution uses this"])
    fig.set_size_inches(7.5, 3.2)
    tidy(fig)
    return fig


def _clip(a: np.ndarray, percentile: float) -> np.ndarray:
    """Clip a map at a high percentile of |a| so a few strong edges do not hide the rest."""
    top = float(np.percentile(np.abs(a), percentile)) or float(np.abs(a).max()) or 1.0
    return np.clip(a, -top, top)


def show_edge_maps(photo, maps: Mapping[str, np.ndarray], ncols: int | None = None,
                   percentile: float = 99.0, size: float = 3.2, include_photo: bool = True,
                   dpi: float = 80):
    """A grey photograph followed by its edge maps (``include_photo=False``: the maps only).

    Maps with negative values (responses to one kernel) are drawn in grey with 0 as
    mid-grey, positive white and negative black; non-negative maps (magnitudes) in
    the ``magma`` heat map. Each map is clipped at the ``percentile`` of its
    absolute values, so the strongest few edges do not wash out the rest. The
    figure's ``dpi`` is modest because photo-like panels make large PNGs (the
    executed notebooks are committed). Returns the figure.
    """
    ph = _as_2d(photo, "photo")
    items = list(maps.items())
    n = int(include_photo) + len(items)
    fig, axes = new_axes(n, size=size, ncols=ncols or min(n, 4))
    fig.set_dpi(dpi)
    if include_photo:
        axes[0].imshow(ph, cmap="gray")
        axes[0].set_title(f"photograph ({ph.shape[0]}x{ph.shape[1]})")
        axes[0].axis("off")
    for ax, (title, m) in zip(axes[int(include_photo):], items):
        m = _as_2d(m, f"map '{title}'")
        if (m < 0).any():
            show_matrix(_clip(m, percentile), ax=ax, cmap="gray", annotate=False,
                        title=f"{title}\n(white +, black \u2212)")
        else:
            show_heatmap(_clip(m, percentile), ax=ax, cmap="magma", annotate=False,
                         title=title, colorbar=False)
        ax.axis("off")
    tidy(fig)
    return fig


def show_kernel_learning(snapshots: Mapping[int, np.ndarray], losses: Sequence[float],
                         target=None, decimals: int = 2):
    """Kernels at a few gradient-descent steps, the target kernel, and the loss curve."""
    kernels = [np.round(_as_2d(k, "kernel"), decimals) + 0.0 for k in snapshots.values()]
    titles = [f"step {s}" for s in snapshots]
    if target is not None:
        kernels.append(_as_2d(target, "target"))
        titles.append("target")
    n = len(kernels) + 1
    fig, axes = new_axes(n, size=2.5)
    fig.set_size_inches(2.6 * n, 2.9)
    for ax, k, t in zip(axes, kernels, titles):
        show_matrix(k, ax=ax, title=t)
    ax = axes[-1]
    ax.semilogy(np.arange(len(losses)), losses, "-", color="tab:blue")
    ax.set_xlabel("step")
    ax.set_title("loss (mean squared error)")
    ax.grid(alpha=0.3)
    ax.set_box_aspect(1)
    tidy(fig)
    return fig


__all__ = ["show_pixels", "show_sliding_window", "show_conv_equation", "show_kernel_flip",
           "show_edge_maps", "show_kernel_learning"]

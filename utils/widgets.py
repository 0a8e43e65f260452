"""Interactive explorers for the notebooks (ipywidgets), with a headless core.

``output_size_explorer(conv_output_size)`` shows how many positions a filter of
size ``f`` can take along an input of size ``n`` padded by ``p`` on each side
and moved ``s`` cells at a time. It *places* the windows one after the other
(a window fits while ``start + f <= n + 2p``), draws them, writes the output
size formula with the numbers filled in, and, when given the student's
``conv_output_size``, shows what that function returns next to the count.

Everything the widget shows comes from two pure functions that tests (and
curious students) can call without a browser:

* :func:`window_figure` returns a matplotlib figure and a :class:`WindowCount`;
* :func:`compare_with_student` returns a :class:`Comparison` (status, text, hint).

Nothing here is a graded function: the count comes from placing windows for
the drawing, and is only reachable through those two results.
"""
from __future__ import annotations

import base64
import functools
import html
import io
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

# Slider ranges: (min, max, default). The default is notebook 03's worked example
# (7 cells, 3-wide filter, stride 2, no padding -> 3 windows).
RANGES = {
    "n": (1, 16, 7),
    "f": (1, 9, 3),
    "pad": (0, 4, 0),
    "stride": (1, 5, 2),
}
LABELS = {"n": "n (input)", "f": "f (filter)", "pad": "p (padding)", "stride": "s (stride)"}
NOT_WRITTEN = "write conv_output_size above to compare"

_PAD_COLOUR = "#d9d9d9"
_INPUT_COLOUR = "#fff7d6"
_LEFT_OUT_COLOUR = "#f4b6b6"
_WINDOW_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                   "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


@dataclass(frozen=True)
class WindowCount:
    """What :func:`window_figure` found for one setting of the sliders.

    Attributes
    ----------
    n, f, pad, stride : the inputs.
    padded : ``n + 2 * pad``, the length of the padded input.
    starts : the first cell of each window that fits, in order.
    count : how many windows fit (``len(starts)``): the output size along the axis.
    left_out : the cells at the end that no window covers (the stride jumped past them).
    formula : the output-size formula with the numbers filled in (plain text).
    message : one or two sentences saying what the picture shows.
    """

    n: int
    f: int
    pad: int
    stride: int
    padded: int
    starts: tuple
    count: int
    left_out: tuple
    formula: str
    message: str

    @property
    def fits(self) -> bool:
        """True when at least one window fits inside the padded input."""
        return self.count > 0


@dataclass(frozen=True)
class Comparison:
    """How the student's ``conv_output_size`` compares with the counted windows.

    ``status`` is one of ``"none"`` (no function given), ``"not_written"`` (the stub
    still raises ``NotImplementedError``), ``"error"`` (it raised something else),
    ``"match"``, ``"mismatch"``, ``"type"`` (right number, but not an int) or
    ``"no_window"`` (no window fits, so there is no count to compare with).
    """

    status: str
    text: str
    hint: str = ""
    returned: object = field(default=None, compare=False)


# ------------------------------------------------------------------ counting
def _check_sizes(n, f, pad, stride) -> tuple:
    values = []
    for name, v, low in (("n", n, 1), ("f", f, 1), ("pad", pad, 0), ("stride", stride, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
        if v < low:
            raise ValueError(f"{name} must be at least {low}, got {v}")
        values.append(int(v))
    return tuple(values)


def _place(padded: int, f: int, stride: int) -> tuple:
    """Slide a window of ``f`` cells along ``padded`` cells: the starts that fit."""
    starts = []
    start = 0
    while start + f <= padded:
        starts.append(start)
        start += stride
    return tuple(starts)


def _formula_text(n: int, f: int, pad: int, stride: int) -> str:
    top = n + 2 * pad - f
    value = math.floor(top / stride) + 1
    return (f"floor((n + 2p - f) / s) + 1 = floor(({n} + 2*{pad} - {f}) / {stride}) + 1"
            f" = floor({top} / {stride}) + 1 = {math.floor(top / stride)} + 1 = {value}")


def _count(n: int, f: int, pad: int, stride: int) -> WindowCount:
    padded = n + 2 * pad
    starts = _place(padded, f, stride)
    count = len(starts)
    covered_to = starts[-1] + f if starts else 0
    left_out = tuple(range(covered_to, padded)) if starts else ()
    formula = _formula_text(n, f, pad, stride)
    if not starts:
        message = (f"No window fits: the filter (f = {f}) is wider than the padded input "
                   f"(n + 2p = {padded}). The formula's answer is not a size here; "
                   "a real convolution layer refuses this setting. "
                   "Make the filter smaller or pad more.")
    else:
        where = ", ".join(str(s) for s in starts[:12]) + (", ..." if count > 12 else "")
        cells = f"{padded} cells of the padded input" if pad else f"{padded} input cells"
        message = (f"{count} window{'s' if count != 1 else ''} fit{'s' if count == 1 else ''}"
                   f" in the {cells} (starting at {where}).")
        if left_out:
            k = len(left_out)
            message += (f" The last {k} cell{'s are' if k > 1 else ' is'} never covered: the "
                        "next step would stick out, which is why the formula rounds down.")
    return WindowCount(n, f, pad, stride, padded, starts, count, left_out, formula, message)


# ------------------------------------------------------------------ drawing
def _draw_axis(ax, wc: WindowCount) -> None:
    """The padded input as a row of cells, each window as a bar below it."""
    p, padded = wc.pad, wc.padded
    for x in range(padded):
        is_pad = x < p or x >= p + wc.n
        colour = _LEFT_OUT_COLOUR if x in wc.left_out else (_PAD_COLOUR if is_pad else _INPUT_COLOUR)
        ax.add_patch(Rectangle((x, 0), 1, 1, facecolor=colour, edgecolor="black", lw=1))
        label = "0" if is_pad else str(x - p)
        ax.text(x + 0.5, 0.5, label, ha="center", va="center", fontsize=8,
                color="#555555" if is_pad else "black")
    rows = max(wc.count, 1)
    height = min(0.8, 6.0 / rows)
    gap = height * 1.25
    if wc.fits:
        for k, s in enumerate(wc.starts):
            y = -(k + 1) * gap
            colour = _WINDOW_COLOURS[k % len(_WINDOW_COLOURS)]
            ax.add_patch(Rectangle((s + 0.06, y), wc.f - 0.12, height, facecolor=colour,
                                   alpha=0.75, edgecolor=colour))
            if wc.count <= 12:
                ax.text(-0.3, y + height / 2, f"window {k}", ha="right", va="center",
                        fontsize=8, color=colour)
        bottom = -(wc.count + 1) * gap
        if wc.left_out:
            ax.text(wc.left_out[0] + len(wc.left_out) / 2, -0.15, "never\ncovered", ha="center",
                    va="top", fontsize=7, color="#b02a2a")
    else:
        y = -gap
        ax.add_patch(Rectangle((0.06, y), wc.f - 0.12, height, facecolor="none",
                               edgecolor="#d62728", lw=2, linestyle="--"))
        ax.text(wc.f / 2, y - 0.35, f"a {wc.f}-cell filter does not fit in {padded} cells",
                ha="center", va="top", fontsize=9, color="#d62728")
        bottom = y - 1.2
    right = max(padded, wc.f) + 0.2
    ax.set_xlim(-3.2 if wc.count <= 12 else -0.5, right)
    ax.set_ylim(bottom, 1.6)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.text(0, 1.25, f"one axis: n = {wc.n} input cells, p = {wc.pad} zero{'s' if wc.pad != 1 else ''}"
            f" each side (grey), f = {wc.f}, s = {wc.stride}", fontsize=9, va="center")


def _draw_grid(ax, wc: WindowCount) -> None:
    """The padded 2-D input; a dot marks the top-left corner of every window."""
    p, padded = wc.pad, wc.padded
    grid = np.ones((padded, padded))
    grid[p:p + wc.n, p:p + wc.n] = 0
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=4, extent=(0, padded, padded, 0))
    for k in range(padded + 1):
        ax.plot([0, padded], [k, k], color="#999999", lw=0.5)
        ax.plot([k, k], [0, padded], color="#999999", lw=0.5)
    ax.add_patch(Rectangle((p, p), wc.n, wc.n, fill=False, edgecolor="black", lw=1.5))
    if wc.fits:
        for r in wc.starts:
            for c in wc.starts:
                ax.plot(c + 0.5, r + 0.5, "o", color="#1f77b4", ms=max(2.5, 7 - 0.2 * padded))
        first, last = wc.starts[0], wc.starts[-1]
        ax.add_patch(Rectangle((first, first), wc.f, wc.f, fill=False, edgecolor="#ff7f0e",
                               lw=2.5))
        if last != first:
            ax.add_patch(Rectangle((last, last), wc.f, wc.f, fill=False, edgecolor="#2ca02c",
                                   lw=2.5, linestyle="--"))
        title = f"2-D: {wc.count} x {wc.count} window corners -> output {wc.count} x {wc.count}"
        ax.set_xlabel("dot: top-left corner of a window\norange: first window, green: last",
                      fontsize=8)
    else:
        ax.add_patch(Rectangle((0, 0), wc.f, wc.f, fill=False, edgecolor="#d62728", lw=2,
                               linestyle="--"))
        title = "2-D: no window fits"
        ax.set_xlabel(f"red dashed: the {wc.f} x {wc.f} filter", fontsize=8)
    size = max(padded, wc.f)
    ax.set_xlim(-0.1, size + 0.1)
    ax.set_ylim(size + 0.1, -0.1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def window_figure(n: int, f: int, pad: int = 0, stride: int = 1):
    """Draw where a filter fits along one axis and on the 2-D grid; count the windows.

    Parameters
    ----------
    n : int, input size along one axis (>= 1)
    f : int, filter size (>= 1)
    pad : int, zeros added on *each* side (>= 0)
    stride : int, cells the window moves per step (>= 1)

    Returns
    -------
    (fig, info) : a ``matplotlib.figure.Figure`` (not registered with pyplot, so it
        needs no closing) and a :class:`WindowCount` with the counted windows,
        the formula ``floor((n + 2p - f) / s) + 1`` with the numbers filled in,
        and a sentence describing the picture.
    """
    n, f, pad, stride = _check_sizes(n, f, pad, stride)
    wc = _count(n, f, pad, stride)
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    ax_axis, ax_grid = fig.subplots(1, 2, width_ratios=[1.7, 1])
    _draw_axis(ax_axis, wc)
    _draw_grid(ax_grid, wc)
    fig.suptitle(f"output size = {wc.count}" if wc.fits else "no window fits", fontsize=11)
    return fig, wc


def figure_png(fig, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes (for an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# ------------------------------------------------------------------ comparing
def _mistakes(wc: WindowCount) -> list:
    """``(wrong count, hint)`` for typical slips, each counted by placing windows."""
    n, f, p, s = wc.n, wc.f, wc.pad, wc.stride
    out = []
    if s > 1:
        out.append((len(_place(n + 2 * p, f, 1)),
                    "it looks like the stride is ignored: divide (n + 2p - f) by s."))
    if p > 0:
        out.append((len(_place(n, f, s)),
                    "it looks like the padding is missing: the padded input has n + 2p cells."))
        out.append((len(_place(n + p, f, s)),
                    "it looks like the padding is added on one side only: use 2p."))
    out.append((wc.count + 1, "one too many: is the + 1 counted twice, or is the division "
                              "rounded up instead of down?"))
    out.append((wc.count - 1, "one too few: remember the + 1 (the window at position 0 "
                              "counts too)."))
    return out


def compare_with_student(conv_output_size: Callable | None, n: int, f: int, pad: int = 0,
                         stride: int = 1, info: WindowCount | None = None) -> Comparison:
    """Call the student's ``conv_output_size(n, f, pad=pad, stride=stride)`` safely.

    Never raises: a stub, an error or a wrong type each become a :class:`Comparison`
    whose ``text`` says what happened and ``hint`` what to try.
    """
    wc = info if info is not None else _count(*_check_sizes(n, f, pad, stride))
    if conv_output_size is None:
        return Comparison("none", "")
    call = f"conv_output_size({wc.n}, {wc.f}, pad={wc.pad}, stride={wc.stride})"
    try:
        got = conv_output_size(wc.n, wc.f, pad=wc.pad, stride=wc.stride)
    except NotImplementedError:
        return Comparison("not_written", NOT_WRITTEN)
    except Exception as err:  # noqa: BLE001 - the student's code may raise anything
        return Comparison("error", f"your {call} raised {type(err).__name__}: {err}",
                          "run its cell again after fixing it; it should return an int.")
    if not wc.fits:
        return Comparison("no_window", f"your {call} returns {got!r}; no window fits here, "
                          "so there is nothing to count (the formula only describes a size "
                          "when f <= n + 2p).", returned=got)
    try:
        value = float(got)
    except (TypeError, ValueError):
        return Comparison("mismatch", f"your {call} returns {got!r}, which is not a number; "
                          f"{wc.count} windows fit.", "return an int, e.g. with `//`.",
                          returned=got)
    if value == wc.count:
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool):
            return Comparison("match", f"your {call} returns {got}: the same as the "
                              f"{wc.count} windows counted.", returned=got)
        return Comparison("type", f"your {call} returns {got!r}: the right number, but a "
                          f"{type(got).__name__}.", "use floor division `//` so a size is an int.",
                          returned=got)
    hint = ""
    if not value.is_integer():
        hint = ("a size is a whole number of windows: use floor division `//` "
                "(a window that would stick out is not counted).")
    else:
        for wrong, why in _mistakes(wc):
            if wrong != wc.count and value == wrong:
                hint = why
                break
    if not hint:
        hint = ("place the windows by hand: the first starts at 0, the next s cells later, "
                "as long as start + f <= n + 2p.")
    return Comparison("mismatch", f"your {call} returns {got!r}, but {wc.count} "
                      f"window{'s' if wc.count != 1 else ''} fit.", hint, returned=got)


# ------------------------------------------------------------------ the widget
_STATUS_STYLE = {
    "match": ("#1a7f37", "\u2714"),
    "type": ("#9a6700", "\u26a0"),
    "mismatch": ("#cf222e", "\u2718"),
    "error": ("#cf222e", "\u2718"),
    "not_written": ("#57606a", "\u270e"),
    "no_window": ("#57606a", "\u2139"),
}


def summary_html(info: WindowCount, comparison: Comparison) -> str:
    """The text under the sliders: formula, what was counted, the student's result."""
    e = html.escape
    parts = []
    if info.fits:
        parts.append(f"<div><b>Formula:</b> <code>{e(info.formula)}</code></div>")
    else:
        parts.append(f"<div><b>Formula:</b> <code>{e(info.formula)}</code> "
                     "<i>(not a size: no window fits)</i></div>")
    colour = "#1a7f37" if info.fits else "#cf222e"
    parts.append(f"<div style='color:{colour}'><b>Counted by placing windows:</b> "
                 f"{e(info.message)}</div>")
    if comparison.status != "none":
        colour, mark = _STATUS_STYLE[comparison.status]
        line = f"{mark} {e(comparison.text)}"
        if comparison.hint:
            line += f"<br><b>Hint:</b> {e(comparison.hint)}"
        weight = "bold" if comparison.status in ("mismatch", "error") else "normal"
        background = "#ffebe9" if comparison.status in ("mismatch", "error") else "transparent"
        parts.append(f"<div class='explorer-student explorer-{comparison.status}' "
                     f"style='color:{colour};font-weight:{weight};background:{background};"
                     f"padding:2px 4px'>{line}</div>")
    return "\n".join(parts)


@functools.lru_cache(maxsize=None)
def _widget_classes():
    import ipywidgets as widgets

    class OutputSizeExplorer(widgets.VBox):
        """Sliders for n, f, p, s; the picture; the formula; the student's answer."""

        def __init__(self, conv_output_size=None, **values):
            self.student = conv_output_size
            self.sliders = {}
            for key, (low, high, default) in RANGES.items():
                self.sliders[key] = widgets.IntSlider(
                    value=int(values.get(key, default)), min=low, max=high, step=1,
                    description=LABELS[key], continuous_update=False,
                    style={"description_width": "80px"},
                    layout=widgets.Layout(width="300px"))
            self.summary = widgets.HTML()
            self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="900px"))
            self.info = None
            self.comparison = None
            controls = widgets.HBox([
                widgets.VBox([self.sliders["n"], self.sliders["f"]]),
                widgets.VBox([self.sliders["pad"], self.sliders["stride"]]),
            ])
            super().__init__([controls, self.summary, self.image])
            for slider in self.sliders.values():
                slider.observe(self.update, names="value")
            self.update()

        def _repr_mimebundle_(self, **kwargs):
            # Live widget in JupyterLab; the current picture and a one-line summary for
            # static viewers (GitHub, nbviewer, HTML feedback) of an executed notebook.
            bundle = super()._repr_mimebundle_(**kwargs) or {}
            if self.image.value:
                bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
            if self.info is not None:
                i = self.info
                bundle["text/plain"] = (f"output_size_explorer: n={i.n}, f={i.f}, p={i.pad}, "
                                        f"s={i.stride} -> {i.count} window(s); move the "
                                        "sliders in JupyterLab to explore")
            return bundle

        def values(self) -> dict:
            """The current slider values as ``{"n": .., "f": .., "pad": .., "stride": ..}``."""
            return {k: s.value for k, s in self.sliders.items()}

        def update(self, change=None):
            """Redraw for the current slider values (called on every slider change)."""
            v = self.values()
            fig, info = window_figure(v["n"], v["f"], v["pad"], v["stride"])
            self.info = info
            self.comparison = compare_with_student(self.student, info=info, **v)
            # picture first, text second: once the text shows, the picture matches it
            self.image.value = figure_png(fig)
            self.summary.value = summary_html(info, self.comparison)

    return OutputSizeExplorer


def output_size_explorer(conv_output_size: Callable | None = None, **values):
    """Sliders for n (input), f (filter), p (padding) and s (stride) that draw the windows.

    Parameters
    ----------
    conv_output_size : your function ``conv_output_size(n, f, pad=0, stride=1)``,
        optional. When given, its answer is shown next to the counted windows
        (a stub that still raises ``NotImplementedError`` is fine).
    **values : optional starting values ``n=, f=, pad=, stride=``.

    Returns the widget (display it as the last line of a cell). Its ``update()``
    redraws; ``info`` and ``comparison`` hold the latest results.
    """
    unknown = set(values) - set(RANGES)
    if unknown:
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; use n, f, pad, stride")
    return _widget_classes()(conv_output_size, **values)

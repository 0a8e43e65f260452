"""Visible checks for notebook 11: fast convolution (``im2col`` and ``conv_forward_fast``).

The checks use small fixed inputs whose expected outputs are written here as
constants. The outputs of typical ordering mistakes are the expected constants with
their rows or columns permuted (:func:`order_mistakes`), so a failing check can name
the mistake. ``conv_forward_fast`` has the contract of notebook 04's ``conv_forward``,
so it is checked on notebook 04's worked examples and their constants.

How ``conv_forward_fast`` is written is judged from its source, never by timing:
:func:`position_loops` reads the cell that defines it (while grading, the grader
reads that cell from the submitted notebook) and finds every Python loop whose
number of rounds grows with the output positions. No graded function is solved here.
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import conv_layer as conv_checks
from . import core

IM2COL_FORMULA = ("rows = m * n_H * n_W, columns = f * f * n_C, with "
                  "n_H = (n_H_prev + 2*pad - f) // stride + 1 and "
                  "n_W = (n_W_prev + 2*pad - f) // stride + 1")

# ------------------------------------------------------------ likely mistakes
# (shared with grader/references/fast_conv.py, so visible and hidden messages agree)
CHANNEL_FIRST = ("the columns are in channel-first order (channel, window row, window "
                 "column); they must run over (window row, window column, channel), the "
                 "order of W.reshape(-1, n_C). `sliding_window_view(..., axis=(1, 2))` puts "
                 "the window axes last, (m, n_H, n_W, n_C, f, f): move the channel axis "
                 "behind them (`.transpose(0, 1, 2, 4, 5, 3)`) before reshaping.")
WINDOW_TRANSPOSED = ("the window is read column by column: the columns must run over the "
                     "window row first, then the window column, then the channel "
                     "(index (di * f + dj) * n_C + c).")
POSITIONS_COLUMN_MAJOR = ("the output positions are in column-major order (output column "
                          "before output row); row r must be sample i, output row h, output "
                          "column w with r = (i * n_H + h) * n_W + w.")
SAMPLE_LAST = ("the sample index changes fastest down the rows; all the positions of "
               "sample 0 come first: rows in (sample, output row, output column) order.")
WINDOW_FLIPPED = ("the window is read back to front (flipped, as in a mathematical "
                  "convolution): column (di * f + dj) * n_C + c holds "
                  "A_pad[i, h*stride + di, w*stride + dj, c], not the mirrored pixel.")
STRIDE_IGNORED = ("the stride was ignored when cutting the windows: the window of output "
                  "(h, w) starts at row h * stride, column w * stride of the padded input.")
STRIDE_IGNORED_VERTICAL = "the stride was ignored on the vertical axis only (rows h * stride)."
STRIDE_IGNORED_HORIZONTAL = ("the stride was ignored on the horizontal axis only "
                             "(columns w * stride).")
SHAPE_TRANSPOSED = ("the matrix is transposed: one row per output position and one column "
                    "per (window row, window column, channel), (m*n_H*n_W, f*f*n_C).")
SHAPE_NOT_FLAT = ("the windows were not flattened: reshape the (m, n_H, n_W, f, f, n_C) "
                  "array to (m * n_H * n_W, f * f * n_C).")
SHAPE_NOT_FLAT_CF = ("the windows of sliding_window_view, (m, n_H, n_W, n_C, f, f), were "
                     "returned as they are: move the channel axis last, then reshape to "
                     "(m * n_H * n_W, f * f * n_C).")
SHAPE_PER_SAMPLE = ("the batch axis was kept apart: the samples' rows are stacked into one "
                    "matrix of m * n_H * n_W rows.")
SHAPE_NO_CHANNELS = ("each row holds one channel only: a row is the whole window, f * f * n_C "
                     "numbers, all channels of each pixel.")
SHAPE_STRIDE = f"the stride was left out of the number of positions: {IM2COL_FORMULA}."
SHAPE_PAD = f"the padding was ignored (pad the input first): {IM2COL_FORMULA}."
SHAPE_ONE_SIDE = f"the input was padded on one side only; pad both sides: {IM2COL_FORMULA}."

FAST_CHANNELS_MISMATCH = ("the columns of the im2col matrix and the rows of the reshaped W "
                          "are in different orders (channel-first columns): W.reshape(-1, n_C) "
                          "runs over (window row, window column, channel), so the columns "
                          "must too.")
FAST_W_RESHAPE = ("W was reshaped as if the filters came first (`W.reshape(n_C, -1).T`); W has "
                  "shape (f, f, n_C_prev, n_C), so `W.reshape(-1, n_C)` already holds one "
                  "filter per column.")
FAST_ROWS_COLUMN_MAJOR = ("the rows of the product were put back in the wrong order (output "
                          "column before output row): with rows in (sample, output row, output "
                          "column) order, `.reshape(m, n_H, n_W, n_C)` gives Z directly.")
FAST_RESHAPE_TRANSPOSED = ("the product was reshaped to (m, n_W, n_H, n_C) and then transposed; "
                           "its rows are already in (sample, output row, output column) order, "
                           "so `.reshape(m, n_H, n_W, n_C)` is all it needs.")
FAST_NOT_RESHAPED = ("the (m*n_H*n_W, n_C) product was returned as it is: reshape it to "
                     "(m, n_H, n_W, n_C).")
FAST_SWAPPED_HW = "n_H and n_W were swapped in the final reshape: Z is (m, n_H, n_W, n_C)."
POSITION_LOOP = ("a Python loop runs once per output position (or per output row, column, "
                 "example of the batch, or row of the im2col matrix). Let NumPy handle all "
                 "positions in one operation; a loop over the f x f window offsets, the "
                 "channels or the filters is fine.")
OTHER_LIBRARY = ("another library computes the convolution; write it with NumPy (im2col and a "
                 "matrix product, or sliding_window_view and einsum). tf.nn.conv2d is the "
                 "benchmark's yardstick, not an answer.")
OPAQUE_CODE = ("code run through exec/eval cannot be read by the check; write it out in the "
               "function.")


# ------------------------------------------------------------ order mistakes from an answer
def order_mistakes(expected, m, n_H, n_W, f, n_C) -> dict:
    """``{description: output}`` of the ordering mistakes, from the right im2col matrix.

    Each is the right ``(m*n_H*n_W, f*f*n_C)`` matrix with its rows or columns
    permuted (or each window flipped): no window is cut from an input here.
    """
    win = np.asarray(expected, dtype=np.float64).reshape(m, n_H, n_W, f, f, n_C)
    rows = m * n_H * n_W
    return {
        CHANNEL_FIRST: win.transpose(0, 1, 2, 5, 3, 4).reshape(rows, -1),
        WINDOW_TRANSPOSED: win.transpose(0, 1, 2, 4, 3, 5).reshape(rows, -1),
        POSITIONS_COLUMN_MAJOR: win.transpose(0, 2, 1, 3, 4, 5).reshape(rows, -1),
        SAMPLE_LAST: win.transpose(1, 2, 0, 3, 4, 5).reshape(rows, -1),
        WINDOW_FLIPPED: win[:, :, :, ::-1, ::-1, :].reshape(rows, -1),
    }


def column_major_positions(Z) -> np.ndarray:
    """The ``Z`` a fast convolution gives when its rows run over (sample, column, row)
    but are reshaped as (sample, row, column): the right ``Z`` scrambled."""
    Z = np.asarray(Z, dtype=np.float64)
    return Z.transpose(0, 2, 1, 3).reshape(Z.shape)


def transposed_reshape(Z) -> np.ndarray:
    """The ``Z`` that ``rows.reshape(m, n_W, n_H, n_C).transpose(0, 2, 1, 3)`` gives when
    the rows are in the right order: the other way of scrambling the positions."""
    Z = np.asarray(Z, dtype=np.float64)
    m, n_h, n_w, n_c = Z.shape
    return Z.reshape(m, n_w, n_h, n_c).transpose(0, 2, 1, 3)


# ------------------------------------------------------------ how a function is written
#: libraries whose convolutions would do the work instead of the student's NumPy code
OTHER_LIBRARIES = ("tf", "tensorflow", "keras", "torch", "jax", "scipy", "cv2",
                   "conv_forward_tf")
_PER_ELEMENT = ("vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes")
_MAPPERS = ("map", "filter", "starmap", "reduce", "accumulate")
_UNCHECKABLE = ("exec", "eval", "compile", "__import__")
_KEEP_AXES = ("pad", "asarray", "array", "ascontiguousarray", "asanyarray", "copy",
              "astype", "zeros_like", "ones_like", "empty_like", "full_like", "shape")
_NEW_ARRAY = ("zeros", "ones", "empty", "full")
#: A_prev (m, n_H_prev, n_W_prev, n_C_prev): the first three axes grow with the positions
INPUT_AXES = (True, True, True, False)


@dataclass(frozen=True)
class _V:
    """What the analysis knows of a value: does its size grow with the output positions?

    ``axes``: for arrays and tuples (shapes), which axes or elements grow (None:
    unknown, then every one counts as growing when ``grows``).
    """
    grows: bool = False
    axes: tuple | None = None
    kind: str = "value"  # "array", "tuple" or "value"


_CLEAN = _V()


def _join(*vals: _V) -> _V:
    grows = any(v.grows for v in vals)
    kind = "array" if any(v.kind == "array" for v in vals) else "value"
    return _V(grows, None, kind)


def _iter_grows(v: _V) -> bool:
    """Does a loop over ``v`` run more rounds on a larger input?"""
    if v.kind == "tuple":
        return False  # a tuple written in the code has a fixed length
    if v.kind == "array" and v.axes:
        return bool(v.axes[0])
    return v.grows


def _element(v: _V, index: int) -> _V:
    if v.axes is not None and -len(v.axes) <= index < len(v.axes):
        return _V(bool(v.axes[index]))
    return _V(v.grows)


@dataclass
class Finding:
    """One construct that breaks the rule: a loop over output positions (``kind="loop"``),
    a call into another library (``"library"``) or code hidden in exec/eval (``"opaque"``)."""
    function: str
    line: int
    code: str
    why: str
    kind: str = "loop"

    def __str__(self) -> str:
        return (f"  in `{self.function}`, line {self.line} of its cell: `{self.code}`  "
                f"({self.why})")


def cell_source(fn: Callable) -> str | None:
    """The whole cell that defines ``fn`` (see ``core.source_of``), dedented, or None."""
    src = core.source_of(fn)
    return textwrap.dedent(src) if src else None


class _Analysis:
    """Follows the student's functions from an entry point, noting loops over positions."""

    def __init__(self, defs: dict, foreign: set[str]):
        self.defs = defs  # name -> (node, source lines) or ("alias", other name)
        self.foreign = set(OTHER_LIBRARIES) | foreign  # names bound to other libraries
        self.findings: dict[tuple, Finding] = {}
        self.results: dict[tuple, _V] = {}
        self.stack: list[str] = []  # the functions being analysed, innermost last
        self.lines: list[list[str]] = []  # their cells' lines
        self.returned: list[_V | None] = []  # what each of them may return (None: nothing yet)

    # ---------------------------------------------------------------- bookkeeping
    def note(self, node, why: str, kind: str = "loop") -> None:
        name, lines = self.stack[-1], self.lines[-1]
        line = getattr(node, "lineno", 0)
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ast.unparse(node)
        # the last pass knows most about which names grow
        self.findings[(name, line)] = Finding(name, line, text, why, kind)

    def resolve(self, name: str):
        seen = set()
        while name in self.defs and self.defs[name][0] == "alias" and name not in seen:
            seen.add(name)
            name = self.defs[name][1]
        entry = self.defs.get(name)
        return (name, entry) if entry and entry[0] != "alias" else (name, None)

    def call_function(self, name: str, args: list[_V], kwargs: dict) -> _V:
        name, entry = self.resolve(name)
        key = (name, tuple(args), tuple(sorted(kwargs.items())))
        if key in self.results:
            return self.results[key]
        if entry is None or name in self.stack:
            return _join(*args, *kwargs.values())
        node, lines = entry
        self.results[key] = _join(*args, *kwargs.values())  # while it is being analysed
        self.stack.append(name)
        self.lines.append(lines)
        try:
            result = self.body(node, args, kwargs)
        finally:
            self.stack.pop()
            self.lines.pop()
        self.results[key] = result
        return result

    def body(self, node, args: list[_V], kwargs: dict) -> _V:
        env: dict[str, _V] = {}
        spec = node.args
        positional = [a.arg for a in spec.posonlyargs + spec.args]
        for i, pname in enumerate(positional):
            env[pname] = args[i] if i < len(args) else kwargs.get(pname, _CLEAN)
        if spec.vararg:
            env[spec.vararg.arg] = _join(*args[len(positional):])
        for a in spec.kwonlyargs:
            env[a.arg] = kwargs.get(a.arg, _CLEAN)
        if spec.kwarg:
            env[spec.kwarg.arg] = _join(*kwargs.values())
        self.returned.append(None)
        if isinstance(node, ast.Lambda):
            for _ in range(2):
                self.returned[-1] = self.expr(node.body, env)
        else:
            for _ in range(3):  # values flow forward through loops: repeat until stable
                self.block(node.body, env)
        result = self.returned.pop()
        return _CLEAN if result is None else result

    # ---------------------------------------------------------------- statements
    def block(self, stmts, env) -> None:
        for s in stmts:
            self.stmt(s, env)

    def stmt(self, s, env) -> None:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.defs.setdefault(s.name, (s, self.lines[-1]))
        elif isinstance(s, ast.Assign):
            v = self.expr(s.value, env)
            for t in s.targets:
                self.assign(t, v, env)
        elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
            if s.value is not None:
                v = self.expr(s.value, env)
                if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
                    v = _join(env.get(s.target.id, _CLEAN), v)
                self.assign(s.target, v, env)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            it = self.expr(s.iter, env)
            if _iter_grows(it):
                self.note(s, self.why_grows(s.iter, env))
            self.assign(s.target, _V(_iter_grows(it) or it.grows), env)
            self.block(s.body, env)
            self.block(s.orelse, env)
        elif isinstance(s, ast.While):
            if self.expr(s.test, env).grows:
                self.note(s, self.why_grows(s.test, env))
            self.block(s.body, env)
            self.block(s.orelse, env)
        elif isinstance(s, ast.If):
            self.expr(s.test, env)
            self.block(s.body, env)
            self.block(s.orelse, env)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                v = self.expr(item.context_expr, env)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, v, env)
            self.block(s.body, env)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            self.block(s.body, env)
            for h in s.handlers:
                self.block(h.body, env)
            self.block(s.orelse, env)
            self.block(s.finalbody, env)
        elif isinstance(s, ast.Return):
            if s.value is not None:
                v = self.expr(s.value, env)
                self.returned[-1] = v if self.returned[-1] is None else _merge(self.returned[-1], v)
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in s.names] if isinstance(s, ast.Import) else [s.module or ""]
            for module in names:
                if module.split(".")[0] in OTHER_LIBRARIES:
                    self.note(s, f"imports {module}: the convolution must be NumPy code",
                              "library")
        else:
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.expr(child, env)
                elif isinstance(child, ast.stmt):
                    self.stmt(child, env)

    def assign(self, target, v: _V, env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = _merge(env[target.id], v) if target.id in env else v
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            star = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), None)
            for i, e in enumerate(elts):
                if isinstance(e, ast.Starred):
                    self.assign(e.value, _V(v.grows), env)
                elif v.axes is not None and star is None and len(v.axes) == len(elts):
                    self.assign(e, _element(v, i), env)
                elif v.axes is not None and star is not None:
                    self.assign(e, _element(v, i if i < star else i - len(elts)), env)
                else:
                    self.assign(e, _V(v.grows, None, "array" if v.kind == "array" else "value"),
                                env)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, v, env)
        else:  # x[...] = ..., x.attr = ...: the container keeps what it was
            for child in ast.iter_child_nodes(target):
                if isinstance(child, ast.expr):
                    self.expr(child, env)

    # ---------------------------------------------------------------- expressions
    def expr(self, e, env) -> _V:  # noqa: C901 - one case per kind of expression
        if e is None or isinstance(e, ast.Constant):
            return _CLEAN
        if isinstance(e, ast.Name):
            return env.get(e.id, _CLEAN)
        if isinstance(e, ast.Attribute):
            v = self.expr(e.value, env)
            if e.attr == "shape":
                return _V(v.grows, v.axes, "tuple")
            if e.attr in ("ndim", "dtype", "itemsize"):
                return _CLEAN
            if e.attr == "size":
                return _V(v.grows)
            if e.attr == "T":
                return _V(v.grows, tuple(reversed(v.axes)) if v.axes else None, v.kind)
            return _V(v.grows, None, v.kind)
        if isinstance(e, ast.Subscript):
            v = self.expr(e.value, env)
            index = self.expr(e.slice, env)
            sl = e.slice
            if v.kind == "array" and v.axes and isinstance(sl, ast.Constant) \
                    and isinstance(sl.value, int):  # A_prev[0]: one sample
                return _V(any(v.axes[1:]), v.axes[1:], "array")
            if v.kind == "tuple" and v.axes is not None:
                if isinstance(sl, ast.Constant) and isinstance(sl.value, int):
                    return _element(v, sl.value)
                if isinstance(sl, ast.UnaryOp) and isinstance(sl.op, ast.USub) \
                        and isinstance(sl.operand, ast.Constant):
                    return _element(v, -sl.operand.value)
                if isinstance(sl, ast.Slice) and all(
                        x is None or isinstance(x, ast.Constant) for x in (sl.lower, sl.upper,
                                                                           sl.step)):
                    part = v.axes[slice(*(x.value if x is not None else None
                                          for x in (sl.lower, sl.upper, sl.step)))]
                    return _V(any(part), tuple(part), "tuple")
            del index  # evaluated for the calls it may contain
            return _V(v.grows, None, "array" if v.kind == "array" else "value")
        if isinstance(e, ast.Call):
            return self.call(e, env)
        if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
            vals = [self.expr(x, env) for x in e.elts]
            if any(isinstance(x, ast.Starred) for x in e.elts):
                return _join(*vals)
            return _V(any(v.grows for v in vals), tuple(v.grows for v in vals), "tuple")
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = dict(env)
            grows = False
            for gen in e.generators:
                it = self.expr(gen.iter, inner)
                if _iter_grows(it):
                    self.note(e, self.why_grows(gen.iter, inner))
                    grows = True
                self.assign(gen.target, _V(_iter_grows(it) or it.grows), inner)
                for cond in gen.ifs:
                    self.expr(cond, inner)
            parts = [e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt]
            vals = [self.expr(p, inner) for p in parts]
            return _V(grows or any(v.grows for v in vals))
        if isinstance(e, ast.Lambda):
            inner = dict(env)
            for a in e.args.args:
                inner[a.arg] = _CLEAN
            self.expr(e.body, inner)
            return _CLEAN
        if isinstance(e, ast.NamedExpr):
            v = self.expr(e.value, env)
            self.assign(e.target, v, env)
            return v
        if isinstance(e, ast.Starred):
            return self.expr(e.value, env)
        if isinstance(e, (ast.JoinedStr, ast.FormattedValue)):
            return _CLEAN
        vals = [self.expr(c, env) for c in ast.iter_child_nodes(e) if isinstance(c, ast.expr)]
        return _join(*vals) if vals else _CLEAN

    def call(self, e: ast.Call, env) -> _V:  # noqa: C901 - one case per kind of call
        dotted = _dotted(e.func)
        root = dotted.split(".")[0] if dotted else ""
        last = (e.func.attr if isinstance(e.func, ast.Attribute)
                else e.func.id if isinstance(e.func, ast.Name) else "")
        args = [self.expr(a, env) for a in e.args]
        kwargs = {k.arg: self.expr(k.value, env) for k in e.keywords if k.arg}
        for k in e.keywords:
            if not k.arg:
                self.expr(k.value, env)
        every = args + list(kwargs.values())
        if root in self.foreign and root not in env:
            self.note(e, f"calls {dotted}: the convolution must be NumPy code", "library")
        if dotted in _UNCHECKABLE:
            self.note(e, f"uses {dotted}(), so the loops inside cannot be checked", "opaque")
        if last in _PER_ELEMENT:
            self.note(e, f"{last} runs a Python function once per element or row")
        if last in _MAPPERS and any(_iter_grows(a) for a in every):
            self.note(e, f"{last} runs a Python function once per position")
        if isinstance(e.func, ast.Name) and last in self.defs and last not in env:
            return self.call_function(last, args, kwargs)
        # np.zeros(...), range(...): a function of a module or a builtin; else a method
        module_fn = isinstance(e.func, ast.Name) or (bool(dotted) and root not in env)
        receiver = (None if module_fn else self.expr(e.func.value, env)
                    if isinstance(e.func, ast.Attribute) else self.expr(e.func, env))
        base = receiver if receiver is not None else (args[0] if args else _CLEAN)
        if module_fn:
            if last == "len" and args:
                return _CLEAN if base.kind == "tuple" else _V(_iter_grows(base))
            if last in ("range", "ndindex"):
                return _V(any(a.grows for a in every))
            if last in ("list", "tuple") and args and base.kind == "tuple":
                return base
            if last in ("enumerate", "zip", "reversed", "sorted", "list", "tuple", "iter",
                        "product", "set"):
                return _V(any(_iter_grows(a) for a in every))
            if last == "arange":
                grows = any(a.grows for a in every)
                return _V(grows, (grows,), "array")
            if last in _NEW_ARRAY and args:
                shape = base if base.kind == "tuple" else _V(base.grows, (base.grows,), "tuple")
                return _V(shape.grows, shape.axes, "array")
        if last in _KEEP_AXES:
            return _V(base.grows, base.axes, "tuple" if last == "shape" else "array")
        if last == "reshape":
            dims = e.args if receiver is not None else e.args[1:]
            if len(dims) == 1 and isinstance(dims[0], (ast.Tuple, ast.List)):
                dims = dims[0].elts
            axes = tuple(base.grows if _is_minus_one(d) else self.expr(d, env).grows
                         for d in dims)
            return _V(any(axes) or base.grows, axes or None, "array")
        if last == "transpose" and base.axes and dims_are_ints(e.args if receiver is not None
                                                               else e.args[1:]):
            order = [a.value for a in (e.args if receiver is not None else e.args[1:])]
            if sorted(order) == list(range(len(base.axes))):
                return _V(base.grows, tuple(base.axes[i] for i in order), "array")
        vals = every + ([receiver] if receiver is not None else [])
        out = _join(*vals) if vals else _CLEAN
        numpy_fn = module_fn and root in ("np", "numpy")
        return _V(out.grows, None, "array" if out.kind == "array" or numpy_fn else out.kind)

    def why_grows(self, node, env) -> str:
        names = sorted({n.id for n in ast.walk(node)
                        if isinstance(n, ast.Name) and env.get(n.id, _CLEAN).grows})
        if names:
            which = ", ".join(names)
            verb = "depends" if len(names) == 1 else "depend"
            return f"{which} {verb} on the batch or image size of A_prev"
        return "its number of rounds depends on the batch or image size of A_prev"


def _merge(a: _V, b: _V) -> _V:
    """Either value may flow here: what grows in one grows in the merge."""
    if a.axes is not None and b.axes is not None and len(a.axes) == len(b.axes) \
            and a.kind == b.kind:
        return _V(a.grows or b.grows, tuple(x or y for x, y in zip(a.axes, b.axes)), a.kind)
    return _V(a.grows or b.grows, None, a.kind if a.kind == b.kind else "value")


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def dims_are_ints(nodes) -> bool:
    """``x.transpose(0, 2, 1, 3)``: every axis written as an int."""
    return bool(nodes) and all(isinstance(n, ast.Constant) and isinstance(n.value, int)
                               for n in nodes)


def _is_minus_one(node) -> bool:
    return (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and node.operand.value == 1)


def _collect(defs: dict, foreign: set, source: str) -> None:
    """Add the top-level functions (and ``name = other`` aliases) of one cell, and the
    names its imports bind to other libraries (``import tensorflow as t``)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                module = alias.name if isinstance(node, ast.Import) else (node.module or "")
                if module.split(".")[0] in OTHER_LIBRARIES:
                    foreign.add((alias.asname or alias.name).split(".")[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs[node.name] = (node, lines)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(node.value, ast.Name):
                defs[name] = ("alias", node.value.id)
            elif isinstance(node.value, ast.Lambda):
                defs[name] = (node.value, lines)


def position_loops(fn: Callable, *others: Callable) -> list[Finding] | str:
    """Every Python loop over output positions in ``fn`` and the functions it calls.

    ``fn``'s first argument is taken as the input ``A_prev`` ``(m, n_H_prev, n_W_prev,
    n_C_prev)``: sizes read from its first three axes, and everything computed from
    them, grow with the number of output positions; ``f``, the channels, the filters,
    the stride and the padding do not. A ``for`` or ``while`` loop, a comprehension or a
    ``map`` whose number of rounds grows is a finding; so are ``np.vectorize``-style
    per-element calls, TensorFlow/SciPy calls and ``exec``/``eval``. Calls into the
    functions of ``fn``'s own cell and of ``others``' cells are followed with what
    their arguments are; other functions are not judged.

    Returns the findings (empty: none), or a string saying why the source could not
    be judged.
    """
    name = getattr(fn, "__name__", "the function")
    src = cell_source(fn)
    if src is None:
        return f"the source of `{name}` could not be read; define it with `def` in its cell"
    defs: dict = {}
    foreign: set = set()
    for other in others:
        other_src = cell_source(other)
        if other_src:
            try:
                _collect(defs, foreign, other_src)
            except SyntaxError:
                pass
    try:
        _collect(defs, foreign, src)
    except SyntaxError as err:
        return f"the cell that defines `{name}` does not parse: {err}"
    analysis = _Analysis(defs, foreign)
    entry, found = analysis.resolve(name)
    if found is None:
        return (f"no `def {name}(...)` was found in the cell that defines it; "
                "define it with `def` so its loops can be checked")
    params = found[0].args
    n_params = len(params.posonlyargs + params.args)
    inputs = [_V(True, INPUT_AXES, "array")] + [_CLEAN] * max(n_params - 1, 0)
    analysis.call_function(entry, inputs, {})
    return sorted(analysis.findings.values(), key=lambda f: (f.function != entry, f.line))


def require_no_position_loops(fn: Callable, *others: Callable) -> None:
    """Fail, quoting each loop, unless ``fn`` (and what it calls) has no loop over positions."""
    name = getattr(fn, "__name__", "conv_forward_fast")
    found = position_loops(fn, *others)
    if isinstance(found, str):
        core.fail(f"`{name}` could not be checked for loops: {found}.")
    if found:
        kinds = {f.kind for f in found}
        places = f"{len(found)} place{'s' if len(found) > 1 else ''}"
        title = {frozenset({"loop"}): f"`{name}` loops over the output positions in Python "
                                      f"({places}):",
                 frozenset({"library"}): f"`{name}` leaves the convolution to another library "
                                         f"({places}):"}.get(
            frozenset(kinds), f"`{name}` breaks the rule of this notebook ({places}):")
        hints = {"loop": POSITION_LOOP, "library": OTHER_LIBRARY, "opaque": OPAQUE_CODE}
        core.fail(title, *[str(f) for f in found],
                  "(Read from your code, never from timing.)",
                  hint="\n  and: ".join(hints[k] for k in ("loop", "library", "opaque")
                                        if k in kinds))


# ------------------------------------------------------------ fixed inputs
def coded_input(shape) -> np.ndarray:
    """An int batch ``(m, n_H, n_W, n_C)`` whose values say where they sit.

    ``1000 * sample + 100 * (row + 1) + 10 * (column + 1) + (channel + 1)``: 231 is
    row 2, column 3, channel 1 of sample 0 (counting from 1); 0 is only ever padding.
    """
    i, r, c, ch = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    return 1000 * i + 100 * (r + 1) + 10 * (c + 1) + (ch + 1)


def _grouped(shapes: dict) -> dict:
    return core.group_alternatives(shapes)


SHAPE_CASES = [  # (A_prev shape, f, stride, pad, expected shape, {mistake: shape it gives})
    ((1, 3, 4, 2), 2, 1, 0, (6, 8),
     _grouped({SHAPE_TRANSPOSED: (8, 6), SHAPE_NOT_FLAT: (1, 2, 3, 2, 2, 2),
               SHAPE_NOT_FLAT_CF: (1, 2, 3, 2, 2, 2), SHAPE_PER_SAMPLE: (1, 6, 8),
               SHAPE_NO_CHANNELS: (6, 4)})),
    ((2, 5, 7, 3), 3, 2, 1, (24, 27),
     _grouped({SHAPE_TRANSPOSED: (27, 24), SHAPE_NOT_FLAT: (2, 3, 4, 3, 3, 3),
               SHAPE_NOT_FLAT_CF: (2, 3, 4, 3, 3, 3), SHAPE_PER_SAMPLE: (2, 12, 27),
               SHAPE_NO_CHANNELS: (24, 9), SHAPE_STRIDE: (70, 27), SHAPE_PAD: (12, 27),
               SHAPE_ONE_SIDE: (12, 27)})),
    ((3, 6, 4, 1), 2, 3, 2, (27, 4),
     _grouped({SHAPE_TRANSPOSED: (4, 27), SHAPE_NOT_FLAT: (3, 3, 3, 2, 2, 1),
               SHAPE_NOT_FLAT_CF: (3, 3, 3, 1, 2, 2), SHAPE_PER_SAMPLE: (3, 9, 4),
               SHAPE_STRIDE: (189, 4), SHAPE_PAD: (6, 4), SHAPE_ONE_SIDE: (18, 4)})),
]

# ------------------------------------------------------------ expected outputs
# Worked example 1: coded_input((1, 3, 4, 2)), f = 2, stride 1, no padding: 2 x 3
# positions, rows of 2 * 2 * 2 numbers. Row 0 is the window at the top left:
# pixels 11, 12, 21, 22 (row, column), both channels of each.
IM2COL_EXPECTED_1 = np.array([
    [111, 112, 121, 122, 211, 212, 221, 222],
    [121, 122, 131, 132, 221, 222, 231, 232],
    [131, 132, 141, 142, 231, 232, 241, 242],
    [211, 212, 221, 222, 311, 312, 321, 322],
    [221, 222, 231, 232, 321, 322, 331, 332],
    [231, 232, 241, 242, 331, 332, 341, 342]])
# Worked example 2: coded_input((2, 3, 4, 2)), f = 2, stride 2, pad 1: 2 samples of
# 2 x 3 positions; the zeros are padding.
IM2COL_EXPECTED_2 = np.array([
    [0, 0, 0, 0, 0, 0, 111, 112],
    [0, 0, 0, 0, 121, 122, 131, 132],
    [0, 0, 0, 0, 141, 142, 0, 0],
    [0, 0, 211, 212, 0, 0, 311, 312],
    [221, 222, 231, 232, 321, 322, 331, 332],
    [241, 242, 0, 0, 341, 342, 0, 0],
    [0, 0, 0, 0, 0, 0, 1111, 1112],
    [0, 0, 0, 0, 1121, 1122, 1131, 1132],
    [0, 0, 0, 0, 1141, 1142, 0, 0],
    [0, 0, 1211, 1212, 0, 0, 1311, 1312],
    [1221, 1222, 1231, 1232, 1321, 1322, 1331, 1332],
    [1241, 1242, 0, 0, 1341, 1342, 0, 0]])
IM2COL_STRIDE_IGNORED_2 = np.array([  # windows cut one step apart instead of two
    [0, 0, 0, 0, 0, 0, 111, 112],
    [0, 0, 0, 0, 111, 112, 121, 122],
    [0, 0, 0, 0, 121, 122, 131, 132],
    [0, 0, 111, 112, 0, 0, 211, 212],
    [111, 112, 121, 122, 211, 212, 221, 222],
    [121, 122, 131, 132, 221, 222, 231, 232],
    [0, 0, 0, 0, 0, 0, 1111, 1112],
    [0, 0, 0, 0, 1111, 1112, 1121, 1122],
    [0, 0, 0, 0, 1121, 1122, 1131, 1132],
    [0, 0, 1111, 1112, 0, 0, 1211, 1212],
    [1111, 1112, 1121, 1122, 1211, 1212, 1221, 1222],
    [1121, 1122, 1131, 1132, 1221, 1222, 1231, 1232]])
IM2COL_SHAPE_MISTAKES_2 = _grouped({
    SHAPE_TRANSPOSED: (8, 12), SHAPE_NOT_FLAT: (2, 2, 3, 2, 2, 2),
    SHAPE_NOT_FLAT_CF: (2, 2, 3, 2, 2, 2), SHAPE_PER_SAMPLE: (2, 6, 8),
    SHAPE_NO_CHANNELS: (12, 4), SHAPE_STRIDE: (40, 8), SHAPE_PAD: (4, 8),
    SHAPE_ONE_SIDE: (8, 8)})

# conv_forward_fast on notebook 04's worked examples: what the mistakes of the
# matrix-product route give (the right answers are notebook 04's WORKED_Z and SPB_Z)
WORKED_CHANNELS_MISMATCH = np.array([[
    [[4.5, -16.5], [45.5, -13.5], [-1.5, -10.5], [6.5, -7.5]],
    [[19.5, -20.5], [-5.5, 4.5], [-8.5, -3.5], [-11.5, 43.5]],
    [[45.5, -13.5], [-1.5, -10.5], [6.5, -7.5], [-18.5, 17.5]],
    [[-5.5, 4.5], [-8.5, -3.5], [-11.5, 43.5], [-14.5, 2.5]]]])
WORKED_W_RESHAPE = np.array([[
    [[-56.5, -46.5], [-79.5, 9.5], [-36.5, 32.5], [-4.5, 44.5]],
    [[58.5, 25.5], [46.5, -6.5], [34.5, -38.5], [11.5, -81.5]],
    [[-79.5, 9.5], [-36.5, 32.5], [-4.5, 44.5], [27.5, 56.5]],
    [[46.5, -6.5], [34.5, -38.5], [11.5, -81.5], [-44.5, -58.5]]]])
SPB_CHANNELS_MISMATCH = np.array([
    [[[3, 9, -0.5], [1, -1, 2.5], [0, -31, 20.5]],
     [[-29, 32, 21.5], [33, 9, -9.5], [-11, -2, -1.5]]],
    [[[0, 11, -0.5], [1, -24, 12.5], [3, -30, 19.5]],
     [[11, -14, 15.5], [0, -27, 14.5], [-14, -1, 3.5]]]])
SPB_W_RESHAPE = np.array([
    [[[-13, 6, -4.5], [-9, 6, 5.5], [15, -9, 0.5]],
     [[6, -7, -7.5], [-29, -11, 12.5], [-1, -19, 10.5]]],
    [[[-13, 5, 0.5], [14, -14, 5.5], [12, -6, -4.5]],
     [[-19, -19, 7.5], [-14, -29, 24.5], [-7, -16, 8.5]]]])


SPB_SHAPE_MISTAKES = {  # notebook 04's batch example: Z is (2, 2, 3, 3)
    conv_checks.SHAPE_STRIDE: (2, 4, 5, 3), conv_checks.SHAPE_PAD: (2, 1, 2, 3),
    conv_checks.SHAPE_ONE_SIDE: (2, 2, 2, 3), conv_checks.SHAPE_CHANNELS: (2, 2, 3, 2),
    conv_checks.SHAPE_NO_BATCH: (2, 3, 3), FAST_NOT_RESHAPED: (12, 3),
    FAST_SWAPPED_HW: (2, 3, 2, 3)}


def _fast_mistakes(expected, channels_mismatch, w_reshape, base: dict) -> dict:
    return core.group_alternatives({
        **base, FAST_CHANNELS_MISMATCH: channels_mismatch, FAST_W_RESHAPE: w_reshape,
        FAST_ROWS_COLUMN_MAJOR: column_major_positions(expected),
        FAST_RESHAPE_TRANSPOSED: transposed_reshape(expected)})


def _fast_batch_example(conv_forward_fast) -> None:
    """Notebook 04's batch example (stride 2, pad 1): shape (with its mistakes), values."""
    A, W, b, hp = conv_checks.stride_pad_batch_inputs()
    Z, _ = conv_checks.unpack_forward(conv_checks.call_forward(
        conv_forward_fast, A, W, b, hp, name="conv_forward_fast"), "conv_forward_fast")
    expected = conv_checks.SPB_Z
    core.check_shape(core.as_array(Z, "conv_forward_fast (Z)"), expected.shape,
                     "conv_forward_fast (Z)", {"A_prev": A, "W": W, "b": b, "hparameters": hp},
                     {**SPB_SHAPE_MISTAKES, **conv_checks.hard_coded_shapes(expected.shape)},
                     formula=conv_checks.SIZE_FORMULA)
    conv_checks._forward_values(
        conv_forward_fast, A, W, b, hp, expected,
        _fast_mistakes(expected, SPB_CHANNELS_MISMATCH, SPB_W_RESHAPE, conv_checks.SPB_MISTAKES),
        "notebook 04's batch of two 4x5x2 examples, stride 2, pad 1", name="conv_forward_fast")


# ------------------------------------------------------------ the visible checks
def _im2col_values(im2col, shape, f, stride, pad, positions, expected, extra: dict,
                   shape_mistakes, case: str) -> None:
    """``positions``: the example's ``(n_H, n_W)``, written out with it."""
    A = coded_input(shape)
    m, (n_h, n_w) = shape[0], positions
    inputs = {"A_prev": A, "f": f, "stride": stride, "pad": pad}
    out = core.call(im2col, A, f, stride, pad, name="im2col")
    arr = core.as_array(out, "im2col")
    core.check_shape(arr, expected.shape, "im2col", inputs, shape_mistakes,
                     formula=IM2COL_FORMULA)
    mistakes = core.group_alternatives({**order_mistakes(expected, m, n_h, n_w, f, shape[3]),
                                        **extra})
    core.check_array(arr, expected, "im2col", inputs=inputs, mistakes=mistakes, case=case)


def im2col_shapes(im2col) -> None:
    """Shape ``(m*n_H*n_W, f*f*n_C)`` on three fixed cases (batches, strides, padding)."""
    for shape, f, stride, pad, expected, shape_mistakes in SHAPE_CASES:
        A = coded_input(shape)
        out = core.call(im2col, A, f, stride, pad, name="im2col")
        core.check_shape(core.as_array(out, "im2col"), expected, "im2col",
                         {"A_prev": A, "f": f, "stride": stride, "pad": pad}, shape_mistakes,
                         formula=IM2COL_FORMULA)
    core.passed(f"im2col: right shapes on {len(SHAPE_CASES)} cases, e.g. (1, 3, 4, 2) with "
                "f = 2 -> (6, 8)")


def im2col_worked_example(im2col) -> None:
    """Rows and columns in order on the coded (1, 3, 4, 2) input, f = 2."""
    _im2col_values(im2col, (1, 3, 4, 2), 2, 1, 0, (2, 3), IM2COL_EXPECTED_1, {},
                   SHAPE_CASES[0][5],
                   "the coded (1, 3, 4, 2) input, f = 2, stride 1, no padding")
    core.passed("im2col: rows in (sample, output row, output column) order, columns in "
                "(window row, window column, channel) order")


def im2col_stride_pad(im2col) -> None:
    """Values on the coded (2, 3, 4, 2) batch with f = 2, stride 2 and pad 1."""
    _im2col_values(im2col, (2, 3, 4, 2), 2, 2, 1, (2, 3), IM2COL_EXPECTED_2,
                   {STRIDE_IGNORED: IM2COL_STRIDE_IGNORED_2}, IM2COL_SHAPE_MISTAKES_2,
                   "the coded (2, 3, 4, 2) batch, f = 2, stride 2, pad 1")
    core.passed("im2col: right windows with a batch, stride 2 and pad 1")


def conv_forward_fast_shapes(conv_forward_fast) -> None:
    """Shapes of Z and the cache on notebook 04's four shape cases."""
    conv_checks.conv_forward_shapes(conv_forward_fast, name="conv_forward_fast")


def conv_forward_fast_worked_examples(conv_forward_fast) -> None:
    """Notebook 04's two worked examples: the 6x6x3 image, and a batch with stride 2, pad 1."""
    A, W, b = conv_checks.worked_example_inputs()
    conv_checks._forward_values(
        conv_forward_fast, A, W, b, {"stride": 1, "pad": 0}, conv_checks.WORKED_Z,
        _fast_mistakes(conv_checks.WORKED_Z, WORKED_CHANNELS_MISMATCH, WORKED_W_RESHAPE,
                       conv_checks.WORKED_MISTAKES),
        "notebook 04's 6x6x3 worked example", name="conv_forward_fast")
    _fast_batch_example(conv_forward_fast)
    core.passed("conv_forward_fast: the same values as notebook 04 on both worked examples")


def conv_forward_fast_no_position_loops(conv_forward_fast, *others) -> None:
    """Right on notebook 04's batch example, and no Python loop over output positions."""
    _fast_batch_example(conv_forward_fast)
    require_no_position_loops(conv_forward_fast, *others)
    core.passed("conv_forward_fast: right values and no Python loop over output positions")

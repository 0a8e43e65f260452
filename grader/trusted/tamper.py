"""Tamper detection for graded notebooks: a submission may not change the tests' tools.

Test cells compare a student's function with references through NumPy, the
visible checks (``utils.checks.*``) and the hidden-test helpers
(``grader.references.*``). A submission that replaces one of them
(``np.allclose = lambda *a, **k: True``, ``check.check_array = ...``, a fake module
in ``sys.modules``) could make every test pass. Two independent defences:

1. :func:`scan_source` reads the student's own cells before anything runs and
   finds assignments to, or ``setattr``/``del`` on, those modules, the course's
   names, ``sys.modules``, builtins, function internals (``__code__``) or the
   IPython shell.
2. In the kernel, :func:`install` (run by an injected first cell) imports the
   modules the tests use and records the identity of every attribute; before
   each test cell :func:`verify` compares them again and raises
   :class:`TamperError`, so that test fails with the reason. Names that the
   locked setup cell bound to modules (``check``, ``np``) are checked too.

Either finding scores the affected tests zero and the reason appears in the
feedback and the grades CSV. This is tamper *detection* for ordinary Python
code; it is not a security boundary against a determined attacker (the
sandbox, :mod:`grader.trusted.sandbox`, limits what the process can touch).
"""
from __future__ import annotations

import ast
import builtins
import importlib
import re
import sys
import types

#: modules whose attributes the guard watches (plus what the notebook's tests import)
WATCHED = ["builtins", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
           "utils.checks.core", "grader.trusted.tamper"]
#: for these modules only the listed attributes are watched (ipykernel itself swaps
#: ``builtins.input`` for every execution)
ONLY = {"builtins": {"__import__", "isinstance", "issubclass", "len", "abs", "sum", "min", "max",
                     "range", "float", "int", "round", "type", "getattr", "hasattr", "all",
                     "any", "zip", "map", "sorted", "tuple", "list", "dict", "set", "bool",
                     "str", "repr", "Exception", "AssertionError", "BaseException",
                     "NotImplementedError", "exec", "eval", "compile", "callable", "iter",
                     "next", "enumerate", "__build_class__"}}
#: names a student cell may not assign into, whatever they are bound to
PROTECTED_ROOTS = {"np", "numpy", "sys", "builtins", "__builtins__", "check", "checks",
                   "core", "hidden", "utils", "grader", "importlib", "IPython"}
INTERNALS = {"__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
             "__builtins__", "__import__"}
IMPORT_RE = re.compile(r"^\s*(?:from\s+((?:utils|grader)\.[\w.]+)\s+import\s+([\w, ]+)"
                       r"|import\s+((?:utils|grader)\.[\w.]+))", re.M)


class TamperError(AssertionError):
    """A submission changed NumPy, a check helper or the test machinery."""


# ------------------------------------------------------------------ static scan
def course_modules(sources: list[str]) -> list[str]:
    """Course modules that cells import (``utils.checks.edges``, ``grader.references.edges``)."""
    found = []
    for src in sources:
        for m in IMPORT_RE.finditer(src):
            if m.group(1):
                base = m.group(1)
                found.append(base)
                for name in m.group(2).split(","):
                    name = name.strip().split(" ")[0]
                    if name:
                        found.append(f"{base}.{name}")
            elif m.group(3):
                found.append(m.group(3))
    return sorted(set(found))


def _root(node) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _dotted(node) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001
        return "?"


def _is_get_ipython(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "get_ipython")


def scan_source(source: str, protected: set[str] | None = None) -> list[str]:
    """Lines of ``source`` that change NumPy, the checks or the test machinery.

    ``protected`` adds names (e.g. those the locked setup cell imports).
    Source that does not parse (IPython magics) is scanned line by line.
    """
    names = PROTECTED_ROOTS | set(protected or ())
    try:
        tree = ast.parse(source)
    except SyntaxError:
        kept = "\n".join(line if not line.lstrip().startswith(("%", "!")) else ""
                         for line in source.splitlines())
        try:
            tree = ast.parse(kept)
        except SyntaxError:
            return []
    found = []

    def flag(node, what):
        found.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    def check_target(target, verb):
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                check_target(elt, verb)
            return
        if isinstance(target, ast.Attribute) and target.attr in INTERNALS:
            flag(target, f"{verb} `{_dotted(target)}` (a function's internals)")
            return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root(target)
            if isinstance(root, ast.Name) and root.id in names:
                flag(target, f"{verb} `{_dotted(target)}`")
            elif _is_get_ipython(root):
                flag(target, f"{verb} `{_dotted(target)}` (the IPython shell)")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                check_target(t, "assigns to")
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.target is not None:
            check_target(node.target, "assigns to")
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                check_target(t, "deletes")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("setattr", "delattr") and node.args:
            target = node.args[0]
            root = _root(target)
            if (isinstance(root, ast.Name) and root.id in names) or _is_get_ipython(root) \
                    or (len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                        and node.args[1].value in INTERNALS):
                flag(node, f"calls {node.func.id}() on `{_dotted(target)}`")
    return found


# ------------------------------------------------------------------ in-kernel guard
_STATE: dict = {}


def _fingerprint(obj):
    code = getattr(obj, "__code__", None)
    return (id(obj), id(code) if code is not None else 0,
            id(getattr(obj, "__defaults__", None)), id(getattr(obj, "__kwdefaults__", None)))


def _module_table(mod) -> dict:
    table = {}
    only = ONLY.get(getattr(mod, "__name__", ""))
    for name, value in list(vars(mod).items()):
        if only is not None and name not in only:
            continue
        if name.startswith("_") and name not in ("__import__", "__build_class__"):
            continue  # private state (and IPython's `_` result cache) may change
        table[name] = _fingerprint(value)
        if isinstance(value, type) and getattr(value, "__module__", "").startswith(
                ("utils.", "grader.")):
            for attr, member in list(vars(value).items()):
                if not attr.startswith("__"):
                    table[f"{name}.{attr}"] = _fingerprint(member)
    return table


def install(extra_modules=()) -> None:
    """Import the watched modules and record what every attribute is."""
    mods = {}
    for name in list(WATCHED) + list(extra_modules):
        try:
            mods[name] = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a helper module that fails to import fails its tests
            continue
    _STATE["modules"] = mods
    _STATE["tables"] = {name: _module_table(mod) for name, mod in mods.items()}
    _STATE["bindings"] = {}
    _STATE["findings"] = []


def bind(namespace: dict) -> None:
    """Record the module objects a locked (course) cell bound in the notebook namespace."""
    for name, value in list(namespace.items()):
        if isinstance(value, types.ModuleType) and not name.startswith("_"):
            _STATE.setdefault("bindings", {})[name] = value


def _changes() -> list[str]:
    changes = []
    mods = _STATE.get("modules", {})
    for name, mod in mods.items():
        if sys.modules.get(name) is not mod:
            changes.append(f"sys.modules['{name}'] was replaced")
            continue
        old = _STATE["tables"][name]
        new = _module_table(mod)
        for attr, fp in old.items():
            if new.get(attr) != fp:
                label = "numpy" if name == "numpy" else name
                changes.append(f"{label}.{attr} was {'removed' if attr not in new else 'replaced'}")
    return changes


def verify(namespace: dict | None = None) -> None:
    """Raise :class:`TamperError` when a watched function or module was changed."""
    if not _STATE:
        return
    changes = _changes()
    for name, mod in _STATE.get("bindings", {}).items():
        if namespace is not None and name in namespace and namespace[name] is not mod:
            changes.append(f"the name `{name}` (module {mod.__name__}) was rebound "
                           "by the notebook's own code")
    if changes:
        shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
        _STATE.setdefault("findings", []).append(shown)
        raise TamperError(
            "Tampering detected: the submission changed what the tests rely on "
            f"({shown}). Tests that run after this score 0.")


def preamble(modules: list[str], token: str) -> str:
    """Source of the injected first cell (``token`` names the guard in the namespace)."""
    return (f"import grader.trusted.tamper as {token}\n"
            f"{token}.install({modules!r})\n"
            f"del {token}\n"
            f"globals()['{token}'] = __import__('sys').modules['grader.trusted.tamper']")


def verify_line(token: str) -> str:
    """The line injected at the top of each test cell."""
    return f"{token}.verify(globals())  # cnn-grading-guard"


def bind_line(token: str) -> str:
    """The line injected at the end of each locked setup cell."""
    return f"{token}.bind(globals())  # cnn-grading-guard"


def strip_injected(source: str) -> str:
    """Remove the injected guard lines from a cell's source (for the saved notebook)."""
    return "\n".join(line for line in source.splitlines()
                     if not line.rstrip().endswith("# cnn-grading-guard"))


# keep a reference so `from grader.trusted.tamper import *` style lookups stay stable
_builtins = builtins

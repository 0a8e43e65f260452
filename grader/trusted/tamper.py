"""Name attempts to tamper with grading, found in a submission's own code.

Verdicts never depend on the student's kernel (:mod:`grader.trusted.verdicts`), so
changing NumPy, the checks or IPython inside the kernel gains nothing. Such code
is still a breach of the rules, and the instructor should hear of it: this scan
reads the student's cells (never runs them) and lists lines that

* assign to, delete or ``setattr`` on NumPy, the check helpers, the course's
  packages, ``sys``/``builtins``/``importlib``, or a function's internals
  (``__code__``, ``__globals__``);
* reprogram IPython: input or AST transformers, ``run_cell``, execution events,
  custom exception handlers, the display publisher;
* reach into module dictionaries (``vars(np)[...] = ``, ``sys.modules[...] = ``).

Each finding is named in the feedback and the grades CSV, and the notebook's tests
score 0 (:class:`grader.trusted.preprocessors.ApplyFindings`).
"""
from __future__ import annotations

import ast

#: names a student cell may not assign into, whatever they are bound to
PROTECTED_ROOTS = {"np", "numpy", "sys", "builtins", "__builtins__", "check", "checks",
                   "core", "hidden", "utils", "grader", "grader_kernel", "importlib", "IPython"}
INTERNALS = {"__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
             "__builtins__", "__import__"}
#: IPython machinery a notebook has no business changing while it is graded
SHELL_HOOKS = {"input_transformers_post", "input_transformers_cleanup", "ast_transformers",
               "events", "run_cell", "run_cell_async", "run_ast_nodes", "transform_cell",
               "set_custom_exc", "display_pub", "displayhook", "showtraceback",
               "register_magic_function", "input_transformer_manager", "excepthook"}


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


def _is_module_lookup(node) -> bool:
    """``__import__(...)``, ``importlib.import_module(...)``, ``sys.modules[...]``, ``vars(...)``."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("__import__", "vars", "globals"):
            return True
        if isinstance(func, ast.Attribute) and func.attr == "import_module":
            return True
    return False


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
            elif isinstance(target, ast.Attribute) and _is_module_lookup(root):
                flag(target, f"{verb} `{_dotted(target)}` (an imported module)")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("exec", "eval", "compile") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            for inner in scan_source(node.args[0].value, protected):
                flag(node, f"runs code that {inner.split(': ', 1)[-1]}")
            continue
        if isinstance(node, ast.Attribute) and node.attr in SHELL_HOOKS:
            flag(node, f"uses `{_dotted(node)}` (IPython's execution machinery)")
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node.value
            if isinstance(root, ast.Call) and isinstance(root.func, ast.Name) \
                    and root.func.id == "vars" and root.args:
                flag(node, f"writes into `{_dotted(node)}` (a module's dictionary)")
                continue
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
                    or _is_module_lookup(root) \
                    or (len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                        and node.args[1].value in INTERNALS):
                flag(node, f"calls {node.func.id}() on `{_dotted(target)}`")
    return found

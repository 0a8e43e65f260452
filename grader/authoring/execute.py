"""Run a notebook top to bottom in a fresh kernel (nbclient), as tests and tools do."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(nb: nbformat.NotebookNode, cwd: str | os.PathLike, *, timeout: int = 600,
            allow_errors: bool = False, env: dict | None = None) -> nbformat.NotebookNode:
    """Execute ``nb`` in place in a new ``python3`` kernel started in ``cwd``.

    ``env`` adds environment variables for the kernel (e.g. ``MPLBACKEND``).
    With ``allow_errors=False`` the first failing cell raises
    ``nbclient.exceptions.CellExecutionError`` naming the cell and its traceback.
    Per-cell timing metadata is not recorded, so re-executed notebooks diff cleanly.
    """
    kernel_env = dict(os.environ)
    kernel_env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    kernel_env.update(env or {})
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors, record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    # nbclient passes env through to the kernel manager's launch.
    client.execute(env=kernel_env)
    return nb


def execute_file(path: str | os.PathLike, *, save: bool = False, **kwargs) -> nbformat.NotebookNode:
    """Read, execute (in the notebook's own folder) and optionally save a notebook."""
    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    execute(nb, path.parent, **kwargs)
    if save:
        nbformat.write(nb, str(path))
    return nb


def errors(nb: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    """``(cell index, exception name, exception value)`` for each cell that raised."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, out.get("ename", ""), out.get("evalue", "")))
    return found

"""Results the grader may compute once and reuse: a small disk cache in the grading build.

Used for work whose outcome the grader alone decides from data it holds, such as a
learning check that trains the student's rebuilt model on fixed data
(:func:`utils.checks.keras_mnist.set_training_cache`): two students whose models have
the same architecture, compile settings and initial weights get the result of one
training run. The folder lies outside every kernel's reach (the sandbox lets kernels
read only their scratch copy and the course's student-side packages), and each entry
is written atomically, so parallel workers can share it.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


class DiskCache:
    """``get(key)`` / ``put(key, value)`` of JSON values, in memory and under ``folder``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, object] = {}

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"cache keys are hex digests, not {key!r}")
        return self.folder / f"{key}.json"

    def get(self, key: str):
        if key in self._memory:
            return self._memory[key]
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self._memory[key] = value
        return value

    def put(self, key: str, value) -> None:
        self._memory[key] = value
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
        os.replace(tmp, self._path(key))

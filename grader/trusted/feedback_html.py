"""The HTML exporter behind the feedback pages: nbconvert's, with compiled templates kept.

nbgrader builds a new ``HTMLExporter`` for every student's ``generate_feedback``,
and each new exporter parses and compiles the same Jinja templates again (about
0.1 s per page, a tenth of the feedback phase). :class:`FeedbackHTMLExporter`
gives every exporter in a worker process one in-memory Jinja bytecode cache, so a
template is compiled once per worker. Jinja checks each template's source file
on every load, so an edited template is compiled afresh; the pages are the same.
"""
from __future__ import annotations

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter


class MemoryBytecodeCache(BytecodeCache):
    """Jinja's compiled templates, kept in this process (keyed by name and source checksum)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


TEMPLATES = MemoryBytecodeCache()


class FeedbackHTMLExporter(HTMLExporter):
    """``HTMLExporter`` whose Jinja environment shares :data:`TEMPLATES`."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = TEMPLATES
        return environment

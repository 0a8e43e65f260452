"""The grader's end of a graded test: stand-ins for the names a student's notebook defines.

A test cell runs in the grader's process (:mod:`grader.trusted.verdicts`). Each name
it reads from the student's notebook is bound here:

* a function becomes a :class:`RemoteFunction`. Calling it encodes the arguments
  (:mod:`grader_kernel.wire`), sends them through a :class:`Channel` to the
  kernel's collector, and decodes the reply. An exception the student's code raised
  is raised again here as the nearest built-in class (with their message and
  frames); in-place changes to array, list and dict arguments are copied back;
* a constant is fetched once and decoded.

Two channels: :class:`LocalChannel` calls the collector in this process (tests),
and :class:`grader.trusted.preprocessors.KernelChannel` sends each request to
the sandboxed kernel through nbclient while a notebook is graded.

The kernel is lost or too slow: :class:`KernelLost` and :class:`CallTimeout` derive
from ``BaseException``, so no ``except Exception`` in a check can turn them into
an ordinary wrong answer; the verdict runner fails the test with the reason.
"""
from __future__ import annotations

import builtins
import inspect
import secrets
import warnings
from typing import Any

import numpy as np

from grader_kernel import collector, wire


class KernelLost(BaseException):
    """The kernel died or stopped answering; no later cell can run."""


class CallTimeout(BaseException):
    """One call to the student's function ran past its time limit (it was interrupted)."""


class RemoteProtocolError(BaseException):
    """The kernel's reply was missing, malformed or for another request."""


class Channel:
    """Carries one request (a dict) to the kernel's collector and returns its reply."""

    def exchange(self, request: dict) -> dict:  # pragma: no cover - interface
        raise NotImplementedError


class LocalChannel(Channel):
    """The collector in this process, on ``namespace`` (tests use it instead of a kernel).

    Requests and replies go through the same JSON text as with a kernel, so what a
    test sees is exactly what the grader would decode.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def exchange(self, request: dict) -> dict:
        request = wire.loads(wire.dumps(request))
        reply = collector.handle(request, self.namespace)
        return wire.loads(wire.dumps(reply))


class RemoteBaseError(Exception):
    """Stands for a student exception that is not an ``Exception`` (``SystemExit``)."""


_EXCEPTION_CLASSES: dict[str, type] = {}


def _rebuild_exception(raised: dict) -> BaseException:
    """The student's exception as the nearest built-in class, with message and frames."""
    message = str(raised.get("message", ""))
    name = str(raised.get("type", "Exception"))
    err: BaseException | None = None
    for base in raised.get("mro", []):
        cls = getattr(builtins, str(base), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                err = cls(message) if cls.__name__ == name else _named(name, cls)(message)
            except TypeError:  # e.g. UnicodeDecodeError needs five arguments
                continue
            break
    if err is None:
        err = _named(name, RemoteBaseError)(message)
    err._cnn_student_frames = [tuple(f) for f in raised.get("traceback", [])]
    return err


def _named(name: str, base: type) -> type:
    """A subclass of ``base`` whose name is the student's exception's name."""
    safe = name if name.isidentifier() else base.__name__
    key = f"{base.__name__}.{safe}"
    if key not in _EXCEPTION_CLASSES:
        try:
            _EXCEPTION_CLASSES[key] = type(safe, (base,), {})
        except TypeError:
            _EXCEPTION_CLASSES[key] = base
    return _EXCEPTION_CLASSES[key]


def _signature(spec: list) -> inspect.Signature | None:
    """A signature with the student's parameter names (defaults shown as ``...``)."""
    params = []
    try:
        for name, kind, has_default in spec:
            params.append(inspect.Parameter(
                str(name), getattr(inspect.Parameter, str(kind)),
                default=Ellipsis if has_default else inspect.Parameter.empty))
        return inspect.Signature(params)
    except (ValueError, TypeError, AttributeError):
        return None


class RemoteFunction:
    """Calls the student's function of this name in the kernel; looks like a function."""

    def __init__(self, remote: "Remote", name: str, signature: list | None = None,
                 source: str | None = None):
        self._remote = remote
        self.__name__ = self.__qualname__ = name
        #: the source of the submitted cell that defines this name, read by the grader
        #: from the notebook file (never from the kernel); see ``core.source_of``
        self.__cnn_source__ = source
        sig = _signature(signature or [])
        if sig is not None:
            self.__signature__ = sig

    def __call__(self, *args, **kwargs):
        return self._remote.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (in the student's notebook)>"


class Remote:
    """One notebook's session with the kernel: bindings, identities, placeholders."""

    def __init__(self, channel: Channel, sources: dict[str, str] | None = None):
        self.channel = channel
        self.sources = dict(sources or {})
        self._keras_inputs: dict[int, Any] = {}
        self._refs: dict[int, int] = {}
        self.decoder = wire.Decoder(keras_inputs=self._keras_inputs)
        self._functions: dict[int, RemoteFunction] = {}
        self.calls = 0

    # ------------------------------------------------------------ requests
    def _exchange(self, request: dict) -> dict:
        request = dict(request, v=collector.PROTOCOL, nonce=secrets.token_hex(12))
        reply = self.channel.exchange(request)
        if not isinstance(reply, dict) or reply.get("nonce") != request["nonce"]:
            raise RemoteProtocolError("the kernel's reply did not answer the grader's request")
        if reply.get("status") == "error":
            raise RemoteProtocolError(str(reply.get("message", "the kernel could not answer")))
        return reply

    def ping(self) -> None:
        """Raise unless the kernel still runs the grader's requests and answers them."""
        self._exchange({"op": "ping"})

    def bind(self, names) -> dict[str, Any]:
        """What each of ``names`` is in the student's notebook (missing names are left out)."""
        names = sorted(set(names))
        if not names:
            return {}
        reply = self._exchange({"op": "lookup", "names": names})
        found = reply.get("names")
        if not isinstance(found, dict):
            raise RemoteProtocolError("the kernel's reply to a lookup had no names")
        bound: dict[str, Any] = {}
        for name in names:
            entry = found.get(name)
            if not isinstance(entry, dict):
                continue
            kind = entry.get("kind")
            if kind == "callable":
                bound[name] = RemoteFunction(self, name, entry.get("signature"),
                                             self.sources.get(name))
            elif kind == "value":
                bound[name] = self.decoder.decode(entry.get("value"))
            elif kind == "error":
                bound[name] = wire.Opaque("unsendable", "", str(entry.get("message", "")))
        return bound

    def _placeholder(self, tensor) -> dict:
        ref = self._refs.setdefault(id(tensor), len(self._refs) + 1)
        self._keras_inputs[ref] = tensor
        return wire.keras_input_tree(tensor, ref)

    def call(self, name: str, args: tuple, kwargs: dict):
        """Call the student's ``name`` on ``args`` in the kernel; return the decoded result."""
        self.calls += 1
        request = {"op": "call", "name": name,
                   "args": wire.encode(tuple(args), placeholder=self._placeholder),
                   "kwargs": wire.encode(dict(kwargs), placeholder=self._placeholder)}
        reply = self._exchange(request)
        status = reply.get("status")
        if status == "missing":
            raise NameError(f"name '{name}' is not defined (its cell has not run, or the "
                            "notebook deleted it)")
        if status == "raised":
            raise _rebuild_exception(reply.get("raised") or {})
        if status != "ok":
            raise RemoteProtocolError(f"the kernel answered {status!r}")
        for text in reply.get("warnings", [])[:5]:
            # the student's warnings, shown by core.call as a note (they cost no points)
            name, _, message = str(text)[:300].partition(": ")
            category = getattr(builtins, name, None)
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category, message = UserWarning, str(text)[:300]
            warnings.warn(message, category, stacklevel=2)
        result = self.decoder.decode(reply.get("result"))
        after_args = self.decoder.decode(reply.get("args", []))
        after_kwargs = self.decoder.decode(reply.get("kwargs", {"__dict__": []}))
        if isinstance(after_args, list):
            for mine, theirs in zip(args, after_args):
                _mirror(mine, theirs)
        if isinstance(after_kwargs, dict):
            for key, mine in kwargs.items():
                if key in after_kwargs:
                    _mirror(mine, after_kwargs[key])
        return result


def defining_sources(cell_sources: list[str]) -> dict[str, str]:
    """``{name: source of the last cell that defines it at top level}`` (functions, classes, names).

    Read from the submitted notebook by the grader, so a test can judge *how* a
    function is written (e.g. "no Python loop over output positions") from code the
    kernel cannot change after the fact.
    """
    import ast
    found: dict[str, str] = {}
    for src in cell_sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = src
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        found[t.id] = src
    return found


def _mirror(mine: Any, theirs: Any) -> None:
    """Copy an in-place change the student's function made into the grader's argument."""
    if isinstance(mine, np.ndarray):
        if isinstance(theirs, np.ndarray) and theirs.shape == mine.shape \
                and not np.array_equal(mine, theirs, equal_nan=True) and mine.flags.writeable:
            np.copyto(mine, theirs, casting="unsafe")
    elif type(mine) is dict and isinstance(theirs, dict):
        same = len(mine) == len(theirs) and all(k in theirs and _same(mine[k], theirs[k])
                                                for k in mine)
        if not same:
            mine.clear()
            mine.update(theirs)
    elif type(mine) is list and isinstance(theirs, list):
        if len(mine) != len(theirs) or not all(_same(a, b) for a, b in zip(mine, theirs)):
            mine[:] = theirs


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True)))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False

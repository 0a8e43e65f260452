"""The kernel's end of a graded test: call the student's function when the grader asks.

The grader's process runs each test cell itself. Whenever the test calls one of
the student's functions, the grader asks the kernel to evaluate one expression (a
*user expression* of an otherwise empty, silent execute request)::

    __import__("grader_kernel.collector", fromlist=["answer"]).answer("<base64 request>")

:func:`answer` decodes the request, looks the name up in the notebook's namespace,
calls it on the decoded arguments, and returns the reply as the expression's value,
whose only representation is MIME type :data:`REPLY_MIME`: the reply travels back in
the execute reply itself, one round trip. (:func:`serve` publishes the same reply as
a ``display_data`` output instead, for a cell.) The reply carries the request's nonce, the
encoded result (or the exception the function raised, with the frames of the
student's own code), and the arguments as they were after the call (so the grader
sees in-place changes).

Nothing here is trusted: a notebook can replace this module, and all the grader
gets is data that must be *right* for inputs it chose. :func:`handle` is the pure
part (a request and a namespace in, a reply out) that tests call in-process.
"""
from __future__ import annotations

import base64
import builtins
import inspect
import json
import mmap
import traceback
import warnings
from typing import Any

from . import wire

REPLY_MIME = "application/vnd.cnn-course.reply+json"
PROTOCOL = 1
_THIS_FILE = __file__
#: memory held back from the student's code, so that a notebook that used up its
#: memory limit (and keeps it) can still be asked to run its functions: each call
#: frees this reserve first and takes it back afterwards. It is a private anonymous
#: mapping, never touched: it counts against the kernel's RLIMIT_DATA like memory in
#: use, but taking and freeing it costs two system calls, not 16 MiB of zeroed pages.
RESERVE_BYTES = 16 * 1024 ** 2
_RESERVE: list = []


def hold_reserve() -> None:
    """Take the reserve (the grader's first cell does, before any student code runs)."""
    if not _RESERVE:
        try:
            _RESERVE.append(mmap.mmap(-1, RESERVE_BYTES, flags=mmap.MAP_PRIVATE))
        except (MemoryError, OSError):  # ENOMEM: the notebook already holds its limit
            pass


def _keras_input(body: dict):
    import keras
    shape = tuple(None if s is None else int(s) for s in body["shape"])
    return keras.Input(shape=shape, dtype=str(body.get("dtype") or "float32"))


def _signature(obj) -> list[list]:
    """``[[name, kind, has_default], ...]`` of a callable (empty when unknown)."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
            for p in sig.parameters.values()]


def _student_frames(err: BaseException) -> list[list]:
    frames = []
    for fr in traceback.extract_tb(err.__traceback__):
        if fr.filename == _THIS_FILE or fr.filename.endswith(("wire.py", "collector.py")):
            continue
        frames.append([fr.filename, fr.lineno or 0, fr.name, (fr.line or "")[:300]])
    return frames[-20:]


def _raised(err: BaseException) -> dict:
    names = [c.__name__ for c in type(err).__mro__]
    try:
        message = str(err)
    except Exception:  # noqa: BLE001 - a broken __str__
        message = f"<{type(err).__name__} whose str() raised>"
    return {"type": type(err).__name__, "mro": names[:20], "message": message[:4000],
            "traceback": _student_frames(err)}


def handle(request: dict, namespace: dict) -> dict:
    """Answer one request against ``namespace`` (the notebook's globals)."""
    reply: dict[str, Any] = {"v": PROTOCOL, "nonce": request.get("nonce")}
    op = request.get("op")
    if op == "ping":  # the grader checks that the kernel still runs its requests
        reply.update(status="ok")
        return reply
    if op == "lookup":
        found = {}
        for name in request.get("names", []):
            if name not in namespace:
                found[name] = {"kind": "missing"}
                continue
            obj = namespace[name]
            if callable(obj) and not isinstance(obj, type):
                found[name] = {"kind": "callable", "signature": _signature(obj),
                               "id": id(obj)}
            else:
                try:
                    found[name] = {"kind": "value", "value": wire.encode(obj)}
                except wire.WireError as err:
                    found[name] = {"kind": "error", "message": str(err)}
        reply.update(status="ok", names=found)
        return reply
    if op != "call":
        reply.update(status="error", message=f"unknown request {op!r}")
        return reply
    name = request.get("name")
    if name not in namespace:
        reply.update(status="missing")
        return reply
    inputs: dict[int, tuple[int, Any]] = {}

    def make_input(body):
        tensor = _keras_input(body)
        inputs[id(tensor)] = (int(body["ref"]), tensor)
        return tensor

    decoder = wire.Decoder(make_keras_input=make_input)
    try:
        args = decoder.decode(request.get("args", {"__tuple__": []}))
        kwargs = decoder.decode(request.get("kwargs", {"__dict__": []}))
    except wire.WireError as err:
        reply.update(status="error", message=f"the request could not be decoded: {err}")
        return reply
    fn = namespace[name]
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
        caught = [f"{w.category.__name__}: {w.message}"[:300] for w in seen][:5]
    except KeyboardInterrupt:
        raise  # the grader interrupted a call that ran too long: no reply
    except BaseException as err:  # noqa: BLE001 - the student's error (even SystemExit) is the answer
        reply.update(status="raised", raised=_raised(err))
        return reply
    try:
        reply.update(status="ok", result=wire.encode(result, inputs=inputs),
                     args=wire.encode(list(args), inputs=inputs),
                     kwargs=wire.encode(dict(kwargs), inputs=inputs), warnings=caught)
    except wire.WireError as err:
        # what the student's function returned cannot cross: that is their error, so the
        # grader's check reports it like any exception their code raised
        reply.pop("result", None)
        reply.update(status="raised", raised={
            "type": "ValueError", "mro": ["ValueError", "Exception", "BaseException", "object"],
            "message": f"the grader cannot receive what `{name}` returned: {err}",
            "traceback": []})
    return reply


def encode_request(request: dict) -> str:
    """The base64 text :func:`serve` takes (what the grader puts in the line it sends)."""
    return base64.b64encode(json.dumps(request).encode("utf-8")).decode("ascii")


def _reply_text(text: str) -> str:
    """Decode a request, answer it against the notebook's namespace; the reply as JSON text."""
    from IPython import get_ipython

    try:
        request = json.loads(base64.b64decode(text))
    except ValueError as err:
        reply = {"v": PROTOCOL, "nonce": None, "status": "error",
                 "message": f"bad request: {err}"}
    else:
        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else vars(builtins)
        reply = handle(request, namespace)
    return wire.dumps(reply)


class Reply:
    """A value whose only representation is the reply (what a user expression returns)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {REPLY_MIME: self.text}


def answer(text: str) -> Reply:
    """Answer a request; the reply is the returned value (for a user expression)."""
    _RESERVE.clear()  # room for this call's own work, even in a notebook out of memory
    try:
        return Reply(_reply_text(text))
    finally:
        hold_reserve()


def serve(text: str) -> None:
    """Answer a request and publish the reply as a display output (for a cell)."""
    from IPython.display import publish_display_data

    _RESERVE.clear()
    try:
        publish_display_data({REPLY_MIME: _reply_text(text)})
    finally:
        hold_reserve()

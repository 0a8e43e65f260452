"""The plain encoding that every value crosses the kernel boundary in.

Both sides use this module: the kernel encodes what a student's function returned,
the grader decodes it. The encoding is a JSON tree, so what the grader gets back is
*data*: numbers, strings, arrays rebuilt from raw bytes of a numeric dtype, and
containers of those. No object of the student's survives the trip, so a result whose
``__eq__`` always answers yes, an ``ndarray`` subclass or a proxy that lies about its
shape cannot reach a comparison. Nothing is unpickled and nothing is imported by
name, except Keras layer configs, which the grader rebuilds from a checked
allow-list (:func:`rebuild_keras_model`).

Tags (a dict with one key):

==================  =====================================================
``__tuple__``       a tuple (lists are JSON lists)
``__dict__``        a dict, as ``[[key, value], ...]`` (keys: str or int)
``__ndarray__``     ``{"dtype", "shape", "data"}``: raw bytes, base64
``__npscalar__``    a NumPy scalar, same fields without ``shape``
``__complex__``     ``[real, imag]``
``__bytes__``       base64
``__testfn__``      ``{"name", "params"}``: a :mod:`grader_kernel.testfns` function
``__kerasinput__``  ``{"shape", "dtype", "ref"}``: a ``keras.Input`` placeholder
``__kerasmodel__``  ``{"config", "compile", "id"}``: a model's JSON and compile config
``__kerastensor__`` ``{"model", "inputs"}``: a tensor built on placeholders
``__opaque__``      ``{"type", "module", "repr", "id"}``: anything else
==================  =====================================================
"""
from __future__ import annotations

import base64
import json
import math
from typing import Any, Callable

import numpy as np

#: the largest encoded message either side accepts (bytes of JSON)
MAX_MESSAGE_BYTES = 256 * 1024 ** 2
#: the deepest nesting of containers accepted
MAX_DEPTH = 48
#: NumPy dtype kinds that may cross: bool, signed and unsigned int, float, complex
ARRAY_KINDS = frozenset("biufc")
#: Keras classes the grader refuses to rebuild (they carry code, not configuration)
KERAS_REFUSED = frozenset({"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer",
                           "FlaxLayer"})


class WireError(ValueError):
    """A value could not be encoded or a message could not be decoded; says why."""


# ====================================================================== encoding
def encode(value: Any, *, inputs: dict | None = None,
           placeholder: Callable[[Any], dict] | None = None, _depth: int = 0) -> Any:
    """A JSON-compatible tree for ``value`` (see the module docstring).

    Kernel side: ``inputs`` maps ``id()`` of the ``keras.Input`` placeholders this
    call was given to ``(ref, tensor)``, so that a Keras tensor built on them goes
    back as a model from those inputs. Grader side: ``placeholder(tensor)`` encodes
    a ``keras.Input`` the grader passes (see :func:`keras_input_tree`). Unknown
    objects become ``__opaque__`` (never an error), so the kernel can always answer.
    """
    if _depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    d = _depth + 1
    kw = {"inputs": inputs, "placeholder": placeholder, "_depth": d}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and type(value) is int:
        return value
    if type(value) is float:
        return value
    if type(value) is complex:
        return {"__complex__": [value.real, value.imag]}
    if type(value) is bytes:
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": _array_fields(np.asarray(value))}
    if isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind in ARRAY_KINDS:
            fields = _array_fields(arr)
            del fields["shape"]
            return {"__npscalar__": fields}
    if type(value) is tuple:
        return {"__tuple__": [encode(v, **kw) for v in value]}
    if type(value) is list:
        return [encode(v, **kw) for v in value]
    if type(value) is dict:
        items = []
        for k, v in value.items():
            if type(k) not in (str, int):
                return _opaque(value)
            items.append([k, encode(v, **kw)])
        return {"__dict__": items}
    if _is_testfn(value):
        return {"__testfn__": {"name": value.name,
                               "params": encode(value.params, _depth=d)}}
    kind = _keras_kind(value)
    if kind == "tensor":
        if placeholder is not None:
            return placeholder(value)
        return _encode_keras_tensor(value, inputs or {})
    if kind == "model":
        return _encode_keras_model(value)
    return _opaque(value)


def _array_fields(arr: np.ndarray) -> dict:
    if arr.dtype.kind not in ARRAY_KINDS:
        raise WireError(f"arrays of dtype {arr.dtype} cannot cross (numeric dtypes only)")
    arr = np.ascontiguousarray(arr)
    little = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    arr = arr.astype(little, copy=False)
    return {"dtype": arr.dtype.str, "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def _opaque(value: Any) -> dict:
    cls = type(value)
    try:
        text = repr(value)
    except Exception as err:  # noqa: BLE001 - a broken __repr__ is the student's
        text = f"<{cls.__name__} whose repr() raised {type(err).__name__}>"
    return {"__opaque__": {"type": str(getattr(cls, "__name__", "object"))[:100],
                           "module": str(getattr(cls, "__module__", ""))[:200],
                           "repr": str(text)[:500], "id": id(value)}}


def _is_testfn(value: Any) -> bool:
    from . import testfns
    return type(value) is testfns.TestFunction


def _keras_kind(value: Any) -> str | None:
    module = type(value).__module__ or ""
    if not module.startswith("keras"):
        return None
    import keras
    if isinstance(value, keras.KerasTensor):
        return "tensor"
    if isinstance(value, keras.Model):
        return "model"
    return None


def _compile_config(model) -> str | None:
    if not getattr(model, "compiled", False):
        return None
    try:
        return json.dumps(model.get_compile_config())
    except Exception as err:  # noqa: BLE001
        raise WireError(f"the model's compile settings could not be serialized: {err}") from err


def _encode_keras_model(model) -> dict:
    try:
        config = model.to_json()
    except Exception as err:  # noqa: BLE001 - e.g. a subclassed model without get_config
        return {"__opaque__": {"type": type(model).__name__, "module": type(model).__module__,
                               "repr": f"a Keras model that cannot be serialized ({err})"[:500],
                               "id": id(model)}}
    return {"__kerasmodel__": {"config": config, "compile": _compile_config(model),
                               "id": id(model)}}


def _encode_keras_tensor(tensor, inputs: dict) -> dict:
    import keras
    placeholders = [obj for key, (ref, obj) in inputs.items()]
    if not placeholders:
        raise WireError("a Keras tensor came back, but the call was given no keras.Input")
    try:
        model = keras.Model(placeholders[0] if len(placeholders) == 1 else placeholders, tensor)
    except Exception as err:  # noqa: BLE001 - the tensor is not built on the given inputs
        raise WireError(f"the returned tensor is not built on the inputs it was given: {err}"
                        ) from err
    return {"__kerastensor__": {"model": model.to_json(),
                                "inputs": [ref for key, (ref, obj) in inputs.items()]}}


def keras_input_tree(tensor, ref: int) -> dict:
    """The trusted side's encoding of a ``keras.Input`` placeholder it passes to a call."""
    shape = [None if s is None else int(s) for s in tensor.shape[1:]]
    return {"__kerasinput__": {"shape": shape, "dtype": str(tensor.dtype), "ref": int(ref)}}


# ====================================================================== decoding
class Opaque:
    """Something the kernel returned that is not data; its class is named like the original."""

    def __init__(self, type_name: str, module: str, text: str):
        self.type_name, self.module, self.text = type_name, module, text

    def __repr__(self) -> str:
        return self.text


_OPAQUE_CLASSES: dict[str, type] = {}


def _opaque_class(name: str) -> type:
    safe = name if name.isidentifier() else "object"
    if safe not in _OPAQUE_CLASSES:
        _OPAQUE_CLASSES[safe] = type(safe, (Opaque,), {})
    return _OPAQUE_CLASSES[safe]


class Decoder:
    """Decode trees strictly; keeps identity (``id``) and Keras placeholders per session.

    ``keras_inputs`` maps a ref to the trusted side's own ``keras.Input`` tensor,
    so a tensor that comes back is re-attached to the grader's placeholder.
    ``testfn``: how to rebuild a test function (the kernel rebuilds one, the
    grader keeps its own).
    """

    def __init__(self, keras_inputs: dict | None = None,
                 testfn: Callable[[str, dict], Any] | None = None,
                 make_keras_input: Callable[[dict], Any] | None = None):
        self.keras_inputs = keras_inputs if keras_inputs is not None else {}
        self.memo: dict[int, Any] = {}
        self.testfn = testfn
        self.make_keras_input = make_keras_input
        self._bytes = 0

    def decode(self, tree: Any, _depth: int = 0) -> Any:
        if _depth > MAX_DEPTH:
            raise WireError(f"the message is nested more than {MAX_DEPTH} levels deep")
        d = _depth + 1
        if tree is None or isinstance(tree, (bool, str)):
            return tree
        if isinstance(tree, int):
            return int(tree)
        if isinstance(tree, float):
            return float(tree)
        if isinstance(tree, list):
            return [self.decode(v, d) for v in tree]
        if not isinstance(tree, dict) or len(tree) != 1:
            raise WireError("malformed message: an untagged object")
        (tag, body), = tree.items()
        if tag == "__tuple__":
            return tuple(self.decode(v, d) for v in _list(body))
        if tag == "__dict__":
            out = {}
            for pair in _list(body):
                if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) not in (str, int):
                    raise WireError("malformed message: a dict entry")
                out[pair[0]] = self.decode(pair[1], d)
            return out
        if tag == "__ndarray__":
            return self._array(body)
        if tag == "__npscalar__":
            body = dict(_obj(body), shape=[])
            return self._array(body)[()]
        if tag == "__complex__":
            re_, im = _list(body)
            return complex(float(re_), float(im))
        if tag == "__bytes__":
            return base64.b64decode(str(body), validate=True)
        if tag == "__testfn__":
            body = _obj(body)
            params = self.decode(body.get("params"), d)
            if self.testfn is None:
                from . import testfns
                return testfns.make(str(body.get("name")), params)
            return self.testfn(str(body.get("name")), params)
        if tag == "__kerasinput__":
            body = _obj(body)
            if self.make_keras_input is None:
                raise WireError("a Keras input cannot be decoded here")
            tensor = self.make_keras_input(body)
            self.keras_inputs[int(body["ref"])] = tensor
            return tensor
        if tag == "__kerasmodel__":
            body = _obj(body)
            ident = body.get("id")
            if isinstance(ident, int) and ident in self.memo:
                return self.memo[ident]
            model = rebuild_keras_model(str(body.get("config")), body.get("compile"))
            if isinstance(ident, int):
                self.memo[ident] = model
            return model
        if tag == "__kerastensor__":
            body = _obj(body)
            return self._tensor(str(body.get("model")), _list(body.get("inputs")))
        if tag == "__opaque__":
            body = _obj(body)
            ident = body.get("id")
            if isinstance(ident, int) and ident in self.memo:
                return self.memo[ident]
            cls = _opaque_class(str(body.get("type", "object")))
            obj = cls(str(body.get("type", "object")), str(body.get("module", "")),
                      str(body.get("repr", "")))
            if isinstance(ident, int):
                self.memo[ident] = obj
            return obj
        raise WireError(f"malformed message: unknown tag {tag!r}")

    def _array(self, body) -> np.ndarray:
        body = _obj(body)
        try:
            dtype = np.dtype(str(body["dtype"]))
        except (TypeError, KeyError) as err:
            raise WireError("malformed message: an array without a valid dtype") from err
        if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype:
            raise WireError(f"an array of dtype {dtype} was refused (numeric dtypes only)")
        shape = _list(body["shape"])
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape) \
                or len(shape) > 32:
            raise WireError("malformed message: an array shape")
        raw = base64.b64decode(str(body["data"]), validate=True)
        expected = dtype.itemsize * math.prod(shape)
        if len(raw) != expected:
            raise WireError(f"malformed message: {len(raw)} bytes for an array that needs "
                            f"{expected}")
        self._bytes += len(raw)
        if self._bytes > MAX_MESSAGE_BYTES:
            raise WireError("the message holds more array data than the grader accepts")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def _tensor(self, config: str, refs: list):
        import keras
        model = rebuild_keras_model(config, None)
        try:
            given = [self.keras_inputs[int(r)] for r in refs]
        except (KeyError, TypeError, ValueError) as err:
            raise WireError("a returned tensor refers to an input this call was not given"
                            ) from err
        clone = keras.models.clone_model(model, input_tensors=given if len(given) > 1
                                         else given[0])
        outputs = clone.outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)


def _list(x) -> list:
    if not isinstance(x, list):
        raise WireError("malformed message: expected a list")
    return x


def _obj(x) -> dict:
    if not isinstance(x, dict):
        raise WireError("malformed message: expected an object")
    return x


# ====================================================================== keras
def check_keras_config(node: Any, _depth: int = 0) -> None:
    """Refuse configs that name code rather than layers: Lambda, custom or non-Keras classes."""
    if _depth > 200:
        raise WireError("the model's config is nested too deeply")
    if isinstance(node, list):
        for v in node:
            check_keras_config(v, _depth + 1)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class_name")
    if isinstance(cls, str):
        module = node.get("module")
        if cls in KERAS_REFUSED:
            raise WireError(f"the model uses a `{cls}` layer, which carries Python code; the "
                            "grader rebuilds standard Keras layers only")
        if module is not None and not (isinstance(module, str)
                                       and (module == "keras" or module.startswith("keras."))):
            raise WireError(f"the model uses `{cls}` from module `{module}`; the grader "
                            "rebuilds standard Keras layers only")
        registered = node.get("registered_name")
        if registered not in (None, cls) and not (isinstance(registered, str)
                                                  and registered.startswith("keras")):
            raise WireError(f"the model uses a custom class `{registered}`; the grader "
                            "rebuilds standard Keras layers only")
    for v in node.values():
        check_keras_config(v, _depth + 1)


def rebuild_keras_model(config_json: str, compile_json: str | None):
    """A Keras model built from a student's config (and compiled from their compile config)."""
    import keras
    try:
        config = json.loads(config_json)
    except (TypeError, ValueError) as err:
        raise WireError("the model's config is not JSON") from err
    check_keras_config(config)
    try:
        model = keras.models.model_from_json(config_json)
    except Exception as err:  # noqa: BLE001
        raise WireError(f"the grader could not rebuild the model from its config: "
                        f"{type(err).__name__}: {err}"[:400]) from err
    if compile_json:
        try:
            compile_config = json.loads(compile_json)
        except (TypeError, ValueError) as err:
            raise WireError("the model's compile config is not JSON") from err
        check_keras_config(compile_config)
        try:
            model.compile_from_config(compile_config)
        except Exception as err:  # noqa: BLE001
            raise WireError(f"the grader could not compile the model with its settings: "
                            f"{type(err).__name__}: {err}"[:400]) from err
    return model


# ====================================================================== messages
def dumps(tree: Any) -> str:
    """JSON text of an encoded tree."""
    return json.dumps(tree, separators=(",", ":"), allow_nan=True)


def loads(text: str | bytes) -> Any:
    """Parse JSON text of a message (size-limited)."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise WireError(f"the message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        return json.loads(text)
    except ValueError as err:
        raise WireError(f"the message is not JSON: {err}") from err

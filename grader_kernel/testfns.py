"""Scalar functions a test can hand to a student's function (``numerical_gradient(f, x)``).

A grader cannot send its own Python functions into a student's kernel: only data
crosses (:mod:`grader_kernel.wire`). So the functions a test passes are named
here, built from a name and plain parameters, and exist on both sides: the
kernel rebuilds the same function from ``(name, params)`` and the grader can
compute its exact gradient. They are public (nothing here is a hidden value);
what a student cannot know in advance are the parameters, which hidden tests
draw at random.

Add a function with :func:`register`; it must be deterministic and defined by
its parameters alone.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

_REGISTRY: dict[str, Callable] = {}


class TestFunction:
    """A scalar function of an array, rebuilt anywhere from ``(name, params)``.

    ``f(x)`` returns a Python float; ``f.gradient(x)`` its exact gradient, an array
    of ``x``'s shape (for the grader's references).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, params: dict, value: Callable, gradient: Callable):
        self.name = name
        self.params = dict(params)
        self._value = value
        self._gradient = gradient

    def __call__(self, x) -> float:
        return float(self._value(np.asarray(x, dtype=np.float64), **self.params))

    def gradient(self, x) -> np.ndarray:
        return np.asarray(self._gradient(np.asarray(x, dtype=np.float64), **self.params),
                          dtype=np.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}=..." if isinstance(v, (list, np.ndarray)) else f"{k}={v!r}"
                         for k, v in self.params.items())
        return f"{self.name}({args})"


def register(name: str, value: Callable, gradient: Callable) -> Callable[..., TestFunction]:
    """Register ``value(x, **params)`` as ``name``; return the factory ``name(**params)``."""

    def factory(**params) -> TestFunction:
        return TestFunction(name, params, value, gradient)

    factory.__name__ = name
    factory.__doc__ = value.__doc__
    _REGISTRY[name] = factory
    return factory


def make(name: str, params: dict) -> TestFunction:
    """Rebuild a registered function from its name and parameters (what the kernel does)."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown test function {name!r}; known: {sorted(_REGISTRY)}")
    clean = {k: (np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v)
             for k, v in params.items()}
    return _REGISTRY[name](**clean)


# ---------------------------------------------------------------- the functions
def _cubic_sum(x, a=1.0, b=0.0):
    """sum(a * x**3 + b * x)."""
    return np.sum(a * x ** 3 + b * x)


def _cubic_sum_grad(x, a=1.0, b=0.0):
    return 3.0 * a * x ** 2 + b


cubic_sum = register("cubic_sum", _cubic_sum, _cubic_sum_grad)


def _weighted_square(x, w=None):
    """0.5 * sum(w * x**2), ``w`` an array of ``x``'s shape (ones when omitted)."""
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64).reshape(x.shape)
    return 0.5 * np.sum(w * x ** 2)


def _weighted_square_grad(x, w=None):
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64).reshape(x.shape)
    return w * x


weighted_square = register("weighted_square", _weighted_square, _weighted_square_grad)


def _sin_dot(x, w=None):
    """sum(sin(x) * w): a function whose gradient changes sign, ``w`` of ``x``'s shape."""
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64).reshape(x.shape)
    return np.sum(np.sin(x) * w)


def _sin_dot_grad(x, w=None):
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64).reshape(x.shape)
    return np.cos(x) * w


sin_dot = register("sin_dot", _sin_dot, _sin_dot_grad)

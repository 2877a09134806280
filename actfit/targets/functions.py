"""The functions an expression in ``x`` may call: one record per name, three implementations.

Each :class:`_Function` holds a function's arity and its float64 numpy, mpmath and sympy
implementations side by side, so adding a function is one line and the three evaluators cannot
drift apart in which names they know. The parser's whitelist (:data:`_FUNCTIONS`), its error
message (:func:`_allowed_names`) and the three lookups (:func:`_numpy_functions`,
:func:`_mpmath_functions`, :func:`_sympy_functions`) are all derived from the one table.

An mpmath or sympy implementation is given as the name of the module attribute (``"acos"``) or
as a function of the module that returns the implementation (so the modules are imported only
when an expression is built). The numpy implementations of ``erf``, ``erfc`` and ``sigmoid``
come from :mod:`scipy.special`, imported on first call for the same reason.

Examples:
    >>> "softplus" in _FUNCTIONS and _FUNCTIONS["max"].max_args is None
    True
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__: list[str] = []

# An mpmath/sympy implementation: a module attribute's name, or module -> implementation.
_Impl = str | Callable[[Any], Callable[..., Any]]


def _sc() -> Any:
    import scipy.special

    return scipy.special


def _np_softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow for large ``z`` or cancellation for small."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _np_erf(u: np.ndarray) -> np.ndarray:
    return _sc().erf(u)


def _np_erfc(u: np.ndarray) -> np.ndarray:
    return _sc().erfc(u)


def _np_sigmoid(u: np.ndarray) -> np.ndarray:
    return _sc().expit(u)


def _mp_heaviside(mp: Any) -> Callable[[Any], Any]:
    return lambda u: mp.zero if u < 0 else (mp.one if u > 0 else mp.mpf(0.5))


@dataclass(frozen=True)
class _Function:
    """One callable name of the expression language.

    Attributes:
        name: The name as written in an expression.
        numpy: The float64 implementation on arrays.
        mpmath: The mpmath implementation (see the module docstring).
        sympy: The exact sympy implementation (see the module docstring).
        min_args: Fewest positional arguments.
        max_args: Most positional arguments, or None for any number.
    """

    name: str
    numpy: Callable[..., Any]
    mpmath: _Impl
    sympy: _Impl
    min_args: int = 1
    max_args: int | None = 1


def _fold(op: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda *a: functools.reduce(op, a)


_TABLE = (
    _Function("abs", np.abs, "fabs", "Abs"),
    _Function("acos", np.arccos, "acos", "acos"),
    _Function("acosh", np.arccosh, "acosh", "acosh"),
    _Function("asin", np.arcsin, "asin", "asin"),
    _Function("asinh", np.arcsinh, "asinh", "asinh"),
    _Function("atan", np.arctan, "atan", "atan"),
    _Function("atanh", np.arctanh, "atanh", "atanh"),
    _Function("cos", np.cos, "cos", "cos"),
    _Function("cosh", np.cosh, "cosh", "cosh"),
    _Function("erf", _np_erf, "erf", "erf"),
    _Function("erfc", _np_erfc, "erfc", "erfc"),
    _Function("exp", np.exp, "exp", "exp"),
    _Function("expm1", np.expm1, "expm1", lambda sp: lambda u: sp.exp(u) - 1),
    _Function("heaviside", lambda u: np.heaviside(u, 0.5), _mp_heaviside, "Heaviside"),
    _Function("log", np.log, "log", "log"),
    _Function("log1p", np.log1p, "log1p", lambda sp: lambda u: sp.log(1 + u)),
    _Function("max", _fold(np.maximum), lambda mp: lambda *a: max(a), "Max", 2, None),
    _Function("min", _fold(np.minimum), lambda mp: lambda *a: min(a), "Min", 2, None),
    _Function(
        "relu",
        lambda u: np.maximum(u, 0.0),
        lambda mp: lambda u: max(u, mp.zero),
        lambda sp: lambda u: sp.Max(u, 0),
    ),
    _Function(
        "sigmoid",
        _np_sigmoid,
        lambda mp: lambda u: 1 / (1 + mp.exp(-u)),
        lambda sp: lambda u: 1 / (1 + sp.exp(-u)),
    ),
    _Function("sign", np.sign, "sign", "sign"),
    _Function("sin", np.sin, "sin", "sin"),
    _Function("sinh", np.sinh, "sinh", "sinh"),
    _Function(
        "softplus",
        _np_softplus,
        lambda mp: lambda u: mp.log1p(mp.exp(u)),
        lambda sp: lambda u: sp.log(1 + sp.exp(u)),
    ),
    _Function("sqrt", np.sqrt, "sqrt", "sqrt"),
    _Function("tan", np.tan, "tan", "tan"),
    _Function("tanh", np.tanh, "tanh", "tanh"),
)

_FUNCTIONS: dict[str, _Function] = {f.name: f for f in _TABLE}


def _allowed_names() -> str:
    """Return the whitelist in words, for error messages."""
    return "allowed: x, pi, e, numbers, + - * / ** ^, and " + ", ".join(sorted(_FUNCTIONS))


def _resolve(impl: _Impl, module: Any) -> Callable[..., Any]:
    return getattr(module, impl) if isinstance(impl, str) else impl(module)


def _numpy_functions() -> dict[str, Callable[..., Any]]:
    """Return name -> float64 numpy implementation."""
    return {name: f.numpy for name, f in _FUNCTIONS.items()}


@functools.lru_cache(maxsize=4)
def _mpmath_functions(mp: Any) -> dict[str, Callable[..., Any]]:
    """Return name -> implementation in the mpmath context ``mp`` (at its working precision)."""
    return {name: _resolve(f.mpmath, mp) for name, f in _FUNCTIONS.items()}


def _sympy_functions(sp: Any) -> dict[str, Callable[..., Any]]:
    """Return name -> exact implementation with the sympy module ``sp``."""
    return {name: _resolve(f.sympy, sp) for name, f in _FUNCTIONS.items()}

"""Turning what a caller names into a :class:`~actfit.targets.Target`.

A target is named by a registry name with parameter values (:func:`get_target`), by a
command-line spec that is a name or an expression (:func:`resolve_target`), by a library
argument that may also be a ready-made Target (:func:`as_target`), or by the JSON description
:meth:`Target.to_dict` writes (:func:`from_dict`, which is also how a target unpickles).

Examples:
    >>> resolve_target("leaky-relu", {"slope": 0.1}) == get_target("leaky_relu", {"slope": 0.1})
    True
"""

from __future__ import annotations

import copyreg
import math
from collections.abc import Callable, Mapping
from typing import Any

from actfit.errors import ExpressionError, ParameterError, UnknownTargetError
from actfit.targets.constants import _exact_number, _num
from actfit.targets.expression import parse_expression
from actfit.targets.registry import _Entry, _lookup, _unknown
from actfit.targets.types import Target, symbol

__all__ = ["as_target", "from_dict", "get_target", "resolve_target"]


def _validate_params(entry: _Entry, params: Mapping[str, Any] | None) -> dict[str, float]:
    info = entry.info
    values = info.defaults
    if params is None:
        return values
    if not isinstance(params, Mapping):
        raise ParameterError(
            f"parameters of {info.name} must be given as NAME=VALUE pairs, got {params!r}"
        )
    known = {p.name: p for p in info.params}
    for key, raw in params.items():
        pname = str(key).strip().lower()
        if pname not in known:
            if known:
                msg = f"{info.name} has no parameter '{key}'; its parameters are: " + ", ".join(
                    known
                )
            else:
                msg = f"{info.name} has no parameter '{key}'; it takes no parameters"
            raise ParameterError(msg)
        param = known[pname]
        try:
            if isinstance(raw, bool):
                raise TypeError
            value = float(raw)
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter {pname} of {info.name} must be a number in {param.allowed}, got {raw!r}"
            ) from None
        if not param.admits(value):
            raise ParameterError(
                f"parameter {pname} of {info.name} must be in {param.allowed}, got {_num(value)}"
                if math.isfinite(value)
                else f"parameter {pname} of {info.name} must be a finite number in "
                f"{param.allowed}, got {value}"
            )
        values[pname] = value
    if entry.check is not None:
        problem = entry.check(values)
        if problem:
            raise ParameterError(f"{info.name} {problem}")
    return values


def get_target(name: str, params: Mapping[str, float] | None = None) -> Target:
    """Return the registry target ``name`` with the given parameters (defaults for the rest).

    Args:
        name: Registry name or alias, case-insensitive (``-`` and ``_`` are interchangeable).
        params: Parameter values by name; missing ones take their defaults.

    Returns:
        The target, with ``params`` holding every parameter (sorted by name).

    Raises:
        UnknownTargetError: ``name`` is not in the registry (the message suggests the closest).
        ParameterError: An unknown parameter name, or a value outside the allowed range.

    Examples:
        >>> get_target("SiLU") == get_target("swish", {"beta": 1})
        True
    """
    if not isinstance(name, str):
        raise UnknownTargetError(f"target name must be a string, got {name!r}")
    entry = _lookup(name)
    if entry is None:
        raise _unknown(name)
    values = _validate_params(entry, params)
    return _build_registry_target(entry, values)


def _build_registry_target(entry: _Entry, values: dict[str, float]) -> Target:
    def build_sympy() -> Any:
        import sympy

        exact = {k: _exact_number(v) for k, v in values.items()}
        return entry.sympy(exact, symbol(), sympy)

    def build_mp() -> Callable[[Any], Any]:
        import mpmath

        return entry.mp(values, mpmath.mp)

    def mp_eval(x: Any) -> Any:
        # Parameters are converted at call time, at the caller's working precision.
        return build_mp()(x)

    return Target(
        name=entry.info.name,
        params=tuple(sorted(values.items())),
        expression=entry.expression(values),
        kinks=tuple(sorted({float(k) for k in entry.kinks(values)})),
        _numpy=entry.numpy(values),
        _sympy=build_sympy,
        _mp=mp_eval,
    )


def resolve_target(spec: str, params: Mapping[str, float] | None = None) -> Target:
    """Return the target a command-line spec names: a registry entry, else an expression.

    Args:
        spec: A registry name or alias (``gelu``), or an expression in ``x`` (``x*sigmoid(x)``):
            a spec that is not a registry name and has any character other than a letter or
            ``_`` (an operator, a bracket, a digit, a space, a dot, ...) is parsed as an
            expression, so that its error names the construct that is not allowed.
        params: Parameters for a registry entry; must be empty for an expression.

    Raises:
        UnknownTargetError: Neither a registry name nor something that looks like an expression.
        ParameterError: Bad parameters, or parameters given with an expression.
        ExpressionError: An invalid expression.
    """
    if not isinstance(spec, str):
        raise UnknownTargetError(f"target must be a name or an expression, got {spec!r}")
    if _lookup(spec) is not None:
        return get_target(spec, params)
    s = spec.strip()
    if not s:
        raise UnknownTargetError(
            "no target given; name a registry target (actfit targets lists them) or write an "
            "expression in x, e.g. 'x*sigmoid(x)'"
        )
    if s == "x" or not all(c.isalpha() or c == "_" for c in s):
        if params:
            raise ParameterError(
                "parameters (-p NAME=VALUE) only apply to registry targets; write the values "
                f"into the expression '{s}' instead"
            )
        return parse_expression(s)
    raise _unknown(spec)


def as_target(target: Target | str, params: Mapping[str, float] | None = None) -> Target:
    """Return the target a library call names: a :class:`Target`, a registry name or an
    expression in ``x``, with parameters given as a mapping (``{"slope": 0.1}``).

    The public fitters call this first, so ``fit_lsq("leaky_relu", slope=0.1)``,
    ``fit_lsq("x*tanh(x)")`` and ``fit_lsq(get_target("gelu"))`` all work.

    Raises:
        UnknownTargetError: not a Target, and not a registry name or an expression.
        ParameterError: parameters that the target does not have, or bad values; parameters
            given together with a :class:`Target` (whose values are already fixed) or with an
            expression.
        ExpressionError: an invalid expression.
    """
    if isinstance(target, Target):
        if params:
            names = ", ".join(sorted(params))
            raise ParameterError(
                f"parameters ({names}) were given with a ready-made Target '{target.label}'; "
                f"pass the name instead (e.g. '{target.name}') or build the Target with them"
            )
        return target
    return resolve_target(target, params)


def from_dict(d: Mapping[str, Any]) -> Target:
    """Return the target described by ``d``, the inverse of :meth:`Target.to_dict`.

    Raises:
        UnknownTargetError: No usable ``name``, or a name not in the registry.
        ParameterError: ``params`` is not a mapping, or has unknown names or bad values.
        ExpressionError: An ``"expr"`` entry without a valid ``expression``.
    """
    if not isinstance(d, Mapping):
        raise UnknownTargetError(f"a target must be an object with a 'name', got {d!r:.60}")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UnknownTargetError("the target has no 'name'; expected a registry name or 'expr'")
    params = d.get("params") or {}
    if not isinstance(params, Mapping):
        raise ParameterError(f"the target's 'params' must be an object, got {params!r:.60}")
    if name == "expr":
        expression = d.get("expression")
        if not isinstance(expression, str):
            raise ExpressionError("an 'expr' target needs its 'expression' as a string")
        if params:
            raise ParameterError("an 'expr' target takes no 'params'")
        return parse_expression(expression)
    return get_target(name, params)



def _reduce_target(target: Target) -> tuple[Any, ...]:
    # The evaluators are closures; pickle the description and rebuild on load.
    return (from_dict, (target.to_dict(),))


copyreg.pickle(Target, _reduce_target)

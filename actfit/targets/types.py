"""The data types of the target layer: a parameter, a registry entry's listing, a target.

A :class:`Target` is what every fitter approximates. It carries three independent evaluations
(a float64 numpy evaluator, an exact sympy expression, an arbitrary-precision mpmath evaluator)
and the points where it is not analytic. Targets are built by :mod:`actfit.targets.resolver`
(registry entries) and :mod:`actfit.targets.expression` (expressions in ``x``), never directly;
the resolver also registers how a target pickles (by its :meth:`Target.to_dict`).

Examples:
    >>> Param("beta", 1.0, "sharpness", lower=0.0, lower_open=True).allowed
    '(0, inf)'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.targets.constants import _num

if TYPE_CHECKING:
    import mpmath
    import sympy
    from numpy.typing import ArrayLike

__all__ = ["Param", "Target", "TargetInfo", "symbol"]


def symbol() -> sympy.Symbol:
    """Return the real sympy symbol ``x`` every target expression is written in."""
    import sympy

    return sympy.Symbol("x", real=True)


@dataclass(frozen=True)
class Param:
    """One parameter of a registry entry: its default, meaning and allowed range.

    Attributes:
        name: Parameter name as given to ``get_target`` and ``-p NAME=VALUE``.
        default: Default value.
        doc: One-line description.
        lower: Lower bound, or None for no bound.
        upper: Upper bound, or None for no bound.
        lower_open: True if the lower bound itself is excluded.
        upper_open: True if the upper bound itself is excluded.
    """

    name: str
    default: float
    doc: str
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False

    @property
    def allowed(self) -> str:
        """Return the allowed range in interval notation, e.g. ``(0, inf)``."""
        if self.lower is None and self.upper is None:
            return "any finite number"
        lo = "(-inf" if self.lower is None else ("(" if self.lower_open else "[") + _num(self.lower)
        hi = "inf)" if self.upper is None else _num(self.upper) + (")" if self.upper_open else "]")
        return f"{lo}, {hi}"

    def admits(self, value: float) -> bool:
        """Return True if ``value`` is finite and inside the allowed range."""
        if not math.isfinite(value):
            return False
        if self.lower is not None and (
            value < self.lower or (self.lower_open and value == self.lower)
        ):
            return False
        return not (
            self.upper is not None
            and (value > self.upper or (self.upper_open and value == self.upper))
        )


@dataclass(frozen=True)
class TargetInfo:
    """One registry entry, for listing (``actfit targets``).

    Attributes:
        name: Canonical name.
        aliases: Other accepted names.
        formula: Human-readable definition.
        params: The entry's parameters with defaults and ranges.
        source: The paper (or library) the definition comes from.
        notes: Remarks: which definition was chosen where the literature differs.
    """

    name: str
    aliases: tuple[str, ...]
    formula: str
    params: tuple[Param, ...]
    source: str
    notes: str = ""

    @property
    def defaults(self) -> dict[str, float]:
        """Return the default parameter values."""
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class Target:
    """A concrete target function: a registry entry with parameter values, or an expression.

    Two targets are equal when name, parameters, expression and kinks agree; the evaluators are
    not compared. Build targets with :func:`get_target`, :func:`parse_expression`,
    :func:`resolve_target` or :func:`from_dict`, not directly.

    Attributes:
        name: Canonical registry name, or ``"expr"`` for a user expression.
        params: Sorted ``(name, value)`` pairs; empty for expressions.
        expression: The formula with parameter values substituted; :func:`parse_expression`
            accepts it and gives the same function.
        kinks: Sorted points where the target is not analytic (derivative jumps, ``|x|``,
            ``sqrt`` at 0, piecewise joins). Exact for registry entries, best effort for
            expressions.
    """

    name: str
    params: tuple[tuple[str, float], ...]
    expression: str
    kinks: tuple[float, ...]
    _numpy: Callable[[np.ndarray], Any] = field(compare=False, repr=False)
    _sympy: Callable[[], Any] = field(compare=False, repr=False)
    _mp: Callable[[Any], Any] = field(compare=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Return the target at ``x`` in float64, with the shape of ``x``."""
        arr = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = self._numpy(arr)
        return np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), arr.shape))

    def sympy(self) -> sympy.Expr:
        """Return the exact sympy expression in :func:`symbol` (parameters as exact numbers)."""
        if "sympy" not in self._cache:
            self._cache["sympy"] = self._sympy()
        return self._cache["sympy"]

    def mp(self, x: Any) -> mpmath.mpf:
        """Return the target at ``x`` at the working precision of ``mpmath.mp``.

        The mpmath code path is independent of the numpy one; it is the reference used by the
        tests and by the minimax fitter.
        """
        import mpmath

        return self._mp(mpmath.mpf(x))

    def is_analytic_at(self, x0: float) -> bool:
        """Return False if ``x0`` is a kink (or the target is not finite there), else True."""
        x0 = float(x0)
        for k in self.kinks:
            if abs(x0 - k) <= 8 * np.finfo(float).eps * max(1.0, abs(k)):
                return False
        return bool(np.isfinite(self(x0)))

    @property
    def param_dict(self) -> dict[str, float]:
        """Return the parameters as a dict."""
        return dict(self.params)

    @property
    def label(self) -> str:
        """Return a short label for messages: the registry name or the expression."""
        return self.expression if self.name == "expr" else self.name

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict; :func:`~actfit.targets.from_dict` rebuilds the target.

        Pickling uses it too: the evaluators are closures, so a pickle holds this description
        and rebuilds the target on load.
        """
        return {"name": self.name, "params": self.param_dict, "expression": self.expression}

"""Exact constants of the registry, and how a float parameter is written and made exact.

A registry parameter is a float, but the sympy expression of a target (used for Padé
expansions) needs the exact number the float stands for: :func:`_exact_number` recovers it
(``0.1 -> 1/10``, ``math.pi -> pi``, the SELU constants to their 32 published digits).
:func:`_num` formats a number for messages and :func:`_lit` as an expression literal that
round-trips exactly.

Examples:
    >>> _num(3.0), _num(-0.5), _lit(-0.5)
    ('3', '-0.5', '(-0.5)')
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sympy

__all__ = ["GELU_TANH_C", "SELU_ALPHA", "SELU_SCALE"]

# Exact SELU constants, Klambauer et al. (2017), "Self-Normalizing Neural Networks", eq. (14).
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
# Coefficient of the tanh approximation of GELU, Hendrycks & Gimpel (2016), section 2.
GELU_TANH_C = "0.044715"


def _num(v: float) -> str:
    """Format a number compactly for messages (``3``, ``-0.5``, ``1e-05``)."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _lit(v: float) -> str:
    """Format a parameter value as an expression literal that round-trips exactly."""
    s = repr(float(v))
    return f"({s})" if s.startswith("-") else s


@functools.lru_cache(maxsize=1)
def _special_constants() -> dict[float, Any]:
    import sympy

    return {
        math.e: sympy.E,
        math.pi: sympy.pi,
        float(SELU_ALPHA): sympy.Rational(SELU_ALPHA),
        float(SELU_SCALE): sympy.Rational(SELU_SCALE),
    }


def _exact_number(value: float) -> sympy.Expr:
    """Return the exact sympy number a float parameter stands for.

    e, pi and the SELU constants (as floats) stand for themselves; otherwise the shortest
    fraction with denominator up to 10**6 that rounds to ``value`` wins (so ``0.1 -> 1/10`` and
    ``1/3`` given as a float ``-> 1/3``); otherwise the decimal ``repr`` of the float, exactly.
    """
    import sympy

    v = float(value)
    special = _special_constants().get(v)
    if special is not None:
        return special
    r = sympy.Rational(repr(v))
    q = r.limit_denominator(10**6)
    return q if float(q) == v else r

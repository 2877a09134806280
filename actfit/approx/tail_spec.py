"""The tail options every fitter shares: ``free``, ``linear`` and ``match``, and what they ask.

An activation sees inputs far outside its fit range (:mod:`actfit.approx.tails` reports what a
table does there). The fitters (``fit_lsq``, ``fit_minimax``) take ``tail=``:

* ``"free"``: the unconstrained optimum (published tables are reproduced);
* ``"linear"``: ``m <= n + 1`` and the top denominator coefficient bounded away from 0 (the floor
  :data:`TAIL_FLOOR` in the fitter's scaled variable ``|x| / R``), so that ``r`` grows at most
  linearly. In the plain form ``Q`` must not vanish on the real line either, so ``n`` must be
  even there (a real polynomial of odd degree has a real zero) and ``b_n > 0``;
* ``"match"``: ``"linear"`` with ``m = n + 1``, and the leading coefficients tied so that the
  slope of ``r`` at ``+inf`` is the target's: ``a_{n+1} = s * lead(Q)``, ``lead(Q) = b_n``
  (plain) or ``|b_n|`` (safe, abs). That is one linear equation between the coefficients.

*What ``match`` can match.* ``r ~ (a_{n+1} / lead(Q)) x`` at ``+inf``, and at ``-inf`` the same
slope in the plain form, ``(-1)^n`` times it in the safe and abs forms (``Q ~ |b_n| |x|^n``). A
rational of a given form and ``n`` therefore has the slope pattern ``(s, s)`` or ``(-s, s)``
(``-inf``, ``+inf``), one free number. When the target's two slopes fit that pattern (swish,
softplus-like: ``(0, 1)`` does not; identity ``(1, 1)``; abs ``(-1, 1)`` with safe and odd ``n``)
both are matched; otherwise the slope at ``+inf`` is matched (where most activations pass their
input through: relu, gelu, swish, elu) and :class:`SlopePlan` states the ``-inf`` slope that
results next to the target's. For gelu, whose tails are slope 1 at ``+inf`` and 0 at ``-inf``, a
``match`` fit has slope 1 at both ends in the plain form and with even ``n``.

The target's slopes are measured from its mpmath evaluator at ``|x| = 1e8`` and ``1e16`` as the
difference quotient ``(f(2X) - f(X)) / X`` (constant offsets cancel); they count only when the
two scales agree to 1e-3 (a target growing like ``x log x`` or ``x^2`` has no slope, one growing
like ``sqrt(x)`` has slope 0); the value at ``1e16`` is kept, and one within 1e-8 of an integer
is that integer (corrections such as ``sqrt(x) / x`` are ~1e-8 there).

Examples:
    >>> from actfit.targets import get_target
    >>> target_slopes(get_target("gelu"))
    (0.0, 1.0)
    >>> plan = plan_match(get_target("gelu"), "safe", 4)
    >>> plan.slope, plan.matched, plan.rational_slopes
    (1.0, ('+inf',), (1.0, 1.0))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from actfit.errors import OrderError, ParameterError
from actfit.targets import Target

__all__ = [
    "TAILS",
    "TAIL_FLOOR",
    "SlopePlan",
    "check_tail",
    "plan_match",
    "target_slopes",
]

TAILS = ("free", "linear", "match")
"""The tail options, in the order the CLI lists them."""
TAIL_FLOOR = 1e-2
"""``tail="linear"``/``"match"``: the floor on the top denominator coefficient in the scaled
variable ``|x| / R``, ``R = max(|a|, |b|)`` (``|b_n| R^n >= TAIL_FLOOR``): at ``|x| = R`` the top
term adds at least 1% of ``Q(0) = 1``."""

_SCALES = (1e8, 1e16)
_AGREE = 1e-3
_SNAP = 1e-8


def check_tail(tail: str, form: str, m: int, n: int) -> str:
    """Return the tail option, lower-cased, checked against the form and the order.

    Args:
        tail: ``"free"``, ``"linear"`` or ``"match"``.
        form: the fit's denominator form (``plain``, ``safe``, ``abs``), already normalised.
        m: numerator degree.
        n: denominator degree.

    Raises:
        ParameterError: an unknown tail.
        OrderError: ``linear`` with ``n = 0`` or ``m > n + 1``; ``match`` with ``m != n + 1``;
            either in the plain form with an odd ``n``.

    Examples:
        >>> check_tail("Linear", "safe", 5, 4)
        'linear'
    """
    t = str(tail).strip().lower()
    if t not in TAILS:
        raise ParameterError(
            f"unknown tail {tail!r}; use 'free' (the unconstrained optimum), 'linear' (at most "
            "linear growth) or 'match' (linear with the target's slope)"
        )
    if t == "free":
        return t
    if n == 0:
        raise OrderError(
            f"tail {t!r} needs a denominator (got [{m},{n}]); e.g. order [{m if m > 1 else 2},"
            f"{max(m - 1, 1)}]"
        )
    if form == "plain" and n % 2:
        raise OrderError(
            f"tail {t!r} in the plain form needs an even n: a denominator of odd degree {n} has "
            f"a real zero, so the table has a pole (got [{m},{n}]); e.g. order "
            f"[{n},{n - 1}] or the safe form"
        )
    if t == "linear" and m > n + 1:
        raise OrderError(
            f"tail 'linear' needs m <= n + 1 (got [{m},{n}]); e.g. order [{n + 1},{n}]"
        )
    if t == "match" and m != n + 1:
        raise OrderError(
            f"tail 'match' needs m = n + 1 (got [{m},{n}]); e.g. order [{n + 1},{n}]"
        )
    return t


def _value(target: Target, x: Any) -> Any:
    """The target at ``x`` in mpmath (None when not real and finite), float64 as a fallback
    for evaluators that cannot take such arguments (mpmath's ``tanh(exp(1e12))`` runs out of
    memory; float64 gives ``tanh(inf) = 1``)."""
    import mpmath

    try:
        v = target.mp(x)
    except (MemoryError, OverflowError, ValueError, ZeroDivisionError, TypeError):
        v = mpmath.mpf(float(target(float(x))))
    if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
        return None
    return v


def _slope_at(target: Target, sign: int) -> float | None:
    import mpmath

    quotients = []
    with mpmath.workdps(40):
        for big in _SCALES:
            x = sign * mpmath.mpf(big)
            f1, f2 = _value(target, x), _value(target, 2 * x)
            if f1 is None or f2 is None:
                return None
            quotients.append(float((f2 - f1) / x))
    lo, hi = quotients
    if not (math.isfinite(lo) and math.isfinite(hi)) or abs(hi - lo) > _AGREE * max(1.0, abs(hi)):
        return None
    whole = float(round(hi))
    return whole + 0.0 if abs(hi - whole) <= _SNAP else hi


def target_slopes(target: Target) -> tuple[float | None, float | None]:
    """Return the target's asymptotic slopes ``(at -inf, at +inf)``, None where it has none.

    A bounded tail has slope 0; a tail that grows faster than linearly, or where the target is
    not real and finite, has None. See the module docstring for how they are measured.

    Examples:
        >>> from actfit.targets import get_target, parse_expression
        >>> target_slopes(get_target("leaky_relu", {"slope": 0.1}))
        (0.1, 1.0)
        >>> target_slopes(parse_expression("x**2"))
        (None, None)
    """
    return _slope_at(target, -1), _slope_at(target, +1)


@dataclass(frozen=True)
class SlopePlan:
    """What ``tail="match"`` imposes, and what it cannot.

    Attributes:
        slope: ``s`` in ``a_{n+1} = s * lead(Q)``: the slope of ``r`` at ``+inf``.
        target_slopes: the target's slopes ``(at -inf, at +inf)``.
        rational_slopes: the slopes ``r`` will have ``(at -inf, at +inf)``.
        matched: which ends agree with the target (``"-inf"``, ``"+inf"``).
        note: one sentence for the report: what was matched, and at which end the slopes
            differ and by how much.
    """

    slope: float
    target_slopes: tuple[float | None, float | None]
    rational_slopes: tuple[float, float]
    matched: tuple[str, ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dictionary of a fit's settings."""
        return {
            "slope": self.slope,
            "target_slopes": list(self.target_slopes),
            "rational_slopes": list(self.rational_slopes),
            "matched": list(self.matched),
            "note": self.note,
        }


def plan_match(target: Target, form: str, n: int) -> SlopePlan:
    """Return the slope ``tail="match"`` imposes for ``target`` in ``form`` with degree ``n``.

    Raises:
        ParameterError: the target has no slope at either end (it grows faster than linearly
            or is not finite far out).

    Examples:
        >>> from actfit.targets import get_target
        >>> plan_match(get_target("abs"), "safe", 3).matched
        ('-inf', '+inf')
    """
    s_minus, s_plus = target_slopes(target)
    sign = 1.0 if form == "plain" else (-1.0) ** n
    if s_plus is None and s_minus is None:
        raise ParameterError(
            f"tail 'match': target '{target.label}' has no asymptotic slope (it grows faster "
            "than linearly or is not finite far from 0); use tail 'linear'"
        )
    if s_plus is not None:
        slope = s_plus
    else:
        assert s_minus is not None
        slope = sign * s_minus
    rational = (sign * slope + 0.0, slope)
    matched = tuple(
        end
        for end, want, got in (("-inf", s_minus, rational[0]), ("+inf", s_plus, rational[1]))
        if want is not None and abs(want - got) <= 1e-12 * max(1.0, abs(want))
    )
    label = f"[{form}, n = {n}]"
    if len(matched) == 2:
        note = f"slopes matched at both ends: {rational[0]:g} at -inf, {rational[1]:g} at +inf"
    else:
        end = "+inf" if "+inf" in matched else "-inf"
        other = "-inf" if end == "+inf" else "+inf"
        want = s_minus if other == "-inf" else s_plus
        got = rational[0] if other == "-inf" else rational[1]
        pattern = "equal" if sign > 0 else "opposite"
        note = (
            f"slope matched at {end} ({slope if end == '+inf' else rational[0]:g}); a {label} "
            f"rational has {pattern} slopes at the two ends, so at {other} it is {got:g}"
            + ("" if want is None else f" where the target's is {want:g}")
            + (" (the target has no slope there)" if want is None else "")
        )
    return SlopePlan(slope, (s_minus, s_plus), rational, matched, note)

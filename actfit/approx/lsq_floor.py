"""Keep a plain least-squares table evaluable in the dtype it is meant for (issue 18).

The lsq counterpart of :mod:`actfit.approx.q_floor`: after the plain-form fit,
:func:`guard_lsq` assesses the table with the test the reports warn by
(:func:`actfit.approx.conditioning.assess_conditioning`, ``warns`` of the dtype: more than half
of its digits may be lost) and, unless ``allow_poles``, refits with a bound on the amplification
of rounding, checked again by the same assessment.

*The bound.* With ``S_P = sum |a_k| |x|^k`` and ``S_Q = sum |b_k| |x|^k`` of the stored
monomial coefficients, Horner's rule in a precision of unit roundoff ``u`` gives
``|r^ - r| <~ u ((3m + 2) S_P + (3n + 4) |r| S_Q) / |Q|`` (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., SIAM 2002, §5.1; the operation counts of
:mod:`actfit.approx.conditioning`). Relative to ``max(1, |r|)`` this amplification is asked to
stay below ``10^budget / margin`` (``budget`` half the dtype's digits) at points of a dense grid
of the range, a smooth inequality in the denominator parameters ``θ`` once the numerator is
eliminated (variable projection, Golub & Pereyra 1973): the constrained problem is solved by
SLSQP (Kraft 1988, :func:`scipy.optimize.minimize`) on the projected objective from the
unconstrained optimum and from ``Q = 1``. Unlike the LP rows of the minimax fitter it bounds the
numerator's cancellation too, since ``P`` is a function of ``θ`` here. The margin grows (2, 6,
18) while the exact assessment still warns; the best table is kept with a note if none clears.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.conditioning import WARN_FRACTION, assess_conditioning
from actfit.approx.monomial import (
    from_monomial_denominator,
    to_monomial_denominator,
    to_monomial_rational,
)
from actfit.approx.q_floor import check_dtype
from actfit.approx.varpro import VarPro, make_grid, make_varpro
from actfit.approx.weights import Weight
from actfit.rational import Rational

__all__ = ["guard_lsq"]

_Array = NDArray[np.float64]
_MARGINS = (1.0, 3.0, 10.0)
_POINTS = 201
_MAXITER = 60


class _Maps:
    """The linear maps from the internal coordinates to the stored monomial coefficients: the
    denominator ``θ -> b_1..b_n`` and the numerator's Chebyshev coefficients ``-> a``, built
    once from :func:`to_monomial_denominator` and :func:`cheb_to_monomial` on unit vectors
    (both linear; calling them at each SLSQP evaluation cost 4 ms each)."""

    def __init__(self, vp: VarPro, m: int, n: int) -> None:
        grid = vp.grid
        self.vp = vp
        self.den = np.array([to_monomial_denominator("plain", grid, e) for e in np.eye(n)]).T
        self.num = np.array(
            [np.pad(c := cheb_to_monomial(e, grid.a, grid.b), (0, m + 1 - c.size))
             for e in np.eye(m + 1)]
        ).T

    def rational(self, theta: _Array) -> Rational:
        return Rational(self.num @ self.vp.numerator(theta), self.den @ theta, "plain")


def _amplification(maps: _Maps, theta: _Array, m: int, n: int, xs: _Array) -> _Array:
    """The rounding amplification at ``xs`` (see the module docstring)."""
    r = maps.rational(theta)
    num, den = r.numerator, r.denominator_polynomial()
    ax = np.abs(xs)
    pw = np.polynomial.polynomial
    sp = pw.polyval(ax, np.abs(num))
    sq = pw.polyval(ax, np.abs(den))
    with np.errstate(all="ignore"):
        q = pw.polyval(xs, den)
        y = np.abs(pw.polyval(xs, num) / q)
        amp = ((3 * m + 2) * sp + (3 * n + 4) * y * sq) / (np.abs(q) * np.maximum(1.0, y))
    return np.where(np.isfinite(amp) & (q > 0), amp, 1e30)


def _solve(
    maps: _Maps, theta0: _Array, m: int, n: int, xs: _Array, level: float
) -> _Array | None:
    """SLSQP on the projected cost with ``amplification <= level`` at ``xs``; None on failure."""
    from scipy.optimize import minimize

    vp = maps.vp
    c0 = vp.cost(theta0)
    scale = 1.0 / max(c0, 1e-300) if math.isfinite(c0) and c0 > 0 else 1.0

    def fun(th: _Array) -> tuple[float, _Array]:
        c = vp.cost(th)
        if not math.isfinite(c):
            return 1e30, np.zeros_like(th)
        g = 2.0 * vp.jacobian(th).T @ vp.residual(th)
        return c * scale, g * scale

    def cons(th: _Array) -> _Array:
        amp = _amplification(maps, th, m, n, xs)
        return 1.0 - np.log10(np.maximum(amp, 1e-300)) / math.log10(level)

    res = minimize(fun, theta0, jac=True, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": cons}],
                   options={"maxiter": _MAXITER, "ftol": 1e-12})
    th = np.asarray(res.x, dtype=np.float64)
    if not np.all(np.isfinite(th)) or np.min(cons(th)) < -1e-6:
        return None
    return th


def _max_error(target: Any, r: Rational, a: float, b: float) -> float:
    xs = np.linspace(a, b, 4001)
    with np.errstate(all="ignore"):
        e = np.abs(np.asarray(target(xs), dtype=np.float64) - r(xs))
    return float(np.max(e)) if np.all(np.isfinite(e)) else math.inf


def guard_lsq(
    target: Any,
    weight: Weight,
    rational: Rational,
    settings: dict[str, Any],
    order: tuple[int, int],
    range: tuple[float, float],
    *,
    dtype: str,
    allow_poles: bool,
    panels: int,
    nodes_per_panel: int,
) -> tuple[Rational, dict[str, Any]]:
    """Return the plain lsq table, refitted when ``dtype`` may lose more than half its digits.

    The decision is the report's (``assess_conditioning(...).dtype(dtype).warns``); the
    refit is described in the module docstring. ``settings`` gains ``dtype``, ``digits_lost``
    and, when a refit was made, ``q_bound``: the constraint, the L2 and max errors without and
    with it, the digits lost before and after. With ``allow_poles`` nothing is refitted and a
    note says so.

    Raises:
        ParameterError: an unknown ``dtype``.
    """
    check_dtype(dtype)
    if rational.form != "plain":
        return rational, settings
    m, n = order
    a, b = range
    settings = dict(settings)
    entry = assess_conditioning(rational, a, b, dtypes=(dtype,)).dtype(dtype)
    settings.update(dtype=dtype, digits_lost=entry.digits_lost)
    notes = list(settings.get("notes", []))
    tail = settings.get("tail") or {}
    # An active tail constraint would be dropped by this refit (it solves its own problem).
    keep = None
    if tail.get("active"):
        keep = f"tail {tail.get('kind')!r} active (a refit would drop it)"
    if allow_poles or keep is not None or not entry.warns or n == 0:
        if allow_poles or (keep is not None and entry.warns):
            notes.append(
                f"{'allow_poles' if allow_poles else keep}: no bound on the rounding "
                "amplification imposed"
                + (f" ({dtype} may lose {entry.digits_lost:.1f} of its {entry.digits:.1f} digits)"
                   if entry.warns else "")
            )
            settings["notes"] = notes
        return rational, settings
    budget = WARN_FRACTION * entry.digits
    breakpoints = tuple(float(v) for v in settings["quadrature"]["breakpoints"])
    grid = make_grid(target, weight, a, b, breakpoints, panels, nodes_per_panel)
    vp = make_varpro(grid, m, n, "plain")
    maps = _Maps(vp, m, n)
    xs = np.linspace(a, b, _POINTS)
    theta_free = from_monomial_denominator("plain", grid, np.asarray(rational.denominator))
    l2_without = float(settings.get("l2_error", math.sqrt(max(vp.cost(theta_free), 0.0))))
    max_without = _max_error(target, rational, a, b)
    best: tuple[tuple[float, float], Rational, float, float] | None = None
    tried = []
    for margin in _MARGINS:
        level = 10.0**budget / margin
        for start in (theta_free, np.zeros(n)):
            th = _solve(maps, start, m, n, xs, level)
            if th is None:
                continue
            cands = [maps.rational(th)]
            conv, _, _ = to_monomial_rational(grid, m, "plain", vp, th)
            cands.append(conv)
            for r in cands:
                d = assess_conditioning(r, a, b, dtypes=(dtype,)).dtype(dtype)
                if any(a <= p <= b for p in r.real_poles()):
                    continue
                with np.errstate(all="ignore"):
                    res = grid.sw * (grid.f - r(grid.x))
                l2 = float(np.sqrt(res @ res))
                tried.append({"margin": margin, "l2_error": l2, "digits_lost": d.digits_lost})
                key = (d.digits_lost if d.warns else 0.0, l2)
                if best is None or key < best[0]:
                    best = (key, r, level, d.digits_lost)
        if best is not None and best[0][0] == 0.0:
            break
    if best is None:
        notes.append(
            f"{dtype} may lose {entry.digits_lost:.1f} of its {entry.digits:.1f} digits and no "
            "bounded refit was found; the unconstrained table is kept"
        )
        settings["notes"] = notes
        return rational, settings
    (lost_left, l2_with), r, level, lost_after = best
    constraint = (
        f"((3m+2) S_P + (3n+4) |r| S_Q) / (|Q| max(1, |r|)) <= {level:.3g} at {xs.size} points "
        "of the range (S_P, S_Q: sums of |coefficient| |x|^k)"
    )
    max_with = _max_error(target, r, a, b)
    settings.update(
        digits_lost=lost_after,
        l2_error=l2_with,
        q_bound={
            "constraint": constraint,
            "l2_error_without": l2_without,
            "l2_error_with": l2_with,
            "max_error_without": max_without,
            "max_error_with": max_with,
            "digits_lost_without": entry.digits_lost,
            "digits_lost_with": lost_after,
            "tried": tried,
        },
    )
    notes.append(
        f"{dtype} would lose {entry.digits_lost:.1f} of its {entry.digits:.1f} digits: "
        f"{constraint} imposed; L2 error {l2_without:.6g} -> {l2_with:.6g}, max error "
        f"{max_without:.6g} -> {max_with:.6g}, digits lost {entry.digits_lost:.1f} -> "
        f"{lost_after:.1f}"
    )
    if lost_left > 0.0:
        notes.append(
            f"the bound did not clear the {dtype} warning: the table kept still loses "
            f"{lost_after:.1f} digits (use a lower order or the safe form)"
        )
    settings["notes"] = notes
    return r, settings

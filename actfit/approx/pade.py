"""Padé approximants of analytic targets: exact Taylor data, robust (SVD) solve, honest report.

:func:`fit_pade` returns the ``[m, n]`` Padé approximant ``P/Q`` of a target at a center ``x0``:
the rational function of type ``[m, n]`` whose Taylor series agrees with the target's to the
highest possible order. It proceeds in three steps.

*Taylor coefficients* (:func:`actfit.approx.taylor.taylor_coefficients`): exact rationals where
the target's expression allows it, ``dps``-digit mpmath numbers otherwise; ``settings["taylor"]``
says which.

*Robust Padé* (:func:`actfit.approx.pade_solver.robust_pade`): the SVD-based algorithm of Gonnet,
Güttel and Trefethen (2013), exact with rational data; a degenerate Padé table lowers the type
instead of failing, and spurious pole-zero pairs (Froissart doublets) are removed. The delivered
type and why it was lowered are in ``settings``.

*Rounding.* Only the final coefficients, re-expanded about ``x = 0`` and normalised to
``Q(0) = 1``, are rounded to float64 (correctly rounded from the exact or high-precision values).

The result is a ``plain``-form :class:`~actfit.rational.Rational`. The ``safe`` form
``Q = 1 + Σ |b_k| |x|^k`` equals the plain ``1 + Σ b_k x^k`` on the whole real line exactly when
every odd ``b_k`` is zero and every even ``b_k`` is ``>= 0``; the ``abs`` form
``Q = 1 + |S|``, ``S = Σ b_k x^k``, equals it exactly when ``S(x) >= 0`` for every real ``x``
(decided exactly, :func:`actfit.roots.is_nonnegative`). Those forms are accepted only in those
cases (the coefficients are then the same), and refused otherwise.

References:
    P. Gonnet, S. Güttel and L. N. Trefethen, "Robust Padé approximation via SVD", SIAM Review
    55 (2013), 101–117.
    G. A. Baker and P. Graves-Morris, *Padé Approximants*, 2nd ed., Cambridge (1996).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from actfit.approx.pade_solver import (
    DEFAULT_DOUBLET_TOL,
    DEFAULT_TOL,
    PadeResult,
    robust_pade,
)
from actfit.approx.taylor import DEFAULT_DPS, Number, is_exact, taylor_coefficients, to_mpf
from actfit.errors import FitError, FormError, ParameterError
from actfit.fit import Fit, make_fit
from actfit.options import (
    DEFAULT_ORDER,
    DEFAULT_RANGE,
    MAX_RANGE_ABS,
    Progress,
    as_range,
    check_order,
)
from actfit.rational import Rational, require_fit_form
from actfit.roots import is_nonnegative
from actfit.targets import Target, as_target

if TYPE_CHECKING:
    from actfit.approx.weights import Weight

__all__ = [
    "DEFAULT_DOUBLET_TOL",
    "DEFAULT_DPS",
    "DEFAULT_TOL",
    "PadeResult",
    "exact_string",
    "fit_pade",
    "robust_pade",
    "taylor_coefficients",
]


def _mp() -> Any:
    import mpmath

    return mpmath


def _radius_estimate(c: Sequence[Number]) -> float:
    """Return a root-test estimate ``min |c_k|^(-1/k)`` over the upper half of the series.

    It approximates the radius of convergence (Cauchy–Hadamard); ``inf`` for a polynomial.
    """
    vals = []
    for k in range(max(1, len(c) // 2), len(c)):
        if c[k] != 0:
            vals.append(float(abs(to_mpf(c[k]))) ** (-1.0 / k))
    return min(vals) if vals else math.inf


# ------------------------------------------------------------------------------------------------
# re-centering, forms, the fit
# ------------------------------------------------------------------------------------------------
def _shift(coeffs: Sequence[Number], c: Fraction) -> list[Number]:
    """Return the coefficients in ``x`` of ``sum_k coeffs[k] (x - c)^k``.

    The exact coefficients are shifted exactly (``sympy.Poly.shift`` over QQ), the others in
    sympy's RealField at the working mpmath precision; a result coefficient stays exact when no
    inexact coefficient contributes to it (those of the same or a higher power).
    """
    if c == 0:
        return list(coeffs)
    import sympy
    from sympy import QQ, Poly, RealField

    mp = _mp()
    x = sympy.Symbol("x")
    exact = [Fraction(v) if is_exact(v) else Fraction(0) for v in coeffs]
    inexact = [mp.mpf(0) if is_exact(v) else v for v in coeffs]
    shift = QQ(-c.numerator, c.denominator)
    ep = Poly.from_list([QQ(v.numerator, v.denominator) for v in exact[::-1]], x, domain=QQ)
    out: list[Number] = [Fraction(int(v.numerator), int(v.denominator))
                         for v in ep.shift(shift).all_coeffs()[::-1]]
    out += [Fraction(0)] * (len(coeffs) - len(out))
    last = max((k for k, v in enumerate(coeffs) if not is_exact(v) and v != 0), default=-1)
    if last >= 0:
        field = RealField(prec=mp.mp.prec)
        ip = Poly.from_list([field(v) for v in inexact[::-1]], x, domain=field)
        shifted = [mp.mpf(v) for v in ip.shift(field(-float(c))).rep.to_list()[::-1]]
        for j in range(last + 1):
            out[j] = shifted[j] + to_mpf(out[j])
    return out


def exact_string(v: Number, digits: int = 30) -> str:
    """Return ``"p/q"`` for an exact rational, else ``"~"`` and ``digits`` significant digits."""
    if is_exact(v):
        f = Fraction(v)
        return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
    return "~" + _mp().nstr(v, digits)


def _check_form(form: str, rational: Rational) -> str:
    """Return ``form`` if the plain Padé denominator is representable in it, else raise."""
    form = require_fit_form(form)
    if form == "plain":
        return form
    b = rational.denominator
    if form == "safe":
        odd = [k for k in range(1, b.size + 1) if k % 2 == 1 and b[k - 1] != 0]
        neg = [k for k in range(1, b.size + 1) if k % 2 == 0 and b[k - 1] < 0]
        if not odd and not neg:
            return form
        why = (
            f"b_{odd[0]} != 0 (an odd power)" if odd else f"b_{neg[0]} < 0 (a negative even power)"
        )
        raise FormError(
            f"the Padé denominator is not representable in the safe form ({why}); safe equals "
            "plain only when every odd b_k is 0 and every even b_k >= 0. Use --form plain, or "
            "`actfit lsq` / `actfit minimax` for a safe-form fit"
        )
    # abs: 1 + |S| == 1 + S on the whole line  <=>  S(x) >= 0 for every real x
    if is_nonnegative([0.0, *b.tolist()]):
        return form
    raise FormError(
        "the Padé denominator is not representable in the abs form (S(x) = Σ b_k x^k takes "
        "negative values, so 1 + |S| differs from 1 + S); abs equals plain only when S >= 0 on "
        "the whole real line. Use --form plain, or `actfit lsq` / `actfit minimax` for an abs fit"
    )


def fit_pade(
    target: Target | str,
    order: Sequence[int] = DEFAULT_ORDER,
    range: Sequence[float] = DEFAULT_RANGE,
    *,
    form: str = "plain",
    weight: str | Weight = "uniform",
    allow_poles: bool = False,
    progress: Progress | None = None,
    center: float = 0.0,
    exact: bool = False,
    tol: float = DEFAULT_TOL,
    dps: int = DEFAULT_DPS,
    doublet_tol: float = DEFAULT_DOUBLET_TOL,
    **params: float,
) -> Fit:
    """Return the robust ``[m, n]`` Padé approximant of ``target`` at ``center`` as a :class:`Fit`.

    The Taylor coefficients come from the target's exact sympy expression (exact rationals
    where possible), the Padé conditions are solved exactly or at ``dps`` digits with the
    SVD-based robust algorithm of Gonnet, Güttel and Trefethen (2013), and only the final
    coefficients are rounded to float64. When the Padé table is degenerate at ``[m, n]`` the
    type is lowered rather than failing; ``fit.settings`` then records the delivered type and
    why (``"requested"``, ``"delivered"``, ``"lowered"``, ``"reasons"``).

    Args:
        target: the function to approximate (a Target, a registry name or an expression in
            ``x``); it must be analytic at ``center``.
        order: the requested type ``(m, n)``, degrees up to 12.
        range: the range ``(a, b)`` of the error and pole reports.
        form: ``plain`` (default). ``safe`` / ``abs`` only when the Padé denominator is
            representable in them (see the module docstring).
        weight: only ``"uniform"``: a Padé approximant has no error weight.
        allow_poles: keep a result whose denominator vanishes on the range.
        progress: called as ``progress(stage, fraction_done)`` at the start and the end.
        center: the expansion point ``x0``.
        exact: also record the exact coefficients as strings (``"1/9"``; ``"~0.693..."`` for
            a non-rational one) in ``fit.settings["exact"]``.
        tol: relative tolerance of the rank decisions on inexact (mpmath) Taylor data.
        dps: decimal digits of the high-precision arithmetic.
        doublet_tol: relative residue below which a pole is a Froissart doublet and removed
            (0 keeps every pole).
        **params: the target's parameters when it is given by name (``slope=0.1``).

    Raises:
        ParameterError: a ``weight`` other than ``"uniform"``, or bad target parameters.
        NotAnalyticError: ``target`` is not analytic at ``center`` (a kink: use ``lsq`` or
            ``minimax``, or another center).
        FormError: ``form`` is safe/abs and the denominator is not representable in it.
        PoleError: the denominator vanishes on the range and ``allow_poles`` is False.
        FitError: the approximant's denominator vanishes at ``x = 0``, so it cannot be written
            with ``Q(0) = 1``.

    Examples:
        >>> fit = fit_pade("tanh", (5, 4), exact=True)
        >>> fit.settings["exact"]["numerator"]
        ['0', '1', '0', '1/9', '0', '1/945']
    """
    target = as_target(target, params)
    m, n = check_order(order)
    a_lo, b_hi = as_range(range)
    form = require_fit_form(form)
    if not (isinstance(weight, str) and weight.strip().lower() == "uniform"):
        raise ParameterError(
            "a Padé approximant matches Taylor coefficients and has no error weight; use "
            "fit_lsq or fit_minimax for a weighted fit"
        )
    c = float(center)
    if not math.isfinite(c) or abs(c) > MAX_RANGE_ABS:
        raise ParameterError(
            f"the center {c:g} must be a finite number within +-{MAX_RANGE_ABS:g} (the powers "
            "(x - x0)^k of the expansion overflow float64 beyond that), e.g. center 0"
        )
    stage = f"pade {target.name}"
    if progress is not None:
        progress(stage, 0.0)
    coeffs, how = taylor_coefficients(target, c, m + n + 1, dps)
    # The rank test is relative to the series on |x - x0| <= scale: the range, but not beyond
    # the (estimated) radius of convergence, where the coefficients of f(x0 + scale*t) would grow
    # and swamp the tolerance (Gonnet, Güttel and Trefethen 2013, section 6).
    scale = min(max(abs(a_lo - c), abs(b_hi - c)), _radius_estimate(coeffs))
    mp = _mp()
    with mp.workdps(dps):
        res = robust_pade(
            coeffs, (m, n), tol=tol, scale=scale, dps=dps, doublet_tol=doublet_tol, center=c
        )
        cx = Fraction(c)
        num = _shift(res.numerator, cx)
        den = _shift(res.denominator, cx)
        q0 = den[0]
        size = max(abs(to_mpf(v)) * abs(to_mpf(cx)) ** k for k, v in enumerate(res.denominator))
        if q0 == 0 or abs(to_mpf(q0)) <= 1e-30 * size:
            raise FitError(
                f"the Padé denominator at center {c:g} vanishes at x = 0, so it cannot be "
                "written with Q(0) = 1; choose another --center or --order"
            )
        num = [v / q0 for v in num]
        den = [v / q0 for v in den]
        num_f = [float(v) for v in num]
        den_f = [float(v) for v in den[1:]]
    rational = Rational(num_f, den_f, "plain")
    rational = rational.with_form(_check_form(form, rational))
    lowered = res.delivered != (m, n)
    settings: dict[str, Any] = {
        "center": c,
        "requested": [m, n],
        "delivered": list(res.delivered),
        "lowered": lowered,
        "reasons": list(res.reasons),
        "tolerance": tol,
        "doublet_tolerance": doublet_tol,
        "scale": scale,
        "dps": dps,
        "taylor": how,
        "solve": res.solve,
        "exact_rational": all(is_exact(v) for v in (*num, *den)),
    }
    if exact:
        settings["exact"] = {
            "numerator": [exact_string(v) for v in num],
            "denominator": [exact_string(v) for v in den[1:]],
        }
    fit = make_fit(
        target,
        rational,
        method="pade",
        settings=settings,
        range=(a_lo, b_hi),
        allow_poles=allow_poles,
    )
    if progress is not None:
        progress(stage, 1.0)
    return fit

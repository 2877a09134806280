"""The optimality certificate of a uniform (minimax) fit: what is proven about its worst error.

:class:`Certificate` is the record (status, upper and lower bound, gap, the argument in words,
the alternation points); :func:`certify` computes it for any rational against its target.

The upper bound is the attained maximum of ``w |f - r|`` for the given coefficients (the larger
of :func:`actfit.approx.metrics.max_error` and the refined extrema of
:func:`actfit.approx.extrema.error_extrema`). The lower bound is de la Vallée Poussin's: let
``r = p/q`` have type [m, n], ``q`` without zero on ``[a, b]``, ``deg p = m - μ``,
``deg q = n - ν`` and defect ``d = min(μ, ν)``. If ``w (f - r)`` alternates in sign at
``m + n + 2 - d`` points with ``|w (f - r)| >= λ`` there, then *every* rational ``p*/q*`` of type
[m, n] with ``q*`` free of zeros on ``[a, b]`` has weighted error ``>= λ``. (Otherwise ``r* - r``
would alternate at those points, so ``p* q - p q*``, of degree ``<= m + n - d``, would have
``m + n + 1 - d`` zeros and vanish: ``r* = r``.) The errors at the points are re-evaluated in
40-digit arithmetic (``Target.mp``) on the exact binary values of the coefficients.

The theorem needs the Haar-like class of the ``plain`` form; for ``safe`` and ``abs``
:func:`certify` claims no lower bound and the status is ``"local"``. The safe form gets one from
the plain class on each side of 0 (:mod:`actfit.approx.safe_bound`); the abs form has none, for
the reason the certificate states (the zeros of ``B`` in ``Q = 1 + |B|`` are free).

References:
    Ch. J. de la Vallée Poussin, *Leçons sur l'approximation des fonctions d'une variable
    réelle*, Gauthier-Villars (1919).
    N. I. Achieser, *Theory of Approximation*, Ungar (1956), sec. 2.11 (alternation for
    rational approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.extrema import alternant, dense_grid, error_extrema, rounding_level
from actfit.approx.metrics import max_error
from actfit.approx.weights import Weight, parse_weight
from actfit.rational import Rational

__all__ = ["Certificate", "certify", "mp_errors", "special_points", "with_bound"]

_Array = NDArray[np.float64]
# Rounding-level plain tables: 40-digit error samples per alternation point needed (the ripple's
# peaks are then sampled within ~0.5%), and at most this many in all (about 0.06 s).
_EXACT_SAMPLES = 32
_EXACT_MAX = 1200


@dataclass(frozen=True)
class Certificate:
    """What was proven about the optimality of a fit's worst-case error.

    Attributes:
        status: ``"global"`` (bounds certify the best approximation in the class, within
            ``gap``), ``"local"`` (a local optimum; ``lower`` is then not a certified bound
            on the best error), or ``"none"``.
        upper: an attained max error (the fit's own error): an upper bound on the best error.
        lower: a lower bound on the best achievable error (de la Vallée Poussin), or None.
        gap: ``(upper - lower) / upper`` when both are known, else None.
        detail: what was done and what the bounds rest on, in words.
        points: the alternation (reference) points used for the lower bound.
    """

    status: str
    upper: float
    lower: float | None = None
    gap: float | None = None
    detail: str = ""
    points: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dictionary used in result documents."""
        return {
            "status": self.status,
            "upper": self.upper,
            "lower": self.lower,
            "gap": self.gap,
            "detail": self.detail,
            "points": list(self.points),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Certificate:
        """Inverse of :meth:`to_dict`."""
        return cls(
            status=str(d["status"]),
            upper=float(d["upper"]),
            lower=None if d.get("lower") is None else float(d["lower"]),
            gap=None if d.get("gap") is None else float(d["gap"]),
            detail=str(d.get("detail", "")),
            points=tuple(float(v) for v in d.get("points", ())),
        )


def special_points(lo: float, hi: float, kinks: tuple[float, ...], form: str) -> list[float]:
    """The points where the error may peak *at* the point: the ends, the kinks inside, and 0 for
    the ``safe`` and ``abs`` forms (whose denominators have a kink there).

    Examples:
        >>> special_points(-1.0, 1.0, (0.5, 2.0), "safe")
        [-1.0, 0.0, 0.5, 1.0]
    """
    pts = [lo, hi]
    pts += [k for k in kinks if lo < k < hi]
    if form != "plain" and lo < 0.0 < hi:
        pts.append(0.0)
    return sorted(set(pts))


def _degree(coeffs: _Array) -> int:
    nz = np.flatnonzero(np.asarray(coeffs) != 0)
    return int(nz[-1]) if nz.size else -1


def mp_errors(target: Any, weight: Weight, rational: Rational, xs: _Array) -> _Array | None:
    """Weighted errors ``w (f - r)`` at ``xs`` in 40-digit arithmetic, on the exact binary values
    of the stored coefficients (None when the target has no ``.mp``)."""
    if not hasattr(target, "mp"):
        return None
    import mpmath

    out = []
    with mpmath.workdps(40):
        num = [mpmath.mpf(float(c)) for c in rational.numerator]
        den = [mpmath.mpf(float(c)) for c in rational.denominator_polynomial()]
        for x in xs:
            xm = mpmath.mpf(float(x))
            p = mpmath.polyval(num[::-1], xm)
            if rational.form == "plain":
                q = mpmath.polyval(den[::-1], xm)
            elif rational.form == "safe":
                q = mpmath.polyval([abs(c) for c in den[::-1]], abs(xm))
            else:
                q = 1 + abs(mpmath.polyval(den[::-1], xm) - 1)
            e = target.mp(xm) - p / q
            out.append(float(e) * float(weight(np.array([float(x)]))[0]))
    return np.array(out)


def _horner_bound(w: Weight, rational: Rational, dense: _Array) -> float:
    """Max over ``dense`` of a float64 running-error bound of Horner's evaluation of the stored
    table, weighted: ``eps ((m+1) Σ|a_k x^k| + (n+1) |r| Σ|b_k x^k|) / |Q|`` (Higham, *Accuracy
    and Stability of Numerical Algorithms*, 2002, sec. 5.1, first order)."""
    eps = float(np.finfo(float).eps)
    pw = np.polynomial.polynomial
    ax = np.abs(dense)
    p_abs = pw.polyval(ax, np.abs(rational.numerator))
    q_abs = pw.polyval(ax, np.abs(rational.denominator_polynomial()))
    with np.errstate(all="ignore"):
        dp = rational.denominator_polynomial()
        if rational.form == "plain":
            q = np.abs(pw.polyval(dense, dp))
        elif rational.form == "safe":
            q = pw.polyval(ax, np.abs(dp))
        else:
            q = 1.0 + np.abs(pw.polyval(dense, dp) - 1.0)
        r = np.abs(rational(dense))
        m, n = rational.degree
        bound = w(dense) * eps * ((m + 1) * p_abs + (n + 1) * r * q_abs) / q
    ok = np.isfinite(bound)
    return float(np.max(bound[ok])) if np.any(ok) else math.nan


def _resolution(
    target: Any, w: Weight, rational: Rational, xs: _Array, es: _Array, dense: _Array
) -> str:
    """The figures behind a rounding-level certificate: the error of the stored coefficients in
    40 digits at the largest extrema, and Horner's float64 running-error bound of the table
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, sec. 5.1)."""
    horner = _horner_bound(w, rational, dense)
    top = np.argsort(-np.abs(es))[:24]
    exact = mp_errors(target, w, rational, xs[top])
    text = (
        ". At float64 resolution: Horner's float64 running-error bound of the table is "
        f"{horner:.1e}"
    )
    if exact is not None and exact.size:
        text += (
            f"; the stored coefficients evaluated in 40 digits at the {exact.size} largest "
            f"extrema have max error {float(np.max(np.abs(exact))):.1e}"
        )
    return text


def _exact_alternation(
    target: Any, w: Weight, rational: Rational, a: float, b: float, fixed: list[float],
    need: int,
) -> tuple[float, _Array, int] | None:
    """De la Vallée Poussin's bound from the *exact* error of the stored coefficients, for a
    plain table at rounding level (where float64 cannot see the error's sign): the 40-digit
    error at ``_EXACT_SAMPLES`` Chebyshev points per alternation (and the special points), its
    best alternating subsequence of ``need`` points, and ``(lower, points, samples)``; None when
    it does not alternate enough (the target is in the class, or beyond 40 digits), the table
    has a pole on the range or the target has no 40-digit values. The bound is valid at sampled
    points (de la Vallée Poussin needs only alternation at some points); sampling finer than the
    ripple makes it close to the exact extrema's (within ~(pi / _EXACT_SAMPLES)^2 / 2)."""
    if rational.form != "plain" or not hasattr(target, "mp"):
        return None
    if any(a <= p <= b for p in rational.real_poles()):
        return None
    count = min(_EXACT_SAMPLES * need, _EXACT_MAX)
    t = np.cos(np.pi * (np.arange(count) + 0.5) / count)[::-1]
    xs = np.union1d(0.5 * (a + b) + 0.5 * (b - a) * t, np.asarray(fixed, dtype=float))
    es = mp_errors(target, w, rational, xs)
    if es is None or not np.all(np.isfinite(es)):
        return None
    px, pe = alternant(xs, es, need)
    if px.size < need:
        return None
    return float(np.min(np.abs(pe))) * (1.0 - 1e-12), px, int(xs.size)


def certify(
    target: Any,
    rational: Rational,
    a: float,
    b: float,
    *,
    weight: Weight | None = None,
    kinks: tuple[float, ...] = (),
    order: tuple[int, int] | None = None,
) -> Certificate:
    """Return the :class:`Certificate` of a rational as a minimax fit of ``target``.

    The upper bound is the attained maximum of ``w |f - r|`` on ``[a, b]``; for the ``plain``
    form the lower bound is de la Vallée Poussin's (see the module docstring), valid for every
    rational of type ``order`` whose denominator has no zero on ``[a, b]``; status ``"global"``
    when its alternation condition holds, ``"local"`` otherwise.

    Args:
        target: vectorised target (a :class:`~actfit.targets.Target` gets 40-digit checks).
        rational: the approximation.
        a: left end of the range.
        b: right end of the range.
        weight: the minimax weight (uniform when None).
        kinks: points where the target or the weight is not smooth.
        order: the class [m, n] (default: the rational's nominal degree).
    """
    w = weight or parse_weight("uniform", range=(a, b))
    m, n = order if order is not None else rational.degree

    def err(x: _Array) -> _Array:
        with np.errstate(all="ignore"):
            return w(x) * (np.asarray(target(x), dtype=np.float64) - rational(x))

    fixed = special_points(a, b, tuple(kinks), rational.form)
    dense = dense_grid(a, b, special=fixed)
    xs, es, finite = error_extrema(err, dense, fixed)
    upper_metrics, _ = max_error(err, a, b, tuple(fixed))
    upper = max(float(np.max(np.abs(es))), float(upper_metrics))
    if not (finite and math.isfinite(upper)):
        return Certificate(
            "none", math.inf, None, None, "the error is not finite on the range (a pole)", ()
        )
    noise = rounding_level(np.asarray(target(dense), dtype=np.float64), w(dense))
    mu = m - _degree(rational.numerator)
    nu = n - _degree(rational.denominator_polynomial())
    defect = max(0, min(mu, nu)) if _degree(rational.numerator) >= 0 else n
    need = m + n + 2 - defect
    if upper <= noise:
        exact = _exact_alternation(target, w, rational, a, b, fixed, need)
        if exact is not None:
            lower, points, sampled = exact
            return Certificate(
                "global",
                upper,
                min(lower, upper),
                (upper - min(lower, upper)) / upper,
                f"the target is reproduced to rounding level (error <= {noise:.1e}), and the "
                f"exact error of the stored coefficients (40 digits at {sampled} points) "
                f"alternates in sign at {points.size} points (>= m+n+2-d = {need}; defect d = "
                f"{defect}) with |error| >= lower there, and Q has no zero on [{a:g}, {b:g}]: by "
                "de la Vallée Poussin every rational of the type whose denominator has no zero "
                "on the range has error >= lower; upper is the table's error evaluated in "
                "float64, and the figures that follow (Horner's bound, the 40-digit error) say "
                "how much of the gap is float64's evaluation rounding"
                + _resolution(target, w, rational, xs, es, dense),
                tuple(float(v) for v in points),
            )
        return Certificate(
            "global",
            upper,
            0.0,
            1.0,
            f"the target is reproduced to rounding level (error <= {noise:.1e}): the best error "
            "is 0 up to rounding, so the relative gap is not meaningful"
            + _resolution(target, w, rational, xs, es, dense),
            (),
        )
    px, pe = alternant(xs, es, need)
    what = (
        f"weighted error ({w.description})" if w.spec != "uniform" else "error"
    )
    if rational.form != "plain":
        reason = (
            f"{rational.form} form: no alternation theorem holds for this class, so the fit is a "
            "local optimum (from differential correction, which converges to the global "
            "optimum on its final grid in exact arithmetic"
            + (" for the chosen sign pattern of S" if rational.form == "abs" else "")
            + ")"
            + (
                "; no lower bound is claimed: Q = 1 + |B(x)| has the real zeros of B free, so "
                "there is no fixed subinterval on which every member of the class is a rational "
                "function (as there is for the safe form, on each side of 0), and no "
                "alternation theorem for the class on the range"
                if rational.form == "abs"
                else ""
            )
        )
        return Certificate("local", upper, None, None, reason, tuple(float(v) for v in px))
    poles = [p for p in rational.real_poles() if a <= p <= b]
    if poles:
        return Certificate(
            "none",
            upper,
            None,
            None,
            f"the denominator vanishes on the range at x = {poles[0]:.6g}; no bound applies",
            (),
        )
    if px.size < need:
        signs = np.sign(es[np.isfinite(es) & (es != 0)])
        count = int(1 + np.count_nonzero(signs[1:] != signs[:-1])) if signs.size else 0
        return Certificate(
            "local",
            upper,
            None,
            None,
            f"the {what} alternates at only {count} of the m+n+2-d = {need} points that de la "
            f"Vallée Poussin's bound needs (type [{m},{n}], defect d = {defect}); local optimum",
            tuple(float(v) for v in px),
        )
    exact = mp_errors(target, w, rational, px)
    how = "float64"
    if exact is not None:
        if np.all(np.sign(exact) == np.sign(pe)):
            pe = exact
            how = "40-digit"
        else:
            return Certificate(
                "local",
                upper,
                None,
                None,
                "the alternation signs do not survive re-evaluation in 40-digit arithmetic "
                "(errors at rounding level); no lower bound is claimed",
                tuple(float(v) for v in px),
            )
    lower = float(np.min(np.abs(pe))) * (1.0 - 1e-12)
    lower = min(lower, upper)
    gap = (upper - lower) / upper if upper > 0 else 0.0
    detail = (
        f"de la Vallée Poussin: the {what} alternates in sign at {px.size} points "
        f"(>= m+n+2-d = {need}; defect d = {defect}) with |error| >= lower there ({how} "
        f"evaluation of the stored coefficients), and Q has no zero on [{a:g}, {b:g}]; so every "
        f"rational of type [{m},{n}] whose denominator has no zero on the range has error >= "
        "lower. upper: attained max error of the table evaluated in float64 (dense grid + "
        "refinement; the pole report's conditioning bounds how far float64 evaluation is from "
        "the exact rational; --prove gives a rigorous upper bound)."
    )
    if gap > 1e-3:
        horner = _horner_bound(w, rational, dense)
        if upper - lower <= 4.0 * (horner + noise):
            detail += (
                f" At float64 resolution: upper - lower = {upper - lower:.1e} is within 4 times "
                f"the float64 evaluation noise ({horner:.1e}, Horner's running-error bound of "
                f"the stored table, + {noise:.1e}, 64 ulps of the target): the gap "
                f"{gap:.1e} is rounding, not a distance from the optimum."
            )
    return Certificate("global", upper, lower, gap, detail, tuple(float(v) for v in px))


def with_bound(cert: Certificate, other: Certificate | None) -> Certificate:
    """Return ``cert`` with the lower bound of ``other``, a certificate for another member of the
    same class, when that bound is valid and better (a bound holds for the whole class)."""

    if other is None or other.lower is None or other.status != "global":
        return cert
    if cert.status == "global" and cert.lower is not None and cert.lower >= other.lower:
        return cert
    lower = min(other.lower, cert.upper)
    gap = (cert.upper - lower) / cert.upper if cert.upper > 0 else 0.0
    # The other certificate's "at float64 resolution" sentence is about its own gap, not this
    # fit's: leave it out so that the text does not call this fit's gap rounding.
    theirs = other.detail.split(" At float64 resolution:")[0]
    # Their detail names the proof (de la Vallée Poussin, or the safe class's Farkas certificate
    # after a stored-table refinement); this sentence does not name one of its own.
    detail = (
        f"lower bound from a second approximant of the same class ({theirs}) The returned "
        f"fit's own check: {cert.detail}"
    )
    return Certificate("global", cert.upper, lower, gap, detail, other.points)

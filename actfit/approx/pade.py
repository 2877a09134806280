"""Padé approximants of analytic targets: exact Taylor data, robust (SVD) solve, honest report.

:func:`fit_pade` returns the ``[m, n]`` Padé approximant ``P/Q`` of a target at a center ``x0``:
the rational function of type ``[m, n]`` whose Taylor series agrees with the target's to the
highest possible order. It proceeds in three steps.

*Taylor coefficients* (:func:`taylor_coefficients`). The target's exact sympy expression is
expanded by truncated power-series arithmetic (Cauchy products, and the first-order recurrences
of ``exp``, ``log``, powers, trigonometric and hyperbolic functions, ``erf``; see Henrici,
*Applied and Computational Complex Analysis* vol. 1 (1974), section 1.6, or Knuth, *TAOCP* vol. 2,
4.7). Every coefficient is an exact rational (:class:`fractions.Fraction`) as long as the
expression allows it (swish, tanh, sigmoid at 0; softplus except ``log 2``); where a constant is
irrational (``exp(1/2)``, ``sqrt(2/pi)`` in gelu) that coefficient is carried as an mpmath number
at ``dps`` digits. Piecewise parts (``max``, ``abs``, ``Piecewise``...) are resolved to the branch
that holds near ``x0``. Only for functions the series arithmetic does not know, ``mpmath.taylor``
(numerical differentiation at raised precision) is used. ``settings["taylor"]`` says which.

*Robust Padé* (:func:`robust_pade`). The algorithm of Gonnet, Güttel and Trefethen (2013): the
``n x (n+1)`` Toeplitz block of the linearised Padé conditions is tested for rank with an SVD at
``dps`` digits (singular values below ``tol * ||c||_2`` count as zero, with the Taylor
coefficients scaled to the range so that ``tol`` is relative to the target's size there); while
it is rank deficient by ``d`` the type is lowered from ``[m, n]`` to ``[m-d, n-d]`` (the Padé
table's square blocks; Gragg 1972). With exact rational data the rank is also computed exactly.
The denominator is the null vector of the full-rank block (exact rational elimination when the
data are rational, the SVD otherwise); common factors ``x^k`` and vanishing top coefficients are
removed. The result never carries a spurious pole-zero pair (Froissart doublet) at the tolerance
level, and a defective case such as tanh ``[2, 1]`` (where ``mpmath.pade`` and
``scipy.interpolate.pade`` raise "singular matrix") gives the lower type ``[1, 0]`` instead of an
error. The delivered type and why it was lowered are in ``settings``.

*Rounding.* Only the final coefficients, re-expanded about ``x = 0`` and normalised to
``Q(0) = 1``, are rounded to float64 (correctly rounded from the exact or high-precision values).

The result is a ``plain``-form :class:`~actfit.rational.Rational`. The ``safe`` form
``Q = 1 + Σ |b_k| |x|^k`` equals the plain ``1 + Σ b_k x^k`` on the whole real line exactly when
every odd ``b_k`` is zero and every even ``b_k`` is ``>= 0``; the ``abs`` form
``Q = 1 + |S|``, ``S = Σ b_k x^k``, equals it exactly when ``S(x) >= 0`` for every real ``x``. Those
forms are accepted only in those cases (the coefficients are then the same), and refused otherwise.

References:
    P. Gonnet, S. Güttel and L. N. Trefethen, "Robust Padé approximation via SVD", SIAM Review
    55 (2013), 101–117.
    W. B. Gragg, "The Padé table and its relation to certain algorithms of numerical analysis",
    SIAM Review 14 (1972), 1–62.
    G. A. Baker and P. Graves-Morris, *Padé Approximants*, 2nd ed., Cambridge (1996).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from actfit.errors import FitError, FormError, NotAnalyticError
from actfit.options import as_range, check_order
from actfit.rational import Rational, require_fit_form

if TYPE_CHECKING:
    import mpmath

    from actfit.fit import Fit
    from actfit.targets import Target

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

DEFAULT_DPS = 60
"""Decimal digits of the mpmath arithmetic (Taylor constants, SVD, non-rational solves)."""

DEFAULT_TOL = 1e-14
"""Relative tolerance of the rank decisions (Gonnet, Güttel and Trefethen's default)."""

DEFAULT_DOUBLET_TOL = 1e-7
"""Relative residue below which a pole counts as a Froissart doublet (see :func:`robust_pade`).

Genuine poles of the approximants of the registry's targets have relative residues above 1e-6;
the doublets found (gelu [4,4], mish [4,4], ...) are below 1e-9."""

Number = Any  # Fraction (exact) or mpmath.mpf (dps digits)


class _Unsupported(Exception):
    """The series arithmetic does not know a function in the expression."""


class _NotAnalytic(Exception):
    """The expression has no Taylor expansion at the center (the message says why)."""


# ------------------------------------------------------------------------------------------------
# numbers: Fraction where exact, mpf otherwise
# ------------------------------------------------------------------------------------------------
def _mp() -> Any:
    import mpmath

    return mpmath


def _exact(v: Number) -> bool:
    return isinstance(v, Fraction | int)


def _to_mpf(v: Number) -> mpmath.mpf:
    mp = _mp()
    if isinstance(v, Fraction):
        return mp.mpf(v.numerator) / v.denominator
    return mp.mpf(v)


def _is_zero(v: Number) -> bool:
    return v == 0


def _sign(v: Number) -> int:
    return (v > 0) - (v < 0)


def _exact_root(v: Fraction, q: int) -> Fraction | None:
    """Return the exact ``q``-th root of ``v >= 0`` when it is rational, else None."""
    if v < 0:
        return None
    num = round(v.numerator ** (1.0 / q)) if v.numerator < 2**1000 else None
    den = round(v.denominator ** (1.0 / q)) if v.denominator < 2**1000 else None
    if num is None or den is None:
        return None
    for n in (num - 1, num, num + 1):
        if n >= 0 and n**q == v.numerator:
            for d in (den - 1, den, den + 1):
                if d > 0 and d**q == v.denominator:
                    return Fraction(n, d)
    return None


# ------------------------------------------------------------------------------------------------
# truncated power series: lists of N coefficients
# ------------------------------------------------------------------------------------------------
_Series = list[Number]


def _const(v: Number, n: int) -> _Series:
    return [v] + [Fraction(0)] * (n - 1)


def _add(u: _Series, v: _Series) -> _Series:
    return [a + b for a, b in zip(u, v, strict=True)]


def _scale(u: _Series, c: Number) -> _Series:
    return [c * a for a in u]


def _mul(u: _Series, v: _Series) -> _Series:
    n = len(u)
    nz_u = [i for i in range(n) if not _is_zero(u[i])]
    nz_v = [j for j in range(n) if not _is_zero(v[j])]
    out: _Series = [Fraction(0)] * n
    for i in nz_u:
        for j in nz_v:
            if i + j >= n:
                break
            out[i + j] += u[i] * v[j]
    return out


def _is_const(u: _Series) -> bool:
    return all(_is_zero(a) for a in u[1:])


def _recip(u: _Series) -> _Series:
    if _is_zero(u[0]):
        raise _NotAnalytic("a division by zero (a pole) at the center")
    n = len(u)
    out: _Series = [Fraction(1) / u[0] if _exact(u[0]) else 1 / u[0]]
    for k in range(1, n):
        acc = sum((u[j] * out[k - j] for j in range(1, k + 1)), Fraction(0))
        out.append(-acc * out[0])
    return out


def _deriv(u: _Series) -> _Series:
    return [k * u[k] for k in range(1, len(u))] + [Fraction(0)]


def _integrate(du: _Series, c0: Number) -> _Series:
    """Return the series with constant ``c0`` whose derivative is ``du`` (truncated)."""
    return [c0] + [du[k - 1] / k for k in range(1, len(du))]


def _exp(u: _Series) -> _Series:
    mp = _mp()
    e0 = Fraction(1) if u[0] == 0 else mp.exp(_to_mpf(u[0]))
    out = [e0]
    for k in range(1, len(u)):
        acc = sum((j * u[j] * out[k - j] for j in range(1, k + 1) if not _is_zero(u[j])),
                  Fraction(0))
        out.append(acc / k)
    return out


def _log(u: _Series) -> _Series:
    mp = _mp()
    if u[0] <= 0:
        raise _NotAnalytic("a logarithm of a non-positive number at the center")
    l0 = Fraction(0) if u[0] == 1 else mp.log(_to_mpf(u[0]))
    return _integrate(_mul(_deriv(u), _recip(u)), l0)


def _pow(u: _Series, alpha: Number) -> _Series:
    """Return ``u ** alpha`` for a constant exponent."""
    n = len(u)
    if _exact(alpha) and Fraction(alpha).denominator == 1:
        k = int(alpha)
        base = u if k >= 0 else _recip(u)
        out = _const(Fraction(1), n)
        for _ in range(abs(k)):
            out = _mul(out, base)
        return out
    if u[0] <= 0:
        if u[0] == 0:
            raise _NotAnalytic("a fractional power of zero (a branch point) at the center")
        raise _NotAnalytic("a fractional power of a negative number at the center")
    mp = _mp()
    p0: Number | None = None
    if _exact(alpha) and _exact(u[0]):
        a = Fraction(alpha)
        root = _exact_root(Fraction(u[0]), a.denominator)
        if root is not None:
            p0 = root**a.numerator
    if p0 is None:
        p0 = mp.power(_to_mpf(u[0]), _to_mpf(alpha))
    # (k u0) p_k = sum_{j=1..k} ((alpha + 1) j - k) u_j p_{k-j}  (Knuth, TAOCP 4.7)
    out = [p0]
    for k in range(1, n):
        acc = sum(
            (((alpha + 1) * j - k) * u[j] * out[k - j] for j in range(1, k + 1)
             if not _is_zero(u[j])),
            Fraction(0),
        )
        out.append(acc / (k * u[0]))
    return out


def _sin_cos(u: _Series, hyperbolic: bool) -> tuple[_Series, _Series]:
    mp = _mp()
    if u[0] == 0:
        s, c = [Fraction(0)], [Fraction(1)]
    else:
        x0 = _to_mpf(u[0])
        s = [mp.sinh(x0) if hyperbolic else mp.sin(x0)]
        c = [mp.cosh(x0) if hyperbolic else mp.cos(x0)]
    sgn = 1 if hyperbolic else -1
    for k in range(1, len(u)):
        acc_s = sum((j * u[j] * c[k - j] for j in range(1, k + 1) if not _is_zero(u[j])),
                    Fraction(0))
        acc_c = sum((j * u[j] * s[k - j] for j in range(1, k + 1) if not _is_zero(u[j])),
                    Fraction(0))
        s.append(acc_s / k)
        c.append(sgn * acc_c / k)
    return s, c


def _erf(u: _Series) -> _Series:
    mp = _mp()
    e0 = Fraction(0) if u[0] == 0 else mp.erf(_to_mpf(u[0]))
    gauss = _exp(_scale(_mul(u, u), Fraction(-1)))
    du = _scale(_mul(_deriv(u), gauss), 2 / mp.sqrt(mp.pi))
    return _integrate(du, e0)


def _inverse_trig(name: str, u: _Series) -> _Series:
    """asin, acos, atan, asinh, acosh, atanh by integrating their algebraic derivatives."""
    mp = _mp()
    one = _const(Fraction(1), len(u))
    u2 = _mul(u, u)
    if name == "atan":
        d, f0 = _recip(_add(one, u2)), mp.atan
    elif name == "atanh":
        if abs(u[0]) >= 1:
            raise _NotAnalytic("atanh at or beyond its branch points +-1")
        d, f0 = _recip(_add(one, _scale(u2, Fraction(-1)))), mp.atanh
    elif name == "asinh":
        d, f0 = _pow(_add(one, u2), Fraction(-1, 2)), mp.asinh
    elif name in ("asin", "acos"):
        if abs(u[0]) >= 1:
            raise _NotAnalytic(f"{name} at or beyond its branch points +-1")
        d, f0 = _pow(_add(one, _scale(u2, Fraction(-1))), Fraction(-1, 2)), mp.asin
    elif name == "acosh":
        if u[0] <= 1:
            raise _NotAnalytic("acosh at or below its branch point 1")
        d, f0 = _pow(_add(u2, _scale(one, Fraction(-1))), Fraction(-1, 2)), mp.acosh
    else:  # pragma: no cover - callers pass only the names above
        raise _Unsupported(name)
    v0 = Fraction(0) if u[0] == 0 and name != "acosh" else f0(_to_mpf(u[0]))
    out = _integrate(_mul(_deriv(u), d), v0)
    if name == "acos":
        out = _add(_const(_mp().pi / 2, len(u)), _scale(out, Fraction(-1)))
    return out


def _number(expr: Any, dps: int) -> Number:
    """Return a sympy number as a Fraction when rational, else as an mpf at ``dps`` digits."""
    import sympy

    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    if expr.is_Float:
        r = sympy.Rational(expr)  # the exact binary value
        return Fraction(int(r.p), int(r.q))
    value = sympy.N(expr, dps + 10)
    if not value.is_real or not value.is_finite:
        raise _NotAnalytic(f"the constant {expr} is not a finite real number")
    return _mp().mpf(str(value))


class _SeriesBuilder:
    """Walks a sympy expression and returns its truncated Taylor series at ``center``."""

    def __init__(self, x: Any, center: Fraction, count: int, dps: int) -> None:
        self.x = x
        self.center = center
        self.n = count
        self.dps = dps
        self.memo: dict[Any, _Series] = {}
        self.exact_branches: list[str] = []

    def series(self, expr: Any) -> _Series:
        hit = self.memo.get(expr)
        if hit is None:
            hit = self._series(expr)
            self.memo[expr] = hit
        return hit

    def _series(self, e: Any) -> _Series:
        import sympy as sp

        n = self.n
        if e == self.x:
            return [self.center, Fraction(1)] + [Fraction(0)] * (n - 2) if n > 1 else [self.center]
        if e.is_Number or (e.is_number and not e.has(self.x) and not e.free_symbols):
            return _const(_number(e, self.dps), n)
        if e.is_Symbol:
            raise _Unsupported(f"unknown symbol {e}")
        if isinstance(e, sp.Add):
            out = self.series(e.args[0])
            for a in e.args[1:]:
                out = _add(out, self.series(a))
            return out
        if isinstance(e, sp.Mul):
            out = self.series(e.args[0])
            for a in e.args[1:]:
                s = self.series(a)
                out = _scale(s, out[0]) if _is_const(out) else (
                    _scale(out, s[0]) if _is_const(s) else _mul(out, s)
                )
            return out
        if isinstance(e, sp.Pow):
            base, expo = e.args
            if not expo.has(self.x):
                return _pow(self.series(base), _number(expo, self.dps))
            return _exp(_mul(self.series(expo), _log(self.series(base))))
        if isinstance(e, sp.exp):
            return _exp(self.series(e.args[0]))
        if isinstance(e, sp.log):
            if len(e.args) != 1:
                raise _Unsupported("log with a base")
            return _log(self.series(e.args[0]))
        if isinstance(e, sp.sin | sp.cos | sp.sinh | sp.cosh | sp.tan | sp.tanh):
            hyper = isinstance(e, sp.sinh | sp.cosh | sp.tanh)
            s, c = _sin_cos(self.series(e.args[0]), hyper)
            if isinstance(e, sp.sin | sp.sinh):
                return s
            if isinstance(e, sp.cos | sp.cosh):
                return c
            return _mul(s, _recip(c))
        if isinstance(e, sp.erf):
            return _erf(self.series(e.args[0]))
        if isinstance(e, sp.erfc):
            erf = _erf(self.series(e.args[0]))
            return _add(_const(Fraction(1), n), _scale(erf, Fraction(-1)))
        for name in ("atan", "atanh", "asinh", "asin", "acos", "acosh"):
            if isinstance(e, getattr(sp, name)):
                return _inverse_trig(name, self.series(e.args[0]))
        if isinstance(e, sp.Abs | sp.sign | sp.Heaviside):
            u = self.series(e.args[0])
            s = _sign(u[0])
            if s == 0:
                raise _NotAnalytic(f"{e.func.__name__} of an argument that vanishes there")
            if isinstance(e, sp.Abs):
                return _scale(u, Fraction(s))
            if isinstance(e, sp.sign):
                return _const(Fraction(s), n)
            return _const(Fraction(1 if s > 0 else 0), n)
        if isinstance(e, sp.Max | sp.Min):
            return self._extremum(e, isinstance(e, sp.Max))
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        raise _Unsupported(type(e).__name__)

    def _extremum(self, e: Any, is_max: bool) -> _Series:
        terms = [self.series(a) for a in e.args]
        pick = max if is_max else min
        best = pick(t[0] for t in terms)
        winners = [t for t in terms if t[0] == best]
        first = winners[0]
        if any(t != first for t in winners[1:]):
            raise _NotAnalytic(
                f"{'max' if is_max else 'min'} of arguments that cross there (a kink)"
            )
        return first

    def _piecewise(self, e: Any) -> _Series:
        import sympy as sp

        at = sp.Rational(self.center.numerator, self.center.denominator)
        for value, cond in e.args:
            truth = cond.subs(self.x, at) if cond is not sp.true else sp.true
            if truth is sp.true:
                for rel in cond.atoms(sp.core.relational.Relational):
                    if (rel.lhs - rel.rhs).subs(self.x, at) == 0:
                        raise _NotAnalytic("a join of a piecewise definition (a kink)")
                return self.series(value)
            if truth is not sp.false:
                raise _Unsupported(f"piecewise condition {cond}")
        raise _NotAnalytic("a point where the piecewise definition is undefined")


def taylor_coefficients(
    target: Target | Any,
    center: float = 0.0,
    count: int = 10,
    dps: int = DEFAULT_DPS,
) -> tuple[list[Number], str]:
    """Return the first ``count`` Taylor coefficients of a target at ``center`` and their source.

    Coefficient ``k`` is ``f^(k)(center) / k!`` as a :class:`fractions.Fraction` when it is
    rational (it is computed exactly) and as an ``mpmath.mpf`` at ``dps`` digits otherwise.

    Args:
        target: a :class:`~actfit.targets.Target`, or a sympy expression in
            :func:`actfit.targets.symbol`.
        center: the expansion point (its float64 value is taken exactly).
        count: how many coefficients (``c_0 .. c_{count-1}``).
        dps: decimal digits for coefficients that are not rational.

    Returns:
        ``(coefficients, how)``: ``how`` says how they were obtained (``"exact rational series
        arithmetic"``, ``"series arithmetic with 60-digit constants"`` or ``"mpmath.taylor"``).

    Raises:
        NotAnalyticError: the target has a kink, a branch point or a pole at ``center``.

    Examples:
        >>> from actfit.targets import get_target
        >>> [str(c) for c in taylor_coefficients(get_target("tanh"), 0.0, 6)[0]]
        ['0', '1', '0', '-1/3', '0', '2/15']
    """
    import sympy

    from actfit.targets import symbol

    c = float(center)
    if not math.isfinite(c):
        raise FitError(f"the center {center!r} must be a finite number, e.g. --center 0")
    count = int(count)
    is_target = hasattr(target, "sympy") and callable(target.sympy)
    label = getattr(target, "label", None) or str(target)
    if is_target and not target.is_analytic_at(c):
        raise _not_analytic_error(target, c, "a kink, or the target is not finite there")
    expr = target.sympy() if is_target else sympy.sympify(target)
    builder = _SeriesBuilder(symbol(), Fraction(c), count, dps)
    mp = _mp()
    try:
        with mp.workdps(dps + 10):
            coeffs = builder.series(expr)
            coeffs = [v if _exact(v) else +v for v in coeffs]
        how = "exact rational series arithmetic on the sympy expression"
        if not all(_exact(v) for v in coeffs):
            how = (
                f"series arithmetic on the sympy expression; rational coefficients exact, the "
                f"others at {dps} digits"
            )
        return [Fraction(v) if _exact(v) else v for v in coeffs], how
    except _NotAnalytic as exc:
        if is_target:
            raise _not_analytic_error(target, c, str(exc)) from None
        raise NotAnalyticError(f"{label} has no Taylor expansion at x = {c:g}: {exc}") from None
    except (_Unsupported, RecursionError):
        if not is_target:
            raise FitError(f"cannot expand {label} in series at x = {c:g}") from None
    # numerical differentiation at raised precision (mpmath picks the step and the extra digits)
    with mp.workdps(dps):
        coeffs = mp.taylor(target.mp, mp.mpf(c), count - 1)
        coeffs = [+v for v in coeffs]
    if not all(mp.isfinite(v) for v in coeffs):
        raise _not_analytic_error(target, c, "its derivatives are not finite there")
    return coeffs, f"mpmath.taylor (numerical differentiation) at {dps} digits"


def _not_analytic_error(target: Any, c: float, why: str) -> NotAnalyticError:
    kinks = tuple(getattr(target, "kinks", ()))
    label = getattr(target, "label", str(target))
    hint = ""
    if kinks:
        away = _center_away(kinks, c)
        where = ", ".join(f"{k:g}" for k in kinks[:6])
        hint = f", or pass a --center away from the kinks at x = {where} (e.g. --center {away:g})"
    return NotAnalyticError(
        f"'{label}' is not analytic at x = {c:g} ({why}), so it has no Taylor expansion and no "
        f"Padé approximant there; use `actfit lsq` or `actfit minimax` for a fit on a range{hint}"
    )


def _center_away(kinks: Sequence[float], c: float) -> float:
    for step in (1.0, -1.0, 2.0, -2.0, 0.5, -0.5):
        cand = c + step
        if all(abs(cand - k) > 0.25 for k in kinks):
            return cand
    return c + 1.0


# ------------------------------------------------------------------------------------------------
# the robust Padé solve
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PadeResult:
    """A Padé approximant in the expansion variable ``h = x - x0``.

    Attributes:
        numerator: ``a_0..a_mu`` (Fraction where exact, else mpf).
        denominator: ``b_0..b_nu`` with ``b_0 = 1``.
        requested: the type asked for.
        delivered: the type ``(mu, nu)`` of the result.
        reasons: why the delivered type is lower, one sentence per step.
        solve: how the denominator was found.
        sigma: the singular values (relative to ``||c||_2``) of the final Toeplitz block.
    """

    numerator: tuple[Number, ...]
    denominator: tuple[Number, ...]
    requested: tuple[int, int]
    delivered: tuple[int, int]
    reasons: tuple[str, ...]
    solve: str
    sigma: tuple[float, ...] = ()

    @property
    def exact(self) -> bool:
        """True when every coefficient is an exact rational."""
        return all(_exact(v) for v in (*self.numerator, *self.denominator))


def _toeplitz_block(c: Sequence[Number], m: int, n: int) -> list[list[Number]]:
    """Rows ``m+1..m+n`` of ``Z[i][j] = c_{i-j}``: the linearised Padé conditions on ``b``."""
    zero = Fraction(0)
    return [
        [c[i - j] if i - j >= 0 else zero for j in range(n + 1)] for i in range(m + 1, m + n + 1)
    ]


def _exact_rank_and_null(rows: list[list[Fraction]], ncols: int) -> tuple[int, list[Fraction]]:
    """Return the exact rank of ``rows`` and (when it is ``ncols - 1``) a null vector."""
    a = [list(r) for r in rows]
    pivots: list[int] = []
    r = 0
    for col in range(ncols):
        piv = next((i for i in range(r, len(a)) if a[i][col] != 0), None)
        if piv is None:
            continue
        a[r], a[piv] = a[piv], a[r]
        p = a[r][col]
        a[r] = [v / p for v in a[r]]
        for i in range(len(a)):
            if i != r and a[i][col] != 0:
                f = a[i][col]
                a[i] = [vi - f * vr for vi, vr in zip(a[i], a[r], strict=True)]
        pivots.append(col)
        r += 1
        if r == len(a):
            break
    rank = len(pivots)
    null: list[Fraction] = []
    if rank == ncols - 1:
        free = next(j for j in range(ncols) if j not in pivots)
        null = [Fraction(0)] * ncols
        null[free] = Fraction(1)
        for i, col in enumerate(pivots):
            null[col] = -a[i][free]
    return rank, null


def _svd(rows: list[list[Number]], ncols: int) -> tuple[list[Any], Any]:
    """Return the singular values and the last right singular vector (square padding)."""
    mp = _mp()
    size = ncols
    mat = mp.matrix(size, size)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            mat[i, j] = _to_mpf(v)
    _u, s, v = mp.svd_r(mat, compute_uv=True)
    sv = sorted((s[i] for i in range(size)), reverse=True)[: len(rows)]
    k = min(range(size), key=lambda i: s[i])
    null = [v[k, j] for j in range(size)]
    return sv, null


def robust_pade(
    coeffs: Sequence[Number],
    order: tuple[int, int],
    *,
    tol: float = DEFAULT_TOL,
    scale: float = 1.0,
    dps: int = DEFAULT_DPS,
    doublet_tol: float = DEFAULT_DOUBLET_TOL,
    center: float = 0.0,
) -> PadeResult:
    """Return the robust ``[m, n]`` Padé approximant of a power series (Gonnet–Güttel–Trefethen).

    Args:
        coeffs: Taylor coefficients ``c_0 .. c_{m+n}`` (Fractions, ints or mpf; missing ones are
            taken as zero).
        order: the requested type ``(m, n)``.
        tol: relative tolerance: singular values of the Toeplitz block below
            ``tol * ||c||_2`` count as zero, and so do trailing numerator coefficients below it.
        scale: the rank test uses ``c_k * scale**k`` (series in ``h / scale``), so that ``tol``
            is relative to the function on ``|h| <= scale``; the approximant does not depend
            on it.
        dps: decimal digits of the mpmath arithmetic.
        doublet_tol: a pole whose residue is below ``doublet_tol * F * scale`` (``F`` the
            largest ``|c_k| scale^k``) is a Froissart doublet: it is nearly cancelled by a zero
            and changes the function only next to itself. The type is then lowered by the number
            of such poles and the approximant recomputed, until none is left.
        center: added to pole locations in the reasons (they are reported in ``x = x0 + h``).

    Returns:
        The approximant, with its delivered type and the reasons for any lowering. With all
        coefficients rational the rank is computed exactly too and the solve is exact.

    Examples:
        >>> from fractions import Fraction as F
        >>> r = robust_pade([F(0), F(1), F(0), F(-1, 3)], (2, 1))   # tanh: singular system
        >>> r.delivered, [str(v) for v in r.numerator]
        ((1, 0), ['0', '1'])
    """
    m, n = check_order(order, max_degree=10**6)
    res = _pade_once(coeffs, (m, n), tol, scale, dps)
    reasons = list(res.reasons)
    while True:
        found = _doublets(res, coeffs, scale, doublet_tol, dps)
        if not found:
            break
        mu, nu = res.delivered
        k = len(found)
        new = (max(mu - k, 0), nu - k)
        where = ", ".join(_complex_str(z + center) for z, _ in found[:4])
        rel = ", ".join(f"{r:.1e}" for _, r in found[:4])
        reasons.append(
            f"[{mu},{nu}]: {k} pole(s) nearly cancelled by zeros (Froissart doublets) at "
            f"x = {where} (relative residue {rel} < {doublet_tol:g}); lowered to "
            f"[{new[0]},{new[1]}]"
        )
        res = _pade_once(coeffs, new, tol, scale, dps)
        reasons += list(res.reasons)
    return PadeResult(
        res.numerator, res.denominator, (m, n), res.delivered, tuple(reasons), res.solve,
        res.sigma,
    )


def _complex_str(z: complex) -> str:
    if abs(z.imag) <= 1e-12 * abs(z):
        return f"{z.real:.6g}"
    return f"{z.real:.6g}{z.imag:+.6g}i"


def _doublets(
    res: PadeResult, coeffs: Sequence[Number], scale: float, doublet_tol: float, dps: int
) -> list[tuple[complex, float]]:
    """Return ``(pole, relative residue)`` of each pole of ``res`` with a negligible residue."""
    if len(res.denominator) < 2 or doublet_tol <= 0:
        return []
    mp = _mp()
    from mpmath.libmp import NoConvergence

    with mp.workdps(dps):
        num = [_to_mpf(v) for v in res.numerator]
        den = [_to_mpf(v) for v in res.denominator]
        gamma = mp.mpf(scale)
        size = max(abs(_to_mpf(v)) * gamma**k for k, v in enumerate(coeffs))
        try:
            roots = mp.polyroots(den[::-1], maxsteps=400, extraprec=4 * dps)
        except NoConvergence:
            # A multiple root (e.g. Q = (1 + x)^3): Durand-Kerner cannot reach the working
            # precision there. Double-precision roots still tell a pole whose residue is
            # negligible from one whose is not (at a multiple root Q' is ~0: a large residue).
            import numpy as np

            roots = [mp.mpc(z) for z in np.roots([float(v) for v in den[::-1]])]
        dq = [k * den[k] for k in range(1, len(den))]
        out = []
        for z in roots:
            slope = mp.polyval(dq[::-1], z)
            if slope == 0:
                continue
            rel = abs(mp.polyval(num[::-1], z) / slope) / (size * gamma)
            if rel < doublet_tol:
                out.append((complex(z), float(rel)))
    return out


def _pade_once(
    coeffs: Sequence[Number], order: tuple[int, int], tol: float, scale: float, dps: int
) -> PadeResult:
    """One pass of the SVD-based robust Padé algorithm (no doublet check)."""
    m, n = check_order(order, max_degree=10**6)
    requested = (m, n)
    total = m + n + 1
    c: list[Number] = [
        (Fraction(v) if _exact(v) else v) for v in list(coeffs)[:total]
    ] + [Fraction(0)] * max(0, total - len(coeffs))
    mp = _mp()
    reasons: list[str] = []
    sigma: tuple[float, ...] = ()
    with mp.workdps(dps):
        gamma = _to_mpf(Fraction(scale)) if isinstance(scale, float | int) else mp.mpf(scale)
        cs = [_to_mpf(v) * gamma**k for k, v in enumerate(c)]
        norm_c = mp.sqrt(sum(v * v for v in cs))
        thresh = tol * norm_c
        head_exact = all(_exact(v) for v in c[: m + 1])
        if head_exact:
            vanish = all(v == 0 for v in c[: m + 1])
        else:
            vanish = max(abs(v) for v in cs[: m + 1]) <= tol * max(abs(v) for v in cs)
        if vanish:
            which = "c_0" if m == 0 else f"c_0..c_{m}"
            tol_note = "" if head_exact else f" (to tolerance {tol:g})"
            why = f"{which} vanish{tol_note}: the approximant is the zero function"
            return PadeResult(
                (Fraction(0),), (Fraction(1),), requested, (0, 0), (why,), "trivial", ()
            )
        null: list[Number] = []
        block_exact = False
        while n > 0:
            block = _toeplitz_block(c, m, n)
            block_exact = all(_exact(v) for row in block for v in row)
            sv: list[Any] = []
            if block_exact:
                # exact data: the rank is decided exactly, no tolerance is involved
                rho, null = _exact_rank_and_null(block, n + 1)
                how = f"exactly singular (rank {rho} of {n})"
            else:
                sv, null = _svd(_toeplitz_block(cs, m, n), n + 1)
                rho = sum(1 for s in sv if s > thresh)
                how = (
                    f"numerically singular: {n - rho} singular value(s) below tol*||c|| "
                    f"(smallest {float(sv[-1] / norm_c):.1e} relative, tol {tol:g})"
                )
            if rho == n:
                if not sv:
                    sv = _svd(_toeplitz_block(cs, m, n), n + 1)[0]
                sigma = tuple(float(s / norm_c) for s in sv)
                break
            new_m = max(m - (n - rho), 0)
            reasons.append(
                f"[{m},{n}]: the Toeplitz block of the Padé conditions is {how}, so the "
                f"classical system has no unique solution; lowered to [{new_m},{rho}]"
            )
            m, n = new_m, rho
        if n == 0:
            b: list[Number] = [Fraction(1)]
            solve = "none needed (type [m,0]: Q = 1)"
        elif block_exact:
            b = list(null)
            solve = "exact rational null vector of the Toeplitz block"
        else:
            # scaled null vector -> unscaled coefficients b_j = b~_j / gamma^j
            b = [null[j] / gamma**j for j in range(n + 1)]
            solve = f"SVD null vector of the Toeplitz block at {dps} digits"
        a = [
            sum((c[k - j] * b[j] for j in range(min(k, n) + 1)), Fraction(0)) for k in range(m + 1)
        ]
        mu0, nu0 = m, n
        # size measures in the scaled variable, for the tolerance decisions on inexact data
        bs = [_to_mpf(b[j]) * gamma**j for j in range(len(b))]
        nb = mp.sqrt(sum(v * v for v in bs))

        def tiny_b(j: int) -> bool:
            return b[j] == 0 if _exact(b[j]) else abs(bs[j]) <= tol * nb

        def tiny_a(k: int) -> bool:
            if _exact(a[k]):
                return a[k] == 0
            return abs(_to_mpf(a[k]) * gamma**k) <= thresh * nb

        lead = 0
        while lead < len(b) - 1 and tiny_b(lead):
            lead += 1
        if lead:
            factor = "x" if lead == 1 else f"x^{lead}"
            reasons.append(
                f"[{mu0},{nu0}]: numerator and denominator share the factor {factor} (the "
                f"classical system with b_0 = 1 is singular); it is cancelled"
            )
            b, bs, a = b[lead:], bs[lead:], a[lead:]
        trimmed_exact = True
        while len(b) > 1 and tiny_b(len(b) - 1):
            trimmed_exact &= _exact(b.pop())
            bs.pop()
        while len(a) > 1 and tiny_a(len(a) - 1):
            trimmed_exact &= _exact(a.pop())
        if not a or all(_is_zero(v) for v in a):
            a = [Fraction(0)]
        mu, nu = len(a) - 1, len(b) - 1
        if (mu, nu) != (mu0 - lead, nu0 - lead):
            parts = []
            if mu < mu0 - lead:
                parts.append("numerator's " + _powers(mu + 1, mu0 - lead))
            if nu < nu0 - lead:
                parts.append("denominator's " + _powers(nu + 1, nu0 - lead))
            reasons.append(
                f"[{mu0 - lead},{nu0 - lead}]: the "
                + " and the ".join(parts)
                + f"{'' if trimmed_exact else ' (to tolerance)'}; the approximant has "
                f"type [{mu},{nu}]"
            )
        b0 = b[0]
        a = [v / b0 for v in a]
        b = [v / b0 for v in b]
        a = [v if _exact(v) else +v for v in a]
        b = [v if _exact(v) else +v for v in b]
    return PadeResult(tuple(a), tuple(b), requested, (mu, nu), tuple(reasons), solve, sigma)


def _powers(lo: int, hi: int) -> str:
    if lo == hi:
        return f"coefficient of x^{lo} vanishes"
    return f"coefficients of x^{lo}..x^{hi} vanish"


def _radius_estimate(c: Sequence[Number]) -> float:
    """Return a root-test estimate ``min |c_k|^(-1/k)`` over the upper half of the series.

    It approximates the radius of convergence (Cauchy–Hadamard); ``inf`` for a polynomial.
    """
    vals = []
    for k in range(max(1, len(c) // 2), len(c)):
        if c[k] != 0:
            vals.append(float(abs(_to_mpf(c[k]))) ** (-1.0 / k))
    return min(vals) if vals else math.inf


# ------------------------------------------------------------------------------------------------
# re-centering, forms, the fit
# ------------------------------------------------------------------------------------------------
def _shift(coeffs: Sequence[Number], c: Fraction) -> list[Number]:
    """Return the coefficients in ``x`` of ``sum_k coeffs[k] (x - c)^k``."""
    if c == 0:
        return list(coeffs)
    n = len(coeffs)
    out: list[Number] = [Fraction(0)] * n
    for k, v in enumerate(coeffs):
        if _is_zero(v):
            continue
        for j in range(k + 1):
            out[j] += v * math.comb(k, j) * (-c) ** (k - j)
    return out


def exact_string(v: Number, digits: int = 30) -> str:
    """Return ``"p/q"`` for an exact rational, else ``"~"`` and ``digits`` significant digits."""
    if _exact(v):
        f = Fraction(v)
        return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
    return "~" + _mp().nstr(v, digits)


def _check_form(form: str, rational: Rational) -> str:
    """Return ``form`` if the plain Padé denominator is representable in it, else raise."""
    import numpy as np

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
    s = np.concatenate(([0.0], b))
    if _nonnegative(s):
        return form
    raise FormError(
        "the Padé denominator is not representable in the abs form (S(x) = Σ b_k x^k takes "
        "negative values, so 1 + |S| differs from 1 + S); abs equals plain only when S >= 0 on "
        "the whole real line. Use --form plain, or `actfit lsq` / `actfit minimax` for an abs fit"
    )


def _nonnegative(s: Any) -> bool:
    """True when the polynomial ``s`` (ascending, float64 taken exactly) is >= 0 on the line."""
    from actfit.approx.poles import real_roots

    p = [Fraction(float(v)) for v in s]
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    if len(p) == 1:
        return p[0] >= 0
    if (len(p) - 1) % 2 == 1 or p[-1] < 0:
        return False
    roots = sorted(Fraction(float(r)) for r in real_roots(s))
    # sign between and beyond the (distinct, exactly isolated) real roots
    probes = [roots[0] - 1] if roots else [Fraction(0)]
    probes += [(u + v) / 2 for u, v in itertools.pairwise(roots)]
    probes += [roots[-1] + 1] if roots else []

    def value(x: Fraction) -> Fraction:
        acc = Fraction(0)
        for v in reversed(p):
            acc = acc * x + v
        return acc

    return all(value(x) >= 0 for x in probes)


def fit_pade(
    target: Target,
    order: tuple[int, int] = (5, 4),
    *,
    center: float = 0.0,
    range: tuple[float, float] = (-3.0, 3.0),
    form: str = "plain",
    allow_poles: bool = False,
    exact: bool = False,
    tol: float = DEFAULT_TOL,
    dps: int = DEFAULT_DPS,
    doublet_tol: float = DEFAULT_DOUBLET_TOL,
) -> Fit:
    """Return the robust ``[m, n]`` Padé approximant of ``target`` at ``center`` as a :class:`Fit`.

    The Taylor coefficients come from the target's exact sympy expression (exact rationals
    where possible), the Padé conditions are solved exactly or at ``dps`` digits with the
    SVD-based robust algorithm of Gonnet, Güttel and Trefethen (2013), and only the final
    coefficients are rounded to float64. When the Padé table is degenerate at ``[m, n]`` the
    type is lowered rather than failing; ``fit.settings`` then records the delivered type and
    why (``"requested"``, ``"delivered"``, ``"lowered"``, ``"reasons"``).

    Args:
        target: the function to approximate; it must be analytic at ``center``.
        order: the requested type ``(m, n)``, degrees up to 12.
        center: the expansion point ``x0``.
        range: the range ``(a, b)`` of the error and pole reports.
        form: ``plain`` (default). ``safe`` / ``abs`` only when the Padé denominator is
            representable in them (see the module docstring).
        allow_poles: keep a result whose denominator vanishes on the range.
        exact: also record the exact coefficients as strings (``"1/9"``; ``"~0.693..."`` for
            a non-rational one) in ``fit.settings["exact"]``.
        tol: relative tolerance of the rank decisions on inexact (mpmath) Taylor data.
        dps: decimal digits of the high-precision arithmetic.
        doublet_tol: relative residue below which a pole is a Froissart doublet and removed
            (0 keeps every pole).

    Raises:
        NotAnalyticError: ``target`` is not analytic at ``center`` (a kink: use ``lsq`` or
            ``minimax``, or another center).
        FormError: ``form`` is safe/abs and the denominator is not representable in it.
        PoleError: the denominator vanishes on the range and ``allow_poles`` is False.
        FitError: the approximant's denominator vanishes at ``x = 0``, so it cannot be written
            with ``Q(0) = 1``.

    Examples:
        >>> from actfit.targets import get_target
        >>> fit = fit_pade(get_target("tanh"), (5, 4), exact=True)
        >>> fit.settings["exact"]["numerator"]
        ['0', '1', '0', '1/9', '0', '1/945']
    """
    from actfit.fit import make_fit

    m, n = check_order(order)
    a_lo, b_hi = as_range(range)
    form = require_fit_form(form)
    c = float(center)
    if not math.isfinite(c):
        raise FitError(f"the center {center!r} must be a finite number, e.g. --center 0")
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
        size = max(abs(_to_mpf(v)) * abs(_to_mpf(cx)) ** k for k, v in enumerate(res.denominator))
        if q0 == 0 or abs(_to_mpf(q0)) <= 1e-30 * size:
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
        "exact_rational": all(_exact(v) for v in (*num, *den)),
    }
    if exact:
        settings["exact"] = {
            "numerator": [exact_string(v) for v in num],
            "denominator": [exact_string(v) for v in den[1:]],
        }
    return make_fit(
        target,
        rational,
        method="pade",
        settings=settings,
        range=(a_lo, b_hi),
        allow_poles=allow_poles,
    )


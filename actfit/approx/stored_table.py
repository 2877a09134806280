"""The stored table at float64 resolution: a final correction of the float64 coefficients.

A fit whose best error is below what float64 can resolve stops at the rounding level of its own
float64 arithmetic (tanh [12,12] on [-3, 3]: 2.6e-14, the 40-digit error of the stored table,
where baryrat's BRASIL reaches 8.9e-16): the fitter's error estimate cannot see further, so the
*stored* numbers carry an error well above the one of their float64 rounding.
:func:`refine_table` works on the stored numbers themselves. Their error ``e = w (f - P/Q)`` is
evaluated accurately (the target in 40-digit mpmath, once per point; the rational in
double-double arithmetic, Dekker 1971, on the exact binary coefficients) at Chebyshev
points of the range and at the refined extrema of ``|e|``, and the correction ``(dP, dQ)``,
``dQ(0) = 0`` (``Q(0) = 1`` stays), solves the linearised minimax problem::

    minimise max_i w_i |e_i - (dP(x_i) - r_i dQ(x_i)) / Q_i|

(``f - (P + dP)/(Q + dQ) = e - (dP - r dQ)/Q + O(d^2)``, ``r = P/Q``), a small LP (HiGHS) in the
scaled monomial basis ``(x/R)^k``. The coefficients that are exactly zero (symmetry, a lower
degree) stay zero, the safe form's ``b_k`` stay ``>= 0``. The corrected coefficients are rounded
once; the correction is repeated on the rounded table (whose rounding it then also absorbs) while
the accurate error decreases, and the best table is kept. Then the coefficients are fixed
(rounded) one at a time, largest contribution first, each time re-solving the LP for the free
ones, so that the free coefficients absorb the rounding of the fixed ones (Brisebarre, Muller and
Tisserand's iterative rounding; Sollya's ``fpminimax`` solves the same "best float64
coefficients" problem by lattice reduction, Brisebarre and Chevillard 2007).

:func:`polish_table` is the hook of the minimax fitter: it refines a plain or safe table whose
certified error is within ``1e4`` ulps of the target's scale and not already proven within
0.1% of the best of its class, re-certifies the refined table
(:func:`actfit.approx.certificate.certify`, which measures the stored numbers) and keeps it only
when its certified upper bound is lower (or equal, with a lower accurate error; and, plain, its
denominator gains no real pole and keeps its floor and conditioning). Measured: tanh [8,8] on
[0, 4] from 1.7e-14 to 1.5e-15 in 40 digits (the best of the class: the refined table
equioscillates at 18 points within 0.3%), tanh [12,12] on [-3, 3] from 2.6e-14 to 2.4e-17,
each in about 0.07 s.

References:
    E. W. Cheney, *Introduction to Approximation Theory*, McGraw-Hill (1966), ch. 2 (linearised
    minimax corrections, Newton's method for the best approximation).
    N. Brisebarre, J.-M. Muller and A. Tisserand, "Computing machine-efficient polynomial
    approximations", ACM Trans. Math. Softw. 32 (2006), 236–256.
    N. Brisebarre and S. Chevillard, "Efficient polynomial L∞-approximations", Proc. 18th IEEE
    Symposium on Computer Arithmetic (ARITH-18), 2007, 169–176.
    T. J. Dekker, "A floating-point technique for extending the available precision", Numer.
    Math. 18 (1971), 224–242 (double-double arithmetic).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.certificate import Certificate, certify, with_bound
from actfit.approx.q_floor import q_condition, q_ratio
from actfit.approx.weights import Weight, parse_weight
from actfit.rational import Rational

__all__ = ["TableRefinement", "near_resolution", "polish_table", "refine_table"]

_Array = NDArray[np.float64]
_EPS = float(np.finfo(float).eps)
# A table counts as near float64 resolution when its error is within this many ulps of the
# target's scale (the fitters' own threshold for "gaps that are rounding", see minimax._tight).
_NEAR_ULPS = 1e4


@dataclass(frozen=True)
class TableRefinement:
    """What :func:`refine_table` did: the accurately evaluated max error of the stored table on
    its points before and after, the LPs solved, the seconds spent and the number of points."""

    before: float
    after: float
    lps: int
    seconds: float
    points: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record (for a fit's settings)."""
        return {"error_before": self.before, "error_after": self.after, "points": self.points,
                "linear_programs": self.lps, "seconds": round(self.seconds, 4)}


class _Evaluator:
    """Accurate weighted errors of stored tables at a growing set of points."""

    def __init__(self, target: Any, weight: Weight, form: str, xs: _Array) -> None:
        self.target, self.weight, self.form = target, weight, form
        self.x = np.zeros(0)
        self.f_hi = np.zeros(0)
        self.f_lo = np.zeros(0)
        self._last: tuple[Any, tuple[_Array, _Array, _Array]] | None = None
        self.add(xs)

    def add(self, xs: _Array) -> None:
        import mpmath

        xs = np.setdiff1d(np.asarray(xs, dtype=np.float64), self.x)
        if not xs.size:
            return
        hi, lo = np.empty(xs.size), np.empty(xs.size)
        with mpmath.workdps(40):
            for i, x in enumerate(xs):
                v = self.target.mp(mpmath.mpf(float(x)))
                hi[i] = float(v)
                lo[i] = float(v - hi[i])
        order = np.argsort(np.concatenate([self.x, xs]))
        self.x = np.concatenate([self.x, xs])[order]
        self.f_hi = np.concatenate([self.f_hi, hi])[order]
        self.f_lo = np.concatenate([self.f_lo, lo])[order]
        self.w = np.asarray(self.weight(self.x), dtype=np.float64)

    def errors(self, num: _Array, den: _Array) -> tuple[_Array, _Array, _Array]:
        """``(e, r, Q)`` at the points: ``e = w (f - P/Q)`` accurate to ~1e-30 relative to
        ``|f|``; ``r = P/Q`` and ``Q`` rounded to float64 (they only scale the correction)."""
        key = (num.tobytes(), den.tobytes(), self.x.size)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        xq = np.abs(self.x) if self.form == "safe" else self.x
        p_hi, p_lo = _dd_horner(num, self.x)
        q_hi, q_lo = _dd_horner(den, xq)
        r = p_hi / q_hi
        m_hi, m_lo = _two_prod(r, q_hi)
        r_lo = (((p_hi - m_hi) - m_lo) + p_lo - r * q_lo) / q_hi
        d_hi, d_lo = _two_sum(self.f_hi, -r)
        out = (self.w * (d_hi + (d_lo + self.f_lo - r_lo)), r, q_hi)
        self._last = (key, out)
        return out


# Double-double arithmetic (Dekker 1971) for the stored rational at the points: measured 0.26 ms
# per evaluation of a [12,12] table at 300 points, 5e-32 relative to |f| off the 200-bit arb
# value, where python-flint's arb_poly.evaluate with the per-point division and conversion
# costs 3.7 ms (75% of a refinement's time).
_SPLIT = 134217729.0  # 2^27 + 1


def _two_sum(a: _Array, b: _Array) -> tuple[_Array, _Array]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: _Array, b: _Array) -> tuple[_Array, _Array]:
    p = a * b
    c = _SPLIT * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = _SPLIT * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _dd_horner(coef: _Array, x: _Array) -> tuple[_Array, _Array]:
    """Horner's scheme for float64 coefficients at float64 points, in double-double."""
    hi = np.full_like(x, coef[-1])
    lo = np.zeros_like(x)
    for c in coef[-2::-1]:
        p, p_err = _two_prod(hi, x)
        s, s_err = _two_sum(p, np.full_like(x, c))
        s_err = s_err + (p_err + lo * x)
        hi = s + s_err
        lo = s_err - (hi - s)
    return hi, lo


def _local_maxima(x: _Array, e: _Array) -> _Array:
    """Vertices of parabolas through the local maxima of ``|e|`` and their neighbours (new
    points near the true extrema between grid points)."""
    a = np.abs(e)
    i = np.flatnonzero((a[1:-1] >= a[:-2]) & (a[1:-1] >= a[2:])) + 1
    if not i.size:
        return np.zeros(0)
    x0, x1, x2 = x[i - 1], x[i], x[i + 1]
    y0, y1, y2 = a[i - 1], a[i], a[i + 1]
    d = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    with np.errstate(all="ignore"):
        top = x1 - 0.5 * ((x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)) / d
    ok = np.isfinite(top) & (top > x0) & (top < x2) & (top != x1)
    return top[ok]


def _free_slots(num: _Array, den: _Array) -> _Array:
    """The coefficients the correction may change (numerator, then ``b_1..b_n``): all of them,
    or only those of the table's parity when its nonzero coefficients have one (an odd or even
    target on a symmetric range: the best approximation has that symmetry, Achieser 1956), so a
    table from a lower class regains its upper degrees of the same parity."""
    k_num, k_den = np.arange(num.size), np.arange(1, den.size)
    nz_num, nz_den = k_num[num != 0], k_den[den[1:] != 0]
    free_num, free_den = np.ones(num.size, bool), np.ones(k_den.size, bool)
    den_even = not np.any(nz_den % 2)
    if den_even and nz_num.size and np.all(nz_num % 2 == 1):
        free_num, free_den = k_num % 2 == 1, k_den % 2 == 0
    elif den_even and nz_num.size and np.all(nz_num % 2 == 0):
        free_num, free_den = k_num % 2 == 0, k_den % 2 == 0
    return np.concatenate([free_num, free_den])


def _correct(
    ev: _Evaluator,
    num: _Array,
    den: _Array,
    free: _Array,
    radius: float,
    form: str,
    solve: Callable[..., Any],
) -> tuple[_Array, _Array] | None:
    """One linearised minimax correction of the coefficients marked ``free`` (numerator first,
    then ``b_1..b_n``); None when the LP fails."""
    e, r, q = ev.errors(num, den)
    scale = float(np.max(np.abs(e)))
    if not (scale > 0 and math.isfinite(scale)):
        return None
    m1 = num.size
    k_all = np.concatenate([np.arange(m1), np.arange(1, den.size)])
    xs = np.abs(ev.x) if form == "safe" else ev.x
    t_num = (ev.x[:, None] / radius) ** np.arange(m1)
    t_den = (xs[:, None] / radius) ** np.arange(1, den.size)
    # Column j: d e_i / d u_j for the coefficient change  u_j * scale / R^k.
    cols = np.hstack([t_num, -r[:, None] * t_den]) * (ev.w / q)[:, None]
    cols = cols[:, free]
    # The columns are nearly dependent for a good fit (P ~ f Q makes dP - f dQ small for a whole
    # family of (dP, dQ)): tanh [10,10] on [-3, 3] has singular values from 1.7 down to 1e-10,
    # and HiGHS on these columns stalls at 0.99 of the error where least squares reaches 0.61.
    # The LP is solved in the orthonormal basis of their span (QR), u = R^-1 z; column pivoting
    # drops the directions that are dependent to rounding (an exactly representable target).
    from scipy.linalg import qr

    basis, tri, piv = qr(cols, mode="economic", pivoting=True)
    diag = np.abs(np.diag(tri))
    rank = int(np.count_nonzero(diag > 1e-14 * diag[0])) if diag.size and diag[0] > 0 else 0
    if rank == 0:
        return None
    basis, tri, piv = basis[:, :rank], tri[:rank, :rank], piv[:rank]
    rhs = e / scale
    n_var = rank
    ones = np.ones((e.size, 1))
    a_ub = np.vstack([np.hstack([basis, -ones]), np.hstack([-basis, -ones])])
    b_ub = np.concatenate([rhs, -rhs])
    if form == "safe":
        # b_k + u scale / R^k >= 0, with u = R^-1 z.
        is_den = np.flatnonzero(free)[piv] >= m1
        if np.any(is_den):
            kd = k_all[free][piv][is_den]
            coef = np.concatenate([num, den[1:]])[free][piv][is_den]
            inv = np.linalg.solve(tri, np.eye(n_var))[is_den]
            a_ub = np.vstack([a_ub, np.hstack([-inv, np.zeros((inv.shape[0], 1))])])
            b_ub = np.concatenate([b_ub, coef * radius**kd / scale])
    bounds = [(None, None)] * n_var + [(0.0, None)]
    cost = np.zeros(n_var + 1)
    cost[-1] = 1.0
    res = solve(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or not np.all(np.isfinite(res.x)):
        return None
    u = np.zeros(int(np.count_nonzero(free)))
    u[piv] = np.linalg.solve(tri, res.x[:n_var])
    step = np.zeros(k_all.size)
    step[free] = u * scale / radius ** k_all[free]
    flat = np.concatenate([num, den[1:]]) + step
    if form == "safe":
        flat[m1:] = np.maximum(flat[m1:], 0.0)
    return flat[:m1], np.concatenate([[1.0], flat[m1:]])


def refine_table(
    target: Any,
    rational: Rational,
    a: float,
    b: float,
    *,
    weight: Weight | None = None,
    kinks: tuple[float, ...] = (),
    rounds: int = 8,
) -> tuple[Rational, TableRefinement | None]:
    """Return float64 coefficients of ``rational``'s type whose accurately evaluated error is as
    small as the linearised corrections reach, and the record; ``rational`` itself (record None)
    for a target without 40-digit evaluation (``.mp``) or a form other than plain and safe.

    The correction and the iterative rounding are described in the module docstring. The error
    is the accurate error at the points used (Chebyshev points of the range, the ends, the kinks
    and the extrema found), not a certificate: re-certify the result (:func:`polish_table`).

    Args:
        target: the target (with ``.mp``, its 40-digit evaluation).
        rational: the stored table (plain or safe form).
        a: left end of the range.
        b: right end of the range.
        weight: the error weight (uniform when None).
        kinks: points where the target or the weight is not smooth (always sampled).
        rounds: corrections of the whole table before the iterative rounding.

    Examples:
        >>> from actfit.targets import as_target
        >>> pade = Rational([0.0, 1.0, 0.0, 1.0 / 15.0], [0.0, 0.4], "plain")  # tanh's [3/2]
        >>> table, info = refine_table(as_target("tanh", None), pade, -0.5, 0.5)
        >>> info.after < info.before / 10
        True
    """
    import time

    from scipy.optimize import linprog

    started = time.perf_counter()
    form = rational.form
    if form not in ("plain", "safe") or not hasattr(target, "mp"):
        return rational, None
    num = np.asarray(rational.numerator, dtype=np.float64).copy()
    den = rational.denominator_polynomial().astype(np.float64)
    if form == "safe" and np.any(den[1:] < 0):
        return rational, None
    w = weight or parse_weight("uniform", range=(a, b))
    m, n = num.size - 1, den.size - 1
    count = max(96, 8 * (m + n + 2))
    theta = np.linspace(0.0, np.pi, count)
    xs = 0.5 * (a + b) - 0.5 * (b - a) * np.cos(theta)
    xs = np.concatenate([xs, [a, b], [k for k in kinks if a < k < b]])
    if form == "safe" and a < 0.0 < b:
        xs = np.append(xs, 0.0)
    ev = _Evaluator(target, w, form, np.clip(xs, a, b))
    radius = max(abs(a), abs(b))
    free = _free_slots(num, den)
    lps = 0

    def measure(nu: _Array, de: _Array) -> float:
        e, _, _ = ev.errors(nu, de)
        ev.add(_local_maxima(ev.x, e))
        e, _, _ = ev.errors(nu, de)
        return float(np.max(np.abs(e)))

    before = measure(num, den)
    best = (before, num, den)
    cur_num, cur_den = num, den
    for _ in range(rounds):
        step = _correct(ev, cur_num, cur_den, free, radius, form, linprog)
        lps += 1
        if step is None:
            break
        cur_num, cur_den = step
        err = measure(cur_num, cur_den)
        if err < best[0]:
            improved = err < 0.9 * best[0]
            best = (err, cur_num, cur_den)
            if not improved:
                break
        else:
            break
    # Iterative rounding: fix the coefficients one at a time, largest contribution first; the
    # free ones absorb the rounding of the fixed ones. Only worth its LPs when the error is
    # within a few times what rounding the coefficients alone costs.
    cur_num, cur_den = best[1], best[2]
    if best[0] > 8.0 * _rounding_floor(ev, cur_num, cur_den, form):
        return _result(form, best, before, lps, started, ev.x.size)
    flat = np.concatenate([cur_num, cur_den[1:]])
    size = np.abs(flat) * radius ** np.concatenate([np.arange(m + 1), np.arange(1, n + 1)])
    order = [int(j) for j in np.argsort(-size) if free[j]]
    still = free.copy()
    for j in order[:-1]:
        still[j] = False
        step = _correct(ev, cur_num, cur_den, still, radius, form, linprog)
        lps += 1
        if step is None:
            break
        cur_num, cur_den = step
    err = measure(cur_num, cur_den)
    if err < best[0]:
        best = (err, cur_num, cur_den)
    return _result(form, best, before, lps, started, ev.x.size)


def _result(
    form: str, best: tuple[float, _Array, _Array], before: float, lps: int, started: float,
    points: int,
) -> tuple[Rational, TableRefinement]:
    import time

    out = Rational(best[1], best[2][1:], form)
    return out, TableRefinement(before, best[0], lps, time.perf_counter() - started, points)


def _rounding_floor(ev: _Evaluator, num: _Array, den: _Array, form: str) -> float:
    """Max over the points of what rounding every coefficient to float64 moves the weighted
    error by, to first order: ``w (Σ |a_k x^k| + |r| Σ |b_k x^k|) u / |Q|``, ``u = eps / 2``."""
    pw = np.polynomial.polynomial
    ax = np.abs(ev.x)
    with np.errstate(all="ignore"):
        q = pw.polyval(ax, np.abs(den)) if form == "safe" else np.abs(pw.polyval(ev.x, den))
        r = np.abs(pw.polyval(ev.x, num)) / q
        # b_0 = 1 is exact.
        spread = pw.polyval(ax, np.abs(num)) + r * pw.polyval(ax, np.r_[0.0, np.abs(den[1:])])
        floor = ev.w * 0.5 * _EPS * spread / q
    ok = np.isfinite(floor)
    return float(np.max(floor[ok])) if np.any(ok) else 0.0


def _same_denominator_class(
    old: Rational, new: Rational, a: float, b: float, min_q: float | None,
    pole_free: bool = True,
) -> bool:
    """Whether a refined plain table keeps what the fitter asked of its denominator: no pole on
    the range, no more real poles when ``pole_free`` (pole-free stays pole-free; poles outside
    the range may go; without ``pole_free`` the fitter's own tables may have real poles outside
    the range, and so may the refined one: tanh [12,12] on [-3, 3], from a [10,10] start without
    them, refines from 1.5e-14 to 4.4e-18 with two at +-3.7), ``min Q / mean Q``
    on the range not below the floor (the larger of ``min_q`` and 0.1, above every dtype's
    default floor, 0.0625 for bfloat16) unless the old table was below it too and it drops by
    at most 1%, and a Horner condition of ``Q`` at most 1% larger or at most 8 (below the
    ``u^-1/2`` at which the dtype guard refits, 16 for bfloat16; :mod:`q_floor`)."""
    poles = new.real_poles()
    if np.any((poles >= a) & (poles <= b)):
        return False
    if pole_free and poles.size > old.real_poles().size:
        return False
    floor = max(0.1, float(min_q or 0.0))
    ratio_old, ratio_new = q_ratio(old, a, b)[0], q_ratio(new, a, b)[0]
    kappa_old, kappa_new = q_condition(old, a, b)[0], q_condition(new, a, b)[0]
    return bool(
        ratio_new >= min(0.99 * ratio_old, floor) and kappa_new <= max(1.01 * kappa_old, 8.0)
    )


def near_resolution(target: Any, weight: Weight, upper: float, a: float, b: float) -> bool:
    """Whether an error ``upper`` is within ``1e4`` ulps of the weighted target's scale on
    ``[a, b]`` (where a float64 fitter's own arithmetic stops seeing the error)."""
    x = np.linspace(a, b, 257)
    with np.errstate(all="ignore"):
        scale = float(np.max(np.abs(weight(x) * np.asarray(target(x), dtype=np.float64))))
    scale += float(np.max(weight(x)))
    return bool(math.isfinite(upper) and upper <= _NEAR_ULPS * _EPS * scale)


def polish_table(
    target: Any,
    rational: Rational,
    cert: Certificate,
    a: float,
    b: float,
    *,
    weight: Weight,
    kinks: tuple[float, ...] = (),
    order: tuple[int, int] | None = None,
    min_q: float | None = None,
    pole_free: bool = True,
) -> tuple[Rational, Certificate, dict[str, Any] | None]:
    """Refine a plain or safe table near float64 resolution (:func:`refine_table`), re-certify
    it and keep it when its certified upper bound is lower than ``cert``'s (or equal, with a
    lower accurately evaluated error).

    Returns ``(rational, cert, record)``: the table kept, its certificate (a valid lower bound of
    ``cert`` carried over, :func:`~actfit.approx.certificate.with_bound`) and the refinement's
    record with ``"kept"`` (None when no refinement was tried: another form, a table proven
    within 0.1% of the best of its class, or one not near float64 resolution). A plain table is
    kept only with no pole on the range, no more real poles when ``pole_free`` (the fitter's
    ``pole_free``; True keeps the strictest rule), the floor ``min Q / mean Q >= max(min_q,
    0.1)`` (or no more than 1% lower) and a Horner condition of ``Q`` at most 8 or no worse.

    Examples:
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import as_target
        >>> t, w = as_target("tanh", None), parse_weight("uniform", range=(-0.5, 0.5))
        >>> pade = Rational([0.0, 1.0, 0.0, 1.0 / 15.0], [0.0, 0.4], "plain")
        >>> polish_table(t, pade, certify(t, pade, -0.5, 0.5), -0.5, 0.5, weight=w)[2] is None
        True
    """
    proven = (
        cert.status == "global" and cert.lower is not None and cert.gap is not None
        and cert.gap <= 1e-3
    )
    if (
        rational.form not in ("plain", "safe")
        or cert.status == "none"
        or proven  # within 0.1% of the best of the class: little to gain
        or not near_resolution(target, weight, cert.upper, a, b)
    ):
        return rational, cert, None
    refined, info = refine_table(target, rational, a, b, weight=weight, kinks=kinks)
    if info is None:
        return rational, cert, None
    record = info.to_dict()
    if rational.form == "plain" and not _same_denominator_class(rational, refined, a, b, min_q,
                                                                pole_free):
        return rational, cert, {**record, "kept": False}
    new = certify(target, refined, a, b, weight=weight, kinks=kinks, order=order)
    # Equal certified uppers (the float64 evaluation noise of both tables) with a lower accurate
    # error: the refined table is the better one for every evaluation more accurate than
    # float64 Horner, and no worse for that one.
    better = new.upper < cert.upper or (new.upper == cert.upper and info.after < info.before)
    if new.status == "none" or not better:
        return rational, cert, {**record, "kept": False, "certified_upper": new.upper}
    kept = with_bound(new, cert)
    note = ("" if kept.detail.endswith(".") else ".") + (
        " The stored float64 coefficients were corrected after the fit (linearised minimax "
        f"corrections and iterative rounding on their accurately evaluated error: {info.before:.1e}"
        f" before, {info.after:.1e} after, at {info.points} points)."
    )
    return refined, dataclasses.replace(kept, detail=kept.detail + note), {**record, "kept": True}

"""Proven sup-norm of a fit's error: an enclosure ``[lower, upper]`` of ``max |w (f - r)|``.

A fit's ``max error`` elsewhere in actfit is attained on a dense grid: a sample, not a bound.
:func:`supnorm` proves an upper bound by branch and bound over subintervals in ball arithmetic
(python-flint ``arb``; Johansson, IEEE Trans. Comput. 66 (2017)), in the spirit of Sollya's
``supnorm`` (Chevillard, Harrison, Joldeș, Lauter, "Efficient and accurate computation of upper
bounds of approximation errors", Theor. Comput. Sci. 412 (2011)) with interval Taylor forms
(Moore, "Interval Analysis", 1966):

* ``[a, b]`` is split at the kinks of the target and weight, at the exactly representable roots
  of their affine conditions, and at 0 for the safe form (the kink of ``|x|``);
* on an interval ``X`` with centre ``m`` the error ``e`` obeys
  ``e(x) ∈ e(m) + e'(m)(x - m) + e''(X)/2 (x - m)^2``, whose exact maximum over ``X`` (a quadratic
  with the sign of ``e''(X)``'s bound) is the interval's upper bound; naive interval evaluation
  of ``f(X) - r(X)`` overestimates by about ``|f'| rad X`` and never gets relatively tight;
  where the target is not smooth on ``X`` (an undecided kink) the plain value enclosure is used;
* the lower bound is the best value ``|e(p)|`` verified in arb at a point: the piece ends, the
  local maxima of a float64 dense-grid pre-pass refined by zooming, and every interval's centre;
* the interval with the largest upper bound is bisected, intervals whose upper bound is below the
  lower bound are discarded, until ``upper - lower <= rtol * upper`` or the budget is spent; the
  result says which ``rtol`` was reached, never more.

The rational is evaluated from its coefficients as stored: the exact binary values of the float64
coefficients, in its form (plain ``1 + Σ b_k x^k``, safe ``1 + Σ |b_k| |x|^k``, abs
``1 + |Σ b_k x^k|``, abs_offset ``0.1 + |Σ b_k x^k|``).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from actfit.approx.enclosure import Enclosure, compile_expression, compile_target
from actfit.rational import OFFSET_C, Rational
from actfit.targets import Target, as_target

__all__ = ["SupNorm", "min_abs_q", "supnorm"]

_GRID = 20001
_CANDIDATES = 24


@dataclass(frozen=True)
class SupNorm:
    """A proven enclosure of ``max_{x in [a, b]} |w(x) (f(x) - r(x))|``.

    Attributes:
        lower: A value ``|e(argmax)|`` verified in ball arithmetic (rounded down).
        upper: The proven upper bound (rounded up).
        argmax: The point where ``lower`` is attained.
        rtol: The relative width ``(upper - lower) / upper`` actually reached.
        converged: Whether ``rtol`` reached the requested tolerance.
        intervals: Number of subintervals bounded.
        seconds: Wall time.
        prec: Working precision in bits.
        splits: The interior points where ``[a, b]`` was split (kinks).
        detail: One sentence saying exactly what was proven.
    """

    lower: float
    upper: float
    argmax: float
    rtol: float
    converged: bool
    intervals: int
    seconds: float
    prec: int
    splits: tuple[float, ...]
    detail: str

    def summary(self, rtol_requested: float) -> dict[str, float | int | bool | str]:
        """The enclosure as JSON-ready data (what a document's ``proven`` entry holds)."""
        return {
            "lower": self.lower,
            "upper": self.upper,
            "argmax": self.argmax,
            "rtol": self.rtol,
            "rtol_requested": rtol_requested,
            "converged": self.converged,
            "intervals": self.intervals,
            "seconds": self.seconds,
            "detail": self.detail,
        }


# -- rounding outward ----------------------------------------------------------------------------
def _down(v: Any) -> float:
    """The largest float <= the lower end of the ball ``v``."""
    lo = v.lower()
    f = float(lo)
    if not math.isfinite(f):
        return f
    return f if _arb(f) <= lo else math.nextafter(f, -math.inf)


def _up(v: Any) -> float:
    """The smallest float >= the upper end of the ball ``v``."""
    hi = v.upper()
    f = float(hi)
    if not math.isfinite(f):
        return math.inf if f != f else f
    return f if _arb(f) >= hi else math.nextafter(f, math.inf)


def _arb(v: float) -> Any:
    import flint

    return flint.arb(v)


# -- the rational and the error in ball arithmetic -------------------------------------------
class _Rational:
    """``P/Q`` in ball arithmetic from the exact binary values of the stored coefficients."""

    def __init__(self, rational: Rational) -> None:
        import flint

        self.form = rational.form
        self.p = [flint.arb(float(c)) for c in rational.numerator]
        den = [float(c) for c in rational.denominator]
        if self.form == "abs_offset":
            self.s = [flint.arb(c) for c in den]
            self.const = flint.arb(OFFSET_C)
        else:
            self.s = [flint.arb(0.0)] + [flint.arb(c) for c in den]
            self.const = flint.arb(1.0)
        if self.form == "safe":
            self.s = [abs(c) for c in self.s]

    @staticmethod
    def _horner(coeffs: list[Any], x: Any) -> Any:
        acc = coeffs[-1]
        for c in coeffs[-2::-1]:
            acc = acc * x + c
        return acc

    def q(self, x: Any, lo: float, hi: float, series: bool) -> Any:
        """``Q`` on ``[lo, hi]`` (``x`` its ball or series); None where not smooth."""
        if self.form == "plain":
            return self.const + self._horner(self.s, x)
        if self.form == "safe":
            if lo >= 0:
                ax = x
            elif hi <= 0:
                ax = -x
            elif series:
                return None
            else:
                ax = abs(x)
            q = self.const + self._horner(self.s, ax)
            if len(self.s) == 1:  # no b_k: Q = 1
                return q
            # Q grows with |x| (coefficients >= 0): its exact range is [Q(near end), Q(far end)];
            # Horner on a ball touching 0 loses that and can even straddle 0.
            near, far = sorted((abs(lo), abs(hi)))
            exact = self.const + self._horner(self.s, _arb(near))
            if far != near:
                exact = exact.union(self.const + self._horner(self.s, _arb(far)))
            if not series:
                return q.intersection(exact)
            c = q.coeffs()
            c[0] = c[0].intersection(exact)
            return type(q)(c, prec=q.prec)
        s = self._horner(self.s, x)
        if not series or len(self.s) == 1:
            return self.const + abs(s)
        s0 = s[0]
        if s0.lower() >= 0:
            return self.const + s
        if s0.upper() <= 0:
            return self.const - s
        return None

    def p_of(self, x: Any) -> Any:
        return self._horner(self.p, x)


class _Error:
    """``e = w (f - P/Q)`` on intervals: series (Taylor coefficients) or value."""

    def __init__(self, f: Enclosure, r: _Rational, w: Enclosure | None) -> None:
        self.f, self.r, self.w = f, r, w

    def series(self, lo: float, hi: float, n: int) -> Any:
        import flint

        fs = self.f.series(lo, hi, n)
        if fs is None:
            return None
        x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
        xs = flint.arb_series([x, 1], prec=n)
        q = self.r.q(xs, lo, hi, True)
        if q is not None and not isinstance(q, flint.arb_series):  # constant Q (no b_k)
            q = flint.arb_series([q], prec=n)
        if q is None or q[0].contains(0):
            return None
        e = fs - self.r.p_of(xs) / q
        if self.w is not None:
            ws = self.w.series(lo, hi, n)
            if ws is None:
                return None
            e = ws * e
        return e

    def value(self, lo: float, hi: float) -> Any:
        import flint

        x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
        e = self.f.value(lo, hi) - self.r.p_of(x) / self.r.q(x, lo, hi, False)
        if self.w is not None:
            e = self.w.value(lo, hi) * e
        return e


def _quad_max(c0: Any, c1: Any, c2: Any, tl: Any, th: Any) -> Any:
    """An upper bound of ``c0 + c1 t + c2 t^2`` over ``t in [tl, th]`` (``c2``, ``tl``, ``th``
    exact; ``c0``, ``c1`` balls): the exact maximum of the mid-point quadratic plus the radii."""
    m0, m1 = c0.mid(), c1.mid()
    tmax = max(abs(tl), abs(th))
    rad = c0.rad() + c1.rad() * tmax
    best = (m0 + m1 * tl + c2 * tl * tl).upper()
    right = (m0 + m1 * th + c2 * th * th).upper()
    if right > best:
        best = right
    if c2 < 0:
        ts = -m1 / (2 * c2)
        if ts.upper() >= tl and ts.lower() <= th:
            vertex = (m0 - m1 * m1 / (4 * c2)).upper()
            if vertex > best:
                best = vertex
    return (best + rad).upper()


def _taylor_bounds(g: Any, lo: float, hi: float) -> tuple[Any, Any, Any] | None:
    """``(lower, upper, g(m))`` of ``g`` on ``[lo, hi]`` by the order-2 Taylor form, or None."""
    m = 0.5 * (lo + hi)
    c = g.series(m, m, 2)
    big = g.series(lo, hi, 3)
    if c is None or big is None:
        return None
    e0, e1, c2 = c[0], c[1], big[2]
    if not (e0.is_finite() and e1.is_finite() and c2.is_finite()):
        return None
    tl, th = _arb(lo) - m, _arb(hi) - m
    upper = _quad_max(e0, e1, c2.upper(), tl, th)
    lower = -_quad_max(-e0, -e1, -c2.lower(), tl, th)
    v0 = big[0]
    if v0.is_finite():  # the plain enclosure wins on wide intervals
        if v0.upper() < upper:
            upper = v0.upper()
        if v0.lower() > lower:
            lower = v0.lower()
    return lower, upper, e0


def _abs_upper(lower: Any, upper: Any) -> Any:
    return upper if upper >= -lower else -lower


# -- candidates from a float64 pre-pass ------------------------------------------------------------
def _candidates(target: Target, rational: Rational, weight: Target | None,
                a: float, b: float) -> list[float]:
    def err(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            e = np.abs(target(x) - rational(x))
            if weight is not None:
                e = e * np.abs(weight(x))
        return np.where(np.isfinite(e), e, 0.0)

    xs = np.linspace(a, b, _GRID)
    ev = err(xs)
    inner = (ev[1:-1] >= ev[:-2]) & (ev[1:-1] >= ev[2:])
    idx = np.flatnonzero(inner) + 1
    idx = idx[np.argsort(ev[idx])[::-1][:_CANDIDATES]]
    out = []
    for i in idx:
        lo, hi = xs[i - 1], xs[i + 1]
        for _ in range(4):  # zoom: each round narrows the bracket 20-fold
            z = np.linspace(lo, hi, 41)
            j = int(np.argmax(err(z)))
            lo, hi = z[max(j - 1, 0)], z[min(j + 1, 40)]
        out.append(float(z[j]))
    return out


def _as_weight(weight: Any) -> Target | None:
    if weight is None:
        return None
    if isinstance(weight, Target):
        return weight
    spec = getattr(weight, "spec", weight)
    spec = str(spec).strip()
    if spec == "uniform":
        return None
    if spec.startswith("normal"):
        mu, sigma = 0.0, 1.0
        if ":" in spec:
            parts = [p.split("=")[-1] for p in spec.split(":", 1)[1].split(",")]
            mu, sigma = float(parts[0]), float(parts[1]) if len(parts) > 1 else 1.0
        spec = f"exp(-((x - ({mu!r}))/({sigma!r}))**2/2)/(({sigma!r})*sqrt(2*pi))"
    return as_target(spec)


def supnorm(
    target: Target | str,
    rational: Rational,
    a: float,
    b: float,
    *,
    weight: Any = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    prec: int = 128,
    max_intervals: int = 100_000,
    max_seconds: float = 10.0,
) -> SupNorm:
    """Prove an enclosure of ``max_{[a, b]} |w(x) (f(x) - r(x))|`` by branch and bound.

    Args:
        target: A Target, a registry name or an expression in ``x``.
        rational: The approximation (its float64 coefficients are taken as exact).
        a, b: The interval, ``a < b``.
        weight: None or ``"uniform"`` (``w = 1``), a Target, an expression, ``"normal[:MU,SIGMA]"``
            or an :class:`actfit.approx.weights.Weight` (its ``spec`` is used).
        rtol: Requested relative width ``(upper - lower) / upper``.
        atol: Also stop once ``upper - lower <= atol`` (for errors at the rounding level, where
            a relative width of ``rtol`` would need far more subintervals).
        prec: Working precision in bits.
        max_intervals, max_seconds: The budget; when it is spent the reached ``rtol`` is
            reported (``converged`` False).

    Returns:
        The :class:`SupNorm`.

    Raises:
        NoEnclosureError: the target (or weight) uses a function without an interval enclosure.

    Examples:
        >>> r = Rational([0.0, 1.0], [], form="plain")
        >>> s = supnorm("x + x**3/10", r, -1.0, 1.0)
        >>> s.lower <= 0.1 <= s.upper
        True
    """
    import flint

    start = time.perf_counter()
    target = as_target(target, None)
    wt = _as_weight(weight)
    a, b = float(a), float(b)
    saved, flint.ctx.prec = flint.ctx.prec, prec
    try:
        f = compile_target(target, prec=prec)
        w = compile_expression(wt.sympy(), prec=prec) if wt is not None else None
        err = _Error(f, _Rational(rational), w)
        splits = set(target.kinks) | set(f.breakpoints)
        if w is not None:
            splits |= set(wt.kinks) | set(w.breakpoints)
        if rational.form == "safe":
            splits.add(0.0)
        inner = sorted(s for s in splits if a < s < b)
        ends = [a, *inner, b]

        lower, argmax = _arb(0.0), a
        fixed = _arb(0.0)  # upper bounds that are final: piece ends, unsplittable, discarded
        for p in ends:  # exact values at piece ends (a kink's value may differ from its limits)
            v = err.value(p, p)
            fixed = _max(fixed, v.abs_upper() if v.is_finite() else _arb(math.inf))
            if v.is_finite() and v.abs_lower() > lower:
                lower, argmax = v.abs_lower(), p
        for p in _candidates(target, rational, wt, a, b):
            v = err.value(p, p)
            if v.is_finite() and v.abs_lower() > lower:
                lower, argmax = v.abs_lower(), p

        heap: list[tuple[float, int, float, float, Any]] = []
        count = 0

        def push(lo: float, hi: float) -> None:
            nonlocal lower, argmax, fixed, count
            count += 1
            tb = _taylor_bounds(err, lo, hi)
            if tb is not None:
                lo_b, up_b, e0 = tb
                ub = _abs_upper(lo_b, up_b)
                m = 0.5 * (lo + hi)
                if e0.abs_lower() > lower:
                    lower, argmax = e0.abs_lower(), m
            else:
                v = err.value(lo, hi)
                ub = v.abs_upper() if v.is_finite() else _arb(math.inf)
            if ub <= lower:
                fixed = _max(fixed, ub)
                return
            heapq.heappush(heap, (-float(ub), count, lo, hi, ub))

        for lo, hi in itertools.pairwise(ends):
            push(lo, hi)
        while heap:
            top = heap[0][4]
            upper = _max(top, fixed)
            if upper.is_finite() and upper - lower <= max(rtol * upper, _arb(atol)):
                break
            if count >= max_intervals or time.perf_counter() - start > max_seconds:
                break
            _, _, lo, hi, ub = heapq.heappop(heap)
            if ub <= lower:
                fixed = _max(fixed, ub)
                continue
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:  # adjacent floats: this bound is final
                fixed = _max(fixed, ub)
                continue
            push(lo, mid)
            push(mid, hi)
        upper = _max(heap[0][4], fixed) if heap else _max(fixed, lower)
        lo_f, up_f = _down(lower), _up(upper)
    finally:
        flint.ctx.prec = saved
    seconds = time.perf_counter() - start
    reached = (up_f - lo_f) / up_f if up_f > 0 else 0.0
    if not math.isfinite(up_f):
        reached = math.inf
    kinks = ", ".join(f"{s:g}" for s in inner) if inner else "none"
    what = "max |w (f - r)|" if wt is not None else "max |f - r|"
    detail = (
        f"proven enclosure of {what} on [{a:g}, {b:g}]: [{lo_f:.17g}, {up_f:.17g}] "
        f"(relative width {reached:.3g}), ball arithmetic (python-flint arb, {prec} bits), "
        f"branch and bound over {count} subintervals split at the kinks x = {kinks}"
    )
    return SupNorm(
        lower=lo_f, upper=up_f, argmax=float(argmax), rtol=reached,
        converged=bool(reached <= rtol or up_f - lo_f <= atol), intervals=count,
        seconds=seconds, prec=prec,
        splits=tuple(inner), detail=detail,
    )


def _max(u: Any, v: Any) -> Any:
    return u if u >= v else v


class _Denominator:
    """``Q`` of a rational as a ``g`` for :func:`_taylor_bounds`."""

    def __init__(self, r: _Rational) -> None:
        self.r = r

    def series(self, lo: float, hi: float, n: int) -> Any:
        import flint

        x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
        q = self.r.q(flint.arb_series([x, 1], prec=n), lo, hi, True)
        if q is not None and not isinstance(q, flint.arb_series):
            q = flint.arb_series([q], prec=n)
        return q

    def value(self, lo: float, hi: float) -> Any:
        import flint

        x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
        return self.r.q(x, lo, hi, False)


def min_abs_q(
    rational: Rational,
    a: float,
    b: float,
    *,
    rtol: float = 1e-6,
    prec: int = 128,
    max_intervals: int = 20_000,
) -> float:
    """Return a proven lower bound of ``min_{[a, b]} |Q(x)|`` (0.0 where ``Q`` changes sign).

    Branch and bound on the order-2 Taylor form of ``Q``, as in :func:`supnorm`; for the plain
    form the caller can combine it with the exact root isolation of
    :func:`actfit.approx.poles.real_roots`.

    Examples:
        >>> min_abs_q(Rational([1.0], [0.0, 1.0], form="plain"), -1.0, 2.0)
        1.0
    """
    import flint

    saved, flint.ctx.prec = flint.ctx.prec, prec
    try:
        g = _Denominator(_Rational(rational))
        ends = [float(a), float(b)]
        if rational.form == "safe" and a < 0 < b:
            ends = [float(a), 0.0, float(b)]
        best = _arb(math.inf)  # the smallest verified |Q(p)| (an upper bound of the minimum)
        signs: set[int] = set()
        heap: list[tuple[float, int, float, float, Any]] = []
        count = 0

        def note(v: Any) -> None:
            nonlocal best
            if v > 0:
                signs.add(1)
            elif v < 0:
                signs.add(-1)
            if v.abs_upper() < best:
                best = v.abs_upper()

        def push(lo: float, hi: float) -> None:
            nonlocal count
            count += 1
            tb = _taylor_bounds(g, lo, hi)
            if tb is not None:
                lo_b, up_b, q0 = tb
                note(q0)
            else:
                v = g.value(lo, hi)
                lo_b, up_b = v.lower(), v.upper()
            lb = lo_b if lo_b > 0 else (-up_b if up_b < 0 else _arb(0.0))
            heapq.heappush(heap, (float(lb), count, lo, hi, lb))

        for p in ends:
            note(g.value(p, p))
        for lo, hi in itertools.pairwise(ends):
            push(lo, hi)
        while heap and count < max_intervals and len(signs) < 2:
            lb = heap[0][4]
            if best - lb <= rtol * best:
                break
            _, _, lo, hi, lb = heapq.heappop(heap)
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                heapq.heappush(heap, (float(lb), count + max_intervals, lo, lo, lb))
                break
            push(lo, mid)
            push(mid, hi)
        if len(signs) == 2:
            return 0.0
        return max(_down(heap[0][4]), 0.0) if heap else _down(best)
    finally:
        flint.ctx.prec = saved


"""A proven lower bound on the best error of the ``safe`` form: Farkas certificates, exact check.

The safe class is ``P/Q`` with ``deg P <= m`` and ``Q(x) = 1 + sum_{k=1..n} c_k |x|^k``,
``c_k >= 0``. On finitely many points ``x_i`` of the range, "some safe rational has weighted error
at most ``eps`` at every ``x_i``" is the linear system in ``(P, c)``

    ``w_i (f_i Q(x_i) - P(x_i)) <= eps Q(x_i)``,  ``-w_i (f_i Q(x_i) - P(x_i)) <= eps Q(x_i)``,
    ``c >= 0``

(``Q(x_i) >= 1`` for every member, so the division is harmless). Its level sets are convex, so
the discrete problem is quasi-convex: the smallest feasible ``eps`` is the discrete optimum, and
it is at most the best error on the range. When the system is infeasible, Farkas' lemma gives a
proof: multipliers ``y >= 0`` on the rows with ``G_P^T y = 0``, ``s = G_c^T y >= 0`` and
``h^T y < 0``. Such ``y`` comes from a small LP (HiGHS through scipy); it is then made *exact*:
on its support, the equations are solved again in rational arithmetic (python-flint's
``fmpq_mat``) from the exact binary values of the points, the stored coefficients and 40-digit
values of the target, and the signs are checked exactly. A ``y`` that passes is the proof that
every safe rational of type [m, n] has weighted error above ``eps`` at one of the points, hence on
the range.

The points are the local extrema of the fit's own error (where a better rational would have to
improve); the LP is written in correction variables around the fit (``P = P_0 + p``,
``c = c_0 + d``), so that its data are of the size of the error and not of the target. The
target's values are mpmath's 40-digit ones, with ``10^-30 |f|`` added to ``eps`` for their
error; the weight enters with its float64 values at the points.

The bound is tight when the fit is the best safe rational (tanh [6,6] on [-3, 3]: gap 1e-6 in
about 0.03 s, against 0.9997 from the one-sided plain bounds of
:mod:`actfit.approx.safe_bound`); when it is not, the bound is the discrete optimum on the fit's
extremal points, still below the best error. It needs a target with ``.mp`` (registry targets and
expressions) and fails, with a reason, where the exact solve does not give ``y >= 0`` (a
degenerate support).

References:
    J. Farkas, "Theorie der einfachen Ungleichungen", J. reine angew. Math. 124 (1902), 1–27.
    E. W. Cheney and H. L. Loeb, "Two new algorithms for rational approximation", Numer. Math. 3
    (1961), 72–75 (the discrete rational problem as a sequence of linear programs).
    A. Neumaier and O. Shcherbina, "Safe bounds in linear and mixed-integer linear programming",
    Math. Program. 99 (2004), 283–296 (verified infeasibility from an approximate Farkas ray).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from actfit.approx.certificate import dense_grid, special_points
from actfit.approx.extrema import error_extrema
from actfit.approx.weights import Weight
from actfit.rational import Rational

__all__ = ["FarkasBound", "farkas_safe_bound"]

_Array = np.ndarray
# The target's 40-digit values are trusted to this relative error (mpmath's are far better).
_F_ERROR = Fraction(1, 10**30)
# Multipliers below this (relative to the largest) are taken as 0: not in the support.
_SUPPORT_TOL = 1e-11
# Extrema of the fit's error at least this fraction of the largest become points: two sets, tried
# in turn (swish [5,4] on [-3, 3] is proven to 1e-6 only on the near-maximal ones, tanh [6,6]
# on either).
_POINT_LEVELS = (0.2, 0.99)
_POINTS_PER_DOF = 24
# The LP's variants, tried in turn at each level (any verified ray is a proof): (near_bound,
# margin). Scaled denominator coefficients below near_bound times the largest may be at their
# bound 0 in the discrete optimum, so their multipliers keep s_k >= 0, with a margin meant to
# survive the exact re-solve of a degenerate ray.
_VARIANTS = ((0.0, 0.0), (1e-2, 0.0), (1e-2, 1e-6))
# Scaled denominator coefficients of the fit below this (relative) are taken as 0 in the LP's
# expansion point.
_TINY_C = 1e-9
# The levels tried, as relative gaps below the fit's error, until one is proven.
_GAPS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 0.5, 0.9, 0.99)


@dataclass(frozen=True)
class FarkasBound:
    """A proven lower bound on the best weighted error of the safe class on a range.

    Attributes:
        lower: every safe rational of the type has weighted error above this at one of
            ``points`` (0.0 when nothing was proven).
        points: the support of the verified Farkas certificate.
        detail: what was proven, or why nothing was.
    """

    lower: float
    points: tuple[float, ...]
    detail: str


def _mp_fraction(value: Any) -> Fraction:
    """The exact value of an mpmath number as a fraction."""
    sign, man, exp, _ = value._mpf_  # mpmath's man is |mantissa|; the sign is apart
    out = Fraction(int(man) * 2 ** int(exp)) if exp >= 0 else Fraction(int(man), 2 ** -int(exp))
    return -out if sign else out


class _Points:
    """The discrete problem's data at the points: float values for the LP, and the means to
    build exact rows for the verification."""

    def __init__(self, target: Any, weight: Weight, rational: Rational, pts: _Array,
                 a: float, b: float) -> None:
        import mpmath

        self.m, self.n = rational.degree
        self.x = pts
        self.w = np.asarray(weight(pts), dtype=np.float64)
        self.mid, self.half = 0.5 * (a + b), 0.5 * (b - a)
        self.radius = max(abs(a), abs(b))
        self.num = [float(v) for v in rational.numerator]
        self.den = [float(v) for v in rational.denominator]  # Q = 1 + sum den[k-1] |x|^k
        # Scaled denominator coefficients c0_k = den_k R^k: the point the LP's variables
        # d_k = c_k - c0_k are measured from. Any point will do (the exact check uses the
        # unshifted rows), so the fit's tiny ones go to 0, where the discrete optimum has them:
        # left at 5e-13 they make the LP numerically unsolvable (swish [5,4] on [-3, 3]).
        c0 = np.array(self.den) * self.radius ** np.arange(1, self.n + 1)
        tiny = c0 <= _TINY_C * max(1.0, float(np.max(c0, initial=0.0)))
        self.c0 = np.where(tiny, 0.0, c0)
        shift = [0.0 if t else v for v, t in zip(self.den, tiny, strict=True)]
        g, e0, q0 = [], [], []
        with mpmath.workdps(40):
            num = [mpmath.mpf(v) for v in self.num][::-1]
            for x in pts:
                xm = mpmath.mpf(float(x))
                gv = target.mp(xm)
                q = 1 + mpmath.fsum(mpmath.mpf(c) * abs(xm) ** (k + 1)
                                    for k, c in enumerate(shift))
                g.append(gv)
                e0.append(q * gv - mpmath.polyval(num, xm))
                q0.append(q)
        self.g_mp = g
        self.g = np.array([float(v) for v in g])
        self.e0 = np.array([float(v) for v in e0])
        self.q0 = np.array([float(v) for v in q0])
        self.cheb = np.polynomial.chebyshev.chebvander((pts - self.mid) / self.half, self.m)
        self.u = (np.abs(pts) / self.radius)[:, None] ** np.arange(1, self.n + 1)

    def float_rows(self, eps: float) -> tuple[_Array, _Array, _Array]:
        """``G_P``, ``G_c`` and ``h / eps`` of the rows (+ rows first, then - rows)."""
        w = self.w
        gp = np.vstack([-w[:, None] * self.cheb, w[:, None] * self.cheb])
        gc = np.vstack([(w * self.g - eps)[:, None] * self.u,
                        (-w * self.g - eps)[:, None] * self.u])
        h = np.concatenate([eps * self.q0 - w * self.e0, eps * self.q0 + w * self.e0]) / eps
        return gp, gc, h

    def exact_row(self, row: int, eps: Fraction) -> tuple[list[Fraction], list[Fraction],
                                                          Fraction]:
        """The exact ``(G_P, G_c, h)`` of one row (``row < N``: a + row, else a - row); the
        rows use the original variables ``(P, c)``, with ``c >= 0``."""
        i = row % self.x.size
        sign = 1 if row < self.x.size else -1
        x = Fraction(float(self.x[i]))
        w = Fraction(float(self.w[i]))
        g = _mp_fraction(self.g_mp[i])
        e = eps + w * abs(g) * _F_ERROR
        t = (x - Fraction(self.mid)) / Fraction(self.half)
        cheb = [Fraction(1), t]
        while len(cheb) < self.m + 1:
            cheb.append(2 * t * cheb[-1] - cheb[-2])
        cheb = cheb[: self.m + 1]
        u = [(abs(x) / Fraction(self.radius)) ** k for k in range(1, self.n + 1)]
        # P = sum alpha_j T_j(t), Q = 1 + sum c_k u_k: the rows of w(gQ - P) <= eQ (sign +1)
        # and -w(gQ - P) <= eQ (sign -1), written G_P alpha + G_c c <= h.
        gp = [-sign * w * tj for tj in cheb]
        gc = [(sign * w * g - e) * uk for uk in u]
        h = e - sign * w * g
        return gp, gc, h


def _extremal_points(target: Any, weight: Weight, rational: Rational, a: float, b: float,
                     kinks: tuple[float, ...], level: float = _POINT_LEVELS[0]) -> _Array:
    def err(x: _Array) -> _Array:
        with np.errstate(all="ignore"):
            return weight(x) * (np.asarray(target(x), dtype=np.float64) - rational(x))

    fixed = special_points(a, b, tuple(kinks), "safe")
    xs, es, _ = error_extrema(err, dense_grid(a, b, special=fixed), fixed)
    top = float(np.max(np.abs(es)))
    keep = np.flatnonzero(np.abs(es) >= level * top)
    m, n = rational.degree
    cap = _POINTS_PER_DOF * (m + n + 2)
    if keep.size > cap:
        # Near rounding level the error has hundreds of extrema: thin them evenly along the
        # range and keep the largest (the largest alone cluster around a few alternation
        # points, and the bound of swish [6,6] on [-3, 3] falls from gap 1e-6 to 0.9).
        big = keep[np.argsort(-np.abs(es[keep]))][: 4 * (m + n + 2)]
        keep = np.union1d(keep[:: -(-keep.size // cap)], big)
    return np.unique(np.concatenate([xs[keep], [x for x in fixed if a <= x <= b]]))


def _farkas_lp(data: _Points, eps: float, near_bound: float, margin: float) -> _Array | None:
    """An approximate Farkas ray at level ``eps`` (None when the LP finds none); the scaled
    coefficients below ``near_bound`` times the largest keep ``s_k >= margin sum_i |G_c,ik|
    y_i`` (see the body)."""
    from scipy.optimize import linprog

    gp, gc, h = data.float_rows(eps)
    # y is a ray of the system shifted to the fit (d = c - c0 >= -c0, h' = h - G z0, of the
    # error's size): h'^T y + c0^T s < 0 with s = G_c^T y >= 0. Where c0_k is large the bound
    # d_k >= -c0_k is far and s_k = 0; where it is small (the discrete optimum may put c_k at
    # 0) s_k >= 0 is kept, with its c0_k s_k in the normalisation row.
    near = data.c0 <= near_bound * max(1.0, float(np.max(data.c0, initial=0.0)))
    norm = h + gc[:, near] @ (data.c0[near] / eps)
    a_eq = np.vstack([gp.T, gc[:, ~near].T, norm[None, :]])
    b_eq = np.concatenate([np.zeros(a_eq.shape[0] - 1), [-1.0]])
    # A margin on s_k >= 0 (relative to sum_i |G_c,ik| y_i) survives the exact re-solve.
    a_ub = -(gc[:, near] - margin * np.abs(gc[:, near])).T if near.any() else None
    b_ub = np.zeros(int(near.sum())) if near.any() else None
    # A bounded objective (sum y, the ray's size) gives HiGHS a well-posed vertex to find; the
    # pure feasibility problem (cost 0) often ends "unknown" on these degenerate systems.
    for method in ("highs-ds", "highs-ipm"):
        res = linprog(np.ones(h.size), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                      bounds=(0, None), method=method,
                      options={"primal_feasibility_tolerance": 1e-10,
                               "dual_feasibility_tolerance": 1e-10})
        if res.status in (0, 2):  # solved, or proven infeasible: no need for the other
            break
    return res.x if res.status == 0 else None


def _solve_exact(eqs: list[list[Fraction]], rhs: list[Fraction], guess: _Array
                 ) -> list[Fraction] | None:
    """An exact solution of ``eqs y = rhs`` near ``guess``: the unknowns with the smallest
    ``guess`` beyond the number of equations keep their float values, the others are solved for
    in rational arithmetic (python-flint's fmpq_mat); None when that system is singular."""
    import flint

    order = np.argsort(-guess)
    free = [int(j) for j in order[: len(eqs)]]
    fixed = [int(j) for j in order[len(eqs):]]
    y = [Fraction(0)] * guess.size
    for j in fixed:
        y[j] = Fraction(float(guess[j]))

    def fmpq(v: Fraction) -> Any:
        return flint.fmpq(v.numerator, v.denominator)

    mat = flint.fmpq_mat(len(eqs), len(free), [fmpq(row[j]) for row in eqs for j in free])
    vec = flint.fmpq_mat(len(eqs), 1, [
        fmpq(rhs[i] - sum((eqs[i][j] * y[j] for j in fixed), Fraction(0)))
        for i in range(len(eqs))
    ])
    try:
        sol = mat.solve(vec)
    except ZeroDivisionError:
        return None
    for k, j in enumerate(free):
        y[j] = Fraction(int(sol[k, 0].p), int(sol[k, 0].q))
    return y


def _is_certificate(rows: list[tuple[list[Fraction], list[Fraction], Fraction]],
                    y: list[Fraction]) -> bool:
    """The exact Farkas conditions for ``G_P a + G_c c <= h``, ``c >= 0``: ``y >= 0``,
    ``G_P^T y = 0``, ``G_c^T y >= 0`` and ``h^T y < 0``."""
    if any(v < 0 for v in y):
        return False

    def dot(col: Any) -> Fraction:
        return sum((col(r) * v for r, v in zip(rows, y, strict=True)), Fraction(0))

    m1, n = len(rows[0][0]), len(rows[0][1])
    return (all(dot(lambda r, j=j: r[0][j]) == 0 for j in range(m1))
            and all(dot(lambda r, k=k: r[1][k]) >= 0 for k in range(n))
            and dot(lambda r: r[2]) < 0)


def _verify(data: _Points, ray: _Array, eps: float) -> tuple[int, ...] | None:
    """Make ``ray`` exact on its support and check it: the support's rows when it proves the
    system at level ``eps`` infeasible, else None.

    Equations on ``y_S``: ``G_P^T y = 0``, ``G_c,k^T y = 0`` for the ``k`` whose float ``s_k``
    is ~0, and the LP's normalisation ``h^T y = -eps`` (its ``h`` is the shifted one,
    ``h - G z0``, and ``(h - G z0)^T y = h^T y - s^T c0`` with ``s^T c0 ~ 0``). A degenerate ray
    has fewer nonzeros than equations; then some ``s_k = 0`` equations are dropped (their
    ``s_k >= 0`` is checked exactly), trying each choice in turn.
    """
    from itertools import combinations

    support = [int(j) for j in np.flatnonzero(ray > _SUPPORT_TOL * float(np.max(ray)))]
    e = Fraction(eps)
    rows = [data.exact_row(j, e) for j in support]
    gc = data.float_rows(eps)[1][support]
    y_s = ray[support]
    s = gc.T @ y_s
    scale = float(np.sum(np.abs(gc.T) @ y_s))
    zero_s = [k for k in range(data.n) if abs(s[k]) <= 1e-9 * scale]
    base = [[r[0][j] for r in rows] for j in range(data.m + 1)]
    surplus = len(base) + len(zero_s) + 1 - len(support)
    for drop in combinations(zero_s, max(surplus, 0)):
        eqs = base + [[r[1][k] for r in rows] for k in zero_s if k not in drop]
        eqs.append([r[2] for r in rows])
        rhs = [Fraction(0)] * (len(eqs) - 1) + [-e]
        y = _solve_exact(eqs, rhs, y_s)
        if y is not None and _is_certificate(rows, y):
            return tuple(support)
    return None


def _proven(data: _Points, eps: float) -> tuple[int, ...] | None:
    """The support of a verified Farkas certificate at level ``eps`` (None when no LP variant
    gives one)."""
    for near_bound, margin in _VARIANTS:
        ray = _farkas_lp(data, eps, near_bound, margin)
        got = None if ray is None else _verify(data, ray, eps)
        if got is not None:
            return got
    return None


def farkas_safe_bound(
    target: Any,
    weight: Weight,
    rational: Rational,
    a: float,
    b: float,
    kinks: tuple[float, ...] = (),
    *,
    upper: float,
    rel_gap: float = 1e-6,
    enough: float = 1e-3,
) -> FarkasBound:
    """Return a proven lower bound on the best weighted error of the safe class of
    ``rational``'s type on ``[a, b]`` (see the module docstring for the proof).

    The levels ``upper (1 - g)`` are tried for the gaps ``g`` of ``_GAPS`` and ``rel_gap``,
    smallest first, until one is proven (one to three small LPs a level).

    Args:
        target: the target, with ``.mp`` (40-digit values); without it nothing is proven.
        weight: the minimax weight.
        rational: the safe fit (its extrema give the points, its coefficients the LP's shift).
        a: left end of the range.
        b: right end of the range.
        kinks: points where the target or the weight is not smooth.
        upper: the fit's certified maximum error.
        rel_gap: a further relative gap to try (the caller's threshold for "global").
        enough: a gap at which the further point sets are not tried.

    Examples:
        >>> from actfit.approx.minimax import fit_minimax
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import as_target
        >>> fit = fit_minimax("tanh", (3, 2), (-3.0, 3.0), form="safe")
        >>> bound = farkas_safe_bound(as_target("tanh"), parse_weight("uniform"),
        ...                           fit.rational, -3.0, 3.0, upper=fit.certificate.upper)
        >>> bound.lower / fit.certificate.upper > 1 - 1e-5
        True
    """
    if rational.form != "safe" or not hasattr(target, "mp"):
        return FarkasBound(0.0, (), "no Farkas bound: it needs the safe form and a target with "
                           "40-digit values")
    if not (upper > 0 and math.isfinite(upper)):
        return FarkasBound(0.0, (), "no Farkas bound: the fit's error is 0 or not finite")
    gaps = sorted(set(_GAPS) | {rel_gap})
    found: tuple[float, _Points, tuple[int, ...]] | None = None
    sizes = []
    for tried, level in enumerate(_POINT_LEVELS):
        # Point sets differ in what the LP can solve (many points: a tighter discrete problem;
        # only the near-maximal ones: a smaller, better-posed LP); the best proof is kept.
        pts = _extremal_points(target, weight, rational, a, b, kinks, level)
        data = _Points(target, weight, rational, pts, a, b)
        sizes.append(pts.size)
        # The further point sets only try the gaps that would be good enough (a coarser bound
        # changes no status, and each failed level costs up to three LPs).
        for gap in gaps if not tried else [g for g in gaps if g <= max(rel_gap, enough)]:
            if found is not None and upper * (1.0 - gap) <= found[0]:
                break
            where = _proven(data, upper * (1.0 - gap))
            if where is not None:
                found = (upper * (1.0 - gap), data, where)
                break
        if found is not None and found[0] >= upper * (1.0 - max(rel_gap, enough)):
            break  # good enough for the caller: the other point sets are not tried
    if found is None:
        return FarkasBound(0.0, (), "no Farkas bound: no infeasibility proof was verified at "
                           f"any level on the fit's extremal points ({' or '.join(map(str, sizes))}"
                           " of them)")
    best, data, where = found
    xs = tuple(sorted({float(data.x[j % data.x.size]) for j in where}))
    return FarkasBound(
        best, xs,
        f"every safe rational of type [{data.m},{data.n}] has weighted error above {best:.6g} "
        f"at one of {len(xs)} points of the range: the discrete problem there is infeasible at "
        "that level, proven by a Farkas certificate checked in exact rational arithmetic "
        "(python-flint) on the points' binary values and 40-digit target values",
    )

"""Best uniform (minimax) rational fits with a certificate: differential correction + exchange.

:func:`fit_minimax` minimises the worst-case weighted error ``max_{[a,b]} w |f - P/Q|`` over the
rationals of type [m, n] in one denominator form, and proves what it can about the result.

Method
------
*Discrete global optimum.* On a finite grid (Chebyshev points of the range, geometrically graded
toward the target's kinks and the ends) the problem is solved by differential correction
(:mod:`actfit.approx.lp`; Cheney & Loeb 1961, Barrodale, Powell & Roberts 1972), a sequence of
linear programmes that converges to the *global* discrete optimum from any start. It needs no
smoothness, so kinked targets (relu, leaky_relu, hardswish, srelu, abs, ...) work as well as
smooth ones. Numerator and denominator are Chebyshev series in ``t``, the range mapped to
``[-1, 1]``.

*Continuum exchange.* The local extrema of the true error on the continuum are located (a dense
grid with geometric grading at kinks, then golden-section refinement) and added to the grid, and
differential correction is warm-started again: Remez's first (cumulative) exchange algorithm with
an LP in place of the linear solve (Remez 1934; Cheney 1966, ch. 3). It stops when the continuum
error exceeds the grid error by less than ``1e-7`` relative (or the rounding level).

*Remez polish (plain).* The alternant of that result is the reference of Remez's second
algorithm: the levelled equations ``w (f Q - P) = ±E Q`` are solved exactly at the reference (a
generalised eigenproblem in ``E``; Powell 1981, sec. 10.2) and the reference moves to the new
extrema, converging quadratically to the equioscillating optimum. The best iterate is kept, so
the polish never makes a fit worse.

*Defective optima (plain).* When the full-class result is not certified (e.g. a pole-zero pair
at an end of the range, as for hardtanh [4,4]), the classes ``[m - d, n - d]``, ``d = 1, 2``,
are solved too and certified as members of [m, n] (see *Certificate*); the candidate with the
smallest error is returned with the best valid lower bound.

*Symmetry.* For an even (odd) target on a symmetric range with a symmetric weight the best plain
approximation is even (odd), because it is unique (Achieser 1956): only the even (odd) numerator
and even denominator Chebyshev terms are used and the grid covers ``[0, b]`` only. This is the
substitution ``t = x^2`` without its square-root singularity at 0, and it removes the
degeneracy (defect) that symmetric targets otherwise cause. Targets odd about ``f(0)``
(sigmoid) or even after subtracting ``s x`` (gelu, swish, softplus) are reduced the same way
when the class is invariant under the reflection (``n <= m``, resp. ``n + 1 <= m``).

Forms
-----
* ``plain``: ``Q = Σ γ_k T_k(t)``, normalised by ``|γ_k| <= 1`` in the LP and by ``Q(0) = 1`` at
  the end.
* ``safe``: ``Q = Σ_k c_k (|x|/R)^k`` with ``c_k >= 0`` (``R = max(|a|, |b|)``), linear in ``c``,
  so the same LPs apply with the bounds ``0 <= c_k <= 1``.
* ``abs``: ``Q = c_0 + |S|`` is linear in ``S`` for a fixed sign pattern ``σ(x) = sign S(x)``:
  differential correction runs with ``Q = c_0 + σ S`` and the constraints ``σ S >= 0`` on the
  grid, for sign patterns taken from the plain optimum (``σ = +1``, ``-1``, ``sign(Q - 1)``,
  ``± sign(x)``); the best is kept. This is a local search over the sign changes of ``S``.

Certificate
-----------
The upper bound is the attained maximum of ``w |f - r|`` for the returned coefficients (the larger
of :func:`actfit.approx.metrics.max_error` and this module's own extremum search). The lower bound
is de la Vallée Poussin's: let ``r = p/q`` have type [m, n], ``q`` without zero on ``[a, b]``,
``deg p = m - μ``, ``deg q = n - ν`` and defect ``d = min(μ, ν)``. If ``w (f - r)`` alternates in
sign at ``m + n + 2 - d`` points with ``|w (f - r)| >= λ`` there, then *every* rational ``p*/q*``
of type [m, n] with ``q*`` free of zeros on ``[a, b]`` has weighted error ``>= λ``. (Otherwise
``r* - r`` would alternate at those points, so ``p* q - p q*``, of degree ``<= m + n - d``, would
have ``m + n + 1 - d`` zeros and vanish: ``r* = r``.) The errors at the points are re-evaluated
in 40-digit arithmetic (``Target.mp``) on the exact binary values of the coefficients.

* ``plain``: status ``"global"`` when the condition holds: the fit is within ``gap`` of the best
  rational of type [m, n] whose denominator has no zero on the range; with ``pole_free`` the
  class is larger than the one optimised, so the bound stays valid.
* ``safe`` and ``abs``: these classes are not Haar-like and no such theorem applies; the result
  is the differential-correction optimum on the final grid (global on the grid for ``safe`` in
  exact arithmetic, for the chosen sign pattern for ``abs``; the safe coefficients are bounded,
  1e3 then 1e6 by continuation) and is reported as ``"local"``, without a lower bound.

References:
    E. Ya. Remez, "Sur le calcul effectif des polynomes d'approximation de Tchebichef", C. R.
    Acad. Sci. Paris 199 (1934), 337–340.
    E. W. Cheney, *Introduction to Approximation Theory*, McGraw-Hill (1966), ch. 3 and 5.
    M. J. D. Powell, *Approximation Theory and Methods*, Cambridge University Press (1981),
    ch. 10 (the exchange algorithm for rational approximation).
    N. I. Achieser, *Theory of Approximation*, Ungar (1956), sec. 2.11 (alternation and
    uniqueness for rational approximation).
    E. W. Cheney and H. L. Loeb, "Two new algorithms for rational approximation", Numer. Math. 3
    (1961), 72–75.
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
    Ch. J. de la Vallée Poussin, *Leçons sur l'approximation des fonctions d'une variable
    réelle*, Gauthier-Villars (1919).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.lp import differential_correction
from actfit.errors import FitError, ParameterError, TargetDomainError
from actfit.options import as_range, check_order
from actfit.rational import Rational, require_fit_form

if TYPE_CHECKING:
    from actfit.fit import Certificate, Fit
    from actfit.targets import Target

__all__ = ["MinimaxWeight", "Progress", "certify", "fit_minimax", "parse_minimax_weight"]

_Array = NDArray[np.float64]
Progress = Callable[[str, float], None]
"""A progress callback: ``progress(stage, fraction_done)``; the library is silent without one."""

_EXCHANGE_RTOL = 1e-7
_SAFE_START_BOUND = 1e3
_SAFE_BOUND = 1e6
_MAX_ROUNDS = 12
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


# ------------------------------------------------------------------------------------------------
# Weights
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MinimaxWeight:
    """A positive weight ``w(x)`` for the minimax error ``max w |f - r|``.

    Attributes:
        spec: the canonical specification (stored in the fit's settings).
        func: vectorised float64 evaluation.
        kinks: points where ``w`` is not smooth.
        symmetric: ``w(-x) == w(x)``.
        description: what the weight means, in words.
    """

    spec: str
    func: Callable[[_Array], _Array] = field(compare=False, repr=False)
    kinks: tuple[float, ...] = ()
    symmetric: bool = True
    description: str = "uniform: the absolute error"

    def __call__(self, x: _Array) -> _Array:
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(np.asarray(self.func(x), dtype=np.float64), x.shape).copy()


def _sample(a: float, b: float, n: int = 4097) -> _Array:
    return np.linspace(a, b, n)


def parse_minimax_weight(spec: str, target: Target, a: float, b: float) -> MinimaxWeight:
    """Return the minimax weight for ``spec`` on ``[a, b]``.

    Args:
        spec: ``"uniform"``; ``"relative"`` (``w = 1 / max(|f|, F)`` with the floor
            ``F = 1e-3 max_{[a,b]} |f|``, so zeros of ``f`` do not make the problem impossible);
            ``"relative:F"`` (the same with an absolute floor ``F > 0``); or any weight accepted
            by :func:`actfit.approx.weights.parse_weight` (``normal[:mu,sigma]`` or an expression
            in ``x``), which must be positive and finite on the range.
        target: the target (for relative weights).
        a: left end of the range.
        b: right end of the range.

    Raises:
        ParameterError: malformed specification, or a weight that is not positive and finite on
            the range.
    """
    text = str(spec).strip()
    key = text.lower()
    if key in ("", "uniform", "none", "1", "absolute"):
        return MinimaxWeight("uniform", lambda x: np.ones_like(x))
    name, sep, arg = key.partition(":")
    if name.strip() == "relative":
        fmax = float(np.max(np.abs(target(_sample(a, b)))))
        if sep:
            try:
                floor = float(arg)
            except ValueError:
                raise ParameterError(
                    f"weight {spec!r}: {arg!r} is not a number; use relative or relative:FLOOR "
                    "(e.g. relative:1e-3)"
                ) from None
            if not (math.isfinite(floor) and floor > 0):
                raise ParameterError(
                    f"weight {spec!r}: the floor must be finite and > 0, e.g. relative:1e-3"
                )
            canonical = f"relative:{floor!r}"
        else:
            floor = 1e-3 * fmax
            canonical = "relative"
        if not floor > 0:
            raise ParameterError(
                f"weight {spec!r}: the target vanishes on [{a:g}, {b:g}], so a relative error is "
                "undefined; use --weight uniform"
            )

        def rel(x: _Array) -> _Array:
            return 1.0 / np.maximum(np.abs(target(x)), floor)

        xs = _sample(a, b, 20001)
        excess = np.abs(target(xs)) - floor
        idx = np.flatnonzero(np.sign(excess[:-1]) * np.sign(excess[1:]) < 0)
        kinks = tuple(float(0.5 * (xs[i] + xs[i + 1])) for i in idx)
        fs = target(xs)
        sym = bool(np.allclose(np.abs(fs), np.abs(fs[::-1]), rtol=1e-13, atol=0.0))
        return MinimaxWeight(
            canonical,
            rel,
            kinks,
            sym,
            f"relative: |f - r| / max(|f|, {floor:.6g})",
        )
    from actfit.approx.weights import parse_weight

    wt = parse_weight(text)
    xs = _sample(a, b)
    vals = wt(xs)
    if not np.all(np.isfinite(vals)) or not np.all(vals > 0):
        raise ParameterError(
            f"weight {spec!r} must be finite and > 0 everywhere on [{a:g}, {b:g}] for a minimax "
            "fit (a zero weight leaves the error there uncontrolled); use a positive expression"
        )
    sym = bool(np.allclose(wt(-xs), vals, rtol=1e-13, atol=0.0))
    return MinimaxWeight(wt.spec, wt, tuple(wt.kinks), sym, f"weight function {wt.spec}")


# ------------------------------------------------------------------------------------------------
# The problem in internal coordinates
# ------------------------------------------------------------------------------------------------
@dataclass
class _Problem:
    target: Any
    weight: MinimaxWeight
    a: float
    b: float
    m: int
    n: int
    form: str
    sym: int  # 0: none, +1: even, -1: odd (plain and safe only)
    kinks: tuple[float, ...]
    shift: tuple[float, float] = (0.0, 0.0)  # fit f - (s0 + s1 x); P gets (s0 + s1 x) Q back
    safe_bound: float = _SAFE_START_BOUND

    @property
    def lo(self) -> float:
        return 0.0 if self.sym else self.a

    @property
    def mid(self) -> float:
        return 0.5 * (self.a + self.b)

    @property
    def half(self) -> float:
        return 0.5 * (self.b - self.a)

    @property
    def radius(self) -> float:
        return max(abs(self.a), abs(self.b))

    def t(self, x: _Array) -> _Array:
        return (x - self.mid) / self.half

    @property
    def num_index(self) -> _Array:
        k = np.arange(self.m + 1)
        if self.sym == 1:
            return k[k % 2 == 0]
        if self.sym == -1:
            return k[k % 2 == 1]
        return k

    @property
    def den_index(self) -> _Array:
        k = np.arange(self.n + 1)
        if self.sym and self.form == "plain":
            return k[k % 2 == 0]
        return k

    def psi(self, x: _Array) -> _Array:
        return _cheb.chebvander(self.t(x), self.m)[:, self.num_index]

    def phi(self, x: _Array, sign: _Array | None = None) -> _Array:
        if self.form == "plain":
            return _cheb.chebvander(self.t(x), self.n)[:, self.den_index]
        if self.form == "safe":
            s = np.abs(x) / self.radius
            return s[:, None] ** np.arange(self.n + 1)
        # abs: [1, σ (T_k(t) - T_k(t0))]
        t0 = self.t(np.array([0.0]))
        cols = _cheb.chebvander(self.t(x), self.n)[:, 1:] - _cheb.chebvander(t0, self.n)[:, 1:]
        sg = np.ones_like(x) if sign is None else sign
        return np.hstack([np.ones((x.size, 1)), sg[:, None] * cols])

    def box(self) -> tuple[_Array, _Array]:
        """Bounds on the denominator coefficients; the first is fixed to 1 (normalisation).

        plain: ``γ_0 = 1`` is the Chebyshev mean of ``Q``, positive for every ``Q > 0`` on the
        range, and then ``|γ_k| <= 2`` for ``Q >= 0`` (the box allows 4). safe: ``c_0 = Q(0) = 1``
        and ``0 <= c_k <= 1e3``. abs: ``c_0 = 1`` and ``|S coefficients| <= 1e3``. Fixing one
        coefficient instead of only boxing them all removes the scaling direction ``(P, Q) ->
        t (P, Q)``, which otherwise makes the LPs near-singular when the error is small.
        """
        k = self.den_index.size
        if self.form == "plain":
            lower, upper = np.full(k, -4.0), np.full(k, 4.0)
        elif self.form == "safe":
            lower, upper = np.zeros(k), np.full(k, self.safe_bound)
        else:
            lower, upper = np.full(k, -1e3), np.full(k, 1e3)
        lower[0] = upper[0] = 1.0
        return lower, upper

    def unit_gamma(self) -> _Array:
        g = np.zeros(self.den_index.size)
        g[0] = 1.0
        return g

    def f(self, x: _Array) -> _Array:
        out = np.asarray(self.target(x), dtype=np.float64)
        if self.shift != (0.0, 0.0):
            out = out - (self.shift[0] + self.shift[1] * x)
        return out

    def w(self, x: _Array) -> _Array:
        return self.weight(x)


def _noise(f: _Array, w: _Array) -> float:
    """The rounding level of the weighted error: below it, a fit reproduces the target."""
    return 64.0 * float(np.finfo(float).eps) * float(np.max(np.abs(w * f)) + np.max(w))


def _graded(center: float, lo: float, hi: float, count: int, smallest: float) -> _Array:
    """Points ``center ± h`` with ``h`` geometric from ``smallest`` to the distance to the ends."""
    out = []
    for side, length in ((-1.0, center - lo), (1.0, hi - center)):
        if length <= 0:
            continue
        h = np.geomspace(smallest * length, length, count)
        out.append(center + side * h)
    return np.concatenate(out) if out else np.zeros(0)


def _special_points(prob: _Problem, lo: float, hi: float) -> list[float]:
    pts = [lo, hi]
    pts += [k for k in prob.kinks if lo < k < hi]
    if prob.form != "plain" and lo < 0.0 < hi:
        pts.append(0.0)
    return sorted(set(pts))


def _initial_grid(prob: _Problem, lo: float, hi: float) -> _Array:
    k = 24 * (prob.m + prob.n + 2) + 100
    cheb = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.linspace(0.0, np.pi, k))
    parts = [cheb]
    for c in _special_points(prob, lo, hi):
        parts.append(_graded(c, lo, hi, 48, 1e-10))
    return np.unique(np.clip(np.concatenate(parts), lo, hi))


def _dense_grid(prob: _Problem, lo: float, hi: float, extra: _Array) -> _Array:
    k = 4000
    cheb = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.linspace(0.0, np.pi, k))
    parts = [cheb, np.linspace(lo, hi, 1001), extra]
    for c in _special_points(prob, lo, hi):
        parts.append(_graded(c, lo, hi, 400, 1e-14))
    return np.unique(np.clip(np.concatenate(parts), lo, hi))


# ------------------------------------------------------------------------------------------------
# Extrema of the error on the continuum
# ------------------------------------------------------------------------------------------------
def _extrema(
    err: Callable[[_Array], _Array], grid: _Array, fixed: list[float]
) -> tuple[_Array, _Array, bool]:
    """Return ``(x, e)`` at the local extrema of ``err`` on ``grid`` refined by golden section,
    and whether ``err`` was finite everywhere on the grid."""
    e = err(grid)
    finite = bool(np.all(np.isfinite(e)))
    if not finite:
        bad = ~np.isfinite(e)
        e = np.where(bad, np.inf, e)
    v = np.abs(e)
    n = v.size
    left = np.concatenate(([-1.0], v[:-1]))
    right = np.concatenate((v[1:], [-1.0]))
    idx = np.flatnonzero((v >= left) & (v >= right) & (v > 0))
    if idx.size == 0:
        idx = np.array([int(np.argmax(v))])
    fixed_set = set(fixed)
    xs = grid[idx].copy()
    es = e[idx].copy()
    interior = np.array(
        [0 < i < n - 1 and grid[i] not in fixed_set and np.isfinite(e[i]) for i in idx], dtype=bool
    )
    if np.any(interior):
        ii = idx[interior]
        lo, hi = grid[ii - 1].copy(), grid[ii + 1].copy()
        c = hi - _GOLDEN * (hi - lo)
        d = lo + _GOLDEN * (hi - lo)
        fc, fd = np.abs(err(c)), np.abs(err(d))
        for _ in range(48):
            left_better = fc > fd
            hi = np.where(left_better, d, hi)
            lo = np.where(left_better, lo, c)
            new_c = hi - _GOLDEN * (hi - lo)
            new_d = lo + _GOLDEN * (hi - lo)
            probe = np.where(left_better, new_c, new_d)
            fp = np.abs(err(probe))
            c_next = np.where(left_better, new_c, d)
            d_next = np.where(left_better, c, new_d)
            fc_next = np.where(left_better, fp, fd)
            fd_next = np.where(left_better, fc, fp)
            c, d, fc, fd = c_next, d_next, fc_next, fd_next
            if np.all(hi - lo <= 4e-16 * np.maximum(1.0, np.abs(hi))):
                break
        cand = np.where(fc >= fd, c, d)
        ec = err(cand)
        better = np.abs(ec) > np.abs(es[interior])
        xi = np.where(better, cand, xs[interior])
        ei = np.where(better, ec, es[interior])
        xs[interior], es[interior] = xi, ei
    order = np.argsort(xs)
    return xs[order], es[order], finite


def _alternant(xs: _Array, es: _Array, need: int) -> tuple[_Array, _Array]:
    """Return the alternating subsequence of at least ``need`` points that maximises ``min |e|``
    (empty arrays when no such subsequence exists)."""
    ok = np.isfinite(es) & (es != 0)
    xs, es = xs[ok], es[ok]
    if need <= 0:
        need = 1
    levels = np.unique(np.abs(es))[::-1]
    for lam in levels:
        keep = np.abs(es) >= lam
        xk, ek = xs[keep], es[keep]
        runs = np.concatenate(([0], np.flatnonzero(np.sign(ek[1:]) != np.sign(ek[:-1])) + 1))
        if runs.size >= need:
            bounds = np.concatenate((runs, [ek.size]))
            px, pe = [], []
            for s, t in itertools.pairwise(bounds):
                j = s + int(np.argmax(np.abs(ek[s:t])))
                px.append(xk[j])
                pe.append(ek[j])
            return np.array(px), np.array(pe)
    return np.zeros(0), np.zeros(0)


# ------------------------------------------------------------------------------------------------
# Differential correction with a continuum exchange
# ------------------------------------------------------------------------------------------------
@dataclass
class _State:
    alpha: _Array
    gamma: _Array
    sign_x: _Array | None  # abs: the sign-pattern breakpoints (sorted), or None
    sign_default: float
    grid_error: float
    error: float
    rounds: int
    lps: int
    grid_size: int
    converged: bool
    label: str = ""


def _sign_pattern(
    x: _Array, breaks: _Array | None, default: float
) -> _Array:
    """σ(x): ``default`` left of the first break, flipping at each break."""
    if breaks is None or breaks.size == 0:
        return np.full_like(x, default)
    flips = np.searchsorted(breaks, x, side="right")
    return default * np.where(flips % 2 == 0, 1.0, -1.0)


def _eval_internal(prob: _Problem, st_alpha: _Array, st_gamma: _Array, sign_fn) -> Callable:
    def r(x: _Array) -> _Array:
        x = np.asarray(x, dtype=np.float64)
        q = prob.phi(x, sign_fn(x)) @ st_gamma
        if prob.form == "abs":
            q = st_gamma[0] + np.abs(q - st_gamma[0])
        with np.errstate(all="ignore"):
            return (prob.psi(x) @ st_alpha) / q

    return r


def _solve(
    prob: _Problem,
    *,
    breaks: _Array | None = None,
    default_sign: float = 1.0,
    start: tuple[_Array, _Array] | None = None,
    extra_constraints: Callable[[], tuple[_Array, _Array]] | None = None,
    progress: Progress | None = None,
    label: str = "",
    rival: float = math.inf,
) -> _State:
    """Differential correction on a grid, with continuum extrema added until they agree.

    abs only: ``rival`` is the best error of another sign pattern. The search gives this pattern
    up once differential correction has converged on the current grid to an error no smaller than
    ``rival``: the grid problem (``σ S >= 0`` imposed on the grid only) is a relaxation of the
    pattern's problem on the continuum, and the grid only grows, so the pattern cannot end better.
    Not a heuristic margin: up to the LP tolerance, it never discards the pattern that would win.
    """
    lo, hi = prob.lo, prob.b
    grid = _initial_grid(prob, lo, hi)
    fixed = _special_points(prob, lo, hi)
    lower, upper = prob.box()

    def sign_fn(x: _Array) -> _Array:
        return _sign_pattern(x, breaks, default_sign)

    def data(x: _Array) -> tuple[_Array, _Array, _Array, _Array]:
        f = prob.f(x)
        if not np.all(np.isfinite(f)):
            bad = float(x[~np.isfinite(f)][0])
            raise TargetDomainError(
                f"the target is not finite at x = {bad:.6g} on [{prob.a:g}, {prob.b:g}]; choose a "
                "range on which it is finite"
            )
        return prob.psi(x), prob.phi(x, sign_fn(x)), f, prob.w(x)

    psi, phi, f, w = data(grid)
    noise = _noise(f, w)
    if start is None:
        gamma = prob.unit_gamma()
        q = phi @ gamma
        if psi.shape[1]:
            alpha = np.linalg.lstsq(psi * (w / q)[:, None], w * f, rcond=None)[0]
        else:
            alpha = np.zeros(0)
    else:
        alpha, gamma = start
        alpha, gamma = alpha / gamma[0], gamma / gamma[0]
        gamma = np.clip(gamma, lower, upper)
        if not np.all(phi @ gamma > 0):
            gamma = prob.unit_gamma()
            alpha = np.zeros(psi.shape[1])
    def constraint_rows(phi: _Array) -> tuple[_Array | None, _Array | None]:
        rows, rhs = [], []
        if prob.form == "abs" and prob.n:
            g = phi.copy()
            g[:, 0] = 0.0
            rows.append(g)
            rhs.append(np.zeros(g.shape[0]))
        if extra_constraints is not None:
            g, h = extra_constraints()
            rows.append(g)
            rhs.append(h)
        if not rows:
            return None, None
        return np.vstack(rows), np.concatenate(rhs)

    cons, cons_lower = constraint_rows(phi)
    # plain fits are finished by the Remez polish (quadratic convergence); cap their LPs lower.
    polish = prob.form == "plain" and extra_constraints is None
    # abs is a local search over sign patterns: a few cheap rounds per pattern are enough.
    maxiter = 25 if polish else (12 if prob.form == "abs" else 40)
    max_rounds = 6 if prob.form == "abs" else _MAX_ROUNDS
    lps = 0
    grid_error = math.inf
    error = math.inf
    converged = False
    rounds = 0
    best_error, stall = math.inf, 0
    for rounds in range(1, max_rounds + 1):
        res = differential_correction(
            psi,
            phi,
            f,
            w,
            alpha,
            gamma,
            lower=lower,
            upper=upper,
            constraints=cons,
            constraint_lower=cons_lower,
            atol=noise,
            maxiter=maxiter,
            loose_retry=prob.form == "abs",
        )
        lps += res.iterations
        alpha, gamma, grid_error = res.alpha, res.gamma, res.error
        r = _eval_internal(prob, alpha, gamma, sign_fn)

        def err(x: _Array, r=r) -> _Array:
            with np.errstate(all="ignore"):
                return prob.w(x) * (prob.f(x) - r(x))

        dense = _dense_grid(prob, lo, hi, grid)
        xs, es, finite = _extrema(err, dense, fixed)
        error = float(np.max(np.abs(es))) if finite else math.inf
        if progress is not None:
            progress(f"{label}exchange round {rounds}: error {error:.3e}", rounds / max_rounds)
        # Stop when the continuum agrees with the grid (to the rounding level of the error
        # evaluation, ~1e3 ulps of w f) or when two rounds in a row brought no progress.
        settled = grid_error * (1.0 + _EXCHANGE_RTOL) + 16.0 * noise
        stalled = finite and error >= best_error * (1.0 - 1e-9)
        stall = stall + 1 if stalled else 0
        best_error = min(best_error, error)
        if finite and (error <= settled or stall >= 2):
            converged = True
            break
        if res.converged and grid_error >= rival:
            # This pattern's optimum on the grid is already no better than the rival: its
            # result on the continuum can only be worse (see the docstring).
            break
        if not finite:
            # A zero of Q between grid points: sample densely where the error blows up.
            ev = np.abs(err(dense))
            bad = dense[~np.isfinite(ev) | (ev > 1e3 * max(grid_error, 1e-300))]
            new = np.concatenate([bad, xs])
        else:
            new = xs[np.abs(es) > grid_error]
        new = np.setdiff1d(new, grid)
        if new.size == 0:
            converged = finite
            break
        grid = np.union1d(grid, new)
        psi, phi, f, w = data(grid)
        cons, cons_lower = constraint_rows(phi)
    return _State(
        alpha,
        gamma,
        breaks,
        default_sign,
        grid_error,
        error,
        rounds,
        lps,
        int(grid.size),
        converged,
        label,
    )


def _pick_reference(xs: _Array, es: _Array, k: int) -> tuple[_Array, _Array] | None:
    """Return ``k`` consecutive alternating extrema containing the largest one (or None)."""
    px, pe = _alternant(xs, es, k)
    if px.size < k:
        return None
    if px.size == k:
        return px, pe
    top = int(np.argmax(np.abs(pe)))
    best, best_min = None, -1.0
    for s in range(max(0, top - k + 1), min(top, px.size - k) + 1):
        lvl = float(np.min(np.abs(pe[s : s + k])))
        if lvl > best_min:
            best, best_min = s, lvl
    assert best is not None
    return px[best : best + k], pe[best : best + k]


def _levelled(
    prob: _Problem, ref: _Array, sign0: float, level: float, check: _Array
) -> tuple[_Array, _Array, float] | None:
    """Solve ``w (f Q - P) = ±E Q`` at the reference (a generalised eigenproblem in ``E``).

    Returns the solution whose ``Q`` keeps one sign on ``check`` and whose ``|E|`` is closest to
    ``level``, normalised so that ``Q > 0``; None if there is none.
    """
    from scipy.linalg import eig

    psi, phi = prob.psi(ref), prob.phi(ref)
    f, w = prob.f(ref), prob.w(ref)
    s = sign0 * (-1.0) ** np.arange(ref.size)
    amat = np.hstack([-w[:, None] * psi, (w * f)[:, None] * phi])
    bmat = np.hstack([np.zeros_like(psi), s[:, None] * phi])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals, vecs = eig(amat, bmat)
    p = psi.shape[1]
    phi_check = prob.phi(check)
    best = None
    for val, vec in zip(vals, vecs.T, strict=True):
        if not np.isfinite(val) or abs(val.imag) > 1e-8 * (1.0 + abs(val.real)):
            continue
        z = vec.real if np.max(np.abs(vec.real)) >= np.max(np.abs(vec.imag)) else vec.imag
        gamma = z[p:]
        q = phi_check @ gamma
        if not (np.all(q > 0) or np.all(q < 0)):
            continue
        if gamma[0] == 0 or (q[0] > 0) != (gamma[0] > 0):
            continue
        scale = 1.0 / gamma[0]
        cand = (z[:p] * scale, gamma * scale, float(val.real))
        if best is None or abs(abs(cand[2]) - level) < abs(abs(best[2]) - level):
            best = cand
    return best


def _remez(prob: _Problem, st: _State, progress: Progress | None, label: str = "") -> _State:
    """Polish a plain differential-correction result by Remez's second algorithm.

    The reference is the alternant of the current error; each step solves the levelled equations
    exactly (a generalised eigenproblem, as in Powell, *Approximation Theory and Methods*, 1981,
    sec. 10.2) and moves the reference to the new extrema. The best iterate (smallest continuum
    error) is kept, so the polish never makes a fit worse.
    """
    lo, hi = prob.lo, prob.b
    fixed = _special_points(prob, lo, hi)
    k = prob.num_index.size + prob.den_index.size
    alpha, gamma = st.alpha, st.gamma
    best = st
    base_grid = _dense_grid(prob, lo, hi, np.zeros(0))
    xs_extra = np.zeros(0)
    stale = 0
    for it in range(1, 16):
        r = _eval_internal(prob, alpha, gamma, lambda x: np.ones_like(x))

        def err(x: _Array, r=r) -> _Array:
            with np.errstate(all="ignore"):
                return prob.w(x) * (prob.f(x) - r(x))

        xs, es, finite = _extrema(err, np.union1d(base_grid, xs_extra), fixed)
        if not finite:
            break
        error = float(np.max(np.abs(es)))
        ref = _pick_reference(xs, es, k)
        if ref is None:
            break
        rx, re_ = ref
        level_min = float(np.min(np.abs(re_)))
        stale += 1
        if error < best.error * (1.0 - 1e-9):
            stale = 0
        if error < best.error:
            best = _State(alpha, gamma, None, 1.0, level_min, error, st.rounds, st.lps,
                          st.grid_size, True, st.label)
        if progress is not None:
            progress(f"{label}Remez step {it}: error {error:.3e}", 0.8)
        if error - level_min <= 1e-12 * error or stale >= 3:
            break
        sol = _levelled(prob, rx, float(np.sign(re_[0])), level_min, base_grid)
        if sol is None:
            break
        alpha, gamma, _ = sol
        xs_extra = rx
    return best


# ------------------------------------------------------------------------------------------------
# Conversion to monomial coefficients
# ------------------------------------------------------------------------------------------------
def _cheb_to_monomial(coef: _Array, mid: float, half: float) -> _Array:
    """Monomial coefficients in x of ``Σ coef_k T_k(t)``, ``t = (x - mid) / half``."""
    p_t = _cheb.cheb2poly(coef)
    if mid == 0.0:
        out = p_t / half ** np.arange(p_t.size)
    else:
        poly = np.polynomial.Polynomial(p_t)
        out = poly(np.polynomial.Polynomial([-mid / half, 1.0 / half])).coef
    return np.pad(out, (0, max(0, coef.size - out.size)))[: coef.size]


def _to_rational(prob: _Problem, st: _State) -> Rational:
    num_c = np.zeros(prob.m + 1)
    num_c[prob.num_index] = st.alpha
    num = _cheb_to_monomial(num_c, prob.mid, prob.half)
    if prob.sym == 1:
        num[1::2] = 0.0
    elif prob.sym == -1:
        num[0::2] = 0.0
    if prob.form == "plain":
        den_c = np.zeros(prob.n + 1)
        den_c[prob.den_index] = st.gamma
        den = _cheb_to_monomial(den_c, prob.mid, prob.half)
        if prob.sym:
            den[1::2] = 0.0
        if prob.shift != (0.0, 0.0):
            back = np.polynomial.polynomial.polymul(np.array(prob.shift), den)
            num = num + np.pad(back, (0, max(0, num.size - back.size)))[: num.size]
        q0 = den[0]
        if not abs(q0) > 1e-13 * np.max(np.abs(den)):
            raise FitError(
                f"the best approximation's denominator vanishes at x = 0, so it has no form with "
                f"Q(0) = 1; use a range containing 0 or a lower denominator degree than {prob.n}"
            )
        return Rational(num / q0, den[1:] / q0, "plain")
    if prob.form == "safe":
        c0 = st.gamma[0]
        den = st.gamma[1:] / prob.radius ** np.arange(1, prob.n + 1) / c0
        return Rational(num / c0, den, "safe")
    # abs: Q = c0 + |S|, S = Σ γ_k (T_k(t) - T_k(t0)) (the sign pattern only selects the branch).
    c0 = st.gamma[0]
    s_c = np.zeros(prob.n + 1)
    s_c[1:] = st.gamma[1:]
    t0 = prob.t(np.array([0.0]))
    s_c[0] = -float(_cheb.chebvander(t0, prob.n)[0, 1:] @ st.gamma[1:])
    s_mono = _cheb_to_monomial(s_c, prob.mid, prob.half)
    return Rational(num / c0, s_mono[1:] / c0, "abs")


# ------------------------------------------------------------------------------------------------
# Certificate
# ------------------------------------------------------------------------------------------------
def _degree(coeffs: _Array) -> int:
    nz = np.flatnonzero(np.asarray(coeffs) != 0)
    return int(nz[-1]) if nz.size else -1


def _mp_errors(target: Any, weight: MinimaxWeight, rational: Rational, xs: _Array) -> _Array | None:
    """Weighted errors ``w (f - r)`` at ``xs`` in 40-digit arithmetic (None without ``.mp``)."""
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


def certify(
    target: Any,
    rational: Rational,
    a: float,
    b: float,
    *,
    weight: MinimaxWeight | None = None,
    kinks: tuple[float, ...] = (),
    order: tuple[int, int] | None = None,
) -> Certificate:
    """Return the :class:`~actfit.fit.Certificate` of a rational as a minimax fit of ``target``.

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
    from actfit.approx.metrics import max_error
    from actfit.fit import Certificate

    w = weight or MinimaxWeight("uniform", lambda x: np.ones_like(x))
    m, n = order if order is not None else rational.degree

    def err(x: _Array) -> _Array:
        with np.errstate(all="ignore"):
            return w(x) * (np.asarray(target(x), dtype=np.float64) - rational(x))

    prob = _Problem(target, w, a, b, m, n, rational.form, 0, tuple(kinks))
    dense = _dense_grid(prob, a, b, np.zeros(0))
    fixed = _special_points(prob, a, b)
    xs, es, finite = _extrema(err, dense, fixed)
    upper_metrics, _ = max_error(err, a, b, tuple(fixed))
    upper = max(float(np.max(np.abs(es))), float(upper_metrics))
    if not (finite and math.isfinite(upper)):
        return Certificate(
            "none", math.inf, None, None, "the error is not finite on the range (a pole)", ()
        )
    noise = _noise(np.asarray(target(dense), dtype=np.float64), w(dense))
    if upper <= noise:
        return Certificate(
            "global",
            upper,
            0.0,
            1.0,
            f"the target is reproduced to rounding level (error <= {noise:.1e}): the best error "
            "is 0 up to rounding, so the relative gap is not meaningful",
            (),
        )
    mu = m - _degree(rational.numerator)
    nu = n - _degree(rational.denominator_polynomial())
    defect = max(0, min(mu, nu)) if _degree(rational.numerator) >= 0 else n
    need = m + n + 2 - defect
    px, pe = _alternant(xs, es, need)
    what = (
        f"weighted error ({w.description})" if w.spec != "uniform" else "error"
    )
    if rational.form != "plain":
        reason = (
            f"{rational.form} form: no alternation theorem holds for this class, so the fit is a "
            "local optimum (from differential correction, which converges to the global "
            "optimum on its final grid in exact arithmetic"
            + (" for the chosen sign pattern of S" if rational.form == "abs" else "")
            + "); no lower bound is claimed"
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
    exact = _mp_errors(target, w, rational, px)
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
        "lower. upper: attained max error (dense grid + refinement)."
    )
    return Certificate("global", upper, lower, gap, detail, tuple(float(v) for v in px))


# ------------------------------------------------------------------------------------------------
# Symmetry
# ------------------------------------------------------------------------------------------------
def _symmetry(
    target: Any, weight: MinimaxWeight, a: float, b: float, form: str, m: int, n: int
) -> tuple[int, tuple[float, float]]:
    """Return ``(sym, shift)``: ``f - shift`` is even (``sym = 1``) or odd (``-1``) on a symmetric
    range with a symmetric weight, or ``(0, (0, 0))``.

    ``shift = (s0, s1)`` is ``(f(0), 0)`` for a target odd about its value at 0 (sigmoid) and
    ``(0, s1)`` for one that is even plus ``s1 x`` (gelu, swish, softplus). The reflection
    map that takes an approximant to one with the mirrored error
    (``r(x) -> 2 s0 - r(-x)``, resp. ``r(x) -> 2 s1 x + r(-x)``) keeps the class [m, n] only when
    ``deg(shift) + n <= m``; then, the best approximation being unique (Achieser 1956), it is
    ``shift + G/Q`` with ``G`` odd (even) and ``Q`` even. Shifts are used only then, and only for
    the plain form (``shift * Q(|x|)`` is no polynomial).
    """
    none = (0, (0.0, 0.0))
    if not abs(a + b) <= 1e-14 * b or not weight.symmetric:
        return none
    x = np.linspace(0.0, b, 257)[1:] * (1.0 - 1e-3 * np.sin(np.arange(256)))
    fp, fm = np.asarray(target(x)), np.asarray(target(-x))
    f0 = float(np.asarray(target(np.array([0.0])))[0])
    scale = float(np.max(np.abs(np.concatenate([fp, fm])))) + 1e-300
    tol = 1e-13 * scale
    if np.max(np.abs(fp - fm)) <= tol:
        return 1, (0.0, 0.0)
    if np.max(np.abs(fp + fm)) <= tol:
        return -1, (0.0, 0.0)
    if form != "plain" or not math.isfinite(f0):
        return none
    if np.max(np.abs(fp + fm - 2.0 * f0)) <= tol and n <= m:
        return -1, (f0, 0.0)
    slope = float(np.median((fp - fm) / (2.0 * x)))
    if np.max(np.abs(fp - fm - 2.0 * slope * x)) <= tol and n + 1 <= m:
        return 1, (0.0, slope)
    return none


# ------------------------------------------------------------------------------------------------
# Pole-free constraint (plain)
# ------------------------------------------------------------------------------------------------
def _pole_free_rows(prob: _Problem, extra_t: _Array) -> tuple[_Array, _Array]:
    """Constraints ``G γ >= h`` asking for ``Q > 0`` on the whole real line.

    Rows: ``Q(t) / (1 + t^2)^{n/2} >= 1e-6`` at ``t = tan θ`` on a grid of ``θ`` in
    ``(-π/2, π/2)`` (the compactified real line) and at the extra points, and the
    leading-coefficient limits ``Q(t) / t^n`` at ``t -> ±∞`` ``>= 1e-6`` (``n`` even: the
    caller lowers an odd degree by one, since a real polynomial of odd degree has a real zero).
    The margin keeps the minimum of ``Q`` away from a double root that rounding would split into
    two poles; the exact Sturm count decides in the end.
    """
    theta = np.linspace(-np.pi / 2, np.pi / 2, 241)[1:-1]
    t = np.concatenate([np.tan(theta), extra_t])
    rows = _cheb.chebvander(t, prob.n)[:, prob.den_index] / (1.0 + t * t)[:, None] ** (prob.n / 2)
    lead = np.zeros((2, prob.den_index.size))
    if prob.n >= 1 and prob.n in prob.den_index:
        pos = int(np.flatnonzero(prob.den_index == prob.n)[0])
        c = 2.0 ** (prob.n - 1)
        lead[0, pos] = c
        lead[1, pos] = c * (-1.0) ** prob.n
    h = np.full(t.size + 2, 1e-6)
    return np.vstack([rows, lead]), h


# ------------------------------------------------------------------------------------------------
# The fitter
# ------------------------------------------------------------------------------------------------
def _abs_start(prob: _Problem, r: Rational) -> tuple[_Array, _Array]:
    """Internal abs-form coefficients ``(α, [1, g])`` reproducing ``P`` and ``S = Q_plain - 1``."""
    affine = np.polynomial.Polynomial([prob.mid, prob.half])  # x as a polynomial in t

    def in_t(coef: _Array, size: int) -> _Array:
        c = _cheb.poly2cheb(np.polynomial.Polynomial(coef)(affine).coef)
        return np.pad(c, (0, max(0, size - c.size)))[:size]

    alpha = in_t(np.asarray(r.numerator), prob.m + 1)
    g = in_t(np.concatenate(([0.0], r.denominator)), prob.n + 1)
    return alpha, np.concatenate(([1.0], g[1:]))


def _abs_candidates(
    prob: _Problem, plain: Rational | None
) -> list[tuple[str, _Array | None, float, tuple[_Array, _Array] | None]]:
    """Sign patterns of ``S`` for the abs form: (label, breakpoints, sign left of the first,
    start). ``S -> -S`` leaves ``1 + |S|`` unchanged, so each pattern stands for its negation.

    The order is the order of the search: the two fixed patterns first, because one of them won
    in most benchmark cells and a good early rival lets the others stop sooner (see
    :func:`_solve`); the order does not change the best error found, only what it costs."""
    out: list[tuple[str, _Array | None, float, tuple[_Array, _Array] | None]] = []
    out.append(("S>=0", None, 1.0, None))
    if prob.a < 0.0 < prob.b:
        out.append(("sign(x)", np.array([0.0]), -1.0, None))
    if plain is not None and plain.degree[1] > 0:
        s = np.concatenate(([0.0], plain.denominator))
        roots = np.polynomial.polynomial.polyroots(s)
        real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
        real = real[(real > prob.a) & (real < prob.b) & (np.abs(real) > 1e-12 * prob.radius)]
        left = float(np.polynomial.polynomial.polyval(prob.a, s))
        start = _abs_start(prob, plain)
        label = "sign(Q_plain - 1)" if real.size else "S>=0 from the plain optimum"
        out.append((label, real if real.size else None, 1.0 if left >= 0 else -1.0, start))
    return out




def _symmetry_label(sym: int, shift: tuple[float, float]) -> str:
    if sym == 0:
        return "none"
    kind = "even" if sym == 1 else "odd"
    if shift == (0.0, 0.0):
        return kind
    if shift[1] == 0.0:
        return f"{kind} about f(0) = {shift[0]:.17g}"
    return f"{kind} after subtracting {shift[1]:.17g} x"


def _with_bound(cert: Certificate, other: Certificate | None) -> Certificate:
    """Attach a valid lower bound from another certificate of the same class when it is better."""
    from actfit.fit import Certificate

    if other is None or other.lower is None or other.status != "global":
        return cert
    if cert.status == "global" and cert.lower is not None and cert.lower >= other.lower:
        return cert
    lower = min(other.lower, cert.upper)
    gap = (cert.upper - lower) / cert.upper if cert.upper > 0 else 0.0
    detail = (
        f"lower bound from a second approximant of the same class (de la Vallée Poussin; "
        f"{other.detail}) The returned fit's own check: {cert.detail}"
    )
    return Certificate("global", cert.upper, lower, gap, detail, other.points)


def _pad(r: Rational, m: int, n: int) -> Rational:
    num = np.pad(np.asarray(r.numerator), (0, m + 1 - r.numerator.size))
    den = np.pad(np.asarray(r.denominator), (0, n - r.denominator.size))
    return Rational(num, den, r.form)


def _fit_plain_or_safe(prob: _Problem, report: Progress) -> tuple[_State, Rational, Certificate]:
    """Solve, polish (plain: Remez) and certify; for plain, try defective classes on failure.

    A best approximation may be *defective*: numerator and denominator of lower degrees
    ``m - d``, ``n - d``. Differential correction in the full class then tends to a pair with a
    near-common factor (often a pole on the range cancelled by a zero). When the full-class result
    is not certified, the classes ``[m - d, n - d]`` are solved too and certified *as members of
    [m, n]* (de la Vallée Poussin with defect d needs only ``m + n + 2 - d`` alternations); any
    valid lower bound found is a bound for the whole class, and the candidate with the smallest
    error is returned.
    """
    m, n = prob.m, prob.n
    state = _solve(prob, progress=report)
    if prob.form == "safe" and np.any(state.gamma[1:] >= prob.safe_bound * (1 - 1e-9)):
        # The coefficient bound is active: continue with a larger one from this point (a large
        # bound from the start makes the first LPs badly scaled).
        wide = dataclasses.replace(prob, safe_bound=_SAFE_BOUND)
        more = _solve(wide, start=(state.alpha, state.gamma), progress=report, label="wider: ")
        if more.error < state.error:
            state = more
    if prob.form == "plain":
        state = _remez(prob, state, report)
    try:
        rational = _to_rational(prob, state)
    except FitError:
        if prob.form != "plain" or min(m, n) == 0:
            raise
        rational = None
    report("certifying", 0.9)
    kinks = prob.kinks
    a, b = prob.a, prob.b
    cert = (
        certify(prob.target, rational, a, b, weight=prob.weight, kinks=kinks, order=(m, n))
        if rational is not None
        else None
    )
    # Gaps below ~1e4 ulps of the target are rounding, not a sign of a defective optimum.
    fs = prob.f(np.linspace(prob.lo, b, 257)) + prob.shift[0]
    tight = 1e-6 + (1e4 * np.finfo(float).eps * float(np.max(np.abs(fs))) / cert.upper
                    if cert is not None and cert.upper > 0 else 0.0)
    good = cert is not None and cert.status == "global" and (cert.gap or 0.0) <= tight
    if prob.form != "plain" or good:
        assert rational is not None and cert is not None
        return state, rational, cert
    candidates = [] if rational is None else [(state, rational, cert)]
    certs = [] if cert is None else [cert]
    for d in range(1, min(m, n, 2) + 1):
        sym_d, shift_d = _symmetry(prob.target, prob.weight, a, b, "plain", m - d, n - d)
        sub = _Problem(prob.target, prob.weight, a, b, m - d, n - d, "plain", sym_d, kinks, shift_d)
        st = _remez(sub, _solve(sub, progress=report, label=f"[{m - d},{n - d}]: "), report)
        try:
            r = _pad(_to_rational(sub, st), m, n)
        except FitError:
            continue
        c = certify(prob.target, r, a, b, weight=prob.weight, kinks=kinks, order=(m, n))
        candidates.append((st, r, c))
        certs.append(c)
        if c.status == "global" and (c.gap or 0.0) <= tight:
            break
    if not candidates:
        raise FitError(
            f"no [{m},{n}] fit with Q(0) != 0 was found; use a range containing 0 or lower degrees"
        )
    valid = [c for c in certs if c.status == "global" and c.lower is not None]
    bound = max(valid, key=lambda c: c.lower) if valid else None

    def key(item: tuple[_State, Rational, Certificate]) -> tuple[bool, float]:
        r, c = item[1], item[2]
        on_range = any(a <= p <= b for p in r.real_poles())
        return (on_range, c.upper)

    st, r, c = min(candidates, key=key)
    return st, r, _with_bound(c, bound)


def fit_minimax(
    target: Target,
    order: tuple[int, int] = (5, 4),
    range: tuple[float, float] = (-3.0, 3.0),
    *,
    form: str = "safe",
    weight: str = "uniform",
    pole_free: bool = False,
    allow_poles: bool = False,
    progress: Progress | None = None,
) -> Fit:
    """Return the best uniform rational approximation of ``target`` on ``range``, certified.

    Minimises ``max_{[a,b]} w |f - P/Q|`` over type-[m, n] rationals in the requested form by
    differential correction (Cheney & Loeb 1961; Barrodale, Powell & Roberts 1972) on a grid
    graded toward kinks, with Remez's cumulative exchange on the continuum (Remez 1934), and
    attaches a de la Vallée Poussin certificate. See the module docstring for the method and for
    exactly what each form's certificate proves.

    Args:
        target: the function to approximate.
        order: ``(m, n)``, numerator and denominator degrees (each ``0..12``).
        range: the interval ``(a, b)``.
        form: ``safe`` (default, as everywhere in actfit: pole-free by construction; its
            certificate is "local"), ``plain`` (the certified form: de la Vallée Poussin lower
            bound) or ``abs`` (aliases A, N, B).
        weight: ``uniform``, ``relative[:FLOOR]``, ``normal[:mu,sigma]`` or an expression in
            ``x`` (see :func:`parse_minimax_weight`).
        pole_free: ``plain`` only: require ``Q > 0`` on the whole real line (a constraint in the
            optimisation, not a filter).
        allow_poles: keep a ``plain`` fit whose denominator vanishes on the range.
        progress: called as ``progress(stage, fraction)`` while the fit runs (silent if None).

    Returns:
        The :class:`~actfit.fit.Fit` with method ``"minimax"`` and its certificate.

    Raises:
        OrderError: bad order.
        RangeError: bad range.
        FormError: unknown form, or ``pole_free`` with a form other than ``plain``.
        ParameterError: a bad weight.
        TargetDomainError: the target is not finite on the range.
        FitError: the optimum cannot be written with ``Q(0) = 1``.
        PoleError: the fit has a pole on the range and ``allow_poles`` is False.

    Warns:
        RuntimeWarning: the exchange did not converge within its round limit.

    Examples:
        >>> from actfit.targets import get_target
        >>> fit = fit_minimax(get_target("abs"), (2, 2), (-1.0, 1.0), form="plain")
        >>> round(fit.certificate.upper, 6), fit.certificate.status
        (0.043689, 'global')
    """
    from actfit.errors import FormError
    from actfit.fit import Certificate, make_fit

    started = time.perf_counter()
    m, n = check_order(order)
    a, b = as_range(range)
    form = require_fit_form(form)
    if pole_free and form != "plain":
        raise FormError(
            f"--pole-free applies to the plain form; the {form} form is pole-free by construction"
        )
    w = parse_minimax_weight(weight, target, a, b)
    kinks = tuple(sorted({float(k) for k in (*getattr(target, "kinks", ()), *w.kinks)}))
    sym, shift = _symmetry(target, w, a, b, form, m, n) if form != "abs" else (0, (0.0, 0.0))
    prob = _Problem(target, w, a, b, m, n, form, sym, kinks, shift)

    def report(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, min(max(frac, 0.0), 1.0))

    notes: list[str] = []
    if form == "abs":
        psym, pshift = _symmetry(target, w, a, b, "plain", m, n)
        plain_prob = _Problem(target, w, a, b, m, n, "plain", psym, kinks, pshift)
        plain_state = _remez(
            plain_prob, _solve(plain_prob, progress=report, label="plain start: "), report
        )
        try:
            plain_r = _to_rational(plain_prob, plain_state)
        except FitError:
            plain_r = None
        best: _State | None = None
        for label, breaks, default, start in _abs_candidates(prob, plain_r):
            st = _solve(
                prob,
                breaks=breaks,
                default_sign=default,
                start=start,
                progress=report,
                label=f"abs {label}: ",
                rival=best.error if best is not None else math.inf,
            )
            st.label = label
            if best is None or st.error < best.error:
                best = st
        assert best is not None
        state = best
        rational = _to_rational(prob, state)
        notes.append(f"abs sign pattern of S: {state.label}")
    else:
        state, rational, cert = _fit_plain_or_safe(prob, report)
        if form == "plain" and pole_free and n > 0 and rational.real_poles().size:
            notes.append("unconstrained optimum has real poles; Q >= 0 imposed on the real line")
            bound = cert if cert.status == "global" and cert.lower is not None else None
            # A real polynomial of odd degree has a real zero: Q then has degree <= n - 1.
            n_pf = n - n % 2
            sym_pf, shift_pf = _symmetry(target, w, a, b, "plain", m, n_pf)
            pf = _Problem(target, w, a, b, m, n_pf, "plain", sym_pf, kinks, shift_pf)
            extra_t = np.zeros(0)
            for _ in (0, 1, 2, 3):  # `range` is the fit range here
                rows = _pole_free_rows(pf, extra_t)
                state = _solve(
                    pf,
                    extra_constraints=lambda rows=rows: rows,
                    progress=report,
                    label="pole-free: ",
                )
                rational = _pad(_to_rational(pf, state), m, n)
                poles = rational.real_poles()
                if not poles.size:
                    break
                extra_t = np.concatenate([extra_t, pf.t(poles)])
            else:
                raise FitError(
                    f"no pole-free [{m},{n}] fit was found; use the safe form or lower degrees"
                )
            cert = certify(target, rational, a, b, weight=w, kinks=kinks, order=(m, n))
            cert = _with_bound(cert, bound)
    if form == "abs":
        report("certifying", 0.95)
        cert = certify(target, rational, a, b, weight=w, kinks=kinks, order=(m, n))
    if not state.converged and form != "abs":
        warnings.warn(
            f"minimax [{m}, {n}] ({form}): the exchange did not converge in {state.rounds} "
            "rounds; the certificate reports how good the fit is",
            RuntimeWarning,
            stacklevel=2,
        )
    detail = cert.detail
    if not state.converged and form == "abs":
        # abs is a bounded local search by design: say so instead of warning.
        detail += (
            f" The sign-pattern search stopped after {state.rounds} exchange rounds before the "
            "continuum and grid errors agreed."
        )
    if form == "safe":
        c = state.gamma[1:]
        at_wide = bool(np.any(c >= _SAFE_BOUND * (1 - 1e-9)))
        at_start = bool(np.any(c >= _SAFE_START_BOUND * (1 - 1e-9))) and not np.any(
            c > _SAFE_START_BOUND * (1 + 1e-9)
        )
        if at_wide or at_start:
            used = _SAFE_BOUND if at_wide else _SAFE_START_BOUND
            detail += (
                f" Some scaled denominator coefficients c_k of Q = 1 + sum c_k (|x|/R)^k reached "
                f"the bound {used:g}"
                + ("" if at_wide else f" (a continuation to {_SAFE_BOUND:g} did not improve)")
                + ": the infimum over the safe class may not be attained (|x| is the limit of "
                "C x^2 / (1 + C|x|)); this is the best found with bounded coefficients."
            )
    if pole_free:
        detail += " Pole-free on the real line was required (Q >= 0 imposed as a constraint)."
    poles_line = rational.real_poles() if form == "plain" else np.zeros(0)
    if poles_line.size and not any(a <= p <= b for p in poles_line):
        detail += (
            " The best approximant has real poles outside the range at x = "
            + ", ".join(f"{p:.6g}" for p in poles_line)
            + " (use --pole-free or the safe form to exclude them)."
        )
    cert = Certificate(cert.status, cert.upper, cert.lower, cert.gap, detail, cert.points)
    settings: dict[str, Any] = {
        "weight": w.spec,
        "objective": f"max over the range of w |f - r| ({w.description})",
        "algorithm": "differential correction (HiGHS LPs) + cumulative continuum exchange",
        "symmetry": _symmetry_label(sym, shift),
        "pole_free": bool(pole_free),
        "exchange_rounds": state.rounds,
        "linear_programs": state.lps,
        "grid_points": state.grid_size,
        "grid_error": state.grid_error,
        "converged": bool(state.converged),
        "seconds": round(time.perf_counter() - started, 4),
    }
    if notes:
        settings["notes"] = notes
    report("done", 1.0)
    return make_fit(
        target,
        rational,
        method="minimax",
        settings=settings,
        range=(a, b),
        allow_poles=allow_poles,
        certificate=cert,
    )

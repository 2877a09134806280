"""Differential correction with a continuum exchange: the discrete optimum, moved to the continuum.

On a finite grid (Chebyshev points of the range, geometrically graded toward the target's kinks
and the ends) the minimax problem is solved by differential correction
(:mod:`actfit.approx.lp`; Cheney & Loeb 1961, Barrodale, Powell & Roberts 1972), a sequence of
linear programmes that converges to the *global* discrete optimum from any start. It needs no
smoothness, so kinked targets (relu, leaky_relu, hardswish, srelu, abs, ...) work as well as
smooth ones.

The local extrema of the true error on the continuum are then located
(:func:`actfit.approx.extrema.error_extrema`) and added to the grid, and differential correction
is warm-started again: Remez's first (cumulative) exchange algorithm with an LP in place of the
linear solve (Remez 1934; Cheney 1966, ch. 3). :func:`solve` stops when the continuum error
exceeds the grid error by less than ``1e-7`` relative (or the rounding level).

References:
    E. Ya. Remez, "Sur le calcul effectif des polynomes d'approximation de Tchebichef", C. R.
    Acad. Sci. Paris 199 (1934), 337–340.
    E. W. Cheney, *Introduction to Approximation Theory*, McGraw-Hill (1966), ch. 3.
    E. W. Cheney and H. L. Loeb, "Two new algorithms for rational approximation", Numer. Math. 3
    (1961), 72–75.
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.certificate import special_points
from actfit.approx.extrema import dense_grid, error_extrema, rounding_level
from actfit.approx.lp import differential_correction
from actfit.approx.minimax_problem import Problem
from actfit.errors import TargetDomainError
from actfit.options import Progress

__all__ = ["State", "continuum_grid", "error_function", "initial_grid", "sign_pattern", "solve"]

_Array = NDArray[np.float64]
_EXCHANGE_RTOL = 1e-7
_MAX_ROUNDS = 12
# HiGHS drops matrix entries below its small_matrix_value (default 1e-9). The abs sign rows near
# x = 0 have S's even columns O(|t|) against O(1) odd ones (S(0) = 0, and T_k'(0) = 0 for even
# k), down to 3e-11 at the grid's 1e-10: dropped, they impose S'(0) = 0 exactly and the LP
# optimum is far off (softplus [6,6], sign(Q_plain - 1): level -0.025 against -0.59 kept, -0.29
# reached by the later LPs). 1e-12 is the smallest value HiGHS accepts.
_ABS_SMALL_MATRIX_VALUE = 1e-12
# abs: a pattern ahead of its rival (so it may win) gets the plain form's budget instead of the
# losers' 6 rounds of at most 12 LPs (abs [6,6] on [-3, 3]: 3.1639e-4 against 3.8109e-4).
_ABS_LEAD_ROUNDS = 12
_ABS_LEAD_LPS = 40
# abs: the LPs by row generation (see actfit.approx.lp._HighsLP._solve_by_rows); with a sign
# row per point its LPs are the largest (benchmarks/abs_row_generation.py: median time ratio
# 0.74-0.89 on four ranges).
_ABS_ROW_GENERATION = True


def initial_grid(prob: Problem, lo: float, hi: float) -> _Array:
    """The first grid of differential correction: Chebyshev points and points graded toward
    the special points (kinks and ends)."""
    k = 24 * (prob.m + prob.n + 2) + 100
    special = special_points(lo, hi, prob.kinks, prob.form)
    return dense_grid(lo, hi, chebyshev=k, uniform=0, special=special, graded=48, smallest=1e-10)


def continuum_grid(prob: Problem, lo: float, hi: float, extra: _Array) -> _Array:
    """The dense grid on which the continuum extrema are searched (``extra`` included)."""
    return dense_grid(lo, hi, special=special_points(lo, hi, prob.kinks, prob.form), extra=extra)


@dataclass
class State:
    """A differential-correction result: internal coefficients, errors and what it cost."""

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


def sign_pattern(x: _Array, breaks: _Array | None, default: float) -> _Array:
    """σ(x): ``default`` left of the first break, flipping at each break."""
    if breaks is None or breaks.size == 0:
        return np.full_like(x, default)
    flips = np.searchsorted(breaks, x, side="right")
    return default * np.where(flips % 2 == 0, 1.0, -1.0)


def abs_phi(prob: Problem, x: _Array, sign: _Array) -> _Array:
    """abs's denominator columns ``[1, σ (T_k(t) - T_k(t0))]`` (as :meth:`Problem.phi`), with
    the differences computed without cancellation.

    ``T_k(t) - T_k(t0)`` as a difference of two O(1) numbers keeps no digit of its O(|x|)
    value near ``x = 0``, where the grid is graded down to 1e-10: the even columns there are
    rounding noise (1e-16 against 2e-20 at ``x = 1e-10`` on [-3, 3]), which the row-scaled
    sign constraints would read as O(1e-7) entries. The recurrence ``D_{k+1} = 2 t D_k +
    2 (t - t0) T_k(t0) - D_{k-1}`` (from ``T_{k+1} = 2 t T_k - T_{k-1}``; ``D_0 = 0``,
    ``D_1 = t - t0 = x / h``) carries the factor ``t - t0`` exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    t = prob.t(x)
    dt = x / prob.half
    t0 = float(prob.t(np.array([0.0]))[0])
    out = np.empty((x.size, prob.n + 1))
    out[:, 0] = 1.0
    prev, cur = np.zeros_like(x), dt
    tk_prev, tk = 1.0, t0  # T_{k-1}(t0), T_k(t0)
    for k in range(1, prob.n + 1):
        out[:, k] = cur
        prev, cur = cur, 2.0 * t * cur + 2.0 * dt * tk - prev
        tk_prev, tk = tk, 2.0 * t0 * tk - tk_prev
    out[:, 1:] *= np.asarray(sign, dtype=np.float64)[:, None]
    return out


def _abs_row_map(old: _Array, new: _Array) -> NDArray[np.int64]:
    """For the abs LP of grid ``new``, the row of the LP of grid ``old`` (a subset) that each
    row repeats, or ``-1`` for the rows of the added points (see
    :meth:`actfit.approx.lp._HighsLP.seed`). Rows: the two error rows of each point, then the
    sign rows of the points other than 0 (there all of S's columns vanish)."""
    idx = np.minimum(np.searchsorted(old, new), old.size - 1)
    found = old[idx] == new
    err = np.where(found, idx, -1)
    old_sign = np.cumsum(old != 0.0) - 1  # sign row of each old point
    sign = np.where(found, old_sign[idx], -1)[new != 0.0]
    return np.concatenate([err, np.where(err >= 0, err + old.size, -1),
                           np.where(sign >= 0, sign + 2 * old.size, -1)]).astype(np.int64)


def _phi(prob: Problem, x: _Array, sign: _Array) -> _Array:
    return abs_phi(prob, x, sign) if prob.form == "abs" else prob.phi(x, sign)


def error_function(
    prob: Problem, alpha: _Array, gamma: _Array, sign_fn: Callable[[_Array], _Array]
) -> Callable[[_Array], _Array]:
    """The weighted error ``w (f - P/Q)`` of internal coefficients (``sign_fn``: abs's σ).

    abs: ``Q = c_0 + |S|`` does not depend on σ, and ``P`` and ``S`` are summed by Clenshaw's
    recurrence (``numpy.polynomial.chebyshev.chebval``), as accurate as the Vandermonde
    product and cheaper on the small arrays of the extrema refinement (sigmoid [6,6]: 0.47 s
    of 3.5 s in ``r`` over four fits, most of it building Vandermonde matrices).
    """
    if prob.form == "abs":
        num = np.zeros(prob.m + 1)
        num[prob.num_index] = alpha
        den = np.concatenate(([0.0], np.asarray(gamma, dtype=np.float64)[1:]))
        s0 = float(_cheb.chebval(prob.t(np.array([0.0]))[0], den))

        def r(x: _Array) -> _Array:
            t = prob.t(np.asarray(x, dtype=np.float64))
            q = gamma[0] + np.abs(_cheb.chebval(t, den) - s0)
            with np.errstate(all="ignore"):
                return _cheb.chebval(t, num) / q

    else:

        def r(x: _Array) -> _Array:
            x = np.asarray(x, dtype=np.float64)
            q = prob.phi(x, sign_fn(x)) @ gamma
            with np.errstate(all="ignore"):
                return (prob.psi(x) @ alpha) / q

    uniform = prob.weight.spec == "uniform"  # w = 1: skip its evaluation (exactly the same)

    def err(x: _Array) -> _Array:
        with np.errstate(all="ignore"):
            if uniform:
                return prob.f(x) - r(x)
            return prob.w(x) * (prob.f(x) - r(x))

    return err


def solve(
    prob: Problem,
    *,
    breaks: _Array | None = None,
    default_sign: float = 1.0,
    start: tuple[_Array, _Array] | None = None,
    extra_constraints: Callable[[], tuple[_Array, _Array]] | None = None,
    equalities: tuple[_Array, _Array] | None = None,
    progress: Progress | None = None,
    label: str = "",
    rival: float = math.inf,
) -> State:
    """Differential correction on a grid, with continuum extrema added until they agree.

    abs only: ``rival`` is the best error of another sign pattern. The search gives this pattern
    up once its optimum on the current grid is proven no smaller than ``rival``: the grid problem
    (``σ S >= 0`` imposed on the grid only) is a relaxation of the pattern's problem on the
    continuum, and the grid only grows, so the pattern cannot end better. The proof is the lower
    bound of :func:`~actfit.approx.lp.differential_correction` (``Q = 1 + σ S >= 1`` on the grid,
    so ``q_floor = 1``), from a first LP asked at the level ``rival`` and from every full-box LP
    after it; the old test (converged on the grid to an error ``>= rival``) is kept. Not a
    heuristic margin: up to the LP tolerance, it never discards the pattern that would win. A
    pattern ahead of its rival gets the larger budget (``_ABS_LEAD_ROUNDS``, ``_ABS_LEAD_LPS``).

    ``extra_constraints`` returns rows ``G γ >= h`` on the denominator coefficients;
    ``equalities`` is ``(E, e)``, linear equalities ``E (α, γ) = e`` on all coefficients
    (numerator first; see :func:`~actfit.approx.lp.differential_correction`), met by ``start``.
    With either, a plain fit is not handed to the Remez polish (which knows no constraints), so
    its LPs are not capped lower.
    """
    lo, hi = prob.lo, prob.b
    grid = initial_grid(prob, lo, hi)
    fixed = special_points(lo, hi, prob.kinks, prob.form)
    lower, upper = prob.box()

    def sign_fn(x: _Array) -> _Array:
        return sign_pattern(x, breaks, default_sign)

    def data(x: _Array) -> tuple[_Array, _Array, _Array, _Array]:
        f = prob.f(x)
        if not np.all(np.isfinite(f)):
            bad = float(x[~np.isfinite(f)][0])
            raise TargetDomainError(
                f"the target is not finite at x = {bad:.6g} on [{prob.a:g}, {prob.b:g}]; choose a "
                "range on which it is finite"
            )
        return prob.psi(x), _phi(prob, x, sign_fn(x)), f, prob.w(x)

    psi, phi, f, w = data(grid)
    noise = rounding_level(f, w)
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
            # Rows scaled to unit size: S(0) = 0 by construction, so near x = 0 (where the grid
            # is graded down to 1e-10) a row's entries are O(|x|), below HiGHS's
            # small_matrix_value (1e-9), which drops them and so imposes a different, often
            # infeasible constraint (sigmoid [6,6], sign(x): LP optima 2-10x too high, 72
            # LPs without converging). A row that is all zeros (x = 0) says 0 >= 0: dropped.
            size = np.max(np.abs(g), axis=1)
            keep = size > 0.0
            g = g[keep] / size[keep, None]
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
    polish = prob.form == "plain" and extra_constraints is None and equalities is None
    # abs is a local search over sign patterns: a few cheap rounds per pattern are enough.
    maxiter = 25 if polish else (12 if prob.form == "abs" else 40)
    max_rounds = 6 if prob.form == "abs" else _MAX_ROUNDS
    lps = 0
    grid_error = math.inf
    error = math.inf
    converged = False
    rounds = 0
    best_error, stall = math.inf, 0
    prev_error = math.inf
    kept: tuple[_Array, _Array, float, float] | None = None
    warm: tuple[object, NDArray[np.int64]] | None = None  # abs: the last LP's basis, mapped

    def leading() -> bool:
        # abs: this pattern is ahead of its rival, so it may win: it gets the larger budget.
        return prob.form == "abs" and error < rival

    while rounds < (_ABS_LEAD_ROUNDS if leading() else max_rounds):
        rounds += 1
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
            equalities=equalities,
            atol=noise,
            maxiter=_ABS_LEAD_LPS if leading() else maxiter,
            loose_retry=prob.form == "abs",
            row_generation=prob.form == "abs" and _ABS_ROW_GENERATION,
            q_floor=1.0 if prob.form == "abs" else None,
            small_matrix_value=_ABS_SMALL_MATRIX_VALUE if prob.form == "abs" else None,
            stop_above=rival,
            warm=warm,
        )
        lps += res.iterations
        alpha, gamma, grid_error = res.alpha, res.gamma, res.error
        if res.lower_bound >= rival:
            # A proven bound (see the docstring): the pattern cannot beat the rival, so its
            # continuum error is not needed; it is at least the bound.
            error = max(grid_error, res.lower_bound)
            break
        err = error_function(prob, alpha, gamma, sign_fn)
        dense = continuum_grid(prob, lo, hi, grid)
        xs, es, finite = error_extrema(err, dense, fixed)
        error = float(np.max(np.abs(es))) if finite else math.inf
        if progress is not None:
            progress(f"{label}exchange round {rounds}: error {error:.3e}", rounds / max_rounds)
        # Stop when the continuum agrees with the grid (to the rounding level of the error
        # evaluation, ~1e3 ulps of w f) or when two rounds in a row brought no progress.
        settled = grid_error * (1.0 + _EXCHANGE_RTOL) + 16.0 * noise
        stalled = finite and error >= best_error * (1.0 - 1e-9)
        stall = stall + 1 if stalled else 0
        if prob.form == "abs" and finite and error < best_error:
            kept = (alpha, gamma, grid_error, error)
        best_error = min(best_error, error)
        # Differential correction stopped by its LP cap short of the grid optimum (relu [8,8] on
        # [-3,3]: 3.28e-3 after 25 LPs, 1.43e-3 after 39) while still making progress: agreement
        # of grid and continuum then says nothing, so the run goes on from where it stopped. A
        # capped run that gained < 5% (the slow tail at tiny errors) stops as before.
        progressing = not res.converged and finite and error < 0.95 * prev_error
        prev_error = error
        # A leading abs pattern may stall three rounds (abs [5,4] on [-3, 3]: 6.99223e-4 after
        # two, 6.99219e-4 after the third).
        if finite and not progressing and (error <= settled or stall >= (3 if leading() else 2)):
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
        if new.size == 0 and progressing:
            continue
        if new.size == 0:
            converged = finite
            break
        old_grid, grid = grid, np.union1d(grid, new)
        if prob.form == "abs" and prob.n and extra_constraints is None and equalities is None:
            warm = (res.basis, _abs_row_map(old_grid, grid))
        psi, phi, f, w = data(grid)
        cons, cons_lower = constraint_rows(phi)
        if prob.form == "plain" and equalities is None and not np.all(phi @ gamma > 0):
            # A zero of Q between the old grid points is now on the grid: differential
            # correction needs Q > 0 there, so it restarts from Q = 1 (it converges from any
            # start; elu [12,12] on [-3,3] in the barycentric basis).
            gamma = prob.unit_gamma()
            q = phi @ gamma
            alpha = (np.linalg.lstsq(psi * (w / q)[:, None], w * f, rcond=None)[0]
                     if psi.shape[1] else np.zeros(0))
    if kept is not None and kept[3] < error:
        # abs: a later round ended above an earlier one (the stall rule stops after two such
        # rounds; abs [5,4] on [-3, 3]: 6.992234e-4, then 6.992372e-4 and 6.992243e-4): the
        # best round's coefficients are the result.
        alpha, gamma, grid_error, error = kept
    return State(
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

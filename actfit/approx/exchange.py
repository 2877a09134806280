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


def error_function(
    prob: Problem, alpha: _Array, gamma: _Array, sign_fn: Callable[[_Array], _Array]
) -> Callable[[_Array], _Array]:
    """The weighted error ``w (f - P/Q)`` of internal coefficients (``sign_fn``: abs's σ)."""
    def r(x: _Array) -> _Array:
        x = np.asarray(x, dtype=np.float64)
        q = prob.phi(x, sign_fn(x)) @ gamma
        if prob.form == "abs":
            q = gamma[0] + np.abs(q - gamma[0])
        with np.errstate(all="ignore"):
            return (prob.psi(x) @ alpha) / q

    def err(x: _Array) -> _Array:
        with np.errstate(all="ignore"):
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
    up once differential correction has converged on the current grid to an error no smaller than
    ``rival``: the grid problem (``σ S >= 0`` imposed on the grid only) is a relaxation of the
    pattern's problem on the continuum, and the grid only grows, so the pattern cannot end better.
    Not a heuristic margin: up to the LP tolerance, it never discards the pattern that would win.

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
        return prob.psi(x), prob.phi(x, sign_fn(x)), f, prob.w(x)

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
            equalities=equalities,
            atol=noise,
            maxiter=maxiter,
            loose_retry=prob.form == "abs",
        )
        lps += res.iterations
        alpha, gamma, grid_error = res.alpha, res.gamma, res.error
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
        best_error = min(best_error, error)
        # Differential correction stopped by its LP cap short of the grid optimum (relu [8,8] on
        # [-3,3]: 3.28e-3 after 25 LPs, 1.43e-3 after 39) while still making progress: agreement
        # of grid and continuum then says nothing, so the run goes on from where it stopped. A
        # capped run that gained < 5% (the slow tail at tiny errors) stops as before.
        progressing = not res.converged and finite and error < 0.95 * prev_error
        prev_error = error
        if finite and not progressing and (error <= settled or stall >= 2):
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
        grid = np.union1d(grid, new)
        psi, phi, f, w = data(grid)
        cons, cons_lower = constraint_rows(phi)
        if equalities is None and not np.all(phi @ gamma > 0):
            # A zero of Q between the old grid points is now on the grid: differential
            # correction needs Q > 0 there, so it restarts from Q = 1 (it converges from any
            # start; elu [12,12] on [-3,3] in the barycentric basis).
            gamma = prob.unit_gamma()
            q = phi @ gamma
            alpha = (np.linalg.lstsq(psi * (w / q)[:, None], w * f, rcond=None)[0]
                     if psi.shape[1] else np.zeros(0))
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

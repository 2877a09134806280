"""Starting points for the least-squares search: linearised fits, interpolation, sign patterns.

The objective of :func:`actfit.approx.lsq.fit_lsq` has many local minima, so Levenberg–Marquardt
is started from several points (:mod:`actfit.approx.lsq` runs them and keeps the best). The
starts made here, all in the internal coordinates of :mod:`actfit.approx.varpro`:

* ``loeb`` and ``sk``: the linearised problem ``min ‖√w (f Q - P)/Q_prev‖`` solved once with
  ``Q_prev = 1`` (Loeb 1961) and iterated (Sanathanan & Koerner 1963); for ``safe`` the linear
  solves keep ``θ >= 0`` (bounded-variable least squares);
* ``interp``: a Padé-like start, the linearised rational interpolant at ``m + n + 1`` Chebyshev
  points of the range (a multipoint Padé approximant);
* random starts (drawn by :mod:`actfit.approx.lsq` with a fixed seed): for ``plain`` and
  ``abs`` from :func:`make_plain_draw` and :func:`make_abs_draw`;
* for ``abs``: the ``safe`` Loeb/SK denominators read as ``S(x) = Σ ε_k β_k (x/R)^k`` for the
  sign patterns ``ε = +1``, ``ε_k = (-1)^k`` and a few random ones, and sign-pattern SK starts
  (the linearisation ``f (1 + σ S) - P`` with ``σ = sign(S)`` frozen and updated until it
  settles).

References:
    C. K. Sanathanan and J. Koerner, "Transfer function synthesis as a ratio of two complex
    polynomials", IEEE Trans. Automatic Control 8 (1963), 56–58.
    H. L. Loeb, "On rational fraction approximations at discrete points", Convair Astronautics,
    Math. Preprint 9 (1957); see also E. W. Cheney, Introduction to Approximation Theory (1966).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.monomial import from_monomial_denominator
from actfit.approx.varpro import Grid, Model, eval_denominator_basis

__all__ = [
    "make_abs_draw",
    "make_abs_scaled_draw",
    "make_interp_start",
    "make_plain_draw",
    "make_signed_safe_starts",
    "make_sk_starts",
    "solve_abs_sk",
    "solve_linearised",
]

_Array = NDArray[np.float64]


def solve_linearised(
    vnum: _Array,
    lin: _Array,
    f: _Array,
    rowscale: _Array,
    nonneg: bool,
) -> tuple[_Array, _Array]:
    """Solve ``min ‖rowscale ∘ (f (1 + L θ) - V α)‖`` for ``(α, θ)``; ``θ >= 0`` if ``nonneg``.

    Examples:
        >>> x = np.linspace(-1.0, 1.0, 9)
        >>> f = (1.0 + x) / (1.0 + 0.5 * x**2)  # exactly representable: α = [1, 1], θ = [0.5]
        >>> alpha, theta = solve_linearised(np.vander(x, 2, True), x[:, None] ** 2, f,
        ...                                 np.ones_like(x), False)
        >>> np.allclose(alpha, [1.0, 1.0]), np.allclose(theta, [0.5])
        (True, True)
    """
    mat = rowscale[:, None] * np.hstack([vnum, -f[:, None] * lin])
    rhs = rowscale * f
    norms = np.linalg.norm(mat, axis=0)
    norms[norms == 0] = 1.0
    mat = mat / norms
    k = vnum.shape[1]
    if nonneg and lin.shape[1]:
        from scipy.optimize import lsq_linear

        lower = np.concatenate([np.full(k, -np.inf), np.zeros(lin.shape[1])])
        sol = lsq_linear(mat, rhs, bounds=(lower, np.inf), method="bvls").x
    else:
        sol = np.linalg.lstsq(mat, rhs, rcond=None)[0]
    sol = sol / norms
    return sol[:k], sol[k:]


def make_sk_starts(
    grid: Grid,
    vnum: _Array,
    model: Model,
    sign: _Array | None = None,
    iterations: int = 8,
) -> list[tuple[str, _Array]]:
    """Return Loeb's linearised solution and the Sanathanan–Koerner iterate that follows it."""
    n = model.basis.shape[1]
    if n == 0:
        return []
    lin = model.basis if sign is None else model.basis * sign[:, None]
    nonneg = model.form == "safe"
    qprev = np.ones_like(grid.x)
    out: list[tuple[str, _Array]] = []
    last = None
    for it in range(iterations):
        _, theta = solve_linearised(vnum, lin, grid.f, grid.sw / qprev, nonneg)
        if not np.all(np.isfinite(theta)):
            break
        if it == 0:
            out.append(("loeb", theta))
        q = 1.0 + lin @ theta
        qabs = np.abs(q)
        if not np.all(qabs > 1e-8):
            break
        if last is not None and np.max(np.abs(theta - last)) <= 1e-10 * (1 + np.max(np.abs(theta))):
            last = theta
            break
        qprev, last = qabs, theta
    if last is not None:
        out.append(("sk", last))
    return out


def solve_abs_sk(
    grid: Grid,
    vnum: _Array,
    basis: _Array,
    sign: _Array,
    iterations: int = 12,
) -> _Array | None:
    """Sanathanan–Koerner for ``Q = 1 + |S|``: linearise with the sign pattern of ``S`` frozen.

    Given ``σ = sign(S)``, ``f (1 + σ S) - P`` is linear in all coefficients; the pattern is then
    updated from the new ``S`` and the weights from the new ``Q``, until the pattern settles.
    This finds the right basin when ``S`` changes sign inside the range, where LM from a
    sign-agnostic start tends to stall on the ridge a wrong pattern creates.
    """
    qprev = np.ones_like(grid.x)
    theta = None
    for _ in range(iterations):
        _, new = solve_linearised(vnum, basis * sign[:, None], grid.f, grid.sw / qprev, False)
        if not np.all(np.isfinite(new)):
            break
        s_new = basis @ new
        sign_new = np.where(s_new < 0, -1.0, 1.0)
        settled = theta is not None and np.array_equal(sign_new, sign)
        theta, sign, qprev = new, sign_new, 1.0 + np.abs(s_new)
        if settled:
            break
    return theta


def make_interp_start(grid: Grid, m: int, model_form: str, n: int) -> _Array | None:
    """Return the linearised rational interpolant at m+n+1 Chebyshev points (a multipoint Padé).

    ``None`` when the target is not finite at one of the points or the solve fails.
    """
    k = m + n + 1
    tk = np.cos(np.pi * (np.arange(k) + 0.5) / k)
    xk = grid.a + 0.5 * (grid.b - grid.a) * (tk + 1.0)
    with np.errstate(all="ignore"):
        fk = np.asarray(grid.target(xk), dtype=np.float64)
    if not np.all(np.isfinite(fk)):
        return None
    vnum = _cheb.chebvander(tk, m)
    lin = eval_denominator_basis(model_form, grid, xk, tk, n)
    _, theta = solve_linearised(vnum, lin, fk, np.ones(k), model_form == "safe")
    return theta if np.all(np.isfinite(theta)) else None


def make_signed_safe_starts(
    grid: Grid, safe_thetas: list[_Array], n: int, seed: int
) -> list[tuple[str, _Array]]:
    """Return ``abs`` starts from ``safe`` denominators: S(x) = Σ ε_k β_k (x/R)^k for patterns ε.

    ``seed`` fixes the random patterns, so the fit is deterministic.
    """
    rng = np.random.default_rng(seed)
    patterns = [np.ones(n), (-1.0) ** np.arange(1, n + 1)]
    patterns += [rng.choice([-1.0, 1.0], size=n) for _ in range(2)]
    out: list[tuple[str, _Array]] = []
    for i, beta in enumerate(safe_thetas):
        for j, eps in enumerate(patterns):
            den = eps * np.abs(beta) / grid.radius ** np.arange(1, n + 1)
            out.append((f"safe{i}-sign{j}", from_monomial_denominator("abs", grid, den)))
    return out


def make_abs_draw(grid: Grid, n: int) -> Callable[[np.random.Generator], _Array]:
    """Random ``abs`` starts: ``S`` with Chebyshev or monomial coefficients of random size."""
    count = [0]

    def draw(rng: np.random.Generator) -> _Array:
        count[0] += 1
        if count[0] % 2 == 0:
            den = rng.choice([-1.0, 1.0], n) * np.exp(rng.normal(0.0, 2.0, n))
            den = den / grid.radius ** np.arange(1, n + 1)
            return from_monomial_denominator("abs", grid, den)
        return rng.standard_normal(n) * math.exp(rng.normal(0.0, 1.5))

    return draw


def make_abs_scaled_draw(grid: Grid, n: int) -> Callable[[np.random.Generator], _Array]:
    """Random ``abs`` starts: ``S(x) = λ Σ d_k (x/R)^k``, ``d_k ~ N(0, 1)``, ``λ = 10^U(1, 3.5)``.

    One common scale for all coefficients, and a large one: the optima of kinked targets at
    higher orders often have ``Q`` of order ``1e3`` at the ends of the range and ``≈ 1`` inside
    (srelu [8, 8] on [-3, 3], L2 1.2054e-2 against 1.2330e-2 at the optimum every other start
    finds). About 1 in 8 of these starts reaches that basin, against none in 40 of
    :func:`make_abs_draw`'s, whose per-coefficient log-normal sizes rarely make such an ``S``.

    Examples:
        >>> from actfit.approx.varpro import make_grid
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> g = make_grid(get_target("tanh", {}), parse_weight("uniform"), -2.0, 2.0, (), 2, 8)
        >>> make_abs_scaled_draw(g, 5)(np.random.default_rng(0)).shape
        (5,)
    """
    powers = grid.radius ** np.arange(1, n + 1)

    def draw(rng: np.random.Generator) -> _Array:
        den = rng.standard_normal(n) * 10.0 ** rng.uniform(1.0, 3.5) / powers
        return from_monomial_denominator("abs", grid, den)

    return draw


def make_plain_draw(grid: Grid, basis: _Array) -> Callable[[np.random.Generator], _Array]:
    """Random ``plain`` starts, alternately of two kinds (each finds optima the other misses).

    ``S`` of random shape scaled so that ``min Q = u`` at the nodes (pole-free), and monomial
    ``b_k = ±exp(N(0, 2)) / R^k`` (often with a pole, but then LM settles far away).

    Examples:
        >>> from actfit.approx.varpro import make_grid, make_varpro
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> g = make_grid(get_target("tanh", {}), parse_weight("uniform"), -2.0, 2.0, (), 2, 8)
        >>> basis = make_varpro(g, 3, 2, "plain").model.basis
        >>> theta = make_plain_draw(g, basis)(np.random.default_rng(0))
        >>> theta.shape, bool(np.all(1.0 + basis @ theta > 0))
        ((2,), True)
    """
    n = basis.shape[1]
    count = [0]

    def draw(rng: np.random.Generator) -> _Array:
        count[0] += 1
        if count[0] % 2 == 0:
            den = rng.choice([-1.0, 1.0], n) * np.exp(rng.normal(0.0, 2.0, n))
            den = den / grid.radius ** np.arange(1, n + 1)
            return from_monomial_denominator("plain", grid, den)
        theta = rng.standard_normal(n) * math.exp(rng.normal(0.0, 1.5))
        low = float(np.min(basis @ theta))
        floor = 1.0 - rng.uniform(0.05, 0.95)  # Q >= 1 - floor at the nodes
        if low < -floor:
            theta *= floor / -low
        return theta

    return draw

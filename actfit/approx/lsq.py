"""Least-squares rational fits: the best continuous-L2 fit ``P/Q`` found on a range.

:func:`fit_lsq` minimises ``∫_a^b w(x) (f(x) - P(x)/Q(x))^2 dx`` over the numerator ``P`` of
degree ``m`` and the denominator ``Q`` of degree ``n`` in one of the three denominator forms
(``plain``, ``safe``, ``abs``; see :mod:`actfit.rational`).

Method
------
The fit runs in four parts, each in its own module:

1. *Variable projection* (:mod:`actfit.approx.varpro`): the continuous L2 objective on a
   composite Gauss–Legendre rule, the numerator eliminated by a linear solve (Golub & Pereyra
   1973; Kaufman 1975), Levenberg–Marquardt on the denominator parameters in well-conditioned
   Chebyshev coordinates, and Newton refinement of the winner to rounding level.
2. *Starting points* (:mod:`actfit.approx.starts`): Loeb's and Sanathanan–Koerner's linearised
   fits, a multipoint Padé interpolant and, for ``abs``, sign-pattern starts.
3. *The search* (this module): LM from every start, the best pole-free candidate kept.
4. *Monomial coefficients* (:mod:`actfit.approx.monomial`): the internal optimum converted to the
   ascending monomial coefficients actfit stores, without losing its accuracy.

*Multi-start, and what is proven.* The objective has many local minima, so LM is started from
several points and the best is kept (all starts and the winner are recorded in ``settings``):

* ``loeb``, ``sk`` and ``interp`` (see :mod:`actfit.approx.starts`);
* ``order-k``: the previous orders — the chain ``[m, 0] → [m, 1] → ... → [m, n - 1]``, each
  level polished by VarPro and padded with a zero for the next;
* ``ones``: the all-ones coefficients that naive fits start from;
* ``perturb-i`` (``plain``, ``abs``): deterministic perturbations (fixed seed) of the best point;
* ``random-i`` (``plain``, ``abs``): seeded random denominators (:func:`make_plain_draw`,
  :func:`make_abs_draw`), each first run by a short LM (``6 (n + 1)`` evaluations) and polished
  fully only if that lands within 5 % of the best cost away from every known point, until 10 in
  a row bring no improvement (at least 24; hardtanh [4, 4] plain on [-3, 3] has an asymmetric
  optimum 5.8 % below the symmetric one every linearised start finds; the screened-out starts
  count in "best of N starts" but are not listed in ``starts``). For ``plain`` the short run is
  made on a rule of 2 panels per piece and, where it passes, followed by a full run on that
  rule before the test is repeated (most starts that pass the short run converge to a known
  optimum; plain factors its QR through LAPACK directly); relu [5, 4] plain's random
  starts took about 43 ms on the full rule and take about 25 to 32 ms so (a shared machine),
  with every plain cell of the benchmark grid kept (a batched screening, 15 steps of a simple
  LM for all draws at once, was 4 ms faster but lost tsqrt_tanh [6, 5] on [-1, 1]);
* ``scaled-i`` (``abs``, ``n >= 5``): as ``random-i``, with ``S`` of one large common scale
  (:func:`make_abs_scaled_draw`; srelu [8, 8] on [-3, 3]: 2.2 % below what the other starts find);
* for ``safe``, where ``Q`` depends on ``c_k = |b_k|`` only, the problem is bound-constrained
  (``c >= 0``) and its optima often lie on faces (some ``c_k = 0``; gelu [5, 4] on [-3, 3] has
  ``b_1 = b_4 = 0``). LM on ``|θ|`` stalls at the kink such a face is for it, so the search
  adds ``random-i``: log-normal random ``c`` (fixed seed; the optima on wide ranges have ``c_k``
  up to ``1e3`` in the scaled coordinates, far from every linearised start), drawn until
  ``_PATIENCE`` in a row bring no improvement; the three best distinct points are then
  finished by the bound-constrained trust-region reflective method (Branch, Coleman & Li 1999)
  and ``face*``: greedy face moves from the best point (each ``c_k > 0`` set to 0, each
  ``c_k = 0`` released at a few magnitudes), repeated while one improves. Components the
  bounded method leaves within ``1e-8`` of the bound are set to exactly 0;
* for ``abs`` additionally the ``plain`` starts, the ``safe`` Loeb/SK denominators with sign
  patterns, and sign-pattern SK starts seeded with ``S >= 0``, ``S ~ x``, those with one more
  sign change at interior Chebyshev points, the plain starts' patterns and, after the first
  round, the best candidate's pattern. Because the base rule cannot see the narrow features
  ``1 + |S|`` has near a double sign change, the three leaders are ranked and polished on rules
  split at their own sign changes.

This certifies the result only among the starts tried: ``settings["optimality"]`` says "best of
N starts" for ``n >= 1``, and "global" only for ``n = 0`` (linear least squares). For ``safe``
with ``n <= 2`` a branch and bound over ``c`` on a convex relaxation
(:func:`~actfit.approx.varpro.bound_safe_globally`) adds ``lower_bound`` and ``gap``: the fit is
global within that gap over ``0 <= c_k <= 1e4`` (scaled coordinates), as minimax reports it.
``benchmarks/lsq_grid.py`` compares every fit of a grid of targets, ranges, orders and forms with
an independent 30-start search (``benchmarks/results/lsq-grid.md``).

*Poles (plain form).* A pole makes the L2 integral infinite. A zero of ``Q`` at a node gives a
huge residual, so LM steps do not cross one; every plain candidate whose ``Q`` still has a zero on
``[a, b]`` (Chebyshev companion roots) or is ``<= 0`` at a node is rejected, and the best
pole-free candidate wins. If every candidate has a pole, the search restarts from the best
denominators shrunk towards ``Q = 1`` (factors 0.5, 0.2, 0.05, 0); only if those fail as well is
the best candidate with a pole returned (and :func:`actfit.fit.make_fit` raises
:class:`~actfit.errors.PoleError` unless ``allow_poles``).

Length: about 700 lines, 85 of them this description of the search; the search's stages (starts,
random restarts, safe-form faces, the final polish) read best next to each other.

References:
    G. H. Golub and V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least
    squares problems whose variables separate", SIAM J. Numer. Anal. 10 (1973), 413–432.
    L. Kaufman, "A variable projection method for solving separable nonlinear least squares
    problems", BIT 15 (1975), 49–57.
    C. K. Sanathanan and J. Koerner, "Transfer function synthesis as a ratio of two complex
    polynomials", IEEE Trans. Automatic Control 8 (1963), 56–58.
    M. A. Branch, T. F. Coleman and Y. Li, "A subspace, interior, and conjugate gradient method
    for large-scale bound-constrained minimization problems", SIAM J. Sci. Comput. 21 (1999),
    1–23.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.lsq_floor import guard_lsq
from actfit.approx.lsq_tail import constrain_tail
from actfit.approx.monomial import from_monomial_denominator, to_monomial_rational
from actfit.approx.starts import (
    make_abs_draw,
    make_abs_scaled_draw,
    make_interp_start,
    make_plain_draw,
    make_signed_safe_starts,
    make_sk_starts,
    solve_abs_sk,
)
from actfit.approx.tail_spec import SlopePlan, check_tail, plan_match
from actfit.approx.varpro import (
    Grid,
    Model,
    Refiner,
    VarPro,
    bound_safe_globally,
    has_plain_pole,
    make_grid,
    make_varpro,
    snap_to_faces,
)
from actfit.approx.weights import Weight, parse_weight
from actfit.fit import Fit, make_fit
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE, Progress, as_range, check_order
from actfit.rational import Rational, require_fit_form
from actfit.targets import Target, as_target, check_finite

__all__ = ["fit_lsq"]

_PANELS = 6
_NODES_PER_PANEL = 20
_SEED = 20240611
# Safe-form random starts: at least _MIN_RANDOM, stop after _PATIENCE without improvement.
_MIN_RANDOM = 4
_PATIENCE = 4
_LEADERS = 3
# Plain-form random starts: the basins of its far optima are narrower (poles bound them).
_MIN_RANDOM_PLAIN = 24
_PATIENCE_PLAIN = 10
_ABS_SCALED_MIN_N = 5  # abs: large-scale random S from this n (none below it was needed)
_SCREEN = 1.05  # a screened start is polished fully if its cost is within 5 % of the best
_MAX_RANDOM = 60
# Plain: the short screening runs of the random starts on a rule of this many panels per piece
# (a third of the nodes: an evaluation costs half; relu [5, 4] plain spends 580 of its 840
# evaluations screening).
_SCREEN_PANELS = 2
_SAME = 1e-9  # relative cost change below which two optima count as the same
_BOUND_MAX_N = 2  # safe: branch and bound for a lower bound up to this n (0.3 s at n = 2)
_BOUND_CMAX = 1e4  # ... over 0 <= c_k <= _BOUND_CMAX in the scaled coordinates
_Array = NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# The multi-start search
# ------------------------------------------------------------------------------------------------
@dataclass
class _Candidate:
    name: str
    theta: _Array
    cost: float
    pole: bool = False


@dataclass
class _Search:
    """Multi-start search in one form on one grid."""

    grid: Grid
    m: int
    n: int
    form: str
    vnum: _Array = field(init=False)
    model: Model = field(init=False)
    vp: VarPro = field(init=False)
    candidates: list[_Candidate] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    screened: int = 0  # random starts only screened by a short LM run (not in candidates)

    def __post_init__(self) -> None:
        # plain: QR through LAPACK directly (VarPro's fast_qr), 3x cheaper per factorisation;
        # safe and abs keep numpy's QR, whose rounding their recorded outputs have.
        self.vp = make_varpro(self.grid, self.m, self.n, self.form, fast_qr=self.form == "plain")
        self.vnum = self.vp.vnum
        self.model = self.vp.model

    def run(self, name: str, theta0: _Array | None, bounded: bool = False) -> _Candidate | None:
        if theta0 is None or theta0.size != self.n or not np.all(np.isfinite(theta0)):
            return None
        if self.form == "safe" and bounded:
            theta, status = self.vp.polish_bounded(theta0)
        else:
            theta, status = self.vp.polish(theta0)
            if self.form == "safe":
                theta = np.abs(theta)
        self.statuses[name] = status
        cost = self.vp.cost(theta)
        pole = False
        if self.form == "plain":
            q, _ = self.model.q(theta)
            pole = has_plain_pole(self.grid, theta, q)
        cand = _Candidate(name, theta, cost, pole)
        self.candidates.append(cand)
        return cand

    def best(self) -> _Candidate | None:
        ok = [c for c in self.candidates if math.isfinite(c.cost)]
        free = [c for c in ok if not c.pole]
        pool = free or ok
        return min(pool, key=lambda c: c.cost) if pool else None


def _chain_start(grid: Grid, m: int, n: int, form: str) -> list[tuple[str, _Array]]:
    """Previous-order starts: polish [m, k] from the padded [m, k-1] solution, k = 1..n-1."""
    theta = np.zeros(0)
    for k in range(1, n):
        sub = _Search(grid, m, k, form)
        padded = np.concatenate([theta, [0.0]])
        starts = [("pad", padded), *make_sk_starts(grid, sub.vnum, sub.model)[-1:]]
        for name, th in starts:
            sub.run(name, th)
        best = sub.best()
        theta = best.theta if best is not None else padded
    return [(f"order-{n - 1}", np.concatenate([theta, [0.0]]))] if n >= 1 else []


def _interior_points(grid: Grid, k: int) -> _Array:
    """``k`` Chebyshev points strictly inside the range, as x values."""
    t = np.cos(np.pi * np.arange(1, k + 1) / (k + 1))[::-1]
    return grid.a + 0.5 * (grid.b - grid.a) * (t + 1.0)


def _dist(u: _Array, v: _Array) -> float:
    """Relative distance of two parameter vectors."""
    return float(np.max(np.abs(u - v)) / (1e-300 + max(np.max(np.abs(u)), np.max(np.abs(v)))))


def _search(
    grid: Grid, m: int, n: int, form: str, screen_grid: Grid | None = None
) -> _Search:
    search = _Search(grid, m, n, form)
    if n == 0:
        search.candidates.append(_Candidate("linear", np.zeros(0), search.vp.cost(np.zeros(0))))
        return search
    starts: list[tuple[str, _Array]] = []
    if form == "abs":
        # Plain-form starts read as S (Q = 1 + S is the abs form wherever S >= 0) ...
        plain = _Search(grid, m, n, "plain")
        starts += [(f"plain-{k}", th) for k, th in make_sk_starts(grid, plain.vnum, plain.model)]
        interp = make_interp_start(grid, m, "plain", n)
        if interp is not None:
            starts.append(("plain-interp", interp))
        # ... and safe-form starts with sign patterns.
        safe = _Search(grid, m, n, "safe")
        safe_thetas = [th for _, th in make_sk_starts(grid, safe.vnum, safe.model)]
        starts += make_signed_safe_starts(grid, safe_thetas, n, _SEED + 1)
        starts += [(f"{name}", th) for name, th in _chain_start(grid, m, n, "abs")]
        # Sign-pattern SK from the plain starts' patterns, from S >= 0 and S ~ x, and from
        # those with one more sign change at interior Chebyshev points (S(0) = 0 always).
        basis = search.model.basis
        seeds = [(k, np.where(basis @ th < 0, -1.0, 1.0)) for k, th in starts[:3]]
        odd = np.where(grid.x < 0, -1.0, 1.0)
        seeds += [("pos", np.ones_like(grid.x)), ("odd", odd)]
        if n >= 2:
            # ... and close to 0, where S also vanishes (softplus [6, 5] on [-5, 5]: 0.014).
            near = grid.radius * np.array([-0.01, -0.003, 0.003, 0.01])
            for j, r in enumerate([*_interior_points(grid, 7), *near]):
                flip = np.where(grid.x < r, -1.0, 1.0)
                seeds += [(f"pos-root{j}", flip), (f"odd-root{j}", odd * flip)]
        seen: list[_Array] = []
        for k, sg in seeds:
            th = solve_abs_sk(grid, search.vnum, basis, sg)
            if th is None:
                continue
            # Many seeds settle on the same S (up to S -> -S): run LM once per distinct start.
            if not any(min(_dist(th, u), _dist(th, -u)) <= 1e-9 for u in seen):
                seen.append(th)
                starts.append((f"abs-sk-{k}", th))
    elif form == "safe":
        return _safe_search(search, grid, m, n)
    else:
        starts += make_sk_starts(grid, search.vnum, search.model)
        interp = make_interp_start(grid, m, form, n)
        if interp is not None:
            starts.append(("interp", interp))
        starts += _chain_start(grid, m, n, form)
    starts.append(("ones", from_monomial_denominator(form, grid, np.ones(n))))
    for name, theta in starts:
        search.run(name, theta)
    best = search.best()
    if form == "plain" and best is not None and best.pole:
        # Every start ended with a pole on the range: restart from shrunken denominators.
        for factor in (0.5, 0.2, 0.05, 0.0):
            search.run(f"shrink-{factor:g}", factor * best.theta)
        best = search.best()
    if form == "abs":
        # As for plain: far optima (hardswish on [-8, 8], tsqrt_tanh) no linearised start finds.
        _random_restarts(
            search, make_abs_draw(grid, n), _MIN_RANDOM_PLAIN, _PATIENCE_PLAIN, screen=True
        )
        if n >= _ABS_SCALED_MIN_N:
            # ... and the basins of large, steep S (srelu [8, 8] on [-3, 3]: 2.2 % lower).
            _random_restarts(
                search, make_abs_scaled_draw(grid, n), _MIN_RANDOM_PLAIN, _PATIENCE_PLAIN,
                screen=True, prefix="scaled",
            )
        best = search.best()
    if form == "abs" and best is not None:
        sign = np.where(search.model.basis @ best.theta < 0, -1.0, 1.0)
        search.run("abs-sk-best", solve_abs_sk(grid, search.vnum, search.model.basis, sign))
        best = search.best()
    if form == "plain":
        # The plain form's optima on kinked targets can lie far from every linearised start.
        screen_vp = None
        if screen_grid is not None:
            screen_vp = make_varpro(screen_grid, m, n, form, fast_qr=True)
        _random_restarts(
            search,
            make_plain_draw(grid, search.model.basis),
            _MIN_RANDOM_PLAIN,
            _PATIENCE_PLAIN,
            screen=True,
            screen_vp=screen_vp,
        )
        best = search.best()
    if best is not None:
        rng = np.random.default_rng(_SEED)
        for i in range(3):
            scale = 0.3 * (1.0 + np.abs(best.theta))
            search.run(f"perturb-{i}", best.theta + scale * rng.standard_normal(n))
    return search


def _improves(cost: float, best: float) -> bool:
    return cost < best * (1.0 - _SAME) - 1e-300


def _random_restarts(
    search: _Search,
    draw: Any,
    least: int = _MIN_RANDOM,
    patience: int = _PATIENCE,
    screen: bool = False,
    prefix: str = "random",
    screen_vp: VarPro | None = None,
) -> None:
    """Seeded random starts ``draw(rng)`` until ``_PATIENCE`` in a row bring no improvement.

    At least ``least`` and at most ``_MAX_RANDOM`` starts; candidates with a pole do not
    count as improvements. The seed is fixed, so the fit is deterministic. ``screen_vp``: the
    problem on a coarser rule on which the short screening runs are made (and compared with
    the best point's cost on that rule); the starts that pass are polished on the full rule.
    """
    rng = np.random.default_rng(_SEED)
    best = search.best()
    best_cost = best.cost if best is not None and not best.pole else math.inf
    svp = search.vp if screen_vp is None else screen_vp
    screen_best = best_cost if screen_vp is None or best is None else svp.cost(best.theta)
    since = 0
    for i in range(_MAX_RANDOM):
        theta0 = draw(rng)
        since += 1
        if screen:
            # A short LM run first: only the starts that lead near the best, into a basin not
            # seen yet, are polished fully.
            theta0, _ = svp.polish(theta0, quick=True)
            passes = _passes_screen(search, svp, theta0, screen_best)
            if passes and screen_vp is not None:
                # On the coarse rule a full run is cheap: many of the starts that pass the
                # short run converge to a known optimum (gelu [5, 4]: 16 of 24), and need no
                # run on the full rule.
                theta0, _ = svp.polish(theta0)
                passes = _passes_screen(search, svp, theta0, screen_best)
            if not passes:
                search.screened += 1
                if since >= patience and i + 1 >= least:
                    break
                continue
        cand = search.run(f"{prefix}-{i}", theta0)
        if cand is not None and not cand.pole and _improves(cand.cost, best_cost):
            best_cost, since = cand.cost, 0
            screen_best = best_cost if screen_vp is None else svp.cost(cand.theta)
        if since >= patience and i + 1 >= least:
            break


def _passes_screen(search: _Search, vp: VarPro, theta: _Array, best: float) -> bool:
    """Whether a screened start is worth a full run: near the best cost, in no known basin."""
    if any(_dist(theta, c.theta) <= 1e-3 for c in search.candidates):
        return False
    return vp.cost(theta) <= best * _SCREEN


def _safe_search(search: _Search, grid: Grid, m: int, n: int) -> _Search:
    """The ``safe`` search: bound-constrained VarPro over ``c = |b| >= 0``, faces included.

    1. The linearised, interpolation, previous-order and all-ones starts.
    2. Random starts ``c_k = exp(N(1, 2.5))`` (fixed seed; the optima of wide ranges have
       ``c_k`` up to ``1e3`` in the scaled coordinates, far from every linearised start), until
       the best point has been reached again from ``_PATIENCE`` further starts without
       improvement, or ``_MAX_RANDOM`` starts.
    3. Greedy face moves from the best point: each ``c_k > 0`` set to 0 (onto a face), each
       ``c_k = 0`` released at a few magnitudes (off a face), repeated while one improves.
    """
    starts = [*make_sk_starts(grid, search.vnum, search.model)]
    interp = make_interp_start(grid, m, "safe", n)
    if interp is not None:
        starts.append(("interp", interp))
    starts += _chain_start(grid, m, n, "safe")
    starts.append(("ones", from_monomial_denominator("safe", grid, np.ones(n))))
    for name, theta in starts:
        search.run(name, theta)
    _random_restarts(search, lambda rng: np.exp(rng.normal(1.0, 2.5, n)))
    # LM on |θ| is several times cheaper than the bounded method but stalls at the kink a face
    # optimum is for it: finish the leaders with the bounded method.
    leaders: list[_Candidate] = []
    for cand in sorted(search.candidates, key=lambda c: c.cost):
        if not any(_dist(cand.theta, u.theta) <= 1e-6 for u in leaders):
            leaders.append(cand)
        if len(leaders) == _LEADERS:
            break
    for cand in leaders:
        search.run(f"{cand.name}-bounded", cand.theta, bounded=True)
    for sweep in range(3):
        best = search.best()
        if best is None:
            break
        improved = False
        for k in range(n):
            trials = []
            if best.theta[k] > 0.0:
                th = best.theta.copy()
                th[k] = 0.0
                trials.append((f"face{sweep}-drop{k}", th))
            else:
                for mag in (1.0, 30.0, 1e3):
                    th = best.theta.copy()
                    th[k] = mag
                    trials.append((f"face{sweep}-add{k}-{mag:g}", th))
            for name, th in trials:
                cand = search.run(name, th, bounded=True)
                if cand is not None and _improves(cand.cost, best.cost):
                    improved = True
        if not improved:
            break
    return search


def _optimality(vp: VarPro, form: str, n: int, starts: int, l2: float) -> dict[str, Any]:
    """What is proven about the optimum: settings ``optimality`` (+ ``lower_bound``, ``gap``)."""
    if n == 0:
        return {"optimality": "global: linear least squares (convex), solved exactly"}
    tried = f"best of {starts} starts: the lowest local minimum found from {starts} starting points"
    if form != "safe" or n > _BOUND_MAX_N or not l2 > 0:
        return {"optimality": f"{tried}; nonconvex, no global certificate (lower bound) computed"}
    lower, _, boxes = bound_safe_globally(vp, l2 * l2, cmax=_BOUND_CMAX)
    lb = math.sqrt(max(lower, 0.0))
    return {
        "optimality": f"{tried}; global within gap {1.0 - lb / l2:.2e} (relative, L2 on the "
        f"quadrature rule) over 0 <= b_k R^k <= {_BOUND_CMAX:g}, R = max(|a|, |b|): branch and "
        f"bound on a convex relaxation ({boxes} boxes)",
        "lower_bound": lb,
        "gap": 1.0 - lb / l2,
    }


# ------------------------------------------------------------------------------------------------
# The fitter
# ------------------------------------------------------------------------------------------------
def fit_lsq(
    target: Target | str,
    order: Sequence[int] = DEFAULT_ORDER,
    range: Sequence[float] = DEFAULT_RANGE,
    *,
    form: str = "safe",
    weight: str | Weight = "uniform",
    allow_poles: bool = False,
    progress: Progress | None = None,
    panels: int = _PANELS,
    nodes_per_panel: int = _NODES_PER_PANEL,
    tail: str = "free",
    dtype: str = "float32",
    **params: float,
) -> Fit:
    """Return the least-squares rational fit of ``target`` of type [m, n] on ``range``.

    Minimises the continuous weighted L2 error ``∫ w (f - P/Q)^2`` by variable projection (Golub
    & Pereyra 1973; Kaufman 1975) with Levenberg–Marquardt, started from Loeb's and
    Sanathanan–Koerner's (1963) linearised solutions, a multipoint Padé interpolant, the previous
    orders and deterministic perturbations (``safe``: seeded random starts, bound-constrained
    polishing over ``|b_k| >= 0`` and face moves); the best is returned. This is the best of the
    starts tried, not a certified global optimum (``settings["optimality"]`` says so). See the
    module docstring for the details, including how each denominator form is handled.

    Args:
        target: The function to approximate: a :class:`~actfit.targets.Target`, a registry name
            (``"gelu"``) or an expression in ``x`` (``"x*tanh(x)"``).
        order: ``(m, n)``, numerator and denominator degrees, each in ``0..12``.
        range: The fit interval ``(a, b)``, finite, ``a < b``.
        form: Denominator form ``plain``, ``safe`` (default) or ``abs`` (aliases N, A, B).
        weight: ``"uniform"``, ``"normal[:mu,sigma]"``, an expression in ``x`` (a density
            ``>= 0`` on the range) or a :class:`~actfit.approx.weights.Weight`.
        allow_poles: Keep a ``plain`` fit whose denominator vanishes on the range.
        progress: Called as ``progress(stage, fraction_done)`` at the start, after the
            multi-start search and at the end.
        panels: Quadrature panels per smooth piece of the range.
        nodes_per_panel: Gauss–Legendre nodes per panel.
        tail: ``"free"`` (the unconstrained optimum, which may grow like ``x^(m - n_eff)``
            outside the range when top denominator coefficients vanish), ``"linear"``
            (``m <= n + 1``; plain: even ``n``): the top denominator coefficient is kept at
            ``lead(Q) R^n >= TAIL_FLOOR`` (``R = max(|a|, |b|)``; ``lead(Q) = b_n`` plain,
            ``|b_n|`` safe and abs; at ``|x| = R`` the top term adds at least 1% to
            ``Q(0) = 1``) and, in the plain form, ``Q > 0`` on the whole real line, so ``r``
            grows at most linearly; or ``"match"`` (``m = n + 1``): linear, and in addition
            ``a_{n+1} = s lead(Q)`` so that the slope at ``+inf`` is the target's ``s``
            (:func:`~actfit.approx.tail_spec.plan_match` says what happens at ``-inf``). The
            constrained optimum is polished from the free one (see
            :mod:`actfit.approx.lsq_tail`; the free one is kept when it already satisfies the
            constraint), and ``settings["tail"]`` records the constraint, whether it was
            ``active`` and its cost: ``error_free`` and ``error_tail``, the weighted L2 errors
            on the range without and with it (``match``: also the slope plan).
        dtype: ``plain`` only, ignored with ``allow_poles``: the dtype the table is meant for
            (``float64``, ``float32``, ``float16``, ``bfloat16``); a table that may lose more
            than half of its digits there is refitted with a bound on the rounding amplification
            (:func:`~actfit.approx.lsq_floor.guard_lsq`; ``settings["q_bound"]`` gives the cost).
        **params: The target's parameters when it is given by name (``slope=0.1``).

    Returns:
        The :class:`~actfit.fit.Fit` with method ``"lsq"``; its settings record the weight, the
        quadrature rule, the starts tried, the winning start, the LM evaluations, the
        objective (the weighted L2 error ``sqrt(∫ w (f - r)^2)``) and ``optimality``, what is
        proven about the optimum ("best of N starts" or, for ``n = 0``, "global"; for ``safe``
        with ``n <= 2`` also ``lower_bound`` and ``gap`` from a branch and bound).

    Raises:
        UnknownTargetError: A name that is neither in the registry nor an expression.
        ExpressionError: An invalid expression.
        ParameterError: Parameters the target does not have, or given with a ready-made
            Target; a weight that is malformed, negative, non-finite or zero on the range;
            ``tail="match"`` for a target without an asymptotic slope (``x^2``).
        OrderError: ``m`` or ``n`` outside ``0..12`` or not integers; a tail the order or
            form cannot have (:func:`~actfit.approx.tail_spec.check_tail`: ``linear`` with
            ``n = 0`` or ``m > n + 1``, ``match`` with ``m != n + 1``, either plain with odd
            ``n``).
        RangeError: The range is not finite or ``a >= b``.
        FormError: An unknown denominator form.
        TargetDomainError: The target is not finite on the range.
        PoleError: A ``plain`` fit has a pole on the range and ``allow_poles`` is False.
        FitError: ``tail`` ``linear``/``match`` in the plain form and no candidate denominator
            without a real zero was found (the safe form has none).

    Warns:
        RuntimeWarning: Levenberg–Marquardt stopped at its evaluation limit on the best start.

    Examples:
        >>> fit = fit_lsq("tanh", (3, 2), (-2.0, 2.0))
        >>> fit.rational.form, fit.rational.degree
        ('safe', (3, 2))
        >>> fit_lsq("leaky_relu", (3, 2), slope=0.1).target.params
        (('slope', 0.1),)
    """
    target = as_target(target, params)
    m, n = check_order(order)
    a, b = as_range(range)
    form = require_fit_form(form)
    tail = check_tail(tail, form, m, n)
    plan = plan_match(target, form, n) if tail == "match" else None
    check_finite(target, a, b)
    w = parse_weight(weight)
    stage = f"lsq {target.label}"
    if progress is not None:
        progress(stage, 0.0)
    rational, settings, converged = _fit(
        target, m, n, a, b, form, w, panels, nodes_per_panel, progress, stage, tail, plan
    )
    rational, settings = guard_lsq(target, w, rational, settings, (m, n), (a, b), dtype=dtype,
                                   allow_poles=allow_poles, panels=panels,
                                   nodes_per_panel=nodes_per_panel)
    if not converged:
        warnings.warn(
            f"lsq [{m}, {n}] ({form}): Levenberg-Marquardt reached its evaluation limit before "
            "converging; the fit may be improvable (try another order or range)",
            RuntimeWarning,
            stacklevel=2,
        )
    fit = make_fit(
        target,
        rational,
        method="lsq",
        settings=settings,
        range=(a, b),
        allow_poles=allow_poles,
    )
    if progress is not None:
        progress(stage, 1.0)
    return fit


def _fit(
    target: Any,
    m: int,
    n: int,
    a: float,
    b: float,
    form: str,
    w: Weight,
    panels: int,
    nodes_per_panel: int,
    progress: Progress | None = None,
    stage: str = "lsq",
    tail: str = "free",
    plan: SlopePlan | None = None,
) -> tuple[Rational, dict[str, Any], bool]:
    """The fit proper on validated inputs: ``(rational, settings, converged)``."""
    kinks = tuple(float(k) for k in getattr(target, "kinks", ()))
    base = set(kinks) | set(w.kinks)
    if form != "plain" and n > 0:
        base.add(0.0)
    breakpoints = tuple(sorted(base))
    grid = make_grid(target, w, a, b, breakpoints, panels, nodes_per_panel)
    screen_grid = None
    if form == "plain" and panels > _SCREEN_PANELS:
        screen_grid = make_grid(target, w, a, b, breakpoints, _SCREEN_PANELS, nodes_per_panel)

    search = _search(grid, m, n, form, screen_grid)
    if progress is not None:
        progress(stage, 0.8)
    best = search.best()
    if best is None:  # pragma: no cover - every start failed to evaluate
        best = _Candidate("zero", np.zeros(n), search.vp.cost(np.zeros(n)))
    refiner = Refiner(target, w, grid, search.vp, m, form)
    if form == "abs" and n > 0:
        # The base rule cannot see features narrower than its node spacing, which 1 + |S| has
        # when S has a sign change close to another: rank the candidates on rules split at
        # their own sign changes, and polish the leaders there.
        ranked = sorted(search.candidates, key=lambda c: refiner.cost(c.theta))
        finals = []
        for cand in ranked[:3]:
            th, status = cand.theta, 0
            for _ in range(2):
                th, status = refiner.vp_for(th).polish(th, tight=True)
            finals.append((refiner.cost(th), cand.name, th, status, cand))
        _, _, theta, status, best = min(finals, key=lambda f: (f[0], f[1]))
    elif form == "safe":
        theta, status = search.vp.polish_bounded(best.theta, tight=True)
    else:
        theta, status = search.vp.polish(best.theta, tight=True)
    if form == "safe":
        theta = snap_to_faces(search.vp, np.abs(theta))
    theta, newton_steps = refiner.refine(theta)
    vp = refiner.vp_for(theta)
    grid = vp.grid
    rational, conversion, l2 = to_monomial_rational(grid, m, form, vp, theta)
    tail_info: dict[str, Any] = {}
    if tail != "free":
        # The constrained optimum, from the free one (which it is when that is admissible).
        free = (rational, conversion, l2, vp, newton_steps)
        done = constrain_tail(refiner, theta, free, tail=tail, form=form, m=m, n=n, plan=plan)
        rational, conversion, l2, vp = done.rational, done.conversion, done.l2, done.vp
        newton_steps, tail_info, grid = done.newton_steps, done.info, done.vp.grid
    settings: dict[str, Any] = {
        "weight": w.spec,
        "objective": "weighted L2 error sqrt(integral of w (f - r)^2 over the range)",
        "quadrature": {
            "rule": "composite Gauss-Legendre",
            "panels": panels,
            "nodes_per_panel": nodes_per_panel,
            "breakpoints": list(grid.breakpoints),
            "nodes": int(grid.x.size),
        },
        "algorithm": "variable projection (Golub-Pereyra) + Levenberg-Marquardt + Newton, "
        "Chebyshev basis",
        "starts": [c.name for c in search.candidates],
        "best_start": best.name,
        "iterations": {
            "evaluations": refiner.evaluations()
            + (0 if screen_grid is None else screen_grid.nfev),
            "final_lm_status": status,
            "newton_steps": newton_steps,
        },
        "l2_error": l2,
        "coefficients": conversion,
    }
    settings.update(_optimality(vp, form, n, len(search.candidates) + search.screened, l2))
    if tail != "free":
        settings["tail"] = tail_info
    if form == "plain":
        settings["rejected_with_poles"] = [c.name for c in search.candidates if c.pole]
    return rational, settings, status != 0 or newton_steps > 0

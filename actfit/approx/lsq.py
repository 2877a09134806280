"""Least-squares rational fits: the global continuous-L2 optimum of ``P/Q`` on a range.

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

*Global, not local.* The objective has many local minima, so LM is started from several points
and the best is kept (all starts and the winner are recorded in ``settings``):

* ``loeb``, ``sk`` and ``interp`` (see :mod:`actfit.approx.starts`);
* ``order-k``: the previous orders — the chain ``[m, 0] → [m, 1] → ... → [m, n - 1]``, each
  level polished by VarPro and padded with a zero for the next;
* ``ones``: the all-ones coefficients that naive fits start from;
* ``perturb-i``: deterministic perturbations (fixed seed) of the best point so far;
* for ``abs`` additionally the ``plain`` starts, the ``safe`` Loeb/SK denominators with sign
  patterns, and sign-pattern SK starts seeded with ``S >= 0``, ``S ~ x``, those with one more
  sign change at interior Chebyshev points, the plain starts' patterns and, after the first
  round, the best candidate's pattern. Because the base rule cannot see the narrow features
  ``1 + |S|`` has near a double sign change, the three leaders are ranked and polished on rules
  split at their own sign changes.

*Poles (plain form).* A pole makes the L2 integral infinite. A zero of ``Q`` at a node gives a
huge residual, so LM steps do not cross one; every plain candidate whose ``Q`` still has a zero on
``[a, b]`` (Chebyshev companion roots) or is ``<= 0`` at a node is rejected, and the best
pole-free candidate wins. If every candidate has a pole, the search restarts from the best
denominators shrunk towards ``Q = 1`` (factors 0.5, 0.2, 0.05, 0); only if those fail as well is
the best candidate with a pole returned (and :func:`actfit.fit.make_fit` raises
:class:`~actfit.errors.PoleError` unless ``allow_poles``).

References:
    G. H. Golub and V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least
    squares problems whose variables separate", SIAM J. Numer. Anal. 10 (1973), 413–432.
    L. Kaufman, "A variable projection method for solving separable nonlinear least squares
    problems", BIT 15 (1975), 49–57.
    C. K. Sanathanan and J. Koerner, "Transfer function synthesis as a ratio of two complex
    polynomials", IEEE Trans. Automatic Control 8 (1963), 56–58.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.monomial import from_monomial_denominator, to_monomial_rational
from actfit.approx.starts import (
    make_interp_start,
    make_signed_safe_starts,
    make_sk_starts,
    solve_abs_sk,
)
from actfit.approx.varpro import Grid, Model, Refiner, VarPro, make_grid, make_varpro
from actfit.approx.weights import Weight, parse_weight
from actfit.fit import Fit, make_fit
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE, Progress, as_range, check_order
from actfit.rational import Rational, require_fit_form
from actfit.targets import Target, as_target, check_finite

__all__ = ["fit_lsq"]

_PANELS = 6
_NODES_PER_PANEL = 20
_SEED = 20240611
_Array = NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# The multi-start search
# ------------------------------------------------------------------------------------------------
def _plain_has_pole(grid: Grid, theta: _Array, q_nodes: _Array) -> bool:
    """Whether a ``plain`` ``Q`` is ``<= 0`` at a node or has a real root on the range."""
    if theta.size == 0:
        return False
    if not np.all(q_nodes > 0):
        return True
    v0 = _cheb.chebvander(np.array([grid.t0]), theta.size)[0, 1:]
    q_cheb = np.concatenate([[1.0 - float(v0 @ theta)], theta])
    roots = _cheb.chebroots(q_cheb)
    real = roots[np.abs(roots.imag) <= 1e-8 * (1.0 + np.abs(roots.real))].real
    return bool(np.any((real >= -1.0 - 1e-12) & (real <= 1.0 + 1e-12)))


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

    def __post_init__(self) -> None:
        self.vp = make_varpro(self.grid, self.m, self.n, self.form)
        self.vnum = self.vp.vnum
        self.model = self.vp.model

    def run(self, name: str, theta0: _Array | None) -> _Candidate | None:
        if theta0 is None or theta0.size != self.n or not np.all(np.isfinite(theta0)):
            return None
        theta, status = self.vp.polish(theta0)
        self.statuses[name] = status
        cost = self.vp.cost(theta)
        pole = False
        if self.form == "plain":
            q, _ = self.model.q(theta)
            pole = _plain_has_pole(self.grid, theta, q)
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


def _search(grid: Grid, m: int, n: int, form: str) -> _Search:
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
            for j, r in enumerate(_interior_points(grid, 7)):
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
    if form == "abs" and best is not None:
        sign = np.where(search.model.basis @ best.theta < 0, -1.0, 1.0)
        search.run("abs-sk-best", solve_abs_sk(grid, search.vnum, search.model.basis, sign))
        best = search.best()
    if best is not None:
        rng = np.random.default_rng(_SEED)
        for i in range(3):
            scale = 0.3 * (1.0 + np.abs(best.theta))
            search.run(f"perturb-{i}", best.theta + scale * rng.standard_normal(n))
    return search


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
    **params: float,
) -> Fit:
    """Return the least-squares rational fit of ``target`` of type [m, n] on ``range``.

    Minimises the continuous weighted L2 error ``∫ w (f - P/Q)^2`` by variable projection (Golub
    & Pereyra 1973; Kaufman 1975) with Levenberg–Marquardt, started from Loeb's and
    Sanathanan–Koerner's (1963) linearised solutions, a multipoint Padé interpolant, the previous
    orders and deterministic perturbations; the best is returned. See the module docstring for
    the details, including how each denominator form is handled.

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
        **params: The target's parameters when it is given by name (``slope=0.1``).

    Returns:
        The :class:`~actfit.fit.Fit` with method ``"lsq"``; its settings record the weight, the
        quadrature rule, the starts tried, the winning start, the LM evaluations and the
        objective (the weighted L2 error ``sqrt(∫ w (f - r)^2)``).

    Raises:
        UnknownTargetError: A name that is neither in the registry nor an expression.
        ExpressionError: An invalid expression.
        ParameterError: Parameters the target does not have, or given with a ready-made
            Target; a weight that is malformed, negative, non-finite or zero on the range.
        OrderError: ``m`` or ``n`` outside ``0..12`` or not integers.
        RangeError: The range is not finite or ``a >= b``.
        FormError: An unknown denominator form.
        TargetDomainError: The target is not finite on the range.
        PoleError: A ``plain`` fit has a pole on the range and ``allow_poles`` is False.

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
    check_finite(target, a, b)
    w = parse_weight(weight)
    stage = f"lsq {target.label}"
    if progress is not None:
        progress(stage, 0.0)
    rational, settings, converged = _fit(
        target, m, n, a, b, form, w, panels, nodes_per_panel, progress, stage
    )
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
) -> tuple[Rational, dict[str, Any], bool]:
    """The fit proper on validated inputs: ``(rational, settings, converged)``."""
    kinks = tuple(float(k) for k in getattr(target, "kinks", ()))
    base = set(kinks) | set(w.kinks)
    if form != "plain" and n > 0:
        base.add(0.0)
    breakpoints = tuple(sorted(base))
    grid = make_grid(target, w, a, b, breakpoints, panels, nodes_per_panel)

    search = _search(grid, m, n, form)
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
    else:
        theta, status = search.vp.polish(best.theta, tight=True)
    if form == "safe":
        theta = np.abs(theta)
    theta, newton_steps = refiner.refine(theta)
    vp = refiner.vp_for(theta)
    grid = vp.grid
    rational, conversion, l2 = to_monomial_rational(grid, m, form, vp, theta)
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
            "evaluations": refiner.evaluations(),
            "final_lm_status": status,
            "newton_steps": newton_steps,
        },
        "l2_error": l2,
        "coefficients": conversion,
    }
    if form == "plain":
        settings["rejected_with_poles"] = [c.name for c in search.candidates if c.pole]
    return rational, settings, status != 0 or newton_steps > 0

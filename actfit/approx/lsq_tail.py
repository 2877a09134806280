"""The tail constraints of the least-squares fitter: ``tail="linear"`` and ``tail="match"``.

What the options ask, form by form, is in :mod:`actfit.approx.tail_spec`; this module solves the
constrained least-squares problems, started from the free optimum.

*linear.* With ``m <= n + 1``, ``r`` grows at most linearly exactly when the top denominator
coefficient is non-zero (and, in the plain form, ``Q`` has no real zero: a plain ``Q`` with
``b_n > 0`` and even ``n`` can still vanish outside the range, as gelu's free [5, 4] plain fit
does at ``x = ±5.0``). The free L2 optimum often puts the top coefficient at 0 (gelu [5, 4] safe:
``b4 = 0``, the table grows like ``x^2``). The constraint is one bound in the internal
coordinates of :mod:`actfit.approx.varpro`: ``lead(Q) R^n >= TAIL_FLOOR`` is

* safe (``Q = 1 + Σ c_k s^k``, ``s = |x| / R``): ``c_n >= TAIL_FLOOR`` (and ``c_k >= 0``);
* plain, abs (``S = Σ θ_k (T_k(t) - T_k(t_0))``, ``t = (x - mid) / h``): ``T_n`` leads with
  ``2^(n-1) t^n``, so ``b_n R^n = κ θ_n`` with ``κ = 2^(n-1) (R / h)^n`` and the bound is
  ``θ_n >= TAIL_FLOOR / κ``; for abs after choosing the sign of ``S`` (``S`` and ``-S`` give the
  same ``Q``). A plain candidate whose ``Q`` has a real zero anywhere on the line is rejected;
  the search also tries starts with even-power denominators (``1 + Σ |b_2k| x^2k`` has none),
  and when every optimum found still has a real zero (outside the range, where the L2
  objective does not see it: swish [7, 6] match on [-3, 3]) it solves again with hinge rows
  that keep ``Q / (1 + (x/R)^n) >= 1e-3`` at 2 x 400 points ``|x| / R`` from 1 to ``1e4``
  (zero where satisfied, so they change nothing at an admissible point). If that fails too,
  :class:`~actfit.errors.FitError` names the safe form, whose ``Q >= 1``.

*match.* In addition ``a_{n+1} = s lead(Q)`` (``s`` from :func:`~actfit.approx.tail_spec.
plan_match`). The numerator is a Chebyshev series in ``t``, whose top term alone carries
``x^{n+1}``, so the constraint fixes ``α_{n+1} = s lead(Q) h^{n+1} / 2^n``: that column leaves
the linear least-squares part and ``α_{n+1} T_{n+1}(t) / Q`` joins the data as a known part
depending on ``θ``. The problem stays a variable-projection problem over ``θ`` (Golub & Pereyra
1973), with residual ``P⊥(θ) (y - α_{n+1}(θ) w(θ))``; its exact Jacobian is the Golub-Pereyra one
for that data plus ``P⊥`` times the data's derivative.

Both problems are solved by the bound-constrained trust-region reflective method (Branch,
Coleman & Li 1999, :func:`scipy.optimize.least_squares`) from the free optimum with the top
coefficient lifted to 1, 10 and 100 times the floor (plain: also shrunk and even-power starts);
the constraint is a bound, so the method keeps every iterate feasible;
the best admissible point is kept, Newton-refined (:class:`~actfit.approx.varpro.Refiner`) where
that keeps it admissible (linear), and converted to monomials with the constraint kept exactly.
When the free optimum already satisfies the constraint it is returned unchanged.

References:
    G. H. Golub and V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least
    squares problems whose variables separate", SIAM J. Numer. Anal. 10 (1973), 413-432.
    M. A. Branch, T. F. Coleman and Y. Li, "A subspace, interior, and conjugate gradient method
    for large-scale bound-constrained minimization problems", SIAM J. Sci. Comput. 21 (1999),
    1-23.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.monomial import (
    from_monomial_denominator,
    to_monomial_denominator,
    to_monomial_rational,
)
from actfit.approx.tail_spec import TAIL_FLOOR, TAILS, SlopePlan, check_tail
from actfit.approx.varpro import Grid, Refiner, VarPro, eval_denominator_basis
from actfit.errors import FitError
from actfit.rational import Rational

__all__ = ["TAILS", "TAIL_FLOOR", "TailFit", "check_tail", "constrain_tail", "linear_tail"]

_Array = NDArray[np.float64]
_LIFTS = (1.0, 10.0, 100.0)
_SHRINKS = (0.5, 0.2, 0.0)
_GUARD_MARGIN = 1e-3
_GUARD_REACH = 1e4
_GUARD_POINTS = 400


def _lead_scale(form: str, grid: Grid, n: int) -> float:
    """``κ`` with ``lead(Q) R^n = κ |θ_n|`` (safe: 1; plain, abs: ``2^(n-1) (R / h)^n``)."""
    if form == "safe":
        return 1.0
    half = 0.5 * (grid.b - grid.a)
    return 2.0 ** (n - 1) * (grid.radius / half) ** n


def _num_scale(grid: Grid, m: int) -> float:
    """``h^m / 2^(m-1)``: ``α_m`` of the Chebyshev numerator per unit of ``a_m``."""
    half = 0.5 * (grid.b - grid.a)
    return half**m / 2.0 ** (m - 1)


def _q_positive(grid: Grid, theta: _Array) -> bool:
    """Whether a plain ``Q = 1 + S(θ)`` is positive on the whole real line.

    In the Chebyshev coordinates of the fit: positive leading coefficient, even degree, no real
    root, and positive at every real critical point (a double root shows as a complex pair).
    """
    n = theta.size
    if n == 0:
        return True
    if n % 2 or not theta[-1] > 0:
        return False
    v0 = _cheb.chebvander(np.array([grid.t0]), n)[0, 1:]
    q = np.concatenate([[1.0 - float(v0 @ theta)], theta])
    roots = _cheb.chebroots(q)
    if np.any(np.abs(roots.imag) <= 1e-8 * (1.0 + np.abs(roots.real))):
        return False
    crit = _cheb.chebroots(_cheb.chebder(q))
    near = crit[np.abs(crit.imag) <= 1e-3 * (1.0 + np.abs(crit.real))].real
    return bool(np.all(_cheb.chebval(near, q) > 0.0)) if near.size else True


class _Problem:
    """The constrained problem on one rule: projected residual, Jacobian and bounds.

    ``slope`` None: the plain VarPro residual (``linear``); a number: the top numerator
    coefficient tied to ``slope * lead(Q)`` and moved to the known part (``match``).
    """

    def __init__(
        self, vp: VarPro, form: str, m: int, n: int, slope: float | None, guard: bool = False
    ) -> None:
        self.vp, self.form, self.m, self.n, self.slope = vp, form, m, n, slope
        self.grid = vp.grid
        self.kappa = _lead_scale(form, self.grid, n)
        self.lower = np.full(n, 0.0 if form == "safe" else -np.inf)
        self.lower[n - 1] = TAIL_FLOOR / self.kappa
        self._key: bytes | None = None
        self._state: tuple[Any, ...] = ()
        self.guard: tuple[_Array, _Array, float] | None = None
        if guard:
            # Plain: hinge rows that keep Q / (1 + u^n) >= _GUARD_MARGIN at points u = x / R
            # outside the range, out to _GUARD_REACH (Q's real zeros lie there).
            g = self.grid
            u = np.geomspace(1.0, _GUARD_REACH, _GUARD_POINTS)
            x = g.radius * np.concatenate([-u, u])
            x = x[(x < g.a) | (x > g.b)]
            t = (x - 0.5 * (g.a + g.b)) / (0.5 * (g.b - g.a))
            basis = eval_denominator_basis("plain", g, x, t, n)
            norm = 1.0 + (np.abs(x) / g.radius) ** n
            weight = float(np.linalg.norm(g.y)) + 1e-300
            self.guard = (basis / norm[:, None], 1.0 / norm, weight)

    def _hinge(self, theta: _Array) -> tuple[_Array, _Array]:
        """The guard rows' residual and Jacobian (zero where ``Q`` keeps the margin)."""
        assert self.guard is not None
        basis, inv, weight = self.guard
        gap = inv + basis @ theta - _GUARD_MARGIN  # Q / (1 + u^n) - margin
        short = gap < 0
        return weight * np.where(short, gap, 0.0), weight * basis * short[:, None]

    def _alpha_top(self, theta: _Array) -> tuple[float, _Array]:
        """``α_m(θ) = s lead(Q) h^m / 2^(m-1)`` and its gradient in ``θ``."""
        assert self.slope is not None
        c = self.slope * self.kappa / self.grid.radius**self.n * _num_scale(self.grid, self.m)
        top = theta[-1]
        grad = np.zeros(self.n)
        if self.form == "plain":
            grad[-1] = c
            return c * top, grad
        grad[-1] = c * (1.0 if top >= 0 else -1.0)
        return c * abs(top), grad

    def _eval(self, theta: _Array) -> tuple[Any, ...]:
        key = theta.tobytes()
        if key == self._key:
            return self._state
        g = self.grid
        g.nfev += 1
        q, dq = self.vp.model.q(theta)
        with np.errstate(all="ignore"):
            scale = g.sw / q
            vnum = self.vp.vnum[:, : self.m] if self.slope is not None else self.vp.vnum
            amat = scale[:, None] * vnum
            u, rfac = np.linalg.qr(amat)
            if self.slope is None:
                z, top, dtop, w = g.y, 0.0, np.zeros(self.n), np.zeros_like(g.y)
            else:
                top, dtop = self._alpha_top(theta)
                w = scale * self.vp.vnum[:, self.m]
                z = g.y - top * w
            c = u.T @ z
            yhat = u @ c
            r = z - yhat
        self._key = key
        self._state = (q, dq, u, rfac, c, yhat, r, top, dtop, w)
        return self._state

    def residual(self, theta: _Array) -> _Array:
        r = self._eval(theta)[6]
        r = r if np.all(np.isfinite(r)) else np.where(np.isfinite(r), r, 1e150)
        return r if self.guard is None else np.concatenate([r, self._hinge(theta)[0]])

    def jacobian(self, theta: _Array) -> _Array:
        q, dq, u, _, _, yhat, r, top, dtop, w = self._eval(theta)
        with np.errstate(all="ignore"):
            gq = dq / q[:, None]
            x1 = gq * yhat[:, None]
            jac = x1 - u @ (u.T @ x1) + u @ (u.T @ (gq * r[:, None]))
            if self.slope is not None:
                # d z / dθ = -(dα_m w + α_m dw), dw = -G ∘ w; projected by P⊥.
                dz = -(w[:, None] * dtop[None, :]) + top * (gq * w[:, None])
                jac += dz - u @ (u.T @ dz)
        jac = np.nan_to_num(jac, nan=0.0, posinf=1e150, neginf=-1e150)
        return jac if self.guard is None else np.vstack([jac, self._hinge(theta)[1]])

    def objective(self, theta: _Array) -> float:
        """What :meth:`solve` minimises: :meth:`cost` plus the guard rows."""
        r = self.residual(theta)
        val = float(r @ r)
        return val if math.isfinite(val) else math.inf

    def cost(self, theta: _Array) -> float:
        r = self._eval(theta)[6]
        val = float(r @ r)
        return val if math.isfinite(val) else math.inf

    def numerator(self, theta: _Array) -> _Array:
        """The Chebyshev numerator coefficients ``α_0..α_m`` at ``θ``."""
        _, _, _, rfac, c, _, _, top, _, _ = self._eval(theta)
        alpha = np.linalg.solve(rfac, c) if rfac.size else np.zeros(0)
        return alpha if self.slope is None else np.concatenate([alpha, [top]])

    def feasible(self, theta: _Array) -> bool:
        top = theta[-1] if self.form == "plain" else abs(theta[-1])
        ok = top * self.kappa >= TAIL_FLOOR * (1.0 - 1e-12) and math.isfinite(self.cost(theta))
        return ok and (self.form != "plain" or _q_positive(self.grid, theta))

    def solve(self, theta0: _Array) -> _Array:
        """Trust-region reflective least squares from ``θ0`` on the bounds (Branch et al.)."""
        from scipy.optimize import least_squares

        theta0 = np.maximum(np.asarray(theta0, dtype=np.float64), self.lower)
        if not math.isfinite(self.objective(theta0)):
            return theta0
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = least_squares(
                self.residual,
                theta0,
                jac=self.jacobian,
                bounds=(self.lower, np.inf),
                method="trf",
                ftol=1e-15,
                xtol=1e-15,
                gtol=1e-15,
                max_nfev=400 * (self.n + 1),
                x_scale="jac",
            )
        theta = np.maximum(res.x, self.lower)
        return theta if self.objective(theta) <= self.objective(theta0) else theta0


@dataclass
class TailFit:
    """The constrained fit: what :func:`actfit.approx.lsq.fit_lsq` reports.

    Attributes:
        rational: the monomial rational.
        conversion: how its monomial coefficients were obtained.
        l2: its weighted L2 error on the rule ``vp`` uses.
        vp: the projected (free) problem on that rule.
        theta: the internal denominator parameters.
        newton_steps: Newton steps that refined it (0 when none kept the constraint).
        info: ``settings["tail"]``.
    """

    rational: Rational
    conversion: str
    l2: float
    vp: VarPro
    theta: _Array
    newton_steps: int
    info: dict[str, Any]


def _normalise(form: str, theta: _Array) -> _Array:
    """abs: ``S`` and ``-S`` give the same ``Q``; choose ``θ_n >= 0``. safe: ``|θ|``."""
    if form == "safe":
        return np.abs(theta)
    if form == "abs" and theta.size and theta[-1] < 0:
        return -theta
    return theta.copy()


def _starts(problem: _Problem, theta: _Array, grid: Grid) -> list[_Array]:
    lo = problem.lower[-1]
    out = []
    for lift in _LIFTS:
        th = theta.copy()
        th[-1] = max(th[-1], lift * lo)
        out.append(th)
    if problem.form == "plain":
        for factor in _SHRINKS:
            th = factor * theta
            th[-1] = max(th[-1], 10.0 * lo)
            out.append(th)
        # Even powers only with |b_2k|: 1 + Σ |b_2k| x^2k has no real zero.
        den = to_monomial_denominator("plain", grid, theta)
        even = np.where(np.arange(1, den.size + 1) % 2 == 0, np.abs(den), 0.0)
        for lift in _LIFTS[:2]:
            ev = even.copy()
            ev[-1] = max(ev[-1], lift * TAIL_FLOOR / grid.radius**den.size)
            out.append(from_monomial_denominator("plain", grid, ev))
    return out


def _constraint_text(form: str, m: int, n: int, radius: float, plan: SlopePlan | None) -> str:
    lead = f"b_{n}" if form == "plain" else f"|b_{n}|"
    text = f"{lead} R^{n} >= {TAIL_FLOOR:g}, R = {radius:g}"
    if form == "plain":
        text += ", and Q > 0 on the whole real line"
    if plan is not None:
        text += f"; a_{m} = {plan.slope:g} * {lead} (slope {plan.slope:g} at +inf)"
    return text


def _match_rational(problem: _Problem, theta: _Array) -> tuple[Rational, str, float]:
    """Monomial coefficients with ``a_m = s lead(Q)`` kept exactly: the converted Chebyshev
    numerator, or a monomial solve for ``a_0..a_{m-1}`` with ``a_m`` fixed, whichever is closer."""
    assert problem.slope is not None
    grid, m, form = problem.grid, problem.m, problem.form
    den = to_monomial_denominator(form, grid, theta)
    lead = float(den[-1]) if form == "plain" else abs(float(den[-1]))
    top = problem.slope * lead
    options = []
    num = cheb_to_monomial(problem.numerator(theta), grid.a, grid.b)
    num[m] = top
    options.append(("converted", Rational(num, den, form)))
    q = options[0][1].denominator_at(grid.x)
    if np.all(np.abs(q) > 0):
        vand = np.polynomial.polynomial.polyvander(grid.x, m) * (grid.sw / q)[:, None]
        rhs = grid.y - top * vand[:, m]
        norms = np.linalg.norm(vand[:, :m], axis=0)
        norms[norms == 0] = 1.0
        sol = np.linalg.lstsq(vand[:, :m] / norms, rhs, rcond=None)[0] / norms
        options.append(("monomial-solve", Rational(np.concatenate([sol, [top]]), den, form)))
    best = None
    for how, rat in options:
        with np.errstate(all="ignore"):
            res = grid.sw * (grid.f - rat(grid.x))
        err = float(np.sqrt(res @ res))
        if math.isfinite(err) and (best is None or err < best[2]):
            best = (rat, how, err)
    assert best is not None
    return best


def _admissible(rational: Rational, form: str, n: int, radius: float) -> bool:
    lead = float(rational.denominator[n - 1])
    lead = lead if form == "plain" else abs(lead)
    ok = lead * radius**n >= TAIL_FLOOR * (1.0 - 1e-9)
    return ok and (form != "plain" or rational.real_poles().size == 0)


def constrain_tail(
    refiner: Refiner,
    theta_free: _Array,
    free: tuple[Rational, str, float, VarPro, int],
    *,
    tail: str,
    form: str,
    m: int,
    n: int,
    plan: SlopePlan | None = None,
) -> TailFit:
    """Return the fit with ``tail`` (``"linear"`` or ``"match"``) nearest the free optimum.

    Args:
        refiner: the fitter's refiner (its base rule and, for abs, the rules split at the sign
            changes of ``S``).
        theta_free: the free optimum's internal parameters.
        free: the free fit ``(rational, conversion, l2, vp, newton_steps)``.
        tail: ``"linear"`` or ``"match"`` (checked by :func:`check_tail`).
        form: the denominator form.
        m: numerator degree.
        n: denominator degree.
        plan: what ``match`` imposes (:func:`~actfit.approx.tail_spec.plan_match`).

    Raises:
        FitError: a plain-form table with the tail asked for was not found (every candidate
            denominator has a real zero).
    """
    rational_free, conv_free, l2_free, vp_free, steps_free = free
    slope = plan.slope if tail == "match" and plan is not None else None
    base = _Problem(refiner.base_vp, form, m, n, slope)
    theta = _normalise(form, theta_free)
    radius = refiner.base.radius
    info: dict[str, Any] = {
        "kind": tail,
        "constraint": _constraint_text(form, m, n, radius, plan if slope is not None else None),
        "floor": TAIL_FLOOR,
        "measure": "L2",
    }
    if slope is not None:
        assert plan is not None
        info["match"] = plan.to_dict()
    linear_ok = base.feasible(theta) and m <= n + 1
    grown = rational_free.denominator[n - 1] if rational_free.degree[1] == n else 0.0
    slope_ok = slope is None or (
        m == n + 1
        and grown != 0.0
        and abs(rational_free.numerator[m] / (grown if form == "plain" else abs(grown)) - slope)
        <= 1e-12 * max(1.0, abs(slope))
    )
    if linear_ok and slope_ok:
        info.update(_costs(tail, l2_free, l2_free, active=False))
        return TailFit(rational_free, conv_free, l2_free, vp_free, theta_free, steps_free, info)

    best, best_cost = None, math.inf
    starts = _starts(base, theta, refiner.base)
    for start in starts:
        th = base.solve(start)
        c = base.cost(th)
        if c < best_cost and base.feasible(th):
            best, best_cost = th, c
    if best is None and form == "plain":
        # Every optimum found has a real zero of Q outside the range: solve again with guard
        # rows that keep Q positive out there (swish [7, 6] match on [-3, 3]).
        guarded = _Problem(refiner.base_vp, form, m, n, slope, guard=True)
        for start in starts:
            th = guarded.solve(start)
            c = base.cost(th)
            if c < best_cost and base.feasible(th):
                best, best_cost = th, c
    if best is None:
        raise FitError(
            f"no plain-form [{m},{n}] fit with a {tail} tail was found: every candidate "
            "denominator has a real zero outside the range (a pole of the table there); use the "
            "safe form (its denominator is >= 1 everywhere)"
        )
    theta = _snap(base, best) if form == "safe" else best
    if form == "abs":
        # As for the free fit: polish on rules split at the sign changes of S.
        for _ in range(2):
            prob = _Problem(refiner.vp_for(theta), form, m, n, slope)
            th = prob.solve(theta)
            if prob.feasible(th):
                theta = th
    steps = 0
    if slope is None:
        refined, steps = refiner.refine(theta)
        if steps and _Problem(refiner.vp_for(refined), form, m, n, None).feasible(refined):
            theta = refined
        else:
            steps = 0  # Newton left the constraint: keep the constrained point
    vp = refiner.vp_for(theta)
    if slope is None:
        rational, conversion, l2 = to_monomial_rational(vp.grid, m, form, vp, theta)
        if not _admissible(rational, form, n, radius):
            # The monomial polish moved the denominator off the admissible set: keep the
            # converted coefficients.
            den = to_monomial_denominator(form, vp.grid, theta)
            num = cheb_to_monomial(vp.numerator(theta), vp.grid.a, vp.grid.b)
            rational, conversion = Rational(num, den, form), "converted"
            with np.errstate(all="ignore"):
                res = vp.grid.sw * (vp.grid.f - rational(vp.grid.x))
            l2 = float(np.sqrt(res @ res))
    else:
        rational, conversion, l2 = _match_rational(_Problem(vp, form, m, n, slope), theta)
    info.update(_costs(tail, l2_free, l2, active=True))
    return TailFit(rational, conversion, l2, vp, theta, steps, info)


def _snap(problem: _Problem, theta: _Array) -> _Array:
    """safe: ``c_k`` the bounded method left within ``1e-8`` of 0 set to exactly 0 where the
    cost does not rise (as :func:`~actfit.approx.varpro.snap_to_faces` for the free fit)."""
    cost = problem.cost(theta)
    for k in np.flatnonzero((theta > 0.0) & (theta <= 1e-8) & (problem.lower == 0.0)):
        trial = theta.copy()
        trial[k] = 0.0
        new = problem.cost(trial)
        if new <= cost * (1.0 + 1e-13):
            theta, cost = trial, new
    return theta


def _costs(tail: str, free: float, constrained: float, *, active: bool) -> dict[str, Any]:
    """The cost keys: the generic ones and, for compatibility, ``l2_error_free/_<tail>``."""
    return {
        "active": active,
        "error_free": free,
        "error_tail": constrained,
        "l2_error_free": free,
        f"l2_error_{tail}": constrained,
    }


def linear_tail(vp: VarPro, theta: _Array, n: int, grid: Grid) -> tuple[_Array, dict]:
    """The safe-form linear tail on one rule, without refinement: ``(θ, info)``.

    The older entry point (``fit_lsq`` now calls :func:`constrain_tail`, which also refines,
    converts and handles every form); ``info`` has the older keys only.
    """
    problem = _Problem(vp, "safe", vp.vnum.shape[1] - 1, n, None)
    start = np.abs(theta)
    best = min((problem.solve(th) for th in _starts(problem, start, grid)), key=problem.cost)
    info = {
        "kind": "linear",
        "floor": TAIL_FLOOR,
        "constraint": _constraint_text("safe", vp.vnum.shape[1] - 1, n, grid.radius, None),
        "active": bool(start[n - 1] < TAIL_FLOOR),
        "l2_error_free": math.sqrt(max(problem.cost(start), 0.0)),
        "l2_error_linear": math.sqrt(max(problem.cost(best), 0.0)),
    }
    return best, info

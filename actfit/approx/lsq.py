"""Least-squares rational fits: the global continuous-L2 optimum of ``P/Q`` on a range.

:func:`fit_lsq` minimises ``∫_a^b w(x) (f(x) - P(x)/Q(x))^2 dx`` over the numerator ``P`` of
degree ``m`` and the denominator ``Q`` of degree ``n`` in one of the three denominator forms
(``plain``, ``safe``, ``abs``; see :mod:`actfit.rational`).

Method
------
*Continuous L2.* The integral is a composite Gauss–Legendre sum (:mod:`actfit.approx.quadrature`)
split at the target's kinks, at the weight's kinks and at ``x = 0`` (where ``|x|`` makes the
``safe`` and ``abs`` denominators non-smooth). For ``abs`` the final refinement also splits the
rule at the sign changes of ``S`` at each evaluation (the kinks of ``1 + |S|`` move with the
parameters). Refining the rule leaves the coefficients unchanged to rounding level (about
``1e-13`` relative for relu, leaky_relu, gelu at [5, 4]), so nothing depends on a sampling grid.

*Variable projection.* For fixed denominator parameters ``θ`` the numerator enters linearly, so it
is eliminated by a weighted linear least-squares solve (Golub & Pereyra 1973); the remaining
problem in the ``n`` denominator parameters is solved by Levenberg–Marquardt (MINPACK, via
:func:`scipy.optimize.least_squares`) with the exact Golub–Pereyra Jacobian of the projected
residual (the Kaufman 1975 term plus the second term, both cheap here through the QR factor).
LM stops when the cost stops decreasing visibly, which pins flat directions only to about
``sqrt(eps)``; a few Newton steps on the exact gradient ``Jᵀr`` (central-difference Hessian)
then locate the stationary point to rounding level.

*Well-conditioned coordinates.* Internally ``x`` is mapped affinely to ``t ∈ [-1, 1]``. ``P`` is a
Chebyshev series in ``t``. For ``plain`` and ``abs``, ``Q = 1 + S`` resp. ``1 + |S|`` with
``S = Σ_k θ_k (T_k(t) - T_k(t_0))``, ``t_0`` the image of ``x = 0``, so that ``S(0) = 0`` and the
constant term of ``Q`` is exactly 1 as the forms require. For ``safe``,
``Q = 1 + Σ_k |θ_k| s^k`` with ``s = |x| / max(|a|, |b|) ∈ [0, 1]``; the objective is symmetric
in the sign of each ``θ_k``, so LM runs unconstrained and ``|θ_k|`` is returned (``b_k >= 0``).
At the end the monomial coefficients are produced twice — by exact basis conversion
(``cheb2poly`` composed with the affine map) and by a fresh weighted linear solve for the monomial
numerator given the converted denominator — and the one with the smaller quadrature error is
kept; if it is still worse than the internal optimum beyond rounding, a short LM polish in the
monomial coordinates follows.

*Global, not local.* The objective has many local minima, so LM is started from several points
and the best is kept (all starts and the winner are recorded in ``settings``):

* ``loeb`` and ``sk``: the linearised problem ``min ‖√w (f Q - P)/Q_prev‖`` solved once with
  ``Q_prev = 1`` (Loeb 1961) and iterated (Sanathanan & Koerner 1963); for ``safe`` the linear
  solves keep ``θ >= 0`` (bounded-variable least squares);
* ``interp``: a Padé-like start, the linearised rational interpolant at ``m + n + 1`` Chebyshev
  points of the range (a multipoint Padé approximant);
* ``order-k``: the previous orders — the chain ``[m, 0] → [m, 1] → ... → [m, n - 1]``, each
  level polished by VarPro and padded with a zero for the next;
* ``ones``: the all-ones coefficients that naive fits start from;
* ``perturb-i``: deterministic perturbations (fixed seed) of the best point so far;
* for ``abs`` additionally the ``plain`` starts and the ``safe`` Loeb/SK denominators read as
  ``S(x) = Σ ε_k β_k (x/R)^k`` for the sign patterns ``ε = +1``, ``ε_k = (-1)^k`` and a few
  random ones, and sign-pattern SK starts (the linearisation ``f (1 + σ S) - P`` with
  ``σ = sign(S)`` frozen and updated until it settles; seeded with ``S >= 0``, ``S ~ x``, the
  plain starts' patterns and, after the first round, the best candidate's pattern). ``Q = 1 + |S|``
  is non-smooth where ``S`` changes sign; LM is applied anyway, with ``sign(S)`` in the Jacobian.

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
    H. L. Loeb, "On rational fraction approximations at discrete points", Convair Astronautics,
    Math. Preprint 9 (1957); see also E. W. Cheney, Introduction to Approximation Theory (1966).
    J. J. Moré, "The Levenberg–Marquardt algorithm: implementation and theory", Numerical
    Analysis, Lecture Notes in Math. 630 (1978), 105–116.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.quadrature import gauss_legendre_nodes
from actfit.approx.weights import Weight, parse_weight
from actfit.errors import TargetDomainError
from actfit.options import MAX_DEGREE, as_range, check_order
from actfit.rational import Rational, require_fit_form
from actfit.targets import check_finite

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["MAX_ORDER", "fit_lsq"]

MAX_ORDER = MAX_DEGREE
"""Largest numerator or denominator degree :func:`fit_lsq` accepts."""

_PANELS = 6
_NODES_PER_PANEL = 20
_SEED = 20240611
_Array = NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# Quadrature grid and denominator models
# ------------------------------------------------------------------------------------------------
@dataclass
class _Grid:
    """Quadrature nodes with the target sampled and the weights folded in."""

    a: float
    b: float
    x: _Array
    t: _Array  # x mapped to [-1, 1]
    sw: _Array  # sqrt(quadrature weight * density)
    f: _Array
    y: _Array  # sw * f
    breakpoints: tuple[float, ...]
    panels: int
    order: int
    target: Any = None
    nfev: int = 0

    @property
    def t0(self) -> float:
        """The image of x = 0 in t."""
        return float((0.0 - 0.5 * (self.a + self.b)) / (0.5 * (self.b - self.a)))

    @property
    def radius(self) -> float:
        return max(abs(self.a), abs(self.b))


def _make_grid(
    target: Target,
    weight: Weight,
    a: float,
    b: float,
    breakpoints: tuple[float, ...],
    panels: int,
    order: int,
) -> _Grid:
    x, qw = gauss_legendre_nodes(a, b, breakpoints, panels=panels, order=order)
    density = weight(x)
    # Also probe between the nodes (and at the ends and kinks), where a density may blow up.
    probe = np.concatenate([np.linspace(a, b, 1025), [k for k in breakpoints if a < k < b]])
    with np.errstate(all="ignore"):
        weight.check(np.concatenate([density, weight(probe)]), a, b)
    with np.errstate(all="ignore"):
        f = np.asarray(target(x), dtype=np.float64)
    if not np.all(np.isfinite(f)):
        bad = float(x[~np.isfinite(f)][0])
        raise TargetDomainError(
            f"the target is not finite at x = {bad:.6g} on [{a:g}, {b:g}]; choose a range on "
            "which it is finite"
        )
    sw = np.sqrt(qw * density)
    t = (x - 0.5 * (a + b)) / (0.5 * (b - a))
    return _Grid(a, b, x, t, sw, f, sw * f, breakpoints, panels, order, target)


def _shifted_cheb(t: _Array | float, t0: float, n: int) -> _Array:
    """Columns ``T_k(t) - T_k(t0)`` for k = 1..n (a basis of degree-n polynomials with S(t0)=0)."""
    vt = _cheb.chebvander(np.atleast_1d(np.asarray(t, dtype=np.float64)), n)[:, 1:]
    v0 = _cheb.chebvander(np.array([t0]), n)[0, 1:]
    return vt - v0


class _Model:
    """One denominator form in one coordinate system: ``θ -> (Q, dQ/dθ)`` at the nodes.

    ``basis`` is the matrix ``B`` with ``S = B θ`` (plain, abs) or ``Σ |θ_k| B_k`` (safe).
    """

    def __init__(self, form: str, basis: _Array) -> None:
        self.form = form
        self.basis = basis

    def q(self, theta: _Array) -> tuple[_Array, _Array]:
        bmat = self.basis
        if self.form == "plain":
            return 1.0 + bmat @ theta, bmat
        if self.form == "safe":
            sgn = np.where(theta < 0, -1.0, 1.0)
            return 1.0 + bmat @ np.abs(theta), bmat * sgn
        s = bmat @ theta
        sgn = np.where(s < 0, -1.0, 1.0)
        return 1.0 + np.abs(s), bmat * sgn[:, None]


# ------------------------------------------------------------------------------------------------
# Variable projection
# ------------------------------------------------------------------------------------------------
class _VarPro:
    """The projected residual ``r(θ) = (I - A A⁺) y`` with ``A = diag(√w / Q) V`` and its Jacobian.

    The Jacobian is Golub & Pereyra's exact one: with ``G = (∂Q/∂θ) / Q``, ``ŷ = A α`` and the
    thin QR factor ``U`` of ``A``, ``J = P⊥ (G ∘ ŷ) + U Uᵀ (G ∘ r)``; the first term alone is
    Kaufman's approximation.
    """

    def __init__(self, grid: _Grid, vnum: _Array, model: _Model) -> None:
        self.grid = grid
        self.vnum = vnum
        self.model = model
        self._key: bytes | None = None
        self._state: tuple[_Array, ...] = ()

    def _eval(self, theta: _Array) -> tuple[_Array, ...]:
        key = theta.tobytes()
        if key != self._key:
            self.grid.nfev += 1
            q, dq = self.model.q(theta)
            with np.errstate(all="ignore"):
                amat = (self.grid.sw / q)[:, None] * self.vnum
                u, rfac = np.linalg.qr(amat)
                c = u.T @ self.grid.y
                yhat = u @ c
                r = self.grid.y - yhat
            self._key = key
            self._state = (q, dq, u, rfac, c, yhat, r)
        return self._state

    def residual(self, theta: _Array) -> _Array:
        r = self._eval(theta)[6]
        if not np.all(np.isfinite(r)):
            # A zero of Q at a node (plain form): a huge, finite residual keeps LM away.
            return np.where(np.isfinite(r), r, 1e150)
        return r

    def jacobian(self, theta: _Array) -> _Array:
        q, dq, u, _, _, yhat, r = self._eval(theta)
        with np.errstate(all="ignore"):
            g = dq / q[:, None]
            x1 = g * yhat[:, None]
            jac = x1 - u @ (u.T @ x1) + u @ (u.T @ (g * r[:, None]))
        if not np.all(np.isfinite(jac)):
            jac = np.nan_to_num(jac, nan=0.0, posinf=1e150, neginf=-1e150)
        return jac

    def numerator(self, theta: _Array) -> _Array:
        """Return the optimal numerator coefficients (in the numerator basis) for ``θ``."""
        _, _, _, rfac, c, _, _ = self._eval(theta)
        return np.linalg.solve(rfac, c) if rfac.size else np.zeros(0)

    def cost(self, theta: _Array) -> float:
        r = self._eval(theta)[6]
        val = float(r @ r)
        return val if math.isfinite(val) else math.inf

    def polish(self, theta0: _Array, *, tight: bool = False) -> tuple[_Array, int]:
        """Run LM from ``θ0``; return the final point and MINPACK's status."""
        from scipy.optimize import least_squares

        theta0 = np.asarray(theta0, dtype=np.float64)
        if theta0.size == 0:
            return theta0, 1
        if not np.all(np.isfinite(theta0)) or not math.isfinite(self.cost(theta0)):
            return theta0, -1
        tol = 1e-15 if tight else 1e-10
        nmax = (400 if tight else 60) * (theta0.size + 1)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = least_squares(
                self.residual,
                theta0,
                jac=self.jacobian,
                method="lm",
                ftol=tol,
                xtol=tol,
                gtol=tol,
                max_nfev=nmax,
                x_scale="jac",
            )
        theta = res.x
        # LM returns its best point; guard against a worse one all the same.
        if self.cost(theta) > self.cost(theta0):
            theta = theta0
        return theta, int(res.status)


# ------------------------------------------------------------------------------------------------
# Starting points
# ------------------------------------------------------------------------------------------------
def _linearised(
    vnum: _Array,
    lin: _Array,
    f: _Array,
    rowscale: _Array,
    nonneg: bool,
) -> tuple[_Array, _Array]:
    """Solve ``min ‖rowscale ∘ (f (1 + L θ) - V α)‖`` for ``(α, θ)``; ``θ >= 0`` if ``nonneg``."""
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


def _sk_starts(
    grid: _Grid,
    vnum: _Array,
    model: _Model,
    sign: _Array | None = None,
    iterations: int = 8,
) -> list[tuple[str, _Array]]:
    """Loeb's linearised solution and the Sanathanan–Koerner iterate that follows it."""
    n = model.basis.shape[1]
    if n == 0:
        return []
    lin = model.basis if sign is None else model.basis * sign[:, None]
    nonneg = model.form == "safe"
    qprev = np.ones_like(grid.x)
    out: list[tuple[str, _Array]] = []
    last = None
    for it in range(iterations):
        _, theta = _linearised(vnum, lin, grid.f, grid.sw / qprev, nonneg)
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


def _interior_points(grid: _Grid, k: int) -> _Array:
    """``k`` Chebyshev points strictly inside the range, as x values."""
    t = np.cos(np.pi * np.arange(1, k + 1) / (k + 1))[::-1]
    return grid.a + 0.5 * (grid.b - grid.a) * (t + 1.0)


def _dist(u: _Array, v: _Array) -> float:
    """Relative distance of two parameter vectors."""
    return float(np.max(np.abs(u - v)) / (1e-300 + max(np.max(np.abs(u)), np.max(np.abs(v)))))


def _abs_sk(
    grid: _Grid,
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
        _, new = _linearised(vnum, basis * sign[:, None], grid.f, grid.sw / qprev, False)
        if not np.all(np.isfinite(new)):
            break
        s_new = basis @ new
        sign_new = np.where(s_new < 0, -1.0, 1.0)
        settled = theta is not None and np.array_equal(sign_new, sign)
        theta, sign, qprev = new, sign_new, 1.0 + np.abs(s_new)
        if settled:
            break
    return theta


def _interp_start(grid: _Grid, m: int, model_form: str, n: int) -> _Array | None:
    """Linearised rational interpolation at m+n+1 Chebyshev points (a multipoint Padé start)."""
    k = m + n + 1
    tk = np.cos(np.pi * (np.arange(k) + 0.5) / k)
    xk = grid.a + 0.5 * (grid.b - grid.a) * (tk + 1.0)
    with np.errstate(all="ignore"):
        fk = np.asarray(grid.target(xk), dtype=np.float64)
    if not np.all(np.isfinite(fk)):
        return None
    vnum = _cheb.chebvander(tk, m)
    lin = _den_basis(model_form, grid, xk, tk, n)
    _, theta = _linearised(vnum, lin, fk, np.ones(k), model_form == "safe")
    return theta if np.all(np.isfinite(theta)) else None


def _den_basis(form: str, grid: _Grid, x: _Array, t: _Array, n: int) -> _Array:
    """Denominator basis columns at the given points for the internal coordinates."""
    if form == "safe":
        s = np.abs(x) / grid.radius
        return s[:, None] ** np.arange(1, n + 1)
    return _shifted_cheb(t, grid.t0, n)


# ------------------------------------------------------------------------------------------------
# Conversions to monomial coefficients
# ------------------------------------------------------------------------------------------------
def _cheb_to_monomial(coef: _Array, a: float, b: float) -> _Array:
    """Monomial coefficients in x of ``Σ coef_k T_k(t)``, ``t = (2x - a - b) / (b - a)``."""
    p_t = np.polynomial.Polynomial(_cheb.cheb2poly(coef))
    affine = np.polynomial.Polynomial([-(a + b) / (b - a), 2.0 / (b - a)])
    out = p_t(affine).coef
    return np.pad(out, (0, max(0, coef.size - out.size)))[: coef.size]


def _canonical_den(form: str, den: _Array, radius: float) -> _Array:
    """``abs``: the sign of ``S`` is arbitrary (``|S| = |-S|``); make its dominant term positive."""
    if form != "abs" or den.size == 0:
        return den
    k = int(np.argmax(np.abs(den) * radius ** np.arange(1, den.size + 1)))
    return -den if den[k] < 0 else den


def _to_monomial_den(form: str, grid: _Grid, theta: _Array) -> _Array:
    n = theta.size
    if n == 0:
        return np.zeros(0)
    if form == "safe":
        return np.abs(theta) / grid.radius ** np.arange(1, n + 1)
    v0 = _cheb.chebvander(np.array([grid.t0]), n)[0, 1:]
    s_cheb = np.concatenate([[-float(v0 @ theta)], theta])
    return _canonical_den(form, _cheb_to_monomial(s_cheb, grid.a, grid.b)[1:], grid.radius)


def _from_monomial_den(form: str, grid: _Grid, den: _Array) -> _Array:
    """Inverse of :func:`_to_monomial_den` (internal coordinates of a monomial denominator)."""
    n = den.size
    if n == 0:
        return np.zeros(0)
    if form == "safe":
        return np.abs(den) * grid.radius ** np.arange(1, n + 1)
    # S(x) = Σ den_k x^k; fit it in the shifted Chebyshev basis by collocation (exact).
    tk = np.cos(np.pi * (np.arange(n + 1) + 0.5) / (n + 1))
    xk = grid.a + 0.5 * (grid.b - grid.a) * (tk + 1.0)
    s = np.polynomial.polynomial.polyval(xk, np.concatenate([[0.0], den]))
    return np.linalg.lstsq(_shifted_cheb(tk, grid.t0, n), s, rcond=None)[0]


# ------------------------------------------------------------------------------------------------
# Poles (plain form)
# ------------------------------------------------------------------------------------------------
def _plain_has_pole(grid: _Grid, theta: _Array, q_nodes: _Array) -> bool:
    if theta.size == 0:
        return False
    if not np.all(q_nodes > 0):
        return True
    v0 = _cheb.chebvander(np.array([grid.t0]), theta.size)[0, 1:]
    q_cheb = np.concatenate([[1.0 - float(v0 @ theta)], theta])
    roots = _cheb.chebroots(q_cheb)
    real = roots[np.abs(roots.imag) <= 1e-8 * (1.0 + np.abs(roots.real))].real
    return bool(np.any((real >= -1.0 - 1e-12) & (real <= 1.0 + 1e-12)))


# ------------------------------------------------------------------------------------------------
# The fitter
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

    grid: _Grid
    m: int
    n: int
    form: str
    vnum: _Array = field(init=False)
    model: _Model = field(init=False)
    vp: _VarPro = field(init=False)
    candidates: list[_Candidate] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vnum = _cheb.chebvander(self.grid.t, self.m)
        basis = _den_basis(self.form, self.grid, self.grid.x, self.grid.t, self.n)
        self.model = _Model(self.form, basis)
        self.vp = _VarPro(self.grid, self.vnum, self.model)

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


def _chain_start(grid: _Grid, m: int, n: int, form: str) -> list[tuple[str, _Array]]:
    """Previous-order starts: polish [m, k] from the padded [m, k-1] solution, k = 1..n-1."""
    theta = np.zeros(0)
    for k in range(1, n):
        sub = _Search(grid, m, k, form)
        padded = np.concatenate([theta, [0.0]])
        starts = [("pad", padded), *_sk_starts(grid, sub.vnum, sub.model)[-1:]]
        for name, th in starts:
            sub.run(name, th)
        best = sub.best()
        theta = best.theta if best is not None else padded
    return [(f"order-{n - 1}", np.concatenate([theta, [0.0]]))] if n >= 1 else []


def _signed_safe_starts(grid: _Grid, safe_thetas: list[_Array], n: int) -> list[tuple[str, _Array]]:
    """``abs`` starts from ``safe`` denominators: S(x) = Σ ε_k β_k (x/R)^k for sign patterns ε."""
    rng = np.random.default_rng(_SEED + 1)
    patterns = [np.ones(n), (-1.0) ** np.arange(1, n + 1)]
    patterns += [rng.choice([-1.0, 1.0], size=n) for _ in range(2)]
    out: list[tuple[str, _Array]] = []
    for i, beta in enumerate(safe_thetas):
        for j, eps in enumerate(patterns):
            den = eps * np.abs(beta) / grid.radius ** np.arange(1, n + 1)
            out.append((f"safe{i}-sign{j}", _from_monomial_den("abs", grid, den)))
    return out


def _search(grid: _Grid, m: int, n: int, form: str) -> _Search:
    search = _Search(grid, m, n, form)
    if n == 0:
        search.candidates.append(_Candidate("linear", np.zeros(0), search.vp.cost(np.zeros(0))))
        return search
    starts: list[tuple[str, _Array]] = []
    if form == "abs":
        # Plain-form starts read as S (Q = 1 + S is the abs form wherever S >= 0) ...
        plain = _Search(grid, m, n, "plain")
        starts += [(f"plain-{k}", th) for k, th in _sk_starts(grid, plain.vnum, plain.model)]
        interp = _interp_start(grid, m, "plain", n)
        if interp is not None:
            starts.append(("plain-interp", interp))
        # ... and safe-form starts with sign patterns.
        safe = _Search(grid, m, n, "safe")
        safe_thetas = [th for _, th in _sk_starts(grid, safe.vnum, safe.model)]
        starts += _signed_safe_starts(grid, safe_thetas, n)
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
            th = _abs_sk(grid, search.vnum, basis, sg)
            if th is None:
                continue
            # Many seeds settle on the same S (up to S -> -S): run LM once per distinct start.
            if not any(min(_dist(th, u), _dist(th, -u)) <= 1e-9 for u in seen):
                seen.append(th)
                starts.append((f"abs-sk-{k}", th))
    else:
        starts += _sk_starts(grid, search.vnum, search.model)
        interp = _interp_start(grid, m, form, n)
        if interp is not None:
            starts.append(("interp", interp))
        starts += _chain_start(grid, m, n, form)
    starts.append(("ones", _from_monomial_den(form, grid, np.ones(n))))
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
        search.run("abs-sk-best", _abs_sk(grid, search.vnum, search.model.basis, sign))
        best = search.best()
    if best is not None:
        rng = np.random.default_rng(_SEED)
        for i in range(3):
            scale = 0.3 * (1.0 + np.abs(best.theta))
            search.run(f"perturb-{i}", best.theta + scale * rng.standard_normal(n))
    return search


def _abs_breakpoints(grid: _Grid, theta: _Array) -> tuple[float, ...]:
    """Sign changes of S inside (a, b) for the abs form (where Q = 1 + |S| has a kink)."""
    n = theta.size
    if n == 0:
        return ()
    v0 = _cheb.chebvander(np.array([grid.t0]), n)[0, 1:]
    s_cheb = np.concatenate([[-float(v0 @ theta)], theta])
    roots = _cheb.chebroots(s_cheb)
    real = roots[np.abs(roots.imag) <= 1e-10].real
    real = real[(real > -1.0) & (real < 1.0)]
    xs = grid.a + 0.5 * (grid.b - grid.a) * (real + 1.0)
    return tuple(sorted(float(v) for v in xs if abs(v) > 1e-12 * grid.radius))


class _Refiner:
    """Newton refinement of the optimum on the continuous objective.

    LM stops once the cost no longer decreases visibly, which leaves the parameters determined
    only to about ``sqrt(eps)`` in flat directions. The gradient ``Jᵀr`` is exact, so a few Newton
    steps with a central-difference Hessian of it pin the stationary point down to rounding
    level; that is what makes the coefficients independent of the quadrature rule. For ``abs``
    every evaluation uses nodes split at the current sign changes of ``S`` (the kinks of
    ``1 + |S|`` move with the parameters), so the gradient is that of the continuous integral.
    """

    def __init__(
        self, target: Any, weight: Weight, grid: _Grid, vp: _VarPro, m: int, form: str
    ) -> None:
        self.target = target
        self.weight = weight
        self.base = grid
        self.base_vp = vp
        self.m = m
        self.form = form
        self._cache: dict[tuple[float, ...], _VarPro] = {}

    def vp_for(self, theta: _Array) -> _VarPro:
        if self.form != "abs":
            return self.base_vp
        extra = _abs_breakpoints(self.base, theta)
        if not extra:
            return self.base_vp
        key = tuple(sorted(set(self.base.breakpoints) | set(extra)))
        vp = self._cache.get(key)
        if vp is None:
            if len(self._cache) > 256:
                self._cache.clear()
            g = self.base
            grid = _make_grid(self.target, self.weight, g.a, g.b, key, g.panels, g.order)
            vp = _Search(grid, self.m, theta.size, self.form).vp
            self._cache[key] = vp
        return vp

    def cost(self, theta: _Array) -> float:
        """The objective on a rule that resolves the kinks of ``Q`` at ``θ``."""
        return self.vp_for(theta).cost(theta)

    def evaluations(self) -> int:
        return self.base.nfev + sum(vp.grid.nfev for vp in self._cache.values())

    def _grad(self, theta: _Array) -> tuple[_Array, float]:
        vp = self.vp_for(theta)
        r = vp.residual(theta)
        return vp.jacobian(theta).T @ r, float(r @ r)

    def refine(self, theta: _Array, iterations: int = 6) -> tuple[_Array, int]:
        n = theta.size
        if n == 0:
            return theta, 0
        theta = theta.copy()
        free = np.ones(n, dtype=bool)
        if self.form == "safe":
            # Coefficients held at 0 sit on the bound |θ| >= 0: keep them there.
            free = theta > 1e-12 * (1.0 + float(np.max(theta)))
        idx = np.flatnonzero(free)
        if idx.size == 0:
            return theta, 0
        g, cost = self._grad(theta)
        steps = 0
        for _ in range(iterations):
            scale = max(float(np.sqrt(np.mean(theta[idx] ** 2))), 1e-6)
            h = 1e-5 * np.maximum(np.abs(theta[idx]), 0.1 * scale)
            hess = np.empty((idx.size, idx.size))
            for j, (i, hi) in enumerate(zip(idx, h, strict=True)):
                tp = theta.copy()
                tp[i] += hi
                tm = theta.copy()
                tm[i] -= hi
                hess[:, j] = (self._grad(tp)[0][idx] - self._grad(tm)[0][idx]) / (2.0 * hi)
            hess = 0.5 * (hess + hess.T)
            if not np.all(np.isfinite(hess)):
                break
            evals, vecs = np.linalg.eigh(hess)
            if evals[0] <= 0.0:
                break
            step = -vecs @ ((vecs.T @ g[idx]) / evals)
            trial = theta.copy()
            trial[idx] += step
            if self.form == "safe" and np.any(trial[idx] < 0):
                break
            g2, cost2 = self._grad(trial)
            if not (
                math.isfinite(cost2)
                and cost2 <= cost * (1.0 + 1e-12) + 1e-300
                and np.linalg.norm(g2[idx]) < np.linalg.norm(g[idx])
            ):
                break
            theta, g, cost = trial, g2, cost2
            steps += 1
            if np.max(np.abs(step)) <= 1e-15 * (1.0 + float(np.max(np.abs(theta)))):
                break
        return theta, steps


def _monomial_error(grid: _Grid, rational: Rational) -> float:
    with np.errstate(all="ignore"):
        r = grid.sw * (grid.f - rational(grid.x))
    val = float(r @ r)
    return math.sqrt(val) if math.isfinite(val) else math.inf


def _monomial_numerator(grid: _Grid, m: int, q: _Array) -> _Array:
    """Weighted linear least squares for the monomial numerator given Q at the nodes."""
    vand = np.polynomial.polynomial.polyvander(grid.x, m) * (grid.sw / q)[:, None]
    norms = np.linalg.norm(vand, axis=0)
    norms[norms == 0] = 1.0
    sol = np.linalg.lstsq(vand / norms, grid.y, rcond=None)[0]
    return sol / norms


def _to_rational(
    grid: _Grid, m: int, form: str, vp: _VarPro, theta: _Array
) -> tuple[Rational, str, float]:
    """Monomial coefficients for the internal optimum ``θ`` (see the module docstring)."""
    internal = math.sqrt(max(vp.cost(theta), 0.0))
    den = _to_monomial_den(form, grid, theta)
    num_conv = _cheb_to_monomial(vp.numerator(theta), grid.a, grid.b)
    options: list[tuple[float, str, Rational]] = []
    r_conv = Rational(num_conv, den, form)
    options.append((_monomial_error(grid, r_conv), "converted", r_conv))
    q = r_conv.denominator_at(grid.x)
    if np.all(np.abs(q) > 0):
        r_solve = Rational(_monomial_numerator(grid, m, q), den, form)
        options.append((_monomial_error(grid, r_solve), "monomial-solve", r_solve))
    err, how, best = min(options, key=lambda o: o[0])
    scale = float(np.linalg.norm(grid.y)) + 1e-300
    if err > internal * (1.0 + 1e-6) + 1e-13 * scale:
        # Monomials lost accuracy: polish directly in the coordinates that are returned.
        xs = grid.x
        if form == "safe":
            basis = np.abs(xs)[:, None] ** np.arange(1, theta.size + 1)
        else:
            basis = xs[:, None] ** np.arange(1, theta.size + 1)
        vnum = np.polynomial.polynomial.polyvander(xs, m)
        mono_vp = _VarPro(grid, vnum, _Model(form, basis))
        mono, _ = mono_vp.polish(np.asarray(best.denominator, dtype=np.float64), tight=True)
        mono_den = np.abs(mono) if form == "safe" else _canonical_den(form, mono, grid.radius)
        q = Rational(np.zeros(1), mono_den, form).denominator_at(xs)
        if np.all(np.abs(q) > 0):
            cand = Rational(_monomial_numerator(grid, m, q), mono_den, form)
            cerr = _monomial_error(grid, cand)
            if cerr < err:
                err, how, best = cerr, "monomial-polish", cand
    return best, how, err


def fit_lsq(
    target: Target,
    order: tuple[int, int] = (5, 4),
    range: tuple[float, float] = (-3.0, 3.0),
    *,
    form: str = "safe",
    weight: str | Weight = "uniform",
    allow_poles: bool = False,
    panels: int = _PANELS,
    nodes_per_panel: int = _NODES_PER_PANEL,
) -> Fit:
    """Return the least-squares rational fit of ``target`` of type [m, n] on ``range``.

    Minimises the continuous weighted L2 error ``∫ w (f - P/Q)^2`` by variable projection (Golub
    & Pereyra 1973; Kaufman 1975) with Levenberg–Marquardt, started from Loeb's and
    Sanathanan–Koerner's (1963) linearised solutions, a multipoint Padé interpolant, the previous
    orders and deterministic perturbations; the best is returned. See the module docstring for
    the details, including how each denominator form is handled.

    Args:
        target: The function to approximate (vectorised, with ``kinks``).
        order: ``(m, n)``, numerator and denominator degrees, each in ``0..12``.
        range: The fit interval ``(a, b)``, finite, ``a < b``.
        form: Denominator form ``plain``, ``safe`` (default) or ``abs`` (aliases N, A, B).
        weight: ``"uniform"``, ``"normal[:mu,sigma]"``, an expression in ``x`` (a density
            ``>= 0`` on the range) or a :class:`~actfit.approx.weights.Weight`.
        allow_poles: Keep a ``plain`` fit whose denominator vanishes on the range.
        panels: Quadrature panels per smooth piece of the range.
        nodes_per_panel: Gauss–Legendre nodes per panel.

    Returns:
        The :class:`~actfit.fit.Fit` with method ``"lsq"``; its settings record the weight, the
        quadrature rule, the starts tried, the winning start, the LM evaluations and the
        objective (the weighted L2 error ``sqrt(∫ w (f - r)^2)``).

    Raises:
        OrderError: ``m`` or ``n`` outside ``0..12`` or not integers.
        RangeError: The range is not finite or ``a >= b``.
        FormError: An unknown denominator form.
        ParameterError: A weight that is malformed, negative, non-finite or zero on the range.
        TargetDomainError: The target is not finite on the range.
        PoleError: A ``plain`` fit has a pole on the range and ``allow_poles`` is False.

    Warns:
        RuntimeWarning: Levenberg–Marquardt stopped at its evaluation limit on the best start.

    Examples:
        >>> from actfit.targets import get_target
        >>> fit = fit_lsq(get_target("tanh", {}), (3, 2), (-2.0, 2.0))
        >>> fit.rational.form, fit.rational.degree
        ('safe', (3, 2))
    """
    from actfit.fit import make_fit

    m, n = check_order(order, MAX_ORDER)
    a, b = as_range(range)
    form = require_fit_form(form)
    check_finite(target, a, b)
    w = parse_weight(weight)
    rational, settings, converged = _fit(target, m, n, a, b, form, w, panels, nodes_per_panel)
    if not converged:
        warnings.warn(
            f"lsq [{m}, {n}] ({form}): Levenberg-Marquardt reached its evaluation limit before "
            "converging; the fit may be improvable (try another order or range)",
            RuntimeWarning,
            stacklevel=2,
        )
    return make_fit(
        target,
        rational,
        method="lsq",
        settings=settings,
        range=(a, b),
        allow_poles=allow_poles,
    )


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
) -> tuple[Rational, dict[str, Any], bool]:
    """The fit proper on validated inputs: ``(rational, settings, converged)``."""
    kinks = tuple(float(k) for k in getattr(target, "kinks", ()))
    base = set(kinks) | set(w.kinks)
    if form != "plain" and n > 0:
        base.add(0.0)
    breakpoints = tuple(sorted(base))
    grid = _make_grid(target, w, a, b, breakpoints, panels, nodes_per_panel)

    search = _search(grid, m, n, form)
    best = search.best()
    if best is None:  # pragma: no cover - every start failed to evaluate
        best = _Candidate("zero", np.zeros(n), search.vp.cost(np.zeros(n)))
    refiner = _Refiner(target, w, grid, search.vp, m, form)
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
    rational, conversion, l2 = _to_rational(grid, m, form, vp, theta)
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

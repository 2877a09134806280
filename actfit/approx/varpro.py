"""The variable-projection engine of the least-squares fitter: grid, model, VarPro, refiner.

:func:`actfit.approx.lsq.fit_lsq` minimises ``∫_a^b w(x) (f(x) - P(x)/Q(x))^2 dx``; this module
evaluates that objective for given denominator parameters, minimises it from one start and pins
the minimiser down to rounding level. Which starts are tried, and which result wins, is decided
in :mod:`actfit.approx.lsq`.

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
then locate the stationary point to rounding level (:class:`Refiner`).

*Well-conditioned coordinates.* Internally ``x`` is mapped affinely to ``t ∈ [-1, 1]``. ``P`` is a
Chebyshev series in ``t``. For ``plain`` and ``abs``, ``Q = 1 + S`` resp. ``1 + |S|`` with
``S = Σ_k θ_k (T_k(t) - T_k(t_0))``, ``t_0`` the image of ``x = 0``, so that ``S(0) = 0`` and the
constant term of ``Q`` is exactly 1 as the forms require. For ``safe``,
``Q = 1 + Σ_k |θ_k| s^k`` with ``s = |x| / max(|a|, |b|) ∈ [0, 1]``; the objective is symmetric
in the sign of each ``θ_k``, so LM runs unconstrained and ``|θ_k|`` is returned (``b_k >= 0``).
``Q = 1 + |S|`` is non-smooth where ``S`` changes sign; LM is applied anyway, with ``sign(S)`` in
the Jacobian. A zero of a ``plain`` ``Q`` at a node gives a huge residual, so LM steps do not
cross one.

Length: about 620 lines: the grid, the denominator models, the projected problem with its LM
drivers, the Newton refiner and the safe form's faces and lower bound all work on the same
projected residual and its QR factor, and read best together.

References:
    G. H. Golub and V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least
    squares problems whose variables separate", SIAM J. Numer. Anal. 10 (1973), 413–432.
    L. Kaufman, "A variable projection method for solving separable nonlinear least squares
    problems", BIT 15 (1975), 49–57.
    J. J. Moré, "The Levenberg–Marquardt algorithm: implementation and theory", Numerical
    Analysis, Lecture Notes in Math. 630 (1978), 105–116.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.quadrature import gauss_legendre_nodes
from actfit.approx.weights import Weight
from actfit.errors import TargetDomainError

__all__ = [
    "Grid",
    "Model",
    "Refiner",
    "VarPro",
    "bound_safe_globally",
    "eval_denominator_basis",
    "eval_shifted_chebyshev",
    "has_plain_pole",
    "make_grid",
    "make_varpro",
    "snap_to_faces",
]

_Array = NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# Quadrature grid and denominator models
# ------------------------------------------------------------------------------------------------
@dataclass
class Grid:
    """Quadrature nodes with the target sampled and the weights folded in.

    ``nfev`` counts the objective evaluations made on this grid (for the fit's settings).
    """

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
        """``max(|a|, |b|)``, the scale of ``|x|`` in the ``safe`` coordinates."""
        return max(abs(self.a), abs(self.b))


def make_grid(
    target: Any,
    weight: Weight,
    a: float,
    b: float,
    breakpoints: tuple[float, ...],
    panels: int,
    order: int,
) -> Grid:
    """Return the composite Gauss–Legendre grid on ``[a, b]`` with ``target`` sampled on it.

    Raises:
        ParameterError: The weight is negative, non-finite or zero on the range.
        TargetDomainError: The target is not finite at a node.

    Examples:
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> g = make_grid(get_target("tanh", {}), parse_weight("uniform"), -1.0, 1.0, (), 2, 8)
        >>> g.x.size, round(float(g.sw @ g.sw), 12)
        (16, 2.0)
    """
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
    return Grid(a, b, x, t, sw, f, sw * f, breakpoints, panels, order, target)


def eval_shifted_chebyshev(t: _Array | float, t0: float, n: int) -> _Array:
    """Return the columns ``T_k(t) - T_k(t0)``, k = 1..n (a degree-n basis with ``S(t0) = 0``).

    Examples:
        >>> eval_shifted_chebyshev([1.0], 0.0, 2).tolist()  # T_1(1) - T_1(0), T_2(1) - T_2(0)
        [[1.0, 2.0]]
    """
    vt = _cheb.chebvander(np.atleast_1d(np.asarray(t, dtype=np.float64)), n)[:, 1:]
    v0 = _cheb.chebvander(np.array([t0]), n)[0, 1:]
    return vt - v0


def eval_denominator_basis(form: str, grid: Grid, x: _Array, t: _Array, n: int) -> _Array:
    """Return the denominator basis columns at ``x`` (``t`` its image) in internal coordinates.

    ``(|x| / R)^k`` for ``safe``, the shifted Chebyshev columns for ``plain`` and ``abs``.
    """
    if form == "safe":
        s = np.abs(x) / grid.radius
        return s[:, None] ** np.arange(1, n + 1)
    return eval_shifted_chebyshev(t, grid.t0, n)


class Model:
    """One denominator form in one coordinate system: ``θ -> (Q, dQ/dθ)`` at the nodes.

    ``basis`` is the matrix ``B`` with ``S = B θ`` (plain, abs) or ``Σ |θ_k| B_k`` (safe).
    """

    def __init__(self, form: str, basis: _Array) -> None:
        self.form = form
        self.basis = basis

    def q(self, theta: _Array) -> tuple[_Array, _Array]:
        """Return ``Q`` at the nodes and its Jacobian with respect to ``θ``."""
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
class VarPro:
    """The projected residual ``r(θ) = (I - A A⁺) y`` with ``A = diag(√w / Q) V`` and its Jacobian.

    The Jacobian is Golub & Pereyra's exact one: with ``G = (∂Q/∂θ) / Q``, ``ŷ = A α`` and the
    thin QR factor ``U`` of ``A``, ``J = P⊥ (G ∘ ŷ) + U Uᵀ (G ∘ r)``; the first term alone is
    Kaufman's approximation.
    """

    def __init__(self, grid: Grid, vnum: _Array, model: Model, fast_qr: bool = False) -> None:
        self.grid = grid
        self.vnum = vnum
        self.model = model
        # fast_qr: LAPACK directly (_thin_qr), for the plain form; safe and abs keep numpy's
        # QR, whose rounding their recorded outputs have.
        self._fast_qr = fast_qr
        self._vnum_f = np.asfortranarray(vnum)
        self._key: bytes | None = None
        self._state: tuple[_Array, ...] = ()

    def _eval(self, theta: _Array) -> tuple[_Array, ...]:
        # LM asks for the residual and then the Jacobian at the same point: factor A once.
        key = theta.tobytes()
        if key != self._key:
            self.grid.nfev += 1
            q, dq = self.model.q(theta)
            with np.errstate(all="ignore"):
                if self._fast_qr:
                    # rfac's lower part holds Householder vectors: numerator() takes the triangle.
                    u, rfac = _thin_qr((self.grid.sw / q)[:, None] * self._vnum_f)
                else:
                    u, rfac = np.linalg.qr((self.grid.sw / q)[:, None] * self.vnum)
                c = u.T @ self.grid.y
                yhat = u @ c
                r = self.grid.y - yhat
            self._key = key
            self._state = (q, dq, u, rfac, c, yhat, r)
        return self._state

    def residual(self, theta: _Array) -> _Array:
        """Return the projected residual at ``θ`` (finite: non-finite entries read ``1e150``)."""
        r = self._eval(theta)[6]
        # One dot product instead of an elementwise test (this runs at every LM evaluation):
        # ``r @ r`` is finite whenever every entry is; an overflow only costs the np.where.
        if not math.isfinite(float(r @ r)):
            # A zero of Q at a node (plain form): a huge, finite residual keeps LM away.
            return np.where(np.isfinite(r), r, 1e150)
        return r

    def jacobian(self, theta: _Array) -> _Array:
        """Return the exact Golub–Pereyra Jacobian of :meth:`residual` at ``θ``."""
        q, dq, u, _, _, yhat, r = self._eval(theta)
        with np.errstate(all="ignore"):
            g = dq / q[:, None]
            x1 = g * yhat[:, None]
            jac = x1 - u @ (u.T @ x1) + u @ (u.T @ (g * r[:, None]))
        if not math.isfinite(float(np.sum(jac))):  # as in residual: one reduction
            jac = np.nan_to_num(jac, nan=0.0, posinf=1e150, neginf=-1e150)
        return jac

    def numerator(self, theta: _Array) -> _Array:
        """Return the optimal numerator coefficients (in the numerator basis) for ``θ``."""
        _, _, _, rfac, c, _, _ = self._eval(theta)
        return np.linalg.solve(np.triu(rfac), c) if rfac.size else np.zeros(0)

    def cost(self, theta: _Array) -> float:
        """Return ``‖r(θ)‖²`` (``inf`` where it is not finite)."""
        r = self._eval(theta)[6]
        val = float(r @ r)
        return val if math.isfinite(val) else math.inf

    def polish(
        self, theta0: _Array, *, tight: bool = False, quick: bool = False
    ) -> tuple[_Array, int]:
        """Run LM from ``θ0``; return the final point and MINPACK's status.

        ``quick``: a short run (``6 (n + 1)`` evaluations, loose tolerances) that only tells
        whether a start leads anywhere promising.
        """
        theta0 = np.asarray(theta0, dtype=np.float64)
        if theta0.size == 0:
            return theta0, 1
        if not np.all(np.isfinite(theta0)) or not math.isfinite(self.cost(theta0)):
            return theta0, -1
        tol = 1e-15 if tight else 1e-6 if quick else 1e-10
        nmax = (400 if tight else 6 if quick else 60) * (theta0.size + 1)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            with _one_blas_thread():
                theta, status = _minpack_lm(self.residual, self.jacobian, theta0, tol, nmax)
        # LM returns its best point; guard against a worse one all the same.
        if self.cost(theta) > self.cost(theta0):
            theta = theta0
        return theta, status

    def polish_bounded(
        self, theta0: _Array, *, tight: bool = False, lower: _Array | None = None
    ) -> tuple[_Array, int]:
        """Run bound-constrained trust-region reflective LS from ``θ0`` on ``θ >= lower``
        (default ``θ >= 0``).

        For ``safe``, where ``Q`` depends on ``|θ_k|`` only: the problem is over ``c = |θ| >= 0``
        and its optima often lie on faces (some ``c_k = 0``), where the unconstrained LM on
        ``|θ|`` meets a kink and stalls. The trust-region reflective method of Branch, Coleman
        & Li (1999) (:func:`scipy.optimize.least_squares` ``method="trf"``) keeps the iterates
        feasible and converges onto a face when the optimum lies there.

        Returns the final point and scipy's status (``0``: the evaluation limit was reached).
        """
        from scipy.optimize import least_squares

        theta0 = np.abs(np.asarray(theta0, dtype=np.float64))
        if theta0.size == 0:
            return theta0, 1
        lo = np.zeros(theta0.size) if lower is None else np.asarray(lower, dtype=np.float64)
        theta0 = np.maximum(theta0, lo)
        if not np.all(np.isfinite(theta0)) or not math.isfinite(self.cost(theta0)):
            return theta0, -1
        tol = 1e-15 if tight else 1e-10
        nmax = (400 if tight else 60) * (theta0.size + 1)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            with _one_blas_thread():
                res = least_squares(
                    self.residual,
                    theta0,
                    jac=self.jacobian,
                    bounds=(lo, np.inf),
                    method="trf",
                    ftol=tol,
                    xtol=tol,
                    gtol=tol,
                    max_nfev=nmax,
                    x_scale="jac",
                )
        theta = np.maximum(res.x, lo)
        if self.cost(theta) > self.cost(theta0):
            theta = theta0
        return theta, int(res.status)


def _thin_qr(amat: _Array) -> tuple[_Array, _Array]:
    """The thin QR factor ``U`` of a tall ``amat`` and the top rows of the factored matrix.

    LAPACK ``dgeqrf`` + ``dorgqr``, as :func:`numpy.linalg.qr` calls them, without its per-call
    workspace queries and checks: 7 µs instead of 21 µs for 60 x 6 (a residual evaluation on
    the plain form's screening rule of tanh [5, 4], 40 x 6: 31 µs instead of 37 µs). The upper
    triangle of the second result is ``R``.
    """
    rows, cols = amat.shape
    if cols == 0 or rows < cols:
        return np.linalg.qr(amat)
    if not _LAPACK:
        from scipy.linalg import lapack

        _LAPACK.extend([lapack.dgeqrf, lapack.dorgqr])
    geqrf, orgqr = _LAPACK
    lwork = 64 * cols
    qr, tau, _, _ = geqrf(amat, lwork=lwork, overwrite_a=True)
    u, _, _ = orgqr(qr, tau, lwork=lwork, overwrite_a=False)
    return u, qr[:cols]


_LAPACK: list[Any] = []  # scipy's dgeqrf, dorgqr, loaded on first use
_BLAS: list[Any] = []  # the threadpoolctl controller, made on first use ([None]: unavailable)


def _one_blas_thread() -> Any:
    """A context in which OpenBLAS (numpy's, scipy's) runs on one thread.

    The QR factors here are tall and thin (``~1e3 x 9``): OpenBLAS splits them over threads,
    which on a loaded machine costs more than it gains, 12x on two busy cores (1080 x 9: 1.28 ms
    threaded, 0.11 ms on one thread; hardtanh [8, 8] abs on [-8, 8] spent 16 of its 20 s in
    ``qr``). threadpoolctl is optional: without it the context does nothing.
    """
    import contextlib

    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - threadpoolctl not installed
            _BLAS.append(None)
    if _BLAS[0] is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _BLAS[0].limit(limits=1, user_api="blas")


# MINPACK's info code -> scipy.optimize.least_squares' status (its FROM_MINPACK_TO_COMMON).
_LM_STATUS = {0: -1, 1: 2, 2: 3, 3: 4, 4: 1, 5: 0}


def _minpack_lm(fun: Any, jac: Any, x0: _Array, tol: float, nmax: int) -> tuple[_Array, int]:
    """MINPACK ``lmder`` as ``least_squares(method="lm", x_scale="jac")`` calls it.

    The same routine with the same arguments (``diag=None``: scaling from the Jacobian's column
    norms; ``factor=100``), so the iterates are identical, but through
    :func:`scipy.optimize.leastsq`: ``least_squares`` wraps the functions and evaluates the
    Jacobian again at the end. Returns the final point and ``least_squares``' status code.
    """
    from scipy.optimize import leastsq

    x, _, _, _, info = leastsq(
        fun, x0, Dfun=jac, full_output=True, col_deriv=False, ftol=tol, xtol=tol, gtol=tol,
        maxfev=nmax, factor=100.0, diag=None,
    )
    return np.asarray(x, dtype=np.float64), _LM_STATUS.get(int(info), 0)


def make_varpro(grid: Grid, m: int, n: int, form: str, fast_qr: bool = False) -> VarPro:
    """Return the projected problem of type [m, n] in ``form`` on ``grid`` (internal coordinates).

    ``fast_qr``: factor through LAPACK directly (the plain form; rounding differs slightly).

    Examples:
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> g = make_grid(get_target("relu", {}), parse_weight("uniform"), -1.0, 1.0, (0.0,), 2, 8)
        >>> vp = make_varpro(g, 1, 0, "safe")  # relu = (x + |x|)/2: degree 1 leaves |x|/2
        >>> round(vp.cost(np.zeros(0)), 6)
        0.041667
    """
    vnum = _cheb.chebvander(grid.t, m)
    basis = eval_denominator_basis(form, grid, grid.x, grid.t, n)
    return VarPro(grid, vnum, Model(form, basis), fast_qr)


# ------------------------------------------------------------------------------------------------
# Newton refinement
# ------------------------------------------------------------------------------------------------
def _abs_breakpoints(grid: Grid, theta: _Array) -> tuple[float, ...]:
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


class Refiner:
    """Newton refinement of the optimum on the continuous objective.

    LM stops once the cost no longer decreases visibly, which leaves the parameters determined
    only to about ``sqrt(eps)`` in flat directions. The gradient ``Jᵀr`` is exact, so a few Newton
    steps with a central-difference Hessian of it pin the stationary point down to rounding
    level; that is what makes the coefficients independent of the quadrature rule. For ``abs``
    every evaluation uses nodes split at the current sign changes of ``S`` (the kinks of
    ``1 + |S|`` move with the parameters), so the gradient is that of the continuous integral.
    """

    def __init__(
        self, target: Any, weight: Weight, grid: Grid, vp: VarPro, m: int, form: str
    ) -> None:
        self.target = target
        self.weight = weight
        self.base = grid
        self.base_vp = vp
        self.m = m
        self.form = form
        self._cache: dict[tuple[float, ...], VarPro] = {}

    def vp_for(self, theta: _Array) -> VarPro:
        """Return the projected problem on a rule that resolves the kinks of ``Q`` at ``θ``."""
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
            grid = make_grid(self.target, self.weight, g.a, g.b, key, g.panels, g.order)
            vp = make_varpro(grid, self.m, theta.size, self.form)
            self._cache[key] = vp
        return vp

    def cost(self, theta: _Array) -> float:
        """The objective on a rule that resolves the kinks of ``Q`` at ``θ``."""
        return self.vp_for(theta).cost(theta)

    def evaluations(self) -> int:
        """Return the objective evaluations on the base rule and on every split rule."""
        return self.base.nfev + sum(vp.grid.nfev for vp in self._cache.values())

    def _grad(self, theta: _Array) -> tuple[_Array, float]:
        vp = self.vp_for(theta)
        r = vp.residual(theta)
        return vp.jacobian(theta).T @ r, float(r @ r)

    def refine(self, theta: _Array, iterations: int = 6) -> tuple[_Array, int]:
        """Return the refined ``θ`` and the number of Newton steps taken (0: none helped)."""
        with _one_blas_thread():
            return self._refine(theta, iterations)

    def _refine(self, theta: _Array, iterations: int) -> tuple[_Array, int]:
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


# ------------------------------------------------------------------------------------------------
# Feasibility: poles of plain, faces of safe
# ------------------------------------------------------------------------------------------------
def has_plain_pole(grid: Grid, theta: _Array, q_nodes: _Array) -> bool:
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


def snap_to_faces(vp: VarPro, theta: _Array) -> _Array:
    """Set ``c_k`` that the bounded method left just inside the bound to exactly 0.

    The trust-region reflective iterates stay strictly feasible, so a face optimum comes back
    with ``c_k ~ 1e-20`` instead of 0. In the scaled coordinates ``Q >= 1`` and ``s <= 1``, so
    ``c_k <= 1e-8`` moves ``Q`` by at most ``1e-8``; the zero is kept where the cost does not
    rise (at a face optimum the gradient points into the feasible side, so it falls).
    """
    cost = vp.cost(theta)
    for k in np.flatnonzero((theta > 0.0) & (theta <= 1e-8)):
        trial = theta.copy()
        trial[k] = 0.0
        new = vp.cost(trial)
        if new <= cost * (1.0 + 1e-13):
            theta, cost = trial, new
    return theta


# ------------------------------------------------------------------------------------------------
# A global lower bound (safe form, small n)
# ------------------------------------------------------------------------------------------------
def bound_safe_globally(
    vp: VarPro,
    upper: float,
    cmax: float = 1e4,
    rel_gap: float = 1e-2,
    max_boxes: int = 400,
) -> tuple[float, float, int]:
    """Branch and bound over ``c ∈ [0, cmax]^n``: a lower bound on the ``safe`` objective.

    ``upper`` is the best cost known. On a box ``lo <= c <= hi`` every ``Q_c <= Q_hi`` (the
    basis ``s^k >= 0``), so ``(f - P/Q)^2 = (f Q - P)^2 / Q^2 >= (f Q_c - P)^2 / Q_hi^2``, which
    is linear least squares in ``(α, c)`` with bounds on ``c``: a convex relaxation solved exactly
    (bounded-variable least squares, Stark & Parker 1995). Boxes are split (geometrically where
    wide, the optima of wide ranges reach ``c ~ 1e3``) until every open box's bound is within
    ``rel_gap`` of the best cost found, or ``max_boxes`` boxes.

    Returns ``(lower, upper, boxes)``: ``lower`` a valid lower bound of the cost over the box
    domain (the minimum bound of the open boxes), ``upper`` the best cost seen (the given one or
    lower, found at the relaxations' minimisers).
    """
    import heapq

    from scipy.optimize import lsq_linear

    g, vnum, basis = vp.grid, vp.vnum, vp.model.basis
    n = basis.shape[1]
    k = vnum.shape[1]
    fb = g.f[:, None] * basis

    def relax(lo: _Array, hi: _Array) -> tuple[float, _Array]:
        scale = g.sw / (1.0 + basis @ hi)
        mat = scale[:, None] * np.hstack([vnum, -fb])
        norms = np.linalg.norm(mat, axis=0)
        norms[norms == 0] = 1.0
        lower = np.concatenate([np.full(k, -np.inf), lo * norms[k:]])
        upper_b = np.concatenate([np.full(k, np.inf), hi * norms[k:]])
        upper_b = np.maximum(upper_b, lower + 1e-300)
        res = lsq_linear(mat / norms, scale * g.f, bounds=(lower, upper_b), method="bvls")
        c = np.clip(res.x[k:] / norms[k:], lo, hi)
        return 2.0 * float(res.cost), c

    best = upper
    heap: list[tuple[float, int, _Array, _Array]] = []
    lo0, hi0 = np.zeros(n), np.full(n, cmax)
    lb, c = relax(lo0, hi0)
    best = min(best, vp.cost(c))
    heapq.heappush(heap, (lb, 0, lo0, hi0))
    boxes, count = 1, 1
    while heap and boxes < max_boxes:
        lb, _, lo, hi = heap[0]
        if lb >= best * (1.0 - rel_gap):
            break
        heapq.heappop(heap)
        # Split where Q varies most over the box: the widest (1 + hi)/(1 + lo).
        j = int(np.argmax((1.0 + hi) / (1.0 + lo)))
        wide = hi[j] > 4.0 * (1.0 + lo[j])
        cut = math.sqrt((1.0 + lo[j]) * (1.0 + hi[j])) - 1.0 if wide else 0.5 * (lo[j] + hi[j])
        for a, b in ((lo[j], cut), (cut, hi[j])):
            nlo, nhi = lo.copy(), hi.copy()
            nlo[j], nhi[j] = a, b
            val, c = relax(nlo, nhi)
            best = min(best, vp.cost(c))
            boxes += 1
            if val < best * (1.0 - rel_gap):
                count += 1
                heapq.heappush(heap, (val, count, nlo, nhi))
    lower = min(heap[0][0], best) if heap else best * (1.0 - rel_gap)
    return lower, best, boxes

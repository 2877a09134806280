"""Differential correction: the best uniform generalised rational fit on a finite grid, by LPs.

For a grid ``x_1..x_N``, a positive weight ``w`` and linear families ``P = Ψ α`` (numerator) and
``Q = Φ γ`` (denominator, with optional linear constraints on ``γ``),
:func:`differential_correction` minimises ``max_j w_j |f_j - P_j / Q_j|`` over ``Q > 0`` on the
grid. Each step solves one linear programme (Cheney & Loeb 1961; Barrodale, Powell & Roberts 1972)::

    minimise δ  subject to  |w_j (f_j Q_j - P_j)| - Δ_k Q_j <= δ Q^(k)_j  for all j,
                            γ in its box, G γ >= h, E (α, γ) = e,

where ``Δ_k`` is the current grid error and ``Q^(k)`` the current denominator: every constraint row
is divided by the previous denominator. Differential correction converges to the global optimum of
the discrete problem from any start with ``Q > 0`` (Barrodale, Powell & Roberts 1972, for linear
families; the box ``|γ| <= 1`` is their normalisation).

The LP is written in the *correction* ``(α, γ) = (α_k, γ_k) + Δ_k (u, v)`` and every row is divided
by ``Δ_k``, so its right-hand side ``(Δ_k - σ e_k(x_j)) / Δ_k`` is an O(1) number computed in full
relative precision. The solver's absolute tolerances then act on the *relative* error level, and
the iteration reaches the discrete optimum to about 1e-9 relative even when the error is 1e-12.
The constraints are written the same way: ``G γ >= h`` becomes ``G v >= (h - G γ_k) / Δ_k`` and
``E (α, γ) = e`` becomes ``E (u, v) = (e - E (α_k, γ_k)) / Δ_k``. From a start that satisfies
them the right-hand sides are 0 up to the rounding of ``G γ_k`` (resp. ``E (α_k, γ_k)``), which
the correction removes; with rows scaled to unit size (the caller's job) they stay O(1) or
smaller, so the argument above is unchanged. Differential correction with linear constraints on
the coefficients keeps its convergence to the constrained discrete optimum (Barrodale, Powell &
Roberts 1972 allow any convex polyhedral set of coefficients).

References:
    E. W. Cheney and H. L. Loeb, "Two new algorithms for rational approximation", Numer. Math. 3
    (1961), 72–75.
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
    Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method", Math. Prog.
    Comp. 10 (2018), 119–142 (HiGHS, the LP solver, through its package ``highspy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DCResult", "differential_correction"]

_Array = NDArray[np.float64]
# Row generation (_HighsLP._solve_by_rows): most rows added per round, and most rounds.
_MAX_CUTS = 64
_MAX_CUT_ROUNDS = 200
_FIRST_ROW_STRIDE = 8
# (trust box in correction units, HiGHS method, feasibility tolerance): tried in turn until
# HiGHS succeeds.
_ATTEMPTS = (
    (math.inf, "highs-ds", 1e-10),
    (math.inf, "highs-ipm", 1e-10),
    (1e4, "highs-ds", 1e-10),
    (1e2, "highs-ds", 1e-10),
    (1.0, "highs-ds", 1e-10),
)
# For constrained, degenerate LPs (abs sign patterns) a looser tolerance is the better retry.
_LOOSE_ATTEMPTS = (
    (math.inf, "highs-ds", 1e-10),
    (math.inf, "highs-ds", 1e-8),
    (1e2, "highs-ds", 1e-9),
    (1.0, "highs-ds", 1e-9),
)


@dataclass
class DCResult:
    """The outcome of :func:`differential_correction`.

    Attributes:
        alpha: numerator coefficients in the basis ``Ψ``.
        gamma: denominator coefficients in the basis ``Φ``.
        error: ``max_j w_j |f_j - P_j/Q_j|`` on the grid.
        iterations: LPs solved.
        converged: the last step improved the error by less than the tolerance.
        lower_bound: a lower bound on the discrete optimum (over the box and the constraints)
            from the full-box LPs' levels when ``q_floor`` was given, else 0 (see
            :func:`differential_correction`).
        basis: HiGHS's basis of the last LP solved (None without one), for ``warm``.
    """

    alpha: _Array
    gamma: _Array
    error: float
    iterations: int
    converged: bool
    lower_bound: float = 0.0
    basis: Any = None


def _grid_error(psi: _Array, phi: _Array, f: _Array, w: _Array, alpha: _Array, gamma: _Array):
    q = phi @ gamma
    with np.errstate(all="ignore"):
        e = w * (f - (psi @ alpha) / q)
    if not np.all(q > 0) or not np.all(np.isfinite(e)):
        return q, e, np.inf
    return q, e, float(np.max(np.abs(e)))


class _HighsLP:
    """The LPs of one differential-correction run, solved by HiGHS with warm starts.

    Successive LPs of a run share their shape and nearly their optimal vertex, so each starts
    from the previous optimal basis (dual simplex, presolve off: presolve would discard the
    basis, and on these small dense LPs it costs more than it saves). HiGHS is reached through
    its own Python package ``highspy``; without it every LP goes through ``linprog``, cold,
    which measured 25% slower over twelve plain fits (gelu, relu, tanh, swish, elu, sigmoid at
    [4,4] and [6,6]: 6.1 s against 4.6-5.1 s).
    """

    # HiGHS's small_matrix_value, when not its default (set before the first solve).
    small_matrix_value: float | None = None

    def __init__(self) -> None:
        try:
            import highspy
        except ImportError:  # pragma: no cover - highspy is a dependency
            highspy = None
        self._core = highspy
        self._highs = None
        self._basis = None
        self._rows = -1

    def solve(
        self,
        cost: _Array,
        a_ub: _Array,
        b_ub: _Array,
        col_lower: _Array,
        col_upper: _Array,
        method: str,
        tol: float,
        a_eq: _Array | None = None,
        b_eq: _Array | None = None,
        first_rows: NDArray[np.int64] | None = None,
    ) -> _Array | None:
        """Minimise ``cost @ x`` s.t. ``a_ub @ x <= b_ub``, ``a_eq @ x = b_eq`` (when given),
        ``col_lower <= x <= col_upper``.

        ``first_rows``: solve by row generation (:meth:`_solve_by_rows`) from these rows of
        ``a_ub`` (dual simplex, no equalities only); the LP and its optimum are the same.

        Returns the optimal ``x`` or None (infeasible, unbounded or numerical trouble).
        """
        if self._core is None:
            return self._linprog(cost, a_ub, b_ub, col_lower, col_upper, method, tol, a_eq, b_eq)
        if (first_rows is not None and method != "highs-ipm"
                and (a_eq is None or not a_eq.shape[0])):
            x = self._solve_by_rows(cost, a_ub, b_ub, col_lower, col_upper, tol, first_rows)
            if x is not None:
                return x
            # HiGHS failed on the relaxation (its bases can be worse conditioned than the whole
            # LP's): the whole LP from the last basis, exactly as without row generation (a
            # cold restart instead changed the abs results: mish [5,5] on [0, 4], 3.6e-7 ->
            # 4.4e-6).
            self._highs.clearSolver()
        row_lower = np.full(a_ub.shape[0], -np.inf)
        if a_eq is not None and b_eq is not None and a_eq.shape[0]:
            # Equality rows are ranged rows with equal bounds.
            a_ub = np.vstack([a_ub, a_eq])
            row_lower = np.concatenate([row_lower, b_eq])
            b_ub = np.concatenate([b_ub, b_eq])
        core = self._core
        h = self._setup(method, tol)
        rows, cols = a_ub.shape
        # Column-wise dense matrix: column j holds rows 0..rows-1.
        h.passModel(
            cols,
            rows,
            rows * cols,
            int(core.MatrixFormat.kColwise),
            int(core.ObjSense.kMinimize),
            0.0,
            np.ascontiguousarray(cost, dtype=np.float64),
            np.ascontiguousarray(col_lower, dtype=np.float64),
            np.ascontiguousarray(col_upper, dtype=np.float64),
            np.ascontiguousarray(row_lower, dtype=np.float64),
            np.ascontiguousarray(b_ub, dtype=np.float64),
            np.arange(0, (cols + 1) * rows, rows, dtype=np.int32),
            np.tile(np.arange(rows, dtype=np.int32), cols),
            np.ascontiguousarray(a_ub.T, dtype=np.float64).ravel(),
            np.zeros(cols, dtype=np.int32),
        )
        if self._basis is not None and self._rows == rows and method != "highs-ipm":
            h.setBasis(self._basis)
        h.run()
        if h.getModelStatus() != core.HighsModelStatus.kOptimal:
            self._basis = None
            return None
        self._basis, self._rows = h.getBasis(), rows
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return x if np.all(np.isfinite(x)) else None

    def _setup(self, method: str, tol: float) -> Any:
        """The HiGHS instance, created on first use, with this solve's method and tolerances."""
        if self._highs is None:
            self._highs = _silent_highs(self._core)
            self._highs.setOptionValue("presolve", "off")
            self._highs.setOptionValue("simplex_strategy", 1)  # dual simplex
            if self.small_matrix_value is not None:
                self._highs.setOptionValue("small_matrix_value", self.small_matrix_value)
        h = self._highs
        h.setOptionValue("solver", "ipm" if method == "highs-ipm" else "simplex")
        h.setOptionValue("primal_feasibility_tolerance", tol)
        h.setOptionValue("dual_feasibility_tolerance", tol)
        return h

    def _solve_by_rows(
        self,
        cost: _Array,
        a_ub: _Array,
        b_ub: _Array,
        col_lower: _Array,
        col_upper: _Array,
        tol: float,
        first_rows: NDArray[np.int64],
    ) -> _Array | None:
        """:meth:`solve` by row generation (a cutting-plane method; Dantzig, Fulkerson & Johnson
        1954): the LP of the rows ``first_rows``, and of the rows active in the last optimal
        basis, is solved; the rows its optimum violates are added (HiGHS keeps the basis, so the
        dual simplex goes on from it) until none is. The optimum of a relaxation that meets
        every row is the optimum of the whole LP (to the feasibility tolerance).

        The differential-correction LPs have ``p + q + 1`` columns against thousands of rows,
        of which only ``~p + q`` are active, so the relaxations are small and few rounds add
        few rows (``benchmarks/abs_row_generation.py``, the abs form's fits of every registry
        target on four ranges, 495 cells: median time ratio 0.74-0.89 per range, smooth [6,6]
        on [-3, 3] at most 0.37 -> 0.29 s, on [-1, 1] 1.04 -> 0.35 s; 1 cell of 495 worse
        beyond rounding and the LP tolerance, softsign [6,6] on [0, 4], an exact class, 6.6e-14
        -> 5.9e-13). The basis kept for the next solve is the whole LP's (rows outside the
        relaxation basic), so :meth:`seed` maps it as before. HiGHS fails on some relaxations
        (a singular basis where the whole LP has none); the caller then solves the whole LP.
        """
        core = self._core
        rows, cols = a_ub.shape
        prev = self._basis if self._basis is not None and self._rows == rows else None
        basic = core.HighsBasisStatus.kBasic
        keep = np.zeros(rows, dtype=bool)
        keep[first_rows] = True
        if prev is not None:
            full_status = list(prev.row_status)
            keep |= np.array([st != basic for st in full_status], dtype=bool)
        idx = np.flatnonzero(keep)
        h = self._setup("highs-ds", tol)
        h.passModel(
            cols,
            idx.size,
            idx.size * cols,
            int(core.MatrixFormat.kRowwise),
            int(core.ObjSense.kMinimize),
            0.0,
            np.ascontiguousarray(cost, dtype=np.float64),
            np.ascontiguousarray(col_lower, dtype=np.float64),
            np.ascontiguousarray(col_upper, dtype=np.float64),
            np.full(idx.size, -np.inf),
            np.ascontiguousarray(b_ub[idx], dtype=np.float64),
            *_dense_rows(a_ub[idx]),
            np.zeros(cols, dtype=np.int32),
        )
        if prev is not None:
            start = core.HighsBasis()
            start.col_status = list(prev.col_status)
            start.row_status = [full_status[j] for j in idx.tolist()]
            start.valid = True
            h.setBasis(start)
        for _ in range(_MAX_CUT_ROUNDS):
            h.run()
            if h.getModelStatus() != core.HighsModelStatus.kOptimal:
                return None  # the caller's whole-LP solve starts from the last basis, as before
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
            if not np.all(np.isfinite(x)):
                return None
            viol = a_ub @ x - b_ub
            viol[idx] = -np.inf
            bad = np.flatnonzero(viol > tol)
            if bad.size == 0:
                break
            if bad.size > _MAX_CUTS:
                bad = bad[np.argsort(viol[bad])[-_MAX_CUTS:]]
            bad = np.sort(bad)
            h.addRows(
                bad.size,
                np.full(bad.size, -np.inf),
                np.ascontiguousarray(b_ub[bad], dtype=np.float64),
                bad.size * cols,
                *_dense_rows(a_ub[bad]),
            )
            idx = np.concatenate([idx, bad])
        else:
            return None  # pragma: no cover - the cut rounds are capped far above their use
        got = h.getBasis()
        full = [basic] * rows
        for j, st in zip(idx.tolist(), list(got.row_status), strict=True):
            full[j] = st
        out = core.HighsBasis()
        out.col_status = list(got.col_status)
        out.row_status = full
        out.valid = True
        self._basis, self._rows = out, rows
        return x

    def basis(self) -> Any:
        """The optimal basis of the last solve, or None."""
        return getattr(self, "_basis", None)

    def seed(self, basis: Any, row_map: NDArray[np.int64]) -> None:
        """Start the next solve from ``basis``, the optimal basis of an LP whose row ``row_map[i]``
        is this LP's row ``i`` (``-1``: a new row, whose slack enters the basis); same columns.

        The differential-correction LPs of successive exchange rounds differ by the rows of the
        added points, and a cold start costs about twice a warm one (16 against 9 ms on the
        abs [6,6] fits of eight smooth targets)."""
        if self._core is None or basis is None:
            return
        basic = self._core.HighsBasisStatus.kBasic
        old = list(basis.row_status)
        new = self._core.HighsBasis()
        new.col_status = list(basis.col_status)
        new.row_status = [old[j] if j >= 0 else basic for j in row_map.tolist()]
        new.valid = True
        self._basis, self._rows = new, int(row_map.size)

    @staticmethod
    def _linprog(
        cost: _Array,
        a_ub: _Array,
        b_ub: _Array,
        col_lower: _Array,
        col_upper: _Array,
        method: str,
        tol: float,
        a_eq: _Array | None = None,
        b_eq: _Array | None = None,
    ) -> _Array | None:
        from scipy.optimize import linprog

        bounds = [
            (None if not np.isfinite(lo) else float(lo), None if not np.isfinite(hi) else float(hi))
            for lo, hi in zip(col_lower, col_upper, strict=True)
        ]
        res = linprog(
            cost,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq if a_eq is not None and a_eq.shape[0] else None,
            b_eq=b_eq if a_eq is not None and a_eq.shape[0] else None,
            bounds=bounds,
            method=method,
            options={
                "presolve": False,
                "primal_feasibility_tolerance": tol,
                "dual_feasibility_tolerance": tol,
            },
        )
        return res.x if res.status == 0 and res.x is not None else None


def _dense_rows(a: _Array) -> tuple[NDArray[np.int32], NDArray[np.int32], _Array]:
    """HiGHS's row-wise sparse arrays (starts, column indices, values) of the dense ``a``."""
    rows, cols = a.shape
    return (
        np.arange(0, rows * cols, cols, dtype=np.int32),
        np.tile(np.arange(cols, dtype=np.int32), rows),
        np.ascontiguousarray(a, dtype=np.float64).ravel(),
    )


def _silent_highs(highspy: Any) -> Any:
    """A ``highspy.Highs`` that prints nothing, not even the banner.

    ``Highs.__init__`` enables its callbacks, and HiGHS logs its banner to the C-level stdout
    (the ``--json`` document's stream) when that happens with output on: output goes off in
    ``enableCallbacks``, before that.
    """

    class _Silent(highspy.Highs):  # type: ignore[misc, name-defined]
        def enableCallbacks(self) -> None:
            self.setOptionValue("output_flag", False)
            super().enableCallbacks()

    return _Silent()


def differential_correction(
    psi: _Array,
    phi: _Array,
    f: _Array,
    w: _Array,
    alpha: _Array,
    gamma: _Array,
    *,
    lower: _Array,
    upper: _Array,
    constraints: _Array | None = None,
    constraint_lower: _Array | None = None,
    equalities: tuple[_Array, _Array] | None = None,
    maxiter: int = 40,
    rtol: float = 1e-10,
    atol: float = 0.0,
    loose_retry: bool = False,
    q_floor: float | None = None,
    small_matrix_value: float | None = None,
    stop_above: float = math.inf,
    gap_rtol: float = 1e-8,
    warm: tuple[Any, NDArray[np.int64]] | None = None,
    row_generation: bool = False,
) -> DCResult:
    """Return the discrete best weighted uniform fit ``P/Q`` on a grid, by differential correction.

    Args:
        psi: ``N x p`` numerator basis at the grid.
        phi: ``N x q`` denominator basis at the grid.
        f: target values at the grid.
        w: positive weights at the grid.
        alpha: starting numerator coefficients.
        gamma: starting denominator coefficients (``Φ γ > 0`` on the grid).
        lower: lower bounds on ``γ`` (the normalisation box).
        upper: upper bounds on ``γ``.
        constraints: optional matrix ``G`` with the linear constraints ``G γ >= h``.
        constraint_lower: the right-hand side ``h`` (zeros when None).
        equalities: optional ``(E, e)``: the linear equalities ``E (α, γ) = e`` on the full
            coefficient vector (numerator first), rows scaled to unit size; the start should
            satisfy them (a step that leaves them is still accepted only if it lowers the error).
        maxiter: most LPs to solve.
        rtol: stop when an LP improves the grid error by less than ``rtol`` relative.
        atol: stop when the grid error is at most ``atol`` (rounding level).
        loose_retry: when HiGHS reports numerical trouble, retry with a looser feasibility
            tolerance before shrinking the trust box (better for constrained, degenerate LPs;
            worse for accuracy at tiny errors).
        q_floor: a number ``Q_min > 0`` with ``Q >= Q_min`` on the grid for every coefficient
            vector in the box that meets the constraints (abs: ``c_0 = 1`` and ``σ S >= 0``
            give ``Q >= 1``); with it the result carries ``lower_bound``.
        small_matrix_value: HiGHS drops matrix entries below this (its default, 1e-9, when
            None); a row whose entries span more than that ratio needs a smaller value (abs:
            the sign constraints near ``x = 0``, see :func:`actfit.approx.exchange.solve`).
        stop_above: with ``q_floor``, stop as soon as ``lower_bound >= stop_above`` (the
            caller's rival is then out of reach on this grid).
        gap_rtol: with ``q_floor``, stop (converged) once a full-box LP proves the grid
            optimum within ``gap_rtol`` (relative) of the error.
        warm: ``(basis, row_map)``: start the first LP from ``basis`` (a previous result's),
            its rows mapped as in :meth:`_HighsLP.seed`; ignored with ``equalities``.
        row_generation: solve each LP by row generation (:meth:`_HighsLP._solve_by_rows`):
            the same LPs, solved faster when the grid is large.

    The lower bound: let ``(P*, Q*)`` be the discrete optimum, of error ``Δ* < Δ_k``. It is
    feasible in the LP of step ``k`` solved over the *full* normalisation box (not a trust box),
    where its level is ``max_j (|w(f Q* - P*)|_j - Δ_k Q*_j) / Q^(k)_j <= (Δ* - Δ_k) min_j
    Q*_j / Q^(k)_j <= (Δ* - Δ_k) Q_min / max_j Q^(k)_j``. The LP optimum ``δ_k`` is no larger,
    so ``Δ* >= Δ_k + δ_k max_j Q^(k)_j / Q_min`` (Barrodale, Powell & Roberts 1972 use the same
    inequality for convergence). It holds up to the LP's tolerances, and a trust-box LP (whose
    optimum is higher) gives no bound.

    The argument holds for any level ``Δ`` in place of ``Δ_k`` in the rows. With ``q_floor``
    and a finite ``stop_above`` below the start's error, the first LP is built at ``Δ =
    stop_above``: an optimum ``>= 0`` proves that no coefficients on this grid reach an error
    below ``stop_above`` (one LP instead of a run of them, for a sign pattern that cannot win).
    Otherwise the run goes on as it would have without the probe. (The probe's step, to an
    error below ``stop_above``, is not taken: from it, later LPs ended at worse local results,
    abs [6,6] on [-3, 3]: 6.29e-4 against 3.16e-4.)
    """
    alpha = np.asarray(alpha, dtype=np.float64).copy()
    gamma = np.asarray(gamma, dtype=np.float64).copy()
    q, e, delta = _grid_error(psi, phi, f, w, alpha, gamma)
    if not np.isfinite(delta):
        raise ValueError("differential correction needs a start with Q > 0 on the grid")
    p_dim, q_dim = psi.shape[1], phi.shape[1]
    g = np.zeros((0, q_dim)) if constraints is None else np.asarray(constraints, dtype=np.float64)
    h = np.zeros(g.shape[0]) if constraint_lower is None else np.asarray(constraint_lower, float)
    if equalities is None:
        e_mat, e_rhs = np.zeros((0, p_dim + q_dim)), np.zeros(0)
    else:
        e_mat = np.asarray(equalities[0], dtype=np.float64).reshape(-1, p_dim + q_dim)
        e_rhs = np.asarray(equalities[1], dtype=np.float64).reshape(-1)
    floor = 1e-300
    converged = False
    attempts = _LOOSE_ATTEMPTS if loose_retry else _ATTEMPTS
    # With loose_retry, a run whose LPs need a looser tolerance keeps needing it (the same
    # degenerate constraint rows every step): later LPs start at the attempt that last succeeded
    # instead of failing the strict one again each time.
    first = 0
    def new_solver() -> _HighsLP:
        lp = _HighsLP()
        lp.small_matrix_value = small_matrix_value
        if warm is not None and not e_mat.shape[0]:
            lp.seed(*warm)
        return lp

    solver = new_solver()
    it = 0
    lower_bound = 0.0
    probed = False
    while it < maxiter + probed:
        it += 1
        if delta <= atol:
            converged = True
            break
        scale = max(delta, floor)
        # The first LP of a run with a rival asks at the rival's error instead (see below).
        probe = not probed and q_floor is not None and stop_above < delta
        level = stop_above if probe else delta
        wq = w / q
        wf = w * f
        rows = []
        rhs = []
        for sigma in (1.0, -1.0):
            rows.append(
                np.hstack(
                    [
                        -sigma * wq[:, None] * psi,
                        ((sigma * wf - level) / q)[:, None] * phi,
                        -np.ones((f.size, 1)),
                    ]
                )
            )
            rhs.append((level - sigma * e) / scale)
        if g.shape[0]:
            rows.append(np.hstack([np.zeros((g.shape[0], p_dim)), -g, np.zeros((g.shape[0], 1))]))
            rhs.append((g @ gamma - h) / scale)
        a_ub = np.vstack(rows)
        b_ub = np.concatenate(rhs)
        first_rows = None
        if row_generation:
            # Every 8th row (a coarse copy of the grid) and the rows nearest to active at the
            # current coefficients (smallest right-hand side: the error's extrema, S's zeros).
            near = np.argsort(b_ub)[: 3 * (p_dim + q_dim + 1)]
            first_rows = np.union1d(np.arange(0, b_ub.size, _FIRST_ROW_STRIDE), near)
        a_eq = np.hstack([e_mat, np.zeros((e_mat.shape[0], 1))])
        b_eq = (e_rhs - e_mat @ np.concatenate([alpha, gamma])) / scale
        cost = np.zeros(p_dim + q_dim + 1)
        cost[-1] = 1.0
        lo = (lower - gamma) / scale
        hi = (upper - gamma) / scale
        z = None
        tight = False
        # The normalisation box is huge in correction units when the error is tiny; HiGHS may
        # then report numerical trouble, so retry inside smaller trust boxes (still LPs of the
        # same family; a step that improves the error is all differential correction needs).
        for k, (box, method, tol) in enumerate(attempts[first:], start=first):
            col_lower = np.concatenate(
                [np.full(p_dim, -np.inf), np.maximum(np.minimum(lo, 0.0), -box), [-np.inf]]
            )
            col_upper = np.concatenate(
                [np.full(p_dim, np.inf), np.minimum(np.maximum(hi, 0.0), box), [np.inf]]
            )
            z = solver.solve(
                cost, a_ub, b_ub, col_lower, col_upper, method, tol, a_eq, b_eq, first_rows
            )
            if z is not None:
                if loose_retry:
                    first = k
                if q_floor is not None and box == math.inf:
                    # z[-1] is the LP's optimum in units of Δ_k; the tolerance makes it
                    # conservative. A probe whose optimum is >= 0 proves Δ* >= level outright.
                    opt = z[-1] - 10.0 * tol
                    spread = float(np.max(q)) / q_floor
                    bound = level + min(opt, 0.0) * scale * spread
                    lower_bound = max(lower_bound, bound)
                    # This step's error is within gap_rtol of the grid optimum (the same bound
                    # without the tolerance margin, which alone is ~1e-9 * spread).
                    tight = not probe and -z[-1] * spread <= gap_rtol
                break
        if probe:
            # A test only: its step is not taken (nor its basis or tolerance kept), so a
            # pattern that passes it runs exactly as it would have without it.
            probed, first, solver = True, 0, new_solver()
            if lower_bound >= stop_above:
                break
            continue
        if z is None:
            break
        new_alpha = alpha + scale * z[:p_dim]
        new_gamma = np.clip(gamma + scale * z[p_dim : p_dim + q_dim], lower, upper)
        new_q, new_e, new_delta = _grid_error(psi, phi, f, w, new_alpha, new_gamma)
        if not new_delta < delta:
            converged = True
            break
        improvement = (delta - new_delta) / max(delta, floor)
        alpha, gamma, q, e, delta = new_alpha, new_gamma, new_q, new_e, new_delta
        if lower_bound >= stop_above:
            break
        if tight:
            # Further LPs could gain no more than gap_rtol (see above).
            converged = True
            break
        if improvement <= rtol or delta <= floor:
            converged = True
            break
        if loose_retry and -z[-1] <= 10.0 * tol:
            # The LP's level is within ten feasibility tolerances of 0: it no longer certifies a
            # descent, and the next LPs repeat the same tolerance-sized step.
            converged = True
            break
    return DCResult(alpha, gamma, delta, it, converged, lower_bound, solver.basis())

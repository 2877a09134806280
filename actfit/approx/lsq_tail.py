"""The tail constraint of the least-squares fitter: ``tail="linear"`` (safe form).

A safe-form table with ``m <= n + 1`` grows at most linearly exactly when its top denominator
coefficient is non-zero; the free L2 optimum often puts it at 0 (gelu [5,4]: ``b4 = 0``, the
table grows like ``x^2``). The constraint keeps ``|b_n| R^n >= TAIL_FLOOR`` in the fitter's
scaled variable ``|x|/R`` and solves the bound-constrained variable-projection problem near the
free optimum (:meth:`actfit.approx.varpro.VarPro.polish_bounded`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actfit.approx.varpro import Grid
from actfit.errors import FormError, OrderError, ParameterError

__all__ = ["TAILS", "TAIL_FLOOR", "check_tail", "linear_tail"]

TAIL_FLOOR = 1e-2
"""``tail="linear"``: the floor on the top denominator coefficient in the scaled variable
``|x|/R`` (``|b_n| R^n >= TAIL_FLOOR``)."""
TAILS = ("free", "linear")


def check_tail(tail: str, form: str, m: int, n: int) -> str:
    """Return the tail option checked against the form and order.

    Raises:
        ParameterError: an unknown tail.
        FormError: ``"linear"`` with a form other than ``safe``.
        OrderError: ``"linear"`` with ``n = 0`` or ``m > n + 1``.
    """
    t = str(tail).strip().lower()
    if t not in TAILS:
        raise ParameterError(
            f"unknown tail {tail!r}; use 'free' (the unconstrained optimum) or 'linear'"
        )
    if t == "linear":
        if form != "safe":
            raise FormError(
                f"tail 'linear' is available for the safe form (the {form} form's top "
                "coefficient has no sign to bound); use form safe"
            )
        if n == 0 or m > n + 1:
            raise OrderError(
                f"tail 'linear' needs a denominator and m <= n + 1 (got [{m},{n}]); e.g. "
                f"order [{max(n, 1) + 1},{max(n, 1)}]"
            )
    return t


def linear_tail(vp: Any, theta: np.ndarray, n: int, grid: Grid) -> tuple[np.ndarray, dict]:
    """The best point with ``c_n >= TAIL_FLOOR`` near the free optimum ``theta`` (safe form).

    ``θ`` are the scaled coefficients ``c_k = |b_k| R^k``; r grows at most linearly exactly
    when ``c_n > 0`` and ``m <= n + 1``. The constrained problem is the same bound-constrained
    VarPro with the lower bound raised on ``c_n`` (Branch, Coleman & Li's trust-region
    reflective method keeps it feasible), started from the free optimum and from the free
    optimum with ``c_n`` lifted to the floor and to ``10 x`` the floor; the best is kept.
    """
    lower = np.zeros(n)
    lower[n - 1] = TAIL_FLOOR
    free_cost = vp.cost(np.abs(theta))
    best, best_cost = None, np.inf
    for lift in (1.0, 10.0, 100.0):
        start = np.abs(theta).copy()
        start[n - 1] = max(start[n - 1], lift * TAIL_FLOOR)
        th, _ = vp.polish_bounded(start, tight=True, lower=lower)
        c = vp.cost(th)
        if c < best_cost:
            best, best_cost = th, c
    info = {
        "kind": "linear",
        "floor": TAIL_FLOOR,
        "constraint": f"|b_{n}| R^{n} >= {TAIL_FLOOR:g}, R = {grid.radius:g}",
        "active": bool(abs(theta[n - 1]) < TAIL_FLOOR),
        "l2_error_free": float(np.sqrt(max(free_cost, 0.0))),
        "l2_error_linear": float(np.sqrt(max(best_cost, 0.0))),
    }
    return best, info

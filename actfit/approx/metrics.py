"""The error report of a fit: max abs error (located and refined), rms and L2 on the range.

The maximum is found on a dense grid that includes the target's kinks and the range's ends, then
each of the largest local maxima is refined by golden-section search, so the reported value is
a true attained error (a lower bound on the sup that is tight to about 1e-12 relative). The rms and
L2 norms are continuous integrals computed by composite Gauss-Legendre quadrature split at the
kinks, independent of any grid size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from actfit.approx.extrema import dense_grid, refine_maxima
from actfit.approx.quadrature import gauss_legendre_nodes
from actfit.rational import Rational

__all__ = ["ErrorReport", "error_report", "max_error"]

_GRID = 20001


@dataclass(frozen=True)
class ErrorReport:
    """Errors of a rational against its target on the fit range.

    Attributes:
        max_abs: maximum absolute error on ``[a, b]``.
        max_abs_at: where it is attained.
        rms: root-mean-square error, ``sqrt(∫ e² dx / (b - a))``.
        l2: continuous L2 norm of the error, ``sqrt(∫ e² dx)``.
        grid: how the numbers were obtained.
    """

    max_abs: float
    max_abs_at: float
    rms: float
    l2: float
    grid: str

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready dictionary used in result documents."""
        return {
            "max_abs": self.max_abs,
            "max_abs_at": self.max_abs_at,
            "rms": self.rms,
            "l2": self.l2,
            "grid": self.grid,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> ErrorReport:
        """Inverse of :meth:`to_dict`."""
        return cls(
            max_abs=float(d["max_abs"]),  # type: ignore[arg-type]
            max_abs_at=float(d["max_abs_at"]),  # type: ignore[arg-type]
            rms=float(d["rms"]),  # type: ignore[arg-type]
            l2=float(d["l2"]),  # type: ignore[arg-type]
            grid=str(d["grid"]),
        )


def max_error(
    err: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    a: float,
    b: float,
    kinks: tuple[float, ...] = (),
    *,
    refine: int = 64,
) -> tuple[float, float]:
    """Return ``(max |err(x)|, argmax)`` over ``[a, b]``: dense grid, then local refinement.

    The grid is :func:`~actfit.approx.extrema.dense_grid` with 20001 Chebyshev and 20001
    uniform points and the kinks (with neighbours at ``±1e-9``); every sampled local maximum
    within half of the largest (at most ``refine`` of them, largest first; and the ends) is
    refined by :func:`~actfit.approx.extrema.refine_maxima`: a minimax error has m + n + 2 equal
    peaks, and the grid does not tell which of them is the largest.

    Args:
        err: vectorised error function.
        a: left end of the range.
        b: right end of the range.
        kinks: points to include in the grid (where the error may peak sharply).
        refine: the most grid maxima to refine.

    Examples:
        >>> value, at = max_error(lambda x: 1.0 - (x - 0.25) ** 2, -1.0, 1.0)
        >>> round(value, 12), round(at, 6)
        (1.0, 0.25)
    """
    inner = [k for k in kinks if a < k < b]
    near = [k + d for k in inner for d in (-1e-9, 0.0, 1e-9)]
    xs = dense_grid(a, b, chebyshev=_GRID, uniform=_GRID, graded=0, extra=[*near, a, b])
    vals = np.abs(err(xs))
    if not np.all(np.isfinite(vals)):
        i = int(np.flatnonzero(~np.isfinite(vals))[0])
        return float("inf"), float(xs[i])
    # Local maxima of the sampled |err|, largest first.
    interior = np.flatnonzero((vals[1:-1] >= vals[:-2]) & (vals[1:-1] >= vals[2:])) + 1
    cand = np.concatenate((interior, [0, vals.size - 1]))
    cand = cand[np.argsort(vals[cand])[::-1]][:refine]
    cand = cand[vals[cand] >= 0.5 * vals[cand[0]]]
    best_i = int(np.argmax(vals))
    best_x, best = float(xs[best_i]), float(vals[best_i])
    lo = xs[np.maximum(cand - 1, 0)]
    hi = xs[np.minimum(cand + 1, xs.size - 1)]
    keep = hi > lo
    at, values = refine_maxima(lambda x: np.abs(err(x)), lo[keep], hi[keep])
    for x, v in zip(at, values, strict=True):
        if v > best:
            best, best_x = float(v), float(x)
    return best, best_x


def error_report(
    target: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    rational: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    a: float,
    b: float,
    kinks: tuple[float, ...] = (),
    poles: tuple[float, ...] = (),
) -> ErrorReport:
    """Return the :class:`ErrorReport` of ``rational`` against ``target`` on ``[a, b]``.

    Args:
        target: vectorised float64 function.
        rational: vectorised float64 approximation.
        a: left end of the range.
        b: right end of the range.
        kinks: points where the target is not smooth; quadrature is split there.
        poles: real poles of the rational on ``[a, b]`` (from the exact pole report). The
            error is unbounded there, so every norm is reported as infinite, not as whatever
            a grid happened to sample.
    """
    if poles:
        inf = float("inf")
        return ErrorReport(
            max_abs=inf,
            max_abs_at=float(poles[0]),
            rms=inf,
            l2=inf,
            grid=f"unbounded: the denominator vanishes on the range at x = {poles[0]:.9g}",
        )

    def err(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return rational(x) - target(x)

    # The integrand's kinks are the target's and the rational's own (abs form: the zeros of S).
    if isinstance(rational, Rational):
        kinks = tuple(sorted({*kinks, *rational.kinks(a, b)}))
    max_abs, at = max_error(err, a, b, kinks)
    xq, wq = gauss_legendre_nodes(a, b, [k for k in kinks if a < k < b], panels=16, order=32)
    with np.errstate(over="ignore", invalid="ignore"):
        sq = float(np.dot(wq, err(xq) ** 2))  # inf when the error overflows: reported as such
    l2 = float(np.sqrt(sq))
    rms = float(np.sqrt(sq / (b - a)))
    return ErrorReport(
        max_abs=max_abs,
        max_abs_at=at,
        rms=rms,
        l2=l2,
        grid=(
            f"max: {_GRID}-point Chebyshev+uniform grid with kinks, top maxima refined; "
            "rms/L2: composite Gauss-Legendre (16 panels x 32 nodes per piece, split at kinks)"
        ),
    )

"""Composite Gauss–Legendre quadrature on an interval split at breakpoints.

The least-squares fitter and the error metrics measure continuous L2 norms over the fit range.
Activations such as relu or leaky_relu are not smooth at a few points (their ``kinks``); a
Gauss–Legendre rule on a piece where the integrand is analytic converges exponentially, so the
range is split at the kinks first and each piece is cut into equal panels. The result does not
depend on a sampling grid: refining the panels only changes the answer at rounding level once the
rule has converged.

References:
    G. H. Golub and J. H. Welsch, "Calculation of Gauss quadrature rules", Math. Comp. 23 (1969),
    221–230 (the nodes and weights, via :func:`numpy.polynomial.legendre.leggauss`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from actfit.errors import ParameterError, RangeError

__all__ = ["gauss_legendre_nodes", "integrate"]


@lru_cache(maxsize=64)
def _reference_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the Gauss–Legendre nodes and weights of ``order`` points on [-1, 1] (read-only)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


def _pieces(a: float, b: float, breakpoints: Sequence[float]) -> np.ndarray:
    """Return the sorted edges a = e0 < ... < ek = b of [a, b], split at interior breakpoints."""
    inner = sorted({float(t) for t in breakpoints if a < float(t) < b})
    # Drop breakpoints that would create a piece too short to matter (and to resolve in float64).
    tol = 64 * np.finfo(float).eps * max(abs(a), abs(b), b - a)
    edges = [a]
    for t in inner:
        if t - edges[-1] > tol and b - t > tol:
            edges.append(t)
    edges.append(b)
    return np.asarray(edges, dtype=float)


def gauss_legendre_nodes(
    a: float,
    b: float,
    breakpoints: Sequence[float] = (),
    *,
    panels: int = 8,
    order: int = 24,
) -> tuple[np.ndarray, np.ndarray]:
    """Return composite Gauss–Legendre nodes and weights on [a, b].

    The interval is split at the breakpoints that lie strictly inside (a, b); each piece is cut
    into ``panels`` equal panels carrying an ``order``-point Gauss–Legendre rule (Golub & Welsch
    1969). The rule integrates polynomials of degree ``2 * order - 1`` exactly on every panel, so
    a piecewise polynomial with joins at the breakpoints is integrated exactly too.

    Args:
        a: Left end of the interval (finite).
        b: Right end of the interval (finite, ``b > a``).
        breakpoints: Points where the integrand is not analytic, e.g. a target's ``kinks``; those
            outside (a, b) are ignored.
        panels: Number of equal panels per piece (>= 1).
        order: Number of Gauss–Legendre nodes per panel (>= 1).

    Returns:
        ``(nodes, weights)``: 1-D float64 arrays of equal length, nodes ascending, weights
        positive and summing to ``b - a``.

    Raises:
        RangeError: If a or b is not finite or ``a >= b``.
        ParameterError: If ``panels`` or ``order`` is smaller than 1.

    Examples:
        >>> x, w = gauss_legendre_nodes(-1.0, 2.0, breakpoints=(0.0,))
        >>> round(float(w @ np.abs(x)), 12)
        2.5
    """
    a = float(a)
    b = float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or not a < b:
        raise RangeError(
            f"quadrature range [{a}, {b}] must be finite with a < b; swap or fix the ends"
        )
    if int(panels) != panels or panels < 1:
        raise ParameterError(f"panels must be a positive integer, got {panels!r}")
    if int(order) != order or order < 1:
        raise ParameterError(f"order must be a positive integer, got {order!r}")
    ref_x, ref_w = _reference_rule(int(order))
    edges = _pieces(a, b, breakpoints)
    # Panel edges: each piece linearly subdivided; keep the piece ends exact.
    fractions = np.linspace(0.0, 1.0, int(panels) + 1)
    starts = edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * fractions[None, :]
    starts[:, -1] = edges[1:]
    left = starts[:, :-1].ravel()
    right = starts[:, 1:].ravel()
    half = 0.5 * (right - left)
    mid = 0.5 * (right + left)
    nodes = (mid[:, None] + half[:, None] * ref_x[None, :]).ravel()
    weights = (half[:, None] * ref_w[None, :]).ravel()
    return nodes, weights


def integrate(
    f,
    a: float,
    b: float,
    breakpoints: Sequence[float] = (),
    *,
    panels: int = 8,
    order: int = 24,
) -> float:
    """Return the composite Gauss–Legendre approximation of the integral of ``f`` over [a, b].

    Args:
        f: Vectorised callable on float64 arrays.
        a: Left end of the interval.
        b: Right end of the interval.
        breakpoints: Points where ``f`` is not analytic (see :func:`gauss_legendre_nodes`).
        panels: Panels per piece.
        order: Nodes per panel.

    Returns:
        The approximate integral as a Python float.

    Raises:
        RangeError: If the interval is not finite or reversed.
        ParameterError: If ``panels`` or ``order`` is smaller than 1.

    Examples:
        >>> round(integrate(lambda x: np.maximum(x, 0.0), -3.0, 3.0, (0.0,)), 12)
        4.5
    """
    x, w = gauss_legendre_nodes(a, b, breakpoints, panels=panels, order=order)
    return float(w @ np.asarray(f(x), dtype=float))

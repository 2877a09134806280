"""Grids and extrema of an error function: where a worst-case error is attained, and how large.

Every worst-case number in actfit comes from here: the error report's ``max_abs``
(:mod:`actfit.approx.metrics`), the minimax fitter's continuum exchange and Remez polish, and the
certificate's upper bound and alternant (:mod:`actfit.approx.certificate`).

* :func:`dense_grid` builds the sample grid: Chebyshev points of the interval (rational errors
  peak near the ends), optionally uniform points, given points, and points geometrically graded
  toward special points (kinks and ends, where a kinked target's error has its narrow peaks).
* :func:`refine_maxima` refines local maxima of a function, each inside its grid bracket.
* :func:`error_extrema` returns the signed local extrema of an error on a grid, refined;
  :func:`alternant` picks an alternating subsequence of them (the reference of Remez's exchange
  and of de la Vallée Poussin's bound).

References:
    J. Kiefer, "Sequential minimax search for a maximum", Proc. Amer. Math. Soc. 4 (1953),
    502–506 (golden-section search).
    R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall (1973), ch. 5
    (it replaced Brent's bounded search of ``scipy.optimize.minimize_scalar``).
    E. W. Cheney, *Introduction to Approximation Theory*, McGraw-Hill (1966), ch. 3 (the
    alternant and the exchange).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "alternant",
    "dense_grid",
    "error_extrema",
    "graded_points",
    "refine_maxima",
    "rounding_level",
]

_Array = NDArray[np.float64]
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# 48 golden-section steps shrink a bracket by 0.618^48 = 9e-11: a bracket of two spacings of the
# 4000-point grid on [-3, 3] (<= 5e-3) ends below 5e-13, a graded one near a kink far below; the
# 4e-16 relative width stops it earlier only when the bracket is already that narrow.
_GOLDEN_STEPS = 48
_GOLDEN_WIDTH = 4e-16


def graded_points(center: float, lo: float, hi: float, count: int, smallest: float) -> _Array:
    """Return ``center ± h`` with ``h`` geometric from ``smallest`` times the distance to each end
    up to that distance (``count`` points a side; a side of zero length has none).

    Examples:
        >>> graded_points(0.0, -1.0, 1.0, 3, 1e-2).tolist()
        [-0.01, -0.1, -1.0, 0.01, 0.1, 1.0]
    """
    out = []
    for side, length in ((-1.0, center - lo), (1.0, hi - center)):
        if length <= 0:
            continue
        h = np.geomspace(smallest * length, length, count)
        out.append(center + side * h)
    return np.concatenate(out) if out else np.zeros(0)


def dense_grid(
    lo: float,
    hi: float,
    *,
    chebyshev: int = 4000,
    uniform: int = 1001,
    special: Iterable[float] = (),
    graded: int = 400,
    smallest: float = 1e-14,
    extra: ArrayLike = (),
) -> _Array:
    """Return the sorted sample grid on ``[lo, hi]`` (duplicates removed, clipped to the range).

    Args:
        lo: left end.
        hi: right end.
        chebyshev: number of Chebyshev (extreme) points of the interval.
        uniform: number of equispaced points (0: none).
        special: points toward which ``graded`` points are graded on each side (kinks, ends).
        graded: points a side per special point (see :func:`graded_points`).
        smallest: the smallest graded offset, relative to the distance to the end.
        extra: further points to include.

    Examples:
        >>> dense_grid(-1.0, 1.0, chebyshev=3, uniform=0).tolist()
        [-1.0, 0.0, 1.0]
    """
    cheb = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.linspace(0.0, np.pi, chebyshev))
    parts = [cheb]
    if uniform:
        parts.append(np.linspace(lo, hi, uniform))
    parts.append(np.asarray(extra, dtype=np.float64).ravel())
    if graded:
        for c in special:
            parts.append(graded_points(c, lo, hi, graded, smallest))
    return np.unique(np.clip(np.concatenate(parts), lo, hi))


def refine_maxima(
    func: Callable[[_Array], _Array], lo: ArrayLike, hi: ArrayLike, *, steps: int | None = None
) -> tuple[_Array, _Array]:
    """Return ``(x, func(x))``: a maximiser of ``func`` in each bracket ``[lo_i, hi_i]``.

    Golden-section search on all brackets at once (Kiefer 1953), 48 steps or a width of 4e-16
    relative: the one refiner of the package (the minimax exchange, its certificate, the error
    report and the pole report's min |Q|). Each bracket should hold one local maximum (two grid
    spacings around a sampled one). For a minimum, maximise ``-func``. Measured against Brent's
    bounded search (``scipy.optimize.minimize_scalar``, which it replaced in the error report):
    on a planted peak of width 1e-9 this is within 1e-12 of the true value, Brent up to 1e-6 off
    (``tests/test_extrema.py``).

    Args:
        func: vectorised function (called with 1-d arrays).
        lo: left ends of the brackets.
        hi: right ends (``hi > lo``).
        steps: at most this many golden-section steps (default 48); a caller that needs the
            maximum of a bound to a few digits only (the rounding-error bounds) takes fewer.

    Examples:
        >>> x, v = refine_maxima(lambda t: -(t - 0.3) ** 2, [0.0], [1.0])
        >>> abs(float(x[0]) - 0.3) < 1e-7, float(v[0]) > -1e-14
        (True, True)
    """
    lo = np.array(lo, dtype=np.float64, ndmin=1)
    hi = np.array(hi, dtype=np.float64, ndmin=1)
    return _golden(func, lo, hi, _GOLDEN_STEPS if steps is None else int(steps))


def _golden(
    func: Callable[[_Array], _Array], lo: _Array, hi: _Array, steps: int = 48
) -> tuple[_Array, _Array]:
    if lo.size == 0:
        return lo.copy(), lo.copy()
    c = hi - _GOLDEN * (hi - lo)
    d = lo + _GOLDEN * (hi - lo)
    fc, fd = func(c), func(d)
    for _ in range(steps):
        left_better = fc > fd
        hi = np.where(left_better, d, hi)
        lo = np.where(left_better, lo, c)
        new_c = hi - _GOLDEN * (hi - lo)
        new_d = lo + _GOLDEN * (hi - lo)
        probe = np.where(left_better, new_c, new_d)
        fp = func(probe)
        c_next = np.where(left_better, new_c, d)
        d_next = np.where(left_better, c, new_d)
        fc_next = np.where(left_better, fp, fd)
        fd_next = np.where(left_better, fc, fp)
        c, d, fc, fd = c_next, d_next, fc_next, fd_next
        if np.all(hi - lo <= _GOLDEN_WIDTH * np.maximum(1.0, np.abs(hi))):
            break
    left = fc >= fd
    return np.where(left, c, d), np.where(left, fc, fd)


def error_extrema(
    err: Callable[[_Array], _Array], grid: _Array, fixed: Iterable[float] = ()
) -> tuple[_Array, _Array, bool]:
    """Return ``(x, e)`` at the local extrema of ``|err|`` on ``grid``, refined, and whether
    ``err`` was finite everywhere on the grid.

    Local maxima of ``|err|`` at interior grid points that are not in ``fixed`` (kinks, ends:
    where the maximum sits *at* the point) are refined by golden section inside their bracket
    of neighbouring grid points; a refined point replaces the grid point only when it is larger.
    The points are sorted; ``e`` is the signed error there.

    Examples:
        >>> g = np.linspace(-1.0, 1.0, 101)
        >>> x, e, ok = error_extrema(lambda t: np.cos(3.0 * t), g)
        >>> np.round(x, 6).tolist(), ok
        [[-1.0, -0.0, 1.0], True]
    """
    e = err(grid)
    finite = bool(np.all(np.isfinite(e)))
    if not finite:
        bad = ~np.isfinite(e)
        e = np.where(bad, np.inf, e)
    v = np.abs(e)
    n = v.size
    left = np.concatenate(([-1.0], v[:-1]))
    right = np.concatenate((v[1:], [-1.0]))
    idx = np.flatnonzero((v >= left) & (v >= right) & (v > 0))
    if idx.size == 0:
        idx = np.array([int(np.argmax(v))])
    fixed_set = set(fixed)
    xs = grid[idx].copy()
    es = e[idx].copy()
    interior = np.array(
        [0 < i < n - 1 and grid[i] not in fixed_set and np.isfinite(e[i]) for i in idx], dtype=bool
    )
    if np.any(interior):
        ii = idx[interior]
        cand, _ = refine_maxima(lambda x: np.abs(err(x)), grid[ii - 1], grid[ii + 1])
        ec = err(cand)
        better = np.abs(ec) > np.abs(es[interior])
        xs[interior] = np.where(better, cand, xs[interior])
        es[interior] = np.where(better, ec, es[interior])
    order = np.argsort(xs)
    return xs[order], es[order], finite


def alternant(xs: _Array, es: _Array, need: int) -> tuple[_Array, _Array]:
    """Return the alternating subsequence of at least ``need`` extrema that maximises ``min |e|``
    (one point, the largest, per run of equal sign), or empty arrays when there is none.

    Examples:
        >>> x, e = alternant(np.arange(4.0), np.array([1.0, 0.5, -2.0, 1.5]), 3)
        >>> x.tolist(), e.tolist()
        ([0.0, 2.0, 3.0], [1.0, -2.0, 1.5])
    """
    ok = np.isfinite(es) & (es != 0)
    xs, es = xs[ok], es[ok]
    if need <= 0:
        need = 1
    levels = np.unique(np.abs(es))[::-1]
    for lam in levels:
        keep = np.abs(es) >= lam
        xk, ek = xs[keep], es[keep]
        runs = np.concatenate(([0], np.flatnonzero(np.sign(ek[1:]) != np.sign(ek[:-1])) + 1))
        if runs.size >= need:
            bounds = np.concatenate((runs, [ek.size]))
            px, pe = [], []
            for s, t in itertools.pairwise(bounds):
                j = s + int(np.argmax(np.abs(ek[s:t])))
                px.append(xk[j])
                pe.append(ek[j])
            return np.array(px), np.array(pe)
    return np.zeros(0), np.zeros(0)


def rounding_level(f: _Array, w: _Array) -> float:
    """The rounding level of a weighted error ``w (f - r)`` sampled with ``f``, ``w``: below it,
    a fit reproduces the target.

    Examples:
        >>> rounding_level(np.array([1.0]), np.array([1.0])) < 1e-13
        True
    """
    return 64.0 * float(np.finfo(float).eps) * float(np.max(np.abs(w * f)) + np.max(w))

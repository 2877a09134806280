"""Monomial coefficients of a least-squares optimum found in the internal coordinates.

The engine (:mod:`actfit.approx.varpro`) works with a Chebyshev numerator and a shifted
Chebyshev (``plain``, ``abs``) or scaled-``|x|`` (``safe``) denominator; actfit stores ascending
monomial coefficients in ``x``. The monomial coefficients are produced twice — by exact basis
conversion (:func:`actfit.approx.chebyshev.cheb_to_monomial`) and by a fresh weighted linear
solve for the monomial numerator given the converted denominator — and the one with the smaller
quadrature error is kept; if it is still worse than the internal optimum beyond rounding, a
short Levenberg–Marquardt polish in the monomial coordinates follows.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.varpro import Grid, Model, VarPro, eval_shifted_chebyshev
from actfit.rational import Rational

__all__ = ["from_monomial_denominator", "to_monomial_denominator", "to_monomial_rational"]

_Array = NDArray[np.float64]


def _canonical_den(form: str, den: _Array, radius: float) -> _Array:
    """``abs``: the sign of ``S`` is arbitrary (``|S| = |-S|``); make its dominant term positive."""
    if form != "abs" or den.size == 0:
        return den
    k = int(np.argmax(np.abs(den) * radius ** np.arange(1, den.size + 1)))
    return -den if den[k] < 0 else den


def to_monomial_denominator(form: str, grid: Grid, theta: _Array) -> _Array:
    """Return the monomial denominator coefficients ``b_1..b_n`` of the internal ``θ``.

    Examples:
        >>> from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.varpro import Grid
        >>> g = Grid(-2.0, 2.0, *[np.zeros(0)] * 5, (), 1, 1)
        >>> to_monomial_denominator("safe", g, np.array([2.0, 4.0])).tolist()  # s = |x| / 2
        [1.0, 1.0]
    """
    n = theta.size
    if n == 0:
        return np.zeros(0)
    if form == "safe":
        return np.abs(theta) / grid.radius ** np.arange(1, n + 1)
    v0 = _cheb.chebvander(np.array([grid.t0]), n)[0, 1:]
    s_cheb = np.concatenate([[-float(v0 @ theta)], theta])
    return _canonical_den(form, cheb_to_monomial(s_cheb, grid.a, grid.b)[1:], grid.radius)


def from_monomial_denominator(form: str, grid: Grid, den: _Array) -> _Array:
    """Return the internal ``θ`` of monomial denominator coefficients (inverse of the above).

    Examples:
        >>> from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.varpro import Grid
        >>> g = Grid(-1.0, 3.0, *[np.zeros(0)] * 5, (), 1, 1)
        >>> theta = from_monomial_denominator("plain", g, np.array([0.5, -0.25]))
        >>> np.allclose(to_monomial_denominator("plain", g, theta), [0.5, -0.25])
        True
    """
    n = den.size
    if n == 0:
        return np.zeros(0)
    if form == "safe":
        return np.abs(den) * grid.radius ** np.arange(1, n + 1)
    # S(x) = Σ den_k x^k; fit it in the shifted Chebyshev basis by collocation (exact).
    tk = np.cos(np.pi * (np.arange(n + 1) + 0.5) / (n + 1))
    xk = grid.a + 0.5 * (grid.b - grid.a) * (tk + 1.0)
    s = np.polynomial.polynomial.polyval(xk, np.concatenate([[0.0], den]))
    return np.linalg.lstsq(eval_shifted_chebyshev(tk, grid.t0, n), s, rcond=None)[0]


def _monomial_error(grid: Grid, rational: Rational) -> float:
    with np.errstate(all="ignore"):
        r = grid.sw * (grid.f - rational(grid.x))
    val = float(r @ r)
    return math.sqrt(val) if math.isfinite(val) else math.inf


def _monomial_numerator(grid: Grid, m: int, q: _Array) -> _Array:
    """Weighted linear least squares for the monomial numerator given Q at the nodes."""
    vand = np.polynomial.polynomial.polyvander(grid.x, m) * (grid.sw / q)[:, None]
    norms = np.linalg.norm(vand, axis=0)
    norms[norms == 0] = 1.0
    sol = np.linalg.lstsq(vand / norms, grid.y, rcond=None)[0]
    return sol / norms


def to_monomial_rational(
    grid: Grid, m: int, form: str, vp: VarPro, theta: _Array
) -> tuple[Rational, str, float]:
    """Return the monomial rational for the internal optimum ``θ`` of ``vp``.

    The result is ``(rational, how, l2)``: ``how`` names the conversion that won
    (``"converted"``, ``"monomial-solve"`` or ``"monomial-polish"``; see the module docstring)
    and ``l2`` is its weighted L2 error on ``grid``.
    """
    internal = math.sqrt(max(vp.cost(theta), 0.0))
    den = to_monomial_denominator(form, grid, theta)
    num_conv = cheb_to_monomial(vp.numerator(theta), grid.a, grid.b)
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
        mono_vp = VarPro(grid, vnum, Model(form, basis))
        mono, _ = mono_vp.polish(np.asarray(best.denominator, dtype=np.float64), tight=True)
        mono_den = np.abs(mono) if form == "safe" else _canonical_den(form, mono, grid.radius)
        q = Rational(np.zeros(1), mono_den, form).denominator_at(xs)
        if np.all(np.abs(q) > 0):
            cand = Rational(_monomial_numerator(grid, m, q), mono_den, form)
            cerr = _monomial_error(grid, cand)
            if cerr < err:
                err, how, best = cerr, "monomial-polish", cand
    return best, how, err

"""The barycentric representation of a type-[n, n] rational for the minimax fitter.

A rational of type [n, n] is written with ``n + 1`` distinct *support points* ``z_j`` as

    r(x) = Σ a_j σ_j / (x - z_j)  /  Σ b_j σ_j / (x - z_j),    σ_j = Π_{k≠j} sign(z_j - z_k),

which is the whole class (``P = Σ a_j σ_j ℓ_j``, ``Q = Σ b_j σ_j ℓ_j`` with
``ℓ_j = Π_{k≠j} (x - z_k)``, a basis of the polynomials of degree <= n). :func:`basis` gives
the columns ``β_j(x) = σ_j sign(ℓ(x)) / ((x - z_j) Σ_k 1 / |x - z_k|)``: ``P = Σ a_j β_j`` and
``Q = Σ b_j β_j`` are ``P`` and ``Q`` divided by the positive function ``|ℓ| Σ 1/|x - z_k|``,
so ``Q > 0`` is unchanged, every row is bounded (``Σ_j |β_j(x)| = 1``) and ``b_j`` is the
scaled value of ``Q`` at ``z_j``. With ``Q > 0`` on the range, ``b_j > 0``; the normalisation
``Σ b_j = 1`` then puts every ``b_j`` in ``[0, 1]``, a box valid for every candidate, and
``b_j = 1 / (n + 1)`` is Berrut's pole-free interpolant (Berrut 1988), the start.

Why: the best approximations of kinked targets at high degree have poles and zeros clustered
geometrically toward the kink (Stahl 1993; relu [12,12] on [-3,3]: poles down to 1.4e-3 from
the real axis at 0), so ``Q`` varies over ~15 orders of magnitude on the range. In the
Chebyshev basis normalised to mean 1 its small values are below the coefficients' rounding and
the optimum cannot even be represented (actfit stopped at 4.77e-4 in 125 s, "local"); with
support points graded toward the kink the same LPs reach 2.0131e-4, certified, in about 1 s. This
is the representation of Filip, Nakatsukasa, Trefethen and Beckermann (2018, chebfun's
``minimax``) and of BRASIL (Hofreither 2021); here it feeds differential correction and the
Remez step unchanged (:mod:`actfit.approx.exchange`, :mod:`actfit.approx.remez`).

:func:`to_monomial` turns ``(z, a, b)`` into the stored monomial coefficients with ``Q(0) = 1``
in exact rational arithmetic (python-flint's ``fmpq_poly`` on the exact binary values), each
coefficient then rounded once to float64.

References:
    J.-P. Berrut, "Rational functions for guaranteed and experimentally well-conditioned global
    interpolation", Comput. Math. Appl. 15 (1988), 1–16.
    H. Stahl, "Best uniform rational approximation of |x| on [-1, 1]", Math. USSR Sb. 76
    (1993), 461–487.
    S.-I. Filip, Y. Nakatsukasa, L. N. Trefethen and B. Beckermann, "Rational minimax
    approximation via adaptive barycentric representations", SIAM J. Sci. Comput. 40 (2018),
    A2427–A2455.
    C. Hofreither, "An algorithm for best rational approximation based on barycentric rational
    interpolation", Numer. Algorithms 88 (2021), 365–388.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.approx.chebyshev import round_exact
from actfit.errors import FitError

__all__ = ["basis", "denominator_basis", "support_points", "to_monomial", "weights"]

_Array = NDArray[np.float64]
# The smallest support offset from a kink, relative to the side's length: the extrema of the
# best error of relu at [12,12] reach 1.6e-4 relative; a coarser grading is corrected by the
# LPs (relu [6,6]..[12,12] on [-1,1]..[-8,8] and leaky_relu, elu [12,12] on [-3,3] all certify
# from it).
_SMALLEST = 1e-3


def _signs(z: _Array) -> _Array:
    """``σ_j = Π_{k≠j} sign(z_j - z_k)`` (``(-1)^(#k > j)`` for sorted points)."""
    dz = z[:, None] - z[None, :]
    np.fill_diagonal(dz, 1.0)
    return np.prod(np.sign(dz), axis=1)


def basis(x: ArrayLike, z: ArrayLike) -> _Array:
    """Return the ``len(x) x len(z)`` matrix ``β_j(x)`` (see the module docstring).

    At a support point the row is the unit vector: ``β_j(z_j) = 1``.

    Examples:
        >>> z = np.array([-1.0, 0.0, 1.0])
        >>> np.abs(basis(np.array([0.0]), z)).tolist()
        [[0.0, 1.0, 0.0]]
        >>> bool(np.all(basis(np.linspace(-1, 1, 9), z) @ np.ones(3) > 0))  # Berrut: Q > 0
        True
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    z = np.asarray(z, dtype=np.float64).ravel()
    d = x[:, None] - z[None, :]
    hit = d == 0.0
    sgn = np.where(hit, 1.0, np.sign(d))
    # Π_{k≠j} sign(x - z_k): the sign of ℓ(x) over the sign of its j-th factor.
    others = np.prod(sgn, axis=1)[:, None] * sgn
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.abs(d)
    at = hit.any(axis=1)
    out = np.empty_like(d)
    free = inv[~at]
    out[~at] = free / free.sum(axis=1, keepdims=True)
    out[at] = hit[at]
    return out * others * _signs(z)[None, :]


def denominator_basis(x: ArrayLike, z: ArrayLike) -> _Array:
    """The denominator columns with the normalisation built in: ``γ_0 = Σ b_j`` and
    ``γ_k = b_k`` (``k >= 1``), i.e. ``[β_0, β_1 - β_0, ..., β_n - β_0]``; fixing ``γ_0 = 1``
    fixes ``Σ b_j = 1``."""
    out = basis(x, z)
    out[:, 1:] -= out[:, :1]
    return out


def weights(gamma: ArrayLike) -> _Array:
    """The scaled values ``b_j`` of ``Q`` at the support points from the coefficients ``γ`` of
    :func:`denominator_basis`."""
    g = np.asarray(gamma, dtype=np.float64)
    b = g.copy()
    b[0] = g[0] - g[1:].sum()
    return b


def support_points(lo: float, hi: float, kinks: tuple[float, ...], count: int,
                   grid: _Array, points: ArrayLike | None = None) -> _Array:
    """Return ``count`` support points on ``[lo, hi]``, snapped to points of ``grid``.

    With one kink inside: the ends and points graded geometrically toward the kink on each side
    (from ``1e-3`` of the side's length), where the best approximation's interpolation points
    cluster (Stahl 1993). Otherwise: Chebyshev extreme points. Snapping to the differential
    correction grid puts ``Q(z_j) > 0`` among its constraints, so no ``b_j`` reaches 0 (a pole at
    a support point between grid points). ``points``: snap these instead.

    Raises:
        FitError: fewer than ``count`` distinct grid points.

    Examples:
        >>> g = np.linspace(-1.0, 1.0, 2001)
        >>> np.round(support_points(-1.0, 1.0, (0.0,), 4, g), 6).tolist()
        [-1.0, -0.001, 0.001, 1.0]
    """
    inside = [k for k in kinks if lo < k < hi]
    if points is not None:
        z = np.asarray(points, dtype=np.float64)
    elif len(inside) == 1 and count >= 4:
        c = inside[0]
        left = count // 2
        right = count - left
        z = np.concatenate([
            c - (c - lo) * np.geomspace(_SMALLEST, 1.0, left)[::-1],
            c + (hi - c) * np.geomspace(_SMALLEST, 1.0, right),
        ])
    else:
        z = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.linspace(0.0, np.pi, count))
    grid = np.unique(np.asarray(grid, dtype=np.float64))
    pick = np.unique(np.argmin(np.abs(grid[:, None] - z[None, :]), axis=0))
    if pick.size < count:
        # Two targets snapped to one grid point: fill with the grid points farthest from the rest.
        rest = np.setdiff1d(np.arange(grid.size), pick)
        while pick.size < count and rest.size:
            far = rest[int(np.argmax(np.min(np.abs(grid[rest, None] - grid[None, pick]), axis=1)))]
            pick = np.union1d(pick, [far])
            rest = rest[rest != far]
    if pick.size < count:
        raise FitError(f"the grid has fewer than {count} points for the support of the fit")
    return grid[pick]


def _exact(v: float) -> Fraction:
    return Fraction(float(v))


def to_monomial(z: ArrayLike, alpha: ArrayLike, gamma: ArrayLike) -> tuple[_Array, _Array]:
    """Return ``(numerator, denominator)``: monomial coefficients (ascending) of ``P`` and ``Q``
    with ``Q(0) = 1``, the denominator without its constant term (the stored plain form).

    Exact: ``P = Σ a_j σ_j ℓ_j`` and ``Q = Σ b_j σ_j ℓ_j`` are expanded in python-flint's exact
    rational polynomials on the binary values of ``z``, ``a`` and ``b``, divided by ``Q(0)``
    and each coefficient rounded once (``Fraction -> float``, correctly rounded).

    Raises:
        FitError: ``Q(0) = 0`` (no form with ``Q(0) = 1``).

    Examples:
        >>> z = np.array([-1.0, 1.0])  # r = (a0 σ0/(x+1) + a1 σ1/(x-1)) / (...)
        >>> num, den = to_monomial(z, np.array([1.0, 1.0]), np.array([1.0, 0.5]))
        >>> num.tolist(), den.tolist()  # P = 2, Q = 1
        ([2.0, 0.0], [0.0])
    """
    import flint

    z = np.asarray(z, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64)
    b = weights(gamma)
    sig = _signs(z)

    def q(v: float) -> flint.fmpq:
        fr = _exact(v)
        return flint.fmpq(fr.numerator, fr.denominator)

    factors = [flint.fmpq_poly([-q(zk), 1]) for zk in z]
    p_poly = flint.fmpq_poly([0])
    q_poly = flint.fmpq_poly([0])
    for j in range(z.size):
        lj = flint.fmpq_poly([1])
        for k, fk in enumerate(factors):
            if k != j:
                lj *= fk
        p_poly += q(a[j] * sig[j]) * lj
        q_poly += q(b[j] * sig[j]) * lj
    pc = [Fraction(int(c.p), int(c.q)) for c in p_poly.coeffs()]
    qc = [Fraction(int(c.p), int(c.q)) for c in q_poly.coeffs()]
    n = z.size - 1
    pc += [Fraction(0)] * (n + 1 - len(pc))
    qc += [Fraction(0)] * (n + 1 - len(qc))
    scale = max(abs(c) for c in qc) if qc else Fraction(0)
    # Exact arithmetic: Q(0) is the exact value of the computed Q, tiny relative to its largest
    # coefficient for kinked targets (relu [12,12] on [-1,1]: ~1e-15) and still exact; the
    # certificate measures the stored table. Only a rounding-level Q(0) means no such form.
    if not qc or qc[0] == 0 or abs(qc[0]) <= Fraction(1, 10**30) * scale:
        raise FitError(
            "the best approximation's denominator vanishes at x = 0, so it has no form with "
            "Q(0) = 1; use a range containing 0 or a lower denominator degree"
        )
    q0 = qc[0]
    return round_exact([c / q0 for c in pc]), round_exact([c / q0 for c in qc[1:]])

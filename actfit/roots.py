"""Exact real-root isolation for polynomials given by float64 coefficients.

Floating-point root finders (``numpy.roots``) can lose a real root to a small imaginary part or
report a spurious one. Here every float64 coefficient is taken as the exact binary rational it
stands for, and the polynomial is handed to FLINT/Arb (python-flint): its squarefree factors
(``fmpz_poly.factor_squarefree``) and their certified complex-root enclosures
(``fmpz_poly.complex_roots``, Arb's ``arb_fmpz_poly_complex_roots``: isolating balls, real roots
with an imaginary part exactly zero; Johansson, "Arb: efficient arbitrary-precision midpoint-radius
interval arithmetic", IEEE Trans. Computers 66 (2017), 1281–1292). The count of real roots is
therefore exact, and each root is refined, at doubling precision, until its enclosure rounds to
one float64: the value returned is the correctly rounded root (ties, which only a dyadic root can
produce, are decided by an exact evaluation).

This module is a leaf: it imports nothing of actfit, so :mod:`actfit.rational` and
:mod:`actfit.approx.poles` can both use it.

Measured on the real zeros of the 198 plain-form denominators of the minimax benchmark
(``benchmarks/minimax.py``'s default run), each isolated and rounded to float64, best of 3 on the
2-core development machine: the hand-written Sturm sequences over :class:`fractions.Fraction`
that this replaces 0.38 s, ``sympy.Poly(..., domain=QQ).intervals`` with ``refine_root`` 0.30 s,
flint 0.038 s; the same 60 roots, flint's and sympy's bit-identical (8 of the Sturm code's were
one unit in the last place off correct rounding). ``pole_report`` on all 198: 0.44 s -> 0.19 s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import flint

__all__ = [
    "complex_roots",
    "count_real_roots",
    "is_nonnegative",
    "isolate_real_roots",
    "real_roots",
]

_START_PREC = 80
"""Bits of the first enclosure: enough for a float64 rounding of a well-separated root."""


def _exact_poly(coeffs: ArrayLike | Iterable[float]) -> flint.fmpq_poly:
    """The polynomial whose coefficients are the exact values of the float64 ``coeffs``."""
    import flint

    arr = np.asarray(coeffs, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"polynomial coefficients must be finite, got {arr.tolist()}")
    return flint.fmpq_poly([flint.fmpq(*float(c).as_integer_ratio()) for c in arr])


def _fraction(v: flint.arb) -> Fraction:
    man, exp = v.man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


class _Factor:
    """One squarefree factor and isolating enclosures ``[lo, hi]`` of its real roots."""

    def __init__(self, poly: flint.fmpz_poly, multiplicity: int) -> None:
        self.poly = poly
        self.multiplicity = multiplicity
        self.prec = _START_PREC // 2
        self.balls: list[tuple[Fraction, Fraction]] = []
        self.refine()

    def refine(self) -> None:
        """Recompute the enclosures at twice the precision (same roots, same ascending order)."""
        import flint

        self.prec *= 2
        # The end points are rounded (outward) to the working precision too.
        with flint.ctx.workprec(self.prec):
            # Arb puts the real roots first, ascending, with an imaginary part exactly 0.
            self.balls = [
                (_fraction(z.real.lower()), _fraction(z.real.upper()))
                for z, _ in self.poly.complex_roots()
                if z.imag.is_zero()
            ]

    def vanishes_at(self, x: Fraction) -> bool:
        import flint

        return self.poly(flint.fmpq(x.numerator, x.denominator)) == 0


def _factors(coeffs: ArrayLike | Iterable[float]) -> list[_Factor]:
    """Pairwise coprime squarefree factors of the polynomial (none for a constant or zero)."""
    p = _exact_poly(coeffs)
    if p.degree() < 1:
        return []
    _content, parts = p.numer().factor_squarefree()
    return [_Factor(f, int(e)) for f, e in parts if f.degree() >= 1]


def _to_float(v: Fraction) -> float:
    """``float(v)`` correctly rounded, saturating to +-inf beyond the float64 range."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _rounded(factor: _Factor, k: int) -> float | None:
    """The float64 rounding of the ``k``-th real root of ``factor``, or None if not yet known."""
    lo, hi = factor.balls[k]
    flo, fhi = _to_float(lo), _to_float(hi)
    if flo == fhi:
        return flo
    if np.isfinite(flo) and np.isfinite(fhi) and np.nextafter(flo, fhi) == fhi:
        tie = (Fraction(flo) + Fraction(fhi)) / 2
        if factor.vanishes_at(tie):  # a dyadic root exactly between two floats
            return _to_float(tie)
    return None


def real_roots(coeffs: ArrayLike | Iterable[float]) -> NDArray[np.float64]:
    """Return the sorted distinct real zeros of a polynomial, each correctly rounded to float64.

    The float64 coefficients are taken as exact binary rationals; a zero beyond the float64
    range (a leading coefficient of 1e-320, say) is returned as +-inf: it is a real zero, just
    not one a float can name.

    Args:
        coeffs: ascending monomial coefficients.

    Raises:
        ValueError: a coefficient is not finite.

    Examples:
        >>> real_roots([-2.0, 0.0, 1.0]).round(12).tolist()   # x^2 - 2
        [-1.414213562373, 1.414213562373]
        >>> real_roots([1.0, 0.0, 1.0]).tolist()   # x^2 + 1
        []
    """
    out: list[float] = []
    for factor in _factors(coeffs):
        done: dict[int, float] = {}
        while len(done) < len(factor.balls):
            for k in range(len(factor.balls)):
                if k not in done and (v := _rounded(factor, k)) is not None:
                    done[k] = v
            if len(done) < len(factor.balls):
                factor.refine()
        out.extend(done.values())
    return np.array(sorted(out), dtype=np.float64)


def _compare(factor: _Factor, k: int, x: Fraction) -> int:
    """Sign of ``root_k - x`` for the ``k``-th real root of ``factor``, decided exactly."""
    while True:
        lo, hi = factor.balls[k]
        if lo > x:
            return 1
        if hi < x:
            return -1
        # x lies in the isolating enclosure: it is this root iff the factor vanishes there
        if factor.vanishes_at(x):
            return 0
        factor.refine()


def count_real_roots(
    coeffs: ArrayLike | Iterable[float], a: float | None = None, b: float | None = None
) -> int:
    """Return the exact number of distinct real zeros of a polynomial in ``(a, b]``.

    Args:
        coeffs: ascending monomial coefficients (float64 values taken as exact binary numbers).
        a: left end (exclusive); ``None`` for minus infinity.
        b: right end (inclusive); ``None`` for plus infinity.

    Raises:
        ValueError: a coefficient or an end is not finite.

    Examples:
        >>> count_real_roots([-2.0, 0.0, 1.0], 0.0, None)   # x^2 - 2 on (0, inf)
        1
    """
    ends = [None if v is None else float(v) for v in (a, b)]
    if any(v is not None and not np.isfinite(v) for v in ends):
        raise ValueError(f"the ends of the interval must be finite or None, got {a!r}, {b!r}")
    fa, fb = (None if v is None else Fraction(v) for v in ends)
    count = 0
    for factor in _factors(coeffs):
        for k in range(len(factor.balls)):
            if fa is not None and _compare(factor, k, fa) <= 0:
                continue
            if fb is not None and _compare(factor, k, fb) > 0:
                continue
            count += 1
    return count


def isolate_real_roots(coeffs: ArrayLike | Iterable[float]) -> list[tuple[Fraction, Fraction]]:
    """Return disjoint exact intervals ``[lo, hi]``, ascending, each holding one distinct real zero.

    Args:
        coeffs: ascending monomial coefficients (float64 values taken as exact binary numbers).

    Raises:
        ValueError: a coefficient is not finite.

    Examples:
        >>> neg, pos = isolate_real_roots([-2.0, 0.0, 1.0])   # x^2 - 2: exact ends around sqrt 2
        >>> pos[0] ** 2 < 2 < pos[1] ** 2 and neg[1] < 0 < pos[0]
        True
    """
    factors = _factors(coeffs)
    while True:
        spans = sorted((lo, hi, i) for i, f in enumerate(factors) for lo, hi in f.balls)
        # Enclosures of one factor are disjoint; those of different factors (whose roots are
        # distinct) may overlap until refined.
        clash: set[int] = set()
        for (_, hi, i), (lo, _, j) in itertools.pairwise(spans):
            if hi >= lo:
                clash |= {i, j}
        if not clash:
            return [(lo, hi) for lo, hi, _ in spans]
        for i in clash:
            factors[i].refine()


def is_nonnegative(coeffs: ArrayLike | Iterable[float]) -> bool:
    """True when the polynomial (float64 coefficients taken exactly) is ``>= 0`` on the real line.

    It is exactly when the leading coefficient is positive and every real zero has even
    multiplicity (or the polynomial is a constant ``>= 0``).

    Raises:
        ValueError: a coefficient is not finite.

    Examples:
        >>> is_nonnegative([1.0, -2.0, 1.0]), is_nonnegative([0.0, 1.0])   # (1-x)^2, x
        (True, False)
    """
    p = _exact_poly(coeffs)
    if p.degree() < 1:
        return p.degree() < 0 or p[0] >= 0
    if p.degree() % 2 == 1 or p[p.degree()] < 0:
        return False
    return all(f.multiplicity % 2 == 0 or not f.balls for f in _factors(coeffs))


def complex_roots(coeffs: ArrayLike | Iterable[float]) -> NDArray[np.complex128]:
    """Return the distinct complex zeros of a polynomial (real ones included), to float64.

    The float64 coefficients are taken as exact binary rationals; each zero is the midpoint of an
    isolating Arb enclosure at 80 bits (``fmpz_poly.complex_roots`` on the squarefree factors),
    rounded to the nearest complex128: a real zero has an imaginary part exactly 0, and a part
    beyond the float64 range is +-inf. ``numpy.roots`` (companion-matrix eigenvalues) is not used:
    on a near-double pair such as ``3 +- 0.0188i`` its error is of the order of the square root of
    the unit roundoff times the pair's condition, and it can turn such a pair into two real zeros.

    Args:
        coeffs: ascending monomial coefficients.

    Raises:
        ValueError: a coefficient is not finite.

    Examples:
        >>> complex_roots([1.0, 0.0, 1.0]).tolist()   # x^2 + 1
        [-1j, 1j]
    """
    import flint

    p = _exact_poly(coeffs)
    out: list[complex] = []
    if p.degree() >= 1:
        _content, parts = p.numer().factor_squarefree()
        with flint.ctx.workprec(_START_PREC):
            for f, _e in parts:
                if f.degree() < 1:
                    continue
                for z, _m in f.complex_roots():
                    re = _to_float(_fraction(z.real.mid()))
                    im = 0.0 if z.imag.is_zero() else _to_float(_fraction(z.imag.mid()))
                    out.append(complex(re, im))
    out.sort(key=lambda z: (z.real, z.imag))
    return np.array(out, dtype=np.complex128)

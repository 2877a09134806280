"""actfit.roots: exact real-root isolation, checked against sympy's exact isolation.

The reference is independent of the code under test: sympy's exact root counts (Sturm
sequences, ``Poly.count_roots``) on the exact rational polynomial that the float64 coefficients
stand for, or planted roots in polynomials whose float64 coefficients are exact.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from actfit.roots import count_real_roots, is_nonnegative, isolate_real_roots, real_roots

X = sympy.Symbol("x")


def _exact_poly(coeffs) -> sympy.Poly:
    return sympy.Poly(
        [sympy.Rational(*float(c).as_integer_ratio()) for c in coeffs][::-1], X, domain="QQ"
    )


def _squarefree(coeffs) -> sympy.Poly:
    return _exact_poly(coeffs).sqf_part()


def _q(v: float | Fraction) -> sympy.Rational:
    f = Fraction(v)
    return sympy.Rational(f.numerator, f.denominator)


def _product(roots: list[Fraction], extra: list[Fraction]) -> list[Fraction]:
    """Ascending exact coefficients of prod (x - r) times the polynomial ``extra``."""
    p = list(extra)
    for r in roots:
        q = [Fraction(0)] * (len(p) + 1)
        for k, c in enumerate(p):
            q[k + 1] += c
            q[k] -= r * c
        p = q
    return p


# Roots m * 2^e with a small odd m: their products have short significands, so many planted
# polynomials have float64 coefficients that are exact (the others are skipped by `assume`).
_dyadic = st.builds(
    lambda m, e: Fraction(m) * Fraction(2) ** e,
    st.integers(-15, 15).filter(lambda m: m % 2 != 0),
    st.integers(-30, 24),
)


@st.composite
def _planted(draw) -> tuple[list[Fraction], list[Fraction]]:
    """Distinct roots, their multiplicities as repeats, clusters r, r + 2^-k, huge roots."""
    base = draw(st.lists(_dyadic, min_size=1, max_size=4, unique=True))
    roots = list(base)
    if draw(st.booleans()):  # a cluster: a second root 2^-k next to the first
        roots.append(base[0] + Fraction(1, 2 ** draw(st.integers(10, 40))))
    if draw(st.booleans()):  # a root beyond 1e6
        roots.append(Fraction(draw(st.sampled_from([-1, 1, 3, -5]))) * 2 ** draw(
            st.integers(20, 60)))
    repeats = [r for r in roots for _ in range(draw(st.integers(1, 3)))]
    # a factor without real roots (x^2 + s), or none
    s = draw(st.sampled_from([None, Fraction(1), Fraction(1, 4), Fraction(3, 2**20)]))
    extra = [Fraction(1)] if s is None else [s, Fraction(0), Fraction(1)]
    return sorted(set(roots)), _product(repeats[:9], extra)


@settings(max_examples=80, deadline=None)
@given(_planted())
@example(([Fraction(1), Fraction(1) + Fraction(1, 2**30)],
          _product([Fraction(1), Fraction(1), Fraction(1) + Fraction(1, 2**30)], [Fraction(1)])))
def test_planted_roots_are_found_exactly(case) -> None:
    distinct, coeffs = case
    assume(all(Fraction(float(c)) == c for c in coeffs))  # the float64 polynomial is exact
    planted = sorted(set(r for r in distinct if sum(
        c * r**k for k, c in enumerate(coeffs)) == 0))
    floats = [float(c) for c in coeffs]
    assert count_real_roots(floats) == len(planted)
    assert real_roots(floats).tolist() == [float(r) for r in planted]
    spans = isolate_real_roots(floats)
    assert len(spans) == len(planted)
    assert all(lo <= r <= hi for (lo, hi), r in zip(spans, planted, strict=True))
    assert all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(spans))
    # (a, b] is half open: a root at b counts, a root at a does not
    r = planted[0]
    assert count_real_roots(floats, float(r), None) == len(planted) - 1
    assert count_real_roots(floats, None, float(r)) == 1


_root = st.one_of(
    st.floats(-20, 20),
    st.floats(1e6, 1e12),
    st.floats(-1e12, -1e6),
)


@st.composite
def _rounded(draw) -> np.ndarray:
    """float64 coefficients of prod (x - r_i), clusters included, rounded as a fitter's are."""
    roots = draw(st.lists(_root, min_size=1, max_size=6))
    if draw(st.booleans()):
        r = roots[0]
        roots.append(r * (1 + draw(st.sampled_from([1e-4, 1e-9, 1e-13]))))
    scale = draw(st.sampled_from([1.0, 1e-3, 7.5]))
    return np.polynomial.polynomial.polyfromroots(roots) * scale


@settings(max_examples=60, deadline=None)
@given(_rounded(), st.floats(-50, 50), st.floats(0, 1e13))
@example(np.polynomial.polynomial.polyfromroots([1.0, 1.0, 1.0 + 2**-30, -2.0]), 0.0, 1.5)
def test_agrees_with_sympy_on_the_stored_coefficients(coeffs, a, width) -> None:
    sqf = _squarefree(coeffs)
    got = real_roots(coeffs)
    # sympy's exact (Sturm) counts decide everything below: no floating-point reference
    assert got.size == (sqf.count_roots() if sqf.degree() > 0 else 0) == count_real_roots(coeffs)
    for g in got:  # correctly rounded: a root within half an ulp on either side
        below, above = np.nextafter(g, -np.inf), np.nextafter(g, np.inf)
        assert sqf.count_roots(_q((Fraction(below) + Fraction(g)) / 2),
                               _q((Fraction(g) + Fraction(above)) / 2)) >= 1
    spans = isolate_real_roots(coeffs)
    assert len(spans) == got.size
    assert all(sqf.count_roots(_q(lo), _q(hi)) == 1 for lo, hi in spans)
    assert all(float(lo) <= g <= float(hi) for (lo, hi), g in zip(spans, got, strict=True))
    b = a + width
    if sqf.degree() > 0:
        expect = sqf.count_roots(_q(a), _q(b)) - (sqf.eval(_q(a)) == 0)
        assert count_real_roots(coeffs, a, b) == expect


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=4), st.integers(0, 2),
       st.booleans())
def test_nonnegative_matches_multiplicities(base: list[int], odd: int, negate: bool) -> None:
    # p = b^2 * (x - 1)^odd * (+-1): nonnegative iff the sign is + and the odd part is absent
    b = np.polynomial.polynomial.Polynomial([float(v) for v in base])
    p = b * b * np.polynomial.polynomial.Polynomial([-1.0, 1.0]) ** odd
    coeffs = (-p if negate else p).coef
    poly = _exact_poly(coeffs)
    x = np.linspace(-5, 5, 2001)
    if poly.degree() < 1:
        expect = poly.LC() >= 0
    else:  # sympy: positive leading coefficient, every real root of even multiplicity
        odd_real = [f for f, m in poly.sqf_list()[1] if m % 2 == 1 and f.count_roots() > 0]
        expect = poly.LC() > 0 and not odd_real
    assert is_nonnegative(coeffs) == expect
    if expect:
        assert np.all(np.polynomial.polynomial.polyval(x, coeffs) >= 0)


def test_degenerate_and_out_of_range() -> None:
    assert real_roots([]).size == 0 and real_roots([0.0]).size == 0 and real_roots([3.0]).size == 0
    assert count_real_roots([0.0, 0.0]) == 0
    assert real_roots([1.0, 2.0**-1074]).tolist() == [float("-inf")]  # 1 + 2^-1074 x: root -2^1074
    # 2^-1075, halfway between 0 and the least subnormal: a tie, rounded to even (0)
    tie = [2.0**-74, -(2.0**1001), -(2.0**-75), 2.0**1000]  # (2^1000 x - 2^-75)(x^2 - 2)
    assert real_roots(tie).tolist() == [-(2**0.5), 0.0, 2**0.5]
    assert count_real_roots(tie, 0.0, 1.0) == 1
    assert is_nonnegative([]) and is_nonnegative([0.0, 0.0, 1.0]) and not is_nonnegative([-1.0])
    with pytest.raises(ValueError, match="finite"):
        real_roots([1.0, float("nan")])

"""Tests for actfit.approx.quadrature: composite Gauss–Legendre rules split at breakpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.quadrature import gauss_legendre_nodes, integrate
from actfit.errors import ParameterError, RangeError

finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


@st.composite
def intervals(draw):
    a = draw(finite)
    width = draw(st.floats(min_value=1e-3, max_value=60.0))
    return a, a + width


@settings(max_examples=60, deadline=None)
@given(
    ab=intervals(),
    panels=st.integers(1, 12),
    order=st.integers(1, 40),
)
def test_weights_sum_to_length_and_nodes_inside(ab, panels, order):
    a, b = ab
    x, w = gauss_legendre_nodes(a, b, (0.5 * (a + b),), panels=panels, order=order)
    assert x.shape == w.shape
    assert np.all(w > 0)
    assert np.all((x > a) & (x < b))
    assert np.all(np.diff(x) > 0)
    assert math.isclose(w.sum(), b - a, rel_tol=1e-13, abs_tol=1e-13)


@settings(max_examples=200, deadline=None)
@given(
    ab=intervals(),
    coeffs=st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=20),
    order=st.integers(10, 30),
)
def test_polynomials_integrated_exactly(ab, coeffs, order):
    a, b = ab
    poly = np.polynomial.Polynomial(coeffs)
    exact = poly.integ()(b) - poly.integ()(a)
    approx = integrate(poly, a, b, panels=2, order=order)
    big = max(1.0, abs(a), abs(b))
    size = sum(abs(c) * big**k for k, c in enumerate(coeffs))
    # The reference F(b) - F(a) itself cancels when b - a is small: allow for its rounding.
    reference = (
        64
        * np.finfo(float).eps
        * sum(abs(c) * big ** (k + 1) / (k + 1) for k, c in enumerate(coeffs))
    )
    assert abs(approx - exact) <= 1e-13 * size * (b - a) + reference + 1e-300


@pytest.mark.parametrize(
    ("a", "b"),
    [(-3.0, 3.0), (-1.0, 2.0), (-0.3, 7.0), (-1e-3, 1.0)],
)
def test_abs_and_relu_exact_with_breakpoint(a, b):
    exact_abs = 0.5 * (a * a + b * b)
    exact_relu = 0.5 * b * b
    assert integrate(np.abs, a, b, (0.0,)) == pytest.approx(exact_abs, rel=1e-14)
    assert integrate(lambda x: np.maximum(x, 0.0), a, b, (0.0,), panels=1, order=2) == (
        pytest.approx(exact_relu, rel=1e-14)
    )
    # Without the breakpoint the rule is only approximate: the split is what makes it exact.
    coarse = integrate(np.abs, a, b, panels=1, order=6)
    assert abs(coarse - exact_abs) > 1e-8


def test_leaky_relu_squared_exact_with_breakpoint():
    def f(x):
        return np.where(x > 0, x, 0.01 * x) ** 2

    exact = (3.0**3 + 1e-4 * 3.0**3) / 3.0
    assert integrate(f, -3.0, 3.0, (0.0,)) == pytest.approx(exact, rel=1e-14)


def test_breakpoints_outside_or_at_ends_are_ignored():
    x0, w0 = gauss_legendre_nodes(-1.0, 1.0)
    x1, w1 = gauss_legendre_nodes(-1.0, 1.0, (-1.0, 1.0, 5.0, -7.0))
    np.testing.assert_array_equal(x0, x1)
    np.testing.assert_array_equal(w0, w1)


def test_node_count_and_split():
    x, w = gauss_legendre_nodes(-3.0, 3.0, (0.0, 1.0, 1.0), panels=3, order=5)
    assert x.size == 3 * 3 * 5
    assert np.sum(x < 0) == 15
    assert w[x < 0].sum() == pytest.approx(3.0, rel=1e-14)
    assert w[(x > 0) & (x < 1)].sum() == pytest.approx(1.0, rel=1e-14)


def test_smooth_function_converges_spectrally():
    exact = math.log(math.cosh(3.0)) - math.log(math.cosh(-2.0))
    assert integrate(np.tanh, -2.0, 3.0) == pytest.approx(exact, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize(
    ("a", "b"),
    [(1.0, 1.0), (2.0, -2.0), (-math.inf, 1.0), (0.0, math.nan)],
)
def test_bad_range_raises(a, b):
    with pytest.raises(RangeError):
        gauss_legendre_nodes(a, b)


@pytest.mark.parametrize("kwargs", [{"panels": 0}, {"order": 0}, {"panels": 2.5}])
def test_bad_rule_size_raises(kwargs):
    with pytest.raises(ParameterError):
        gauss_legendre_nodes(-1.0, 1.0, **kwargs)

"""Exact real-root isolation (Sturm) and the pole report."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.poles import count_real_roots, pole_report, real_roots
from actfit.rational import Rational


def _sympy_roots(coeffs: list[float]) -> list[float]:
    """Independent count: sympy's exact real-root isolation on the same binary rationals."""
    x = sympy.Symbol("x")
    poly = sympy.Poly(
        sum(sympy.Rational(c) * x**k for k, c in enumerate(coeffs)), x, domain="QQ"
    )
    return sorted({float(r) for r in sympy.real_roots(poly)})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=2, max_size=9).filter(lambda c: c[-1] != 0))
def test_roots_agree_with_sympy(coeffs: list[int]) -> None:
    mine = real_roots(np.array(coeffs, dtype=float))
    ref = _sympy_roots([float(c) for c in coeffs])
    assert len(mine) == len(ref)
    np.testing.assert_allclose(mine, ref, rtol=1e-14, atol=1e-300)
    assert count_real_roots(coeffs) == len(ref)


def test_multiple_and_clustered_roots() -> None:
    # (x-1)^2 (x-1-1e-9)(x+2): a double root and a root 1e-9 away from it.
    p = np.polynomial.polynomial.polyfromroots([1.0, 1.0, 1.0 + 2**-30, -2.0])
    roots = real_roots(p)
    assert roots.size == 3
    np.testing.assert_allclose(roots, [-2.0, 1.0, 1.0 + 2**-30], rtol=0, atol=1e-15)
    assert count_real_roots(p, 0.0, 1.5) == 2
    assert count_real_roots([1.0, 0.0, 1.0]) == 0  # x^2 + 1


def test_pole_report_plain_on_and_off_range() -> None:
    # Q(x) = 1 - x/2: pole at x = 2.
    r = Rational([1.0], [-0.5], "plain")
    on = pole_report(r, -3, 3)
    assert on.poles_on_range == (2.0,) and not on.pole_free and on.min_abs_q == 0.0
    off = pole_report(r, -1, 1)
    assert off.pole_free_on_range and off.poles_on_real_line == (2.0,)
    assert off.min_abs_q == pytest.approx(0.5, rel=1e-12)
    assert off.min_abs_q_at == pytest.approx(1.0, rel=1e-9)


def test_pole_report_safe_is_pole_free() -> None:
    rep = pole_report(Rational([1.0], [-0.5, 0.25], "safe"), -3, 3)
    assert rep.pole_free and rep.pole_free_on_range
    assert rep.min_abs_q == pytest.approx(1.0)
    assert rep.to_dict()["pole_free"] is True


def test_pole_report_carries_conditioning_and_no_warning_for_a_pole_on_range() -> None:
    from actfit.approx.poles import pole_report
    from actfit.rational import Rational

    on_range = pole_report(Rational([1.0], [-1.0], "plain"), -3.0, 3.0)  # Q = 1 - x: pole at 1
    assert on_range.poles_on_range == (1.0,) and on_range.conditioning is not None
    assert on_range.warnings() == []  # the pole itself is the problem, reported as such
    assert "conditioning" in on_range.to_dict()

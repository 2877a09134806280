"""Error reports: located maxima and continuous norms against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actfit.approx.metrics import error_report, max_error
from actfit.rational import Rational
from actfit.targets import get_target, parse_expression


def test_closed_form_norms() -> None:
    # sin vs 0 on [0, pi]: max 1 at pi/2, integral of sin^2 = pi/2.
    rep = error_report(parse_expression("sin(x)"), Rational([0.0]), 0.0, math.pi)
    assert rep.max_abs == pytest.approx(1.0, rel=1e-14)
    assert rep.max_abs_at == pytest.approx(math.pi / 2, abs=1e-6)
    assert rep.l2 == pytest.approx(math.sqrt(math.pi / 2), rel=1e-13)
    assert rep.rms == pytest.approx(math.sqrt(0.5), rel=1e-13)


def test_kinked_error_is_integrated_exactly() -> None:
    # relu - x/2 = |x|/2 on [-1, 2]: L2^2 = (1/4)(1/3 + 8/3) = 3/4, max 1 at x = 2.
    rep = error_report(get_target("relu"), Rational([0.0, 0.5]), -1.0, 2.0, (0.0,))
    assert rep.l2 == pytest.approx(math.sqrt(0.75), rel=1e-14)
    assert rep.max_abs == pytest.approx(1.0, rel=1e-15) and rep.max_abs_at == 2.0


def test_sharp_interior_peak_is_refined() -> None:
    # A narrow peak between grid points: the refinement must find its true height.
    peak = 0.123456789
    def err(x):
        return 1.0 / (1.0 + ((x - peak) / 1e-7) ** 2)
    value, at = max_error(err, -3.0, 3.0)
    assert value > 0.999 and at == pytest.approx(peak, abs=1e-7)


def test_non_finite_error_is_reported_not_hidden() -> None:
    value, _ = max_error(lambda x: np.where(x > 1, np.nan, x), -3.0, 3.0)
    assert math.isinf(value)


@pytest.mark.parametrize(
    "name, form, rng", [("mish", "abs", (-5.0, 5.0)), ("gelu", "safe", (-3.0, 3.0)),
                        ("relu", "abs", (-3.0, 3.0)), ("tanh", "plain", (-2.0, 2.0))]
)
def test_reported_l2_equals_an_adaptive_high_precision_integral(name, form, rng) -> None:
    """The L2 figure is exact to the printed digits, also where Q = 1 + |S| has corners (the
    zeros of S): the quadrature splits there (issue: abs-form L2 was 7e-4 relative off)."""
    import mpmath as mp

    from actfit import fit_lsq

    fit = fit_lsq(name, (5, 4), rng, form=form)
    r, t = fit.rational, fit.target
    a, b = rng

    def q_mp(x):
        s = sum(mp.mpf(float(c)) * x ** (k + 1) for k, c in enumerate(r.denominator))
        if form == "plain":
            return 1 + s
        if form == "safe":
            return 1 + sum(abs(mp.mpf(float(c))) * abs(x) ** (k + 1)
                           for k, c in enumerate(r.denominator))
        return 1 + abs(s)

    def e2(x):
        p = sum(mp.mpf(float(c)) * x**k for k, c in enumerate(r.numerator))
        return (p / q_mp(x) - t.mp(x)) ** 2

    with mp.workdps(30):
        pts = sorted({a, b, *r.kinks(a, b), *(k for k in t.kinks if a < k < b)})
        exact = float(mp.sqrt(mp.quad(e2, pts, maxdegree=10)))
    assert fit.errors.l2 == pytest.approx(exact, rel=1e-9)

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

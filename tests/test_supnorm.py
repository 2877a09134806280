"""Tests of the proven sup-norm (actfit.approx.supnorm) and its enclosures (approx.enclosure).

References are independent of the code under test: planted errors with a known maximum, a peak
that a dense grid misses, a 60-digit mpmath evaluation, and float64 dense-grid maxima.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actfit.approx.enclosure import NoEnclosureError, compile_expression, compile_target
from actfit.approx.lsq import fit_lsq
from actfit.approx.metrics import max_error
from actfit.approx.supnorm import min_abs_q, supnorm
from actfit.errors import ActfitError
from actfit.rational import Rational
from actfit.targets import get_target, parse_expression, symbol

T5 = "(16*(x/3)**5 - 20*(x/3)**3 + 5*(x/3))"  # |T_5(x/3)| <= 1 on [-3, 3], = 1 at 6 points


@functools.cache
def _fit(name: str, form: str = "safe", half: float = 3.0) -> Rational:
    return fit_lsq(get_target(name), (5, 4), (-half, half), form=form).rational


def _grid_max(target, r: Rational, a: float = -3.0, b: float = 3.0) -> float:
    return max_error(lambda x: target(x) - r(x), a, b, target.kinks)[0]


def _check_inside(s, grid: float) -> None:
    slack = 1e-14 + 1e-12 * s.upper  # float64 rounding of the grid's own evaluation
    assert grid <= s.upper + slack
    assert grid >= s.lower - s.rtol * s.upper - slack


def test_planted_chebyshev_error_is_enclosed_tightly():
    r = Rational([0.0, 1.0], [], form="plain")
    s = supnorm(f"x + {T5}/1024", r, -3.0, 3.0)
    assert s.lower <= 1 / 1024 <= s.upper
    assert s.converged and s.upper - s.lower <= 1e-6 * s.upper


def test_planted_error_with_a_denominator():
    r = Rational([1.0], [0.0, 1.0], form="plain")  # 1/(1 + x^2)
    s = supnorm(f"1/(1 + x**2) + {T5}/512", r, -3.0, 3.0)
    assert s.lower <= 1 / 512 <= s.upper
    assert s.converged


def test_narrow_peak_missed_by_a_grid_is_caught():
    text = "x + 0.001*exp(-((x - 0.123456)/0.000001)**2)"
    target = parse_expression(text)
    r = Rational([0.0, 1.0], [], form="plain")
    xs = np.linspace(-3.0, 3.0, 20001)
    assert np.max(np.abs(target(xs) - r(xs))) < 1e-6  # the grid sees nothing
    s = supnorm(target, r, -3.0, 3.0)
    assert s.lower <= 1e-3 <= s.upper * (1 + 1e-15)
    assert s.upper - s.lower <= 1e-6 * s.upper
    assert abs(s.argmax - 0.123456) < 1e-6


def _mp_rational(r: Rational, x: mpmath.mpf) -> mpmath.mpf:
    p = sum(mpmath.mpf(float(c)) * x**k for k, c in enumerate(r.numerator))
    q = 1 + sum(abs(mpmath.mpf(float(c))) * abs(x) ** (k + 1) for k, c in enumerate(r.denominator))
    return p / q


def test_lower_upper_bracket_a_60_digit_mpmath_value_at_argmax():
    target = get_target("gelu")
    r = _fit("gelu")
    s = supnorm(target, r, -3.0, 3.0)
    with mpmath.workdps(60):
        ref = abs(target.mp(mpmath.mpf(s.argmax)) - _mp_rational(r, mpmath.mpf(s.argmax)))
    assert s.lower <= ref <= s.upper
    assert s.converged and s.rtol <= 1e-6
    assert "proven enclosure of max |f - r| on [-3, 3]" in s.detail
    assert "128 bits" in s.detail


def test_gelu_5_4_is_fast():
    target, r = get_target("gelu"), _fit("gelu")
    supnorm(target, r, -3.0, 3.0)  # warm caches (sympy expression, imports)
    s = supnorm(target, r, -3.0, 3.0)
    assert s.seconds < 1.0


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "hardswish", "elu", "sqrt_act"])
def test_kinked_targets(name):
    # on [-4, 4]: hardswish is the polynomial x (x + 3)/6 on [-3, 3], fitted exactly there
    target, r = get_target(name), _fit(name, half=4.0)
    s = supnorm(target, r, -4.0, 4.0)
    assert s.converged
    _check_inside(s, _grid_max(target, r, -4.0, 4.0))
    assert set(k for k in target.kinks if -4 < k < 4) <= set(s.splits)


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
def test_each_form(form):
    target, r = get_target("gelu"), _fit("gelu", form)
    assert r.form == form
    s = supnorm(target, r, -3.0, 3.0)
    assert s.converged
    _check_inside(s, _grid_max(target, r))


def test_abs_form_with_sign_changes_of_s():
    r = Rational([0.0, 1.0, 0.5], [1.0, -0.3], form="abs")  # S = x - 0.3 x^2 has zeros at 0, 3.33
    target = get_target("tanh")
    s = supnorm(target, r, -4.0, 4.0)
    assert s.converged
    _check_inside(s, _grid_max(target, r, -4.0, 4.0))


def test_weighted():
    target, r = get_target("gelu"), _fit("gelu")
    s = supnorm(target, r, -3.0, 3.0, weight="normal:0,1")
    w = parse_expression("exp(-x**2/2)/sqrt(2*pi)")
    grid = max_error(lambda x: w(x) * (target(x) - r(x)), -3.0, 3.0)[0]
    _check_inside(s, grid)
    assert "max |w (f - r)|" in s.detail


def test_no_enclosure_error_names_the_function():
    with pytest.raises(NoEnclosureError, match="'gamma'") as info:
        compile_expression(sympy.gamma(symbol()) + symbol())
    assert isinstance(info.value, ActfitError)
    assert "proven bound is not available" in str(info.value)
    assert "\n" not in str(info.value)


def test_every_registry_target_compiles_and_contains_its_float_values():
    from actfit.targets import list_targets

    xs = [-2.5, -1.0, -0.3, 0.0, 0.4, 1.7, 2.9]
    for info in list_targets():
        t = get_target(info.name)
        enc = compile_target(t)
        for x in xs:
            v = enc.value(x)
            assert abs(float(v.mid()) - float(t(x))) <= 1e-15 * max(1.0, abs(float(t(x)))), (
                info.name, x)


def test_min_abs_q():
    assert 1.0 - 1e-6 <= min_abs_q(_fit("gelu"), -3.0, 3.0) <= 1.0
    assert min_abs_q(Rational([1.0], [0.0, 1.0], form="plain"), -1.0, 2.0) == pytest.approx(1.0)
    assert min_abs_q(Rational([1.0], [-1.0], form="plain"), -3.0, 3.0) == 0.0  # Q = 1 - x


_NAMES = ["gelu", "tanh", "relu", "softsign", "elu", "swish"]
_coef = st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(_NAMES),
    num=st.lists(_coef, min_size=1, max_size=3),
    den=st.lists(_coef, min_size=0, max_size=2),
    form=st.sampled_from(["safe", "abs"]),
)
def test_grid_max_lies_in_the_proven_enclosure(name, num, den, form):
    target, r = get_target(name), Rational(num, den, form=form)
    s = supnorm(target, r, -2.0, 2.0, max_seconds=5.0)
    _check_inside(s, _grid_max(target, r, -2.0, 2.0))

"""Rational: evaluation (also at huge |x|), derivatives, coefficient gradients, poles, forms."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.errors import FormError
from actfit.rational import FORMS, Rational, normalize_form

coef = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False)


def _mp_parts(r: Rational, x: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Independent reference: P(x) and Q(x) from the defining formulas, 60 digits."""
    with mpmath.workdps(60):
        xm = mpmath.mpf(x)
        p = mpmath.fsum(mpmath.mpf(a) * xm**k for k, a in enumerate(r.numerator))
        b = [mpmath.mpf(v) for v in r.denominator]
        if r.form == "plain":
            q = 1 + mpmath.fsum(bk * xm ** (k + 1) for k, bk in enumerate(b))
        elif r.form == "safe":
            q = 1 + mpmath.fsum(abs(bk) * abs(xm) ** (k + 1) for k, bk in enumerate(b))
        else:
            q = 1 + abs(mpmath.fsum(bk * xm ** (k + 1) for k, bk in enumerate(b)))
        return p, q


def test_forms_and_aliases() -> None:
    assert [normalize_form(f) for f in ("N", "a", "B", "Plain", "safe", "abs")] == [
        "plain",
        "safe",
        "abs",
        "plain",
        "safe",
        "abs",
    ]
    with pytest.raises(FormError, match="plain, safe or abs"):
        normalize_form("version_q")


@settings(max_examples=60, deadline=None)
@given(
    num=st.lists(coef, min_size=1, max_size=7),
    den=st.lists(coef, min_size=0, max_size=6),
    form=st.sampled_from(FORMS),
    x=st.one_of(
        st.floats(min_value=-5, max_value=5),
        st.floats(min_value=1e3, max_value=1e250),
        st.floats(min_value=-1e250, max_value=-1e3),
    ),
)
def test_evaluation_matches_high_precision(num, den, form, x) -> None:
    r = Rational(num, den, form)
    p, q = _mp_parts(r, x)
    ref = p / q
    got = float(r(np.array([x]))[0])
    if not mpmath.isfinite(ref) or abs(ref) > 1e300:
        return
    # The only rounding is in float64 Horner: bound it by the condition numbers of the sums.
    with mpmath.workdps(30):
        xm = abs(mpmath.mpf(x))
        scale_p = mpmath.fsum(abs(mpmath.mpf(a)) * xm**k for k, a in enumerate(r.numerator))
        scale_q = 1 + mpmath.fsum(abs(mpmath.mpf(b)) * xm ** (k + 1) for k, b in enumerate(den))
        bound = float(64 * 2.0**-52 * (scale_p + abs(ref) * scale_q) / abs(q))
    assert abs(got - float(ref)) <= max(bound, 1e-15 * abs(float(ref))), (got, float(ref))


def test_huge_inputs_stay_finite() -> None:
    # x^5 at 1e80 overflows naive evaluation in float64 only past 1e61; the 1/x path does not.
    r = Rational([0.1, 1.0, 0.5, 0.2, 0.01, 0.001], [0.3, 0.2, 0.1, 0.05], "safe")
    x = np.array([-1e300, -1e100, 1e100, 1e300])
    y = r(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, 0.001 / 0.05 * x, rtol=1e-12)
    # Degree-0 denominator and a numerator of lower degree than the denominator.
    assert float(Rational([2.0], [0.0, 1.0], "plain")(1e200)) == pytest.approx(2e-400, abs=1e-300)
    assert np.isfinite(Rational([1.0, 2.0, 3.0], (), "safe")(np.array([1e100])))[0]


@pytest.mark.parametrize("form", FORMS)
def test_shape_follows_input(form: str) -> None:
    r = Rational([0.0, 1.0, 0.5], [0.2, 0.3], form)
    assert r(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    assert r(1.5).shape == ()
    da, db = r.coefficient_gradients(np.zeros((3, 4)))
    assert da.shape == (3, 4, 3) and db.shape == (3, 4, 2)


@pytest.mark.parametrize("form", FORMS)
def test_derivative_and_coefficient_gradients(form: str) -> None:
    rng = np.random.default_rng(1)
    r = Rational(rng.normal(size=6), rng.normal(size=4) * 0.3, form)
    # Points away from 0 (the kink of |x|) and from sign changes of S (abs form).
    x = np.array([-2.7, -1.3, -0.6, 0.45, 1.7, 2.9])
    h = 1e-6
    fd = (r(x + h) - r(x - h)) / (2 * h)
    np.testing.assert_allclose(r.deriv(x), fd, rtol=1e-6, atol=1e-8)
    da, db = r.coefficient_gradients(x)
    for k in range(r.numerator.size):
        e = np.zeros(r.numerator.size)
        e[k] = h
        fd = (Rational(r.numerator + e, r.denominator, form)(x) - Rational(r.numerator - e, r.denominator, form)(x)) / (2 * h)  # noqa: E501
        np.testing.assert_allclose(da[:, k], fd, rtol=1e-6, atol=1e-8)
    for k in range(r.denominator.size):
        e = np.zeros(r.denominator.size)
        e[k] = h
        fd = (Rational(r.numerator, r.denominator + e, form)(x) - Rational(r.numerator, r.denominator - e, form)(x)) / (2 * h)  # noqa: E501
        np.testing.assert_allclose(db[:, k], fd, rtol=1e-5, atol=1e-8)


def test_safe_and_abs_are_pole_free() -> None:
    r = Rational([1.0], [-3.0, 0.5], "safe")
    assert r.real_poles().size == 0
    assert r.with_form("abs").real_poles().size == 0
    assert np.all(r.denominator_at(np.linspace(-10, 10, 1001)) >= 1)


@settings(max_examples=40, deadline=None)
@given(
    roots=st.lists(st.floats(min_value=-20, max_value=20).filter(lambda v: abs(v) > 0.05),
                   min_size=1, max_size=5, unique=True),
    cluster=st.sampled_from([None, 1e-3, 1e-7, 1e-11]),
)
def test_planted_poles_are_found(roots, cluster) -> None:
    # Q(x) = prod(1 - x/r_i): constant term 1, zeros at r_i up to the coefficients' rounding;
    # `cluster` adds a root that close (relatively) to the first one.
    if cluster is not None:
        roots = [*roots, roots[0] * (1 + cluster)]
    q = np.array([1.0])
    for root in roots:
        q = np.polynomial.polynomial.polymul(q, [1.0, -1.0 / root])
    r = Rational([1.0], q[1:], "plain")
    found = r.real_poles()
    # No pole of the stored Q is lost: the count is sympy's exact count on the same rationals.
    x = sympy.Symbol("x")
    exact_q = sympy.Poly([sympy.Rational(*float(c).as_integer_ratio()) for c in q[::-1]], x,
                         domain="QQ").sqf_part()
    assert found.size == exact_q.count_roots()
    srt = np.sort(roots)
    gaps = np.diff(srt) / np.maximum(1, np.abs(srt[1:]))
    if np.all(gaps > 1e-3):  # well separated: every planted pole, accurately
        assert found.size == len(roots)
        np.testing.assert_allclose(found, srt, rtol=1e-6, atol=1e-9)
    else:  # a cluster may split into a complex pair, but every pole found is a planted one
        for f in found:
            assert np.min(np.abs(srt - f)) <= 1e-4 * max(1.0, abs(f))


def test_equality_and_repr() -> None:
    a = Rational([1.0, 2.0], [0.5], "A")
    assert a == Rational(np.array([1.0, 2.0]), [0.5], "safe")
    assert a != a.with_form("plain")
    assert "safe" in repr(a)
    assert a.degree == (1, 1)
    with pytest.raises(ValueError, match="finite"):
        Rational([np.nan], [], "safe")

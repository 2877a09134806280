"""The safe class's Farkas lower bound (actfit.approx.farkas_bound).

The bound claims: every safe rational of the type has weighted error above ``lower`` at one of
the proof's points. It is checked against perturbed safe rationals evaluated in 40-digit mpmath
at those points (hypothesis), and the exact check is shown to refuse what Farkas' alternative
forbids: a level the fit itself reaches.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actfit.approx.farkas_bound as fb
from actfit.approx.minimax import fit_minimax
from actfit.approx.weights import parse_weight
from actfit.rational import Rational
from actfit.targets import as_target

RANGE = (-3.0, 3.0)


@pytest.fixture(scope="module")
def tanh66():
    target = as_target("tanh")
    fit = fit_minimax(target, (6, 6), RANGE, form="safe")
    w = parse_weight("uniform", range=RANGE)
    proof = fb.farkas_safe_bound(target, w, fit.rational, *RANGE, upper=fit.certificate.upper)
    return target, w, fit, proof


def _mp_max_error(target, rational: Rational, points) -> mpmath.mpf:
    """max |f - r| over ``points`` in 40 digits from the exact binary coefficients (written
    here, independent of the module's own evaluation)."""
    with mpmath.workdps(40):
        num = [mpmath.mpf(float(c)) for c in rational.numerator][::-1]
        den = [mpmath.mpf(float(c)) for c in rational.denominator]
        worst = mpmath.mpf(0)
        for x in points:
            xm = mpmath.mpf(float(x))
            q = 1 + sum(c * abs(xm) ** (k + 1) for k, c in enumerate(den))
            worst = max(worst, abs(target.mp(xm) - mpmath.polyval(num, xm) / q))
        return worst


def test_the_fit_is_certified_global_by_it(tanh66) -> None:
    target, _, fit, proof = tanh66
    cert = fit.certificate
    assert cert.status == "global" and cert.gap <= 1e-5 and "Farkas" in cert.detail
    assert 0 < proof.lower <= cert.upper
    # The fit itself: its error at the proof's points is above the bound, as claimed.
    assert _mp_max_error(target, fit.rational, proof.points) > proof.lower
    assert len(proof.points) >= 7 + 6 + 1  # m + n + 2 points carry a rational class's proof


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_no_safe_rational_beats_it_on_the_points(tanh66, data) -> None:
    target, _, fit, proof = tanh66
    num = np.asarray(fit.rational.numerator, dtype=float)
    den = np.asarray(fit.rational.denominator, dtype=float)
    scale = data.draw(st.floats(1e-9, 1e-2))
    dn = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=num.size, max_size=num.size)))
    dd = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=den.size, max_size=den.size)))
    r = Rational(num * (1 + scale * dn), np.abs(den * (1 + scale * dd)), "safe")
    assert _mp_max_error(target, r, proof.points) > proof.lower


@settings(max_examples=10, deadline=None)
@given(above=st.floats(1e-6, 0.5), jitter=st.floats(0.0, 1e-3), seed=st.integers(0, 2**16))
def test_the_exact_check_refuses_a_level_the_fit_reaches(tanh66, above, jitter, seed) -> None:
    """At ``eps`` above the fit's error the system is feasible (the fit is a solution), so by
    Farkas' alternative no certificate exists: every ray offered must be refused."""
    target, w, fit, _ = tanh66
    pts = fb._extremal_points(target, w, fit.rational, *RANGE, ())
    data = fb._Points(target, w, fit.rational, pts, *RANGE)
    upper = fit.certificate.upper
    ray = fb._farkas_lp(data, upper * (1 - 1e-6), 0.0, 0.0)
    assert ray is not None and fb._verify(data, ray, upper * (1 - 1e-6)) is not None
    noisy = ray * (1 + jitter * np.random.default_rng(seed).uniform(-1, 1, ray.size))
    assert fb._verify(data, noisy, upper * (1 + above)) is None
    assert fb._farkas_lp(data, upper * (1 + above), 0.0, 0.0) is None


@pytest.mark.parametrize("value", ["-1/3", "1/3", "-2.5e-300", "7e200", "0.1", "-123456789.125"])
def test_mp_fraction_is_exact(value: str) -> None:
    with mpmath.workdps(40):
        x = mpmath.mpf(value)
        got = fb._mp_fraction(x)
        # Exact: the fraction's numerator equals x times its denominator, in integers.
        sign, man, exp, _ = x._mpf_
        exact = Fraction((-1) ** sign * int(man)) * Fraction(2) ** int(exp)
    assert got == exact and (got < 0) == (value.startswith("-"))


def test_the_certificate_conditions_are_all_checked() -> None:
    # One row per point: G_P (1 column), G_c (1 column), h.
    rows = [([Fraction(1)], [Fraction(1)], Fraction(-1)), ([Fraction(-1)], [Fraction(0)],
                                                            Fraction(0))]
    assert fb._is_certificate(rows, [Fraction(1), Fraction(1)])
    assert not fb._is_certificate(rows, [Fraction(1), Fraction(-1)])  # y >= 0
    assert not fb._is_certificate(rows, [Fraction(1), Fraction(2)])  # G_P^T y = 0
    bad_s = [([Fraction(1)], [Fraction(-1)], Fraction(-1)), rows[1]]
    assert not fb._is_certificate(bad_s, [Fraction(1), Fraction(1)])  # G_c^T y >= 0
    bad_h = [([Fraction(1)], [Fraction(1)], Fraction(1)), rows[1]]
    assert not fb._is_certificate(bad_h, [Fraction(1), Fraction(1)])  # h^T y < 0


def test_without_40_digit_values_nothing_is_claimed() -> None:
    fit = fit_minimax("tanh", (3, 2), RANGE, form="safe")
    proof = fb.farkas_safe_bound(np.tanh, parse_weight("uniform", range=RANGE), fit.rational,
                                 *RANGE, upper=fit.certificate.upper)
    assert proof.lower == 0.0 and proof.points == () and "40-digit" in proof.detail

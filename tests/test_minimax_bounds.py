"""The safe form's proven lower bounds (actfit.approx.safe_bound, actfit.approx.farkas_bound) and
the abs certificate's reason.

The bound must lie below the error of *every* safe rational of the type, so it is checked
against the safe minimax fit's own error on a dense grid, against perturbed safe rationals
(hypothesis), and its alternation is re-evaluated independently in 40-digit mpmath.
"""

from __future__ import annotations

import re

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.certificate import Certificate
from actfit.approx.minimax import fit_minimax
from actfit.approx.safe_bound import bound_safe, one_sided_parts, safe_lower_bound
from actfit.approx.weights import parse_weight
from actfit.rational import Rational
from actfit.targets import get_target

# (target, order, range): a kinked target (selu: slope jump at 0, a kink inside the range) and
# smooth ones, across 0 and one-sided.
CASES = [
    ("selu", (3, 3), (-3.0, 3.0)),
    ("swish", (4, 4), (-1.0, 2.0)),
    ("tanh", (4, 4), (0.0, 4.0)),
]


def _dense_error(target, rational: Rational, a: float, b: float) -> float:
    x = np.union1d(np.linspace(a, b, 20001), [0.0] if a < 0 < b else [])
    return float(np.max(np.abs(target(x) - rational(x))))


def _mp_alternation(target, rational: Rational, points) -> list[mpmath.mpf]:
    """Errors of the plain rational at ``points`` in 40 digits, from the exact binary values of
    its coefficients (independent of actfit's certificate code)."""
    with mpmath.workdps(40):
        num = [mpmath.mpf(float(c)) for c in rational.numerator][::-1]
        den = [mpmath.mpf(float(c)) for c in rational.denominator_polynomial()][::-1]
        out = []
        for x in points:
            xm = mpmath.mpf(float(x))
            out.append(target.mp(xm) - mpmath.polyval(num, xm) / mpmath.polyval(den, xm))
        return out


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}{list(c[1])}{list(c[2])}")
def case(request):
    name, order, rng = request.param
    target = get_target(name)
    fit = fit_minimax(target, order, rng)
    w = parse_weight("uniform", target=target, range=rng)
    # Both ways of bounding a part: the levelled solution at the Chebyshev reference alone
    # (needed = inf) and the polished plain best fit with its full certificate (needed = 0).
    sides = safe_lower_bound(target, w, *rng, *order, tuple(target.kinks))
    sides += safe_lower_bound(target, w, *rng, *order, tuple(target.kinks), needed=0.0)
    return target, order, rng, fit, sides


def test_parts() -> None:
    assert one_sided_parts(-2.0, 5.0) == [(-2.0, 0.0), (0.0, 5.0)]
    assert one_sided_parts(-4.0, 0.0) == [(-4.0, 0.0)]
    assert one_sided_parts(1.0, 2.0) == [(1.0, 2.0)]


def test_safe_certificate_has_the_bound(case) -> None:
    target, _, rng, fit, sides = case
    cert = fit.certificate
    assert cert.lower is not None and cert.lower > 0.0
    assert cert.gap == pytest.approx((cert.upper - cert.lower) / cert.upper)
    # The Farkas bound of the discrete problem where it is within 1e-3 of the fit, else the
    # larger of it and the one-sided plain bounds.
    assert "Farkas" in cert.detail or "de la Vallée Poussin" in cert.detail
    valid = [s.certificate.lower for s in sides if s.certificate.status == "global"]
    assert valid and cert.lower >= min(max(valid), cert.upper * (1 - 1e-3)) * (1 - 1e-9)
    # The bound is below the safe fit's own error, measured independently on a dense grid.
    assert cert.lower <= _dense_error(target, fit.rational, *rng) * (1 + 1e-12)


def test_one_sided_range_is_global() -> None:
    # On [0, b] the safe class is the plain class with c_k >= 0: the bound meets the error.
    fit = fit_minimax("tanh", (4, 4), (0.0, 4.0))
    cert = fit.certificate
    assert cert.status == "global"
    assert cert.gap is not None and cert.gap < 1e-5


def test_across_zero_is_global_by_the_farkas_bound(case) -> None:
    # The one-sided plain bounds are far below the safe error across 0 (gap ~1); the discrete
    # problem's Farkas certificate on the fit's extremal points is not.
    _, _, rng, fit, sides = case
    if rng[0] < 0.0 < rng[1]:
        cert = fit.certificate
        assert cert.status == "global" and cert.gap <= 1e-3 and "Farkas" in cert.detail
        valid = [s.certificate.lower for s in sides if s.certificate.status == "global"]
        assert cert.lower > 10 * max(valid, default=0.0)


def test_alternation_in_40_digits(case) -> None:
    target, order, _, _, sides = case
    m, n = order
    for side in sides:
        cert, r = side.certificate, side.rational
        if cert.status != "global" or not cert.lower or r is None:
            continue
        errs = _mp_alternation(target, r, cert.points)
        signs = [mpmath.sign(e) for e in errs]
        assert all(s != 0 for s in signs)
        assert all(signs[i] == -signs[i + 1] for i in range(len(signs) - 1))
        found = re.search(r"defect d = (\d+)", cert.detail)
        defect = int(found.group(1)) if found else 0
        assert found or "Chebyshev reference" in cert.detail
        assert len(errs) >= m + n + 2 - defect
        assert float(min(abs(e) for e in errs)) >= cert.lower
        assert cert.lower <= cert.upper
        # The denominator has no zero on the part (the theorem's other hypothesis).
        poles = [p for p in r.real_poles() if side.lo <= p <= side.hi]
        assert not poles


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_no_safe_rational_beats_the_bound(case, data) -> None:
    """Perturbed safe rationals (numerator free, denominator coefficients >= 0) never have a
    dense-grid error below the proven bound."""
    target, _, rng, fit, _ = case
    lower = fit.certificate.lower
    num = np.asarray(fit.rational.numerator, dtype=float)
    den = np.abs(np.asarray(fit.rational.denominator, dtype=float))
    scale = data.draw(st.floats(1e-6, 1e-1))
    dn = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=num.size, max_size=num.size)))
    dd = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=den.size, max_size=den.size)))
    r = Rational(num * (1 + scale * dn), np.abs(den * (1 + scale * dd)), "safe")
    assert _dense_error(target, r, *rng) >= lower * (1 - 1e-12)


def test_bound_safe_leaves_other_certificates() -> None:
    fit = fit_minimax("tanh", (3, 3), (-1.0, 1.0), form="plain")
    assert bound_safe(fit.certificate, [], 1e-6) is fit.certificate


def test_abs_certificate_states_why_no_bound() -> None:
    fit = fit_minimax("tanh", (2, 2), (-1.0, 1.0), form="abs")
    assert fit.certificate.lower is None
    assert "zeros of B free" in fit.certificate.detail


def test_a_zero_bound_is_not_attached() -> None:
    # relu is 0 on [-3, 0] and x on [0, 3]: the plain class reproduces each side, the bound is 0.
    target = get_target("relu")
    w = parse_weight("uniform", target=target, range=(-3.0, 3.0))
    sides = safe_lower_bound(target, w, -3.0, 3.0, 4, 4, tuple(target.kinks), needed=0.0)
    local = Certificate("local", 0.0185, None, None, "a local optimum")
    cert = bound_safe(local, sides, 1e-6)
    assert cert.status == "local" and cert.lower is None and cert.gap is None
    assert "No positive lower bound" in cert.detail
    # The fit itself gets the Farkas bound instead.
    fit = fit_minimax("relu", (4, 4), (-3.0, 3.0))
    assert fit.certificate.status == "global" and "Farkas" in fit.certificate.detail


def test_a_borrowed_bound_names_only_its_own_proof() -> None:
    from actfit.approx.certificate import with_bound

    farkas = Certificate(
        "global", 1.0e-3, 0.9995e-3, 5e-4,
        "lower bound from a Farkas certificate of the discrete problem, checked exactly.",
    )
    refined = Certificate("local", 0.99999e-3, None, None, "refined table, sampled.")
    kept = with_bound(refined, farkas)
    assert kept.status == "global" and kept.lower == farkas.lower
    assert "Farkas" in kept.detail and "Vallée Poussin" not in kept.detail
    dvp = Certificate("global", 1.0e-3, 0.999e-3, 1e-3, "de la Vallée Poussin at 8 points.")
    assert "Vallée Poussin" in with_bound(refined, dvp).detail
    # A better own bound is kept as it is; a bound is never above the fit's own error.
    own = Certificate("global", 1.0e-3, 0.99999e-3, 1e-5, "own.")
    assert with_bound(own, dvp) is own
    assert with_bound(Certificate("local", 0.5e-3), dvp).lower == 0.5e-3

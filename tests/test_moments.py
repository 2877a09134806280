"""Gaussian moments and gains against mpmath.quad at 30 digits, and torch.nn.init's gains."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from actfit.approx.lsq import fit_lsq
from actfit.approx.moments import gaussian_moments, moment_report, rational_kinks
from actfit.errors import ParameterError
from actfit.rational import Rational
from actfit.targets import get_target


def _mp_rational(r: Rational):
    a = [mpmath.mpf(float(v)) for v in r.numerator]
    b = [mpmath.mpf(float(v)) for v in r.denominator]

    def f(x):
        p = mpmath.polyval(a[::-1], x)
        if r.form == "plain":
            q = 1 + sum(b[k - 1] * x**k for k in range(1, len(b) + 1))
        elif r.form == "safe":
            q = 1 + sum(abs(b[k - 1]) * abs(x) ** k for k in range(1, len(b) + 1))
        else:
            q = 1 + abs(sum(b[k - 1] * x**k for k in range(1, len(b) + 1)))
        return p / q

    return f


def _mp_moments(f, kinks, sigma):
    with mpmath.workdps(30):
        pts = [-mpmath.inf, *sorted(set(kinks)), mpmath.inf]
        c = 1 / (sigma * mpmath.sqrt(2 * mpmath.pi))

        def phi(x):
            return c * mpmath.exp(-x * x / (2 * sigma * sigma))

        return (
            float(mpmath.quad(lambda x: f(x) * phi(x), pts)),
            float(mpmath.quad(lambda x: f(x) ** 2 * phi(x), pts)),
        )


def _close(got, want, scale):
    assert abs(got - want) <= 1e-12 * max(abs(want), scale), (got, want)


@pytest.mark.parametrize("name", ["gelu", "relu", "swish", "tanh", "elu", "leaky_relu"])
@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_target_moments_match_mpmath(name, sigma):
    t = get_target(name)
    m = gaussian_moments(t, sigma)
    mean, second = _mp_moments(t.mp, t.kinks, sigma)
    _close(m.mean, mean, second**0.5)  # odd targets: E[f] = 0, compared on the scale of f
    _close(m.second, second, second)
    assert m.gain == pytest.approx(sigma**2 / second, rel=1e-12)
    assert m.init_gain == pytest.approx(math.sqrt(m.gain), rel=1e-15)


@pytest.mark.parametrize("name", ["gelu", "relu", "tanh"])
@pytest.mark.parametrize("form", ["safe", "abs", "plain"])
def test_fit_moments_match_mpmath(name, form):
    fit = fit_lsq(name, order=(5, 4), range=(-3, 3), form=form)
    report = moment_report(fit, sigma=1.0)
    r = fit.rational
    if len(r.real_poles()):
        assert report.rational.second is None and "real poles" in report.rational.note
        return
    mean, second = _mp_moments(_mp_rational(r), rational_kinks(r), 1.0)
    _close(report.rational.mean, mean, second**0.5)
    _close(report.rational.second, second, second)
    # Value and slope at 0 against the exact rational.
    assert report.rational.value_at_0 == pytest.approx(float(r(0.0)), abs=1e-15)
    with mpmath.workdps(30):
        slope = float(mpmath.diff(_mp_rational(r), 0))
    assert report.rational.slope_at_0 == pytest.approx(slope, abs=1e-8)
    # Side by side: close to the target's, since the fit is good on most of the mass.
    assert report.rational.second == pytest.approx(report.target.second, rel=0.05)


def test_known_values():
    relu = gaussian_moments(get_target("relu"))
    assert relu.second == pytest.approx(0.5, rel=1e-14)
    assert relu.mean == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-14)
    assert relu.init_gain == pytest.approx(math.sqrt(2), rel=1e-14)  # torch's calculate_gain
    assert relu.slope_at_0 == pytest.approx(0.5, abs=1e-9)  # mean of the one-sided slopes
    lin = gaussian_moments(lambda x: 3 * x + 1, sigma=2.0)
    assert (lin.mean, lin.second, lin.slope_at_0) == pytest.approx((1.0, 37.0, 3.0), rel=1e-12)
    assert lin.to_dict()["gain"] == pytest.approx(4 / 37, rel=1e-12)


def test_kinks_and_errors():
    assert rational_kinks(Rational([1.0], [0.0, 1.0], "safe")) == ()  # only |x|^2: smooth
    assert rational_kinks(Rational([1.0], [1.0, -1.0], "abs")) == (0.0, 1.0)
    assert rational_kinks(Rational([1.0], [1.0], "plain")) == ()
    with pytest.raises(ParameterError, match="sigma"):
        gaussian_moments(get_target("relu"), sigma=0.0)
    with pytest.raises(ParameterError, match="target="):
        moment_report(Rational([1.0], [], "safe"))
    with pytest.raises(ParameterError, match="not finite"):
        gaussian_moments(lambda x: np.exp(x * x))


def test_runtime_gain_matches_torch_and_kat():
    torch = pytest.importorskip("torch")
    from actfit.runtime import RationalActivation, gain

    fit = fit_lsq("leaky_relu", slope=0.1)
    act = RationalActivation.from_fit(fit, dtype=torch.float64, impl="reference")
    g = gain(act)
    # Close to torch's value for the target (the fit is close on most of the Gaussian mass).
    assert g == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.1), rel=0.02)
    assert gain(fit, kind="variance") == pytest.approx(g * g, rel=1e-12)
    # KAT's estimate: Monte Carlo sigma^2 / mean(r(x)^2) over 10^6 samples, within its noise.
    x = np.random.default_rng(0).normal(size=1_000_000)
    kat = 1 / np.mean(fit.rational(x) ** 2)
    assert gain(fit, kind="variance") == pytest.approx(kat, rel=5e-3)
    # Grouped: channels split equally, so E[r^2] is the mean over the groups.
    two = RationalActivation([[0.0, 1.0], [0.0, 2.0]], [[], []], groups=2, impl="reference")
    assert gain(two) == pytest.approx(math.sqrt(1 / 2.5), rel=1e-12)
    with pytest.raises(ParameterError, match="kind"):
        gain(fit, kind="nope")

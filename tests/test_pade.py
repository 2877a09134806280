"""Tests of actfit.approx.pade: exact Taylor data, robust Padé, poles, forms and the CLI command."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.approx.pade import (
    exact_string,
    fit_pade,
    robust_pade,
    taylor_coefficients,
)
from actfit.cli import app
from actfit.errors import FormError, NotAnalyticError, ParameterError, PoleError
from actfit.targets import get_target, parse_expression, symbol

X = symbol()


# ------------------------------------------------------------------------------------------------
# an independent computation: sympy's own series + the classical b_0 = 1 linear system
# ------------------------------------------------------------------------------------------------
def _independent(name: str, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    expr = get_target(name).sympy()
    ser = sympy.series(expr, X, 0, m + n + 1).removeO()
    c = [ser.coeff(X, k) for k in range(m + n + 1)]
    exact = all(v.is_Rational for v in c)
    if exact:
        b = sympy.symbols(f"b1:{n + 1}")
        eqs = [
            sum(c[i - j] * (1 if j == 0 else b[j - 1]) for j in range(n + 1) if i - j >= 0)
            for i in range(m + 1, m + n + 1)
        ]
        sol = sympy.solve(eqs, b, dict=True)[0] if n else {}
        bb = [sympy.Integer(1)] + [sol[v] for v in b]
        a = [sum(c[k - j] * bb[j] for j in range(min(k, n) + 1)) for k in range(m + 1)]
        return (np.array([float(v) for v in a]), np.array([float(v) for v in bb[1:]]))
    with mpmath.workdps(50):
        cm = [mpmath.mpf(sympy.N(v, 60)) for v in c]
        p, q = mpmath.pade(cm, m, n)
        return np.array([float(v) for v in p]), np.array([float(v) for v in q[1:]])


def _padded(v: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate((v, np.zeros(size - v.size)))


@pytest.mark.parametrize("name", ["swish", "tanh", "sigmoid", "softplus", "gelu"])
@pytest.mark.parametrize("order", [(3, 2), (5, 4), (6, 6)])
def test_coefficients_match_an_independent_computation(name: str, order: tuple[int, int]) -> None:
    m, n = order
    fit = fit_pade(get_target(name), order)
    a_ref, b_ref = _independent(name, m, n)
    a = _padded(fit.rational.numerator, m + 1)
    b = _padded(fit.rational.denominator, n)
    scale = max(np.max(np.abs(a_ref)), 1.0)
    np.testing.assert_allclose(a, a_ref, rtol=1e-14, atol=1e-14 * scale)
    np.testing.assert_allclose(b, b_ref, rtol=1e-14, atol=1e-14 * max(np.max(np.abs(b_ref)), 1))
    assert fit.method == "pade" and fit.form == "plain"
    assert fit.settings["requested"] == [m, n]


def test_taylor_coefficients_exact() -> None:
    # tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 (Abramowitz & Stegun 4.5.64)
    coeffs, how = taylor_coefficients(get_target("tanh"), 0.0, 8)
    assert coeffs == [0, 1, 0, Fraction(-1, 3), 0, Fraction(2, 15), 0, Fraction(-17, 315)]
    assert all(isinstance(v, Fraction) for v in coeffs)
    assert "exact" in how


def test_taylor_coefficients_irrational_constant_is_high_precision() -> None:
    coeffs, how = taylor_coefficients(get_target("softplus"), 0.0, 4)
    assert coeffs[1:] == [Fraction(1, 2), Fraction(1, 8), 0]
    with mpmath.workdps(60):
        assert abs(coeffs[0] - mpmath.log(2)) < mpmath.mpf(10) ** -55
    assert "60 digits" in how


def test_taylor_coefficients_away_from_zero_match_mpmath() -> None:
    tg = get_target("gelu")
    coeffs, _ = taylor_coefficients(tg, 0.75, 6)
    with mpmath.workdps(40):
        ref = mpmath.taylor(tg.mp, mpmath.mpf(0.75), 5)
        for v, r in zip(coeffs, ref, strict=True):
            assert abs(mpmath.mpf(v) - r) <= mpmath.mpf(10) ** -30 * (1 + abs(r))


def test_tanh_5_4_textbook_exact() -> None:
    # tanh [5,4] = (945x + 105x^3 + x^5) / (945 + 420x^2 + 15x^4): the convergent of Lambert's
    # continued fraction (Baker & Graves-Morris, Padé Approximants, 2nd ed., section 4.7).
    fit = fit_pade(get_target("tanh"), (5, 4), exact=True)
    assert fit.settings["exact"]["numerator"] == ["0", "1", "0", "1/9", "0", "1/945"]
    assert fit.settings["exact"]["denominator"] == ["0", "4/9", "0", "1/63"]
    assert fit.settings["exact_rational"] is True
    assert fit.rational.numerator[3] == 1 / 9 and fit.rational.denominator[3] == 1 / 63
    assert not fit.settings["lowered"]


def test_defective_tanh_2_1_lowers_the_type() -> None:
    # The classical b_0 = 1 system is singular here: mpmath.pade raises on it.
    with pytest.raises(ZeroDivisionError):
        mpmath.pade([0, 1, 0, mpmath.mpf(-1) / 3], 2, 1)
    fit = fit_pade(get_target("tanh"), (2, 1), exact=True)
    assert fit.settings["delivered"] == [1, 0] and fit.settings["lowered"]
    assert "factor x" in fit.settings["reasons"][0]
    assert fit.settings["exact"]["numerator"] == ["0", "1"]


@pytest.mark.parametrize(
    ("name", "order", "delivered", "why"),
    [
        ("tanh", (4, 4), (3, 4), "numerator's coefficient of x^4 vanishes"),
        ("tanh", (2, 7), (1, 6), "share the factor x"),
        ("sigmoid", (12, 0), (11, 0), "numerator's coefficient of x^12 vanishes"),
    ],
)
def test_structural_zeros_lower_the_type(name: str, order: tuple, delivered: tuple,
                                         why: str) -> None:
    fit = fit_pade(get_target(name), order, exact=True)
    assert tuple(fit.settings["delivered"]) == delivered == fit.order
    assert fit.settings["lowered"]
    (reason,) = fit.settings["reasons"]
    assert reason.startswith(f"[{order[0]},{order[1]}]") and why in reason
    # the lowered approximant is still the Padé approximant: P - Q f = O(x^(mu+nu+1)) exactly
    mu, nu = delivered
    ex = fit.settings["exact"]
    p = sum(sympy.Rational(v) * X**k for k, v in enumerate(ex["numerator"]))
    q = 1 + sum(sympy.Rational(v) * X ** (k + 1) for k, v in enumerate(ex["denominator"]))
    resid = sympy.series(p - q * get_target(name).sympy(), X, 0, mu + nu + 1).removeO()
    assert sympy.expand(resid) == 0


def test_defective_inexact_data_lower_the_type() -> None:
    # erf is odd with irrational coefficients: the mpmath (SVD) path, same degeneracy as tanh.
    fit = fit_pade(parse_expression("erf(x)"), (2, 1))
    assert fit.settings["delivered"] == [1, 0]
    assert abs(fit.rational.numerator[1] - 2 / np.sqrt(np.pi)) < 1e-15


def test_froissart_doublet_removed_from_noisy_data() -> None:
    # r = sqrt(2) (1 + x) / (1 - x/3 + x^2/5) asked as [4,4]: in 60-digit data the Toeplitz block
    # is singular only to rounding, so a naive solve would carry spurious pole-zero pairs; the
    # SVD rank test (Gonnet, Güttel & Trefethen 2013) recovers the planted type [1,2].
    r = sympy.sqrt(2) * (1 + X) / (1 - X / 3 + X**2 / 5)
    coeffs, _ = taylor_coefficients(r, 0.0, 9)
    res = robust_pade(coeffs, (4, 4))
    assert res.delivered == (1, 2)
    with mpmath.workdps(60):
        num = [mpmath.mpf(v) for v in res.numerator]
        s2 = mpmath.sqrt(2)
        assert abs(num[0] - s2) < 1e-40 and abs(num[1] - s2) < 1e-40
        assert abs(res.denominator[1] + mpmath.mpf(1) / 3) < 1e-40
        assert abs(res.denominator[2] - mpmath.mpf(1) / 5) < 1e-40


def test_genuine_near_doublet_is_removed_and_reported() -> None:
    fit = fit_pade(get_target("gelu"), (4, 4))
    assert fit.settings["delivered"] == [3, 3]
    assert "Froissart" in fit.settings["reasons"][0] and "-0.293293" in fit.settings["reasons"][0]
    assert fit.poles.pole_free_on_range


@pytest.mark.parametrize(
    ("name", "center"),
    [("relu", 0.0), ("leaky_relu", 0.0), ("hardswish", -3.0), ("abs", 0.0), ("elu", 0.0)],
)
def test_kink_at_center_is_refused(name: str, center: float) -> None:
    with pytest.raises(NotAnalyticError, match=r"lsq.*minimax.*--center"):
        fit_pade(get_target(name), (3, 2), center=center)


def test_center_away_from_kink_is_exact_for_linear_pieces() -> None:
    fit = fit_pade(get_target("leaky_relu", {"slope": 0.1}), (5, 4), center=-1.0, exact=True)
    assert fit.settings["delivered"] == [1, 0]
    assert fit.settings["exact"]["numerator"] == ["0", "1/10"]
    fit = fit_pade(get_target("relu"), (3, 2), center=1.0, exact=True)
    assert fit.settings["exact"]["numerator"] == ["0", "1"]


def test_center_shifts_expansion() -> None:
    tg = get_target("sigmoid")
    fit = fit_pade(tg, (4, 4), center=1.0)
    for h in (0.0, 0.01, -0.01):
        assert abs(fit.rational(1.0 + h) - tg(1.0 + h)) < 1e-13
    assert fit.settings["center"] == 1.0


def test_known_real_pole_is_reported() -> None:
    tg = parse_expression("x/((x - 1.5)*(x + 4))")
    with pytest.raises(PoleError, match=r"1\.5"):
        fit_pade(tg, (1, 2))
    fit = fit_pade(tg, (1, 2), allow_poles=True, exact=True)
    assert fit.poles.poles_on_range == (1.5,)
    assert fit.poles.poles_on_real_line == (-4.0, 1.5)
    assert fit.settings["exact"]["denominator"] == ["-5/12", "-1/6"]


def test_forms() -> None:
    tanh = get_target("tanh")
    safe = fit_pade(tanh, (5, 4), form="safe")  # b_1 = b_3 = 0, b_2, b_4 > 0: representable
    plain = fit_pade(tanh, (5, 4))
    assert safe.form == "safe"
    assert np.array_equal(safe.rational.denominator, plain.rational.denominator)
    assert fit_pade(tanh, (5, 4), form="abs").form == "abs"
    with pytest.raises(FormError, match="lsq"):
        fit_pade(get_target("swish"), (4, 4), form="safe")
    with pytest.raises(FormError, match="abs"):
        fit_pade(get_target("swish"), (2, 7), form="abs", allow_poles=True)


def test_exact_string() -> None:
    assert exact_string(Fraction(1, 9)) == "1/9"
    assert exact_string(Fraction(-3)) == "-3"
    with mpmath.workdps(40):
        assert exact_string(mpmath.log(2)).startswith("~0.69314718055994530941")


# ------------------------------------------------------------------------------------------------
# property: a planted rational is recovered exactly
# ------------------------------------------------------------------------------------------------
_ints = st.integers(min_value=-6, max_value=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    num=st.lists(_ints, min_size=1, max_size=4),
    den=st.lists(_ints, min_size=0, max_size=3),
    q0=st.integers(min_value=1, max_value=5),
)
# Q = 2 (1 + x)^3: a triple pole, where mpmath's polyroots does not converge (found by a run).
@example(num=[1], den=[6, 6, 2], q0=2)
def test_planted_rational_is_recovered(num: list[int], den: list[int], q0: int) -> None:
    m, n = len(num) - 1, len(den)
    p = sum(sympy.Integer(v) * X**k for k, v in enumerate(num))
    q = q0 + sum(sympy.Integer(v) * X ** (k + 1) for k, v in enumerate(den))
    coeffs, how = taylor_coefficients(p / q, 0.0, m + n + 1)
    assert "exact" in how
    res = robust_pade(coeffs, (m, n))
    assert res.exact
    ph = sum(sympy.Rational(v.numerator, v.denominator) * X**k for k, v in enumerate(res.numerator))
    qh = sum(
        sympy.Rational(v.numerator, v.denominator) * X**k for k, v in enumerate(res.denominator)
    )
    assert sympy.expand(ph * q - p * qh) == 0


# ------------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------------
runner = CliRunner()


def test_cli_pade_table() -> None:
    result = runner.invoke(app, ["pade", "swish", "--order", "5,4"])
    assert result.exit_code == 0, result.output
    assert "pade fit of swish [5,4]" in result.output
    assert "pole-free on the whole real line" in result.output


def test_cli_pade_exact_and_lowered() -> None:
    result = runner.invoke(app, ["pade", "tanh", "--order", "2,1", "--exact"])
    assert result.exit_code == 0, result.output
    assert "delivered type [1,0] (asked [2,1])" in result.output
    assert "a_1 = 1" in result.output
    result = runner.invoke(app, ["pade", "tanh", "--order", "5,4", "--exact"])
    assert "a_3 = 1/9" in result.output and "b_4 = 1/63" in result.output


def test_cli_pade_json_and_out(tmp_path) -> None:
    out = tmp_path / "p.json"
    result = runner.invoke(app, ["pade", "gelu", "--order", "3,2", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["method"] == "pade"
    from actfit.export import load

    fit = load(out)
    assert fit.settings["delivered"] == [3, 2] and fit.form == "plain"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["pade", "relu"], "not analytic at x = 0"),
        (["pade", "swish", "--order", "4,4", "--form", "safe"], "safe"),
        (["pade", "x/(x - 1.5)", "--order", "1,1"], "pole"),
    ],
)
def test_cli_pade_user_errors(args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0]


# ------------------------------------------------------------------------------------------------
# the shared fitter signature
# ------------------------------------------------------------------------------------------------
def test_shared_signature_names_weight_and_progress() -> None:
    calls: list[tuple[str, float]] = []
    fit = fit_pade("swish", progress=lambda stage, done: calls.append((stage, done)))
    assert fit.order == (5, 4) and fit.range == (-3.0, 3.0) and fit.form == "plain"
    assert calls[0] == ("pade swish", 0.0) and calls[-1] == ("pade swish", 1.0)
    by_name = fit_pade("leaky_relu", (5, 4), (-2.0, 2.0), center=-1.0, exact=True, slope=0.1)
    assert by_name.settings["exact"]["numerator"] == ["0", "1/10"]
    assert by_name.range == (-2.0, 2.0)
    with pytest.raises(ParameterError, match="no error weight; use fit_lsq or fit_minimax"):
        fit_pade("swish", weight="normal")

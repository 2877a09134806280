"""Conditioning of the evaluation: Horner running-error bounds, near-poles, complex zeros."""

from __future__ import annotations

import io
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.conditioning import (
    DTYPES,
    Conditioning,
    assess_conditioning,
    evaluation_error_bound,
    pointwise_error_bound,
)
from actfit.approx.poles import PoleReport, pole_report
from actfit.check import check_coefficients
from actfit.errors import ParameterError
from actfit.fit import jsonable
from actfit.rational import Rational
from actfit.render import fit_panel
from actfit.roots import complex_roots
from actfit.targets import as_target


def _exact(r: Rational, x: float) -> Fraction:
    xf = Fraction(x)
    p = sum(Fraction(float(c)) * xf**k for k, c in enumerate(r.numerator))
    q = sum(Fraction(float(c)) * xf**k for k, c in enumerate(r.denominator_polynomial()))
    return p / q


def _horner32(coeffs: np.ndarray, x: np.float32) -> np.float32:
    out = np.float32(0.0)
    for c in coeffs.astype(np.float32)[::-1]:
        out = np.float32(out * x + c)
    return out


@pytest.fixture(scope="module")
def hardswish(hardswish_near_pole):
    return hardswish_near_pole


def test_hardswish_near_pole_is_reported(hardswish) -> None:
    p = hardswish.poles
    assert p.pole_free  # "pole-free" stays about real zeros
    c = p.conditioning
    assert c is not None
    assert c.min_abs_q < 1e-8
    re, im = c.complex_zero
    assert abs(re - 3.0) < 1e-3 and abs(im - 0.0188) < 1e-3
    assert c.complex_zero_distance == pytest.approx(im)
    f32, bf16 = c.dtype("float32"), c.dtype("bfloat16")
    assert f32.warns and bf16.warns and math.isinf(f32.bound)
    assert f32.useless_on[0] < 3.0 < f32.useless_on[1]
    assert f32.digits_lost == f32.digits
    text = "\n".join(p.warnings())
    assert "float32 loses all of its 7.2 digits: useless on" in text
    assert "bfloat16 loses all" in text
    assert "complex zeros of Q at 3 ± 0.0188i" in text.replace("2.99997", "3")
    # float64 evaluation: exact error + bound covers the float64-evaluated error at x = 3.0065
    x = 3.0065
    exact_err = abs(float(_exact(hardswish.rational, x)) - float(hardswish.target(np.array(x))))
    f64_err = abs(float(hardswish.rational(np.array([x]))[0] - hardswish.target(np.array(x))))
    bound = float(pointwise_error_bound(hardswish.rational, [x], "float64")[0])
    assert f64_err <= exact_err + bound
    assert c.dtype("float64").bound >= bound
    # the float32 evaluation really is worthless there (not an artefact of the bound)
    xf = np.float32(2.95)
    y32 = _horner32(hardswish.rational.numerator, xf) / _horner32(
        hardswish.rational.denominator_polynomial(), xf
    )
    assert abs(float(y32) - float(_exact(hardswish.rational, float(xf)))) > 0.1
    panel = _render(fit_panel(hardswish))
    assert "digits lost" in panel and "float32 loses all" in panel and "± 0.0188i" in panel


def _render(renderable) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_safe_form_says_q_at_least_one() -> None:
    r = Rational([0.1, 1.0, 0.5], [-2.0, 3.0], "safe")
    c = pole_report(r, -3.0, 3.0).conditioning
    assert c.cond_q == 1.0 and c.min_abs_q >= 1.0
    assert "Q >= 1" in c.zeros_text() and c.complex_zero is None
    assert not c.warnings()


def test_well_conditioned_plain_does_not_warn() -> None:
    r = Rational([0.0, 1.0], [0.0, 1.0], "plain")  # x / (1 + x^2): zeros at +-i
    c = assess_conditioning(r, -3.0, 3.0)
    assert not c.warnings()
    assert c.complex_zero == (0.0, 1.0) and c.complex_zero_distance == 1.0
    assert all(d.digits_lost < d.digits / 2 for d in c.dtypes)
    assert [d.dtype for d in c.dtypes] == list(DTYPES)


def test_round_trip_through_json(hardswish) -> None:
    d = json.loads(json.dumps(jsonable(hardswish.poles.to_dict()), allow_nan=False))
    assert PoleReport.from_dict(d) == hardswish.poles
    assert Conditioning.from_dict(d["conditioning"]) == hardswish.poles.conditioning
    old = {k: v for k, v in d.items() if k != "conditioning"}  # documents from before
    assert PoleReport.from_dict(old).conditioning is None


def test_complex_roots_are_exactly_isolated() -> None:
    z = complex_roots(np.poly1d([1.0, -6.0, 9.0 + 0.0188**2]).coeffs[::-1])
    assert z.tolist() == pytest.approx([3 - 0.0188j, 3 + 0.0188j], abs=1e-12)
    assert complex_roots([1.0, 5e-324]).tolist() == [complex(-math.inf, 0.0)]


coefficient = st.floats(-4.0, 4.0, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-6)


@settings(max_examples=60, deadline=None)
@given(
    num=st.lists(coefficient, min_size=1, max_size=6),
    den=st.lists(coefficient, min_size=0, max_size=5),
    x=st.floats(-3.0, 3.0, allow_nan=False),
)
def test_horner_bound_is_a_true_bound(num, den, x) -> None:
    r = Rational(num, den, "plain")
    q_exact = sum(Fraction(c) * Fraction(x) ** k for k, c in enumerate(r.denominator_polynomial()))
    if q_exact == 0:
        return
    exact = _exact(r, x)
    # float64: Rational's own evaluation (Horner in x, or in 1/x for |x| > 1)
    b64 = float(pointwise_error_bound(r, [x], "float64")[0])
    got64 = float(r(np.array([x]))[0])
    assert abs(Fraction(got64) - exact) <= Fraction(b64) if math.isfinite(b64) else True
    # float32 as the runtime does it: float32 x and coefficients, Horner, one division
    xf = np.float32(x)
    ex32 = _exact(r, float(xf))
    b32 = float(pointwise_error_bound(r, [float(xf)], "float32")[0])
    with np.errstate(all="ignore"):
        y32 = _horner32(r.numerator, xf) / _horner32(r.denominator_polynomial(), xf)
    if math.isfinite(b32):
        assert math.isfinite(float(y32))
        assert abs(Fraction(float(y32)) - ex32) <= Fraction(b32)
    # bfloat16: the float32 result rounded to bfloat16
    bb = float(pointwise_error_bound(r, [float(xf)], "bfloat16")[0])
    if math.isfinite(bb):
        import torch

        ybf = float(torch.tensor(float(y32), dtype=torch.float32).to(torch.bfloat16).float())
        assert abs(Fraction(ybf) - ex32) <= Fraction(bb)


def test_evaluation_error_bound_covers_the_range() -> None:
    r = Rational([0.0, 1.0, 0.3], [0.5, 0.25], "plain")
    xs = np.linspace(-3, 3, 301)
    worst = max(abs(float(r(np.array([v]))[0]) - float(_exact(r, v))) for v in xs)
    assert worst <= evaluation_error_bound(r, -3.0, 3.0, "float64")
    with pytest.raises(ValueError, match="unknown dtype"):
        evaluation_error_bound(r, -3.0, 3.0, "int8")


def test_check_refuses_a_pole_beyond_float64() -> None:
    with pytest.raises(ParameterError, match=r"b1 = 4.94e-324 is subnormal.*-2.02e\+323"):
        check_coefficients(
            [0.0, 1.0], [5e-324], form="plain", target=as_target("relu", None)
        )


def test_cli_check_beyond_float64_is_one_line_exit_2() -> None:
    from typer.testing import CliRunner

    from actfit.cli import app

    res = CliRunner().invoke(
        app,
        ["check", "--numerator", "0,1", "--denominator", "5e-324", "--form", "plain",
         "--target", "relu", "--json"],
    )
    assert res.exit_code == 2
    assert "beyond the float64 range" in res.output and '"-inf"' not in res.output

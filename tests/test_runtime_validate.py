"""Tests of ``actfit.runtime.validate`` (every table format, thresholds, bad coefficients) and of
the coefficient checks of ``RationalActivation``."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from actfit.errors import ActfitError, FileFormatError, FormError, ParameterError  # noqa: E402
from actfit.runtime import RationalActivation, validate  # noqa: E402

# GELU tables in the third-party layouts (coefficients of rational_activations' version A gelu).
GELU = {
    "init_w_numerator": [-0.0012, 0.5, 0.9, 0.54, 0.12, 0.009],
    "init_w_denominator": [0.01, 1.2, 0.0, 0.18],
    "lb": -3.0,
    "ub": 3.0,
}
LEAKY = {
    "init_w_numerator": [0.0298, 0.618, 2.323, 3.052, 1.485, 0.251],
    "init_w_denominator": [1.142, 4.393, 0.872, 0.347],
    "lb": -3.0,
    "ub": 3.0,
}
FAST = {"points": 2001, "bench_numel": 4096, "dtypes": "float32"}


@pytest.fixture
def files(tmp_path):
    ra = tmp_path / "rationals_config.json"
    ra.write_text(json.dumps({"Rational_version_A5/4": {"gelu": GELU, "leaky_relu": LEAKY}}))
    kat = tmp_path / "init.json"
    kat.write_text(json.dumps({"gelu": GELU}))
    big = tmp_path / "big.json"
    huge = [1e308, *GELU["init_w_numerator"][1:]]
    big.write_text(json.dumps({"gelu": {**GELU, "init_w_numerator": huge}}))
    return {"ra": ra, "kat": kat, "big": big}


def test_validate_reads_a_rational_activations_config_by_name(files):
    report = validate(files["ra"], name="gelu", **FAST)
    assert report.form == "safe" and report.order == (5, 4)
    assert report.source.endswith("rationals_config.json:Rational_version_A5/4:gelu")
    assert report.passed, report.rows[0].failures


def test_validate_needs_a_name_for_a_file_of_several_tables(files):
    with pytest.raises(FileFormatError, match="holds 2 tables"):
        validate(files["ra"], **FAST)
    with pytest.raises(FileFormatError, match="no table named"):
        validate(files["ra"], name="tanh", **FAST)


def test_validate_reads_a_kat_file_with_the_form_given(files):
    with pytest.raises(FormError, match="does not say which denominator form"):
        validate(files["kat"], **FAST)
    safe = validate(files["kat"], form="safe", **FAST)
    absf = validate(files["kat"], form="B", **FAST)
    assert (safe.form, absf.form) == ("safe", "abs")
    assert safe.source == str(files["kat"])


def test_overflowing_coefficients_give_a_one_line_actfit_error(files):
    with pytest.raises(ActfitError) as info:
        validate(files["big"], form="safe", **FAST)
    message = str(info.value)
    assert "\n" not in message and "1e+308" in message and "float32" in message


def test_rows_carry_their_thresholds_into_the_json(files):
    report = validate(files["ra"], name="gelu", **FAST)
    row = report.rows[0]
    assert row.tol_rational == 2e-5 and row.tol_grad_coeff == 1e-4
    assert row.tol_grad_x == 2e-5
    # gelu on [-3, 3]: |y| <= 3, so the target bound is the fit's error plus 2e-5 * 3 at most.
    assert row.fit_err_target < row.tol_target <= row.fit_err_target + 2e-5 * 3 + 1e-12
    assert row.max_err_target <= row.tol_target
    assert row.max_err_rational <= row.tol_rational * 3
    doc = report.to_dict()["rows"][0]
    assert not any(k.startswith("tol_") for k in doc)  # grouped under "thresholds"
    assert doc["thresholds"]["tol_rational"] == 2e-5
    assert doc["thresholds"]["tol_target"] == row.tol_target


def test_thresholds_are_per_dtype(files):
    report = validate(files["ra"], name="gelu", points=2001, bench_numel=4096,
                      dtypes="bfloat16,float64")
    assert [r.tol_rational for r in report.rows] == [1.6e-2, 1e-12]
    assert [r.tol_grad_coeff for r in report.rows] == [1e-4, 1e-10]


@pytest.mark.parametrize(
    "numerator, denominator, groups, where",
    [
        ([0.0, float("nan"), 1.0], [0.5], 1, "numerator coefficient at position 1 is nan"),
        ([0.0, 1.0], [0.5, float("inf")], 1, "denominator coefficient at position 1 is inf"),
        ([0.0, 1.0], [[0.5], [float("-inf")]], 2, "position (1, 0) is -inf"),
        ([0.0, 1e300], [0.5], 1, "overflows float32"),
    ],
)
def test_module_refuses_nonfinite_coefficients(numerator, denominator, groups, where):
    with pytest.raises(ParameterError) as info:
        RationalActivation(numerator, denominator, groups=groups, impl="reference")
    assert where in str(info.value)


def test_module_accepts_large_finite_coefficients_in_float64():
    act = RationalActivation([0.0, 1e300], [0.5], dtype=torch.float64, impl="reference")
    assert torch.isfinite(act.numerator).all()


def test_module_reports_the_shape_it_got():
    with pytest.raises(ParameterError, match=r"shape \(2, 3\) do not match groups=3"):
        RationalActivation([[0.0, 1.0, 2.0]] * 2, [0.5], groups=3, impl="reference")
    with pytest.raises(ActfitError, match=r"shapes \(18,\) and \(0,\)"):
        RationalActivation([1.0] * 18, [], impl="reference")

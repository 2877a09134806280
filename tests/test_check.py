"""`actfit check`: the readers (actfit, rational_activations, KAT, lists), form C, the verdicts.

The third-party fixtures are built by hand in the exact structure of the projects' files:
rational_activations' ``rational/rationals_config.json`` (ml-research/rational_activations) and
KAT's ``kat_rational/init.json`` (Adamdad/rational_kat_cu). The few coefficient vectors used are
copied from those files (the source is named next to each).
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.check import (
    DEFAULT_TOL,
    check_coefficients,
    check_file,
    check_fit,
    count_statuses,
    results_document,
)
from actfit.cli import app
from actfit.errors import FileFormatError, FormError, ParameterError, UnknownTargetError
from actfit.export import save
from actfit.export.names import activation_name, activation_target
from actfit.export.readers import (
    detect_format,
    entry_fit,
    external_fit,
    load_fits,
    parse_coefficients,
    read_tables,
)
from actfit.rational import FORMS, READ_FORMS, Rational, normalize_form, require_fit_form
from actfit.targets import get_target, parse_expression

runner = CliRunner()

# rational_activations, rational/rationals_config.json, "Rational_version_A5/4" -> "leaky_relu"
# (a version-A, i.e. safe-form, fit of leaky ReLU with slope 0.01 on [-3, 3]). KAT's
# kat_rational/init.json carries the same vectors under "leaky_relu", evaluated there in form B.
RA_A_LEAKY_NUM = [
    0.029792778657264946,
    0.6183735264987601,
    2.323309062531321,
    3.051936237265109,
    1.4854203263828845,
    0.2510244961111299,
]
RA_A_LEAKY_DEN = [-1.1419548357285474, 4.393159974992486, 0.8714712309957245, 0.34719662339598834]
# rational_activations, same file, "Rational_version_C3/2" -> "leaky_relu_0.1" (b0..b2).
RA_C_LEAKY01_NUM = [1299.252221054247, 6412.385498792421, 4517.481746168571, 1266.0305574666183]
RA_C_LEAKY01_DEN = [11658.855469503093, -0.1578883069439065, 2301.9197200860253]
# rational_activations, same file, "Rational_version_N2/2" -> "identity" on [-5, 5].
RA_N_IDENT_NUM = [2.0768813552409573e-20, 0.9999999997812081, 0.0006867760240578934]
RA_N_IDENT_DEN = [0.0006867760240050522, -1.4587398861117518e-11]
# KAT, kat_rational/init.json, "gelu" (refitted by KAT in form B).
KAT_GELU_NUM = [-0.00153969, 0.51692871, 0.44075827, 0.0972553, -0.00884418, -0.00378675]
KAT_GELU_DEN = [-0.14171056, -0.06481231, -0.0444695, 0.01283776]


def _rec(num, den, lb=-3, ub=3):
    return {"init_w_numerator": num, "init_w_denominator": den, "ub": ub, "lb": lb}


@pytest.fixture
def ra_config(tmp_path: Path) -> Path:
    """A rational_activations config in the structure of their rationals_config.json."""
    doc = {
        "Rational_version_A5/4": {
            # lb/ub reversed, as the real file has it for "identity"
            "identity": _rec([0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 4, lb=3, ub=-3),
            "leaky_relu": _rec(RA_A_LEAKY_NUM, RA_A_LEAKY_DEN),
        },
        # The real file has this stray top-level record, outside every version group.
        "identity": _rec([0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 4, lb=3, ub=-3),
        "Rational_version_B5/4": {"leaky_relu": _rec(RA_A_LEAKY_NUM, RA_A_LEAKY_DEN)},
        "Rational_version_C3/2": {"leaky_relu_0.1": _rec(RA_C_LEAKY01_NUM, RA_C_LEAKY01_DEN)},
        "Rational_version_D5/4": {"gelu": _rec(KAT_GELU_NUM, KAT_GELU_DEN)},
        "Rational_version_N2/2": {"identity": _rec(RA_N_IDENT_NUM, RA_N_IDENT_DEN, -5.0, 5.0)},
    }
    path = tmp_path / "rationals_config.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


@pytest.fixture
def kat_file(tmp_path: Path) -> Path:
    """A KAT-style flat file in the structure of kat_rational/init.json."""
    doc = {
        "leaky_relu": _rec(RA_A_LEAKY_NUM, RA_A_LEAKY_DEN),
        "gelu": _rec(KAT_GELU_NUM, KAT_GELU_DEN),
        "GEGLU": _rec([0.0, 1.0], [0.0]),
    }
    path = tmp_path / "init.json"
    path.write_text(json.dumps(doc, indent=4))
    return path


# ---- form C (rational_activations' version C) ------------------------------------------------
def test_form_c_name_alias_and_fit_refusal() -> None:
    assert normalize_form("C") == "abs_offset" == normalize_form("abs_offset")
    assert "abs_offset" not in FORMS and "abs_offset" in READ_FORMS
    assert [require_fit_form(f) for f in ("N", "a", "abs")] == ["plain", "safe", "abs"]
    with pytest.raises(FormError, match="only for reading"):
        require_fit_form("C")


def _mp_c(num, den, x: float) -> tuple[float, float]:
    """rational_activations' Rational_version_C at 50 digits, and a float64 rounding bound."""
    with mpmath.workdps(50):
        xm = mpmath.mpf(x)
        p = mpmath.fsum(mpmath.mpf(a) * xm**k for k, a in enumerate(num))
        s = mpmath.fsum(mpmath.mpf(b) * xm**k for k, b in enumerate(den))
        q = mpmath.mpf("0.1") + abs(s)
        ref = p / q
        # Horner rounding: bounded through the condition numbers of both sums.
        scale_p = mpmath.fsum(abs(mpmath.mpf(a)) * abs(xm) ** k for k, a in enumerate(num))
        scale_q = mpmath.fsum(abs(mpmath.mpf(b)) * abs(xm) ** k for k, b in enumerate(den))
        bound = 64 * 2.0**-52 * (scale_p + abs(ref) * scale_q) / q
        return float(ref), float(bound)


coef = st.one_of(st.just(0.0), st.floats(0.01, 3.0), st.floats(-3.0, -0.01))


@settings(max_examples=60, deadline=None)
@given(
    num=st.lists(coef, min_size=1, max_size=5),
    den=st.lists(coef, min_size=1, max_size=5),
    x=st.one_of(st.floats(-4, 4), st.floats(1e3, 1e60), st.floats(-1e60, -1e3)),
)
def test_form_c_evaluation_matches_definition(num, den, x) -> None:
    r = Rational(num, den, "C")
    want, bound = _mp_c(num, den, x)
    got = float(r(np.array([x]))[0])
    assert abs(got - want) <= max(bound, 1e-15 * abs(want)), (got, want)
    assert r.degree == (len(num) - 1, len(den) - 1)
    assert r.real_poles().size == 0


def test_form_c_derivatives_and_gradients() -> None:
    r = Rational(RA_C_LEAKY01_NUM, RA_C_LEAKY01_DEN, "C")
    x = np.array([-2.5, -0.7, 0.3, 1.9])
    h = 1e-6
    fd = (r(x + h) - r(x - h)) / (2 * h)
    assert np.allclose(r.deriv(x), fd, rtol=1e-6, atol=1e-8)
    da, db = r.coefficient_gradients(x)
    assert da.shape == (4, 4) and db.shape == (4, 3)
    for k in range(3):
        b = np.array(RA_C_LEAKY01_DEN)
        step = 1e-6 * max(1.0, abs(b[k]))
        b[k] += step
        fd_b = (Rational(RA_C_LEAKY01_NUM, b, "C")(x) - r(x)) / step
        assert np.allclose(db[:, k], fd_b, rtol=1e-4, atol=1e-9)
    assert Rational([1.0], [0.0], "C")(np.array([0.5, 7.0])).tolist() == [10.0, 10.0]
    with pytest.raises(ValueError, match="b0"):
        Rational([1.0], [], "C")


# ---- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("leaky_relu", get_target("leaky_relu", {"slope": 0.01})),
        ("leaky_relu_0.1", get_target("leaky_relu", {"slope": 0.1})),
        ("leaky_relu_-0.5", get_target("leaky_relu", {"slope": -0.5})),
        ("swish", get_target("swish")),
        ("silu", get_target("swish")),
        ("gelu", get_target("gelu")),
        ("gelu_old", get_target("gelu")),
        ("Sigmoid", get_target("sigmoid")),
        ("identity", get_target("identity")),
        ("tswish(z=2.0)", get_target("tswish", {"z": 2.0})),
        ("erfc_Softplus_2", parse_expression("erfc(softplus(x))^2")),
        ("x*tanh(x)", parse_expression("x*tanh(x)")),
        ("gelu#2", get_target("gelu")),
    ],
)
def test_activation_names_map_onto_the_registry(name, target) -> None:
    assert activation_target(name) == target


def test_unknown_activation_name_says_give_target() -> None:
    with pytest.raises(UnknownTargetError, match="--target"):
        activation_target("GEGLU")


@settings(max_examples=30, deadline=None)
@given(slope=st.floats(-5, 5, allow_nan=False).filter(lambda s: s != 0.01))
def test_activation_name_round_trip_for_slopes(slope) -> None:
    t = get_target("leaky_relu", {"slope": slope})
    assert activation_target(activation_name(t)) == t


def test_parse_coefficients() -> None:
    assert parse_coefficients("0.1,0.2, 3e-2") == [0.1, 0.2, 0.03]
    assert parse_coefficients("[1 2;3]") == [1.0, 2.0, 3.0]
    for bad in ("0.1,x", "", "nan"):
        with pytest.raises(ParameterError):
            parse_coefficients(bad, "--numerator")


# ---- readers ---------------------------------------------------------------------------------
def test_rational_activations_reader(ra_config: Path) -> None:
    entries = {e.key: e for e in read_tables(ra_config)}
    forms = {k: e.form for k, e in entries.items()}
    assert forms == {
        "Rational_version_A5/4:identity": "safe",
        "Rational_version_A5/4:leaky_relu": "safe",
        "identity": None,
        "Rational_version_B5/4:leaky_relu": "abs",
        "Rational_version_C3/2:leaky_relu_0.1": "abs_offset",
        "Rational_version_D5/4:gelu": "abs",
        "Rational_version_N2/2:identity": "plain",
    }
    swapped = entries["Rational_version_A5/4:identity"]
    assert swapped.range == (-3.0, 3.0) and any("lb" in n for n in swapped.notes)
    assert any("version D" in n for n in entries["Rational_version_D5/4:gelu"].notes)
    assert entries["Rational_version_N2/2:identity"].range == (-5.0, 5.0)
    assert all(e.source_format == "rational_activations" for e in entries.values())
    c = entry_fit(entries["Rational_version_C3/2:leaky_relu_0.1"])
    assert c.order == (3, 2) and c.form == "abs_offset" and c.method == "external"
    assert c.settings["source_format"] == "rational_activations"


def test_detect_format_rejects_other_json(tmp_path: Path) -> None:
    assert detect_format({"a": {"init_w_numerator": [1.0]}}) == "kat"
    path = tmp_path / "other.json"
    path.write_text('{"weights": [1, 2, 3]}')
    with pytest.raises(FileFormatError, match="rational_activations"):
        read_tables(path)


def test_check_all_rational_activations(ra_config: Path) -> None:
    res = {r.key: r for r in check_file(ra_config, all_tables=True)}
    assert res["Rational_version_A5/4:leaky_relu"].status == "pass"
    assert res["Rational_version_A5/4:identity"].status == "pass"
    assert res["identity"].status == "skip" and "--form" in res["identity"].problems[0]
    # Their version-C leaky_relu_0.1 is a poor fit (max error 0.111 at the kink, rounded).
    c = res["Rational_version_C3/2:leaky_relu_0.1"]
    assert c.status == "fail" and c.max_abs == pytest.approx(0.1114, abs=1e-3)
    # A version-A table stored under version B is evaluated as B and fails, with the hint.
    b = res["Rational_version_B5/4:leaky_relu"]
    assert b.status == "fail" and b.max_abs > 0.3
    assert any("form safe" in p for p in b.problems)
    # The version-N identity table is accurate on [-5, 5] but has real poles off the range,
    # which are reported with their positions.
    n = res["Rational_version_N2/2:identity"]
    assert n.status == "pass"
    assert n.fit is not None and len(n.fit.poles.poles_on_real_line) == 2
    assert any("-1456.03" in w for w in n.warnings)


def test_kat_file_needs_form_and_wrong_form_is_flagged(kat_file: Path) -> None:
    with pytest.raises(FormError, match="--form"):
        check_file(kat_file, name="leaky_relu")
    with pytest.raises(FileFormatError, match="--all"):
        check_file(kat_file)
    as_b = check_file(kat_file, name="leaky_relu", form="abs")[0]
    as_a = check_file(kat_file, name="leaky_relu", form="safe")[0]
    # The same coefficients: 0.0298 in the form they were fitted in, 0.42 in KAT's form B.
    assert as_a.status == "pass" and as_a.max_abs == pytest.approx(0.029792778657, rel=1e-6)
    assert as_b.status == "fail" and as_b.max_abs > 0.4
    assert any("form safe" in p for p in as_b.problems)
    assert as_b.tol == DEFAULT_TOL
    gelu = {r.key: r.status for r in check_file(kat_file, all_tables=True, form="abs")}
    assert gelu == {"leaky_relu": "fail", "gelu": "pass", "GEGLU": "skip"}
    # Explicit target for the unknown name.
    geglu = check_file(kat_file, name="GEGLU", form="abs", target=get_target("identity"))[0]
    assert geglu.status == "pass"


def test_actfit_file_default_tol_and_form_override(tmp_path: Path) -> None:
    fit = external_fit(RA_A_LEAKY_NUM, RA_A_LEAKY_DEN, form="safe", target=get_target("leaky_relu"))
    path = save(fit, tmp_path / "fit.json")
    ok = check_file(path)[0]
    assert ok.status == "pass" and ok.recorded_max_abs == fit.errors.max_abs
    assert ok.tol == pytest.approx(1.5 * fit.errors.max_abs)
    wrong = check_file(path, form="abs")[0]
    assert wrong.status == "fail" and wrong.recorded_max_abs == fit.errors.max_abs
    assert any("the file says safe" in w for w in wrong.warnings)
    strict = check_file(path, tol=1e-3)[0]
    assert strict.status == "fail" and strict.tol == 1e-3
    # On another range the recorded error does not apply: default tolerance.
    other = check_file(path, range=(-1.0, 1.0))[0]
    assert other.recorded_max_abs is None and other.tol == DEFAULT_TOL
    with pytest.raises(ParameterError):
        check_fit(fit, tol=-1.0)


@settings(max_examples=12, deadline=None)
@given(
    pole=st.one_of(
        st.floats(3.01, 8.0),
        st.floats(-8.0, -3.01),
        st.floats(-2.9, 2.9).filter(lambda p: abs(p) > 0.05),
    ),
    scale=st.floats(0.5, 2.0),
)
def test_planted_pole_is_reported_where_it_is(pole, scale) -> None:
    # r(x) = scale*x / (1 - x/pole) in plain form, checked against the same expression: the
    # error is rounding only, so the verdict depends on the pole alone.
    target = parse_expression(f"{scale!r}*x/(1 - x/({pole!r}))")
    res = check_coefficients(
        [0.0, scale], [-1.0 / pole], form="plain", target=target, range=(-3.0, 3.0)
    )
    assert res.fit is not None
    assert res.fit.poles.poles_on_real_line == pytest.approx((pole,), rel=1e-12)
    if abs(pole) > 3.0:
        assert res.status == "pass"
        assert any(f"{pole:.9g}" in w for w in res.warnings)
    else:
        assert res.status == "fail"
        assert any("pole on the range" in p and f"{pole:.9g}" in p for p in res.problems)


def test_pole_just_outside_the_range_named_in_cli_output() -> None:
    res = runner.invoke(
        app,
        [
            "check",
            "--numerator",
            "0,1",
            "--denominator",
            f"{-1 / 3.05!r}",
            "--form",
            "plain",
            "--target",
            "x/(1 - x/3.05)",
        ],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "PASS" in text and "real pole(s) off the range at x = 3.05 " in text


def test_load_fits_skips_with_callback(kat_file: Path) -> None:
    skipped = []
    fits = load_fits(kat_file, form="abs", on_error=lambda e, exc: skipped.append(e.key))
    assert len(fits) == 2 and skipped == ["GEGLU"]


# ---- the command --------------------------------------------------------------------------------
def test_cli_exit_codes(tmp_path: Path, kat_file: Path) -> None:
    fit = external_fit(RA_A_LEAKY_NUM, RA_A_LEAKY_DEN, form="safe", target=get_target("leaky_relu"))
    path = save(fit, tmp_path / "fit.json")
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0
    res = runner.invoke(app, ["check", str(path), "--form", "abs"])
    assert res.exit_code == 1 and "FAIL" in res.stdout
    assert runner.invoke(app, ["check", str(path), "--tol", "1e-4"]).exit_code == 1
    res = runner.invoke(app, ["check", str(kat_file), "--all", "--form", "abs", "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert (doc["pass"], doc["fail"], doc["skip"]) == (1, 1, 1)
    assert {r["key"]: r["status"] for r in doc["results"]}["gelu"] == "pass"
    res = runner.invoke(app, ["check", str(kat_file), "--name", "gelu", "--form", "B"])
    assert res.exit_code == 0 and "PASS" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.json"], "no such file"),
        (["check"], "FILE"),
        (["check", "KAT"], "--all"),
        (["check", "KAT", "--name", "leaky_relu"], "--form"),
        (["check", "KAT", "--name", "nope", "--form", "abs"], "no table"),
        (["check", "KAT", "--name", "gelu", "--form", "Q"], "unknown denominator form"),
        (["check", "--numerator", "1,2", "--form", "safe"], "--target"),
        (
            [
                "check",
                "--numerator",
                "1,x",
                "--denominator",
                "1",
                "--form",
                "safe",
                "--target",
                "relu",
            ],
            "not a number",
        ),
        (["check", "KAT", "--name", "gelu", "--form", "abs", "--tol", "-1"], "--tol"),
        (["check", "KAT", "--name", "gelu", "--form", "abs", "--plot", "a.gif"], "suffix"),
    ],
)
def test_cli_user_errors_exit_2(args, message, kat_file: Path) -> None:
    args = [str(kat_file) if a == "KAT" else a for a in args]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_cli_numerator_list_with_form_c() -> None:
    res = runner.invoke(
        app,
        [
            "check",
            "--numerator",
            ",".join(map(repr, RA_C_LEAKY01_NUM)),
            "--denominator",
            ",".join(map(repr, RA_C_LEAKY01_DEN)),
            "--form",
            "C",
            "--target",
            "leaky_relu",
            "--slope",
            "0.1",
            "--tol",
            "0.2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "0.1 + |" in res.stdout  # the form's formula in the panel


def test_form_c_fit_round_trips_through_our_format(tmp_path: Path) -> None:
    from actfit.export import load

    fit = external_fit(
        RA_C_LEAKY01_NUM, RA_C_LEAKY01_DEN, form="C", target=activation_target("leaky_relu_0.1")
    )
    assert load(save(fit, tmp_path / "c.json")) == fit


def test_results_document_counts_every_status(kat_file: Path) -> None:
    # KAT files record no form: without --form every table is skipped; with one they are
    # evaluated; the counts and the document agree with the statuses either way.
    skipped = check_file(kat_file, all_tables=True)
    assert count_statuses(skipped) == {"pass": 0, "fail": 0, "skip": len(skipped)}
    evaluated = check_file(kat_file, all_tables=True, form="safe")
    doc = results_document(evaluated)
    assert [r["status"] for r in doc["results"]] == [r.status for r in evaluated]
    for status in ("pass", "fail", "skip"):
        assert doc[status] == [r.status for r in evaluated].count(status)
    assert doc["skip"] < len(skipped)  # a form makes tables evaluable
    json.dumps(doc, allow_nan=False)  # strict JSON

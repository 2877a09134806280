"""fit_minimax's tail option (free / linear / match) and the CLI's --tail."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.approx.minimax import fit_minimax
from actfit.approx.minimax_problem import Problem, to_rational
from actfit.approx.minimax_tail import MEASURE, check_minimax_tail, tail_constraints
from actfit.approx.tail_spec import TAIL_FLOOR, SlopePlan
from actfit.approx.tails import growth
from actfit.approx.weights import parse_weight
from actfit.cli import app
from actfit.errors import FormError, OrderError, ParameterError
from actfit.targets import get_target

runner = CliRunner()
_KEYS = {"kind", "constraint", "floor", "active", "error_free", "error_tail", "measure"}


@pytest.fixture(scope="module")
def fits():
    """The fits the tests share (each costs ~0.5 s)."""
    out = {}
    for form in ("safe", "plain"):
        out["free", form] = fit_minimax("gelu", (5, 4), form=form)
        for tail in ("linear", "match"):
            out[tail, form] = fit_minimax("gelu", (5, 4), form=form, tail=tail)
    return out


@pytest.mark.parametrize("form", ["safe", "plain"])
def test_free_grows_fast_and_linear_tail_grows_linearly(fits, form) -> None:
    free, lin = fits["free", form], fits["linear", form]
    # The free optima are the cases the issue is about: safe b4 = 0 (x^2), plain b4 < 0 (poles).
    assert growth(free.rational).plus.kind != "linear" or free.rational.real_poles().size
    tails = growth(lin.rational)
    assert tails.plus.kind == "linear" and tails.minus.kind == "linear"
    b4 = lin.rational.denominator[3]
    assert (abs(b4) if form == "safe" else b4) * 3.0**4 >= TAIL_FLOOR * (1 - 1e-9)
    assert lin.rational.real_poles().size == 0
    info = lin.settings["tail"]
    assert set(info) >= _KEYS and info["kind"] == "linear" and info["active"] is True
    assert info["measure"] == MEASURE and info["floor"] == TAIL_FLOOR
    assert info["error_free"] == pytest.approx(free.certificate.upper, rel=1e-12)
    assert info["error_tail"] == pytest.approx(lin.certificate.upper, rel=1e-12)
    assert info["error_tail"] >= info["error_free"] * (1 - 1e-9)
    assert lin.errors.max_abs <= info["error_tail"] * (1 + 1e-6)


@pytest.mark.parametrize("form", ["safe", "plain"])
def test_match_has_slope_one_at_plus_inf(fits, form) -> None:
    fit = fits["match", form]
    tails = growth(fit.rational)
    assert tails.plus.kind == "linear"
    assert tails.plus.coefficient == pytest.approx(1.0, abs=1e-9)
    # n = 4 is even: the same slope at -inf (the plan's note says so; gelu's is 0 there).
    assert tails.minus.coefficient == pytest.approx(1.0, abs=1e-9)
    info = fit.settings["tail"]
    assert info["kind"] == "match" and info["active"]
    plan = info["match"]
    assert plan["slope"] == 1.0 and plan["matched"] == ["+inf"]
    assert "at -inf it is 1 where the target's is 0" in plan["note"]
    assert info["error_tail"] >= info["error_free"] * (1 - 1e-9)


def test_match_odd_n_gives_opposite_slopes() -> None:
    fit = fit_minimax("gelu", (4, 3), form="safe", tail="match")
    tails = growth(fit.rational)
    assert tails.plus.coefficient == pytest.approx(1.0, abs=1e-9)
    assert tails.minus.coefficient == pytest.approx(-1.0, abs=1e-9)
    assert fit.settings["tail"]["match"]["rational_slopes"] == [-1.0, 1.0]


def test_plain_tail_keeps_the_free_class_bound(fits) -> None:
    free, fit = fits["free", "plain"], fits["linear", "plain"]
    cert = fit.certificate
    assert free.certificate.status == "global" and free.certificate.lower is not None
    assert cert.lower is not None and cert.lower <= fit.settings["tail"]["error_tail"]
    assert cert.lower >= free.certificate.lower * (1 - 1e-12)
    assert "free class" in cert.detail and "price of the tail" in cert.detail
    assert cert.gap > 0.5  # the tail costs a factor ~3 on this case: the gap shows it


def test_inactive_when_the_free_optimum_satisfies_it() -> None:
    free = fit_minimax("swish", (5, 4))
    fit = fit_minimax("swish", (5, 4), tail="linear")
    info = fit.settings["tail"]
    assert info["active"] is False and info["error_tail"] == info["error_free"]
    np.testing.assert_array_equal(fit.rational.numerator, free.rational.numerator)
    np.testing.assert_array_equal(fit.rational.denominator, free.rational.denominator)
    assert "tail" not in free.settings


def test_bounded_target_match_gives_a_constant_tail() -> None:
    fit = fit_minimax("tanh", (5, 4), tail="match")
    tails = growth(fit.rational)
    assert tails.plus.kind == "constant" and tails.minus.kind == "constant"
    assert fit.settings["tail"]["match"]["matched"] == ["-inf", "+inf"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("bogus", "safe", 5, 4), ParameterError),
        (("linear", "abs", 5, 4), FormError),
        (("match", "safe", 4, 4), OrderError),
        (("linear", "plain", 4, 3), OrderError),
        (("linear", "safe", 6, 4), OrderError),
    ],
)
def test_bad_combinations(args, error) -> None:
    with pytest.raises(error):
        check_minimax_tail(*args)


def test_match_without_slope_fails_before_fitting() -> None:
    with pytest.raises(ParameterError, match="no asymptotic slope"):
        fit_minimax("x**2", (3, 2), tail="match")


@pytest.mark.parametrize(
    "args",
    [
        ["minimax", "gelu", "--order", "4,4", "--tail", "match"],
        ["minimax", "gelu", "--order", "5,4", "--form", "abs", "--tail", "linear"],
        ["minimax", "gelu", "--order", "5,3", "--form", "plain", "--tail", "linear"],
        ["minimax", "gelu", "--tail", "cubic"],
    ],
)
def test_cli_bad_combos_exit_2_with_one_line(args) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "tail" in lines[0]


def test_cli_tail_linear_json() -> None:
    res = runner.invoke(app, ["minimax", "gelu", "--order", "5,4", "--tail", "linear", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    info = doc["settings"]["tail"]
    assert set(info) >= _KEYS and info["kind"] == "linear" and info["active"] is True


def test_cli_report_shows_the_cost_and_the_note() -> None:
    res = runner.invoke(app, ["minimax", "gelu", "--order", "5,4", "--tail", "match"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "tail match" in text and "active" in text and " free -> " in text
    assert "[safe, n = 4]" in text  # the plan's note, not eaten as markup


def test_cli_help_lists_the_tails() -> None:
    for cmd in ("minimax", "lsq"):
        res = runner.invoke(app, [cmd, "--help"])
        text = " ".join(res.stdout.split())
        assert "--tail" in text and "match" in text and "cost" in text


def test_plain_match_moves_rows_to_a_dipping_minimum_of_q() -> None:
    # The relative weight's optimum wants Q to touch 0 near x = -9: rows at the poles alone
    # kept splitting that double root into two poles (four rounds, then FitError).
    fit = fit_minimax("gelu", (5, 4), form="plain", weight="relative", tail="match")
    assert fit.rational.real_poles().size == 0
    assert growth(fit.rational).plus.coefficient == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    form=st.sampled_from(["safe", "plain"]),
    half_n=st.integers(1, 3),
    a=st.floats(-6.0, -0.25),
    b=st.floats(0.25, 6.0),
    slope=st.floats(-2.0, 2.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_rows_say_in_internal_coordinates_what_the_stored_table_does(
    form, half_n, a, b, slope, seed
) -> None:
    """Solving the floor row (resp. the match row) for the top coefficient gives a stored
    table with ``|b_n| R^n = TAIL_FLOOR`` (resp. ``a_{n+1} = s lead(Q)``), for any range."""
    n = 2 * half_n
    m = n + 1
    target = get_target("gelu")
    w = parse_weight("uniform", target=target, range=(a, b))
    prob = Problem(target, w, a, b, m, n, form, 0, ())
    rng = np.random.default_rng(seed)
    gamma = prob.unit_gamma() + np.concatenate(([0.0], 0.1 * rng.random(n)))
    alpha = rng.normal(size=m + 1)
    plan = SlopePlan(slope, (None, slope), (slope, slope), ("+inf",), "")
    cons = tail_constraints(prob, "match", plan)
    row = cons.rows[0]
    gamma[n] = -(row[:n] @ gamma[:n]) / row[n]  # on the floor
    e = cons.equalities[0][0]
    alpha[m] = -(e[:m] @ alpha[:m] + e[m + 1 :] @ gamma) / e[m]  # on the slope equality
    r = to_rational(prob, alpha, gamma)
    radius = max(abs(a), abs(b))
    top = r.denominator[n - 1]
    assert abs(top) * radius**n == pytest.approx(TAIL_FLOOR, rel=1e-9)
    lead = abs(top) if form == "safe" else top
    assert r.numerator[m] == pytest.approx(slope * lead, rel=1e-9, abs=1e-12 * abs(lead))

"""The shared tail options: the target's asymptotic slopes and what ``match`` imposes."""

from __future__ import annotations

import math

import pytest

from actfit.approx.tail_spec import check_tail, plan_match, target_slopes
from actfit.errors import OrderError, ParameterError
from actfit.targets import get_target, parse_expression


@pytest.mark.parametrize(
    ("name", "params", "slopes"),
    [
        ("identity", {}, (1.0, 1.0)),
        ("abs", {}, (-1.0, 1.0)),
        ("relu", {}, (0.0, 1.0)),
        ("leaky_relu", {"slope": 0.1}, (0.1, 1.0)),
        # SELU's scale lambda (Klambauer et al. 2017, eq. 14): 1.0507009873554804934193349852946
        ("selu", {}, (0.0, 1.0507009873554805)),
        ("gelu", {}, (0.0, 1.0)),
        ("softplus", {}, (0.0, 1.0)),
        ("tanh", {}, (0.0, 0.0)),
        ("tanhexp", {}, (0.0, 1.0)),
    ],
)
def test_registry_slopes(name, params, slopes) -> None:
    got = target_slopes(get_target(name, params))
    assert got == pytest.approx(slopes, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize(
    ("expr", "slopes"),
    [("x**2", (None, None)), ("exp(x)", (0.0, None)), ("sqrt(abs(x))", (0.0, 0.0)),
     ("3*x + sin(x)", (3.0, 3.0))],
)
def test_expression_slopes(expr, slopes) -> None:
    assert target_slopes(parse_expression(expr)) == slopes


def test_match_plans() -> None:
    gelu = get_target("gelu")
    even = plan_match(gelu, "safe", 4)
    assert even.slope == 1.0 and even.rational_slopes == (1.0, 1.0) and even.matched == ("+inf",)
    odd = plan_match(gelu, "safe", 3)
    assert odd.rational_slopes == (-1.0, 1.0) and "-1 where the target's is 0" in odd.note
    both = plan_match(get_target("abs"), "abs", 5)
    assert both.matched == ("-inf", "+inf")
    assert plan_match(get_target("abs"), "plain", 4).matched == ("+inf",)
    one_sided = plan_match(parse_expression("exp(x)"), "safe", 3)
    assert one_sided.matched == ("-inf",) and one_sided.slope == 0.0
    with pytest.raises(ParameterError, match="no asymptotic slope"):
        plan_match(parse_expression("x**2"), "safe", 4)
    assert math.isfinite(plan_match(gelu, "plain", 2).slope)


def test_check_tail() -> None:
    assert check_tail(" Match", "safe", 5, 4) == "match"
    assert check_tail("free", "plain", 9, 3) == "free"
    with pytest.raises(ParameterError, match="unknown tail"):
        check_tail("fast", "safe", 5, 4)
    with pytest.raises(OrderError, match=r"m = n \+ 1"):
        check_tail("match", "safe", 4, 4)
    with pytest.raises(OrderError, match=r"m <= n \+ 1"):
        check_tail("linear", "abs", 7, 4)
    with pytest.raises(OrderError, match="even n"):
        check_tail("linear", "plain", 4, 3)
    with pytest.raises(OrderError, match=r"even n.*order \[3,2\]"):  # not [4,3]: odd again
        check_tail("linear", "plain", 5, 3)
    with pytest.raises(OrderError, match="needs a denominator"):
        check_tail("linear", "safe", 3, 0)

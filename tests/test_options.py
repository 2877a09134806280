"""Shared input validation: orders, ranges, NAME=VALUE parameters."""

from __future__ import annotations

import pytest

from actfit.errors import OrderError, ParameterError, RangeError
from actfit.options import check_order, check_range, parse_order, parse_params


@pytest.mark.parametrize("text, expected", [("5,4", (5, 4)), (" 3 , 2 ", (3, 2)), ("[6,6]", (6, 6)),
                                            ("0,0", (0, 0)), ("12/12", (12, 12))])
def test_parse_order(text: str, expected: tuple[int, int]) -> None:
    assert parse_order(text) == expected


@pytest.mark.parametrize(
    "text, match",
    [("5,x", "whole numbers"), ("5", "whole numbers"), ("-1,2", "negative"), ("13,2", "too large"),
     ("99999999,1", "too large"), ("", "whole numbers")],
)
def test_bad_orders(text: str, match: str) -> None:
    with pytest.raises(OrderError, match=match):
        parse_order(text)


def test_check_order_types() -> None:
    assert check_order((5.0, 4)) == (5, 4)
    with pytest.raises(OrderError):
        check_order((5.5, 4))
    with pytest.raises(OrderError):
        check_order((5,))
    assert check_order((16, 16), max_degree=16) == (16, 16)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (3, -3, "reversed"),
        (1, 1, "empty"),
        (float("nan"), 1, "finite"),
        (0, float("inf"), "finite"),
        (-1e300, 1e300, "overflow"),
        (0, 2e10, "overflow"),
        (1.0, 1.0 + 2**-41, "fewer than"),
    ],
)
def test_bad_ranges(a: float, b: float, match: str) -> None:
    with pytest.raises(RangeError, match=match):
        check_range(a, b)


def test_range_limits_are_inclusive() -> None:
    assert check_range(-1e10, 1e10) == (-1e10, 1e10)
    assert check_range(1.0, 1.0 + 4096 * 2**-52) == (1.0, 1.0 + 4096 * 2**-52)
    with pytest.raises(RangeError, match="nan"):
        check_range(float("nan"), 1)  # the message names the bad value


def test_params() -> None:
    assert parse_params(["slope=0.1", "beta = 2"]) == {"slope": 0.1, "beta": 2.0}
    for bad, match in [("slope", "NAME=VALUE"), ("=1", "NAME=VALUE"), ("slope=abc", "not a number"),
                       ("slope=nan", "finite")]:
        with pytest.raises(ParameterError, match=match):
            parse_params([bad])
    with pytest.raises(ParameterError, match="twice"):
        parse_params(["a=1", "a=2"])

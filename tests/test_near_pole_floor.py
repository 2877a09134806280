"""The fitters' guard against near-poles (issue 18): minimax (q_floor) and lsq (lsq_floor)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx import minimax as minimax_module
from actfit.approx import q_floor
from actfit.approx.conditioning import WARN_FRACTION
from actfit.approx.lsq import fit_lsq
from actfit.approx.minimax import fit_minimax
from actfit.approx.minimax_problem import Problem, to_rational
from actfit.approx.weights import parse_weight
from actfit.errors import ParameterError
from actfit.targets import get_target


def _minimax(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_minimax(*args, form="plain", **kw)


def _f32(fit):
    return fit.poles.conditioning.dtype("float32")


@pytest.fixture(scope="module")
def hardswish(hardswish_near_pole):
    """The issue's case: Q has zeros at 3 +- 0.0188i, min |Q| 2.8e-9 on [0, 4]."""
    return _minimax("hardswish", (8, 8), (0.0, 4.0)), hardswish_near_pole


def test_hardswish_is_constrained_until_float32_does_not_warn(hardswish) -> None:
    fit, _ = hardswish
    c = _f32(fit)
    assert not c.warns and c.digits_lost <= WARN_FRACTION * c.digits
    s = fit.settings
    assert s["min_q_active"] and s["dtype"] == "float32"
    cost = s["min_q_cost"]
    assert cost["error_without"] < 4e-4 < cost["error_with"]
    assert cost["error_with"] == fit.certificate.upper
    assert cost["digits_lost_without"] > 7.0 > 3.7 > cost["digits_lost_with"]
    assert cost["digits_lost_with"] == pytest.approx(c.digits_lost)
    assert "S_Q" in s["q_constraint"] or "class" in s["q_constraint"]
    assert any("imposed" in n and "->" in n for n in s["notes"])
    assert fit.certificate.lower <= fit.certificate.upper


def test_allow_poles_keeps_the_near_pole_and_says_so(hardswish) -> None:
    _, free = hardswish
    assert _f32(free).warns and _f32(free).useless_on is not None
    assert not free.settings["min_q_active"]
    assert any(n.startswith("allow_poles") and "digits" in n for n in free.settings["notes"])
    assert free.certificate.upper < 4e-4


def test_softsign_with_min_q_one_no_longer_warns() -> None:
    # min |Q| = 1 on [0, 4] but cond Q = 105: the old floor on min Q never fired. The condition
    # rows fixed it (min_q_active, 3.7 -> 3.5 digits lost); since the lower classes' starts are
    # tried near float64 resolution, the fit is a better-conditioned table from the start
    # (cond Q 88, 7.2 float32 digits) and the guard has nothing to do.
    fit = _minimax("softsign", (6, 6), (0.0, 4.0))
    assert fit.poles.min_abs_q >= 0.5
    assert not _f32(fit).warns
    s = fit.settings
    assert s["q_condition"] < 105
    if s["min_q_active"]:
        assert s["min_q_cost"]["digits_lost_without"] > WARN_FRACTION * _f32(fit).digits
        assert s["min_q_cost"]["error_with"] < 1e-12  # the cost is small here


def test_well_conditioned_minimax_is_left_alone() -> None:
    fit = _minimax("tanh", (3, 3), (-3.0, 3.0))
    assert not fit.settings["min_q_active"] and "min_q_cost" not in fit.settings
    assert fit.settings["digits_lost"] == pytest.approx(_f32(fit).digits_lost)


def test_float64_tables_are_judged_by_float64() -> None:
    # softsign [6,6] loses 3.7 digits: too many for float32, few for float64
    fit = _minimax("softsign", (6, 6), (0.0, 4.0), dtype="float64")
    assert not fit.settings["min_q_active"]


def test_lsq_plain_is_bounded_and_reports_the_cost() -> None:
    # hardswish [4,4] on [0,4]: the free L2 optimum (3.72e-3) may lose 4.3 of float32's 7.2
    # digits. (A case whose L2 is at rounding level, such as softsign [6,6], is no test: which
    # start wins there is rounding noise.)
    free = fit_lsq("hardswish", (4, 4), (0.0, 4.0), form="plain", allow_poles=True)
    assert _f32(free).warns
    assert any(n.startswith("allow_poles") for n in free.settings["notes"])
    fit = fit_lsq("hardswish", (4, 4), (0.0, 4.0), form="plain")
    assert not _f32(fit).warns
    qb = fit.settings["q_bound"]
    assert qb["digits_lost_without"] > WARN_FRACTION * _f32(fit).digits > qb["digits_lost_with"]
    assert qb["digits_lost_with"] == pytest.approx(_f32(fit).digits_lost)
    assert qb["l2_error_without"] == pytest.approx(free.errors.l2, rel=1e-9)
    assert qb["l2_error_with"] >= qb["l2_error_without"]
    assert fit.settings["l2_error"] == qb["l2_error_with"]


def test_lsq_safe_is_untouched_and_dtype_is_checked() -> None:
    fit = fit_lsq("tanh", (3, 2), (-2.0, 2.0))
    assert "q_bound" not in fit.settings and "dtype" not in fit.settings
    with pytest.raises(ParameterError, match="dtype"):
        fit_lsq("tanh", (3, 2), (-2.0, 2.0), dtype="int8")
    with pytest.raises(ParameterError, match="dtype"):
        _minimax("tanh", (2, 2), dtype="int8")


def test_public_names_are_re_exported_from_minimax() -> None:
    for name in ("MIN_Q_BY_DTYPE", "UNIT_ROUNDOFF", "q_condition", "q_ratio"):
        assert getattr(minimax_module, name) is getattr(q_floor, name)
        assert name in minimax_module.__all__


_PROB = Problem(get_target("tanh"), parse_weight("uniform"), 0.0, 4.0, 3, 4, "plain", 0, ())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-0.45, 0.45), min_size=4, max_size=4),
    st.floats(1.5, 1e3),
)
def test_condition_rows_say_exactly_s_q_at_most_k_q(tail, bound) -> None:
    # With the signs of b itself, G gamma >= h holds iff S_Q <= K Q at the points.
    gamma = np.array([1.0, *tail])
    xs = np.linspace(0.0, 4.0, 41)
    signs = q_floor._signs(_PROB, gamma)
    g, h = q_floor.condition_rows(_PROB, xs, bound, signs)
    ok_rows = bool(np.all(g @ gamma >= h - 1e-9))
    r = to_rational(_PROB, np.zeros(4), gamma) if abs(gamma @ [1, -1, 1, -1, 1]) > 1e-3 else None
    b = q_floor._monomial_map(_PROB) @ gamma
    s_q = np.polynomial.polynomial.polyval(xs, np.abs(b))
    q = np.polynomial.polynomial.polyval(xs, b)
    ok_direct = bool(np.all(s_q <= bound * q + 1e-9))
    assert ok_rows == ok_direct
    if r is not None and ok_direct:
        qs = r.denominator_at(xs)
        assert np.all(np.abs(qs) > 0)

"""Correctness of the abs form's speed parts: the LP lower bound, the rival probe and the
pruning it allows, the cancellation-free sign columns, and HiGHS's small matrix entries.

None of these tests is timed: each checks that a shortcut returns what the long way returns
(or a bound that the long way respects)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from actfit.approx.certificate import certify
from actfit.approx.exchange import (
    _abs_row_map,
    abs_phi,
    initial_grid,
    sign_pattern,
    solve,
)
from actfit.approx.lp import _HighsLP, differential_correction
from actfit.approx.minimax import fit_minimax
from actfit.approx.minimax_problem import Problem, to_rational
from actfit.approx.sign_patterns import _abs_candidates, _member, _plain_start
from actfit.approx.weights import parse_weight
from actfit.targets import get_target


def _problem(name: str, m: int, n: int, a: float = -3.0, b: float = 3.0) -> Problem:
    target = get_target(name)
    w = parse_weight("uniform", target=target, range=(a, b))
    kinks = tuple(float(k) for k in target.kinks)
    return Problem(target, w, a, b, m, n, "abs", 0, kinks, (0.0, 0.0))


def _grid_data(prob: Problem, breaks: np.ndarray | None, default: float):
    x = initial_grid(prob, prob.lo, prob.b)
    sign = sign_pattern(x, breaks, default)
    phi = abs_phi(prob, x, sign)
    g = phi.copy()
    g[:, 0] = 0.0
    size = np.max(np.abs(g), axis=1)
    keep = size > 0.0
    return prob.psi(x), phi, prob.f(x), prob.w(x), g[keep] / size[keep, None]


def _dc(prob: Problem, breaks, default, **kw):
    psi, phi, f, w, g = _grid_data(prob, breaks, default)
    lower, upper = prob.box()
    gamma = prob.unit_gamma()
    alpha = np.linalg.lstsq(psi * (w / (phi @ gamma))[:, None], w * f, rcond=None)[0]
    return differential_correction(
        psi, phi, f, w, alpha, gamma, lower=lower, upper=upper, constraints=g,
        constraint_lower=np.zeros(g.shape[0]), loose_retry=True, q_floor=1.0,
        small_matrix_value=1e-12, **kw,
    )


@pytest.mark.parametrize(
    "name,m,n,breaks,default",
    [
        ("gelu", 4, 4, None, 1.0),
        ("tanh", 3, 3, None, 1.0),
        ("abs", 4, 4, np.array([0.0]), -1.0),
        ("softplus", 4, 4, np.array([0.0]), -1.0),
    ],
)
def test_lower_bound_is_below_the_grid_optimum(name, m, n, breaks, default) -> None:
    prob = _problem(name, m, n)
    short = _dc(prob, breaks, default, maxiter=3)
    full = _dc(prob, breaks, default, maxiter=60)
    # Any coefficients' grid error bounds the optimum from above; the bound from 3 LPs must stay
    # below the error of the long run, and the long run's own bound must be tight.
    assert short.lower_bound <= full.error * (1.0 + 1e-12)
    assert full.lower_bound <= full.error * (1.0 + 1e-12)
    assert full.lower_bound >= full.error * (1.0 - 1e-4)


@pytest.mark.parametrize("name,m,n", [("gelu", 4, 4), ("swish", 3, 3)])
def test_probe_prunes_exactly_what_cannot_be_reached(name, m, n) -> None:
    prob = _problem(name, m, n)
    best = _dc(prob, None, 1.0, maxiter=60)
    # A rival below the grid optimum: one LP proves it out of reach.
    low = _dc(prob, None, 1.0, maxiter=60, stop_above=0.9 * best.error)
    assert low.lower_bound >= 0.9 * best.error
    assert low.iterations == 1
    # A rival above it: the probe does not stop the run, which ends where the plain run ends.
    high = _dc(prob, None, 1.0, maxiter=60, stop_above=1.1 * best.error)
    assert high.lower_bound < 1.1 * best.error
    assert high.error == pytest.approx(best.error, rel=1e-9)


@pytest.mark.parametrize(
    "name,m,n,label",
    [
        ("sigmoid", 6, 6, "sign(x)"),
        ("gelu", 6, 6, "sign(x)"),
        ("gelu", 6, 6, "sign(Q_plain - 1)"),
        ("tanhexp", 5, 5, "sign(Q_plain - 1)"),
    ],
)
def test_a_pruned_pattern_would_not_have_won(name, m, n, label) -> None:
    prob = _problem(name, m, n)
    fit = fit_minimax(name, (m, n), (-3.0, 3.0), form="abs")
    rival = fit.certificate.upper
    plain_r = _plain_start(
        Problem(prob.target, prob.weight, -3.0, 3.0, m, n, "plain", 0, prob.kinks, (0.0, 0.0)),
        lambda *_: None,
    )
    (_lab, breaks, default, start), = [
        c for c in _abs_candidates(prob, plain_r) if c[0] == label
    ]
    pruned = solve(prob, breaks=breaks, default_sign=default, start=start, rival=rival)
    free = solve(prob, breaks=breaks, default_sign=default, start=start)
    assert pruned.error >= rival
    assert free.error >= rival * (1.0 - 1e-9)


def test_abs_columns_keep_their_digits_near_zero() -> None:
    mpmath.mp.dps = 40
    for a, b in ((-3.0, 3.0), (-1.0, 2.0), (-5.0, 8.0)):
        prob = _problem("swish", 6, 12, a, b)
        x = np.array([1e-10, -1e-9, 1e-3, 0.7, 0.5 * a, 0.5 * b])
        got = abs_phi(prob, x, np.ones_like(x))[:, 1:]
        t0 = -mpmath.mpf(prob.mid) / prob.half
        want = np.array(
            [
                [
                    float(mpmath.chebyt(k, (mpmath.mpf(xi) - prob.mid) / prob.half)
                          - mpmath.chebyt(k, t0))
                    for k in range(1, 13)
                ]
                for xi in x
            ]
        )
        scale = np.max(np.abs(want), axis=1, keepdims=True)
        assert np.max(np.abs(got - want) / scale) < 1e-14
    # The difference of two Vandermonde rows keeps no digit of the even columns at 1e-10.
    prob = _problem("swish", 6, 6)
    old = prob.phi(np.array([1e-10]))[0, 2]
    new = abs_phi(prob, np.array([1e-10]), np.ones(1))[0, 2]
    assert new == pytest.approx(2.0 * (1e-10 / 3.0) ** 2, rel=1e-12)
    assert abs(old - new) > 0.5 * abs(new)


def test_small_matrix_entries_are_kept() -> None:
    # min -x  s.t.  1e-10 x <= 1e-10,  0 <= x <= 10: x = 1. HiGHS's default drops the entry
    # (below 1e-9) and answers x = 10.
    args = (
        np.array([-1.0]),
        np.array([[1e-10]]),
        np.array([1e-10]),
        np.array([0.0]),
        np.array([10.0]),
        "highs-ds",
        1e-10,
    )
    kept = _HighsLP()
    kept.small_matrix_value = 1e-12
    assert kept.solve(*args)[0] == pytest.approx(1.0)
    assert _HighsLP().solve(*args)[0] == pytest.approx(10.0)


def test_the_plain_start_breaks_at_a_simple_zero_of_s() -> None:
    # swish [6,6]: S = Q_plain - 1 has S'(0) != 0, so 0 is a break of its pattern and the start
    # meets σ S >= 0 on the grid.
    prob = _problem("swish", 6, 6)
    pprob = Problem(prob.target, prob.weight, -3.0, 3.0, 6, 6, "plain", 0, (), (0.0, 0.0))
    r = _plain_start(pprob, lambda *_: None)
    (_, breaks, default, start), = [
        c for c in _abs_candidates(prob, r) if c[0] == "sign(Q_plain - 1)"
    ]
    assert breaks is not None and np.any(breaks == 0.0)
    x = initial_grid(prob, prob.lo, prob.b)
    s = abs_phi(prob, x, sign_pattern(x, breaks, default))[:, 1:] @ start[1][1:]
    assert np.min(s) >= -1e-12 * np.max(np.abs(s))


def test_the_abs_fit_is_never_worse_than_its_start() -> None:
    # gelu_tanh [5,4]: the exchange ranked a pattern 6e-7 below the start itself, 8e-6 above it
    # once certified; the near-ties are certified before the choice.
    prob = _problem("gelu_tanh", 5, 4)
    pprob = Problem(prob.target, prob.weight, -3.0, 3.0, 5, 4, "plain", 0, (), (0.0, 0.0))
    r = _plain_start(pprob, lambda *_: None)
    starts = [c for c in _abs_candidates(prob, r) if c[3] is not None]
    fit = fit_minimax("gelu_tanh", (5, 4), (-3.0, 3.0), form="abs")
    for label, _b, _d, start in starts:
        member = _member(prob, start, label)
        member_r = to_rational(prob, member.alpha, member.gamma)
        cert = certify(prob.target, member_r, -3.0, 3.0, weight=prob.weight, order=(5, 4))
        assert fit.certificate.upper <= cert.upper * (1.0 + 1e-12)
    assert math.isfinite(fit.certificate.upper)


@pytest.mark.parametrize("row_generation", [False, True])
def test_a_warm_start_after_new_points_reaches_the_same_optimum(row_generation) -> None:
    prob = _problem("gelu", 5, 5)
    x0 = initial_grid(prob, prob.lo, prob.b)
    extra = np.array([-2.71, -0.33, 0.0123, 1.5, 2.99])
    x1 = np.union1d(x0, extra)
    row_map = _abs_row_map(x0, x1)
    n0, n1 = x0.size, x1.size
    # Error rows repeat the same point; the added points' rows are new; x = 0 has no sign row.
    err = row_map[:n1]
    assert np.all(x0[err[err >= 0]] == x1[err >= 0])
    assert np.count_nonzero(err < 0) == extra.size
    assert np.array_equal(row_map[n1 : 2 * n1], np.where(err >= 0, err + n0, -1))
    assert row_map.size == 2 * n1 + np.count_nonzero(x1 != 0.0)

    def run(x: np.ndarray, warm=None):
        sign = np.ones_like(x)
        phi = abs_phi(prob, x, sign)
        g = phi.copy()
        g[:, 0] = 0.0
        size = np.max(np.abs(g), axis=1)
        g = g[size > 0] / size[size > 0, None]
        psi, f, w = prob.psi(x), prob.f(x), prob.w(x)
        lower, upper = prob.box()
        gamma = prob.unit_gamma()
        alpha = np.linalg.lstsq(psi, f, rcond=None)[0]
        return differential_correction(
            psi, phi, f, w, alpha, gamma, lower=lower, upper=upper, constraints=g,
            constraint_lower=np.zeros(g.shape[0]), loose_retry=True, q_floor=1.0,
            small_matrix_value=1e-12, maxiter=60, warm=warm, row_generation=row_generation,
        )

    first = run(x0)
    assert first.basis is not None
    cold = run(x1)
    warm = run(x1, warm=(first.basis, row_map))
    assert warm.error == pytest.approx(cold.error, rel=1e-8)


def _chebyshev_lp(n_points: int, degree: int):
    """The discrete best polynomial approximation of exp on [-1, 1] as an LP in ``(a, δ)``:
    ``|exp(x_j) - sum_k a_k T_k(x_j)| <= δ``, the shape of a differential-correction LP (few
    columns, thousands of rows), in units of 2^-6/7! (as differential correction's LPs are in
    units of the current error, so that the solver's absolute tolerances are relative)."""
    x = np.cos(np.pi * (np.arange(n_points) + 0.5) / n_points)
    t = np.polynomial.chebyshev.chebvander(x, degree)
    f = np.exp(x)
    ones = np.ones((n_points, 1))
    a_ub = np.vstack([np.hstack([-t, -ones]), np.hstack([t, -ones])])
    b_ub = np.concatenate([-f, f]) / (2.0**-6 / math.factorial(7))
    cost = np.zeros(degree + 2)
    cost[-1] = 1.0
    free = np.full(degree + 2, np.inf)
    return cost, a_ub, b_ub, -free, free


def test_row_generation_solves_the_whole_lp() -> None:
    cost, a_ub, b_ub, lo, hi = _chebyshev_lp(1500, 6)
    whole = _HighsLP().solve(cost, a_ub, b_ub, lo, hi, "highs-ds", 1e-10)
    first = np.arange(0, b_ub.size, 97)
    # The relaxation alone misses rows: row generation has rows to add.
    relaxed = _HighsLP().solve(cost, a_ub[first], b_ub[first], lo, hi, "highs-ds", 1e-10)
    assert np.max(a_ub @ relaxed - b_ub) > 1e-6
    lp = _HighsLP()
    by_rows = lp.solve(cost, a_ub, b_ub, lo, hi, "highs-ds", 1e-10, first_rows=first)
    assert by_rows is not None and whole is not None
    assert np.max(a_ub @ by_rows - b_ub) <= 1e-9
    assert by_rows[-1] == pytest.approx(whole[-1], rel=1e-9)
    # exp's best degree-6 error on [-1, 1] is 2^-6/7! (1 + O(1/8)) (Chebyshev's leading term):
    # a sanity check on the LP itself, independent of HiGHS.
    assert 1.0 < by_rows[-1] < 1.2
    # The basis kept is the whole LP's, so a warm re-solve of the whole LP takes it as it is.
    basis = lp.basis()
    assert basis is not None and len(basis.row_status) == b_ub.size
    again = lp.solve(cost, a_ub, b_ub, lo, hi, "highs-ds", 1e-10)
    assert again is not None and again[-1] == pytest.approx(whole[-1], rel=1e-9)
    assert lp._highs.getInfo().simplex_iteration_count == 0


@pytest.mark.parametrize(
    "name,m,n,breaks,default",
    [("gelu", 5, 5, None, 1.0), ("softplus", 4, 4, np.array([0.0]), -1.0)],
)
def test_row_generation_reaches_the_same_grid_optimum(name, m, n, breaks, default) -> None:
    prob = _problem(name, m, n)
    whole = _dc(prob, breaks, default, maxiter=60)
    by_rows = _dc(prob, breaks, default, maxiter=60, row_generation=True)
    assert by_rows.error == pytest.approx(whole.error, rel=1e-7)
    assert by_rows.lower_bound <= whole.error * (1.0 + 1e-9)


def test_the_plain_start_near_resolution_is_the_chebyshev_start() -> None:
    # tsqrt [6,6] on [0, 4]: the Chebyshev start does not level (5.7e-13 against its reference's
    # 5.3e-13) but is at float64 resolution, where the plain fit certifies it; differential
    # correction took 12.9 s to reach 6.5e-11 there, and the abs fit ended at 6.5e-11.
    prob = _problem("tsqrt", 6, 6, 0.0, 4.0)
    pprob = Problem(prob.target, prob.weight, 0.0, 4.0, 6, 6, "plain", 0, prob.kinks, (0.0, 0.0))
    r = _plain_start(pprob, lambda *_: None)
    plain = fit_minimax("tsqrt", (6, 6), (0.0, 4.0), form="plain")
    cert = certify(prob.target, r, 0.0, 4.0, weight=prob.weight, order=(6, 6))
    assert cert.upper <= 1e-12
    assert cert.upper == pytest.approx(plain.certificate.upper, rel=0.1)
    fit = fit_minimax("tsqrt", (6, 6), (0.0, 4.0), form="abs")
    assert fit.certificate.upper <= 1e-12

"""Tests for actfit.approx.lsq (least-squares rational fits), its parts (varpro, starts,
monomial) and actfit.approx.weights."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actfit.approx.lsq import fit_lsq
from actfit.approx.quadrature import gauss_legendre_nodes
from actfit.approx.weights import Weight, parse_weight
from actfit.errors import ActfitError, FormError, OrderError, ParameterError, RangeError
from actfit.rational import Rational
from actfit.targets import get_target, parse_expression

RANGE = (-3.0, 3.0)
TARGETS = {
    "leaky_relu": ("leaky_relu", {"slope": 0.01}),
    "relu": ("relu", {}),
    "gelu": ("gelu", {}),
    "swish": ("swish", {}),
    "tanh": ("tanh", {}),
}


def _target(name: str):
    registry_name, params = TARGETS[name]
    return get_target(registry_name, params)


def _l2(target, rational: Rational, a: float, b: float, weight=None) -> float:
    """Reference continuous L2 error on a finer rule than the fitter's (split at 0 and kinks)."""
    x, w = gauss_legendre_nodes(a, b, (*target.kinks, 0.0), panels=16, order=32)
    if weight is not None:
        w = w * weight(x)
    with np.errstate(all="ignore"):
        err = target(x) - rational(x)
    return math.sqrt(float(w @ err**2))


def _expression(num, den, form: str) -> str:
    """The text of a planted rational in the given form, for parse_expression."""
    p = " + ".join(f"({float(c)!r})*x**{k}" for k, c in enumerate(num))
    if form == "plain":
        q = "1 + " + " + ".join(f"({float(c)!r})*x**{k + 1}" for k, c in enumerate(den))
    elif form == "safe":
        q = "1 + " + " + ".join(f"({float(abs(c))!r})*abs(x)**{k + 1}" for k, c in enumerate(den))
    else:
        q = "1 + abs(" + " + ".join(f"({float(c)!r})*x**{k + 1}" for k, c in enumerate(den)) + ")"
    return f"({p})/({q})"


# -- recovery of a planted rational --------------------------------------------------------------
@st.composite
def planted(draw, form: str):
    m = draw(st.integers(0, 5))
    n = draw(st.integers(1, 4))
    a = -draw(st.floats(0.5, 4.0))
    b = draw(st.floats(0.5, 4.0))
    radius = max(-a, b)
    num = draw(st.lists(st.floats(-2.0, 2.0), min_size=m + 1, max_size=m + 1))
    raw = draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n))
    den = [c / radius ** (k + 1) for k, c in enumerate(raw)]
    return m, n, (a, b), num, den


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_planted_rational_is_recovered(form, data):
    m, n, (a, b), num, den = data.draw(planted(form))
    truth = Rational(num, den, form)
    xs = np.linspace(a, b, 2001)
    if form == "plain":
        assume(truth.denominator_at(xs).min() > 0.3)
    target = parse_expression(_expression(num, den, form))
    fit = fit_lsq(target, (m, n), (a, b), form=form)
    ref = truth(xs)
    scale = max(1.0, float(np.max(np.abs(ref))))
    assert np.max(np.abs(fit.rational(xs) - ref)) <= 1e-11 * scale
    assert fit.rational.form == form
    assert fit.rational.degree == (m, n)


# -- never worse than the naive dense-grid Levenberg-Marquardt fit -------------------------------
def _naive_lm(target, order, form: str, start: np.ndarray, points: int = 2000) -> Rational:
    """Peers' approach: LM on all coefficients over a dense uniform grid from a given start."""
    from scipy.optimize import least_squares

    m = order[0]
    x = np.linspace(*RANGE, points)
    f = target(x)

    def split(p):
        return Rational(p[: m + 1], p[m + 1 :], form)

    def residual(p):
        with np.errstate(all="ignore"):
            r = split(p)(x) - f
        return np.where(np.isfinite(r), r, 1e150)

    def jac(p):
        da, db = split(p).coefficient_gradients(x)
        return np.nan_to_num(np.hstack([da, db]), posinf=1e150, neginf=-1e150)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = least_squares(residual, start, jac=jac, method="lm", max_nfev=2000)
    return split(res.x)


@pytest.mark.parametrize("form", ["safe", "abs"])
@pytest.mark.parametrize("name", ["relu", "gelu", "tanh", "swish"])
def test_not_worse_than_dense_grid_lm_from_ones(name, form):
    target = _target(name)
    fit = fit_lsq(target, (5, 4), RANGE, form=form)
    naive = _naive_lm(target, (5, 4), form, np.ones(10))
    ours = _l2(target, fit.rational, *RANGE)
    theirs = _l2(target, naive, *RANGE)
    assert ours <= theirs * (1.0 + 1e-9)
    # The fitter's own objective and the finer reference rule agree.
    assert fit.settings["l2_error"] == pytest.approx(ours, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_not_worse_than_dense_grid_lm_from_random_starts(form, seed):
    target = _target("gelu")
    rng = np.random.default_rng(seed)
    start = np.concatenate([rng.normal(0, 1, 4), rng.normal(0, 0.3, 2) / 3.0 ** np.arange(1, 3)])
    fit = fit_lsq(target, (3, 2), RANGE, form=form)
    naive = _naive_lm(target, (3, 2), form, start)
    assert _l2(target, fit.rational, *RANGE) <= _l2(target, naive, *RANGE) * (1.0 + 1e-9)


# -- independence of the quadrature rule ---------------------------------------------------------
@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "gelu"])
def test_coefficients_do_not_depend_on_the_rule(name, form):
    target = _target(name)
    fits = [
        fit_lsq(target, (5, 4), RANGE, form=form, panels=p, nodes_per_panel=k)
        for p, k in [(6, 20), (4, 24), (10, 30)]
    ]
    coefs = np.array([np.concatenate([f.rational.numerator, f.rational.denominator]) for f in fits])
    scale = np.max(np.abs(coefs))
    assert np.max(np.abs(coefs - coefs[0])) <= 1e-10 * scale


@pytest.mark.parametrize("name", ["swish", "tanh"])
def test_values_do_not_depend_on_the_rule(name):
    # These fits are accurate to ~1e-6 with nearly flat directions in coefficient space, so the
    # coefficients are only determined to ~1e-8 by float64 data; the function is pinned down.
    target = _target(name)
    xs = np.linspace(*RANGE, 1001)
    f1 = fit_lsq(target, (5, 4), RANGE, panels=6, nodes_per_panel=20)
    f2 = fit_lsq(target, (5, 4), RANGE, panels=12, nodes_per_panel=28)
    assert np.max(np.abs(f1.rational(xs) - f2.rational(xs))) <= 1e-11


def test_deterministic():
    target = _target("gelu")
    assert (
        fit_lsq(target, (4, 3), form="abs").rational == fit_lsq(target, (4, 3), form="abs").rational
    )


# -- weights -------------------------------------------------------------------------------------
def test_normal_weight_moves_accuracy_to_the_centre():
    target = _target("relu")
    uniform = fit_lsq(target, (3, 2), RANGE)
    normal = fit_lsq(target, (3, 2), RANGE, weight="normal:0,0.7")
    assert normal.settings["weight"] == "normal:0,0.7"
    w = parse_weight("normal:0,0.7")
    # Each fit is optimal for its own weight.
    assert _l2(target, normal.rational, *RANGE, w) < _l2(target, uniform.rational, *RANGE, w)
    assert _l2(target, uniform.rational, *RANGE) < _l2(target, normal.rational, *RANGE)
    centre = np.linspace(-1.0, 1.0, 2001)
    edge = np.linspace(2.5, 3.0, 501)

    def err(fit, x):
        return np.max(np.abs(fit.rational(x) - target(x)))

    assert err(normal, centre) < err(uniform, centre)
    assert err(normal, edge) > err(uniform, edge)


def test_weight_expression_matches_normal_up_to_scale():
    # The minimiser does not change when the density is multiplied by a constant.
    target = _target("gelu")
    a = fit_lsq(target, (4, 3), RANGE, weight="normal")
    b = fit_lsq(target, (4, 3), RANGE, weight="exp(-x**2/2)")
    assert b.settings["weight"] == "exp(-x**2/2)"
    ca = np.concatenate([a.rational.numerator, a.rational.denominator])
    cb = np.concatenate([b.rational.numerator, b.rational.denominator])
    np.testing.assert_allclose(cb, ca, rtol=0, atol=1e-10 * np.max(np.abs(ca)))


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("uniform", "uniform"),
        ("  Uniform ", "uniform"),
        ("normal", "normal:0,1"),
        ("normal:0.5,2", "normal:0.5,2"),
        ("normal:mu=-1,sigma=0.25", "normal:-1,0.25"),
        ("normal:1", "normal:1,1"),
        ("1/(1+x**2)", "1/(1+x**2)"),
    ],
)
def test_parse_weight_canonical(spec, canonical):
    w = parse_weight(spec)
    assert isinstance(w, Weight)
    assert w.spec == canonical
    assert parse_weight(w.spec).spec == canonical
    x = np.linspace(-2, 2, 5)
    assert w(x).shape == x.shape
    assert np.all(w(x) > 0)


def test_normal_weight_is_a_density():
    x, w = gauss_legendre_nodes(-15.0, 17.0, panels=8, order=24)
    assert float(w @ parse_weight("normal:1,2")(x)) == pytest.approx(1.0, rel=1e-12)


# -- orders, forms, outputs ----------------------------------------------------------------------
def test_settings_are_recorded():
    fit = fit_lsq(_target("relu"), (5, 4), RANGE, form="safe")
    s = fit.settings
    assert fit.method == "lsq"
    assert s["weight"] == "uniform"
    assert s["best_start"] in s["starts"]
    assert {"loeb", "sk", "interp", "order-3", "ones"} <= set(s["starts"])
    assert s["quadrature"]["rule"] == "composite Gauss-Legendre"
    assert 0.0 in s["quadrature"]["breakpoints"]
    assert s["iterations"]["evaluations"] > 0
    assert s["l2_error"] == pytest.approx(fit.errors.l2, rel=1e-9)
    assert fit.range == RANGE


def test_safe_returns_non_negative_denominator():
    fit = fit_lsq(_target("gelu"), (5, 4), RANGE, form="A")
    assert fit.rational.form == "safe"
    assert np.all(fit.rational.denominator >= 0)


def test_plain_fit_is_pole_free():
    fit = fit_lsq(_target("tanh"), (5, 4), RANGE, form="plain")
    assert fit.poles.pole_free
    assert fit.settings["rejected_with_poles"] is not None


def test_polynomial_order_is_the_linear_least_squares_fit():
    target = _target("gelu")
    fit = fit_lsq(target, (6, 0), RANGE)
    x, w = gauss_legendre_nodes(*RANGE, panels=16, order=32)
    ref = np.polynomial.Polynomial.fit(x, target(x), 6, w=np.sqrt(w)).convert().coef
    np.testing.assert_allclose(fit.rational.numerator, ref, rtol=0, atol=1e-12)
    assert fit.rational.denominator.size == 0


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
def test_highest_order(form):
    target = _target("tanh")
    fit = fit_lsq(target, (12, 12), RANGE, form=form)
    assert fit.rational.degree == (12, 12)
    # L2-optimal, not minimax: abs has a small kink of 1 + |S| at 0 that the L2 fit tolerates.
    assert fit.errors.l2 < 1e-10
    assert fit.errors.max_abs < 1e-8


def test_higher_order_is_not_worse():
    target = _target("relu")
    errs = [fit_lsq(target, (k, k - 1), RANGE, form="abs").settings["l2_error"] for k in (2, 4, 6)]
    assert errs[0] > errs[1] > errs[2]


# -- user errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [(13, 2), (2, 13), (-1, 2), (2.5, 1), ("a", 1), (1, 2, 3), 5])
def test_bad_order(order):
    with pytest.raises(OrderError):
        fit_lsq(_target("relu"), order)


@pytest.mark.parametrize(
    "rng", [(3.0, -3.0), (1.0, 1.0), (-math.inf, 3.0), (math.nan, 1.0), ("a", 1.0), (1.0,)]
)
def test_bad_range(rng):
    with pytest.raises(RangeError):
        fit_lsq(_target("relu"), (3, 2), rng)


@pytest.mark.parametrize(
    "weight",
    [
        "normal:0,-1",
        "normal:0,0",
        "normal:x",
        "normal:1,2,3",
        "normal:nu=1",
        "-1",
        "x",
        "1/x",
        "log(x)",
        "0",
        "sin(",
        "foo(x)",
    ],
)
def test_bad_weight(weight):
    with pytest.raises(ParameterError):
        fit_lsq(_target("relu"), (3, 2), RANGE, weight=weight)


def test_bad_form():
    with pytest.raises(FormError):
        fit_lsq(_target("relu"), (3, 2), RANGE, form="bogus")


# -- the shared fitter signature -----------------------------------------------------------------
def test_takes_a_registry_name():
    assert fit_lsq("gelu", (3, 2)).rational == fit_lsq(get_target("gelu", {}), (3, 2)).rational


def test_takes_a_name_with_parameters():
    by_name = fit_lsq("leaky_relu", (3, 2), slope=0.1)
    by_target = fit_lsq(get_target("leaky_relu", {"slope": 0.1}), (3, 2))
    assert by_name.rational == by_target.rational
    assert by_name.target == by_target.target
    # The parameter reaches the target: another slope is another fit.
    assert by_name.rational != fit_lsq("leaky_relu", (3, 2), slope=0.2).rational


def test_takes_an_expression():
    fit = fit_lsq("x*tanh(x)", (4, 2))
    assert fit.rational == fit_lsq(parse_expression("x*tanh(x)"), (4, 2)).rational


def test_defaults_are_the_shared_ones():
    from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE

    fit = fit_lsq("tanh")
    assert fit.rational.degree == DEFAULT_ORDER
    assert fit.range == DEFAULT_RANGE
    assert fit.rational.form == "safe"


def test_unknown_parameter():
    with pytest.raises(ParameterError, match="slope"):
        fit_lsq("gelu", (3, 2), slope=0.1)


def test_parameters_with_a_target():
    with pytest.raises(ParameterError, match="ready-made Target"):
        fit_lsq(get_target("leaky_relu", {"slope": 0.1}), (3, 2), slope=0.2)


def test_progress_is_called_at_start_and_end():
    calls: list[tuple[str, float]] = []
    fit = fit_lsq("gelu", (3, 2), progress=lambda stage, done: calls.append((stage, done)))
    assert calls[0] == ("lsq gelu", 0.0)
    assert calls[-1] == ("lsq gelu", 1.0)
    fractions = [done for _, done in calls]
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    # Reporting progress does not change the fit.
    assert fit.rational == fit_lsq("gelu", (3, 2)).rational


def test_progress_is_not_called_for_bad_input():
    calls: list[tuple[str, float]] = []
    with pytest.raises(OrderError):
        fit_lsq("gelu", (3, 13), progress=lambda stage, done: calls.append((stage, done)))
    assert calls == []


# -- the parts: variable projection, starts, monomial conversion ---------------------------------
def _internal_q(form: str, a: float, b: float, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q at x for internal parameters θ (see actfit.approx.varpro)."""
    from actfit.approx.varpro import Grid, eval_denominator_basis

    shape = Grid(a, b, *[np.zeros(0)] * 5, (), 1, 1)  # the basis reads only a and b
    t = (x - 0.5 * (a + b)) / (0.5 * (b - a))
    s = eval_denominator_basis(form, shape, x, t, theta.size)
    s = s @ (np.abs(theta) if form == "safe" else theta)
    return 1.0 + (np.abs(s) if form == "abs" else s)


def _planted_grid(form: str, a: float, b: float, num_cheb: np.ndarray, theta: np.ndarray):
    """The engine's grid for a target that is exactly P/Q in its internal coordinates."""
    from actfit.approx.varpro import make_grid

    def target(x):
        x = np.asarray(x, dtype=np.float64)
        t = (x - 0.5 * (a + b)) / (0.5 * (b - a))
        return np.polynomial.chebyshev.chebval(t, num_cheb) / _internal_q(form, a, b, theta, x)

    breaks = (0.0,) if form != "plain" else ()
    return make_grid(target, parse_weight("uniform"), a, b, breaks, 6, 20)


@st.composite
def internal_planted(draw, form: str):
    m = draw(st.integers(0, 5))
    n = draw(st.integers(1, 4))
    a = -draw(st.floats(0.5, 4.0))
    b = draw(st.floats(0.5, 4.0))
    num = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=m + 1, max_size=m + 1)))
    assume(np.abs(num).max() > 0.1)
    raw = draw(st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n))
    assume(max(abs(v) for v in raw) > 1e-2)
    # Σ|θ| = 1/4 keeps Q >= 1/2 on the range (the shifted Chebyshev columns are within ±2).
    theta = 0.25 * np.array(raw) / sum(abs(v) for v in raw)
    if form == "safe":
        theta = np.abs(theta)
    return m, n, a, b, num, theta


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_varpro_projection_is_exact_at_a_planted_rational(form, data):
    # At the true denominator the projected residual vanishes and the eliminated numerator is
    # the planted one: the variable projection loses nothing.
    from actfit.approx.varpro import make_varpro

    m, n, a, b, num, theta = data.draw(internal_planted(form))
    grid = _planted_grid(form, a, b, num, theta)
    vp = make_varpro(grid, m, n, form)
    scale = float(grid.y @ grid.y)
    assert vp.cost(theta) <= 1e-26 * scale
    np.testing.assert_allclose(vp.numerator(theta), num, rtol=0, atol=1e-11)
    # Elsewhere the cost is positive.
    assert vp.cost(theta + 0.05) > 1e-12 * scale


@pytest.mark.parametrize("form", ["plain", "safe"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_varpro_polish_recovers_a_planted_rational(form, data):
    from actfit.approx.varpro import make_varpro

    m, n, a, b, num, theta = data.draw(internal_planted(form))
    grid = _planted_grid(form, a, b, num, theta)
    vp = make_varpro(grid, m, n, form)
    found, _ = vp.polish(theta + 0.01, tight=True)
    x = np.linspace(a, b, 501)
    # The function, not the parameters: a near-cancellation leaves θ flat in some direction.
    q_found = _internal_q(form, a, b, found, x)
    p_found = np.polynomial.chebyshev.chebval(
        (x - 0.5 * (a + b)) / (0.5 * (b - a)), vp.numerator(found)
    )
    np.testing.assert_allclose(p_found / q_found, grid.target(x), rtol=0, atol=1e-8)


@pytest.mark.parametrize("form", ["plain", "safe"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_varpro_jacobian_matches_finite_differences(form, data):
    from actfit.approx.varpro import make_varpro

    m, n, a, b, num, theta = data.draw(internal_planted(form))
    grid = _planted_grid(form, a, b, num, theta)
    vp = make_varpro(grid, m, n, form)
    at = theta + 0.05 / n  # off the optimum, where the second Golub-Pereyra term matters
    jac = vp.jacobian(at)
    h = 1e-6
    fd = np.column_stack(
        [(vp.residual(at + h * e) - vp.residual(at - h * e)) / (2 * h) for e in np.eye(n)]
    )
    np.testing.assert_allclose(jac, fd, rtol=0, atol=1e-6 * (1 + np.abs(fd).max()))


@pytest.mark.parametrize("form", ["plain", "safe"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_linearised_start_recovers_a_planted_rational(form, data):
    # Loeb's linearisation is exact when the data are a rational of the type: f Q - P = 0.
    from actfit.approx.starts import make_sk_starts
    from actfit.approx.varpro import make_varpro

    m, n, a, b, num, theta = data.draw(internal_planted(form))
    grid = _planted_grid(form, a, b, num, theta)
    vp = make_varpro(grid, m, n, form)
    starts = dict(make_sk_starts(grid, vp.vnum, vp.model))
    assert vp.cost(starts["loeb"]) <= 1e-20 * float(grid.y @ grid.y)


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_monomial_denominator_round_trip(form, data):
    from actfit.approx.monomial import from_monomial_denominator, to_monomial_denominator

    _, _, a, b, num, theta = data.draw(internal_planted(form))
    grid = _planted_grid(form, a, b, num, theta)
    den = to_monomial_denominator(form, grid, theta)
    x = np.linspace(a, b, 301)
    # The monomial denominator has the internal one's values ...
    np.testing.assert_allclose(
        Rational(np.ones(1), den, form).denominator_at(x),
        _internal_q(form, a, b, theta, x),
        rtol=1e-12,
    )
    # ... and converts back (for abs up to the sign of S, which |S| does not see).
    back = from_monomial_denominator(form, grid, den)
    if form == "abs" and not np.allclose(back, theta, rtol=0, atol=1e-9):
        back = -back
    np.testing.assert_allclose(back, theta, rtol=0, atol=1e-11)


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
def test_monomial_rational_keeps_the_internal_accuracy(form):
    from actfit.approx.monomial import to_monomial_rational
    from actfit.approx.varpro import make_varpro

    rng = np.random.default_rng(3)
    num, theta = rng.uniform(-1, 1, 6), rng.uniform(-0.06, 0.06, 4)
    if form == "safe":
        theta = np.abs(theta)
    grid = _planted_grid(form, -3.0, 3.0, num, theta)
    vp = make_varpro(grid, 5, 4, form)
    rational, how, l2 = to_monomial_rational(grid, 5, form, vp, theta)
    assert how in {"converted", "monomial-solve", "monomial-polish"}
    assert rational.degree == (5, 4) and rational.form == form
    x = np.linspace(-3.0, 3.0, 1001)
    np.testing.assert_allclose(rational(x), grid.target(x), rtol=0, atol=1e-12)
    assert l2 <= 1e-12


# -- the safe form as a bound-constrained problem; what is proven ----------------------------------
def test_safe_recovers_a_planted_face_rational():
    # c_2 = 0: the optimum lies on the face c_2 = 0 of the bound-constrained problem.
    target = parse_expression("(0.5 + x + 0.3*x**2 - 0.2*x**3)/(1 + 0.8*abs(x) + 0.4*abs(x)**3)")
    fit = fit_lsq(target, (3, 3), (-2.0, 2.0), form="safe")
    np.testing.assert_allclose(fit.rational.denominator, [0.8, 0.0, 0.4], rtol=0, atol=1e-10)
    np.testing.assert_allclose(fit.rational.numerator, [0.5, 1.0, 0.3, -0.2], rtol=0, atol=1e-10)
    assert fit.errors.l2 < 1e-12


def test_safe_face_optimum_has_exact_zeros():
    # gelu [5, 4] safe on [-3, 3]: the optimum has b_1 = b_4 = 0 (the gradient points off the
    # face there); the bounded method's strictly feasible iterates are snapped to 0 exactly.
    fit = fit_lsq(_target("gelu"), (5, 4), RANGE, form="safe")
    den = fit.rational.denominator
    assert den[0] == 0.0 and den[3] == 0.0
    assert np.all(den[1:3] > 1e-3)
    assert fit.errors.l2 <= 1.98865e-3  # the earlier face-unaware search stopped at 1.98907e-3


@pytest.mark.parametrize(
    ("name", "order", "rng", "bound"),
    [
        ("selu", (6, 5), (-3.0, 3.0), 8.55e-3),  # was 8.730e-3; 8.549e-3 found by random starts
        ("gelu", (6, 5), (-5.0, 5.0), 4.3686e-3),  # was 4.3959e-3
    ],
)
def test_safe_reaches_the_random_search_optimum(name, order, rng, bound):
    fit = fit_lsq(name, order, rng, form="safe")
    assert fit.errors.l2 <= bound


@pytest.mark.parametrize("form", ["plain", "safe", "abs"])
def test_optimality_says_what_was_proven(form):
    fit = fit_lsq(_target("tanh"), (3, 2), RANGE, form=form)
    s = fit.settings
    # plain, abs: random starts rejected after a short screening run count too
    tried = int(s["optimality"].split()[2])
    assert s["optimality"].startswith(f"best of {tried} starts")
    assert tried == len(s["starts"]) if form == "safe" else tried > len(s["starts"])
    if form == "safe":  # n = 2: branch and bound certifies within a gap
        assert "global within gap" in s["optimality"]
    else:
        assert "no global certificate" in s["optimality"]
        assert "global within" not in s["optimality"]
    poly = fit_lsq(_target("tanh"), (3, 0), RANGE, form=form)
    assert poly.settings["optimality"].startswith("global")


@pytest.mark.parametrize(("name", "order"), [("tanh", (3, 2)), ("relu", (2, 1))])
def test_safe_small_n_has_a_global_lower_bound(name, order):
    fit = fit_lsq(_target(name), order, RANGE, form="safe")
    s = fit.settings
    assert 0.0 < s["lower_bound"] <= s["l2_error"]
    assert s["gap"] == pytest.approx(1.0 - s["lower_bound"] / s["l2_error"], rel=1e-12)
    assert 0.0 <= s["gap"] <= 1e-2
    assert f"global within gap {s['gap']:.2e}" in s["optimality"]
    assert "lower_bound" not in fit_lsq(_target(name), order, RANGE, form="plain").settings


def test_lower_bound_is_below_every_fit_on_the_box():
    # The relaxation bounds the objective from below at any c in the box: check random points.
    from actfit.approx.varpro import bound_safe_globally, make_grid, make_varpro

    target = _target("gelu")
    grid = make_grid(target, parse_weight("uniform"), -3.0, 3.0, (0.0,), 6, 20)
    vp = make_varpro(grid, 3, 2, "safe")
    rng = np.random.default_rng(5)
    costs = [vp.cost(np.exp(rng.normal(0.0, 3.0, 2))) for _ in range(200)]
    lower, best, _ = bound_safe_globally(vp, min(costs))
    assert lower <= best <= min(costs)
    assert lower >= 0.9 * best  # and it is not a trivial bound


def test_linear_tail_grows_at_most_linearly_and_reports_its_cost() -> None:
    """gelu [5,4] safe: the free optimum has b4 = 0 and grows like x^2 (r(1e4) ~ 9.5e6); with
    tail='linear' the top coefficient is kept at |b4| R^4 >= 0.01 and r grows linearly."""
    from actfit.approx.lsq_tail import TAIL_FLOOR

    free = fit_lsq("gelu", (5, 4), (-3, 3), form="safe")
    lin = fit_lsq("gelu", (5, 4), (-3, 3), form="safe", tail="linear")
    assert free.rational.denominator[-1] == 0.0 and free.tail.plus.degree == 2
    assert abs(lin.rational.denominator[-1]) * 3.0**4 >= TAIL_FLOOR * (1 - 1e-12)
    assert lin.tail.plus.degree == 1 and lin.tail.minus.degree == 1
    big = lin.rational(np.array([1e4, 1e6]))
    assert abs(big[1] / big[0]) == pytest.approx(100.0, rel=1e-2)  # linear, not quadratic
    info = lin.settings["tail"]
    assert info["active"] and info["l2_error_free"] == pytest.approx(free.errors.l2, rel=1e-6)
    assert info["l2_error_linear"] == pytest.approx(lin.errors.l2, rel=1e-6)
    assert free.errors.l2 <= lin.errors.l2 <= 1.05 * free.errors.l2  # the cost is reported, small


@pytest.mark.parametrize(
    "kwargs, match",
    [({"form": "plain", "order": (4, 3)}, "even n"), ({"order": (6, 4)}, "m <= n \\+ 1"),
     ({"order": (3, 0)}, "needs a denominator"), ({"tail": "cubic"}, "unknown tail")],
)
def test_linear_tail_refuses_what_it_cannot_do(kwargs, match) -> None:
    args = {"order": (5, 4), "tail": "linear", **kwargs}
    with pytest.raises(ActfitError, match=match):
        fit_lsq("gelu", args.pop("order"), (-3, 3), **args)

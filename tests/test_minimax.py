"""Minimax fits: recovery, equioscillation, a golden value, kinked targets, forms, certificates."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.approx.lp import differential_correction
from actfit.approx.minimax import certify, fit_minimax, parse_minimax_weight
from actfit.approx.poles import count_real_roots
from actfit.approx.weights import parse_weight
from actfit.cli import app
from actfit.errors import FormError, OrderError, ParameterError
from actfit.export import load, save
from actfit.rational import Rational
from actfit.targets import get_target, parse_expression

runner = CliRunner()


def _fit(name: str, order: tuple[int, int], rng=(-3.0, 3.0), **kw):
    kw.setdefault("form", "plain")  # the certified path; the library default is safe
    return fit_minimax(get_target(name), order, rng, **kw)


def _alternation_ok(fit, need: int) -> None:
    """The certificate's points alternate in sign, and |error| there is the level (upper)."""
    xs = np.array(fit.certificate.points)
    assert xs.size >= need
    e = fit.target(xs) - fit.rational(xs)
    assert np.all(np.sign(e[1:]) == -np.sign(e[:-1]))
    np.testing.assert_allclose(np.abs(e), fit.certificate.upper, rtol=1e-6)


# ---- recovery -------------------------------------------------------------------------------
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    num=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
    den=st.lists(st.floats(-0.3, 0.3), min_size=2, max_size=2),
)
def test_planted_rational_is_recovered(num: list[float], den: list[float]) -> None:
    # |b1| + |b2| <= 0.6 keeps Q = 1 + b1 x + b2 x^2 >= 0.4 on [-1, 1].
    planted = Rational(num, den, "plain")
    text = (
        f"({num[0]!r} + {num[1]!r}*x + {num[2]!r}*x**2) / (1 + {den[0]!r}*x + {den[1]!r}*x**2)"
    )
    target = parse_expression(text)
    fit = fit_minimax(target, (2, 2), (-1.0, 1.0), form="plain")
    x = np.linspace(-1.0, 1.0, 2001)
    scale = 1.0 + np.max(np.abs(planted(x)))
    assert fit.errors.max_abs <= 1e-11 * scale
    np.testing.assert_allclose(fit.rational(x), planted(x), atol=1e-11 * scale)


def test_polynomial_target_is_exact_with_honest_certificate() -> None:
    fit = _fit("hardswish", (4, 4))  # x (x + 3) / 6 on [-3, 3]: a polynomial there
    assert fit.errors.max_abs < 1e-13
    cert = fit.certificate
    assert cert.status == "global" and cert.lower == 0.0 and "rounding" in cert.detail


# ---- golden value and equioscillation ------------------------------------------------------
def test_abs_on_unit_interval_matches_chebfun() -> None:
    # Best [2,2] approximation of |x| on [-1, 1]: error 0.043689..., the value checked by
    # chebfun's minimax test (chebfun/tests/chebfun/test_minimax.m); also tabulated by Varga,
    # Ruttan & Carpenter, Math. USSR Sb. 74 (1993) 271-290.
    fit = _fit("abs", (2, 2), (-1.0, 1.0))
    cert = fit.certificate
    assert cert.status == "global"
    assert abs(cert.upper - 0.043689) < 5e-7
    assert cert.lower <= cert.upper and cert.gap < 1e-6
    _alternation_ok(fit, 6)


@pytest.mark.parametrize("name,order", [("gelu", (5, 4)), ("tanh", (4, 4)), ("relu", (4, 4))])
def test_equioscillation(name: str, order: tuple[int, int]) -> None:
    fit = _fit(name, order)
    m, n = order
    num_deg = int(np.flatnonzero(fit.rational.numerator)[-1])
    den_deg = int(np.flatnonzero(fit.rational.denominator_polynomial())[-1])
    defect = max(0, min(m - num_deg, n - den_deg))
    _alternation_ok(fit, m + n + 2 - defect)
    # The certificate states the defect it used.
    assert f"defect d = {defect}" in fit.certificate.detail


# ---- the quality requirement on a representative subset ------------------------------------
@pytest.mark.parametrize(
    "name,order",
    [
        ("relu", (6, 6)),
        ("leaky_relu", (5, 4)),
        ("elu", (4, 4)),
        ("srelu", (3, 3)),
        ("abs", (6, 6)),
        ("hardtanh", (4, 4)),
        ("gelu", (6, 6)),
        ("swish", (5, 5)),
        ("tanh", (5, 4)),
        ("softplus", (3, 2)),
    ],
)
def test_certified_gap(name: str, order: tuple[int, int]) -> None:
    fit = _fit(name, order)
    cert = fit.certificate
    assert cert.status == "global", cert.detail
    assert cert.lower <= cert.upper
    assert cert.gap <= 1e-3
    # The upper bound is the fit's own max error (same grid search, possibly sharper).
    assert cert.upper >= fit.errors.max_abs * (1 - 1e-12)


def test_lower_bound_is_below_a_finer_search() -> None:
    # The lower bound must hold against the error measured independently on a huge grid.
    fit = _fit("relu", (5, 5))
    x = np.concatenate([np.linspace(-3, 3, 400001), np.geomspace(1e-12, 3, 20001)])
    e = np.max(np.abs(fit.target(x) - fit.rational(x)))
    assert fit.certificate.lower <= e * (1 + 1e-12)
    assert e <= fit.certificate.upper * (1 + 1e-9)


# ---- poles ------------------------------------------------------------------------------------
def test_pole_report_agrees_with_independent_root_count() -> None:
    fit = _fit("gelu", (5, 4))
    q = fit.rational.denominator_polynomial()
    roots = np.roots(q[::-1])
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    np.testing.assert_allclose(fit.poles.poles_on_real_line, real, rtol=1e-9)
    assert count_real_roots(q) == len(fit.poles.poles_on_real_line) == 2
    assert fit.poles.pole_free_on_range and not fit.poles.pole_free
    assert "poles outside the range" in fit.certificate.detail


def test_odd_denominator_degree_reports_its_real_pole() -> None:
    fit = _fit("swish", (3, 3))
    assert fit.certificate.status == "global"
    assert len(fit.poles.poles_on_real_line) == 1 and fit.poles.pole_free_on_range
    q = fit.rational.denominator_polynomial()
    x = np.linspace(-1e3, 1e3, 2_000_001)
    changes = int(np.count_nonzero(np.diff(np.sign(np.polyval(q[::-1], x)))))
    assert changes == 1


def test_pole_free_is_a_constraint() -> None:
    free = _fit("gelu", (5, 4))
    fit = _fit("gelu", (5, 4), pole_free=True)
    assert fit.poles.pole_free
    assert count_real_roots(fit.rational.denominator_polynomial()) == 0
    # Constrained to a smaller class: no better than the unconstrained lower bound.
    assert fit.certificate.upper >= free.certificate.lower
    assert fit.settings["pole_free"] is True


# ---- other forms ----------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["safe", "abs"])
def test_safe_and_abs_forms_are_honest_and_beat_polynomials(form: str) -> None:
    fit = _fit("relu", (4, 4), form=form)
    poly = _fit("relu", (4, 0))  # polynomials belong to every form's class
    cert = fit.certificate
    if form == "abs":
        assert fit.form == form and cert.status == "local" and cert.lower is None
        assert "local" in cert.detail or "no lower bound" in cert.detail
    else:
        # The Farkas bound on the fit's extremal points (actfit.approx.farkas_bound); a
        # polynomial belongs to the class, so the bound is below its error too.
        assert cert.status == "global" and cert.gap <= 1e-3 and "Farkas" in cert.detail
        assert 0 < cert.lower <= cert.upper <= poly.certificate.upper
    assert fit.errors.max_abs <= poly.certificate.upper * (1 + 1e-9)
    if form == "safe":
        assert np.all(fit.rational.denominator >= 0)
    assert fit.poles.pole_free


def test_abs_keeps_the_plain_optimum_when_other_sign_patterns_are_cut_short() -> None:
    # sigmoid's plain [6,6] denominator is 1 + S with S >= 0, so abs reproduces it; the other
    # sign patterns, orders of magnitude worse, are abandoned early and must not replace it.
    plain = _fit("sigmoid", (6, 6))
    fit = _fit("sigmoid", (6, 6), form="abs")
    assert fit.certificate.upper <= plain.certificate.upper * (1 + 1e-3)
    assert "from the plain optimum" in " ".join(fit.settings["notes"])


def test_abs_pattern_behind_on_the_continuum_but_not_on_the_grid_is_kept() -> None:
    # |x| at [6,6]: the sign(x) pattern wins (3.16e-4, 20x better than plain) although after its
    # second exchange round its continuum error is 6x the rival's; only its grid error decides.
    plain = _fit("abs", (6, 6))
    fit = _fit("abs", (6, 6), form="abs")
    assert fit.certificate.upper < 3.2e-4 < plain.certificate.upper / 20
    assert "sign(x)" in " ".join(fit.settings["notes"])


def test_pole_free_needs_plain() -> None:
    with pytest.raises(FormError):
        _fit("gelu", (3, 2), form="safe", pole_free=True)


# ---- weights --------------------------------------------------------------------------------
def test_relative_weight() -> None:
    fit = _fit("sigmoid", (3, 3), weight="relative")
    cert = fit.certificate
    assert cert.status == "global" and cert.gap < 1e-3
    x = np.array(cert.points)
    rel = np.abs(fit.target(x) - fit.rational(x)) / np.abs(fit.target(x))
    np.testing.assert_allclose(rel, cert.upper, rtol=1e-6)
    assert fit.settings["weight"] == "relative"


def test_weight_expression_and_bad_weights() -> None:
    t = get_target("tanh")
    fit = fit_minimax(t, (3, 2), (-3.0, 3.0), form="plain", weight="1 + x**2")
    assert fit.certificate.status == "global"
    with pytest.raises(ParameterError):
        parse_minimax_weight("x", t, -3.0, 3.0)  # negative on half the range
    with pytest.raises(ParameterError):
        parse_minimax_weight("relative:-1", t, -3.0, 3.0)
    with pytest.raises(ParameterError):
        parse_minimax_weight("relative", parse_expression("0*x"), -3.0, 3.0)


def test_bad_order() -> None:
    with pytest.raises(OrderError):
        _fit("gelu", (5, -1))


# ---- building blocks --------------------------------------------------------------------------
def test_differential_correction_on_a_grid() -> None:
    # Discrete best [1,1] approximation of exp on 201 points: the error equioscillates.
    x = np.linspace(-1.0, 1.0, 201)
    psi = np.vander(x, 2, increasing=True)
    phi = psi.copy()
    res = differential_correction(
        psi, phi, np.exp(x), np.ones_like(x), np.zeros(2), np.array([1.0, 0.0]),
        lower=np.array([1.0, -4.0]), upper=np.array([1.0, 4.0]),
    )
    e = np.exp(x) - (psi @ res.alpha) / (phi @ res.gamma)
    assert res.converged and abs(np.max(np.abs(e)) - res.error) < 1e-15
    assert np.count_nonzero(np.abs(np.abs(e) - res.error) < 1e-9 * res.error) >= 4


def test_lp_fallback_through_linprog_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without highspy every LP goes through linprog, cold: the same discrete optimum.
    import actfit.approx.lp as lp

    x = np.linspace(-2.0, 2.0, 301)
    psi = np.polynomial.chebyshev.chebvander(x / 2.0, 3)
    phi = np.polynomial.chebyshev.chebvander(x / 2.0, 2)
    args = (psi, phi, np.tanh(x), np.ones_like(x), np.zeros(4), np.array([1.0, 0.0, 0.0]))
    box = {"lower": np.array([1.0, -1.0, -1.0]), "upper": np.array([1.0, 1.0, 1.0])}
    direct = differential_correction(*args, **box)
    def without_highspy(self: lp._HighsLP) -> None:
        self._core = None

    monkeypatch.setattr(lp._HighsLP, "__init__", without_highspy)
    fallback = differential_correction(*args, **box)
    assert direct.converged and fallback.converged
    assert abs(direct.error - fallback.error) <= 1e-8 * direct.error


def test_certify_rejects_a_poor_fit_alternation() -> None:
    # A rational that is not near-best gets no lower bound above the true best error: either a
    # valid (smaller) bound with status global, or status local and no bound at all.
    t = get_target("tanh")
    r = Rational([0.0, 0.9], [0.0, 0.1], "plain")
    cert = certify(t, r, -3.0, 3.0, order=(1, 2))
    best = _fit("tanh", (1, 2)).certificate.upper
    assert cert.upper >= best * (1 - 1e-9)  # a poor fit is no better than the best one
    if cert.status == "global":
        assert cert.lower is not None and cert.lower <= best * (1 + 1e-9)
    else:
        assert cert.status == "local" and cert.lower is None and cert.gap is None


def test_certify_rejects_a_rational_with_a_pole_on_the_range() -> None:
    cert = certify(get_target("tanh"), Rational([1.0], [-1.0], "plain"), -3.0, 3.0)
    assert cert.status == "none" and cert.lower is None and cert.gap is None
    assert "vanishes on the range" in cert.detail


def test_merged_weight_parser() -> None:
    # One parser for lsq and minimax: with a range it checks positivity and records symmetry.
    t = get_target("tanh")
    lsq_w = parse_weight("normal:0,2")
    assert lsq_w.symmetric is None  # not checked without a range
    mm_w = parse_weight("normal:0,2", range=(-3.0, 3.0))
    assert mm_w == lsq_w and mm_w.symmetric is True
    assert parse_weight("normal:1,2", range=(-3.0, 3.0)).symmetric is False
    rel = parse_weight("relative:0.01", target=t, range=(-3.0, 3.0))
    assert rel.spec == "relative:0.01" and rel.kinks
    np.testing.assert_allclose(rel(np.array([0.0, 3.0])), [100.0, 1.0 / np.tanh(3.0)])
    assert parse_minimax_weight("relative:0.01", t, -3.0, 3.0) == rel
    assert parse_weight(mm_w, range=(-3.0, 3.0)) == mm_w
    with pytest.raises(ParameterError, match="target on the fit range"):
        parse_weight("relative")  # relative needs the target and the range
    with pytest.raises(ParameterError, match="> 0"):
        parse_weight("x**2", range=(-1.0, 1.0))  # zero at 0: fine for lsq, not for minimax
    assert parse_weight("x**2").spec == "x**2"


def test_fit_minimax_takes_a_name_and_parameters() -> None:
    stages: list[tuple[str, float]] = []
    fit = fit_minimax(
        "leaky_relu", (3, 3), form="plain", slope=0.1, progress=lambda s, f: stages.append((s, f))
    )
    ref = fit_minimax(get_target("leaky_relu", {"slope": 0.1}), (3, 3), form="plain")
    assert fit.rational == ref.rational
    assert stages[0][0].startswith("minimax leaky_relu") and stages[0][1] == 0.0
    assert stages[-1] == ("done", 1.0)


def test_progress_and_export_round_trip(tmp_path: Path) -> None:
    stages: list[tuple[str, float]] = []
    fit = fit_minimax(
        get_target("tanh"), (3, 2), form="plain", progress=lambda s, f: stages.append((s, f))
    )
    assert stages and stages[-1] == ("done", 1.0)
    assert all(0.0 <= f <= 1.0 for _, f in stages)
    path = tmp_path / "mm.json"
    save(fit, path)
    back = load(path)
    assert back.method == "minimax" and back.certificate == fit.certificate
    assert back.rational == fit.rational


def test_no_warning_on_a_normal_fit() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit("elu", (3, 3))


# ---- command line -----------------------------------------------------------------------------
def test_cli_minimax_json(tmp_path: Path) -> None:
    out = tmp_path / "fit.npz"
    res = runner.invoke(
        app, ["minimax", "gelu", "--order", "4,4", "--form", "plain", "--json", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["method"] == "minimax" and doc["form"] == "plain"
    assert load(out).certificate.status == "global"


def test_cli_minimax_table_and_options() -> None:
    res = runner.invoke(
        app, ["minimax", "leaky_relu", "--slope", "0.1", "--order", "3,3", "--weight", "relative"]
    )
    assert res.exit_code == 0, res.output
    assert "certificate" in res.stdout and "global" in res.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["minimax", "gelu", "--form", "safe", "--pole-free"],
        ["minimax", "gelu", "--form", "wrong"],
        ["minimax", "gelu", "--weight", "-1"],
        ["minimax", "gelu", "--order", "5,x"],
    ],
)
def test_cli_user_errors_are_one_line(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "error" in res.output


# ---- high degree: kinked [8,8], float64 resolution, the floor on Q ---------------------------
def _independent_lp(name: str, m: int, n: int, a: float, b: float) -> float:
    """Differential correction written independently (scipy linprog, cold, box |γ| <= 1) on a
    fixed grid graded toward the kinks; its max error on a finer check grid: an upper bound on
    the best error, so a valid lower bound must lie below it."""
    from numpy.polynomial import chebyshev as C
    from scipy.optimize import linprog

    target = get_target(name)

    def grid(k: int, g: int) -> np.ndarray:
        x = [0.5 * (a + b) - 0.5 * (b - a) * np.cos(np.linspace(0.0, np.pi, k))]
        for c in target.kinks:
            if a < c < b:
                h = np.geomspace(1e-8, 1.0, g)
                x += [c - h * (c - a), c + h * (b - c)]
        return np.unique(np.clip(np.concatenate(x), a, b))

    x = grid(1500, 40)
    t = (2 * x - a - b) / (b - a)
    f = target(x)
    ps, ph = C.chebvander(t, m), C.chebvander(t, n)
    al = np.linalg.lstsq(ps, f, rcond=None)[0]
    ga = np.eye(n + 1)[0]
    d = float(np.max(np.abs(f - ps @ al)))
    for _ in range(40):
        q = ph @ ga
        rows = np.vstack([np.hstack([-ps, (f - d)[:, None] * ph, -q[:, None]]),
                          np.hstack([ps, (-f - d)[:, None] * ph, -q[:, None]])])
        bounds = [(None, None)] * (m + 1) + [(-1.0, 1.0)] * (n + 1) + [(None, None)]
        res = linprog(np.eye(m + n + 3)[-1], A_ub=rows, b_ub=np.zeros(len(rows)), bounds=bounds)
        if res.status != 0 or not np.all(ph @ res.x[m + 1 : -1] > 0):
            break
        a2, g2 = res.x[: m + 1], res.x[m + 1 : -1]
        d2 = float(np.max(np.abs(f - (ps @ a2) / (ph @ g2))))
        if not d2 < d * (1 - 1e-9):
            break
        al, ga, d = a2, g2, d2
    xc = grid(20001, 200)
    tc = (2 * xc - a - b) / (b - a)
    return float(np.max(np.abs(target(xc) - C.chebval(tc, al) / C.chebval(tc, ga))))


def test_kinked_8_8_is_certified_global() -> None:
    # Before: "local", 3.28e-3 (differential correction stopped by its LP cap while the grid and
    # continuum errors agreed); the best error is 1.4465e-3.
    fit = _fit("relu", (8, 8), (-3.0, 3.0))
    cert = fit.certificate
    assert cert.status == "global" and cert.gap <= 1e-3, cert.detail
    assert abs(cert.upper - 1.44647e-3) < 1e-7
    lp = _independent_lp("relu", 8, 8, -3.0, 3.0)
    assert cert.lower <= lp  # the lower bound is below an independently attained error
    assert cert.upper <= lp * 1.001


def test_smooth_at_float64_resolution_against_40_digits() -> None:
    import mpmath

    # Before: "local", 1.8e-10 (differential correction stalls); the Chebyshev-reference Remez
    # start reaches the float64 resolution of the target (~5e-15 on [-3, 3]).
    fit = _fit("swish", (8, 8), (-3.0, 3.0))
    cert = fit.certificate
    assert cert.status == "global" and cert.upper <= 5e-14
    assert "At float64 resolution" in cert.detail
    target = get_target("swish")
    xs = np.linspace(-3.0, 3.0, 97) + 1e-3 * np.sin(np.arange(97))
    xs = np.clip(xs, -3.0, 3.0)
    r = fit.rational
    with mpmath.workdps(40):
        num = [mpmath.mpf(float(c)) for c in r.numerator][::-1]
        den = [mpmath.mpf(float(c)) for c in r.denominator_polynomial()][::-1]
        worst = max(
            abs(target.mp(mpmath.mpf(x)) - mpmath.polyval(num, mpmath.mpf(x))
                / mpmath.polyval(den, mpmath.mpf(x)))
            for x in xs
        )
    assert float(worst) <= 5e-14  # the stored monomial table keeps the accuracy
    # A gap above 1e-3 that is rounding: upper - lower within 4x the float64 evaluation noise.
    fit = _fit("tanh", (6, 6), (-1.0, 1.0))
    cert = fit.certificate
    assert cert.status == "global" and cert.upper < 2e-13 and cert.lower <= cert.upper
    assert "At float64 resolution: upper - lower" in cert.detail


def test_at_float64_resolution_a_lower_class_table_may_evaluate_better() -> None:
    # gelu [12,12] on [-1, 1]: the [12,12] table is accurate to 1e-16 but its float64 Horner
    # evaluation errs by 2.0e-14 (90 ulps; its running-error bound is 4.1e-13); the lower
    # classes' tables, members of the class, evaluate better ([10,10]: 4.4e-16). The certified
    # error is what float64 evaluation gives, so the better-evaluating member is returned.
    fit = _fit("gelu", (12, 12), (-1.0, 1.0), allow_poles=True)
    cert = fit.certificate
    assert cert.status == "global" and "At float64 resolution" in cert.detail
    assert cert.upper <= 16 * np.finfo(float).eps * 0.85
    xs = np.linspace(-1.0, 1.0, 4001)
    got = np.max(np.abs(fit.rational(xs) - get_target("gelu")(xs)))
    assert got <= cert.upper * (1 + 1e-12)  # the float64 evaluation, independently sampled


def test_rounding_level_table_gets_the_exact_alternation_bound() -> None:
    import mpmath

    # tanh [8,8] on [0, 4]: the table's float64 error (2.4e-15) is rounding, but its exact error
    # alternates: de la Vallée Poussin in 40 digits gives a positive bound for the class.
    fit = _fit("tanh", (8, 8), (0.0, 4.0), allow_poles=True)
    cert = fit.certificate
    assert cert.status == "global" and "rounding level" in cert.detail
    assert 1e-15 < cert.lower <= cert.upper < 5e-15
    r, target = fit.rational, get_target("tanh")
    assert len(cert.points) >= 8 + 8 + 2
    assert not [p for p in r.real_poles() if 0.0 <= p <= 4.0]
    with mpmath.workdps(40):  # written here, independent of the certificate's evaluation
        num = [mpmath.mpf(float(c)) for c in r.numerator][::-1]
        den = [mpmath.mpf(float(c)) for c in r.denominator_polynomial()][::-1]
        errs = [target.mp(mpmath.mpf(x)) - mpmath.polyval(num, mpmath.mpf(x))
                / mpmath.polyval(den, mpmath.mpf(x)) for x in cert.points]
    assert all(mpmath.sign(errs[i]) == -mpmath.sign(errs[i + 1]) for i in range(len(errs) - 1))
    assert float(min(abs(e) for e in errs)) >= cert.lower


def test_min_q_options_are_checked() -> None:
    with pytest.raises(ParameterError):
        _fit("tanh", (2, 2), dtype="int8")
    with pytest.raises(ParameterError):
        _fit("tanh", (2, 2), min_q=1.5)
    fit = _fit("tanh", (3, 3), min_q=0.0)
    assert not fit.settings["min_q_active"]

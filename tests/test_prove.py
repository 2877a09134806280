"""``actfit check --prove``: the proven enclosure of a table's max error.

Independent reference: a 60-digit mpmath evaluation of ``|f - r|`` at the enclosure's argmax
(the target's own mpmath code path, the coefficients as exact binary values) must lie in the
enclosure; a planted narrow peak that a grid misses must be inside the proven upper bound.
"""

from __future__ import annotations

import json

import mpmath
import pytest
import sympy as sp
from typer.testing import CliRunner

from actfit.approx.lsq import fit_lsq
from actfit.check import check_fit, prove_fit
from actfit.cli import app
from actfit.export import save
from actfit.export.readers import external_fit
from actfit.targets import Target, as_target


@pytest.fixture(scope="module")
def gelu_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("prove") / "gelu.json"
    save(fit_lsq("gelu", (5, 4), (-3, 3), form="safe"), path)
    return path


def _mp_error(fit, x: float) -> mpmath.mpf:
    with mpmath.workdps(60):
        xm = mpmath.mpf(x)
        r = fit.rational
        p = sum(mpmath.mpf(float(c)) * xm**k for k, c in enumerate(r.numerator))
        q = 1 + sum(abs(mpmath.mpf(float(c))) * abs(xm) ** (k + 1)
                    for k, c in enumerate(r.denominator))
        return abs(fit.target.mp(xm) - p / q)


def test_cli_prove_json_contains_mpmath_error(gelu_file) -> None:
    res = CliRunner().invoke(app, ["check", str(gelu_file), "--prove", "--json"])
    assert res.exit_code == 0, res.output
    (result,) = json.loads(res.stdout)["results"]
    p = result["proven"]
    assert p["lower"] <= p["upper"] and p["converged"]
    assert (p["upper"] - p["lower"]) <= 1e-6 * p["upper"]
    from actfit.export.readers import load_fits

    (fit,) = load_fits(gelu_file)
    e = _mp_error(fit, p["argmax"])
    assert mpmath.mpf(p["lower"]) <= e <= mpmath.mpf(p["upper"])
    assert p["min_abs_q"] > 0.99 and "no real zero" in p["poles"]


def test_cli_prove_text_and_plain_form(tmp_path) -> None:
    path = tmp_path / "plain.json"
    save(fit_lsq("tanh", (3, 2), (-3, 3), form="plain"), path)
    res = CliRunner().invoke(app, ["check", str(path), "--prove"])
    assert res.exit_code == 0, res.output
    assert "proven max abs error in [" in res.output
    assert "proven min |Q|" in res.output and "exact root isolation" in res.output


def test_without_prove_no_key(gelu_file) -> None:
    res = CliRunner().invoke(app, ["check", str(gelu_file), "--json"])
    assert "proven" not in json.loads(res.stdout)["results"][0]


def test_narrow_peak_missed_by_grid_is_caught() -> None:
    # target = r + 1e-3 bump of width 1e-7 at an off-grid point: the fit's dense grid misses
    # the bump; the proven bound must contain it
    fit = fit_lsq("tanh", (3, 2), (-3, 3), form="safe")
    r = fit.rational
    x0 = 0.123456789
    num = "+".join(f"({float(c)!r})*x**{k}" for k, c in enumerate(r.numerator))
    den = "1+" + "+".join(f"({abs(float(c))!r})*abs(x)**{k + 1}"
                          for k, c in enumerate(r.denominator))
    expr = f"({num})/({den}) + 1e-3*exp(-((x-{x0!r})/1e-7)**2)"
    table = external_fit(r.numerator, r.denominator, form="safe", target=as_target(expr),
                         range=(-3, 3))
    planted = check_fit(table, tol=1.0, prove=True)
    assert planted.fit.errors.max_abs < 1e-4  # the grid sample misses the bump
    p = planted.proven
    assert p["upper"] >= 1e-3 * (1 - 1e-6) and p["lower"] > 0.9e-3


def test_no_enclosure_exit_2(gelu_file, monkeypatch) -> None:
    # every expression the parser accepts has an enclosure today; plant a target whose exact
    # expression uses Bessel J0, which actfit cannot enclose
    monkeypatch.setattr(Target, "sympy", lambda self: sp.besselj(0, sp.Symbol("x")))
    res = CliRunner().invoke(app, ["check", str(gelu_file), "--prove"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "enclosure" in lines[0]
    from actfit.approx.enclosure import NoEnclosureError
    from actfit.export.readers import load_fits

    with pytest.raises(NoEnclosureError):
        prove_fit(load_fits(gelu_file)[0])


def test_prove_makes_a_minimax_certificate_global_and_proven() -> None:
    """Both bounds rigorous: de la Vallée Poussin's lower, the ball-arithmetic upper; the gap
    is the proof's width, and the proven upper is not below the attained grid maximum."""
    from actfit import fit_minimax
    from actfit.fit import prove

    fit = fit_minimax("gelu", (5, 4), (-3, 3), form="plain")
    proven = prove(fit)
    c = proven.certificate
    assert c.status == "global, proven" and c.lower == fit.certificate.lower
    assert c.upper >= fit.certificate.upper * (1 - 1e-15)
    assert c.gap == pytest.approx((c.upper - c.lower) / c.upper) and c.gap < 1e-5
    assert proven.settings["proven"]["converged"]
    lsq = prove(fit_lsq_gelu())
    p = lsq.settings["proven"]
    assert p["lower"] <= lsq.errors.max_abs * (1 + 1e-12) <= p["upper"] * (1 + 1e-12)


def fit_lsq_gelu():
    from actfit import fit_lsq

    return fit_lsq("gelu", (5, 4), (-3, 3), form="safe")


def test_prove_refuses_relative_weights_before_fitting() -> None:
    from typer.testing import CliRunner

    from actfit.cli import app

    res = CliRunner().invoke(app, ["minimax", "gelu", "--weight", "relative", "--prove"])
    assert res.exit_code == 2 and "relative" in res.stderr and len(res.stderr.splitlines()) == 1

"""Tails, moments, data-calibrated weights, --range auto, KAT files and checking a .pt."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.approx.lsq import fit_lsq
from actfit.approx.tails import growth
from actfit.approx.weights import data_weight, parse_weight
from actfit.cli import app
from actfit.export import from_document, to_document
from actfit.rational import Rational

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def gelu_safe():
    return fit_lsq("gelu", (5, 4), form="safe")


def test_growth_classes_exactly() -> None:
    c = growth(Rational([1.0, 2.0], [0.0, 4.0], "safe"))  # (1+2x)/(1+4x^2)
    assert c.degrees == (1, 2) and c.plus.kind == "constant" and c.plus.coefficient == 0.0
    k = growth(Rational([0.0, 0.0, 3.0], [0.0, 2.0], "plain"))
    assert (k.plus.kind, k.plus.coefficient, k.minus.coefficient) == ("constant", 1.5, 1.5)
    lin = growth(Rational([0.0, 1.0, 0.0, 6.0], [0.0, -2.0], "safe"))
    assert lin.plus.kind == "linear" and lin.plus.coefficient == 3.0
    assert lin.minus.coefficient == 3.0  # safe, n = 2: (-1)^2
    odd = growth(Rational([0.0, 0.0, 5.0], [2.0], "abs"))
    assert odd.plus.coefficient == 2.5 and odd.minus.coefficient == -2.5
    trailing = growth(Rational([0.0, 1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0], "safe"))
    assert trailing.degrees == (3, 1)
    assert (trailing.plus.kind, trailing.plus.degree) == ("polynomial", 2)


def test_negligible_trailing_coefficients_are_dropped_on_the_range() -> None:
    # The swish [4,4] safe minimax table on [-3, 3] as one machine stored it: b3 = 1.7e-14 is
    # rounding noise (0 with numpy's AVX-512 kernels disabled). On the range it is 2e-13 of Q;
    # it overtakes 0.097 x^2 only at |x| > 5.6e12.
    num = [5.088e-05, 0.5, 0.24974503242410914, 0.048666679430546, 0.0036966268758477825]
    noisy = Rational(num, [0.0, 0.09733335886104238, 1.7465104012905087e-14, 0.0], "safe")
    clean = Rational(num, [0.0, 0.09733335886104238, 0.0, 0.0], "safe")
    assert growth(noisy).degrees == (4, 3)  # read exactly: linear with slope 2e11
    assert growth(noisy).plus.kind == "linear"
    on_range = growth(noisy, 3.0)
    assert on_range == growth(clean, 3.0) == growth(clean)
    assert on_range.degrees == (4, 2) and on_range.plus.degree == 2
    assert on_range.plus.coefficient == pytest.approx(0.0036966268758477825 / 0.09733335886104238)
    # Not negligible: 1e-9 x^3 is 3e-8 of Q on [-3, 3]; a wider radius makes 1e-14 count too.
    kept = Rational(num, [0.0, 0.09733335886104238, 1e-9, 0.0], "safe")
    assert growth(kept, 3.0).degrees == (4, 3)
    assert growth(noisy, 300.0).degrees == (4, 3)
    # The numerator too, and the abs_offset form's b0..bn with its offset as the constant.
    tiny_lead = Rational([0.0, 1.0, 1e-15], [], "plain")
    assert growth(tiny_lead, 3.0).degrees == (1, 0) and growth(tiny_lead).degrees == (2, 0)
    offset = Rational([0.0, 1.0, 0.0, 2.0], [0.5, 1.0, 1e-16], "abs_offset")
    assert growth(offset, 3.0).degrees == (3, 1) and growth(offset).degrees == (3, 2)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=1, max_size=6),
    st.lists(st.floats(-3, 3), min_size=0, max_size=5),
    st.sampled_from(["safe", "abs"]),
)
def test_growth_matches_evaluation(num, den, form) -> None:
    num = [v if abs(v) > 0.1 else 0.5 for v in num]
    den = [v if abs(v) > 0.1 else 0.5 for v in den]
    r = Rational(num, den, form)
    t = growth(r)
    for x, g in ((1e6, t.plus), (-1e6, t.minus)):
        want = g.coefficient * x ** g.degree if g.degree >= 0 else 0.0
        got = float(r(np.array([x]))[0])
        assert got == pytest.approx(want, rel=1e-4, abs=1e-4)


def test_gelu_safe_lsq_grows_like_x2(gelu_safe) -> None:
    assert gelu_safe.rational.denominator[-1] == 0.0
    t = gelu_safe.tail
    assert t.degrees == (5, 3) and t.plus.degree == 2 and t.plus.kind == "polynomial"
    assert float(gelu_safe.rational(np.array([10.0]))[0]) == pytest.approx(11.4, abs=0.06)
    assert any("faster than linearly" in w and "linear tail" in w for w in t.warnings)
    assert t.wider == (-6.0, 6.0) and t.wider_max_abs > 10 * gelu_safe.errors.max_abs


def test_cli_names_tail_flag_and_moments() -> None:
    res = _run("lsq", "gelu", "--order", "5,4")
    assert res.exit_code == 0
    assert "--tail linear" in res.stdout and "growth at +inf" in res.stdout
    assert "E[f(X)^2]" in res.stdout


def test_document_round_trip_and_old_documents(gelu_safe) -> None:
    doc = json.loads(json.dumps(to_document(gelu_safe)))
    assert doc["moments"]["target"]["second"] == pytest.approx(0.42522148257, rel=1e-9)
    back = from_document(doc)
    assert back == gelu_safe and back.tail == gelu_safe.tail
    assert back.moments == gelu_safe.moments
    del doc["tail"], doc["moments"]
    old = from_document(doc)
    assert old.tail == gelu_safe.tail and old.moments == gelu_safe.moments


def test_sigma_option() -> None:
    res = _run("lsq", "relu", "--order", "3,2", "--sigma", "2", "--json")
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)["moments"]
    assert m["sigma"] == 2.0 and m["target"]["second"] == pytest.approx(2.0, rel=1e-9)
    bad = _run("lsq", "relu", "--sigma", "0")
    assert bad.exit_code == 2 and "--sigma" in bad.output


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    np.save(d / "x.npy", np.random.default_rng(0).normal(0.0, 1.5, size=(100, 200)))
    np.save(d / "nan.npy", np.array([1.0, np.nan]))
    np.save(d / "int.npy", np.arange(5))
    np.save(d / "empty.npy", np.zeros(0))
    (d / "bad.npy").write_text("not numpy")
    return d


def test_data_weight_is_normalised_density(samples) -> None:
    w = data_weight(samples / "x.npy", range=(-3.0, 3.0))
    xs = np.linspace(-3, 3, 20001)
    assert np.trapezoid(w(xs), xs) == pytest.approx(1.0, rel=1e-3)
    assert w.info["samples"] == 20000 and len(w.info["sha256"]) == 64
    assert parse_weight(f"data:{samples / 'x.npy'}").spec == w.spec


@pytest.mark.parametrize("cmd", ["lsq", "minimax"])
def test_cli_data_weight_and_range_auto(samples, cmd) -> None:
    x = np.load(samples / "x.npy").ravel()
    res = _run(cmd, "tanh", "--order", "3,2", "--weight", f"data:{samples / 'x.npy'}",
               "--range", "auto:0.01", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["range"] == pytest.approx(list(np.quantile(x, [0.01, 0.99])))
    wd = doc["settings"]["weight_data"]
    assert wd["samples"] == 20000 and wd["quantile"] == 0.01 and wd["file"] == "x.npy"
    assert "kde" in wd["description"]
    res = _run(cmd, "tanh", "--order", "3,2", "--weight", f"data:{samples / 'x.npy'}",
               "--range", "auto", "--json")
    assert json.loads(res.stdout)["range"] == pytest.approx(list(np.quantile(x, [1e-3, 1 - 1e-3])))


@pytest.mark.parametrize("name", ["nan", "int", "empty", "bad", "missing"])
def test_bad_sample_files_exit_2(samples, name) -> None:
    res = _run("lsq", "gelu", "--weight", f"data:{samples / name}.npy")
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and f"{name}.npy" in res.output


def test_range_auto_needs_data_weight() -> None:
    res = _run("lsq", "gelu", "--range", "auto")
    assert res.exit_code == 2 and "data:FILE" in res.output


def test_kat_writer_and_check(tmp_path) -> None:
    out = tmp_path / "t.json"
    res = _run("table", "gelu", "tanh", "--form", "safe", "--out", str(out), "--format", "kat")
    assert res.exit_code == 0, res.output
    kat = json.loads((tmp_path / "t.kat.json").read_text())
    assert set(kat) == {"gelu", "tanh"}
    assert set(kat["gelu"]) == {"init_w_numerator", "init_w_denominator", "ub", "lb"}
    res = _run("check", str(tmp_path / "t.kat.json"), "--all", "--form", "safe", "--json")
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)["results"]
    assert [r["kat"]["evident_form"] for r in results] == ["safe", "safe"]
    bad = _run("table", "gelu", "--form", "abs", "--out", str(tmp_path / "u.json"),
               "--format", "kat")
    assert bad.exit_code == 2 and "abs" in bad.output and not (tmp_path / "u.kat.json").exists()


def test_kat_check_names_form_and_cpu_fallback(tmp_path) -> None:
    # mish's abs fit has S changing sign on the range, so its abs, safe and plain readings differ.
    f = fit_lsq("mish", (5, 4), form="abs")
    assert f.rational.kinks(-3.0, 3.0)
    body = {"init_w_numerator": f.rational.numerator.tolist(),
            "init_w_denominator": f.rational.denominator.tolist(), "lb": -3, "ub": 3}
    (tmp_path / "k.json").write_text(json.dumps({"mish": body}))
    res = _run("check", str(tmp_path / "k.json"), "--form", "safe", "--json")
    kat = json.loads(res.stdout)["results"][0]["kat"]
    assert kat["evident_form"] == "abs"
    from actfit.roots import real_roots

    zeros = real_roots([1.0, *np.abs(f.rational.denominator)])
    assert kat["cpu_fallback_zeros"] == pytest.approx(list(zeros))
    assert any("not pole-free" in w for w in kat["warnings"])
    text = _run("check", str(tmp_path / "k.json"), "--form", "safe")
    assert "evidently fitted in form abs" in text.output


def test_check_state_dict(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from actfit.runtime import RationalActivation

    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2), RationalActivation.from_fit(fit_lsq("tanh", (3, 2)))
    )
    torch.save(model.state_dict(), tmp_path / "m.pt")
    res = _run("check", str(tmp_path / "m.pt"), "--all", "--json")
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)["results"]
    assert len(results) == 1 and results[0]["source_format"] == "learned"
    assert results[0]["tail"]["degrees"] == [3, 2]

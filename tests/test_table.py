"""Batch tables (`actfit table`), the multi-table file, the md/tex/rational_activations writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.batch import expand_targets, fit_table, parse_forms, parse_orders, parse_slopes
from actfit.check import check_file
from actfit.cli import app
from actfit.errors import (
    ActfitError,
    FileFormatError,
    FormError,
    OrderError,
    OutputPathError,
    ParameterError,
)
from actfit.export.readers import external_fit, read_tables
from actfit.export.table import (
    EXTRA_FORMATS,
    fits_from_document,
    load_tables,
    plan_table_outputs,
    save_tables,
    table_path,
    tables_document,
    to_latex,
    to_markdown,
    to_rational_activations,
    write_table,
)
from actfit.targets import get_target, parse_expression

runner = CliRunner()
SLOPES = (0.01, 0.2, 0.25, 0.3, -0.5)


@pytest.fixture(scope="module")
def pau_fits():
    """The PAU-style leaky-ReLU table: five slopes, [5,4], safe, lsq on [-3, 3]."""
    return fit_table(expand_targets(["leaky_relu"], slopes=SLOPES), [(5, 4)], ["safe"])


def test_fit_table_pau_leaky_relu(pau_fits) -> None:
    assert [f.target.param_dict["slope"] for f in pau_fits] == list(SLOPES)
    assert all(f.order == (5, 4) and f.form == "safe" and f.method == "lsq" for f in pau_fits)
    # [5,4] rational fits of leaky ReLU on [-3, 3] are limited by the kink at 0 to a few 1e-2
    # (rational_activations' own version-A table has 0.0298 for slope 0.01).
    assert all(0.01 < f.errors.max_abs < 0.035 for f in pau_fits)


def test_fit_table_grid_and_progress() -> None:
    calls = []
    targets = expand_targets(["tanh", "x*sigmoid(x)"])
    fits = fit_table(
        targets, [(3, 2), (2, 2)], ["safe", "abs"], progress=lambda *a: calls.append(a)
    )
    assert len(fits) == 8 and len(calls) == 9 and calls[-1][:2] == (8, 8)
    assert [(f.target.name, f.order, f.form) for f in fits[:4]] == [
        ("tanh", (3, 2), "safe"),
        ("tanh", (3, 2), "abs"),
        ("tanh", (2, 2), "safe"),
        ("tanh", (2, 2), "abs"),
    ]


def test_fit_table_errors_name_the_entry() -> None:
    # A target that is infinite inside the range: refused, and the message says which entry of
    # the table failed.
    with pytest.raises(ActfitError) as info:
        fit_table([parse_expression("log(x)")], [(1, 1)], ["plain"], range=(-1.0, 1.0))
    assert str(info.value).startswith("log(x) [1,1] plain: ")
    # Padé has no error weight: refused before any fit (by fit_table today, by fit_pade once it
    # takes the shared signature; the message names Padé either way).
    with pytest.raises(ParameterError, match=r"Padé approximant .* no error weight"):
        fit_table([get_target("tanh")], method="pade", weight="normal")
    with pytest.raises(ActfitError, match="unknown method"):
        fit_table([get_target("tanh")], method="remez")


def test_parsers() -> None:
    assert parse_orders("5,4") == [(5, 4)]
    assert parse_orders(["5/4 6/5", "[3, 2];5,4"]) == [(5, 4), (6, 5), (3, 2)]
    assert parse_orders("5,4,7,6") == [(5, 4), (7, 6)]
    for bad in ("5", "5,x", "5,4,7", "13,2"):
        with pytest.raises(OrderError):
            parse_orders(bad)
    assert parse_forms(["A", "abs,plain", "safe"]) == ["safe", "abs", "plain"]
    with pytest.raises(FormError, match="only for reading"):
        parse_forms("C")
    assert parse_slopes("0.01, 0.2,-0.5") == [0.01, 0.2, -0.5]
    assert parse_slopes(None) == []


def test_expand_targets() -> None:
    ts = expand_targets(["leaky_relu", "gelu"], slopes=[0.1, 0.2])
    assert [(t.name, t.param_dict) for t in ts] == [
        ("leaky_relu", {"slope": 0.1}),
        ("leaky_relu", {"slope": 0.2}),
        ("gelu", {}),
    ]
    assert expand_targets(["swish"], params={"beta": 2.0})[0].param_dict == {"beta": 2.0}
    with pytest.raises(ParameterError, match="slope parameter"):
        expand_targets(["gelu"], slopes=[0.1])
    with pytest.raises(ParameterError, match="belong to none"):
        expand_targets(["gelu"], params={"beta": 2.0})
    with pytest.raises(ParameterError, match="twice"):
        expand_targets(["leaky_relu"], slopes=[0.1], params={"slope": 0.2})


# ---- the multi-table file ----------------------------------------------------------------------
def test_tables_round_trip(pau_fits, tmp_path: Path) -> None:
    path = save_tables(pau_fits, tmp_path / "pau.json")
    assert load_tables(path) == pau_fits
    doc = json.loads(path.read_text())
    assert doc["schema"] == "actfit.tables" and doc["schema_version"] == 1
    assert len(doc["fits"]) == 5 and doc["fits"][0]["schema"] == "actfit.fit"


coef = st.floats(-2, 2, allow_nan=False)


@settings(max_examples=15, deadline=None)
@given(
    tables=st.lists(
        st.tuples(
            st.lists(coef, min_size=1, max_size=4),
            st.lists(coef, min_size=0, max_size=3),
            st.sampled_from(["safe", "abs", "plain"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_tables_round_trip_property(tables, tmp_path_factory) -> None:
    fits = [external_fit(n, d, form=f, target=get_target("tanh")) for n, d, f in tables]
    path = save_tables(fits, tmp_path_factory.mktemp("t") / "t.json")
    assert load_tables(path) == fits
    # ... and through the rational_activations writer and reader: same coefficients and forms.
    ra = write_table(fits, path.with_name("ra.json"), "rational_activations")
    entries = read_tables(ra)
    got = sorted((e.numerator, e.denominator, e.form) for e in entries)
    want = sorted(
        (tuple(f.rational.numerator), tuple(f.rational.denominator), f.form) for f in fits
    )
    # Equal names in one version group get #2, #3 and keep their coefficients.
    assert got == want


def test_tables_file_errors(tmp_path: Path, pau_fits) -> None:
    doc = tables_document(pau_fits[:1])
    with pytest.raises(FileFormatError, match="version"):
        fits_from_document({**doc, "schema_version": 99}, "x.json")
    with pytest.raises(FileFormatError, match=r"expected 'actfit\.tables'"):
        fits_from_document({**doc, "schema": "other"}, "x.json")
    bad = json.loads(json.dumps(doc))
    bad["fits"][0]["order"] = [9, 9]
    with pytest.raises(FileFormatError, match=r"fits\[0\]"):
        fits_from_document(bad, "x.json")
    # A single-fit result document loads as a one-element table.
    assert fits_from_document(doc["fits"][0]) == pau_fits[:1]
    with pytest.raises(OutputPathError):
        save_tables(pau_fits, tmp_path / "pau.npz")
    with pytest.raises(OutputPathError, match="does not exist"):
        save_tables(pau_fits, tmp_path / "missing" / "pau.json")


# ---- other writers ------------------------------------------------------------------------------
def test_rational_activations_writer(pau_fits, tmp_path: Path) -> None:
    doc = to_rational_activations(pau_fits)
    assert list(doc) == ["Rational_version_A5/4"]
    group = doc["Rational_version_A5/4"]
    assert list(group) == [
        "leaky_relu",
        "leaky_relu_0.2",
        "leaky_relu_0.25",
        "leaky_relu_0.3",
        "leaky_relu_-0.5",
    ]
    rec = group["leaky_relu"]
    assert set(rec) == {"init_w_numerator", "init_w_denominator", "ub", "lb"}
    assert (rec["lb"], rec["ub"]) == (-3.0, 3.0) and len(rec["init_w_denominator"]) == 4
    path = write_table(pau_fits, tmp_path / "cfg.json", "rational_activations")
    results = check_file(path, all_tables=True)
    assert [r.status for r in results] == ["pass"] * 5
    for r, f in zip(results, pau_fits, strict=True):
        assert r.fit is not None and r.fit.target == f.target
        assert r.max_abs == pytest.approx(f.errors.max_abs, rel=1e-9)


def test_markdown_and_latex(pau_fits, tmp_path: Path) -> None:
    md = to_markdown(pau_fits, digits=6)
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(lines) == 2 + 5
    assert "a5" in lines[0] and "b4" in lines[0] and "b0" not in lines[0]
    assert "leaky_relu(slope=-0.5) [5,4] safe lsq" in md
    tex = to_latex(pau_fits)
    assert tex.count("\\\\") == 1 + 5 and "\\toprule" in tex and "$b_{4}$" in tex
    assert "leaky\\_relu(slope=0.2)" in tex and "\\times 10^{-2}" in tex
    assert write_table(pau_fits, tmp_path / "t.md", "md").read_text() == to_markdown(pau_fits)
    with pytest.raises(OutputPathError):
        write_table(pau_fits, tmp_path / "t.md", "tex")
    assert table_path(tmp_path / "p.json", "rational_activations").name == (
        "p.rational_activations.json"
    )
    assert table_path(tmp_path / "p.json", "tex").name == "p.tex"


def test_markdown_with_a_version_c_table() -> None:
    c = external_fit([0.0, 1.0], [1.0, 0.0], form="C", target=get_target("identity"))
    s = external_fit([0.0, 1.0], [0.0], form="safe", target=get_target("identity"))
    header = to_markdown([c, s]).splitlines()[0]
    assert "b0" in header and "(1)" in to_markdown([c, s])


# ---- the command ---------------------------------------------------------------------------------
def test_cli_table_writes_everything(tmp_path: Path) -> None:
    out = tmp_path / "pau_init.json"
    res = runner.invoke(
        app,
        [
            "table",
            "leaky_relu",
            "--slopes",
            "0.01,0.2",
            "--orders",
            "5,4",
            "--form",
            "safe",
            "--method",
            "lsq",
            "--out",
            str(out),
            "--format",
            "rational_activations",
            "--format",
            "md",
            "--format",
            "tex",
            "--plot",
            str(tmp_path / "t.png"),
        ],
    )
    assert res.exit_code == 0, res.output
    fits = load_tables(out)
    assert [f.target.param_dict["slope"] for f in fits] == [0.01, 0.2]
    for name in ("pau_init.rational_activations.json", "pau_init.md", "pau_init.tex", "t.png"):
        assert (tmp_path / name).stat().st_size > 100, name
    res = runner.invoke(app, ["check", str(out), "--all"])
    assert res.exit_code == 0 and "2 passed" in res.stdout


def test_cli_table_json_and_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["table", "tanh", "--orders", "3,2", "--form", "safe,abs", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["schema"] == "actfit.tables" and len(doc["fits"]) == 2
    for args, message in [
        (["table", "tanh", "--format", "md"], "next to the main table file"),
        (["table", "tanh", "--out", str(tmp_path / "x.json"), "--format", "csv"], "csv"),
        (["table", "tanh", "--out", str(tmp_path / "x.npz")], "suffix"),
        (["table", "tanh", "--form", "C"], "only for reading"),
        (["table", "gelu", "--slopes", "0.1"], "slope"),
        (["table", "tanh", "--orders", "5"], "M,N"),
        (["table", "tanh", "--method", "remez"], "unknown method"),
    ]:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)
    assert list(tmp_path.iterdir()) == []  # nothing written on error


def test_plan_table_outputs_names_every_file(tmp_path: Path) -> None:
    out = tmp_path / "pau.json"
    plan = plan_table_outputs(out, ["md", "rational_activations", "tex"])
    assert plan == [
        ("actfit", out),
        ("md", tmp_path / "pau.md"),
        ("rational_activations", tmp_path / "pau.rational_activations.json"),
        ("tex", tmp_path / "pau.tex"),
    ]
    assert [table_path(out, f) for f, _ in plan] == [p for _, p in plan]
    assert plan_table_outputs(None, []) == []
    # The same format twice is one file, written once.
    assert plan_table_outputs(out, ["md", "md"]) == [("actfit", out), ("md", tmp_path / "pau.md")]
    assert list(tmp_path.iterdir()) == []  # planning writes nothing


@pytest.mark.parametrize(
    "out, formats, match",
    [
        ("pau.json", ["csv"], "unknown table format 'csv'"),
        ("pau.json", ["actfit"], "unknown table format 'actfit'"),  # the main file is implied
        (None, ["md"], "next to the main table file"),
        ("pau.npz", [], "unknown suffix"),
        ("missing/pau.json", ["md"], "does not exist"),
        ("pau.json", ["md", "tex"], "is a folder"),  # a folder pau.tex is in the way
    ],
)
def test_plan_table_outputs_refuses_before_any_work(
    tmp_path: Path, out: str | None, formats: list[str], match: str
) -> None:
    (tmp_path / "pau.tex").mkdir()
    with pytest.raises(OutputPathError, match=match):
        plan_table_outputs(None if out is None else tmp_path / out, formats)
    assert [p.name for p in tmp_path.iterdir()] == ["pau.tex"]


@settings(max_examples=40, deadline=None)
@given(formats=st.lists(st.sampled_from(EXTRA_FORMATS), max_size=6))
def test_plan_table_outputs_one_distinct_file_per_format(formats: list[str]) -> None:
    plan = plan_table_outputs("pau.json", formats)
    kinds = [f for f, _ in plan]
    assert kinds == ["actfit", *dict.fromkeys(formats)]
    paths = [p.resolve() for _, p in plan]
    assert len(set(paths)) == len(paths)


def test_cli_table_checks_every_output_before_fitting(tmp_path: Path) -> None:
    (tmp_path / "pau.md").mkdir()  # the md file cannot be written
    res = runner.invoke(
        app, ["table", "tanh", "--out", str(tmp_path / "pau.json"), "--format", "md"]
    )
    assert res.exit_code == 2 and "is a folder" in res.output
    assert [p.name for p in tmp_path.iterdir()] == ["pau.md"]  # the .json was not written


def test_fit_table_calls_every_fitter_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    # One call shape for every method: the fitters share one signature (target, order, *,
    # form, range, weight, allow_poles, ...), so batch has no per-method branches.
    import actfit.batch as batch

    calls: dict[str, tuple] = {}
    real = batch.FITTERS["lsq"]

    def recorder(method: str):
        def fitter(target, order, **kwargs):
            calls[method] = (order, kwargs)
            return real(target, order, **kwargs)

        return fitter

    for method in ("lsq", "minimax"):
        monkeypatch.setitem(batch.FITTERS, method, recorder(method))
        fit_table([get_target("tanh")], [(2, 2)], ["abs"], method=method, range=(-2.0, 2.0),
                  weight="normal", allow_poles=True)
    assert calls["lsq"] == calls["minimax"] == (
        (2, 2), {"form": "abs", "range": (-2.0, 2.0), "weight": "normal", "allow_poles": True}
    )

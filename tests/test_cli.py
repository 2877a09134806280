"""The command line: the main job end to end, and every user error as one line with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actfit.cli import app
from actfit.export import load

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_main_job_writes_json_and_npz(tmp_path: Path) -> None:
    for suffix in (".json", ".npz"):
        out = tmp_path / f"fit{suffix}"
        res = _run("lsq", "leaky_relu", "--slope", "0.01", "--range", "-3", "3", "--out", str(out))
        assert res.exit_code == 0, res.output
        assert "numerator" in res.stdout and "max abs error" in res.stdout
        fit = load(out)
        assert fit.target.param_dict == {"slope": 0.01}
        assert fit.form == "safe" and fit.order == (5, 4) and fit.range == (-3.0, 3.0)
        assert fit.errors.max_abs < 0.05


def test_json_to_stdout() -> None:
    res = _run("lsq", "tanh", "--order", "3,2", "--form", "abs", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["form"] == "abs" and doc["order"] == [3, 2]
    assert set(doc) >= {"numerator", "denominator", "errors", "poles", "target"}


def test_targets_lists_registry() -> None:
    res = _run("targets")
    assert res.exit_code == 0
    for name in ("leaky_relu", "gelu", "swish", "srelu", "tsqrt"):
        assert name in res.stdout


BAD = [
    (["lsq", "gelo"], "did you mean 'gelu'"),
    (["lsq", "swish", "-p", "slope=0.1"], "slope"),
    (["lsq", "leaky_relu", "--slope", "abc"], "slope"),
    (["lsq", "leaky_relu", "-p", "slope=abc"], "not a number"),
    (["lsq", "relu", "--order", "5,x"], "order"),
    (["lsq", "relu", "--order", "-1,2"], "negative"),
    (["lsq", "relu", "--order", "50,2"], "too large"),
    (["lsq", "relu", "--range", "3", "-3"], "reversed"),
    (["lsq", "relu", "--range", "1", "1"], "empty"),
    (["lsq", "relu", "--range", "-inf", "3"], "finite"),
    (["lsq", "relu", "--range", "nan", "3"], "finite"),
    (["lsq", "x + y"], "y"),
    (["lsq", "__import__('os')"], "__import__"),
    (["lsq", "log(x)"], "finite"),
    (["lsq", "relu", "--form", "Q"], "form"),
    (["lsq", "relu", "--weight", "normal:0,-1"], "sigma"),
]


@pytest.mark.parametrize("args, needle", BAD)
def test_user_errors_are_one_line_exit_2(args: list[str], needle: str) -> None:
    res = _run(*args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert needle.lower() in lines[0].lower()
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "out, needle", [("missing/fit.json", "does not exist"), ("fit.csv", "unknown suffix")]
)
def test_bad_output_paths_write_nothing(tmp_path: Path, out: str, needle: str) -> None:
    res = _run("lsq", "relu", "--out", str(tmp_path / out))
    assert res.exit_code == 2
    assert needle in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_console_script_help_is_fast_and_has_no_heavy_imports() -> None:
    code = (
        "import sys, actfit.cli; "
        "heavy = [m for m in ('sympy', 'scipy', 'matplotlib', 'torch', 'mpmath') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    res = subprocess.run(
        [sys.executable, "-m", "actfit.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "lsq" in res.stdout


def test_user_error_from_real_process(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "actfit.cli", "lsq", "gelo", "--out", str(tmp_path / "f.json")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_pade_prints_the_delivered_type_and_exact_coefficients() -> None:
    # tanh's [2,1] Padé table entry is degenerate (numerator and denominator share x): the
    # fitter delivers [1,0], and the command says so next to the exact coefficients.
    res = _run("pade", "tanh", "--order", "2,1", "--exact")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    i = lines.index("delivered type [1,0] (asked [2,1]):")
    assert "share the factor x" in lines[i + 1]
    j = lines.index("exact coefficients (~ marks a non-rational value, 30 digits):")
    assert lines[j + 1 :] == ["  a_0 = 0", "  a_1 = 1"]


def test_render_notes_and_reports() -> None:
    from rich.console import Console

    from actfit.approx.pade import fit_pade
    from actfit.check import check_fit
    from actfit.render import check_report, pade_notes, table_results
    from actfit.targets import get_target

    fit = fit_pade(get_target("tanh"), (3, 2), exact=True)
    assert pade_notes(fit) == []  # delivered as asked, exact not asked for
    assert [t.plain for t in pade_notes(fit, exact=True)][1:] == [
        "  a_0 = 0", "  a_1 = 1", "  a_2 = 0", "  a_3 = 1/15", "  b_1 = 0", "  b_2 = 2/5",
    ]
    console = Console(width=100, record=True, highlight=False)
    result = check_fit(fit, key="t")
    for part in check_report([result], all_tables=True):
        console.print(part)
    console.print(table_results([fit], "pade", fit.range))
    text = console.export_text()
    assert "1 passed, 0 failed, 0 skipped" in text
    assert "actfit table: 1 pade fits on [-3, 3]" in text and "[3,2]" in text

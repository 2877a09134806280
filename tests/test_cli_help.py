"""The command line as a person reads it: --help, --version, option spellings, narrow output,
progress lines when piped."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from actfit.cli import COMMAND_ORDER, app, normalize_args
from actfit.render import fit_progress, table_progress

runner = CliRunner()


def test_version() -> None:
    from actfit import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"actfit {__version__}"


@pytest.mark.parametrize("cmd", COMMAND_ORDER)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_is_readable(cmd: str, flag: str) -> None:
    res = runner.invoke(app, [cmd, flag], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert f"Example: actfit {cmd}" in text
    # Metavars a person reads: no typer type labels, no braces around arguments.
    assert not re.search(r"<(bool|str|float|path|list\[str\]|float,float)>", text), text
    assert "{" not in text.split("Usage:")[1].splitlines()[0]
    assert "-h" in text


def test_root_help_lists_commands_in_workflow_order() -> None:
    res = runner.invoke(app, ["-h"], env={"COLUMNS": "100"})
    assert res.exit_code == 0
    rows = [ln.split()[1] for ln in res.stdout.splitlines() if ln.startswith("│ ") and
            len(ln.split()) > 1 and ln.split()[1] in COMMAND_ORDER]
    assert rows == list(COMMAND_ORDER)
    assert "--version" in res.stdout


def test_range_metavar_and_both_spellings() -> None:
    res = runner.invoke(app, ["lsq", "--help"], env={"COLUMNS": "100"})
    assert re.search(r"--range\s+A B\s", res.stdout)
    docs = []
    for rng in (["--range", "-2", "2"], ["--range", "-2,2"], ["--range=-2,2"], ["--range", "-2 2"]):
        res = runner.invoke(app, ["lsq", "gelu", "--order", "2,1", *rng, "--json"])
        assert res.exit_code == 0, (rng, res.output)
        docs.append(json.loads(res.stdout))
    assert all(d["range"] == [-2.0, 2.0] for d in docs)
    assert all(d["numerator"] == docs[0]["numerator"] for d in docs)


def test_range_missing_number_gives_an_example() -> None:
    res = runner.invoke(app, ["lsq", "gelu", "--range", "-3"])
    assert res.exit_code == 2 and "--range -3 3" in res.stderr


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["lsq", "gelu", "--range", "[-4, 4]"], ["lsq", "gelu", "--range", "-4", "4"]),
        (["lsq", "gelu", "--range", "-4", "4"], ["lsq", "gelu", "--range", "-4", "4"]),
        (["lsq", "gelu", "--range", "1,2,3"], ["lsq", "gelu", "--range", "1,2,3"]),
        (["table", "gelu", "--order", "5,4", "--slope=0.2"],
         ["table", "gelu", "--orders", "5,4", "--slopes=0.2"]),
        (["pade", "gelu", "--orders", "5,4"], ["pade", "gelu", "--order", "5,4"]),
        (["check", "f.json", "--", "--orders"], ["check", "f.json", "--", "--orders"]),
    ],
)
def test_normalize_args(argv: list[str], expected: list[str]) -> None:
    assert normalize_args(argv) == expected


def test_order_and_slope_spellings_are_accepted_everywhere(tmp_path: Path) -> None:
    one = runner.invoke(app, ["lsq", "leaky_relu", "--orders", "3,2", "--slopes", "0.2", "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["order"] == [3, 2]
    many = runner.invoke(app, ["table", "leaky_relu", "--order", "3,2", "--slope", "0.2", "--json"])
    assert many.exit_code == 0, many.output
    fit = json.loads(many.stdout)["fits"][0]
    assert fit["order"] == [3, 2] and fit["numerator"] == json.loads(one.stdout)["numerator"]


def test_check_all_fits_80_columns_when_piped(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    res = runner.invoke(app, ["table", "leaky_relu", "gelu", "--slopes", "0.01,0.2",
                              "--orders", "3,2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["check", str(out), "--all"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80, res.stdout
    # One record per fit, its verdict first, the label whole (not folded mid-word).
    assert sum(ln.startswith("pass  fits[") for ln in lines) == 3
    assert "leaky_relu(slope=0.01)" in res.stdout and "3 passed" in res.stdout


def _plain_console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=100), buf


def test_fit_progress_prints_plain_lines_when_not_a_terminal() -> None:
    console, buf = _plain_console()
    with fit_progress(console, "minimax gelu [12,12] abs", first=0.05, interval=0.05) as report:
        report("exchange round 3", 0.3)
        time.sleep(0.3)
    lines = buf.getvalue().splitlines()
    assert len(lines) >= 2
    assert all(re.fullmatch(r"minimax gelu \[12,12\] abs: .+, \d+ s", ln) for ln in lines)
    assert "exchange round 3" in lines[-1]
    n = len(lines)
    time.sleep(0.15)  # the heartbeat stops with the fit
    assert len(buf.getvalue().splitlines()) == n


def test_fit_progress_is_off_with_actfit_progress_0(monkeypatch) -> None:
    monkeypatch.setenv("ACTFIT_PROGRESS", "0")
    console, buf = _plain_console()
    with fit_progress(console, "minimax gelu [12,12] abs", first=0.0, interval=0.05) as report:
        report("exchange round 3", 0.3)
        time.sleep(0.2)
    assert buf.getvalue() == ""


def test_fit_progress_is_silent_for_short_fits() -> None:
    console, buf = _plain_console()
    with fit_progress(console, "lsq gelu [5,4] safe") as report:
        report("lsq gelu", 0.0)
        report("lsq gelu", 1.0)
    assert buf.getvalue() == ""


def test_table_progress_plain_lines_count_fits() -> None:
    console, buf = _plain_console()
    with table_progress(console, "table lsq", first=0.05, interval=0.05) as report:
        report(1, 4, "gelu [5,4] safe")
        time.sleep(0.2)
    assert "table lsq: fit 2 of 4, gelu [5,4] safe" in buf.getvalue()


def test_json_stays_clean_with_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    import actfit.render as render

    real = render.fit_progress

    def eager(console, label, **kw):  # type: ignore[no-untyped-def]
        return real(console, label, first=0.0, interval=0.01)

    monkeypatch.setattr(render, "fit_progress", eager)
    res = runner.invoke(app, ["minimax", "gelu", "--order", "3,2", "--json"])
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)  # progress went to stderr only
    assert "minimax gelu [3,2] safe:" in res.stderr

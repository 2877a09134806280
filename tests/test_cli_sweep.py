"""The error contract, swept over the whole CLI: every subcommand x every file, number and path
option, with the classes of bad input a user produces.

Each case must exit with code 2 and print exactly one line on stderr (``error: ...``) that says
what is wrong; no traceback, no warning noise, and nothing left on disk (the working folder is
compared before and after, so an output written before a later failure is caught too).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from actfit.cli import app

FIT_CMDS = ("lsq", "pade", "minimax")
BAD_NUMBERS = ("nan", "inf", "-inf", "abc", "1e400")


def _files(d: Path) -> dict[str, Path]:
    good = d / "good.json"
    res = CliRunner().invoke(app, ["lsq", "gelu", "--order", "3,2", "--out", str(good)])
    assert res.exit_code == 0, res.output
    (d / "empty.json").write_text("")
    (d / "empty.npz").write_bytes(b"")
    (d / "garbage.json").write_text("{not json")
    (d / "binary.npz").write_bytes(bytes(range(256)) * 4)
    (d / "list.json").write_text(json.dumps([1, 2, 3]))
    (d / "other.json").write_text(json.dumps({"hello": "world"}))
    np.savez(d / "foreign.npz", a=np.arange(3))
    (d / "folder").mkdir()
    (d / "kat.json").write_text(json.dumps({"gelu": {
        "init_w_numerator": [0.0, 0.5, 0.3], "init_w_denominator": [0.1], "lb": -3, "ub": 3}}))
    CliRunner().invoke(app, ["table", "gelu", "swish", "--orders", "2,1", "--out",
                             str(d / "tables.json")])
    (d / "big.json").write_text(
        good.read_text().replace('"numerator": [', '"numerator": [1e308, ', 1)
    )
    return {
        "good": good,
        "missing": d / "missing.json",
        "folder": d / "folder",
        **{p.stem + ("_npz" if p.suffix == ".npz" else ""): p for p in d.iterdir() if p.is_file()},
    }


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    return tmp_path, _files(tmp_path)


def _cases() -> list[tuple[str, list[str]]]:
    cases: list[tuple[str, list[str]]] = []
    for cmd in FIT_CMDS:
        for v in BAD_NUMBERS:
            cases.append((f"{cmd} range {v}", [cmd, "gelu", "--range", v, "3"]))
        cases += [
            (f"{cmd} huge range", [cmd, "gelu", "--range", "-1e300", "1e300"]),
            (f"{cmd} order text", [cmd, "gelu", "--order", "five,4"]),
            (f"{cmd} order too big", [cmd, "gelu", "--order", "40,4"]),
            (f"{cmd} slope nan", [cmd, "leaky_relu", "--slope", "nan"]),
            (f"{cmd} param inf", [cmd, "elu", "-p", "alpha=inf"]),
            (f"{cmd} form", [cmd, "gelu", "--form", "xyz"]),
            (f"{cmd} out missing folder", [cmd, "gelu", "--out", "{d}/nope/fit.json"]),
            (f"{cmd} out under a file", [cmd, "gelu", "--out", "{good}/fit.json"]),
            (f"{cmd} out unwritable", [cmd, "gelu", "--out", "/proc/actfit.json"]),
            (f"{cmd} out suffix", [cmd, "gelu", "--out", "{d}/fit.txt"]),
            (f"{cmd} out is a folder", [cmd, "gelu", "--out", "{folder}"]),
            (f"{cmd} plot suffix", [cmd, "gelu", "--plot", "{d}/fit.gif"]),
            (f"{cmd} plot unwritable", [cmd, "gelu", "--plot", "/proc/actfit.png"]),
            (f"{cmd} out ok, plot unwritable",
             [cmd, "gelu", "--out", "{d}/ok.json", "--plot", "/proc/actfit.png"]),
        ]
    for v in ("nan", "inf", "1e308", "abc"):
        cases.append((f"pade center {v}", ["pade", "gelu", "--center", v]))
    for v in ("nan", "-1", "abc"):
        cases.append((f"minimax weight {v}", ["minimax", "gelu", "--weight", f"relative:{v}"]))
    for name in ("missing", "folder", "empty", "empty_npz", "garbage", "binary_npz", "list",
                 "other", "foreign_npz"):
        cases += [
            (f"check {name}", ["check", f"{{{name}}}"]),
            (f"plot {name}", ["plot", f"{{{name}}}", "--out", "{d}/p.png"]),
            (f"validate {name}", ["validate", f"{{{name}}}"]),
        ]
    cases += [
        ("check big coefficients", ["check", "{big}", "--range", "-1e300", "1e300"]),
        ("validate big coefficients", ["validate", "{big}"]),
        ("check tol nan", ["check", "{good}", "--tol", "nan"]),
        ("check tol negative", ["check", "{good}", "--tol", "-1"]),
        ("check range nan", ["check", "{good}", "--range", "nan", "1"]),
        ("check form", ["check", "{good}", "--form", "xyz"]),
        ("check numerator text", ["check", "--numerator", "1,abc", "--denominator", "1",
                                  "--form", "safe", "--target", "gelu"]),
        ("check numerator inf", ["check", "--numerator", "1,inf", "--denominator", "1",
                                 "--form", "safe", "--target", "gelu"]),
        ("check plot unwritable", ["check", "{good}", "--plot", "/proc/actfit.png"]),
        ("plot out suffix", ["plot", "{good}", "--out", "{d}/p.txt"]),
        ("plot out unwritable", ["plot", "{good}", "--out", "/proc/p.png"]),
        ("plot margin nan", ["plot", "{good}", "--out", "{d}/p.png", "--margin", "nan"]),
        ("plot margin negative", ["plot", "{good}", "--out", "{d}/p.png", "--margin", "-1"]),
        ("plot form", ["plot", "{good}", "--out", "{d}/p.png", "--form", "xyz"]),
        ("validate device", ["validate", "{good}", "--device", "tpu"]),
        ("validate dtype", ["validate", "{good}", "--dtype", "float8"]),
        ("table range nan", ["table", "gelu", "--range", "nan", "3"]),
        ("table orders", ["table", "gelu", "--orders", "5,x"]),
        ("table slopes", ["table", "leaky_relu", "--slopes", "0.1,abc"]),
        ("table method", ["table", "gelu", "--method", "magic"]),
        ("table format", ["table", "gelu", "--out", "{d}/t.json", "--format", "xlsx"]),
        ("table format without out", ["table", "gelu", "--format", "md"]),
        ("table out unwritable", ["table", "gelu", "--out", "/proc/t.json"]),
        ("lsq range three numbers", ["lsq", "gelu", "--range", "1,2,3"]),
        ("lsq range one number", ["lsq", "gelu", "--range", "-3"]),
        ("lsq plot under a file", ["lsq", "gelu", "--plot", "{good}/p.png"]),
        ("lsq out and plot the same", ["lsq", "gelu", "--out", "{d}/x.json", "--plot",
                                       "{d}/x.json"]),
        ("check range one number", ["check", "{good}", "--range", "-3"]),
        ("check plot under a file", ["check", "{good}", "--plot", "{good}/p.png"]),
        ("check tables without name", ["check", "{tables}"]),
        ("check tables unknown name", ["check", "{tables}", "--name", "relu"]),
        ("check kat without form", ["check", "{kat}"]),
        ("plot kat without form", ["plot", "{kat}", "--out", "{d}/p.png"]),
        ("plot margin text", ["plot", "{good}", "--out", "{d}/p.png", "--margin", "abc"]),
        ("plot out under a file", ["plot", "{good}", "--out", "{good}/p.png"]),
        ("table orders too big", ["table", "gelu", "--orders", "40,4"]),
        ("table order alias bad", ["table", "gelu", "--order", "5,x"]),
        ("table slopes nan", ["table", "leaky_relu", "--slopes", "nan"]),
        ("table pade weight", ["table", "gelu", "--method", "pade", "--weight", "normal"]),
        ("table out under a file", ["table", "gelu", "--out", "{good}/t.json"]),
        ("table plot under a file", ["table", "gelu", "--plot", "{good}/t.png"]),
        ("table out ok, plot unwritable",
         ["table", "gelu", "--out", "{d}/t.json", "--format", "md", "--plot", "/proc/t.png"]),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("argv", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_user_error_is_one_line_exit_2_nothing_written(
    work: tuple[Path, dict[str, Path]], argv: list[str]
) -> None:
    d, files = work
    names = {"d": str(d), **{k: str(v) for k, v in files.items()}}
    args = [a.format(**names) if "{" in a else a for a in argv]
    before = sorted(p.name for p in d.rglob("*"))
    res = CliRunner().invoke(app, args)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.exit_code == 2, (res.exit_code, res.output, repr(res.exception))
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output and "Warning" not in res.output
    message = lines[0][len("error: "):]
    assert len(message) > 20 and "''" not in message, message
    assert sorted(p.name for p in d.rglob("*")) == before, "something was written"


NEEDLES = [
    (["check", "{folder}"], "folder"),
    (["validate", "{folder}"], "folder"),
    (["plot", "{folder}", "--out", "{d}/p.png"], "folder"),
    (["lsq", "gelu", "--out", "{good}/x.json"], "is a file"),
    (["lsq", "gelu", "--range", "nan", "1"], "[nan, 1"),
    (["lsq", "gelu", "--range", "-3"], "--range -3 3"),
    (["plot", "{kat}", "--out", "{d}/p.png"], "form"),
    (["check", "{kat}"], "form"),
    (["check", "{tables}"], "fits[1]"),
    (["table", "gelu", "--out", "{good}/t.json"], "is a file"),
    (["check", "{good}", "--range", "1", "nan"], "nan"),
    (["check", "{empty_npz}"], "empty"),
    (["plot", "{good}", "--out", "{d}/p.png", "--form", "xyz"], "xyz"),
    (["lsq", "gelu", "--out", "/proc/actfit.json"], "/proc"),
    (["pade", "gelu", "--center", "1e308"], "center"),
]


@pytest.mark.parametrize(
    "argv, needle", NEEDLES, ids=[" ".join(a[:2]) + f" {n}" for a, n in NEEDLES]
)
def test_message_names_the_problem(
    work: tuple[Path, dict[str, Path]], argv: list[str], needle: str
) -> None:
    d, files = work
    names = {"d": str(d), **{k: str(v) for k, v in files.items()}}
    res = CliRunner().invoke(app, [a.format(**names) if "{" in a else a for a in argv])
    assert res.exit_code == 2, res.output
    assert needle.lower() in res.stderr.lower(), res.stderr

"""The README reproduces: every console block runs, in order, on a fresh folder, and prints what
the README shows.

A ```` ```console ```` block is a shell session: ``$ `` lines are commands (a trailing ``\\`` joins
the next line), the lines after one are its expected output. A line ``...`` in the expected
output stands for any number of lines. Outputs are compared after dropping the box-drawing
characters of rich's panels and collapsing runs of spaces; numbers are compared to 1e-6
relative (their last digits depend on the machine's floating point), everything else exactly.
``python`` blocks run too, in the same folder, in README order. Before the first block the
folder gets what ``make demo`` makes (``fit.json``), as a reader who followed the README has.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
BOX = re.compile(r"[\u2500-\u257f]")
RTOL = 1e-6


@dataclass
class Step:
    kind: str  # "shell" or "python"
    code: str
    expected: list[str] = field(default_factory=list)
    line: int = 0


def _steps(text: str) -> list[Step]:
    steps: list[Step] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence in ("```console", "```python"):
            start = i + 1
            j = start
            while not lines[j].startswith("```"):
                j += 1
            body = lines[start:j]
            if fence == "```python":
                steps.append(Step("python", "\n".join(body), line=start))
            else:
                k = 0
                while k < len(body):
                    if not body[k].startswith("$ "):
                        where = f"README line {start + k + 1}"
                        raise AssertionError(f"{where}: output before a command")
                    cmd = body[k][2:]
                    at = start + k + 1
                    while cmd.endswith("\\"):
                        k += 1
                        cmd = cmd[:-1] + " " + body[k].strip()
                    k += 1
                    out = []
                    while k < len(body) and not body[k].startswith("$ "):
                        out.append(body[k])
                        k += 1
                    steps.append(Step("shell", cmd, out, at))
            i = j
        i += 1
    return steps


def _tokens(text: str) -> list[str]:
    return [ln for ln in (" ".join(BOX.sub(" ", raw).split()) for raw in text) if ln]


def _same_line(got: str, want: str) -> bool:
    if NUMBER.sub("#", got) != NUMBER.sub("#", want):
        return False
    for g, w in zip(NUMBER.findall(got), NUMBER.findall(want), strict=True):
        gv, wv = float(g), float(w)
        if not math.isclose(gv, wv, rel_tol=RTOL, abs_tol=1e-12):
            return False
    return True


def _matches(got: list[str], want: list[str]) -> bool:
    """``want`` matches ``got`` line by line, ``...`` matching any run of lines."""
    if not want:
        return not got
    if want[0] == "...":
        return any(_matches(got[k:], want[1:]) for k in range(len(got) + 1))
    return bool(got) and _same_line(got[0], want[0]) and _matches(got[1:], want[1:])


STEPS = _steps(README.read_text())


def test_readme_has_runnable_blocks() -> None:
    assert sum(s.kind == "shell" for s in STEPS) >= 10
    assert any(s.kind == "python" for s in STEPS)


def _demo_commands() -> list[str]:
    make_demo = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "--no-print-directory", "-n", "demo"],
        capture_output=True, text=True, check=True,
    ).stdout
    demo = [ln.replace(".venv/bin/", f"{BIN}/") for ln in make_demo.splitlines() if "actfit " in ln]
    assert demo, f"make demo runs no actfit command: {make_demo}"
    return demo


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    env["TERM"] = "dumb"
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    env["ACTFIT_PROGRESS"] = "0"  # no timing-dependent progress lines in the compared output
    return env


def run_all(folder: Path) -> list[dict]:
    """Run ``make demo``'s commands, then every README block in order, in ``folder``; return
    what each block printed. Runs in its own process (see :func:`start_run`)."""
    for cmd in _demo_commands():
        subprocess.run(cmd, shell=True, cwd=folder, env=_env(), check=True, capture_output=True)
    results = []
    for step in STEPS:
        argv = [sys.executable, "-c", step.code] if step.kind == "python" else ["bash", "-c",
                                                                               step.code]
        res = subprocess.run(argv, cwd=folder, env=_env(), capture_output=True, text=True,
                             timeout=600)
        results.append({"line": step.line, "returncode": res.returncode, "stdout": res.stdout,
                        "stderr": res.stderr})
    return results


def start_run(folder: Path) -> subprocess.Popen:
    """Start :func:`run_all` in a background process writing ``folder/../readme.json``.

    ``tests/conftest.py`` calls this at collection, so the README (about a minute of CLI runs)
    runs on the second core beside the rest of the suite; the test then waits for it.
    """
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _results(config: pytest.Config, tmp_path: Path) -> list[dict]:
    proc = getattr(config, "actfit_readme", None)
    folder = getattr(config, "actfit_readme_folder", None)
    if proc is None or folder is None:  # not started at collection (e.g. run with -p no:conftest)
        folder = tmp_path / "readme"
        folder.mkdir()
        proc = start_run(folder)
    _, err = proc.communicate(timeout=1200)
    assert proc.returncode == 0, f"the README runner failed:\n{err}"
    return json.loads((folder.parent / "readme.json").read_text())


def test_readme_runs_as_written(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    results = _results(request.config, tmp_path)
    assert [r["line"] for r in results] == [s.line for s in STEPS]
    for step, res in zip(STEPS, results, strict=True):
        if step.kind == "python":
            assert res["returncode"] == 0, (
                f"README line {step.line}: python failed\n{res['stderr']}"
            )
            continue
        got = _tokens((res["stdout"] + res["stderr"]).splitlines())
        want = _tokens(step.expected)
        assert _matches(got, want), (
            f"README line {step.line}: `{step.code}` printed\n"
            + "\n".join(got)
            + "\n--- the README shows ---\n"
            + "\n".join(want)
        )


if __name__ == "__main__":
    _folder = Path(sys.argv[1])
    (_folder.parent / "readme.json").write_text(json.dumps(run_all(_folder)))

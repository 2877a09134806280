"""``actfit validate --exhaustive``: the runtime operator on every input of a dtype.

Independent references: the float64 rational evaluated by ``Rational.__call__`` (the sweep
uses its own faster Horner) and torch's own rounding of that value to the dtype, which bounds
the evaluation error of a correctly rounded kernel by 0.5 ulp plus the float32 arithmetic.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from actfit.approx.lsq import fit_lsq
from actfit.cli import app
from actfit.export import save
from actfit.runtime.exhaustive import _reference, exhaustive, float32_inputs


@pytest.fixture(scope="module")
def gelu_fit():
    return fit_lsq("gelu", (5, 4), (-3, 3), form="safe")


def test_bfloat16_every_input(gelu_fit) -> None:
    rep = exhaustive(gelu_fit, "bfloat16", devices=("cpu",))
    (row,) = rep.rows
    assert row.inputs == 65536 and row.passed, row.failures
    # bfloat16 values in [-3, 3]: bit patterns 0..0x4040 on each side (both zeros)
    assert row.in_range == 2 * (0x4040 + 1)
    assert row.specials == {"nan": "nan", "+inf": "+inf", "-inf": "-inf"}
    assert math.isclose(row.approx_err, gelu_fit.errors.max_abs, rel_tol=1e-3)
    # output rounding to bfloat16 dominates: about half an ulp
    assert 0.3 < row.eval_err_ulps <= 0.51 and row.eval_ulps <= 0.51
    assert row.total_err <= row.approx_err + row.eval_err + 1e-15
    # the note: [5,4] grows like x at -inf where GELU tends to 0
    assert any("-inf" in n for n in row.notes)
    # independent check at the reported worst input
    x = torch.tensor([row.eval_at], dtype=torch.bfloat16)
    y = torch.ops.actfit.rational_fwd(
        x, torch.tensor(gelu_fit.rational.numerator, dtype=torch.float32),
        torch.tensor(gelu_fit.rational.denominator, dtype=torch.float32), "safe").double()
    r = float(gelu_fit.rational(np.array([row.eval_at]))[0])
    assert math.isclose(abs(float(y[0]) - r), row.eval_err, rel_tol=1e-9)


def test_reference_matches_rational(gelu_fit) -> None:
    x = np.concatenate([np.linspace(-5, 5, 10001), [1e5, -1e6, 3e30, -7e38]])
    assert np.allclose(_reference(gelu_fit.rational, x), gelu_fit.rational(x), rtol=1e-13)


def test_float32_inputs_enumeration() -> None:
    for a, b in [(1.0, 2.0), (-1e-44, 3e-45), (-2.5, -2.49), (0.0, 1e-45), (-3.0, 3.0)]:
        total = 0
        for s, e in float32_inputs(a, b):
            lo = np.array([s, e - 1], dtype=np.uint32).view(np.float32)
            assert a <= lo[0] <= b and a <= lo[1] <= b
            total += e - s
        assert total > 0
    # exact counts: [1, 2] holds 2^23 + 1 floats; [-3, 3] both zeros once each
    assert sum(e - s for s, e in float32_inputs(1.0, 2.0)) == 2**23 + 1
    b3 = int(np.array(3.0, dtype=np.float32).view(np.uint32))
    assert sum(e - s for s, e in float32_inputs(-3.0, 3.0)) == 2 * (b3 + 1)


def test_float32_partial_sweep(gelu_fit) -> None:
    rep = exhaustive(gelu_fit, "float32", devices=("cpu",), float32_range=(1.0, 1.01))
    (row,) = rep.rows
    assert row.passed, row.failures
    assert row.inputs == sum(e - s for s, e in float32_inputs(1.0, 1.01))
    assert row.eval_err_ulps < 16  # float32 arithmetic: a few ulps


def test_no_nonfinite_at_huge_inputs() -> None:
    # x^6 overflows float16 long before 65504; a kernel without the 1/x rewrite would give
    # inf/inf = NaN there: the sweep counts such outputs, and actfit's kernel has none
    fit = fit_lsq("silu", (6, 6), (-3, 3), form="safe")
    (row,) = exhaustive(fit, "float16", devices=("cpu",)).rows
    assert row.nonfinite == 0 and row.specials["nan"] == "nan"


def test_cli_exhaustive(tmp_path, gelu_fit) -> None:
    path = tmp_path / "g.json"
    save(gelu_fit, path)
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(path), "--dtype", "bfloat16", "--exhaustive",
                              "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    (row,) = doc["exhaustive"]["rows"]
    assert row["dtype"] == "bfloat16" and row["inputs"] == 65536 and row["passed"]
    res = runner.invoke(app, ["validate", str(path), "--exhaustive-float32"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["validate", str(path), "--dtype", "float64", "--exhaustive"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1

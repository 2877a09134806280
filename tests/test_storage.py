"""Coefficients in their storage format (actfit.approx.storage, lsq/minimax --coeffs).

Independent references: numpy's float32/float16 casts and torch's bfloat16 for the rounding (bit
level), ``c * 2^F`` being an integer for fixed point, and naive round-to-nearest of the float64
fit for the error (the format-aware coefficients must not be worse).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from actfit.approx.lsq import fit_lsq
from actfit.approx.storage import (
    format_quantum,
    is_representable,
    parse_format,
    round_to_format,
    store_coefficients,
)
from actfit.cli import app
from actfit.errors import ParameterError
from actfit.rational import Rational

FINITE = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


def _bits_equal_float32(c: np.ndarray) -> bool:
    return bool(np.array_equal(c.astype(np.float32).astype(np.float64), c))


def _bits_equal_bf16(c: np.ndarray) -> bool:
    # a bfloat16 is a float32 whose low 16 bits are zero
    f32 = c.astype(np.float32)
    low = f32.view(np.uint32) & np.uint32(0xFFFF)
    t = torch.from_numpy(c.copy()).to(torch.bfloat16).double().numpy()
    return bool(np.array_equal(f32.astype(np.float64), c) and not low.any()
                and np.array_equal(t, c))


@settings(max_examples=200, deadline=None)
@given(FINITE)
def test_rounding_matches_numpy_and_torch(v: float) -> None:
    assert round_to_format([v], "float32")[0] == float(np.float32(v))
    assert round_to_format([v], "float16")[0] == float(np.float16(v))
    # torch rounds float32 -> bfloat16 to nearest-even; from a float32 input there is no
    # double rounding, so compare there
    v32 = float(np.float32(v))
    want = float(torch.tensor(v32, dtype=torch.float32).to(torch.bfloat16).item())
    assert round_to_format([v32], "bfloat16")[0] == want
    r = round_to_format([v], "fixed:12")[0]
    assert r * 4096 == round(r * 4096) and abs(r - v) <= 2.0**-13


def test_formats_and_errors() -> None:
    assert parse_format("bf16").name == "bfloat16"
    assert parse_format("fixed:62").fraction_bits == 62
    for bad in ("fixed:0", "fixed:200", "fixed:-3", "int8", "fixed:", "float128"):
        with pytest.raises(ParameterError):
            parse_format(bad)
    with pytest.raises(ParameterError, match="overflows float16"):
        round_to_format([1e5], "float16")
    with pytest.raises(ParameterError, match="2\\^63"):
        round_to_format([4.0], "fixed:62")
    assert format_quantum(1.0, "float16") == 2.0**-10
    assert format_quantum(0.0, "float16") == 2.0**-24  # the smallest subnormal


CASES = [("gelu", (5, 4), "bfloat16"), ("silu", (4, 4), "float16"), ("tanh", (3, 2), "fixed:12"),
         ("elu", (3, 2), "float32")]


@pytest.mark.parametrize(("name", "order", "fmt"), CASES)
def test_store_is_representable_and_not_worse(name: str, order: tuple[int, int],
                                              fmt: str) -> None:
    fit = fit_lsq(name, order, (-3, 3), form="safe")
    s = store_coefficients(fit, fmt, prove=False)
    num, den = s.rational.numerator, s.rational.denominator
    if fmt == "float32":
        assert _bits_equal_float32(num) and _bits_equal_float32(den)
    elif fmt == "bfloat16":
        assert _bits_equal_bf16(num) and _bits_equal_bf16(den)
    elif fmt.startswith("fixed"):
        f = parse_format(fmt).fraction_bits
        assert all(float(c * 2**f).is_integer() for c in np.concatenate([num, den]))
    assert is_representable(num, fmt) and is_representable(den, fmt)
    st_ = s.settings["storage"]
    assert st_["format"] == parse_format(fmt).name and s.method == "lsq"
    # independent re-evaluation of the naive rounding on a fine grid
    naive = Rational(round_to_format(fit.rational.numerator, fmt),
                     round_to_format(fit.rational.denominator, fmt), "safe")
    x = np.linspace(-3, 3, 200_001)
    e_naive = float(np.max(np.abs(naive(x) - fit.target(x))))
    e_stored = float(np.max(np.abs(s.rational(x) - fit.target(x))))
    assert e_stored <= e_naive * (1 + 1e-9)
    assert st_["error_stored"] <= st_["error_naive"]


def test_strictly_better_on_bfloat16_gelu() -> None:
    fit = fit_lsq("gelu", (5, 4), (-3, 3), form="safe")
    s = store_coefficients(fit, "bfloat16")
    st_ = s.settings["storage"]
    assert st_["proven"] is True
    assert st_["error_stored"] < 0.6 * st_["error_naive"]  # measured 0.32
    assert math.isclose(st_["error_float64"], fit.errors.max_abs, rel_tol=1e-5)


def test_cli_coeffs_bad_formats_exit_2() -> None:
    runner = CliRunner()
    for bad in ("fixed:0", "fixed:200", "nosuch"):
        res = runner.invoke(app, ["lsq", "gelu", "--coeffs", bad])
        assert res.exit_code == 2
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and "format" in lines[0], res.output
    res = runner.invoke(app, ["minimax", "gelu", "--coeffs", "fixed:0"])
    assert res.exit_code == 2


def test_cli_coeffs_json() -> None:
    import json

    res = CliRunner().invoke(app, ["lsq", "tanh", "--order", "3,2", "--coeffs", "float16",
                                   "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    storage = doc["settings"]["storage"]
    assert storage["format"] == "float16"
    assert storage["error_stored"] <= storage["error_naive"]
    coeffs = np.array(doc["numerator"] + doc["denominator"], dtype=np.float64)
    assert np.array_equal(coeffs.astype(np.float16).astype(np.float64), coeffs)

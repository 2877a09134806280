"""Reading recorded pre-activations, their density and their quantile range."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actfit.approx.samples import SampleFileError, density, load_samples, quantile_range
from actfit.errors import ActfitError, ParameterError


def test_reads_npy_npz_pt_of_any_shape(tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "b.npz", first=x, second=x[0] * 2, __meta__=np.array("{}"))
    np.testing.assert_array_equal(load_samples(tmp_path / "a.npy"), x.ravel().astype(np.float64))
    pooled = load_samples(tmp_path / "b.npz")
    assert pooled.shape == (60 + 20,) and pooled.dtype == np.float64
    np.testing.assert_array_equal(load_samples(tmp_path / "b.npz", key="second"), x[0].ravel() * 2)
    torch = pytest.importorskip("torch")
    torch.save(torch.from_numpy(x).bfloat16(), tmp_path / "c.pt")
    assert load_samples(tmp_path / "c.pt").size == 60
    torch.save({"l1": torch.ones(2, 2), "l2": torch.zeros(3)}, tmp_path / "d.pt")
    assert load_samples(tmp_path / "d.pt").tolist() == [1.0] * 4 + [0.0] * 3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: np.save(p / "f.npy", np.array([1.0, np.nan, np.inf])), "2 NaN/Inf"),
        (lambda p: np.save(p / "f.npy", np.zeros((0, 3))), "empty"),
        (lambda p: np.save(p / "f.npy", np.arange(5)), "dtype int64"),
        (lambda p: np.save(p / "f.npy", np.ones(3, dtype=complex)), "dtype complex128"),
        (lambda p: (p / "f.npy").write_bytes(b"garbage, not numpy"), "not a readable"),
        (lambda p: (p / "f.npz").write_bytes(b"PK garbage"), "not a readable"),
        (lambda p: (p / "f.pt").write_bytes(b"garbage"), "not a readable torch"),
        (lambda p: (p / "f.csv").write_text("1,2"), "unknown suffix"),
        (lambda p: None, "no such file"),
    ],
)
def test_bad_files_get_a_one_line_error(tmp_path, make, message):
    make(tmp_path)
    files = [f for f in tmp_path.iterdir()] or [tmp_path / "f.npy"]
    with pytest.raises(SampleFileError, match=message) as info:
        load_samples(files[0])
    assert isinstance(info.value, ActfitError) and "\n" not in str(info.value)


def test_missing_key(tmp_path):
    np.savez(tmp_path / "b.npz", a=np.ones(3))
    with pytest.raises(SampleFileError, match="no array 'z'"):
        load_samples(tmp_path / "b.npz", key="z")


def test_density_of_a_normal_sample():
    x = np.random.default_rng(1).normal(1.0, 2.0, size=50_000)
    f, info = density(x)
    grid = np.linspace(*info["span"], 20001)
    assert np.trapezoid(f(grid), grid) == pytest.approx(1.0, abs=1e-3)
    true = np.exp(-0.5 * ((grid - 1) / 2) ** 2) / (2 * np.sqrt(2 * np.pi))
    assert np.max(np.abs(f(grid) - true)) < 0.01
    assert info["bandwidth"] == pytest.approx(np.std(x, ddof=1) * x.size**-0.2)
    assert f(np.array([info["span"][1] + 1])).item() == 0.0
    with pytest.raises(ParameterError, match="all 10 samples equal"):
        density(np.full(10, 3.0))


def test_quantile_range():
    x = np.random.default_rng(2).normal(size=100_000)
    lo, hi = quantile_range(x, tail=0.001)
    assert lo == pytest.approx(-3.09, abs=0.05) and hi == pytest.approx(3.09, abs=0.05)
    assert quantile_range(x, 0) == (x.min(), x.max())
    with pytest.raises(ParameterError, match="tail"):
        quantile_range(x, 0.5)
    with pytest.raises(ParameterError, match="no range"):
        quantile_range(np.r_[np.zeros(100), 1.0], 0.1)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=200),
    st.floats(0, 0.49),
)
def test_quantile_range_holds_the_middle(values, tail):
    x = np.array(values)
    if np.quantile(x, tail) == np.quantile(x, 1 - tail):
        return
    lo, hi = quantile_range(x, tail)
    assert x.min() <= lo < hi <= x.max()
    assert np.mean((x >= lo) & (x <= hi)) >= 1 - 2 * tail - 2 / x.size

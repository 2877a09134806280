"""capture(): forward pre-hooks record bounded uniform samples of pre-activations."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from actfit.approx.samples import load_samples, read_meta  # noqa: E402
from actfit.errors import ActfitError, OutputPathError  # noqa: E402
from actfit.runtime import NoMatchingModuleError, capture  # noqa: E402


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 16),
        torch.nn.GELU(),
        torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.SiLU()),
        torch.nn.Linear(8, 2),
    )


def test_records_inputs_of_the_chosen_modules(tmp_path):
    net = _net()
    x = torch.randn(50, 4)
    out = capture(net, x, modules=(torch.nn.GELU, "2.1"), path=tmp_path / "s.npz")
    assert sorted(out) == ["1", "2.1"]
    np.testing.assert_array_equal(np.sort(out["1"]), np.sort(net[0](x).detach().numpy().ravel()))
    assert out["2.1"].size == 50 * 8
    meta = read_meta(tmp_path / "s.npz")
    assert meta["schema"] == "actfit.samples" and meta["modules"]["1"]["type"] == "GELU"
    assert meta["modules"]["1"] == {"type": "GELU", "seen": 800, "kept": 800}
    pooled = load_samples(tmp_path / "s.npz")
    assert pooled.size == 800 + 400
    np.testing.assert_array_equal(load_samples(tmp_path / "s.npz", key="1"), out["1"])
    assert not any(m._forward_pre_hooks for m in net.modules())  # hooks removed


def test_subsample_is_bounded_and_uniform():
    net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.ReLU())
    # A stream whose values are its position: a uniform sample has the stream's mean and
    # spread, a prefix or suffix bias would show.
    batches = [torch.arange(i * 1000, (i + 1) * 1000, dtype=torch.float32) for i in range(50)]
    out = capture(net, batches, modules=(torch.nn.ReLU,), max_samples=2000, seed=3)
    kept = out["1"]
    assert kept.size == 2000 and np.unique(kept).size == 2000
    assert kept.mean() == pytest.approx(25_000, rel=0.03)
    hist = np.histogram(kept, bins=10, range=(0, 50_000))[0]
    assert hist.min() > 150  # 200 expected per decile
    again = capture(net, batches, modules=(torch.nn.ReLU,), max_samples=2000, seed=3)
    np.testing.assert_array_equal(again["1"], kept)  # seeded: reproducible


def test_tuple_inputs_and_errors(tmp_path):
    class Two(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = torch.nn.Tanh()

        def forward(self, a, b):
            return self.act(a + b)

    out = capture(Two(), (torch.ones(3), torch.ones(3)))
    assert out["act"].tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(NoMatchingModuleError, match="no module") as info:
        capture(torch.nn.Linear(2, 2), torch.ones(1, 2))
    assert isinstance(info.value, ActfitError)
    with pytest.raises(OutputPathError, match=r"\.npz"):
        capture(_net(), torch.ones(1, 4), path=tmp_path / "s.json")
    with pytest.raises(OutputPathError, match="does not exist"):
        capture(_net(), torch.ones(1, 4), path=tmp_path / "no" / "s.npz")

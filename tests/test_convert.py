"""replace_activations: a model's activations become cached, fitted RationalActivations."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import actfit.runtime.convert as convert  # noqa: E402
from actfit.errors import ActfitError  # noqa: E402
from actfit.runtime import (  # noqa: E402
    CacheDirError,
    NoMatchingModuleError,
    RationalActivation,
    replace_activations,
)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.act = torch.nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.act(self.fc(x))


def _model():
    torch.manual_seed(0)
    shared = torch.nn.GELU()
    return torch.nn.Sequential(
        torch.nn.Linear(4, 4), shared, Block(), torch.nn.Linear(4, 4), shared, torch.nn.Tanh()
    )


def test_replaces_recursively_and_matches_the_originals(tmp_path):
    model = _model()
    x = torch.randn(64, 4)
    originals = dict(model.named_modules(remove_duplicate=False))
    done = replace_activations(
        model,
        {
            torch.nn.GELU: "gelu",
            torch.nn.LeakyReLU: convert.DEFAULT_ACTIVATIONS[torch.nn.LeakyReLU],
        },
        cache_dir=tmp_path,
        impl="reference",
    )
    assert [n for n, _, _ in done] == ["1", "2.act", "4"]
    assert all(old is originals[n] for n, old, _ in done)
    assert isinstance(model[1], RationalActivation) and model[1] is model[4]  # still shared
    assert isinstance(model[5], torch.nn.Tanh)  # not asked for
    act = model[2].act
    assert act.init_target.param_dict == {"slope": 0.2} and act.init_range == (-3.0, 3.0)
    assert act.numerator.requires_grad
    t = torch.linspace(-3, 3, 101)
    assert (act(t) - torch.nn.functional.leaky_relu(t, 0.2)).abs().max() < 0.05
    assert (model[1](t) - torch.nn.functional.gelu(t)).abs().max() < 0.01
    assert model(x).shape == (64, 4)
    assert len(list(tmp_path.glob("*.json"))) == 2  # one fit per distinct target


def test_fits_come_from_the_cache(tmp_path, monkeypatch):
    replace_activations(_model(), cache_dir=tmp_path, impl="reference")

    def no_fit(*args, **kwargs):
        raise AssertionError("refitted although cached")

    monkeypatch.setattr(convert, "fit_lsq", no_fit)
    done = replace_activations(_model(), cache_dir=tmp_path, learnable=False, impl="reference")
    assert len(done) == 4 and not done[0][2].numerator.requires_grad
    monkeypatch.setenv("ACTFIT_CACHE_DIR", str(tmp_path))
    assert len(replace_activations(_model(), impl="reference")) == 4


def test_corrupt_or_foreign_entries_are_refitted(tmp_path, monkeypatch):
    replace_activations(torch.nn.Sequential(torch.nn.GELU()), cache_dir=tmp_path, impl="reference")
    (entry,) = tmp_path.glob("*.json")
    good = entry.read_text()
    calls = []
    real = convert.fit_lsq

    def counting(*args, **kwargs):
        calls.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(convert, "fit_lsq", counting)
    entry.write_text(good[: len(good) // 2])  # truncated
    replace_activations(torch.nn.Sequential(torch.nn.GELU()), cache_dir=tmp_path, impl="reference")
    assert calls == ["gelu"] and entry.read_text() != good[: len(good) // 2]
    # A valid document of another fit under this key: not trusted either.
    other = convert.cached_fit("tanh", cache_dir=tmp_path / "other")
    from actfit.export import save

    save(other, entry)
    net = torch.nn.Sequential(torch.nn.GELU())
    replace_activations(net, cache_dir=tmp_path, impl="reference")
    assert calls == ["gelu", "tanh", "gelu"] and net[0].init_target.name == "gelu"


def test_groups_order_and_form(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.SiLU())
    (done,) = replace_activations(
        net,
        {torch.nn.SiLU: "swish"},
        order=(4, 3),
        form="abs",
        groups=2,
        cache_dir=tmp_path,
        impl="reference",
    )
    new = done[2]
    assert new.groups == 2 and new.form == "abs" and tuple(new.numerator.shape) == (2, 5)
    assert [f.settings["group"] for f in new.to_fits()] == [0, 1]


def test_errors(tmp_path):
    with pytest.raises(NoMatchingModuleError, match="no module to replace") as info:
        replace_activations(torch.nn.Linear(2, 2), cache_dir=tmp_path)
    assert isinstance(info.value, ActfitError) and "\n" not in str(info.value)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheDirError, match="not writable") as info:
        replace_activations(_model(), cache_dir=blocker / "fits")
    assert isinstance(info.value, ActfitError) and "\n" not in str(info.value)
    with pytest.raises(ActfitError, match="tail"):
        convert.cached_fit("gelu", tail="quadratic", cache_dir=tmp_path)
    np.testing.assert_equal(len(list(tmp_path.glob("*.json"))), 0)


def test_tail_default_and_match(tmp_path):
    """The default tail is linear where the form and order allow it, else free; match is
    accepted; a cached entry fitted with another tail is not trusted."""
    assert convert.default_tail("safe", (5, 4)) == "linear"
    assert convert.default_tail("abs", (4, 3)) == "linear"
    assert convert.default_tail("plain", (4, 3)) == "free"  # odd n: a plain Q has a real zero
    assert convert.default_tail("safe", (6, 4)) == "free"
    net = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.GELU())
    (done,) = replace_activations(
        net, order=(4, 3), form="plain", cache_dir=tmp_path, impl="reference"
    )
    assert done[2].to_fits()[0].settings.get("tail") is None  # free: no tail settings
    net = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.GELU())
    (done,) = replace_activations(net, tail="match", cache_dir=tmp_path, impl="reference")
    fit = convert.cached_fit("gelu", tail="match", cache_dir=tmp_path)
    assert fit.settings["tail"]["kind"] == "match"
    assert fit.tail.plus.coefficient == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ActfitError, match="m = n \\+ 1"):
        convert.cached_fit("gelu", (4, 4), tail="match", cache_dir=tmp_path)
    # An entry of the linear fit stored under the match key is refitted, not trusted.
    linear = convert.cached_fit("gelu", tail="linear", cache_dir=tmp_path / "other")
    key = convert._key(fit.target, (5, 4), "safe", (-3.0, 3.0), "uniform", "match")
    assert convert._trusted(fit, key) and not convert._trusted(linear, key)

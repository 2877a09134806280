"""Learned coefficients: every coefficient trains (exact zeros too) and goes back to a Fit."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from actfit.approx.lsq import fit_lsq  # noqa: E402
from actfit.errors import ParameterError  # noqa: E402
from actfit.export import load  # noqa: E402
from actfit.export.table import load_tables  # noqa: E402
from actfit.runtime import RationalActivation, load_library, rational, rational_reference  # noqa: E402


@pytest.fixture(scope="module")
def gelu_fit():
    load_library()
    return fit_lsq("gelu", order=(5, 4), range=(-3, 3), form="safe")


def _grads(fn, a, b, x, form="safe"):
    a = a.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    y = fn(x, a, b, form)
    (y * torch.linspace(-1, 2, x.numel()).view(x.shape)).sum().backward()
    return a.grad, b.grad


def test_table_has_an_exact_zero(gelu_fit):
    # The case the subgradient convention is for: if this stops holding, pick another table.
    assert np.any(gelu_fit.rational.denominator == 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_every_coefficient_gets_a_gradient(gelu_fit, dtype):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4096, generator=gen, dtype=torch.float64) * 3
    # and beyond the kernels' direct-branch threshold (2^16 for [5, 4]), where the zero top
    # coefficient is trimmed from the evaluation but must still get its gradient
    big = torch.logspace(4.9, 5.5, 32, dtype=torch.float64)
    x = torch.cat([x, big, -big]).to(dtype)
    a = torch.tensor(gelu_fit.rational.numerator, dtype=dtype)
    b = torch.tensor(gelu_fit.rational.denominator, dtype=dtype)
    # Zeros of both signs, in two places: the top coefficient and an inner one.
    b_neg = b.clone()
    b_neg[1] = -0.0
    for bb in (b, b_neg):
        ga, gb = _grads(rational, a, bb, x)
        ra, rb = _grads(rational_reference, a, bb, x)
        assert torch.all(ga != 0) and torch.all(gb != 0), (ga, gb)
        assert torch.all(ra != 0) and torch.all(rb != 0), (ra, rb)
        tol = 1e-10 if dtype == torch.float64 else 1e-4
        torch.testing.assert_close(gb, rb, rtol=tol, atol=tol)
        torch.testing.assert_close(ga, ra, rtol=tol, atol=tol)


def test_zero_coefficient_gradient_is_the_right_derivative(gelu_fit):
    """At b_k = 0 the gradient is d/db_k of r with |b_k| -> +b_k: a one-sided difference."""
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    a = torch.tensor(gelu_fit.rational.numerator)
    b = torch.tensor(gelu_fit.rational.denominator)
    k = int(np.flatnonzero(gelu_fit.rational.denominator == 0)[0])
    _, gb = _grads(rational, a, b, x)
    w = torch.linspace(-1, 2, x.numel(), dtype=torch.float64)
    h = 1e-7
    bp = b.clone()
    bp[k] = h
    fd = ((rational(x, a, bp, "safe") - rational(x, a, b, "safe")) * w).sum() / h
    assert abs(gb[k].item() - fd.item()) <= 1e-5 * max(1.0, abs(fd.item()))


def test_grouped_module_trains_zero_coefficients(gelu_fit):
    act = RationalActivation.from_fit(gelu_fit, groups=2)
    x = torch.randn(8, 16)
    act(x).pow(2).sum().backward()
    assert torch.all(act.numerator.grad != 0) and torch.all(act.denominator.grad != 0)


def test_to_fit_and_save_round_trip(gelu_fit, tmp_path):
    act = RationalActivation.from_fit(gelu_fit)
    opt = torch.optim.SGD(act.parameters(), lr=1e-2)
    act(torch.randn(256) * 2).pow(2).mean().backward()
    opt.step()
    fit = act.to_fit()
    assert fit.method == "learned" and fit.target == gelu_fit.target
    assert fit.range == gelu_fit.range and fit.form == "safe"
    assert fit.settings["init"]["method"] == "lsq"
    np.testing.assert_array_equal(fit.rational.numerator, act.numerator.detach().double().numpy())
    assert not np.array_equal(fit.rational.denominator, gelu_fit.rational.denominator)
    assert fit.errors.max_abs > 0
    for suffix in (".json", ".npz"):
        path = act.save(tmp_path / f"learned{suffix}")
        assert load(path).rational == fit.rational


def test_grouped_to_fits_and_save(gelu_fit, tmp_path):
    act = RationalActivation.from_fit(gelu_fit, groups=3)
    with torch.no_grad():
        act.numerator[1, 0] += 0.25
    fits = act.to_fits()
    assert [f.settings["group"] for f in fits] == [0, 1, 2]
    assert fits[1].rational.numerator[0] != fits[0].rational.numerator[0]
    with pytest.raises(ParameterError, match="3 groups"):
        act.to_fit()
    assert act.to_fit(group=1).rational == fits[1].rational
    back = load_tables(act.save(tmp_path / "learned.json"))
    assert [f.rational for f in back] == [f.rational for f in fits]


def test_to_fit_needs_a_target_when_unknown(tmp_path):
    act = RationalActivation([0.0, 1.0, 0.2], [0.5, 0.1], impl="reference")
    with pytest.raises(ParameterError, match="target="):
        act.to_fit()
    fit = act.to_fit(target="leaky_relu", range=(-2, 2), slope=0.1)
    assert fit.target.param_dict == {"slope": 0.1} and fit.range == (-2.0, 2.0)


def test_state_dict_keeps_the_initial_target(gelu_fit, tmp_path):
    act = RationalActivation.from_fit(gelu_fit, dtype=torch.float64)
    torch.save(act.state_dict(), tmp_path / "act.pt")
    fresh = RationalActivation([0.0] * 6, [0.0] * 4, dtype=torch.float64)
    fresh.load_state_dict(torch.load(tmp_path / "act.pt"))
    assert fresh.init_target == gelu_fit.target and fresh.init_range == gelu_fit.range
    assert fresh.to_fit().rational == gelu_fit.rational  # float64: exactly the table


def test_load_learned_from_a_state_dict_file(gelu_fit, tmp_path):
    from actfit.errors import FileFormatError
    from actfit.runtime import load_learned

    net = torch.nn.Sequential(
        torch.nn.Linear(2, 4),
        RationalActivation.from_fit(gelu_fit, dtype=torch.float64),
        torch.nn.Sequential(RationalActivation.from_fit(gelu_fit, groups=2)),
    )
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    got = load_learned(tmp_path / "ckpt.pt")
    assert [name for name, _ in got] == ["1", "2.0", "2.0"]
    assert got[0][1].rational == gelu_fit.rational and got[0][1].method == "learned"
    assert [f.settings["group"] for _, f in got[1:]] == [0, 1]
    torch.save({"w": torch.ones(2)}, tmp_path / "plain.pt")
    with pytest.raises(FileFormatError, match="no RationalActivation"):
        load_learned(tmp_path / "plain.pt")
    (tmp_path / "bad.pt").write_bytes(b"nope")
    with pytest.raises(FileFormatError, match="not a readable"):
        load_learned(tmp_path / "bad.pt")

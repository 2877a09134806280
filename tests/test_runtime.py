"""Tests of actfit.runtime: the compiled operator against the pure-torch reference and float64.

The same test bodies run on the CPU (always; the CPU operator is compiled from the header the CUDA
kernel uses) and on CUDA (marked ``cuda``; skipped where no GPU is present).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from actfit.errors import FormError, OrderError  # noqa: E402
from actfit.rational import Rational  # noqa: E402
from actfit.runtime import (  # noqa: E402
    RationalActivation,
    load_library,
    rational,
    rational_reference,
)

HAS_CUDA = torch.cuda.is_available()
DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")]
    ),
]
FORMS = ("plain", "safe", "abs")
DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# Relative tolerance per dtype: output rounding (half types) or the float32/float64 arithmetic.
RTOL = {torch.float32: 2e-5, torch.float64: 1e-12, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}

# Orders with denominators free of real poles in all three forms (so float64 is a fair oracle).
# (5,4): the fast path on both backends, also with zero top denominator coefficients (b4 = 0:
# effective degree 3, odd, as in the safe lsq table of gelu; b3 = b4 = 0: degree 2), which the
# 1/x branch must trim; (3,2): CPU fast path; the rest run the generic path.
CATALOGUE = {
    "5_4": ([0.02, 0.5, 0.3, 0.05, 0.003, 1e-4], [0.1, 0.4, 0.01, 0.02]),
    "3_2": ([0.01, 0.6, 0.2, 0.03], [0.2, 0.5]),
    "2_4": ([0.1, -0.3, 0.7], [0.1, 0.4, 0.01, 0.02]),
    "7_6": (
        [0.0, 0.5, 0.25, 0.05, 0.01, 1e-3, 1e-4, 1e-5],
        [0.1, 0.4, 0.01, 0.02, 1e-3, 2e-3],
    ),
    "5_4_trimmed": ([0.02, 0.5, 0.3, 0.05, 0.003, 1e-4], [0.3, 0.2, 0.0, 0.0]),
    "5_4_top0": ([0.02, 0.5, 0.3, 0.05, 0.003, 1e-4], [0.1, 0.4, 0.01, 0.0]),
    "1_0": ([0.5, 2.0], []),
}


@pytest.fixture(scope="module", autouse=True)
def _library():
    load_library()


def _coeffs(name, device, dtype=torch.float32):
    a, b = CATALOGUE[name]
    ct = torch.float64 if dtype == torch.float64 else torch.float32
    return (
        torch.tensor(a, dtype=ct, device=device),
        torch.tensor(b, dtype=ct, device=device),
    )


def _extremes(dtype):
    big = torch.finfo(dtype).max
    vals = [big, -big, big / 3, 1e4, -1e4, 1.0, -1.0, 1.0001, -1.0001, 0.0, 1e-30, -1e-30]
    if dtype == torch.float64:
        vals += [1e300, -1e300, 1e150]
    else:
        vals += [3e38, -3e38, 1e20] if dtype != torch.float16 else [65504.0, -65504.0]
    return torch.tensor(vals, dtype=torch.float64).clamp(-big, big).to(dtype)


def _inputs(dtype, device, n=4001, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.cat(
        [
            torch.linspace(-8, 8, n, dtype=torch.float64),
            torch.randn(1000, generator=g, dtype=torch.float64) * 3,
            _extremes(dtype).double(),
        ]
    )
    return x.to(dtype).to(device)


def _oracle(name, form, x):
    """float64 value of the same Rational at the (already rounded) inputs."""
    a, b = CATALOGUE[name]
    return torch.from_numpy(Rational(a, b, form)(x.double().cpu().numpy()))


def _check_close(y, y64, dtype, what):
    fin = torch.isfinite(y64.to(dtype).double())
    y = y.double().cpu()
    bad = ~torch.isfinite(y) & fin
    assert not bad.any(), f"{what}: non-finite output at finite inputs {y64[bad][:5]}"
    err = ((y - y64).abs() / y64.abs().clamp(min=1))[fin]
    assert err.max().item() <= RTOL[dtype], f"{what}: max rel err {err.max().item():.3g}"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", list(CATALOGUE))
def test_forward_matches_float64(device, dtype, form, name):
    x = _inputs(dtype, device)
    a, b = _coeffs(name, device, dtype)
    y = rational(x, a, b, form)
    assert y.dtype == dtype and y.shape == x.shape and y.device == x.device
    y64 = _oracle(name, form, x)
    _check_close(y, y64, dtype, f"op {name} {form}")
    _check_close(rational_reference(x, a, b, form), y64, dtype, f"reference {name} {form}")


def _grads(fn, x, a, b, form, g):
    x = x.detach().clone().requires_grad_(True)
    a = a.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    y = fn(x, a, b, form)
    y.backward(g)
    return y.detach(), x.grad, a.grad, b.grad


def _rel(u, v):
    u, v = u.double().cpu(), v.double().cpu()
    return ((u - v).norm() / v.norm().clamp(min=1e-30)).item()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["5_4", "3_2", "7_6", "5_4_trimmed", "5_4_top0", "1_0"])
def test_gradients_match_float64(device, dtype, form, name):
    gen = torch.Generator().manual_seed(1)
    x = (torch.randn(20000, generator=gen, dtype=torch.float64) * 3).to(dtype).to(device)
    g = torch.randn(20000, generator=gen, dtype=torch.float64).to(dtype).to(device)
    a, b = _coeffs(name, device, dtype)
    _, gx, ga, gb = _grads(rational, x, a, b, form, g)
    _, rx, ra, rb = _grads(rational_reference, x.double(), a.double(), b.double(), form, g.double())
    assert gx.dtype == dtype and ga.dtype == a.dtype
    tol = {torch.float64: 1e-12, torch.float32: 1e-5}.get(dtype, RTOL[dtype])
    assert _rel(gx, rx) <= tol
    # Coefficient sums are accumulated in the compute type from exactly rounded inputs.
    ctol = 1e-12 if dtype == torch.float64 else 1e-5
    assert _rel(ga, ra) <= ctol
    if b.numel():
        assert _rel(gb, rb) <= ctol


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["5_4", "5_4_top0", "5_4_trimmed", "7_6"])
def test_gradients_in_the_1_over_x_branch_match_float64(device, form, name):
    # 1e4 <= |x| <= 1e7: beyond the direct-branch threshold (2^12 for [5,4]), every value and
    # gradient still finite in float32; per element for dx, as sums for the coefficients.
    x = torch.logspace(4, 7, 64, dtype=torch.float64)
    x = torch.cat([x, -x]).float().to(device)
    g = torch.linspace(-1, 1, x.numel(), dtype=torch.float32).to(device)
    a, b = _coeffs(name, device)
    y, gx, ga, gb = _grads(rational, x, a, b, form, g)
    _, rx, ra, rb = _grads(rational_reference, x.double(), a.double(), b.double(), form, g.double())
    torch.testing.assert_close(y.double().cpu(), _oracle(name, form, x), rtol=1e-5, atol=0)
    torch.testing.assert_close(gx.double().cpu(), rx.cpu(), rtol=1e-5, atol=0)
    assert _rel(ga, ra) <= 1e-5
    assert _rel(gb, rb) <= 1e-5


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
def test_op_matches_reference_same_dtype(device, form):
    gen = torch.Generator().manual_seed(2)
    x = (torch.randn(3, 5, 7, generator=gen) * 4).to(device)
    g = torch.randn(3, 5, 7, generator=gen).to(device)
    a, b = _coeffs("5_4", device)
    y, gx, ga, gb = _grads(rational, x, a, b, form, g)
    yr, rx, ra, rb = _grads(rational_reference, x, a, b, form, g)
    torch.testing.assert_close(y, yr, rtol=2e-6, atol=1e-6)
    torch.testing.assert_close(gx, rx, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ga, ra, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(gb, rb, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["5_4", "2_4", "5_4_trimmed"])
def test_gradcheck_float64(device, form, name):
    gen = torch.Generator().manual_seed(3)
    # Away from the kinks of |x| and |D(x)| at 0 and from the branch point |x| = 1.
    x = torch.rand(16, generator=gen)
    x = torch.cat([x[:8] * 0.8 + 0.1, x[8:] * 5 + 1.2])
    x = (x * torch.where(torch.arange(16) % 2 == 0, 1.0, -1.0)).double().to(device)
    a, b = _coeffs(name, device, torch.float64)
    # b_k = 0 has no derivative in the safe form (sign(b_k) jumps): check the non-zero ones.
    b_nz = b[b != 0].numel()
    b_used, b_zero = b[:b_nz].clone(), b[b_nz:].clone()

    def fn(x, a, b_used):
        return rational(x, a, torch.cat([b_used, b_zero]), form)

    inputs = (x.requires_grad_(), a.requires_grad_(), b_used.requires_grad_())
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
def test_opcheck(device, form):
    x = torch.randn(4, 33, device=device) * 3
    a, b = _coeffs("5_4", device)
    args = (x, a.requires_grad_(), b.requires_grad_(), form)
    torch.library.opcheck(torch.ops.actfit.rational_fwd.default, args)
    g = torch.randn_like(x)
    torch.library.opcheck(
        torch.ops.actfit.rational_bwd.default, (g, x, a.detach(), b.detach(), form, True)
    )
    # Generic path too (order [2, 4]).
    a2, b2 = _coeffs("2_4", device)
    torch.library.opcheck(torch.ops.actfit.rational_fwd.default, (x, a2, b2, form))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("form", FORMS)
def test_extreme_inputs_finite(device, dtype, form):
    """No NaN ever, and no Inf where the float64 value (or derivative) fits the dtype."""
    x = _extremes(dtype).to(device)
    for name in ["5_4", "2_4", "3_2", "5_4_trimmed", "5_4_top0", "7_6"]:
        a, b = _coeffs(name, device, dtype)
        xr = x.clone().requires_grad_(True)
        y = rational(xr, a, b, form)
        y.sum().backward()
        r = Rational(*CATALOGUE[name], form)
        xs = x.double().cpu().numpy()
        for got, want in ((y, r(xs)), (xr.grad, r.deriv(xs))):
            got = got.detach().double().cpu()
            fits = torch.isfinite(torch.from_numpy(want).to(dtype).double())
            assert not got.isnan().any(), (name, got)
            assert torch.isfinite(got[fits]).all(), (name, got)


def _assert_bitwise_deterministic(g, x, a, b, form):
    """The backward op gives bitwise the same gradients again, with 1 thread and with several."""
    first = torch.ops.actfit.rational_bwd(g, x, a, b, form, True)
    threads = torch.get_num_threads()
    try:
        for n in (1, max(2, threads)):
            torch.set_num_threads(n)
            again = torch.ops.actfit.rational_bwd(g, x, a, b, form, True)
            for u, v in zip(first, again, strict=True):
                assert torch.equal(u, v)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ["5_4", "7_6"])
def test_coefficient_gradients_deterministic(device, form, name):
    gen = torch.Generator().manual_seed(4)
    x = (torch.randn(300_001, generator=gen) * 3).to(device)
    g = torch.randn(300_001, generator=gen).to(device)
    a, b = _coeffs(name, device)
    _assert_bitwise_deterministic(g, x, a, b, form)


# Per-group coefficients: three [5,4] tables with different effective denominator degrees (4, 3
# and 2), so each group's 1/x branch trims its own; and a generic-path order.
GROUP_TABLES = {"5_4": ["5_4", "5_4_top0", "5_4_trimmed"], "7_6": ["7_6", "7_6", "7_6"]}


def _group_coeffs(key, device, dtype=torch.float32):
    rows = [_coeffs(name, device, dtype) for name in GROUP_TABLES[key]]
    scale = torch.tensor([1.0, 0.9, 1.1], dtype=rows[0][0].dtype, device=device)[:, None]
    a = torch.stack([r[0] for r in rows]) * scale
    b = torch.stack([r[1] for r in rows]) * scale
    return a, b


def _away_from_kinks(shape, gen):
    """float64 points of both signs in [0.1, 0.6] or [3.2, 5.2] in magnitude: away from the kinks
    of |x| and |D(x)| at 0 and from the branch point |x| = 1 (finite differences stay smooth)."""
    mag = torch.rand(shape, generator=gen, dtype=torch.float64)
    sign = torch.where(torch.rand(shape, generator=gen) > 0.5, 1.0, -1.0).double()
    return torch.where(mag > 0.5, mag * 4 + 1.2, mag + 0.1) * sign


def _grouped_input(dtype, device, seg, seed=6):
    # [outer, 3, seg] with extreme values spread over every group and segment offset.
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(7, 3, seg, generator=gen, dtype=torch.float64) * 3
    ext = _extremes(dtype).double()
    at = torch.linspace(0, x.numel() - 1, ext.numel()).long()
    x.view(-1)[at] = ext
    return x.to(dtype).to(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("key", list(GROUP_TABLES))
@pytest.mark.parametrize("seg", [40, 13])
def test_grouped_op_matches_each_group_in_float64(device, dtype, form, key, seg):
    # seg 40: whole 16-byte vectors per segment on CUDA (the vector path); 13: the scalar path,
    # and on the CPU lane batches that straddle segments.
    x = _grouped_input(dtype, device, seg)
    a, b = _group_coeffs(key, device, dtype)
    gen = torch.Generator().manual_seed(7)
    g = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(dtype).to(device)
    y, gx, _, _ = _grads(rational, x, a, b, form, g)
    # Coefficient sums on |x| <= 1e4 (both branches; the extremes' x^k overflow float32 sums).
    xc = x.clamp(-1e4, 1e4)
    _, _, ga, gb = _grads(rational, xc, a, b, form, g)
    assert y.shape == x.shape and ga.shape == a.shape and gb.shape == b.shape
    tol = {torch.float64: 1e-12, torch.float32: 1e-5}.get(dtype, RTOL[dtype])
    ctol = 1e-12 if dtype == torch.float64 else 1e-5
    for k in range(3):
        rk = Rational(a[k].double().cpu().numpy(), b[k].double().cpu().numpy(), form)
        xk = x[:, k, :].double().cpu()
        y64 = torch.from_numpy(rk(xk.reshape(-1).numpy())).view(xk.shape)
        _check_close(y[:, k, :], y64, dtype, f"group {k}")
        args = (a[k].double(), b[k].double(), form, g[:, k, :].double())
        _, rx, _, _ = _grads(rational_reference, x[:, k, :].double(), *args)
        fin = torch.isfinite(rx.to(dtype).double())  # derivatives that fit the dtype
        assert _rel(gx[:, k, :][fin], rx[fin]) <= tol
        _, _, ra, rb = _grads(rational_reference, xc[:, k, :].double(), *args)
        assert _rel(ga[k], ra) <= ctol and _rel(gb[k], rb) <= ctol


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
def test_grouped_op_gradcheck_opcheck_and_determinism(device, form):
    gen = torch.Generator().manual_seed(8)
    x = _away_from_kinks((2, 3, 5), gen)
    a, b = _group_coeffs("5_4", device, torch.float64)
    b = b[:, :2].contiguous()  # every b_k non-zero: differentiable in the safe form
    inputs = (x.to(device).requires_grad_(), a.requires_grad_(), b.requires_grad_())
    fn = lambda x, a, b: rational(x, a, b, form)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)
    xf = (torch.randn(4, 3, 24, generator=gen) * 3).to(device)
    af, bf = _group_coeffs("5_4", device)
    torch.library.opcheck(torch.ops.actfit.rational_fwd.default, (xf, af, bf, form))
    g = torch.randn(xf.shape, generator=gen).to(device)
    torch.library.opcheck(torch.ops.actfit.rational_bwd.default, (g, xf, af, bf, form, True))
    big = (torch.randn(50, 3, 2000, generator=gen) * 3).to(device)
    gbig = torch.randn(big.shape, generator=gen).to(device)
    _assert_bitwise_deterministic(gbig, big, af, bf, form)


@pytest.mark.parametrize("device", DEVICES)
def test_grouped_op_rejects_mismatched_shapes(device):
    a, b = _group_coeffs("5_4", device)
    with pytest.raises(RuntimeError, match=r"3 coefficient groups need x shaped \[\.\.\., 3, L\]"):
        rational(torch.randn(4, 2, 5, device=device), a, b)
    with pytest.raises(RuntimeError, match="same number of groups"):
        rational(torch.randn(4, 3, 5, device=device), a, b[:2])
    with pytest.raises(RuntimeError, match="1-D coefficient tensors, or both"):
        rational(torch.randn(4, 3, 5, device=device), a, b[0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", FORMS)
def test_double_backward(device, form):
    # Second derivatives (gradient penalties, Hessian-vector products): gradgradcheck in float64
    # against finite differences, and a penalty's coefficient gradient against the reference.
    gen = torch.Generator().manual_seed(9)
    x = _away_from_kinks((12,), gen)
    a, b = _coeffs("5_4", device, torch.float64)
    inputs = (x.to(device).requires_grad_(), a.requires_grad_(), b.requires_grad_())
    fn = lambda x, a, b: rational(x, a, b, form)  # noqa: E731
    assert torch.autograd.gradgradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)
    got, want = [], []
    for f, out in ((rational, got), (rational_reference, want)):
        xs, as_, bs = (t.detach().clone().requires_grad_() for t in inputs)
        (gx,) = torch.autograd.grad(f(xs, as_, bs, form).sum(), xs, create_graph=True)
        out.extend(torch.autograd.grad((gx**2).sum(), [xs, as_, bs]))
    for u, v in zip(got, want, strict=True):
        torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_module_shapes_dtypes_and_grads(device):
    act = RationalActivation(*CATALOGUE["5_4"], form="A").to(device)
    assert act.form == "safe" and act.impl == "op"
    for dtype in DTYPES:
        x = torch.randn(2, 3, 4, 5, device=device, dtype=dtype, requires_grad=True)
        act.zero_grad()
        y = act(x)
        assert y.shape == x.shape and y.dtype == dtype
        y.float().sum().backward()
        assert x.grad.shape == x.shape
        assert act.numerator.grad.shape == (6,) and act.denominator.grad.shape == (4,)
    # Non-contiguous input.
    x = torch.randn(6, 8, device=device).t()
    torch.testing.assert_close(act(x), act(x.contiguous()))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["op", "reference"])
def test_grouped_module_matches_one_module_per_group(device, impl):
    # KAT layout: (batch, tokens, channels), 4 groups of 6 channels along the last dim.
    gen = torch.Generator().manual_seed(5)
    a0, b0 = (torch.tensor(v, dtype=torch.float64) for v in CATALOGUE["5_4"])
    scale = 1 + 0.1 * torch.arange(4, dtype=torch.float64)[:, None]
    num, den = a0 * scale, b0 * scale
    act = RationalActivation(num, den, "safe", groups=4, impl=impl).to(device)
    assert act.numerator.shape == (4, 6) and act.denominator.shape == (4, 4)
    x = torch.randn(2, 3, 24, generator=gen).to(device).requires_grad_(True)
    g = torch.randn(2, 3, 24, generator=gen).to(device)
    act(x).backward(g)
    for k in range(4):
        one = RationalActivation(num[k], den[k], "safe", impl=impl).to(device)
        xs = x.detach()[..., 6 * k : 6 * (k + 1)].clone().requires_grad_(True)
        one(xs).backward(g[..., 6 * k : 6 * (k + 1)])
        torch.testing.assert_close(x.grad[..., 6 * k : 6 * (k + 1)], xs.grad)
        torch.testing.assert_close(act.numerator.grad[k], one.numerator.grad)
        torch.testing.assert_close(act.denominator.grad[k], one.denominator.grad)
    # Channels first (NCHW), and a 1-D table copied to every group.
    act2 = RationalActivation(a0, b0, "safe", groups=2, channel_dim=1, impl=impl).to(device)
    assert torch.equal(act2.numerator[0], act2.numerator[1])
    x2 = torch.randn(2, 4, 3, 3, generator=gen).to(device)
    single = RationalActivation(a0, b0, "safe", impl=impl).to(device)
    torch.testing.assert_close(act2(x2), single(x2))
    assert "groups=2" in repr(act2)


def test_grouped_module_errors_and_state_dict():
    from actfit.errors import ParameterError

    a, b = CATALOGUE["3_2"]
    with pytest.raises(ParameterError, match="groups"):
        RationalActivation(a, b, groups=0)
    with pytest.raises(ParameterError, match="do not match groups=3"):
        RationalActivation([a, a], [b, b], groups=3)
    act = RationalActivation(a, b, "abs", groups=3)
    with pytest.raises(ParameterError, match="multiple of 3"):
        act(torch.randn(5, 4))
    buf = io.BytesIO()
    torch.save(act.state_dict(), buf)
    buf.seek(0)
    other = RationalActivation([0.0] * 4, [0.0] * 2, groups=3, channel_dim=0)
    other.load_state_dict(torch.load(buf))
    assert other.form == "abs" and other.channel_dim == -1
    x = torch.randn(2, 9)
    torch.testing.assert_close(other(x), act(x))


def test_grouped_module_torch_compile_fullgraph():
    act = RationalActivation(*CATALOGUE["5_4"], groups=2)
    compiled = torch.compile(act, fullgraph=True, backend="aot_eager")
    x = torch.randn(8, 6)
    torch.testing.assert_close(compiled(x), act(x))


def test_module_state_dict_round_trip():
    act = RationalActivation(*CATALOGUE["3_2"], form="abs")
    buf = io.BytesIO()
    torch.save(act.state_dict(), buf)
    buf.seek(0)
    other = RationalActivation([0.0, 1.0, 0.0, 0.0], [0.0, 0.0], form="safe")
    other.load_state_dict(torch.load(buf))
    assert other.form == "abs"
    torch.testing.assert_close(other.numerator, act.numerator)
    x = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(other(x), act(x))
    fixed = RationalActivation(*CATALOGUE["3_2"], learnable=False)
    assert not list(fixed.parameters()) and set(fixed.state_dict()) >= {"numerator"}


def test_module_from_fit_and_file(tmp_path):
    from actfit.export import load, save
    from actfit.fit import make_fit
    from actfit.targets import get_target

    a, b = CATALOGUE["5_4"]
    fit = make_fit(
        get_target("gelu"), Rational(a, b, "safe"), method="external", settings={}, range=(-3, 3)
    )
    path = save(fit, tmp_path / "fit.json")
    for src in (path, load(path)):
        act = RationalActivation.from_file(src, dtype=torch.float64)
        assert act.form == "safe"
        x = torch.linspace(-3, 3, 11, dtype=torch.float64)
        np.testing.assert_allclose(act(x).detach().numpy(), fit.rational(x.numpy()))


def test_module_torch_compile_fullgraph():
    act = RationalActivation(*CATALOGUE["5_4"], form="safe")
    compiled = torch.compile(act, fullgraph=True, backend="aot_eager")
    x = torch.randn(64, 17, requires_grad=True)
    y = compiled(x)
    y.sum().backward()
    gx, ga = x.grad.clone(), act.numerator.grad.clone()
    x.grad = None
    act.zero_grad()
    act(x).sum().backward()
    torch.testing.assert_close(gx, x.grad)
    torch.testing.assert_close(ga, act.numerator.grad)


def test_compiled_backward_uses_the_kernel():
    # The differentiable (reference) backward is for create_graph only: AOTAutograd's traced
    # backward of an ordinary training step must call the backward kernel.
    from functorch.compile import make_boxed_func
    from torch._functorch.aot_autograd import aot_module_simplified

    graphs = {}

    def backend(gm, example_inputs):
        def keep(kind):
            def compiler(g, _):
                graphs[kind] = str(g.graph)
                return make_boxed_func(g.forward)

            return compiler

        return aot_module_simplified(gm, example_inputs, keep("fw"), keep("bw"))

    act = RationalActivation(*CATALOGUE["5_4"])
    x = torch.randn(64, 17, requires_grad=True)
    torch.compile(act, backend=backend, fullgraph=True)(x).sum().backward()
    assert "rational_fwd" in graphs["fw"]
    assert "rational_bwd" in graphs["bw"] and "abs" not in graphs["bw"]


def test_reference_impl_and_errors():
    act = RationalActivation(*CATALOGUE["5_4"], impl="reference")
    op = RationalActivation(*CATALOGUE["5_4"])
    x = torch.randn(100) * 5
    torch.testing.assert_close(act(x), op(x))
    with pytest.raises(FormError):
        RationalActivation([1.0], [], form="q")
    with pytest.raises(FormError):
        RationalActivation([1.0], [0.5], form="C")
    with pytest.raises(OrderError):
        RationalActivation(np.ones(18), [])
    with pytest.raises(RuntimeError, match="coefficients must be"):
        torch.ops.actfit.rational_fwd(x, torch.ones(2, dtype=torch.float64), torch.ones(1), "safe")
    with pytest.raises(RuntimeError, match="unknown denominator form"):
        torch.ops.actfit.rational_fwd(x, torch.ones(2), torch.ones(1), "nope")

"""Cross-check of the registry against PyTorch's activations, in float64.

The registry's numpy and mpmath definitions are both written by hand, so a wrong definition
(a typo in a constant, a swapped parameter) passes the numpy-vs-mpmath tests of
``test_targets.py``. Here every registry target that PyTorch also has is compared with
``torch.nn.functional`` (or ``torch``) on a dense grid (20001 points on [-10, 10] plus each
kink and its neighbours), for several parameter values mapped onto torch's arguments: the
numpy evaluator everywhere and the mpmath evaluator on a subsample.

Targets torch has only with a rescaled input or output, or as a weighted sum of its
activations (pelu, tselu, tgelu, swish with beta != 1, tswish, thardswish, tleaky_relu, srelu,
p_sig_ramp, p_e2_relu) are compared with that composition of torch activations.

Registry targets with no torch counterpart (checked only against mpmath in test_targets.py):
sqrt_act, tsqrt, tsqrt_tanh, tanhexp.

torch's softplus switches to the identity where beta*x > threshold (default 20); the registry
does not (its softplus is exact there): test_softplus_threshold_convention asserts that
difference explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest

from actfit.targets import get_target, list_targets

torch = pytest.importorskip("torch")
F = torch.nn.functional

# Rounding of torch's own float64 formulas (e.g. 1 + erf(x/sqrt(2)) in its GELU cancels for
# x << 0, an absolute error of ~eps*|x|) and of the compositions below.
RTOL = 1e-12
ATOL = 1e-14

TorchFn = Callable[["torch.Tensor"], "torch.Tensor"]


def _prelu(a: float) -> TorchFn:
    return lambda t: F.prelu(t, torch.tensor([a], dtype=torch.float64))


def _srelu(tl: float, al: float, tr: float, ar: float) -> TorchFn:
    return lambda t: F.hardtanh(t, tl, tr) - al * F.relu(tl - t) + ar * F.relu(t - tr)


def _p_e2(alpha: float, beta: float) -> TorchFn:
    g = 1.0 - alpha - beta
    return lambda t: alpha * F.relu(t) + beta * F.elu(t) - g * F.elu(-t)


def _p_sig_ramp(alpha: float, beta: float) -> TorchFn:
    return lambda t: alpha * torch.sigmoid(t) + (1 - alpha) * F.hardtanh(beta * t + 0.5, 0, 1)


# (registry name, params or None for the defaults, torch function). Several parameter values
# per parametrised target, not just the defaults.
CASES: list[tuple[str, dict[str, float] | None, TorchFn]] = [
    ("identity", None, torch.nn.Identity()),
    ("abs", None, torch.abs),
    ("relu", None, F.relu),
    ("relu6", None, F.relu6),
    *[
        ("leaky_relu", {"slope": s}, lambda t, s=s: F.leaky_relu(t, s))
        for s in (0.01, 0.2, -0.3, 1.0, 2.5)
    ],
    *[("prelu", {"a": a}, _prelu(a)) for a in (0.25, -0.5, 0.0, 1.5)],
    *[
        ("rrelu", {"lower": lo, "upper": hi}, lambda t, lo=lo, hi=hi: F.rrelu(t, lo, hi))
        for lo, hi in ((1 / 8, 1 / 3), (0.1, 0.5), (0.0, 0.0), (0.3, 0.3))
    ],
    *[("elu", {"alpha": a}, lambda t, a=a: F.elu(t, a)) for a in (1.0, 0.5, 0.0, 2.5)],
    *[("celu", {"alpha": a}, lambda t, a=a: F.celu(t, a)) for a in (1.0, 2.0, 0.3)],
    ("selu", None, F.selu),
    ("gelu", None, lambda t: F.gelu(t, approximate="none")),
    ("gelu_tanh", None, lambda t: F.gelu(t, approximate="tanh")),
    ("swish", None, F.silu),
    ("hardswish", None, F.hardswish),
    ("mish", None, F.mish),
    *[
        # Above the threshold torch is linear; an infinite threshold never switches.
        ("softplus", {"beta": b}, lambda t, b=b: F.softplus(t, b, math.inf))
        for b in (1.0, 3.0, 0.5)
    ],
    ("sigmoid", None, torch.sigmoid),
    ("tanh", None, torch.tanh),
    *[
        ("hardtanh", {"min": lo, "max": hi}, lambda t, lo=lo, hi=hi: F.hardtanh(t, lo, hi))
        for lo, hi in ((-1.0, 1.0), (-2.0, 0.5), (0.5, 3.0), (-3.0, -1.0))
    ],
    ("softsign", None, F.softsign),
    # Rescaled or combined torch activations.
    *[
        ("pelu", {"a": a, "b": b}, lambda t, a=a, b=b: a * F.elu(t / b))
        for a, b in ((1.0, 1.0), (1.5, 0.7), (0.4, 2.0))
    ],
    *[
        ("tselu", {"alpha": a, "scale": s}, lambda t, a=a, s=s: s * F.elu(t, a))
        for a, s in ((1.2, 0.9), (0.0, 2.0))
    ],
    *[("tgelu", {"a": a}, lambda t, a=a: a * F.gelu(t / a)) for a in (1.0, 1.7, 0.5)],
    *[("swish", {"beta": b}, lambda t, b=b: F.silu(b * t) / b) for b in (2.5, 0.3)],
    ("swish", {"beta": 0.0}, lambda t: t / 2),
    *[
        ("tswish", {"z": z}, lambda t, z=z: F.silu(math.log(z) * t) / math.log(z))
        for z in (math.e, 3.0, 0.5)
    ],
    *[("thardswish", {"z": z}, lambda t, z=z: F.hardswish(z * t) / z) for z in (1.0, 0.5, 2.0)],
    *[
        ("tleaky_relu", {"slope": s, "scale": k}, lambda t, s=s, k=k: k * F.leaky_relu(t, s / k))
        for s, k in ((0.01, 1.0), (0.1, 1.5), (-0.2, 0.5))
    ],
    ("srelu", None, _srelu(-1.0, 0.1, 1.0, 0.1)),
    (
        "srelu",
        {"tl": -2.0, "al": 0.2, "tr": 3.0, "ar": 0.5},
        _srelu(-2.0, 0.2, 3.0, 0.5),
    ),
    ("p_e2_relu", None, _p_e2(0.5, 0.25)),
    ("p_e2_relu", {"alpha": 0.2, "beta": 0.5}, _p_e2(0.2, 0.5)),
    ("p_sig_ramp", None, _p_sig_ramp(0.5, 0.25)),
    ("p_sig_ramp", {"alpha": 0.3, "beta": 0.6}, _p_sig_ramp(0.3, 0.6)),
]
CASE_IDS = [f"{n}-{p or 'default'}" for n, p, _ in CASES]
NO_TORCH_COUNTERPART = {"sqrt_act", "tsqrt", "tsqrt_tanh", "tanhexp"}


def _grid(kinks: tuple[float, ...]) -> np.ndarray:
    pts = [np.linspace(-10.0, 10.0, 20001)]
    for k in kinks:
        pts.append([k, np.nextafter(k, -np.inf), np.nextafter(k, np.inf), k - 1e-9, k + 1e-9])
    return np.unique(np.concatenate(pts))


def _torch(fn: TorchFn, xs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return fn(torch.tensor(xs, dtype=torch.float64)).numpy()


def _assert_close(ours: np.ndarray, theirs: np.ndarray, xs: np.ndarray, what: str) -> None:
    err = np.abs(ours - theirs)
    bad = ~(err <= RTOL * np.abs(theirs) + ATOL)
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"{what}: {bad.sum()} of {xs.size} points differ from torch, e.g. at x={xs[i]!r}: "
            f"{ours[i]!r} vs torch {theirs[i]!r}"
        )


def test_every_registry_target_is_checked_or_listed():
    checked = {name for name, _, _ in CASES}
    assert checked.isdisjoint(NO_TORCH_COUNTERPART)
    assert checked | NO_TORCH_COUNTERPART == {info.name for info in list_targets()}


def test_parametrised_targets_are_checked_beyond_their_defaults():
    for info in list_targets():
        if info.params and info.name not in NO_TORCH_COUNTERPART:
            values = [p for name, p, _ in CASES if name == info.name]
            assert len(values) >= 2, info.name


@pytest.mark.parametrize(("name", "params", "fn"), CASES, ids=CASE_IDS)
def test_numpy_evaluator_matches_torch(name, params, fn):
    target = get_target(name, params)
    xs = _grid(target.kinks)
    _assert_close(target(xs), _torch(fn, xs), xs, f"{name}{params or ''} (numpy)")


@pytest.mark.parametrize(("name", "params", "fn"), CASES, ids=CASE_IDS)
def test_mpmath_evaluator_matches_torch(name, params, fn):
    target = get_target(name, params)
    xs = np.unique(np.concatenate([_grid(())[::100], _grid(target.kinks)[20001:]]))
    with mpmath.workdps(30):
        ours = np.array([float(target.mp(float(v))) for v in xs])
    _assert_close(ours, _torch(fn, xs), xs, f"{name}{params or ''} (mpmath)")


@pytest.mark.parametrize("beta", [1.0, 3.0, 0.5])
@pytest.mark.parametrize("threshold", [20.0, 5.0])
def test_softplus_threshold_convention(beta, threshold):
    """torch.nn.Softplus is x where beta*x > threshold; the registry's softplus stays exact."""
    target = get_target("softplus", {"beta": beta})
    xs = np.linspace(-10.0, 60.0, 28001)
    ours, theirs = target(xs), _torch(lambda t: F.softplus(t, beta, threshold), xs)
    below = beta * xs <= threshold
    _assert_close(ours[below], theirs[below], xs[below], f"softplus beta={beta} below")
    above = ~below
    assert above.any()
    np.testing.assert_array_equal(theirs[above], xs[above])
    # The registry keeps the exact excess log1p(exp(-beta*x))/beta over x, to a few ulps of x.
    gap, excess, ulp = (
        ours[above] - xs[above],
        np.log1p(np.exp(-beta * xs[above])) / beta,
        np.spacing(xs[above]),
    )
    assert (np.abs(gap - excess) <= 4 * ulp).all()
    visible = excess > 4 * ulp
    assert visible.any() and (ours[above][visible] > theirs[above][visible]).all()

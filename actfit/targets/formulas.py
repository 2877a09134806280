"""Building blocks of the registry entries: evaluators shared by several entries, and checks.

Families of activations share one definition per backend here (leaky ReLU, the ELU/SELU
family, GELU's tanh form, SReLU, the P-E2-ReLU combination), so that
:mod:`actfit.targets.registry` is a table of entries. The numpy forms are written for accuracy
on the whole real line (``expm1``/``expit`` forms, arguments clamped before ``exp``), the
mpmath forms directly from the definitions, so that each checks the other.

Examples:
    >>> import numpy as np
    >>> _leaky_np(0.1)(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from actfit.targets.constants import GELU_TANH_C, _lit, _num
from actfit.targets.functions import _sc

__all__: list[str] = []


def _np_elu1(x: np.ndarray) -> np.ndarray:
    """ELU with alpha=1, overflow-free."""
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _np_mish(x: np.ndarray) -> np.ndarray:
    # tanh(log(1+t)) = ((1+t)^2-1)/((1+t)^2+1) = n/(n+2) with n = t(t+2): no cancellation
    # for x << 0 and exactly 1 in float64 once x > 30.
    t = np.exp(np.minimum(x, 30.0))
    n = t * (t + 2.0)
    return x * (n / (n + 2.0))


def _mp_elu1(mp: Any, x: Any) -> Any:
    return x if x > 0 else mp.expm1(x)


def _leaky_np(s: float) -> Callable[[np.ndarray], Any]:
    return lambda x: np.where(x >= 0, x, s * x)


def _leaky_sp(s: Any, x: Any, sp: Any) -> Any:
    return sp.Piecewise((x, x >= 0), (s * x, True))


def _leaky_mp(s: float, mp: Any) -> Callable[[Any], Any]:
    return lambda x: x if x >= 0 else mp.mpf(s) * x


def _leaky_expr(s: float) -> str:
    return f"max(x, 0) + {_lit(s)}*min(x, 0)"


def _kink0_unless(cond: bool) -> tuple[float, ...]:
    return () if cond else (0.0,)


def _selu_np(alpha: float, scale: float) -> Callable[[np.ndarray], Any]:
    return lambda x: scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _selu_sp(alpha: Any, scale: Any, x: Any, sp: Any) -> Any:
    return scale * sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True))


def _selu_mp(alpha: Any, scale: Any, mp: Any) -> Callable[[Any], Any]:
    return lambda x: scale * (x if x > 0 else alpha * mp.expm1(x))


def _selu_expr(alpha: float, scale: float) -> str:
    return f"{_lit(scale)}*(max(x, 0) + {_lit(alpha)}*expm1(min(x, 0)))"


def _gelu_tanh_np(x: np.ndarray) -> np.ndarray:
    # 1 + tanh(u) = 2*sigmoid(2u): no cancellation for x << 0.
    u = math.sqrt(2.0 / math.pi) * (x + float(GELU_TANH_C) * x * x * x)
    return x * _sc().expit(2.0 * u)


def _gelu_tanh_mp(mp: Any) -> Callable[[Any], Any]:
    c = mp.mpf(GELU_TANH_C)

    def f(x: Any) -> Any:
        u = mp.sqrt(2 / mp.pi) * (x + c * x**3)
        return x / (1 + mp.exp(-2 * u))

    return f


def _srelu_np(p: dict[str, float]) -> Callable[[np.ndarray], Any]:
    tl, al, tr, ar = p["tl"], p["al"], p["tr"], p["ar"]
    return lambda x: np.where(x >= tr, tr + ar * (x - tr), np.where(x <= tl, tl + al * (x - tl), x))


def _srelu_mp(p: dict[str, float], mp: Any) -> Callable[[Any], Any]:
    tl, al, tr, ar = (mp.mpf(p[k]) for k in ("tl", "al", "tr", "ar"))

    def f(x: Any) -> Any:
        if x >= tr:
            return tr + ar * (x - tr)
        if x <= tl:
            return tl + al * (x - tl)
        return x

    return f


def _p_e2_np(p: dict[str, float]) -> Callable[[np.ndarray], Any]:
    a, b = p["alpha"], p["beta"]
    g = 1.0 - a - b
    return lambda x: a * np.maximum(x, 0.0) + b * _np_elu1(x) - g * _np_elu1(-x)


def _p_e2_mp(p: dict[str, float], mp: Any) -> Callable[[Any], Any]:
    a, b = mp.mpf(p["alpha"]), mp.mpf(p["beta"])
    g = 1 - a - b
    return lambda x: a * max(x, 0) + b * _mp_elu1(mp, x) - g * _mp_elu1(mp, -x)


def _p_e2_sp(p: dict[str, Any], x: Any, sp: Any) -> Any:
    a, b = p["alpha"], p["beta"]
    g = 1 - a - b
    elu = sp.Piecewise((x, x > 0), (sp.exp(x) - 1, True))
    elu_neg = sp.Piecewise((-x, x < 0), (sp.exp(-x) - 1, True))
    return a * sp.Max(x, 0) + b * elu - g * elu_neg


def _p_e2_expr(p: dict[str, float]) -> str:
    a, b = p["alpha"], p["beta"]
    g = 1.0 - a - b
    return (
        f"{_lit(a)}*max(x, 0) + {_lit(b)}*(max(x, 0) + expm1(min(x, 0)))"
        f" + {_lit(g)}*(min(x, 0) - expm1(-max(x, 0)))"
    )


def _check_order(lo: str, hi: str, strict: bool = True) -> Callable[[dict[str, float]], str | None]:
    def check(p: dict[str, float]) -> str | None:
        bad = p[lo] >= p[hi] if strict else p[lo] > p[hi]
        if bad:
            rel = "<" if strict else "<="
            return f"needs {lo} {rel} {hi}, got {lo}={_num(p[lo])}, {hi}={_num(p[hi])}"
        return None

    return check


def _check_p_e2(p: dict[str, float]) -> str | None:
    if p["alpha"] + p["beta"] > 1.0:
        return (
            f"needs alpha + beta <= 1 (the third weight is 1 - alpha - beta), got "
            f"alpha={_num(p['alpha'])}, beta={_num(p['beta'])}"
        )
    return None


"""The registry of target activations: one entry per activation, with its three evaluators.

Each entry gives a name (and aliases), the formula in words, its parameters with defaults and
allowed ranges, the paper it comes from, and four functions of the parameter values: a float64
numpy evaluator, an exact sympy expression, an mpmath evaluator coded independently of the
numpy one, and the expression text (which :func:`~actfit.targets.parse_expression` accepts and
turns into the same function); plus the kinks. Shared building blocks live in
:mod:`actfit.targets.formulas`; turning an entry and parameter values into a
:class:`~actfit.targets.Target` is :mod:`actfit.targets.resolver`'s job.

Length: this module is a data table, ~35 entries of ~15 lines each (name, formula, source,
parameters, three evaluators, expression, kinks, notes); splitting it would scatter the
catalogue without separating concerns.

Examples:
    >>> [info.name for info in list_targets()][:3]
    ['identity', 'abs', 'relu']
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from actfit.errors import UnknownTargetError
from actfit.targets.constants import GELU_TANH_C, SELU_ALPHA, SELU_SCALE, _lit
from actfit.targets.formulas import (
    _check_order,
    _check_p_e2,
    _gelu_tanh_mp,
    _gelu_tanh_np,
    _kink0_unless,
    _leaky_expr,
    _leaky_mp,
    _leaky_np,
    _leaky_sp,
    _np_mish,
    _p_e2_expr,
    _p_e2_mp,
    _p_e2_np,
    _p_e2_sp,
    _selu_expr,
    _selu_mp,
    _selu_np,
    _selu_sp,
    _srelu_mp,
    _srelu_np,
)
from actfit.targets.functions import _np_softplus, _sc
from actfit.targets.types import Param, TargetInfo

__all__ = ["list_targets"]


@dataclass(frozen=True)
class _Entry:
    info: TargetInfo
    numpy: Callable[[dict[str, float]], Callable[[np.ndarray], Any]]
    sympy: Callable[[dict[str, Any], Any, Any], Any]  # (exact params, x, sympy module)
    mp: Callable[[dict[str, float], Any], Callable[[Any], Any]]  # (params, mp ctx) -> f
    expression: Callable[[dict[str, float]], str]
    kinks: Callable[[dict[str, float]], tuple[float, ...]]
    check: Callable[[dict[str, float]], str | None] | None = None


def _P(name: str, default: float, doc: str, **bounds: Any) -> Param:
    return Param(name, default, doc, **bounds)


_POS = {"lower": 0.0, "lower_open": True}
_NONNEG = {"lower": 0.0}
_UNIT = {"lower": 0.0, "upper": 1.0}


_JIE = (
    "R. Jie, J. Gao, A. Vasnev, M.-N. Tran (2020), 'Regularized flexible activation function "
    "combinations for deep neural networks', ICPR 2020, arXiv:2007.13101 (earlier: 'Combined "
    "flexible activation functions for deep neural networks', ICLR 2020 submission)"
)
_TRAINABLE_NOTE = (
    "No primary paper with this exact definition was located; actfit uses this one-parameter "
    "trainable form, which reduces to the classic activation at the default."
)


def _entries() -> list[_Entry]:
    sc = _sc
    e: list[_Entry] = []

    def add(
        name: str,
        formula: str,
        source: str,
        params: tuple[Param, ...],
        numpy: Callable[[dict[str, float]], Callable[[np.ndarray], Any]],
        sympy_: Callable[[dict[str, Any], Any, Any], Any],
        mp: Callable[[dict[str, float], Any], Callable[[Any], Any]],
        expression: Callable[[dict[str, float]], str],
        kinks: Callable[[dict[str, float]], tuple[float, ...]] = lambda p: (),
        aliases: tuple[str, ...] = (),
        check: Callable[[dict[str, float]], str | None] | None = None,
        notes: str = "",
    ) -> None:
        info = TargetInfo(name, aliases, formula, params, source, notes)
        e.append(_Entry(info, numpy, sympy_, mp, expression, kinks, check))

    add(
        "identity",
        "x",
        "the identity map (linear activation)",
        (),
        lambda p: lambda x: x * 1.0,
        lambda p, x, sp: x,
        lambda p, mp: lambda x: x,
        lambda p: "x",
        aliases=("linear",),
    )
    add(
        "abs",
        "|x|",
        "absolute value rectification, Jarrett et al. (2009), ICCV",
        (),
        lambda p: np.abs,
        lambda p, x, sp: sp.Abs(x),
        lambda p, mp: mp.fabs,
        lambda p: "abs(x)",
        lambda p: (0.0,),
    )
    add(
        "relu",
        "max(x, 0)",
        "V. Nair, G. Hinton (2010), 'Rectified linear units improve restricted Boltzmann "
        "machines', ICML",
        (),
        lambda p: lambda x: np.maximum(x, 0.0),
        lambda p, x, sp: sp.Max(x, 0),
        lambda p, mp: lambda x: max(x, mp.zero),
        lambda p: "max(x, 0)",
        lambda p: (0.0,),
    )
    add(
        "relu6",
        "min(max(x, 0), 6)",
        "A. Krizhevsky (2010), 'Convolutional deep belief networks on CIFAR-10'; A. Howard et "
        "al. (2017), 'MobileNets', arXiv:1704.04861",
        (),
        lambda p: lambda x: np.clip(x, 0.0, 6.0),
        lambda p, x, sp: sp.Min(sp.Max(x, 0), 6),
        lambda p, mp: lambda x: min(max(x, mp.zero), mp.mpf(6)),
        lambda p: "min(max(x, 0), 6)",
        lambda p: (0.0, 6.0),
    )
    add(
        "leaky_relu",
        "x for x >= 0, slope·x otherwise",
        "A. Maas, A. Hannun, A. Ng (2013), 'Rectifier nonlinearities improve neural network "
        "acoustic models', ICML WDLASL",
        (_P("slope", 0.01, "slope for x < 0"),),
        lambda p: _leaky_np(p["slope"]),
        lambda p, x, sp: _leaky_sp(p["slope"], x, sp),
        lambda p, mp: _leaky_mp(p["slope"], mp),
        lambda p: _leaky_expr(p["slope"]),
        lambda p: _kink0_unless(p["slope"] == 1.0),
        aliases=("leakyrelu", "lrelu"),
    )
    add(
        "prelu",
        "x for x >= 0, a·x otherwise",
        "K. He, X. Zhang, S. Ren, J. Sun (2015), 'Delving deep into rectifiers', ICCV, "
        "arXiv:1502.01852 (initial a = 0.25)",
        (_P("a", 0.25, "learned slope for x < 0"),),
        lambda p: _leaky_np(p["a"]),
        lambda p, x, sp: _leaky_sp(p["a"], x, sp),
        lambda p, mp: _leaky_mp(p["a"], mp),
        lambda p: _leaky_expr(p["a"]),
        lambda p: _kink0_unless(p["a"] == 1.0),
    )
    add(
        "rrelu",
        "x for x >= 0, (lower+upper)/2·x otherwise (evaluation mode)",
        "B. Xu, N. Wang, T. Chen, M. Li (2015), 'Empirical evaluation of rectified activations "
        "in convolutional network', arXiv:1505.00853; slope bounds and eval-mode mean slope as "
        "in torch.nn.RReLU",
        (
            _P("lower", 0.125, "lower bound of the random slope", **_NONNEG),
            _P("upper", 1.0 / 3.0, "upper bound of the random slope", **_NONNEG),
        ),
        lambda p: _leaky_np((p["lower"] + p["upper"]) / 2),
        lambda p, x, sp: _leaky_sp((p["lower"] + p["upper"]) / 2, x, sp),
        lambda p, mp: (lambda s: lambda x: x if x >= 0 else s * x)(
            (mp.mpf(p["lower"]) + mp.mpf(p["upper"])) / 2
        ),
        lambda p: _leaky_expr((p["lower"] + p["upper"]) / 2),
        lambda p: _kink0_unless((p["lower"] + p["upper"]) / 2 == 1.0),
        check=_check_order("lower", "upper", strict=False),
    )
    add(
        "elu",
        "x for x > 0, alpha·(exp(x) - 1) otherwise",
        "D.-A. Clevert, T. Unterthiner, S. Hochreiter (2016), 'Fast and accurate deep network "
        "learning by exponential linear units (ELUs)', ICLR, arXiv:1511.07289",
        (_P("alpha", 1.0, "saturation value for x -> -inf", **_NONNEG),),
        lambda p: _selu_np(p["alpha"], 1.0),
        lambda p, x, sp: _selu_sp(p["alpha"], 1, x, sp),
        lambda p, mp: _selu_mp(mp.mpf(p["alpha"]), 1, mp),
        lambda p: f"max(x, 0) + {_lit(p['alpha'])}*expm1(min(x, 0))",
        # C1 for alpha = 1, but never analytic at 0.
        lambda p: (0.0,),
    )
    add(
        "pelu",
        "(a/b)·x for x >= 0, a·(exp(x/b) - 1) otherwise",
        "L. Trottier, P. Giguère, B. Chaib-draa (2017), 'Parametric exponential linear unit for "
        "deep convolutional neural networks', ICMLA, arXiv:1605.09332",
        (
            _P("a", 1.0, "scale (saturation for x -> -inf)", **_POS),
            _P("b", 1.0, "exponential decay", **_POS),
        ),
        lambda p: (
            lambda a, b: (
                lambda x: np.where(x >= 0, (a / b) * x, a * np.expm1(np.minimum(x, 0.0) / b))
            )
        )(p["a"], p["b"]),
        lambda p, x, sp: sp.Piecewise(
            (p["a"] / p["b"] * x, x >= 0), (p["a"] * (sp.exp(x / p["b"]) - 1), True)
        ),
        lambda p, mp: (lambda a, b: lambda x: a / b * x if x >= 0 else a * mp.expm1(x / b))(
            mp.mpf(p["a"]), mp.mpf(p["b"])
        ),
        lambda p: (
            f"{_lit(p['a'])}/{_lit(p['b'])}*max(x, 0)"
            f" + {_lit(p['a'])}*expm1(min(x, 0)/{_lit(p['b'])})"
        ),
        lambda p: (0.0,),
    )
    add(
        "celu",
        "max(x, 0) + min(0, alpha·(exp(x/alpha) - 1))",
        "J. T. Barron (2017), 'Continuously differentiable exponential linear units', "
        "arXiv:1704.07483",
        (_P("alpha", 1.0, "saturation value and scale", **_POS),),
        lambda p: (lambda a: lambda x: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0) / a)))(
            p["alpha"]
        ),
        lambda p, x, sp: sp.Piecewise(
            (x, x > 0), (p["alpha"] * (sp.exp(x / p["alpha"]) - 1), True)
        ),
        lambda p, mp: (lambda a: lambda x: x if x > 0 else a * mp.expm1(x / a))(mp.mpf(p["alpha"])),
        lambda p: f"max(x, 0) + {_lit(p['alpha'])}*expm1(min(x, 0)/{_lit(p['alpha'])})",
        lambda p: (0.0,),
    )
    add(
        "selu",
        "scale·(x for x > 0, alpha·(exp(x) - 1) otherwise)",
        "G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter (2017), 'Self-normalizing neural "
        f"networks', NeurIPS, arXiv:1706.02515 (alpha = {SELU_ALPHA}, scale = {SELU_SCALE})",
        (),
        lambda p: _selu_np(float(SELU_ALPHA), float(SELU_SCALE)),
        lambda p, x, sp: _selu_sp(sp.Rational(SELU_ALPHA), sp.Rational(SELU_SCALE), x, sp),
        lambda p, mp: _selu_mp(mp.mpf(SELU_ALPHA), mp.mpf(SELU_SCALE), mp),
        lambda p: _selu_expr(float(SELU_ALPHA), float(SELU_SCALE)),
        lambda p: (0.0,),
    )
    add(
        "tselu",
        "scale·(x for x > 0, alpha·(exp(x) - 1) otherwise), alpha and scale trainable",
        "SELU (Klambauer et al. 2017, arXiv:1706.02515) with trainable alpha and scale",
        (
            _P("alpha", float(SELU_ALPHA), "negative-side saturation", **_NONNEG),
            _P("scale", float(SELU_SCALE), "overall scale", **_POS),
        ),
        lambda p: _selu_np(p["alpha"], p["scale"]),
        lambda p, x, sp: _selu_sp(p["alpha"], p["scale"], x, sp),
        lambda p, mp: _selu_mp(mp.mpf(p["alpha"]), mp.mpf(p["scale"]), mp),
        lambda p: _selu_expr(p["alpha"], p["scale"]),
        lambda p: (0.0,),
        notes=_TRAINABLE_NOTE + " Defaults are the SELU constants, so tselu() == selu.",
    )
    add(
        "gelu",
        "x·Φ(x) = x/2·(1 + erf(x/√2))",
        "D. Hendrycks, K. Gimpel (2016), 'Gaussian error linear units (GELUs)', arXiv:1606.08415",
        (),
        lambda p: lambda x: 0.5 * x * sc().erfc(-x / math.sqrt(2.0)),
        lambda p, x, sp: x / 2 * (1 + sp.erf(x / sp.sqrt(2))),
        lambda p, mp: lambda x: x / 2 * mp.erfc(-x / mp.sqrt(2)),
        lambda p: "x/2*erfc(-x/sqrt(2))",
    )
    add(
        "gelu_tanh",
        "x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))",
        "D. Hendrycks, K. Gimpel (2016), 'Gaussian error linear units (GELUs)', "
        "arXiv:1606.08415, tanh approximation (torch.nn.GELU(approximate='tanh'))",
        (),
        lambda p: _gelu_tanh_np,
        lambda p, x, sp: (
            x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(GELU_TANH_C) * x**3)))
        ),
        lambda p, mp: _gelu_tanh_mp(mp),
        lambda p: "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))",
        aliases=("gelu_approx",),
    )
    add(
        "tgelu",
        "x·Φ(x/a)",
        "parametric GELU x·Φ(x/a) (GELU of Hendrycks & Gimpel 2016 with a trainable scale), "
        "as catalogued in V. Kunc, J. Kléma (2024), 'Three decades of activations', "
        "arXiv:2402.09092",
        (_P("a", 1.0, "scale of the Gaussian CDF", **_POS),),
        lambda p: (lambda a: lambda x: 0.5 * x * sc().erfc(-x / (a * math.sqrt(2.0))))(p["a"]),
        lambda p, x, sp: x / 2 * (1 + sp.erf(x / (p["a"] * sp.sqrt(2)))),
        lambda p, mp: (lambda a: lambda x: x / 2 * mp.erfc(-x / (a * mp.sqrt(2))))(mp.mpf(p["a"])),
        lambda p: f"x/2*erfc(-x/({_lit(p['a'])}*sqrt(2)))",
        notes=_TRAINABLE_NOTE + " tgelu(a=1) == gelu.",
    )
    add(
        "swish",
        "x·sigmoid(beta·x)",
        "P. Ramachandran, B. Zoph, Q. Le (2017), 'Searching for activation functions', "
        "arXiv:1710.05941; beta = 1 is the SiLU of S. Elfwing, E. Uchibe, K. Doya (2018), "
        "arXiv:1702.03118",
        (_P("beta", 1.0, "sharpness of the gate", **_NONNEG),),
        lambda p: (lambda b: lambda x: x * sc().expit(b * x))(p["beta"]),
        lambda p, x, sp: x / (1 + sp.exp(-p["beta"] * x)),
        lambda p, mp: (lambda b: lambda x: x / (1 + mp.exp(-b * x)))(mp.mpf(p["beta"])),
        lambda p: f"x*sigmoid({_lit(p['beta'])}*x)",
        aliases=("silu",),
    )
    add(
        "tswish",
        "x/(1 + z^(-x)) = x·sigmoid(ln(z)·x)",
        "trainable swish with a trainable base z; z = e gives swish/SiLU (Ramachandran et al. "
        "2017, arXiv:1710.05941)",
        (_P("z", math.e, "base of the exponential gate (z = e: SiLU)", **_POS),),
        lambda p: (lambda c: lambda x: x * sc().expit(c * x))(math.log(p["z"])),
        lambda p, x, sp: x / (1 + p["z"] ** (-x)),
        lambda p, mp: (lambda z: lambda x: x / (1 + mp.power(z, -x)))(mp.mpf(p["z"])),
        lambda p: f"x/(1 + {_lit(p['z'])}^(-x))",
        notes=_TRAINABLE_NOTE + " Default z = e makes tswish() == silu.",
    )
    add(
        "hardswish",
        "x·relu6(x + 3)/6",
        "A. Howard et al. (2019), 'Searching for MobileNetV3', ICCV, arXiv:1905.02244",
        (),
        lambda p: lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
        lambda p, x, sp: x * sp.Min(sp.Max(x + 3, 0), 6) / 6,
        lambda p, mp: lambda x: x * min(max(x + 3, mp.zero), mp.mpf(6)) / 6,
        lambda p: "x*min(max(x + 3, 0), 6)/6",
        lambda p: (-3.0, 3.0),
        aliases=("hard_swish", "hswish"),
    )
    add(
        "thardswish",
        "x·relu6(z·x + 3)/6",
        "hard swish (Howard et al. 2019, arXiv:1905.02244) with a trainable slope z inside the "
        "hard sigmoid gate",
        (_P("z", 1.0, "slope of the hard-sigmoid gate", **_POS),),
        lambda p: (lambda z: lambda x: x * np.clip(z * x + 3.0, 0.0, 6.0) / 6.0)(p["z"]),
        lambda p, x, sp: x * sp.Min(sp.Max(p["z"] * x + 3, 0), 6) / 6,
        lambda p, mp: (lambda z: lambda x: x * min(max(z * x + 3, mp.zero), mp.mpf(6)) / 6)(
            mp.mpf(p["z"])
        ),
        lambda p: f"x*min(max({_lit(p['z'])}*x + 3, 0), 6)/6",
        lambda p: (-3.0 / p["z"], 3.0 / p["z"]),
        notes=_TRAINABLE_NOTE + " thardswish(z=1) == hardswish.",
    )
    add(
        "mish",
        "x·tanh(softplus(x))",
        "D. Misra (2019), 'Mish: a self regularized non-monotonic activation function', BMVC "
        "2020, arXiv:1908.08681",
        (),
        lambda p: _np_mish,
        lambda p, x, sp: x * sp.tanh(sp.log(1 + sp.exp(x))),
        lambda p, mp: lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
        lambda p: "x*tanh(softplus(x))",
    )
    add(
        "softplus",
        "log(1 + exp(beta·x))/beta",
        "C. Dugas, Y. Bengio, F. Bélisle, C. Nadeau, R. Garcia (2001), 'Incorporating "
        "second-order functional knowledge for better option pricing', NeurIPS 2000; beta as "
        "in torch.nn.Softplus (without its linear threshold)",
        (_P("beta", 1.0, "sharpness", **_POS),),
        lambda p: (lambda b: lambda x: _np_softplus(b * x) / b)(p["beta"]),
        lambda p, x, sp: sp.log(1 + sp.exp(p["beta"] * x)) / p["beta"],
        lambda p, mp: (lambda b: lambda x: mp.log1p(mp.exp(b * x)) / b)(mp.mpf(p["beta"])),
        lambda p: f"softplus({_lit(p['beta'])}*x)/{_lit(p['beta'])}",
    )
    add(
        "sigmoid",
        "1/(1 + exp(-x))",
        "logistic sigmoid; Y. LeCun, L. Bottou, G. Orr, K.-R. Müller (1998), 'Efficient BackProp'",
        (),
        lambda p: lambda x: sc().expit(x),
        lambda p, x, sp: 1 / (1 + sp.exp(-x)),
        lambda p, mp: lambda x: 1 / (1 + mp.exp(-x)),
        lambda p: "sigmoid(x)",
        aliases=("logistic",),
    )
    add(
        "tanh",
        "tanh(x)",
        "hyperbolic tangent; Y. LeCun, L. Bottou, G. Orr, K.-R. Müller (1998), 'Efficient "
        "BackProp'",
        (),
        lambda p: np.tanh,
        lambda p, x, sp: sp.tanh(x),
        lambda p, mp: mp.tanh,
        lambda p: "tanh(x)",
    )
    add(
        "hardtanh",
        "min(max(x, min), max)",
        "R. Collobert (2004), 'Large scale machine learning', PhD thesis; torch.nn.Hardtanh",
        (
            _P("min", -1.0, "lower clip value"),
            _P("max", 1.0, "upper clip value"),
        ),
        lambda p: (lambda lo, hi: lambda x: np.clip(x, lo, hi))(p["min"], p["max"]),
        lambda p, x, sp: sp.Min(sp.Max(x, p["min"]), p["max"]),
        lambda p, mp: (lambda lo, hi: lambda x: min(max(x, lo), hi))(
            mp.mpf(p["min"]), mp.mpf(p["max"])
        ),
        lambda p: f"min(max(x, {_lit(p['min'])}), {_lit(p['max'])})",
        lambda p: (p["min"], p["max"]),
        check=_check_order("min", "max"),
    )
    add(
        "softsign",
        "x/(1 + |x|)",
        "J. Bergstra, G. Desjardins, P. Lamblin, Y. Bengio (2009), 'Quadratic polynomials learn "
        "better image features'; X. Glorot, Y. Bengio (2010), AISTATS",
        (),
        lambda p: lambda x: x / (1.0 + np.abs(x)),
        lambda p, x, sp: x / (1 + sp.Abs(x)),
        lambda p, mp: lambda x: x / (1 + mp.fabs(x)),
        lambda p: "x/(1 + abs(x))",
        lambda p: (0.0,),
    )
    add(
        "sqrt_act",
        "sign(x)·√|x|",
        "square-root activation, SQRT of M. M. Noel et al. (2021), as catalogued in V. Kunc, "
        "J. Kléma (2024), 'Three decades of activations', arXiv:2402.09092",
        (),
        lambda p: lambda x: np.sign(x) * np.sqrt(np.abs(x)),
        lambda p, x, sp: sp.sign(x) * sp.sqrt(sp.Abs(x)),
        lambda p, mp: lambda x: mp.sign(x) * mp.sqrt(mp.fabs(x)),
        lambda p: "sign(x)*sqrt(abs(x))",
        lambda p: (0.0,),
        aliases=("signed_sqrt",),
    )
    add(
        "tsqrt",
        "sign(x)·(√(|x| + z) - √z)",
        "trainable SQRT: the square-root activation (sqrt_act) with a trainable shift z > 0 "
        "that keeps the slope at 0 finite (1/(2√z))",
        (_P("z", 1.0, "shift under the root; z -> 0 gives sqrt_act", **_POS),),
        # x/(sqrt(|x|+z) + sqrt(z)) is the same function without cancellation near 0.
        lambda p: (lambda z: lambda x: x / (np.sqrt(np.abs(x) + z) + math.sqrt(z)))(p["z"]),
        lambda p, x, sp: sp.sign(x) * (sp.sqrt(sp.Abs(x) + p["z"]) - sp.sqrt(p["z"])),
        lambda p, mp: (lambda z: lambda x: mp.sign(x) * (mp.sqrt(mp.fabs(x) + z) - mp.sqrt(z)))(
            mp.mpf(p["z"])
        ),
        lambda p: f"x/(sqrt(abs(x) + {_lit(p['z'])}) + sqrt({_lit(p['z'])}))",
        lambda p: (0.0,),
        notes=_TRAINABLE_NOTE,
    )
    add(
        "tsqrt_tanh",
        "tanh(k·x)·√|x|",
        "trainable SQRT with a smooth sign: sign(x) of sqrt_act replaced by tanh(k·x); "
        "k -> inf gives sqrt_act",
        (_P("k", 1.0, "steepness of the tanh gate", **_POS),),
        lambda p: (lambda k: lambda x: np.tanh(k * x) * np.sqrt(np.abs(x)))(p["k"]),
        lambda p, x, sp: sp.tanh(p["k"] * x) * sp.sqrt(sp.Abs(x)),
        lambda p, mp: (lambda k: lambda x: mp.tanh(k * x) * mp.sqrt(mp.fabs(x)))(mp.mpf(p["k"])),
        lambda p: f"tanh({_lit(p['k'])}*x)*sqrt(abs(x))",
        lambda p: (0.0,),
        notes=_TRAINABLE_NOTE,
    )
    add(
        "tanhexp",
        "x·tanh(exp(x))",
        "X. Liu, X. Di (2020), 'TanhExp: a smooth activation function with high convergence "
        "speed for lightweight neural networks', IET Computer Vision 2021, arXiv:2003.09855",
        (),
        lambda p: lambda x: x * np.tanh(np.exp(np.minimum(x, 40.0))),
        lambda p, x, sp: x * sp.tanh(sp.exp(x)),
        lambda p, mp: lambda x: x * mp.tanh(mp.exp(x)),
        lambda p: "x*tanh(exp(x))",
    )
    add(
        "srelu",
        "tr + ar·(x - tr) for x >= tr; x for tl < x < tr; tl + al·(x - tl) for x <= tl",
        "X. Jin, C. Xu, J. Feng, Y. Wei, J. Xiong, S. Yan (2016), 'Deep learning with S-shaped "
        "rectified linear activation units', AAAI, arXiv:1512.07030",
        (
            _P("tl", -1.0, "left threshold"),
            _P("al", 0.1, "slope left of tl"),
            _P("tr", 1.0, "right threshold"),
            _P("ar", 0.1, "slope right of tr"),
        ),
        _srelu_np,
        lambda p, x, sp: sp.Piecewise(
            (p["tr"] + p["ar"] * (x - p["tr"]), x >= p["tr"]),
            (x, x > p["tl"]),
            (p["tl"] + p["al"] * (x - p["tl"]), True),
        ),
        _srelu_mp,
        lambda p: (
            f"x + {_lit(p['al'] - 1.0)}*min(x - {_lit(p['tl'])}, 0)"
            f" + {_lit(p['ar'] - 1.0)}*max(x - {_lit(p['tr'])}, 0)"
        ),
        lambda p: tuple(t for t, a in ((p["tl"], p["al"]), (p["tr"], p["ar"])) if a != 1.0),
        check=_check_order("tl", "tr"),
        notes="The paper learns all four parameters (initialised per layer); the defaults here "
        "give a symmetric S shape.",
    )
    add(
        "p_sig_ramp",
        "alpha·sigmoid(x) + (1 - alpha)·min(max(beta·x + 1/2, 0), 1)",
        _JIE,
        (
            _P("alpha", 0.5, "weight of the sigmoid", **_UNIT),
            _P("beta", 0.25, "slope of the ramp (0.25 matches sigmoid'(0))", **_POS),
        ),
        lambda p: (
            lambda a, b: lambda x: a * sc().expit(x) + (1.0 - a) * np.clip(b * x + 0.5, 0.0, 1.0)
        )(p["alpha"], p["beta"]),
        lambda p, x, sp: (
            p["alpha"] / (1 + sp.exp(-x))
            + (1 - p["alpha"]) * sp.Min(sp.Max(p["beta"] * x + sp.Rational(1, 2), 0), 1)
        ),
        lambda p, mp: (
            lambda a, b: (
                lambda x: (
                    a / (1 + mp.exp(-x)) + (1 - a) * min(max(b * x + mp.mpf(0.5), mp.zero), mp.one)
                )
            )
        )(mp.mpf(p["alpha"]), mp.mpf(p["beta"])),
        lambda p: (
            f"{_lit(p['alpha'])}*sigmoid(x) + {_lit(1.0 - p['alpha'])}"
            f"*min(max({_lit(p['beta'])}*x + 0.5, 0), 1)"
        ),
        lambda p: () if p["alpha"] == 1.0 else (-0.5 / p["beta"], 0.5 / p["beta"]),
        aliases=("psigramp",),
        notes="Defaults chosen by actfit (the paper trains alpha and beta per unit; its code "
        "starts from alpha = 1, beta = 0.1).",
    )
    add(
        "p_e2_relu",
        "alpha·relu(x) + beta·elu(x) + (1 - alpha - beta)·(-elu(-x))",
        _JIE,
        (
            _P("alpha", 0.5, "weight of relu(x)", **_UNIT),
            _P("beta", 0.25, "weight of elu(x); -elu(-x) gets 1 - alpha - beta", **_UNIT),
        ),
        _p_e2_np,
        _p_e2_sp,
        _p_e2_mp,
        _p_e2_expr,
        lambda p: (0.0,),
        check=_check_p_e2,
        aliases=("pe2relu",),
        notes="Defaults chosen by actfit; ELUs with alpha = 1 as in the paper.",
    )
    add(
        "tleaky_relu",
        "scale·x for x >= 0, slope·x otherwise",
        "leaky ReLU (Maas et al. 2013) with trainable slopes on both sides",
        (
            _P("slope", 0.01, "slope for x < 0"),
            _P("scale", 1.0, "slope for x >= 0"),
        ),
        lambda p: (lambda s, k: lambda x: np.where(x >= 0, k * x, s * x))(p["slope"], p["scale"]),
        lambda p, x, sp: sp.Piecewise((p["scale"] * x, x >= 0), (p["slope"] * x, True)),
        lambda p, mp: (lambda s, k: lambda x: k * x if x >= 0 else s * x)(
            mp.mpf(p["slope"]), mp.mpf(p["scale"])
        ),
        lambda p: f"{_lit(p['scale'])}*max(x, 0) + {_lit(p['slope'])}*min(x, 0)",
        lambda p: _kink0_unless(p["slope"] == p["scale"]),
        notes=_TRAINABLE_NOTE + " tleaky_relu() == leaky_relu().",
    )
    return e


@functools.lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, _Entry], dict[str, str]]:
    by_name: dict[str, _Entry] = {}
    lookup: dict[str, str] = {}
    for entry in _entries():
        by_name[entry.info.name] = entry
        for key in (entry.info.name, *entry.info.aliases):
            lookup[key] = entry.info.name
    return by_name, lookup


def _normalize_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _lookup(name: str) -> _Entry | None:
    by_name, lookup = _registry()
    canonical = lookup.get(_normalize_name(name))
    return None if canonical is None else by_name[canonical]


def _unknown(name: str) -> UnknownTargetError:
    _, lookup = _registry()
    close = difflib.get_close_matches(_normalize_name(name), list(lookup), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return UnknownTargetError(f"unknown target '{name}'{hint} (actfit targets lists them)")


def list_targets() -> list[TargetInfo]:
    """Return the registry entries, in the registry's order.

    Examples:
        >>> "gelu" in [info.name for info in list_targets()]
        True
    """
    return [entry.info for entry in _registry()[0].values()]


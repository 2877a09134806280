"""The registry of target activations, and a safe parser for expressions in x.

A :class:`Target` is what every fitter approximates: a registry entry with its parameter values
(``get_target("swish", {"beta": 1.5})``) or an expression in ``x``
(``parse_expression("x*tanh(softplus(x))")``). Each target carries three independent
evaluations:

* a vectorised float64 numpy evaluator (``target(x)``), written for accuracy on the whole real
  line (``log1p``/``expm1``/``erfc``/``expit`` forms, no overflow for large ``|x|``);
* an exact sympy expression (``target.sympy()``) with exact rational parameters, used for Padé
  expansions;
* an arbitrary-precision mpmath evaluator (``target.mp(x)``), coded separately from the numpy
  one so that each checks the other; it is the reference for minimax fits and for the tests;

plus the points where it is not analytic (``target.kinks``), which fitters avoid as expansion
points and put on their grids.

Importing this module loads numpy only; sympy, mpmath and scipy are imported by the functions
that need them.

Examples:
    >>> from actfit.targets import get_target
    >>> t = get_target("leaky_relu", {"slope": 0.1})
    >>> t.kinks
    (0.0,)
    >>> float(t(-2.0))
    -0.2
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.errors import (
    ExpressionError,
    ParameterError,
    RangeError,
    TargetDomainError,
    UnknownTargetError,
)

if TYPE_CHECKING:
    import mpmath
    import sympy
    from numpy.typing import ArrayLike

__all__ = [
    "Param",
    "Target",
    "TargetInfo",
    "as_target",
    "check_finite",
    "from_dict",
    "get_target",
    "list_targets",
    "parse_expression",
    "resolve_target",
    "symbol",
]

# Exact SELU constants, Klambauer et al. (2017), "Self-Normalizing Neural Networks", eq. (14).
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
# Coefficient of the tanh approximation of GELU, Hendrycks & Gimpel (2016), section 2.
_GELU_TANH_C = "0.044715"

_MAX_EXPRESSION_CHARS = 1000
_MAX_DEPTH = 100
_MAX_KINKS = 200


# --------------------------------------------------------------------------------------------
# public data types
# --------------------------------------------------------------------------------------------


def symbol() -> sympy.Symbol:
    """Return the real sympy symbol ``x`` every target expression is written in."""
    import sympy

    return sympy.Symbol("x", real=True)


def __getattr__(name: str) -> Any:
    # ``actfit.targets.X`` without importing sympy at module import (PEP 562).
    if name == "X":
        return symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Param:
    """One parameter of a registry entry: its default, meaning and allowed range.

    Attributes:
        name: Parameter name as given to ``get_target`` and ``-p NAME=VALUE``.
        default: Default value.
        doc: One-line description.
        lower: Lower bound, or None for no bound.
        upper: Upper bound, or None for no bound.
        lower_open: True if the lower bound itself is excluded.
        upper_open: True if the upper bound itself is excluded.
    """

    name: str
    default: float
    doc: str
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False

    @property
    def allowed(self) -> str:
        """Return the allowed range in interval notation, e.g. ``(0, inf)``."""
        if self.lower is None and self.upper is None:
            return "any finite number"
        lo = "(-inf" if self.lower is None else ("(" if self.lower_open else "[") + _num(self.lower)
        hi = "inf)" if self.upper is None else _num(self.upper) + (")" if self.upper_open else "]")
        return f"{lo}, {hi}"

    def admits(self, value: float) -> bool:
        """Return True if ``value`` is finite and inside the allowed range."""
        if not math.isfinite(value):
            return False
        if self.lower is not None and (
            value < self.lower or (self.lower_open and value == self.lower)
        ):
            return False
        return not (
            self.upper is not None
            and (value > self.upper or (self.upper_open and value == self.upper))
        )


@dataclass(frozen=True)
class TargetInfo:
    """One registry entry, for listing (``actfit targets``).

    Attributes:
        name: Canonical name.
        aliases: Other accepted names.
        formula: Human-readable definition.
        params: The entry's parameters with defaults and ranges.
        source: The paper (or library) the definition comes from.
        notes: Remarks: which definition was chosen where the literature differs.
    """

    name: str
    aliases: tuple[str, ...]
    formula: str
    params: tuple[Param, ...]
    source: str
    notes: str = ""

    @property
    def defaults(self) -> dict[str, float]:
        """Return the default parameter values."""
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class Target:
    """A concrete target function: a registry entry with parameter values, or an expression.

    Two targets are equal when name, parameters, expression and kinks agree; the evaluators are
    not compared. Build targets with :func:`get_target`, :func:`parse_expression`,
    :func:`resolve_target` or :func:`from_dict`, not directly.

    Attributes:
        name: Canonical registry name, or ``"expr"`` for a user expression.
        params: Sorted ``(name, value)`` pairs; empty for expressions.
        expression: The formula with parameter values substituted; :func:`parse_expression`
            accepts it and gives the same function.
        kinks: Sorted points where the target is not analytic (derivative jumps, ``|x|``,
            ``sqrt`` at 0, piecewise joins). Exact for registry entries, best effort for
            expressions.
    """

    name: str
    params: tuple[tuple[str, float], ...]
    expression: str
    kinks: tuple[float, ...]
    _numpy: Callable[[np.ndarray], Any] = field(compare=False, repr=False)
    _sympy: Callable[[], Any] = field(compare=False, repr=False)
    _mp: Callable[[Any], Any] = field(compare=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Return the target at ``x`` in float64, with the shape of ``x``."""
        arr = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = self._numpy(arr)
        return np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), arr.shape))

    def sympy(self) -> sympy.Expr:
        """Return the exact sympy expression in :func:`symbol` (parameters as exact numbers)."""
        if "sympy" not in self._cache:
            self._cache["sympy"] = self._sympy()
        return self._cache["sympy"]

    def mp(self, x: Any) -> mpmath.mpf:
        """Return the target at ``x`` at the working precision of ``mpmath.mp``.

        The mpmath code path is independent of the numpy one; it is the reference used by the
        tests and by the minimax fitter.
        """
        import mpmath

        return self._mp(mpmath.mpf(x))

    def is_analytic_at(self, x0: float) -> bool:
        """Return False if ``x0`` is a kink (or the target is not finite there), else True."""
        x0 = float(x0)
        for k in self.kinks:
            if abs(x0 - k) <= 8 * np.finfo(float).eps * max(1.0, abs(k)):
                return False
        return bool(np.isfinite(self(x0)))

    @property
    def param_dict(self) -> dict[str, float]:
        """Return the parameters as a dict."""
        return dict(self.params)

    @property
    def label(self) -> str:
        """Return a short label for messages: the registry name or the expression."""
        return self.expression if self.name == "expr" else self.name

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict; :func:`from_dict` rebuilds the same target from it."""
        return {"name": self.name, "params": self.param_dict, "expression": self.expression}

    def __reduce__(self) -> tuple[Any, ...]:
        # The evaluators are closures; pickle the description and rebuild on load.
        return (from_dict, (self.to_dict(),))


# --------------------------------------------------------------------------------------------
# helpers shared by the entries
# --------------------------------------------------------------------------------------------


def _num(v: float) -> str:
    """Format a number compactly for messages (``3``, ``-0.5``, ``1e-05``)."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _lit(v: float) -> str:
    """Format a parameter value as an expression literal that round-trips exactly."""
    s = repr(float(v))
    return f"({s})" if s.startswith("-") else s


@functools.lru_cache(maxsize=1)
def _special_constants() -> dict[float, Any]:
    import sympy

    return {
        math.e: sympy.E,
        math.pi: sympy.pi,
        float(SELU_ALPHA): sympy.Rational(SELU_ALPHA),
        float(SELU_SCALE): sympy.Rational(SELU_SCALE),
    }


def _exact(value: float) -> sympy.Expr:
    """Return the exact sympy number a float parameter stands for.

    The shortest fraction with denominator up to 10**6 that rounds to ``value`` wins (so
    ``0.1 -> 1/10`` and ``1/3`` given as a float ``-> 1/3``); then e, pi and the SELU constants;
    otherwise the decimal ``repr`` of the float, exactly.
    """
    import sympy

    v = float(value)
    special = _special_constants().get(v)
    if special is not None:
        return special
    r = sympy.Rational(repr(v))
    q = r.limit_denominator(10**6)
    return q if float(q) == v else r


def _sc() -> Any:
    import scipy.special

    return scipy.special


def _np_softplus(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


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


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


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
    u = math.sqrt(2.0 / math.pi) * (x + float(_GELU_TANH_C) * x * x * x)
    return x * _sc().expit(2.0 * u)


def _gelu_tanh_mp(mp: Any) -> Callable[[Any], Any]:
    c = mp.mpf(_GELU_TANH_C)

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
            x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(_GELU_TANH_C) * x**3)))
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


def _validate_params(entry: _Entry, params: Mapping[str, Any] | None) -> dict[str, float]:
    info = entry.info
    values = info.defaults
    if params is None:
        return values
    if not isinstance(params, Mapping):
        raise ParameterError(
            f"parameters of {info.name} must be given as NAME=VALUE pairs, got {params!r}"
        )
    known = {p.name: p for p in info.params}
    for key, raw in params.items():
        pname = str(key).strip().lower()
        if pname not in known:
            if known:
                msg = f"{info.name} has no parameter '{key}'; its parameters are: " + ", ".join(
                    known
                )
            else:
                msg = f"{info.name} has no parameter '{key}'; it takes no parameters"
            raise ParameterError(msg)
        param = known[pname]
        try:
            if isinstance(raw, bool):
                raise TypeError
            value = float(raw)
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter {pname} of {info.name} must be a number in {param.allowed}, got {raw!r}"
            ) from None
        if not param.admits(value):
            raise ParameterError(
                f"parameter {pname} of {info.name} must be in {param.allowed}, got {_num(value)}"
                if math.isfinite(value)
                else f"parameter {pname} of {info.name} must be a finite number in "
                f"{param.allowed}, got {value}"
            )
        values[pname] = value
    if entry.check is not None:
        problem = entry.check(values)
        if problem:
            raise ParameterError(f"{info.name} {problem}")
    return values


def get_target(name: str, params: Mapping[str, float] | None = None) -> Target:
    """Return the registry target ``name`` with the given parameters (defaults for the rest).

    Args:
        name: Registry name or alias, case-insensitive (``-`` and ``_`` are interchangeable).
        params: Parameter values by name; missing ones take their defaults.

    Returns:
        The target, with ``params`` holding every parameter (sorted by name).

    Raises:
        UnknownTargetError: ``name`` is not in the registry (the message suggests the closest).
        ParameterError: An unknown parameter name, or a value outside the allowed range.

    Examples:
        >>> get_target("SiLU") == get_target("swish", {"beta": 1})
        True
    """
    if not isinstance(name, str):
        raise UnknownTargetError(f"target name must be a string, got {name!r}")
    entry = _lookup(name)
    if entry is None:
        raise _unknown(name)
    values = _validate_params(entry, params)
    return _build_registry_target(entry, values)


def _build_registry_target(entry: _Entry, values: dict[str, float]) -> Target:
    def build_sympy() -> Any:
        import sympy

        exact = {k: _exact(v) for k, v in values.items()}
        return entry.sympy(exact, symbol(), sympy)

    def build_mp() -> Callable[[Any], Any]:
        import mpmath

        return entry.mp(values, mpmath.mp)

    def mp_eval(x: Any) -> Any:
        # Parameters are converted at call time, at the caller's working precision.
        return build_mp()(x)

    return Target(
        name=entry.info.name,
        params=tuple(sorted(values.items())),
        expression=entry.expression(values),
        kinks=tuple(sorted({float(k) for k in entry.kinks(values)})),
        _numpy=entry.numpy(values),
        _sympy=build_sympy,
        _mp=mp_eval,
    )


# --------------------------------------------------------------------------------------------
# safe expression parser
# --------------------------------------------------------------------------------------------

_CONSTANTS = ("x", "pi", "e")
# name -> (min args, max args or None for any)
_FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "acos": (1, 1),
    "acosh": (1, 1),
    "asin": (1, 1),
    "asinh": (1, 1),
    "atan": (1, 1),
    "atanh": (1, 1),
    "cos": (1, 1),
    "cosh": (1, 1),
    "erf": (1, 1),
    "erfc": (1, 1),
    "exp": (1, 1),
    "expm1": (1, 1),
    "heaviside": (1, 1),
    "log": (1, 1),
    "log1p": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "relu": (1, 1),
    "sigmoid": (1, 1),
    "sign": (1, 1),
    "sin": (1, 1),
    "sinh": (1, 1),
    "softplus": (1, 1),
    "sqrt": (1, 1),
    "tan": (1, 1),
    "tanh": (1, 1),
}


def _allowed_names() -> str:
    return "allowed: x, pi, e, numbers, + - * / ** ^, and " + ", ".join(sorted(_FUNCTIONS))


def _np_funcs() -> dict[str, Callable[..., Any]]:
    sc = _sc()
    return {
        "abs": np.abs,
        "acos": np.arccos,
        "acosh": np.arccosh,
        "asin": np.arcsin,
        "asinh": np.arcsinh,
        "atan": np.arctan,
        "atanh": np.arctanh,
        "cos": np.cos,
        "cosh": np.cosh,
        "erf": sc.erf,
        "erfc": sc.erfc,
        "exp": np.exp,
        "expm1": np.expm1,
        "heaviside": lambda u: np.heaviside(u, 0.5),
        "log": np.log,
        "log1p": np.log1p,
        "max": lambda *a: functools.reduce(np.maximum, a),
        "min": lambda *a: functools.reduce(np.minimum, a),
        "relu": lambda u: np.maximum(u, 0.0),
        "sigmoid": sc.expit,
        "sign": np.sign,
        "sin": np.sin,
        "sinh": np.sinh,
        "softplus": _np_softplus,
        "sqrt": np.sqrt,
        "tan": np.tan,
        "tanh": np.tanh,
    }


def _mp_funcs(mp: Any) -> dict[str, Callable[..., Any]]:
    def heaviside(u: Any) -> Any:
        return mp.zero if u < 0 else (mp.one if u > 0 else mp.mpf(0.5))

    return {
        "abs": mp.fabs,
        "acos": mp.acos,
        "acosh": mp.acosh,
        "asin": mp.asin,
        "asinh": mp.asinh,
        "atan": mp.atan,
        "atanh": mp.atanh,
        "cos": mp.cos,
        "cosh": mp.cosh,
        "erf": mp.erf,
        "erfc": mp.erfc,
        "exp": mp.exp,
        "expm1": mp.expm1,
        "heaviside": heaviside,
        "log": mp.log,
        "log1p": mp.log1p,
        "max": lambda *a: max(a),
        "min": lambda *a: min(a),
        "relu": lambda u: max(u, mp.zero),
        "sigmoid": lambda u: 1 / (1 + mp.exp(-u)),
        "sign": mp.sign,
        "sin": mp.sin,
        "sinh": mp.sinh,
        "softplus": lambda u: mp.log1p(mp.exp(u)),
        "sqrt": mp.sqrt,
        "tan": mp.tan,
        "tanh": mp.tanh,
    }


def _sympy_funcs(sp: Any) -> dict[str, Callable[..., Any]]:
    return {
        "abs": sp.Abs,
        "acos": sp.acos,
        "acosh": sp.acosh,
        "asin": sp.asin,
        "asinh": sp.asinh,
        "atan": sp.atan,
        "atanh": sp.atanh,
        "cos": sp.cos,
        "cosh": sp.cosh,
        "erf": sp.erf,
        "erfc": sp.erfc,
        "exp": sp.exp,
        "expm1": lambda u: sp.exp(u) - 1,
        "heaviside": sp.Heaviside,
        "log": sp.log,
        "log1p": lambda u: sp.log(1 + u),
        "max": sp.Max,
        "min": sp.Min,
        "relu": lambda u: sp.Max(u, 0),
        "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
        "sign": sp.sign,
        "sin": sp.sin,
        "sinh": sp.sinh,
        "softplus": lambda u: sp.log(1 + sp.exp(u)),
        "sqrt": sp.sqrt,
        "tan": sp.tan,
        "tanh": sp.tanh,
    }


class _Validator:
    """Checks a parsed tree against the whitelist; raises ExpressionError naming the culprit."""

    def __init__(self, text: str) -> None:
        self.text = text

    def piece(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node)
        seg = seg if seg is not None else type(node).__name__
        return seg if len(seg) <= 40 else seg[:37] + "..."

    def fail(self, what: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(
            f"{what} '{self.piece(node)}' is not allowed in an expression ({_allowed_names()})"
        )

    def visit(self, node: ast.AST, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise ExpressionError(
                f"expression is nested more than {_MAX_DEPTH} levels deep; simplify it"
            )
        if isinstance(node, ast.Expression):
            self.visit(node.body, depth + 1)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
                raise self.fail("operator", node)
            self.visit(node.left, depth + 1)
            self.visit(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.UAdd, ast.USub)):
                raise self.fail("operator", node)
            self.visit(node.operand, depth + 1)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail("constant", node)
            if not math.isfinite(value) or abs(value) > 1e300:
                raise ExpressionError(
                    f"constant '{self.piece(node)}' is too large; use numbers up to 1e300"
                )
        elif isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                what = "function used without a call" if node.id in _FUNCTIONS else "name"
                raise self.fail(what, node)
        elif isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Name) or func.id not in _FUNCTIONS:
                raise self.fail("call", node)
            if node.keywords:
                raise self.fail("keyword argument", node.keywords[0].value)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    raise self.fail("starred argument", arg)
            lo, hi = _FUNCTIONS[func.id]
            n = len(node.args)
            if n < lo or (hi is not None and n > hi):
                want = f"{lo}" if lo == hi else f"at least {lo}"
                raise ExpressionError(
                    f"{func.id}() takes {want} argument{'s' if lo != 1 else ''}, got {n} in "
                    f"'{self.piece(node)}'"
                )
            for arg in node.args:
                self.visit(arg, depth + 1)
        elif isinstance(node, ast.Attribute):
            raise self.fail("attribute access", node)
        elif isinstance(node, ast.Subscript):
            raise self.fail("subscript", node)
        elif isinstance(node, ast.Lambda):
            raise self.fail("lambda", node)
        else:
            raise self.fail("syntax", node)


def _build_sympy(node: ast.AST, text: str, sp: Any, x: Any, funcs: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _build_sympy(node.body, text, sp, x, funcs)
    if isinstance(node, ast.Constant):
        seg = ast.get_source_segment(text, node) or ""
        try:
            # The literal's text, so 0.1 means 1/10 exactly.
            return sp.Rational(seg.strip())
        except (TypeError, ValueError):
            return sp.Integer(node.value) if isinstance(node.value, int) else _exact(node.value)
    if isinstance(node, ast.Name):
        return {"x": x, "pi": sp.pi, "e": sp.E}[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _build_sympy(node.operand, text, sp, x, funcs)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _build_sympy(node.left, text, sp, x, funcs)
        right = _build_sympy(node.right, text, sp, x, funcs)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        _guard_power(left, right, sp)
        return left**right
    if isinstance(node, ast.Call):
        args = [_build_sympy(a, text, sp, x, funcs) for a in node.args]
        return funcs[node.func.id](*args)  # type: ignore[attr-defined]
    raise ExpressionError(f"cannot build '{ast.dump(node)[:40]}'")  # unreachable after validation


def _guard_power(base: Any, exponent: Any, sp: Any) -> None:
    """Refuse constant powers whose exact value would be astronomically large."""
    if not (base.is_number and exponent.is_number):
        return
    if exponent.is_Rational and base.is_Rational:
        size = max(abs(base.p), abs(base.q), 2)
        digits = abs(float(exponent)) * math.log10(size)
        if digits > 10_000:
            raise ExpressionError(
                "constant power too large to evaluate exactly (more than 10000 digits); "
                "simplify the expression"
            )
    elif exponent.is_number and abs(complex(exponent.evalf(15))) > 1e4:
        raise ExpressionError("constant exponent larger than 1e4; simplify the expression")


def _compile_numpy(node: ast.AST, funcs: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    if isinstance(node, ast.Expression):
        return _compile_numpy(node.body, funcs)
    if isinstance(node, ast.Constant):
        c = float(node.value)
        return lambda x: c
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x: x
        c = math.pi if node.id == "pi" else math.e
        return lambda x: c
    if isinstance(node, ast.UnaryOp):
        f = _compile_numpy(node.operand, funcs)
        return (lambda x: -f(x)) if isinstance(node.op, ast.USub) else f
    if isinstance(node, ast.BinOp):
        a = _compile_numpy(node.left, funcs)
        b = _compile_numpy(node.right, funcs)
        ops: dict[type, Callable[[Any, Any], Any]] = {
            ast.Add: np.add,
            ast.Sub: np.subtract,
            ast.Mult: np.multiply,
            ast.Div: np.true_divide,
            ast.Pow: lambda u, v: np.power(np.asarray(u, dtype=np.float64), v),
        }
        op = ops[type(node.op)]
        return lambda x: op(a(x), b(x))
    if isinstance(node, ast.Call):
        fn = funcs[node.func.id]  # type: ignore[attr-defined]
        args = [_compile_numpy(a, funcs) for a in node.args]
        return lambda x: fn(*(g(x) for g in args))
    raise ExpressionError("unsupported node")  # unreachable after validation


def _compile_mp(node: ast.AST, text: str) -> Callable[[Any], Any]:
    """Compile to an mpmath evaluator; complex intermediate results become NaN, like numpy."""

    def real(mp: Any, v: Any) -> Any:
        if isinstance(v, mp.mpc):
            return v.real if v.imag == 0 else mp.nan
        return v

    def go(n: ast.AST) -> Callable[[Any, Any], Any]:
        if isinstance(n, ast.Expression):
            return go(n.body)
        if isinstance(n, ast.Constant):
            seg = (ast.get_source_segment(text, n) or "").strip()
            value = n.value

            def const(mp: Any, x: Any) -> Any:
                try:
                    return mp.mpf(seg)  # decimal text at working precision
                except (TypeError, ValueError):
                    return mp.mpf(value)

            return const
        if isinstance(n, ast.Name):
            if n.id == "x":
                return lambda mp, x: x
            return (lambda mp, x: +mp.pi) if n.id == "pi" else (lambda mp, x: +mp.e)
        if isinstance(n, ast.UnaryOp):
            f = go(n.operand)
            return (lambda mp, x: -f(mp, x)) if isinstance(n.op, ast.USub) else f
        if isinstance(n, ast.BinOp):
            a, b = go(n.left), go(n.right)
            op = n.op

            def binop(mp: Any, x: Any) -> Any:
                u, v = a(mp, x), b(mp, x)
                if mp.isnan(u) or mp.isnan(v):
                    return mp.nan
                try:
                    if isinstance(op, ast.Add):
                        return u + v
                    if isinstance(op, ast.Sub):
                        return u - v
                    if isinstance(op, ast.Mult):
                        return u * v
                    if isinstance(op, ast.Div):
                        return u / v
                    return real(mp, mp.power(u, v))
                except ZeroDivisionError:
                    return mp.nan if u == 0 else mp.inf * mp.sign(u)

            return binop
        if isinstance(n, ast.Call):
            name = n.func.id  # type: ignore[attr-defined]
            args = [go(a) for a in n.args]

            def call(mp: Any, x: Any) -> Any:
                vals = [g(mp, x) for g in args]
                if any(mp.isnan(v) for v in vals):
                    return mp.nan
                try:
                    return real(mp, _mp_funcs(mp)[name](*vals))
                except (ZeroDivisionError, ValueError):
                    return mp.nan

            return call
        raise ExpressionError("unsupported node")  # unreachable after validation

    f = go(node)

    def evaluate(x: Any) -> Any:
        import mpmath

        return f(mpmath.mp, x)

    return evaluate


def parse_expression(text: str) -> Target:
    """Return the target defined by an expression in ``x``, parsed safely (never evaluated).

    The text is parsed with Python's :mod:`ast` and only a whitelist is accepted: the name
    ``x``, numbers, the constants ``pi`` and ``e``, unary ``+``/``-``, binary ``+ - * / **``
    (``^`` means ``**``) and calls by bare name, with positional arguments, of ``abs acos acosh
    asin asinh atan atanh cos cosh erf erfc exp expm1 heaviside log log1p max min relu sigmoid
    sign sin sinh softplus sqrt tan tanh``. Nothing of the text is ever executed; the sympy
    expression, the numpy evaluator and the mpmath evaluator are all built from the checked tree.

    Kinks are found on a best-effort basis: the real zeros of the arguments of ``abs``, ``sign``,
    ``heaviside``, of the differences of ``max``/``min`` arguments, and of the bases of
    non-integer or negative powers (``sqrt``, ``1/u``) and ``log`` arguments. Polynomial
    arguments are solved exactly (sympy); others are scanned numerically on [-1e8, 1e8] for
    sign changes, so tangential zeros and zeros beyond that range may be missed, and periodic
    arguments yield at most 200 kinks.

    Args:
        text: The expression, e.g. ``"x*tanh(log(1 + exp(x)))"``.

    Returns:
        A target named ``"expr"`` with no parameters and ``expression`` set to the stripped text.

    Raises:
        ExpressionError: The text is not a valid expression, or uses anything outside the
            whitelist (unknown names, attributes, subscripts, strings, keywords, lambdas).

    Examples:
        >>> t = parse_expression("max(x, 0)")
        >>> t.kinks
        (0.0,)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, got {type(text).__name__}")
    src = text.strip()
    if not src:
        raise ExpressionError("empty expression; write a formula in x, e.g. 'x*sigmoid(x)'")
    if len(src) > _MAX_EXPRESSION_CHARS:
        raise ExpressionError(
            f"expression longer than {_MAX_EXPRESSION_CHARS} characters; simplify it"
        )
    code = src.replace("^", "**")
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(
            f"cannot parse expression '{src[:60]}': {exc.msg}{where} ({_allowed_names()})"
        ) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ExpressionError(f"cannot parse expression '{src[:60]}': {exc}") from None

    try:
        _Validator(code).visit(tree)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply; simplify it") from None

    import sympy

    x = symbol()
    try:
        expr = _build_sympy(tree, code, sympy, x, _sympy_funcs(sympy))
    except ExpressionError:
        raise
    except Exception as exc:  # user input: any sympy failure is a user error
        raise ExpressionError(f"cannot build expression '{src[:60]}': {exc}") from None
    if expr.has(sympy.I):
        raise ExpressionError(
            f"expression '{src[:60]}' has complex constants (e.g. sqrt(-1)); it must be real"
        )
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ExpressionError(
            f"expression '{src[:60]}' is undefined (a division by zero or log(0) in constants)"
        )

    return Target(
        name="expr",
        params=(),
        expression=src,
        kinks=_expression_kinks(expr, x),
        _numpy=_compile_numpy(tree, _np_funcs()),
        _sympy=lambda: expr,
        _mp=_compile_mp(tree, code),
    )


def _expression_kinks(expr: Any, x: Any) -> tuple[float, ...]:
    """Return the points where ``expr`` is (probably) not analytic; see parse_expression."""
    import sympy as sp

    candidates: list[tuple[Any, bool]] = []  # (u, only sign changes count)
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            candidates.append((node.args[0], True))
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    candidates.append((args[i] - args[j], True))
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    candidates.append((rel.lhs - rel.rhs, True))
        elif isinstance(node, sp.Pow):
            base, exponent = node.args
            if not (exponent.is_Integer and exponent >= 0):
                candidates.append((base, False))
        elif isinstance(node, sp.log):
            candidates.append((node.args[0], False))
        elif isinstance(node, (sp.atanh, sp.asin, sp.acos)):
            candidates += [(node.args[0] - 1, False), (node.args[0] + 1, False)]
        elif isinstance(node, sp.acosh):
            candidates.append((node.args[0] - 1, False))
    zeros: set[float] = set()
    seen: set[Any] = set()
    for u, odd in candidates:
        if not u.has(x) or (u, odd) in seen:
            continue
        seen.add((u, odd))
        try:
            zeros.update(_real_zeros(u, x, odd))
        except Exception:  # best effort by contract
            continue
        if len(zeros) > _MAX_KINKS:
            break
    finite = sorted(z for z in zeros if math.isfinite(z))
    merged: list[float] = []
    for z in finite:
        if not merged or abs(z - merged[-1]) > 1e-12 * max(1.0, abs(z)):
            merged.append(z)
    return tuple(merged[:_MAX_KINKS])


def _real_zeros(u: Any, x: Any, odd: bool) -> list[float]:
    import sympy as sp

    if _degree_bound(u, x) <= 30 and u.is_polynomial(x):
        poly = sp.Poly(u, x)
        if poly.degree() <= 0:
            return []
        if poly.degree() <= 30 and (poly.domain.is_QQ or poly.domain.is_ZZ):
            pairs = sp.real_roots(poly, multiple=False)
            return [float(r) for r, m in pairs if not odd or m % 2 == 1]
        coeffs = [complex(c) for c in poly.all_coeffs()]
        roots = np.roots(coeffs)
        return [float(r.real) for r in roots if abs(r.imag) <= 1e-12 * max(1.0, abs(r))]
    return _scan_zeros(u, x)


def _degree_bound(u: Any, x: Any) -> float:
    """Return an upper bound of the polynomial degree of ``u`` without expanding it."""
    if not u.has(x):
        return 0
    if u == x:
        return 1
    if u.is_Add:
        return max(_degree_bound(a, x) for a in u.args)
    if u.is_Mul:
        return sum(_degree_bound(a, x) for a in u.args)
    if u.is_Pow and u.exp.is_Integer and u.exp >= 0:
        return int(u.exp) * _degree_bound(u.base, x)
    return math.inf


def _scan_zeros(u: Any, x: Any) -> list[float]:
    import sympy as sp
    from scipy.optimize import brentq

    f = sp.lambdify(x, u, modules=["scipy", "numpy"])
    inner = np.linspace(-100.0, 100.0, 40001)
    outer = np.logspace(2.0, 8.0, 601)[1:]
    grid = np.concatenate([-outer[::-1], inner, outer])
    with np.errstate(all="ignore"):
        vals = np.asarray(f(grid), dtype=np.float64) * np.ones_like(grid)

        def scalar(t: float) -> float:
            return float(np.asarray(f(np.float64(t)), dtype=np.float64))

        out = [float(t) for t in grid[vals == 0.0]]
        s = np.sign(vals)
        idx = np.nonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (s[:-1] * s[1:] < 0))[0]
        for i in idx[: _MAX_KINKS + 1]:
            try:
                out.append(float(brentq(scalar, grid[i], grid[i + 1], xtol=1e-300, rtol=1e-15)))
            except (ValueError, RuntimeError):
                continue
    return out


def resolve_target(spec: str, params: Mapping[str, float] | None = None) -> Target:
    """Return the target a command-line spec names: a registry entry, else an expression.

    Args:
        spec: A registry name or alias (``gelu``), or an expression in ``x`` (``x*sigmoid(x)``):
            a spec that is not a registry name and contains any of ``()+-*/^``, a space or a
            digit is parsed as an expression.
        params: Parameters for a registry entry; must be empty for an expression.

    Raises:
        UnknownTargetError: Neither a registry name nor something that looks like an expression.
        ParameterError: Bad parameters, or parameters given with an expression.
        ExpressionError: An invalid expression.
    """
    if not isinstance(spec, str):
        raise UnknownTargetError(f"target must be a name or an expression, got {spec!r}")
    if _lookup(spec) is not None:
        return get_target(spec, params)
    s = spec.strip()
    if s == "x" or any(c in "()+-*/^ " or c.isdigit() for c in s):
        if params:
            raise ParameterError(
                "parameters (-p NAME=VALUE) only apply to registry targets; write the values "
                f"into the expression '{s}' instead"
            )
        return parse_expression(s)
    raise _unknown(spec)


def as_target(target: Target | str, params: Mapping[str, float] | None = None) -> Target:
    """Return the target a library call names: a :class:`Target`, a registry name or an
    expression in ``x``, with parameters given as a mapping (``{"slope": 0.1}``).

    The public fitters call this first, so ``fit_lsq("leaky_relu", slope=0.1)``,
    ``fit_lsq("x*tanh(x)")`` and ``fit_lsq(get_target("gelu"))`` all work.

    Raises:
        UnknownTargetError: not a Target, and not a registry name or an expression.
        ParameterError: parameters that the target does not have, or bad values; parameters
            given together with a :class:`Target` (whose values are already fixed) or with an
            expression.
        ExpressionError: an invalid expression.
    """
    if isinstance(target, Target):
        if params:
            names = ", ".join(sorted(params))
            raise ParameterError(
                f"parameters ({names}) were given with a ready-made Target '{target.label}'; "
                f"pass the name instead (e.g. '{target.name}') or build the Target with them"
            )
        return target
    return resolve_target(target, params)


def from_dict(d: Mapping[str, Any]) -> Target:
    """Return the target described by ``d``, the inverse of :meth:`Target.to_dict`.

    Raises:
        UnknownTargetError: No usable ``name``, or a name not in the registry.
        ParameterError: ``params`` is not a mapping, or has unknown names or bad values.
        ExpressionError: An ``"expr"`` entry without a valid ``expression``.
    """
    if not isinstance(d, Mapping):
        raise UnknownTargetError(f"a target must be an object with a 'name', got {d!r:.60}")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UnknownTargetError("the target has no 'name'; expected a registry name or 'expr'")
    params = d.get("params") or {}
    if not isinstance(params, Mapping):
        raise ParameterError(f"the target's 'params' must be an object, got {params!r:.60}")
    if name == "expr":
        expression = d.get("expression")
        if not isinstance(expression, str):
            raise ExpressionError("an 'expr' target needs its 'expression' as a string")
        if params:
            raise ParameterError("an 'expr' target takes no 'params'")
        return parse_expression(expression)
    return get_target(name, params)


def check_finite(target: Target, a: float, b: float, n: int = 4097) -> None:
    """Raise if ``target`` is NaN or infinite anywhere on a dense grid of ``[a, b]``.

    The grid has ``n`` equispaced points plus the kinks inside the range.

    Raises:
        RangeError: ``a``, ``b`` not finite, or ``a >= b``.
        TargetDomainError: The target is not finite at some grid point (the message names one).
    """
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
        raise RangeError(f"range [{_num(a)}, {_num(b)}] must be finite with a < b")
    grid = np.linspace(a, b, max(int(n), 2))
    inside = [k for k in target.kinks if a <= k <= b]
    grid = np.union1d(grid, np.asarray(inside, dtype=np.float64))
    vals = target(grid)
    bad = ~np.isfinite(vals)
    if bad.any():
        at = float(grid[np.argmax(bad)])
        raise TargetDomainError(
            f"target '{target.label}' is NaN or infinite on [{_num(a)}, {_num(b)}] (e.g. at "
            f"x = {_num(at) if abs(at) >= 1e-4 or at == 0 else f'{at:.6g}'}); choose a range "
            "where it is finite"
        )

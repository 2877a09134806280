"""Rigorous ball-arithmetic enclosures of a target and its Taylor coefficients over an interval.

A target's exact sympy expression (:meth:`actfit.targets.Target.sympy`, in
:func:`actfit.targets.symbol`, parameters as exact numbers) is compiled once into a flat program
of python-flint ``arb`` / ``arb_series`` operations (Johansson, "Arb: efficient arbitrary-precision
midpoint-radius interval arithmetic", IEEE Trans. Comput. 66 (2017)). Running the program on an
interval ``X = [lo, hi]`` gives either

* ``value``: a ball containing ``f(X)`` (Moore, "Interval Analysis", 1966), or
* ``series``: the Taylor coefficients ``f^(k)(X)/k!`` as balls (``arb_series``), or ``None`` when
  ``f`` is not smooth on ``X`` (a kink inside ``X`` whose side is not decided).

Functions with an enclosure: ``+ - * /``, ``Pow`` (integer, ``1/2``, ``-1/2`` and other rational or
symbolic exponents through ``exp(p log u)``), ``exp``, ``log`` (``log1p``, ``expm1`` when sympy
gives them), ``erf``, ``erfc``, ``sin``, ``cos``, ``tan``, ``asin``, ``acos``, ``atan``,
``tanh``, ``sinh``, ``cosh``, ``asinh``, ``acosh``, ``atanh`` (series of the hyperbolic ones
through ``exp``/``log``, which ``arb_series`` lacks), ``Abs``, ``Max``, ``Min``, ``sign``,
``Heaviside``, ``Piecewise`` (conditions ``< <= > >= == !=``, ``&``, ``|``, ``~``), and the
constants ``pi``, ``E``, ``EulerGamma``, ``Catalan``, ``GoldenRatio``, integers, rationals and
floats (their exact binary value). Sigmoid-like forms (``1/(1 + exp(-x))``, ``log(1 + exp(x))``)
are compositions of these. Anything else raises :class:`NoEnclosureError`.

Kinks. ``Abs``/``Max``/``Min``/``sign``/``Heaviside`` over few kinks are first rewritten as a
``Piecewise`` (sympy ``rewrite`` + ``piecewise_fold``) so that most conditions are affine in
``x`` with rational coefficients; such a condition is decided *exactly* on the open interval
``(lo, hi)`` from its root (the value at an endpoint that is a root is a separate point
evaluation: :attr:`Enclosure.breakpoints` lists those roots so that callers split there). Other
conditions are decided from the ball of their left-hand side. Where a condition is not decided
the value is the union of the branches (rigorous), and the series is ``None``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from actfit.errors import ActfitError

__all__ = ["ENCLOSED_FUNCTIONS", "Enclosure", "NoEnclosureError", "compile_expression",
           "compile_target"]

ENCLOSED_FUNCTIONS: tuple[str, ...] = (
    "Abs", "Heaviside", "Max", "Min", "Piecewise", "Pow", "acos", "acosh", "asin", "asinh",
    "atan", "atanh", "cos", "cosh", "erf", "erfc", "exp", "expm1", "log", "log1p", "sign", "sin",
    "sinh", "tan", "tanh",
)
"""sympy function names with an interval enclosure (besides ``Add``, ``Mul`` and constants)."""

_REWRITE_LIMIT = 4  # more non-smooth atoms than this: piecewise_fold can blow up exponentially


class NoEnclosureError(ActfitError):
    """The target uses a function for which actfit has no interval enclosure."""


class _NotSmooth(Exception):
    """Raised inside a series run when a kink of the target is not decided on the interval."""


def _flint() -> Any:
    import flint

    return flint


@dataclass
class _Env:
    series: bool
    lo: float
    hi: float
    n: int
    x: Any


# -- sign queries ---------------------------------------------------------------------------
# Result codes of the sign of u on X (on the open interval for exact affine u; at the point when
# lo == hi): POS > 0, NONNEG >= 0, ZERO == 0, NONPOS <= 0, NEG < 0, None undecided.
POS, NONNEG, ZERO, NONPOS, NEG = 2, 1, 0, -1, -2


class _Sign:
    """Decides the sign of a sub-expression ``u`` on an interval."""

    __slots__ = ("const", "idx", "root_hi", "root_lo", "slope")

    def __init__(self, idx: int, affine: tuple[Fraction, Fraction] | None) -> None:
        self.idx = idx
        self.slope = 0
        self.const: int | None = None
        self.root_lo = self.root_hi = 0.0
        if affine is None:
            return
        c0, c1 = affine
        if c1 == 0:
            self.const = POS if c0 > 0 else (NEG if c0 < 0 else ZERO)
            return
        self.slope = 1 if c1 > 0 else -1
        root = -c0 / c1
        rf = float(root)
        if Fraction(rf) == root:
            self.root_lo = self.root_hi = rf
        elif Fraction(rf) < root:
            self.root_lo, self.root_hi = rf, math.nextafter(rf, math.inf)
        else:
            self.root_lo, self.root_hi = math.nextafter(rf, -math.inf), rf

    def __call__(self, vals: list[Any], env: _Env) -> int | None:
        if self.const is not None:
            return self.const
        if self.slope:
            lo, hi = env.lo, env.hi
            if lo == hi and lo == self.root_lo == self.root_hi:
                if env.series:  # one-sided derivatives only: no two-sided Taylor form here
                    raise _NotSmooth
                return ZERO
            if lo >= self.root_hi:
                return POS * self.slope
            if hi <= self.root_lo:
                return NEG * self.slope
            return None
        v = vals[self.idx]
        if env.series and not _is_arb(v):
            v = v[0]
        if v > 0:
            return POS
        if v < 0:
            return NEG
        if v.is_exact() and v.is_zero():
            return ZERO
        if v.lower() >= 0:
            return NONNEG
        if v.upper() <= 0:
            return NONPOS
        return None


def _is_arb(v: Any) -> bool:
    return type(v).__name__ == "arb"


_REL = {  # relation -> (codes meaning True, codes meaning False)
    "StrictGreaterThan": ({POS}, {NEG, NONPOS, ZERO}),
    "GreaterThan": ({POS, NONNEG, ZERO}, {NEG}),
    "StrictLessThan": ({NEG}, {POS, NONNEG, ZERO}),
    "LessThan": ({NEG, NONPOS, ZERO}, {POS}),
    "Equality": ({ZERO}, {POS, NEG}),
    "Unequality": ({POS, NEG}, {ZERO}),
}

_Cond = Callable[[list[Any], _Env], "bool | None"]


# -- unary functions: (value on arb, series on arb_series) --------------------------------------
def _tanh_s(s: Any) -> Any:
    """Series of ``tanh(u)`` from the ODE ``y' = (1 - y^2) u'``: ``y0 = tanh(u0)`` is a tight
    ball, and no quotient of correlated series appears (``(e^2u - 1)/(e^2u + 1)`` was 70x wider
    on [0.5, 1], measured)."""
    flint = _flint()
    u = s.coeffs()
    n = s.prec
    u += [flint.arb(0)] * (n - len(u))
    y = [u[0].tanh()]
    for k in range(1, n):
        w = [(1 if i == 0 else 0) - sum(y[j] * y[i - j] for j in range(i + 1)) for i in range(k)]
        y.append(sum(w[k - 1 - j] * (j + 1) * u[j + 1] for j in range(k)) / k)
    return flint.arb_series(y, prec=n)


def _method(name: str) -> Callable[[Any], Any]:
    return lambda v: getattr(v, name)()


_UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    # arb and arb_series share these method names
    **{f: (_method(f), _method(f))
       for f in ("exp", "log", "erf", "erfc", "sin", "cos", "tan", "asin", "acos", "atan")},
    "log1p": (lambda v: v.log1p(), lambda s: (1 + s).log()),
    "expm1": (lambda v: v.expm1(), lambda s: s.exp() - 1),
    "tanh": (lambda v: v.tanh(), _tanh_s),
    "sinh": (lambda v: v.sinh(), lambda s: (s.exp() - (-s).exp()) / 2),
    "cosh": (lambda v: v.cosh(), lambda s: (s.exp() + (-s).exp()) / 2),
    "asinh": (lambda v: v.asinh(), lambda s: (s + (s * s + 1).sqrt()).log()),
    "acosh": (lambda v: v.acosh(), lambda s: (s + (s * s - 1).sqrt()).log()),
    "atanh": (lambda v: v.atanh(), lambda s: ((1 + s).log() - (1 - s).log()) / 2),
}


def _arb_const(c: Any, sp: Any) -> Any:
    """Return a ball containing the sympy number ``c`` (exact for integers and floats)."""
    flint = _flint()
    arb = flint.arb
    if c.is_Integer:
        return arb(int(c))
    if c.is_Rational:
        return arb(flint.fmpq(int(c.p), int(c.q)))
    if c.is_Float:
        sign, man, exp, _ = c._mpf_
        v = arb(int(man)) * arb(2) ** int(exp)
        return -v if sign else v
    named = {"Pi": arb.pi, "Exp1": arb.const_e, "EulerGamma": arb.const_euler,
             "Catalan": arb.const_catalan, "GoldenRatio": lambda: (1 + arb(5).sqrt()) / 2}
    if type(c).__name__ in named:
        return named[type(c).__name__]()
    raise NoEnclosureError(f"no interval enclosure for the constant {c}; the proven bound is "
                           "not available for this target")


def _exact_fraction(c: Any) -> Fraction | None:
    if c.is_Rational:
        return Fraction(int(c.p), int(c.q))
    if c.is_Float:
        return Fraction(float(c)) if float(c) == c else None
    return None


def _affine(u: Any, x: Any, sp: Any) -> tuple[Fraction, Fraction] | None:
    """Return ``(c0, c1)`` with ``u = c0 + c1 x`` exactly (rational coefficients), else None."""
    if not u.is_polynomial(x):
        return None
    poly = sp.Poly(u, x)
    if poly.degree() > 1:
        return None
    coeffs = [*poly.all_coeffs()[::-1], sp.Integer(0)]
    c0, c1 = _exact_fraction(coeffs[0]), _exact_fraction(coeffs[1])
    if c0 is None or c1 is None:
        return None
    return c0, c1


class Enclosure:
    """A target compiled to ball arithmetic; build it with :func:`compile_expression`.

    Attributes:
        expression: The (possibly Piecewise-rewritten) sympy expression that was compiled.
        prec: Working precision in bits of the constants and of every run.
        breakpoints: Exactly representable roots of the affine conditions (sorted floats); the
            value there may differ from both one-sided limits, so callers split there.
    """

    def __init__(self, expr: Any, x: Any, prec: int, *, fold: bool = True) -> None:
        import sympy as sp

        self.prec = prec
        self._sp = sp
        self._x = x
        self._ops: list[Callable[[list[Any], _Env], Any]] = []
        self._memo: dict[Any, int] = {}
        self._roots: set[float] = set()
        self._fold = fold
        expr = _rewrite(expr, sp) if fold else expr
        self.expression = expr
        with _precision(prec):
            self._out = self._compile(expr)
        self.breakpoints = tuple(sorted(self._roots))

    # -- running ---------------------------------------------------------------------------
    def _run(self, env: _Env) -> Any:
        vals: list[Any] = []
        for op in self._ops:
            vals.append(op(vals, env))
        return vals[self._out]

    def value(self, lo: float, hi: float | None = None) -> Any:
        """Return a ball containing ``f([lo, hi])`` (``f(lo)`` when ``hi`` is None); a ball with
        NaN midpoint where ``f`` is not defined."""
        flint = _flint()
        hi = lo if hi is None else hi
        with _precision(self.prec):
            x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
            try:
                return self._run(_Env(False, lo, hi, 1, x))
            except (ValueError, ZeroDivisionError):
                return flint.arb.nan()

    def series(self, lo: float, hi: float | None, n: int) -> Any:
        """Return the first ``n`` Taylor coefficients ``f^(k)(X)/k!`` over ``X = [lo, hi]`` as an
        ``arb_series``, or None where ``f`` is not smooth on ``X``."""
        flint = _flint()
        hi = lo if hi is None else hi
        with _precision(self.prec):
            x = flint.arb(lo) if lo == hi else flint.arb(lo).union(flint.arb(hi))
            xs = flint.arb_series([x, 1], prec=n) if n > 1 else flint.arb_series([x], prec=n)
            try:
                out = self._run(_Env(True, lo, hi, n, xs))
            except (_NotSmooth, ValueError, ZeroDivisionError):
                # ValueError: arb_series refuses a quotient whose leading ball contains 0
                return None
            if _is_arb(out):
                out = flint.arb_series([out], prec=n)
            return out

    # -- compiling -------------------------------------------------------------------------
    def _emit(self, op: Callable[[list[Any], _Env], Any]) -> int:
        self._ops.append(op)
        return len(self._ops) - 1

    def _const(self, value: Any) -> int:
        return self._emit(lambda vals, env: value)

    def _compile(self, e: Any) -> int:
        if e in self._memo:
            return self._memo[e]
        idx = self._compile_node(e)
        self._memo[e] = idx
        return idx

    def _compile_node(self, e: Any) -> int:
        sp = self._sp
        if e == self._x:
            return self._emit(lambda vals, env: env.x)
        if e.is_Number or isinstance(e, sp.NumberSymbol):
            if e.is_Float or e.is_Rational or isinstance(e, sp.NumberSymbol):
                return self._const(_arb_const(e, sp))
            raise NoEnclosureError(f"no interval enclosure for the number {e}; the proven bound "
                                   "is not available for this target")
        if self._fold and not e.free_symbols:
            # a constant subtree (sqrt(2), log(2)/pi, ...) is evaluated once, not on every run
            return self._const(Enclosure(e, self._x, self.prec, fold=False).value(0.0))
        name = type(e).__name__
        if isinstance(e, sp.Add):
            args = [self._compile(a) for a in e.args]
            return self._emit(lambda vals, env: _sum(vals, args))
        if isinstance(e, sp.Mul):
            args = [self._compile(a) for a in e.args]
            return self._emit(lambda vals, env: _prod(vals, args))
        if isinstance(e, sp.Pow):
            return self._compile_pow(e.base, e.exp)
        if name in _UNARY and len(e.args) == 1:
            u = self._compile(e.args[0])
            if name == "log":
                u = self._clipped(e.args[0], u)
            fv, fs = _UNARY[name]
            return self._emit(lambda vals, env: fs(vals[u]) if env.series and not _is_arb(vals[u])
                              else fv(vals[u]))
        if isinstance(e, sp.Piecewise):
            return self._compile_piecewise(e)
        if name == "Abs":
            return self._compile_abs(e.args[0])
        if name in {"Max", "Min"}:
            return self._compile_maxmin(e, name == "Max")
        if name in {"sign", "Heaviside"}:
            return self._compile_step(e, name)
        raise NoEnclosureError(
            f"no interval enclosure for {name!r} in {e}; the proven bound is not available for "
            "this target"
        )

    def _sign(self, u: Any) -> _Sign:
        aff = _affine(u, self._x, self._sp)
        if aff is not None and aff[1] != 0:
            root = -aff[0] / aff[1]
            if Fraction(float(root)) == root:
                self._roots.add(float(root))
        return _Sign(self._compile(u), aff)

    def _clipped(self, u_expr: Any, u: int) -> int:
        """The ball of ``u`` cut to ``[0, inf)`` where ``u`` is affine and proven >= 0 on X.

        An interval ball of ``[0, h]`` always reaches slightly below 0 (arb rounds every radius
        up), so ``sqrt``/``log`` of it would be NaN although ``u >= 0`` holds exactly.
        """
        aff = _affine(u_expr, self._x, self._sp)
        if aff is None or aff[1] == 0:
            return u
        q = _Sign(u, aff)

        def clip(vals: list[Any], env: _Env) -> Any:
            v = vals[u]
            if env.series or not _is_arb(v) or q(vals, env) != POS:
                return v
            return v.nonnegative_part()

        return self._emit(clip)

    def _compile_pow(self, base: Any, expo: Any) -> int:
        sp = self._sp
        b = self._compile(base)
        if expo.is_Integer:
            k = int(expo)
            if k >= 0:
                return self._emit(lambda vals, env: vals[b] ** k)
            return self._emit(lambda vals, env: _inv(vals[b] ** (-k)))
        b = self._clipped(base, b)
        if expo == sp.Rational(1, 2):
            return self._emit(lambda vals, env: vals[b].sqrt())
        if expo == sp.Rational(-1, 2):
            return self._emit(lambda vals, env: vals[b].rsqrt())
        if expo.is_Rational and expo.q == 2:  # u^(k/2) = sqrt(u)^k keeps u = 0 finite
            k = int(expo.p)
            if k > 0:
                return self._emit(lambda vals, env: vals[b].sqrt() ** k)
            return self._emit(lambda vals, env: _inv(vals[b].sqrt() ** (-k)))
        p = self._compile(expo)
        return self._emit(lambda vals, env: (vals[p] * vals[b].log()).exp())

    def _compile_abs(self, u_expr: Any) -> int:
        q = self._sign(u_expr)
        u = q.idx

        def op(vals: list[Any], env: _Env) -> Any:
            if not env.series or _is_arb(vals[u]):
                return abs(vals[u])
            s = q(vals, env)
            if s in (POS, NONNEG):
                return vals[u]
            if s in (NEG, NONPOS):
                return -vals[u]
            raise _NotSmooth

        return self._emit(op)

    def _compile_maxmin(self, e: Any, is_max: bool) -> int:
        sp = self._sp
        args = list(e.args)
        left = args[0]
        for right in args[1:]:
            q = self._sign(left - right)
            a, b = self._compile(left), self._compile(right)

            def op(vals: list[Any], env: _Env, q: _Sign = q, a: int = a, b: int = b) -> Any:
                s = q(vals, env)
                if s is None or (s == ZERO and env.series):
                    if env.series:
                        raise _NotSmooth
                    return vals[a].max(vals[b]) if is_max else vals[a].min(vals[b])
                return vals[a] if (s >= 0) == is_max else vals[b]  # s >= 0: a >= b

            idx = self._emit(op)
            left = (sp.Max if is_max else sp.Min)(left, right, evaluate=False)
            self._memo[left] = idx
        return idx

    def _compile_step(self, e: Any, name: str) -> int:
        arb = _flint().arb
        q = self._sign(e.args[0])
        if name == "sign":
            at_zero, hull = arb(0), arb(-1).union(arb(1))
            pos, neg = arb(1), arb(-1)
        else:
            h0 = e.args[1] if len(e.args) > 1 else self._sp.Rational(1, 2)
            at_zero, pos, neg = _arb_const(h0, self._sp), arb(1), arb(0)
            hull = arb(0).union(arb(1)).union(at_zero)

        def op(vals: list[Any], env: _Env) -> Any:
            s = q(vals, env)
            if s == POS:
                return pos
            if s == NEG:
                return neg
            if env.series:
                raise _NotSmooth
            if s == ZERO:
                return at_zero
            return hull

        return self._emit(op)

    def _compile_cond(self, c: Any) -> _Cond:
        sp = self._sp
        if c is sp.true or c == sp.true:
            return lambda vals, env: True
        if c is sp.false or c == sp.false:
            return lambda vals, env: False
        name = type(c).__name__
        if name in _REL:
            q = self._sign(c.lhs - c.rhs)
            yes, no = _REL[name]

            def rel(vals: list[Any], env: _Env) -> bool | None:
                s = q(vals, env)
                return True if s in yes else (False if s in no else None)

            return rel
        if name in {"And", "Or"}:
            subs = [self._compile_cond(a) for a in c.args]
            want = name == "Or"

            def junction(vals: list[Any], env: _Env) -> bool | None:
                unknown = False
                for f in subs:
                    r = f(vals, env)
                    if r is want:
                        return want
                    unknown = unknown or r is None
                return None if unknown else not want

            return junction
        if name == "Not":
            inner = self._compile_cond(c.args[0])

            def negation(vals: list[Any], env: _Env) -> bool | None:
                r = inner(vals, env)
                return None if r is None else not r

            return negation
        raise NoEnclosureError(f"no interval enclosure for the condition {c}; the proven bound "
                               "is not available for this target")

    def _compile_piecewise(self, e: Any) -> int:
        pairs = [(self._compile(ex), self._compile_cond(c)) for ex, c in e.args]
        nan = _flint().arb.nan()

        def op(vals: list[Any], env: _Env) -> Any:
            acc = None
            for idx, cond in pairs:
                r = cond(vals, env)
                if r is False:
                    continue
                if env.series:
                    if r is None:
                        raise _NotSmooth
                    return vals[idx]
                v = vals[idx]
                acc = v if acc is None else acc.union(v)
                if r is True:
                    break
            return nan if acc is None else acc

        return self._emit(op)


def _inv(v: Any) -> Any:
    """``1/v``; a NaN series where the leading ball contains 0 (arb_series raises there, and an
    eagerly run Piecewise branch that is not taken must not abort the run)."""
    if _is_arb(v):
        return 1 / v
    if v[0].contains(0):
        flint = _flint()
        return flint.arb_series([flint.arb.nan()] * v.prec, prec=v.prec)
    return 1 / v


def _sum(vals: list[Any], args: list[int]) -> Any:
    acc = vals[args[0]]
    for i in args[1:]:
        acc = acc + vals[i]
    return acc


def _prod(vals: list[Any], args: list[int]) -> Any:
    acc = vals[args[0]]
    for i in args[1:]:
        acc = acc * vals[i]
    return acc


def _rewrite(expr: Any, sp: Any) -> Any:
    """Rewrite few Abs/Max/Min/sign/Heaviside as one Piecewise with (mostly) affine conditions."""
    kinds = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside)
    atoms = expr.atoms(*kinds)
    if not atoms or len(atoms) > _REWRITE_LIMIT:
        return expr
    try:
        return sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    except Exception:
        return expr


@contextlib.contextmanager
def _precision(prec: int) -> Iterator[None]:
    """Set python-flint's working precision for the block (restored on exit)."""
    ctx = _flint().ctx
    saved, ctx.prec = ctx.prec, prec
    try:
        yield
    finally:
        ctx.prec = saved


def compile_expression(expr: Any, x: Any = None, *, prec: int = 128) -> Enclosure:
    """Compile a sympy expression in ``x`` (default :func:`actfit.targets.symbol`).

    Raises:
        NoEnclosureError: the expression uses a function without an interval enclosure.

    Examples:
        >>> import sympy
        >>> enc = compile_expression(sympy.exp(sympy.Symbol("x", real=True)))
        >>> enc.value(0.0).contains(1)
        True
    """
    if x is None:
        from actfit.targets import symbol

        x = symbol()
    return Enclosure(expr, x, prec)


def compile_target(target: Any, *, prec: int = 128) -> Enclosure:
    """Compile a :class:`actfit.targets.Target` from its exact sympy expression.

    Raises:
        NoEnclosureError: the target uses a function without an interval enclosure.
    """
    return compile_expression(target.sympy(), prec=prec)

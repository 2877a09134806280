"""A safe parser for expressions in ``x``: checked against a whitelist, never evaluated.

The text is parsed with Python's :mod:`ast` (``^`` read as ``**``) and the tree is checked
node by node against a whitelist: the name ``x``, numbers, ``pi`` and ``e``, unary ``+``/``-``,
binary ``+ - * / **`` and calls by bare name of the functions in
:mod:`actfit.targets.functions`. Anything else is refused with an
:class:`~actfit.errors.ExpressionError` that names the construct in words and quotes the
offending fragment as the user wrote it. The sympy expression, the numpy evaluator and the
mpmath evaluator are then each built from the checked tree, so no part of the text is ever
executed.

Examples:
    >>> t = parse_expression("x*sigmoid(x)")
    >>> float(t(0.0)), t.kinks
    (0.0, ())
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from actfit.errors import ExpressionError
from actfit.targets.constants import _exact_number
from actfit.targets.functions import (
    _FUNCTIONS,
    _allowed_names,
    _mpmath_functions,
    _numpy_functions,
    _sympy_functions,
)
from actfit.targets.kinks import _expression_kinks
from actfit.targets.types import Target, symbol

__all__ = ["parse_expression"]

_CONSTANTS = ("x", "pi", "e")
_MAX_EXPRESSION_CHARS = 1000
_MAX_DEPTH = 100
_MAX_FRAGMENT = 40

# Constructs Python parses but an expression may not use, in words for the error message.
_CONSTRUCTS: dict[type, str] = {
    ast.IfExp: "a conditional (if ... else)",
    ast.Lambda: "a lambda",
    ast.List: "a list [...]",
    ast.Tuple: "a tuple (a comma outside a function call)",
    ast.Set: "a set {...}",
    ast.Dict: "a dict {...}",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Attribute: "attribute access (.)",
    ast.Subscript: "indexing [...]",
    ast.Slice: "a slice",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator (and/or)",
    ast.NamedExpr: "an assignment (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "a starred argument (*)",
}
_OPERATORS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "xor",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Not: "not",
    ast.Invert: "~",
}
# Python statements that "cannot parse" hides, in words (first characters at the error).
_STATEMENTS = (
    (";", "';' (a second statement)"),
    (":=", "an assignment (:=)"),
    ("=", "an assignment or keyword (=)"),
)


class _Source:
    """The user's text and the code parsed from it, with offsets mapped back to the text.

    ``^`` becomes ``**`` in the code, so fragments are cut from the text through a map of code
    offsets to text offsets, and quote what the user wrote.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.code = text.replace("^", "**")
        back: list[int] = []
        for i, c in enumerate(text):
            back.extend((i, i) if c == "^" else (i,))
        self._back = [*back, len(text)]
        starts, total = [], 0
        for line in self.code.splitlines(keepends=True) or [""]:
            starts.append(total)
            total += len(line)
        self._starts = starts

    def _offset(self, line: int, col_bytes: int) -> int:
        start = self._starts[min(line, len(self._starts)) - 1]
        line_text = self.code[start:].split("\n", 1)[0]
        col = len(line_text.encode()[:col_bytes].decode(errors="ignore"))
        return self._back[min(start + col, len(self._back) - 1)]

    def fragment(self, node: ast.AST) -> str:
        """Return the text of ``node`` as the user wrote it, shortened to 40 characters."""
        end_line = getattr(node, "end_lineno", None)
        end_col = getattr(node, "end_col_offset", None)
        seg = ""
        if hasattr(node, "lineno") and end_line is not None and end_col is not None:
            lo = self._offset(node.lineno, node.col_offset)
            hi = self._offset(end_line, end_col)
            seg = self.text[lo:hi].strip()
        if not seg:
            seg = self.text
        return seg if len(seg) <= _MAX_FRAGMENT else seg[: _MAX_FRAGMENT - 3] + "..."

    def near(self, line: int | None, col: int | None) -> tuple[int, str]:
        """Return the 1-based column in the text and the text from there (a syntax error)."""
        if not line or not col:
            return 0, ""
        start = self._starts[min(line, len(self._starts)) - 1]
        at = self._back[min(start + col - 1, len(self._back) - 1)]
        rest = self.text[at:].strip()
        return at + 1, rest if len(rest) <= 20 else rest[:17] + "..."


class _Validator:
    """Checks a parsed tree against the whitelist; raises ExpressionError naming the culprit."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def fail(self, what: str, node: ast.AST) -> ExpressionError:
        # Words first, then the fragment: the words survive a renderer that eats "[x]".
        return ExpressionError(
            f"{what} is not allowed in an expression: '{self.source.fragment(node)}' "
            f"({_allowed_names()})"
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
                raise self.fail(f"the operator {_OPERATORS.get(type(node.op), '?')}", node)
            self.visit(node.left, depth + 1)
            self.visit(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.UAdd, ast.USub)):
                raise self.fail(f"the operator {_OPERATORS.get(type(node.op), '?')}", node)
            self.visit(node.operand, depth + 1)
        elif isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                bare = node.id in _FUNCTIONS
                what = "a function used without a call" if bare else "an unknown name"
                raise self.fail(what, node)
        elif isinstance(node, ast.Call):
            self.call(node, depth)
        else:
            what = _CONSTRUCTS.get(type(node), f"the Python construct {type(node).__name__}")
            raise self.fail(what, node)

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, bool):
                what = "a boolean constant"
            elif isinstance(value, complex):
                what = "a complex constant"
            elif isinstance(value, (str, bytes)):
                what = "a string constant"
            elif value is Ellipsis:
                what = "an ellipsis (...)"
            else:
                what = f"the constant {value!r}"
            raise self.fail(what, node)
        if not math.isfinite(value) or abs(value) > 1e300:
            raise ExpressionError(
                f"constant '{self.source.fragment(node)}' is too large; use numbers up to 1e300"
            )

    def call(self, node: ast.Call, depth: int) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail("a call of something other than a function name", node)
        if func.id in _CONSTANTS:
            raise self.fail(f"a call of {func.id}, which is not a function,", node)
        if func.id not in _FUNCTIONS:
            raise self.fail(f"the unknown function {func.id}()", node)
        if node.keywords:
            raise self.fail("a keyword argument", node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("a starred argument (*)", arg)
        spec = _FUNCTIONS[func.id]
        lo, hi = spec.min_args, spec.max_args
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}"
            raise ExpressionError(
                f"{func.id}() takes {want} argument{'s' if lo != 1 else ''}, got {n} in "
                f"'{self.source.fragment(node)}'"
            )
        for arg in node.args:
            self.visit(arg, depth + 1)


def _syntax_error(source: _Source, exc: SyntaxError) -> ExpressionError:
    column, rest = source.near(exc.lineno, exc.offset)
    what = next((words for token, words in _STATEMENTS if rest.startswith(token)), None)
    if what is not None:
        return ExpressionError(
            f"{what} at column {column} of '{source.text[:60]}' is not allowed; an expression "
            f"is one formula in x ({_allowed_names()})"
        )
    where = f" at column {column}" if column else ""
    near = f" (near '{rest}')" if rest else " (at its end)" if column else ""
    return ExpressionError(
        f"cannot parse expression '{source.text[:60]}': {exc.msg}{where}{near} "
        f"({_allowed_names()})"
    )


def _build_sympy(node: ast.AST, text: str, sp: Any, x: Any, funcs: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _build_sympy(node.body, text, sp, x, funcs)
    if isinstance(node, ast.Constant):
        seg = ast.get_source_segment(text, node) or ""
        try:
            # The literal's text, so 0.1 means 1/10 exactly.
            return sp.Rational(seg.strip())
        except (TypeError, ValueError):
            value = node.value
            return sp.Integer(value) if isinstance(value, int) else _exact_number(value)
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
                    return real(mp, _mpmath_functions(mp)[name](*vals))
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
    source = _Source(src)
    code = source.code
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ExpressionError(f"cannot parse expression '{src[:60]}': {exc}") from None

    try:
        _Validator(source).visit(tree)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply; simplify it") from None

    import sympy

    x = symbol()
    try:
        expr = _build_sympy(tree, code, sympy, x, _sympy_functions(sympy))
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
        _numpy=_compile_numpy(tree, _numpy_functions()),
        _sympy=lambda: expr,
        _mp=_compile_mp(tree, code),
    )


"""Tests for actfit.targets: the registry, the safe expression parser and the domain check.

The numpy evaluators are checked against the independent mpmath evaluators at 50 digits, with a
tolerance scaled by the conditioning of the function at each point (a float64 evaluation cannot
beat the change of the exact function under a relative input perturbation of a few ulps).
"""

from __future__ import annotations

import json
import math
import re
import string
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text

from actfit.errors import (
    ExpressionError,
    ParameterError,
    RangeError,
    TargetDomainError,
    UnknownTargetError,
)
from actfit.targets import (
    Target,
    check_finite,
    from_dict,
    get_target,
    list_targets,
    parse_expression,
    resolve_target,
    symbol,
)

# One non-default parameter set per parametrised registry entry.
NON_DEFAULT: dict[str, dict[str, float]] = {
    "leaky_relu": {"slope": 0.2},
    "prelu": {"a": -0.5},
    "rrelu": {"lower": 0.1, "upper": 0.5},
    "elu": {"alpha": 0.5},
    "pelu": {"a": 1.5, "b": 0.7},
    "celu": {"alpha": 2.0},
    "tselu": {"alpha": 1.2, "scale": 0.9},
    "tgelu": {"a": 1.7},
    "swish": {"beta": 2.5},
    "tswish": {"z": 3.0},
    "thardswish": {"z": 0.5},
    "softplus": {"beta": 3.0},
    "hardtanh": {"min": -2.0, "max": 0.5},
    "tsqrt": {"z": 0.3},
    "tsqrt_tanh": {"k": 2.0},
    "srelu": {"tl": -2.0, "al": 0.2, "tr": 3.0, "ar": 0.5},
    "p_sig_ramp": {"alpha": 0.3, "beta": 0.6},
    "p_e2_relu": {"alpha": 0.2, "beta": 0.5},
    "tleaky_relu": {"slope": 0.1, "scale": 1.5},
}

NAMES = [info.name for info in list_targets()]
CASES = [(name, None) for name in NAMES] + sorted(NON_DEFAULT.items())
CASE_IDS = [f"{n}-default" if p is None else f"{n}-{p}" for n, p in CASES]

EPS = np.finfo(float).eps


def _grid(target: Target) -> np.ndarray:
    pts = [np.linspace(-10.0, 10.0, 81), [0.0, 1e-8, -1e-8, 50.0, -50.0, 700.0, -700.0]]
    for k in target.kinks:
        pts.append([k, k - 1e-9, k + 1e-9])
    return np.unique(np.concatenate([np.asarray(p, dtype=float) for p in pts]))


def _reference(target: Target, xs: np.ndarray) -> tuple[list, list]:
    """Return the 50-digit values and their sensitivity to a 2-ulp relative input change."""
    vals, wobble = [], []
    with mpmath.workdps(50):
        for v in xs:
            xv = mpmath.mpf(float(v))
            f0 = target.mp(xv)
            d = 2 * EPS * xv
            w = max(abs(target.mp(xv + d) - f0), abs(target.mp(xv - d) - f0))
            vals.append(f0)
            wobble.append(w)
    return vals, wobble


def test_every_parametrised_entry_has_a_non_default_case():
    with_params = {info.name for info in list_targets() if info.params}
    assert with_params == set(NON_DEFAULT)


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_numpy_matches_mpmath_reference(name, params):
    target = get_target(name, params)
    xs = _grid(target)
    ys = target(xs)
    assert ys.dtype == np.float64 and ys.shape == xs.shape
    ref, wobble = _reference(target, xs)
    with mpmath.workdps(50):
        for xv, yv, rv, wv in zip(xs, ys, ref, wobble, strict=True):
            err = abs(mpmath.mpf(float(yv)) - rv)
            tol = 1e-14 * abs(rv) + 4 * wv + mpmath.mpf("1e-305")
            assert err <= tol, f"{name}{params or ''} at x={xv!r}: {float(yv)!r} vs {rv}"


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_sympy_matches_mpmath_reference(name, params):
    target = get_target(name, params)
    expr, x = target.sympy(), symbol()
    assert expr.free_symbols <= {x}
    for v in (-3.7, -0.5, 0.3, 2.1, 7.0):
        exact = sympy.N(expr.subs(x, sympy.Rational(repr(v))), 30)
        with mpmath.workdps(30):
            ref = target.mp(v)
            assert abs(mpmath.mpf(str(exact)) - ref) <= 1e-13 * abs(ref) + 1e-15, (name, v)


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_expression_string_parses_to_the_same_function(name, params):
    target = get_target(name, params)
    parsed = parse_expression(target.expression)
    xs = np.union1d(np.linspace(-10.0, 10.0, 201), target.kinks)
    np.testing.assert_allclose(parsed(xs), target(xs), rtol=1e-12, atol=1e-13)
    # The best-effort kink finder recovers the registry's exact kinks here.
    np.testing.assert_allclose(parsed.kinks, target.kinks, rtol=1e-12, atol=1e-12)


def test_sympy_parameters_are_exact_rationals():
    expr = get_target("leaky_relu", {"slope": 0.01}).sympy()
    assert sympy.Rational(1, 100) in expr.atoms(sympy.Rational)
    selu = get_target("selu").sympy()
    assert sympy.Rational("1.6732632423543772848170429916717") in selu.atoms(sympy.Rational)
    rrelu = get_target("rrelu").sympy()  # mean of 1/8 and 1/3
    assert sympy.Rational(11, 48) in rrelu.atoms(sympy.Rational)
    x = symbol()
    assert get_target("tswish").sympy() == x / (1 + sympy.exp(-x))  # z = e, exactly


def test_large_inputs_do_not_overflow_or_warn():
    big = np.array([-1e308, -1000.0, -700.0, 700.0, 1000.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in NAMES:
            ys = get_target(name)(big)
            assert not np.isnan(ys).any(), name
    assert get_target("softplus")(1000.0) == 1000.0
    y = get_target("swish")(-1000.0)
    assert y == 0.0 and np.signbit(y)
    assert get_target("mish")(1000.0) == 1000.0
    assert get_target("gelu")(-1000.0) == 0.0


def test_output_shape_follows_input():
    t = get_target("gelu")
    assert t(0.5).shape == ()
    assert t([[0.0, 1.0], [2.0, 3.0]]).shape == (2, 2)
    assert parse_expression("2")(np.zeros((3, 1))).shape == (3, 1)


# ------------------------------------------------------------------------ names and parameters


def test_alias_and_case_insensitivity():
    assert get_target("silu") == get_target("swish", {"beta": 1})
    assert get_target("SiLU") == get_target("swish")
    assert get_target("Leaky-ReLU").name == "leaky_relu"
    assert get_target("GELU").name == "gelu"
    assert get_target("swish", {"BETA": 2}) == get_target("swish", {"beta": 2})
    x = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(get_target("tswish")(x), get_target("silu")(x), rtol=1e-14)
    np.testing.assert_allclose(get_target("tgelu")(x), get_target("gelu")(x), rtol=1e-14)
    np.testing.assert_allclose(get_target("thardswish")(x), get_target("hardswish")(x))
    np.testing.assert_allclose(get_target("tselu")(x), get_target("selu")(x), rtol=1e-15)


def test_did_you_mean():
    with pytest.raises(UnknownTargetError) as info:
        get_target("gelo")
    assert str(info.value) == (
        "unknown target 'gelo'; did you mean 'gelu'? (actfit targets lists them)"
    )
    with pytest.raises(UnknownTargetError, match="actfit targets lists them"):
        get_target("qqqqqq")


def test_unknown_parameter_names_the_known_ones():
    with pytest.raises(ParameterError, match=r"swish has no parameter 'alpha'.*beta"):
        get_target("swish", {"alpha": 1.0})
    with pytest.raises(ParameterError, match="takes no parameters"):
        get_target("relu", {"slope": 0.1})


@pytest.mark.parametrize(
    ("name", "params", "pattern"),
    [
        ("swish", {"beta": -1.0}, r"beta of swish must be in \[0, inf\)"),
        ("softplus", {"beta": 0.0}, r"\(0, inf\)"),
        ("swish", {"beta": float("nan")}, "finite"),
        ("leaky_relu", {"slope": float("inf")}, "finite"),
        ("swish", {"beta": "abc"}, "must be a number"),
        ("p_sig_ramp", {"alpha": 1.5}, r"\[0, 1\]"),
        ("hardtanh", {"min": 1.0, "max": -1.0}, "min < max"),
        ("srelu", {"tl": 2.0}, "tl < tr"),
        ("rrelu", {"lower": 0.5, "upper": 0.1}, "lower <= upper"),
        ("p_e2_relu", {"alpha": 0.8, "beta": 0.5}, "alpha \\+ beta <= 1"),
    ],
)
def test_bad_parameter_values(name, params, pattern):
    with pytest.raises(ParameterError, match=pattern):
        get_target(name, params)


def test_params_are_complete_and_sorted():
    t = get_target("srelu", {"ar": 0.5})
    assert [k for k, _ in t.params] == sorted(["tl", "al", "tr", "ar"])
    assert t.param_dict == {"tl": -1.0, "al": 0.1, "tr": 1.0, "ar": 0.5}
    assert get_target("swish", {"beta": "2"}).param_dict == {"beta": 2.0}


def test_list_targets_has_the_catalogue():
    infos = {info.name: info for info in list_targets()}
    for name in ("relu", "gelu", "gelu_tanh", "swish", "mish", "srelu", "p_e2_relu", "tsqrt"):
        assert infos[name].source
        assert infos[name].formula
    assert "silu" in infos["swish"].aliases
    assert infos["leaky_relu"].defaults == {"slope": 0.01}
    assert infos["rrelu"].defaults == pytest.approx({"lower": 1 / 8, "upper": 1 / 3})


# ---------------------------------------------------------------------------------- kinks


@pytest.mark.parametrize(
    ("name", "params", "kinks"),
    [
        ("relu", None, (0.0,)),
        ("relu6", None, (0.0, 6.0)),
        ("leaky_relu", None, (0.0,)),
        ("leaky_relu", {"slope": 1.0}, ()),
        ("elu", None, (0.0,)),
        ("selu", None, (0.0,)),
        ("hardswish", None, (-3.0, 3.0)),
        ("thardswish", {"z": 0.5}, (-6.0, 6.0)),
        ("hardtanh", {"min": -2.0, "max": 0.5}, (-2.0, 0.5)),
        ("srelu", None, (-1.0, 1.0)),
        ("srelu", {"ar": 1.0}, (-1.0,)),
        ("sqrt_act", None, (0.0,)),
        ("abs", None, (0.0,)),
        ("p_sig_ramp", None, (-2.0, 2.0)),
        ("p_sig_ramp", {"alpha": 1.0}, ()),
        ("gelu", None, ()),
        ("mish", None, ()),
    ],
)
def test_kinks(name, params, kinks):
    assert get_target(name, params).kinks == kinks


def test_is_analytic_at():
    relu = get_target("relu")
    assert not relu.is_analytic_at(0.0)
    assert relu.is_analytic_at(1.0) and relu.is_analytic_at(-1e-3)
    hs = get_target("hardswish")
    assert not hs.is_analytic_at(-3.0) and not hs.is_analytic_at(3)
    assert get_target("leaky_relu", {"slope": 1.0}).is_analytic_at(0.0)
    assert get_target("gelu").is_analytic_at(0.0)
    log = parse_expression("log(x)")
    assert not log.is_analytic_at(0.0) and not log.is_analytic_at(-1.0)
    assert log.is_analytic_at(1.0)


@pytest.mark.parametrize(
    ("text", "kinks"),
    [
        ("abs(x - 1)", (1.0,)),
        ("max(x, 0)", (0.0,)),
        ("min(x^2 - 4, 0)", (-2.0, 2.0)),
        ("sqrt(abs(x))", (0.0,)),
        ("heaviside(x + 0.5)", (-0.5,)),
        ("abs(exp(x) - 2)", (math.log(2.0),)),
        ("abs(x^2)", ()),
        ("x*sigmoid(x)", ()),
        ("1/x", (0.0,)),
    ],
)
def test_expression_kinks(text, kinks):
    np.testing.assert_allclose(parse_expression(text).kinks, kinks, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- expressions


def test_parse_valid_expressions():
    x = np.linspace(-20.0, 20.0, 401)
    mish = parse_expression("x*tanh(log(1+exp(x)))")
    np.testing.assert_allclose(mish(x), get_target("mish")(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(parse_expression("x^2")(x), x**2)
    np.testing.assert_allclose(parse_expression("x**2")(x), x**2)
    np.testing.assert_array_equal(parse_expression("max(x,0)")(x), np.maximum(x, 0))
    t = parse_expression("  2*pi*e + -x ")
    assert t.expression == "2*pi*e + -x" and t.name == "expr" and t.params == ()
    np.testing.assert_allclose(t(1.0), 2 * math.pi * math.e - 1)
    with mpmath.workdps(40):
        assert abs(t.mp(1) - (2 * mpmath.pi * mpmath.e - 1)) < mpmath.mpf("1e-38")
    assert parse_expression("0.1*x").sympy() == symbol() / 10


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("__import__('os')", "__import__"),
        ("x.real", "x.real"),
        ("(lambda: 1)()", "lambda"),
        ("y+1", "'y'"),
        ("open('f')", "open"),
        ("x[0]", "x[0]"),
        ("'a'", "'a'"),
        ("exp(x=1)", "keyword"),
        ("max(*x)", "starred"),
        ("x if x else 1", "conditional"),
        ("x == 1", "comparison"),
        ("x % 2", "operator"),
        ("exp", "without a call"),
        ("exp(x, 2)", "takes 1 argument"),
        ("1j*x", "constant"),
        ("", "empty"),
        ("x +", "cannot parse"),
        ("1/0", "undefined"),
        ("sqrt(-1)*x", "complex"),
        ("9**9**9**9", "too large"),
        ("x" + "+x" * 600, "longer than"),
        ("-" * 200 + "x", "nested"),
    ],
)
def test_parse_rejects(text, piece):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert piece in message
    assert "\n" not in message


# Each disallowed construct, with the words its message must use. Through resolve_target
# (what the CLI calls) too: "[x]" and "x.real" used to be looked up as registry names.
_CONSTRUCTS = [
    ("x if x else 1", "a conditional (if ... else)"),
    ("lambda: x", "a lambda"),
    ("[x]", "a list"),
    ("x.real", "attribute access"),
    ("x[0]", "indexing"),
    ("f'{x}'", "an f-string"),
    ("x; x", "';' (a second statement)"),
    ("x := 1", "an assignment (:=)"),
    ("(x := 1)", "an assignment (:=)"),
    ("x = 1", "an assignment or keyword (=)"),
    ("x == 1", "a comparison"),
    ("(x, 1)", "a tuple"),
    ("{x}", "a set"),
    ("{1: x}", "a dict"),
    ("[x for x in x]", "a comprehension"),
    ("x and 1", "a boolean operator"),
    ("~x", "the operator ~"),
    ("x // 2", "the operator //"),
    ("'a'", "a string constant"),
    ("...", "an ellipsis"),
    ("True*x", "a boolean constant"),
    ("(x)(1)", "not a function"),
    ("open('f')", "the unknown function open()"),
    ("exp(x=1)", "a keyword argument"),
    ("max(*x)", "a starred argument"),
    ("y + 1", "an unknown name"),
    ("exp + 1", "a function used without a call"),
    ("x ^^ 2", "near '^ 2'"),
]


@pytest.mark.parametrize(("text", "words"), _CONSTRUCTS, ids=[t for t, _ in _CONSTRUCTS])
def test_rejection_names_the_construct_and_a_nonempty_fragment(text, words):
    for parse in (parse_expression, resolve_target):
        with pytest.raises(ExpressionError) as info:
            parse(text)
        message = str(info.value)
        assert words in message
        quoted = re.findall(r"(?<![\w'])'(.+?)'(?=[\s:;,)]|$)", message)
        assert quoted and all(q.strip() for q in quoted), message
        # The fragment is quoted as the user wrote it (``^`` is not shown as ``**``).
        assert any(q in text or text.startswith(q.rstrip(".")) for q in quoted), message
        # The CLI prints messages as rich markup, which swallows "[x]": the words survive.
        assert words.split(" (")[0] in Text.from_markup(message).plain


def test_fragments_quote_the_users_text():
    with pytest.raises(ExpressionError, match=r": 'x\^2 if x else 1'"):
        parse_expression("x^2 if x else 1")
    with pytest.raises(ExpressionError, match=r"near '\+ y'"):
        parse_expression("x^2\n+ y")
    with pytest.raises(UnknownTargetError, match="no target given"):
        resolve_target("  ")


def test_rejected_message_lists_allowed_names():
    with pytest.raises(ExpressionError, match=r"allowed: x, pi, e.*sigmoid"):
        parse_expression("y+1")


def test_parser_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    for text in (
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"exp(__import__('pathlib').Path('{marker}').touch())",
    ):
        with pytest.raises(ExpressionError):
            parse_expression(text)
    assert not marker.exists()


_TOKENS = [
    "x", "(", ")", "+", "-", "*", "/", "**", "^", ",", " ", "1", "2.5", "0", "e", "pi", "1e400",
    "exp", "log", "sqrt", "max", "min", "abs", "sigmoid", "tanh", "y", "__import__", "'a'",
    ".real", "[0]", "lambda", ":", "=", "j",
]  # fmt: skip


def _parse_or_error(text: str) -> None:
    try:
        t = parse_expression(text)
    except ExpressionError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = t(np.array([-2.0, -0.5, 0.0, 0.5, 3.0]))
    assert out.shape == (5,)
    assert all(math.isfinite(k) for k in t.kinks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=string.printable, max_size=30))
def test_random_text_parses_or_raises_expression_error(text):
    _parse_or_error(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=12).map("".join))
def test_random_token_soup_parses_or_raises_expression_error(text):
    _parse_or_error(text)


_LEAVES = st.sampled_from(["x", "1", "2.5", "0.5", "pi", "e", "-x"])
_UNARY = ["exp", "log", "sqrt", "abs", "sign", "tanh", "sigmoid", "softplus", "erf", "atan", "sin"]


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"
        ),
        st.tuples(st.sampled_from(_UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
    )


def _mp_float(t: Target, x0: float, bits: int) -> float:
    with mpmath.workprec(bits):
        return float(t.mp(x0))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(_LEAVES, _grow, max_leaves=8), st.floats(-4.0, 4.0))
def test_random_wellformed_expressions_agree_in_numpy_and_mpmath(text, x0):
    """The numpy and mpmath evaluators compiled from one tree give the same function.

    A float64 evaluation cannot beat the conditioning of the tree at x0 (its rounded constants
    and intermediate results): it must agree with the mpmath value at 200 bits to 1e-9 plus a
    thousand times the spread of the same mpmath code run at 53 and 64 bits, or else with one
    of those low-precision runs (which reproduce float64's rounding, e.g. of a base
    ``x - 1 = -1`` raised to ``x + 1 = 1`` for a tiny x, where the exact power is complex).
    Points where an intermediate result over- or underflows float64 are skipped (mpmath has no
    overflow).
    """
    _parse_or_error(text)
    try:
        t = parse_expression(text)
    except ExpressionError:
        return
    with np.errstate(all="raise"):
        try:
            # The raw evaluator: Target.__call__ silences the floating-point flags.
            value = float(t._numpy(np.float64(x0)))
        except FloatingPointError:
            return
    runs = {bits: _mp_float(t, x0, bits) for bits in (53, 64, 200)}
    ref = runs[200]

    def close(a: float, b: float, tol: float) -> bool:
        if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
            return (math.isnan(a) and math.isnan(b)) or a == b
        return abs(a - b) <= tol

    finite = [abs(runs[b] - ref) for b in (53, 64) if math.isfinite(runs[b] - ref)]
    spread = max(finite, default=0.0)
    agrees = close(value, ref, 1e-9 * abs(ref) + 1e3 * spread + 1e-300) or any(
        close(value, runs[b], 1e-9 * abs(runs[b]) + 1e-300) for b in (53, 64)
    )
    assert agrees, (text, x0, value, runs)


# ------------------------------------------------------------------ resolve, dicts, equality


def test_resolve_target():
    assert resolve_target("gelu") == get_target("gelu")
    assert resolve_target("leaky-relu", {"slope": 0.1}) == get_target("leaky_relu", {"slope": 0.1})
    assert resolve_target("x*sigmoid(x)").name == "expr"
    assert resolve_target("x").name == "expr"
    with pytest.raises(ParameterError, match="only apply to registry targets"):
        resolve_target("x*sigmoid(x)", {"beta": 1.0})
    with pytest.raises(UnknownTargetError, match="did you mean 'swish'"):
        resolve_target("swisj")
    with pytest.raises(ExpressionError):
        resolve_target("y + 1")


@pytest.mark.parametrize(
    "target",
    [
        get_target("relu"),
        get_target("srelu", {"tl": -2.0, "ar": 0.3}),
        get_target("swish", {"beta": 1.7}),
        parse_expression("x*tanh(softplus(x))"),
    ],
    ids=["relu", "srelu", "swish", "expr"],
)
def test_dict_round_trip(target):
    d = json.loads(json.dumps(target.to_dict()))
    assert d["name"] == target.name and d["expression"] == target.expression
    back = from_dict(d)
    assert back == target and hash(back) == hash(target)
    xs = np.linspace(-5.0, 5.0, 11)
    np.testing.assert_array_equal(back(xs), target(xs))


@pytest.mark.parametrize(
    ("d", "error"),
    [
        ([1, 2], UnknownTargetError),
        ({}, UnknownTargetError),
        ({"name": "gelo"}, UnknownTargetError),
        ({"name": "swish", "params": [1]}, ParameterError),
        ({"name": "swish", "params": {"gamma": 1}}, ParameterError),
        ({"name": "expr"}, ExpressionError),
        ({"name": "expr", "expression": "y"}, ExpressionError),
        ({"name": "expr", "expression": "x", "params": {"a": 1}}, ParameterError),
    ],
)
def test_from_dict_errors(d, error):
    with pytest.raises(error):
        from_dict(d)


def test_pickle_round_trip():
    import pickle

    for t in (get_target("pelu", {"a": 2.0}), parse_expression("abs(x - 1)")):
        back = pickle.loads(pickle.dumps(t))
        assert back == t
        np.testing.assert_array_equal(back([0.5, 2.0]), t([0.5, 2.0]))


def test_equality_ignores_evaluators_and_compares_values():
    assert get_target("elu") == get_target("elu", {"alpha": 1})
    assert get_target("elu") != get_target("elu", {"alpha": 0.5})
    assert len({get_target("relu"), get_target("RELU"), get_target("relu6")}) == 2
    assert parse_expression("x^2") == parse_expression("x^2")


# ------------------------------------------------------------------------------ check_finite


def test_check_finite():
    with pytest.raises(TargetDomainError) as info:
        check_finite(parse_expression("log(x)"), -3, 3)
    assert str(info.value) == (
        "target 'log(x)' is NaN or infinite on [-3, 3] (e.g. at x = -3); choose a range where "
        "it is finite"
    )
    check_finite(get_target("swish"), -1000.0, 1000.0)
    check_finite(parse_expression("log(x)"), 0.5, 3)
    with pytest.raises(TargetDomainError, match="at x = 0"):
        check_finite(parse_expression("1/x"), -1.0, 1.0, n=4)  # 0 is a kink, always checked
    with pytest.raises(RangeError):
        check_finite(get_target("relu"), 3, -3)


# ---------------------------------------------------------------------------------- imports


def test_import_is_light():
    code = (
        "import sys, actfit.targets as t; "
        "t.get_target('gelu')([0.0, 1.0]) is not None; "
        "print(sorted(m for m in ('sympy', 'mpmath') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    bare = "import sys, actfit.targets; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", bare], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_symbol_is_real_x():
    import actfit.targets as targets

    assert symbol() == sympy.Symbol("x", real=True)
    assert targets.X == symbol()

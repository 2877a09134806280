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

The package's modules: :mod:`~actfit.targets.types` (Param, TargetInfo, Target),
:mod:`~actfit.targets.registry` (the entries, built from :mod:`~actfit.targets.formulas`),
:mod:`~actfit.targets.functions` (what an expression may call),
:mod:`~actfit.targets.expression` (the safe parser) and :mod:`~actfit.targets.kinks` (its kink
finder), :mod:`~actfit.targets.resolver` (names, specs and dicts to targets) and
:mod:`~actfit.targets.domain` (the finiteness check).

Importing this package loads numpy only; sympy, mpmath and scipy are imported by the functions
that need them (``actfit.targets.X``, the sympy symbol, is built on first access).

Examples:
    >>> from actfit.targets import get_target
    >>> t = get_target("leaky_relu", {"slope": 0.1})
    >>> t.kinks
    (0.0,)
    >>> float(t(-2.0))
    -0.2
"""

from __future__ import annotations

from typing import Any

from actfit.targets.constants import SELU_ALPHA as SELU_ALPHA  # importable here, as before
from actfit.targets.constants import SELU_SCALE as SELU_SCALE
from actfit.targets.domain import check_finite
from actfit.targets.expression import parse_expression
from actfit.targets.registry import list_targets
from actfit.targets.resolver import as_target, from_dict, get_target, resolve_target
from actfit.targets.types import Param, Target, TargetInfo, symbol

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

def __getattr__(name: str) -> Any:
    # ``actfit.targets.X`` without importing sympy at package import (PEP 562).
    if name == "X":
        return symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

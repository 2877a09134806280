"""Activation names: how tables from other projects name a target, and labels for people.

Coefficient tables name their activation with a bare string (``leaky_relu``, ``swish``,
``gelu_old``, ``erfc_Softplus_2``). :func:`activation_target` maps such a name onto actfit's
registry; :func:`activation_name` is its inverse, used when writing rational_activations-style
files; :func:`target_label` and :func:`describe` are the short labels the tables, plots and the
command line show.

Third-party names: ``leaky_relu`` is slope 0.01 (PyTorch's default, which rational_activations
used: Molina et al., "Padé Activation Units", ICLR 2020), ``leaky_relu_0.1`` slope 0.1,
``swish``/``silu`` are ``x*sigmoid(x)``, ``gelu`` is the exact (erf) GELU, and KAT's
(Yang & Wang, "Kolmogorov-Arnold Transformer", 2024) ``erfc_Softplus_2`` is
``erfc(softplus(x))^2``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from actfit.errors import ActfitError, UnknownTargetError
from actfit.options import parse_params
from actfit.targets import Target, get_target, resolve_target

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["activation_name", "activation_target", "describe", "target_label"]

_NAME_MAP: dict[str, tuple[str, dict[str, float]]] = {
    # rational_activations' leaky_relu is torch's default negative slope.
    "leaky_relu": ("leaky_relu", {"slope": 0.01}),
    "leakyrelu": ("leaky_relu", {"slope": 0.01}),
    "lrelu": ("leaky_relu", {"slope": 0.01}),
    "swish": ("swish", {"beta": 1.0}),
    "silu": ("swish", {"beta": 1.0}),
    "gelu": ("gelu", {}),
    # KAT keeps rational_activations' GELU table under this name after refitting "gelu".
    "gelu_old": ("gelu", {}),
    "relu": ("relu", {}),
    "tanh": ("tanh", {}),
    "sigmoid": ("sigmoid", {}),
    "identity": ("identity", {}),
    "mish": ("mish", {}),
}
# KAT's fit.py: erfc_Softplus_2(x) = (1 - erf(log(1 + exp(x))))**2.
_EXPRESSION_MAP = {"erfc_softplus_2": "erfc(softplus(x))^2"}
_LEAKY = re.compile(r"^(?:leaky[_-]?relu|lrelu)[_-]?(.+)$")
_CALL = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$")


def activation_target(name: str) -> Target:
    """Return the registry target (or expression) that a table's activation name stands for.

    Understands rational_activations' and KAT's names (``leaky_relu`` = slope 0.01,
    ``leaky_relu_0.1``, ``swish``/``silu``, ``gelu``, ``gelu_old``, ``erfc_Softplus_2``), the
    names actfit writes (``leaky_relu_0.2``, ``tswish(z=2.0)``), any registry name (default
    parameters) and expressions in ``x``.

    Raises:
        UnknownTargetError: the name is none of these; give the target explicitly.

    Examples:
        >>> activation_target("leaky_relu_0.1").param_dict
        {'slope': 0.1}
    """
    # "name#2": a second table of the same activation in one group (see to_rational_activations)
    raw = re.sub(r"#\d+$", "", str(name).strip())
    key = raw.lower().replace("-", "_")
    try:
        if key in _NAME_MAP:
            reg, params = _NAME_MAP[key]
            return get_target(reg, params)
        if key in _EXPRESSION_MAP:
            return resolve_target(_EXPRESSION_MAP[key])
        leaky = _LEAKY.match(raw.lower())  # raw: "-" may be a sign here
        if leaky:
            try:
                slope = float(leaky.group(1))
            except ValueError:
                slope = None
            if slope is not None:
                return get_target("leaky_relu", {"slope": slope})
        call = _CALL.match(raw)
        if call:
            parts = [p for p in call.group(2).split(",") if p.strip()]
            if parts and all("=" in p for p in parts):
                return get_target(call.group(1), parse_params(parts))
        return resolve_target(raw)
    except ActfitError:
        raise UnknownTargetError(
            f"table name {raw!r} is not an activation actfit knows; "
            "give the target with --target (a registry name or an expression in x)"
        ) from None


def activation_name(target: Target) -> str:
    """Return the name rational_activations/KAT-style files use for ``target``.

    The inverse of :func:`activation_target`: ``leaky_relu`` for slope 0.01,
    ``leaky_relu_0.2`` for other slopes, the registry name for default parameters,
    ``name(p=v, ...)`` otherwise, and the expression itself for expressions.

    Examples:
        >>> activation_name(get_target("leaky_relu", {"slope": 0.2}))
        'leaky_relu_0.2'
    """
    if target.name == "expr":
        return target.expression
    params = target.param_dict
    if target.name == "leaky_relu":
        slope = params.get("slope", 0.01)
        return "leaky_relu" if slope == 0.01 else f"leaky_relu_{slope!r}"
    if target == get_target(target.name):
        return target.name
    inner = ",".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{target.name}({inner})"


def target_label(target: Target) -> str:
    """Return ``name(p=v, ...)`` (``:g`` values), the bare name, or the expression: for labels.

    Examples:
        >>> target_label(get_target("elu", {"alpha": 0.5}))
        'elu(alpha=0.5)'
    """
    if target.name == "expr":
        return target.expression
    if not target.params:
        return target.name
    return f"{target.name}(" + ", ".join(f"{k}={v:g}" for k, v in target.params) + ")"


def describe(fit: Fit) -> str:
    """Return a one-line label of a fit: target, order, form and method."""
    m, n = fit.order
    return f"{target_label(fit.target)} [{m},{n}] {fit.form} {fit.method}"

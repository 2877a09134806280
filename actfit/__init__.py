"""actfit: rational approximations of activation functions.

Fits any activation (a registry name or an expression in x) with a rational function
``P(x)/Q(x)`` of order [m, n] on a range: Padé approximants, least-squares fits and certified
minimax fits; checks denominators for poles; exports coefficient tables with full provenance; and
ships PyTorch runtime modules that evaluate them.

Public names are loaded lazily, so ``import actfit`` (and ``actfit --help``) stays fast.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any


@cache
def _version() -> str:
    # One source of truth, pyproject.toml, read from the installed metadata on first use:
    # importlib.metadata costs ~20 ms, a sixth of `actfit --help`.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("actfit")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0+unknown"


_LAZY = {
    "ActfitError": "actfit.errors",
    "Rational": "actfit.rational",
    "normalize_form": "actfit.rational",
    "Fit": "actfit.fit",
    "make_fit": "actfit.fit",
    "Target": "actfit.targets",
    "get_target": "actfit.targets",
    "list_targets": "actfit.targets",
    "parse_expression": "actfit.targets",
    "resolve_target": "actfit.targets",
    "fit_lsq": "actfit.approx.lsq",
    "fit_pade": "actfit.approx.pade",
    "fit_minimax": "actfit.approx.minimax",
    "load": "actfit.export",
    "load_all": "actfit.export",
    "save": "actfit.export",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'actfit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__

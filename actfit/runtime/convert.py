"""Converting a model: its activation modules replaced by fitted, learnable rational ones.

:func:`replace_activations` is what rational_activations' ``convert_network`` does, for any
order, form and range: each matching module becomes a :class:`RationalActivation` initialised
from :func:`~actfit.approx.lsq.fit_lsq` of its target. A fit is computed once per (target,
parameters, order, form, range, weight, tail, actfit version) and cached on disk as a result
document (``<cache>/<sha256 of that key>.json``); an entry that does not load, or that describes
another fit than its key, is refitted and overwritten, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from actfit import __version__
from actfit.approx.lsq import fit_lsq
from actfit.approx.tail_spec import TAILS, check_tail
from actfit.errors import ActfitError, OrderError, OutputPathError, ParameterError
from actfit.export import load, save
from actfit.fit import Fit
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE, as_range, check_order
from actfit.rational import require_fit_form
from actfit.runtime.capture import NoMatchingModuleError
from actfit.runtime.module import RationalActivation
from actfit.targets import Target, as_target

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "CacheDirError",
    "NoMatchingModuleError",
    "cache_dir",
    "cached_fit",
    "default_tail",
    "replace_activations",
]

Spec = str | tuple[str, Mapping[str, float]] | Callable[[torch.nn.Module], Any]

DEFAULT_ACTIVATIONS: dict[type[torch.nn.Module], Spec] = {
    torch.nn.GELU: lambda m: "gelu_tanh" if getattr(m, "approximate", "none") == "tanh" else "gelu",
    torch.nn.SiLU: "swish",
    torch.nn.ReLU: "relu",
    torch.nn.LeakyReLU: lambda m: ("leaky_relu", {"slope": float(m.negative_slope)}),
    torch.nn.ELU: lambda m: ("elu", {"alpha": float(m.alpha)}),
    torch.nn.Tanh: "tanh",
    torch.nn.Sigmoid: "sigmoid",
    torch.nn.Mish: "mish",
    torch.nn.Softplus: "softplus",
}
"""The torch activations with a registry target (parameters read from the module)."""

_TAILS = TAILS


class CacheDirError(OutputPathError):
    """A fit cache folder that cannot be created or written."""


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Gives the fit cache folder, created if needed: ``path``, else ``$ACTFIT_CACHE_DIR``, else
    ``~/.cache/actfit/fits``.

    Raises:
        CacheDirError: it cannot be created, or a file cannot be written in it.
    """
    if path is None:
        path = os.environ.get("ACTFIT_CACHE_DIR") or Path.home() / ".cache" / "actfit" / "fits"
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe-"):
            pass
    except OSError as exc:
        raise CacheDirError(
            f"the fit cache folder {p} is not writable ({exc.strerror or type(exc).__name__}); "
            "pass cache_dir= a writable folder or set ACTFIT_CACHE_DIR"
        ) from None
    return p


def _key(
    target: Target,
    order: tuple[int, int],
    form: str,
    rng: tuple[float, float],
    weight: str,
    tail: str,
) -> dict[str, Any]:
    return {
        "method": "lsq",
        "target": target.to_dict(),
        "order": list(order),
        "form": form,
        "range": list(rng),
        "weight": weight,
        "tail": tail,
        "actfit_version": __version__,
    }


def _trusted(fit: Fit, key: dict[str, Any]) -> bool:
    return (
        fit.method == "lsq"
        and fit.target.to_dict() == key["target"]
        and list(fit.order) == key["order"]
        and fit.form == key["form"]
        and list(fit.range) == key["range"]
        and fit.settings.get("weight", "uniform") == key["weight"]
        and fit.settings.get("tail", {}).get("kind", "free") == key["tail"]
    )


def default_tail(form: str, order: Sequence[int]) -> str:
    """The tail :func:`replace_activations` fits with when none is given: ``"linear"`` where
    :func:`~actfit.approx.tail_spec.check_tail` allows it for the form and order (the safe and
    abs forms with ``m <= n + 1``, the plain form also with an even ``n``), else ``"free"``.

    Raises:
        FormError: an unknown form.
        OrderError: an invalid order.

    Examples:
        >>> default_tail("safe", (5, 4)), default_tail("plain", (4, 3)), default_tail("abs", (6, 4))
        ('linear', 'free', 'free')
    """
    m, n = check_order(order)
    fit_form = require_fit_form(form)
    try:
        return check_tail("linear", fit_form, m, n)
    except OrderError:
        return "free"


def cached_fit(
    target: Target | str,
    order: Sequence[int] = DEFAULT_ORDER,
    range: Sequence[float] = DEFAULT_RANGE,
    *,
    form: str = "safe",
    weight: str = "uniform",
    tail: str = "free",
    cache_dir: str | os.PathLike[str] | None = None,
    **params: float,
) -> Fit:
    """Gives ``fit_lsq(target, order, range, form=form, weight=weight, tail=tail, **params)``,
    from the disk cache when an entry for exactly these settings exists (see the module
    docstring).

    Raises:
        CacheDirError: the cache folder is not writable.
        ParameterError: an unknown tail (see :func:`~actfit.approx.lsq.fit_lsq`).
        OrderError: a tail the order or form cannot have
            (:func:`~actfit.approx.tail_spec.check_tail`).
        ActfitError: whatever :func:`~actfit.approx.lsq.fit_lsq` raises.
    """
    tgt = as_target(target, params)
    mn = check_order(order)
    rng = as_range(range)
    if tail not in _TAILS:
        raise ParameterError(f"tail {tail!r} is not available; use one of {', '.join(_TAILS)}")
    # The order and form rules of the tail (OrderError naming an order that has it).
    check_tail(tail, require_fit_form(form), *mn)
    folder = _cache_dir(cache_dir)
    key = _key(tgt, mn, form, rng, weight, tail)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    entry = folder / f"{digest}.json"
    if entry.is_file():
        try:
            fit = load(entry)
        except ActfitError:
            fit = None  # corrupt: refit below, and overwrite it
        if fit is not None and _trusted(fit, key):
            return fit
    fit = fit_lsq(tgt, mn, rng, form=form, weight=weight, tail=tail)
    save(fit, entry)
    return fit


_cache_dir = cache_dir  # cached_fit's argument of the same name shadows it


def _spec_of(spec: Spec, module: torch.nn.Module) -> tuple[str | Target, dict[str, float]]:
    value = spec(module) if callable(spec) and not isinstance(spec, str | Target) else spec
    if isinstance(value, tuple):
        name, params = value
        return name, dict(params)
    return value, {}


def replace_activations(
    model: torch.nn.Module,
    targets: Mapping[type[torch.nn.Module], Spec] | None = None,
    order: Sequence[int] = DEFAULT_ORDER,
    form: str = "safe",
    groups: int | None = None,
    learnable: bool = True,
    range: Sequence[float] = DEFAULT_RANGE,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    weight: str = "uniform",
    tail: str | None = None,
    **module_kwargs: Any,
) -> list[tuple[str, torch.nn.Module, RationalActivation]]:
    """Replaces, in place and recursively, each module of a class in ``targets`` by a
    :class:`RationalActivation` initialised from a (cached) least-squares fit of its target.

    Args:
        model: The model, changed in place.
        targets: Module class -> target: a registry name or expression, ``(name, params)``, or
            a function of the module giving either (e.g. LeakyReLU's slope). Default:
            :data:`DEFAULT_ACTIVATIONS`.
        order: The rational's order ``(m, n)``.
        form: Denominator form.
        groups: Channel groups of each new module (None: 1, one rational per module).
        learnable: Coefficients are parameters (True) or buffers.
        range: The fit range.
        cache_dir: The fit cache (see :func:`cache_dir`).
        weight: The fit's error weight (a name the fitters accept).
        tail: ``"linear"`` (the table grows at most linearly outside its range, so deep
            networks do not blow up on large inputs), ``"match"`` (linear with the target's
            slope at ``+inf``; ``m = n + 1``) or ``"free"`` (the unconstrained optimum). None
            (default): :func:`default_tail`, ``"linear"`` wherever the form and order allow it
            (always for the safe form with ``m <= n + 1``, the default order included; the
            plain form also needs an even ``n``), else ``"free"``. Part of the cache key.
        **module_kwargs: Passed to :class:`RationalActivation` (``impl``, ``channel_dim``,
            ``dtype``).

    Returns:
        ``(qualified name, old module, new module)`` for each replacement, in model order (a
        module instance used at several places is replaced by one shared new module).

    Raises:
        NoMatchingModuleError: the model has no module of those classes.
        CacheDirError: the cache folder is not writable.

    Examples:
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU())
        >>> [n for n, _, _ in replace_activations(net)]  # doctest: +SKIP
        ['1']
    """
    table = DEFAULT_ACTIVATIONS if targets is None else dict(targets)
    kinds = tuple(table)
    found = [
        (n, m)
        for n, m in model.named_modules(remove_duplicate=False)
        if n and isinstance(m, kinds)
    ]
    if not found:
        names = ", ".join(k.__name__ for k in kinds)
        raise NoMatchingModuleError(
            f"the model has no module to replace (looked for {names}); pass targets= mapping "
            "its activation classes to targets"
        )
    folder = _cache_dir(cache_dir)
    new_of: dict[int, RationalActivation] = {}
    done = []
    for qualname, old in found:
        new = new_of.get(id(old))
        if new is None:
            kind = next(k for k in kinds if isinstance(old, k))
            target, params = _spec_of(table[kind], old)
            fit = cached_fit(
                target,
                order,
                range,
                form=form,
                weight=weight,
                tail=tail if tail is not None else default_tail(form, order),
                cache_dir=folder,
                **params,
            )
            new = RationalActivation.from_fit(
                fit, learnable, groups=1 if groups is None else groups, **module_kwargs
            )
            new_of[id(old)] = new
        done.append((qualname, old, new))
    for qualname, _, new in done:
        parent_name, _, child = qualname.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, new)
    return done

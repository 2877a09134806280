"""Recording the pre-activation values of a model's activation modules, for calibrated fits.

:func:`capture` puts a forward pre-hook on each chosen module, runs the model on the inputs, and
keeps a bounded uniform sample of the values each module received. The sample is a *bottom-k*
sketch: every value gets an independent uniform random key and the ``max_samples`` values with
the smallest keys are kept, batch by batch (a vectorised reservoir sample: each subset of that
size is equally likely, whatever the batch sizes; Efraimidis & Spirakis 2006, "Weighted random
sampling with a reservoir", with equal weights). Memory stays at ``max_samples`` per module.

File format (``.npz``, read by :func:`actfit.approx.samples.load_samples`): one float32 array per
module, named by its qualified name in the model (``"blocks.0.act"``), and ``__meta__``, a JSON
string ``{"schema": "actfit.samples", "schema_version": 1, "sampling": "bottom-k uniform",
"max_samples", "seed", "modules": {name: {"type", "seen", "kept"}}}``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actfit.approx.samples import META_KEY, SAMPLES_SCHEMA
from actfit.errors import ActfitError, OutputPathError, ParameterError
from actfit.export.io import atomic_write

__all__ = ["DEFAULT_CAPTURE", "NoMatchingModuleError", "capture"]

DEFAULT_CAPTURE: tuple[type[torch.nn.Module], ...] = (
    torch.nn.GELU,
    torch.nn.SiLU,
    torch.nn.ReLU,
    torch.nn.LeakyReLU,
    torch.nn.ELU,
    torch.nn.Tanh,
    torch.nn.Sigmoid,
    torch.nn.Mish,
)


class NoMatchingModuleError(ActfitError):
    """A model without any module of the kinds asked for."""


class _Reservoir:
    """Bottom-k uniform sample of a stream of values (see the module docstring)."""

    def __init__(self, size: int, gen: torch.Generator) -> None:
        self.size = size
        self.gen = gen
        self.seen = 0
        self.values = torch.empty(0)
        self.keys = torch.empty(0)

    def add(self, x: torch.Tensor) -> None:
        v = x.detach().reshape(-1).to("cpu", torch.float32)
        self.seen += v.numel()
        keys = torch.rand(v.numel(), generator=self.gen)
        values = torch.cat([self.values, v])
        keys = torch.cat([self.keys, keys])
        if values.numel() > self.size:
            keep = torch.topk(keys, self.size, largest=False, sorted=False).indices
            values, keys = values[keep], keys[keep]
        self.values, self.keys = values, keys


def _matches(
    model: torch.nn.Module, modules: Sequence[type[torch.nn.Module] | str]
) -> list[tuple[str, torch.nn.Module]]:
    kinds = tuple(m for m in modules if isinstance(m, type))
    names = {m for m in modules if isinstance(m, str)}
    return [
        (name, mod)
        for name, mod in model.named_modules()
        if name and ((kinds and isinstance(mod, kinds)) or name in names)
    ]


def _batches(inputs: Any) -> Iterable[tuple]:
    if isinstance(inputs, torch.Tensor):
        return [(inputs,)]
    if isinstance(inputs, tuple):
        return [inputs]
    return ((b,) if isinstance(b, torch.Tensor) else tuple(b) for b in inputs)


def capture(
    model: torch.nn.Module,
    inputs: Any,
    modules: Sequence[type[torch.nn.Module] | str] = DEFAULT_CAPTURE,
    max_samples: int = 100_000,
    path: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Records the inputs (pre-activations) of the chosen modules over forward passes.

    Args:
        model: The model; run under ``torch.no_grad`` and left in its train/eval mode.
        inputs: One batch (a tensor, or a tuple of the model's positional arguments), or an
            iterable of batches (a list, a DataLoader; each item a tensor or a tuple/list).
        modules: Module classes and/or qualified module names to record.
        max_samples: Values kept per module (a uniform sample when more were seen).
        path: Where to save them (``.npz``, format in the module docstring); None: not saved.
        seed: Seed of the subsampling.

    Returns:
        The samples per qualified module name (float32, 1-D).

    Raises:
        NoMatchingModuleError: the model has no such module.
        OutputPathError: ``path`` does not end in ``.npz`` or its folder does not exist.
        ParameterError: ``max_samples`` not a positive integer.

    Examples:
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU())
        >>> out = capture(net, torch.randn(8, 3))
        >>> out["1"].shape
        (32,)
    """
    if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
        raise ParameterError(f"max_samples must be a positive integer, got {max_samples!r}")
    target = None
    if path is not None:
        target = Path(path)
        if target.suffix.lower() != ".npz":
            raise OutputPathError(f"{target}: samples are saved as .npz; give a path ending .npz")
        if not target.parent.is_dir():
            raise OutputPathError(f"{target}: the folder {target.parent} does not exist")
    found = _matches(model, modules)
    if not found:
        kinds = ", ".join(m if isinstance(m, str) else m.__name__ for m in modules)
        raise NoMatchingModuleError(
            f"the model has no module of the kinds to capture ({kinds}); pass modules= with its "
            "activation classes or qualified names"
        )
    gen = torch.Generator().manual_seed(seed)
    pools = {name: _Reservoir(max_samples, gen) for name, _ in found}
    handles = []
    for name, mod in found:

        def hook(_mod: torch.nn.Module, args: tuple, pool: _Reservoir = pools[name]) -> None:
            if args and isinstance(args[0], torch.Tensor):
                pool.add(args[0])

        handles.append(mod.register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            for batch in _batches(inputs):
                model(*batch)
    finally:
        for h in handles:
            h.remove()
    out = {name: pool.values.numpy() for name, pool in pools.items()}
    if target is not None:
        types = dict(found)
        meta = {
            "schema": SAMPLES_SCHEMA,
            "schema_version": 1,
            "sampling": "bottom-k uniform",
            "max_samples": max_samples,
            "seed": seed,
            "modules": {
                n: {"type": type(types[n]).__name__, "seen": pool.seen, "kept": len(out[n])}
                for n, pool in pools.items()
            },
        }
        buf = io.BytesIO()
        np.savez(buf, **out, **{META_KEY: np.array(json.dumps(meta))})
        atomic_write(target, buf.getvalue())
    return out

"""Learned tables inside a saved ``state_dict``: every RationalActivation's coefficients as Fits.

A ``torch.save(model.state_dict(), "model.pt")`` file holds, per RationalActivation, the entries
``<prefix>numerator``, ``<prefix>denominator`` and ``<prefix>_extra_state`` (form, groups and,
for modules built from a fit, the initial target and range). :func:`load_learned` reads it with
``torch.load(weights_only=True)`` (no code runs) and gives the learned fits, so ``actfit check``
can read what training produced.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from actfit.errors import FileFormatError
from actfit.fit import Fit
from actfit.runtime.module import RationalActivation
from actfit.targets import Target

__all__ = ["load_learned"]

_WRAPPERS = ("state_dict", "model", "module")


def load_learned(
    path: str | os.PathLike[str] | dict[str, Any], target: Target | str | None = None
) -> list[tuple[str, Fit]]:
    """Gives ``(module name, fit)`` for every RationalActivation (every group) in a state_dict.

    Args:
        path: A ``.pt`` file holding a state_dict (also under a ``"state_dict"``/``"model"``
            key, as checkpoints often do), or the state_dict itself.
        target: For modules that do not record their initial target (see
            :meth:`RationalActivation.to_fits`).

    Raises:
        FileFormatError: unreadable file, or no RationalActivation state in it.
        ParameterError: a module without a recorded target and no ``target`` given.
    """
    if isinstance(path, dict):
        state, source = path, "state_dict"
    else:
        source = str(path)
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise FileFormatError(
                f"{source}: not a readable torch file ({first[:120]}); give a .pt saved with "
                "torch.save(model.state_dict(), path)"
            ) from None
    for key in _WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise FileFormatError(f"{source}: holds a {type(state).__name__}, not a state_dict")
    prefixes = [k[: -len("numerator")] for k in state if str(k).endswith("numerator")]
    out = []
    for prefix in prefixes:
        extra = state.get(prefix + "_extra_state")
        den = state.get(prefix + "denominator")
        if not isinstance(extra, dict) or "form" not in extra or den is None:
            continue
        module = RationalActivation(
            state[prefix + "numerator"],
            den,
            extra["form"],
            learnable=False,
            impl="reference",
            groups=int(extra.get("groups", 1)),
            dtype=torch.float64,
        )
        module.set_extra_state(extra)
        name = prefix.rstrip(".") or "(root)"
        for fit in module.to_fits(target):
            out.append((name, fit))
    if not out:
        raise FileFormatError(
            f"{source}: holds no RationalActivation state (numerator, denominator and "
            "_extra_state entries); save the model's state_dict"
        )
    return out

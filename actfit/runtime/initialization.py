"""Initialisation gain of a rational activation, for ``torch.nn.init``.

The gain comes from the Gaussian moments of :mod:`actfit.approx.moments` (quadrature, not KAT's
Monte Carlo estimate): for X ~ N(0, sigma^2), KAT's gain is ``sigma^2 / E[r(X)^2]``, and
``torch.nn.init``'s is its square root, the factor on the weights' standard deviation that
keeps E[y^2] = sigma^2 from layer to layer (He et al. 2015).
"""

from __future__ import annotations

import math

import numpy as np

from actfit.approx.moments import gaussian_moments
from actfit.errors import ParameterError
from actfit.fit import Fit
from actfit.rational import Rational
from actfit.runtime.module import RationalActivation

__all__ = ["gain"]

_KINDS = ("std", "variance")


def gain(
    module_or_fit: RationalActivation | Fit | Rational, sigma: float = 1.0, *, kind: str = "std"
) -> float:
    """Gives the initialisation gain of a rational activation for inputs X ~ N(0, sigma^2).

    Args:
        module_or_fit: A module (a grouped one: its channels are split equally among the groups,
            so E[r(X)^2] is the mean of the groups'), a Fit or a Rational.
        sigma: Standard deviation of the pre-activations.
        kind: ``"std"``: ``sqrt(sigma^2 / E[r(X)^2])``, the ``gain`` of ``torch.nn.init``
            (relu gives sqrt(2), as ``torch.nn.init.calculate_gain("relu")``); ``"variance"``:
            ``sigma^2 / E[r(X)^2]``, KAT's ``kat_rational/gain.py`` definition.

    Raises:
        ParameterError: unknown kind, bad sigma, or a rational with real poles (no moments).

    Examples:
        >>> act = RationalActivation([0.0, 1.0], [], impl="reference")  # the identity
        >>> round(gain(act), 12)
        1.0
    """
    if kind not in _KINDS:
        raise ParameterError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    if isinstance(module_or_fit, RationalActivation):
        mod = module_or_fit
        a = mod.numerator.detach().double().cpu().numpy().reshape(mod.groups, -1)
        b = mod.denominator.detach().double().cpu().numpy().reshape(mod.groups, -1)
        rationals = [Rational(a[g], b[g], mod.form) for g in range(mod.groups)]
    elif isinstance(module_or_fit, Fit):
        rationals = [module_or_fit.rational]
    else:
        rationals = [module_or_fit]
    seconds = []
    for r in rationals:
        m = gaussian_moments(r, sigma)
        if m.second is None:
            raise ParameterError(f"no initialisation gain: {m.note}")
        seconds.append(m.second)
    second = float(np.mean(seconds))
    if not second > 0:
        raise ParameterError("no initialisation gain: the activation is 0 almost everywhere")
    g = float(sigma) ** 2 / second
    return math.sqrt(g) if kind == "std" else g

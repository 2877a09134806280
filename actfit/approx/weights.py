"""Weight densities for least-squares fits: uniform, normal, or a user expression in x.

A least-squares fit minimises ``∫_a^b w(x) (f(x) - r(x))^2 dx``. Activations mostly see roughly
normally distributed pre-activations, so a normal density concentrates the accuracy where the
inputs are; a user density is any non-negative expression in ``x``.

Specifications (strings, as on the command line):

* ``uniform`` — ``w(x) = 1`` (the default);
* ``normal`` or ``normal:MU,SIGMA`` — the normal density with mean ``MU`` (default 0) and standard
  deviation ``SIGMA`` (default 1); ``normal:mu=0.5,sigma=2`` is accepted too;
* anything else — an expression in ``x`` parsed by :func:`actfit.targets.parse_expression`, e.g.
  ``exp(-x**2/8)`` or ``1/(1+x**2)``; it must be finite and non-negative on the fit range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.errors import ActfitError, ParameterError

__all__ = ["Weight", "parse_weight"]


@dataclass(frozen=True)
class Weight:
    """A weight density ``w(x) >= 0`` for least-squares fits.

    Attributes:
        spec: The canonical specification string (stored in result documents); parsing it again
            gives an equal weight.
        func: Vectorised float64 evaluation.
        kinks: Points where ``w`` is not analytic (quadrature is split there).

    Examples:
        >>> w = parse_weight("normal:0,2")
        >>> w.spec
        'normal:0,2'
        >>> round(float(w(0.0)), 6)
        0.199471
    """

    spec: str
    func: Callable[[NDArray[np.float64]], NDArray[np.float64]] = field(compare=False, repr=False)
    kinks: tuple[float, ...] = ()

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``w(x)`` as a float64 array of the shape of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(np.asarray(self.func(x), dtype=np.float64), x.shape).copy()

    def check(self, values: ArrayLike, a: float, b: float) -> None:
        """Check weight values sampled on [a, b]: finite, non-negative and not all zero.

        Raises:
            ParameterError: The density is negative, infinite, NaN or identically zero there.
        """
        v = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ParameterError(
                f"weight {self.spec!r} is not finite everywhere on [{a:g}, {b:g}]; "
                "use a density that is finite on the fit range"
            )
        if np.any(v < 0):
            raise ParameterError(
                f"weight {self.spec!r} is negative somewhere on [{a:g}, {b:g}]; "
                "a weight must be a density >= 0 (e.g. abs(...) or exp(...))"
            )
        if not np.any(v > 0):
            raise ParameterError(
                f"weight {self.spec!r} vanishes on all of [{a:g}, {b:g}]; "
                "use a density that is positive somewhere on the fit range"
            )


def _fmt(v: float) -> str:
    """Shortest round-tripping text of a float (``repr``), with integers written plainly."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _uniform(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.ones_like(x)


def _normal(mu: float, sigma: float) -> Weight:
    norm = 1.0 / (sigma * math.sqrt(2.0 * math.pi))

    def density(x: NDArray[np.float64]) -> NDArray[np.float64]:
        z = (x - mu) / sigma
        return norm * np.exp(-0.5 * z * z)

    return Weight(spec=f"normal:{_fmt(mu)},{_fmt(sigma)}", func=density)


def _parse_normal(args: str, spec: str) -> Weight:
    values = {"mu": 0.0, "sigma": 1.0}
    parts = [p.strip() for p in args.split(",")] if args.strip() else []
    if len(parts) > 2:
        raise ParameterError(f"weight {spec!r}: use normal:MU,SIGMA (at most two numbers)")
    for i, part in enumerate(parts):
        key, sep, text = part.partition("=")
        if sep:
            key = key.strip().lower()
            if key not in values:
                raise ParameterError(f"weight {spec!r}: unknown parameter {key!r}; use mu, sigma")
        else:
            key, text = ("mu", "sigma")[i], part
        try:
            values[key] = float(text)
        except ValueError:
            raise ParameterError(
                f"weight {spec!r}: {text.strip()!r} is not a number; use normal:MU,SIGMA"
            ) from None
    mu, sigma = values["mu"], values["sigma"]
    if not math.isfinite(mu):
        raise ParameterError(f"weight {spec!r}: mu must be finite")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"weight {spec!r}: sigma must be finite and > 0")
    return _normal(mu, sigma)


def parse_weight(spec: str | Weight) -> Weight:
    """Return the :class:`Weight` for a specification string (or a Weight, unchanged).

    Args:
        spec: ``"uniform"``, ``"normal"``, ``"normal:MU,SIGMA"`` or an expression in ``x``.

    Returns:
        The weight, whose ``spec`` is the canonical form (``"normal"`` becomes ``"normal:0,1"``).

    Raises:
        ParameterError: A malformed normal specification (non-numeric, ``sigma <= 0``) or an
            expression that cannot be parsed. Finiteness and non-negativity on the range are
            checked by the fitter (:meth:`Weight.check`), which knows the range.

    Examples:
        >>> parse_weight("uniform").spec
        'uniform'
        >>> parse_weight(" Normal ").spec
        'normal:0,1'
    """
    if isinstance(spec, Weight):
        return spec
    if not isinstance(spec, str):
        raise ParameterError(
            f"weight must be a string (uniform, normal[:mu,sigma] or an expression in x), "
            f"got {type(spec).__name__}"
        )
    text = spec.strip()
    key = text.lower()
    if key in ("", "uniform", "none", "1"):
        return Weight(spec="uniform", func=_uniform)
    name, _, args = key.partition(":")
    if name.strip() in ("normal", "gauss", "gaussian"):
        return _parse_normal(args, spec)
    from actfit.targets import parse_expression

    try:
        target = parse_expression(text)
    except ActfitError as exc:
        raise ParameterError(
            f"weight {spec!r} is neither uniform, normal[:mu,sigma] nor a valid expression in x "
            f"({exc})"
        ) from exc
    return Weight(spec=text, func=target, kinks=tuple(float(k) for k in target.kinks))

"""Error weights: uniform, normal, relative, or a user expression in x; one type for every fitter.

A least-squares fit minimises ``∫_a^b w(x) (f(x) - r(x))^2 dx``, a minimax fit
``max_{[a,b]} w(x) |f(x) - r(x)|``. Activations mostly see roughly normally distributed
pre-activations, so a normal density concentrates the accuracy where the inputs are; a user
density is any non-negative expression in ``x``.

Specifications (strings, as on the command line):

* ``uniform`` — ``w(x) = 1`` (the default);
* ``normal`` or ``normal:MU,SIGMA`` — the normal density with mean ``MU`` (default 0) and standard
  deviation ``SIGMA`` (default 1); ``normal:mu=0.5,sigma=2`` is accepted too;
* ``relative`` or ``relative:FLOOR`` (minimax only: it needs the target and the range) —
  ``w = 1 / max(|f|, F)``, the relative error, with the floor ``F = 1e-3 max_{[a,b]} |f|`` (or
  ``FLOOR > 0``), so zeros of ``f`` do not make the problem impossible;
* ``data:FILE`` — the empirical density of recorded pre-activations (a ``.npy``/``.npz``/``.pt``
  file, see :mod:`actfit.approx.samples`): a binned Gaussian kernel density estimate (Scott's
  bandwidth), normalised to integrate to 1 on the fit range when one is given
  (:func:`data_weight`); :func:`data_range` picks a range from the data's quantiles;
* anything else — an expression in ``x`` parsed by :func:`actfit.targets.parse_expression`, e.g.
  ``exp(-x**2/8)`` or ``1/(1+x**2)``; it must be finite and non-negative on the fit range
  (positive, for a minimax fit: a zero weight leaves the error there uncontrolled).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.approx.quadrature import gauss_legendre_nodes
from actfit.approx.samples import density, load_samples, quantile_range
from actfit.errors import ActfitError, ParameterError
from actfit.targets import parse_expression

__all__ = ["DATA_PREFIX", "Weight", "data_file", "data_range", "data_weight", "parse_weight"]

DATA_PREFIX = "data:"
"""The weight specifications ``data:FILE``: the empirical density of recorded samples."""


@dataclass(frozen=True)
class Weight:
    """A weight ``w(x) >= 0`` of the error (a density for least squares, ``> 0`` for minimax).

    Attributes:
        spec: The canonical specification string (stored in result documents); parsing it again
            gives an equal weight.
        func: Vectorised float64 evaluation.
        kinks: Points where ``w`` is not analytic (quadrature is split there; the minimax grid
            is graded toward them).
        symmetric: ``w(-x) == w(x)`` on the fit range, as checked by :func:`parse_weight` given
            a range; None when not checked.
        description: What the weight means, in words (the minimax objective's text).
        info: For ``data:FILE``: the file's name, sha256 and sample count and the density
            estimator (what result documents record); else empty.

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
    symmetric: bool | None = field(default=None, compare=False)
    description: str = field(default="", compare=False)
    info: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.description:
            text = (
                "uniform: the absolute error"
                if self.spec == "uniform"
                else f"weight function {self.spec}"
            )
            object.__setattr__(self, "description", text)

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


def parse_weight(
    spec: str | Weight,
    *,
    target: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
    range: Sequence[float] | None = None,
) -> Weight:
    """Return the :class:`Weight` for a specification string (or a Weight).

    Without a range the weight is only parsed (a least-squares fit checks it on its range with
    :meth:`Weight.check`). With a range, as a minimax fit needs it, the weight must be finite and
    ``> 0`` on the range, and its symmetry there is recorded; ``relative[:FLOOR]`` is available
    only then (it is relative to ``target`` on the range).

    Args:
        spec: ``"uniform"``, ``"normal"``, ``"normal:MU,SIGMA"``, ``"relative"``,
            ``"relative:FLOOR"`` or an expression in ``x``; or a :class:`Weight`.
        target: the target, for a relative weight.
        range: ``(a, b)``: check the weight on it for a minimax fit.

    Returns:
        The weight, whose ``spec`` is the canonical form (``"normal"`` becomes ``"normal:0,1"``).

    Raises:
        ParameterError: A malformed specification (non-numeric, ``sigma <= 0``, a floor
            ``<= 0``), an expression that cannot be parsed, a relative weight without target and
            range or for a target that vanishes on the range, or (with a range) a weight that is
            not finite and positive there.

    Examples:
        >>> parse_weight("uniform").spec
        'uniform'
        >>> parse_weight(" Normal ").spec
        'normal:0,1'
        >>> w = parse_weight("1 + x**2", range=(-1.0, 1.0))
        >>> w.symmetric, w.description
        (True, 'weight function 1 + x**2')
    """
    if isinstance(spec, Weight):
        weight = spec
    elif not isinstance(spec, str):
        raise ParameterError(
            f"weight must be a string (uniform, normal[:mu,sigma] or an expression in x), "
            f"got {type(spec).__name__}"
        )
    else:
        text = spec.strip()
        key = text.lower()
        name, sep, args = key.partition(":")
        if key in ("", "uniform", "none", "1", "absolute"):
            weight = Weight(spec="uniform", func=_uniform)
            if range is not None:
                return dataclasses.replace(weight, symmetric=True)
            return weight
        if name.strip() == "relative":
            if target is None or range is None:
                raise ParameterError(
                    f"weight {spec!r} is relative to the target on the fit range, which a "
                    "minimax fit has; for least squares use uniform, normal[:mu,sigma] or an "
                    "expression in x (e.g. 1/(1e-3 + abs(f)) written out)"
                )
            return _relative(spec, args if sep else None, target, float(range[0]), float(range[1]))
        if text[: len(DATA_PREFIX)].lower() == DATA_PREFIX:
            weight = data_weight(text[len(DATA_PREFIX):], range=range)
        elif name.strip() in ("normal", "gauss", "gaussian"):
            weight = _parse_normal(args, spec)
        else:
            try:
                expr = parse_expression(text)
            except ActfitError as exc:
                raise ParameterError(
                    f"weight {spec!r} is neither uniform, normal[:mu,sigma] nor a valid "
                    f"expression in x ({exc})"
                ) from exc
            weight = Weight(spec=text, func=expr, kinks=tuple(float(k) for k in expr.kinks))
    if range is None:
        return weight
    a, b = float(range[0]), float(range[1])
    if weight.spec == "uniform":
        return dataclasses.replace(weight, symmetric=True)
    xs = _sample(a, b)
    vals = weight(xs)
    if not np.all(np.isfinite(vals)) or not np.all(vals > 0):
        raise ParameterError(
            f"weight {weight.spec!r} must be finite and > 0 everywhere on [{a:g}, {b:g}] for a "
            "minimax fit (a zero weight leaves the error there uncontrolled); use a positive "
            "expression"
        )
    sym = bool(np.allclose(weight(-xs), vals, rtol=1e-13, atol=0.0))
    return dataclasses.replace(weight, symmetric=sym)


def _sample(a: float, b: float, n: int = 4097) -> NDArray[np.float64]:
    return np.linspace(a, b, n)


def _relative(
    spec: str,
    arg: str | None,
    target: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    a: float,
    b: float,
) -> Weight:
    """The relative weight ``1 / max(|f|, floor)`` of ``target`` on ``[a, b]``."""
    fmax = float(np.max(np.abs(target(_sample(a, b)))))
    if arg is not None:
        try:
            floor = float(arg)
        except ValueError:
            raise ParameterError(
                f"weight {spec!r}: {arg!r} is not a number; use relative or relative:FLOOR "
                "(e.g. relative:1e-3)"
            ) from None
        if not (math.isfinite(floor) and floor > 0):
            raise ParameterError(
                f"weight {spec!r}: the floor must be finite and > 0, e.g. relative:1e-3"
            )
        canonical = f"relative:{floor!r}"
    else:
        floor = 1e-3 * fmax
        canonical = "relative"
    if not floor > 0:
        raise ParameterError(
            f"weight {spec!r}: the target vanishes on [{a:g}, {b:g}], so a relative error is "
            "undefined; use a uniform weight"
        )

    def rel(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return 1.0 / np.maximum(np.abs(target(x)), floor)

    xs = _sample(a, b, 20001)
    excess = np.abs(target(xs)) - floor
    idx = np.flatnonzero(np.sign(excess[:-1]) * np.sign(excess[1:]) < 0)
    kinks = tuple(float(0.5 * (xs[i] + xs[i + 1])) for i in idx)
    fs = target(xs)
    # |f| symmetric (not only w): the check the minimax symmetry reduction was measured with.
    sym = bool(np.allclose(np.abs(fs), np.abs(fs[::-1]), rtol=1e-13, atol=0.0))
    return Weight(
        spec=canonical,
        func=rel,
        kinks=kinks,
        symmetric=sym,
        description=f"relative: |f - r| / max(|f|, {floor:.6g})",
    )


def data_file(spec: str | Weight) -> Path | None:
    """The samples file of a ``data:FILE`` weight specification, else None.

    Examples:
        >>> str(data_file("data:preacts.npz")), data_file("normal")
        ('preacts.npz', None)
    """
    text = spec.spec if isinstance(spec, Weight) else str(spec).strip()
    if text[: len(DATA_PREFIX)].lower() != DATA_PREFIX:
        return None
    path = text[len(DATA_PREFIX):].strip()
    if not path:
        raise ParameterError("weight 'data:' names no file; use data:FILE (.npy, .npz or .pt)")
    return Path(path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_weight(path: str | Path, *, range: Sequence[float] | None = None) -> Weight:
    """The weight of the empirical density of the samples in ``path`` (a binned Gaussian KDE,
    :func:`actfit.approx.samples.density`), normalised to integrate to 1 on ``range`` when given.

    Raises:
        SampleFileError: unreadable file, no samples, NaN/Inf, a non-real dtype.
        ParameterError: all samples equal, or no sample density on ``range``.

    Examples:
        >>> # w = data_weight("preacts.npz", range=(-3, 3)); w.info["samples"]
    """
    p = Path(path)
    x = load_samples(p)
    f, est = density(x)
    scale = 1.0
    if range is not None:
        a, b = float(range[0]), float(range[1])
        xq, wq = gauss_legendre_nodes(a, b, [], panels=64, order=16)
        mass = float(np.dot(wq, f(xq)))
        if not mass > 0:
            raise ParameterError(
                f"the samples in {p} have no density on [{a:g}, {b:g}] (they span "
                f"[{float(x.min()):g}, {float(x.max()):g}]); fit on the range the data covers"
            )
        scale = 1.0 / mass

    def func(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return scale * f(v)

    info = {
        "file": p.name,
        "sha256": _sha256(p),
        "samples": int(x.size),
        "density": est,
        "normalised_on": None if range is None else [float(range[0]), float(range[1])],
    }
    return Weight(
        spec=f"{DATA_PREFIX}{p}",
        func=func,
        description=(
            f"empirical density of {x.size} samples in {p.name} ({est['method']}, "
            f"{est['bandwidth_rule']} bandwidth {est['bandwidth']:.4g})"
        ),
        info=info,
    )


def data_range(path: str | Path, tail: float = 0.001) -> tuple[float, float]:
    """The fit range of the samples in ``path``: their ``tail`` and ``1 - tail`` quantiles
    (:func:`actfit.approx.samples.quantile_range`; ``tail=0``: min and max).

    Raises:
        SampleFileError: see :func:`data_weight`.
        ParameterError: ``tail`` not in [0, 0.5), or the quantiles coincide.
    """
    return quantile_range(load_samples(Path(path)), tail)

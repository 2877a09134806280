"""Initialisation diagnostics: value and slope at 0, Gaussian moments and gain of an activation.

Variance-preserving initialisation (Glorot & Bengio 2010; He et al. 2015, "Delving deep into
rectifiers") needs, for pre-activations X ~ N(0, sigma^2), the moments E[f(X)] and E[f(X)^2] of the
activation f. The *gain* is defined as KAT does (Yang & Wang 2024, "Kolmogorov-Arnold
Transformer", ``kat_rational/gain.py`` in github.com/Adamdad/rational_kat_cu): the variance ratio
``sigma^2 / E[f(X)^2]``, which KAT estimates by Monte Carlo over 10^6 samples. Here it is computed
by quadrature instead; its square root is the factor ``torch.nn.init`` calls ``gain`` (the std
multiplier, ``calculate_gain("relu") = sqrt(2)``), given as :attr:`Moments.init_gain`.

Quadrature: with z = x / sigma, E[g(X)] = ∫ g(sigma z) φ(z) dz, integrated piecewise between
the kinks (the target's, the safe form's ``|x|`` at 0, the abs form's roots of D) by Gauss-Legendre
panels (``numpy.polynomial.legendre.leggauss``, 24 nodes on panels of width sigma/4) on
[-40 sigma, 40 sigma], beyond which φ(z) < 1e-347 (zero in float64) outweighs any polynomial
growth. Gauss-Hermite quadrature (``numpy.polynomial.hermite_e.hermegauss``, 200 nodes), the
obvious choice, was measured worse and is not used: against ``mpmath.quad`` at 30 digits its
relative error in E[r^2] was 1.1e-6 for the plain [5, 4] lsq fit of relu (complex poles at
+-0.5i, close to the axis) and 7e-7 for leaky_relu's, where the panels give 2e-16
(tests/test_moments.py checks 1e-12). A plain rational with a real pole has no
Gaussian moments: they are reported as None, with a note.

Examples:
    >>> from actfit.targets import get_target
    >>> m = gaussian_moments(get_target("relu"))
    >>> round(m.second, 12), round(m.init_gain ** 2, 12)
    (0.5, 2.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.errors import ParameterError
from actfit.rational import Rational
from actfit.roots import real_roots
from actfit.targets import Target

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["MomentReport", "Moments", "gaussian_moments", "moment_report", "rational_kinks"]

_PANEL = 0.25  # panel width in units of sigma
_LEGENDRE_NODES = 24
_TAIL = 40.0  # integration half-width in units of sigma


@dataclass(frozen=True)
class Moments:
    """Value and slope at 0 and Gaussian moments of one function.

    Attributes:
        sigma: Standard deviation of the input X ~ N(0, sigma^2).
        value_at_0: f(0).
        slope_at_0: f'(0) (the mean of the one-sided slopes at a kink at 0).
        mean: E[f(X)].
        second: E[f(X)^2].
        variance: Var[f(X)] = E[f^2] - E[f]^2.
        gain: KAT's gain, sigma^2 / E[f(X)^2] (the variance ratio).
        init_gain: sqrt(gain): the ``gain`` argument of ``torch.nn.init`` (relu: sqrt 2).
        note: Empty, or why the moments are None (a real pole).
    """

    sigma: float
    value_at_0: float
    slope_at_0: float
    mean: float | None
    second: float | None
    variance: float | None
    gain: float | None
    init_gain: float | None
    note: str = ""

    def to_dict(self) -> dict[str, float]:
        """Gives the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class MomentReport:
    """The moments of a rational next to those of its target.

    Attributes:
        sigma: Standard deviation of the input.
        rational: Moments of the rational.
        target: Moments of the target.
    """

    sigma: float
    rational: Moments
    target: Moments

    def to_dict(self) -> dict[str, Any]:
        """Gives ``{"sigma", "rational": {...}, "target": {...}}``, JSON-ready."""
        return {
            "sigma": self.sigma,
            "rational": self.rational.to_dict(),
            "target": self.target.to_dict(),
        }


def rational_kinks(r: Rational) -> tuple[float, ...]:
    """Gives the real points where ``r`` is not analytic: 0 for the safe form (``|x|``, when a
    coefficient of an odd power is non-zero), the real roots of D for the abs form.

    Examples:
        >>> rational_kinks(Rational([0.0, 1.0], [0.5], "safe"))
        (0.0,)
    """
    b = np.asarray(r.denominator, dtype=np.float64)
    if r.form == "safe":
        return (0.0,) if np.any(b[0::2] != 0) else ()
    if r.form in ("abs", "abs_offset"):
        d = r.denominator_polynomial() if r.form == "abs_offset" else np.concatenate(([0.0], b))
        if not np.any(d != 0):
            return ()
        return tuple(sorted({float(v) for v in real_roots(d)}))
    return ()


def _check_sigma(sigma: float) -> float:
    s = float(sigma)
    if not (math.isfinite(s) and s > 0):
        raise ParameterError(f"sigma must be a positive finite number, got {sigma!r}")
    return s


def _expectation(
    g: Callable[[np.ndarray], np.ndarray], sigma: float, kinks: Sequence[float]
) -> float:
    """E[g(X)] for X ~ N(0, sigma^2) (see the module docstring for the rule)."""
    inside = sorted({float(k) / sigma for k in kinks if abs(float(k)) < _TAIL * sigma})
    edges = [-_TAIL, *inside, _TAIL]
    t, wt = np.polynomial.legendre.leggauss(_LEGENDRE_NODES)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        panels = max(1, math.ceil((hi - lo) / _PANEL))
        cuts = np.linspace(lo, hi, panels + 1)
        half = np.diff(cuts)[:, None] / 2
        z = (cuts[:-1, None] + half + half * t[None, :]).ravel()
        w = (half * wt[None, :]).ravel()
        phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        total += float(np.dot(w * phi, g(sigma * z)))
    return total


def _at_zero(
    ev: Callable[[np.ndarray], np.ndarray], f: Any, kinks: Sequence[float]
) -> tuple[float, float]:
    """f(0) and f'(0) (the mean of the one-sided slopes at a kink at 0)."""
    with np.errstate(all="ignore"):
        v0 = float(ev(np.array([0.0]))[0])
        if isinstance(f, Rational) and 0.0 not in kinks:
            return v0, float(f.deriv(np.array([0.0]))[0])
        # One-sided second-order differences from each side, averaged (so a kink at 0 gives
        # the mean of its one-sided slopes); error about h^2 |f'''| / 3 + eps / h, below 1e-9
        # for activations (a central difference has an O(h) error at a kink).
        h = 1e-5
        y = ev(np.array([0.0, h, 2 * h, -h, -2 * h]))
        right = (-3 * y[0] + 4 * y[1] - y[2]) / (2 * h)
        left = (3 * y[0] - 4 * y[3] + y[4]) / (2 * h)
        return v0, float((right + left) / 2)


def gaussian_moments(
    f: Target | Rational | Callable[[np.ndarray], np.ndarray],
    sigma: float = 1.0,
    *,
    kinks: Sequence[float] | None = None,
) -> Moments:
    """Gives value and slope at 0, E[f(X)], E[f(X)^2] and the gain for X ~ N(0, sigma^2).

    Args:
        f: A target, a rational, or a vectorised float64 function.
        sigma: Standard deviation of X.
        kinks: Points where ``f`` is not analytic; default: the target's kinks, the rational's
            (:func:`rational_kinks`), none for a plain callable.

    Raises:
        ParameterError: sigma not positive and finite, or E[f(X)^2] not finite (f grows too fast
            or is not finite on the line).

    Examples:
        >>> round(gaussian_moments(lambda x: x, sigma=2.0).second, 12)
        4.0
    """
    s = _check_sigma(sigma)
    if kinks is None:
        if isinstance(f, Target):
            kinks = f.kinks
        elif isinstance(f, Rational):
            kinks = rational_kinks(f)
        else:
            kinks = ()

    def ev(x: np.ndarray) -> np.ndarray:
        return np.asarray(f(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    poles = f.real_poles() if isinstance(f, Rational) else ()
    if len(poles):
        where = ", ".join(f"{p:.6g}" for p in poles)
        note = f"real poles at x = {where}: the Gaussian moments do not exist"
        return Moments(s, *_at_zero(ev, f, kinks), None, None, None, None, None, note)
    with np.errstate(all="ignore"):
        mean = _expectation(ev, s, kinks)
        second = _expectation(lambda x: ev(x) ** 2, s, kinks)
    if not (math.isfinite(mean) and math.isfinite(second)):
        raise ParameterError(
            f"E[f(X)^2] for X ~ N(0, {s:g}^2) is not finite: the function is not finite on the "
            "real line or grows too fast; check the table (poles?) or use a smaller sigma"
        )
    v0, slope = _at_zero(ev, f, kinks)
    gain = s * s / second if second > 0 else math.inf
    return Moments(
        sigma=s,
        value_at_0=v0,
        slope_at_0=slope,
        mean=mean,
        second=second,
        variance=max(second - mean * mean, 0.0),
        gain=gain,
        init_gain=math.sqrt(gain),
    )


def moment_report(
    fit: Fit | Rational, target: Target | None = None, sigma: float = 1.0
) -> MomentReport:
    """Gives the moments of a fit's rational and of its target, side by side.

    Args:
        fit: A :class:`~actfit.fit.Fit`, or a :class:`~actfit.rational.Rational` (then
            ``target`` is needed).
        target: The target, for a bare rational (default for a Fit: ``fit.target``).
        sigma: Standard deviation of X ~ N(0, sigma^2).

    Raises:
        ParameterError: a bare rational without a target, or see :func:`gaussian_moments`.
    """
    if isinstance(fit, Rational):
        if target is None:
            raise ParameterError("moment_report of a bare Rational needs its target= as well")
        rational = fit
    else:
        rational = fit.rational
        target = fit.target if target is None else target
    s = _check_sigma(sigma)
    return MomentReport(
        sigma=s, rational=gaussian_moments(rational, s), target=gaussian_moments(target, s)
    )

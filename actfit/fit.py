"""The one result type of every fitter: :class:`Fit`, and :func:`make_fit` that builds it.

A :class:`Fit` carries the :class:`~actfit.rational.Rational` (coefficients *and* form), the
target it approximates, the method and its settings, the range, the error and pole reports and,
for minimax, a :class:`~actfit.approx.certificate.Certificate` (re-exported here). It is what the
export layer writes and reads.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actfit.approx.certificate import Certificate
from actfit.approx.metrics import ErrorReport, error_report
from actfit.approx.moments import MomentReport, moment_report
from actfit.approx.poles import PoleReport, pole_report
from actfit.approx.tails import TailReport, tail_report
from actfit.errors import ActfitError, ParameterError, PoleError
from actfit.rational import Rational
from actfit.targets import Target

__all__ = ["Certificate", "Fit", "fit_moments", "fit_tail", "jsonable", "make_fit", "prove"]


def jsonable(value: Any) -> Any:
    """Return ``value`` with tuples as lists, numpy scalars as Python ones, and non-finite
    floats as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@dataclass(frozen=True)
class Fit:
    """A rational approximation of a target on a range, with its reports and provenance.

    Attributes:
        rational: the coefficients and their denominator form.
        target: the approximated function (registry entry with parameters, or an expression).
        method: ``"lsq"``, ``"pade"``, ``"minimax"`` or ``"external"`` (a table read from
            another project).
        settings: the method's settings (weight, center, starts, iterations, ...).
        range: the fit range ``(a, b)``; the reports refer to it.
        errors: the error report on the range.
        poles: the pole report on the range and on the real line.
        certificate: the optimality certificate (minimax), or None.
        provenance: actfit version, creation time and anything else that says where the
            table came from.
        tail: effective degrees, growth at +-inf and the error on a wider interval
            (:func:`actfit.approx.tails.tail_report`); None for a Fit built by hand.
        moments: value and slope at 0, E[r(X)], E[r(X)^2] and the gain for X ~ N(0, sigma^2)
            next to the target's (:func:`actfit.approx.moments.moment_report`); None when they
            do not exist (the target grows too fast or is not finite on the line).
    """

    rational: Rational
    target: Target
    method: str
    settings: dict[str, Any]
    range: tuple[float, float]
    errors: ErrorReport
    poles: PoleReport
    certificate: Certificate | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    tail: TailReport | None = None
    moments: MomentReport | None = None

    def __call__(self, x: Any) -> np.ndarray:
        """Return the fitted rational at ``x`` (float64, the shape of ``x``)."""
        return self.rational(x)

    def to_dict(self) -> dict[str, Any]:
        """Return the fit as JSON-ready data: the body of its result document.

        :func:`actfit.export.to_document` adds the schema header to it; ``actfit.load`` of a
        saved document gives back an equal :class:`Fit` (equality ignores the provenance, i.e.
        the creation time and versions).
        """
        r = self.rational
        return jsonable(
            {
                "actfit_version": self.provenance.get("actfit_version"),
                "target": self.target.to_dict(),
                "method": self.method,
                "settings": self.settings,
                "order": list(r.degree),
                "range": list(self.range),
                "form": r.form,
                "numerator": r.numerator.tolist(),
                "denominator": r.denominator.tolist(),
                "errors": self.errors.to_dict(),
                "poles": self.poles.to_dict(),
                "certificate": None if self.certificate is None else self.certificate.to_dict(),
                "provenance": self.provenance,
                "tail": None if self.tail is None else self.tail.to_dict(),
                "moments": None if self.moments is None else self.moments.to_dict(),
            }
        )

    @property
    def order(self) -> tuple[int, int]:
        """The type ``(m, n)`` of the rational."""
        return self.rational.degree

    @property
    def form(self) -> str:
        """The denominator form of the rational."""
        return self.rational.form


def _provenance() -> dict[str, Any]:
    from actfit import __version__

    return {
        "actfit_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def fit_tail(
    target: Target, rational: Rational, range: tuple[float, float], errors: ErrorReport,
    poles: PoleReport,
) -> TailReport:
    """The tail report of a table (see :func:`actfit.approx.tails.tail_report`)."""
    return tail_report(
        target, rational, range, errors.max_abs, kinks=target.kinks,
        real_poles=poles.poles_on_real_line,
    )


def fit_moments(target: Target, rational: Rational, sigma: float = 1.0) -> MomentReport | None:
    """The Gaussian moments of a table and its target, or None when they do not exist.

    Raises:
        ParameterError: ``sigma`` is not positive and finite.
    """
    s = float(sigma)
    if not (math.isfinite(s) and s > 0):
        raise ParameterError(f"sigma must be a positive finite number, got {sigma!r}; e.g. 1.0")
    try:
        return moment_report(rational, target, s)
    except ActfitError:
        # E[f(X)^2] not finite (a target such as exp(x^2), or one not finite on the line):
        # no moments to report, and no reason to refuse the fit.
        return None


def make_fit(
    target: Target,
    rational: Rational,
    *,
    method: str,
    settings: dict[str, Any],
    range: tuple[float, float],
    allow_poles: bool = False,
    certificate: Certificate | None = None,
    sigma: float = 1.0,
) -> Fit:
    """Return a :class:`Fit` with its error, pole, tail and moment reports computed.

    Every fitter returns through this function, so all results are reported the same way.
    The tail and moment reports cost about 4 ms per fit (measured on gelu/relu/tanh/swish
    [5, 4]: 0.7 ms tail, 3 ms moments).

    Args:
        sigma: the standard deviation of the Gaussian input of the moment report.

    Raises:
        PoleError: a ``plain`` denominator vanishes on the range and ``allow_poles`` is False.
        ParameterError: ``sigma`` is not positive and finite.
    """
    a, b = float(range[0]), float(range[1])
    poles = pole_report(rational, a, b)
    if poles.poles_on_range and not allow_poles:
        where = ", ".join(f"{p:.6g}" for p in poles.poles_on_range)
        raise PoleError(
            f"the fitted denominator has a pole on [{a:g}, {b:g}] at x = {where}; "
            "use --form safe or abs, a lower denominator degree, another range, "
            "or --allow-poles to keep it anyway"
        )
    errors = error_report(target, rational, a, b, target.kinks, poles.poles_on_range)
    return Fit(
        rational=rational,
        target=target,
        method=method,
        # Normalised through JSON so that a saved and re-loaded Fit compares equal.
        settings=json.loads(json.dumps(jsonable(settings), allow_nan=False)),
        range=(a, b),
        errors=errors,
        poles=poles,
        certificate=certificate,
        provenance=_provenance(),
        tail=fit_tail(target, rational, (a, b), errors, poles),
        moments=fit_moments(target, rational, sigma),
    )


def prove(fit: Fit, *, rtol: float = 1e-6) -> Fit:
    """Return ``fit`` with its max error proven: an enclosure in ball arithmetic.

    The enclosure ``[lower, upper]`` of ``max_{[a,b]} w |f - r|`` comes from
    :func:`actfit.approx.supnorm.supnorm` (branch and bound over subintervals split at the
    kinks, python-flint's arb; Chevillard, Harrison, Joldeș & Lauter 2011) on the exact binary
    values of the stored coefficients, with the fit's own weight, and is recorded in
    ``settings["proven"]``. A certificate (minimax) gets the proven ``upper`` in place of the
    attained grid maximum; with a de la Vallée Poussin ``lower`` its status becomes
    ``"global, proven"``: both bounds are then rigorous.

    Raises:
        NoEnclosureError: the target (or weight) uses a function without an interval enclosure.
        ParameterError: a relative or data weight (no enclosure of those weights yet).
    """
    import dataclasses

    from actfit.approx.supnorm import supnorm

    a, b = fit.range
    weight = fit.settings.get("weight")
    if isinstance(weight, str) and weight.startswith(("relative", "data:")):
        raise ParameterError(
            f"no proven bound for the weight {weight!r} yet (uniform, normal and expression "
            "weights have one); prove the uniformly weighted fit instead"
        )
    s = supnorm(
        fit.target, fit.rational, a, b, rtol=rtol,
        weight=None if weight in (None, "uniform") else weight,
    )
    proven = s.summary(rtol)
    settings = {**fit.settings, "proven": proven}
    cert = fit.certificate
    if cert is not None:
        status = cert.status
        if status == "global" and cert.lower is not None:
            status = "global, proven"
        gap = None if cert.lower is None or s.upper <= 0 else (s.upper - cert.lower) / s.upper
        cert = dataclasses.replace(
            cert,
            status=status,
            upper=s.upper,
            gap=gap,
            detail=f"{cert.detail} Proven upper bound (replaces the attained one): {s.detail}",
        )
    return dataclasses.replace(fit, settings=settings, certificate=cert)

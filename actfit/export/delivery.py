"""Typed views of what a fitter records in a fit's settings (the document's ``settings``).

A :class:`~actfit.fit.Fit` keeps its method-specific outcome in ``fit.settings``, a plain dict,
because that is what the result document stores. Code that shows or acts on that outcome reads
it through these small dataclasses instead of string keys, so the keys are spelled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = ["PadeDelivery", "pade_delivery"]


@dataclass(frozen=True)
class PadeDelivery:
    """The type a Padé fit delivered, why, and its exact coefficients if recorded.

    A degenerate Padé table (Gonnet, Güttel and Trefethen, "Robust Padé approximation via
    SVD", SIAM Review 55, 2013) makes the fitter deliver a lower type than asked instead of
    failing.

    Attributes:
        requested: the type ``(m, n)`` asked for.
        delivered: the type ``(mu, nu)`` delivered.
        reasons: why the type was lowered (empty when it was not).
        exact_numerator: ``a0..am`` as exact strings (``"1/9"``; ``"~0.69..."`` for a
            non-rational value), or None when not recorded.
        exact_denominator: ``b1..bn`` likewise, or None.
    """

    requested: tuple[int, int]
    delivered: tuple[int, int]
    reasons: tuple[str, ...] = ()
    exact_numerator: tuple[str, ...] | None = None
    exact_denominator: tuple[str, ...] | None = None

    @property
    def lowered(self) -> bool:
        """True when the delivered type is lower than the requested one."""
        return self.delivered != self.requested


def pade_delivery(fit: Fit) -> PadeDelivery | None:
    """Return the Padé delivery record of ``fit``, or None when ``fit`` is not a Padé fit.

    Examples:
        >>> # pade_delivery(fit_pade("tanh", (2, 1))).delivered  -> (1, 0)
    """
    s = fit.settings
    if fit.method != "pade" or "requested" not in s or "delivered" not in s:
        return None
    m, n = s["requested"]
    mu, nu = s["delivered"]
    exact = s.get("exact")
    return PadeDelivery(
        requested=(int(m), int(n)),
        delivered=(int(mu), int(nu)),
        reasons=tuple(str(r) for r in s.get("reasons", ())),
        exact_numerator=None if exact is None else tuple(exact["numerator"]),
        exact_denominator=None if exact is None else tuple(exact["denominator"]),
    )

"""The pole report: where a denominator vanishes, proven, and how small it gets on the range.

The real zeros of a ``plain`` denominator come from :mod:`actfit.roots`: every float64
coefficient is taken as the exact binary rational it stands for and the zeros are isolated with
certified arithmetic (FLINT/Arb), so the count is exact and "pole-free on the real line" is a
proven statement about the stored coefficients. ``safe`` and ``abs`` denominators are >= 1 by
construction. The minimum of ``|Q|`` on the range is found by a grid and a bounded local search.

"Pole-free" is a statement about real zeros only. How well the table *evaluates* on the range
(the condition of ``Q``, a rounding-error bound per dtype, how close the complex zeros of ``Q``
come) is :attr:`PoleReport.conditioning`, from :mod:`actfit.approx.conditioning`; its
:meth:`PoleReport.warnings` name the dtypes that lose more than half of their digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actfit.approx.conditioning import Conditioning, assess_conditioning
from actfit.approx.extrema import refine_maxima
from actfit.rational import Rational
from actfit.roots import count_real_roots, real_roots

__all__ = ["PoleReport", "count_real_roots", "pole_report", "real_roots"]

# Says what was proven: the real zeros of Q with the stored (float64) coefficients taken as exact
# binary numbers, isolated by certified enclosures (actfit.roots).
_PLAIN_METHOD = "exact root isolation on the float64 coefficients (FLINT/Arb enclosures)"


@dataclass(frozen=True)
class PoleReport:
    """Where the denominator vanishes, and how close to zero it gets on the fit range.

    Attributes:
        form: the denominator form.
        poles_on_range: real zeros of ``Q`` inside ``[a, b]``.
        poles_on_real_line: all real zeros of ``Q``.
        min_abs_q: minimum of ``|Q|`` on the range (0 when a pole is on it).
        min_abs_q_at: where that minimum is reached.
        method: how the statement was obtained.
        conditioning: how well the table evaluates on the range per dtype, and how close the
            complex zeros of ``Q`` come (None in reports read from files that predate it).
    """

    form: str
    poles_on_range: tuple[float, ...]
    poles_on_real_line: tuple[float, ...]
    min_abs_q: float
    min_abs_q_at: float
    method: str
    conditioning: Conditioning | None = None

    @property
    def pole_free_on_range(self) -> bool:
        """True when ``Q`` has no zero on the fit range."""
        return not self.poles_on_range

    @property
    def pole_free(self) -> bool:
        """True when ``Q`` has no zero on the whole real line."""
        return not self.poles_on_real_line

    def warnings(self) -> list[str]:
        """The conditioning warnings (none when a pole is on the range: that is the problem)."""
        if self.conditioning is None or self.poles_on_range:
            return []
        return self.conditioning.warnings()

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready dictionary used in result documents."""
        return {
            "form": self.form,
            "pole_free": self.pole_free,
            "pole_free_on_range": self.pole_free_on_range,
            "poles_on_range": list(self.poles_on_range),
            "poles_on_real_line": list(self.poles_on_real_line),
            "min_abs_q": self.min_abs_q,
            "min_abs_q_at": self.min_abs_q_at,
            "method": self.method,
            **(
                {}
                if self.conditioning is None
                else {"conditioning": self.conditioning.to_dict()}
            ),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> PoleReport:
        """Inverse of :meth:`to_dict` (derived booleans are recomputed, not trusted)."""
        return cls(
            form=str(d["form"]),
            poles_on_range=tuple(float(v) for v in d["poles_on_range"]),  # type: ignore[union-attr]
            poles_on_real_line=tuple(float(v) for v in d["poles_on_real_line"]),  # type: ignore[union-attr]
            min_abs_q=float(d["min_abs_q"]),  # type: ignore[arg-type]
            min_abs_q_at=float(d["min_abs_q_at"]),  # type: ignore[arg-type]
            method=str(d["method"]),
            conditioning=(
                Conditioning.from_dict(d["conditioning"])  # type: ignore[arg-type]
                if d.get("conditioning") is not None
                else None
            ),
        )


def _min_abs_q(rational: Rational, a: float, b: float) -> tuple[float, float]:
    xs = np.linspace(a, b, 4001)
    vals = np.abs(rational.denominator_at(xs))
    i = int(np.argmin(vals))
    best_x, best = float(xs[i]), float(vals[i])
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, xs.size - 1)]
    if hi > lo:
        x, v = refine_maxima(lambda t: -np.abs(rational.denominator_at(t)), [lo], [hi])
        if -v[0] < best:
            best_x, best = float(x[0]), float(-v[0])
    return best, best_x


def pole_report(rational: Rational, a: float, b: float) -> PoleReport:
    """Return the pole report of ``rational`` on ``[a, b]`` and on the whole real line.

    For ``plain`` the real zeros of ``Q`` come from exact root isolation
    (:func:`actfit.roots.real_roots`); ``safe`` and ``abs`` denominators are >= 1 by construction
    (``abs_offset``, read from other projects' tables, is >= 0.1). The conditioning of the
    evaluation comes with it (:func:`actfit.approx.conditioning.assess_conditioning`).
    """
    if rational.form != "plain":
        min_q, at = _min_abs_q(rational, a, b)
        return PoleReport(
            form=rational.form,
            poles_on_range=(),
            poles_on_real_line=(),
            min_abs_q=min_q,
            min_abs_q_at=at,
            conditioning=assess_conditioning(rational, a, b, min_abs_q=min_q, min_abs_q_at=at),
            method=(
                "abs_offset form (version C): Q >= 0.1 on the real line by construction"
                if rational.form == "abs_offset"
                else f"{rational.form} form: Q >= 1 on the real line by construction"
            ),
        )
    roots = rational.real_poles()
    on_range = tuple(float(r) for r in roots if a <= r <= b)
    if on_range:
        min_q, at = 0.0, on_range[0]
    else:
        min_q, at = _min_abs_q(rational, a, b)
    return PoleReport(
        form="plain",
        poles_on_range=on_range,
        poles_on_real_line=tuple(float(r) for r in roots),
        min_abs_q=min_q,
        min_abs_q_at=at,
        method=_PLAIN_METHOD,
        conditioning=assess_conditioning(rational, a, b, min_abs_q=min_q, min_abs_q_at=at),
    )

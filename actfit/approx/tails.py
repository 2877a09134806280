"""The behaviour of a rational outside its fit range: effective degrees, growth, wider error.

An activation sees inputs far outside the range it was fitted on. A table whose leading
denominator coefficient came out as exactly 0 (gelu's [5, 4] safe least-squares fit has
``b4 = 0``) grows like ``x^2`` there: ``r(10) = 11.4`` where ``gelu(10) = 10``, ``r(1e4) = 9.5e6``.
:func:`tail_report` says so from the coefficients alone.

Growth, exactly: with the effective degrees ``m`` and ``n`` (trailing zero coefficients dropped)
and the leading coefficients ``a_m``, ``b_n``, ``r(x) ~ c x^(m - n)`` as ``x -> ±inf`` with

* plain: ``Q ~ b_n x^n``, so ``c = a_m / b_n`` at both ends;
* safe (``1 + Σ|b_k||x|^k``) and abs (``1 + |Σ b_k x^k|``): ``Q ~ |b_n| |x|^n``, so
  ``c = a_m / |b_n|`` at ``+inf`` and ``(-1)^n a_m / |b_n|`` at ``-inf``;
* abs_offset (``0.1 + |b0 + ... + bn x^n|``): as abs, and ``Q = 0.1 + |b0|`` when ``n = 0``.

Negligible coefficients: given the range's radius ``R = max(|a|, |b|)``, a trailing coefficient
``c_k`` with ``|c_k| R^k <= 1e-12 sum_j |c_j| R^j`` (``NEGLIGIBLE``; the denominator's constant
term counted) is dropped as well. It changes the table by less than 1e-12 relative on the range,
below any fit's error and any float evaluation of it, and it takes over from the term below
only at ``|x| >~ 1e12 R``; it is the fitter's rounding noise, not a property of the fit. (swish
[4,4] safe minimax on [-3, 3]: ``b_3 = 1.7e-14`` on two machines, ``0`` with numpy's AVX-512
kernels disabled. Read exactly, the first table is "linear with slope 2e11"; both grow like
``0.038 x^2`` for every ``|x| < 1e12``, which is what the report says.)

``m - n < 0``: ``r -> 0`` (constant 0); ``m - n = 0``: ``r -> c`` (constant); ``m - n = 1``:
linear with slope ``c`` (``dr/dx -> c`` at either end); ``m - n = k >= 2``: polynomial of degree
``k``, ``r(x) ~ c x^k``.

The wider interval is, by default, the range stretched twice about its centre. Its max error is
sampled (2001 Chebyshev and 2001 uniform points plus the kinks, then 129 points across each of
the three largest sampled maxima); a real pole of ``Q`` inside makes it infinite, from the
exact pole isolation.
:func:`actfit.approx.metrics.max_error`'s 40002-point grid costs 8 ms per fit (measured), more
than the whole per-fit budget of this report (make_fit runs for every fit), so the smaller grid is
used: about 1 ms, and a lower bound of the true max (tight to about 1e-7 relative for smooth
error curves after the zoom), which is what a warning needs.

Examples:
    >>> from actfit.rational import Rational
    >>> g = growth(Rational([0.0, 0.0, 0.0, 2.0], [0.0, 4.0], "safe"))
    >>> g.plus.kind, g.plus.coefficient, g.minus.coefficient
    ('linear', 0.5, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.extrema import dense_grid
from actfit.rational import OFFSET_C, Rational

__all__ = [
    "LINEAR_TAIL_HINT",
    "WIDER_FACTOR",
    "WIDER_RATIO",
    "Growth",
    "TailReport",
    "Tails",
    "growth",
    "tail_report",
]

WIDER_FACTOR = 2.0
"""The wider interval is the range stretched by this factor about its centre."""
WIDER_RATIO = 10.0
"""A wider-interval error more than this many times the range's error gets a warning."""
LINEAR_TAIL_HINT = "(refit with a linear tail)"
"""The way out each tail warning ends with; the CLI renders it with its flag."""
NEGLIGIBLE = 1e-12
"""A trailing coefficient this small against its polynomial on the range is dropped (see above)."""
_GRID = 2001
_FLOOR = 1e-12
_REFINE = 3
_ZOOM = 129


@dataclass(frozen=True)
class Growth:
    """How ``r`` behaves at one end of the real line: ``r(x) ~ coefficient * x^degree``.

    Attributes:
        kind: ``"constant"`` (degree <= 0), ``"linear"`` (degree 1) or ``"polynomial"``.
        degree: ``m_eff - n_eff`` (negative: ``r -> 0``).
        coefficient: ``c`` in ``r(x) ~ c x^degree``: the limit for a constant (0 when the degree
            is negative), the slope for a linear tail.
    """

    kind: str
    degree: int
    coefficient: float

    def describe(self) -> str:
        """The growth in words: ``constant 0.5``, ``linear with slope 1``, ``polynomial of
        degree 2 (~ 0.0955 x^2)``."""
        if self.kind == "constant":
            return f"constant {self.coefficient:.6g}"
        if self.kind == "linear":
            return f"linear with slope {self.coefficient:.6g}"
        return f"polynomial of degree {self.degree} (~ {self.coefficient:.6g} x^{self.degree})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dictionary of result documents."""
        return {"kind": self.kind, "degree": self.degree, "coefficient": self.coefficient}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Growth:
        """Inverse of :meth:`to_dict`."""
        return cls(str(d["kind"]), int(d["degree"]), float(d["coefficient"]))


@dataclass(frozen=True)
class Tails:
    """Effective degrees and the growth at both ends.

    Attributes:
        degrees: ``(m_eff, n_eff)``: the degrees with trailing zero coefficients dropped.
        plus: the growth as ``x -> +inf``.
        minus: the growth as ``x -> -inf`` (``r(x) ~ c x^k`` with the same convention).
    """

    degrees: tuple[int, int]
    plus: Growth
    minus: Growth


def _last_nonzero(
    c: NDArray[np.float64], radius: float | None = None, const: float = 0.0, shift: int = 0
) -> int:
    """The index of the last coefficient of ``c`` that is neither 0 nor, with ``radius``,
    negligible on ``[-radius, radius]`` (see the module docstring). ``c[i]`` multiplies
    ``x^(i + shift)``; ``const`` is a constant term outside ``c`` (the denominator's 1, the
    abs_offset form's offset)."""
    nz = np.flatnonzero(c)
    last = int(nz[-1]) if nz.size else -1
    if radius is None or last < 0:
        return last
    sizes = np.abs(c) * float(radius) ** (np.arange(c.size) + shift)
    total = float(np.sum(sizes)) + abs(const)
    while last >= 0 and sizes[last] <= NEGLIGIBLE * total:
        last -= 1
    return last


def _end(degree: int, coefficient: float) -> Growth:
    if degree < 0:
        return Growth("constant", degree, 0.0)
    if degree == 0:
        return Growth("constant", 0, coefficient)
    if degree == 1:
        return Growth("linear", 1, coefficient)
    return Growth("polynomial", degree, coefficient)


def growth(r: Rational, radius: float | None = None) -> Tails:
    """Gives the effective degrees of ``r`` and its growth at ``+inf`` and ``-inf``, exactly
    from the coefficients (see the module docstring); with ``radius`` (the fit range's
    ``max(|a|, |b|)``), coefficients negligible on the range are dropped too.

    Examples:
        >>> t = growth(Rational([0.0, 1.0, 0.0, 1.0], [0.0, 0.0], "plain"))
        >>> t.degrees, t.plus.describe(), t.minus.describe()
        ((3, 0), 'polynomial of degree 3 (~ 1 x^3)', 'polynomial of degree 3 (~ 1 x^3)')
    """
    num = np.asarray(r.numerator, dtype=np.float64)
    m = _last_nonzero(num, radius)
    if r.form == "abs_offset":
        den = np.asarray(r.denominator, dtype=np.float64)  # b0..bn
        n = max(_last_nonzero(den, radius, OFFSET_C), 0)
        lead = abs(float(den[n])) + (OFFSET_C if n == 0 else 0.0)
    else:
        den = np.asarray(r.denominator, dtype=np.float64)  # b1..bn
        n = _last_nonzero(den, radius, 1.0, shift=1) + 1
        lead = 1.0 if n == 0 else float(den[n - 1])
    if m < 0:  # r = 0
        zero = Growth("constant", 0, 0.0)
        return Tails((0, n), zero, zero)
    a = float(num[m])
    k = m - n
    if r.form == "plain":
        c_plus = c_minus = a / lead
    else:
        c_plus = a / abs(lead)
        c_minus = (-1.0) ** n * c_plus
    return Tails((m, n), _end(k, c_plus), _end(k, c_minus))


@dataclass(frozen=True)
class TailReport:
    """What a table does outside its fit range.

    Attributes:
        degrees: effective ``(m, n)`` (trailing zero coefficients dropped).
        plus: growth as ``x -> +inf``.
        minus: growth as ``x -> -inf``.
        wider: the wider interval ``(a, b)``.
        wider_max_abs: the max abs error there (``inf`` with a real pole inside; None when the
            target is not finite there).
        range_max_abs: the max abs error on the fit range, for comparison.
        warnings: why the tail deserves attention (faster than linear growth, a wider error more
            than 10 times the range's), each ending with the way out.
        method: how the wider error was obtained.
    """

    degrees: tuple[int, int]
    plus: Growth
    minus: Growth
    wider: tuple[float, float]
    wider_max_abs: float | None
    range_max_abs: float
    warnings: tuple[str, ...]
    method: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dictionary of result documents (infinities as strings, see
        :func:`actfit.fit.jsonable`)."""
        return {
            "degrees": list(self.degrees),
            "plus": self.plus.to_dict(),
            "minus": self.minus.to_dict(),
            "wider": list(self.wider),
            "wider_max_abs": self.wider_max_abs,
            "range_max_abs": self.range_max_abs,
            "warnings": list(self.warnings),
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TailReport:
        """Inverse of :meth:`to_dict` (``"inf"`` strings read back as floats)."""
        w = d.get("wider_max_abs")
        return cls(
            degrees=(int(d["degrees"][0]), int(d["degrees"][1])),
            plus=Growth.from_dict(d["plus"]),
            minus=Growth.from_dict(d["minus"]),
            wider=(float(d["wider"][0]), float(d["wider"][1])),
            wider_max_abs=None if w is None else float(w),
            range_max_abs=float(d["range_max_abs"]),
            warnings=tuple(str(x) for x in d.get("warnings", ())),
            method=str(d.get("method", "")),
        )


def _wider_error(
    err: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    lo: float,
    hi: float,
    kinks: Sequence[float],
) -> float | None:
    near = [k + d for k in kinks if lo < k < hi for d in (-1e-9, 0.0, 1e-9)]
    xs = dense_grid(lo, hi, chebyshev=_GRID, uniform=_GRID, graded=0, extra=[*near, lo, hi])
    with np.errstate(all="ignore"):
        vals = np.abs(err(xs))
    if not np.all(np.isfinite(vals)):
        return None
    interior = np.flatnonzero((vals[1:-1] >= vals[:-2]) & (vals[1:-1] >= vals[2:])) + 1
    cand = interior[np.argsort(vals[interior])[::-1]][:_REFINE]
    best = float(vals.max())
    if cand.size:
        # One vectorised zoom around the largest maxima: refine_maxima's golden section costs
        # 8 ms for three maxima here (measured), the zoom 0.3 ms.
        t = np.linspace(0.0, 1.0, _ZOOM)
        lo_x, hi_x = xs[cand - 1], xs[cand + 1]
        fine = (lo_x[:, None] + (hi_x - lo_x)[:, None] * t[None, :]).ravel()
        with np.errstate(all="ignore"):
            zoom = np.abs(err(fine))
        finite = zoom[np.isfinite(zoom)]
        if finite.size:
            best = max(best, float(finite.max()))
    return best


def tail_report(
    target: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    rational: Rational,
    range: Sequence[float],
    range_max_abs: float,
    *,
    kinks: Sequence[float] = (),
    real_poles: Sequence[float] = (),
    factor: float = WIDER_FACTOR,
) -> TailReport:
    """Gives the tail of ``rational``: effective degrees, growth at ``±inf`` and the max error
    on the range stretched by ``factor`` about its centre, with warnings.

    Args:
        target: the approximated function (vectorised float64).
        rational: the table.
        range: the fit range ``(a, b)``.
        range_max_abs: the max abs error on the range (the fit's error report).
        kinks: the target's kinks (sampled on the grid).
        real_poles: the real zeros of ``Q`` (the pole report's, exact).
        factor: how much wider the interval is (default 2).

    Examples:
        >>> r = Rational([0.0, 1.0], [], "safe")
        >>> t = tail_report(lambda x: x, r, (-1.0, 1.0), 0.0)
        >>> t.wider, t.wider_max_abs, t.warnings
        ((-2.0, 2.0), 0.0, ())
    """
    a, b = float(range[0]), float(range[1])
    centre, half = (a + b) / 2, factor * (b - a) / 2
    lo, hi = centre - half, centre + half
    tails = growth(rational, max(abs(a), abs(b)))
    inside = [float(p) for p in real_poles if lo <= p <= hi]
    if inside:
        wider: float | None = math.inf
        method = f"infinite: Q vanishes at x = {inside[0]:.9g} (exact pole isolation)"
    else:
        wider = _wider_error(
            lambda x: rational(x) - target(x), lo, hi, [float(k) for k in kinks]
        )
        method = (
            f"sampled max: {2 * _GRID}-point Chebyshev+uniform grid with kinks, top maxima zoomed"
            if wider is not None
            else "not finite: the target or the table is not finite on the wider interval"
        )
    warnings: list[str] = []
    fast = [
        (end, g) for end, g in (("+inf", tails.plus), ("-inf", tails.minus)) if g.degree >= 2
    ]
    if fast:
        ends = " and ".join(f"like {g.coefficient:.3g} x^{g.degree} at {end}" for end, g in fast)
        warnings.append(
            f"the table grows faster than linearly outside the range ({ends}; effective "
            f"degrees [{tails.degrees[0]},{tails.degrees[1]}]): large inputs blow up "
            f"{LINEAR_TAIL_HINT}"
        )
    # The floor keeps an exact table (error at rounding level on both) from being flagged.
    if wider is not None and wider > max(WIDER_RATIO * range_max_abs, _FLOOR):
        ratio = "" if not range_max_abs > 0 else f", {wider / range_max_abs:.3g} x"
        warnings.append(
            f"the max error on [{lo:g}, {hi:g}] ({factor:g} x the range) is {wider:.3e}{ratio} "
            f"the error on the range {range_max_abs:.3e}: the table does not follow the target "
            "outside the range"
            + (f" {LINEAR_TAIL_HINT}" if fast else " (fit on a wider range if inputs go there)")
        )
    return TailReport(
        degrees=tails.degrees,
        plus=tails.plus,
        minus=tails.minus,
        wider=(lo, hi),
        wider_max_abs=wider,
        range_max_abs=float(range_max_abs),
        warnings=tuple(warnings),
        method=method,
    )

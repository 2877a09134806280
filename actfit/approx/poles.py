"""Real zeros of denominators, found so that none can be missed, and the pole report.

Floating-point root finders (``numpy.roots``) can lose a real root to a small imaginary part or
report a spurious one. Here every float64 coefficient is converted to the exact binary rational it
stands for, the squarefree part of the polynomial is formed exactly, and its real zeros are
isolated with a Sturm sequence (Sturm 1829; see e.g. Basu, Pollack and Roy, *Algorithms in Real
Algebraic Geometry*, ch. 2) and refined by exact bisection on sign changes. The count is exact, so
the pole report can say "pole-free on the real line" as a proven statement about the stored
coefficients.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from actfit.rational import Rational

__all__ = ["PoleReport", "count_real_roots", "pole_report", "real_roots"]

_Poly = list[Fraction]  # ascending coefficients, no trailing zeros


def _trim(p: _Poly) -> _Poly:
    while p and p[-1] == 0:
        p.pop()
    return p


def _exact(coeffs: ArrayLike) -> _Poly:
    return _trim([Fraction(float(c)) for c in np.asarray(coeffs, dtype=np.float64).ravel()])


def _deriv(p: _Poly) -> _Poly:
    return _trim([k * p[k] for k in range(1, len(p))])


def _divmod(num: _Poly, den: _Poly) -> tuple[_Poly, _Poly]:
    num = list(num)
    q = [Fraction(0)] * max(len(num) - len(den) + 1, 1)
    lead = den[-1]
    while len(num) >= len(den) and num:
        shift = len(num) - len(den)
        f = num[-1] / lead
        q[shift] = f
        for i, d in enumerate(den):
            num[shift + i] -= f * d
        num.pop()
        _trim(num)
    return _trim(q), num


def _gcd(a: _Poly, b: _Poly) -> _Poly:
    while b:
        a, b = b, _divmod(a, b)[1]
    return [c / a[-1] for c in a]


def _eval(p: _Poly, x: Fraction) -> Fraction:
    acc = Fraction(0)
    for c in reversed(p):
        acc = acc * x + c
    return acc


def _sturm_chain(p: _Poly) -> list[_Poly]:
    chain = [p, _deriv(p)]
    while chain[-1]:
        rem = _divmod(chain[-2], chain[-1])[1]
        if not rem:
            break
        chain.append([-c for c in rem])
    return [c for c in chain if c]


def _sign_changes(values: list[Fraction]) -> int:
    signs = [v > 0 for v in values if v != 0]
    return sum(1 for s, t in itertools.pairwise(signs) if s != t)


def _variations_at(chain: list[_Poly], x: Fraction | None, sign: int = 1) -> int:
    """Sign variations of the chain at ``x`` (``x=None``: at ``sign * infinity``)."""
    if x is None:
        vals = [p[-1] * (sign ** (len(p) - 1)) for p in chain]
        return _sign_changes(vals)
    return _sign_changes([_eval(p, x) for p in chain])


def _squarefree(coeffs: ArrayLike) -> _Poly:
    p = _exact(coeffs)
    if len(p) <= 1:
        return p
    g = _gcd(p, _deriv(p))
    return _divmod(p, g)[0] if len(g) > 1 else p


def count_real_roots(coeffs: ArrayLike, a: float | None = None, b: float | None = None) -> int:
    """Return the exact number of distinct real zeros of a polynomial in ``(a, b]``.

    Args:
        coeffs: ascending monomial coefficients (float64 values taken as exact binary numbers).
        a: left end (exclusive); ``None`` for minus infinity.
        b: right end (inclusive); ``None`` for plus infinity.
    """
    p = _squarefree(coeffs)
    if len(p) <= 1:
        return 0
    chain = _sturm_chain(p)
    va = _variations_at(chain, None, -1) if a is None else _variations_at(chain, Fraction(a))
    vb = _variations_at(chain, None, 1) if b is None else _variations_at(chain, Fraction(b))
    return va - vb


def real_roots(coeffs: ArrayLike) -> NDArray[np.float64]:
    """Return the sorted distinct real zeros of a polynomial, each correct to float64 rounding.

    Args:
        coeffs: ascending monomial coefficients.

    Examples:
        >>> real_roots([-2.0, 0.0, 1.0]).round(12).tolist()   # x^2 - 2
        [-1.414213562373, 1.414213562373]
    """
    p = _squarefree(coeffs)
    if len(p) <= 1:
        return np.zeros(0)
    chain = _sturm_chain(p)
    # Cauchy bound: every root lies in (-bound, bound).
    bound = 1 + max(abs(c / p[-1]) for c in p[:-1])
    roots: list[float] = []
    stack = [(-bound, bound)]
    while stack:
        lo, hi = stack.pop()
        count = _variations_at(chain, lo) - _variations_at(chain, hi)
        if count == 0:
            continue
        if count == 1:
            roots.append(_refine(p, lo, hi))
            continue
        mid = (lo + hi) / 2
        stack.extend([(lo, mid), (mid, hi)])
    return np.array(sorted(roots))


def _float(v: Fraction) -> float:
    """``float(v)``, saturating to +-inf beyond the float64 range instead of raising."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _refine(p: _Poly, lo: Fraction, hi: Fraction) -> float:
    """Bisect the single simple root of ``p`` in ``(lo, hi]`` down to float64 resolution.

    A root beyond the float64 range (a denominator coefficient of 1e-320, say) is returned as
    +-inf: it is a real pole, just not one a float can name.
    """
    f_hi = _eval(p, hi)
    if f_hi == 0:
        return _float(hi)
    # The root is simple (p is squarefree) and the only one in (lo, hi], so p changes sign.
    while True:
        mid = (lo + hi) / 2
        f_mid = _eval(p, mid)
        if f_mid == 0:
            return _float(mid)
        if (f_mid > 0) == (f_hi > 0):
            hi, f_hi = mid, f_mid
        else:
            lo = mid
        flo, fhi = _float(lo), _float(hi)
        if flo == fhi or np.nextafter(flo, fhi) == fhi:
            return _float((lo + hi) / 2)


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
    """

    form: str
    poles_on_range: tuple[float, ...]
    poles_on_real_line: tuple[float, ...]
    min_abs_q: float
    min_abs_q_at: float
    method: str

    @property
    def pole_free_on_range(self) -> bool:
        """True when ``Q`` has no zero on the fit range."""
        return not self.poles_on_range

    @property
    def pole_free(self) -> bool:
        """True when ``Q`` has no zero on the whole real line."""
        return not self.poles_on_real_line

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
        )


def _min_abs_q(rational: Rational, a: float, b: float) -> tuple[float, float]:
    from scipy.optimize import minimize_scalar

    xs = np.linspace(a, b, 4001)
    vals = np.abs(rational.denominator_at(xs))
    i = int(np.argmin(vals))
    best_x, best = float(xs[i]), float(vals[i])
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, xs.size - 1)]
    if hi > lo:
        res = minimize_scalar(
            lambda t: float(np.abs(rational.denominator_at(t))),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-14 * max(1.0, abs(best_x))},
        )
        if res.fun < best:
            best_x, best = float(res.x), float(res.fun)
    return best, best_x


def pole_report(rational: Rational, a: float, b: float) -> PoleReport:
    """Return the pole report of ``rational`` on ``[a, b]`` and on the whole real line.

    For ``plain`` the real zeros of ``Q`` come from exact Sturm-sequence isolation
    (:func:`real_roots`); ``safe`` and ``abs`` denominators are >= 1 by construction
    (``abs_offset``, read from other projects' tables, is >= 0.1).
    """
    if rational.form != "plain":
        min_q, at = _min_abs_q(rational, a, b)
        return PoleReport(
            form=rational.form,
            poles_on_range=(),
            poles_on_real_line=(),
            min_abs_q=min_q,
            min_abs_q_at=at,
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
        method="exact Sturm-sequence root isolation on the float64 coefficients",
    )

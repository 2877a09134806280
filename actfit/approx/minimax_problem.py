"""The minimax problem in internal coordinates: Chebyshev bases, symmetry reduction, conversion.

The minimax fitter (:mod:`actfit.approx.minimax`) works on :class:`Problem`: the numerator and
denominator are Chebyshev series in ``t``, the range mapped to ``[-1, 1]``, with one denominator
coefficient fixed by the normalisation box (:meth:`Problem.box`); :func:`to_rational` turns the
result into the stored monomial coefficients with ``Q(0) = 1``.

Forms
-----
* ``plain``: ``Q = Σ γ_k T_k(t)``, normalised by ``γ_0 = 1`` in the LP and by ``Q(0) = 1`` at
  the end.
* ``safe``: ``Q = Σ_k c_k (|x|/R)^k`` with ``c_k >= 0`` (``R = max(|a|, |b|)``), linear in ``c``,
  so the same LPs apply with the bounds ``0 <= c_k <= bound``.
* ``abs``: ``Q = c_0 + |S|`` is linear in ``S`` for a fixed sign pattern ``σ(x) = sign S(x)``
  (:mod:`actfit.approx.sign_patterns`): :meth:`Problem.phi` gives the columns ``[1, σ (T_k(t) -
  T_k(t0))]``, ``t0`` the image of ``x = 0``.

Barycentric basis
-----------------
With ``support`` set (plain, type [n, n], no symmetry; or even, ``n`` even, in ``s = x^2``
with ``n/2 + 1`` points), numerator and denominator are in the barycentric basis on those points
instead (:mod:`actfit.approx.barycentric`), with
``Σ b_j = 1`` as the normalisation: the representation that keeps the clustered poles of
kinked targets at high degree representable (Filip, Nakatsukasa, Trefethen and Beckermann
2018). :func:`actfit.approx.barycentric.to_monomial` converts it, not :func:`to_rational`.

Symmetry
--------
For an even (odd) target on a symmetric range with a symmetric weight the best plain
approximation is even (odd), because it is unique (Achieser 1956): only the even (odd) numerator
and even denominator Chebyshev terms are used and the grid covers ``[0, b]`` only
(:func:`symmetry`). This is the substitution ``t = x^2`` without its square-root singularity at 0,
and it removes the degeneracy (defect) that symmetric targets otherwise cause. Targets odd about
``f(0)`` (sigmoid) or even after subtracting ``s x`` (gelu, swish, softplus) are reduced the same
way when the class is invariant under the reflection (``n <= m``, resp. ``n + 1 <= m``).

References:
    N. I. Achieser, *Theory of Approximation*, Ungar (1956), sec. 2.11 (uniqueness of the best
    rational approximation).
    S.-I. Filip, Y. Nakatsukasa, L. N. Trefethen and B. Beckermann, "Rational minimax
    approximation via adaptive barycentric representations", SIAM J. Sci. Comput. 40 (2018),
    A2427–A2455.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx import barycentric
from actfit.approx.chebyshev import cheb_to_monomial_exact, round_exact
from actfit.approx.weights import Weight
from actfit.errors import FitError
from actfit.rational import Rational

__all__ = [
    "SAFE_BOUND",
    "SAFE_START_BOUND",
    "Problem",
    "min_q_rows",
    "pad",
    "pole_free_rows",
    "symmetry",
    "symmetry_label",
    "to_rational",
]

_Array = NDArray[np.float64]
# Bounds on the safe form's scaled coefficients c_k: the first solve uses the smaller (a large
# bound from the start makes the first LPs badly scaled), a continuation the larger.
SAFE_START_BOUND = 1e3
SAFE_BOUND = 1e6


@dataclass
class Problem:
    """A minimax problem in internal coordinates: the bases of numerator and denominator in
    ``t``, the range mapped to ``[-1, 1]``, their normalisation box, and the reduced target
    ``f - shift`` (see the module docstring)."""


    target: Any
    weight: Weight
    a: float
    b: float
    m: int
    n: int
    form: str
    sym: int  # 0: none, +1: even, -1: odd (plain and safe only)
    kinks: tuple[float, ...]
    shift: tuple[float, float] = (0.0, 0.0)  # fit f - (s0 + s1 x); P gets (s0 + s1 x) Q back
    safe_bound: float = SAFE_START_BOUND
    # plain, m == n, sym 0 (or sym 1, m even, in s = x^2): the barycentric basis on these
    # support points instead of Chebyshev (:mod:`actfit.approx.barycentric`); () for Chebyshev.
    support: tuple[float, ...] = ()

    @property
    def lo(self) -> float:
        return 0.0 if self.sym else self.a

    @property
    def mid(self) -> float:
        return 0.5 * (self.a + self.b)

    @property
    def half(self) -> float:
        return 0.5 * (self.b - self.a)

    @property
    def radius(self) -> float:
        return max(abs(self.a), abs(self.b))

    def t(self, x: _Array) -> _Array:
        return (x - self.mid) / self.half

    @property
    def num_index(self) -> _Array:
        if self.support:
            return np.arange(len(self.support))
        k = np.arange(self.m + 1)
        if self.sym == 1:
            return k[k % 2 == 0]
        if self.sym == -1:
            return k[k % 2 == 1]
        return k

    @property
    def den_index(self) -> _Array:
        if self.support:
            return np.arange(len(self.support))
        k = np.arange(self.n + 1)
        if self.sym and self.form == "plain":
            return k[k % 2 == 0]
        return k

    def _bary_var(self, x: _Array) -> _Array:
        # Even reduction: an even rational of type [2k, 2k] is one of type [k, k] in s = x^2.
        x = np.asarray(x, dtype=np.float64)
        return x * x if self.sym == 1 else x

    def psi(self, x: _Array) -> _Array:
        if self.support:
            return barycentric.basis(self._bary_var(x), self.support)
        return _cheb.chebvander(self.t(x), self.m)[:, self.num_index]

    def phi(self, x: _Array, sign: _Array | None = None) -> _Array:
        if self.support:
            return barycentric.denominator_basis(self._bary_var(x), self.support)
        if self.form == "plain":
            return _cheb.chebvander(self.t(x), self.n)[:, self.den_index]
        if self.form == "safe":
            s = np.abs(x) / self.radius
            return s[:, None] ** np.arange(self.n + 1)
        # abs: [1, σ (T_k(t) - T_k(t0))]
        t0 = self.t(np.array([0.0]))
        cols = _cheb.chebvander(self.t(x), self.n)[:, 1:] - _cheb.chebvander(t0, self.n)[:, 1:]
        sg = np.ones_like(x) if sign is None else sign
        return np.hstack([np.ones((x.size, 1)), sg[:, None] * cols])

    def box(self) -> tuple[_Array, _Array]:
        """Bounds on the denominator coefficients; the first is fixed to 1 (normalisation).

        plain: ``γ_0 = 1`` is the Chebyshev mean of ``Q``, positive for every ``Q > 0`` on the
        range, and then ``|γ_k| <= 2`` for ``Q >= 0`` (the box allows 4). safe: ``c_0 = Q(0) = 1``
        and ``0 <= c_k <= 1e3``. abs: ``c_0 = 1`` and ``|S coefficients| <= 1e3``. Fixing one
        coefficient instead of only boxing them all removes the scaling direction ``(P, Q) ->
        t (P, Q)``, which otherwise makes the LPs near-singular when the error is small.
        Barycentric (``support``): ``Σ b_j = 1`` and then ``0 <= b_j <= 1`` for every ``Q > 0``
        (:mod:`actfit.approx.barycentric`).
        """
        k = self.den_index.size
        if self.support:
            lower, upper = np.zeros(k), np.ones(k)
        elif self.form == "plain":
            lower, upper = np.full(k, -4.0), np.full(k, 4.0)
        elif self.form == "safe":
            lower, upper = np.zeros(k), np.full(k, self.safe_bound)
        else:
            lower, upper = np.full(k, -1e3), np.full(k, 1e3)
        lower[0] = upper[0] = 1.0
        return lower, upper

    def unit_gamma(self) -> _Array:
        """The start ``Q = 1`` (barycentric: Berrut's ``b_j = 1 / (n + 1)``, pole-free)."""
        if self.support:
            g = np.full(len(self.support), 1.0 / len(self.support))
        else:
            g = np.zeros(self.den_index.size)
        g[0] = 1.0
        return g

    def f(self, x: _Array) -> _Array:
        out = np.asarray(self.target(x), dtype=np.float64)
        if self.shift != (0.0, 0.0):
            out = out - (self.shift[0] + self.shift[1] * x)
        return out

    def w(self, x: _Array) -> _Array:
        return self.weight(x)


def symmetry(
    target: Any, weight: Weight, a: float, b: float, form: str, m: int, n: int
) -> tuple[int, tuple[float, float]]:
    """Return ``(sym, shift)``: ``f - shift`` is even (``sym = 1``) or odd (``-1``) on a symmetric
    range with a symmetric weight, or ``(0, (0, 0))``.

    ``shift = (s0, s1)`` is ``(f(0), 0)`` for a target odd about its value at 0 (sigmoid) and
    ``(0, s1)`` for one that is even plus ``s1 x`` (gelu, swish, softplus). The reflection
    map that takes an approximant to one with the mirrored error
    (``r(x) -> 2 s0 - r(-x)``, resp. ``r(x) -> 2 s1 x + r(-x)``) keeps the class [m, n] only when
    ``deg(shift) + n <= m``; then, the best approximation being unique (Achieser 1956), it is
    ``shift + G/Q`` with ``G`` odd (even) and ``Q`` even. Shifts are used only then, and only for
    the plain form (``shift * Q(|x|)`` is no polynomial).
    """
    none = (0, (0.0, 0.0))
    if not abs(a + b) <= 1e-14 * b or not weight.symmetric:
        return none
    x = np.linspace(0.0, b, 257)[1:] * (1.0 - 1e-3 * np.sin(np.arange(256)))
    fp, fm = np.asarray(target(x)), np.asarray(target(-x))
    f0 = float(np.asarray(target(np.array([0.0])))[0])
    scale = float(np.max(np.abs(np.concatenate([fp, fm])))) + 1e-300
    tol = 1e-13 * scale
    if np.max(np.abs(fp - fm)) <= tol:
        return 1, (0.0, 0.0)
    if np.max(np.abs(fp + fm)) <= tol:
        return -1, (0.0, 0.0)
    if form != "plain" or not math.isfinite(f0):
        return none
    if np.max(np.abs(fp + fm - 2.0 * f0)) <= tol and n <= m:
        return -1, (f0, 0.0)
    slope = float(np.median((fp - fm) / (2.0 * x)))
    if np.max(np.abs(fp - fm - 2.0 * slope * x)) <= tol and n + 1 <= m:
        return 1, (0.0, slope)
    return none


def symmetry_label(sym: int, shift: tuple[float, float]) -> str:
    """The symmetry used, in words (for the fit's settings)."""
    if sym == 0:
        return "none"
    kind = "even" if sym == 1 else "odd"
    if shift == (0.0, 0.0):
        return kind
    if shift[1] == 0.0:
        return f"{kind} about f(0) = {shift[0]:.17g}"
    return f"{kind} after subtracting {shift[1]:.17g} x"


def pole_free_rows(prob: Problem, extra_t: _Array) -> tuple[_Array, _Array]:
    """Constraints ``G γ >= h`` asking for ``Q > 0`` on the whole real line.

    Rows: ``Q(t) / (1 + t^2)^{n/2} >= 1e-6`` at ``t = tan θ`` on a grid of ``θ`` in
    ``(-π/2, π/2)`` (the compactified real line) and at the extra points, and the
    leading-coefficient limits ``Q(t) / t^n`` at ``t -> ±∞`` ``>= 1e-6`` (``n`` even: the
    caller lowers an odd degree by one, since a real polynomial of odd degree has a real zero).
    The margin keeps the minimum of ``Q`` away from a double root that rounding would split into
    two poles; the exact Sturm count decides in the end.
    """
    theta = np.linspace(-np.pi / 2, np.pi / 2, 241)[1:-1]
    t = np.concatenate([np.tan(theta), extra_t])
    rows = _cheb.chebvander(t, prob.n)[:, prob.den_index] / (1.0 + t * t)[:, None] ** (prob.n / 2)
    lead = np.zeros((2, prob.den_index.size))
    if prob.n >= 1 and prob.n in prob.den_index:
        pos = int(np.flatnonzero(prob.den_index == prob.n)[0])
        c = 2.0 ** (prob.n - 1)
        lead[0, pos] = c
        lead[1, pos] = c * (-1.0) ** prob.n
    h = np.full(t.size + 2, 1e-6)
    return np.vstack([rows, lead]), h


def min_q_rows(prob: Problem, x: _Array, min_q: float) -> tuple[_Array, _Array]:
    """Constraints ``G γ >= h`` asking for ``Q(x) >= min_q`` at the points ``x`` (plain form).

    ``Q = Σ γ_k T_k(t)`` with ``γ_0 = 1``: ``γ_0`` is the Chebyshev mean of ``Q`` on the range,
    so the rows bound ``min Q / mean Q`` from below, a scale-free measure of how nearly ``Q``
    vanishes on the range.
    """
    return prob.phi(np.asarray(x, dtype=np.float64)), np.full(np.size(x), float(min_q))


def to_rational(prob: Problem, alpha: _Array, gamma: _Array) -> Rational:
    """Return the stored :class:`~actfit.rational.Rational` (monomial coefficients, ``Q(0) = 1``)
    of internal Chebyshev coefficients ``alpha`` (numerator) and ``gamma`` (denominator).

    The conversion, the shift ``(s0 + s1 x) Q`` added back and the normalisation are done in
    exact rational arithmetic on the float64 inputs (:func:`cheb_to_monomial_exact`) and every
    stored coefficient is rounded once: each is the float64 nearest to the exact coefficient of
    the normalised internal rational.

    Raises:
        FitError: a plain denominator that vanishes at 0 (no form with ``Q(0) = 1``).
    """
    # The basis is t = (x - mid) / half with float64 mid and half: its exact range ends.
    mid, half = Fraction(prob.mid), Fraction(prob.half)
    lo, hi = mid - half, mid + half
    num_c = np.zeros(prob.m + 1)
    num_c[prob.num_index] = alpha
    num = cheb_to_monomial_exact(num_c, lo, hi)
    # Exact zeros of the symmetry (the range's midpoint may be a rounding away from 0).
    zero_num = (1 if prob.sym == 1 else 0) if prob.sym else None
    if zero_num is not None:
        num = [Fraction(0) if k % 2 == zero_num else v for k, v in enumerate(num)]
    if prob.form == "plain":
        den_c = np.zeros(prob.n + 1)
        den_c[prob.den_index] = gamma
        den = cheb_to_monomial_exact(den_c, lo, hi)
        if prob.sym:
            den = [Fraction(0) if k % 2 else v for k, v in enumerate(den)]
        if prob.shift != (0.0, 0.0):
            s0, s1 = Fraction(prob.shift[0]), Fraction(prob.shift[1])
            for k in range(min(len(num), len(den))):
                num[k] += s0 * den[k]
            for k in range(min(len(num) - 1, len(den))):
                num[k + 1] += s1 * den[k]
        q0 = den[0]
        if not abs(q0) > Fraction(1e-13) * max(abs(v) for v in den):
            raise FitError(
                f"the best approximation's denominator vanishes at x = 0, so it has no form with "
                f"Q(0) = 1; use a range containing 0 or a lower denominator degree than {prob.n}"
            )
        return Rational(
            round_exact([v / q0 for v in num]), round_exact([v / q0 for v in den[1:]]), "plain"
        )
    c0 = Fraction(float(gamma[0]))
    if prob.form == "safe":
        radius = Fraction(float(prob.radius))
        den_s = [Fraction(float(g)) / (c0 * radius**k) for k, g in enumerate(gamma) if k >= 1]
        return Rational(round_exact([v / c0 for v in num]), round_exact(den_s), "safe")
    # abs: Q = c0 + |S|, S = Σ γ_k (T_k(t) - T_k(t0)) (the sign pattern only selects the branch);
    # S(0) = 0, so the constant Chebyshev term only sets the monomial constant, which is dropped.
    s_c = np.zeros(prob.n + 1)
    s_c[1:] = gamma[1:]
    s_mono = cheb_to_monomial_exact(s_c, lo, hi)
    return Rational(
        round_exact([v / c0 for v in num]), round_exact([v / c0 for v in s_mono[1:]]), "abs"
    )


def pad(r: Rational, m: int, n: int) -> Rational:
    """``r`` as a member of type [m, n]: zero coefficients appended."""
    num = np.pad(np.asarray(r.numerator), (0, m + 1 - r.numerator.size))
    den = np.pad(np.asarray(r.denominator), (0, n - r.denominator.size))
    return Rational(num, den, r.form)

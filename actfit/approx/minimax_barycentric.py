"""The plain minimax fit in the barycentric basis: differential correction and Remez, certified.

:func:`fit_barycentric` solves the same problem as the Chebyshev path of
:func:`actfit.approx.minimax.fit_minimax` (differential correction with the continuum exchange,
:mod:`actfit.approx.exchange`, then the Remez step, :mod:`actfit.approx.remez`) with the
numerator and denominator in the barycentric basis of :mod:`actfit.approx.barycentric` on
support points graded toward the target's kink. That basis keeps the clustered poles and
zeros of kinked targets at high degree representable (Filip, Nakatsukasa, Trefethen and
Beckermann 2018): relu [12,12] on [-3,3] is certified at 2.0131e-4 (gap 3e-9) in about 1 s,
where the Chebyshev basis stopped at 4.77e-4, "local". Only for type [n, n]: on the full range
(no symmetry reduction) the barycentric form with ``n + 1`` support points is exactly that
class; for an even target (abs) with ``n`` even, the even members of [n, n] are the type
[n/2, n/2] rationals in ``s = x^2``, on ``n/2 + 1`` support points in ``s``.

References:
    S.-I. Filip, Y. Nakatsukasa, L. N. Trefethen and B. Beckermann, "Rational minimax
    approximation via adaptive barycentric representations", SIAM J. Sci. Comput. 40 (2018),
    A2427–A2455.
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from actfit.approx.barycentric import support_points, to_monomial
from actfit.approx.certificate import Certificate, certify, special_points
from actfit.approx.exchange import State, continuum_grid, error_function, initial_grid, solve
from actfit.approx.extrema import alternant, error_extrema
from actfit.approx.minimax_problem import Problem
from actfit.approx.remez import polish
from actfit.errors import FitError
from actfit.options import Progress
from actfit.rational import Rational

__all__ = ["applies", "fit_barycentric"]


def applies(prob: Problem) -> bool:
    """Whether :func:`fit_barycentric` is for ``prob``: plain, type [n, n] with ``n >= 2``, no
    symmetry reduction or the even one with ``n`` even (then in ``s = x^2``: abs [12,12] on
    [-1,1] is 1.074712e-4, BRASIL's E_{6,6}(sqrt) to 6 digits), not already barycentric, and a
    kink inside the range.

    The kink is what clusters the poles; smooth targets are served by the Chebyshev basis, and
    at their tiny best errors the barycentric LPs crawl (swish [12,12] on [0,4]: 8.2e-13 after
    73 s of exchange rounds, where the Chebyshev path is at rounding level).

    Examples:
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> p = Problem(get_target("relu"), parse_weight("uniform"), -3.0, 3.0, 12, 12,
        ...             "plain", 0, (0.0,))
        >>> applies(p), applies(dataclasses.replace(p, m=11)), applies(
        ...     dataclasses.replace(p, a=0.0))
        (True, False, False)
    """
    even = prob.sym == 1 and prob.m % 2 == 0
    return (prob.form == "plain" and prob.m == prob.n >= 2 and (prob.sym == 0 or even)
            and prob.shift == (0.0, 0.0) and not prob.support
            and any(prob.a < k < prob.b for k in prob.kinks))


def _variable(prob: Problem, x: np.ndarray) -> np.ndarray:
    """The barycentric variable: ``x``, or ``s = x^2`` for an even problem."""
    return x * x if prob.sym == 1 else x


def _count(prob: Problem) -> int:
    return prob.n // 2 + 1 if prob.sym == 1 else prob.n + 1


def _graded(prob: Problem, grid: np.ndarray) -> np.ndarray:
    """The graded support set; for an even problem in ``s`` on ``[0, b^2]``, graded toward 0
    (the kink of ``|x|`` is an end there; extrema of ``sqrt(s)`` [6,6] reach 2.3e-7 of it)."""
    count = _count(prob)
    if prob.sym != 1:
        return support_points(prob.lo, prob.b, prob.kinks, count, grid)
    hi = prob.b * prob.b
    z = np.concatenate([[0.0], hi * np.geomspace(1e-6, 1.0, count - 1)])
    return support_points(0.0, hi, (), count, grid * grid, points=z)


def _reference_support(prob: Problem, start: State, count: int, grid) -> np.ndarray | None:
    """``count`` support points spread over the alternating extrema of ``start``'s error (one
    per sign run; its interpolation points lie between them), or None if there are too few."""
    lo, hi = prob.lo, prob.b
    err = error_function(prob, start.alpha, start.gamma, np.ones_like)
    fixed = special_points(lo, hi, prob.kinks, prob.form)
    xs, es, finite = error_extrema(err, continuum_grid(prob, lo, hi, np.zeros(0)), fixed)
    if not finite:
        return None
    px, _ = alternant(xs, es, count)
    if px.size < count:
        return None
    pick = px[np.round(np.linspace(0, px.size - 1, count)).astype(int)]
    ends = _variable(prob, np.array([lo, hi]))
    return support_points(float(ends[0]), float(ends[1]), (), count, _variable(prob, grid),
                          points=_variable(prob, pick))


def _slope_jump(prob: Problem) -> bool:
    """Whether ``f'`` jumps at a kink inside the range (one-sided difference quotients)."""
    for c in prob.kinks:
        if not prob.a < c < prob.b:
            continue
        h = 1e-6 * (prob.b - prob.a)
        fl, fc, fr = prob.f(np.array([c - h, c, c + h]))
        left, right = (fc - fl) / h, (fr - fc) / h
        if abs(right - left) > 1e-3 * (1.0 + abs(left) + abs(right)):
            return True
    return False


def fit_barycentric(
    prob: Problem,
    report: Progress,
    starts: Sequence[State | None] = (),
    good: Callable[[Certificate], bool] | None = None,
) -> tuple[State, Rational, Certificate] | None:
    """Return ``(state, rational, certificate)`` of the barycentric fit of ``prob`` with the
    smallest error, or None when no support set gives a stored form (denominator zero at 0).
    ``state`` holds barycentric coefficients (of ``dataclasses.replace(prob, support=...)``,
    not of ``prob``).

    Support sets, in turn: spread over the alternating extrema of each of ``starts``
    (Chebyshev-basis results of ``prob``) that has enough of them, and graded toward the kink
    (:func:`~actfit.approx.barycentric.support_points`; first when ``f'`` jumps there); the
    first result ``good`` accepts is returned at once. Adaptive support points follow Filip et
    al. (2018); the graded set alone serves relu (its Chebyshev results alternate too little),
    the adaptive one elu, whose milder kink (a jump in f'') clusters the poles less (elu
    [12,12] on [-3,3]: 6.0591e-6, gap 6e-7, from the Chebyshev-reference Remez's extrema; the
    graded set gives a pole doublet).

    Raises:
        ValueError: ``prob`` is not one :func:`applies` accepts.
    """
    if not applies(prob):
        raise ValueError("the barycentric fit needs a plain type-[n, n] problem without symmetry")
    grid = initial_grid(prob, prob.lo, prob.b)
    count = _count(prob)
    sets = [_reference_support(prob, st, count, grid) for st in starts if st is not None]
    graded = _graded(prob, grid)
    # A jump in f' (relu, leaky_relu, selu) clusters the poles like |x|'s: the graded set
    # first (relu [12,12] on [-3,3]: 0.8 s against 3.6 s after a failed adaptive try).
    sets = [graded, *sets] if _slope_jump(prob) else [*sets, graded]
    best: tuple[State, Rational, Certificate] | None = None
    tried: list[tuple[float, ...]] = []
    label = "barycentric: "
    for z in sets:
        if z is None or tuple(z) in tried:
            continue
        tried.append(tuple(z))
        bp = dataclasses.replace(prob, support=tuple(float(v) for v in z))
        state = polish(bp, solve(bp, progress=report, label=label), report, label=label)
        try:
            num, den = to_monomial(z, state.alpha, state.gamma)
        except FitError:
            continue
        if prob.sym == 1:  # back from s = x^2
            num_x, den_x = np.zeros(prob.m + 1), np.zeros(prob.n)
            num_x[0::2], den_x[1::2] = num, den
            num, den = num_x, den_x
        rational = Rational(num, den, "plain")
        cert = certify(prob.target, rational, prob.a, prob.b, weight=prob.weight,
                       kinks=prob.kinks, order=(prob.m, prob.n))
        if best is None or cert.upper < best[2].upper:
            best = (state, rational, cert)
        if good is not None and good(cert):
            return state, rational, cert
    return best

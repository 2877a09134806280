"""The abs form's sign-pattern search: ``Q = c_0 + |S|`` as an LP for each sign pattern of ``S``.

``Q = c_0 + |S|`` is linear in ``S`` for a fixed sign pattern ``σ(x) = sign S(x)``: differential
correction (:func:`actfit.approx.exchange.solve`) runs with ``Q = c_0 + σ S`` and the
constraints ``σ S >= 0`` on the grid, for sign patterns taken from the plain optimum (``σ = +1``,
``-1``, ``sign(Q - 1)``, ``± sign(x)``); the best is kept (:func:`search`). This is a local search
over the sign changes of ``S``: the result is the differential-correction optimum for the chosen
pattern (or the plain optimum's start itself, when no pattern's optimum beats it), reported as
``"local"``.

References:
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504 (linear families
    with linear constraints).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import NDArray

from actfit.approx.certificate import Certificate, certify, special_points
from actfit.approx.exchange import State, continuum_grid, error_function, solve
from actfit.approx.extrema import error_extrema, rounding_level
from actfit.approx.minimax_problem import Problem, symmetry, to_rational
from actfit.approx.remez import (
    NEAR_RESOLUTION,
    chebyshev_start,
    lower_class_start,
    polish,
    target_scale,
)
from actfit.errors import FitError
from actfit.options import Progress
from actfit.rational import Rational

__all__ = ["search"]

_Array = NDArray[np.float64]
# A Remez result whose error exceeds its levelled reference error by less than this (plus the
# rounding level of the target) is the plain optimum up to rounding (de la Vallée Poussin).
_LEVELLED_RTOL = 1e-6
# A start whose exchange error is within this of the best is certified before the choice: see
# _certified_best.
_TIE_RTOL = 1e-3


def _abs_start(prob: Problem, r: Rational) -> tuple[_Array, _Array]:
    """Internal abs-form coefficients ``(α, [1, g])`` reproducing ``P`` and ``S = Q_plain - 1``."""
    affine = np.polynomial.Polynomial([prob.mid, prob.half])  # x as a polynomial in t

    def in_t(coef: _Array, size: int) -> _Array:
        c = _cheb.poly2cheb(np.polynomial.Polynomial(coef)(affine).coef)
        return np.pad(c, (0, max(0, size - c.size)))[:size]

    alpha = in_t(np.asarray(r.numerator), prob.m + 1)
    g = in_t(np.concatenate(([0.0], r.denominator)), prob.n + 1)
    return alpha, np.concatenate(([1.0], g[1:]))


def _abs_candidates(
    prob: Problem, plain: Rational | None
) -> list[tuple[str, _Array | None, float, tuple[_Array, _Array] | None]]:
    """Sign patterns of ``S`` for the abs form: (label, breakpoints, sign left of the first,
    start). ``S -> -S`` leaves ``1 + |S|`` unchanged, so each pattern stands for its negation.

    The order is the order of the search: the two fixed patterns first, because one of them won
    in most benchmark cells and a good early rival lets the others stop sooner (see
    :func:`~actfit.approx.exchange.solve`); the order does not change the best error found, only
    what it costs."""
    out: list[tuple[str, _Array | None, float, tuple[_Array, _Array] | None]] = []
    out.append(("S>=0", None, 1.0, None))
    if prob.a < 0.0 < prob.b:
        out.append(("sign(x)", np.array([0.0]), -1.0, None))
    if plain is not None and plain.degree[1] > 0:
        s = np.concatenate(([0.0], plain.denominator))
        roots = np.polynomial.polynomial.polyroots(s)
        real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
        at_zero = np.abs(roots) <= 1e-12 * prob.radius
        real = real[(real > prob.a) & (real < prob.b) & (np.abs(real) > 1e-12 * prob.radius)]
        if np.count_nonzero(at_zero) % 2 and prob.a < 0.0 < prob.b:
            # S(0) = 0 always; a zero of odd order there is a sign change of S (swish [6,6]:
            # S'(0) != 0). Without the break the start breaks σ S >= 0 on [0, 0.41] and
            # differential correction starts from grid error 0.2 instead of 1.3e-3.
            real = np.sort(np.concatenate([real, [0.0]]))
        left = float(np.polynomial.polynomial.polyval(prob.a, s))
        start = _abs_start(prob, plain)
        label = "sign(Q_plain - 1)" if real.size else "S>=0 from the plain optimum"
        out.append((label, real if real.size else None, 1.0 if left >= 0 else -1.0, start))
    return out


def _plain_start(prob: Problem, report: Progress) -> Rational | None:
    """The plain optimum that supplies the patterns and a start (None: no form with Q(0) = 1).

    First Remez from the Chebyshev reference (:func:`~actfit.approx.remez.chebyshev_start`): when
    its error equals its levelled reference error (equioscillation at ``m + n + 2`` points, so de
    la Vallée Poussin's bound meets the error) it *is* the plain optimum, and differential
    correction would only find it again, slower (swish [6,6] on [-3,3]: 0.06 s against 0.85 s for
    differential correction + polish, both 1.766e-10). Near float64 resolution
    (``NEAR_RESOLUTION``), where it need not level, it is kept too (tsqrt [6,6] on [0, 4]:
    5.7e-13 in 0.2 s, where differential correction took 12.9 s to reach 6.5e-11). Without a
    Chebyshev start, the lower classes' (:func:`~actfit.approx.remez.lower_class_start`, as
    the plain fit does). Otherwise (kinked targets, defective optima such as hardtanh)
    differential correction and the Remez polish, as before.
    """
    cheb = None
    if prob.n > 0:
        cheb = chebyshev_start(prob, report, label="plain start: ")
        if cheb is not None and math.isfinite(cheb.error):
            xs = np.linspace(prob.lo, prob.b, 257)
            noise = rounding_level(prob.f(xs), prob.w(xs))
            if cheb.error <= cheb.grid_error * (1.0 + _LEVELLED_RTOL) + noise:
                return _rational(prob, cheb)
        if cheb is not None and cheb.error <= NEAR_RESOLUTION * target_scale(prob):
            # Near float64 resolution, where it need not level: as good a start as any.
            return _rational(prob, cheb)
    if cheb is None and min(prob.m, prob.n) >= 2:
        lower = lower_class_start(prob, report)
        if lower is not None:
            return lower[1]
    return _rational(prob, polish(prob, solve(prob, progress=report, label="plain start: "),
                                  report))


def _rational(prob: Problem, st: State) -> Rational | None:
    try:
        return to_rational(prob, st.alpha, st.gamma)
    except FitError:
        return None


def _member(prob: Problem, start: tuple[_Array, _Array], label: str) -> State:
    """The start itself as an abs-form member: ``P / (1 + |S|)`` is in the class for every ``S``
    (equal to the plain optimum where ``S >= 0`` on the range), with its continuum error.

    Differential correction from this start can end slightly *above* it (tanh [6,6] on [-3, 3]:
    2.14483e-8 from a start of 2.14353e-8; its grid tolerance, not the problem), so the start
    competes as it is."""
    alpha, gamma = start
    err = error_function(prob, alpha, gamma, np.ones_like)
    grid = continuum_grid(prob, prob.lo, prob.b, np.zeros(0))
    fixed = special_points(prob.lo, prob.b, prob.kinks, prob.form)
    _xs, es, finite = error_extrema(err, grid, fixed)
    error = float(np.max(np.abs(es))) if finite else math.inf
    return State(alpha, gamma, None, 1.0, error, error, 0, 0, int(grid.size), finite, label)


def search(prob: Problem, report: Progress) -> tuple[State, Rational, Certificate]:
    """Return the best abs-form state over the sign patterns, its rational and certificate.

    The plain optimum (:func:`_plain_start`) supplies the patterns and a start, and the start
    itself, an abs-form member, is the first rival (:func:`_member`); each pattern is solved
    with the best error so far as its rival, so a pattern that cannot win stops early (see
    :func:`~actfit.approx.exchange.solve`).

    Raises:
        FitError: the best pattern's rational has no form with ``Q(0) = 1``.
    """
    a, b, m, n = prob.a, prob.b, prob.m, prob.n
    psym, pshift = symmetry(prob.target, prob.weight, a, b, "plain", m, n)
    plain_prob = Problem(prob.target, prob.weight, a, b, m, n, "plain", psym, prob.kinks, pshift)
    plain_r = _plain_start(plain_prob, report)
    best: State | None = None
    tried: list[State] = []
    candidates = _abs_candidates(prob, plain_r)
    for label, _breaks, _default, start in candidates:
        if start is not None:
            # A strong first rival also lets the other patterns stop sooner.
            member = _member(prob, start, f"{label} (the start itself)")
            tried.append(member)
            if best is None or member.error < best.error:
                best = member
    for label, breaks, default, start in candidates:
        st = solve(
            prob,
            breaks=breaks,
            default_sign=default,
            start=start,
            progress=report,
            label=f"abs {label}: ",
            rival=best.error if best is not None else math.inf,
        )
        st.label = label
        tried.append(st)
        if best is None or st.error < best.error:
            best = st
    assert best is not None
    report("certifying", 0.95)
    return _certified_best(prob, best, tried)


def _certified_best(
    prob: Problem, best: State, tried: list[State]
) -> tuple[State, Rational, Certificate]:
    """The best of the near-ties by their certified error, with its rational and certificate.

    The search ranks by the exchange's continuum error, the maximum over the located local
    extrema; it can miss an extremum by a few parts in 1e6 (gelu_tanh [5,4] on [-3, 3]: a
    pattern at 3.9645364e-4 by the exchange, 3.9645675e-4 certified, against 3.9645389e-4 for
    the start itself), so the best start itself, when within ``_TIE_RTOL`` of the best, is
    certified too (the winner is anyway) and the lower certified error wins.
    """
    # The best, and the best start itself when it is a near-tie (a start is the result when no
    # pattern beats it, so the choice is never worse than the start).
    xs = np.linspace(prob.lo, prob.b, 257)
    # Relative ties mean nothing at rounding level (identity [6,6]: 1.7e-14 certified for the
    # pattern, 3.6e-15 for the start): the rounding level of the target counts as a tie too.
    slack = 16.0 * rounding_level(prob.f(xs), prob.w(xs))
    ties = [
        st for st in tried
        if st is not best and st.error <= best.error * (1.0 + _TIE_RTOL) + slack
    ]
    members = [st for st in ties if st.lps == 0]
    near = [best] + ([min(members, key=lambda st: st.error)] if members else [])
    out: tuple[State, Rational, Certificate] | None = None
    for st in near:
        try:
            r = to_rational(prob, st.alpha, st.gamma)
        except FitError:
            if st is best:
                raise
            continue
        c = certify(prob.target, r, prob.a, prob.b, weight=prob.weight, kinks=prob.kinks,
                    order=(prob.m, prob.n))
        if out is None or c.upper < out[2].upper:
            out = (st, r, c)
    assert out is not None
    return out

"""Remez polish: the second Remez algorithm from a differential-correction result (plain form).

The alternant of a differential-correction result is the reference of Remez's second algorithm:
the levelled equations ``w (f Q - P) = ±E Q`` are solved exactly at the reference (a generalised
eigenproblem in ``E``; Powell 1981, sec. 10.2) and the reference moves to the new extrema,
converging quadratically to the equioscillating optimum. The best iterate is kept, so the polish
never makes a fit worse.

References:
    E. Ya. Remez, "Sur le calcul effectif des polynomes d'approximation de Tchebichef", C. R.
    Acad. Sci. Paris 199 (1934), 337–340.
    M. J. D. Powell, *Approximation Theory and Methods*, Cambridge University Press (1981),
    ch. 10 (the exchange algorithm for rational approximation).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from actfit.approx.certificate import Certificate, certify, special_points
from actfit.approx.exchange import State, continuum_grid, error_function
from actfit.approx.extrema import alternant, error_extrema
from actfit.approx.minimax_problem import Problem, pad, symmetry, to_rational
from actfit.errors import FitError
from actfit.options import Progress
from actfit.rational import Rational

__all__ = [
    "LOWER_CLASSES",
    "NEAR_RESOLUTION",
    "chebyshev_reference",
    "chebyshev_start",
    "good_certificate",
    "lower_class_candidates",
    "lower_class_start",
    "polish",
    "target_scale",
    "tight_gap",
]

_Array = NDArray[np.float64]


def _pick_reference(xs: _Array, es: _Array, k: int) -> tuple[_Array, _Array] | None:
    """Return ``k`` consecutive alternating extrema containing the largest one (or None)."""
    px, pe = alternant(xs, es, k)
    if px.size < k:
        return None
    if px.size == k:
        return px, pe
    top = int(np.argmax(np.abs(pe)))
    best, best_min = None, -1.0
    for s in range(max(0, top - k + 1), min(top, px.size - k) + 1):
        lvl = float(np.min(np.abs(pe[s : s + k])))
        if lvl > best_min:
            best, best_min = s, lvl
    assert best is not None
    return px[best : best + k], pe[best : best + k]


def _levelled(
    prob: Problem, ref: _Array, sign0: float, level: float, check: _Array
) -> tuple[_Array, _Array, float] | None:
    """Solve ``w (f Q - P) = ±E Q`` at the reference (a generalised eigenproblem in ``E``).

    Returns the solution whose ``Q`` keeps one sign on ``check`` and whose ``|E|`` is closest to
    ``level``, normalised so that ``Q > 0``; None if there is none.
    """
    from scipy.linalg import eig

    psi, phi = prob.psi(ref), prob.phi(ref)
    f, w = prob.f(ref), prob.w(ref)
    s = sign0 * (-1.0) ** np.arange(ref.size)
    amat = np.hstack([-w[:, None] * psi, (w * f)[:, None] * phi])
    bmat = np.hstack([np.zeros_like(psi), s[:, None] * phi])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals, vecs = eig(amat, bmat)
    p = psi.shape[1]
    phi_check = prob.phi(check)
    best = None
    for val, vec in zip(vals, vecs.T, strict=True):
        if not np.isfinite(val) or abs(val.imag) > 1e-8 * (1.0 + abs(val.real)):
            continue
        z = vec.real if np.max(np.abs(vec.real)) >= np.max(np.abs(vec.imag)) else vec.imag
        gamma = z[p:]
        q = phi_check @ gamma
        if not (np.all(q > 0) or np.all(q < 0)):
            continue
        if gamma[0] == 0 or (q[0] > 0) != (gamma[0] > 0):
            continue
        scale = 1.0 / gamma[0]
        cand = (z[:p] * scale, gamma * scale, float(val.real))
        if best is None or abs(abs(cand[2]) - level) < abs(abs(best[2]) - level):
            best = cand
    return best


def polish(prob: Problem, st: State, progress: Progress | None, label: str = "") -> State:
    """Polish a plain differential-correction result by Remez's second algorithm.

    The reference is the alternant of the current error; each step solves the levelled equations
    exactly (a generalised eigenproblem, as in Powell, *Approximation Theory and Methods*, 1981,
    sec. 10.2) and moves the reference to the new extrema. The best iterate (smallest continuum
    error) is kept, so the polish never makes a fit worse.
    """
    lo, hi = prob.lo, prob.b
    fixed = special_points(lo, hi, prob.kinks, prob.form)
    k = prob.num_index.size + prob.den_index.size
    alpha, gamma = st.alpha, st.gamma
    best = st
    base_grid = continuum_grid(prob, lo, hi, np.zeros(0))
    xs_extra = np.zeros(0)
    stale = 0
    for it in range(1, 16):
        err = error_function(prob, alpha, gamma, np.ones_like)
        xs, es, finite = error_extrema(err, np.union1d(base_grid, xs_extra), fixed)
        if not finite:
            break
        error = float(np.max(np.abs(es)))
        ref = _pick_reference(xs, es, k)
        if ref is None:
            break
        rx, re_ = ref
        level_min = float(np.min(np.abs(re_)))
        stale += 1
        if error < best.error * (1.0 - 1e-9):
            stale = 0
        if error < best.error:
            best = State(alpha, gamma, None, 1.0, level_min, error, st.rounds, st.lps,
                          st.grid_size, True, st.label)
        if progress is not None:
            progress(f"{label}Remez step {it}: error {error:.3e}", 0.8)
        if error - level_min <= 1e-12 * error or stale >= 3:
            break
        sol = _levelled(prob, rx, float(np.sign(re_[0])), level_min, base_grid)
        if sol is None:
            break
        alpha, gamma, _ = sol
        xs_extra = rx
    return best


def chebyshev_reference(prob: Problem) -> tuple[_Array, _Array, float, _Array] | None:
    """The levelled solution at the ``m + n + 2`` Chebyshev extreme points of the (reduced)
    range: ``(alpha, gamma, E, reference)``, or None when there is none with ``Q`` of one sign.

    ``w (f - P/Q)`` equals ``±E`` with alternating signs at the reference, so ``|E|`` is a de la
    Vallée Poussin lower bound on the best error once it is checked on the stored coefficients
    (as :mod:`actfit.approx.safe_bound` does), without any exchange step.
    """
    lo, hi = prob.lo, prob.b
    k = prob.num_index.size + prob.den_index.size
    ref = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.linspace(0.0, np.pi, k))
    base_grid = continuum_grid(prob, lo, hi, np.zeros(0))
    sol = _levelled(prob, ref, 1.0, 0.0, base_grid)
    if sol is None:
        sol = _levelled(prob, ref, -1.0, 0.0, base_grid)
    if sol is None:
        return None
    alpha, gamma, level = sol
    return alpha, gamma, level, ref


def chebyshev_start(prob: Problem, progress: Progress | None, label: str = "") -> State | None:
    """Remez's second algorithm started from the Chebyshev reference (plain form), or None.

    The first reference is the ``m + n + 2`` Chebyshev extreme points of the (reduced) range, the
    classical start (Powell 1981, sec. 10.2; chebfun's ``minimax`` for smooth functions); then
    :func:`polish` moves the reference. For smooth targets whose best error is tiny this reaches
    it where differential correction stalls: swish [6,6] on [-1,1], 1.0e-15 after one levelled
    solve (0.2 s) against 9.7e-12 from differential correction (7 s). Kinked targets usually
    do better from differential correction; the caller keeps the better result.
    """
    lo, hi = prob.lo, prob.b
    k = prob.num_index.size + prob.den_index.size
    sol = chebyshev_reference(prob)
    if sol is None:
        return None
    alpha, gamma, level, ref = sol
    base_grid = continuum_grid(prob, lo, hi, np.zeros(0))
    fixed = special_points(lo, hi, prob.kinks, prob.form)
    err = error_function(prob, alpha, gamma, np.ones_like)
    _xs, es, finite = error_extrema(err, np.union1d(base_grid, ref), fixed)
    if not finite:
        return None
    error = float(np.max(np.abs(es)))
    st = State(alpha, gamma, None, 1.0, abs(level), error, 0, 0, int(k), True, label)
    return polish(prob, st, progress, label)


def target_scale(prob: Problem) -> float:
    """max |f| on the range (the scale of the target's float64 rounding)."""
    return float(np.max(np.abs(prob.f(np.linspace(prob.lo, prob.b, 257)) + prob.shift[0])))


def tight_gap(prob: Problem, cert: Certificate | None) -> float:
    """The gap below which a plain result counts as certified: gaps below ~1e4 ulps of the
    target are rounding, not a sign of a defective optimum."""
    return 1e-6 + (1e4 * np.finfo(float).eps * target_scale(prob) / cert.upper
                   if cert is not None and cert.upper > 0 else 0.0)


# A Chebyshev start within this many ulps of the target's scale is near float64 resolution:
# there the lower classes' starts are tried (lower_class_candidates, and its callers in minimax
# and sign_patterns).
NEAR_RESOLUTION = 1e6 * float(np.finfo(float).eps)
# How many lower classes [m-d, n-d] are tried then (swish [12,12] on [-3,3] needs d = 2).
LOWER_CLASSES = 4


def lower_class_candidates(
    prob: Problem, progress: Progress | None
) -> Iterator[tuple[State, Rational, Certificate]]:
    """The Chebyshev starts of the lower classes ``[m-d, n-d]``, ``d = 1..LOWER_CLASSES``
    (plain form), each certified as a member of ``[m, n]`` (its rational padded to ``[m, n]``;
    the state is the lower class's own).

    Near float64 resolution the best ``[m, n]`` approximation may be (nearly) defective, or below
    what float64 can level, and neither Remez from the Chebyshev reference nor differential
    correction settles it; a lower class's Chebyshev start, certified in ``[m, n]`` (de la
    Vallée Poussin with defect ``d``), does (gelu [8,8] on [-1,1]: 2.5e-14 from ``d = 1``;
    swish [12,12] on [-3,3]: 5.3e-15 from ``d = 2``, where the full solve stopped "local" at
    3.4e-11 after 49 s). The classes stop after the first whose error is above
    ``NEAR_RESOLUTION`` times :func:`target_scale` (not a resolution problem: lower classes are
    only worse).
    """
    m, n = prob.m, prob.n
    scale = target_scale(prob)
    for d in range(1, min(LOWER_CLASSES, m, n - 1) + 1):
        sym_d, shift_d = symmetry(prob.target, prob.weight, prob.a, prob.b, "plain", m - d, n - d)
        sub = Problem(prob.target, prob.weight, prob.a, prob.b, m - d, n - d, "plain", sym_d,
                      prob.kinks, shift_d)
        st_d = chebyshev_start(sub, progress, label=f"[{m - d},{n - d}]: ")
        if st_d is None:
            continue
        try:
            r_d = pad(to_rational(sub, st_d.alpha, st_d.gamma), m, n)
        except FitError:
            continue
        c_d = certify(prob.target, r_d, prob.a, prob.b, weight=prob.weight, kinks=prob.kinks,
                      order=(m, n))
        yield st_d, r_d, c_d
        if c_d.upper > NEAR_RESOLUTION * scale:
            return


def good_certificate(prob: Problem, cert: Certificate) -> bool:
    """Global, with a gap within :func:`tight_gap`."""
    return cert.status == "global" and (cert.gap or 0.0) <= tight_gap(prob, cert)


def lower_class_start(
    prob: Problem, progress: Progress | None
) -> tuple[State, Rational, Certificate] | None:
    """The first of :func:`lower_class_candidates` with a :func:`good_certificate`, or None."""
    for cand in lower_class_candidates(prob, progress):
        if good_certificate(prob, cand[2]):
            return cand
    return None

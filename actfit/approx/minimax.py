"""Best uniform (minimax) rational fits with a certificate: :func:`fit_minimax`.

:func:`fit_minimax` minimises the worst-case weighted error ``max_{[a,b]} w |f - P/Q|`` over the
rationals of type [m, n] in one denominator form, and proves what it can about the result. The
steps live in their own modules:

* the problem in internal coordinates (Chebyshev bases on the range mapped to ``[-1, 1]``, the
  forms' normalisation, the symmetry reduction): :mod:`actfit.approx.minimax_problem`;
* the *discrete global optimum* by differential correction and the *continuum exchange*
  (Remez's first algorithm with an LP in place of the linear solve):
  :mod:`actfit.approx.exchange`, on :mod:`actfit.approx.lp`;
* the *Remez polish* (plain; Remez's second algorithm): :mod:`actfit.approx.remez`;
* the abs form's *sign-pattern search*: :mod:`actfit.approx.sign_patterns`;
* kinked targets at high degree (type [n, n], n >= 10, or where the Chebyshev fit is not
  certified): the same LPs, exchange and polish in a *barycentric basis* on support points
  graded toward the kink, where the best approximant's poles cluster
  (:mod:`actfit.approx.minimax_barycentric`, :mod:`actfit.approx.barycentric`);
* near float64 resolution, the *correction of the stored float64 coefficients* on their
  accurately evaluated error (:mod:`actfit.approx.stored_table`; ``settings["stored_table"]``);
* the *certificate* (de la Vallée Poussin's lower bound): :mod:`actfit.approx.certificate`.

*Defective optima (plain).* When the full-class result is not certified (e.g. a pole-zero pair
at an end of the range, as for hardtanh [4,4]), the classes ``[m - d, n - d]``, ``d = 1, 2``,
are solved too and certified as members of [m, n]; the candidate with the smallest error is
returned with the best valid lower bound.

*Certificates by form.* ``plain``: status ``"global"`` when the alternation condition holds:
the fit is within ``gap`` of the best rational of type [m, n] whose denominator has no zero on
the range; with ``pole_free`` the class is larger than the one optimised, so the bound stays
valid. ``safe`` and ``abs``: these classes are not Haar-like and no alternation theorem applies
to them on the range; the result is the differential-correction optimum on the final grid
(global on the grid for ``safe`` in exact arithmetic, for the chosen sign pattern for ``abs``;
the safe coefficients are bounded, 1e3 then 1e6 by continuation). ``safe`` gets a *proven lower
bound* all the same, the larger of two: the discrete problem on the fit's extremal points is a
linear feasibility problem at each level, and a Farkas certificate of its infeasibility, checked
in exact rational arithmetic, bounds the class (:mod:`actfit.approx.farkas_bound`; tight when
the fit is optimal); and on ``[a, 0]`` and ``[0, b]`` the denominator ``1 + sum c_k |x|^k`` is a
polynomial without zero, so the plain certificate of the plain best fit on each side bounds the
safe class (:mod:`actfit.approx.safe_bound`; computed only where the first is not within 1e-3).
The status is ``"global"`` when the gap is within 1e-3, else ``"local"`` with the bound and the
gap. ``abs`` has no lower
bound (``Q = 1 + |B|`` has the zeros of ``B`` free, so no fixed part of the range carries a
rational class) and is reported as ``"local"``, the reason in its certificate.

References:
    E. Ya. Remez, "Sur le calcul effectif des polynomes d'approximation de Tchebichef", C. R.
    Acad. Sci. Paris 199 (1934), 337–340.
    E. W. Cheney and H. L. Loeb, "Two new algorithms for rational approximation", Numer. Math. 3
    (1961), 72–75.
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
    Ch. J. de la Vallée Poussin, *Leçons sur l'approximation des fonctions d'une variable
    réelle*, Gauthier-Villars (1919).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from actfit.approx.certificate import Certificate, certify, with_bound
from actfit.approx.exchange import State, solve
from actfit.approx.farkas_bound import farkas_safe_bound
from actfit.approx.minimax_barycentric import applies, fit_barycentric
from actfit.approx.minimax_problem import (
    SAFE_BOUND,
    SAFE_START_BOUND,
    Problem,
    pad,
    pole_free_rows,
    symmetry,
    symmetry_label,
    to_rational,
)
from actfit.approx.minimax_tail import check_minimax_tail, fit_tail
from actfit.approx.q_floor import (
    MIN_Q_BY_DTYPE,
    UNIT_ROUNDOFF,
    check_dtype,
    guard_minimax,
    q_condition,
    q_ratio,
)
from actfit.approx.remez import (
    NEAR_RESOLUTION,
    chebyshev_start,
    good_certificate,
    lower_class_candidates,
    lower_class_start,
    polish,
    target_scale,
    tight_gap,
)
from actfit.approx.safe_bound import GLOBAL_GAP, bound_safe, safe_lower_bound
from actfit.approx.sign_patterns import search
from actfit.approx.stored_table import polish_table
from actfit.approx.weights import Weight, parse_weight
from actfit.errors import FitError, FormError, ParameterError
from actfit.fit import Fit, make_fit
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE, Progress, as_range, check_order
from actfit.rational import Rational, require_fit_form
from actfit.targets import Target, as_target

__all__ = [
    "MIN_Q_BY_DTYPE",
    "UNIT_ROUNDOFF",
    "MinimaxWeight",
    "Progress",
    "certify",
    "fit_minimax",
    "parse_minimax_weight",
    "q_condition",
    "q_ratio",
]

MinimaxWeight = Weight
"""The minimax weight is :class:`actfit.approx.weights.Weight` (kept under its old name)."""


def parse_minimax_weight(spec: str | Weight, target: Target, a: float, b: float) -> Weight:
    """Return the minimax weight for ``spec`` on ``[a, b]``:
    ``parse_weight(spec, target=target, range=(a, b))`` (see
    :func:`actfit.approx.weights.parse_weight`).

    Raises:
        ParameterError: a malformed specification, or a weight that is not positive and finite
            on the range.

    Examples:
        >>> from actfit.targets import get_target
        >>> parse_minimax_weight("relative", get_target("tanh"), -3.0, 3.0).spec
        'relative'
    """
    return parse_weight(spec, target=target, range=(a, b))


# A table at float64 resolution whose certified (float64-evaluated) error is within this many ulps
# of the target's scale is not worth the lower classes' tables (see _fit_plain_or_safe).
_EVALUATION_ULPS = 16.0
_EPS = float(np.finfo(float).eps)
# From this degree on (type [n, n]) the barycentric fit is tried before the Chebyshev one; below,
# only when the Chebyshev result is not certified.
_BARYCENTRIC_FIRST = 10


def _fit_plain_or_safe(prob: Problem, report: Progress) -> tuple[State, Rational, Certificate]:
    """Solve, polish (plain: Remez) and certify; for plain, try defective classes on failure.

    A best approximation may be *defective*: numerator and denominator of lower degrees
    ``m - d``, ``n - d``. Differential correction in the full class then tends to a pair with a
    near-common factor (often a pole on the range cancelled by a zero). When the full-class result
    is not certified, the classes ``[m - d, n - d]`` are solved too and certified *as members of
    [m, n]* (de la Vallée Poussin with defect d needs only ``m + n + 2 - d`` alternations); any
    valid lower bound found is a bound for the whole class, and the candidate with the smallest
    error is returned.
    """
    m, n = prob.m, prob.n

    def good_cert(c: Certificate) -> bool:
        return good_certificate(prob, c)

    cheb = chebyshev_start(prob, report) if prob.form == "plain" and n > 0 else None
    scale = target_scale(prob)
    c0: Certificate | None = None
    if cheb is not None:
        # Smooth targets: the Chebyshev-reference Remez start is often already the optimum
        # (or at rounding level); then differential correction is not needed.
        try:
            r0 = to_rational(prob, cheb.alpha, cheb.gamma)
        except FitError:
            r0 = None
        if r0 is not None:
            c0 = certify(prob.target, r0, prob.a, prob.b, weight=prob.weight, kinks=prob.kinks,
                         order=(m, n))
            if good_cert(c0):
                if (c0.upper > NEAR_RESOLUTION * scale or c0.upper <= _EVALUATION_ULPS * _EPS
                        * scale or min(m, n) < 2):
                    return cheb, r0, c0
                # At float64 resolution the certified error is the float64 evaluation's, and a
                # lower class's table, padded, may evaluate better (gelu [12,12] on [-1,1]:
                # 2.0e-14 from [12,12], 4.4e-16 from [10,10], both accurate to 1e-16): the
                # certified tables of the lower classes compete.
                good = [c for c in lower_class_candidates(prob, report) if good_cert(c[2])]
                return min([(cheb, r0, c0), *good], key=lambda c: c[2].upper)
    near_resolution = c0 is not None and c0.upper <= NEAR_RESOLUTION * scale
    if prob.form == "plain" and min(m, n) >= 2 and (cheb is None or near_resolution):
        # No levelled solution at the Chebyshev reference of [m, n] (gelu [8,8] on [-1,1]), or
        # one near float64 resolution that does not certify: the lower classes' Chebyshev
        # starts, certified as members of [m, n] (see remez.lower_class_start).
        lower = lower_class_start(prob, report)
        if lower is not None:
            return lower
    bary = None
    if applies(prob) and m >= _BARYCENTRIC_FIRST:
        # Kinked targets at high degree: the optimum's poles cluster toward the kink and the
        # Chebyshev basis cannot represent it (relu [12,12] on [-3,3]: 4.77e-4 "local" in 125 s
        # there, 2.0131e-4 certified in ~1 s in the barycentric basis).
        bary = fit_barycentric(prob, report, starts=(cheb,), good=good_cert)
        if bary is not None and good_cert(bary[2]):
            return bary
    state = solve(prob, progress=report)
    if prob.form == "safe" and np.any(state.gamma[1:] >= prob.safe_bound * (1 - 1e-9)):
        # The coefficient bound is active: continue with a larger one from this point (a large
        # bound from the start makes the first LPs badly scaled).
        wide = dataclasses.replace(prob, safe_bound=SAFE_BOUND)
        more = solve(wide, start=(state.alpha, state.gamma), progress=report, label="wider: ")
        if more.error < state.error:
            state = more
    if prob.form == "plain":
        state = polish(prob, state, report)
        if cheb is not None and cheb.error < state.error:
            state = cheb
    try:
        rational = to_rational(prob, state.alpha, state.gamma)
    except FitError:
        if prob.form != "plain" or min(m, n) == 0:
            raise
        rational = None
    report("certifying", 0.9)
    kinks = prob.kinks
    a, b = prob.a, prob.b
    cert = (
        certify(prob.target, rational, a, b, weight=prob.weight, kinks=kinks, order=(m, n))
        if rational is not None
        else None
    )
    tight = tight_gap(prob, cert)
    good = cert is not None and cert.status == "global" and (cert.gap or 0.0) <= tight
    if prob.form != "plain" or good:
        assert rational is not None and cert is not None
        if prob.form == "safe" and cert.status == "local":
            # The discrete problem's Farkas certificate (checked exactly) bounds the safe class;
            # where it is not within the threshold, de la Vallée Poussin for the plain class on
            # each side of 0 may bound it better.
            proof = farkas_safe_bound(prob.target, prob.weight, rational, a, b, kinks,
                                      upper=cert.upper, rel_gap=0.5 * tight)
            needed = cert.upper * (1.0 - max(tight, GLOBAL_GAP))
            sides = ([] if proof.lower >= needed else
                     safe_lower_bound(prob.target, prob.weight, a, b, m, n, kinks, needed=needed))
            cert = bound_safe(cert, sides, tight, farkas=proof)
        return state, rational, cert
    candidates = [] if rational is None else [(state, rational, cert)]
    certs = [] if cert is None else [cert]
    if applies(prob):
        # Support points from the alternation of the Chebyshev results in hand.
        again = fit_barycentric(prob, report, starts=(state, cheb), good=good_cert)
        if again is not None and (bary is None or again[2].upper < bary[2].upper):
            bary = again
    if bary is not None:
        if good_cert(bary[2]):
            return bary
        candidates.append(bary)
        certs.append(bary[2])
    for d in range(1, min(m, n, 2) + 1):
        sym_d, shift_d = symmetry(prob.target, prob.weight, a, b, "plain", m - d, n - d)
        sub = Problem(prob.target, prob.weight, a, b, m - d, n - d, "plain", sym_d, kinks, shift_d)
        if applies(sub) and m - d >= _BARYCENTRIC_FIRST:
            # A kinked defective optimum at high degree (abs [11,11] is abs [10,10]).
            sb = fit_barycentric(sub, report, good=good_cert)
            if sb is not None:
                c = certify(prob.target, pad(sb[1], m, n), a, b, weight=prob.weight,
                            kinks=kinks, order=(m, n))
                candidates.append((sb[0], pad(sb[1], m, n), c))
                certs.append(c)
                if c.status == "global" and (c.gap or 0.0) <= tight:
                    break
        st = polish(sub, solve(sub, progress=report, label=f"[{m - d},{n - d}]: "), report)
        try:
            r = pad(to_rational(sub, st.alpha, st.gamma), m, n)
        except FitError:
            continue
        c = certify(prob.target, r, a, b, weight=prob.weight, kinks=kinks, order=(m, n))
        candidates.append((st, r, c))
        certs.append(c)
        if c.status == "global" and (c.gap or 0.0) <= tight:
            break
    if not candidates:
        raise FitError(
            f"no [{m},{n}] fit with Q(0) != 0 was found; use a range containing 0 or lower degrees"
        )
    valid = [c for c in certs if c.status == "global" and c.lower is not None]
    bound = max(valid, key=lambda c: c.lower) if valid else None

    def key(item: tuple[State, Rational, Certificate]) -> tuple[bool, float]:
        r, c = item[1], item[2]
        on_range = any(a <= p <= b for p in r.real_poles())
        return (on_range, c.upper)

    st, r, c = min(candidates, key=key)
    return st, r, with_bound(c, bound)


def _pole_free(
    prob: Problem, cert: Certificate, report: Progress
) -> tuple[State, Rational, Certificate]:
    """Refit with ``Q > 0`` on the whole real line imposed (plain), keeping ``cert``'s bound."""
    target, w, a, b, m, n = prob.target, prob.weight, prob.a, prob.b, prob.m, prob.n
    bound = cert if cert.status == "global" and cert.lower is not None else None
    # A real polynomial of odd degree has a real zero: Q then has degree <= n - 1.
    n_pf = n - n % 2
    sym_pf, shift_pf = symmetry(target, w, a, b, "plain", m, n_pf)
    pf = Problem(target, w, a, b, m, n_pf, "plain", sym_pf, prob.kinks, shift_pf)
    extra_t = np.zeros(0)
    for _ in (0, 1, 2, 3):
        rows = pole_free_rows(pf, extra_t)
        state = solve(
            pf, extra_constraints=lambda rows=rows: rows, progress=report, label="pole-free: "
        )
        rational = pad(to_rational(pf, state.alpha, state.gamma), m, n)
        poles = rational.real_poles()
        if not poles.size:
            break
        extra_t = np.concatenate([extra_t, pf.t(poles)])
    else:
        raise FitError(f"no pole-free [{m},{n}] fit was found; use the safe form or lower degrees")
    cert = certify(target, rational, a, b, weight=w, kinks=prob.kinks, order=(m, n))
    return state, rational, with_bound(cert, bound)


def _detail(
    cert: Certificate,
    state: State,
    rational: Rational,
    range: tuple[float, float],
    pole_free: bool,
) -> str:
    """The certificate's text: its own argument, then what the method adds to it."""
    form, (a, b) = rational.form, range
    detail = cert.detail
    if not state.converged and form == "abs":
        # abs is a bounded local search by design: say so instead of warning.
        detail += (
            f" The sign-pattern search stopped after {state.rounds} exchange rounds before the "
            "continuum and grid errors agreed."
        )
    if form == "safe":
        c = state.gamma[1:]
        at_wide = bool(np.any(c >= SAFE_BOUND * (1 - 1e-9)))
        at_start = bool(np.any(c >= SAFE_START_BOUND * (1 - 1e-9))) and not np.any(
            c > SAFE_START_BOUND * (1 + 1e-9)
        )
        if at_wide or at_start:
            used = SAFE_BOUND if at_wide else SAFE_START_BOUND
            detail += (
                f" Some scaled denominator coefficients c_k of Q = 1 + sum c_k (|x|/R)^k reached "
                f"the bound {used:g}"
                + ("" if at_wide else f" (a continuation to {SAFE_BOUND:g} did not improve)")
                + ": the infimum over the safe class may not be attained (|x| is the limit of "
                "C x^2 / (1 + C|x|)); this is the best found with bounded coefficients."
            )
    if pole_free:
        detail += " Pole-free on the real line was required (Q >= 0 imposed as a constraint)."
    poles = rational.real_poles() if form == "plain" else np.zeros(0)
    if poles.size and not any(a <= p <= b for p in poles):
        detail += (
            " The best approximant has real poles outside the range at x = "
            + ", ".join(f"{p:.6g}" for p in poles)
            + " (use --pole-free or the safe form to exclude them)."
        )
    return detail


def fit_minimax(
    target: Target | str,
    order: Sequence[int] = DEFAULT_ORDER,
    range: Sequence[float] = DEFAULT_RANGE,
    *,
    form: str = "safe",
    weight: str | Weight = "uniform",
    allow_poles: bool = False,
    progress: Progress | None = None,
    pole_free: bool = False,
    min_q: float | None = None,
    dtype: str = "float32",
    tail: str = "free",
    **params: float,
) -> Fit:
    """Return the best uniform rational approximation of ``target`` on ``range``, certified.

    Minimises ``max_{[a,b]} w |f - P/Q|`` over type-[m, n] rationals in the requested form by
    differential correction (Cheney & Loeb 1961; Barrodale, Powell & Roberts 1972) on a grid
    graded toward kinks, with Remez's cumulative exchange on the continuum (Remez 1934), and
    attaches a de la Vallée Poussin certificate. See the module docstring for the method and for
    exactly what each form's certificate proves.

    Args:
        target: the function to approximate: a :class:`~actfit.targets.Target`, a registry name
            or an expression in ``x``.
        order: ``(m, n)``, numerator and denominator degrees (each ``0..12``).
        range: the interval ``(a, b)``.
        form: ``safe`` (default, as everywhere in actfit: pole-free by construction; its
            lower bound comes from the plain class on each side of 0, "global" when it closes
            the gap), ``plain`` (de la Vallée Poussin lower bound) or ``abs`` (aliases A, N,
            B; "local").
        weight: ``uniform``, ``relative[:FLOOR]``, ``normal[:mu,sigma]``, an expression in
            ``x`` or a :class:`~actfit.approx.weights.Weight` (see
            :func:`~actfit.approx.weights.parse_weight`).
        allow_poles: keep a ``plain`` fit whose denominator vanishes on the range.
        progress: called as ``progress(stage, fraction)`` while the fit runs (silent if None).
        pole_free: ``plain`` only: require ``Q > 0`` on the whole real line (a constraint in the
            optimisation, not a filter).
        min_q: ``plain`` only, ignored with ``allow_poles``: the floor ``Q >= min_q`` on the
            range, ``Q`` scaled to Chebyshev mean 1 (see :func:`q_ratio`; the stored
            ``Q(0) = 1`` scale does not enter), imposed with the condition rows whenever the
            table is refitted, and a reason to refit when the optimum violates it. None:
            ``sqrt(u)`` for ``dtype`` of unit roundoff ``u``.
        dtype: ``plain`` only, ignored with ``allow_poles``: the floating type the table is
            meant for (``float64``, ``float32``, ``float16``, ``bfloat16``). When the report
            would warn for it (:func:`~actfit.approx.conditioning.assess_conditioning`: more
            than half of its digits may be lost), the fit is redone with ``S_Q <= K Q`` on
            the range, ``S_Q = sum |b_k| |x|^k``, and if need be in a lower class
            (:func:`~actfit.approx.q_floor.guard_minimax`); the settings give the constraint
            and the error and digits lost without and with it (``min_q_cost``).
        tail: ``"free"`` (the unconstrained optimum), ``"linear"`` (grows at most linearly)
            or ``"match"`` (with the target's slope at ``+inf``); not for abs. See
            :mod:`actfit.approx.minimax_tail`; ``settings["tail"]`` gives both errors.
        **params: the target's parameters when it is given by name (e.g. ``slope=0.1``).

    Returns:
        The :class:`~actfit.fit.Fit` with method ``"minimax"`` and its certificate.

    Raises:
        UnknownTargetError: an unknown target name.
        OrderError: bad order, or one the ``tail`` cannot have.
        RangeError: bad range.
        FormError: unknown form, ``pole_free`` not with ``plain``, or a tail with abs.
        ParameterError: a bad weight or target parameter, an unknown ``dtype``, a ``min_q``
            outside ``[0, 1)``, an unknown ``tail``, or ``match`` for a target without slope.
        TargetDomainError: the target is not finite on the range.
        FitError: the optimum cannot be written with ``Q(0) = 1``.
        PoleError: the fit has a pole on the range and ``allow_poles`` is False.

    Warns:
        RuntimeWarning: the exchange did not converge within its round limit.

    Examples:
        >>> fit = fit_minimax("abs", (2, 2), (-1.0, 1.0), form="plain")
        >>> round(fit.certificate.upper, 6), fit.certificate.status
        (0.043689, 'global')
    """
    started = time.perf_counter()
    target = as_target(target, params)
    m, n = check_order(order)
    a, b = as_range(range)
    form = require_fit_form(form)
    tail = check_minimax_tail(tail, form, m, n, target)
    tail_info: dict[str, Any] | None = None
    if pole_free and form != "plain":
        raise FormError(
            f"pole_free applies to the plain form; the {form} form is pole-free by construction"
        )

    def report(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, min(max(frac, 0.0), 1.0))

    check_dtype(dtype)
    if min_q is not None and not 0.0 <= float(min_q) < 1.0:
        raise ParameterError(
            f"min_q must lie in [0, 1) (a floor on Q / mean Q on the range), got {min_q!r}"
        )
    report(f"minimax {target.label}", 0.0)
    w = parse_weight(weight, target=target, range=(a, b))
    kinks = tuple(sorted({float(k) for k in (*getattr(target, "kinks", ()), *w.kinks)}))
    sym, shift = symmetry(target, w, a, b, form, m, n) if form != "abs" else (0, (0.0, 0.0))
    prob = Problem(target, w, a, b, m, n, form, sym, kinks, shift)
    notes: list[str] = []
    if form == "abs":
        state, rational, cert = search(prob, report)  # certified there (near-ties compared)
        notes.append(f"abs sign pattern of S: {state.label}")
    else:
        state, rational, cert = _fit_plain_or_safe(prob, report)
        if tail != "free":  # before pole_free: the plain tails' fits are pole-free already
            state, rational, cert, tail_info = fit_tail(prob, tail, (state, rational, cert), report)
        if form == "plain" and pole_free and n > 0 and rational.real_poles().size:
            notes.append("unconstrained optimum has real poles; Q >= 0 imposed on the real line")
            state, rational, cert = _pole_free(prob, cert, report)
    q_info: dict[str, Any] = {}
    if form == "plain" and n > 0:
        state, rational, cert, q_info, q_notes = guard_minimax(
            prob, state, rational, cert, dtype=dtype, min_q=min_q, allow_poles=allow_poles,
            pole_free=pole_free, report=report,
            keep=(
                f"tail {tail!r} active (a refit on Q would drop it)"
                if tail_info is not None and tail_info.get("active") else None
            ),
        )
        notes.extend(q_notes)
    if not state.converged and form != "abs":
        warnings.warn(
            f"minimax [{m}, {n}] ({form}): the exchange did not converge in {state.rounds} "
            "rounds; the certificate reports how good the fit is",
            RuntimeWarning,
            stacklevel=2,
        )
    table: dict[str, Any] | None = None
    if tail == "free":  # the stored float64 numbers themselves, at float64 resolution
        rational, cert, table = polish_table(target, rational, cert, a, b, weight=w, kinks=kinks,
                                             order=(m, n), min_q=min_q, pole_free=pole_free)
    cert = dataclasses.replace(cert, detail=_detail(cert, state, rational, (a, b), pole_free))
    bary = state.label.startswith("barycentric")
    settings: dict[str, Any] = {
        "weight": w.spec,
        "objective": f"max over the range of w |f - r| ({w.description})",
        "algorithm": "differential correction (HiGHS LPs) + cumulative continuum exchange"
        + (" in a barycentric basis" if bary else ""),
        "symmetry": symmetry_label(sym, shift),
        "start": (
            "Berrut's interpolant on support points graded toward the kink (barycentric basis)"
            if bary
            else "Remez from the Chebyshev reference (no LP needed)"
            if form == "plain" and state.lps == 0 and state.rounds == 0
            else "differential correction"
        ),
        "pole_free": bool(pole_free),
        "exchange_rounds": state.rounds,
        "linear_programs": state.lps,
        "grid_points": state.grid_size,
        "grid_error": state.grid_error,
        "converged": bool(state.converged),
        **({} if tail_info is None else {"tail": tail_info}),
        **({} if table is None else {"stored_table": table}),
        "seconds": round(time.perf_counter() - started, 4),
    }
    settings.update(q_info)
    if notes:
        settings["notes"] = notes
    report("done", 1.0)
    return make_fit(
        target,
        rational,
        method="minimax",
        settings=settings,
        range=(a, b),
        allow_poles=allow_poles,
        certificate=cert,
    )

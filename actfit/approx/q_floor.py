"""Keep a plain minimax table evaluable in the dtype it is meant for (issue 18: near-poles).

A plain denominator with a complex zero pair close to the range is "pole-free" and certified,
yet Horner's rule in float32 returns noise there. :func:`guard_minimax` decides with exactly the
test the reports warn by (:func:`actfit.approx.conditioning.assess_conditioning`, the ``warns``
of the dtype the table is meant for: more than half of its digits may be lost) and, unless
``allow_poles``, refits with a constraint that clears it, checked again by the same assessment.

*The constraint.* Horner's running error of the stored ``Q`` at ``x`` is about
``u S_Q(x)`` with ``S_Q(x) = sum |b_k| |x|^k`` (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., SIAM 2002, §5.1), so the digits lost follow ``kappa = max S_Q / |Q|``.
The LP rows ask ``S_Q(x_j) <= K Q(x_j)`` on a dense grid of the range. ``S_Q`` is not linear in
the LP's Chebyshev coefficients ``gamma``, but the monomial coefficients are, ``b = M gamma``
(``M`` the Chebyshev-to-monomial map of the range): with the signs ``s_k`` of ``b_k`` taken from
the previous solve, ``sum s_k b_k |x|^k <= K Q(x)`` is a row of the ``G gamma >= h`` kind that
:func:`actfit.approx.exchange.solve` accepts, and the rows ``s_k b_k >= 0`` make it exact
(``s_k b_k = |b_k|``). The solve is repeated with the new signs while they change; ``K`` starts
from the dtype's digit budget and moves by the digits the exact assessment still finds in
excess (or to spare). The floor ``Q >= sqrt(u) mean Q``
(:func:`actfit.approx.minimax_problem.min_q_rows`) is imposed with it.

*Lower classes.* Rows on ``Q`` cannot reach a loss that is the numerator's: ``S_P / |Q|`` far
above ``|r|`` when the monomial coefficients of a degree-8 ``P`` on [0, 4] cancel (a Chebyshev
term ``T_8`` on [0, 4] has ``S = T_8(3) ~ 6.7e5``; hardswish [8,8] on [0, 4] with ``S_Q <= 38 Q``
still loses 4.2 float32 digits, all of them ``P``'s). Then the classes ``[m - d, n - d]`` are
tried as members of [m, n], unconstrained and with the rows, until a table clears and no lower
class can beat it (nested classes: a lower class's unconstrained optimum bounds its members).
The table that clears with the smallest error is kept. Rows on ``P`` would need the LP's
numerator variables, which :func:`~actfit.approx.exchange.solve` does not expose: measured with
a separate differential correction carrying them, hardswish [8,8] on [0, 4] cleared at 5.9e-3
(``K = 30``) against 7.5e-3 here, at several times the run time, so it was not kept.

Measured (``benchmarks/conditioning.py --constrained``, the 462 plain tables of the sweep):
before, 33 were below the float32 threshold with the floor alone; with this guard none is,
see ``benchmarks/results/conditioning-constrained.md`` for the error each one cost.

The constrained class is a subset of the class the unconstrained certificate speaks of, so that
certificate's lower bound stays valid (:func:`~actfit.approx.certificate.with_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.certificate import Certificate, certify, with_bound
from actfit.approx.chebyshev import cheb_to_monomial
from actfit.approx.conditioning import WARN_FRACTION, DtypeConditioning, assess_conditioning
from actfit.approx.exchange import State, solve
from actfit.approx.extrema import dense_grid, refine_maxima
from actfit.approx.minimax_problem import Problem, min_q_rows, pad, pole_free_rows, symmetry
from actfit.approx.minimax_problem import to_rational as _to_rational
from actfit.approx.remez import polish
from actfit.errors import FitError, ParameterError
from actfit.options import Progress
from actfit.rational import Rational

__all__ = [
    "MIN_Q_BY_DTYPE",
    "UNIT_ROUNDOFF",
    "check_dtype",
    "condition_rows",
    "guard_minimax",
    "q_condition",
    "q_ratio",
]

_Array = NDArray[np.float64]

# Unit roundoffs of the dtypes a table may be meant for.
UNIT_ROUNDOFF = {
    "float64": 2.0**-53,
    "float32": 2.0**-24,
    "float16": 2.0**-11,
    "bfloat16": 2.0**-8,
}
# The floor on Q (plain, Chebyshev mean 1) imposed with the condition rows for a table meant for
# a dtype of unit roundoff u: the part of kappa due to Q's smallness, mean Q / min Q, is then
# <= 1/sqrt(u) (at most half the digits).
MIN_Q_BY_DTYPE = {k: math.sqrt(u) for k, u in UNIT_ROUNDOFF.items()}
# Refits tried before the best is kept with a note (each one a differential-correction run).
_ROUNDS = 4
# Sign-pattern rounds of one refit (the signs of b_k from the previous solve).
_SIGN_ROUNDS = 3
# The grid of the condition rows.
_ROW_POINTS = 400


def check_dtype(dtype: str) -> float:
    """Return the unit roundoff of ``dtype``.

    Raises:
        ParameterError: an unknown dtype.

    Examples:
        >>> check_dtype("float32") == 2.0**-24
        True
    """
    if dtype not in UNIT_ROUNDOFF:
        raise ParameterError(f"unknown dtype {dtype!r}; use one of {', '.join(UNIT_ROUNDOFF)}")
    return UNIT_ROUNDOFF[dtype]


def q_ratio(rational: Rational, a: float, b: float) -> tuple[float, float]:
    """Return ``(min Q / mean Q, argmin)`` of a plain rational's denominator on ``[a, b]``.

    ``mean Q`` is the Chebyshev mean ``(1/π) ∫ Q(x(t)) dt / sqrt(1 - t^2)`` over the range (the
    coefficient fixed to 1 in the fitter's normalisation, so the ratio is the LP's ``Q``
    itself), computed exactly by Gauss-Chebyshev quadrature; ``min Q`` on a dense grid refined
    by golden section. Scale-free: the stored ``Q(0) = 1`` does not enter.

    Examples:
        >>> round(q_ratio(Rational([1.0], [0.0, 1.0], "plain"), -1.0, 1.0)[0], 6)
        0.666667
    """
    qp = rational.denominator_polynomial()
    k = len(qp) + 1
    nodes = 0.5 * (a + b) + 0.5 * (b - a) * np.cos((2 * np.arange(k) + 1) * np.pi / (2 * k))
    mean = float(np.mean(np.polynomial.polynomial.polyval(nodes, qp)))
    x = dense_grid(a, b, chebyshev=2000, uniform=501, graded=0)
    q = np.polynomial.polynomial.polyval(x, qp)
    i = int(np.argmin(q))
    lo, hi = x[max(i - 1, 0)], x[min(i + 1, x.size - 1)]
    if hi > lo:
        xm, vm = refine_maxima(lambda t: -np.polynomial.polynomial.polyval(t, qp), [lo], [hi])
        if -vm[0] < q[i]:
            q_min, at = float(-vm[0]), float(xm[0])
        else:
            q_min, at = float(q[i]), float(x[i])
    else:
        q_min, at = float(q[i]), float(x[i])
    return q_min / mean, at


def q_condition(rational: Rational, a: float, b: float) -> tuple[float, float]:
    """Return ``(max kappa, max S / mean Q)`` on ``[a, b]``: ``kappa(x) = S(x) / |Q(x)|`` with
    ``S(x) = sum |b_k x^k|``, the condition of Horner's evaluation of the stored ``Q`` (its
    relative error is about ``u * kappa``), and the sum relative to ``Q``'s Chebyshev mean.

    Examples:
        >>> round(q_condition(Rational([1.0], [0.0, 1.0], "plain"), -1.0, 1.0)[0], 6)
        1.0
    """
    qp = rational.denominator_polynomial()
    x = dense_grid(a, b, chebyshev=4000, uniform=1001, graded=0)
    pw = np.polynomial.polynomial
    s = pw.polyval(np.abs(x), np.abs(qp))
    q = np.abs(pw.polyval(x, qp))
    k = len(qp) + 1
    nodes = 0.5 * (a + b) + 0.5 * (b - a) * np.cos((2 * np.arange(k) + 1) * np.pi / (2 * k))
    mean = float(np.mean(pw.polyval(nodes, qp)))
    with np.errstate(divide="ignore"):
        kappa = float(np.max(s / q))
    return kappa, float(np.max(s)) / abs(mean)


def _monomial_map(prob: Problem) -> _Array:
    """``M`` with ``b = M gamma``: the monomial coefficients (in ``x``) of the LP's
    ``Q = sum gamma_k T_k(t)`` (plain form, the columns of ``prob.den_index``)."""
    lo, hi = prob.mid - prob.half, prob.mid + prob.half
    cols = []
    for k in prob.den_index:
        e = np.zeros(prob.n + 1)
        e[k] = 1.0
        col = cheb_to_monomial(e, lo, hi)
        cols.append(np.pad(col, (0, prob.n + 1 - col.size)))
    out = np.array(cols).T
    if prob.sym:
        out[1::2] = 0.0  # Q is even: its odd monomial coefficients are rounding
    return out


def condition_rows(
    prob: Problem, x: _Array, bound: float, signs: _Array
) -> tuple[_Array, _Array]:
    """Constraints ``G gamma >= h`` asking ``sum s_k b_k |x|^k <= bound * Q(x)`` at ``x`` and
    ``s_k b_k >= 0`` (plain form; ``b = M gamma`` the monomial coefficients of the LP's ``Q``,
    ``s`` the signs ``signs``): together, ``S_Q(x) <= bound * Q(x)`` exactly.

    Examples:
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> p = Problem(get_target("tanh"), parse_weight("uniform"), 0.0, 2.0, 2, 2, "plain", 0, ())
        >>> g, h = condition_rows(p, np.array([0.0, 1.0, 2.0]), 10.0, np.ones(3))
        >>> g.shape, h.shape
        ((6, 3), (6,))
    """
    x = np.asarray(x, dtype=np.float64)
    mono = _monomial_map(prob)
    sm = signs[:, None] * mono
    powers = np.abs(x)[:, None] ** np.arange(prob.n + 1)
    rows = bound * prob.phi(x) - powers @ sm
    keep = signs != 0
    return np.vstack([rows, sm[keep]]), np.zeros(x.size + int(keep.sum()))


def _signs(prob: Problem, gamma: _Array) -> _Array:
    b = _monomial_map(prob) @ gamma
    s = np.sign(b)
    s[np.abs(b) <= 1e-14 * np.max(np.abs(b))] = 0.0
    if not prob.sym:
        s[s == 0] = 1.0
    return s


def _stored_signs(prob: Problem, rational: Rational) -> _Array:
    """The signs of the LP's ``b`` from a stored table (``Q(0) = 1``): the LP's ``Q`` is a
    positive multiple of the stored one where that is positive on the range."""
    qp = rational.denominator_polynomial()
    qp = np.pad(qp, (0, max(0, prob.n + 1 - qp.size)))[: prob.n + 1]
    mid = float(np.polynomial.polynomial.polyval(prob.mid, qp))
    s = np.sign(qp) * (1.0 if mid >= 0 else -1.0)
    if prob.sym:
        s[1::2] = 0.0
    else:
        s[s == 0] = 1.0
    return s


def _problem(prob: Problem, m: int, n: int) -> Problem:
    sym, shift = symmetry(prob.target, prob.weight, prob.a, prob.b, "plain", m, n)
    return Problem(prob.target, prob.weight, prob.a, prob.b, m, n, "plain", sym, prob.kinks,
                   shift)


def _real_poles_on(r: Rational, a: float, b: float) -> bool:
    return any(a <= p <= b for p in r.real_poles())


def _numerator_dominates(r: Rational, a: float, b: float) -> bool:
    """True when the numerator's part of the rounding bound, ``S_P / |Q|``, exceeds the
    denominator's, ``|r| S_Q / |Q|``, at the worst point: rows on ``Q`` cannot reach it."""
    x = np.linspace(a, b, 2001)
    pw = np.polynomial.polynomial
    qp = r.denominator_polynomial()
    with np.errstate(all="ignore"):
        q = np.abs(pw.polyval(x, qp))
        y = np.abs(pw.polyval(x, r.numerator)) / q
        part_p = pw.polyval(np.abs(x), np.abs(r.numerator)) / q
        part_q = y * pw.polyval(np.abs(x), np.abs(qp)) / q
        total = (part_p + part_q) / np.maximum(1.0, y)
    if not np.all(np.isfinite(total)):
        return False
    i = int(np.argmax(total))
    return bool(part_p[i] > part_q[i])


def _entry(rational: Rational, a: float, b: float, dtype: str) -> DtypeConditioning:
    return assess_conditioning(rational, a, b, dtypes=(dtype,)).dtype(dtype)


def _budget(d: DtypeConditioning) -> float:
    return WARN_FRACTION * d.digits


def _refit(
    pc: Problem,
    xs: _Array,
    bound: float,
    signs: _Array,
    floor_q: float,
    pole_free: bool,
    report: Progress,
) -> tuple[State, Rational, _Array]:
    """One constrained solve, repeated while the sign pattern of ``b`` changes."""
    state = rational = None
    for _ in range(_SIGN_ROUNDS):
        g, h = condition_rows(pc, xs, bound, signs)
        if floor_q > 0.0:
            g2, h2 = min_q_rows(pc, xs, floor_q)
            g, h = np.vstack([g, g2]), np.concatenate([h, h2])
        if pole_free:
            g2, h2 = pole_free_rows(pc, np.zeros(0))
            g, h = np.vstack([g, g2]), np.concatenate([h, h2])
        state = solve(pc, extra_constraints=lambda g=g, h=h: (g, h), progress=report,
                      label=f"cond Q <= {bound:.3g}: ")
        rational = pad(_to_rational(pc, state.alpha, state.gamma), pc.m, pc.n)
        new = _signs(pc, state.gamma)
        if np.array_equal(new, signs):
            break
        signs = new
    assert state is not None and rational is not None
    return state, rational, signs


def _search_bound(
    pc: Problem,
    seed: Rational,
    budget: float,
    floor_q: float,
    pole_free: bool,
    report: Progress,
    consider: Callable[[State, Rational, str], tuple[bool, float]],
    rounds: int,
    label: str,
) -> None:
    """Refit class ``pc`` with the condition rows for a few bounds ``K``, each candidate passed
    to ``consider`` (True: it clears the warning). ``K`` starts from the digit budget: the
    bound's relative size is about ``6 (m + n + 2) u kappa`` (see
    :mod:`actfit.approx.conditioning`), so ``kappa <= 10^budget / (6 (m + n + 2))`` leaves a
    margin of 2; then it moves by the digits in excess or to spare (the loss follows
    ``log10 kappa`` while ``Q`` dominates it), bisecting once both sides are known."""
    xs = dense_grid(pc.lo, pc.b, chebyshev=_ROW_POINTS, uniform=0, graded=0)
    bound = max(10.0**budget / (6.0 * (pc.m + pc.n + 2)), 1.0 + 1e-3)
    signs = _stored_signs(pc, seed)
    ok = fail = None
    last_lost = ok_error = math.inf
    for _ in range(rounds):
        try:
            st, r, signs = _refit(pc, xs, bound, signs, floor_q, pole_free, report)
        except FitError:
            return
        what = (
            f"S_Q(x) <= {bound:.3g} Q(x) and Q >= {floor_q:.3g} mean Q at {xs.size} points"
            + label
        )
        cleared, lost = consider(st, r, what)
        if cleared:
            if st.error >= ok_error * (1.0 - 1e-3) or q_condition(r, pc.a, pc.b)[0] < 0.9 * bound:
                return  # a looser bound buys nothing (or the rows are not binding)
            ok, ok_error = bound, st.error
            step = bound * 10.0 ** (budget - lost - 0.1)
            nxt = math.sqrt(ok * fail) if fail is not None else step
            if nxt < 1.3 * bound:
                return
        else:
            if lost >= last_lost - 0.1 or _numerator_dominates(r, pc.a, pc.b):
                return  # a lower bound on kappa cannot help: the loss is not Q's
            fail, last_lost = bound, lost
            step = bound * 10.0 ** (budget - lost - 0.2)
            nxt = math.sqrt(ok * fail) if ok is not None else step
            if nxt <= 1.0 + 1e-3:
                return
        bound = nxt


def guard_minimax(
    prob: Problem,
    state: State,
    rational: Rational,
    cert: Certificate,
    *,
    dtype: str,
    min_q: float | None,
    allow_poles: bool,
    pole_free: bool,
    report: Progress,
    keep: str | None = None,
) -> tuple[State, Rational, Certificate, dict[str, Any], list[str]]:
    """Return the plain fit, refitted when the dtype's evaluation loses too many digits.

    ``keep``: a reason not to refit (the table carries a constraint the refit would drop, such
    as an active tail option); the assessment and its note are still given.

    The test is the report's: :func:`~actfit.approx.conditioning.assess_conditioning` of the
    table, ``warns`` of ``dtype``. When it warns (or an explicit ``min_q`` floor is violated)
    and ``allow_poles`` is False, the fit is redone with the condition rows of
    :func:`condition_rows` and the floor ``Q >= min_q`` (default ``sqrt(u)``) at most
    ``_ROUNDS`` times, the bound lowered each time by the digits still in excess; the first
    table that no longer warns is kept, else the one that loses the fewest digits, with a note.

    Returns:
        ``(state, rational, cert, settings, notes)``: ``settings`` holds ``dtype``, ``min_q``,
        ``q_ratio``, ``q_condition``, ``min_q_active``, ``digits_lost`` and, when a refit was
        made, ``min_q_cost`` (the certified error without and with the constraint, the digits
        lost before and after) and ``q_constraint`` (the rows, in words).

    Raises:
        ParameterError: an unknown ``dtype``.
    """
    check_dtype(dtype)
    a, b, m, n = prob.a, prob.b, prob.m, prob.n
    entry = _entry(rational, a, b, dtype)
    ratio, _ = q_ratio(rational, a, b)
    kappa, _ = q_condition(rational, a, b)
    info: dict[str, Any] = {
        "min_q": min_q, "dtype": dtype, "q_ratio": ratio, "q_condition": kappa,
        "min_q_active": False, "digits_lost": entry.digits_lost,
        "digits_budget": _budget(entry),
    }
    notes: list[str] = []
    floor_q = float(min_q) if min_q is not None else MIN_Q_BY_DTYPE[dtype]
    violated = min_q is not None and ratio < floor_q * (1.0 - 1e-3)
    if allow_poles or keep is not None:
        why = "allow_poles" if allow_poles else keep
        if entry.warns:
            notes.append(
                f"{why}: {dtype} may lose {entry.digits_lost:.1f} of its "
                f"{entry.digits:.1f} digits on the range; no constraint on Q imposed"
            )
        else:
            notes.append(f"{why}: no constraint on Q imposed")
        return state, rational, cert, info, notes
    if not (entry.warns or violated):
        return state, rational, cert, info, notes

    bound_cert = cert if cert.status == "global" and cert.lower is not None else None
    before, lost_before = cert.upper, entry.digits_lost
    budget = _budget(entry)
    tried: list[dict[str, Any]] = []
    best: tuple[tuple[float, float], State, Rational, str] | None = None

    def consider(st: State, r: Rational, what: str) -> tuple[bool, float]:
        nonlocal best
        d = _entry(r, a, b, dtype)
        tried.append({"constraint": what, "error": st.error, "digits_lost": d.digits_lost})
        key = (d.digits_lost if d.warns else 0.0, st.error)
        if best is None or key < best[0]:
            best = (key, st, r, what)
        return not d.warns, d.digits_lost

    n_c = n - n % 2 if pole_free else n
    # pole_free: Q of odd degree has a real zero, so the lower classes step by 2
    for d_deg in range(0, min(m, n_c) + 1, 2 if pole_free else 1):
        seed = rational
        if d_deg:
            # The full class could not be cleared cheaply: a lower class [m - d, n - d], as a
            # member of [m, n], first unconstrained (a lower-degree P cancels less in the
            # monomial basis, a part of the loss the rows on Q cannot reach), then with the rows.
            sub = _problem(prob, m - d_deg, n_c - d_deg)
            try:
                st = polish(sub, solve(sub, progress=report, label=f"[{sub.m},{sub.n}]: "),
                            report)
                seed = pad(_to_rational(sub, st.alpha, st.gamma), m, n)
            except FitError:
                continue
            if best is not None and best[0][0] == 0.0 and st.error >= best[0][1]:
                break  # nested classes: no lower one can beat the table in hand
            poles = seed.real_poles()
            allowed = not poles.size if pole_free else not _real_poles_on(seed, a, b)
            if allowed and consider(st, seed, f"class [{sub.m},{sub.n}]")[0]:
                break  # and no constrained member of it can beat its optimum
        pc = _problem(prob, m - d_deg, n_c - d_deg)
        if pc.n == 0:
            continue
        _search_bound(pc, seed, budget, floor_q, pole_free, report, consider,
                      3 if d_deg == 0 else 2, f", class [{pc.m},{pc.n}]" if d_deg else "")
        if best is not None and best[0][0] == 0.0 and d_deg == 0 and best[0][1] <= 2 * before:
            break  # cleared at a cost below 2x: good enough, no lower class tried
    if best is None:
        notes.append(
            f"{dtype} may lose {lost_before:.1f} of its {entry.digits:.1f} digits, and no "
            "constrained refit was found; the unconstrained table is kept"
        )
        return state, rational, cert, info, notes
    _, state, rational, used = best
    new = certify(prob.target, rational, a, b, weight=prob.weight, kinks=prob.kinks, order=(m, n))
    cert = with_bound(new, bound_cert)
    after = _entry(rational, a, b, dtype)
    ratio, _ = q_ratio(rational, a, b)
    kappa, _ = q_condition(rational, a, b)
    constraint = used + " (S_Q = sum |b_k| |x|^k)" if "S_Q" in used else used
    info.update(
        min_q=floor_q, q_ratio=ratio, q_condition=kappa, min_q_active=True,
        digits_lost=after.digits_lost, q_constraint=constraint,
        min_q_cost={
            "error_without": before, "error_with": cert.upper,
            "digits_lost_without": lost_before, "digits_lost_with": after.digits_lost,
            "tried": tried,
        },
    )
    notes.append(
        f"{dtype} would lose {lost_before:.1f} of its {entry.digits:.1f} digits: {constraint} "
        f"imposed; error {before:.6g} -> {cert.upper:.6g}, digits lost {lost_before:.1f} -> "
        f"{after.digits_lost:.1f}"
    )
    if after.warns:
        notes.append(
            f"no constraint cleared the {dtype} warning in {len(tried)} refits: the "
            f"table kept still loses {after.digits_lost:.1f} digits (use a lower order or "
            "the safe form)"
        )
    return state, rational, cert, info, notes

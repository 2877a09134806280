"""The tail constraints of the minimax fitter: ``tail="linear"`` and ``tail="match"``.

:func:`actfit.approx.minimax.fit_minimax` first solves the free problem; when its optimum does
not already satisfy the tail option (:mod:`actfit.approx.tail_spec`), :func:`fit_tail` solves
the constrained problem with the same differential correction and continuum exchange
(:func:`actfit.approx.exchange.solve`), the constraints written as LP rows:

* ``linear`` (safe): ``c_n >= TAIL_FLOOR c_0``, ``Q = Σ c_k (|x|/R)^k`` with ``c_0 = Q(0) = 1``;
  with ``m <= n + 1`` the table grows at most linearly.
* ``linear`` (plain, ``n`` even): ``R^n lead(Q) >= TAIL_FLOOR Q(0)`` in the internal Chebyshev
  basis (``lead(Q) = 2^(n-1) γ_n / half^n``, ``half`` the half-width of the range), the stored
  ``b_n R^n >= TAIL_FLOOR`` once ``Q(0) = 1``; and ``Q > 0`` on the whole real line (the
  pole-free rows of :func:`~actfit.approx.minimax_problem.pole_free_rows`), since a pole outside
  the range is a blow-up at large inputs too.
* ``match``: also the equality ``a_{n+1} = s lead(Q)``
  (:func:`~actfit.approx.tail_spec.plan_match`), one row on the numerator and denominator
  coefficients together
  (:func:`~actfit.approx.lp.differential_correction`'s ``equalities``). The symmetry reduction is
  not used for ``match``: the reflection that maps an approximant to its mirror image changes
  the slope at ``+inf`` (gelu's even-after-``x/2`` reduction would force slope 1/2 at both ends).
  For ``linear`` the reduction is kept: the reflection maps the constrained class onto itself.

Differential correction converges to the global discrete optimum for linear families with
linear constraints on the coefficients (Barrodale, Powell & Roberts 1972), so the constrained
LPs need no new theory; it needs a start that satisfies the constraints, built here from the
denominator's unit start with the top coefficient at the floor and a least-squares numerator.

*Certificate.* The constrained class is a subset of the free class, so a lower bound proven for
the free class (de la Vallée Poussin, plain form) is a lower bound for the constrained one too:
it is kept (:func:`~actfit.approx.certificate.with_bound`), and the gap then includes the price
of the tail. The abs form (a sign-pattern search) has no tail option yet.

References:
    I. Barrodale, M. J. D. Powell and F. D. K. Roberts, "The differential correction algorithm
    for rational l∞-approximation", SIAM J. Numer. Anal. 9 (1972), 493–504.
    Ch. J. de la Vallée Poussin, *Leçons sur l'approximation des fonctions d'une variable
    réelle*, Gauthier-Villars (1919).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from actfit.approx.certificate import Certificate, certify, with_bound
from actfit.approx.exchange import State, initial_grid, solve
from actfit.approx.minimax_problem import (
    SAFE_BOUND,
    Problem,
    pad,
    pole_free_rows,
    to_rational,
)
from actfit.approx.tail_spec import TAIL_FLOOR, SlopePlan, check_tail, plan_match
from actfit.errors import FitError, FormError
from actfit.options import Progress
from actfit.rational import Rational
from actfit.targets import Target

__all__ = ["MEASURE", "TailConstraints", "check_minimax_tail", "fit_tail", "tail_constraints"]

_Array = NDArray[np.float64]
MEASURE = "max abs (weighted)"
"""What ``error_free`` and ``error_tail`` measure in ``settings["tail"]``."""
_RTOL = 1e-9


def check_minimax_tail(
    tail: str, form: str, m: int, n: int, target: Target | None = None
) -> str:
    """Return the tail option checked for the minimax fitter (see
    :func:`~actfit.approx.tail_spec.check_tail`), before any fitting.

    With ``target``, ``match`` is also checked to have a slope to match
    (:func:`~actfit.approx.tail_spec.plan_match`).

    Raises:
        ParameterError: an unknown tail, or ``match`` for a target without asymptotic slope.
        OrderError: an order the tail cannot have.
        FormError: ``linear`` or ``match`` with the abs form.

    Examples:
        >>> check_minimax_tail("match", "safe", 5, 4)
        'match'
    """
    t = check_tail(tail, form, m, n)
    if t != "free" and form == "abs":
        raise FormError(
            f"tail {t!r} is not available for the abs form of the minimax fitter (its "
            "sign-pattern search takes no constraints); use the safe form, which is pole-free "
            "too, or tail 'free'"
        )
    if t == "match" and target is not None:
        plan_match(target, form, n)
    return t


@dataclasses.dataclass(frozen=True)
class TailConstraints:
    """The LP rows of a tail option in a problem's internal coordinates.

    Attributes:
        rows: ``G`` in ``G γ >= h`` (denominator coefficients), without the pole-free rows.
        lower: ``h``.
        equalities: ``(E, e)`` with ``E (α, γ) = e`` (``match``), or None.
        text: the constraint in words, in the stored coefficients.
    """

    rows: _Array
    lower: _Array
    equalities: tuple[_Array, _Array] | None
    text: str


def _lead_row(prob: Problem) -> _Array:
    """``ℓ`` with ``ℓ γ`` the leading monomial coefficient of ``Q`` in ``x`` (``x > 0`` for the
    safe form): ``T_n(t)`` leads with ``2^(n-1) t^n``, ``t = (x - mid) / half``."""
    row = np.zeros(prob.den_index.size)
    pos = int(np.flatnonzero(prob.den_index == prob.n)[0])
    row[pos] = (
        2.0 ** (prob.n - 1) / prob.half**prob.n if prob.form == "plain" else prob.radius**-prob.n
    )
    return row


def _num_lead_row(prob: Problem) -> _Array:
    """The numerator's leading monomial coefficient ``a_m`` as a row on ``α`` (no shift)."""
    row = np.zeros(prob.num_index.size)
    hit = np.flatnonzero(prob.num_index == prob.m)
    if hit.size:
        row[int(hit[0])] = 2.0 ** (prob.m - 1) / prob.half**prob.m if prob.m else 1.0
    return row


def tail_constraints(prob: Problem, tail: str, plan: SlopePlan | None = None) -> TailConstraints:
    """Return the rows that impose ``tail`` on ``prob`` (``linear`` or ``match``).

    The floor row is ``R^n ℓ γ - TAIL_FLOOR Q(0) >= 0``: ``Q(0) = 1`` in the stored
    normalisation, so it is ``|b_n| R^n >= TAIL_FLOOR`` (``b_n > 0`` in the plain form). The
    ``match`` row is ``R^m a_m - s R R^n ℓ γ = 0``. Both are scaled to unit size (see
    :mod:`actfit.approx.lp` on why the LP's rows must be O(1)). The plain form also needs
    :func:`~actfit.approx.minimax_problem.pole_free_rows` (added by :func:`fit_tail`).

    Examples:
        >>> from actfit.approx.minimax_problem import Problem
        >>> from actfit.approx.weights import parse_weight
        >>> from actfit.targets import get_target
        >>> g = get_target("gelu")
        >>> p = Problem(g, parse_weight("uniform", target=g, range=(-3, 3)), -3.0, 3.0, 5, 4,
        ...             "safe", 0, ())
        >>> tail_constraints(p, "linear").rows.round(6).tolist()
        [[-0.01, 0.0, 0.0, 0.0, 1.0]]
    """
    n, radius = prob.n, prob.radius
    q0 = prob.phi(np.array([0.0]))[0]
    floor_row = radius**n * _lead_row(prob) - TAIL_FLOOR * q0
    floor_row = floor_row / np.max(np.abs(floor_row))
    lead = "|b_{n}|" if prob.form == "safe" else "b_{n}"
    text = f"{lead} R^{n} >= {TAIL_FLOOR:g} (R = {radius:g}), m <= n + 1".replace("{n}", str(n))
    if prob.form == "plain":
        text += ", Q > 0 on the real line"
    eq = None
    if tail == "match":
        assert plan is not None
        s = plan.slope
        row = np.concatenate(
            [radius**prob.m * _num_lead_row(prob), -s * radius * radius**n * _lead_row(prob)]
        )
        eq = (row[None, :] / np.max(np.abs(row)), np.zeros(1))
        text += f"; a_{n + 1} = {s:g} * {lead.replace('{n}', str(n))} (slope {s:g} at +inf)"
    return TailConstraints(floor_row[None, :], np.zeros(1), eq, text)


def _satisfied(rational: Rational, tail: str, plan: SlopePlan | None, radius: float) -> bool:
    """Whether a (free) table already meets the tail option."""
    n = rational.degree[1]
    den = np.asarray(rational.denominator)
    num = np.asarray(rational.numerator)
    if n == 0 or den.size < n:
        return False
    top = den[n - 1] if rational.form == "plain" else abs(den[n - 1])
    if not top * radius**n >= TAIL_FLOOR * (1.0 - _RTOL):
        return False
    if rational.form == "plain" and rational.real_poles().size:
        return False
    if num.size > n + 2 and np.any(num[n + 2 :] != 0.0):
        return False
    if tail == "match":
        assert plan is not None
        a_top = num[n + 1] if num.size > n + 1 else 0.0
        want = plan.slope * top
        return abs(a_top - want) <= _RTOL * max(abs(a_top), abs(want), 1e-300)
    return True


def _start(prob: Problem, cons: TailConstraints) -> tuple[_Array, _Array]:
    """A start that meets the constraints: ``Q`` = the unit start plus its top term at twice the
    floor (plain: ``1 + g T_n(t)``, ``0 < g <= 1/2``, positive on the whole real line for even
    ``n``), and the numerator by weighted least squares for that ``Q`` (with ``a_m`` fixed by the
    ``match`` equality)."""
    gamma = prob.unit_gamma()
    pos = int(np.flatnonzero(prob.den_index == prob.n)[0])
    ell = _lead_row(prob)[pos] * prob.radius**prob.n
    q0 = prob.phi(np.array([0.0]))[0]
    # Floor row at γ = e_0 + g e_n: g ℓ - F (q0_0 + g q0_n) >= 0; twice the smallest such g.
    denom = ell - TAIL_FLOOR * q0[pos]
    g = 2.0 * TAIL_FLOOR * q0[0] / denom if denom > 0 else 0.5
    gamma[pos] = min(g, 0.5) if prob.form == "plain" else max(g, TAIL_FLOOR)
    x = initial_grid(prob, prob.lo, prob.b)
    psi, f, w = prob.psi(x), prob.f(x), prob.w(x)
    q = prob.phi(x) @ gamma
    a_mat, y = psi * (w / q)[:, None], w * f
    p = psi.shape[1]
    if cons.equalities is None:
        return np.linalg.lstsq(a_mat, y, rcond=None)[0], gamma
    row = cons.equalities[0][0]
    k = int(np.argmax(np.abs(row[:p])))
    fixed = -(row[p:] @ gamma) / row[k]
    rest = [j for j in range(p) if j != k]
    alpha = np.zeros(p)
    alpha[k] = fixed
    if rest:
        alpha[rest] = np.linalg.lstsq(a_mat[:, rest], y - a_mat[:, k] * fixed, rcond=None)[0]
    return alpha, gamma


def _solve(prob: Problem, cons: TailConstraints, report: Progress, label: str) -> State:
    """Differential correction with the tail rows (and, plain, the pole-free rows, refined at
    any real pole found, up to four rounds)."""
    start = _start(prob, cons)
    if prob.form != "plain":
        state = solve(
            prob, start=start, extra_constraints=lambda: (cons.rows, cons.lower),
            equalities=cons.equalities, progress=report, label=label,
        )
        if np.any(state.gamma[1:] >= prob.safe_bound * (1 - 1e-9)):
            wide = dataclasses.replace(prob, safe_bound=SAFE_BOUND)
            more = solve(
                wide, start=(state.alpha, state.gamma),
                extra_constraints=lambda: (cons.rows, cons.lower), equalities=cons.equalities,
                progress=report, label=f"{label}wider: ",
            )
            if more.error < state.error:
                state = more
        return state
    extra_t = np.zeros(0)
    for _ in range(4):
        g_pf, h_pf = pole_free_rows(prob, extra_t)
        rows = np.vstack([g_pf, cons.rows])
        lower = np.concatenate([h_pf, cons.lower])
        state = solve(
            prob, start=start, extra_constraints=lambda r=rows, h=lower: (r, h),
            equalities=cons.equalities, progress=report, label=label,
        )
        rational = to_rational(prob, state.alpha, state.gamma)
        poles = rational.real_poles()
        if not poles.size:
            return state
        # Real poles come in pairs around a local minimum of Q that dipped below 0 between the
        # sample points: the rows go there (the critical points of Q), and to the poles.
        pw = np.polynomial.polynomial
        crit = pw.polyroots(pw.polyder(rational.denominator_polynomial()))
        crit = crit[np.abs(crit.imag) <= 1e-9 * np.maximum(1.0, np.abs(crit))].real
        extra_t = np.concatenate([extra_t, prob.t(poles), prob.t(crit)])
    raise FitError(
        f"no pole-free [{prob.m},{prob.n}] fit with a linear tail was found; use the safe form "
        "or lower degrees"
    )


def fit_tail(
    prob: Problem,
    tail: str,
    free: tuple[State, Rational, Certificate],
    report: Progress,
) -> tuple[State, Rational, Certificate, dict[str, Any]]:
    """Return ``(state, rational, certificate, info)`` of the fit with the tail option.

    ``free`` is the free fit of ``prob`` (its state, table and certificate). When the table
    already meets the option it is returned unchanged with ``info["active"]`` False; otherwise
    the constrained problem is solved (see the module docstring) and the free certificate's
    lower bound, valid for the subset, is kept. ``info`` is ``settings["tail"]``: ``kind``,
    ``constraint`` (text), ``floor``, ``active``, ``error_free``, ``error_tail``, ``measure``,
    and for ``match`` the :class:`~actfit.approx.tail_spec.SlopePlan` as ``match``.

    Raises:
        ParameterError: ``match`` for a target without an asymptotic slope.
        FitError: no pole-free plain fit with the constraint was found.
    """
    state, rational, cert = free
    m, n = prob.m, prob.n
    plan = plan_match(prob.target, prob.form, n) if tail == "match" else None
    # match does without the symmetry reduction (see the module docstring).
    pc = dataclasses.replace(prob, sym=0, shift=(0.0, 0.0)) if tail == "match" else prob
    cons = tail_constraints(pc, tail, plan)
    info: dict[str, Any] = {
        "kind": tail,
        "constraint": cons.text,
        "floor": TAIL_FLOOR,
        "active": False,
        "error_free": cert.upper,
        "error_tail": cert.upper,
        "measure": MEASURE,
    }
    if plan is not None:
        info["match"] = plan.to_dict()
    if _satisfied(rational, tail, plan, prob.radius):
        return state, rational, cert, info
    report(f"tail {tail}: constrained fit", 0.5)
    new_state = _solve(pc, cons, report, f"tail {tail}: ")
    new_rational = pad(to_rational(pc, new_state.alpha, new_state.gamma), m, n)
    new_cert = certify(
        prob.target, new_rational, prob.a, prob.b, weight=prob.weight, kinks=prob.kinks,
        order=(m, n),
    )
    bound = cert if cert.status == "global" and cert.lower is not None else None
    new_cert = with_bound(new_cert, bound)
    detail = f" Fitted with tail {tail!r}: {cons.text}."
    if new_cert.lower is not None:
        detail += (
            f" The lower bound is one for the free class [{m},{n}] (no tail constraint), a "
            "superset of the class fitted: the gap includes the price of the tail."
        )
    new_cert = dataclasses.replace(new_cert, detail=new_cert.detail + detail)
    info.update(active=True, error_tail=new_cert.upper)
    return new_state, new_rational, new_cert, info

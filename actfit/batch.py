"""Batch tables: fit many targets x orders x forms in one call (the library side of ``table``).

Initialisation tables for learnable rational activations list one fit per activation, order and
denominator form, e.g. the leaky-ReLU slopes 0.01, 0.2, 0.25, 0.3 and -0.5 at order [5, 4] in the
"safe" form of Padé Activation Units (Molina, Schramowski and Kersting, "Padé Activation Units:
End-to-end Learning of Flexible Activation Functions in Deep Networks", ICLR 2020, appendix
tables). :func:`fit_table` produces such a table with any of actfit's fitters; the result is a
list of :class:`~actfit.fit.Fit` that :mod:`actfit.export.table` writes as one file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actfit.approx.lsq import fit_lsq
from actfit.approx.minimax import fit_minimax
from actfit.approx.pade import fit_pade
from actfit.errors import ActfitError, FitError, OrderError, ParameterError
from actfit.export.names import target_label
from actfit.export.readers import parse_coefficients
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE, check_order, check_range
from actfit.rational import require_fit_form
from actfit.targets import get_target, resolve_target

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = [
    "FITTERS",
    "METHODS",
    "TableJob",
    "TableProgress",
    "expand_targets",
    "fit_table",
    "parse_forms",
    "parse_orders",
    "parse_slopes",
    "table_jobs",
]

FITTERS: dict[str, Callable[..., Fit]] = {
    "lsq": fit_lsq,
    "pade": fit_pade,
    "minimax": fit_minimax,
}
"""The fitters a table can use; each takes the shared fitter signature (see ``actfit.options``)."""
METHODS = tuple(FITTERS)
_PAIR = re.compile(r"\[?\s*(\d+)\s*[,/]\s*(\d+)\s*\]?")
_SEP = re.compile(r"[\s;,]*")

TableProgress = Callable[[int, int, str], None]
"""``progress(done, total, label)``: called before each fit of a table and once at the end."""


@dataclass(frozen=True)
class TableJob:
    """One fit of a batch table: a target, an order and a form."""

    target: Target
    order: tuple[int, int]
    form: str

    @property
    def label(self) -> str:
        """A short description for progress bars and messages."""
        m, n = self.order
        return f"{target_label(self.target)} [{m},{n}] {self.form}"


def parse_orders(texts: str | Sequence[str]) -> list[tuple[int, int]]:
    """Return the orders in ``"5,4"``, ``"5/4 6/5"``, ``"5,4;6,5"`` or ``"5,4,6,5"`` (pairs).

    Repeated command-line values are given as a list; duplicates are dropped, order kept.

    Raises:
        OrderError: text that is not a sequence of M,N pairs, or degrees out of range.

    Examples:
        >>> parse_orders(["5,4", "3/2 6,5"])
        [(5, 4), (3, 2), (6, 5)]
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    out: list[tuple[int, int]] = []
    for text in items:
        s = str(text).strip()
        pos, found = 0, []
        while pos < len(s):
            pos = _SEP.match(s, pos).end()  # type: ignore[union-attr]
            if pos >= len(s):
                break
            match = _PAIR.match(s, pos)
            if match is None:
                raise OrderError(
                    f"orders {text!r} are not M,N pairs; e.g. --orders 5,4 or --orders '5/4 6/5'"
                )
            found.append(check_order((int(match.group(1)), int(match.group(2)))))
            pos = match.end()
        if not found:
            raise OrderError(f"orders {text!r} hold no M,N pair; e.g. --orders 5,4")
        out.extend(found)
    return list(dict.fromkeys(out))


def parse_forms(texts: str | Sequence[str]) -> list[str]:
    """Return the canonical fit forms in ``"safe"``, ``"safe,abs"`` or a list of such.

    Raises:
        FormError: an unknown form, or version C (only for reading tables).
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    names = [t for text in items for t in re.split(r"[\s,;]+", str(text).strip()) if t]
    if not names:
        return ["safe"]
    return list(dict.fromkeys(require_fit_form(n) for n in names))


def parse_slopes(text: str | Sequence[float] | None) -> list[float]:
    """Return the slopes in ``"0.01,0.2,-0.5"`` (an empty list for None or "").

    Raises:
        ParameterError: an item that is not a finite number.
    """
    if text is None:
        return []
    if isinstance(text, str) and not text.strip():
        return []
    return list(dict.fromkeys(parse_coefficients(text, "--slopes")))


def expand_targets(
    specs: Sequence[str],
    *,
    slopes: Sequence[float] = (),
    params: Mapping[str, float] | None = None,
) -> list[Target]:
    """Return the targets named by ``specs``, one per slope for targets with a slope.

    Args:
        specs: registry names or expressions in ``x``.
        slopes: values of the ``slope`` parameter; each target that has one is fitted once per
            slope (``leaky_relu``, ``tleaky_relu``).
        params: other parameter values, applied to every registry target that has them.

    Raises:
        UnknownTargetError, ExpressionError: an unknown name or a bad expression.
        ParameterError: slopes given but no target takes a slope, slope given twice, or a
            parameter that none of the targets has.
    """
    if not specs:
        raise ParameterError("give at least one target, e.g. actfit table leaky_relu gelu")
    params = dict(params or {})
    if slopes and "slope" in params:
        raise ParameterError("slope is given twice (--slopes and -p slope=...); give it once")
    out: list[Target] = []
    used: set[str] = set()
    slope_used = False
    for spec in specs:
        base = resolve_target(spec)
        if base.name == "expr":
            out.append(base)
            continue
        own = {k: v for k, v in params.items() if k in base.param_dict}
        used.update(own)
        if slopes and "slope" in base.param_dict:
            slope_used = True
            out.extend(get_target(base.name, {**own, "slope": s}) for s in slopes)
        else:
            out.append(get_target(base.name, own))
    if slopes and not slope_used:
        raise ParameterError(
            "--slopes applies to targets with a slope parameter (leaky_relu, tleaky_relu); "
            f"none of {', '.join(specs)} has one"
        )
    unused = sorted(set(params) - used)
    if unused:
        raise ParameterError(
            f"parameter(s) {', '.join(unused)} belong to none of the targets "
            f"{', '.join(specs)} (actfit targets lists their parameters)"
        )
    return list(dict.fromkeys(out))


def table_jobs(
    targets: Sequence[Target], orders: Sequence[tuple[int, int]], forms: Sequence[str]
) -> list[TableJob]:
    """Return the fits of a table, target-major: every order and form for each target."""
    return [TableJob(t, tuple(o), f) for t in targets for o in orders for f in forms]  # type: ignore[arg-type]


def fit_table(
    targets: Sequence[Target],
    orders: Sequence[tuple[int, int]] = (DEFAULT_ORDER,),
    forms: Sequence[str] = ("safe",),
    *,
    method: str = "lsq",
    range: tuple[float, float] = DEFAULT_RANGE,
    weight: str = "uniform",
    allow_poles: bool = False,
    progress: TableProgress | None = None,
) -> list[Fit]:
    """Return one fit per target x order x form (target-major order), all on one range.

    Args:
        targets: the targets (see :func:`expand_targets`).
        orders: the orders ``(m, n)``.
        forms: the denominator forms (``plain``, ``safe``, ``abs``).
        method: a key of :data:`FITTERS`: ``lsq`` (default), ``pade`` (at its default center
            0; ``range`` is where it is reported) or ``minimax``. Every fitter is called with
            the same keyword arguments.
        range: the fit range.
        weight: the error weight (``lsq`` and ``minimax``; pade takes only ``uniform``).
        allow_poles: keep plain fits with a pole on the range.
        progress: called as ``progress(done, total, label)`` before each fit and once at the
            end (``done == total``).

    Raises:
        ActfitError: the first fit that fails, its message prefixed with the table entry
            (nothing is returned: a table with a hole is not a table).
        FitError: an unknown method.
        ParameterError: a weight other than ``uniform`` with pade (raised by ``fit_pade``).

    Examples:
        >>> # fits = fit_table(expand_targets(["leaky_relu"], slopes=[0.01, 0.2]), [(5, 4)])
    """
    fitter = FITTERS.get(method)
    if fitter is None:
        raise FitError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    a_b = check_range(*range)
    form_names = parse_forms(list(forms))
    if not orders:
        raise OrderError("give at least one order, e.g. --orders 5,4")
    jobs = table_jobs(targets, list(orders), form_names)
    options = {"range": a_b, "weight": weight, "allow_poles": allow_poles}
    fits: list[Fit] = []
    for i, job in enumerate(jobs):
        if progress is not None:
            progress(i, len(jobs), job.label)
        try:
            fits.append(fitter(job.target, job.order, form=job.form, **options))
        except ActfitError as exc:
            raise type(exc)(f"{job.label}: {exc}") from None
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return fits

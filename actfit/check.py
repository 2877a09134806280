"""Verify a coefficient table against its target, in the form the runtime will use.

Coefficient tables go wrong silently: a table fitted in one denominator form and evaluated in
another (e.g. a rational_activations version-A table run by a version-B kernel) can be off by
more than 1 on [-3, 3] while its coefficients look plausible. :func:`check_file` reads a table in
any format :mod:`actfit.export.readers` knows, re-evaluates it against the target (fresh error
report, exact pole isolation on the range *and* the whole real line) and gives a verdict:

* **fail** when the max error on the range exceeds the tolerance, or ``Q`` vanishes on the
  range (or the error is not finite there);
* **pass** otherwise; real poles off the range are always reported as warnings with their
  positions, since activations see unbounded inputs;
* **skip** (``check --all`` only) when a table cannot be evaluated (unknown activation name,
  missing form); the reason says what to give.

The tolerance is ``tol`` when given; else 1.5 times the max error the file records (actfit files
record it; the floor is 1e-12 so that an exact table does not fail on rounding), valid when the
table is checked on its own target and range; else 0.05. When a table fails, the other forms are
tried and a form in which the same coefficients pass is named: the usual cause is a table read in
the wrong form.

With ``prove`` the check also proves, in ball arithmetic, an enclosure ``[lower, upper]`` of the
table's max error on the range (:func:`actfit.approx.supnorm.supnorm`, relative tightness
``rtol``) and a lower bound of ``min |Q|`` on the range (:func:`actfit.approx.supnorm.min_abs_q`);
for the plain form the exact real-root isolation of the pole report says where ``Q`` vanishes on
the whole line. A target with a function that has no interval enclosure raises
:class:`~actfit.approx.enclosure.NoEnclosureError`: nothing is called proven without one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from actfit.approx.enclosure import NoEnclosureError
from actfit.approx.metrics import max_error
from actfit.approx.supnorm import min_abs_q, supnorm
from actfit.errors import ActfitError, FileFormatError, ParameterError
from actfit.export.kat import kat_diagnosis
from actfit.export.readers import (
    TableEntry,
    entry_fit,
    external_fit,
    read_tables,
    select_entries,
)
from actfit.fit import Fit, fit_moments, jsonable
from actfit.options import DEFAULT_RANGE
from actfit.rational import FORMS, Rational, normalize_form
from actfit.roots import isolate_real_roots

if TYPE_CHECKING:
    from actfit.targets import Target

__all__ = [
    "DEFAULT_TOL",
    "RECORDED_FACTOR",
    "STATUSES",
    "CheckResult",
    "check_coefficients",
    "check_entry",
    "check_file",
    "check_fit",
    "count_statuses",
    "kat_diagnosis",
    "learned_entries",
    "prove_fit",
    "results_document",
    "select_entries",
    "with_sigma",
]

DEFAULT_TOL = 0.05
"""Tolerance on the max abs error when neither ``tol`` nor a recorded error is available."""
RECORDED_FACTOR = 1.5
"""Default tolerance as a multiple of the max abs error the file records."""
_TOL_FLOOR = 1e-12
STATUSES = ("pass", "fail", "skip")
"""The verdicts of a check, in the order the counts are reported."""


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one coefficient table.

    Attributes:
        key: where the table sits in its file (or ``"coefficients"`` for a list).
        status: ``"pass"``, ``"fail"`` or ``"skip"`` (could not be evaluated).
        fit: the table with fresh error and pole reports (None when skipped).
        tol: the tolerance applied to the max abs error (None when skipped).
        tol_source: where the tolerance comes from, in words.
        recorded_max_abs: the max abs error the file records, if any.
        problems: why it failed or was skipped.
        warnings: what passes but deserves attention (poles off the range, reading notes,
            a form override).
        source_format: ``actfit``, ``rational_activations``, ``kat`` or ``list``.
        proven: with ``prove``: the proven enclosure of the max error and of ``min |Q|``
            (see :func:`prove_fit`), else None.
        kat: for a KAT file's entry: the form it was evidently fitted in and what KAT's CPU
            fallback does with it (see :func:`kat_diagnosis`), else None.
    """

    key: str
    status: str
    fit: Fit | None
    tol: float | None
    tol_source: str
    recorded_max_abs: float | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    source_format: str
    proven: dict[str, Any] | None = None
    kat: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        """True when the table passed the check."""
        return self.status == "pass"

    @property
    def max_abs(self) -> float | None:
        """The re-evaluated max abs error on the range (None when skipped)."""
        return None if self.fit is None else self.fit.errors.max_abs

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (strict JSON: non-finite floats as strings)."""
        d: dict[str, Any] = {
            "key": self.key,
            "status": self.status,
            "source_format": self.source_format,
            "tol": self.tol,
            "tol_source": self.tol_source,
            "recorded_max_abs": self.recorded_max_abs,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }
        f = self.fit
        if f is not None:
            d.update(
                target=f.target.to_dict(),
                method=f.method,
                order=list(f.order),
                form=f.form,
                range=list(f.range),
                numerator=f.rational.numerator.tolist(),
                denominator=f.rational.denominator.tolist(),
                errors=f.errors.to_dict(),
                poles=f.poles.to_dict(),
                tail=None if f.tail is None else f.tail.to_dict(),
                moments=None if f.moments is None else f.moments.to_dict(),
            )
        if self.proven is not None:
            d["proven"] = self.proven
        if self.kat is not None:
            d["kat"] = self.kat
        return jsonable(d)


def _fmt_points(points: Sequence[float]) -> str:
    return ", ".join(f"{p:.9g}" for p in points)


def _other_form_hint(fit: Fit, tol: float) -> str | None:
    """Name the forms in which the same coefficients pass (the usual cause of a failure)."""
    r = fit.rational
    if r.form == "abs_offset":
        return None  # b0..bn does not read as b1..bn in the other forms
    a, b = fit.range
    passing: list[tuple[float, str]] = []
    for form in FORMS:
        if form == r.form:
            continue
        other = Rational(r.numerator, r.denominator, form)
        if any(a <= p <= b for p in other.real_poles()):
            continue
        with np.errstate(all="ignore"):
            err, _ = max_error(lambda x, o=other: o(x) - fit.target(x), a, b, fit.target.kinks)
        if math.isfinite(err) and err <= tol:
            passing.append((err, form))
    if not passing:
        return None
    passing.sort()
    alts = " or ".join(f"{f} (max error {e:.3e})" for e, f in passing)
    best = passing[0][1]
    return (
        f"the same coefficients pass when read in form {alts}: the table was probably fitted "
        f"in another form; evaluate it with --form {best} if that is what it was fitted in, "
        "or refit it in the form your runtime uses"
    )


def _check_representable_poles(fit: Fit) -> None:
    """Refuse a denominator with a real zero beyond the float64 range (``+-inf`` as a float).

    Such a zero comes from a leading coefficient so small (subnormal) that ``Q`` of the stored
    coefficients has a root past 1.8e308: no float input reaches it, but no float can name it,
    and a report would have to write it as "-inf".

    Raises:
        ParameterError: such a zero exists; the message names the coefficient and the zero.
    """
    poles = fit.poles.poles_on_real_line
    if all(math.isfinite(p) for p in poles):
        return
    den = fit.rational.denominator_polynomial()
    k = int(np.flatnonzero(den)[-1])
    lead = float(den[k])
    kind = "subnormal" if abs(lead) < np.finfo(np.float64).tiny else "too small"
    big = [lo + (hi - lo) / 2 for lo, hi in isolate_real_roots(den)]
    huge = [v for v in big if abs(v) > np.finfo(np.float64).max]
    ctx = Context(prec=3)
    where = ", ".join(
        f"{ctx.divide(ctx.create_decimal(v.numerator), ctx.create_decimal(v.denominator)):e}"
        for v in huge
    )
    name = f"b{k}" if fit.rational.form != "abs_offset" else f"b{k} (b0..bn)"
    raise ParameterError(
        f"the denominator's leading coefficient {name} = {lead:.3g} is {kind}: Q has a real "
        f"zero beyond the float64 range (about {where}); drop that coefficient (use a lower "
        "degree) or give it a normal value"
    )


def prove_fit(fit: Fit, *, rtol: float = 1e-6) -> dict[str, Any]:
    """Prove the max error of a table on its range and the minimum of ``|Q|`` there.

    The enclosure comes from :func:`actfit.approx.supnorm.supnorm` (branch and bound in ball
    arithmetic, split at the target's kinks), ``min_abs_q`` from
    :func:`actfit.approx.supnorm.min_abs_q` (0.0 when ``Q`` changes sign); ``poles`` repeats what
    the pole report proved about the real zeros of ``Q`` (exact root isolation for the plain
    form, the form's own structure otherwise).

    Returns:
        ``lower``, ``upper`` (the proven enclosure of ``max |f - r|``), ``argmax``, ``rtol``
        (the relative width reached), ``rtol_requested``, ``converged``, ``intervals``,
        ``seconds``, ``detail``, ``min_abs_q``, ``poles``.

    Raises:
        NoEnclosureError: the target uses a function without an interval enclosure.

    Examples:
        >>> from actfit.approx.lsq import fit_lsq
        >>> p = prove_fit(fit_lsq("gelu", (5, 4)))  # doctest: +SKIP
        >>> p["lower"] <= p["upper"]
        True
    """
    a, b = fit.range
    s = supnorm(fit.target, fit.rational, a, b, rtol=rtol)
    q = min_abs_q(fit.rational, a, b, rtol=rtol)
    p = fit.poles
    if p.poles_on_real_line:
        zeros = f"real zeros of Q at x = {_fmt_points(p.poles_on_real_line)}"
    else:
        zeros = "no real zero of Q on the whole real line"
    return {
        **s.summary(rtol),
        "min_abs_q": q,
        "poles": f"{zeros} ({p.method})",
    }


def check_fit(
    fit: Fit,
    *,
    tol: float | None = None,
    recorded_max_abs: float | None = None,
    key: str = "",
    source_format: str = "actfit",
    notes: Sequence[str] = (),
    prove: bool = False,
    rtol: float = 1e-6,
) -> CheckResult:
    """Return the verdict on a fit whose error and pole reports are fresh.

    With ``prove``, :func:`prove_fit` runs too; its proven upper bound above the tolerance
    fails the table even where the sampled max error passes.

    Args:
        fit: the table as the runtime will evaluate it (form included).
        tol: the tolerance on the max abs error; default from ``recorded_max_abs`` or 0.05.
        recorded_max_abs: the max abs error the file records for this table and range.
        key: a name for the table in messages.
        source_format: where the table came from.
        notes: reading notes to pass on as warnings.
        prove: also prove the max error and ``min |Q|`` (:func:`prove_fit`).
        rtol: the relative tightness asked of the proven enclosure.

    Raises:
        ParameterError: ``tol`` is negative or not finite, or ``Q`` has a real zero beyond the
            float64 range (a subnormal leading coefficient).
        NoEnclosureError: ``prove`` and a target without an interval enclosure.
    """
    _check_representable_poles(fit)
    if tol is not None:
        if not (math.isfinite(tol) and tol >= 0):
            raise ParameterError(f"--tol must be a finite number >= 0, got {tol}; e.g. --tol 1e-3")
        limit, source = float(tol), "given (--tol)"
    elif recorded_max_abs is not None and math.isfinite(recorded_max_abs):
        limit = max(RECORDED_FACTOR * recorded_max_abs, _TOL_FLOOR)
        source = f"{RECORDED_FACTOR:g} x the recorded max error {recorded_max_abs:.3e}"
    else:
        limit, source = DEFAULT_TOL, f"default {DEFAULT_TOL:g}: the file records no error"
    a, b = fit.range
    problems: list[str] = []
    warnings: list[str] = list(notes)
    p = fit.poles
    if p.poles_on_range:
        problems.append(f"pole on the range [{a:g}, {b:g}] at x = {_fmt_points(p.poles_on_range)}")
    err = fit.errors.max_abs
    if not math.isfinite(err):
        if not p.poles_on_range:
            problems.append(
                f"the error is not finite on the range (at x = {fit.errors.max_abs_at:.6g})"
            )
    elif err > limit:
        problems.append(
            f"max abs error {err:.3e} at x = {fit.errors.max_abs_at:.6g} exceeds tol {limit:.3e}"
        )
    off = [x for x in p.poles_on_real_line if not a <= x <= b]
    if off:
        dist = ", ".join(f"{x:.9g} ({(a - x) if x < a else (x - b):.3g} outside)" for x in off)
        warnings.append(
            f"real pole(s) off the range at x = {dist}: inputs there make the activation blow up"
        )
    proven = prove_fit(fit, rtol=rtol) if prove else None
    if proven is not None and not problems and not proven["upper"] <= limit:
        problems.append(
            f"proven bound on the max abs error {proven['upper']:.3e} exceeds tol {limit:.3e}"
        )
    if problems:
        hint = _other_form_hint(fit, limit)
        if hint:
            problems.append(hint)
    return CheckResult(
        key=key,
        status="fail" if problems else "pass",
        fit=fit,
        tol=limit,
        tol_source=source,
        recorded_max_abs=recorded_max_abs,
        problems=tuple(problems),
        warnings=tuple(warnings),
        source_format=source_format,
        proven=proven,
    )


def check_entry(
    entry: TableEntry,
    *,
    form: str | None = None,
    target: Target | None = None,
    range: tuple[float, float] | None = None,
    tol: float | None = None,
    source: str = "",
    prove: bool = False,
) -> CheckResult:
    """Return the verdict on one table read by :func:`actfit.export.readers.read_tables`.

    Raises:
        ActfitError: the table cannot be evaluated (unknown activation name and no ``target``,
            no form recorded and none given, unreadable record); :func:`check_file` with
            ``all_tables`` turns this into a ``skip``.
    """
    fit = entry_fit(entry, form=form, target=target, range=range, source=source)
    recorded = None
    if entry.fit is not None and fit.range == entry.fit.range and fit.target == entry.fit.target:
        recorded = entry.fit.errors.max_abs
    notes = list(entry.notes)
    if form is not None and entry.form is not None and normalize_form(form) != entry.form:
        notes.append(f"evaluated in form {fit.form} (--form); the file says {entry.form}")
    elif form is not None and entry.form is None:
        notes.append(f"evaluated in form {fit.form} as given (--form)")
    result = check_fit(
        fit,
        tol=tol,
        recorded_max_abs=recorded,
        key=entry.key,
        source_format=entry.source_format,
        notes=notes,
        prove=prove,
    )
    if entry.source_format == "kat":
        kat = kat_diagnosis(entry.numerator, entry.denominator, fit.target, fit.range)
        result = replace(result, kat=jsonable(kat))
    return result


def check_file(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    all_tables: bool = False,
    form: str | None = None,
    target: Target | None = None,
    range: tuple[float, float] | None = None,
    tol: float | None = None,
    prove: bool = False,
) -> list[CheckResult]:
    """Check the tables in a file: one (``name``, or the only one) or all of them.

    Args:
        path: an actfit result or table file, a rational_activations config, a KAT-style
            file (see :mod:`actfit.export.readers`) or a state_dict ``.pt`` holding
            RationalActivation modules (:func:`learned_entries`).
        name: which table (a key such as ``Rational_version_A5/4:leaky_relu``, an index, or a
            unique activation name).
        all_tables: check every table (or every table ``name`` matches); tables that cannot be
            evaluated are reported as ``skip`` instead of raising.
        form: the form the runtime will use (overrides the file's).
        target: the target (overrides the file's / the name's).
        range: the range (overrides the file's).
        tol: the tolerance on the max abs error (default: see the module docstring).
        prove: also prove the max error and ``min |Q|`` of every table (:func:`prove_fit`).

    Raises:
        NoEnclosureError: ``prove`` and a target without an interval enclosure (also with
            ``all_tables``: a proof asked for is never silently skipped).
        FileFormatError: unreadable file; several tables and neither ``name`` nor
            ``all_tables``; ``name`` matches none.
        ActfitError: (single table) the table cannot be evaluated; the message says what to give.
    """
    source = str(path)
    suffix = Path(path).suffix.lower()
    entries = learned_entries(path) if suffix in (".pt", ".pth") else read_tables(path)
    if all_tables:
        chosen = entries if name is None else select_entries(entries, name, source)
    else:
        if name is None and len(entries) > 1:
            keys = ", ".join(e.key for e in entries[:8]) + (", ..." if len(entries) > 8 else "")
            raise FileFormatError(
                f"{source} holds {len(entries)} tables; give --all to check every one, or "
                f"--name KEY for one of: {keys}"
            )
        chosen = select_entries(entries, name, source)
    results = []
    for entry in chosen:
        try:
            results.append(
                check_entry(
                    entry, form=form, target=target, range=range, tol=tol, source=source,
                    prove=prove,
                )
            )
        except NoEnclosureError:
            raise
        except ActfitError as exc:
            if not all_tables:
                raise
            results.append(
                CheckResult(
                    key=entry.key,
                    status="skip",
                    fit=None,
                    tol=None,
                    tol_source="",
                    recorded_max_abs=None,
                    problems=(str(exc),),
                    warnings=tuple(entry.notes),
                    source_format=entry.source_format,
                )
            )
    return results


def learned_entries(path: str | os.PathLike[str]) -> list[TableEntry]:
    """The RationalActivation modules (every group) of a state_dict ``.pt`` as table entries.

    Raises:
        FileFormatError: unreadable file, or no RationalActivation state in it.
        ParameterError: a module that does not record the target it was initialised from.
    """
    # torch is heavy: imported only when a .pt is checked (actfit --help stays fast).
    from actfit.runtime.state import load_learned

    entries = []
    for name, fit in load_learned(path):
        r = fit.rational
        entries.append(
            TableEntry(
                key=name,
                name=name,
                source_format="learned",
                numerator=tuple(r.numerator.tolist()),
                denominator=tuple(r.denominator.tolist()),
                form=r.form,
                range=fit.range,
                fit=fit,
                notes=(
                    "learned coefficients: the default tolerance is 1.5 x their own error on "
                    "the range; give --tol for a fixed one",
                ),
            )
        )
    return entries


def with_sigma(results: Sequence[CheckResult], sigma: float) -> list[CheckResult]:
    """The results with their moment reports for X ~ N(0, sigma^2).

    Raises:
        ParameterError: ``sigma`` is not positive and finite.
    """
    out = []
    for r in results:
        if r.fit is not None:
            moments = fit_moments(r.fit.target, r.fit.rational, sigma)
            r = replace(r, fit=replace(r.fit, moments=moments))
        out.append(r)
    return out


def check_coefficients(
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    form: str,
    target: Target,
    range: tuple[float, float] = DEFAULT_RANGE,
    tol: float | None = None,
    prove: bool = False,
) -> CheckResult:
    """Check coefficients given as lists (``a0..am``; ``b1..bn``, or ``b0..bn`` for form C).

    Raises:
        FormError, RangeError, FileFormatError: see
            :func:`actfit.export.readers.external_fit`.
    """
    fit = external_fit(
        numerator,
        denominator,
        form=form,
        target=target,
        range=range,
        settings={"source_format": "list"},
    )
    return check_fit(fit, tol=tol, key="coefficients", source_format="list", prove=prove)


def count_statuses(results: Sequence[CheckResult]) -> dict[str, int]:
    """Return ``{"pass": n, "fail": n, "skip": n}`` for ``results``."""
    return {s: sum(r.status == s for r in results) for s in STATUSES}


def results_document(results: Sequence[CheckResult]) -> dict[str, Any]:
    """Return the ``actfit check --json`` document: every result and the counts."""
    return {"results": [r.to_dict() for r in results], **count_statuses(results)}

"""Reading coefficient tables, whatever wrote them: actfit, rational_activations, KAT, a list.

Coefficient tables circulate between projects with the denominator form and the range left
implicit. This module reads each format into :class:`TableEntry` records (coefficients, the form
and range *if the file says them*, notes on anything irregular) and turns an entry into a
:class:`~actfit.fit.Fit` with freshly computed error and pole reports (:func:`entry_fit`), which
is what ``actfit check`` verifies and ``actfit plot`` draws.

Formats (detected from the content, :func:`detect_format`):

``actfit``
    An actfit result document (schema ``actfit.fit``, ``.json`` or ``.npz``) or a multi-table
    file (schema ``actfit.tables``, see :mod:`actfit.export.table`).
``rational_activations``
    The config JSON of rational_activations (Molina et al., "Padé Activation Units", ICLR 2020;
    ``rational/rationals_config.json`` in ml-research/rational_activations)::

        {"Rational_version_A5/4": {"leaky_relu": {"init_w_numerator": [a0..a5],
                                                  "init_w_denominator": [b1..b4],
                                                  "lb": -3, "ub": 3}, ...}, ...}

    Versions map to forms: A -> ``safe`` (``1 + Σ|b_k x^k|``), B -> ``abs``, C -> ``abs_offset``
    (``0.1 + |b0 + b1 x + ... + bn x^n|``, the denominator array holds ``b0..bn``), D -> ``abs``
    (version D is B with multiplicative training noise; at inference it is B), N -> ``plain``.
``kat``
    The flat JSON of KAT's group-rational layers (Yang & Wang, "Kolmogorov-Arnold Transformer",
    2024; ``kat_rational/init.json`` in Adamdad/rational_kat_cu): ``{name: {init_w_numerator,
    init_w_denominator, lb, ub}}``. The file does not record the form; KAT's runtime evaluates
    ``1 + |b1 x + ... + bn x^n|`` (``abs``), while several of its tables were copied from
    rational_activations' version A (``safe``). The form must therefore be given
    (``--form``).

Third-party activation names are mapped onto the registry by
:func:`actfit.export.names.activation_target` (``leaky_relu`` is slope 0.01, PyTorch's default,
which rational_activations used); the names and labels are re-exported here for old imports.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actfit.errors import ActfitError, FileFormatError, FormError, ParameterError
from actfit.export.document import TABLES_SCHEMA, fits_from_document, from_document
from actfit.export.io import read_document
from actfit.export.names import activation_name, activation_target, describe, target_label
from actfit.fit import Fit, make_fit
from actfit.options import DEFAULT_RANGE, check_range
from actfit.rational import Rational, normalize_form

if TYPE_CHECKING:
    from actfit.targets import Target

__all__ = [
    "FORMATS",
    "VERSION_FORMS",
    "TableEntry",
    "activation_name",
    "activation_target",
    "describe",
    "detect_format",
    "entry_fit",
    "external_fit",
    "load_fits",
    "parse_coefficients",
    "read_tables",
    "select_entries",
    "target_label",
]

FORMATS = ("actfit", "rational_activations", "kat")
VERSION_FORMS: dict[str, str] = {
    "A": "safe",
    "B": "abs",
    "C": "abs_offset",
    "D": "abs",
    "N": "plain",
}
"""rational_activations' version letters and the actfit form each is evaluated in."""

_VERSION_KEY = re.compile(r"^Rational_version_([A-Za-z])(\d+)/(\d+)$")
_FIELDS = ("init_w_numerator", "init_w_denominator")
_KAT_FORM_NOTE = "KAT-style table: the file does not record its denominator form"


@dataclass(frozen=True)
class TableEntry:
    """One coefficient table read from a file, before it is evaluated.

    Attributes:
        key: where the table sits in the file (``Rational_version_A5/4:leaky_relu``,
            ``fits[3]``, an activation name); unique within the file.
        name: the activation name the file gives (or, for actfit tables, the target label).
        source_format: ``actfit``, ``rational_activations``, ``kat`` or ``list``.
        numerator: ``a0..am``.
        denominator: ``b1..bn`` (``b0..bn`` for ``abs_offset``).
        form: the canonical form, or None when the file does not say it.
        range: the range the file gives, or None.
        fit: the stored :class:`~actfit.fit.Fit` for actfit's own files (its recorded reports),
            else None.
        notes: remarks on irregularities found while reading (swapped ``lb``/``ub``, a version
            key that disagrees with the array lengths, ...).
        problem: why the entry cannot be evaluated as it stands (missing fields), or None.
    """

    key: str
    name: str
    source_format: str
    numerator: tuple[float, ...] = ()
    denominator: tuple[float, ...] = ()
    form: str | None = None
    range: tuple[float, float] | None = None
    fit: Fit | None = None
    notes: tuple[str, ...] = ()
    problem: str | None = None


# ---- coefficients -----------------------------------------------------------------------------
def parse_coefficients(text: str | Sequence[float], what: str = "coefficients") -> list[float]:
    """Return the numbers in ``"0.1,0.2,0.3"`` (also spaces or ``;`` between, ``[...]`` around).

    Raises:
        ParameterError: an item that is not a finite number, or no numbers at all.

    Examples:
        >>> parse_coefficients("[0.5, 1e-3 2]")
        [0.5, 0.001, 2.0]
    """
    if not isinstance(text, str):
        items: list[Any] = list(text)
    else:
        items = [t for t in re.split(r"[,;\s]+", text.strip().strip("[]()")) if t]
    out: list[float] = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{what}: {item!r} is not a number; give a comma-separated list, e.g. 0.03,0.5,1.6"
            ) from None
        if not math.isfinite(value):
            raise ParameterError(f"{what}: {item!r} is not finite; coefficients must be finite")
        out.append(value)
    if not out:
        raise ParameterError(f"{what}: no numbers given; e.g. 0.03,0.5,1.6")
    return out


def _numbers(value: Any) -> tuple[float, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    out = tuple(float(v) for v in value)
    return out if all(math.isfinite(v) for v in out) else None


def _third_party_entry(
    key: str, name: str, body: Any, source_format: str, form: str | None, notes: list[str]
) -> TableEntry:
    """Read one ``{init_w_numerator, init_w_denominator, lb, ub}`` record."""
    if not isinstance(body, Mapping):
        return TableEntry(
            key,
            name,
            source_format,
            form=form,
            notes=tuple(notes),
            problem="not an object with init_w_numerator/init_w_denominator",
        )
    num = _numbers(body.get("init_w_numerator"))
    den = body.get("init_w_denominator")
    den_t = () if den == [] else _numbers(den)
    problem = None
    if num is None:
        problem = "'init_w_numerator' is missing or not a list of finite numbers"
    elif den_t is None:
        problem = "'init_w_denominator' is missing or not a list of finite numbers"
    elif form == "abs_offset" and not den_t:
        problem = "version C needs at least b0 in 'init_w_denominator'"
    rng: tuple[float, float] | None = None
    lb, ub = body.get("lb"), body.get("ub")
    if lb is None and ub is None:
        a, b = DEFAULT_RANGE
        notes.append(f"no lb/ub in the file; the range defaults to [{a:g}, {b:g}]")
    else:
        try:
            lo, hi = float(lb), float(ub)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            lo = hi = math.nan
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
            problem = problem or f"lb/ub ({lb!r}, {ub!r}) is not a range; give --range"
        else:
            if lo > hi:
                notes.append(f"lb = {lb} > ub = {ub} in the file; read as [{hi:g}, {lo:g}]")
                lo, hi = hi, lo
            rng = (lo, hi)
    return TableEntry(
        key=key,
        name=name,
        source_format=source_format,
        numerator=num or (),
        denominator=den_t or (),
        form=form,
        range=rng,
        notes=tuple(notes),
        problem=problem,
    )


def _read_rational_activations(doc: Mapping[str, Any]) -> list[TableEntry]:
    entries: list[TableEntry] = []
    for group, body in doc.items():
        match = _VERSION_KEY.match(str(group))
        if match is None:
            if isinstance(body, Mapping) and "init_w_numerator" in body:
                # rationals_config.json has such a stray top-level record; no version, no form.
                entries.append(
                    _third_party_entry(
                        str(group),
                        str(group),
                        body,
                        "rational_activations",
                        None,
                        [
                            "top-level record outside any Rational_version_* group: "
                            "the file does not say its form"
                        ],
                    )
                )
            continue
        version, m, n = match.group(1).upper(), int(match.group(2)), int(match.group(3))
        if not isinstance(body, Mapping):
            entries.append(
                TableEntry(
                    str(group),
                    str(group),
                    "rational_activations",
                    problem="the group is not an object of activations",
                )
            )
            continue
        form = VERSION_FORMS.get(version)
        for name, record in body.items():
            notes: list[str] = []
            if form is None:
                notes.append(f"unknown version {version!r} (known: A, B, C, D, N)")
            elif version == "D":
                notes.append("version D is B with training noise; evaluated as B (abs)")
            entry = _third_party_entry(
                f"{group}:{name}", str(name), record, "rational_activations", form, notes
            )
            if entry.problem is None:
                want = n + 1 if form == "abs_offset" else n
                got_m, got_n = len(entry.numerator) - 1, len(entry.denominator)
                if (got_m, got_n) != (m, want):
                    entry = replace(
                        entry,
                        notes=(
                            *entry.notes,
                            f"the key says {m}/{n} but the arrays hold {got_m + 1} numerator "
                            f"and {got_n} denominator coefficients; evaluated as stored",
                        ),
                    )
            entries.append(entry)
    return entries


def _read_kat(doc: Mapping[str, Any]) -> list[TableEntry]:
    return [
        _third_party_entry(str(name), str(name), body, "kat", None, [_KAT_FORM_NOTE])
        for name, body in doc.items()
    ]


def _actfit_entry(fit: Fit, key: str) -> TableEntry:
    r = fit.rational
    return TableEntry(
        key=key,
        name=describe(fit),
        source_format="actfit",
        numerator=tuple(r.numerator.tolist()),
        denominator=tuple(r.denominator.tolist()),
        form=r.form,
        range=fit.range,
        fit=fit,
    )


def detect_format(doc: Any, source: str = "document") -> str:
    """Return the format of a parsed table file: ``actfit``, ``rational_activations`` or ``kat``.

    Raises:
        FileFormatError: none of the formats actfit reads.
    """
    if isinstance(doc, Mapping):
        if "schema" in doc:
            return "actfit"
        if any(_VERSION_KEY.match(str(k)) for k in doc):
            return "rational_activations"
        if doc and all(
            isinstance(v, Mapping) and any(f in v for f in _FIELDS) for v in doc.values()
        ):
            return "kat"
    raise FileFormatError(
        f"{source}: not a coefficient table actfit can read; it reads actfit results "
        "(.json/.npz), actfit tables, rational_activations' config "
        "({'Rational_version_A5/4': {name: {init_w_numerator, ...}}}) and KAT-style "
        "{name: {init_w_numerator, init_w_denominator, lb, ub}} files"
    )


def read_tables(path: str | os.PathLike[str], fmt: str = "auto") -> list[TableEntry]:
    """Return every coefficient table in a file, in file order.

    Args:
        path: a ``.json`` (any format) or ``.npz`` (actfit) file.
        fmt: ``auto`` (detect) or one of :data:`FORMATS` to insist on a format.

    Raises:
        FileFormatError: missing, unreadable or unknown file; a format other than ``fmt``.
    """
    source = str(path)
    doc = read_document(path)
    found = detect_format(doc, source)
    if fmt != "auto" and fmt != found:
        if fmt not in FORMATS:
            raise FileFormatError(f"unknown table format {fmt!r}; use auto or {', '.join(FORMATS)}")
        raise FileFormatError(f"{source}: this is a {found} file, not {fmt}")
    if found == "rational_activations":
        entries = _read_rational_activations(doc)
    elif found == "kat":
        entries = _read_kat(doc)
    elif doc.get("schema") == TABLES_SCHEMA:
        entries = [
            _actfit_entry(fit, f"fits[{i}]")
            for i, fit in enumerate(fits_from_document(doc, source))
        ]
    else:
        entries = [_actfit_entry(from_document(doc, source), Path(path).name)]
    if not entries:
        raise FileFormatError(f"{source}: the file holds no coefficient tables")
    return entries


def select_entries(
    entries: Sequence[TableEntry], name: str | None, source: str = "file"
) -> list[TableEntry]:
    """Return the entries ``name`` selects: an exact key, an index, or a name/label that is
    unique in the file; all entries when ``name`` is None.

    Raises:
        FileFormatError: nothing or more than one table matches (the message lists keys).
    """
    if name is None:
        return list(entries)
    wanted = name.strip()
    for e in entries:
        if e.key == wanted:
            return [e]
    if wanted.lstrip("#").isdigit():
        i = int(wanted.lstrip("#"))
        if 0 <= i < len(entries):
            return [entries[i]]
    hits = [e for e in entries if e.name == wanted or e.key.endswith(":" + wanted)]
    if not hits:
        # actfit's own tables: also the target's label or its activation name (leaky_relu_0.2)
        hits = [
            e for e in entries
            if e.fit is not None
            and wanted in (target_label(e.fit.target), activation_name(e.fit.target))
        ]
    if len(hits) == 1:
        return hits
    keys = ", ".join(e.key for e in (hits or entries)[:12])
    more = "" if len(hits or entries) <= 12 else ", ..."
    what = "several tables" if hits else "no table"
    raise FileFormatError(f"{source}: {what} named {name!r}; give one of the keys: {keys}{more}")


# ---- evaluation -------------------------------------------------------------------------------
def external_fit(
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    form: str,
    target: Target,
    range: tuple[float, float] = DEFAULT_RANGE,
    settings: Mapping[str, Any] | None = None,
) -> Fit:
    """Return a :class:`~actfit.fit.Fit` (method ``external``) for coefficients from elsewhere.

    The error and pole reports are computed fresh; a pole on the range is reported, not refused.

    Raises:
        FormError: unknown form.
        RangeError: a reversed, empty or non-finite range.
        FileFormatError: coefficients that do not make a rational (e.g. C without ``b0``).
    """
    form_name = normalize_form(form)
    a, b = check_range(*range)
    try:
        rational = Rational(numerator, denominator, form_name)
    except ValueError as exc:
        raise FileFormatError(f"the coefficients do not make a rational function: {exc}") from None
    return make_fit(
        target,
        rational,
        method="external",
        settings=dict(settings or {}),
        range=(a, b),
        allow_poles=True,
    )


def entry_fit(
    entry: TableEntry,
    *,
    form: str | None = None,
    target: Target | None = None,
    range: tuple[float, float] | None = None,
    source: str = "",
) -> Fit:
    """Return a fit of ``entry`` with fresh reports, in ``form`` if given, else the file's form.

    Args:
        entry: a table from :func:`read_tables`.
        form: the form the runtime will use (overrides the file's).
        target: the target (overrides the one the entry's name maps to).
        range: the range (overrides the file's; default ``DEFAULT_RANGE`` when the file
            gives none).
        source: the file name, recorded in the settings.

    Raises:
        FileFormatError: the entry could not be read (``entry.problem``).
        FormError: no form given and the file does not record one.
        UnknownTargetError: the entry's name maps to no known activation and no target is
            given.
    """
    if entry.problem is not None:
        raise FileFormatError(f"{entry.key}: {entry.problem}")
    if form is None and entry.form is None:
        raise FormError(
            f"{entry.key}: the file does not say which denominator form its table uses; "
            "give --form (plain, safe, abs or C; KAT's runtime uses abs)"
        )
    form_name = normalize_form(form) if form is not None else str(entry.form)
    if entry.fit is not None:
        tgt = target if target is not None else entry.fit.target
        settings = dict(entry.fit.settings)
        method = entry.fit.method
    else:
        tgt = target if target is not None else activation_target(entry.name)
        settings = {"source_format": entry.source_format, "key": entry.key}
        if source:
            settings["source"] = source
        if entry.notes:
            settings["notes"] = list(entry.notes)
        method = "external"
    if form is not None and entry.form is not None and form_name != entry.form:
        settings["file_form"] = entry.form
    rng = range if range is not None else (entry.range or DEFAULT_RANGE)
    fit = external_fit(
        entry.numerator,
        entry.denominator,
        form=form_name,
        target=tgt,
        range=rng,
        settings=settings,
    )
    if entry.fit is not None:
        # The certificate speaks of the stored table only: keep it when nothing was overridden.
        same = (fit.form, fit.range, fit.target) == (entry.form, entry.range, entry.fit.target)
        fit = replace(fit, method=method, certificate=entry.fit.certificate if same else None)
    return fit


def load_fits(
    path: str | os.PathLike[str],
    *,
    form: str | None = None,
    target: Target | None = None,
    range: tuple[float, float] | None = None,
    on_error: Callable[[TableEntry, ActfitError], None] | None = None,
) -> list[Fit]:
    """Return every table in a file as a fit (actfit's own fits as stored, unless overridden).

    Args:
        path: the file.
        form: evaluate every table in this form.
        target: the target of every table.
        range: the range of every table.
        on_error: when given, a table that cannot be evaluated is passed to it with the error
            and left out, instead of raising.

    Raises:
        FileFormatError, FormError, UnknownTargetError: see :func:`read_tables` and
            :func:`entry_fit`.
    """
    out = []
    for entry in read_tables(path):
        if entry.fit is not None and form is None and target is None and range is None:
            out.append(entry.fit)
            continue
        try:
            out.append(entry_fit(entry, form=form, target=target, range=range, source=str(path)))
        except ActfitError as exc:
            if on_error is None:
                raise
            on_error(entry, exc)
    return out

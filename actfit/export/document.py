"""The versioned documents actfit writes: one fit (``actfit.fit``) and many (``actfit.tables``).

``actfit.fit`` (see docs/architecture.md) is one JSON object with a schema name and version, the
target, method and settings, order, range, form, coefficients, the error and pole reports, the
certificate and the provenance. ``actfit.tables`` (version 1) holds many of them::

    {"schema": "actfit.tables", "schema_version": 1, "actfit_version": "...",
     "fits": [<actfit.fit result document>, ...]}

so every fit of a table keeps its form, range, settings and reports. This module converts
between :class:`~actfit.fit.Fit` and these documents (dicts) and writes them as strict JSON text
(:func:`dumps`); :mod:`actfit.export.io` and :mod:`actfit.export.table` put them in files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from actfit import __version__
from actfit.approx.metrics import ErrorReport
from actfit.approx.moments import MomentReport, Moments
from actfit.approx.poles import PoleReport
from actfit.approx.tails import TailReport
from actfit.errors import ActfitError, FileFormatError
from actfit.fit import Certificate, Fit, fit_moments, fit_tail
from actfit.rational import Rational, normalize_form
from actfit.targets import from_dict as target_from_dict

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "TABLES_SCHEMA",
    "TABLES_SCHEMA_VERSION",
    "dumps",
    "fits_from_document",
    "from_document",
    "tables_document",
    "to_document",
]

SCHEMA = "actfit.fit"
SCHEMA_VERSION = 1
TABLES_SCHEMA = "actfit.tables"
TABLES_SCHEMA_VERSION = 1
_REQUIRED = (
    "schema",
    "schema_version",
    "target",
    "method",
    "settings",
    "order",
    "range",
    "form",
    "numerator",
    "denominator",
    "errors",
    "poles",
)


def to_document(fit: Fit) -> dict[str, Any]:
    """Return the result document of ``fit``: a JSON-ready dict (strict JSON, no NaN)."""
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, **fit.to_dict()}


def _bad(source: str, what: str) -> FileFormatError:
    return FileFormatError(
        f"{source}: {what}; the file is corrupt or not an actfit result document "
        "(re-create it with actfit lsq/pade/minimax --out)"
    )


def _floats(value: Any, source: str, key: str) -> list[float]:
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise _bad(source, f"'{key}' must be a list of numbers")
    out = [float(v) for v in value]
    if not all(math.isfinite(v) for v in out):
        raise _bad(source, f"'{key}' holds a non-finite number")
    return out


def _number(v: Any) -> float | None:
    """A float of a report, written by :func:`jsonable` (``"inf"`` strings), or None."""
    return None if v is None else float(v)


def _moments(d: dict[str, Any]) -> Moments:
    return Moments(
        sigma=float(d["sigma"]),
        value_at_0=float(d["value_at_0"]),
        slope_at_0=float(d["slope_at_0"]),
        mean=_number(d["mean"]),
        second=_number(d["second"]),
        variance=_number(d["variance"]),
        gain=_number(d["gain"]),
        init_gain=_number(d["init_gain"]),
        note=str(d.get("note", "")),
    )


def _moment_report(d: Any) -> MomentReport:
    if not isinstance(d, dict):
        raise TypeError("'moments' must be an object")
    return MomentReport(
        sigma=float(d["sigma"]), rational=_moments(d["rational"]), target=_moments(d["target"])
    )


def _tail_and_moments(
    doc: dict[str, Any], rational: Rational, target: Any, rng: tuple[float, float],
    errors: ErrorReport, poles: PoleReport,
) -> tuple[TailReport, MomentReport | None]:
    """The recorded tail and moment reports; recomputed for documents written before actfit
    recorded them (they depend on the coefficients and target only)."""
    if doc.get("tail") is not None:
        tail = TailReport.from_dict(doc["tail"])
    else:
        tail = fit_tail(target, rational, rng, errors, poles)
    if "moments" in doc:
        moments = None if doc["moments"] is None else _moment_report(doc["moments"])
    else:
        moments = fit_moments(target, rational)
    return tail, moments


def from_document(doc: Any, source: str = "document") -> Fit:
    """Return the :class:`Fit` stored in a result document, after validating it.

    Args:
        doc: the parsed JSON object.
        source: a name for messages (the file path).

    Raises:
        FileFormatError: a missing key, a wrong type, or an inconsistent document (order that
            does not match the coefficients, reversed range, poles that disagree with the
            coefficients, unknown target or form).
    """
    if not isinstance(doc, dict):
        raise _bad(source, "the top level is not a JSON object")
    if doc.get("schema") != SCHEMA:
        raise _bad(source, f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        raise FileFormatError(
            f"{source}: schema version {version!r} is not supported by this actfit "
            f"(it reads versions 1..{SCHEMA_VERSION}); upgrade actfit"
        )
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise _bad(source, f"missing key(s) {', '.join(missing)}")
    num = _floats(doc["numerator"], source, "numerator")
    den = _floats(doc["denominator"], source, "denominator")
    if not num:
        raise _bad(source, "'numerator' is empty")
    lo, hi = _floats(doc["range"], source, "range") if len(doc["range"]) == 2 else (0.0, -1.0)
    if not lo < hi:
        raise _bad(source, f"'range' {doc['range']} is not an interval [a, b] with a < b")
    try:
        form = normalize_form(doc["form"])
        target = target_from_dict(doc["target"])
    except ActfitError as exc:
        raise _bad(source, str(exc)) from None
    if not isinstance(doc["settings"], dict) or not isinstance(doc["method"], str):
        raise _bad(source, "'method' must be a string and 'settings' an object")
    rational = Rational(num, den, form)
    if doc["order"] != list(rational.degree):
        raise _bad(
            source,
            f"order {doc['order']} does not match {len(num)} numerator and {len(den)} "
            f"denominator coefficients of form {form}",
        )
    try:
        errors = ErrorReport.from_dict(doc["errors"])
        poles = PoleReport.from_dict(doc["poles"])
        cert = doc.get("certificate")
        certificate = None if cert is None else Certificate.from_dict(cert)
        tail, moments = _tail_and_moments(doc, rational, target, (lo, hi), errors, poles)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise _bad(source, f"malformed report ({type(exc).__name__}: {exc})") from None
    if poles.form != form:
        raise _bad(source, f"the pole report is for form {poles.form!r} but the table is {form!r}")
    actual = rational.real_poles()
    if len(actual) != len(poles.poles_on_real_line) or not np.allclose(
        actual, poles.poles_on_real_line, rtol=1e-9, atol=1e-12
    ):
        raise _bad(
            source,
            f"the recorded poles {list(poles.poles_on_real_line)} disagree with the "
            f"coefficients (which have real poles at {actual.tolist()})",
        )
    provenance = doc.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise _bad(source, "'provenance' must be an object")
    return Fit(
        rational=rational,
        target=target,
        method=doc["method"],
        settings=doc["settings"],
        range=(lo, hi),
        errors=errors,
        poles=poles,
        certificate=certificate,
        provenance=provenance,
        tail=tail,
        moments=moments,
    )


def tables_document(fits: Sequence[Fit]) -> dict[str, Any]:
    """Return the ``actfit.tables`` document holding ``fits`` (strict JSON-ready)."""
    return {
        "schema": TABLES_SCHEMA,
        "schema_version": TABLES_SCHEMA_VERSION,
        "actfit_version": __version__,
        "fits": [to_document(f) for f in fits],
    }


def fits_from_document(doc: Any, source: str = "document") -> list[Fit]:
    """Return the fits of an ``actfit.tables`` document (or the one fit of an ``actfit.fit``).

    Raises:
        FileFormatError: not such a document, an unsupported version, or a bad fit inside
            (the message names it, e.g. ``fits[2]``).
    """
    if isinstance(doc, dict) and doc.get("schema") == SCHEMA:
        return [from_document(doc, source)]
    if not isinstance(doc, dict) or doc.get("schema") != TABLES_SCHEMA:
        schema = doc.get("schema") if isinstance(doc, dict) else None
        raise FileFormatError(
            f"{source}: schema is {schema!r}, expected {TABLES_SCHEMA!r}; the file is not an "
            "actfit table file (write one with actfit table --out)"
        )
    version = doc.get("schema_version")
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not (1 <= version <= TABLES_SCHEMA_VERSION)
    ):
        raise FileFormatError(
            f"{source}: {TABLES_SCHEMA} version {version!r} is not supported by this actfit "
            f"(it reads versions 1..{TABLES_SCHEMA_VERSION}); upgrade actfit"
        )
    fits = doc.get("fits")
    if not isinstance(fits, list):
        raise FileFormatError(f"{source}: 'fits' must be a list of result documents")
    return [from_document(d, f"{source}: fits[{i}]") for i, d in enumerate(fits)]


def dumps(doc: Any, *, indent: int | None = 2) -> str:
    """Return ``doc`` as strict JSON text (no NaN or Infinity) with a trailing newline.

    Every JSON text actfit writes (files and ``--json`` output) goes through here, so that a
    non-finite float is a bug caught at once (ValueError), never an invalid file.

    Args:
        doc: a JSON-ready object (see :func:`actfit.fit.jsonable`).
        indent: spaces per level; None for one compact line.

    Raises:
        ValueError: ``doc`` holds a NaN or an infinity.

    Examples:
        >>> dumps({"a": [1, 2.5]}, indent=None)
        '{"a": [1, 2.5]}\\n'
    """
    return json.dumps(doc, indent=indent, allow_nan=False) + "\n"

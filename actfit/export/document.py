"""Conversion between :class:`~actfit.fit.Fit` and the versioned result document (a dict)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from actfit.approx.metrics import ErrorReport
from actfit.approx.poles import PoleReport
from actfit.errors import ActfitError, FileFormatError
from actfit.fit import Certificate, Fit, jsonable
from actfit.rational import Rational, normalize_form

__all__ = ["SCHEMA", "SCHEMA_VERSION", "dumps", "from_document", "to_document"]

SCHEMA = "actfit.fit"
SCHEMA_VERSION = 1
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
    r = fit.rational
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "actfit_version": fit.provenance.get("actfit_version"),
        "target": fit.target.to_dict(),
        "method": fit.method,
        "settings": fit.settings,
        "order": list(r.degree),
        "range": list(fit.range),
        "form": r.form,
        "numerator": r.numerator.tolist(),
        "denominator": r.denominator.tolist(),
        "errors": fit.errors.to_dict(),
        "poles": fit.poles.to_dict(),
        "certificate": None if fit.certificate is None else fit.certificate.to_dict(),
        "provenance": fit.provenance,
    }
    return jsonable(doc)


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
    from actfit.targets import from_dict as target_from_dict

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
    except (KeyError, TypeError, ValueError) as exc:
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
    )


def dumps(doc: dict[str, Any]) -> str:
    """Return the document as strict JSON text (indented, trailing newline)."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"

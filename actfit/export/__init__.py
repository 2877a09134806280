"""Result documents: save and load a :class:`~actfit.fit.Fit` as ``.json`` or ``.npz``.

The document (see :mod:`actfit.export.document` and docs/architecture.md) is one JSON object
with a schema name and version, the target, method and settings, order, range, form,
coefficients, the error and pole reports, the certificate and the provenance. ``.npz`` holds the
coefficients as float64 arrays and the rest as one JSON string. ``load(save(fit)) == fit``
exactly: JSON floats are written with ``repr``, which round-trips every float64.
:func:`load` also picks one fit out of a table file, :func:`load_all` returns every fit of any
file actfit reads.

Writes are atomic (a temporary file in the target folder, then a rename), so an interrupted or
failed write never leaves a half-written file; :func:`write_all` writes several outputs all or
none.
"""

from __future__ import annotations

from actfit.export.document import SCHEMA, SCHEMA_VERSION, dumps, from_document, to_document
from actfit.export.io import check_output_path, save, write_all
from actfit.export.loading import load, load_all

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "check_output_path",
    "dumps",
    "from_document",
    "load",
    "load_all",
    "save",
    "to_document",
    "write_all",
]

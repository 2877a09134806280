"""Reading fits back from any file actfit writes: :func:`load` (one fit) and :func:`load_all`.

A result file (``.json``/``.npz``, schema ``actfit.fit``) holds one fit; a table file (schema
``actfit.tables``) holds several, and so may the third-party formats actfit writes and reads
(rational_activations' config, see :mod:`actfit.export.readers`). :func:`load` returns one fit
(the only one, or the one ``name`` selects, the way ``actfit check`` selects a table);
:func:`load_all` returns all of them.
"""

from __future__ import annotations

import os

from actfit.errors import FileFormatError
from actfit.export.readers import entry_fit, load_fits, read_tables, select_entries
from actfit.fit import Fit

__all__ = ["load", "load_all"]


def load_all(path: str | os.PathLike[str]) -> list[Fit]:
    """Return every fit in a file of any kind actfit reads, in file order.

    actfit's own fits come back as stored (equal to the fits saved); tables from other formats
    are evaluated in the form the file records, with fresh error and pole reports.

    Raises:
        FileFormatError: a missing, empty, corrupt or unknown file.
        FormError: a file (KAT-style) that does not record its denominator form.
        UnknownTargetError: a third-party table whose activation name actfit does not know.

    Examples:
        >>> # fits = load_all("pau_init.json"); [f.order for f in fits]
    """
    return load_fits(path)


def load(path: str | os.PathLike[str], name: str | int | None = None) -> Fit:
    """Return one fit from a result or table file.

    Args:
        path: an actfit result file (``.json``/``.npz``), an actfit tables file, or another
            table file actfit reads.
        name: which fit of a file with several: its key (``fits[2]``,
            ``Rational_version_A5/4:leaky_relu``), its index, or a name unique in the file
            (``leaky_relu(slope=0.2)``, ``leaky_relu_0.2``, ``gelu``). Not needed when the file
            holds one fit.

    Raises:
        FileFormatError: a missing, empty or corrupt file; several fits and no ``name``, or a
            ``name`` that selects none or several (the message lists the keys).
        FormError, UnknownTargetError: see :func:`load_all`.

    Examples:
        >>> # fit = load("gelu.json"); fit = load("pau_init.json", name="leaky_relu_0.2")
    """
    source = str(path)
    entries = read_tables(path)
    if name is None:
        if len(entries) > 1:
            keys = ", ".join(e.key for e in entries[:8]) + (", ..." if len(entries) > 8 else "")
            raise FileFormatError(
                f"{source} holds {len(entries)} fits; pass name= to pick one (a key, an index "
                f"or a unique name; keys: {keys}), or use load_all for every fit"
            )
        chosen = entries[0]
    else:
        chosen = select_entries(entries, str(name), source)[0]
    if chosen.fit is not None:
        return chosen.fit
    return entry_fit(chosen, source=source)

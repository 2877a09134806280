"""Reading and writing result documents as ``.json`` and ``.npz`` files, atomically."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from actfit.errors import FileFormatError, OutputPathError
from actfit.export.document import dumps, from_document, to_document
from actfit.fit import Fit

__all__ = ["SUFFIXES", "atomic_write", "check_output_path", "load", "save"]

SUFFIXES = (".json", ".npz")


def check_output_path(path: str | os.PathLike[str], suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """Return ``path`` as a Path after checking it can be written (before any work is done).

    Raises:
        OutputPathError: unknown suffix, missing folder, or the path is a folder.
    """
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise OutputPathError(
            f"cannot write {str(p)!r}: unknown suffix {p.suffix or '(none)'!r}; "
            f"use one of {', '.join(suffixes)}"
        )
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(
            f"cannot write {str(p)!r}: folder {str(folder)!r} does not exist; create it first"
        )
    if p.is_dir():
        raise OutputPathError(f"cannot write {str(p)!r}: it is a folder; give a file name")
    return p


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        # mkstemp creates the file 0600; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(fit: Fit, path: str | os.PathLike[str]) -> Path:
    """Write ``fit`` to ``path`` (``.json`` or ``.npz`` by suffix), atomically; return the path.

    Raises:
        OutputPathError: the path cannot be written (see :func:`check_output_path`).
    """
    p = check_output_path(path)
    doc = to_document(fit)
    if p.suffix.lower() == ".json":
        atomic_write(p, dumps(doc).encode())
    else:
        buf = io.BytesIO()
        np.savez(
            buf,
            numerator=fit.rational.numerator,
            denominator=fit.rational.denominator,
            document=np.array(dumps(doc, indent=None)),
        )
        atomic_write(p, buf.getvalue())
    return p


def read_document(path: str | os.PathLike[str]) -> dict:
    """Return the raw result document stored in a ``.json`` or ``.npz`` file.

    Raises:
        FileFormatError: missing file, unknown suffix, or unreadable content.
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"cannot read {str(p)!r}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileFormatError(f"{p}: not valid JSON ({exc}); the file is corrupt") from None
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                doc = json.loads(str(z["document"]))
                num, den = z["numerator"], z["denominator"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise FileFormatError(
                f"{p}: not a readable actfit .npz ({type(exc).__name__}); the file is corrupt"
            ) from None
        if isinstance(doc, dict) and (
            num.tolist() != doc.get("numerator") or den.tolist() != doc.get("denominator")
        ):
            raise FileFormatError(
                f"{p}: the coefficient arrays disagree with the embedded document; "
                "the file is corrupt"
            )
        return doc
    raise FileFormatError(f"cannot read {str(p)!r}: unknown suffix; use .json or .npz")


def load(path: str | os.PathLike[str]) -> Fit:
    """Return the :class:`Fit` stored in an actfit ``.json`` or ``.npz`` file.

    Raises:
        FileFormatError: the file is missing, corrupt or inconsistent.
    """
    return from_document(read_document(path), source=str(path))

"""Reading and writing result documents as ``.json`` and ``.npz`` files, atomically.

Outputs are checked before any work (:func:`check_output_path`: the folder exists, is a folder
and takes a new file) and written all or none (:func:`write_all`): every file goes to a
temporary file in its own folder first, and the temporaries are renamed only once all of them
were written, so a failure never leaves a half-written file or a partial set of outputs.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from actfit.errors import FileFormatError, OutputPathError
from actfit.export.document import dumps, from_document, to_document
from actfit.fit import Fit

__all__ = [
    "SUFFIXES",
    "Writer",
    "atomic_write",
    "check_output_path",
    "fit_bytes",
    "load",
    "read_document",
    "save",
    "write_all",
]

SUFFIXES = (".json", ".npz")

Writer = Callable[[Path], None]
"""Writes one output to the (temporary) path it is given; see :func:`write_all`."""


def _folder_problem(p: Path) -> str | None:
    """Why no file can be created at ``p`` (its folder), or None when one can."""
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.exists():
        # Name the first thing on the way that is in the way: a file, or the missing folder.
        for up in [folder, *folder.parents]:
            if up.exists():
                if not up.is_dir():
                    return f"{str(up)!r} is a file, not a folder; give a path inside a folder"
                break
        return f"folder {str(folder)!r} does not exist; create it first"
    if not folder.is_dir():
        return f"{str(folder)!r} is a file, not a folder; give a path inside a folder"
    if p.is_dir():
        return "it is a folder; give a file name"
    try:
        # Permissions alone do not tell (read-only mounts, /proc, ACLs): try it.
        fd, probe = tempfile.mkstemp(prefix=".actfit-probe-", dir=folder)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return f"folder {str(folder)!r} does not take new files ({why}); choose another folder"
    os.close(fd)
    os.unlink(probe)
    return None


def check_output_path(path: str | os.PathLike[str], suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """Return ``path`` as a Path after checking it can be written (before any work is done).

    The check creates and removes a temporary file in the folder, since permissions alone do
    not tell whether a file can be created there.

    Raises:
        OutputPathError: unknown suffix, a missing folder or a file in its place, the path is a
            folder, or the folder does not take new files.

    Examples:
        >>> check_output_path("fit.json").name
        'fit.json'
    """
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise OutputPathError(
            f"cannot write {str(p)!r}: unknown suffix {p.suffix or '(none)'!r}; "
            f"use one of {', '.join(suffixes)}"
        )
    problem = _folder_problem(p)
    if problem is not None:
        raise OutputPathError(f"cannot write {str(p)!r}: {problem}")
    return p


def _temporary(path: Path) -> Path:
    # Same folder (so the rename is atomic) and same suffix (writers that pick the format from
    # the suffix, such as matplotlib's savefig, see the real one).
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent or "."
    )
    os.close(fd)
    return Path(tmp)


def _as_plain_file(tmp: Path) -> None:
    # mkstemp creates the file 0600; give it the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def write_all(outputs: Sequence[tuple[str | os.PathLike[str], Writer]]) -> list[Path]:
    """Write every output or none: each to a temporary file in its folder, then rename them all.

    Args:
        outputs: ``(path, writer)`` pairs; ``writer(tmp)`` writes the output to ``tmp``.

    Returns:
        The paths written.

    Raises:
        OutputPathError: a path cannot be written, or two outputs name the same file.
        Exception: whatever a writer raises; no output is left behind then.

    Examples:
        >>> # write_all([("a.json", lambda p: p.write_text("{}"))])
    """
    paths = [Path(p) for p, _ in outputs]
    seen: set[Path] = set()
    for p in paths:
        if p.resolve() in seen:
            raise OutputPathError(f"{str(p)!r} is named twice as an output; give different files")
        seen.add(p.resolve())
    temps: list[Path] = []
    current = paths[0] if paths else Path(".")
    try:
        for p, (_, writer) in zip(paths, outputs, strict=True):
            current = p
            tmp = _temporary(p)
            temps.append(tmp)
            writer(tmp)
            _as_plain_file(tmp)
        for tmp, p in zip(temps, paths, strict=True):
            current = p
            os.replace(tmp, p)
    except OSError as exc:
        # Name the output, not its temporary file.
        raise OutputPathError(
            f"cannot write {str(current)!r}: {exc.strerror or exc}; nothing was written"
        ) from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return paths


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    write_all([(path, write)])


def fit_bytes(fit: Fit, suffix: str) -> bytes:
    """Return the file content of ``fit`` as ``.json`` or ``.npz`` (see :func:`save`)."""
    doc = to_document(fit)
    if suffix.lower() == ".json":
        return dumps(doc).encode()
    buf = io.BytesIO()
    np.savez(
        buf,
        numerator=fit.rational.numerator,
        denominator=fit.rational.denominator,
        document=np.array(dumps(doc, indent=None)),
    )
    return buf.getvalue()


def save(fit: Fit, path: str | os.PathLike[str]) -> Path:
    """Write ``fit`` to ``path`` (``.json`` or ``.npz`` by suffix), atomically; return the path.

    Raises:
        OutputPathError: the path cannot be written (see :func:`check_output_path`).
    """
    p = check_output_path(path)
    atomic_write(p, fit_bytes(fit, p.suffix))
    return p


def read_document(path: str | os.PathLike[str]) -> dict:
    """Return the raw result document stored in a ``.json`` or ``.npz`` file.

    Raises:
        FileFormatError: missing or empty file, a folder, unknown suffix, or unreadable
            content.
    """
    p = Path(path)
    if p.is_dir():
        raise FileFormatError(f"cannot read {str(p)!r}: it is a folder, not a file; give a file")
    if not p.is_file():
        raise FileFormatError(f"cannot read {str(p)!r}: no such file")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileFormatError(f"cannot read {str(p)!r}: unknown suffix; use .json or .npz")
    if p.stat().st_size == 0:
        raise FileFormatError(
            f"cannot read {str(p)!r}: the file is empty (0 bytes); it was not written completely "
            "or is not an actfit file"
        )
    if suffix == ".json":
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileFormatError(f"{p}: not valid JSON ({exc}); the file is corrupt") from None
    try:
        with np.load(p, allow_pickle=False) as z:
            doc = json.loads(str(z["document"]))
            num, den = z["numerator"], z["denominator"]
    except (
        OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError
    ) as exc:
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


def load(path: str | os.PathLike[str]) -> Fit:
    """Return the :class:`Fit` stored in an actfit ``.json`` or ``.npz`` result file.

    :func:`actfit.export.load` also reads table files; this one reads result files only.

    Raises:
        FileFormatError: the file is missing, corrupt or inconsistent.
    """
    return from_document(read_document(path), source=str(path))

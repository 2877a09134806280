"""Files with many fits: actfit's multi-table format and the writers for other consumers.

``actfit.tables`` (the document: :func:`actfit.export.document.tables_document`) holds one
complete result document per fit, so every fit keeps its form, range, settings and reports.
:func:`save_tables` writes it and :func:`load_tables` gives back every :class:`~actfit.fit.Fit`,
equal to the ones saved.

Writers for other consumers (:func:`write_table`):

* ``rational_activations`` — their config JSON (``{"Rational_version_A5/4": {name:
  {init_w_numerator, init_w_denominator, ub, lb}}}``), loadable by rational_activations and by
  ``actfit check``. Forms map to versions ``plain`` -> N, ``safe`` -> A, ``abs`` -> B,
  ``abs_offset`` -> C.
* ``kat`` — KAT's ``init.json`` (``{name: {init_w_numerator, init_w_denominator, ub, lb}}``,
  see :mod:`actfit.export.kat`), from safe-form fits only: KAT's kernels evaluate that form.
* ``md`` / ``tex`` — a Markdown or LaTeX (booktabs) table of coefficients and errors, one row
  per fit, for papers and READMEs. Coefficients are rounded to ``digits`` significant digits;
  the JSON file holds the exact values.

:func:`plan_table_outputs` derives and checks every file of one table (the main ``.json`` and
the extra formats written next to it) before any fitting starts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actfit.errors import FileFormatError, OutputPathError
from actfit.export.document import (
    TABLES_SCHEMA,
    TABLES_SCHEMA_VERSION,
    dumps,
    fits_from_document,
    tables_document,
)
from actfit.export.io import atomic_write, check_output_path, read_document
from actfit.export.kat import to_kat
from actfit.export.names import activation_name, describe

if TYPE_CHECKING:
    from actfit.fit import Fit

__all__ = [
    "EXTRA_FORMATS",
    "TABLES_SCHEMA",
    "TABLES_SCHEMA_VERSION",
    "TABLE_FORMATS",
    "fits_from_document",
    "load_tables",
    "plan_table_outputs",
    "save_tables",
    "table_bytes",
    "table_path",
    "tables_document",
    "to_kat",
    "to_latex",
    "to_markdown",
    "to_rational_activations",
    "write_table",
]

TABLE_FORMATS = ("actfit", "rational_activations", "kat", "md", "tex")
EXTRA_FORMATS = TABLE_FORMATS[1:]
"""The formats written next to the main ``actfit`` table file."""
_VERSIONS = {"plain": "N", "safe": "A", "abs": "B", "abs_offset": "C"}
_SUFFIX = {
    "actfit": ".json", "rational_activations": ".json", "kat": ".json", "md": ".md", "tex": ".tex",
}


# ---- actfit.tables ---------------------------------------------------------------------------
def save_tables(fits: Sequence[Fit], path: str | os.PathLike[str]) -> Path:
    """Write ``fits`` as one ``actfit.tables`` JSON file, atomically; return the path.

    Raises:
        OutputPathError: the path cannot be written or does not end in ``.json``.
    """
    return write_table(fits, path, "actfit")


def load_tables(path: str | os.PathLike[str]) -> list[Fit]:
    """Return every fit in an ``actfit.tables`` file (a single-fit result file gives one).

    Raises:
        FileFormatError: missing, corrupt or inconsistent file.

    Examples:
        >>> # fits = load_tables("pau_init.json")
    """
    return fits_from_document(read_document(path), str(path))


# ---- other consumers ---------------------------------------------------------------------------
def to_rational_activations(fits: Sequence[Fit]) -> dict[str, Any]:
    """Return rational_activations' config structure for ``fits``.

    Keys are ``Rational_version_<V><m>/<n>`` with ``V`` from the form; activation names come
    from :func:`actfit.export.names.activation_name` (``leaky_relu`` is slope 0.01, other
    slopes ``leaky_relu_0.2``); a name used twice in one group gets ``#2``, ``#3``.
    """
    out: dict[str, dict[str, Any]] = {}
    for fit in fits:
        m, n = fit.order
        group = out.setdefault(f"Rational_version_{_VERSIONS[fit.form]}{m}/{n}", {})
        name = base = activation_name(fit.target)
        k = 2
        while name in group:
            name, k = f"{base}#{k}", k + 1
        group[name] = {
            "init_w_numerator": fit.rational.numerator.tolist(),
            "init_w_denominator": fit.rational.denominator.tolist(),
            "ub": fit.range[1],
            "lb": fit.range[0],
        }
    return out


def _g(v: float, digits: int) -> str:
    return f"{v:.{digits}g}"


def _rows(fits: Sequence[Fit], digits: int) -> tuple[list[str], list[list[str]]]:
    # With a version-C table among them, denominator columns are b0..bn and the other forms
    # show their implied constant as "(1)", so that columns line up.
    offset = any(f.form == "abs_offset" for f in fits)
    nums = [[_g(v, digits) for v in f.rational.numerator] for f in fits]
    dens = []
    for f in fits:
        cells = [_g(v, digits) for v in f.rational.denominator]
        dens.append(["(1)", *cells] if offset and f.form != "abs_offset" else cells)
    mmax = max(len(c) for c in nums)
    dmax = max(len(c) for c in dens)
    first = 0 if offset else 1
    header = ["table", "range", "max abs err", "rms err"]
    header += [f"a{k}" for k in range(mmax)] + [f"b{k + first}" for k in range(dmax)]
    rows = []
    for f, num, den in zip(fits, nums, dens, strict=True):
        a, b = f.range
        rows.append(
            [describe(f), f"[{a:g}, {b:g}]", f"{f.errors.max_abs:.3e}", f"{f.errors.rms:.3e}"]
            + num
            + [""] * (mmax - len(num))
            + den
            + [""] * (dmax - len(den))
        )
    return header, rows


def to_markdown(fits: Sequence[Fit], digits: int = 10) -> str:
    """Return a Markdown table of ``fits``: label, range, errors, coefficients a_k and b_k.

    For the forms with an implied constant the denominator columns are ``b1..bn``.
    """
    if not fits:
        raise FileFormatError("no fits to tabulate")
    header, rows = _rows(fits, digits)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    note = (
        "\nDenominator forms: plain Q = 1 + Σ b_k x^k; safe Q = 1 + Σ |b_k| |x|^k; "
        "abs Q = 1 + |Σ b_k x^k|; abs_offset Q = 0.1 + |Σ_{k>=0} b_k x^k|. "
        f"Coefficients rounded to {digits} significant digits.\n"
    )
    return "\n".join(lines) + "\n" + note


_TEX = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "^": r"\^{}",
    "~": r"\~{}",
}


def _tex_escape(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text)


def _tex_num(text: str) -> str:
    """``-1.5e-03`` -> ``$-1.5\\times 10^{-3}$``; other numbers in math mode; blanks stay."""
    if not text:
        return ""
    if text == "(1)":
        return "$(1)$"
    mant, e, exp = text.partition("e")
    if not e:
        return f"${text}$"
    return f"${mant}\\times 10^{{{int(exp)}}}$"


def to_latex(fits: Sequence[Fit], digits: int = 10) -> str:
    """Return a LaTeX ``tabular`` (booktabs) of ``fits``: label, range, errors, coefficients."""
    if not fits:
        raise FileFormatError("no fits to tabulate")
    header, rows = _rows(fits, digits)
    head = [_tex_escape(h) if i < 4 else f"${h[0]}_{{{h[1:]}}}$" for i, h in enumerate(header)]
    lines = [
        "% generated by actfit; needs \\usepackage{booktabs}",
        "\\begin{tabular}{ll" + "r" * (len(header) - 2) + "}",
        "\\toprule",
        " & ".join(head) + " \\\\",
        "\\midrule",
    ]
    for r in rows:
        cells = [_tex_escape(t) if i < 2 else _tex_num(t) for i, t in enumerate(r)]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)


def _unknown_format(fmt: str, known: Sequence[str]) -> OutputPathError:
    return OutputPathError(f"unknown table format {fmt!r}; use {', '.join(known)}")


def _check_table_path(path: str | os.PathLike[str], fmt: str) -> Path:
    if fmt not in TABLE_FORMATS:
        raise _unknown_format(fmt, TABLE_FORMATS)
    return check_output_path(path, (_SUFFIX[fmt],))


def table_path(out: str | os.PathLike[str], fmt: str) -> Path:
    """Return the file ``write_table`` uses for ``fmt`` next to the main output ``out``.

    ``pau.json`` gives ``pau.json`` (actfit), ``pau.rational_activations.json``,
    ``pau.kat.json``, ``pau.md`` and ``pau.tex``.

    Raises:
        OutputPathError: an unknown format.

    Examples:
        >>> table_path("pau.json", "md").name
        'pau.md'
    """
    p = Path(out)
    if fmt == "actfit":
        return p
    if fmt in ("rational_activations", "kat"):
        return p.with_name(f"{p.stem}.{fmt}.json")
    if fmt not in TABLE_FORMATS:
        raise _unknown_format(fmt, TABLE_FORMATS)
    return p.with_suffix(_SUFFIX[fmt])


def plan_table_outputs(
    out: str | os.PathLike[str] | None, formats: Sequence[str] = ()
) -> list[tuple[str, Path]]:
    """Return ``(format, path)`` for every file of one table, each checked writable.

    The main file ``out`` (``actfit.tables``, ``.json``) comes first, then one file per extra
    format, named by :func:`table_path`; a format given twice is written once. Call it before
    fitting, so that a bad path fails at once and nothing is written.

    Args:
        out: the main table file, or None when no file is written.
        formats: extra formats to write next to ``out`` (see :data:`EXTRA_FORMATS`).

    Raises:
        OutputPathError: an unknown format; extra formats without ``out``; a path that cannot
            be written (missing folder, a folder in the way, a suffix other than ``.json``).

    Examples:
        >>> [(f, str(p)) for f, p in plan_table_outputs("pau.json", ["md"])]
        [('actfit', 'pau.json'), ('md', 'pau.md')]
    """
    extra = list(dict.fromkeys(formats))
    for fmt in extra:
        if fmt not in EXTRA_FORMATS:
            raise _unknown_format(fmt, EXTRA_FORMATS)
    if out is None:
        if extra:
            raise OutputPathError(
                f"the {', '.join(extra)} table is written next to the main table file; "
                "give the main file's path too (a .json name)"
            )
        return []
    check_output_path(out, (".json",))
    # The derived names differ from each other and from ``out`` by construction (distinct
    # suffixes, or the ``.rational_activations.json`` tail), so no two formats share a file.
    plan = [(fmt, table_path(out, fmt)) for fmt in ["actfit", *extra]]
    for fmt, p in plan:
        check_output_path(p, (_SUFFIX[fmt],))
    return plan


def write_table(
    fits: Sequence[Fit], path: str | os.PathLike[str], fmt: str = "actfit", *, digits: int = 10
) -> Path:
    """Write ``fits`` to ``path`` in ``fmt`` (see :data:`TABLE_FORMATS`), atomically.

    Raises:
        OutputPathError: unknown format, a suffix that does not match it, a missing folder.
        FileFormatError: no fits.
    """
    p = _check_table_path(path, fmt)
    atomic_write(p, table_bytes(fits, fmt, digits=digits))
    return p


def table_bytes(fits: Sequence[Fit], fmt: str = "actfit", *, digits: int = 10) -> bytes:
    """Return the file content of ``fits`` in ``fmt`` (see :data:`TABLE_FORMATS`).

    Raises:
        OutputPathError: unknown format.
        FileFormatError: no fits.
        FormError: ``kat`` and a fit that is not in form safe.
    """
    if fmt not in TABLE_FORMATS:
        raise _unknown_format(fmt, TABLE_FORMATS)
    if not fits:
        raise FileFormatError("no fits to write")
    if fmt == "actfit":
        text = dumps(tables_document(fits))
    elif fmt == "rational_activations":
        text = dumps(to_rational_activations(fits), indent=1)
    elif fmt == "kat":
        text = dumps(to_kat(fits), indent=4)
    elif fmt == "md":
        text = to_markdown(fits, digits)
    else:
        text = to_latex(fits, digits)
    return text.encode()

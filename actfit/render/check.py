"""Renderings of ``actfit check``: per-table verdicts, the summary, the full report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from actfit.check import count_statuses
from actfit.export.names import target_label

if TYPE_CHECKING:
    from actfit.check import CheckResult

from actfit.render.fit import cli_warning, fit_panel

__all__ = ["check_records", "check_report", "check_summary", "check_verdict"]

_STATUS_STYLE = {"pass": "green", "fail": "bold red", "skip": "yellow"}
_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "skip": "bold yellow"}


def check_summary(results: Sequence[CheckResult]) -> Table:
    """Return the one-row-per-table summary of ``actfit check --all``."""
    table = Table(title="actfit check", title_justify="left")
    table.add_column("table", overflow="fold")
    table.add_column("target", overflow="fold")
    table.add_column("type", no_wrap=True)
    table.add_column("range", no_wrap=True)
    table.add_column("max err", justify="right", no_wrap=True)
    table.add_column("tol", justify="right", no_wrap=True)
    table.add_column("poles: range | line", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    for r in results:
        f = r.fit
        verdict = Text(r.status, style=_STATUS_STYLE[r.status])
        if f is None or r.tol is None:
            table.add_row(Text(r.key), "", "", "", "", "", "", verdict)
            continue
        on_range = ", ".join(f"{p:.4g}" for p in f.poles.poles_on_range) or "-"
        real = ", ".join(f"{p:.4g}" for p in f.poles.poles_on_real_line) or "-"
        m, n = f.order
        table.add_row(
            Text(r.key),
            Text(target_label(f.target)),
            f"[{m},{n}] {f.form}",
            f"[{f.range[0]:g}, {f.range[1]:g}]",
            f"{f.errors.max_abs:.2e}",
            f"{r.tol:.2e}",
            f"{on_range} | {real}",
            verdict,
        )
    return table


def _proven_lines(p: dict) -> Text:
    """The ``--prove`` lines of a check: the enclosure, min |Q| and the real zeros of Q."""
    text = Text()
    ok = "green" if p["converged"] else "yellow"
    text.append("\n  proven max abs error in ", style="bold")
    text.append(f"[{p['lower']:.9e}, {p['upper']:.9e}]", style=ok)
    text.append(
        f" (relative width {p['rtol']:.2g}, asked {p['rtol_requested']:.2g}; attained at "
        f"x = {p['argmax']:.9g}; {p['intervals']} subintervals, {p['seconds']:.2f} s)"
    )
    text.append("\n  proven min |Q| on the range ", style="bold")
    text.append(f">= {p['min_abs_q']:.9g}")
    text.append(f"\n  proven poles: {p['poles']}")
    return text


def check_verdict(r: CheckResult, *, conditioning: bool = True) -> Text:
    """Return the verdict of one check: PASS/FAIL/SKIP, error vs tolerance, problems, warnings.

    With ``conditioning`` (off under a fit panel, which shows them) the conditioning line and
    its warnings follow.
    """
    text = Text()
    text.append(f"{r.status.upper()}", style=_VERDICT_STYLE[r.status])
    if r.fit is not None:
        text.append(
            f"  max abs error {r.fit.errors.max_abs:.3e} vs tol {r.tol:.3e} ({r.tol_source})"
        )
    if r.proven is not None:
        text.append(_proven_lines(r.proven))
    for p in r.problems:
        text.append(f"\n  ✗ {p}", style="red")
    for w in r.warnings:
        text.append(f"\n  ! {cli_warning(w)}", style="yellow")
    if conditioning and r.fit is not None and r.fit.poles.conditioning is not None:
        text.append(f"\n  conditioning: {r.fit.poles.conditioning.summary()}")
        for w in r.fit.poles.warnings():
            text.append(f"\n  ! {w}", style="yellow")
    text.append(_tail_lines(r))
    for w in () if r.kat is None else r.kat["warnings"]:
        text.append(f"\n  ! KAT: {w}", style="yellow")
    return text


def _tail_lines(r: CheckResult) -> Text:
    """The tail warnings of a check (kept out of ``warnings``, which --json records)."""
    text = Text()
    tail = None if r.fit is None else r.fit.tail
    for w in () if tail is None else tail.warnings:
        text.append(f"\n  ! tail: {cli_warning(w)}", style="yellow")
    return text


def check_records(results: Sequence[CheckResult]) -> list[Text]:
    """Return ``actfit check --all`` as one short record per table (narrow terminals, pipes).

    Each record is two lines that fit in 80 columns for the usual labels::

        pass  fits[1]  leaky_relu(slope=0.2) [5,4] safe on [-3, 3]
              max err 2.56e-02 <= tol 3.84e-02; poles: none on the range, none on the line
    """
    out: list[Text] = []
    for r in results:
        text = Text()
        text.append(f"{r.status:<5} ", style=_STATUS_STYLE[r.status])
        text.append(r.key, style="bold")
        f = r.fit
        if f is None or r.tol is None:
            text.append(f"\n      {'; '.join(r.problems) or 'not evaluated'}", style="yellow")
            out.append(text)
            continue
        m, n = f.order
        a, b = f.range
        text.append(f"  {target_label(f.target)} [{m},{n}] {f.form} on [{a:g}, {b:g}]")
        on_range = ", ".join(f"{p:.4g}" for p in f.poles.poles_on_range) or "none"
        real = ", ".join(f"{p:.4g}" for p in f.poles.poles_on_real_line) or "none"
        cmp = "<=" if f.errors.max_abs <= r.tol else ">"
        text.append(
            f"\n      max err {f.errors.max_abs:.2e} {cmp} tol {r.tol:.2e}; "
            f"poles: {on_range} on the range, {real} on the line"
        )
        out.append(text)
    return out


def check_report(
    results: Sequence[CheckResult], *, all_tables: bool, records: bool = False
) -> list[RenderableType]:
    """Return what ``actfit check`` prints for ``results`` (one table or ``--all``).

    Args:
        results: the checks.
        all_tables: ``--all``: a summary of every table, then the verdicts that need a look.
        records: with ``all_tables``, one short record per table (:func:`check_records`)
            instead of the summary table: for narrow terminals and pipes.
    """
    out: list[RenderableType] = []
    if all_tables:
        out.extend(check_records(results) if records else [check_summary(results)])
        for r in results:
            if (
                r.status != "pass"
                or any("pole" in w for w in r.warnings)
                or (r.fit is not None and r.fit.poles.warnings())
            ):
                out.append(Text.assemble(Text(f"{r.key}:", style="bold"), " ", check_verdict(r)))
        counts = count_statuses(results)
        out.append(
            Text(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
        )
    else:
        for r in results:
            if r.fit is not None:
                out.append(fit_panel(r.fit))
            out.append(check_verdict(r, conditioning=r.fit is None))
    return out

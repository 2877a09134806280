"""Rich renderings for the command line: fits, check verdicts, tables, progress (no maths here).

Every function returns a renderable (or a progress callback) and prints nothing itself, so the
commands in :mod:`actfit.cli` only choose what to show.

The fit panel lives in :mod:`actfit.render.fit`, the check renderings in
:mod:`actfit.render.check` and the progress displays in :mod:`actfit.render.progress`; this
module re-exports them and holds the smaller tables (targets, validate, exhaustive, table).
"""


from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from actfit.export.delivery import pade_delivery
from actfit.export.names import target_label

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.runtime.exhaustive import ExhaustiveReport, ExhaustiveRow
    from actfit.runtime.validate import ValidationReport
    from actfit.targets import TargetInfo

from actfit.render.check import check_records, check_report, check_summary, check_verdict
from actfit.render.fit import cli_warning, fit_panel
from actfit.render.progress import fit_progress, table_progress

__all__ = [
    "check_records",
    "check_report",
    "check_summary",
    "check_verdict",
    "cli_warning",
    "exhaustive_table",
    "fit_panel",
    "fit_progress",
    "pade_notes",
    "table_progress",
    "table_results",
    "targets_table",
    "validation_table",
]


def targets_table(infos: Sequence[TargetInfo]) -> Table:
    """Return the registry as a table: names, aliases, formulas, parameters with defaults."""
    table = Table(title="actfit targets (or pass any expression in x, e.g. 'x*tanh(exp(x))')")
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("aliases")
    table.add_column("formula")
    table.add_column("parameters (default)")
    for info in infos:
        params = ", ".join(f"{p.name}={p.default:g}" for p in info.params)
        table.add_row(info.name, ", ".join(info.aliases), info.formula, params or "-")
    return table


def validation_table(report: ValidationReport) -> Table:
    """Return the per-dtype table of ``actfit validate`` (errors, NaN/Inf, gradients, speed)."""
    from rich.box import SIMPLE_HEAD

    m, n = report.order
    a, b = report.range
    table = Table(
        title=escape(
            f"{report.source}: [{m},{n}] {report.form} on [{a:g}, {b:g}], {report.device_name}"
        ),
        box=SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        caption=(
            "err: max abs error vs the float64 rational / the target on the range and extreme "
            "inputs; grad: max rel. error of d/dx and d/dcoefficients vs float64 autograd\n"
            + "\n".join(
                f"{r.dtype} passes if err rat. <= {r.tol_rational:g} max(1, |y|), err tgt. <= "
                f"{r.tol_target:.2e}, grad x <= {r.tol_grad_x:g}, grad c. <= "
                f"{r.tol_grad_coeff:g}, NaN/Inf = 0"
                for r in report.rows
            )
            + escape(
                (f"\nconditioning: {report.conditioning}" if report.conditioning else "")
                + "".join(f"\n! {w}" for w in report.conditioning_warnings)
            )
        ),
        caption_justify="left",
    )
    with_peak = any(r.peak_fraction is not None for r in report.rows)
    cols = ["dtype", "err rat.", "err tgt.", "NaN/Inf", "grad x", "grad c.", "GB/s"]
    cols += ["% peak"] if with_peak else []
    for col in [*cols, "verdict"]:
        table.add_column(col, justify="left" if col in ("dtype", "verdict") else "right")
    for r in report.rows:
        verdict = (
            Text("pass", style="green") if r.passed else Text("; ".join(r.failures), style="red")
        )
        cells = [
            r.dtype,
            f"{r.max_err_rational:.1e}",
            f"{r.max_err_target:.1e}",
            str(r.nonfinite),
            f"{r.grad_err_x:.1e}",
            f"{r.grad_err_coeff:.1e}",
            f"{r.gbps:.1f}",
        ]
        if with_peak:
            cells.append("-" if r.peak_fraction is None else f"{r.peak_fraction:.0%}")
        table.add_row(*cells, verdict)
    return table


def exhaustive_table(report: ExhaustiveReport) -> Table:
    """Return the table of ``actfit validate --exhaustive``: per dtype and device, the
    approximation error (table vs target), the evaluation error (kernel vs exact rational,
    also in ulps) and what NaN/Inf inputs gave."""
    from rich.box import SIMPLE_HEAD

    m, n = report.order
    a, b = report.range
    notes = sorted({note for r in report.rows for note in r.notes})
    table = Table(
        title=escape(f"every input: [{m},{n}] {report.form} on [{a:g}, {b:g}]"),
        box=SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        caption="approx: max |r - f| on the range (the table); eval: max |kernel - r| on the "
        "range and in ulps over every finite input (the kernel); total: max |kernel - f|.\n"
        f"reference: {report.reference}; NaN -> NaN, ±Inf -> the table's limit"
        + "".join(f"\nnote: {escape(note)}" for note in notes),
        caption_justify="left",
    )
    table.add_column("")
    for r in report.rows:
        table.add_column(f"{r.dtype} {r.device}", justify="right")
    rows: list[tuple[str, Callable[[ExhaustiveRow], str | Text]]] = [
        ("inputs", lambda r: f"{r.inputs} ({r.in_range} in range)"),
        ("time", lambda r: f"{r.seconds:.2f} s"),
        ("approx |r - f|", lambda r: f"{r.approx_err:.3e} at {r.approx_at:.6g}"),
        ("eval |kernel - r|",
         lambda r: f"{r.eval_err:.3e} at {r.eval_at:.6g} ({r.eval_err_ulps:.2f} ulp)"),
        ("eval, every input", lambda r: f"{r.eval_ulps:.2f} ulp at {r.eval_ulps_at:.6g}"),
        ("total |kernel - f|",
         lambda r: f"{r.total_err:.3e} at {r.total_at:.6g} ({r.total_err_ulps:.3g} ulp)"),
        ("NaN, +Inf, -Inf ->", lambda r: ", ".join(r.specials.get(k, "?")
                                                 for k in ("nan", "+inf", "-inf"))),
        ("verdict", lambda r: Text("pass", style="green") if r.passed
         else Text("; ".join(r.failures), style="red")),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(r) for r in report.rows))
    return table


def pade_notes(fit: Fit, *, exact: bool = False) -> list[Text]:
    """Return the lines shown after a Padé fit: a lowered type and why, the exact coefficients.

    Empty for a fit that is not a Padé fit, or one delivered at the type asked without
    ``exact``.
    """
    d = pade_delivery(fit)
    if d is None:
        return []
    lines: list[Text] = []
    if d.lowered:
        (m, n), (mu, nu) = d.requested, d.delivered
        lines.append(Text(f"delivered type [{mu},{nu}] (asked [{m},{n}]):", style="yellow"))
        lines += [Text(f"  {why}") for why in d.reasons]
    if exact and d.exact_numerator is not None:
        lines.append(Text("exact coefficients (~ marks a non-rational value, 30 digits):"))
        lines += [Text(f"  a_{k} = {v}") for k, v in enumerate(d.exact_numerator)]
        lines += [
            Text(f"  b_{k} = {v}") for k, v in enumerate(d.exact_denominator or (), start=1)
        ]
    return lines

def table_results(fits: Sequence[Fit], method: str, range: tuple[float, float]) -> Table:
    """Return the summary of ``actfit table``: one row per fit with its errors and poles."""
    a, b = range
    table = Table(title=f"actfit table: {len(fits)} {method} fits on [{a:g}, {b:g}]")
    for col in ("target", "order", "form", "max abs err", "rms err", "poles"):
        table.add_column(col)
    for f in fits:
        m, n = f.order
        poles = ", ".join(f"{p:.4g}" for p in f.poles.poles_on_real_line) or "none"
        table.add_row(
            target_label(f.target),
            f"[{m},{n}]",
            f.form,
            f"{f.errors.max_abs:.3e}",
            f"{f.errors.rms:.3e}",
            poles,
        )
    return table

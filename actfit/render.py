"""Rich renderings of fits and of the target registry for the command line (no maths here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.runtime.validate import ValidationReport
    from actfit.targets import TargetInfo

__all__ = ["fit_panel", "targets_table", "validation_table"]


def _num(v: float) -> str:
    return f"{v:+.17g}"


def _coefficients(fit: Fit) -> Table:
    r = fit.rational
    table = Table(title="coefficients (ascending powers of x)", title_justify="left", expand=False)
    table.add_column("k", justify="right")
    table.add_column("numerator a_k", justify="right")
    table.add_column("denominator b_k", justify="right")
    m, n = r.degree
    for k in range(max(m, n) + 1):
        a = _num(r.numerator[k]) if k <= m else ""
        if r.form == "abs_offset":  # b0..bn stored, no implied constant
            b = _num(r.denominator[k]) if k <= n else ""
        elif k == 0:
            b = "1 (implied)"
        else:
            b = _num(r.denominator[k - 1]) if k <= n else ""
        table.add_row(str(k), a, b)
    return table


_Q = {
    "plain": "Q(x) = 1 + Σ b_k x^k",
    "safe": "Q(x) = 1 + Σ |b_k| |x|^k",
    "abs": "Q(x) = 1 + |Σ b_k x^k|",
    "abs_offset": "Q(x) = 0.1 + |Σ_{k>=0} b_k x^k| (version C)",
}


def _reports(fit: Fit) -> Table:
    e, p = fit.errors, fit.poles
    a, b = fit.range
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("max abs error", f"{e.max_abs:.6e} at x = {e.max_abs_at:.6g}")
    table.add_row("rms error", f"{e.rms:.6e}")
    table.add_row("L2 error", f"{e.l2:.6e}")
    if p.poles_on_range:
        poles = Text(
            "POLE on the range at x = " + ", ".join(f"{v:.9g}" for v in p.poles_on_range),
            style="bold red",
        )
    elif p.poles_on_real_line:
        poles = Text(
            f"none on [{a:g}, {b:g}]; real poles off the range at x = "
            + ", ".join(f"{v:.9g}" for v in p.poles_on_real_line),
            style="yellow",
        )
    else:
        poles = Text("pole-free on the whole real line", style="green")
    table.add_row("poles", poles)
    table.add_row("min |Q| on range", f"{p.min_abs_q:.6g} at x = {p.min_abs_q_at:.6g}")
    table.add_row("pole check", p.method)
    if fit.certificate is not None:
        c = fit.certificate
        gap = "n/a" if c.gap is None else f"{c.gap:.2e}"
        lower = "n/a" if c.lower is None else f"{c.lower:.6e}"
        table.add_row(
            "certificate", f"{c.status}: upper {c.upper:.6e}, lower {lower}, gap {gap}"
        )
        if c.detail:
            table.add_row("", c.detail)
    return table


def fit_panel(fit: Fit) -> Panel:
    """Return a panel with the fit's header, coefficient table, error and pole reports."""
    m, n = fit.order
    a, b = fit.range
    t = fit.target
    title = (
        f"{fit.method} fit of {t.name if t.name != 'expr' else t.expression} "
        f"[{m},{n}] on [{a:g}, {b:g}], form {fit.form}"
    )
    header = Text.assemble(
        ("target  ", "bold"),
        t.expression,
        "\n",
        ("form    ", "bold"),
        f"{fit.form}: {_Q[fit.form]}",
    )
    return Panel(Group(header, _coefficients(fit), _reports(fit)), title=title, expand=False)


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
    from rich.markup import escape

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
            "inputs; grad: max rel. error of d/dx and d/dcoefficients vs float64 autograd"
        ),
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

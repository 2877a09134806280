"""The fit panel: coefficients, errors, poles and conditioning, certificate, tail, moments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from actfit.fit import Fit


__all__ = ["cli_warning", "fit_panel"]

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
    _conditioning_rows(table, fit)
    if fit.certificate is not None:
        c = fit.certificate
        gap = "n/a" if c.gap is None else f"{c.gap:.2e}"
        lower = "n/a" if c.lower is None else f"{c.lower:.6e}"
        table.add_row(
            "certificate", f"{c.status}: upper {c.upper:.6e}, lower {lower}, gap {gap}"
        )
        if c.detail:
            table.add_row("", c.detail)
    st = fit.settings.get("storage")
    if isinstance(st, dict):
        how = "proven upper bounds" if st.get("proven") else "attained max (no enclosure)"
        kept = "; naive rounding kept (not worse)" if st.get("naive_kept") else ""
        table.add_row(
            f"{st['format']} coefficients",
            f"max abs error {st['error_stored']:.6e} (format-aware){kept}",
        )
        table.add_row("", f"naive round-to-nearest {st['error_naive']:.6e}")
        table.add_row("", f"float64 fit {st['error_float64']:.6e} ({how})")
    return table


_CLI_TAIL_HINT = "(refit with --tail linear, or --tail match for the target's slope)"


def cli_warning(text: str) -> str:
    """A library warning as the command line shows it: the way out names the CLI flag."""
    from actfit.approx.tails import LINEAR_TAIL_HINT

    return text.replace(LINEAR_TAIL_HINT, _CLI_TAIL_HINT)


def _tail_option_rows(table: Table, opt: dict) -> None:
    """The fit's tail option (``settings["tail"]``): the constraint, whether it was active, what
    it cost on the range, and for ``match`` what was matched."""
    measure = opt.get("measure", "error")
    free, with_tail = opt.get("error_free"), opt.get("error_tail")
    if opt.get("active"):
        state = "active"
        cost = ("" if free is None or with_tail is None
                else f"; {measure} error {free:.6e} free -> {with_tail:.6e} with the tail")
    else:
        state = "inactive (the free optimum satisfies it)"
        cost = "" if free is None else f"; {measure} error {free:.6e}"
    table.add_row(
        f"tail {opt.get('kind', '')}", Text(f"{opt.get('constraint', '')}: {state}{cost}")
    )
    note = (opt.get("match") or {}).get("note")
    if note:
        table.add_row("", Text(str(note)))


def _tail_rows(fit: Fit) -> Table | None:
    """The tail: effective degrees, growth at +-inf, the wider-interval error, warnings."""
    t = fit.tail
    if t is None:
        return None
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    opt = fit.settings.get("tail")
    if isinstance(opt, dict):
        _tail_option_rows(table, opt)
    table.add_row("effective degrees", f"[{t.degrees[0]},{t.degrees[1]}] (trailing zeros dropped)")
    table.add_row("growth at +inf", t.plus.describe())
    table.add_row("growth at -inf", t.minus.describe())
    lo, hi = t.wider
    wider = "not finite" if t.wider_max_abs is None else f"{t.wider_max_abs:.6e}"
    table.add_row(f"max abs error on [{lo:g}, {hi:g}]", wider)
    for w in t.warnings:
        table.add_row(Text("tail warning", style="bold yellow"), Text(cli_warning(w), "yellow"))
    return table


def _g6(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.6g}"


def _moment_rows(fit: Fit) -> Table | None:
    """Value and slope at 0, E[r(X)], E[r(X)^2] and the gain, next to the target's."""
    mr = fit.moments
    if mr is None:
        return None
    table = Table(
        title=f"initialisation, X ~ N(0, {mr.sigma:g}^2)", title_justify="left", expand=False
    )
    table.add_column("")
    table.add_column("table", justify="right")
    table.add_column("target", justify="right")
    r, t = mr.rational, mr.target
    rows = (
        ("value at 0", r.value_at_0, t.value_at_0),
        ("slope at 0", r.slope_at_0, t.slope_at_0),
        ("E[f(X)]", r.mean, t.mean),
        ("E[f(X)^2]", r.second, t.second),
        ("gain sigma^2/E[f^2]", r.gain, t.gain),
        ("init gain (torch)", r.init_gain, t.init_gain),
    )
    for name, a, b in rows:
        table.add_row(Text(name), _g6(a), _g6(b))
    if r.note:
        table.add_row("note", Text(r.note), "")
    return table


def _conditioning_rows(table: Table, fit: Fit) -> None:
    """The conditioning of the evaluation: Q, digits lost per dtype, complex zeros, warnings."""
    c = fit.poles.conditioning
    if c is None:
        return
    table.add_row("conditioning", f"Q: {c.q_text()}")
    table.add_row("digits lost", c.digits_text())
    f64 = [d for d in c.dtypes if d.dtype == "float64"]
    if f64:
        table.add_row("float64 eval.", f"adds at most {f64[0].bound:.3e} to the exact error")
    table.add_row("complex zeros" if c.complex_zero is not None else "", c.zeros_text())
    for w in fit.poles.warnings():
        table.add_row("", Text(f"! {w}", style="yellow"))


def _notes_rows(fit: Fit) -> Table | None:
    """The fitter's notes (``settings["notes"]``): constraints it imposed and their cost."""
    notes = fit.settings.get("notes")
    if not notes:
        return None
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for i, note in enumerate(notes):
        table.add_row("fitter note" if i == 0 else "", Text(str(note)))
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
    parts: list[RenderableType] = [header, _coefficients(fit), _reports(fit)]
    extra = (_notes_rows(fit), _tail_rows(fit), _moment_rows(fit))
    parts += [p for p in extra if p is not None]
    return Panel(Group(*parts), title=title, expand=False)

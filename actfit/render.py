"""Rich renderings for the command line: fits, check verdicts, tables, progress (no maths here).

Every function returns a renderable (or a progress callback) and prints nothing itself, so the
commands in :mod:`actfit.cli` only choose what to show.

Length: one concern (the terminal rendering of every report), a little over 600 lines since the
fit panel gained its tail and initialisation rows; splitting the check renderings into their own
module is the natural cut when it grows further.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from actfit.check import count_statuses
from actfit.export.delivery import pade_delivery
from actfit.export.names import target_label

if TYPE_CHECKING:
    from actfit.check import CheckResult
    from actfit.fit import Fit
    from actfit.options import Progress
    from actfit.runtime.exhaustive import ExhaustiveReport, ExhaustiveRow
    from actfit.runtime.validate import ValidationReport
    from actfit.targets import TargetInfo

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


class _Heartbeat:
    """Plain progress lines for a log or a pipe: ``LABEL: STAGE, 12 s`` every few seconds.

    A thread prints them, so a fitter that reports rarely still shows that it runs.
    """

    def __init__(self, console: Console, label: str, first: float, interval: float) -> None:
        self._console, self._label = console, label
        self._first, self._interval = first, interval
        self._started = time.monotonic()
        self._stage = "starting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def update(self, stage: str) -> None:
        self._stage = stage

    def _run(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            elapsed = time.monotonic() - self._started
            self._console.print(
                Text(f"{self._label}: {self._stage}, {elapsed:.0f} s"),
                highlight=False,
                soft_wrap=True,
            )
            wait = self._interval

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _progress_off() -> bool:
    return os.environ.get("ACTFIT_PROGRESS", "").strip() == "0"


@contextmanager
def table_progress(
    console: Console, label: str = "table", *, first: float = 3.0, interval: float = 5.0
) -> Iterator[Callable[[int, int, str], None]]:
    """Show progress on ``console`` while a table is fitted: a bar with a fit count on a
    terminal, else a plain line every ``interval`` seconds (after ``first`` seconds).

    Nothing is shown with ``ACTFIT_PROGRESS=0`` (as :func:`fit_progress`).

    Yields the ``progress(done, total, label)`` callback of :func:`actfit.batch.fit_table`.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if _progress_off():

        def silent(done: int, total: int, what: str) -> None:
            return None

        yield silent
        return
    if not console.is_terminal:
        with _Heartbeat(console, label, first, interval) as beat:

            def plain(done: int, total: int, what: str) -> None:
                beat.update(f"fit {min(done + 1, total)} of {total}, {what}")

            yield plain
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("fitting", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield progress


@contextmanager
def fit_progress(
    console: Console,
    label: str,
    *,
    delay: float = 1.0,
    first: float = 3.0,
    interval: float = 5.0,
) -> Iterator[Progress]:
    """Show a fit's progress on ``console``: on a terminal a bar for a fit that runs longer
    than ``delay`` s, else a plain line (``minimax gelu [12,12] abs: exchange round 3, 12 s``)
    every ``interval`` seconds after the first ``first`` seconds.

    Args:
        console: where to draw (stderr, so that ``--json`` output stays clean).
        label: what is fitted, e.g. ``minimax gelu [12,12] abs``.
        delay, first, interval: seconds, see above.

    With the environment variable ``ACTFIT_PROGRESS=0`` nothing is shown (logs that must not
    depend on timing, such as the README check).

    Yields a :data:`actfit.options.Progress` callback for the fitter's ``progress=``.
    """
    if _progress_off():

        def silent(stage: str, fraction: float) -> None:
            return None

        yield silent
        return
    if not console.is_terminal:
        with _Heartbeat(console, label, first, interval) as beat:

            def plain(stage: str, fraction: float) -> None:
                beat.update(stage)

            yield plain
        return

    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn(f"{escape(label)}: {{task.description}}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    started = time.perf_counter()
    task = None

    def progress(stage: str, fraction: float) -> None:
        nonlocal task
        # Show the bar only for fits that run longer than about a second.
        if task is None:
            if time.perf_counter() - started < delay:
                return
            bar.start()
            task = bar.add_task(stage, total=1.0)
        bar.update(task, completed=fraction, description=escape(stage))

    try:
        yield progress
    finally:
        if task is not None:
            bar.stop()

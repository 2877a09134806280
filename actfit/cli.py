"""The ``actfit`` command line: thin typer commands that call the library and render with rich.

Every error a user can cause is an :class:`~actfit.errors.ActfitError` (or a usage error);
both become one red line on stderr and exit code 2, with nothing written to disk. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from actfit.errors import ActfitError, OutputPathError
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["app", "main"]

def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {message}", markup=True
    )


class _OneLineErrors(TyperGroup):
    """A command group whose user errors are one line on stderr and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except Exit as exc:
            if standalone:
                sys.exit(exc.exit_code)
            return exc.exit_code
        except Abort:
            _fail("aborted")
            sys.exit(1)
        except TyperException as exc:
            cmd = f"actfit {exc.ctx.info_name} --help" if getattr(exc, "ctx", None) else None
            hint = f" (see `{cmd}`)" if cmd and exc.ctx.info_name != "actfit" else ""
            message = exc.format_message().replace("\n", " ").strip()
            if message:  # empty for a bare `actfit`, whose help was already shown
                _fail(message + hint)
            sys.exit(2)
        except ActfitError as exc:
            _fail(str(exc))
            sys.exit(2)
        # Without standalone mode, typer returns a raised typer.Exit's code instead of exiting.
        code = rv if isinstance(rv, int) else 0
        if standalone:
            sys.exit(code)
        return rv


app = typer.Typer(
    cls=_OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Rational approximations P(x)/Q(x) of activation functions: fit, check, export.",
)

# ---- options shared by the fit commands ---------------------------------------------------
_ORDER_TEXT = ",".join(str(d) for d in DEFAULT_ORDER)
_RANGE_TEXT = "{:g} {:g}".format(*DEFAULT_RANGE)
TargetArg = Annotated[
    str, typer.Argument(help="Registry name (see `actfit targets`) or an expression in x.")
]
OrderOpt = Annotated[str, typer.Option("--order", help="Degrees M,N of numerator, denominator.")]
RangeOpt = Annotated[
    tuple[float, float],
    typer.Option("--range", help="Fit range A B.", show_default=_RANGE_TEXT),
]
FormOpt = Annotated[
    str, typer.Option("--form", help="Denominator form: plain, safe or abs (aliases N, A, B).")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Target parameter NAME=VALUE (repeatable)."),
]
SlopeOpt = Annotated[
    float | None, typer.Option("--slope", help="Shortcut for -p slope=VALUE (leaky_relu).")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the result document (.json or .npz).")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result document to stdout instead of the table.")
]
PlotOpt = Annotated[
    Path | None, typer.Option("--plot", help="Also plot fit and error to FILE (.png/.svg/.pdf).")
]
AllowPolesOpt = Annotated[
    bool, typer.Option("--allow-poles", help="Keep a fit whose denominator vanishes on the range.")
]


def resolve(target: str, params: list[str] | None, slope: float | None) -> Target:
    """Return the target named on the command line, with its -p/--slope parameters."""
    from actfit.options import parse_params
    from actfit.targets import resolve_target

    values = parse_params(params or [])
    if slope is not None:
        if "slope" in values:
            raise ActfitError("slope is given twice (--slope and -p slope=...); give it once")
        values["slope"] = slope
    return resolve_target(target, values)


def check_outputs(out: Path | None, plot: Path | None) -> None:
    """Fail early, before any fitting, when an output path cannot be written."""
    from actfit.export import check_output_path

    if out is not None:
        check_output_path(out)
    if plot is not None:
        check_output_path(plot, (".png", ".svg", ".pdf"))
        if out is not None and Path(out).resolve() == Path(plot).resolve():
            raise OutputPathError("--out and --plot name the same file; give two different files")


def fit_inputs(
    target: str,
    param: list[str] | None,
    slope: float | None,
    order: str,
    range_: tuple[float, float],
    out: Path | None,
    plot: Path | None,
) -> tuple[Target, tuple[int, int], tuple[float, float]]:
    """Validate what every fit command takes, before any work: target, order, range, outputs."""
    from actfit.options import check_range, parse_order

    tgt = resolve(target, param, slope)
    m_n = parse_order(order)
    a_b = check_range(*range_)
    check_outputs(out, plot)
    return tgt, m_n, a_b


def emit(fit: Fit, out: Path | None, as_json: bool, plot: Path | None) -> None:
    """Write, plot and print a finished fit as the options ask."""
    from rich.console import Console

    from actfit.export import dumps, save, to_document

    if out is not None:
        save(fit, out)
    if plot is not None:
        from actfit.plot import plot_fits

        plot_fits([fit], plot)
    if as_json:
        sys.stdout.write(dumps(to_document(fit)))
        return
    from actfit.render import fit_panel

    console = Console()
    console.print(fit_panel(fit))
    for path in (out, plot):
        if path is not None:
            console.print(f"wrote {path}")


# ---- commands -------------------------------------------------------------------------------
@app.command("targets")
def targets_cmd() -> None:
    """List the registry's targets with their formulas and parameters."""
    from rich.console import Console

    from actfit.render import targets_table
    from actfit.targets import list_targets

    Console().print(targets_table(list_targets()))


@app.command("lsq")
def lsq_cmd(
    target: TargetArg,
    order: OrderOpt = _ORDER_TEXT,
    range_: RangeOpt = DEFAULT_RANGE,
    form: FormOpt = "safe",
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    weight: Annotated[
        str,
        typer.Option(
            "--weight",
            help="uniform, normal[:MU,SIGMA] or a density expression in x, e.g. 'exp(-x^2/2)'.",
        ),
    ] = "uniform",
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Least-squares rational fit (global optimum of the continuous L2 error on the range)."""
    from actfit.approx.lsq import fit_lsq

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = fit_lsq(tgt, m_n, a_b, form=form, weight=weight, allow_poles=allow_poles)
    emit(fit, out, as_json, plot)


@app.command("pade")
def pade_cmd(
    target: TargetArg,
    order: OrderOpt = _ORDER_TEXT,
    center: Annotated[
        float,
        typer.Option("--center", help="Expansion point x0 (the target must be analytic there)."),
    ] = 0.0,
    range_: RangeOpt = DEFAULT_RANGE,
    form: FormOpt = "plain",
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    exact: Annotated[
        bool,
        typer.Option("--exact", help="Also print the coefficients as exact fractions (p/q)."),
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Padé approximant [M,N] at x0 (robust SVD Padé on exact Taylor data; form plain)."""
    from rich.console import Console

    from actfit.approx.pade import fit_pade

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = fit_pade(
        tgt, m_n, center=center, range=a_b, form=form, allow_poles=allow_poles, exact=exact
    )
    emit(fit, out, as_json, plot)
    if not as_json:
        from actfit.render import pade_notes

        console = Console(highlight=False)
        for line in pade_notes(fit, exact=exact):
            console.print(line)


# ---- plot, check, table: figures, verifying any coefficient table, batch tables -----------
FormReadOpt = Annotated[
    str | None,
    typer.Option(
        "--form",
        help="Evaluate the tables in this form (plain, safe, abs, or C = 0.1 + |...|); "
        "overrides the file's, required for KAT-style files.",
    ),
]


@app.command("plot")
def plot_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Result or table files (actfit .json/.npz, actfit tables, rational_activations "
            "config, KAT-style JSON); all their fits are overlaid."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Figure file: .png, .svg or .pdf.")],
    margin: Annotated[
        float, typer.Option("--margin", help="Fraction of the range shown beyond each end.")
    ] = 0.5,
    log: Annotated[bool, typer.Option("--log", help="Log scale for the error panel.")] = False,
    relative: Annotated[
        bool, typer.Option("--relative", help="Plot the relative error |r - f| / |f|.")
    ] = False,
    form: FormReadOpt = None,
) -> None:
    """Plot target, fit and error curves (max error marked, real poles drawn) of FILE(s)."""
    from rich.console import Console
    from rich.text import Text

    from actfit.errors import FileFormatError
    from actfit.export import check_output_path
    from actfit.export.readers import load_fits
    from actfit.plot import PLOT_SUFFIXES, plot_fits

    check_output_path(out, PLOT_SUFFIXES)
    console = Console(highlight=False, soft_wrap=True)

    def skipped(entry: Any, exc: Exception) -> None:
        console.print(Text(f"skipped {entry.key}: {exc}", style="yellow"))

    fits = [fit for f in files for fit in load_fits(f, form=form, on_error=skipped)]
    if not fits:
        raise FileFormatError("none of the tables could be evaluated; nothing to plot")
    plot_fits(fits, out, margin=margin, log=log, relative=relative)
    console.print(f"wrote {out} ({len(fits)} fit{'s' * (len(fits) != 1)})")


@app.command("check")
def check_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Coefficient file: actfit .json/.npz or tables, rational_activations config, "
            "KAT-style JSON (or use --numerator/--denominator)."
        ),
    ] = None,
    all_tables: Annotated[
        bool, typer.Option("--all", help="Check every table in the file, one row each.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Which table: its key, index, or a unique activation name."),
    ] = None,
    numerator: Annotated[
        str | None, typer.Option("--numerator", help="a0..am, comma-separated (no FILE).")
    ] = None,
    denominator: Annotated[
        str | None,
        typer.Option("--denominator", help="b1..bn (b0..bn for form C), comma-separated."),
    ] = None,
    form: FormReadOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Target name or expression (overrides the file's)."),
    ] = None,
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    range_: Annotated[
        tuple[float, float] | None,
        typer.Option("--range", help=f"Range A B (overrides the file's; default {_RANGE_TEXT}).")
    ] = None,
    tol: Annotated[
        float | None,
        typer.Option(
            "--tol", help="Max abs error allowed (default 1.5x the recorded error, else 0.05)."
        ),
    ] = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Re-evaluate a coefficient table against its target in the form the runtime uses.

    Prints the error report, the poles (on the range and the whole real line) and a verdict.
    Exit code 1 when a table fails (error above --tol, or a pole on the range), 2 on a user
    error.
    """
    from rich.console import Console

    from actfit.check import check_coefficients, check_file, count_statuses, results_document
    from actfit.errors import ParameterError
    from actfit.export import dumps
    from actfit.options import check_range

    a_b = check_range(*range_) if range_ is not None else None
    check_outputs(None, plot)
    tgt = resolve(target, param, slope) if target is not None else None
    if target is None and (param or slope is not None):
        raise ParameterError("-p/--slope need --target (they set the target's parameters)")
    if numerator is not None or denominator is not None:
        from actfit.export.readers import parse_coefficients

        if file is not None:
            raise ParameterError("give either FILE or --numerator/--denominator, not both")
        if numerator is None or tgt is None or form is None:
            raise ParameterError(
                "--numerator needs --denominator, --form and --target, e.g. --numerator "
                "0.03,0.6,2.3 --denominator 1.1,4.4 --form safe --target leaky_relu"
            )
        num = parse_coefficients(numerator, "--numerator")
        den = parse_coefficients(denominator, "--denominator") if denominator else []
        results = [
            check_coefficients(num, den, form=form, target=tgt, range=a_b or DEFAULT_RANGE, tol=tol)
        ]
    elif file is None:
        raise ParameterError("give a FILE to check, or --numerator/--denominator (see --help)")
    else:
        results = check_file(
            file, name=name, all_tables=all_tables, form=form, target=tgt, range=a_b, tol=tol
        )
    if plot is not None:
        from actfit.plot import plot_fits

        fits = [r.fit for r in results if r.fit is not None]
        if fits:
            plot_fits(fits, plot)
    if as_json:
        sys.stdout.write(dumps(results_document(results)))
    else:
        from actfit.render import check_report

        console = Console(highlight=False)
        for part in check_report(results, all_tables=all_tables):
            console.print(part)
        if plot is not None:
            console.print(f"wrote {plot}")
    counts = count_statuses(results)
    if counts["fail"] or counts["skip"]:
        sys.exit(1)  # a failed check: distinct from 2, a user error


@app.command("table")
def table_cmd(
    targets: Annotated[
        list[str], typer.Argument(help="Targets: registry names or expressions in x.")
    ],
    slopes: Annotated[
        str | None,
        typer.Option("--slopes", help="Slopes for leaky_relu-like targets, e.g. 0.01,0.2,-0.5."),
    ] = None,
    orders: Annotated[
        list[str] | None,
        typer.Option(
            "--orders", help="Orders M,N (repeatable, or '5/4 6/5').", show_default=_ORDER_TEXT
        ),
    ] = None,
    forms: Annotated[
        list[str] | None,
        typer.Option(
            "--form", help="Forms: plain, safe, abs (repeatable or comma-separated).",
            show_default="safe",
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="Fitter: lsq, pade (at 0) or minimax.")
    ] = "lsq",
    range_: RangeOpt = DEFAULT_RANGE,
    param: ParamOpt = None,
    weight: Annotated[
        str, typer.Option("--weight", help="Error weight (lsq, minimax; see actfit lsq).")
    ] = "uniform",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the table file (.json, actfit.tables).")
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="Also write next to --out: rational_activations (X.rational_activations.json), "
            "md (X.md), tex (X.tex). Repeatable.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the table document to stdout.")
    ] = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Fit many targets x orders x forms in one call and write one multi-table file."""
    from rich.console import Console

    from actfit.batch import expand_targets, fit_table, parse_forms, parse_orders, parse_slopes
    from actfit.export import dumps
    from actfit.export.table import plan_table_outputs, tables_document, write_table
    from actfit.options import check_range, parse_params
    from actfit.render import table_progress, table_results

    tgts = expand_targets(targets, slopes=parse_slopes(slopes), params=parse_params(param or []))
    m_ns = parse_orders(orders or [_ORDER_TEXT])
    form_names = parse_forms(forms or ["safe"])
    a_b = check_range(*range_)
    outputs = plan_table_outputs(out, formats or [])
    check_outputs(None, plot)
    with table_progress(Console(stderr=True)) as progress:
        fits = fit_table(
            tgts, m_ns, form_names, method=method, range=a_b, weight=weight,
            allow_poles=allow_poles, progress=progress,
        )
    for fmt, path in outputs:
        write_table(fits, path, fmt)
    if plot is not None:
        from actfit.plot import plot_fits

        plot_fits(fits, plot)
    if as_json:
        sys.stdout.write(dumps(tables_document(fits)))
        return
    console = Console(highlight=False)
    console.print(table_results(fits, method, a_b))
    for p in [*(path for _, path in outputs), *([plot] if plot is not None else [])]:
        console.print(f"wrote {p}")


@app.command("minimax")
def minimax_cmd(
    target: TargetArg,
    order: OrderOpt = _ORDER_TEXT,
    range_: RangeOpt = DEFAULT_RANGE,
    form: FormOpt = "safe",
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    weight: Annotated[
        str,
        typer.Option(
            "--weight",
            help="uniform, relative[:FLOOR] (|f-r|/max(|f|,FLOOR); default FLOOR 1e-3 max|f|), "
            "normal[:MU,SIGMA] or a positive weight expression in x.",
        ),
    ] = "uniform",
    pole_free: Annotated[
        bool,
        typer.Option(
            "--pole-free", help="plain form: require Q > 0 on the whole real line (a constraint)."
        ),
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Best uniform (minimax) rational fit, with a certified lower bound on the best error."""
    from rich.console import Console

    from actfit.approx.minimax import fit_minimax
    from actfit.render import fit_progress

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    with fit_progress(Console(stderr=True), "minimax") as progress:
        fit = fit_minimax(
            tgt,
            m_n,
            a_b,
            form=form,
            weight=weight,
            pole_free=pole_free,
            allow_poles=allow_poles,
            progress=progress,
        )
    emit(fit, out, as_json, plot)


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="Table to validate (actfit .json or .npz).")],
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    dtype: Annotated[
        str, typer.Option("--dtype", help="Comma-separated: float32,bfloat16,float16,float64.")
    ] = "float32,bfloat16,float16",
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a table in the runtime kernels per dtype against the float64 rational and target.

    Prints per dtype the max abs error vs the rational and vs the target, the NaN/Inf count,
    the gradient agreement with float64 autograd and the throughput (GB/s, and the fraction of
    the device's peak bandwidth on CUDA). Exit code 1 when a check fails, 2 on a user error.
    """
    from rich.console import Console

    from actfit.export import dumps
    from actfit.render import validation_table
    from actfit.runtime.validate import validate

    report = validate(file, device=device, dtypes=dtype)
    if as_json:
        sys.stdout.write(dumps(report.to_dict()))
    else:
        Console(highlight=False).print(validation_table(report))
    if not report.passed:
        sys.exit(1)  # a failed check: distinct from 2, a user error


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

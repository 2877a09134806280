"""The ``actfit`` command line: thin typer commands that call the library and render with rich.

Every error a user can cause is an :class:`~actfit.errors.ActfitError` (or a usage error);
both become one red line on stderr and exit code 2, with nothing written to disk. Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from actfit.errors import ActfitError, OutputPathError

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["app", "main"]

F = TypeVar("F", bound=Callable[..., Any])


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
            return super().main(*args, standalone_mode=False, **kwargs)
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
            _fail(exc.format_message().replace("\n", " ") + hint)
            sys.exit(2)
        except ActfitError as exc:
            _fail(str(exc))
            sys.exit(2)


app = typer.Typer(
    cls=_OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Rational approximations P(x)/Q(x) of activation functions: fit, check, export.",
)

# ---- options shared by the fit commands ---------------------------------------------------
TargetArg = Annotated[
    str, typer.Argument(help="Registry name (see `actfit targets`) or an expression in x.")
]
OrderOpt = Annotated[str, typer.Option("--order", help="Degrees M,N of numerator, denominator.")]
RangeOpt = Annotated[
    tuple[float, float], typer.Option("--range", help="Fit range A B.", show_default="-3 3")
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


def emit(fit: Fit, out: Path | None, as_json: bool, plot: Path | None) -> None:
    """Write, plot and print a finished fit as the options ask."""
    from rich.console import Console

    from actfit.export import save, to_document

    if out is not None:
        save(fit, out)
    if plot is not None:
        from actfit.plot import plot_fits

        plot_fits([fit], plot)
    if as_json:
        import json

        sys.stdout.write(json.dumps(to_document(fit), indent=2, allow_nan=False) + "\n")
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
    order: OrderOpt = "5,4",
    range_: RangeOpt = (-3.0, 3.0),
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
    from actfit.options import check_range, parse_order

    tgt = resolve(target, param, slope)
    m_n = parse_order(order)
    a_b = check_range(*range_)
    check_outputs(out, plot)
    fit = fit_lsq(tgt, m_n, a_b, form=form, weight=weight, allow_poles=allow_poles)
    emit(fit, out, as_json, plot)


@app.command("pade")
def pade_cmd(
    target: TargetArg,
    order: OrderOpt = "5,4",
    center: Annotated[
        float,
        typer.Option("--center", help="Expansion point x0 (the target must be analytic there)."),
    ] = 0.0,
    range_: RangeOpt = (-3.0, 3.0),
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
    from actfit.options import check_range, parse_order

    tgt = resolve(target, param, slope)
    m_n = parse_order(order)
    a_b = check_range(*range_)
    check_outputs(out, plot)
    fit = fit_pade(
        tgt, m_n, center=center, range=a_b, form=form, allow_poles=allow_poles, exact=exact
    )
    emit(fit, out, as_json, plot)
    if as_json:
        return
    console = Console(highlight=False)
    s = fit.settings
    if s["lowered"]:
        m, n = s["requested"]
        mu, nu = s["delivered"]
        console.print(f"[yellow]delivered type [{mu},{nu}] (asked [{m},{n}]):[/yellow]")
        for why in s["reasons"]:
            console.print(f"  {why}", markup=False)
    if exact:
        ex = s["exact"]
        console.print("exact coefficients (~ marks a non-rational value, 30 digits):")
        for k, v in enumerate(ex["numerator"]):
            console.print(f"  a_{k} = {v}", markup=False)
        for k, v in enumerate(ex["denominator"], start=1):
            console.print(f"  b_{k} = {v}", markup=False)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

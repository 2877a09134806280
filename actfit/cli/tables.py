"""Commands that read and write tables: ``check`` (verify any table), ``plot``, ``table``."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from actfit.cli.app import (
    ORDER_TEXT,
    RANGE_TEXT,
    AllowPolesOpt,
    FormReadOpt,
    JsonOpt,
    ParamOpt,
    PlotOpt,
    RangeOpt,
    SigmaOpt,
    SlopeOpt,
    bytes_writer,
    check_outputs,
    command,
    plot_writer,
    print_wrote,
    resolve,
)
from actfit.options import DEFAULT_RANGE


@command("check", "actfit check pau_init.json --all (or: actfit check gelu.json --form abs)")
def check_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="Coefficient file: actfit .json/.npz or tables, rational_activations config, "
            "KAT-style JSON, a state_dict .pt of RationalActivation modules (or use "
            "--numerator/--denominator).",
        ),
    ] = None,
    all_tables: Annotated[
        bool,
        typer.Option("--all", metavar="", help="Check every table in the file, one row each."),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="KEY",
            help="Which table: its key, index, or a unique activation name.",
        ),
    ] = None,
    numerator: Annotated[
        str | None,
        typer.Option("--numerator", metavar="A0,...", help="a0..am, comma-separated (no FILE)."),
    ] = None,
    denominator: Annotated[
        str | None,
        typer.Option(
            "--denominator",
            metavar="B1,...",
            help="b1..bn (b0..bn for form C), comma-separated.",
        ),
    ] = None,
    form: FormReadOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", metavar="TARGET", help="Target name or expression (overrides the file's)."
        ),
    ] = None,
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    range_: Annotated[
        tuple[float, float] | None,
        typer.Option(
            "--range",
            metavar="A B",
            help=f"Range A B (overrides the file's; default {RANGE_TEXT}).",
        ),
    ] = None,
    tol: Annotated[
        float | None,
        typer.Option(
            "--tol",
            metavar="TOL",
            help="Max abs error allowed (default 1.5x the recorded error, else 0.05).",
        ),
    ] = None,
    prove: Annotated[
        bool,
        typer.Option(
            "--prove",
            metavar="",
            help="Also prove an enclosure of the max error and a bound on min |Q| (ball "
            "arithmetic); exit 2 for a target without an interval enclosure.",
        ),
    ] = False,
    sigma: SigmaOpt = 1.0,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Re-evaluate a coefficient table against its target, in the form the runtime uses.

    Prints the error report, the poles (on the range and the whole real line) and a verdict;
    with --prove also the proven enclosure of the max error (relative width 1e-6) and of
    min |Q| on the range (key "proven" of each --json result). Exit code 1 when a table fails
    (error, or with --prove its proven bound, above --tol, or a pole on the range), 2 on a user
    error.
    """
    from rich.console import Console

    from actfit.check import (
        check_coefficients,
        check_file,
        count_statuses,
        results_document,
        with_sigma,
    )
    from actfit.errors import ParameterError
    from actfit.export import dumps, write_all
    from actfit.options import check_range

    a_b = check_range(*range_) if range_ is not None else None
    if not (math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"--sigma must be a positive finite number, got {sigma:g}; e.g. 1")
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
            check_coefficients(
                num, den, form=form, target=tgt, range=a_b or DEFAULT_RANGE, tol=tol,
                prove=prove,
            )
        ]
    elif file is None:
        raise ParameterError("give a FILE to check, or --numerator/--denominator (see --help)")
    else:
        results = check_file(
            file, name=name, all_tables=all_tables, form=form, target=tgt, range=a_b, tol=tol,
            prove=prove,
        )
    if sigma != 1.0:
        results = with_sigma(results, sigma)
    fits = [r.fit for r in results if r.fit is not None]
    if plot is not None and fits:
        write_all([(plot, plot_writer(fits))])
    if as_json:
        sys.stdout.write(dumps(results_document(results)))
    else:
        from actfit.render import check_report

        console = Console(highlight=False)
        records = not console.is_terminal or console.width < 100
        for part in check_report(results, all_tables=all_tables, records=records):
            console.print(part)
        print_wrote(console, [plot if fits else None])
    counts = count_statuses(results)
    if counts["fail"] or counts["skip"]:
        sys.exit(1)  # a failed check: distinct from 2, a user error


@command("plot", "actfit plot gelu.json gelu_mm.json --out gelu.png --log")
def plot_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Result or table files (actfit .json/.npz, actfit tables, rational_activations "
            "config, KAT-style JSON); all their fits are overlaid.",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Figure file: .png, .svg or .pdf.")
    ],
    margin: Annotated[
        float,
        typer.Option(
            "--margin", metavar="F", help="Fraction of the range shown beyond each end."
        ),
    ] = 0.5,
    log: Annotated[
        bool, typer.Option("--log", metavar="", help="Log scale for the error panel.")
    ] = False,
    relative: Annotated[
        bool,
        typer.Option("--relative", metavar="", help="Plot the relative error |r - f| / |f|."),
    ] = False,
    form: FormReadOpt = None,
) -> None:
    """Plot target, fit and error curves of FILE(s), max error marked, real poles drawn."""
    from rich.console import Console
    from rich.text import Text

    from actfit.errors import FileFormatError
    from actfit.export import check_output_path, write_all
    from actfit.export.readers import load_fits
    from actfit.plot import PLOT_SUFFIXES
    from actfit.rational import normalize_form

    check_output_path(out, PLOT_SUFFIXES)
    if form is not None:
        normalize_form(form)
    console = Console(highlight=False, soft_wrap=True)
    skips: list[str] = []

    def skipped(entry: Any, exc: Exception) -> None:
        skips.append(f"{entry.key}: {exc}")

    fits = [fit for f in files for fit in load_fits(f, form=form, on_error=skipped)]
    if not fits:
        many = f" ({len(skips)} tables; the first)" if len(skips) > 1 else ""
        raise FileFormatError(f"nothing to plot: no table could be evaluated{many}: {skips[0]}")
    write_all([(out, plot_writer(fits, margin=margin, log=log, relative=relative))])
    for line in skips:
        console.print(Text(f"skipped {line}", style="yellow"))
    print_wrote(console, [out], f" ({len(fits)} fit{'s' * (len(fits) != 1)})")


@command("table", "actfit table leaky_relu --slopes 0.01,0.2 --orders 5,4 --out pau.json")
def table_cmd(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="TARGET", help="Targets: registry names or expressions in x."),
    ],
    slopes: Annotated[
        str | None,
        typer.Option(
            "--slopes",
            metavar="S,...",
            help="Slopes for leaky_relu-like targets, e.g. 0.01,0.2,-0.5 (or --slope).",
        ),
    ] = None,
    orders: Annotated[
        list[str] | None,
        typer.Option(
            "--orders",
            metavar="M,N",
            help=f"Orders M,N (repeatable, or '5/4 6/5'; or --order; default {ORDER_TEXT}).",
            show_default=False,
        ),
    ] = None,
    forms: Annotated[
        list[str] | None,
        typer.Option(
            "--form",
            metavar="FORM",
            help="Forms: plain, safe, abs (repeatable or comma-separated; default safe).",
            show_default=False,
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", metavar="METHOD", help="Fitter: lsq, pade (at 0) or minimax."),
    ] = "lsq",
    range_: RangeOpt = DEFAULT_RANGE,
    param: ParamOpt = None,
    weight: Annotated[
        str,
        typer.Option(
            "--weight", metavar="WEIGHT", help="Error weight (lsq, minimax; see actfit lsq)."
        ),
    ] = "uniform",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="Write the table file (.json, actfit.tables)."
        ),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="Also write next to --out: rational_activations (X.rational_activations.json), "
            "kat (X.kat.json, KAT's init.json; form safe only), md (X.md), tex (X.tex). "
            "Repeatable.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the table document to stdout.")
    ] = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Fit many targets x orders x forms in one call and write one multi-table file."""
    from rich.console import Console

    from actfit.batch import expand_targets, fit_table, parse_forms, parse_orders, parse_slopes
    from actfit.export import dumps, write_all
    from actfit.export.table import plan_table_outputs, table_bytes, tables_document
    from actfit.options import check_range, parse_params
    from actfit.render import table_progress, table_results

    tgts = expand_targets(targets, slopes=parse_slopes(slopes), params=parse_params(param or []))
    m_ns = parse_orders(orders or [ORDER_TEXT])
    form_names = parse_forms(forms or ["safe"])
    a_b = check_range(*range_)
    planned = plan_table_outputs(out, formats or [])
    if "kat" in (formats or []):
        from actfit.errors import FormError

        others = [f for f in form_names if f != "safe"]
        if others:
            raise FormError(
                f"--format kat writes form safe only (KAT's kernels evaluate 1 + Σ|b_k||x|^k), "
                f"but --form asks for {', '.join(others)}; use --form safe"
            )
    check_outputs(None, plot)
    with table_progress(Console(stderr=True), f"table {method}") as progress:
        fits = fit_table(
            tgts, m_ns, form_names, method=method, range=a_b, weight=weight,
            allow_poles=allow_poles, progress=progress,
        )
    outputs: list[tuple[Path, Callable[[Path], None]]] = [
        (path, bytes_writer(lambda fmt=fmt: table_bytes(fits, fmt))) for fmt, path in planned
    ]
    if plot is not None:
        outputs.append((plot, plot_writer(fits)))
    write_all(outputs)
    if as_json:
        sys.stdout.write(dumps(tables_document(fits)))
        return
    console = Console(highlight=False)
    console.print(table_results(fits, method, a_b))
    print_wrote(console, [*(path for _, path in planned), plot])

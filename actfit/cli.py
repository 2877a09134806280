"""The ``actfit`` command line: thin typer commands that call the library and render with rich.

Every error a user can cause is an :class:`~actfit.errors.ActfitError` (or a usage error);
both become one red line on stderr and exit code 2, with nothing written to disk. Anything else
is a bug and keeps its traceback. Outputs are checked before any work and written all or none
(:func:`actfit.export.write_all`).

The help reads like a man page: ``-h``/``--help`` everywhere, ``actfit --version``, metavars
(``TARGET``, ``M,N``, ``A B``), one example per command, the commands in workflow order.
``--range A,B`` is accepted next to ``--range A B``, and ``--order``/``--orders`` and
``--slope``/``--slopes`` are accepted by every command that takes one of them
(:func:`normalize_args`).

Length: about 870 lines, three quarters of them the declarations of the eight commands (every
option with its metavar and help text). A command's interface reads best in one place, and the
typer plumbing above them (error contract, help layout, argument normalisation) is short.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from actfit.errors import ActfitError, OutputPathError
from actfit.options import DEFAULT_ORDER, DEFAULT_RANGE

if TYPE_CHECKING:
    from actfit.fit import Fit
    from actfit.targets import Target

__all__ = ["app", "main"]

COMMAND_ORDER = (
    "targets", "lsq", "pade", "minimax", "check", "plot", "table", "validate", "build-ops",
)
"""The order ``actfit --help`` lists the commands in: find a target, fit it, verify, export."""

# Spellings accepted for one option (``table`` takes lists, the fit commands one value): each
# command gets its own spelling, so `--order 5,4` works for table and `--orders 5,4` for lsq.
_ALIASES: dict[str, dict[str, str]] = {
    **{cmd: {"--orders": "--order", "--slopes": "--slope"} for cmd in ("lsq", "pade", "minimax")},
    "check": {"--slopes": "--slope"},
    "table": {"--order": "--orders", "--slope": "--slopes"},
}
_PAIR_SPLIT = re.compile(r"[,\s]+")
_HINTS = {
    "--range": "give two numbers, e.g. --range -3 3 (or --range -3,3)",
}


def _pair(text: str) -> list[str] | None:
    """``"-3,3"``, ``"[-3, 3]"`` or ``"-3 3"`` (one word) -> ``["-3", "3"]``; else None."""
    body = text.strip().strip("[]()")
    if not _PAIR_SPLIT.search(body):
        return None
    parts = [t for t in _PAIR_SPLIT.split(body) if t]
    return parts if len(parts) == 2 else None


def normalize_args(args: Sequence[str]) -> list[str]:
    """Return the command line with ``--range A,B`` split in two and option aliases renamed.

    Examples:
        >>> normalize_args(["lsq", "gelu", "--range", "-4,4", "--orders=6,5"])
        ['lsq', 'gelu', '--range', '-4', '4', '--order=6,5']
    """
    args = list(args)
    cmd = next((a for a in args if not a.startswith("-")), None)
    aliases = _ALIASES.get(cmd or "", {})
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name in aliases:
            name = aliases[name]
            arg = name + eq + value
        if name == "--range":
            pair = _pair(value) if eq else (_pair(args[i + 1]) if i + 1 < len(args) else None)
            if pair is not None:
                out += ["--range", *pair]
                i += 1 if eq else 2
                continue
        out.append(arg)
        i += 1
    return out


def _fail(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    # The message is plain text (it may hold "[nan, 1.0]"): escape it, or rich eats it as markup.
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {escape(message)}", markup=True
    )


def _quiet_help_option(option: Any) -> Any:
    if option is not None:
        option.metavar = ""  # a flag: no "<bool>" after it in --help
    return option


class _Argument(TyperArgument):
    """A positional argument shown as its metavar (``TARGET``), without a type or braces."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    @property
    def display_name_raw(self) -> str:
        name = self.metavar or self.name or ""
        return name + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"


class _Command(TyperCommand):
    """A command whose --help reads like a man page: ``TARGET``, ``-h``, no ``<bool>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.__class__ = _Argument

    def get_help_option(self, ctx: Any) -> Any:
        return _quiet_help_option(super().get_help_option(ctx))


class _OneLineErrors(TyperGroup):
    """A command group whose user errors are one line on stderr and exit code 2."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        rank = {n: i for i, n in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))

    def get_help_option(self, ctx: Any) -> Any:
        return _quiet_help_option(super().get_help_option(ctx))

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        argv = normalize_args(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(argv, *rest, standalone_mode=False, **kwargs)
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
            for option, example in _HINTS.items():
                if option in message and "argument" in message:
                    message, hint = message.rstrip("."), f"; {example}"
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
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Rational approximations P(x)/Q(x) of activation functions: fit, check, export.",
    epilog="Example: actfit lsq gelu --order 5,4 --out gelu.json, then actfit check gelu.json",
)


def _show_version(value: bool) -> None:
    if value:
        from actfit import __version__

        sys.stdout.write(f"actfit {__version__}\n")
        raise Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_show_version,
            is_eager=True,
            metavar="",
        ),
    ] = False,
) -> None:
    """Rational approximations P(x)/Q(x) of activation functions: fit, check, export."""


def _command(name: str, example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command with its one-line example shown at the end of its --help."""
    return app.command(name, cls=_Command, epilog=f"Example: {example}")


# ---- options shared by the fit commands ---------------------------------------------------
_ORDER_TEXT = ",".join(str(d) for d in DEFAULT_ORDER)
_RANGE_TEXT = "{:g} {:g}".format(*DEFAULT_RANGE)
TargetArg = Annotated[
    str,
    typer.Argument(
        metavar="TARGET", help="Registry name (see `actfit targets`) or an expression in x."
    ),
]
OrderOpt = Annotated[
    str,
    typer.Option(
        "--order", metavar="M,N", help="Degrees M,N of numerator, denominator (or --orders)."
    ),
]
RangeOpt = Annotated[
    tuple[float, float],
    typer.Option(
        "--range", metavar="A B", help=f"Fit range A B (also A,B; default {_RANGE_TEXT}).",
        show_default=False,
    ),
]
FormOpt = Annotated[
    str,
    typer.Option(
        "--form", metavar="FORM", help="Denominator form: plain, safe or abs (aliases N, A, B)."
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", metavar="NAME=VALUE", help="Target parameter NAME=VALUE (repeatable)."
    ),
]
SlopeOpt = Annotated[
    float | None,
    typer.Option("--slope", metavar="S", help="Shortcut for -p slope=S (leaky_relu)."),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", metavar="FILE", help="Write the result document (.json or .npz)."),
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", metavar="", help="Print the result document to stdout instead of the table."
    ),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot", metavar="FILE", help="Also plot fit and error to FILE (.png, .svg or .pdf)."
    ),
]
AllowPolesOpt = Annotated[
    bool,
    typer.Option(
        "--allow-poles",
        metavar="",
        help="Keep a fit whose denominator vanishes on the range.",
    ),
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
    from actfit.plot import PLOT_SUFFIXES

    if out is not None:
        check_output_path(out)
    if plot is not None:
        check_output_path(plot, PLOT_SUFFIXES)
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


def _plot_writer(fits: Sequence[Fit], **options: Any) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        from actfit.plot import plot_fits

        plot_fits(fits, tmp, **options)

    return write


def _bytes_writer(data: Callable[[], bytes]) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data())

    return write


def _wrote(console: Any, paths: Sequence[Path | None], extra: str = "") -> None:
    from rich.text import Text

    for path in paths:
        if path is not None:
            console.print(Text(f"wrote {path}{extra}"))


def run_fit(fitter: Callable[..., Fit], label: str, *args: Any, **kwargs: Any) -> Fit:
    """Call ``fitter`` with a progress display on stderr (a bar, or plain lines when piped)."""
    from rich.console import Console

    from actfit.render import fit_progress

    with fit_progress(Console(stderr=True), label) as progress:
        return fitter(*args, progress=progress, **kwargs)


def _label(method: str, tgt: Target, m_n: tuple[int, int], form: str) -> str:
    from actfit.export.names import target_label

    return f"{method} {target_label(tgt)} [{m_n[0]},{m_n[1]}] {form}"


def emit(fit: Fit, out: Path | None, as_json: bool, plot: Path | None) -> None:
    """Write (all outputs or none), plot and print a finished fit as the options ask."""
    from rich.console import Console

    from actfit.export import dumps, to_document, write_all
    from actfit.export.io import fit_bytes

    outputs: list[tuple[Path, Callable[[Path], None]]] = []
    if out is not None:
        outputs.append((out, _bytes_writer(lambda: fit_bytes(fit, out.suffix))))
    if plot is not None:
        outputs.append((plot, _plot_writer([fit])))
    write_all(outputs)
    if as_json:
        sys.stdout.write(dumps(to_document(fit)))
        return
    from actfit.render import fit_panel

    console = Console()
    console.print(fit_panel(fit))
    _wrote(console, [out, plot])


# ---- commands -------------------------------------------------------------------------------
@_command("targets", "actfit targets")
def targets_cmd() -> None:
    """List the registry's targets with their formulas and parameters."""
    from rich.console import Console

    from actfit.render import targets_table
    from actfit.targets import list_targets

    Console().print(targets_table(list_targets()))


@_command("lsq", "actfit lsq leaky_relu --slope 0.2 --order 5,4 --range -3 3 --out lr.json")
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
            metavar="WEIGHT",
            help="uniform, normal[:MU,SIGMA] or a density expression in x, e.g. 'exp(-x^2/2)'.",
        ),
    ] = "uniform",
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Least-squares rational fit: the global optimum of the L2 error on the range."""
    from actfit.approx.lsq import fit_lsq

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = run_fit(
        fit_lsq, _label("lsq", tgt, m_n, form), tgt, m_n, a_b,
        form=form, weight=weight, allow_poles=allow_poles,
    )
    emit(fit, out, as_json, plot)


@_command("pade", "actfit pade gelu --order 4,4 --exact")
def pade_cmd(
    target: TargetArg,
    order: OrderOpt = _ORDER_TEXT,
    center: Annotated[
        float,
        typer.Option(
            "--center",
            metavar="X0",
            help="Expansion point x0 (the target must be analytic there).",
        ),
    ] = 0.0,
    range_: RangeOpt = DEFAULT_RANGE,
    form: FormOpt = "plain",
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", metavar="", help="Also print the coefficients as exact fractions (p/q)."
        ),
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Padé approximant [M,N] at x0: robust SVD Padé on exact Taylor data (form plain)."""
    from rich.console import Console

    from actfit.approx.pade import fit_pade

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = run_fit(
        fit_pade, _label("pade", tgt, m_n, form), tgt, m_n,
        center=center, range=a_b, form=form, allow_poles=allow_poles, exact=exact,
    )
    emit(fit, out, as_json, plot)
    if not as_json:
        from actfit.render import pade_notes

        console = Console(highlight=False)
        for line in pade_notes(fit, exact=exact):
            console.print(line)


@_command("minimax", "actfit minimax gelu --order 6,6 --weight relative --out gelu_mm.json")
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
            metavar="WEIGHT",
            help="uniform, relative[:FLOOR] (|f-r|/max(|f|,FLOOR); default FLOOR 1e-3 max|f|), "
            "normal[:MU,SIGMA] or a positive weight expression in x.",
        ),
    ] = "uniform",
    pole_free: Annotated[
        bool,
        typer.Option(
            "--pole-free",
            metavar="",
            help="plain form: require Q > 0 on the whole real line (a constraint).",
        ),
    ] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Best uniform (minimax) rational fit, with a certified lower bound on the best error."""
    from actfit.approx.minimax import fit_minimax

    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = run_fit(
        fit_minimax, _label("minimax", tgt, m_n, form), tgt, m_n, a_b,
        form=form, weight=weight, pole_free=pole_free, allow_poles=allow_poles,
    )
    emit(fit, out, as_json, plot)


# ---- plot, check, table: figures, verifying any coefficient table, batch tables -----------
FormReadOpt = Annotated[
    str | None,
    typer.Option(
        "--form",
        metavar="FORM",
        help="Evaluate the tables in this form (plain, safe, abs, or C = 0.1 + |...|); "
        "overrides the file's, required for KAT-style files.",
    ),
]


@_command("check", "actfit check pau_init.json --all (or: actfit check gelu.json --form abs)")
def check_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="Coefficient file: actfit .json/.npz or tables, rational_activations config, "
            "KAT-style JSON (or use --numerator/--denominator).",
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
            help=f"Range A B (overrides the file's; default {_RANGE_TEXT}).",
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
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Re-evaluate a coefficient table against its target, in the form the runtime uses.

    Prints the error report, the poles (on the range and the whole real line) and a verdict.
    Exit code 1 when a table fails (error above --tol, or a pole on the range), 2 on a user
    error.
    """
    from rich.console import Console

    from actfit.check import check_coefficients, check_file, count_statuses, results_document
    from actfit.errors import ParameterError
    from actfit.export import dumps, write_all
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
    fits = [r.fit for r in results if r.fit is not None]
    if plot is not None and fits:
        write_all([(plot, _plot_writer(fits))])
    if as_json:
        sys.stdout.write(dumps(results_document(results)))
    else:
        from actfit.render import check_report

        console = Console(highlight=False)
        records = not console.is_terminal or console.width < 100
        for part in check_report(results, all_tables=all_tables, records=records):
            console.print(part)
        _wrote(console, [plot if fits else None])
    counts = count_statuses(results)
    if counts["fail"] or counts["skip"]:
        sys.exit(1)  # a failed check: distinct from 2, a user error


@_command("plot", "actfit plot gelu.json gelu_mm.json --out gelu.png --log")
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
    write_all([(out, _plot_writer(fits, margin=margin, log=log, relative=relative))])
    for line in skips:
        console.print(Text(f"skipped {line}", style="yellow"))
    _wrote(console, [out], f" ({len(fits)} fit{'s' * (len(fits) != 1)})")


@_command("table", "actfit table leaky_relu --slopes 0.01,0.2 --orders 5,4 --out pau.json")
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
            help=f"Orders M,N (repeatable, or '5/4 6/5'; or --order; default {_ORDER_TEXT}).",
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
            "md (X.md), tex (X.tex). Repeatable.",
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
    m_ns = parse_orders(orders or [_ORDER_TEXT])
    form_names = parse_forms(forms or ["safe"])
    a_b = check_range(*range_)
    planned = plan_table_outputs(out, formats or [])
    check_outputs(None, plot)
    with table_progress(Console(stderr=True), f"table {method}") as progress:
        fits = fit_table(
            tgts, m_ns, form_names, method=method, range=a_b, weight=weight,
            allow_poles=allow_poles, progress=progress,
        )
    outputs: list[tuple[Path, Callable[[Path], None]]] = [
        (path, _bytes_writer(lambda fmt=fmt: table_bytes(fits, fmt))) for fmt, path in planned
    ]
    if plot is not None:
        outputs.append((plot, _plot_writer(fits)))
    write_all(outputs)
    if as_json:
        sys.stdout.write(dumps(tables_document(fits)))
        return
    console = Console(highlight=False)
    console.print(table_results(fits, method, a_b))
    _wrote(console, [*(path for _, path in planned), plot])


@_command("validate", "actfit validate gelu.json --device cuda --dtype float32,bfloat16")
def validate_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="Table to validate (any format `actfit check` reads)."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name", metavar="KEY",
            help="Which table of a file with several: its key, index or activation name.",
        ),
    ] = None,
    form: FormReadOpt = None,
    device: Annotated[
        str, typer.Option("--device", metavar="DEVICE", help="cpu or cuda.")
    ] = "cpu",
    dtype: Annotated[
        str,
        typer.Option(
            "--dtype",
            metavar="DTYPES",
            help="Comma-separated: float32,bfloat16,float16,float64.",
        ),
    ] = "float32,bfloat16,float16",
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a table in the runtime kernels, per dtype, against float64 and the target.

    Prints per dtype the max abs error vs the rational and vs the target, the NaN/Inf count,
    the gradient agreement with float64 autograd and the throughput (GB/s, and the fraction of
    the device's peak bandwidth on CUDA). Exit code 1 when a check fails, 2 on a user error.
    """
    from rich.console import Console

    from actfit.export import dumps
    from actfit.render import validation_table
    from actfit.runtime.validate import validate

    report = validate(file, device=device, dtypes=dtype, name=name, form=form)
    if as_json:
        sys.stdout.write(dumps(report.to_dict()))
    else:
        Console(highlight=False).print(validation_table(report))
    if not report.passed:
        sys.exit(1)  # a failed check: distinct from 2, a user error


@_command("build-ops", "actfit build-ops")
def build_ops_cmd() -> None:
    """Compile the runtime operators now (they are otherwise compiled on first use).

    The build is cached on disk, keyed by the sources, the compiler flags and the torch
    version, so a second call only loads it.
    """
    from rich.console import Console

    from actfit.runtime import build_ops

    r = build_ops()
    state = "cached" if r.cached else f"built in {r.seconds:.0f} s"
    Console(highlight=False, soft_wrap=True).print(
        f"{r.variant} operators {state}: {r.library}", markup=False
    )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

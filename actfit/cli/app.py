"""The command line's plumbing: the typer app, its error contract, help layout, argument
normalisation, the option types the commands share, and the steps every fit command takes
(validate inputs, run the fitter with progress, write all outputs or none, print).

The commands themselves live in :mod:`actfit.cli.fitting` (targets, lsq, pade, minimax),
:mod:`actfit.cli.tables` (check, plot, table) and :mod:`actfit.cli.runtime` (validate,
build-ops); importing :mod:`actfit.cli` registers them all.
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

__all__ = [
    "COMMAND_ORDER",
    "ORDER_TEXT",
    "RANGE_TEXT",
    "AllowPolesOpt",
    "FormOpt",
    "FormReadOpt",
    "JsonOpt",
    "OrderOpt",
    "OutOpt",
    "ParamOpt",
    "PlotOpt",
    "RangeAutoOpt",
    "RangeOpt",
    "SigmaOpt",
    "SlopeOpt",
    "TargetArg",
    "app",
    "apply_sigma",
    "bytes_writer",
    "check_outputs",
    "command",
    "data_inputs",
    "emit",
    "fit_inputs",
    "fit_label",
    "normalize_args",
    "plot_writer",
    "print_wrote",
    "resolve",
    "run_fit",
]


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
_AUTO_RANGE = ("lsq", "minimax")
"""The commands whose ``--range auto[:TAIL]`` picks the range from ``--weight data:FILE``."""
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

    ``--range auto`` / ``--range auto:TAIL`` (lsq, minimax) becomes the hidden option
    ``--range-auto``.

    Examples:
        >>> normalize_args(["lsq", "gelu", "--range", "-4,4", "--orders=6,5"])
        ['lsq', 'gelu', '--range', '-4', '4', '--order=6,5']
        >>> normalize_args(["lsq", "gelu", "--range", "auto:0.01"])
        ['lsq', 'gelu', '--range-auto', 'auto:0.01']
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
        if name == "--range" and cmd in _AUTO_RANGE:
            text = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            if text.strip().lower().startswith("auto"):
                out += ["--range-auto", text.strip()]
                i += 1 if eq else 2
                continue
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


def command(name: str, example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command with its one-line example shown at the end of its --help."""
    return app.command(name, cls=_Command, epilog=f"Example: {example}")


# ---- options shared by the fit commands ---------------------------------------------------
ORDER_TEXT = ",".join(str(d) for d in DEFAULT_ORDER)
RANGE_TEXT = "{:g} {:g}".format(*DEFAULT_RANGE)
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
        "--range", metavar="A B", help=f"Fit range A B (also A,B; default {RANGE_TEXT}).",
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


SigmaOpt = Annotated[
    float,
    typer.Option(
        "--sigma",
        metavar="S",
        help="Std of the Gaussian input X ~ N(0, S^2) of the initialisation moments and gain.",
    ),
]
RangeAutoOpt = Annotated[
    str | None,
    typer.Option("--range-auto", hidden=True, help="--range auto[:TAIL], rewritten."),
]


def _tail_fraction(text: str) -> float:
    _, sep, tail = text.partition(":")
    if not sep:
        return 0.001
    try:
        return float(tail)
    except ValueError:
        raise ActfitError(
            f"--range {text}: {tail!r} is not a number; use --range auto or auto:TAIL, "
            "e.g. auto:0.001"
        ) from None


def data_inputs(
    weight: str, range_auto: str | None, range_: tuple[float, float]
) -> tuple[tuple[float, float], Any, dict[str, Any] | None]:
    """The range, the weight to pass to the fitter and the settings record of ``--weight
    data:FILE`` (None for other weights); ``--range auto[:TAIL]`` needs such a weight."""
    from actfit.approx.weights import data_file, data_range, data_weight
    from actfit.options import check_range

    path = data_file(weight)
    if range_auto is not None and path is None:
        raise ActfitError(
            f"--range {range_auto} picks the range from recorded samples: give --weight "
            "data:FILE too, or the range as two numbers (--range -3 3)"
        )
    if path is None:
        return range_, weight, None
    tail = None
    if range_auto is not None:
        tail = _tail_fraction(range_auto)
        range_ = data_range(path, tail)
    a_b = check_range(*range_)
    w = data_weight(path, range=a_b)
    record = {
        "description": w.description,
        **w.info,
        "range": "given" if tail is None else f"auto: the {tail:g} and {1 - tail:g} quantiles",
        "quantile": tail,
    }
    return a_b, w, record


def apply_sigma(fit: Fit, sigma: float, data: dict[str, Any] | None = None) -> Fit:
    """The fit with its moments for X ~ N(0, sigma^2) and the data-weight record."""
    import dataclasses

    from actfit.fit import fit_moments, jsonable

    if sigma != 1.0:
        fit = dataclasses.replace(fit, moments=fit_moments(fit.target, fit.rational, sigma))
    if data is not None:
        fit = dataclasses.replace(fit, settings={**fit.settings, "weight_data": jsonable(data)})
    return fit


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


def plot_writer(fits: Sequence[Fit], **options: Any) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        from actfit.plot import plot_fits

        plot_fits(fits, tmp, **options)

    return write


def bytes_writer(data: Callable[[], bytes]) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data())

    return write


def print_wrote(console: Any, paths: Sequence[Path | None], extra: str = "") -> None:
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


def fit_label(method: str, tgt: Target, m_n: tuple[int, int], form: str) -> str:
    from actfit.export.names import target_label

    return f"{method} {target_label(tgt)} [{m_n[0]},{m_n[1]}] {form}"


def emit(fit: Fit, out: Path | None, as_json: bool, plot: Path | None) -> None:
    """Write (all outputs or none), plot and print a finished fit as the options ask."""
    from rich.console import Console

    from actfit.export import dumps, to_document, write_all
    from actfit.export.io import fit_bytes

    outputs: list[tuple[Path, Callable[[Path], None]]] = []
    if out is not None:
        outputs.append((out, bytes_writer(lambda: fit_bytes(fit, out.suffix))))
    if plot is not None:
        outputs.append((plot, plot_writer([fit])))
    write_all(outputs)
    if as_json:
        sys.stdout.write(dumps(to_document(fit)))
        return
    from actfit.render import fit_panel

    console = Console()
    console.print(fit_panel(fit))
    print_wrote(console, [out, plot])


FormReadOpt = Annotated[
    str | None,
    typer.Option(
        "--form",
        metavar="FORM",
        help="Evaluate the tables in this form (plain, safe, abs, or C = 0.1 + |...|); "
        "overrides the file's, required for KAT-style files.",
    ),
]

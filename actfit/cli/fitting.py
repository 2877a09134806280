"""Commands that fit: ``targets`` (what can be fitted), ``lsq``, ``pade``, ``minimax``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from actfit.cli.app import (
    ORDER_TEXT,
    AllowPolesOpt,
    FormOpt,
    JsonOpt,
    OrderOpt,
    OutOpt,
    ParamOpt,
    PlotOpt,
    RangeAutoOpt,
    RangeOpt,
    SigmaOpt,
    SlopeOpt,
    TargetArg,
    apply_sigma,
    command,
    data_inputs,
    emit,
    fit_inputs,
    fit_label,
    run_fit,
)
from actfit.options import DEFAULT_RANGE

if TYPE_CHECKING:
    from actfit.approx.storage import StorageFormat
    from actfit.fit import Fit

CoeffsOpt = Annotated[
    str,
    typer.Option(
        "--coeffs",
        metavar="FORMAT",
        help="Coefficient storage format: float64, float32, bfloat16, float16 or fixed:F "
        "(F fractional bits, 1-62); the fit is re-optimised for it (lattice reduction), and the "
        "report compares it with naive rounding.",
    ),
]
ProveOpt = Annotated[
    bool,
    typer.Option(
        "--prove",
        metavar="",
        help="Prove the max error in ball arithmetic (an enclosure; minimax: a proven upper "
        "bound next to the de la Vallee Poussin lower bound, status 'global, proven').",
    ),
]


_TAIL_TEXT = (
    "free (the unconstrained optimum; it may grow like x^2 or faster outside the range), "
    "linear (M <= N+1, the top denominator coefficient kept away from 0: the table grows at "
    "most linearly; plain form: even N and Q > 0 on the real line) or match (linear with "
    "M = N+1 and the target's slope at +inf; the report says what happens at -inf). "
    "The report gives the cost: the error on the range with and without the tail."
)
TailOpt = Annotated[str, typer.Option("--tail", metavar="TAIL", help=_TAIL_TEXT)]
DtypeOpt = Annotated[
    str,
    typer.Option(
        "--dtype",
        metavar="DTYPE",
        help="plain form: the dtype the table is meant for (float64, float32, float16, "
        "bfloat16); a table that may lose more than half of its digits there is refitted with a "
        "bound on its rounding (the report gives the cost; --allow-poles: not).",
    ),
]


def _check_prove(prove_it: bool, weight: str) -> None:
    """Refuse, before any work, a proof the library cannot give (relative and data weights)."""
    if prove_it and str(weight).strip().lower().startswith(("relative", "data:")):
        from actfit.errors import ParameterError

        raise ParameterError(
            f"--prove has no enclosure of the weight {weight!r} yet (uniform, normal and "
            "expression weights have one); drop --prove or use another weight"
        )


def _proven(fit: Fit, prove_it: bool) -> Fit:
    if not prove_it:
        return fit
    from actfit.fit import prove

    return prove(fit)


def _weighted_fit(
    fitter: Any, method: str, target: str, param: list[str] | None, slope: float | None,
    order: str, range_: Any, form: str, weight: str, range_auto: str | None, coeffs: str,
    prove_it: bool, sigma: float, out: Path | None, as_json: bool, plot: Path | None,
    **options: Any,
) -> None:
    """The steps lsq and minimax share: check every input and output, fit with progress,
    store the coefficients in their format, prove, add the moments, write and print."""
    _parse_coeffs(coeffs)
    _check_sigma(sigma)
    _check_prove(prove_it, weight)
    range_, w, data = data_inputs(weight, range_auto, range_)
    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = run_fit(fitter, fit_label(method, tgt, m_n, form), tgt, m_n, a_b, form=form,
                  weight=w, **options)
    fit = _proven(_stored(fit, coeffs), prove_it)
    emit(apply_sigma(fit, sigma, data), out, as_json, plot)


def _stored(fit: Fit, coeffs: str) -> Fit:
    """The fit in the storage format ``coeffs`` (unchanged for float64)."""
    if _parse_coeffs(coeffs).name == "float64":
        return fit
    from rich.console import Console

    from actfit.approx.storage import store_coefficients
    from actfit.render import fit_progress

    with fit_progress(Console(stderr=True), f"coefficients in {coeffs}") as progress:
        progress(f"storing in {coeffs}", 0.0)
        out = store_coefficients(fit, coeffs)
        progress(f"storing in {coeffs}", 1.0)
    return out


def _parse_coeffs(coeffs: str) -> StorageFormat:
    """Parse ``--coeffs`` before any fitting, so that a bad format fails at once."""
    from actfit.approx.storage import parse_format

    return parse_format(coeffs)


def _check_sigma(sigma: float) -> None:
    """Fail on a bad --sigma before any fitting."""
    import math

    from actfit.errors import ParameterError

    if not (math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"--sigma must be a positive finite number, got {sigma:g}; e.g. 1")


@command("targets", "actfit targets")
def targets_cmd() -> None:
    """List the registry's targets with their formulas and parameters."""
    from rich.console import Console

    from actfit.render import targets_table
    from actfit.targets import list_targets

    Console().print(targets_table(list_targets()))


@command("lsq", "actfit lsq leaky_relu --slope 0.2 --order 5,4 --range -3 3 --out lr.json")
def lsq_cmd(
    target: TargetArg,
    order: OrderOpt = ORDER_TEXT,
    range_: RangeOpt = DEFAULT_RANGE,
    form: FormOpt = "safe",
    param: ParamOpt = None,
    slope: SlopeOpt = None,
    weight: Annotated[
        str,
        typer.Option(
            "--weight",
            metavar="WEIGHT",
            help="uniform, normal[:MU,SIGMA], a density expression in x, e.g. 'exp(-x^2/2)', "
            "or data:FILE (the density of recorded pre-activations, .npy/.npz/.pt; "
            "with --range auto[:TAIL] the range is their TAIL quantiles, default 0.001).",
        ),
    ] = "uniform",
    tail: TailOpt = "free",
    dtype: DtypeOpt = "float32",
    coeffs: CoeffsOpt = "float64",
    prove_it: ProveOpt = False,
    sigma: SigmaOpt = 1.0,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
    range_auto: RangeAutoOpt = None,
) -> None:
    """Least-squares rational fit: the best L2 fit on the range (of many starts; see optimality)."""
    from actfit.approx.lsq import fit_lsq

    _weighted_fit(
        fit_lsq, "lsq", target, param, slope, order, range_, form, weight, range_auto, coeffs,
        prove_it, sigma, out, as_json, plot, allow_poles=allow_poles, tail=tail, dtype=dtype,
    )


@command("pade", "actfit pade gelu --order 4,4 --exact")
def pade_cmd(
    target: TargetArg,
    order: OrderOpt = ORDER_TEXT,
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
    prove_it: ProveOpt = False,
    sigma: SigmaOpt = 1.0,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
) -> None:
    """Padé approximant [M,N] at x0: robust SVD Padé on exact Taylor data (form plain)."""
    from rich.console import Console

    from actfit.approx.pade import fit_pade

    _check_sigma(sigma)
    tgt, m_n, a_b = fit_inputs(target, param, slope, order, range_, out, plot)
    fit = run_fit(
        fit_pade, fit_label("pade", tgt, m_n, form), tgt, m_n,
        center=center, range=a_b, form=form, allow_poles=allow_poles, exact=exact,
    )
    fit = apply_sigma(_proven(fit, prove_it), sigma)
    emit(fit, out, as_json, plot)
    if not as_json:
        from actfit.render import pade_notes

        console = Console(highlight=False)
        for line in pade_notes(fit, exact=exact):
            console.print(line)


@command("minimax", "actfit minimax gelu --order 6,6 --weight relative --out gelu_mm.json")
def minimax_cmd(
    target: TargetArg,
    order: OrderOpt = ORDER_TEXT,
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
            "normal[:MU,SIGMA], a positive weight expression in x, or data:FILE (the density "
            "of recorded pre-activations; with --range auto[:TAIL]).",
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
    dtype: DtypeOpt = "float32",
    min_q: Annotated[
        float | None,
        typer.Option(
            "--min-q",
            metavar="Q",
            help="plain form: require Q >= Q x mean Q on the range (default from --dtype).",
        ),
    ] = None,
    tail: TailOpt = "free",
    coeffs: CoeffsOpt = "float64",
    prove_it: ProveOpt = False,
    sigma: SigmaOpt = 1.0,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    allow_poles: AllowPolesOpt = False,
    range_auto: RangeAutoOpt = None,
) -> None:
    """Best uniform (minimax) rational fit, with a certified lower bound on the best error."""
    from actfit.approx.minimax import fit_minimax

    _weighted_fit(
        fit_minimax, "minimax", target, param, slope, order, range_, form, weight, range_auto,
        coeffs, prove_it, sigma, out, as_json, plot, pole_free=pole_free,
        allow_poles=allow_poles, dtype=dtype, min_q=min_q, tail=tail,
    )

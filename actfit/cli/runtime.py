"""Commands of the runtime: ``validate`` (a table in the kernels, per dtype), ``build-ops``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from actfit.cli.app import (
    FormReadOpt,
    JsonOpt,
    command,
)


@command("validate", "actfit validate gelu.json --device cuda --dtype float32,bfloat16")
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
    exhaustive: Annotated[
        bool,
        typer.Option(
            "--exhaustive",
            metavar="",
            help="Also evaluate every bit pattern of the 16-bit dtypes of --dtype (CPU, and "
            "CUDA where present): approximation vs evaluation error, in ulps.",
        ),
    ] = False,
    exhaustive_float32: Annotated[
        bool,
        typer.Option(
            "--exhaustive-float32",
            metavar="",
            help="With --exhaustive: also every float32 in the range (about 2^31 values "
            "around 0: minutes).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a table in the runtime kernels, per dtype, against float64 and the target.

    Prints per dtype the max abs error vs the rational and vs the target, the NaN/Inf count,
    the gradient agreement with float64 autograd and the throughput (GB/s, and the fraction of
    the device's peak bandwidth on CUDA). With --exhaustive, also the sweep over every input
    of bfloat16/float16 (those in --dtype; float32 with --exhaustive-float32): key
    "exhaustive" in --json. Exit code 1 when a check fails, 2 on a user error.
    """
    from rich.console import Console

    from actfit.errors import ParameterError
    from actfit.export import dumps
    from actfit.render import validation_table
    from actfit.runtime.validate import validate

    if exhaustive_float32 and not exhaustive:
        raise ParameterError("--exhaustive-float32 adds float32 to --exhaustive; give both")
    report = validate(file, device=device, dtypes=dtype, name=name, form=form)
    sweep = None
    if exhaustive:
        from actfit.runtime.exhaustive import exhaustive as run_exhaustive

        wanted = [r.dtype for r in report.rows if r.dtype in ("bfloat16", "float16")]
        if exhaustive_float32:
            wanted.append("float32")
        if not wanted:
            raise ParameterError(
                "--exhaustive covers bfloat16 and float16 (and float32 with "
                "--exhaustive-float32): add one of them to --dtype"
            )
        sweep = run_exhaustive(file, wanted, name=name, form=form)
    if as_json:
        doc = report.to_dict()
        if sweep is not None:
            doc["exhaustive"] = sweep.to_dict()
        sys.stdout.write(dumps(doc))
    else:
        console = Console(highlight=False)
        console.print(validation_table(report))
        if sweep is not None:
            from actfit.render import exhaustive_table

            console.print(exhaustive_table(sweep))
    if not report.passed or (sweep is not None and not sweep.passed):
        sys.exit(1)  # a failed check: distinct from 2, a user error


@command("build-ops", "actfit build-ops")
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

"""Fit a PAU-style initialisation table for leaky ReLU, write it in three formats and plot it.

Padé Activation Units (Molina, Schramowski and Kersting, ICLR 2020) are initialised from
rational fits of a standard activation; their appendix tabulates [5, 4] coefficients in the
"safe" denominator form Q(x) = 1 + Σ|b_k||x|^k for leaky ReLU with several negative slopes.
This script produces such a table with actfit's least-squares fitter on [-3, 3]:

* ``pau_leaky_relu.json`` — actfit's multi-table file (every fit with its reports);
* ``pau_leaky_relu.rational_activations.json`` — rational_activations' config format;
* ``pau_leaky_relu.md`` — a Markdown table of coefficients and errors;
* ``pau_leaky_relu.png`` — target, fits and error curves;

then re-checks the rational_activations file the way ``actfit check --all`` would.

Usage::

    python examples/pau_leaky_relu_table.py [OUT_DIR]      # default: the current folder

The same from the shell::

    actfit table leaky_relu --slopes 0.01,0.2,0.25,0.3,-0.5 --orders 5,4 --form safe \\
        --out pau_leaky_relu.json --format rational_activations --format md \\
        --plot pau_leaky_relu.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from actfit.batch import expand_targets, fit_table
from actfit.check import check_file
from actfit.export.table import plan_table_outputs, write_table
from actfit.plot import plot_fits

SLOPES = (0.01, 0.2, 0.25, 0.3, -0.5)


def main(out_dir: Path) -> int:
    """Fit, write, plot and check the table; return 0 when every entry passes its check."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = expand_targets(["leaky_relu"], slopes=SLOPES)
    # Every output is named and checked before the (slow) fitting starts.
    outputs = plan_table_outputs(out_dir / "pau_leaky_relu.json", ["rational_activations", "md"])

    def progress(done: int, total: int, label: str) -> None:
        if done < total:
            print(f"[{done + 1}/{total}] {label}")

    # PAU's appendix tables: [5, 4] on [-3, 3] (the paper's choice, not actfit's defaults).
    fits = fit_table(
        targets, [(5, 4)], ["safe"], method="lsq", range=(-3.0, 3.0), progress=progress
    )
    for fmt, path in outputs:
        print("wrote", write_table(fits, path, fmt))
    print("wrote", plot_fits(fits, out_dir / "pau_leaky_relu.png"))

    results = check_file(dict(outputs)["rational_activations"], all_tables=True)
    for r in results:
        print(f"{r.key:45s} {r.status:4s} max error {r.max_abs:.3e} (tol {r.tol:.3g})")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")))

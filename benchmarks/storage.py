"""Benchmark: coefficients in their storage format, format-aware vs naive round-to-nearest.

For every registry target (default parameters) x orders [3,2], [4,4], [5,4], [6,6] x formats
bfloat16, float16, fixed:12 on [-3, 3]: fit ``fit_lsq(target, order, (-3, 3), form="safe")``
(the float64 start), then :func:`actfit.approx.storage.store_coefficients` with
``prove=False`` (the three errors are actfit's attained max errors, dense grid + refinement: the
proven bound would triple the time of this 2-core run; ``actfit check --prove`` proves any
cell). Reports per cell the float64, naive and format-aware max errors and the ratio
format-aware / naive; the summary counts cells better / equal / worse and the median ratio.

Run from the repository root::

    python benchmarks/storage.py [--targets gelu,silu] [--orders 3,2 5,4]

Writes ``benchmarks/results/storage.json`` and ``benchmarks/results/storage.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actfit.approx.lsq import fit_lsq  # noqa: E402
from actfit.approx.storage import is_representable, store_coefficients  # noqa: E402
from actfit.errors import ActfitError  # noqa: E402
from actfit.targets import get_target, list_targets  # noqa: E402

RANGE = (-3.0, 3.0)
ORDERS = [(3, 2), (4, 4), (5, 4), (6, 6)]
FORMATS = ["bfloat16", "float16", "fixed:12"]


def _summary(cells: list[dict]) -> dict:
    done = [c for c in cells if "ratio" in c]
    better = sum(c["error_stored"] < c["error_naive"] for c in done)
    equal = sum(c["error_stored"] == c["error_naive"] for c in done)
    worse = sum(c["error_stored"] > c["error_naive"] for c in done)
    per_format = {
        f: statistics.median([c["ratio"] for c in done if c["format"] == f])
        for f in FORMATS if any(c["format"] == f for c in done)
    }
    return {
        "cells": len(done), "skipped": len(cells) - len(done), "better": better,
        "equal": equal, "worse": worse,
        "median_ratio": statistics.median([c["ratio"] for c in done]) if done else None,
        "median_ratio_per_format": per_format,
        "seconds_median": statistics.median([c["seconds"] for c in done]) if done else None,
    }


def _write(cells: list[dict], out: Path, note: str) -> None:
    s = _summary(cells)
    doc = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}",
        "range": list(RANGE), "note": note, "summary": s, "cells": cells,
    }
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = [
        "# Coefficients in their storage format: format-aware vs naive rounding",
        "",
        f"lsq safe fits on [{RANGE[0]:g}, {RANGE[1]:g}] as the float64 start; errors are "
        "attained max errors (dense grid + refinement). " + note,
        "",
        f"**{s['cells']} cells: {s['better']} better, {s['equal']} equal, {s['worse']} worse "
        f"than naive rounding; median ratio format-aware / naive "
        f"{s['median_ratio']:.3g}** (per format: "
        + ", ".join(f"{k} {v:.3g}" for k, v in s["median_ratio_per_format"].items())
        + f"); median time per cell {s['seconds_median']:.2f} s; {s['skipped']} skipped.",
        "",
        "| target | order | format | float64 | naive | format-aware | ratio | s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        if "ratio" not in c:
            lines.append(f"| {c['target']} | {c['order']} | {c['format']} | skipped: "
                         f"{c['skipped']} | | | | |")
            continue
        lines.append(
            f"| {c['target']} | [{c['order'][0]},{c['order'][1]}] | {c['format']} | "
            f"{c['error_float64']:.3e} | {c['error_naive']:.3e} | {c['error_stored']:.3e} | "
            f"{c['ratio']:.3f} | {c['seconds']:.2f} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default=None)
    ap.add_argument("--orders", nargs="*", default=None)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    names = args.targets.split(",") if args.targets else [t.name for t in list_targets()]
    orders = [tuple(int(v) for v in o.split(",")) for o in args.orders] if args.orders else ORDERS
    out = ROOT / "benchmarks" / "results" / "storage"
    cells: list[dict] = []
    warnings.simplefilter("ignore")
    for name in names:
        for order in orders:
            try:
                fit = fit_lsq(get_target(name), order, RANGE, form="safe")
            except ActfitError as exc:
                for fmt in FORMATS:
                    cells.append({"target": name, "order": list(order), "format": fmt,
                                  "skipped": str(exc)})
                continue
            for fmt in FORMATS:
                t0 = time.perf_counter()
                try:
                    s = store_coefficients(fit, fmt, prove=False)
                except ActfitError as exc:
                    cells.append({"target": name, "order": list(order), "format": fmt,
                                  "skipped": str(exc)})
                    continue
                st = s.settings["storage"]
                r = s.rational
                assert is_representable(r.numerator, fmt) and is_representable(r.denominator, fmt)
                naive = st["error_naive"]
                cells.append({
                    "target": name, "order": list(order), "format": fmt,
                    "error_float64": st["error_float64"], "error_naive": naive,
                    "error_stored": st["error_stored"],
                    "ratio": st["error_stored"] / naive if naive > 0 else 1.0,
                    "naive_kept": st["naive_kept"],
                    "seconds": time.perf_counter() - t0,
                })
            _write(cells, out, args.note)
            print(name, order, flush=True)
    _write(cells, out, args.note)


if __name__ == "__main__":
    main()

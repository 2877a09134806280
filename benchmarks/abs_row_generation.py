"""Benchmark of the abs form's LPs by row generation: the same fits with and without it.

Every registry target, abs form, at [2,2]..[6,6] and [5,4] on [-3, 3] and at [4,4]..[6,6] on
[0, 4], [-1, 1] and [-8, 8]. Each cell is fitted with row generation (the default,
``actfit.approx.exchange._ABS_ROW_GENERATION``) and without it (every LP solved whole, as
before), interleaved in one run so that the machine's load hits both alike; each time is the
fastest of ``--repeats``. The figures are the time ratio and the relative difference of the
certified error (upper), with the number of relaxations HiGHS failed on (each then solved
whole, from the last basis). Figures go to ``benchmarks/results/abs-row-generation.json`` and
``.md``.

Run with ``.venv/bin/python benchmarks/abs_row_generation.py [--repeats 2]``.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CELLS = {
    (-3.0, 3.0): [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (5, 4)],
    (0.0, 4.0): [(4, 4), (5, 5), (6, 6)],
    (-1.0, 1.0): [(4, 4), (5, 5), (6, 6)],
    (-8.0, 8.0): [(4, 4), (5, 5), (6, 6)],
}
# A difference of the certified error below this many ulps of max |f| is rounding, and one below
# this relative size is the LPs' tolerance (differential correction stops at ~1e-9 relative, the
# exchange at 1e-7): neither is a change of the result.
ROUNDING_ULPS = 64
TOLERANCE_REL = 1e-6


def _cell(name: str, order: tuple[int, int], rng: tuple[float, float], repeats: int) -> dict:
    import actfit.approx.exchange as exchange
    import actfit.approx.lp as lp
    from actfit.approx.minimax import fit_minimax
    from actfit.targets import get_target

    target = get_target(name)
    fails = [0]
    solve = lp._HighsLP._solve_by_rows

    def counted(self, *args):  # type: ignore[no-untyped-def]
        x = solve(self, *args)
        fails[0] += x is None
        return x

    row = {"target": name, "order": list(order), "range": list(rng),
           "kinked": bool([k for k in target.kinks if rng[0] <= k <= rng[1]])}
    lp._HighsLP._solve_by_rows = counted
    try:
        for mode in (False, True):
            exchange._ABS_ROW_GENERATION = mode
            fails[0] = 0
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = fit_minimax(target, order, rng, form="abs", allow_poles=True)
                best = min(best, time.perf_counter() - t0)
            key = "rows" if mode else "whole"
            row[f"{key}_seconds"] = best
            row[f"{key}_upper"] = fit.certificate.upper
            if mode:
                row["failed_relaxations"] = fails[0] // repeats
    finally:
        exchange._ABS_ROW_GENERATION = True
        lp._HighsLP._solve_by_rows = solve
    import numpy as np

    scale = float(np.max(np.abs(target(np.linspace(*rng, 1001))))) or 1.0
    floor = ROUNDING_ULPS * np.finfo(float).eps * scale
    diff = row["rows_upper"] - row["whole_upper"]
    row["rel_diff"] = diff / row["whole_upper"] if row["whole_upper"] > 0 else 0.0
    row["changed"] = bool(abs(diff) > floor and abs(row["rel_diff"]) > TOLERANCE_REL)
    row["ratio"] = row["rows_seconds"] / row["whole_seconds"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--targets", nargs="*", default=None)
    args = parser.parse_args()
    from actfit.approx.minimax import fit_minimax
    from actfit.targets import get_target, list_targets

    fit_minimax(get_target("tanh"), (2, 2), (-1.0, 1.0), form="plain")  # imports, once
    names = args.targets or [t.name for t in list_targets()]
    t0 = time.perf_counter()
    rows = [
        _cell(name, order, rng, args.repeats)
        for rng, orders in CELLS.items() for name in names for order in orders
    ]
    meta = {"python": sys.version.split()[0], "machine": platform.platform(),
            "cpus": os.cpu_count(), "repeats": args.repeats,
            "wall_seconds": time.perf_counter() - t0}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "abs-row-generation.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        "# abs form: LPs by row generation against whole LPs",
        "",
        f"{len(rows)} fits x 2, {meta['wall_seconds']:.0f} s wall, time the fastest of "
        f"{args.repeats}; `ratio` = time with row generation / without; `rel diff` = relative "
        "difference of the certified error (with - without) / without; a cell *changed* when "
        f"that is beyond both {ROUNDING_ULPS} ulps of max |f| (rounding) and {TOLERANCE_REL:g} "
        "relative (the LPs' tolerance); `failed` = relaxations HiGHS failed on per fit (then "
        "solved whole).",
        "",
        "| range | orders | cells | ratio median | ratio min | ratio max | smooth [6,6] max s "
        "(without -> with) | kinked [6,6] max s (without -> with) | changed, worse | "
        "changed, better |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    detail = []
    for rng in CELLS:
        part = [r for r in rows if tuple(r["range"]) == rng]
        ratios = [r["ratio"] for r in part]

        def top(rs: list[dict], key: str) -> str:
            return f"{max(r[key] for r in rs):.2f}" if rs else "-"

        s66 = [r for r in part if r["order"] == [6, 6] and not r["kinked"]]
        k66 = [r for r in part if r["order"] == [6, 6] and r["kinked"]]
        worse = [r for r in part if r["changed"] and r["rel_diff"] > 0]
        better = [r for r in part if r["changed"] and r["rel_diff"] < 0]
        orders = " ".join(f"[{m},{n}]" for m, n in CELLS[rng])
        lines.append(
            f"| [{rng[0]:g}, {rng[1]:g}] | {orders} | {len(part)} | "
            f"{statistics.median(ratios):.2f} | {min(ratios):.2f} | {max(ratios):.2f} | "
            f"{top(s66, 'whole_seconds')} -> {top(s66, 'rows_seconds')} | "
            f"{top(k66, 'whole_seconds')} -> {top(k66, 'rows_seconds')} | {len(worse)} | "
            f"{len(better)} |"
        )
        detail += [r for r in part if r["changed"]]
    lines += ["", "Cells whose certified error changed (beyond rounding and the LP tolerance):", "",
              "| target | range | order | without | with | rel diff | failed |",
              "|---|---|---|---|---|---|---|"]
    for r in detail:
        lines.append(
            f"| {r['target']} | [{r['range'][0]:g}, {r['range'][1]:g}] | "
            f"[{r['order'][0]},{r['order'][1]}] | {r['whole_upper']:.6e} | {r['rows_upper']:.6e} "
            f"| {r['rel_diff']:+.1e} | {r['failed_relaxations']} |"
        )
    (out / "abs-row-generation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Benchmark of ``actfit minimax``: time and certified gap for every registry target.

Default run (the issue's table): all registry targets at the default parameters, orders [2,2],
[3,3], [4,4], [5,5], [6,6] and [5,4], plain form, on [-3, 3]. ``--sweep`` runs the quality sweep
of every order [m, n] with m, n <= 6 instead. ``--form`` picks the denominator form. Figures go to
``benchmarks/results/minimax[-<tag>].json`` and ``.md`` (``--out DIR``: to another folder). It
benchmarks the actfit of the checkout it lies in, not whichever one is installed.

Run with ``.venv/bin/python benchmarks/minimax.py [--sweep] [--form plain] [--jobs 2]
[--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GAP_GOAL = 1e-3
TIME_GOAL = {"smooth": 0.5, "kinked": 2.0}


_WARM = False


def _one(args: tuple[str, int, int, str, float, float, int]) -> dict:
    global _WARM
    name, m, n, form, a, b, repeats = args
    from actfit.approx.minimax import fit_minimax
    from actfit.targets import get_target

    if not _WARM:  # time the fits, not the first imports of scipy.optimize and friends
        fit_minimax(get_target("tanh"), (2, 2), (-1.0, 1.0), form="plain")
        _WARM = True

    target = get_target(name)
    kinked = bool([k for k in target.kinks if a <= k <= b])
    row = {"target": name, "order": [m, n], "form": form, "kinked": kinked}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_minimax(target, (m, n), (a, b), form=form, allow_poles=True)
        row["seconds"] = time.perf_counter() - t0
        for _ in range(repeats - 1):  # the fastest of the repeats: the machine's noise is additive
            t1 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_minimax(target, (m, n), (a, b), form=form, allow_poles=True)
            row["seconds"] = min(row["seconds"], time.perf_counter() - t1)
        cert = fit.certificate
        scale = float(abs(target([a, b])).max()) or 1.0
        row.update(
            status=cert.status,
            upper=cert.upper,
            lower=cert.lower,
            gap=cert.gap,
            exact=bool(cert.upper <= 1e-12 * max(scale, 1.0)),
            poles_on_real_line=list(fit.poles.poles_on_real_line),
            poles_on_range=list(fit.poles.poles_on_range),
            rounds=fit.settings["exchange_rounds"],
            lps=fit.settings["linear_programs"],
            notes=list(fit.settings.get("notes", [])),
            warnings=[str(w.message) for w in caught],
        )
    except Exception as exc:  # a benchmark records failures and goes on
        row["seconds"] = time.perf_counter() - t0
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    return row


def _verdict(row: dict) -> str:
    if row["status"] == "error":
        return "ERROR"
    if row.get("exact"):
        return "exact"
    if row["form"] == "abs":
        return "local"  # abs: no lower bound (the zeros of B in Q = 1 + |B| are free)
    if row["form"] == "safe":
        # safe: a Farkas certificate of the discrete problem (actfit.approx.farkas_bound) or the
        # plain class on each side of 0 (actfit.approx.safe_bound)
        ok = row["status"] == "global" and row["gap"] is not None and row["gap"] <= GAP_GOAL
        return "ok" if ok else ("local+bound" if row["lower"] is not None else "local")
    ok_gap = row["status"] == "global" and row["gap"] is not None and row["gap"] <= GAP_GOAL
    return "ok" if ok_gap else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="all orders m, n <= 6")
    parser.add_argument("--form", default="plain")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1,
                        help="time each fit this many times and keep the fastest")
    parser.add_argument("--range", nargs=2, type=float, default=(-3.0, 3.0))
    parser.add_argument("--targets", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=None, help="folder for the figures")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the .md from the stored .json"
    )
    args = parser.parse_args()
    from actfit.targets import list_targets

    names = args.targets or [t.name for t in list_targets()]
    if args.sweep:
        orders = [(m, n) for m in range(7) for n in range(7)]
    else:
        orders = [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (5, 4)]
    a, b = args.range
    tag = ("-sweep" if args.sweep else "") + ("" if args.form == "plain" else f"-{args.form}")
    if (a, b) != (-3.0, 3.0):
        tag += f"-range{a:g}_{b:g}"
    out = args.out or Path(__file__).parent / "results"
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        doc = json.loads((out / f"minimax{tag}.json").read_text())
        _render(doc["meta"], doc["rows"], out / f"minimax{tag}.md")
        return
    tasks = [(t, m, n, args.form, a, b, args.repeats) for t in names for m, n in orders]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(_one, tasks, chunksize=4))
    else:
        rows = [_one(t) for t in tasks]
    wall = time.perf_counter() - t0
    for r in rows:
        r["verdict"] = _verdict(r)
        kind = "kinked" if r.get("kinked") else "smooth"
        r["time_ok"] = r["seconds"] <= TIME_GOAL[kind] if r["order"] == [6, 6] else None
    meta = {
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "jobs": args.jobs,
        "repeats": args.repeats,
        "wall_seconds": wall,
        "range": [a, b],
        "form": args.form,
    }
    (out / f"minimax{tag}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    _render(meta, rows, out / f"minimax{tag}.md")


def _render(meta: dict, rows: list[dict], path: Path) -> None:
    form = meta["form"]
    a, b = meta["range"]
    for r in rows:
        r["verdict"] = _verdict(r)
    goal = (
        f"goal: certified gap <= {GAP_GOAL:g} ('exact': the target is reproduced to rounding, "
        "gap meaningless)"
        if form == "plain"
        else (
            "safe form: proven lower bound from a Farkas certificate of the discrete problem on "
            "the fit's extremal points, checked in exact rational arithmetic, or from the plain "
            "class on each side of 0 (de la Vallée Poussin on [a, 0] and [0, b]), whichever is "
            "larger; 'local+bound': proven bound, gap above the threshold, so still a local "
            "optimum"
            if form == "safe"
            else f"{form} form: reported as a local optimum without a lower bound (the zeros of "
            "B in Q = 1 + |B| are free: no fixed part of the range carries a rational class)"
        )
    )
    lines = [
        f"# actfit minimax benchmark ({form} form, range [{a:g}, {b:g}])",
        "",
        f"{len(rows)} fits, {meta['wall_seconds']:.1f} s wall on {meta['cpus']} CPUs with "
        f"{meta['jobs']} job(s), time the fastest of {meta.get('repeats', 1)} run(s); {goal}; "
        "time goal at [6,6]: smooth < 0.5 s, kinked < 2 s "
        "(kinked: a kink inside the range).",
        "",
        "| target | order | time s | status | upper | lower | gap | poles (real line) | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] == "error":
            lines.append(
                f"| {r['target']} | {r['order']} | {r['seconds']:.2f} | error | | | | | "
                f"{r['error'][:80]} |"
            )
            continue
        gap = "" if r["gap"] is None else f"{r['gap']:.1e}"
        low = "" if r["lower"] is None else f"{r['lower']:.4e}"
        poles = ", ".join(f"{p:.3g}" for p in r["poles_on_real_line"])
        slow = "" if r["time_ok"] in (None, True) else " SLOW"
        lines.append(
            f"| {r['target']} | [{r['order'][0]},{r['order'][1]}] | {r['seconds']:.2f} | "
            f"{r['status']} | {r['upper']:.4e} | {low} | {gap} | {poles} | {r['verdict']}{slow} |"
        )
    misses = [r for r in rows if r["verdict"] in ("MISS", "ERROR")]
    slow = [r for r in rows if r["time_ok"] is False]
    t66 = [r["seconds"] for r in rows if r["order"] == [6, 6]]
    gaps = [r["gap"] for r in rows if r["verdict"] == "ok"]
    lines += [
        "",
        f"Misses (gap > {GAP_GOAL:g} or not certified): "
        + (", ".join(f"{r['target']} {r['order']}" for r in misses) or "none"),
        "",
        "Over the time goal at [6,6]: "
        + (", ".join(f"{r['target']} ({r['seconds']:.2f} s)" for r in slow) or "none"),
        "",
        f"Slowest [6,6] fit: {max(t66):.2f} s." if t66 else "",
        f"Largest certified gap: {max(gaps):.1e}." if gaps else "",
        "",
    ]
    path.write_text("\n".join(lines))
    print("\n".join(lines[-8:]))


if __name__ == "__main__":
    main()

"""Benchmark of the conditioning report over the minimax sweep (issue 18: near-poles).

Every registry target (``benchmarks/minimax.py``'s list) at orders [2,2] .. [8,8], plain form,
``allow_poles=True``, on [-3, 3] and [0, 4]: per fit, ``min |Q|`` on the range, the condition of
``Q``, the worst-case digits lost in float64 / float32 / bfloat16
(:mod:`actfit.approx.conditioning`, Higham 2002 §5.1) and the distance of the nearest complex zero
of ``Q`` to the range. A table is *below the float32 threshold* when float32 evaluation may lose
more than half of its digits (the report's warning). Figures go to
``benchmarks/results/conditioning.json`` and ``.md``.

Run with ``.venv/bin/python benchmarks/conditioning.py [--jobs 2] [--targets gelu tanh]``.
``--constrained`` fits without ``allow_poles``: the fitter's guard for float32
(``dtype="float32"``; :mod:`actfit.approx.q_floor`) is then active, and the figures go to
``conditioning-constrained.*``: the summary counts the tables still below the float32 threshold
and the error each constraint cost. ``--method lsq`` runs the least-squares fitter (plain form,
its guard :mod:`actfit.approx.lsq_floor`) instead, by default at [4,4] and [6,6] on [0, 4]
(``conditioning-lsq[-constrained].*``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ORDERS = [(k, k) for k in range(2, 9)]
RANGES = [(-3.0, 3.0), (0.0, 4.0)]


LSQ_ORDERS = [(4, 4), (6, 6)]
LSQ_RANGES = [(0.0, 4.0)]


def _cost(fit: object) -> tuple[bool, float | None, float | None, str]:
    """Whether the guard refitted, the max error without and with, and the constraint."""
    s = fit.settings  # type: ignore[attr-defined]
    if "q_bound" in s:
        qb = s["q_bound"]
        return True, qb["max_error_without"], qb["max_error_with"], qb["constraint"]
    if s.get("min_q_active", False):
        c = s["min_q_cost"]
        return True, c["error_without"], c["error_with"], s.get("q_constraint", "")
    return False, None, None, ""


def _one(args: tuple[str, int, int, float, float, bool, str]) -> dict:
    name, m, n, a, b, allow, method = args
    from actfit.approx.lsq import fit_lsq
    from actfit.approx.minimax import fit_minimax
    from actfit.targets import get_target

    fitter = fit_lsq if method == "lsq" else fit_minimax
    row: dict = {"target": name, "order": [m, n], "range": [a, b]}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fitter(get_target(name), (m, n), (a, b), form="plain", allow_poles=allow)
    except Exception as exc:  # a benchmark records failures and goes on
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
        return row
    p, c = fit.poles, fit.poles.conditioning
    active, without, with_, constraint = _cost(fit)
    row.update(
        status=fit.certificate.status if fit.certificate else "none",
        min_q_active=active,
        error_without=without,
        error_with=with_,
        constraint=constraint,
        seconds=time.perf_counter() - t0,
        max_abs=fit.errors.max_abs,
        poles_on_range=len(p.poles_on_range),
        real_poles=len(p.poles_on_real_line),
        min_abs_q=p.min_abs_q,
        cond_q=c.cond_q,
        digits_lost={d.dtype: d.digits_lost for d in c.dtypes},
        bound={d.dtype: d.bound for d in c.dtypes},
        warns={d.dtype: d.warns for d in c.dtypes},
        complex_zero=c.complex_zero,
        complex_zero_distance=c.complex_zero_distance,
        f64_bound_vs_error=(c.dtype("float64").bound / fit.errors.max_abs)
        if fit.errors.max_abs > 0
        else None,
    )
    return row


def _fmt(v: float | None, spec: str = ".2e") -> str:
    if v is None:
        return "-"
    return "inf" if math.isinf(v) else format(v, spec)


def _render(meta: dict, rows: list[dict], path: Path, title: str) -> None:
    ok = [r for r in rows if r["status"] != "error"]
    clean = [r for r in ok if not r["poles_on_range"]]
    # below the float32 threshold: every table the report warns about for float32, a table with
    # a pole on the range included
    below = [r for r in ok if r["warns"]["float32"] or r["poles_on_range"]]
    f64 = [r for r in clean if r["warns"]["float64"]]
    useless = [r for r in clean if math.isinf(r["bound"]["float32"])]
    active = [r for r in ok if r.get("min_q_active", False)]
    ratios = sorted(
        r["error_with"] / r["error_without"] for r in active
        if r.get("error_without") and r.get("error_with") is not None
    )
    cost = (
        f"; error with / without the constraint: median {ratios[len(ratios) // 2]:.3g}, "
        f"max {ratios[-1]:.3g}" if ratios else ""
    )
    lines = [
        f"# Conditioning of the {meta['method']} sweep ({title})",
        "",
        f"{len(rows)} fits ({meta['targets']} targets x orders {meta['orders']} x ranges "
        f"{meta['ranges']}), {meta['seconds']:.0f} s on {meta['machine']}; "
        f"{len(rows) - len(ok)} errors, {len(ok) - len(clean)} with a real pole on the range.",
        "",
        f"**{len(below)} of the {len(ok)} tables are below the float32 threshold** (float32 may "
        "lose more than half of its 7.2 digits, or a pole on the range), "
        f"{len(useless)} with an infinite float32 bound (the computed Q may vanish); "
        f"{len(f64)} lose more than half of float64's digits; the fitter's constraint on Q was "
        f"active in {len(active)}{cost}.",
        "",
        "| target | order | range | status | max err | err without | min abs Q | cond Q "
        "| lost f64 | lost f32 | lost bf16 | complex zero dist. | f32 warns |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] == "error":
            lines.append(f"| {r['target']} | {r['order']} | {r['range']} | error | "
                         f"{r['error'][:60]} ||||||||")
            continue
        lost = r["digits_lost"]
        lines.append(
            f"| {r['target']} | [{r['order'][0]},{r['order'][1]}] | "
            f"[{r['range'][0]:g},{r['range'][1]:g}] | {r['status']} | {_fmt(r['max_abs'])} | "
            f"{_fmt(r.get('error_without'))} | "
            f"{_fmt(r['min_abs_q'])} | {_fmt(r['cond_q'])} | {lost['float64']:.1f} | "
            f"{lost['float32']:.1f} | {lost['bfloat16']:.1f} | "
            f"{_fmt(r['complex_zero_distance'], '.3g')} | "
            f"{'POLE' if r['poles_on_range'] else ('yes' if r['warns']['float32'] else '')} |"
        )
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--targets", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--constrained", action="store_true",
                        help="without allow_poles: the fitter's guard for float32")
    parser.add_argument("--method", choices=("minimax", "lsq"), default="minimax")
    args = parser.parse_args()
    from actfit.targets import list_targets

    names = args.targets or [t.name for t in list_targets()]
    allow = not args.constrained
    orders, ranges = (LSQ_ORDERS, LSQ_RANGES) if args.method == "lsq" else (ORDERS, RANGES)
    tasks = [
        (t, m, n, a, b, allow, args.method) for t in names for m, n in orders for a, b in ranges
    ]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(_one, tasks, chunksize=2))
    else:
        rows = [_one(t) for t in tasks]
    meta = {
        "method": args.method,
        "orders": ", ".join(f"[{m},{n}]" for m, n in orders),
        "ranges": ", ".join(f"[{a:g},{b:g}]" for a, b in ranges),
        "targets": len(names),
        "seconds": time.perf_counter() - t0,
        "machine": f"{platform.machine()}, {args.jobs} job(s)",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    from actfit.fit import jsonable

    stem = ("conditioning" if args.method == "minimax" else "conditioning-lsq") + (
        "" if allow else "-constrained"
    )
    title = "plain form, allow_poles" if allow else "plain form, the fitter's guard for float32"
    (args.out / f"{stem}.json").write_text(
        json.dumps({"meta": meta, "rows": jsonable(rows)}, indent=1) + "\n"
    )
    _render(meta, rows, args.out / f"{stem}.md", title)


if __name__ == "__main__":
    main()

"""Benchmark of ``fit_minimax`` (plain) over targets x ranges x types, with an independent check.

Each cell runs :func:`actfit.approx.minimax.fit_minimax` (plain, ``allow_poles=True`` so that the
unconstrained optimum is measured) and records status, certified upper and lower bound, gap and
time; then an *independent* comparison: a differential-correction LP written here from scratch
(Cheney & Loeb 1961; scipy's ``linprog``, cold starts, Barrodale-Powell-Roberts box
``|γ_k| <= 1``) on a fixed fine grid (3000 Chebyshev points plus 60 points a side graded
geometrically toward each kink), whose error is then measured on a finer check grid (20001
points plus graded ones); ``ratio`` = actfit's upper / the LP's error.

A second independent column: baryrat's BRASIL (Hofreither, "An algorithm for best rational
approximation based on barycentric rational interpolation", Numer. Algorithms 88 (2021),
365-388; the pip package ``baryrat``, the optional extra ``bench``, never imported by actfit).
Its result is measured *the same way as actfit's upper bound*: the max of ``|f - r|`` over
actfit's dense grid with the refined extrema and the interval-wise maximum
(:func:`actfit.approx.extrema.error_extrema`, :func:`actfit.approx.metrics.max_error`), on the
barycentric rational evaluated in float64. ``vs_brasil`` = (actfit upper - BRASIL error) /
BRASIL error; a cell where actfit is worse by more than 0.1% beyond the float64 rounding level
of the target (64 ulps) is counted in the results file.

The default grid: relu, elu, swish, gelu, tanh, sigmoid on [-1,1], [-3,3], [-8,8], [0,4] at
[6,6], [8,8], [10,10] and [12,12], plus leaky_relu and selu [12,12] on [-3,3] and abs [12,12] on
[-1,1]. ``--quick`` keeps [8,8] on [-3,3] only; ``--cells`` names cells.

Run with ``nice -n 10 .venv/bin/python benchmarks/minimax_grid.py [--quick] [--jobs 1]
[--no-brasil] [--out DIR] [--cells TARGET:A,B:M,N ...]``; results go to
``benchmarks/results/minimax-grid.json`` and ``.md``. ``--cells`` runs only the cells given
(e.g. ``--cells relu:-3,3:12,12 elu:-3,3:12,12``; best with ``--out`` elsewhere, since the
results files are the whole grid's).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GAP_GOAL = 1e-3
TARGETS = ("relu", "elu", "swish", "gelu", "tanh", "sigmoid")
RANGES = ((-1.0, 1.0), (-3.0, 3.0), (-8.0, 8.0), (0.0, 4.0))
TYPES = ((6, 6), (8, 8), (10, 10), (12, 12))
# More kinked targets at the degree limit (the barycentric path): a slope jump (leaky_relu), a
# jump in f' with a smooth side (selu) and |x| itself (checked against BRASIL's E(sqrt) in
# tests/test_minimax_kinked_high.py).
EXTRA = (("leaky_relu", (-3.0, 3.0), (12, 12)), ("selu", (-3.0, 3.0), (12, 12)),
         ("abs", (-1.0, 1.0), (12, 12)))


def _grid(a: float, b: float, kinks, cheb: int, graded: int) -> np.ndarray:
    x = [0.5 * (a + b) - 0.5 * (b - a) * np.cos(np.linspace(0.0, np.pi, cheb))]
    for k in kinks:
        if a < k < b:
            for side, length in ((-1.0, k - a), (1.0, b - k)):
                x.append(k + side * np.geomspace(1e-8 * length, length, graded))
    return np.unique(np.clip(np.concatenate(x), a, b))


def independent_lp(target, m: int, n: int, a: float, b: float, maxiter: int = 60) -> float:
    """Differential correction on a fixed fine grid with ``linprog``; the max error of its
    result on a finer check grid (an independent estimate of the best error)."""
    from numpy.polynomial import chebyshev as C
    from scipy.optimize import linprog

    kinks = tuple(getattr(target, "kinks", ()))
    x = _grid(a, b, kinks, 3000, 60)
    t = (2 * x - a - b) / (b - a)
    f = np.asarray(target(x), dtype=float)
    ps, ph = C.chebvander(t, m), C.chebvander(t, n)
    gamma = np.zeros(n + 1)
    gamma[0] = 1.0
    alpha = np.linalg.lstsq(ps, f, rcond=None)[0]
    delta = float(np.max(np.abs(f - ps @ alpha)))
    for _ in range(maxiter):
        q = ph @ gamma
        # min z s.t. |f Q' - P'| - delta Q' <= z q, |γ'| <= 1 (variables α', γ', z).
        rows = np.vstack([
            np.hstack([-ps, ((f - delta)[:, None] * ph), -q[:, None]]),
            np.hstack([ps, ((-f - delta)[:, None] * ph), -q[:, None]]),
        ])
        bounds = [(None, None)] * (m + 1) + [(-1.0, 1.0)] * (n + 1) + [(None, None)]
        cost = np.zeros(m + n + 3)
        cost[-1] = 1.0
        res = linprog(cost, A_ub=rows, b_ub=np.zeros(rows.shape[0]), bounds=bounds,
                      method="highs")
        if res.status != 0:
            break
        a_new, g_new = res.x[: m + 1], res.x[m + 1 : m + n + 2]
        q_new = ph @ g_new
        if not np.all(q_new > 0):
            break
        d_new = float(np.max(np.abs(f - (ps @ a_new) / q_new)))
        if not d_new < delta:
            break
        improvement = (delta - d_new) / delta
        alpha, gamma, delta = a_new, g_new, d_new
        if improvement < 1e-10:
            break
    xc = _grid(a, b, kinks, 20001, 200)
    tc = (2 * xc - a - b) / (b - a)
    with np.errstate(all="ignore"):
        e = np.asarray(target(xc), float) - C.chebval(tc, alpha) / C.chebval(tc, gamma)
    return float(np.max(np.abs(e)))


def measured_error(target, fn, a: float, b: float) -> float:
    """``max |f - fn|`` on ``[a, b]`` measured as actfit measures its own upper bound (dense grid
    with the special points, refined extrema, interval-wise maximum)."""
    from actfit.approx.certificate import special_points
    from actfit.approx.extrema import dense_grid, error_extrema
    from actfit.approx.metrics import max_error

    def err(x):
        with np.errstate(all="ignore"):
            x = np.asarray(x, dtype=float)
            return np.asarray(target(x), dtype=float) - np.asarray(fn(x), dtype=float)

    fixed = special_points(a, b, tuple(getattr(target, "kinks", ())), "plain")
    _xs, es, finite = error_extrema(err, dense_grid(a, b, special=fixed), fixed)
    if not finite:
        return float("inf")
    upper, _ = max_error(err, a, b, tuple(fixed))
    return max(float(np.max(np.abs(es))), float(upper))


def brasil_error(target, m: int, n: int, a: float, b: float) -> dict:
    """BRASIL's best approximation of type [m, n] (baryrat 2.1.2), measured by
    :func:`measured_error`; ``None`` fields when baryrat is missing or fails."""
    try:
        import baryrat
    except ImportError:
        return {"brasil_error": None, "brasil_note": "baryrat not installed"}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r, info = baryrat.brasil(
                lambda x: np.asarray(target(np.asarray(x, dtype=float)), dtype=float),
                (a, b), (m, n), tol=1e-5, maxiter=1000, info=True,
            )
        err = measured_error(target, r, a, b)
        note = "converged" if info.converged else f"not converged (deviation {info.deviation:.1e})"
    except Exception as exc:  # the comparison records failures and goes on
        err, note = None, f"{type(exc).__name__}: {str(exc)[:120]}"
    return {"brasil_error": err, "brasil_note": note,
            "brasil_seconds": time.perf_counter() - t0}


def _cell(name: str, rng: tuple[float, float], order: tuple[int, int],
          brasil: bool = True) -> dict:
    from actfit.approx.minimax import fit_minimax
    from actfit.targets import get_target

    target = get_target(name)
    row: dict = {"target": name, "range": list(rng), "order": list(order)}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_minimax(target, order, rng, form="plain", allow_poles=True)
        c = fit.certificate
        row.update(seconds=time.perf_counter() - t0, status=c.status, upper=c.upper,
                   lower=c.lower, gap=c.gap, detail=c.detail)
    except Exception as exc:  # a benchmark records failures and goes on
        row.update(seconds=time.perf_counter() - t0, status="error", error=str(exc)[:200])
    t1 = time.perf_counter()
    row["lp_error"] = independent_lp(target, *order, *rng)
    row["lp_seconds"] = time.perf_counter() - t1
    if row.get("upper") is not None and row["lp_error"] > 0:
        row["ratio"] = row["upper"] / row["lp_error"]
    if brasil:
        row.update(brasil_error(target, *order, *rng))
        _compare(row, target)
    return row


def _compare(row: dict, target) -> None:
    """``vs_brasil`` and whether actfit is worse than BRASIL by more than 0.1% (beyond the
    target's float64 rounding level, 64 ulps of max |f|)."""
    be, up = row.get("brasil_error"), row.get("upper")
    if be is None or up is None or not np.isfinite(be):
        row["vs_brasil"], row["worse_than_brasil"] = None, False
        return
    a, b = row["range"]
    fmax = float(np.max(np.abs(np.asarray(target(np.linspace(a, b, 257)), dtype=float))))
    floor = 64.0 * float(np.finfo(float).eps) * max(fmax, 1.0)
    row["vs_brasil"] = (up - be) / be if be > 0 else None
    row["worse_than_brasil"] = bool(up > 1.001 * be + floor)


def _cell_task(task: tuple) -> dict:
    return _cell(*task)


def _verdict(row: dict) -> str:
    if row["status"] == "error":
        return "ERROR"
    ok = row["status"] == "global" and row["gap"] is not None and row["gap"] <= GAP_GOAL
    if ok:
        return "ok"
    detail = row.get("detail", "")
    if row["status"] == "global" and ("rounding level" in detail or "At float64" in detail):
        return "float64"
    return "MISS"


def _fmt(v, spec: str) -> str:
    return "" if v is None else format(v, spec)


def _parse_cell(spec: str) -> tuple[str, tuple[float, float], tuple[int, int]]:
    """``"relu:-3,3:12,12"`` -> ``("relu", (-3.0, 3.0), (12, 12))``."""
    name, rng, order = spec.split(":")
    a, b = (float(v) for v in rng.split(","))
    m, n = (int(v) for v in order.split(","))
    return name, (a, b), (m, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--render", action="store_true", help="rewrite the .md from the .json")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (1: in this one)")
    ap.add_argument("--no-brasil", action="store_true", help="skip the BRASIL column")
    ap.add_argument("--cells", nargs="+", metavar="TARGET:A,B:M,N",
                    help="only these cells, e.g. relu:-3,3:12,12")
    args = ap.parse_args()
    if args.render:
        doc = json.loads((Path(args.out) / "minimax-grid.json").read_text())
        for row in doc["rows"]:
            row["verdict"] = _verdict(row)
        _write(doc["rows"], doc["wall_seconds"], Path(args.out))
        return
    cells = [(t, r, o) for o in TYPES for r in RANGES for t in TARGETS]
    cells += list(EXTRA)
    if args.quick:
        cells = [(t, (-3.0, 3.0), (8, 8)) for t in TARGETS]
    if args.cells:
        cells = [_parse_cell(spec) for spec in args.cells]
    started = time.perf_counter()
    rows = []
    tasks = [(name, rng, order, not args.no_brasil) for name, rng, order in cells]
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(_cell_task, tasks))
    else:
        done = map(_cell_task, tasks)
    for row in done:
        row["verdict"] = _verdict(row)
        rows.append(row)
        print(f"{row['target']:8s} {tuple(row['range'])} {tuple(row['order'])} "
              f"{row['status']:6s} {_fmt(row.get('upper'), '.4e')} "
              f"gap {_fmt(row.get('gap'), '.1e')} lp {row['lp_error']:.4e} "
              f"brasil {_fmt(row.get('brasil_error'), '.4e')} {row['seconds']:.2f}s", flush=True)
    wall = time.perf_counter() - started
    _write(rows, wall, Path(args.out))


def _write(rows: list[dict], wall: float, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    doc = {"machine": platform.platform(), "python": platform.python_version(),
           "wall_seconds": wall, "rows": rows}
    (out / "minimax-grid.json").write_text(json.dumps(doc, indent=1) + "\n")
    compared = [r for r in rows if r.get("brasil_error") is not None]
    worse = [r for r in compared if r.get("worse_than_brasil")]
    raw = [r for r in compared if r.get("upper") is not None
           and r["upper"] > 1.001 * r["brasil_error"]]
    brasil_line = (
        f"BRASIL (baryrat 2.1.2, tol 1e-5, maxiter 1000) on {len(compared)} of {len(rows)} "
        f"cells, measured like actfit's upper bound. actfit worse by more than 0.1% beyond the "
        f"float64 rounding level (64 ulps of max |f|): {len(worse)} cell(s)"
        + (" (" + ", ".join(f"{r['target']} {r['range']} {r['order']}" for r in worse) + ")"
           if worse else "")
        + f"; worse by more than 0.1% counting rounding-level differences too: {len(raw)}. "
        "BRASIL's own note says whether it converged (kinked targets: it usually does not)."
    )
    ok = sum(r["verdict"] == "ok" for r in rows)
    f64 = sum(r["verdict"] == "float64" for r in rows)
    lines = [
        "# actfit minimax grid benchmark (plain form, allow_poles)",
        "",
        f"{len(rows)} cells, {wall:.0f} s wall on a shared 2-CPU machine; {ok} global with gap "
        f"<= {GAP_GOAL:g}, {f64} global at float64 resolution. lp: independent differential "
        "correction (scipy linprog) on a fixed "
        "fine grid, error measured on a finer check grid; ratio = upper / lp. That LP (cold, "
        "box |γ| <= 1) stalls near 1e-8 on smooth targets and short of the optimum at [8,8] "
        "and beyond, so ratio << 1 there says only that actfit is lower; gap 1.0 with lower 0 "
        "is the rounding-level certificate (at float64 resolution, figures in its detail).",
        "",
        "",
        brasil_line,
        "",
        "| target | range | order | status | upper | lower | gap | time s | lp | ratio | "
        "BRASIL | vs BRASIL | BRASIL note | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | [{r['range'][0]:g}, {r['range'][1]:g}] | [{r['order'][0]},"
            f"{r['order'][1]}] | {r['status']} | {_fmt(r.get('upper'), '.4e')} | "
            f"{_fmt(r.get('lower'), '.4e')} | {_fmt(r.get('gap'), '.1e')} | "
            f"{r['seconds']:.2f} | {r['lp_error']:.4e} | {_fmt(r.get('ratio'), '.4f')} | "
            f"{_fmt(r.get('brasil_error'), '.4e')} | {_fmt(r.get('vs_brasil'), '+.1e')} | "
            f"{r.get('brasil_note', '')} | {r['verdict']}"
            + (" WORSE" if r.get("worse_than_brasil") else "") + " |"
        )
    (out / "minimax-grid.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

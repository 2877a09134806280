"""Benchmark: is actfit's least-squares fit the best an independent random search can find?

For every cell of a grid (registry targets x ranges x orders x the three denominator forms)
this runs :func:`~actfit.approx.lsq.fit_lsq` and, independently of actfit's search, an
audit-style multi-start search: scipy ``least_squares`` (MINPACK ``lm``) on *all* coefficients at
once (numerator in ``s = x/R``, ``R = max(|a|, |b|)``, denominator in the same form), from
``--starts`` random denominators (standard normal, scaled by 0.3, 1 or 3, numerator from the
linear fit for that denominator) plus the all-ones coefficients in ``x`` and the least-squares
polynomial. The independent search integrates on its own composite Gauss–Legendre rule (8
panels of 20 nodes per piece, split at the kinks and at 0). Both results are then scored the
same way (actfit's fit with ``dtype="float64"``, without the float32 table's rounding
guard), by :func:`actfit.approx.metrics.error_report` (16 panels of 32 nodes per piece; for
``abs`` the pieces are also split at 0 and at the sign changes of ``S``, the kinks of
``1 + |S|`` that the report's rule does not resolve), and a
cell passes when actfit's L2 is within ``--tol`` (relative, default 1e-4 = 0.01 %) of the best
independent L2 or below it (or both are at rounding level, within ``1e-12 ‖f‖``).

Run from the repository root::

    python benchmarks/lsq_grid.py --jobs 2                      # the whole grid
    python benchmarks/lsq_grid.py --targets relu,gelu --jobs 2  # a subset
    python benchmarks/lsq_grid.py --forms abs --merge           # rerun one form's cells
    python benchmarks/lsq_grid.py --cells "abs/srelu/8:8/3" --merge   # rerun single cells
    python benchmarks/lsq_grid.py --combine a.json,b.json       # combine result files

Writes ``benchmarks/results/lsq-grid.json`` (every cell) and ``lsq-grid.md`` (the summary and the
table); while it runs, ``lsq-grid.partial.json`` holds the cells done so far. With ``--merge``
(or ``--combine``) a cell of the new run (or of a later file) replaces the one with the same
form, order, range and target and every other cell is kept; each cell names the run that
produced it (``run``; the runs, with their commits, are listed in ``runs``), and the summary and
totals are recomputed from the cells kept.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actfit.approx.lsq import fit_lsq  # noqa: E402
from actfit.approx.metrics import error_report  # noqa: E402
from actfit.approx.quadrature import gauss_legendre_nodes  # noqa: E402
from actfit.errors import ActfitError  # noqa: E402
from actfit.rational import Rational  # noqa: E402
from actfit.targets import get_target, list_targets  # noqa: E402

RANGES = [(-1.0, 1.0), (-3.0, 3.0), (-5.0, 5.0), (-8.0, 8.0)]
ORDERS = [(3, 2), (4, 4), (5, 4), (6, 5), (8, 8)]
FORMS = ["safe", "plain", "abs"]
SEED = 17


def _l2(target, rational: Rational, a: float, b: float) -> float:
    """Continuous L2 error by actfit's error report (inf for a plain denominator with a zero)."""
    if rational.form == "plain" and rational.denominator.size:
        xs = np.linspace(a, b, 20001)
        if not np.all(rational.denominator_at(xs) > 0):
            return math.inf
    if rational.form == "abs" and rational.denominator.size:
        # 1 + |S| has kinks at 0 and at the sign changes of S, which error_report's rule (split
        # at the target's kinks only) does not resolve: it misjudges such fits by ~1e-4.
        roots = np.roots(np.concatenate([rational.denominator[::-1], [0.0]]))
        real = [
            float(r.real) for r in roots if abs(r.imag) <= 1e-9 * (1 + abs(r)) and a < r.real < b
        ]
        brk = sorted({*real, 0.0, *(k for k in target.kinks if a < k < b)})
        x, w = gauss_legendre_nodes(a, b, brk, panels=16, order=32)
        with np.errstate(all="ignore"):
            sq = float(w @ (target(x) - rational(x)) ** 2)
        return math.sqrt(sq) if math.isfinite(sq) else math.inf
    with np.errstate(all="ignore"):
        rep = error_report(target, rational, a, b, tuple(target.kinks))
    return rep.l2 if math.isfinite(rep.l2) else math.inf


def independent_search(target, order, rng_ab, form: str, starts: int, seed: int = SEED):
    """Audit-style search: LM on all coefficients from random, all-ones and polynomial starts.

    Returns ``(best rational, best L2 by the error report, number of starts)``.
    """
    from scipy.optimize import least_squares

    m, n = order
    a, b = rng_ab
    radius = max(abs(a), abs(b))
    brk = sorted({*(k for k in target.kinks if a < k < b), *([0.0] if a < 0 < b else [])})
    x, w = gauss_legendre_nodes(a, b, brk, panels=8, order=20)
    sw = np.sqrt(w)
    with np.errstate(all="ignore"):
        f = np.asarray(target(x), dtype=float)
    s = x / radius
    vnum = s[:, None] ** np.arange(m + 1)
    vden = s[:, None] ** np.arange(1, n + 1)
    aden = np.abs(s)[:, None] ** np.arange(1, n + 1)

    def qfun(d):
        if form == "plain":
            return 1.0 + vden @ d, vden
        if form == "safe":
            return 1.0 + aden @ np.abs(d), aden * np.where(d < 0, -1.0, 1.0)
        sv = vden @ d
        return 1.0 + np.abs(sv), vden * np.where(sv < 0, -1.0, 1.0)[:, None]

    def residual(p):
        q, _ = qfun(p[m + 1 :])
        with np.errstate(all="ignore"):
            r = sw * ((vnum @ p[: m + 1]) / q - f)
        return np.where(np.isfinite(r), r, 1e150)

    def jac(p):
        q, dq = qfun(p[m + 1 :])
        with np.errstate(all="ignore"):
            pv = vnum @ p[: m + 1]
            ja = (sw / q)[:, None] * vnum
            jd = -(sw * pv / q**2)[:, None] * dq
        return np.nan_to_num(np.hstack([ja, jd]), posinf=1e150, neginf=-1e150)

    def numerator_for(d):
        q, _ = qfun(d)
        mat = (sw / q)[:, None] * vnum
        return np.linalg.lstsq(mat, sw * f, rcond=None)[0]

    rng = np.random.default_rng(seed)
    inits = []
    for i in range(starts):
        d = rng.standard_normal(n) * (0.3, 1.0, 3.0)[i % 3]
        inits.append(np.concatenate([numerator_for(d), d]))
    inits.append(np.concatenate([radius ** np.arange(m + 1), radius ** np.arange(1, n + 1)]))
    inits.append(np.concatenate([numerator_for(np.zeros(n)), np.zeros(n)]))
    best, best_cost = None, math.inf
    for p0 in inits:
        if not np.all(np.isfinite(residual(p0))):
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if form == "safe":
                # Q depends on |d| only: search over d >= 0 (LM on |d| stalls at the kinks).
                lower = np.concatenate([np.full(m + 1, -np.inf), np.zeros(n)])
                p0 = np.concatenate([p0[: m + 1], np.abs(p0[m + 1 :])])
                res = least_squares(
                    residual, p0, jac=jac, bounds=(lower, np.inf), method="trf",
                    max_nfev=50 * (m + n + 2),
                )
            else:
                res = least_squares(
                    residual, p0, jac=jac, method="lm", max_nfev=100 * (m + n + 2)
                )
        p = res.x
        if form == "plain" and n:
            # A pole on the range: the continuous error is infinite, whatever the nodes say.
            dense = 1.0 + (np.linspace(a, b, 4001) / radius)[:, None] ** np.arange(1, n + 1) @ p[
                m + 1 :
            ]
            if not np.all(dense > 0):
                continue
        cost = float(res.cost)
        if cost < best_cost:
            best, best_cost = p, cost
    if best is None:
        return None, math.inf, len(inits)
    num = best[: m + 1] / radius ** np.arange(m + 1)
    den = best[m + 1 :] / radius ** np.arange(1, n + 1)
    if form == "safe":
        den = np.abs(den)
    rational = Rational(num, den, form)
    return rational, _l2(target, rational, a, b), len(inits)


def run_cell(cell):
    name, rng_ab, order, form, starts, tol = cell[:6]
    stored = cell[6] if len(cell) > 6 else None  # --reuse-independent: the earlier search
    b_a = rng_ab[1] - rng_ab[0]
    target = get_target(name, {})
    row = {"target": name, "range": list(rng_ab), "order": list(order), "form": form}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # float64: the L2 optimum itself. The default float32 table may trade L2 for
            # fewer digits lost (issue 18's guard, settings["q_bound"]; relu6 [8, 8] plain on
            # [-8, 8]: 5.77e-2 instead of 2.12e-2), which is not what this grid measures.
            fit = fit_lsq(target, order, rng_ab, form=form, dtype="float64")
        row["time_s"] = time.perf_counter() - t0
        row["actfit_l2"] = _l2(target, fit.rational, *rng_ab)
        row["optimality"] = fit.settings.get("optimality", "")
        row["lower_bound"] = fit.settings.get("lower_bound")
    except ActfitError as exc:
        row["time_s"] = time.perf_counter() - t0
        row["actfit_l2"] = math.inf
        row["optimality"] = f"error: {type(exc).__name__}"
    t0 = time.perf_counter()
    if stored is not None:
        # The independent search does not depend on actfit's code: its earlier result is
        # the same whatever actfit's search now does.
        ind_l2, nstarts = stored["independent_l2"], stored["independent_starts"]
        row["independent_reused_from"] = stored.get("run")
        row["independent_time_s"] = stored.get("independent_time_s", 0.0)
    else:
        _, ind_l2, nstarts = independent_search(target, order, rng_ab, form, starts)
        row["independent_time_s"] = time.perf_counter() - t0
    row["independent_l2"] = ind_l2
    row["independent_starts"] = nstarts
    ours, theirs = row["actfit_l2"], ind_l2
    if math.isfinite(theirs) and theirs > 0:
        row["rel_diff"] = (ours - theirs) / theirs if math.isfinite(ours) else math.inf
    else:
        row["rel_diff"] = 0.0 if math.isfinite(ours) or not math.isfinite(theirs) else math.inf
    # Both at rounding level (identity, or an exactly representable target): no difference.
    floor = 1e-12 * math.sqrt(float(np.mean(target(np.linspace(*rng_ab, 1001)) ** 2)) * 2 * b_a)
    row["rounding_level"] = bool(max(ours, theirs) <= floor)
    row["status"] = "ok" if row["rel_diff"] <= tol or row["rounding_level"] else "WORSE"
    return row


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, dict):
        return {k: _json_safe(u) for k, u in v.items()}
    if isinstance(v, list):
        return [_json_safe(u) for u in v]
    return v


def _independent_text(starts: int) -> str:
    return (
        f"scipy least_squares on all coefficients (method 'lm'; safe: 'trf' with d >= 0) from "
        f"{starts} random starts + all-ones + polynomial, own rule (8x20 per piece)"
    )


def _summarise(rows: list[dict]) -> dict:
    finite = [
        r["rel_diff"] for r in rows if math.isfinite(r["rel_diff"]) and not r["rounding_level"]
    ]
    slowest = max(rows, key=lambda r: r["time_s"])
    return {
        "cells": len(rows),
        "worse": sum(r["status"] != "ok" for r in rows),
        "rounding_level_cells": sum(r["rounding_level"] for r in rows),
        "max_rel_diff": max(finite) if finite else None,
        "min_rel_diff": min(finite) if finite else None,
        "slowest_cell": {k: slowest[k] for k in ("target", "range", "order", "form")},
        "slowest_time_s": slowest["time_s"],
        "total_actfit_time_s": sum(r["time_s"] for r in rows),
    }


def _from_json(v):
    if v in ("inf", "-inf"):
        return float(v)
    if isinstance(v, dict):
        return {k: _from_json(u) for k, u in v.items()}
    if isinstance(v, list):
        return [_from_json(u) for u in v]
    return v


def _key(row: dict) -> tuple:
    return (row["form"], tuple(row["order"]), tuple(row["range"]), row["target"])


def _git_commit() -> str:
    """The checkout's commit (``+dirty`` when actfit or the benchmarks have local changes)."""
    import subprocess

    def git(*a: str) -> str:
        out = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + ("+dirty" if git("status", "--porcelain", "actfit", "benchmarks/lsq_grid.py")
                  else "")


def _legacy_runs(doc: dict) -> dict:
    """Give a document from before runs were recorded its runs (one per part file)."""
    if "runs" in doc:
        return doc
    parts = doc.get("parts") or [f"{doc.get('benchmark', 'lsq-grid')}.json"]
    runs = []
    for part in parts:
        form = part.removesuffix(".json").rsplit("-", 1)[-1]
        forms = [form] if form in FORMS else doc["forms"]
        rows = [r for r in doc["results"] if r["form"] in forms]
        rid = f"{part} (committed in 4f3b163)"
        for r in rows:
            r.setdefault("run", rid)
        runs.append({
            "id": rid,
            "commit": "before 4f3b163",
            "forms": forms,
            "targets": list(dict.fromkeys(r["target"] for r in rows)),
            "orders": doc["orders"],
            "ranges": doc["ranges"],
            "jobs": doc["machine"]["jobs"],
            "wall_time_s": None,
        })
    doc["runs"] = runs
    if len(parts) > 1:
        runs[0]["note"] = f"the parts together took {doc['total_time_s']:.0f} s"
    return doc


def merge(docs: list[dict]) -> dict:
    """Combine documents of parts of the grid: a later cell replaces an earlier one with the
    same form, order, range and target; every cell keeps the id of the run that produced it,
    and the summary, coverage and totals are recomputed from the cells kept."""
    docs = [_legacy_runs(d) for d in docs]
    cells: dict[tuple, dict] = {}
    for d in docs:
        for r in d["results"]:
            cells[_key(r)] = r
    rows = list(cells.values())
    order = {f: i for i, f in enumerate(FORMS)}
    rows.sort(key=lambda r: (order.get(r["form"], 9), ORDERS.index(tuple(r["order"]))
                             if tuple(r["order"]) in ORDERS else 99, r["range"][1]))
    doc = dict(docs[-1])
    runs = []
    for d in docs:
        for run in d["runs"]:
            run.setdefault("machine", d.get("machine", {}))
            if run["id"] not in {u["id"] for u in runs}:
                runs.append(dict(run))
    for run in runs:
        run["cells_kept"] = sum(r.get("run") == run["id"] for r in rows)
    doc["runs"] = [u for u in runs if u["cells_kept"]]
    doc["forms"] = [f for f in FORMS if any(r["form"] == f for r in rows)]
    doc["targets"] = list(dict.fromkeys(r["target"] for d in docs for r in d["results"]))
    doc["orders"] = [list(o) for o in ORDERS if any(tuple(r["order"]) == o for r in rows)]
    doc["ranges"] = [list(g) for g in RANGES if any(tuple(r["range"]) == g for r in rows)]
    everyone = {t.name for t in list_targets()}
    doc["subset"] = any(
        {r["target"] for r in rows if r["form"] == f} != everyone for f in doc["forms"]
    )
    doc["summary"] = _summarise(rows)
    doc["total_time_s"] = sum(r["time_s"] + r.get("independent_time_s", 0.0) for r in rows)
    doc.pop("parts", None)
    doc["results"] = rows
    return doc


def _write(doc: dict, out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(_json_safe(doc), indent=1) + "\n")
    (out / f"{name}.md").write_text(_markdown(doc))


def _load(path: Path) -> dict:
    return _from_json(json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--forms", default=",".join(FORMS), help="e.g. abs (default: all three)")
    parser.add_argument("--orders", default="", help="e.g. 5:4,6:5 (default: the grid's)")
    parser.add_argument("--ranges", default="", help="e.g. 3,5 for [-3,3], [-5,5]")
    parser.add_argument("--cells", default="", help="only these cells: form/target/m:n/R;...")
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", default="lsq-grid")
    parser.add_argument(
        "--merge", action="store_true",
        help="merge this run's cells into the existing OUT/NAME.json: cells with the same form, "
        "order, range and target are replaced, the others kept (each cell names its run)",
    )
    parser.add_argument(
        "--combine", default="",
        help="no run: combine these result files (comma-separated, later cells win) into "
        "OUT/NAME.json",
    )
    parser.add_argument(
        "--reuse-independent", action="store_true",
        help="take each cell's independent-search result from the existing OUT/NAME.json "
        "(same --starts) and rerun only actfit's fit (for a change to actfit's search)",
    )
    args = parser.parse_args(argv)
    if args.combine:
        doc = merge([_load(Path(p)) for p in args.combine.split(",")])
        _write(doc, args.out, args.name)
        print(json.dumps(_json_safe(doc["summary"]), indent=1))
        return 0
    names = [t.name for t in list_targets()]
    if args.targets:
        names = [t for t in args.targets.split(",") if t]
    forms = [f for f in args.forms.split(",") if f]
    orders = (
        [tuple(int(v) for v in o.split(":")) for o in args.orders.split(",")]
        if args.orders
        else ORDERS
    )
    ranges = [(-float(r), float(r)) for r in args.ranges.split(",")] if args.ranges else RANGES
    cells = [
        (name, r, o, form, args.starts, args.tol)
        for form in forms
        for o in orders
        for r in ranges
        for name in names
    ]
    if args.cells:
        cells = []
        for spec in args.cells.split(";"):
            form, name, mn, rad = spec.strip().split("/")
            order = tuple(int(v) for v in mn.split(":"))
            cells.append((name, (-float(rad), float(rad)), order, form, args.starts, args.tol))
        names = list(dict.fromkeys(c[0] for c in cells))
        forms = list(dict.fromkeys(c[3] for c in cells))
        orders = list(dict.fromkeys(c[2] for c in cells))
        ranges = list(dict.fromkeys(c[1] for c in cells))
    if args.reuse_independent:
        old_doc = _load(args.out / f"{args.name}.json")
        stored = {_key(r): r for r in old_doc["results"]
                  if r.get("independent_starts") == args.starts + 2}
        cells = [
            (*c, stored.get((c[3], tuple(c[2]), tuple(c[1]), c[0]))) for c in cells
        ]
    import scipy

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    run = {
        "id": f"{args.name}@{started}",
        "commit": _git_commit(),
        "started": started,
        "forms": forms,
        "targets": names,
        "orders": [list(o) for o in orders],
        "ranges": [list(r) for r in ranges],
        "cells_run": len(cells),
        "jobs": args.jobs,
        "wall_time_s": None,
    }
    if args.cells:
        run["cells"] = args.cells
    if args.reuse_independent:
        run["independent"] = "reused from the earlier cells (--reuse-independent)"
    doc = {
        "benchmark": "lsq-grid",
        "targets": names,
        "subset": bool(args.targets or args.cells),
        "ranges": [list(r) for r in ranges],
        "orders": [list(o) for o in orders],
        "forms": forms,
        "independent_search": _independent_text(args.starts),
        "scoring": "actfit.approx.metrics.error_report L2 (16x32 Gauss-Legendre per piece, "
        "split at the target's kinks); abs: 16x32 per piece split also at 0 and the sign "
        "changes of S",
        "tolerance": args.tol,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "jobs": args.jobs,
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "runs": [run],
    }
    # Written after every cell (under a .partial name), so a long run that is stopped keeps
    # what it measured.
    partial = f"{args.name}.partial"
    t_start = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(run_cell, cells, chunksize=1):
            row["run"] = run["id"]
            rows.append(row)
            print(
                f"{row['form']:5s} {row['target']:12s} [{row['order'][0]},{row['order'][1]}] "
                f"[{row['range'][0]:g},{row['range'][1]:g}] actfit {row['actfit_l2']:.6e} "
                f"indep {row['independent_l2']:.6e} rel {row['rel_diff']:+.2e} "
                f"{row['time_s']:.2f}s {row['status']}",
                flush=True,
            )
            run["wall_time_s"] = time.perf_counter() - t_start
            _write(merge([{**doc, "results": rows}]), args.out, partial)
    total = time.perf_counter() - t_start
    run["wall_time_s"] = total
    new = merge([{**doc, "results": rows}])
    target = args.out / f"{args.name}.json"
    if args.merge and target.exists():
        new = merge([_load(target), new])
    _write(new, args.out, args.name)
    for suffix in (".json", ".md"):
        (args.out / f"{partial}{suffix}").unlink(missing_ok=True)
    print(f"wrote {target} ({total:.0f} s)")
    return 0


def _markdown(doc: dict) -> str:
    s = doc["summary"]
    m = doc["machine"]
    sc = s["slowest_cell"]
    mx_text = "n/a" if s["max_rel_diff"] is None else f"{s['max_rel_diff']:+.3e}"
    lines = [
        "# lsq grid: actfit `fit_lsq` vs an independent multi-start search",
        "",
        f"Targets: {', '.join(doc['targets'])}"
        + (" (a subset of the registry)." if doc["subset"] else " (the whole registry)."),
        f"Ranges {doc['ranges']}, orders {doc['orders']}, forms {doc['forms']}.",
        f"Independent search: {doc['independent_search']}. Scoring: {doc['scoring']}.",
        f"Latest run: {m['platform']}, {m['cpus']} CPUs, {m['jobs']} jobs, Python {m['python']}, "
        f"numpy {m['numpy']}, scipy {m['scipy']}, OpenBLAS threads "
        f"{m.get('blas_threads', 'default')}.",
        "",
        f"**{s['cells']} cells, {s['worse']} worse than the independent search by more than "
        f"{doc['tolerance']:g} relative; max relative difference "
        f"{mx_text} (negative: actfit lower; the {s['rounding_level_cells']} "
        "cells where both are at rounding level, within 1e-12 of the target's norm, left out); "
        "slowest actfit cell "
        f"{s['slowest_time_s']:.2f} s ({sc['target']} [{sc['order'][0]},{sc['order'][1]}] on "
        f"[{sc['range'][0]:g}, {sc['range'][1]:g}], {sc['form']}).** Total "
        f"{doc['total_time_s']:.0f} s (actfit and the independent search, summed over the "
        f"cells; actfit alone {s['total_actfit_time_s']:.0f} s).",
        "",
        "Runs that produced the cells (a later run's cell replaces an earlier one's):",
        "",
        "| run | commit | forms | orders | targets | cells kept | wall time |",
        "|---|---|---|---|---|---:|---:|",
    ]
    runs = doc.get("runs", [])
    for i, run in enumerate(runs):
        wall, jobs = run.get("wall_time_s"), run.get("jobs")
        threads = run.get("machine", {}).get("blas_threads", "default")
        what = run.get("cells") or (
            "all" if len(run["targets"]) == len(list_targets()) else ", ".join(run["targets"])
        )
        lines.append(
            f"| r{i + 1}: {run['id']} | {run['commit']} | {', '.join(run['forms'])} | "
            f"{' '.join(f'[{o[0]},{o[1]}]' for o in run['orders'])} | {what} | "
            f"{run.get('cells_kept', '')} | "
            f"{run.get('note', '') if wall is None else f'{wall:.0f} s'} ({jobs} jobs, OpenBLAS "
            f"threads {threads}) |"
        )
    short = {run["id"]: f"r{i + 1}" for i, run in enumerate(runs)}
    lines += [
        "",
        "| form | order | cells | worse | max rel. diff | slowest actfit time |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for form in doc["forms"]:
        for order in doc["orders"]:
            part = [r for r in doc["results"] if r["form"] == form and r["order"] == order]
            if not part:
                continue
            ps = _summarise(part)
            mx = ps["max_rel_diff"]
            lines.append(
                f"| {form} | [{order[0]},{order[1]}] | {ps['cells']} | {ps['worse']} | "
                f"{'n/a' if mx is None else f'{mx:+.2e}'} | {ps['slowest_time_s']:.2f} s |"
            )
    lines += [
        "",
        "Every cell (rel. diff = actfit L2 / independent L2 - 1; optimality as the fit's "
        "settings state it):",
        "",
        "| form | order | range | target | actfit L2 | independent best L2 | rel. diff | time "
        "| status | optimality | run |",
        "|---|---|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['form']} | [{r['order'][0]},{r['order'][1]}] | [{r['range'][0]:g}, "
            f"{r['range'][1]:g}] | {r['target']} | {r['actfit_l2']:.6e} | "
            f"{r['independent_l2']:.6e} | {r['rel_diff']:+.2e} | {r['time_s']:.2f} s | "
            f"{r['status']} | {r.get('optimality', '').split(':')[0]} | "
            f"{short.get(r.get('run'), '')} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

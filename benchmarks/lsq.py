"""Benchmark: actfit's least-squares fitter against the naive dense-grid Levenberg–Marquardt fit.

The naive approach is what peer projects do to initialise rational activations: fit all
coefficients at once with Levenberg–Marquardt (scipy's MINPACK ``lm``) from the all-ones start on a
dense uniform grid, in the same denominator form. actfit's :func:`~actfit.approx.lsq.fit_lsq` uses
variable projection, several starts and continuous (quadrature) L2. Both results are scored the
same way: the continuous L2 error on the range and the max error, from
:func:`actfit.approx.metrics.error_report`.

Run from the repository root::

    python benchmarks/lsq.py            # 1e5-point naive grid
    python benchmarks/lsq.py --quick    # 2e4-point naive grid, fewer repeats

Writes ``benchmarks/results/lsq.json`` (all figures and the machine) and
``benchmarks/results/lsq.md`` (the comparison table).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actfit.approx.lsq import fit_lsq  # noqa: E402
from actfit.approx.metrics import error_report  # noqa: E402
from actfit.rational import Rational  # noqa: E402
from actfit.targets import get_target  # noqa: E402

TARGETS = [
    ("leaky_relu", {"slope": 0.01}),
    ("relu", {}),
    ("gelu", {}),
    ("swish", {}),
    ("tanh", {}),
]
ORDER = (5, 4)
RANGE = (-3.0, 3.0)


def naive_lm(target, order, form: str, points: int) -> tuple[Rational, int]:
    """LM on all coefficients over a uniform grid from the all-ones start (the peers' recipe)."""
    from scipy.optimize import least_squares

    m = order[0]
    x = np.linspace(*RANGE, points)
    f = target(x)

    def split(p):
        return Rational(p[: m + 1], p[m + 1 :], form)

    def residual(p):
        with np.errstate(all="ignore"):
            r = split(p)(x) - f
        return np.where(np.isfinite(r), r, 1e150)

    def jac(p):
        with np.errstate(all="ignore"):
            da, db = split(p).coefficient_gradients(x)
        return np.nan_to_num(np.hstack([da, db]), posinf=1e150, neginf=-1e150)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = least_squares(residual, np.ones(sum(order) + 1), jac=jac, method="lm")
    return split(res.x), int(res.nfev)


def score(target, rational: Rational) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        rep = error_report(target, rational, *RANGE, target.kinks)
    l2 = rep.l2 if math.isfinite(rep.l2) else math.inf
    return l2, rep.max_abs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller naive grid, fewer repeats")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    points = 20_000 if args.quick else 100_000
    repeats = 3 if args.quick else 7
    forms = ("safe", "abs") if args.quick else ("safe", "abs", "plain")

    fit_lsq(get_target("tanh", {}), ORDER, RANGE)  # warm-up: imports, caches
    rows = []
    t_start = time.perf_counter()
    for form in forms:
        for name, params in TARGETS:
            target = get_target(name, params)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fit = fit_lsq(target, ORDER, RANGE, form=form)
                times.append(time.perf_counter() - t0)
            ours_l2, ours_max = fit.errors.l2, fit.errors.max_abs
            t0 = time.perf_counter()
            naive, nfev = naive_lm(target, ORDER, form, points)
            naive_time = time.perf_counter() - t0
            naive_l2, naive_max = score(target, naive)
            row = {
                "target": name,
                "params": params,
                "form": form,
                "order": list(ORDER),
                "range": list(RANGE),
                "actfit": {
                    "time_s": statistics.median(times),
                    "time_s_min": min(times),
                    "time_s_max": max(times),
                    "l2": ours_l2,
                    "max_abs": ours_max,
                    "best_start": fit.settings["best_start"],
                    "optimality": fit.settings["optimality"],
                    "evaluations": fit.settings["iterations"]["evaluations"],
                    "numerator": fit.rational.numerator.tolist(),
                    "denominator": fit.rational.denominator.tolist(),
                },
                "naive_lm": {
                    "grid_points": points,
                    "start": "all ones",
                    "time_s": naive_time,
                    "nfev": nfev,
                    "l2": naive_l2 if math.isfinite(naive_l2) else "inf",
                    "max_abs": naive_max if math.isfinite(naive_max) else "inf",
                },
                "l2_ratio_naive_over_actfit": (naive_l2 / ours_l2) if ours_l2 > 0 else None,
                "speedup": naive_time / statistics.median(times),
            }
            if not math.isfinite(row["l2_ratio_naive_over_actfit"] or 0.0):
                row["l2_ratio_naive_over_actfit"] = "inf"
            rows.append(row)
            print(
                f"{form:5s} {name:10s} actfit {row['actfit']['time_s'] * 1e3:7.1f} ms "
                f"L2 {ours_l2:.3e} max {ours_max:.3e} | naive {naive_time:7.2f} s "
                f"L2 {naive_l2:.3e} max {naive_max:.3e}",
                flush=True,
            )
    total = time.perf_counter() - t_start

    import scipy

    doc = {
        "benchmark": "lsq",
        "mode": "quick" if args.quick else "full",
        "order": list(ORDER),
        "range": list(RANGE),
        "timing": f"actfit: median of {repeats} in-process runs after a warm-up, fit_lsq "
        "including its error and pole report; naive: one run",
        "scoring": "continuous L2 (composite Gauss-Legendre split at kinks) and max |error| from "
        "actfit.approx.metrics.error_report, identical for both",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "total_time_s": total,
        "results": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lsq.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / "lsq.md").write_text(_markdown(doc))
    print(f"wrote {args.out / 'lsq.json'} and {args.out / 'lsq.md'} ({total:.0f} s)")
    return 0


def _fmt(v) -> str:
    return v if isinstance(v, str) else f"{v:.3e}"


def _markdown(doc: dict) -> str:
    m = doc["machine"]
    lines = [
        "# lsq benchmark: actfit `fit_lsq` vs naive dense-grid Levenberg-Marquardt",
        "",
        f"Order [{doc['order'][0]},{doc['order'][1]}] on [{doc['range'][0]:g}, "
        f"{doc['range'][1]:g}], mode `{doc['mode']}`; {m['platform']}, {m['cpus']} CPUs, "
        f"Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}.",
        f"Timing: {doc['timing']}. Scoring: {doc['scoring']}.",
        "",
        "| form | target | actfit time | actfit L2 | actfit max | naive time | naive L2 "
        "| naive max | naive L2 / actfit L2 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        o, n = r["actfit"], r["naive_lm"]
        ratio = r["l2_ratio_naive_over_actfit"]
        lines.append(
            f"| {r['form']} | {r['target']} | {o['time_s'] * 1e3:.1f} ms | {_fmt(o['l2'])} | "
            f"{_fmt(o['max_abs'])} | {n['time_s']:.2f} s | {_fmt(n['l2'])} | "
            f"{_fmt(n['max_abs'])} | {ratio if isinstance(ratio, str) else f'{ratio:.3f}'} |"
        )
    lines += [
        "",
        f"Naive: scipy `least_squares(method='lm')` from all-ones coefficients on "
        f"{doc['results'][0]['naive_lm']['grid_points']} uniform points, same form. "
        f"Total benchmark time {doc['total_time_s']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

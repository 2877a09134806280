"""Benchmark: today's ``fit_lsq`` against an older checkout's, timed interleaved in one run.

Issue 17 asks that the [5, 4] fits of ``benchmarks/lsq.py`` stay within 2x of their times before
its work (commit ``bea6ea6``). Timings taken in separate runs on a shared machine differ by more
than that factor's margin, so this benchmark starts two worker processes, one importing actfit
from this checkout and one from the old checkout (``--base``, a git worktree of the old commit,
e.g. ``git worktree add /tmp/base-17 bea6ea6``), and times the same cases in both, alternating
which goes first, one fit at a time (the workers never run at once). Each worker warms up
(imports, caches) before the first timed fit. The figure per case is the median of
``--repeats`` fits; the ratio is today / old.

Run from the repository root::

    python benchmarks/lsq_speed.py --base /tmp/base-17
    python benchmarks/lsq_speed.py --base /tmp/base-17 --forms abs --repeats 5

Writes ``benchmarks/results/lsq-speed.json`` and ``lsq-speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the cases of benchmarks/lsq.py, whose [5, 4] times the issue speaks of
from lsq import ORDER, RANGE, TARGETS  # noqa: E402

FORMS = ("safe", "abs", "plain")

# The worker: actfit from the checkout given as argv[1]; one JSON request per line on stdin.
_WORKER = r"""
import json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
import actfit
from actfit.approx.lsq import fit_lsq
from actfit.targets import get_target
warnings.simplefilter("ignore")
fit_lsq(get_target("tanh", {}), (5, 4), (-3.0, 3.0))  # warm-up: imports, caches
print(json.dumps({"actfit": actfit.__file__}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    target = get_target(req["target"], req["params"])
    t0 = time.perf_counter()
    fit = fit_lsq(target, tuple(req["order"]), tuple(req["range"]), form=req["form"])
    dt = time.perf_counter() - t0
    l2 = fit.settings.get("l2_error")
    print(json.dumps({"time_s": dt, "l2": l2}), flush=True)
"""


class _Worker:
    def __init__(self, checkout: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(checkout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=checkout,
        )
        self.actfit = json.loads(self._read())["actfit"]

    def _read(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker for {self.proc.args[-1]} exited")
        return line

    def fit(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _commit(path: Path) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=path, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="checkout of the old commit")
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--targets", default="", help="comma-separated subset")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--limit", type=float, default=2.0, help="allowed ratio today / old")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", default="lsq-speed")
    args = parser.parse_args(argv)
    forms = [f for f in args.forms.split(",") if f]
    targets = [t for t in TARGETS if not args.targets or t[0] in args.targets.split(",")]
    t_start = time.perf_counter()
    workers = {"today": _Worker(ROOT), "old": _Worker(args.base.resolve())}
    cases = [(form, name, params) for form in forms for name, params in targets]
    times: dict[tuple, dict[str, list[float]]] = {c[:2]: {"today": [], "old": []} for c in cases}
    l2s: dict[tuple, dict[str, float]] = {c[:2]: {} for c in cases}
    try:
        for rep in range(args.repeats):
            for i, (form, name, params) in enumerate(cases):
                req = {"target": name, "params": params, "order": list(ORDER),
                       "range": list(RANGE), "form": form}
                # Alternate which goes first, so neither always runs on a warmer cache.
                which = ("today", "old") if (rep + i) % 2 == 0 else ("old", "today")
                for w in which:
                    res = workers[w].fit(req)
                    times[(form, name)][w].append(res["time_s"])
                    l2s[(form, name)][w] = res["l2"]
    finally:
        for w in workers.values():
            w.close()
    rows = []
    for form, name, params in cases:
        t = times[(form, name)]
        today, old = statistics.median(t["today"]), statistics.median(t["old"])
        rows.append({
            "form": form,
            "target": name,
            "params": params,
            "order": list(ORDER),
            "range": list(RANGE),
            "today_s": today,
            "old_s": old,
            "ratio": today / old,
            "today_all_s": t["today"],
            "old_all_s": t["old"],
            "today_l2": l2s[(form, name)]["today"],
            "old_l2": l2s[(form, name)]["old"],
            "within_limit": today / old <= args.limit,
        })
        print(f"{form:5s} {name:10s} today {1e3 * today:7.1f} ms old {1e3 * old:7.1f} ms "
              f"ratio {today / old:5.2f}", flush=True)
    doc = {
        "benchmark": "lsq-speed",
        "today": {
            "checkout": str(ROOT), "commit": _commit(ROOT), "actfit": workers["today"].actfit
        },
        "old": {"checkout": str(args.base), "commit": _commit(args.base),
                "actfit": workers["old"].actfit},
        "repeats": args.repeats,
        "limit": args.limit,
        "timing": "one fit_lsq call per timing, in two persistent worker processes (one per "
        "checkout, warmed up), interleaved case by case with alternating order; median of the "
        "repeats",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "max_ratio": max(r["ratio"] for r in rows),
        "all_within_limit": all(r["within_limit"] for r in rows),
        "total_time_s": time.perf_counter() - t_start,
        "results": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out / f"{args.name}.md").write_text(_markdown(doc))
    print(f"max ratio {doc['max_ratio']:.2f}; wrote {args.out / (args.name + '.json')}")
    return 0


def _markdown(doc: dict) -> str:
    m = doc["machine"]
    lines = [
        "# lsq speed: today's `fit_lsq` against the old one, interleaved in one run",
        "",
        f"Today: {doc['today']['commit']} ({doc['today']['checkout']}); old: "
        f"{doc['old']['commit']} ({doc['old']['checkout']}). Order [5,4] on [-3, 3]. "
        f"{doc['timing']} ({doc['repeats']} repeats).",
        f"{m['platform']}, {m['cpus']} CPUs (shared; load average at the end "
        f"{', '.join(f'{v:.2f}' for v in m['load_average'])}), Python {m['python']}.",
        "",
        f"**Max ratio today / old: {doc['max_ratio']:.2f} (limit {doc['limit']:g}x: "
        f"{'every case within it' if doc['all_within_limit'] else 'NOT every case within it'})."
        f"** Total {doc['total_time_s']:.0f} s.",
        "",
        "| form | target | today | old | ratio | today L2 | old L2 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['form']} | {r['target']} | {1e3 * r['today_s']:.1f} ms | "
            f"{1e3 * r['old_s']:.1f} ms | {r['ratio']:.2f} | {r['today_l2']:.6e} | "
            f"{r['old_l2']:.6e} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env bash
# One GPU call: build, time each launch shape of the half-type fast path ([5,4] safe, 2^28
# elements; ACTFIT_CUDA_FWD_CFG / ACTFIT_CUDA_BWD_CFG), pick the fastest bf16 forward and
# backward shapes, run the CUDA tests with them, then the full benchmark. Output under $OUT.
set -uo pipefail
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=. ACTFIT_BUILD_DIR=${ACTFIT_BUILD_DIR:-/tmp/actfit-build}
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
start=$(date +%s)
python3 -c "from actfit.runtime import load_library; print('built', load_library())" 2>&1 | tail -3
echo "build_s $(( $(date +%s) - start ))"
cat > /tmp/shape_bench.py <<'PY'
import json, os, statistics, torch
from actfit.runtime import load_library
load_library()
A54 = [0.02, 0.5, 0.3, 0.05, 0.003, 1e-4]; B54 = [0.1, 0.4, 0.01, 0.02]
a = torch.tensor(A54, device="cuda"); b = torch.tensor(B54, device="cuda")
def t(fn, reps=30):
    for _ in range(3): fn()
    torch.cuda.synchronize(); ts = []
    for _ in range(reps):
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); e.synchronize(); ts.append(s.elapsed_time(e) * 1e3)
    return statistics.median(ts)
n = 2**28; src = torch.randn(n, device="cuda"); row = {"fwd_cfg": os.environ.get("ACTFIT_CUDA_FWD_CFG"), "bwd_cfg": os.environ.get("ACTFIT_CUDA_BWD_CFG")}
for dt in (torch.float32, torch.bfloat16):
    x = (src * 3).to(dt); g = torch.randn_like(x); k = str(dt)[6:]
    row[k + "_fwd_us"] = t(lambda: torch.ops.actfit.rational_fwd(x, a, b, "safe"))
    row[k + "_bwd_us"] = t(lambda: torch.ops.actfit.rational_bwd(g, x, a, b, "safe", True))
    row[k + "_silu_fwd_us"] = t(lambda: torch.nn.functional.silu(x))
print(json.dumps(row))
PY
# SHAPES: the shape indices to time (forward and backward alike); BWD_CFG fixes the backward's.
for i in ${SHAPES:-0 1 2 3 4 5 0}; do
  ACTFIT_CUDA_FWD_CFG=$i ACTFIT_CUDA_BWD_CFG=${BWD_CFG:-$i} python3 /tmp/shape_bench.py 2>&1 \
    | tee -a "$OUT/shapes.jsonl"
done
read F B < <(python3 - "$OUT/shapes.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
f = min((r for r in rows if int(r["fwd_cfg"]) < 3), key=lambda r: r["bfloat16_fwd_us"])["fwd_cfg"]
b = min(rows, key=lambda r: r["bfloat16_bwd_us"])["bwd_cfg"]
print(f, b)
PY
)
echo "chosen fwd=$F bwd=$B" | tee "$OUT/chosen.txt"
export ACTFIT_CUDA_FWD_CFG=$F ACTFIT_CUDA_BWD_CFG=$B
python3 -m pytest -q -p no:cacheprovider tests/test_runtime.py 2>&1 | tee "$OUT/tests.log" | tail -5
if [ -n "${VALIDATE:-}" ]; then
  python3 -m actfit.cli validate $VALIDATE --device cuda 2>&1 | tee "$OUT/validate.log"
fi
python3 benchmarks/runtime.py --device cuda --out "$OUT/runtime-cuda.json" 2>&1 | tail -40
cat "$OUT/shapes.jsonl" "$OUT/chosen.txt"

#!/usr/bin/env bash
# One GPU call: time launch shapes of the half-type fast path ([5,4] safe, 2^28 elements) and
# report the fastest bf16 forward and backward. The shipped kernel has one shape, in four lines
# of actfit/runtime/csrc/rational_cuda.cu (kHalfFwdThreads, kHalfFwdBlocks, kHalfBwdBlocks,
# kHalfBwdPrefetch); each candidate is a copy of the package with those lines rewritten, built in
# its own cache folder (the build key hashes the sources). Output under $OUT. To adopt a
# winner, edit the four lines and record the table in benchmarks/results/runtime-notes.md.
#   SHAPES="fwd_threads,fwd_blocks,bwd_blocks,bwd_prefetch ..." (default: the shipped one first)
set -uo pipefail
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 ACTFIT_BUILD_DIR=${ACTFIT_BUILD_DIR:-/tmp/actfit-build}
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
cat > /tmp/shape_bench.py <<'PY'
import json, os, statistics, torch
from actfit.runtime import build_ops
built = build_ops()
A54 = [0.02, 0.5, 0.3, 0.05, 0.003, 1e-4]; B54 = [0.1, 0.4, 0.01, 0.02]
a = torch.tensor(A54, device="cuda"); b = torch.tensor(B54, device="cuda")
def t(fn, reps=30):
    for _ in range(3): fn()
    torch.cuda.synchronize(); ts = []
    for _ in range(reps):
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); e.synchronize(); ts.append(s.elapsed_time(e) * 1e3)
    return statistics.median(ts)
n = 2**28; src = torch.randn(n, device="cuda"); row = {"shape": os.environ["SHAPE"], "build_s": built.seconds}
for dt in (torch.float32, torch.bfloat16):
    x = (src * 3).to(dt); g = torch.randn_like(x); k = str(dt)[6:]
    row[k + "_fwd_us"] = t(lambda: torch.ops.actfit.rational_fwd(x, a, b, "safe"))
    row[k + "_bwd_us"] = t(lambda: torch.ops.actfit.rational_bwd(g, x, a, b, "safe", True))
    row[k + "_silu_fwd_us"] = t(lambda: torch.nn.functional.silu(x))
print(json.dumps(row))
PY
CU=actfit/runtime/csrc/rational_cuda.cu
for shape in ${SHAPES:-128,12,5,true 256,6,4,false 256,6,5,true 128,12,4,false 256,8,5,true}; do
  IFS=, read -r ft fb bb bp <<< "$shape"
  dir=/tmp/actfit-shape-${ft}-${fb}-${bb}-${bp}
  rm -rf "$dir" && mkdir -p "$dir" && cp -r actfit "$dir/"
  sed -i -e "s/^constexpr int kHalfFwdThreads = .*/constexpr int kHalfFwdThreads = $ft;/" \
    -e "s/^constexpr int kHalfFwdBlocks = .*/constexpr int kHalfFwdBlocks = $fb;/" \
    -e "s/^constexpr int kHalfBwdBlocks = .*/constexpr int kHalfBwdBlocks = $bb;/" \
    -e "s/^constexpr bool kHalfBwdPrefetch = .*/constexpr bool kHalfBwdPrefetch = $bp;/" "$dir/$CU"
  grep -q "kHalfFwdThreads = $ft;" "$dir/$CU" || { echo "shape lines not found in $CU"; exit 1; }
  SHAPE=$shape PYTHONPATH=$dir python3 /tmp/shape_bench.py 2>&1 | tee -a "$OUT/shapes.jsonl"
done
python3 - "$OUT/shapes.jsonl" <<'PY' | tee "$OUT/chosen.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("fastest bf16 fwd:", min(rows, key=lambda r: r["bfloat16_fwd_us"])["shape"])
print("fastest bf16 bwd:", min(rows, key=lambda r: r["bfloat16_bwd_us"])["shape"])
PY

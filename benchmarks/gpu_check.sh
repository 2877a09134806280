#!/usr/bin/env bash
# One call on a GPU machine: build the CUDA+CPU operators, run the runtime tests (cpu and cuda),
# validate a table on the GPU and run the benchmark. Logs and figures go to $OUT (or ./bench-out).
set -uo pipefail
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=. ACTFIT_BUILD_DIR=${ACTFIT_BUILD_DIR:-/tmp/actfit-build}
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total --format=csv | tee "$OUT/gpu.txt"
start=$(date +%s)
python3 -c "from actfit.runtime import load_library; print('built', load_library())" \
  2>&1 | tee "$OUT/build.log"
echo "build_s $(( $(date +%s) - start ))" | tee -a "$OUT/build.log"
python3 -m pytest -q -p no:cacheprovider tests/test_runtime.py ${PYTEST_ARGS:-} 2>&1 \
  | tee "$OUT/tests.log" | tail -15
if [ -n "${VALIDATE:-}" ]; then
  python3 -m actfit.cli validate $VALIDATE --device cuda 2>&1 | tee "$OUT/validate.log"
fi
python3 benchmarks/runtime.py --device cuda --out "$OUT/runtime-cuda.json" 2>&1 \
  | tee "$OUT/bench.log" | tail -60

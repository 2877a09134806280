#!/usr/bin/env bash
# One call on a GPU machine: build the CUDA+CPU operators, run the runtime tests (cpu and cuda),
# validate a table on the GPU and run the benchmark. Logs and figures go to $OUT (or ./bench-out).
# SASS=1 also writes the SASS of the fast [5,4] safe kernels (sass.txt) and an opcode count.
set -uo pipefail
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=. ACTFIT_BUILD_DIR=${ACTFIT_BUILD_DIR:-/tmp/actfit-build}
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total --format=csv | tee "$OUT/gpu.txt"
start=$(date +%s)
python3 -c "from actfit.runtime import load_library; print('built', load_library())" \
  2>&1 | tee "$OUT/build.log"
echo "build_s $(( $(date +%s) - start ))" | tee -a "$OUT/build.log"
if [ -n "${SASS:-}" ]; then
  so=$(ls "$ACTFIT_BUILD_DIR"/*/actfit_rational_cuda.so | head -1)
  cuobjdump -sass "$so" | awk '
    /Function :/ { keep = ($0 ~ /RationalIfLi1ELi5ELi4/ && $0 !~ /Idd|IdLi/); name = $3 }
    keep { print > "'"$OUT"'/sass.txt" }
    keep && /^ +\/\*[0-9a-f]+\*\/ / { op = $2; if (op ~ /^@/) op = $3; sub(/\..*/, "", op);
      n[name]++; c[name " " op]++ }
    END { for (k in n) print n[k], k; }' | sort -k2 | tee "$OUT/sass-count.txt"
fi
python3 -m pytest -q -p no:cacheprovider tests/test_runtime.py ${PYTEST_ARGS:-} 2>&1 \
  | tee "$OUT/tests.log" | tail -15
if [ -n "${VALIDATE:-}" ]; then
  python3 -m actfit.cli validate $VALIDATE --device cuda 2>&1 | tee "$OUT/validate.log"
fi
python3 benchmarks/runtime.py --device cuda --out "$OUT/runtime-cuda.json" 2>&1 \
  | tee "$OUT/bench.log" | tail -60

#!/usr/bin/env bash
# Issue 6's GPU figures (acceptance 1) and the CUDA half of the equivalence tests, in one device call.
#
# On the development machine, once per session, from the repository root of the checkout the device tool sends
# (the session's own checkout, also when a helper calls from a worktree):
#     bash bench/fetch_wheels.sh        # .whl/: soundfile, soxr, pymoo, moocore, pytorch-msssim and their needs
# then the device tool's `run` with carry [".whl"] and the command:
#     bash bench/gpu_run.sh
# Everything it writes lands in $OUT (the files come back): gpu.txt, test_speedups.log, bench.log, engine-gpu.json.
# Keep the JSON as bench/results/engine-<gpu>.json and put the figures into docs/performance.md.
#
# Budget: about 5 minutes on an H100 (the tests ~1 min, the matrix 18 cases ~3 min, one standard front).
set -uo pipefail
OUT=${OUT:-/tmp/moss-gpu-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheels missing: run bench/fetch_wheels.sh here first and carry .whl"; exit 1; }
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
python3 -m pytest -q -p no:cacheprovider tests/engine/test_speedups.py 2>&1 | tee "$OUT/test_speedups.log"
python3 bench/bench_engine.py --devices cuda --front --json "$OUT/engine-gpu.json" 2>&1 | tee "$OUT/bench.log"

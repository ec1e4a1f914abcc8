#!/usr/bin/env bash
# Issue 16's GPU checks in one command, most important first, each under its own time limit (about 8 minutes in all):
#   bash benchmarks/gpu_session.sh            # logs in $OUT (the device tool's folder) or /tmp/gpu-session
# 1. bench_gpu.py: agreement with the CPU and determinism (small shape), then task arithmetic and RESM (svd: fast)
#    at Llama-3-8B shapes, depths 1 and 3, extrapolated to 32 layers, with the read-once time; both again at depth 3
#    with io.EARLY_WRITEBACK off (the gain of early writeback side by side; pinned reads were timed so in the fourth
#    run, `--unpinned`); resm-analyze at depth 1.
# 2. The notebooks' `gpu` cells (02_io, 07_driver, 08_engine, 16_analyze), if nbdev is importable or its wheels are in .whl/.
# 3. profile_engine.py: a cProfile of task arithmetic and RESM (svd: fast) at depth 1 (where the time goes).
set -o pipefail
out=${OUT:-/tmp/gpu-session}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/card.txt"
python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])" | tee -a "$out/card.txt"
timeout "${BENCH_S:-420}" python3 benchmarks/bench_gpu.py --methods task_arithmetic resm:svd=fast --once \
    --no-writeback task_arithmetic resm:svd=fast --analyze \
    --workdir "${WORKDIR:-/tmp/bench-gpu}" 2>&1 | tee "$out/bench_gpu.log"
echo "bench_gpu: exit $?"
if ! python3 -c "import nbdev, execnb" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
timeout "${TEST_S:-150}" python3 -m pytest -q -p no:cacheprovider tests/test_notebooks.py -k "02_io or 07_driver or 08_engine or 16_analyze" 2>&1 \
    | tee "$out/pytest.log" | tail -5
echo "gpu notebook cells: exit $?"
timeout "${PROF_S:-100}" python3 benchmarks/profile_engine.py --depth 1 --workdir "${WORKDIR:-/tmp/bench-gpu}" 2>&1 | tee "$out/profile.log"
echo "profile: exit $?"

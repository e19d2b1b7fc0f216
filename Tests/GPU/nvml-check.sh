#!/usr/bin/env bash
# The NVML check, for a machine with an NVIDIA GPU and driver but no Swift toolchain (the
# device machines lent to some sessions; CI has no GPU and does not run it).
#
#   swift build -c release --product qoesim-gpu-probe --static-swift-stdlib --scratch-path .build-static
#   bash Tests/GPU/nvml-check.sh [PROBE]          (on the GPU machine; results in $OUT or /tmp/nvml-check)
#
# qoesim-gpu-probe loads NVML with dlopen as the live adapter does and integrates per-process
# SM utilisation into GPU-seconds with the live adapter's integrator (GPUSecondsIntegrator).
# Three readings: the GPU idle; the GPU busy with a PyTorch bf16 matrix-product loop, its
# PID given to the probe; and PID 1 (no GPU work) as the control in the same window.
# Pass criteria (stated before the run, printed with the readings):
#   idle: device mean utilisation <= 5 %
#   busy: device mean utilisation >= 80 %
#   busy: the loop's per-process GPU-seconds / window within 15 percentage points of the
#         device's mean utilisation (one process on the GPU: the two must agree)
#   busy: PID 1 gets 0 GPU-seconds, and nothing is unattributed beyond 10 % of the window
set -uo pipefail
probe="${1:-.build-static/release/qoesim-gpu-probe}"
out="${OUT:-/tmp/nvml-check}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,utilization.gpu,memory.total --format=csv 2>&1 | tee "$out/nvidia-smi.txt"
echo "== idle"
"$probe" --seconds 3 | tee "$out/idle.json" || { echo "FAIL: the probe could not read NVML"; exit 1; }
echo "== busy (PyTorch bf16 8192^3 products for 16 s; probe from 4 s to 12 s)"
python3 -c '
import time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
t = time.time()
while time.time() - t < 16:
    for _ in range(200): b = a @ a
    torch.cuda.synchronize()
' &
pid=$!
sleep 4
"$probe" --seconds 8 --pid "$pid" --pid 1 | tee "$out/busy.json"
wait "$pid"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
idle = json.load(open(f"{out}/idle.json")); busy = json.load(open(f"{out}/busy.json"))
ok = True
def check(name, cond, detail):
    global ok
    ok &= bool(cond)
    print(("PASS " if cond else "FAIL ") + name + ": " + detail)
iu = idle["gpus"][0]["mean_utilization_pct"]; bu = busy["gpus"][0]["mean_utilization_pct"]
check("idle device", iu <= 5, f"mean utilisation {iu} % (<= 5)")
check("busy device", bu >= 80, f"mean utilisation {bu} % (>= 80)")
w = busy["seconds"]; loop, init = busy["processes"][0], busy["processes"][1]
pct = 100 * loop["gpu_seconds"] / w
err = busy["process_utilization_error"]
check("busy process", err is None and abs(pct - bu) <= 15,
      f"PyTorch loop {loop['gpu_seconds']} GPU-s over {w} s = {pct:.1f} % vs device {bu} % (within 15 points); GPU {loop['gpu']}; "
      f"{busy['process_samples']} process samples; error: {err}")
check("control process", init["gpu_seconds"] == 0 and busy["unattributed_gpu_seconds"] <= 0.1 * w,
      f"PID 1 {init['gpu_seconds']} GPU-s; unattributed {busy['unattributed_gpu_seconds']} GPU-s")
print("nvml-check:", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY

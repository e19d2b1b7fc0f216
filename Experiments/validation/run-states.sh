#!/usr/bin/env bash
# Does a run of the workload have its own speed, and is the slow state of co-located
# MobileNetV2 copies OpenBLAS's polling? (fidelity work; by hand, about 10 minutes;
# nothing else may run meanwhile; needs dockerd, the workload image, as .ci/live-test
# makes them, and a release build of qoesim.)
#
#   bash Experiments/validation/run-states.sh
#
# Design, written 2026-12-05 before any run of it, after profile-gap.sh (point 7 of
# Experiments/validation/README.md), before any model change:
# Observations (profile-gap.sh). Alone at --cpus 2, MobileNetV2's requests agree within
#   3% inside a run while runs differ by 1.3x (40, 45, 53 ms). Two copies at once run
#   either both at the alone speed (44 ms) or both about 2.5x slower, and can switch
#   within a run.
# Hypotheses.
#   H10 (a run's own speed): a container's speed is set when its process starts (memory
#     placement, thread placement) and holds for the run; a profile with one run per
#     setting takes one draw of it.
#   H11 (the slow state is the polling): co-located copies are slow while OpenBLAS's
#     worker threads spin between products and take the core the other copy's main
#     thread needs; without the spin (OPENBLAS_THREAD_TIMEOUT=4) or without workers
#     (OPENBLAS_NUM_THREADS=1) there is no slow state.
# Protocol. A: alone, no limit, back to back, 12 requests after 3 warm-up, 8 runs each of
#   MobileNetV2 and ResNet-50, the networks alternating. B: 5 repeats; in each, for each
#   OpenBLAS configuration C in {default, OPENBLAS_THREAD_TIMEOUT=4,
#   OPENBLAS_NUM_THREADS=1}: MobileNetV2 alone (12 requests after 3 warm-up) and two
#   copies at once (`qoesim profile --colocate 2 --cpus none`, 30 requests after 3
#   warm-up; kept: requests run while both were measuring). The machine's steal time
#   (/proc/stat) is recorded over every run.
# Statistics. A: S = max / min over runs of the run medians; W = median over runs of a
#   run's q90 / q10. B: per co-located run, its median over the same repeat's alone
#   median with the same C (the slowdown).
# Predictions. P15 (H10): MobileNetV2 alone has S >= 1.2 and W <= 1.1 (ResNet-50
#   reported beside it). P16 (two states, default OpenBLAS): among the 5 default runs, at
#   least one slowdown <= 1.3 and at least one >= 1.8. P17 (H11): with each of the two
#   other configurations, all 5 slowdowns <= 1.3.
# Results: Experiments/validation/results/run-states/requests.csv (every request) and
#   runs.csv (per run: cell, steal ticks); run-states.py prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/run-states
mkdir -p "$out"
qoesim=${QOESIM:-.build/release/qoesim}
image=${IMAGE:-qoesim-infer:local}
label=qoesim.experiment=run-states
steal() { awk '/^cpu /{print $9}' /proc/stat; }
echo "part,repeat,network,config,run,container,request,latency_ms" > "$out/requests.csv"
echo "part,repeat,network,config,run,steal_ticks" > "$out/runs.csv"
run=0
# alone PART REPEAT NETWORK CONFIG [ENV...]: one container, 12 requests after 3 warm-up.
alone() {
  local part=$1 repeat=$2 net=$3 config=$4; shift 4
  local envs=() e; for e in "$@"; do envs+=(-e "$e"); done
  run=$((run + 1)); local s0; s0=$(steal)
  docker run --rm --network none --label "$label" "${envs[@]}" "$image" \
    /qoesim-infer bench --model "$net" --requests 12 --warmup 3 2>/dev/null | tail -n +2 \
    | awk -F, -v p="$part,$repeat,$net,$config,$run,0" '{print p "," $1 "," $2}' >> "$out/requests.csv"
  echo "$part,$repeat,$net,$config,$run,$(( $(steal) - s0 ))" | tee -a "$out/runs.csv" >&2
}
# pair REPEAT CONFIG [ENV...]: two MobileNetV2 copies at once through qoesim profile.
pair() {
  local repeat=$1 config=$2; shift 2
  run=$((run + 1)); local s0; s0=$(steal)
  local csv="$out/pair-$config-r$repeat.csv"
  env "$@" "$qoesim" profile --workload mobilenetv2 --colocate 2 --cpus none --requests 30 --warmup 3 \
    --mechanisms docker --image "$image" -o "$csv" >&2
  grep -v '^#' "$csv" | tail -n +2 \
    | awk -F, -v p="B,$repeat,mobilenetv2,$config,$run" '{print p "," int($8 / 30) "," $8 % 30 "," $6}' >> "$out/requests.csv"
  echo "B,$repeat,mobilenetv2,$config,$run,$(( $(steal) - s0 ))" | tee -a "$out/runs.csv" >&2
}
for i in 1 2 3 4 5 6 7 8; do
  alone A "$i" mobilenetv2 default
  alone A "$i" resnet50 default
done
for repeat in 1 2 3 4 5; do
  alone B "$repeat" mobilenetv2 default
  pair "$repeat" default
  alone B "$repeat" mobilenetv2 timeout4 OPENBLAS_THREAD_TIMEOUT=4
  pair "$repeat" timeout4 OPENBLAS_THREAD_TIMEOUT=4
  alone B "$repeat" mobilenetv2 threads1 OPENBLAS_NUM_THREADS=1
  pair "$repeat" threads1 OPENBLAS_NUM_THREADS=1
done
echo "wrote $out/requests.csv and $out/runs.csv" >&2

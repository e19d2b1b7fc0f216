#!/usr/bin/env bash
# Under a CPU limit, is the co-located slow state gone, and do idle-gapped requests spread
# more than the simulation's per-request noise? (fidelity work; by hand, about 10 minutes;
# nothing else may run meanwhile; needs dockerd, the workload image, as .ci/live-test
# makes them, and a release build of qoesim.)
#
#   bash Experiments/validation/limits.sh
#
# Design, written 2026-12-05 before any run of it, after run-states.sh and measured-cap.sh
# (points 8-10 of Experiments/validation/README.md), before any model change:
# Observations. Without a limit, two MobileNetV2 copies run either both at the alone speed
#   or both 2.1-2.6x slower, whole runs at a time (run-states.sh, 3 of 5 slow): OpenBLAS's
#   spinning workers take the core the other copy's main thread needs. Under dqoes the
#   validation's limits bind; under fair-share nothing limits. Separately, where a limit
#   binds the simulated p95 is light (held-out 1 dqoes `thumbs` -31%, bundled dqoes
#   `cam-detect` -26% with OPENBLAS_NUM_THREADS=1 and the demand cap; -44% by default):
#   the simulation's per-request noise is lognormal with cv 0.10-0.13 (q90/q10 1.30-1.39).
# Hypotheses.
#   H12 (a quota contains the polling): with each copy at --cpus 1 on 2 cores, a
#     container's spinning workers spend its own CFS budget, not its neighbour's core, so
#     the pair has no slow state.
#   H13 (the per-period budget spreads idle-gapped requests): under a binding quota
#     (--cpus 0.5) a request that arrives at an idle container runs on a fresh 100-ms
#     budget at full parallelism from a random phase of the period, so idle-gapped
#     requests vary more than back-to-back ones, whose budget is always spent.
# Protocol. A: 5 repeats; in each, MobileNetV2 alone and two copies at once
#   (`qoesim profile --colocate 1|2`, docker, 30 requests after 3 warm-up, back to back;
#   kept: requests run while both were measuring), at --cpus 1 and without a limit (the
#   control; its alone reference at --cpus 2, which `profile` takes for one container and
#   which cfs-share.sh B found within 1% of no limit). Statistic: per pair run, its median
#   over the same repeat's alone median (the slowdown). B: 3 repeats; in each, MobileNetV2 and ResNet-50 alone at
#   --cpus 0.5 (`qoesim profile`, docker, 20 requests after 3 warm-up), back to back and
#   with 1000 ms idle before each request. Statistic: per run, q90 / q10 of its requests'
#   latencies; the median over repeats.
# Predictions. P28 (H12): at --cpus 1, all 5 slowdowns <= 1.3. P29 (control): without a
#   limit, at least one of the 5 slowdowns >= 1.8. P30 (H13): for both networks, the
#   idle-gapped runs' q90 / q10 (median over repeats) >= 1.6 and the back-to-back runs'
#   <= 1.4 (the simulation's noise: 1.30-1.39).
# Results: Experiments/validation/results/limits/requests.csv (every kept request),
#   runs.csv; limits.py prints the tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/limits
mkdir -p "$out"
qoesim=${QOESIM:-.build/release/qoesim}
image=${IMAGE:-qoesim-infer:local}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "part,repeat,network,cell,run,container,request,latency_ms" > "$out/requests.csv"
run=0
# profile PART REPEAT NETWORK CELL CONTAINERS CPUS REQUESTS GAP_MS
profile() {
  local part=$1 repeat=$2 net=$3 cell=$4 k=$5 cpus=$6 n=$7 gap=$8
  run=$((run + 1))
  local csv="$work/run-$run.csv"
  "$qoesim" profile --workload "$net" --colocate "$k" --cpus "$cpus" --requests "$n" --warmup 3 --gap-ms "$gap" \
    --mechanisms docker --image "$image" -o "$csv" >&2
  # Columns: model,device,cpus,gpu_share,batch,latency_ms,mechanism,request[,colocated,limit];
  # with --colocate the request index runs over the containers, n per container.
  grep -v '^#' "$csv" | tail -n +2 \
    | awk -F, -v p="$part,$repeat,$net,$cell,$run" -v n="$n" '{print p "," int($8 / n) "," $8 % n "," $6}' >> "$out/requests.csv"
  echo "$part,$repeat,$net,$cell,$run" >&2
}
for repeat in 1 2 3 4 5; do
  profile A "$repeat" mobilenetv2 alone-1 1 1 30 0
  profile A "$repeat" mobilenetv2 pair-1 2 1 30 0
  profile A "$repeat" mobilenetv2 alone-2 1 2 30 0
  profile A "$repeat" mobilenetv2 pair-none 2 none 30 0
done
for repeat in 1 2 3; do
  for net in mobilenetv2 resnet50; do
    profile B "$repeat" "$net" b2b-0.5 1 0.5 20 0
    profile B "$repeat" "$net" gap1000-0.5 1 0.5 20 1000
  done
done
echo "wrote $out/requests.csv" >&2

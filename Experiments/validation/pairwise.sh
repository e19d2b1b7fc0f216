#!/usr/bin/env bash
# Does a container's speed beside a busy neighbour depend on what the neighbour runs?
# (fidelity work; by hand, about 20 minutes; nothing else may run meanwhile; needs
# dockerd and the workload image, as .ci/live-test makes them.)
#
#   bash Experiments/validation/pairwise.sh
#
# Design, written 2026-12-05 before any run of it, after wake-blend.sh (point 5 of
# Experiments/validation/README.md), before any model change:
# Observation. Back to back beside one busy ResNet-50, MobileNetV2 took 84 ms
#   (wake-blend), where the shared-cores fit, profiled on copies of MobileNetV2 running
#   together, gives 57 ms at the same water-filling share (1 core). The simulation gives
#   a container the same share, and so the same speed, whatever its neighbour runs.
# Hypothesis H7 (the neighbour's network matters). Each network's GEMMs and memory
#   traffic slow a neighbour differently; a co-located model needs a factor per pair.
# Protocol. X in {MobileNetV2, ResNet-50, BERT-base} (the validation traces' networks),
#   each in its own container without a limit, runs `qoesim-infer bench` (15 requests
#   after 2 warm-up ones) with G = 0 (back to back) or G = 1000 ms idle before each
#   request, alone and beside one busy container N (no limit, `bench` back to back,
#   started 3 s before) for each N in the same set. 3 repeats.
# Statistic: the slowdown s(X, N, G) = median latency beside N / median latency alone
#   (same repeat and G); per X and G, the spread of the medians over repeats of s across
#   the three neighbours, max / min.
# Predictions (H7): P10 for G = 0, max / min >= 1.2 for at least 2 of the 3 networks X;
#   P11 the same ordering of neighbours (by s) for at least 2 of the 3 X at G = 0.
#   The simulation's assumption (one share, one speed) predicts max / min <= 1.1 for
#   every X. G = 1000 is reported beside it (wake-blend P9: past the polling the idle
#   length does not matter).
# Results: Experiments/validation/results/pairwise/runs.csv; pairwise.py prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/pairwise
mkdir -p "$out"
nets=(mobilenetv2 resnet50 bert-base)
EXPERIMENT=pairwise
source Experiments/validation/bench.sh
median() { bench_median -- "$1" "$2" 15; }  # median NETWORK GAP_MS
echo "repeat,network,neighbour,gap_ms,median_ms" > "$out/runs.csv"
for repeat in 1 2 3; do
  for x in "${nets[@]}"; do
    for gap in 0 1000; do
      echo "$repeat,$x,none,$gap,$(median "$x" "$gap")" | tee -a "$out/runs.csv" >&2
    done
  done
  for n in "${nets[@]}"; do
    busy_start "$n"
    sleep 3
    for x in "${nets[@]}"; do
      for gap in 0 1000; do
        echo "$repeat,$x,$n,$gap,$(median "$x" "$gap")" | tee -a "$out/runs.csv" >&2
      done
    done
    busy_stop
  done
done
echo "wrote $out/runs.csv" >&2

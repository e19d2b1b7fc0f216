#!/usr/bin/env bash
# The co-located states of the heavy networks, with and without a limit: what a two-state
# model would be fitted on (fidelity work; by hand, about 8 minutes; nothing else may run
# meanwhile; needs dockerd, the workload image, as .ci/live-test makes them, and a release
# build of qoesim).
#
#   bash Experiments/validation/states.sh
#
# Design, written 2026-12-05 before any run of it, after limits.sh (point 11 of
# Experiments/validation/README.md), before any model change:
# Observations. MobileNetV2 pairs have two states: without a limit as alone or 2.1-2.6x
#   slower (7 of 10 runs slow), at --cpus 1 each as alone at that limit or 0.43x (2 of 5).
#   For the heavy networks there is less: pairwise.sh's ResNet-50 beside a busy copy
#   1.71x [1.71, 2.84, 1.58] of alone, BERT-base 1.67x [1.59, 1.67, 1.89]; this
#   machine's co-located profiles of 2026-12-05 (one run each) put ResNet-50 pairs at 204
#   ms (2.9x its 70.9 ms alone at --cpus 2) and BERT-base pairs at 509 ms (2.1x its 243.8).
#   Their GEMMs keep both OpenBLAS threads busy, so a fair split of 2 cores gives each copy
#   about one core: the "fast" state of a heavy pair is near L(1) / L(2), not 1.
# Hypothesis H14: without a limit, ResNet-50 pairs have two states too (the polling
#   stealing the neighbour's core), BERT-base pairs one (its long GEMMs leave little
#   polling); at --cpus 1 each, neither is slower than alone at --cpus 1.
# Protocol. 5 repeats; in each, for N in ResNet-50, BERT-base: N alone at --cpus 2 and
#   at --cpus 1, and two copies at once without a limit and at --cpus 1 each
#   (`qoesim profile`, docker, back to back, 3 warm-up; ResNet-50 30 requests, BERT-base
#   15; kept: requests run while both were measuring). Statistic: per pair run, its median
#   over the same repeat's alone median (no limit: over alone at --cpus 2).
# Predictions. P31: ResNet-50 without a limit: at least one slowdown <= 1.9 and at least
#   one >= 2.4 among the 5. P32: BERT-base without a limit: all 5 within [1.4, 2.2]. P33:
#   at --cpus 1, every slowdown of both networks within [0.7, 1.3].
# Results: Experiments/validation/results/states/requests.csv (every kept request, with
#   its cell); states.py prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/states
mkdir -p "$out"
qoesim=${QOESIM:-.build/release/qoesim}
image=${IMAGE:-qoesim-infer:local}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "repeat,network,cell,run,container,request,latency_ms" > "$out/requests.csv"
run=0
# profile REPEAT NETWORK CELL CONTAINERS CPUS REQUESTS: one run, its kept requests appended.
profile() {
  local repeat=$1 net=$2 cell=$3 k=$4 cpus=$5 n=$6
  run=$((run + 1))
  local csv="$work/run-$run.csv"
  "$qoesim" profile --workload "$net" --colocate "$k" --cpus "$cpus" --requests "$n" --warmup 3 \
    --mechanisms docker --image "$image" -o "$csv" >&2
  # Column 8 is the request index, running over the containers (n per container).
  grep -v '^#' "$csv" | tail -n +2 \
    | awk -F, -v p="$repeat,$net,$cell,$run" -v n="$n" '{print p "," int($8 / n) "," $8 % n "," $6}' >> "$out/requests.csv"
  echo "$repeat,$net,$cell,$run" >&2
}
for repeat in 1 2 3 4 5; do
  for net in resnet50 bert-base; do
    n=30; [ "$net" = bert-base ] && n=15
    profile "$repeat" "$net" alone-2 1 2 "$n"
    profile "$repeat" "$net" pair-none 2 none "$n"
    profile "$repeat" "$net" alone-1 1 1 "$n"
    profile "$repeat" "$net" pair-1 2 1 "$n"
  done
done
echo "wrote $out/requests.csv" >&2

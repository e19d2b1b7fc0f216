#!/usr/bin/env bash
# Why do the co-located profile and a bench beside a busy copy disagree for MobileNetV2?
# (fidelity work; by hand, about 10 minutes; nothing else may run meanwhile; needs dockerd,
# the workload image, as .ci/live-test makes them, and a release build of qoesim.)
#
#   bash Experiments/validation/profile-gap.sh
#
# Design, written 2026-12-05 before any run of it, after pairwise.sh (point 6 of
# Experiments/validation/README.md), before any model change:
# Observation. Two MobileNetV2 copies without limits, back to back: the validation's
#   co-located profile (`qoesim profile --colocate 2 --cpus none`, 5 requests after 1
#   warm-up, 2026-12-04 20:49) kept 8 requests with a median of 57 ms; pairwise.sh
#   (2026-12-05 05:12, `bench` beside a busy copy started 3 s before, 15 requests after 2
#   warm-up) measured 91 ms. For ResNet-50 the two agree (119 and 124 ms). And alone at
#   `--cpus 2` the quota profile gave 59-69 ms where cfs-share.sh's bench gave 41-44 ms.
# Hypotheses.
#   H8 (drift): the machine ran at a different speed on the two evenings; measured
#     interleaved, the two methods agree.
#   H9 (method): the profile's short runs (5 requests after 1 warm-up, both containers
#     started at once) measure a different state than a long-running neighbour: the
#     first requests of a fresh MobileNetV2 process run at another speed.
# Protocol (3 repeats, the cells interleaved in this order in each repeat):
#   P2   `qoesim profile --workload W --colocate 2 --cpus none --requests 5 --warmup 1`
#        (as the validation's profile) -> median of the kept requests
#   P2L  the same with --requests 20 --warmup 3
#   B2   bench.sh: W (15 requests after 2 warm-up) beside a busy copy started 3 s before
#   P1   `qoesim profile --workload W --cpus 2 --requests 5 --warmup 1` (the quota profile)
#   B1   bench.sh: W alone at --cpus 2 (15 requests after 2 warm-up)
#   for W = MobileNetV2, then P2 and B2 for W = ResNet-50 (the control: they agreed).
# Statistic: per cell the median over repeats of each run's median latency; the ratios
#   P2 / B2, P2L / B2, P1 / B1.
# Predictions. H8: P2 / B2 and P1 / B1 for MobileNetV2 within [0.87, 1.15] (P12).
#   H9: P2 / B2 outside that band while P2L / B2 is inside it (P13).
#   Control: ResNet-50 P2 / B2 within [0.87, 1.15] (P14).
#   Neither: P2 and P2L both off B2 (the methods differ in something else: to look for).
# Results: Experiments/validation/results/profile-gap/runs.csv and the profiles beside it;
#   profile-gap.py prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/profile-gap
mkdir -p "$out"
qoesim=${QOESIM:-.build/release/qoesim}
EXPERIMENT=profile-gap
source Experiments/validation/bench.sh
# profile_median CSV: the median latency_ms of a profile's rows.
profile_median() {
  grep -v '^#' "$1" | tail -n +2 | cut -d, -f6 | sort -g \
    | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
# profile CELL REPEAT ARGS...: runs qoesim profile into $out and prints the median.
profile() {
  local cell=$1 repeat=$2; shift 2
  local csv="$out/$cell-r$repeat.csv"
  "$qoesim" profile --mechanisms docker --image "$image" -o "$csv" "$@" >&2
  profile_median "$csv"
}
echo "repeat,network,cell,median_ms" > "$out/runs.csv"
row() { echo "$1,$2,$3,$4" | tee -a "$out/runs.csv" >&2; }
for repeat in 1 2 3; do
  w=mobilenetv2
  row "$repeat" "$w" P2 "$(profile "$w-P2" "$repeat" --workload "$w" --colocate 2 --cpus none --requests 5 --warmup 1)"
  row "$repeat" "$w" P2L "$(profile "$w-P2L" "$repeat" --workload "$w" --colocate 2 --cpus none --requests 20 --warmup 3)"
  busy_start "$w"; sleep 3
  row "$repeat" "$w" B2 "$(bench_median -- "$w" 0 15)"
  busy_stop
  row "$repeat" "$w" P1 "$(profile "$w-P1" "$repeat" --workload "$w" --cpus 2 --requests 5 --warmup 1)"
  row "$repeat" "$w" B1 "$(bench_median --cpus 2 -- "$w" 0 15)"
  w=resnet50
  row "$repeat" "$w" P2 "$(profile "$w-P2" "$repeat" --workload "$w" --colocate 2 --cpus none --requests 5 --warmup 1)"
  busy_start "$w"; sleep 3
  row "$repeat" "$w" B2 "$(bench_median -- "$w" 0 15)"
  busy_stop
done
echo "wrote $out/runs.csv" >&2

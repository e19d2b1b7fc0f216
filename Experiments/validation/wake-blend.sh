#!/usr/bin/env bash
# Does a container without a limit run at the quota curve when it wakes and at the
# shared-cores curve when it stays busy? (fidelity work; by hand, about 15 minutes;
# nothing else may run meanwhile; needs dockerd and the workload image, as .ci/live-test
# makes them.)
#
#   bash Experiments/validation/wake-blend.sh
#
# Design, written 2026-12-05 before any run of it, after parts-by-regime.sh and the
# cfs-bandwidth rerun (Experiments/validation/README.md point 4), before any model change:
# Observation. Busy-all-the-time containers without limits match the shared-cores curve
#   (miniature under fair-share: -6.3% with `shared`, +37.7% with `quota`); containers
#   that wake per request do not (open-loop MobileNetV2 rows overshoot to -27..-50% with
#   `shared`); cfs-share.sh A found a MobileNetV2 request after 200 ms idle beside one
#   busy ResNet-50 at 75-94 ms, between the shared curve (57 ms at 1 core) and the quota
#   curve (101 ms). The candidate model term reads only the container's own state: its
#   speed blends from the quota curve (when it wakes) to the shared curve (as it stays
#   busy), w(t_busy) = exp(-t_busy / tau), and the idle spin (OpenBLAS's polling, 0.1-0.2
#   s after each request) counts as busy.
# Protocol. A container X (MobileNetV2, then ResNet-50; no limit) runs `qoesim-infer
#   bench` (20 requests after 2 warm-up ones) with G ms idle before each request, beside
#   k = 1 busy ResNet-50 container (no limit, back to back, started 3 s before), for
#   G = 0, 20, 50, 200, 1000 with the default OpenBLAS, and G = 20, 50 with
#   OPENBLAS_THREAD_TIMEOUT=4 (polling off); X alone (k = 0) at G = 0 and 1000 as a
#   reference. 3 repeats. Statistic: the median latency m(G); its place between the two
#   curves at the water-filling share (1 core), f(G) = (m(G) - Ls(1)) / (Lq(1) - Ls(1)),
#   Lq and Ls the quota and shared-cores fits of the validation's profiles
#   (results/heldout-4-fair-share/models/*.json: `latency`, `measured_latency_shared`;
#   MobileNetV2 Lq(1) = 100.6 ms, Ls(1) = 57.3; ResNet-50 152.6 and 124.3), medians of
#   f over the repeats. Predictions are judged on MobileNetV2 (its curves are 43 ms
#   apart; ResNet-50's 28 ms, about its run-to-run spread) and reported for both:
#   P6  f(0) <= 0.25 (back to back runs at the shared curve);
#   P7  f(200) >= 0.4 and f(1000) >= 0.4 (a request after the polling stopped runs
#       nearer the quota curve);
#   P8  |f(20) - f(0)| <= 0.15 and |f(50) - f(0)| <= 0.15 with the default OpenBLAS (the
#       polling keeps the container busy through short gaps), while with
#       OPENBLAS_THREAD_TIMEOUT=4 f(50) >= 0.4 (it sleeps at once);
#   P9  |f(1000) - f(200)| <= 0.15 (past the polling, the idle length does not matter).
#   All of P6-P9 met: the w(t_busy) term with the spin counted as busy is the structure
#   to fit (tau from the G >= 200 rows: the tau for which a request whose speed blends
#   from 1/Lq to 1/Ls takes m(G)). P9 not met: the idle length matters (CFS's sleeper
#   credit or the quota-free wake-up), and the term must read idle time as well.
# Results: Experiments/validation/results/wake-blend/runs.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/validation/results/wake-blend
mkdir -p "$out"
EXPERIMENT=wake-blend
source Experiments/validation/bench.sh
median() { bench_median "$@" 20; }  # median [docker run options...] -- NETWORK GAP_MS
echo "repeat,network,busy_neighbours,gap_ms,openblas_thread_timeout,median_ms" > "$out/runs.csv"
for repeat in 1 2 3; do
  for net in mobilenetv2 resnet50; do
    for gap in 0 1000; do
      echo "$repeat,$net,0,$gap,default,$(median -- "$net" "$gap")" | tee -a "$out/runs.csv" >&2
    done
    busy_start resnet50
    sleep 3
    for gap in 0 20 50 200 1000; do
      echo "$repeat,$net,1,$gap,default,$(median -- "$net" "$gap")" | tee -a "$out/runs.csv" >&2
    done
    for gap in 20 50; do
      echo "$repeat,$net,1,$gap,4,$(median -e OPENBLAS_THREAD_TIMEOUT=4 -- "$net" "$gap")" | tee -a "$out/runs.csv" >&2
    done
    busy_stop
  done
done
echo "wrote $out/runs.csv" >&2

#!/usr/bin/env bash
# The full validation (by hand; about 2 h 15 min on a 2-core machine at REPEATS=5, plus
# profiling the first time): the bundled validation trace (jobs) and the held-out
# traces 1-4, each under fair-share and under dqoes, REPEATS (default 5) live runs
# against the real dockerd and their simulations with this machine's fits. Needs dockerd
# and the workload image (.ci/live-test makes both). Nothing else should run on the
# machine meanwhile: the live runs measure it.
#
# Results (committed, not ignored): Experiments/validation/results/<trace>-<policy>/
# (report.json with the fidelity summary, repeat-N/live/recorded.json and the live run's
# files, repeat-N/sim/, models/ the fits used, manifest.json). Experiments/validation/
# README.md tabulates them (python3 Experiments/validation/table.py).
#
# TRACES="jobs heldout-3" and POLICIES="dqoes" pick a subset; RESULTS=DIR writes under DIR
# instead (a variant, e.g. threads1.sh's OpenBLAS setting, beside the default's results). REUSE=1 simulates again
# against the live runs recorded there (after a change to the simulator) with the fits
# kept in each folder's models/, instead of running live. Extra arguments go to
# `qoesim validate` (e.g. --model-parts shared, to study another model).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .build/release/qoesim ] || swift build -c release --product qoesim >&2
results=${RESULTS:-Experiments/validation/results}
for trace in ${TRACES:-jobs heldout-1 heldout-2 heldout-3 heldout-4}; do
  for policy in ${POLICIES:-fair-share dqoes}; do
    out="$results/$trace-$policy"
    extra=()
    if [ "${REUSE:-0}" = 1 ]; then
      # validate replaces $out whole and copies the recorded live runs into the new one;
      # a copy of the fits is read, since $out/models is replaced too.
      models=$(mktemp -d)
      cp "$out"/models/*.json "$models/"
      extra=(--reuse-live "$out" --models "$models")
    fi
    echo "== $trace under $policy ($(date -u +%H:%M:%S))" >&2
    .build/release/qoesim validate --trace "Traces/validation/$trace.csv" --policy "$policy" \
      --repeats "${REPEATS:-5}" --out "$out" "${extra[@]}" "$@" | tail -n 16
    [ "${REUSE:-0}" = 1 ] && rm -rf "$models"
  done
done

#!/usr/bin/env bash
# The full validation (by hand; about 50 minutes on a 2-core machine, plus profiling the
# first time): the bundled validation trace and the two held-out traces, each under
# fair-share and under dqoes, REPEATS (default 3) live runs against the real dockerd and
# their simulations with this machine's fits. Needs dockerd and the workload image
# (.ci/live-test makes both). Results: Experiments/validation/results/<trace>-<policy>/
# (report.json, repeat-N/{live,sim}/). Nothing else should run on the machine meanwhile:
# the live runs measure it.
# REUSE=1 simulates again against the live runs recorded there (after a change to the
# simulator or the fits) instead of running live.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .build/release/qoesim ] || swift build -c release --product qoesim >&2
results=Experiments/validation/results
for trace in jobs heldout-1 heldout-2; do
  for policy in fair-share dqoes; do
    out="$results/$trace-$policy"
    extra=()
    if [ "${REUSE:-0}" = 1 ]; then
      mv "$out" "$out.recorded" 2>/dev/null || true
      extra=(--reuse-live "$out.recorded")
    fi
    echo "== $trace under $policy" >&2
    .build/release/qoesim validate --trace "Traces/validation/$trace.csv" --policy "$policy" \
      --repeats "${REPEATS:-3}" --out "$out" "${extra[@]}" "$@" | tail -n 12
    if [ "${REUSE:-0}" = 1 ]; then
      # Keep the recorded live runs with the new simulations.
      for d in "$out.recorded"/repeat-*; do cp -r "$d/live" "$out/$(basename "$d")/"; done
      rm -rf "$out.recorded"
    fi
  done
done

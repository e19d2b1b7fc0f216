#!/usr/bin/env bash
# The live reproduction in miniature (by hand; about 35 minutes): six closed-loop
# containers on this machine for 300 s (Traces/validation/miniature.csv: targets at c* in
# [0.95, 2] x the equal share of this machine's fit), fair-share against dqoes, REPEATS
# (default 3) live runs each and their simulations. Prints, per policy, the satisfied
# counts live and simulated. Needs dockerd and the workload image (.ci/live-test).
# REUSE=1 simulates again against the recorded live runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .build/release/qoesim ] || swift build -c release --product qoesim >&2
results=Experiments/live-miniature/results
for policy in fair-share dqoes; do
  out="$results/$policy"
  extra=()
  if [ "${REUSE:-0}" = 1 ]; then
    mv "$out" "$out.recorded" 2>/dev/null || true
    extra=(--reuse-live "$out.recorded")
  fi
  echo "== miniature under $policy" >&2
  .build/release/qoesim validate --trace Traces/validation/miniature.csv --policy "$policy" \
    --repeats "${REPEATS:-3}" --out "$out" "${extra[@]}" "$@" | tail -n 12
  if [ "${REUSE:-0}" = 1 ]; then
    for d in "$out.recorded"/repeat-*; do cp -r "$d/live" "$out/$(basename "$d")/"; done
    rm -rf "$out.recorded"
  fi
done

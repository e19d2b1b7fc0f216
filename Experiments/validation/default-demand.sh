#!/usr/bin/env bash
# Re-simulates the default configuration's recorded live runs (results/, all ten pairs)
# with max_parallelism = the CPU a container takes unconstrained (simulations only, a
# minute; needs a release build of qoesim and the profile cache the default's fits were
# made from, 981968460dbb325f, which only the machine that made them has).
#
#   bash Experiments/validation/default-demand.sh
#
# Design, written 2026-12-05 before any run of it, after threads1-demand.sh (point 9 of
# Experiments/validation/README.md):
# Question. 0.17.0 caps a container's simulated CPU demand at what it uses unconstrained
#   (LatencyFitter.demandCap: the idle-spin profile's back-to-back CPU seconds per request
#   over the fitted latency at the largest limit, at least 1, at most that limit). With
#   the default OpenBLAS the polling counts as use. What does that do to the default's
#   results, which were simulated with max_parallelism 2 for every network?
# Protocol. Per pair: `qoesim validate --reuse-live` of results/PAIR with its models/,
#   max_parallelism replaced by demandCap computed here from the cached idle-spin profile
#   and the model's own fit (the same formula as LocalFits; printed per network); results
#   in Experiments/validation/results-default-demand/.
# Prediction. P25: the overall mean/target error moves by at most 5 points on at least 8
#   of the 10 pairs (no direction predicted: with the polling counted, the caps stay near
#   the 2 cores except where the profile's latency at 2 cores is slow).
# Results: `python3 Experiments/validation/table.py --root Experiments/validation/results-default-demand`.
set -euo pipefail
cd "$(dirname "$0")/../.."
from=Experiments/validation/results
to=Experiments/validation/results-default-demand
profiles=${PROFILES:-$HOME/.cache/qoesim/profiles/981968460dbb325f}
[ -f "$profiles/KEY.txt" ] || { echo "error: no profile cache $profiles (only the machine that made the default's fits has it)" >&2; exit 1; }
mkdir -p "$to"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for trace in jobs heldout-1 heldout-2 heldout-3 heldout-4; do
  for policy in fair-share dqoes; do
    pair=$trace-$policy
    echo "== $pair" >&2
    mkdir -p "$work/$pair"
    python3 - "$from/$pair/models" "$profiles" "$work/$pair" <<'PY'
import csv, json, os, sys
src, profiles, dst = sys.argv[1:]
for name in sorted(os.listdir(src)):
    model = json.load(open(os.path.join(src, name)))
    lat = model["latency"]
    net = name[:-5]
    rows = [r for r in csv.DictReader(l for l in open(os.path.join(profiles, net + "-spin.csv")) if not l.startswith("#"))]
    cpu = [float(r["cpu_seconds"]) / float(r["requests"]) for r in rows if float(r["gap_ms"]) == 0]
    largest = 2.0  # the profile's largest limit (KEY.txt: limits 0.25,0.5,1.0,2.0)
    c = min(largest, lat.get("max_parallelism", largest))
    latency_ms = lat["a_ms"] / min(largest, 1) + lat["b_ms"] * c ** -lat["k"]
    cap = min(largest, max(1.0, sum(cpu) / len(cpu) / (latency_ms / 1000)))
    print(f"  {name}: {sum(cpu) / len(cpu):.4f} CPU-s per request at {latency_ms:.1f} ms: max_parallelism {lat.get('max_parallelism')} -> {cap:.3f}", file=sys.stderr)
    lat["max_parallelism"] = cap
    json.dump(model, open(os.path.join(dst, name), "w"), indent=2, sort_keys=True)
PY
    .build/release/qoesim validate --trace "Traces/validation/$trace.csv" --policy "$policy" \
      --repeats 5 --reuse-live "$from/$pair" --models "$work/$pair" --out "$to/$pair" | tail -n 2 || true
  done
done

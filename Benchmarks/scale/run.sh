#!/usr/bin/env bash
# Scale run: 1,000 nodes x 16 cores, 10,000 containers, about 10^7 requests (generated
# from Benchmarks/scale/experiment.yaml), simulated under fair-share and dqoes. Prints
# wall time, events per second and peak memory (max RSS) of each run, and, to show that
# memory does not grow with the number of requests, the same scenario stopped after a
# quarter of its simulated time (about 2.5 x 10^6 requests).
#
# Usage: bash Benchmarks/scale/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
swift build -c release --product qoesim >&2
out=.build/scale
rm -rf "$out" && mkdir -p "$out"
.build/release/qoesim generate Benchmarks/scale/experiment.yaml --seed 1 --out "$out/scenario" >&2
run() { # policy label [extra args]
  local policy=$1 label=$2; shift 2
  echo "running $label ..." >&2
  /usr/bin/time -f "%M %e" -o "$out/$label.rss" .build/release/qoesim run --cluster "$out/scenario/cluster.json" \
    --trace "$out/scenario/jobs.csv" --models Traces/models --policy "$policy" --json "$@" > "$out/$label.json"
}
run fair-share fair-share
run dqoes dqoes
run fair-share fair-share-quarter --horizon 15
run dqoes dqoes-quarter --horizon 15
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'run':20} {'containers':>10} {'requests':>12} {'satisfied':>10} {'events':>12} {'sim wall s':>10} {'process s':>9} {'M events/s':>10} {'peak RSS MB':>11}")
for label in ("fair-share", "dqoes", "fair-share-quarter", "dqoes-quarter"):
    r = json.load(open(f"{out}/{label}.json"))
    rss_kb, elapsed = open(f"{out}/{label}.rss").read().split()[-2:]
    rss_mb = int(rss_kb) / 1024
    requests = sum(m["requests"] for m in r["models"])
    print(f"{label:20} {len(r['models']):>10,} {requests:>12,} {r['satisfied']:>10,} {r['events']:>12,} "
          f"{r['wall_s']:>10.1f} {float(elapsed):>9.1f} {r['events'] / r['wall_s'] / 1e6:>10.2f} {rss_mb:>11.0f}")
print("sim wall s: the simulation loop; process s: the whole command (reading inputs, writing JSON).")
PY

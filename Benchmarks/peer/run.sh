#!/usr/bin/env bash
# Side by side on the same scenario: K=100 independent M/M/1 queues (static 1-CPU
# containers, exponential service, mu = 10/s, lambda = 8/s, rho 0.8), simulated by
# qoesim and by an equivalent SimPy program. Prints each one's jobs per wall second and
# the ratio. SimPy simulates 1,000 s (it is slow); qoesim 10,000 s (so its timing is
# not dominated by start-up); both report jobs per wall second.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import simpy" 2>/dev/null || pip install --quiet simpy
swift build -c release --product qoesim >&2
simpy_json=$(python3 Benchmarks/peer/mm1_simpy.py 100 1000)
qoesim_json=$(.build/release/qoesim run --cluster Benchmarks/scenarios/mm1-k100/cluster.json \
  --trace Benchmarks/scenarios/mm1-k100/jobs.csv --models Benchmarks/scenarios/mm1-k100/models \
  --policy static --json --quiet)
python3 - "$simpy_json" "$qoesim_json" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); q = json.loads(sys.argv[2])
jobs = sum(m["requests"] for m in q["models"])
mean = sum(m["mean_ms"] * m["requests"] for m in q["models"]) / jobs / 1000
qps = jobs / q["wall_s"]
print(f"simpy : {s['jobs']:>10,} jobs in {s['wall_s']:7.2f} s wall = {s['jobs_per_s']:>12,.0f} jobs/s  (mean response {s['mean_response_s']:.3f} s, theory 0.500)")
print(f"qoesim: {jobs:>10,} jobs in {q['wall_s']:7.2f} s wall = {qps:>12,.0f} jobs/s  (mean response {mean:.3f} s, theory 0.500)")
print(f"ratio qoesim / simpy = {qps / s['jobs_per_s']:.1f}x")
PY

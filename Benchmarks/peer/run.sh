#!/usr/bin/env bash
# Side by side on the same scenario: K=100 independent M/M/1 queues (static 1-CPU
# containers, exponential service, mu = 10/s, lambda = 8/s, rho 0.8), simulated by
# qoesim, by an equivalent SimPy program and by a minimal C event loop. Prints each
# one's jobs per wall second and the ratios. SimPy simulates 1,000 s (it is slow);
# qoesim and C 10,000 s (so that start-up does not dominate); all report jobs per wall
# second of the simulation loop (qoesim's wall_s excludes reading its input files).
#
# Second, the paper-8x headline scenario (16 closed-loop models on 16 cores) under
# fair-share, the part of it SimPy can express directly (Benchmarks/peer/paper8x_simpy.py
# explains why), 3,000 simulated seconds in both; per-model mean latencies are compared
# too, as a cross-check of the two implementations.
#
# Usage: bash Benchmarks/peer/run.sh [REPEATS]   (default 5; the best run of each counts)
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-5}
python3 -c "import simpy" 2>/dev/null || pip install --quiet simpy
command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc >/dev/null; }
swift build -c release --product qoesim >&2
mkdir -p .build/peer
cc -O2 -o .build/peer/mm1_c Benchmarks/peer/mm1_c.c -lm
best() { python3 -c 'import json,sys; rs=[json.loads(l) for l in sys.stdin if l.strip()]; print(json.dumps(max(rs, key=lambda r: r["jobs_per_s"])))'; }
echo "running each system $repeats times (best run counts) ..." >&2
simpy_json=$(for _ in $(seq "$repeats"); do python3 Benchmarks/peer/mm1_simpy.py 100 1000; done | best)
c_json=$(for _ in $(seq "$repeats"); do .build/peer/mm1_c 100 10000; done | best)
qoesim_json=$(for _ in $(seq "$repeats"); do
  .build/release/qoesim run --cluster Benchmarks/scenarios/mm1-k100/cluster.json \
    --trace Benchmarks/scenarios/mm1-k100/jobs.csv --models Benchmarks/scenarios/mm1-k100/models \
    --policy static --json --quiet | python3 -c '
import json, sys
q = json.load(sys.stdin)
jobs = sum(m["requests"] for m in q["models"])
mean = sum(m["mean_ms"] * m["requests"] for m in q["models"]) / jobs / 1000
print(json.dumps({"system": "qoesim", "jobs": jobs, "wall_s": q["wall_s"], "jobs_per_s": jobs / q["wall_s"],
                  "mean_response_s": mean, "events": q["events"]}))'
done | best)
python3 - "$simpy_json" "$c_json" "$qoesim_json" <<'PY'
import json, sys
s, c, q = (json.loads(a) for a in sys.argv[1:])
for name, r in (("simpy", s), ("c", c), ("qoesim", q)):
    print(f"{name:6}: {r['jobs']:>10,} jobs in {r['wall_s']:7.2f} s wall = {r['jobs_per_s']:>12,.0f} jobs/s"
          f"  (mean response {r['mean_response_s']:.3f} s, theory 0.500)")
print(f"ratio qoesim / simpy = {q['jobs_per_s'] / s['jobs_per_s']:.1f}x   (goal >= 100x)")
print(f"ratio c / qoesim     = {c['jobs_per_s'] / q['jobs_per_s']:.2f}x   (goal <= 2x)")
PY

echo "paper-8x headline (16 models, 16 cores, closed loop), fair-share, 3,000 s simulated ..." >&2
p8=.build/peer/paper-8x
.build/release/qoesim generate Experiments/paper-8x/experiment.yaml --set models=16 --set duration_s=3000 --seed 1 --out "$p8" >&2
simpy_json=$(for _ in $(seq "$repeats"); do python3 Benchmarks/peer/paper8x_simpy.py "$p8/cluster.json" "$p8/jobs.csv" Traces/models; done | best)
qoesim_json=$(for _ in $(seq "$repeats"); do
  .build/release/qoesim run --cluster "$p8/cluster.json" --trace "$p8/jobs.csv" --models Traces/models \
    --policy fair-share --json --quiet | python3 -c '
import json, sys
q = json.load(sys.stdin)
jobs = sum(m["requests"] for m in q["models"])
print(json.dumps({"jobs": jobs, "wall_s": q["wall_s"], "jobs_per_s": jobs / q["wall_s"],
                  "mean_ms": {m["id"]: m["mean_ms"] for m in q["models"]}}))'
done | best)
python3 - "$simpy_json" "$qoesim_json" <<'PY'
import json, sys
s, q = (json.loads(a) for a in sys.argv[1:])
for name, r in (("simpy", s), ("qoesim", q)):
    print(f"{name:6}: {r['jobs']:>10,} jobs in {r['wall_s']:7.2f} s wall = {r['jobs_per_s']:>12,.0f} jobs/s")
diffs = [abs(q["mean_ms"][k] / v - 1) * 100 for k, v in s["mean_ms"].items()]
print(f"per-model mean latency, qoesim vs simpy: largest difference {max(diffs):.2f}% over {len(diffs)} models")
print(f"ratio qoesim / simpy = {q['jobs_per_s'] / s['jobs_per_s']:.1f}x")
PY

#!/usr/bin/env bash
# Two builds of qoesim side by side, interleaved round by round on the same machine so
# that drift and noise fall on both alike:
#   1. the engine floor: scenarios/mm1-k100 (K=100 M/M/1 queues, 10,000 s) by the minimal
#      C event loop, the build before and the build after (jobs per wall second of the
#      simulation loop; the best round of each counts);
#   2. a controller-heavy run: the paper-8x scenario generated with 32 models on 16 cores
#      (30,000 s, closed loops), under dqoes with a 0.5 s actuation delay (a decision for
#      32 containers every 5 s, each change a timer), best wall time of each build.
# Prints each build's numbers, c / build for the floor, and after / before for both.
#
# Usage: bash Benchmarks/peer/before-after.sh BEFORE_BINARY AFTER_BINARY [ROUNDS]  (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
before=${1:?usage: before-after.sh BEFORE_BINARY AFTER_BINARY [ROUNDS]}
after=${2:?usage: before-after.sh BEFORE_BINARY AFTER_BINARY [ROUNDS]}
rounds=${3:-5}
command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc >/dev/null; }
mkdir -p .build/peer
cc -O2 -o .build/peer/mm1_c Benchmarks/peer/mm1_c.c -lm
s=Benchmarks/scenarios/mm1-k100
heavy=.build/peer/paper-8x-32-long
"$after" generate Experiments/paper-8x/experiment.yaml --set models=32 --set duration_s=30000 --seed 1 --out "$heavy" >&2
mm1() {  # BINARY: one JSON line, jobs per wall second
  "$1" run --cluster $s/cluster.json --trace $s/jobs.csv --models $s/models --policy static --json --quiet | python3 -c '
import json, sys
q = json.load(sys.stdin)
jobs = sum(m["requests"] for m in q["models"])
print(json.dumps({"jobs_per_s": jobs / q["wall_s"], "satisfied": sum(m["satisfied"] for m in q["models"])}))'
}
controller() {  # BINARY: one JSON line, the simulation's wall seconds
  "$1" run --cluster "$heavy/cluster.json" --trace "$heavy/jobs.csv" --models Traces/models --policy dqoes \
    --actuation-delay 0.5 --json --quiet | python3 -c '
import json, sys
q = json.load(sys.stdin)
print(json.dumps({"wall_s": q["wall_s"], "satisfied": sum(m["satisfied"] for m in q["models"]), "events": q["events"]}))'
}
log=.build/peer/before-after.jsonl
: > "$log"
for r in $(seq "$rounds"); do
  echo "round $r of $rounds ..." >&2
  .build/peer/mm1_c 100 10000 | python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"what":"mm1","who":"c","jobs_per_s":r["jobs_per_s"]}))' >> "$log"
  for who in before after; do
    bin=$before; [ "$who" = after ] && bin=$after
    mm1 "$bin" | python3 -c "import json,sys; r=json.load(sys.stdin); r.update(what='mm1', who='$who'); print(json.dumps(r))" >> "$log"
    controller "$bin" | python3 -c "import json,sys; r=json.load(sys.stdin); r.update(what='controller', who='$who'); print(json.dumps(r))" >> "$log"
  done
done
python3 - "$log" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def best(what, who, key, pick):
    xs = [r[key] for r in rows if r["what"] == what and r["who"] == who]
    return pick(xs), xs
c, cs = best("mm1", "c", "jobs_per_s", max)
b, bs = best("mm1", "before", "jobs_per_s", max)
a, as_ = best("mm1", "after", "jobs_per_s", max)
print(f"engine floor, mm1-k100 10,000 s, {len(cs)} interleaved rounds (best; range):")
for name, v, xs in (("c", c, cs), ("before", b, bs), ("after", a, as_)):
    print(f"  {name:7} {v:>12,.0f} jobs/s   [{min(xs):,.0f} - {max(xs):,.0f}]")
print(f"  c / before = {c / b:.2f}x   c / after = {c / a:.2f}x   (goal <= 1.3x)   after / before = {a / b:.3f}")
bw, bws = best("controller", "before", "wall_s", min)
aw, aws = best("controller", "after", "wall_s", min)
sat = {r["who"]: r["satisfied"] for r in rows if r["what"] == "controller"}
ev = {r["who"]: r["events"] for r in rows if r["what"] == "controller"}
print(f"controller-heavy, paper-8x 32 models 30,000 s under dqoes (delay 0.5 s), best wall s; range:")
print(f"  before  {bw:.3f} s  [{min(bws):.3f} - {max(bws):.3f}]  satisfied {sat['before']}, events {ev['before']:,}")
print(f"  after   {aw:.3f} s  [{min(aws):.3f} - {max(aws):.3f}]  satisfied {sat['after']}, events {ev['after']:,}")
print(f"  after / before = {aw / bw:.3f}  (goal <= 1.05)")
PY

#!/usr/bin/env bash
# Peak memory of request traces: 10^8 rows (about 1.9 GB, over RequestTrace.streamAbove =
# 256 MiB, so validated in one pass and streamed from disk) beside 10^7 rows (about 190 MB,
# held in memory). Two trace jobs interleaved in the file, 1,000 requests/s each, on a
# model of 0.25 ms per request (Benchmarks/stream/models/fast.json). Prints rows, file
# size, requests simulated, wall time and peak memory (max RSS, /usr/bin/time) of each.
# The trace files are written to $QOESIM_BENCH_DIR (default /tmp/qoesim-stream-bench;
# needs about 2.2 GB of disk) and removed at the end.
#
# Usage: bash Benchmarks/stream/run.sh [ROWS_STREAMED] [ROWS_HELD]     (defaults 1e8, 1e7)
set -euo pipefail
cd "$(dirname "$0")/../.."
streamed_rows="${1:-100000000}"
held_rows="${2:-10000000}"
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
swift build -c release --product qoesim >&2
work="${QOESIM_BENCH_DIR:-/tmp/qoesim-stream-bench}"
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
printf 'nodes:\n  - {name: n1, cpus: 4}\n' > "$work/cluster.yaml"

trace() {  # trace ROWS DIR: jobs.csv and requests.csv with ROWS requests over two jobs
  local rows=$1 dir=$2
  mkdir -p "$dir"
  # Each job gets ROWS/2 requests at 1,000/s: duration ROWS/2000 s (+1 s).
  local duration=$(( rows / 2000 + 1 ))
  printf 'job_id,model,arrival_s,duration_s,rate_rps,target_ms,arrivals\na,fast,0,%s,,5,trace\nb,fast,0,%s,,5,trace\n' \
    "$duration" "$duration" > "$dir/jobs.csv"
  mawk -v n="$rows" 'BEGIN { print "job_id,time_s"; for (i = 0; i < n; i += 2) { t = i / 2000; printf "a,%.4f\nb,%.4f\n", t, t + 0.0005 } }' \
    > "$dir/requests.csv"
}

run() {  # run LABEL ROWS
  local label=$1 rows=$2 dir="$work/$1"
  echo "writing $rows rows ($label) ..." >&2
  trace "$rows" "$dir"
  echo "running $label ..." >&2
  /usr/bin/time -f "%M %e" -o "$dir/rss" .build/release/qoesim run --cluster "$work/cluster.yaml" --trace "$dir/jobs.csv" \
    --models Benchmarks/stream/models --requests "$dir/requests.csv" --policy fair-share --json > "$dir/result.json"
  python3 - "$label" "$rows" "$dir" <<'PY'
import json, os, sys
label, rows, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(f"{d}/result.json"))
rss_kb, wall = open(f"{d}/rss").read().split()
n = sum(m["requests"] for m in r["models"])
size = os.path.getsize(f"{d}/requests.csv")
print(f"{label:8} {rows:>12,} rows {size / 1e9:6.2f} GB  {n:>12,} requests simulated  {float(wall):7.1f} s wall  peak RSS {int(rss_kb) / 1024:8.1f} MB")
PY
  rm -f "$dir/requests.csv"
}

echo "request trace memory ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
run held "$held_rows"
run streamed "$streamed_rows"

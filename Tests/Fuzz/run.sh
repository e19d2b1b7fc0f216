#!/usr/bin/env bash
# Fuzzes every QoESim reader, and parse-then-simulate, with libFuzzer + AddressSanitizer.
#
#   Tests/Fuzz/run.sh SECONDS [TARGET ...]      (default: every target, SECONDS each)
#   FUZZ_RUNS=1000000 Tests/Fuzz/run.sh 3600    (each target until 1,000,000 executions,
#                                                at most 3600 s)
#
# Builds Tests/Fuzz (its own package; -sanitize=fuzzer,address, leak detection on), seeds
# each target's corpus from the bundled inputs, runs it for SECONDS with -timeout=10
# -max_len=65536, and prints one line per target: executions, and crashes, leaks and
# timeouts found (seconds: how long it ran, at most SECONDS) (their inputs go to Tests/Fuzz/findings/TARGET/, to become regression
# tests). Exit status 1 if any target found anything. Long runs are made by hand (the
# closing notes give their numbers); .ci/run runs a short budget of each.
# Suppressions: none (LSAN_OPTIONS is left at its defaults).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:?usage: Tests/Fuzz/run.sh SECONDS [TARGET ...]}"
shift
all=(job-trace request-trace request-trace-stream cluster-json cluster-yaml model-file experiment-file profile-csv azure-trace parse-and-simulate engine-tar engine-logs engine-import engine-json recorded-json arrival-files functions-trace functions-2019)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
build="${QOESIM_FUZZ_BUILD:-$root/.build-fuzz}"
echo "building the fuzz targets (libFuzzer + AddressSanitizer) in $build ..." >&2
swift build -c release --package-path "$here" --build-path "$build" -Xswiftc -sanitize=fuzzer,address >&2
bin="$build/release/QoESimFuzz"
work="$(mktemp -d /tmp/qoesim-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT

seed() {  # seed TARGET DIR: the bundled inputs of that reader
  local t=$1 d=$2
  mkdir -p "$d"
  case $t in
    job-trace) cp "$root"/Traces/example/jobs.csv "$root"/Traces/validation/*.csv "$root"/Traces/azure-llm/jobs.csv "$d"/ 2>/dev/null || true
      i=0; for f in "$d"/*.csv; do mv "$f" "$d/seed-$i"; i=$((i+1)); done ;;
    request-trace|request-trace-stream) head -n 100 "$root"/Traces/azure-llm/requests.csv > "$d/seed-0"
      printf 'job_id,time_s,size\na,0.5,1\nb,1.0,2.5\na,0.7\n' > "$d/seed-1" ;;
    cluster-json) cp "$root"/Traces/example/cluster.json "$d/seed-0"; cp "$root"/Traces/validation/cluster.json "$d/seed-1" ;;
    cluster-yaml) printf 'nodes:\n  - {name: n1, cpus: 8, gpus: 1}\n  - name: n2\n    cpus: 2.5\n    max_containers: 4\n' > "$d/seed-0" ;;
    model-file) i=0; for f in "$root"/Traces/models/*.json "$root"/Traces/models-fitted/*.json; do cp "$f" "$d/seed-$i"; i=$((i+1)); done ;;
    experiment-file) i=0; for f in "$root"/Experiments/paper-8x/*.yaml "$root"/Experiments/slurm/sweep.yaml; do cp "$f" "$d/seed-$i"; i=$((i+1)); done ;;
    profile-csv) i=0; for f in "$root"/Traces/profiles/*.csv; do head -n 60 "$f" > "$d/seed-$i"; i=$((i+1)); done ;;
    azure-trace) grep -v '^#' "$root"/Traces/azure-llm/sample-2024.csv > "$d/seed-1"
      grep -v '^#' "$root"/Traces/azure-llm/sample-2023.csv > "$d/seed-0" ;;
    engine-tar) printf 'qoesim\n' > "$work/f.txt"; tar -cf "$d/seed-0" -C "$work" f.txt; rm -f "$work/f.txt" ;;
    engine-logs) printf '\001\000\000\000\000\000\000\005hello\002\000\000\000\000\000\000\003err' > "$d/seed-0" ;;
    engine-import) printf '{"status":"sha256:0123"}\n{"error":"no space"}\n' > "$d/seed-0" ;;
    engine-json) printf '{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}' > "$d/seed-0"
      printf '[{"Id":"abc","Names":["/qoesim-1-0-a"],"Labels":{"qoesim":"live","qoesim.run":"00ff"}}]' > "$d/seed-1"
      printf '{"State":{"Running":true},"HostConfig":{"NanoCpus":500000000,"CpuShares":1024}}' > "$d/seed-2"
      printf '{"Titles":["UID","PID","CMD"],"Processes":[["root","4242","/qoesim-infer"]]}' > "$d/seed-3"
      printf '{"StatusCode":0}' > "$d/seed-4"; printf '{"Id":"abc","Warnings":[]}' > "$d/seed-5"; printf '{"message":"no such container"}' > "$d/seed-6" ;;
    recorded-json) printf '{"models":[{"id":"a","model":"resnet50","target_ms":900,"metric":"mean","requests":1,"mean_ms":500,"p50_ms":500,"p95_ms":500,"p99_ms":500,"unfinished":0,"measured_ms":500,"pending_s":0,"satisfied":true,"cpu_s":1}],"satisfied":1,"failures":[],"requests":[[[0.5,0.5,1.0]]]}' > "$d/seed-0" ;;
    functions-2019) { printf '\000'; grep -v '^#' "$root"/Traces/azure-functions-2019/synthetic-invocations.csv; } > "$d/seed-0"
      { printf '\001'; grep -v '^#' "$root"/Traces/azure-functions-2019/synthetic-durations.csv; } > "$d/seed-1" ;;
    functions-trace) grep -v '^#' "$root"/Traces/azure-functions-2021/sample.csv > "$d/seed-0"
      grep -v '^#' "$root"/Traces/burstgpt/sample.csv > "$d/seed-1" ;;
    arrival-files) printf '\000state,rate_rps,mean_dwell_s,jump_to\n0,1.5,30,\n1,40,2,\n' > "$d/seed-0"
      printf '\000state,rate_rps,mean_dwell_s,jump_to\n0,1,4,0;0.7;0.3\n1,20,1,0.5;0;0.5\n2,80,0.5,0.9;0.1;0\n' > "$d/seed-1"
      printf '\001start_s,multiplier\n0,1\n60,2.5\n120,0\n' > "$d/seed-2" ;;
    parse-and-simulate)
      { printf '\001'; cat "$root"/Traces/example/cluster.json; printf '\n---jobs\n'; cat "$root"/Traces/example/jobs.csv; } > "$d/seed-0"
      { printf '\002nodes: [{name: n, cpus: 2}]\n---jobs\njob_id,model,arrival_s,duration_s,rate_rps,target_ms,arrivals\na,mobilenetv2,0,2,0,50,trace\nb,resnet50,0.5,1,,300,closed\nc,resnet50,0,2,3,300,gamma cv=4\nd,bert-base,0,2,2,900,sinusoid amplitude=0.5 period_s=1\n---requests\njob_id,time_s,size\na,0.1,1\na,0.2,3\n'; } > "$d/seed-1" ;;
  esac
}

status=0
printf '%-20s %12s %8s %8s %8s %8s\n' target executions seconds crashes leaks timeouts
for t in "${targets[@]}"; do
  corpus="$work/corpus-$t"
  seed "$t" "$corpus"
  # Regression inputs (earlier findings, hand-made hostile cases) run first, once each.
  regressions="$here/regressions/$t"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! QOESIM_FUZZ_TARGET="$t" QOESIM_ROOT="$root" "$bin" "$regressions"/* > "$work/$t.regressions.log" 2>&1; then
      echo "  $t: a regression input fails:" >&2
      tail -n 25 "$work/$t.regressions.log" >&2
      status=1
    fi
    cp "$regressions"/* "$corpus"/
  fi
  findings="$here/findings/$t"
  mkdir -p "$findings"
  log="$work/$t.log"
  touch "$work/start-$t"   # findings of this run only (earlier ones stay in the folder)
  started=$(date +%s)
  set +e
  QOESIM_FUZZ_TARGET="$t" QOESIM_ROOT="$root" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    "$bin" "$corpus" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -max_len=65536 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$findings/" > "$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - started ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "$findings" -name 'crash-*' -newer "$work/start-$t" | wc -l)
  leaks=$(find "$findings" -name 'leak-*' -newer "$work/start-$t" | wc -l)
  timeouts=$(find "$findings" \( -name 'timeout-*' -o -name 'slow-unit-*' -o -name 'oom-*' \) -newer "$work/start-$t" | wc -l)
  printf '%-20s %12s %8s %8s %8s %8s\n' "$t" "${runs:-?}" "$elapsed" "$crashes" "$leaks" "$timeouts"
  if [ "$rc" -ne 0 ] || [ $((crashes + leaks + timeouts)) -gt 0 ]; then
    status=1
    echo "  $t: libFuzzer exited $rc; last lines of its log:" >&2
    tail -n 25 "$log" >&2
  fi
done
exit $status

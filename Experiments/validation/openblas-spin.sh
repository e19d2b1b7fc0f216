#!/usr/bin/env bash
# Does OpenBLAS's idle spin explain what the simulation misses? (fidelity work; by hand, about
# 6 minutes for parts A and B, 25-45 more for C; nothing else may run meanwhile.)
#
#   bash Experiments/validation/openblas-spin.sh [A] [B] [C] [D] [E]  (default: A B)
#
# Design, written before any run (2026-11-29):
# Hypothesis. After each GEMM, OpenBLAS's worker threads keep polling for work (a
#   sched_yield loop) for up to 2^OPENBLAS_THREAD_TIMEOUT cycles (default 28: about 0.1 s
#   at 2.5-3 GHz) before they sleep. A serving container that has just answered keeps
#   using a core that the simulation (CFS water-filling over busy containers only) gives
#   to the others. The validation's fair-share runs, where the simulation is 11-21% too
#   fast (README), would then be slower live because idle neighbours spin.
# A. The spin's CPU cost. `qoesim-infer bench` (the same binary as the image's workload,
#   run on the host so that /usr/bin/time sees its CPU time) for each network, 20 timed
#   requests after 2 warm-up ones, back to back (gap 0) and with 300 ms idle before each,
#   OPENBLAS_THREAD_TIMEOUT unset (default) and = 4 (the shortest). Statistic: CPU-seconds
#   (user + system) per request, less the process's set-up (a run with no requests: the
#   random weights), and the median latency. The hypothesis predicts: at gap
#   300 the default uses >= 0.05 CPU-s more per request than timeout 4; at gap 0 the two
#   are within 10%; the latencies within 10% of each other in both.
# B. What it does to a neighbour. mobilenetv2 back to back (40 requests) alone, and beside
#   resnet50 with 300 ms gaps (60 requests, started first), the neighbour at default and at
#   timeout 4. Statistic: median mobilenetv2 latency. The hypothesis predicts: beside the
#   default neighbour >= 10% slower than beside the timeout-4 one.
# C. The validation. `qoesim validate --trace Traces/validation/jobs.csv --repeats 3` under
#   fair-share and dqoes with OPENBLAS_THREAD_TIMEOUT=4 (qoesim passes it to every
#   container, profiles included, and the fit cache key names it), then fair-share at the
#   default again for a same-day control. The hypothesis predicts: the fair-share median
#   mean-latency error well below the default's (22.7% in the README).
# D (added after A, B and C had run, because B's prediction failed): B with each bench in
#   its own container, 3 repeats (see the part's comment).
# E (added 2026-11-30, after the idle-spin part of the model, full weight, fixed the bundled
#   trace and over-corrected held-out 1): how much CPU the polling gets beside a busy
#   container, i.e. the weight a spinning group competes with. Each network in turn as the
#   "spinner" (`bench`, 10 requests, 300 ms idle before each, own container, no limit),
#   default OpenBLAS and OPENBLAS_THREAD_TIMEOUT=4 (its control: the same work without the
#   polling), alone and beside one busy container (MobileNetV2 `bench` back to back, no
#   limit, started 3 s before), 3 repeats. Statistic: the polling's CPU per request,
#   p_k = (cpu(default) - cpu(timeout 4)) / 10 with k = 0 or 1 neighbours (bench's
#   cpu_seconds), its ratio r = p_1 / p_0 per repeat, and the weight the model's CFS
#   water-filling needs to give a spinner on K = 1 core that share beside a busy container
#   on C = 2 cores: w = r K / (C - r K) (r >= 1: w = 1). The model's spin (full weight)
#   predicts r = 1; the hypothesis that polling yields (B) predicts a median r < 0.75
#   (w < 0.6) for each network.
# Results: Experiments/validation/results/openblas-spin/ (A.csv, B.csv, C-*/, D.csv, E.csv).
set -euo pipefail
cd "$(dirname "$0")/../.."
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(A B)
[ -x .build/release/qoesim-infer ] || swift build -c release >&2
infer=.build/release/qoesim-infer
out=Experiments/validation/results/openblas-spin
mkdir -p "$out"

# bench NETWORK REQUESTS GAP_MS TIMEOUT(default|N) [WARMUP] -> "cpu_s wall_s median_ms" on stdout
bench() {
  local net=$1 n=$2 gap=$3 timeout=$4 warmup=${5:-2} log
  log=$(mktemp)
  if [ "$timeout" = default ]; then
    /usr/bin/time -f "%U %S %e" -o "$log.time" env -u OPENBLAS_THREAD_TIMEOUT "$infer" bench --model "$net" --requests "$n" --warmup "$warmup" --gap-ms "$gap" > "$log" 2>/dev/null
  else
    /usr/bin/time -f "%U %S %e" -o "$log.time" env OPENBLAS_THREAD_TIMEOUT="$timeout" "$infer" bench --model "$net" --requests "$n" --warmup "$warmup" --gap-ms "$gap" > "$log" 2>/dev/null
  fi
  local median
  median=$(tail -n +2 "$log" | cut -d, -f2 | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  read -r user sys wall < "$log.time"
  echo "$(echo "$user + $sys" | bc -l) $wall $median"
  rm -f "$log" "$log.time"
}

for part in "${parts[@]}"; do
  case $part in
  A)
    echo "network,gap_ms,thread_timeout,requests,cpu_s,setup_cpu_s,wall_s,cpu_s_per_request,median_ms" > "$out/A.csv"
    for net in mobilenetv2 resnet50 bert-base; do
      read -r setup _ _ < <(bench "$net" 0 0 default 0)
      for gap in 0 300; do
        for timeout in default 4; do
          read -r cpu wall median < <(bench "$net" 20 "$gap" "$timeout")
          # The two warm-up requests' CPU counts too: divide by all 22.
          line="$net,$gap,$timeout,22,$cpu,$setup,$wall,$(echo "($cpu - $setup) / 22" | bc -l | xargs printf '%.4f'),$median"
          echo "$line" | tee -a "$out/A.csv" >&2
        done
      done
    done ;;
  B)
    echo "neighbour_timeout,mobilenetv2_median_ms,mobilenetv2_cpu_s,neighbour_cpu_s" > "$out/B.csv"
    read -r cpu _ median < <(bench mobilenetv2 40 0 default)
    echo "none,$median,$cpu," | tee -a "$out/B.csv" >&2
    for timeout in default 4; do
      bench resnet50 60 300 "$timeout" > "$out/.neighbour" &
      pid=$!
      sleep 2
      read -r cpu _ median < <(bench mobilenetv2 40 0 default)
      wait $pid
      read -r ncpu _ _ < "$out/.neighbour"
      echo "$timeout,$median,$cpu,$ncpu" | tee -a "$out/B.csv" >&2
    done
    rm -f "$out/.neighbour" ;;
  C)
    [ -x .build/release/qoesim ] || swift build -c release --product qoesim >&2
    for policy in fair-share dqoes; do
      echo "== OPENBLAS_THREAD_TIMEOUT=4, $policy" >&2
      OPENBLAS_THREAD_TIMEOUT=4 .build/release/qoesim validate --trace Traces/validation/jobs.csv --policy "$policy" \
        --repeats 3 --out "$out/C-timeout4-$policy" | tail -n 12
    done
    echo "== default OpenBLAS, fair-share (control)" >&2
    env -u OPENBLAS_THREAD_TIMEOUT .build/release/qoesim validate --trace Traces/validation/jobs.csv --policy fair-share \
      --repeats 3 --out "$out/C-default-fair-share" | tail -n 12 ;;
  D)
    # B again with each bench in its own container (docker run, no limit): CFS then
    # divides the cores between the containers' groups by their shares, as in the
    # validation's fair-share runs, instead of between threads. Same statistic and
    # prediction as B. (Added after A and B had run: B's prediction failed.)
    image=${IMAGE:-qoesim-infer:local}
    dbench() {  # dbench NETWORK REQUESTS GAP_MS TIMEOUT -> median ms (stdout), cpu seconds (stderr line)
      local extra=()
      [ "$4" = default ] || extra=(-e "OPENBLAS_THREAD_TIMEOUT=$4")
      docker run --rm --network none "${extra[@]}" "$image" /qoesim-infer bench --model "$1" --requests "$2" --warmup 2 --gap-ms "$3" 2>/dev/null \
        | tail -n +2 | cut -d, -f2 | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
    }
    echo "neighbour_timeout,repeat,mobilenetv2_median_ms" > "$out/D.csv"
    for repeat in 1 2 3; do
      echo "none,$repeat,$(dbench mobilenetv2 40 0 default)" | tee -a "$out/D.csv" >&2
      for timeout in default 4; do
        dbench resnet50 60 300 "$timeout" > /dev/null &
        pid=$!
        sleep 3
        echo "$timeout,$repeat,$(dbench mobilenetv2 40 0 default)" | tee -a "$out/D.csv" >&2
        wait $pid
      done
    done ;;
  E)
    image=${IMAGE:-qoesim-infer:local}
    ecpu() {  # ecpu NETWORK TIMEOUT(default|N) -> bench's cpu_seconds of 10 requests after 300 ms idle each
      local extra=()
      [ "$2" = default ] || extra=(-e "OPENBLAS_THREAD_TIMEOUT=$2")
      docker run --rm --network none "${extra[@]}" "$image" /qoesim-infer bench --model "$1" --requests 10 --warmup 1 --gap-ms 300 2>&1 >/dev/null \
        | awk '/^cpu_seconds / {print $2}'
    }
    echo "network,repeat,neighbours,cpu_default_s,cpu_timeout4_s,polling_cpu_s_per_request" > "$out/E.csv"
    for repeat in 1 2 3; do
      for net in mobilenetv2 resnet50 bert-base; do
        for k in 0 1; do
          if [ "$k" = 1 ]; then
            docker run -d --rm --name qoesim-spin-busy --network none "$image" /qoesim-infer bench --model mobilenetv2 --requests 100000 --warmup 0 --gap-ms 0 > /dev/null
            sleep 3
          fi
          d=$(ecpu "$net" default); t=$(ecpu "$net" 4)
          [ "$k" = 1 ] && docker rm -f qoesim-spin-busy > /dev/null
          echo "$net,$repeat,$k,$d,$t,$(echo "($d - $t) / 10" | bc -l | xargs printf '%.4f')" | tee -a "$out/E.csv" >&2
        done
      done
    done ;;
  *) echo "unknown part '$part' (A, B, C, D or E)" >&2; exit 2 ;;
  esac
done

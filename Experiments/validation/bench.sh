# Sourced by the validation's experiment scripts (cfs-share, cfs-bandwidth, wake-blend,
# pairwise): `qoesim-infer bench` in throwaway containers labelled with the experiment.
# Needs IMAGE (default qoesim-infer:local) and EXPERIMENT set by the script.

image=${IMAGE:-qoesim-infer:local}

# bench_median [docker run options...] -- NETWORK GAP_MS REQUESTS
# -> the median latency (ms) of REQUESTS requests after 2 warm-up ones, GAP_MS idle before each.
bench_median() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  docker run --rm --network none --label "qoesim.experiment=$EXPERIMENT" "${opts[@]}" "$image" \
    /qoesim-infer bench --model "$1" --requests "$3" --warmup 2 --gap-ms "$2" 2>/dev/null \
    | tail -n +2 | cut -d, -f2 | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

# busy_start NETWORK: a container serving NETWORK back to back, no limit, until busy_stop.
busy=()
busy_start() {
  busy+=("$(docker run -d --rm --network none --label "qoesim.experiment=$EXPERIMENT" "$image" \
    /qoesim-infer bench --model "$1" --requests 100000 --warmup 0 --gap-ms 0)")
}
# busy_stop: removes the busy containers this script started (and only those).
busy_stop() { [ ${#busy[@]} -eq 0 ] || docker rm -f "${busy[@]}" > /dev/null 2>&1 || true; busy=(); }
trap busy_stop EXIT

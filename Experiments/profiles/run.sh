#!/usr/bin/env bash
# Measures the real inference workload (qoesim-infer) under CPU limits, through a cgroup
# and through Docker containers, and fits a latency model to each profile.
# Writes Traces/profiles/<model>.csv and Traces/models-fitted/<model>.json.
# Needs root, cgroup v1's cpu controller, and Docker (installed and started if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${REQUESTS:-10}
levels=${LEVELS:-0.25,0.5,0.75,1,1.5,2}
models=${MODELS:-mobilenetv2 resnet50 bert-base vgg16}

if ! command -v dockerd >/dev/null; then apt-get update && apt-get install -y docker.io; fi
if ! docker version >/dev/null 2>&1; then
  dockerd --iptables=false --bridge=none --storage-driver=vfs >/tmp/qoesim-dockerd.log 2>&1 &
  for _ in $(seq 1 30); do docker version >/dev/null 2>&1 && break; sleep 1; done
fi
swift build -c release --product qoesim >&2
swift build -c release --product qoesim-infer --static-swift-stdlib --scratch-path .build-static >&2
docker rmi -f qoesim-infer:local >/dev/null 2>&1 || true   # rebuild from this binary
mkdir -p Traces/profiles Traces/models-fitted
for m in $models; do
  .build/release/qoesim profile --workload "$m" --cpus "$levels" --requests "$requests" \
    --binary .build-static/release/qoesim-infer -o "Traces/profiles/$m.csv"
  .build/release/qoesim fit "Traces/profiles/$m.csv" --family auto -o "Traces/models-fitted/$m.json"
done

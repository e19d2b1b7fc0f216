#!/usr/bin/env bash
# End-to-end example on the bundled data: builds qoesim, runs the example cluster under
# each policy and the real Azure LLM arrival trace, and writes tidy CSVs per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Experiments/example/results
swift build -c release --product qoesim >&2
bin=.build/release/qoesim
for policy in fair-share static; do
  echo "== Traces/example, policy $policy"
  "$bin" run --cluster Traces/example/cluster.json --trace Traces/example/jobs.csv \
    --policy "$policy" --seed 1 --out "$out/example-$policy"
done
for policy in fair-share static; do
  echo "== Traces/azure-llm (real arrivals), policy $policy"
  "$bin" run --cluster Traces/azure-llm/cluster.json --trace Traces/azure-llm/jobs.csv \
    --requests Traces/azure-llm/requests.csv --policy "$policy" --seed 1 --out "$out/azure-llm-$policy"
done
echo "CSV files under $out/" >&2

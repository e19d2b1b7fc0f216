#!/usr/bin/env bash
# The bursts study (about a minute after the build): fits the bundled Azure LLM trace
# (qoesim fit-arrivals, into results/fit: the Gamma and MMPP fits and their held-out
# goodness), then runs experiment.yaml (fair-share, dqoes, predictive under Poisson and
# under the fitted MMPP at the same mean rates, load x1 and x2, 20 paired seeds) with
# qoesim reproduce into results/study. results/ is qoesim's own: cleared first unless
# RESUME=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product qoesim >&2
here=Experiments/bursts
if [ "${RESUME:-0}" != 1 ]; then rm -rf "$here/results"; fi
mkdir -p "$here/results"
echo "== fit-arrivals on Traces/azure-llm/requests.csv" >&2
.build/release/qoesim fit-arrivals Traces/azure-llm/requests.csv --out "$here/results/fit" | tee "$here/results/fit.txt"
echo "== the study" >&2
.build/release/qoesim reproduce --spec "$here/experiment.yaml" --out "$here/results/study" "$@" | tee "$here/results/study.txt"

#!/usr/bin/env bash
# The main job: build qoesim and reproduce the paper's headline experiment end to end
# (sweep, table, figures) on the bundled models. Results: Experiments/paper-8x/results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product qoesim >&2
.build/release/qoesim reproduce paper-8x "$@"

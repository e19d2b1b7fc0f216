#!/usr/bin/env bash
# The main job: build qoesim and run the paper-8x study end to end (sweep, headline with
# its confidence interval, the regime map, curve, open-loop check, figures with their data)
# on the bundled models. Results: Experiments/paper-8x/results/.
# Finished runs are reused by id; ids cover each run's whole definition and the qoesim
# version, not code changed without a version bump, so results/ is cleared first;
# RESUME=1 keeps it (e.g. after an interruption).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product qoesim >&2
if [ "${RESUME:-0}" != 1 ]; then rm -rf Experiments/paper-8x/results; fi
.build/release/qoesim reproduce paper-8x "$@"

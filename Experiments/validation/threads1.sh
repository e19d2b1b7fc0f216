#!/usr/bin/env bash
# The validation beside the default, without OpenBLAS's worker threads: is the polling the
# cause of the simulation's misses? (fidelity work; by hand, about 70 minutes with the
# profiling; nothing else may run meanwhile; needs dockerd and the workload image, as
# .ci/live-test makes them, and a release build of qoesim.)
#
#   bash Experiments/validation/threads1.sh
#
# A changed configuration shown beside the default's results, never instead of them: the
# goal is judged with the workload's default OpenBLAS configuration (results/), and this
# variant writes results-threads1/.
#
# Design, written 2026-12-05 before any run of it, after run-states.sh (point 8 of
# Experiments/validation/README.md), before any model change:
# Observation (run-states.sh). Two MobileNetV2 copies without limits run either both at
#   the alone speed or both 2.1-2.6x slower (3 of 5 runs), and never slower with
#   OpenBLAS's polling off (OPENBLAS_THREAD_TIMEOUT=4) or without worker threads
#   (OPENBLAS_NUM_THREADS=1); MobileNetV2 alone is as fast with one thread (43 ms) as
#   with two (42 ms). The simulation has one speed per share: it cannot be right about
#   both states.
# Hypothesis H12. The polling (its bistable contention between co-located containers and
#   its spending of a quota's budget) is the main cause of the default configuration's
#   misses; without worker threads the same model structure (`--model-parts quota`,
#   fitted with GSL on this machine's profiles made with the same setting) meets the
#   goal.
# Protocol. OPENBLAS_NUM_THREADS=1 in qoesim's environment (forwarded to every profile
#   and live container; part of the profile cache key, so the profiles are made anew):
#   `run.sh` with TRACES="jobs heldout-1", both policies, REPEATS=5, the same seeds and
#   statistics as the default's (Experiments/validation/README.md, "Design"), results in
#   Experiments/validation/results-threads1/.
# Predictions. P18: on each of the 4 pairs the overall mean/target error is within 2 SE
#   of the live mean, and the open-loop bias within 3% on at least 3 of the 4.
#   P19: at least 75% of the per-model rows within 2 SE on the mean (default: 11 of 38,
#   29%; on these 4 pairs 2 of 14). P20: the live floor (live vs live, mean) no higher
#   than the default's on the same pair (jobs fair-share 10.7%, jobs dqoes 3.9%, held-out
#   1 fair-share 4.4%, held-out 1 dqoes 14.6%).
#   If P18 fails, the rows that miss name what remains besides the polling.
# Results: Experiments/validation/results-threads1/<trace>-<policy>/;
#   `python3 Experiments/validation/table.py --root Experiments/validation/results-threads1`.
set -euo pipefail
cd "$(dirname "$0")/../.."
OPENBLAS_NUM_THREADS=1 RESULTS=Experiments/validation/results-threads1 TRACES="jobs heldout-1" \
  REPEATS=5 bash Experiments/validation/run.sh "$@"

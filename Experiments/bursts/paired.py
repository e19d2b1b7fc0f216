#!/usr/bin/env python3
"""Paired comparisons of the bursts study (results/study/results.csv, written by
`qoesim reproduce`): satisfied models per run, (1) each policy against fair-share under
the same process and load, (2) each policy under the MMPP against itself under Poisson at
the same load. Seeds are shared (common random numbers: a seed fixes the models drawn,
their targets and every service time), so each difference is paired by seed; the 95% CI
is mean +- t(0.975, n - 1) x SD / sqrt(n). Prints Markdown; reads only what qoesim wrote.
Usage: python3 Experiments/bursts/paired.py [results.csv]"""
import csv, math, os, statistics, sys

T975 = {19: 2.093, 29: 2.045, 9: 2.262, 4: 2.776}  # Student t quantiles by degrees of freedom
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "study", "results.csv")
runs = {}
with open(path) as fh:
    for r in csv.DictReader(fh):
        runs[(r["kind"], r["policy"], r["load"], r["seed"])] = int(r["run_satisfied"])
kinds = sorted({k[0] for k in runs}, key=lambda k: (k != "poisson", k))
policies = ["fair-share", "dqoes", "predictive"]
loads = sorted({k[2] for k in runs}, key=float)
seeds = sorted({k[3] for k in runs})


def ci(diffs):
    n = len(diffs)
    m = statistics.mean(diffs)
    h = T975.get(n - 1, 1.96) * statistics.stdev(diffs) / math.sqrt(n) if n > 1 else float("nan")
    return "%+.1f [%+.1f, %+.1f]" % (m, m - h, m + h)


print("Satisfied models per run (mean over %d seeds) and paired differences with 95%% CIs." % len(seeds))
print()
print("| process | load | fair-share | dqoes | predictive | dqoes - fair-share | predictive - fair-share |")
print("|---|---|---|---|---|---|---|")
for k in kinds:
    for load in loads:
        mean = {p: statistics.mean(runs[(k, p, load, s)] for s in seeds) for p in policies}
        d = {p: [runs[(k, p, load, s)] - runs[(k, "fair-share", load, s)] for s in seeds] for p in policies}
        print("| %s | %s | %.1f | %.1f | %.1f | %s | %s |" % (k, load, mean["fair-share"], mean["dqoes"], mean["predictive"], ci(d["dqoes"]), ci(d["predictive"])))
print()
print("| policy | load | MMPP - Poisson |")
print("|---|---|---|")
for p in policies:
    for load in loads:
        print("| %s | %s | %s |" % (p, load, ci([runs[("mmpp", p, load, s)] - runs[("poisson", p, load, s)] for s in seeds])))

#!/usr/bin/env python3
"""Prints limits.sh's tables and its predictions P28-P30 from results/limits/requests.csv.

    python3 Experiments/validation/limits.py
"""
import csv
import os
import statistics
import sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "results", "limits", "requests.csv")
if not os.path.exists(path):
    sys.exit(f"error: {path} is missing: run limits.sh first")
runs = {}
for r in csv.DictReader(open(path)):
    runs.setdefault((r["part"], int(r["repeat"]), r["network"], r["cell"]), []).append(float(r["latency_ms"]))


def deciles(xs):
    q = statistics.quantiles(xs, n=10, method="inclusive")
    return q[0], q[8]


print("A: MobileNetV2 pairs over the same repeat's alone median (slowdown)")
print("| repeat | alone --cpus 1 ms | pair --cpus 1 ms | slowdown | alone --cpus 2 ms | pair, no limit ms | slowdown |")
print("|---|---|---|---|---|---|---|")
limited, unlimited = [], []
for rep in sorted({k[1] for k in runs if k[0] == "A"}):
    get = lambda cell: runs.get(("A", rep, "mobilenetv2", cell))
    a1, p1, a2, pn = get("alone-1"), get("pair-1"), get("alone-2"), get("pair-none")
    if not all((a1, p1, a2, pn)):
        continue
    s1 = statistics.median(p1) / statistics.median(a1)
    sn = statistics.median(pn) / statistics.median(a2)
    limited.append(s1)
    unlimited.append(sn)
    print(f"| {rep} | {statistics.median(a1):.1f} | {statistics.median(p1):.1f} ({len(p1)}) | {s1:.2f} | "
          f"{statistics.median(a2):.1f} | {statistics.median(pn):.1f} ({len(pn)}) | {sn:.2f} |")
print()
print(f"P28 (at --cpus 1 all slowdowns <= 1.3): {'met' if limited and max(limited) <= 1.3 else 'not met'} "
      f"(max {max(limited):.2f} of {len(limited)})" if limited else "P28: no data")
print(f"P29 (no limit, at least one slowdown >= 1.8): {'met' if unlimited and max(unlimited) >= 1.8 else 'not met'} "
      f"({', '.join(f'{s:.2f}' for s in unlimited)})" if unlimited else "P29: no data")
print()
print("B: one container at --cpus 0.5, q90 / q10 of a run's requests [repeats], median ms [repeats]")
print("| network | cell | q90 / q10 median [repeats] | median ms [repeats] |")
print("|---|---|---|---|")
met = []
for net in ("mobilenetv2", "resnet50"):
    spread = {}
    for cell in ("b2b-0.5", "gap1000-0.5"):
        reps = sorted(k[1] for k in runs if k[0] == "B" and k[2] == net and k[3] == cell)
        ratios, medians = [], []
        for rep in reps:
            xs = runs[("B", rep, net, cell)]
            q10, q90 = deciles(xs)
            ratios.append(q90 / q10)
            medians.append(statistics.median(xs))
        if not ratios:
            continue
        spread[cell] = statistics.median(ratios)
        print(f"| {net} | {cell} | {spread[cell]:.2f} [{', '.join(f'{r:.2f}' for r in ratios)}] | "
              f"{statistics.median(medians):.1f} [{', '.join(f'{m:.1f}' for m in medians)}] |")
    if len(spread) == 2:
        met.append(spread["gap1000-0.5"] >= 1.6 and spread["b2b-0.5"] <= 1.4)
print()
print(f"P30 (gapped q90/q10 >= 1.6 and back to back <= 1.4, both networks): "
      f"{'met' if met and all(met) else 'not met'} ({sum(met)} of {len(met)} networks)")

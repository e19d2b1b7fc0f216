#!/usr/bin/env python3
"""Prints states.sh's table and its predictions P31-P33 from results/states/requests.csv.

    python3 Experiments/validation/states.py
"""
import csv
import os
import statistics
import sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "results", "states", "requests.csv")
if not os.path.exists(path):
    sys.exit(f"error: {path} is missing: run states.sh first")
runs = {}
for r in csv.DictReader(open(path)):
    runs.setdefault((int(r["repeat"]), r["network"], r["cell"]), []).append(float(r["latency_ms"]))

slowdowns = {}
print("| network | repeat | alone --cpus 2 ms | pair, no limit ms | slowdown | alone --cpus 1 ms | pair at --cpus 1 ms | slowdown |")
print("|---|---|---|---|---|---|---|---|")
for net in ("resnet50", "bert-base"):
    for rep in sorted({k[0] for k in runs if k[1] == net}):
        cells = {c: runs.get((rep, net, c)) for c in ("alone-2", "pair-none", "alone-1", "pair-1")}
        if not all(cells.values()):
            continue
        m = {c: statistics.median(v) for c, v in cells.items()}
        none, one = m["pair-none"] / m["alone-2"], m["pair-1"] / m["alone-1"]
        slowdowns.setdefault((net, "none"), []).append(none)
        slowdowns.setdefault((net, "1"), []).append(one)
        print(f"| {net} | {rep} | {m['alone-2']:.1f} | {m['pair-none']:.1f} ({len(cells['pair-none'])}) | {none:.2f} | "
              f"{m['alone-1']:.1f} | {m['pair-1']:.1f} ({len(cells['pair-1'])}) | {one:.2f} |")
print()


def show(xs):
    return ", ".join(f"{x:.2f}" for x in xs)


r = slowdowns.get(("resnet50", "none"), [])
b = slowdowns.get(("bert-base", "none"), [])
one = slowdowns.get(("resnet50", "1"), []) + slowdowns.get(("bert-base", "1"), [])
print(f"P31 (ResNet-50, no limit: one <= 1.9 and one >= 2.4): "
      f"{'met' if r and min(r) <= 1.9 and max(r) >= 2.4 else 'not met'} ({show(r)})")
print(f"P32 (BERT-base, no limit: all within [1.4, 2.2]): "
      f"{'met' if b and all(1.4 <= x <= 2.2 for x in b) else 'not met'} ({show(b)})")
print(f"P33 (--cpus 1, both: all within [0.7, 1.3]): "
      f"{'met' if one and all(0.7 <= x <= 1.3 for x in one) else 'not met'} ({show(one)})")

"""Reads results/pairwise/runs.csv (pairwise.sh) and prints the slowdown s(X, N, G) =
median latency beside a busy N / alone (same repeat and gap), its median over repeats
with the repeats, per X and G the max / min over neighbours, and P10-P11 judged as the
script states them."""
import csv
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "results/pairwise/runs.csv"))))
lat = {(r["repeat"], r["network"], r["neighbour"], int(r["gap_ms"])): float(r["median_ms"]) for r in rows}
nets = ["mobilenetv2", "resnet50", "bert-base"]
repeats = sorted({r["repeat"] for r in rows})
s = {}
print("X            G ms  alone ms (repeats)          beside: slowdown median [repeats]")
for x in nets:
    for g in (0, 1000):
        alone = [lat[(r, x, "none", g)] for r in repeats if (r, x, "none", g) in lat]
        line = f"{x:12} {g:5}  {statistics.median(alone):7.1f} ({', '.join(f'{a:.1f}' for a in alone)})"
        for n in nets:
            ratios = [lat[(r, x, n, g)] / lat[(r, x, "none", g)] for r in repeats if (r, x, n, g) in lat and (r, x, "none", g) in lat]
            if ratios:
                s[(x, n, g)] = statistics.median(ratios)
                line += f"  {n} {s[(x, n, g)]:.2f} [{', '.join(f'{v:.2f}' for v in ratios)}]"
        print(line)
spread = {}
for x in nets:
    for g in (0, 1000):
        v = [s[(x, n, g)] for n in nets if (x, n, g) in s]
        if v:
            spread[(x, g)] = max(v) / min(v)
            print(f"{x} G={g}: max/min over neighbours {spread[(x, g)]:.2f}; order {sorted(nets, key=lambda n: s.get((x, n, g), 0))}")
p10 = sum(1 for x in nets if spread.get((x, 0), 0) >= 1.2)
orders = [tuple(sorted(nets, key=lambda n: s.get((x, n, 0), 0))) for x in nets]
p11 = max(orders.count(o) for o in orders)
print(f"P10: {p10} of 3 networks with max/min >= 1.2 at G = 0 -> {'met' if p10 >= 2 else 'not met'}; "
      f"one share, one speed predicts <= 1.1 for every X ({sum(1 for x in nets if spread.get((x, 0), 9) <= 1.1)} of 3 are)")
print(f"P11: the most common neighbour order is shared by {p11} of 3 networks -> {'met' if p11 >= 2 else 'not met'}")

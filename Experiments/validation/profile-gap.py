"""Reads results/profile-gap/runs.csv and the profiles beside it (profile-gap.sh) and
prints per cell the median over repeats of each run's median latency with the repeats,
the ratios P2 / B2, P2L / B2 and P1 / B1, P12-P14 judged as the script states them, and
the per-request latencies of every profile run (container by container)."""
import csv
import glob
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
base = os.path.join(here, "results/profile-gap")
rows = list(csv.DictReader(open(os.path.join(base, "runs.csv"))))
cells = {}
for r in rows:
    cells.setdefault((r["network"], r["cell"]), []).append(float(r["median_ms"]))
med = {k: statistics.median(v) for k, v in cells.items()}
for (net, cell), v in cells.items():
    print(f"{net:12} {cell:4} median {med[(net, cell)]:6.1f} ms  repeats [{', '.join(f'{x:.1f}' for x in v)}]")
band = (0.87, 1.15)
inside = lambda x: band[0] <= x <= band[1]
ratio = lambda net, a, b: med[(net, a)] / med[(net, b)]
r_p2, r_p2l, r_p1 = ratio("mobilenetv2", "P2", "B2"), ratio("mobilenetv2", "P2L", "B2"), ratio("mobilenetv2", "P1", "B1")
r_ctl = ratio("resnet50", "P2", "B2")
print(f"MobileNetV2: P2/B2 {r_p2:.3f}, P2L/B2 {r_p2l:.3f}, P1/B1 {r_p1:.3f}; ResNet-50 P2/B2 {r_ctl:.3f}; band {band}")
print(f"P12 (drift: P2/B2 and P1/B1 inside): {'met' if inside(r_p2) and inside(r_p1) else 'not met'}")
print(f"P13 (method: P2/B2 outside, P2L/B2 inside): {'met' if not inside(r_p2) and inside(r_p2l) else 'not met'}")
print(f"P14 (control: ResNet-50 P2/B2 inside): {'met' if inside(r_ctl) else 'not met'}")
print("per-request latencies (ms) of each profile run; co-located runs container by container:")
for path in sorted(glob.glob(os.path.join(base, "*.csv"))):
    if path.endswith("runs.csv"):
        continue
    lines = [l for l in open(path) if not l.startswith("#")]
    prof = list(csv.DictReader(lines))
    n = 20 if "P2L" in path else 5
    by = {}
    for p in prof:
        by.setdefault(int(p["request"]) // n, []).append(float(p["latency_ms"]))
    text = " | ".join(" ".join(f"{x:.0f}" for x in v) for _, v in sorted(by.items()))
    print(f"  {os.path.basename(path):26} {text}")

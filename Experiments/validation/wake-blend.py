"""Reads results/wake-blend/runs.csv (wake-blend.sh) and prints f(G), the place of the
median latency between the shared-cores curve (0) and the quota curve (1) at 1 core, per
network, gap and OpenBLAS setting (median over repeats, with the repeats), the
predictions P6-P9 judged as the script states them, and the tau of w(t_busy) =
exp(-t_busy / tau) that makes a request whose speed blends from 1/Lq to 1/Ls take m(G)."""
import csv
import json
import math
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "results/heldout-4-fair-share/models")


def latency(p, c):
    assert p["family"] == "power"
    return p["a_ms"] / min(c, 1) + p["b_ms"] * min(c, p.get("max_parallelism", c)) ** -p["k"]


curves = {}
for net in ["mobilenetv2", "resnet50"]:
    m = json.load(open(os.path.join(models, net + ".json")))
    curves[net] = (latency(m["latency"], 1), latency(m["measured_latency_shared"], 1))


def tau_for(L, Lq, Ls):
    """tau (ms) with L/Ls + (1/Lq - 1/Ls) tau (1 - exp(-L/tau)) = 1, or None outside (Ls, Lq)."""
    if not Ls < L < Lq:
        return None
    g = lambda t: L / Ls + (1 / Lq - 1 / Ls) * t * (1 - math.exp(-L / t)) - 1
    lo, hi = 1e-6, 1e7
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if g(mid) > 0:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


rows = list(csv.DictReader(open(os.path.join(here, "results/wake-blend/runs.csv"))))
cells = {}
for r in rows:
    key = (r["network"], int(r["busy_neighbours"]), int(r["gap_ms"]), r["openblas_thread_timeout"])
    cells.setdefault(key, []).append(float(r["median_ms"]))
f = {}
print("network      k  gap_ms  openblas  median ms (repeats)        f (0 shared, 1 quota)  tau ms")
for key in sorted(cells):
    net, k, gap, to = key
    Lq, Ls = curves[net]
    ms = cells[key]
    med = statistics.median(ms)
    fk = statistics.median([(m - Ls) / (Lq - Ls) for m in ms])
    f[key] = fk
    t = tau_for(med, Lq, Ls) if k == 1 else None
    print(f"{net:12} {k}  {gap:6}  {to:8}  {med:7.1f} ({', '.join(f'{m:.1f}' for m in ms)})  {fk:+.2f}  {'' if t is None else f'{t:.0f}'}")
for net in ["mobilenetv2", "resnet50"]:
    F = lambda g, to="default": f.get((net, 1, g, to), float("nan"))
    p6 = F(0) <= 0.25
    p7 = F(200) >= 0.4 and F(1000) >= 0.4
    p8 = abs(F(20) - F(0)) <= 0.15 and abs(F(50) - F(0)) <= 0.15 and F(50, "4") >= 0.4
    p9 = abs(F(1000) - F(200)) <= 0.15
    judged = " (judged)" if net == "mobilenetv2" else " (reported)"
    print(f"{net}{judged}: P6 {'met' if p6 else 'not met'} (f(0) {F(0):+.2f}); "
          f"P7 {'met' if p7 else 'not met'} (f(200) {F(200):+.2f}, f(1000) {F(1000):+.2f}); "
          f"P8 {'met' if p8 else 'not met'} (f(20) {F(20):+.2f}, f(50) {F(50):+.2f}, timeout 4: f(20) {F(20, '4'):+.2f}, f(50) {F(50, '4'):+.2f}); "
          f"P9 {'met' if p9 else 'not met'}")

"""Reads results/run-states/requests.csv and runs.csv (run-states.sh) and prints part A
(per network: the run medians, S = max / min of them, W = the median over runs of a
run's q90 / q10), part B (per OpenBLAS configuration and repeat: the alone median, the
co-located run's median and its slowdown, the share of its requests slower than 1.8 x
alone), the steal ticks, and P15-P17 judged as the script states them."""
import csv
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
base = os.path.join(here, "results/run-states")
reqs = list(csv.DictReader(open(os.path.join(base, "requests.csv"))))
runs = list(csv.DictReader(open(os.path.join(base, "runs.csv"))))
lat = {}
for r in reqs:
    lat.setdefault((r["part"], r["repeat"], r["network"], r["config"], r["run"]), []).append(float(r["latency_ms"]))
steal = {r["run"]: int(r["steal_ticks"]) for r in runs}


def q(v, p):
    return statistics.quantiles(v, n=10, method="inclusive")[p - 1]


print("A: alone, no limit, back to back (12 requests after 3 warm-up per run)")
verdict = {}
for net in ("mobilenetv2", "resnet50"):
    keys = [k for k in lat if k[0] == "A" and k[2] == net]
    meds = [statistics.median(lat[k]) for k in keys]
    within = [q(lat[k], 9) / q(lat[k], 1) for k in keys]
    S, W = max(meds) / min(meds), statistics.median(within)
    verdict[net] = (S, W)
    print(f"  {net:12} run medians {', '.join(f'{m:.1f}' for m in meds)} ms; S = {S:.2f}; W = {W:.3f}; "
          f"steal ticks {sum(steal[k[4]] for k in keys)} over {len(keys)} runs")
S, W = verdict["mobilenetv2"]
print(f"P15 (MobileNetV2 S >= 1.2 and W <= 1.1): {'met' if S >= 1.2 and W <= 1.1 else 'not met'}")
print("B: two MobileNetV2 copies at once against alone, per OpenBLAS configuration")
slow = {}
for config in ("default", "timeout4", "threads1"):
    slow[config] = []
    for repeat in sorted({k[1] for k in lat if k[0] == "B"}):
        a = [v for k, v in lat.items() if k[0] == "B" and k[1] == repeat and k[3] == config and k[4] and
             any(r["run"] == k[4] for r in reqs if r["part"] == "B" and r["container"] == "0") and len({r["container"] for r in reqs if r["run"] == k[4]}) == 1]
        p = [(k, v) for k, v in lat.items() if k[0] == "B" and k[1] == repeat and k[3] == config and len({r["container"] for r in reqs if r["run"] == k[4]}) > 1]
        if not a or not p:
            continue
        alone = statistics.median(a[0])
        (pk, pv), = p
        s = statistics.median(pv) / alone
        slow[config].append(s)
        frac = sum(1 for x in pv if x > 1.8 * alone) / len(pv)
        print(f"  {config:9} repeat {repeat}: alone {alone:6.1f} ms; pair {statistics.median(pv):6.1f} ms ({len(pv)} kept), "
              f"slowdown {s:.2f}, {frac:.0%} of requests > 1.8 x alone; steal ticks {steal[pk[4]]}")
d = slow["default"]
print(f"P16 (default: one slowdown <= 1.3 and one >= 1.8): {'met' if d and min(d) <= 1.3 and max(d) >= 1.8 else 'not met'} "
      f"({', '.join(f'{x:.2f}' for x in d)})")
ok = all(slow[c] and max(slow[c]) <= 1.3 for c in ("timeout4", "threads1"))
print(f"P17 (timeout4 and threads1: all slowdowns <= 1.3): {'met' if ok else 'not met'} "
      f"(timeout4 max {max(slow['timeout4'] or [0]):.2f}, threads1 max {max(slow['threads1'] or [0]):.2f})")

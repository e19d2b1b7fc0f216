#!/usr/bin/env python3
"""The live and simulated observation logs of one validation repeat
side by side (repeat-N/live/observations.csv and repeat-N/sim/observations.csv, what the
policy saw and answered at each decision), and where they part.

Usage: python3 Experiments/validation/observations.py RESULT_FOLDER [REPEAT] [--csv OUT]
Prints, per job, the mean over the decisions both sides made of what the policy saw
(window latency, CPU used) and answered (the new CPU limit) live and simulated, and the
first decision at which the answers differ by more than 0.05 cores; --csv writes every
decision side by side. Decisions are matched by time (both loops decide on the same
control ticks, the one-controller's invariant) and job; a decision one side made and the
other did not (an arrival seen at another tick) is counted, not matched."""
import csv, os, sys


def load(path):
    with open(path) as fh:
        rows = [r for r in csv.DictReader(l for l in fh if not l.startswith("#"))]
    out = {}
    for r in rows:
        key = (round(float(r["time_s"]), 3), r["trigger"], r["trigger_job"], r["job_id"])
        out[key] = r
    return out


def num(x):
    return float(x) if x not in ("", None) else None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    folder, repeat = args[0], (args[1] if len(args) > 1 else "1")
    out_csv = sys.argv[sys.argv.index("--csv") + 1] if "--csv" in sys.argv else None
    base = os.path.join(folder, "repeat-%s" % repeat)
    for side in ("live", "sim"):
        if not os.path.exists(os.path.join(base, side, "observations.csv")):
            sys.exit("%s: no %s/observations.csv (validate writes one per side since qoesim 0.12)" % (base, side))
    live, sim = load(os.path.join(base, "live", "observations.csv")), load(os.path.join(base, "sim", "observations.csv"))
    both = sorted(set(live) & set(sim))
    print("%s repeat %s: %d decisions live, %d simulated, %d matched by time, trigger and job" % (
        folder, repeat, len(live), len(sim), len(both)))
    fields = ["window_mean_ms", "window_cpu_used", "cpu_limit", "new_cpu_limit", "outstanding"]
    jobs = sorted({k[3] for k in both})
    rows = []
    print("job             decisions  window_mean_ms live/sim  cpu_used live/sim  limit after live/sim  first parting (|limit live - sim| > 0.05)")
    for j in jobs:
        keys = [k for k in both if k[3] == j]
        means = {}
        for fld in fields:
            pairs = [(num(live[k][fld]), num(sim[k][fld])) for k in keys]
            pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
            means[fld] = (sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)) if pairs else (None, None)
        parting = None
        for k in keys:
            a, b = num(live[k]["new_cpu_limit"]) , num(sim[k]["new_cpu_limit"])
            # An empty answer keeps the limit in force; compare the limit after the decision.
            a = a if a is not None else num(live[k]["cpu_limit"])
            b = b if b is not None else num(sim[k]["cpu_limit"])
            if (a is None) != (b is None) or (a is not None and abs(a - b) > 0.05):
                def g(x, d):
                    return "-" if num(x) is None else "%.*f" % (d, num(x))
                parting = "t=%.1f s (%s): limit live %s, sim %s; saw window %s vs %s ms, cpu used %s vs %s" % (
                    k[0], k[1], g(a, 2), g(b, 2), g(live[k]["window_mean_ms"], 0), g(sim[k]["window_mean_ms"], 0),
                    g(live[k]["window_cpu_used"], 2), g(sim[k]["window_cpu_used"], 2))
                break
        def f(p, d=1):
            return "%s/%s" % tuple("-" if x is None else ("%.*f" % (d, x)) for x in p)
        print("%-15s %9d  %-24s  %-17s  %-20s  %s" % (j, len(keys), f(means["window_mean_ms"]), f(means["window_cpu_used"], 2),
                                                      f(means["new_cpu_limit"], 2), parting or "none"))
        for k in keys:
            rows.append([k[0], k[1], k[2], j] + [live[k][x] for x in fields] + [sim[k][x] for x in fields])
    if out_csv:
        with open(out_csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["time_s", "trigger", "trigger_job", "job_id"] + ["live_" + x for x in fields] + ["sim_" + x for x in fields])
            w.writerows(rows)


if __name__ == "__main__":
    main()

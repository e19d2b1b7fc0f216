"""Reads the reports of threads1.sh (results-threads1/) and of the default configuration
(results/) for the same pairs and prints, per pair, the overall mean/target error (% and
SE), the open-loop bias, the model rows within 2 SE on the mean and the live floor (live
vs live, mean) side by side, then P18-P20 judged as threads1.sh states them."""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
pairs = ["jobs-fair-share", "jobs-dqoes", "heldout-1-fair-share", "heldout-1-dqoes"]


def load(root, pair):
    path = os.path.join(here, root, pair, "report.json")
    return json.load(open(path)) if os.path.exists(path) else None


def summary(r):
    f = r["fidelity"]
    o = f["overall_mean_over_target"]
    rows = f["models"]
    within = sum(1 for m in rows if m["mean"]["within_limit"])
    bias = f.get("open_loop_bias")
    return {
        "err": o["error_pct"], "se": o.get("error_se"), "ok": o["within_limit"],
        "bias": bias["pct"] if bias else None, "within": within, "rows": len(rows),
        "floor": r["live_repeatability_pct"], "goal": f["goal_met"],
        "sat": (f["satisfied_live_majority"], f["satisfied_sim_majority"]),
    }


def fmt(s):
    if s is None:
        return "(not run)"
    bias = "-" if s["bias"] is None else f"{s['bias']:+.1f}%"
    se = "-" if s["se"] is None else f"{s['se']:+.1f}"
    return (f"overall {s['err']:+.1f}% ({se} SE), bias {bias}, rows within 2 SE {s['within']}/{s['rows']}, "
            f"floor {s['floor']:.1f}%, satisfied {s['sat'][0]}/{s['sat'][1]}, goal {'met' if s['goal'] else 'missed'}")


done = {}
for pair in pairs:
    d, t = load("results", pair), load("results-threads1", pair)
    sd, st = (summary(d) if d else None), (summary(t) if t else None)
    print(f"{pair}\n  default : {fmt(sd)}\n  threads1: {fmt(st)}")
    if st:
        done[pair] = (sd, st)
if done:
    p18a = sum(1 for _, t in done.values() if t["ok"])
    p18b = sum(1 for _, t in done.values() if t["bias"] is not None and abs(t["bias"]) <= 3)
    rows = sum(t["rows"] for _, t in done.values())
    within = sum(t["within"] for _, t in done.values())
    p20 = sum(1 for d, t in done.values() if d and t["floor"] <= d["floor"])
    n = len(done)
    print(f"P18: overall within 2 SE on {p18a} of {n} pairs, open-loop |bias| <= 3% on {p18b} of {n} -> "
          f"{'met' if p18a == n == 4 and p18b >= 3 else 'not met'}")
    print(f"P19: {within} of {rows} model rows within 2 SE on the mean ({within / rows:.0%}) -> {'met' if within >= 0.75 * rows else 'not met'}")
    print(f"P20: live floor no higher than the default's on {p20} of {n} pairs -> {'met' if p20 == n == 4 else 'not met'}")

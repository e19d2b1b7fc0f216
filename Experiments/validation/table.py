#!/usr/bin/env python3
"""Tabulates the full validation (Experiments/validation/results/*/report.json) as
Markdown: one line per trace/policy pair, then one per model. Reads only what
`qoesim validate` wrote; prints to stdout. Usage: python3 Experiments/validation/table.py
(--root DIR: another results folder, e.g. results-threads1)

With --compare REPORT.json ...: one line per report named PAIR-PARTS.json (as
parts-by-regime.sh writes them): the overall and per-model errors side by side."""
import glob, json, os, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
if "--root" in sys.argv:
    i = sys.argv.index("--root")
    root = os.path.abspath(sys.argv[i + 1])
    del sys.argv[i:i + 2]
order = ["jobs", "heldout-1", "heldout-2", "heldout-3", "heldout-4"]


def f(v, fmt="{:.1f}"):
    return "-" if v is None else fmt.format(v)


def est(e, d=1):
    if not e:
        return "-", "-", "-", "-"
    live = f(e["live"], "{:.%df}" % d) + ("±" + f(e.get("live_se"), "{:.%df}" % d) if e.get("live_se") is not None else "")
    return live, f(e["sim"], "{:.%df}" % d), f(e["error_pct"], "{:+.1f}"), f(e.get("error_se"), "{:+.1f}")


def made_by(m):
    """The code that made the live runs: qoesim VERSION (first 12 hex digits of its executable's SHA-256)."""
    text = m.get("options", {}).get("live_made_by")
    if text and "SHA-256 " in text:
        version, sha = text.split(" (executable SHA-256 ")
        return "%s (%s)" % (version, sha[:12])
    return text or "qoesim %s (%s)" % (m.get("qoesim_version", "?"), m.get("executable_sha256", "?")[:12])


def compare(paths):
    print("| pair | parts | overall mean/target err% (err/SE) | overall p95/target err% (err/SE) | goal misses | per job: mean err% (model, loop) |")
    print("|---|---|---|---|---|---|")
    for path in sorted(paths):
        stem = os.path.basename(path)[:-len(".json")]
        parts = next((q for q in ["shared-cold", "spin-full-weight", "quota", "shared", "cold", "spin", "full"] if stem.endswith("-" + q)), None)
        pair = stem[:-len(parts) - 1] if parts else stem
        with open(path) as fh:
            fd = json.load(fh)["fidelity"]
        o, p = fd.get("overall_mean_over_target") or {}, fd.get("overall_p95_over_target") or {}
        jobs = ", ".join("%s %s (%s, %s)" % (x["id"], f((x.get("mean") or {}).get("error_pct"), "{:+.1f}"), x["model"],
                                              "closed" if x["closed_loop"] else "open") for x in fd["models"])
        print("| %s | %s | %s (%s) | %s (%s) | %d | %s |" % (
            pair, parts or "?", f(o.get("error_pct"), "{:+.1f}"), f(o.get("error_se"), "{:+.1f}"), f(p.get("error_pct"), "{:+.1f}"),
            f(p.get("error_se"), "{:+.1f}"), len(fd.get("goal_misses", [])), jobs))


if len(sys.argv) > 1 and sys.argv[1] == "--compare":
    compare(sys.argv[2:])
    sys.exit(0)

pairs = []
for path in glob.glob(os.path.join(root, "*", "report.json")):
    name = os.path.basename(os.path.dirname(path))
    trace = next((t for t in order if name.startswith(t + "-")), name)
    with open(path) as fh:
        report = json.load(fh)
    manifest = {}
    mpath = os.path.join(os.path.dirname(path), "manifest.json")
    if os.path.exists(mpath):
        with open(mpath) as fh:
            manifest = json.load(fh)
    pairs.append((order.index(trace) if trace in order else 99, name, report, manifest))
pairs.sort(key=lambda p: (p[0], p[1]))
if not pairs:
    sys.exit("no results under %s: run Experiments/validation/run.sh first" % root)

print("| pair | R | overall mean/target: live±SE, sim, err%, err/SE | overall p95/target err% (err/SE) | open-loop bias % (p10/p50/p90) | closed-loop bias % | satisfied live/sim (majority) | live vs live (mean, p95) | harness cores: qoesim, all outside the containers | goal | live on, date | live runs made by |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for _, name, r, m in pairs:
    fd = r["fidelity"]
    lo, so, eo, seo = est(fd.get("overall_mean_over_target"), 3)
    p = fd.get("overall_p95_over_target") or {}
    ob, cb = fd.get("open_loop_bias"), fd.get("closed_loop_bias")
    obs = "-" if not ob else "%s (%s)" % (f(ob["pct"], "{:+.1f}"), "/".join(f(x, "{:+.1f}") for x in ob.get("percentiles", [])))
    h = fd.get("harness")
    hs = "-" if not h else "%.3f, %s" % (h["qoesim_cores"], f(h.get("outside_containers_cores"), "{:.3f}"))
    goal = {True: "met", False: "missed (%d)" % len(fd.get("goal_misses", [])), None: "not judged"}[fd.get("goal_met")]
    opts = m.get("options", {})
    print("| %s | %d | %s, %s, %s, %s | %s (%s) | %s | %s | %d/%d | %s%%, %s%% | %s | %s | %s, %s | %s |" % (
        name, fd["repeats"], lo, so, eo, seo, f(p.get("error_pct"), "{:+.1f}"), f(p.get("error_se"), "{:+.1f}"), obs,
        f(cb["pct"], "{:+.1f}") if cb else "-", fd["satisfied_live_majority"], fd["satisfied_sim_majority"],
        f(r.get("live_repeatability_pct")), f(r.get("live_repeatability_p95_pct")), hs, goal,
        opts.get("live_on", "?"), opts.get("live_date", "?")[:10],
        made_by(m)))

print()
print("| pair | job | loop | mean ms: live±SE | sim | err% | err/SE | p95 ms: live±SE | sim | err% | err/SE | bias % | satisfied live/sim (of R) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for _, name, r, m in pairs:
    fd = r["fidelity"]
    for x in fd["models"]:
        ml, ms, me, mse = est(x.get("mean"))
        pl, ps, pe, pse = est(x.get("p95"))
        b = x.get("bias")
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
            name, x["id"], "closed" if x["closed_loop"] else "open", ml, ms, me, mse, pl, ps, pe, pse,
            f(b["pct"], "{:+.1f}") if b else "-", x["live_satisfied_repeats"], x["sim_satisfied_repeats"]))

"""The paper-8x headline scenario under fair-share, in SimPy: the peer of
`qoesim run --policy fair-share` on `qoesim generate Experiments/paper-8x/experiment.yaml`.

What SimPy can express directly: under fair-share (no limits, equal cpu.shares) with
closed-loop clients, every container always has exactly one request in service, so the
CFS division of the node never changes: each container gets its water-filling share of
the node's cores, capped by its model's parallelism. Each container is then a SimPy
process that serves requests back to back, each taking latency(share) x a lognormal
factor (mean 1, the model's cv). DQoES and the predictive policy change allocations
every interval from measured windows; expressing them would mean rewriting the
simulator in Python, so this peer covers fair-share only.

Usage: python3 paper8x_simpy.py CLUSTER_JSON JOBS_CSV MODELS_DIR
Prints one JSON line: jobs, wall seconds, jobs per wall second, per-model mean latency.
"""
import csv
import json
import math
import os
import random
import sys
import time

import simpy

cluster_path, jobs_path, models_dir = sys.argv[1:4]
cluster = json.load(open(cluster_path))
assert len(cluster["nodes"]) == 1, "one node (the paper-8x headline)"
capacity = float(cluster["nodes"][0]["cpus"])
models = {}
for name in os.listdir(models_dir):
    if name.endswith(".json"):
        m = json.load(open(os.path.join(models_dir, name)))
        models[m["name"]] = m
jobs = list(csv.DictReader(line for line in open(jobs_path) if not line.startswith("#")))
for j in jobs:
    assert j["arrivals"] == "closed" and float(j["arrival_s"]) == 0, "closed-loop jobs deployed at 0"


def latency_s(model, cores):
    lat = model["latency"]
    c = min(cores, lat["max_parallelism"])
    if lat["family"] == "amdahl":
        return (lat["serial_ms"] + lat["parallel_ms"] / c) / 1000
    if lat["family"] == "power":
        return (lat["a_ms"] + lat["b_ms"] * c ** -lat["k"]) / 1000
    raise SystemExit(f"latency family {lat['family']} not supported by this peer")


# CFS water-filling with equal weights: caps = each model's parallelism.
caps = [min(models[j["model"]]["latency"]["max_parallelism"], capacity) for j in jobs]
share = [0.0] * len(jobs)
remaining, left = capacity, list(range(len(jobs)))
for i in sorted(left, key=lambda i: caps[i]):
    fair = remaining / len(left)
    if caps[i] <= fair:
        share[i] = caps[i]
        remaining -= caps[i]
        left.remove(i)
    else:
        break
for i in left:
    share[i] = remaining / len(left)

done = [0] * len(jobs)
total = [0.0] * len(jobs)


def container(env, k, rng):
    model = models[jobs[k]["model"]]
    base = latency_s(model, share[k])
    var = model["variability"]
    s2 = math.log1p(var.get("cv", 0) ** 2) if var["distribution"] == "lognormal" else 0
    end = float(jobs[k]["duration_s"])
    while env.now < end:
        start = env.now
        factor = math.exp(-0.5 * s2 + math.sqrt(s2) * rng.gauss(0, 1)) if s2 > 0 else 1
        yield env.timeout(base * factor)
        done[k] += 1
        total[k] += env.now - start


env = simpy.Environment()
for k in range(len(jobs)):
    env.process(container(env, k, random.Random(1000 + k)))
started = time.perf_counter()
env.run()
wall = time.perf_counter() - started
print(json.dumps({
    "system": "simpy", "jobs": sum(done), "wall_s": wall, "jobs_per_s": sum(done) / wall,
    "mean_ms": {jobs[k]["job_id"]: 1000 * total[k] / done[k] for k in range(len(jobs)) if done[k]},
}))

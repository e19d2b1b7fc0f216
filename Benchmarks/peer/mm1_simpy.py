"""K independent M/M/1 queues in SimPy: the peer of qoesim's Benchmarks/scenarios/mm1-k100.

Each queue: Poisson arrivals at LAMBDA, one server (a simpy.Resource of capacity 1),
exponential service with mean 1/MU, FIFO. Prints one JSON line: jobs, wall seconds,
jobs per wall second, and the pooled mean response time (theory: 1/(MU - LAMBDA)).
"""
import json
import random
import sys
import time

import simpy

K = int(sys.argv[1]) if len(sys.argv) > 1 else 100
HORIZON = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
LAMBDA, MU = 8.0, 10.0

done = 0
total_response = 0.0


def request(env, server, rng):
    global done, total_response
    arrival = env.now
    with server.request() as slot:
        yield slot
        yield env.timeout(rng.expovariate(MU))
    done += 1
    total_response += env.now - arrival


def source(env, server, rng):
    while True:
        yield env.timeout(rng.expovariate(LAMBDA))
        env.process(request(env, server, rng))


env = simpy.Environment()
for k in range(K):
    rng = random.Random(1000 + k)
    env.process(source(env, simpy.Resource(env, capacity=1), rng))
start = time.perf_counter()
env.run(until=HORIZON)
wall = time.perf_counter() - start
print(json.dumps({"system": "simpy", "queues": K, "simulated_s": HORIZON, "jobs": done, "wall_s": wall,
                  "jobs_per_s": done / wall, "mean_response_s": total_response / done}))

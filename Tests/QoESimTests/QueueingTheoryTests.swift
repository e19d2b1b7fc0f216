import Foundation
import Testing
import QoESim

/// The engine against queueing theory on long runs. Each test runs many independent
/// replicas (one job per node, separate random streams) and compares pooled
/// statistics with closed-form results. Tolerances are stated per test; the sampling
/// error of these run lengths is well below them (about 1% for means at rho 0.8).
@Suite("Queueing theory")
struct QueueingTheoryTests {
    /// M/M/1 with lambda = 8/s, mu = 10/s: mean response 1/(mu - lambda) = 0.5 s and
    /// p95 = ln(20)/(mu - lambda) = 1.498 s. Tolerance 3% on both.
    @Test("M/M/1 mean and p95 response time within 3% of theory")
    func mm1() throws {
        let replicas = 20
        let model = Fixture.model(parallelMs: 100)
        let jobs = (0..<replicas).map { Fixture.job("q\($0)", model, rate: 8, duration: 20_000, node: "n\($0)") }
        let sim = try Simulation(cluster: Fixture.cluster(replicas, cpus: 1), jobs: jobs, policy: FairSharePolicy())
        let r = try sim.run(seed: 11)
        let mean = Fixture.pooledMean(r) / 1000
        let p95 = r.models.map { $0.p95Ms! / 1000 }.reduce(0, +) / Double(replicas)
        #expect(Fixture.rel(mean, 0.5) < 0.03, "M/M/1 mean \(mean) s vs 0.5 s")
        #expect(Fixture.rel(p95, Foundation.log(20.0) / 2) < 0.03, "M/M/1 p95 \(p95) s vs \(Foundation.log(20.0) / 2) s")
        print("theory M/M/1: mean error \(Fixture.rel(mean, 0.5) * 100)%, p95 error \(Fixture.rel(p95, Foundation.log(20.0) / 2) * 100)%")
    }

    /// M/D/1 (deterministic 100 ms service, lambda = 8/s): Pollaczek-Khinchine gives
    /// W = 1/mu + rho / (2 mu (1 - rho)) = 0.1 + 0.2 = 0.3 s. Tolerance 3%.
    @Test("M/D/1 mean response time within 3% of Pollaczek-Khinchine")
    func md1() throws {
        let replicas = 20
        let model = Fixture.model(parallelMs: 100, variability: .deterministic)
        let jobs = (0..<replicas).map { Fixture.job("q\($0)", model, rate: 8, duration: 10_000, node: "n\($0)") }
        let r = try Simulation(cluster: Fixture.cluster(replicas, cpus: 1), jobs: jobs, policy: FairSharePolicy()).run(seed: 3)
        let mean = Fixture.pooledMean(r) / 1000
        #expect(Fixture.rel(mean, 0.3) < 0.03, "M/D/1 mean \(mean) s vs 0.3 s")
        print("theory M/D/1: mean error \(Fixture.rel(mean, 0.3) * 100)%")
    }

    /// A 0.5-CPU limit halves the service rate: 50 ms at one core becomes 100 ms, so
    /// with lambda = 5/s the queue is M/M/1 with mu = 10/s: mean 0.2 s. Tolerance 3%.
    /// The node has 4 idle cores, so only the limit can slow the container.
    @Test("A 0.5-CPU limit halves the service rate (M/M/1 at mu/2 within 3%)")
    func halfCPULimit() throws {
        let replicas = 20
        let model = Fixture.model(parallelMs: 50, maxParallelism: 4)
        let jobs = (0..<replicas).map { Fixture.job("q\($0)", model, rate: 5, duration: 20_000, cpus: 0.5, node: "n\($0)") }
        let r = try Simulation(cluster: Fixture.cluster(replicas, cpus: 4), jobs: jobs, policy: StaticPolicy()).run(seed: 5)
        let mean = Fixture.pooledMean(r) / 1000
        #expect(Fixture.rel(mean, 0.2) < 0.03, "limited M/M/1 mean \(mean) s vs 0.2 s")
        let cpu = r.models.map(\.cpuSeconds).reduce(0, +) / Double(replicas) / 20_000
        // Utilization rho = 0.5 of a 0.5-CPU container: 0.25 cores on average.
        #expect(Fixture.rel(cpu, 0.25) < 0.03, "average CPU used \(cpu) vs 0.25")
        print("theory 0.5-CPU limit: mean error \(Fixture.rel(mean, 0.2) * 100)%")
    }

    /// Two containers share one core under fair-share, each with Poisson arrivals and
    /// exponential service. CFS is work-conserving and service is memoryless, so the
    /// number of requests on the node evolves exactly as in one M/M/1 queue with the
    /// combined arrival rate: mean response 1 / (mu - lambda1 - lambda2). Here
    /// mu = 10, lambda = 3 + 4: 1/3 s. Tolerance 3%.
    @Test("Two containers sharing one core behave as one M/M/1 in total (within 3%)")
    func sharedCore() throws {
        let replicas = 20
        let model = Fixture.model(parallelMs: 100)
        var jobs: [JobSpec] = []
        for i in 0..<replicas {
            jobs.append(Fixture.job("a\(i)", model, rate: 3, duration: 20_000, node: "n\(i)"))
            jobs.append(Fixture.job("b\(i)", model, rate: 4, duration: 20_000, node: "n\(i)"))
        }
        let r = try Simulation(cluster: Fixture.cluster(replicas, cpus: 1), jobs: jobs, policy: FairSharePolicy()).run(seed: 9)
        let mean = Fixture.pooledMean(r) / 1000
        #expect(Fixture.rel(mean, 1.0 / 3.0) < 0.03, "shared-core mean \(mean) s vs 0.333 s")
        // Node utilization: each node's busy time fraction is rho = 0.7 of one core.
        let cpu = r.models.map(\.cpuSeconds).reduce(0, +) / Double(replicas) / 20_000
        #expect(Fixture.rel(cpu, 0.7) < 0.03, "node CPU use \(cpu) vs 0.7")
        print("theory shared core: mean error \(Fixture.rel(mean, 1.0 / 3.0) * 100)%")
    }

    /// Amdahl scaling on a multi-core node: serial 10 ms + parallel 90 ms over up to 4
    /// cores. A closed-loop job with deterministic service takes exactly
    /// 10 / min(c, 1) + 90 / min(c, 4) ms per request at a limit of c cores (below one
    /// core the serial part slows too); without a limit on an 8-core node it uses 4 cores
    /// (its parallelism), not 8. Tolerance 0.1%.
    @Test("Multi-core amdahl scaling matches s / min(c, 1) + p / min(c, m) within 0.1%", arguments: [0.5, 1, 2, 3, 4, 6])
    func amdahlScaling(cpus: Double) throws {
        let model = Fixture.model(serialMs: 10, parallelMs: 90, maxParallelism: 4, variability: .deterministic)
        let job = Fixture.job("c", model, duration: 100, arrivals: .closed, cpus: cpus)
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 8), jobs: [job], policy: StaticPolicy()).run(seed: 1)
        let expected = 10 / min(cpus, 1) + 90 / min(cpus, 4)
        #expect(Fixture.rel(r.models[0].meanMs!, expected) < 0.001, "latency at \(cpus) cpus: \(r.models[0].meanMs!) vs \(expected)")
        let used = r.models[0].cpuSeconds / r.simulatedSeconds
        #expect(Fixture.rel(used, min(cpus, 4)) < 0.001, "cores used \(used) vs \(min(cpus, 4))")
    }

    @Test("Without a limit a container uses exactly its parallelism on a larger node")
    func unlimitedUsesParallelism() throws {
        let model = Fixture.model(serialMs: 10, parallelMs: 90, maxParallelism: 4, variability: .deterministic)
        let job = Fixture.job("c", model, duration: 100, arrivals: .closed)
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 8), jobs: [job], policy: FairSharePolicy()).run(seed: 1)
        #expect(Fixture.rel(r.models[0].meanMs!, 32.5) < 0.001)
        #expect(Fixture.rel(r.models[0].cpuSeconds / r.simulatedSeconds, 4) < 0.001)
    }

    /// cpu.shares: two always-busy closed-loop containers with weights 2 and 1 on one
    /// core get 2/3 and 1/3 of it, so their throughputs are in the ratio 2:1 (1%).
    @Test("CPU weights divide a contended core in proportion (2:1 within 1%)")
    func weightedShares() throws {
        let model = Fixture.model(parallelMs: 100, variability: .deterministic)
        let jobs = [
            Fixture.job("heavy", model, duration: 1000, arrivals: .closed, weight: 2),
            Fixture.job("light", model, duration: 1000, arrivals: .closed, weight: 1),
        ]
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 1), jobs: jobs, policy: FairSharePolicy()).run(seed: 1)
        let ratio = Double(r.models[0].requests) / Double(r.models[1].requests)
        #expect(Fixture.rel(ratio, 2) < 0.01, "throughput ratio \(ratio)")
        #expect(Fixture.rel(r.models[0].meanMs!, 150) < 0.01, "heavy latency \(r.models[0].meanMs!) vs 150 ms")
    }

    /// Little's law on a multi-worker container: with 3 workers on 3 cores and
    /// exponential service (M/M/3, mu = 10, lambda = 24), Erlang C gives the mean
    /// response. Tolerance 3%.
    @Test("M/M/3 (three workers, three cores) mean within 3% of Erlang C")
    func mm3() throws {
        let replicas = 10
        let model = Fixture.model(parallelMs: 100)
        let jobs = (0..<replicas).map { Fixture.job("q\($0)", model, rate: 24, duration: 10_000, node: "n\($0)", workers: 3) }
        let r = try Simulation(cluster: Fixture.cluster(replicas, cpus: 3), jobs: jobs, policy: FairSharePolicy()).run(seed: 21)
        // Erlang C with c = 3, a = lambda/mu = 2.4, rho = 0.8.
        let a = 2.4, cServers = 3.0, rho = a / cServers
        let sum = (0..<3).reduce(0.0) { $0 + pow(a, Double($1)) / tgamma(Double($1) + 1) }
        let top = pow(a, cServers) / tgamma(cServers + 1) / (1 - rho)
        let pWait = top / (sum + top)
        let expected = pWait / (cServers * 10 - 24) + 0.1
        let mean = Fixture.pooledMean(r) / 1000
        #expect(Fixture.rel(mean, expected) < 0.03, "M/M/3 mean \(mean) vs \(expected)")
        print("theory M/M/3: mean error \(Fixture.rel(mean, expected) * 100)%")
    }
}

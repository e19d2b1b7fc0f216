// QoESim's micro- and macro-benchmarks (ordo-one/benchmark).
//
//   cd Benchmarks && swift package benchmark
//
// Each benchmark measures one layer: the engine's future-event list, the whole engine
// on a textbook scenario, CFS water-filling, one DQoES control step, and trace parsing.
// Timings are reported by the harness; nothing here asserts a time.
import Benchmark
import Foundation
import QoESim

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    // MARK: Engine

    // Pop the earliest of 200 timers and re-arm it a random time later: the core of
    // every event. One iteration = 1,000,000 events.
    Benchmark("engine: timer pop + re-arm, 200 armed", configuration: .init(scalingFactor: .mega)) { benchmark in
        var queue = TimerQueue(capacity: 200)
        var rng = RandomStream(seed: 1, key: "bench", purpose: .policy)
        for k in 0..<200 { queue.arm(TimerHandle(k), at: rng.nextExponential(mean: 1)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let (timer, time) = queue.popFirst()!
            queue.arm(timer, at: time + rng.nextExponential(mean: 1))
        }
        blackHole(queue.count)
    }

    // The whole simulator on Benchmarks/scenarios/mm1-k100 for 100 simulated seconds:
    // 100 M/M/1 queues at rho 0.8, about 160,000 events per iteration.
    Benchmark("engine: 100 M/M/1 queues, 100 s simulated (~160k events)") { benchmark in
        let simulation = try Fixtures.mm1(queues: 100, seconds: 100)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try simulation.run(seed: 1).events)
        }
    }

    // MARK: Cluster

    // Divide 16 cores among 1,000 busy containers with random caps and weights
    // (saturated: the sort-and-fill path, not the everyone-gets-its-cap shortcut).
    Benchmark("cluster: CFS water-filling, 1,000 containers", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var rng = RandomStream(seed: 2, key: "bench", purpose: .policy)
        let caps = (0..<1_000).map { _ in 0.1 + 3.9 * rng.nextUnitInterval() }
        let weights = (0..<1_000).map { _ in 0.5 + 1.5 * rng.nextUnitInterval() }
        var filling = WaterFilling()
        var shares = [Double](repeating: 0, count: 1_000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            caps.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in
                    shares.withUnsafeMutableBufferPointer { s in filling.divide(capacity: 16, cap: c, weight: w, into: s) }
                }
            }
            blackHole(shares[0])
        }
    }

    // MARK: Policies

    // One control step of DQoES and of the predictive policy on a node with 1,000
    // containers (a mix of satisfied, short and idle ones), as the simulator calls it
    // every interval.
    let policies: [(label: String, make: @Sendable () -> any AllocationPolicy)] = [
        ("DQoES", { DQoESPolicy() }), ("predictive", { PredictivePolicy() }),
    ]
    for (label, make) in policies {
        Benchmark("policy: one \(label) step, 1,000 containers") { benchmark in
            let node = Fixtures.observation(containers: 1_000, cpus: 256)
            var policy = make()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(policy.allocate(on: node, because: .interval).count)
            }
        }
    }

    // MARK: Input

    // The bundled Azure LLM inference trace (8,819 requests) as a request trace.
    Benchmark("input: parse request trace (Azure LLM, 8,819 rows)") { benchmark in
        let path = Fixtures.repository + "/Traces/azure-llm/requests.csv"
        let ids = try Fixtures.jobIDs(inRequestTrace: path)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try RequestTrace.load(path, jobIDs: ids).count)
        }
    }

    // A generated job trace of 10,000 jobs (the scale benchmark's size).
    Benchmark("input: parse job trace, 10,000 jobs") { benchmark in
        let catalog = try ModelCatalog.load(folder: Fixtures.repository + "/Traces/models")
        let path = try Fixtures.jobTrace(jobs: 10_000, catalog: catalog)
        defer { try? FileManager.default.removeItem(atPath: path) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try JobTrace.load(path, models: catalog, nodeNames: ["n1"]).count)
        }
    }
}

/// Inputs the benchmarks share, built outside the measured region.
enum Fixtures {
    /// The repository root (this file is Benchmarks/Benchmarks/QoESimBenchmarks/…).
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// K independent M/M/1 queues: static 1-CPU containers, mu 10/s, lambda 8/s.
    static func mm1(queues: Int, seconds: Double) throws -> Simulation {
        let server = ModelSpec(
            name: "mm1-exp", latency: LatencyModel(family: .amdahl(serialMs: 0, parallelMs: 100), maxParallelism: 1),
            variability: .exponential)
        let jobs = (0..<queues).map { k in
            JobSpec(id: "q\(k)", model: server, arrival: 0, duration: seconds, rate: 8, targetMs: 500, cpus: 1)
        }
        let cluster = ClusterSpec(nodes: [NodeSpec(name: "node1", cpus: Double(queues))])
        return try Simulation(cluster: cluster, jobs: jobs, policy: StaticPolicy())
    }

    /// A node observation with `containers` containers of four models, a third of them
    /// short of their target, a third over-satisfied and the rest idle.
    static func observation(containers: Int, cpus: Double) -> NodeObservation {
        let model = ModelSpec(
            name: "resnet50", latency: LatencyModel(family: .amdahl(serialMs: 12, parallelMs: 180), maxParallelism: 8),
            variability: .lognormal(cv: 0.1))
        var rng = RandomStream(seed: 3, key: "bench", purpose: .policy)
        let list = (0..<containers).map { i -> ContainerObservation in
            let target = 40 + 200 * rng.nextUnitInterval()
            let measured: Double? = i % 3 == 2 ? nil : (i % 3 == 0 ? 1.5 : 0.5) * target
            let window = WindowStats(
                duration: 5, arrivals: measured == nil ? 0 : 50, completed: measured == nil ? 0 : 50, meanMs: measured,
                measuredMs: measured, cpuUsed: measured == nil ? 0 : 0.25)
            return ContainerObservation(
                id: "c\(i)", model: model, targetMs: target, metric: .mean, arrivals: .poisson, workers: 1,
                requestedCPUs: nil, gpu: nil, allocation: Allocation(cpuLimit: 0.25), outstanding: measured == nil ? 0 : 2,
                window: window, completedTotal: 500, startedAt: 0)
        }
        return NodeObservation(name: "n1", cpus: cpus, gpus: 0, time: 100, containers: list)
    }

    /// The job ids a request trace uses (its first column).
    static func jobIDs(inRequestTrace path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var ids = Set<String>()
        for line in text.split(separator: "\n").dropFirst() where !line.hasPrefix("#") && !line.hasPrefix("job_id") {
            if let id = line.split(separator: ",").first { ids.insert(String(id)) }
        }
        return ids.sorted()
    }

    /// Writes a job trace of `jobs` Poisson jobs to a temporary file and returns its path.
    static func jobTrace(jobs: Int, catalog: ModelCatalog) throws -> String {
        let names = catalog.models.keys.sorted()
        var csv = "job_id,model,arrival_s,duration_s,rate_rps,target_ms,metric,arrivals\n"
        for i in 0..<jobs {
            csv += "m\(i),\(names[i % names.count]),\(Double(i) * 0.01),60,\(1 + i % 7),\(50 + i % 200),mean,poisson\n"
        }
        let path = NSTemporaryDirectory() + "qoesim-bench-jobs-\(getpid()).csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

import Foundation
import Testing
import QoESim

@Suite("Determinism")
struct DeterminismTests {
    func exampleScenario() throws -> Scenario {
        let root = Fixture.packageRoot
        return try Scenario.load(
            cluster: root + "/Traces/example/cluster.json", trace: root + "/Traces/example/jobs.csv",
            models: root + "/Traces/models")
    }

    func runToFolder(_ scenario: Scenario, seed: UInt64, policy: any AllocationPolicy) throws -> [String: Data] {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try RunOutputWriter(folder: folder, scenario: scenario)
        let result = try Simulation(scenario: scenario, policy: policy, options: SimulationOptions(sampleInterval: 5)).run(seed: seed, recorder: writer)
        try writer.commit(result: result)
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = FileManager.default.contents(atPath: folder + "/" + name)
        }
        return files
    }

    @Test("Same inputs and seed give byte-identical output files; another seed does not")
    func byteIdentical() throws {
        let scenario = try exampleScenario()
        for policy in [FairSharePolicy() as any AllocationPolicy, StaticPolicy(), DQoESPolicy(), PredictivePolicy()] {
            let a = try runToFolder(scenario, seed: 7, policy: policy)
            let b = try runToFolder(scenario, seed: 7, policy: policy)
            #expect(Set(a.keys) == [".qoesim-output", "models.csv", "requests.csv", "allocations.csv", "usage.csv"])
            #expect(a == b)
            let c = try runToFolder(scenario, seed: 8, policy: policy)
            #expect(a["requests.csv"] != c["requests.csv"])
        }
    }

    /// Adding a job on another node (no interaction) leaves every other job's
    /// requests exactly as they were: streams are per job and purpose.
    @Test("Adding a job does not change another job's random draws")
    func streamIndependence() throws {
        let model = Fixture.model(parallelMs: 50)
        let a = Fixture.job("alpha", model, rate: 5, duration: 500, node: "n0")
        let b = Fixture.job("beta", model, rate: 7, duration: 500, node: "n1")
        let one = try Simulation(cluster: Fixture.cluster(2, cpus: 1), jobs: [a], policy: FairSharePolicy()).run(seed: 4)
        let two = try Simulation(cluster: Fixture.cluster(2, cpus: 1), jobs: [b, a], policy: FairSharePolicy()).run(seed: 4)
        let alphaAlone = one.models[0]
        let alphaWithBeta = two.models.first { $0.id == "alpha" }!
        #expect(alphaAlone == alphaWithBeta)
    }
}

@Suite("Cluster: placement, pending, GPUs")
struct ClusterTests {
    let model = Fixture.model(parallelMs: 10, variability: .deterministic)

    @Test("spread puts each new container on the least-loaded node; pack fills in order")
    func spreadAndPack() throws {
        let jobs = (0..<4).map { Fixture.job("j\($0)", model, rate: 1, duration: 10, cpus: 1) }
        let spread = try Simulation(cluster: Fixture.cluster(2, cpus: 4), jobs: jobs, policy: FairSharePolicy()).run(seed: 1)
        #expect(spread.models.map { $0.node! } == ["n0", "n1", "n0", "n1"])
        let pack = try Simulation(
            cluster: Fixture.cluster(2, cpus: 4), jobs: jobs, policy: FairSharePolicy(),
            options: SimulationOptions(placement: .pack)).run(seed: 1)
        #expect(pack.models.map { $0.node! } == ["n0", "n0", "n0", "n0"])
    }

    @Test("A job with no room waits in the pending queue until a container leaves")
    func pending() throws {
        let first = Fixture.job("first", model, rate: 1, duration: 100, cpus: 3)
        let second = Fixture.job("second", model, rate: 1, duration: 50, arrival: 10, cpus: 2)
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 4), jobs: [first, second], policy: StaticPolicy()).run(seed: 1)
        let s = r.models[1]
        // "first" stops receiving at t=100 and drains at most one 10 ms request.
        #expect(s.pendingS! >= 90 && s.pendingS! < 90.02, "pending \(s.pendingS!)")
        #expect(s.requests > 0)
    }

    @Test("A job naming a node runs there")
    func namedNode() throws {
        let j = Fixture.job("x", model, rate: 1, duration: 10, node: "n2")
        let r = try Simulation(cluster: Fixture.cluster(3, cpus: 1), jobs: [j], policy: FairSharePolicy()).run(seed: 1)
        #expect(r.models[0].node == "n2")
    }

    /// GPU time slicing: two always-busy GPU containers with shares 3 and 1 on one GPU
    /// get 3/4 and 1/4 of it. Latency = 10 ms GPU work / fraction (no CPU part).
    @Test("A GPU is time-sliced among busy containers by share")
    func gpuSlicing() throws {
        let gpuModel = ModelSpec(
            name: "g", latency: LatencyModel(family: .gpu(overheadMs: 0, cpuMs: 0, gpuMs: 10), maxParallelism: 1),
            variability: .deterministic)
        var a = Fixture.job("a", gpuModel, duration: 100, arrivals: .closed)
        a.gpuShare = 3
        var b = Fixture.job("b", gpuModel, duration: 100, arrivals: .closed)
        b.gpuShare = 1
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 4, gpus: 1), jobs: [a, b], policy: FairSharePolicy()).run(seed: 1)
        #expect(Fixture.rel(r.models[0].meanMs!, 10 / 0.75) < 0.01, "a: \(r.models[0].meanMs!)")
        #expect(Fixture.rel(r.models[1].meanMs!, 10 / 0.25) < 0.01, "b: \(r.models[1].meanMs!)")
    }

    @Test("Static policy limits to cpus column, else node cpus / containers at placement")
    func staticLimits() throws {
        let busy = Fixture.model(parallelMs: 100, maxParallelism: 8, variability: .deterministic)
        let jobs = [
            Fixture.job("a", busy, duration: 100, arrivals: .closed),
            Fixture.job("b", busy, duration: 100, arrivals: .closed, cpus: 1),
            Fixture.job("c", busy, duration: 100, arrivals: .closed),
        ]
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 8), jobs: jobs, policy: StaticPolicy()).run(seed: 1)
        // a: 8/1 = 8 cores, b: 1, c: 8/3; the node is oversubscribed (11.67 > 8), so CFS
        // divides by equal weight: b keeps 1, a and c split 7 -> c capped at 2.67, a 4.33.
        let used = r.models.map { $0.cpuSeconds / 100 }
        #expect(abs(used[1] - 1) < 0.01 && abs(used[2] - 8.0 / 3) < 0.01 && abs(used[0] - (7 - 8.0 / 3)) < 0.01, "\(used)")
    }
}

@Suite("Recording and horizon")
struct RecordingTests {
    /// Recording (with usage samples) must not change the simulation itself.
    @Test("Results are the same with and without a recorder and usage sampling")
    func recordingIsPassive() throws {
        let root = Fixture.packageRoot
        let scenario = try Scenario.load(
            cluster: root + "/Traces/example/cluster.json", trace: root + "/Traces/example/jobs.csv", models: root + "/Traces/models")
        let plain = try Simulation(scenario: scenario, policy: FairSharePolicy()).run(seed: 2)
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try RunOutputWriter(folder: folder, scenario: scenario)
        let recorded = try Simulation(scenario: scenario, policy: FairSharePolicy(), options: SimulationOptions(sampleInterval: 0.7))
            .run(seed: 2, recorder: writer)
        writer.discard()
        #expect(plain == recorded)
    }

    @Test("A horizon stops the run and counts outstanding requests as unfinished")
    func horizon() throws {
        let model = Fixture.model(parallelMs: 100)
        // Overloaded queue (lambda 20 > mu 10): many requests are outstanding at t = 100.
        let job = Fixture.job("over", model, rate: 20, duration: 1000)
        let r = try Simulation(cluster: Fixture.cluster(1, cpus: 1), jobs: [job], policy: FairSharePolicy(),
                               options: SimulationOptions(horizon: 100)).run(seed: 1)
        #expect(r.simulatedSeconds == 100)
        #expect(r.models[0].unfinished > 500, "unfinished \(r.models[0].unfinished)")
        #expect(abs(r.models[0].cpuSeconds - 100) < 0.5, "an overloaded 1-core node is busy all the time")
    }
}

import Foundation
import Testing
import QoESim
import QoESimExperiments

/// The simulation's invariants (Docs/INVARIANTS.md, S6) checked after every event, on
/// scenarios that exercise every path: the example cluster (GPU slicing, workers,
/// placement) and the Azure trace under every policy, a generated paper-8x scenario under
/// DQoES with an actuation delay, and open-loop queues with limits.
@Suite("Invariants checked inside the simulation")
struct InvariantCheckTests {
    static let root = Fixture.packageRoot

    static func checked(_ o: SimulationOptions = .init()) -> SimulationOptions {
        var o = o
        o.checkInvariants = true
        return o
    }

    @Test("Bundled scenarios under every policy", arguments: PolicyRegistry.builtIn)
    func bundled(policy: String) throws {
        let example = try Scenario.load(
            cluster: Self.root + "/Traces/example/cluster.json", trace: Self.root + "/Traces/example/jobs.csv",
            models: Self.root + "/Traces/models")
        var options = Self.checked()
        options.horizon = 120
        options.actuationDelay = 0.5
        let a = try Simulation(scenario: example, policy: PolicyRegistry.make(policy, parameters: [:]), options: options).run(seed: 3)
        #expect(a.models.allSatisfy { $0.requests > 0 })
        let azure = try Scenario.load(
            cluster: Self.root + "/Traces/azure-llm/cluster.json", trace: Self.root + "/Traces/azure-llm/jobs.csv",
            models: Self.root + "/Traces/models", requests: Self.root + "/Traces/azure-llm/requests.csv")
        var short = Self.checked()
        short.horizon = 300
        _ = try Simulation(scenario: azure, policy: PolicyRegistry.make(policy, parameters: [:]), options: short).run(seed: 1)
    }

    @Test("A generated paper-8x scenario (32 models, 8 cores) under DQoES and the predictive policy")
    func generated() throws {
        var g = HeterogeneousTargetsGenerator()
        g.cpusPerNode = 8
        g.models = 32
        g.durationS = 120
        g.targetShare = 0.95...2
        let jobs = try g.jobs(catalog: ModelCatalog.load(folder: Self.root + "/Traces/models"), seed: 5)
        let cluster = ClusterSpec(nodes: g.cluster().map { NodeSpec(name: $0.name, cpus: $0.cpus) })
        for policy in ["dqoes", "predictive"] {
            var o = Self.checked()
            o.actuationDelay = 1
            _ = try Simulation(cluster: cluster, jobs: jobs, policy: PolicyRegistry.make(policy, parameters: [:]), options: o).run(seed: 5)
        }
    }

    @Test("Open-loop queues with limits, several workers, the shared-cores curve and cold starts")
    func openLoop() throws {
        let model = ModelSpec(
            name: "m", latency: LatencyModel(family: .amdahl(serialMs: 5, parallelMs: 95), maxParallelism: 2), variability: .exponential,
            sharedLatency: LatencyModel(family: .amdahl(serialMs: 5, parallelMs: 70), maxParallelism: 2),
            coldStart: ColdStart(factor: 1.2, afterMs: 50))
        let jobs = (0..<6).map { i in
            Fixture.job("q\(i)", model, rate: 4 + Double(i), duration: 200, arrival: Double(i) * 5, cpus: i % 2 == 0 ? 0.5 : nil, workers: 1 + i % 3)
        }
        for policy in PolicyRegistry.builtIn {
            _ = try Simulation(
                cluster: Fixture.cluster(2, cpus: 2), jobs: jobs, policy: PolicyRegistry.make(policy, parameters: [:]), options: Self.checked()
            ).run(seed: 9)
        }
    }
}

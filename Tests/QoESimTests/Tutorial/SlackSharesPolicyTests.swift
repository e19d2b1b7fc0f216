import Foundation
import QoESim
import QoESimExperiments
import Testing

@Suite("slack-shares policy")
struct SlackSharesPolicyTests {
    /// One container of the example's ResNet-50, with a mean of `measuredMs` over the last
    /// window against a 100-ms target.
    static func container(_ id: String, measuredMs: Double) throws -> ContainerObservation {
        let resnet = try #require(ModelCatalog.load(folder: "Traces/models").models["resnet50"])
        return ContainerObservation(
            id: id, model: resnet, targetMs: 100, metric: .mean, arrivals: .poisson, workers: 1,
            requestedCPUs: nil, gpu: nil, allocation: Allocation(), outstanding: 0,
            window: WindowStats(duration: 5, arrivals: 50, completed: 50, meanMs: measuredMs, measuredMs: measuredMs, cpuUsed: 1),
            completedTotal: 50, startedAt: 0)
    }

    @Test("a container that misses its target gains weight, one with slack yields, and no limit is set")
    func missGainsWeight() throws {
        let node = NodeObservation(
            name: "node1", cpus: 4, gpus: 0, time: 5,
            containers: [try Self.container("late", measuredMs: 200), try Self.container("early", measuredMs: 50)])
        var policy = SlackSharesPolicy()
        let changes = policy.allocate(on: node, because: .interval)
        let weight = Dictionary(uniqueKeysWithValues: changes.map { ($0.containerID, $0.allocation.cpuWeight) })
        // gain 2: late 0.5 + 0.5 x 2^2 = 2.5, early 0.5 + 0.5 x 0.5^2 = 0.625.
        #expect(abs(weight["late"]! - 2.5) < 1e-12 && abs(weight["early"]! - 0.625) < 1e-12, "\(weight)")
        #expect(changes.allSatisfy { $0.allocation.cpuLimit == nil })
        #expect(policy.allocate(on: node, because: .arrival(containerID: "late")).isEmpty)
    }

    @Test("on the bundled example it runs to the end, deterministically, and keeps every model placed")
    func runsOnTheExample() throws {
        let scenario = try Scenario.load(
            cluster: "Traces/example/cluster.json", trace: "Traces/example/jobs.csv", models: "Traces/models")
        let first = try Simulation(scenario: scenario, policy: SlackSharesPolicy()).run(seed: 7)
        let again = try Simulation(scenario: scenario, policy: SlackSharesPolicy()).run(seed: 7)
        #expect(first.models.map(\.meanMs) == again.models.map(\.meanMs))
        #expect(first.total == 6 && first.neverPlaced == 0)
    }

    @Test("registered by name, it is swept from an experiment file beside fair-share")
    func sweepsByName() throws {
        try? PolicyRegistry.register("slack-shares", defaults: [("gain", "2.0")]) { parameters in
            var policy = SlackSharesPolicy()
            for (key, value) in parameters {
                guard key == "gain", let g = Double(value), g.isFinite, g >= 0 else {
                    throw PolicyParameterError("policy 'slack-shares': parameter '\(key)=\(value)' is not gain=<number >= 0>")
                }
                policy.gain = g
            }
            return policy
        }
        let folder = NSTemporaryDirectory() + "slack-shares-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            name: slack-shares-gain
            models: \(FileManager.default.currentDirectoryPath)/Traces/models
            scenario: {generator: heterogeneous-targets, cpus_per_node: 4, models: 4, duration_s: 60}
            policies: [fair-share, {name: slack-shares, label: gain-1, gain: 1}, {name: slack-shares, label: gain-3, gain: 3}]
            seeds: 2
            """.write(toFile: folder + "/sweep.yaml", atomically: true, encoding: .utf8)
        let sweep = try Sweep(spec: ExperimentSpec.load(folder + "/sweep.yaml"))
        try sweep.execute(into: folder + "/out", workers: 1)
        let summary = try SweepSummary(sweep: sweep, folders: [folder + "/out"])
        let rows = summary.csv.split(separator: "\n").dropFirst()
        #expect(rows.count == 3, "one summary row per policy variant: \(summary.csv)")
        #expect(rows.contains { $0.contains(",gain-3,gain=3,") }, "\(summary.csv)")
    }
}

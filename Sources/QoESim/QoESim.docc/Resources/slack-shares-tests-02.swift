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
}

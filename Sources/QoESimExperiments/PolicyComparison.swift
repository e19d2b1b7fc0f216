import Foundation
import QoESim

/// One scenario simulated under several policies with one seed, side by side: each
/// model's metric and whether it met its target, satisfied counts, CPU core-seconds and
/// settle time (what `qoesim compare` prints).
public struct PolicyComparison: Encodable {
    public struct Entry: Encodable {
        public let policy: String
        public let satisfied: Int
        public let total: Int
        public let cpuS: Double
        public let settleS: Double
        public let models: [ModelResult]
        enum CodingKeys: String, CodingKey { case policy, satisfied, total, models, cpuS = "cpu_s", settleS = "settle_s" }
    }
    public let seed: UInt64
    public let policies: [Entry]

    /// Simulates `scenario` under each policy (registry names, default parameters).
    public init(scenario: Scenario, policies names: [String], seed: UInt64, actuationDelay: Double = 0) throws {
        var entries: [Entry] = []
        for name in names {
            guard let policy = PolicyRegistry.make(name) else { throw PolicyParameterError("unknown policy '\(name)'") }
            let tracker = SettleClock()
            let sim = try Simulation(scenario: scenario, policy: policy, options: SimulationOptions(actuationDelay: actuationDelay))
            let r = try sim.run(seed: seed, recorder: tracker)
            entries.append(Entry(policy: name, satisfied: r.satisfied, total: r.total, cpuS: r.models.reduce(0) { $0 + $1.cpuSeconds },
                                 settleS: tracker.settle, models: r.models))
        }
        self.seed = seed
        self.policies = entries
    }

    /// One JSON object: the seed and each policy's entry.
    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The side-by-side table.
    public var table: String {
        let entries = policies
        var s = "seed \(seed); each cell: the model's metric in ms (* = target met)\n"
        let w = 16
        s += "job".padding(toLength: 16, withPad: " ", startingAt: 0) + "target".padding(toLength: 12, withPad: " ", startingAt: 0)
        s += entries.map { $0.policy.padding(toLength: w, withPad: " ", startingAt: 0) }.joined() + "\n"
        for (i, m) in entries[0].models.enumerated() {
            s += m.id.padding(toLength: 16, withPad: " ", startingAt: 0)
            s += "\(m.metric.rawValue) \(String(format: "%.0f", m.targetMs))".padding(toLength: 12, withPad: " ", startingAt: 0)
            for e in entries {
                let r = e.models[i]
                let cell = (r.measuredMs.map { String(format: "%.1f", $0) } ?? "-") + (r.satisfied ? " *" : "")
                s += cell.padding(toLength: w, withPad: " ", startingAt: 0)
            }
            s += "\n"
        }
        s += "satisfied".padding(toLength: 28, withPad: " ", startingAt: 0) + entries.map { "\($0.satisfied) of \($0.total)".padding(toLength: w, withPad: " ", startingAt: 0) }.joined() + "\n"
        s += "CPU core-seconds".padding(toLength: 28, withPad: " ", startingAt: 0) + entries.map { String(format: "%.0f", $0.cpuS).padding(toLength: w, withPad: " ", startingAt: 0) }.joined() + "\n"
        s += "settle time (s)".padding(toLength: 28, withPad: " ", startingAt: 0) + entries.map { String(format: "%.0f", $0.settleS).padding(toLength: w, withPad: " ", startingAt: 0) }.joined() + "\n"
        return s
    }
}

import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run several policies on the same trace and seed, side by side.",
        discussion: """
        Common random numbers: every policy sees the same arrivals and the same per-request
        service draws (streams are per job and purpose, independent of the policy), so
        differences come from the policies alone.

        Example:
          qoesim compare --cluster Traces/example/cluster.json --trace Traces/example/jobs.csv --policies fair-share,static,dqoes,predictive
        """)

    @Option(help: "Cluster file.") var cluster: String
    @Option(help: "Job trace CSV.") var trace: String
    @Option(help: "Request trace CSV for arrivals=trace jobs.") var requests: String?
    @Option(help: "Folder of model JSON files.") var models: String = "Traces/models"
    @Option(help: "Comma-separated policies.") var policies: String = PolicyRegistry.names.joined(separator: ",")
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Seconds between a policy decision and its effect.") var actuationDelay: Double = 0
    @Flag(help: "One JSON object instead of the table.") var json = false

    var policyList: [String] { policies.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        for p in policyList where PolicyRegistry.make(p) == nil {
            throw ValidationError("unknown policy '\(p)'; choose from \(PolicyRegistry.names.joined(separator: ", "))")
        }
        guard !policyList.isEmpty else { throw ValidationError("--policies is empty") }
        guard actuationDelay >= 0 && actuationDelay.isFinite else { throw ValidationError("--actuation-delay must be >= 0") }
    }

    struct Entry: Encodable {
        let policy: String
        let satisfied: Int
        let total: Int
        let cpuS: Double
        let settleS: Double
        let models: [ModelResult]
        enum CodingKeys: String, CodingKey { case policy, satisfied, total, models, cpuS = "cpu_s", settleS = "settle_s" }
    }

    func run() throws {
        let scenario = try Scenario.load(cluster: Bundled.path(cluster), trace: Bundled.path(trace), models: Bundled.path(models), requests: requests.map(Bundled.path))
        var entries: [Entry] = []
        for name in policyList {
            let tracker = SettleClock()
            let sim = try Simulation(scenario: scenario, policy: PolicyRegistry.make(name)!, options: SimulationOptions(actuationDelay: actuationDelay))
            let r = try sim.run(seed: seed, recorder: tracker)
            entries.append(Entry(policy: name, satisfied: r.satisfied, total: r.total, cpuS: r.models.reduce(0) { $0 + $1.cpuSeconds },
                                 settleS: tracker.settle, models: r.models))
        }
        if json {
            struct Doc: Encodable { let seed: UInt64; let policies: [Entry] }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(Doc(seed: seed, policies: entries)), as: UTF8.self))
            return
        }
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
        print(s, terminator: "")
    }
}

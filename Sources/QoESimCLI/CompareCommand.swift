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
        if let p = InputLimits.problem("actuation_delay_s", actuationDelay) { throw ValidationError("--actuation-delay: \(p)") }
    }

    func run() throws {
        let scenario = try Scenario.load(cluster: Bundled.path(cluster), trace: Bundled.path(trace), models: Bundled.path(models), requests: requests.map(Bundled.path))
        let comparison = try PolicyComparison(scenario: scenario, policies: policyList, seed: seed, actuationDelay: actuationDelay)
        print(json ? comparison.json : comparison.table, terminator: json ? "\n" : "")
    }
}

import Foundation
import QoESim
import QoESimExperiments

// Run from the repository root or from this folder: find the bundled example.
let root = FileManager.default.fileExists(atPath: "Traces/example/jobs.csv") ? "." : "../.."
let scenario = try Scenario.load(
    cluster: "\(root)/Traces/example/cluster.json", trace: "\(root)/Traces/example/jobs.csv", models: "\(root)/Traces/models")

let contenders: [any AllocationPolicy] = [FairSharePolicy(), StaticPolicy(), DQoESPolicy(), PredictivePolicy(), SlackSharesPolicy()]
print("policy          satisfied  CPU core-seconds")
for policy in contenders {
    let result = try Simulation(scenario: scenario, policy: policy).run(seed: 7)
    let cpu = result.models.reduce(0) { $0 + $1.cpuSeconds }
    print(policy.name.padding(toLength: 16, withPad: " ", startingAt: 0) + "\(result.satisfied) of \(result.total)".padding(toLength: 11, withPad: " ", startingAt: 0) + String(format: "%.0f", cpu))
}

// The catalog is open: registered, the policy is known by name to experiment files and
// sweeps, with its parameter `gain` swept like a built-in policy's.
try PolicyRegistry.register("slack-shares", defaults: [("gain", "2.0")]) { parameters in
    var policy = SlackSharesPolicy()
    for (key, value) in parameters {
        guard key == "gain", let g = Double(value), g.isFinite, g >= 0 else {
            throw PolicyParameterError("policy 'slack-shares': parameter '\(key)=\(value)' is not gain=<number >= 0>")
        }
        policy.gain = g
    }
    return policy
}
let folder = NSTemporaryDirectory() + "custom-policy-sweep-\(getpid())"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let specPath = folder + "/sweep.yaml"
try """
    name: slack-shares-gain
    models: \(FileManager.default.currentDirectoryPath)/\(root)/Traces/models
    scenario: {generator: heterogeneous-targets, cpus_per_node: 8, models: 8, duration_s: 120}
    policies: [fair-share, {name: slack-shares, label: gain-1, gain: 1}, {name: slack-shares, label: gain-3, gain: 3}]
    seeds: 3
    grid: {models: [8, 12]}
    headline: {models: 12}
    """.write(toFile: specPath, atomically: true, encoding: .utf8)
let sweep = try Sweep(spec: ExperimentSpec.load(specPath))
try sweep.execute(into: folder + "/out", workers: 2)
let summary = try SweepSummary(sweep: sweep, folders: [folder + "/out"])
print("\nsweep of slack-shares's gain (3 seeds; summary.csv):")
print(summary.csv, terminator: "")
try? FileManager.default.removeItem(atPath: folder)

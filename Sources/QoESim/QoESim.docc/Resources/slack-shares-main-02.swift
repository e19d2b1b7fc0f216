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

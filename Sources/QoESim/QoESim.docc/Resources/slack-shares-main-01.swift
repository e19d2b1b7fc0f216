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


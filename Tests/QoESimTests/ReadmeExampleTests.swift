import Foundation
import QoESim
import Testing

/// The library example in README.md, compiled and run here: the README's Swift block must
/// equal the text between the markers below (dedented), so the example cannot rot.
@Suite("README's library example")
struct ReadmeExampleTests {
    static func example() throws -> String {
        var out = ""
        func print(_ s: String) { out += s + "\n" }
        // README begin
        let scenario = try Scenario.load(cluster: "Traces/example/cluster.json",
                                          trace: "Traces/example/jobs.csv", models: "Traces/models")
        for policy in [FairSharePolicy(), DQoESPolicy()] as [any AllocationPolicy] {
            let result = try Simulation(scenario: scenario, policy: policy).run(seed: 7)
            print("\(policy.name): \(result.satisfied) of \(result.total) models met their targets")
            for model in result.models where !model.satisfied {
                print("  \(model.id): \(model.metric) \(model.measuredMs ?? .nan) ms > target \(model.targetMs) ms")
            }
        }
        // README end
        return out
    }

    @Test("the README's Swift block is this test's code, and it runs: two policies, a line each, misses named")
    func readmeExampleRuns() throws {
        let source = try String(contentsOfFile: Fixture.packageRoot + "/Tests/QoESimTests/ReadmeExampleTests.swift", encoding: .utf8)
        let body = source.components(separatedBy: "// README begin\n")[1].components(separatedBy: "        // README end")[0]
        let dedented = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        let readme = try String(contentsOfFile: Fixture.packageRoot + "/README.md", encoding: .utf8)
        #expect(readme.contains("```swift\nimport QoESim\n\n" + dedented + "```\n"), "README.md's library example differs from ReadmeExampleTests.example()")
        // The example names its files relative to the checkout, as a reader runs it there
        // (`swift test` runs in the package root; the folder is not changed here, since
        // other tests run in parallel).
        try #require(FileManager.default.fileExists(atPath: "Traces/example/jobs.csv"), "run the tests from the package root")
        let printed = try Self.example()
        let lines = printed.split(separator: "\n")
        #expect(lines.first?.hasPrefix("fair-share: ") == true && lines.contains { $0.hasPrefix("dqoes: ") }, "\(printed)")
        #expect(lines.filter { $0.hasPrefix("  ") }.allSatisfy { $0.contains("> target") }, "\(printed)")
    }
}

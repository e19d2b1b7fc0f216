import Foundation
import Testing

/// The DocC tutorial's code listings come from code that is compiled and run: this
/// folder's policy and tests, and the example package that CI runs.
@Suite("DocC tutorial sources")
struct TutorialSourcesTests {
    static let resources = Fixture.packageRoot + "/Sources/QoESim/QoESim.docc/Resources"
    static let compiled = [
        "/Tests/QoESimTests/Tutorial/SlackSharesPolicy.swift",
        "/Tests/QoESimTests/Tutorial/SlackSharesPolicyTests.swift",
        "/Examples/CustomPolicy/Sources/CustomPolicyExample/main.swift",
    ]

    @Test("every line of every tutorial listing is a line of compiled code; the final policy listing is the compiled file")
    func listingsAreCompiledCode() throws {
        var known = Set<String>()
        for path in Self.compiled {
            for line in try String(contentsOfFile: Fixture.packageRoot + path, encoding: .utf8).split(separator: "\n") {
                known.insert(line.trimmingCharacters(in: .whitespaces))
            }
        }
        let listings = try FileManager.default.contentsOfDirectory(atPath: Self.resources).filter { $0.hasSuffix(".swift") }.sorted()
        #expect(listings.count >= 7, "\(listings)")
        for name in listings {
            let text = try String(contentsOfFile: Self.resources + "/" + name, encoding: .utf8)
            for (k, line) in text.split(separator: "\n").enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                #expect(known.contains(trimmed), "\(name):\(k + 1): '\(trimmed)' is in no compiled file")
            }
        }
        let final = try String(contentsOfFile: Self.resources + "/slack-shares-02.swift", encoding: .utf8)
        #expect(final == (try String(contentsOfFile: Fixture.packageRoot + Self.compiled[0], encoding: .utf8)))
    }
}

import Foundation
import Testing

/// Invariant C0 (Docs/INVARIANTS.md): one controller. The control loop is written once,
/// in Sources/QoESimControl, and arrival times are drawn once, by `ArrivalSchedule`
/// (Sources/QoESimWorkload). No file of the simulator (Sources/QoESim) or of the live
/// adapter (Sources/QoESimLive) may build what a policy sees or a run's result, call
/// the policy, turn a trigger into a decision's reason, or draw arrival times: a second
/// copy of any of these is how the two loops came to mean different things.
@Suite("One controller: the source holds one control loop")
struct ControlSourceScanTests {
    /// The repository's root, from this file's path (Tests/QoESimTests/...).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What no file outside the controller may contain, with why.
    static let forbidden: [(pattern: String, what: String)] = [
        ("ContainerObservation(", "builds a ContainerObservation"),
        ("NodeObservation(", "builds a NodeObservation"),
        ("SimulationResult(", "builds a run result"),
        ("ContainerMonitor.result(", "builds a run result"),
        (".decide(on:", "calls the policy"),
        (".allocate(on:", "calls the policy"),
        ("case .interval", "holds a trigger-to-reason switch"),
        ("case .departure", "holds a trigger-to-reason switch"),
        ("nextExponential(", "draws arrival times"),
        ("purpose: .arrivals", "draws arrival times"),
        ("arrivalOffsets", "draws arrival times"),
    ]

    static func swiftFiles(under folder: String) -> [URL] {
        let base = root.appendingPathComponent(folder)
        guard let e = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        // A DocC catalogue's listings are documentation (the tutorial's code), not the module's sources.
        return e.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && !$0.path.contains(".docc/") }.sorted { $0.path < $1.path }
    }

    /// Every forbidden pattern in a file, as "path:line: what", ignoring comment lines.
    static func violations(in files: [URL]) throws -> [String] {
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for f in forbidden where code.contains(f.pattern) {
                    found.append("\(file.path.replacingOccurrences(of: root.path + "/", with: "")):\(k + 1): \(f.what) (\(f.pattern))")
                }
            }
        }
        return found
    }

    @Test("No file of the simulator or the live adapter holds a piece of the control loop or draws arrivals")
    func oneControlLoop() throws {
        let files = Self.swiftFiles(under: "Sources/QoESim") + Self.swiftFiles(under: "Sources/QoESimLive")
        #expect(files.count > 15, "the scan found only \(files.count) files: is the root \(Self.root.path) right?")
        let found = try Self.violations(in: files)
        #expect(found.isEmpty, "outside the controller:\n\(found.joined(separator: "\n"))")
    }

    /// The scan has teeth: the controller's own files hold every pattern it looks for
    /// but the arrival ones, and the arrival schedule holds those.
    @Test("The scan finds the control loop where it is: in the controller and the arrival schedule")
    func scanFindsTheController() throws {
        let control = try Self.violations(in: Self.swiftFiles(under: "Sources/QoESimControl")).joined(separator: "\n")
        for what in ["builds a ContainerObservation", "builds a run result", "calls the policy", "trigger-to-reason"] {
            #expect(control.contains(what), "the scan does not see '\(what)' in Sources/QoESimControl")
        }
        let schedule = try Self.violations(in: [Self.root.appendingPathComponent("Sources/QoESimWorkload/ArrivalSchedule.swift")])
        #expect(schedule.contains { $0.contains("draws arrival times") })
    }
}

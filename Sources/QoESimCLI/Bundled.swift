import Foundation
import QoESimExperiments

/// Bundled models, traces and experiments, found from any working folder.
enum Bundled {
    /// `path` itself when it exists or is absolute; else, when this qoesim runs from a
    /// checkout's build folder and the checkout holds `path`, that file (a note says so).
    static func path(_ path: String) -> String {
        guard !path.hasPrefix("/"), !FileManager.default.fileExists(atPath: path), let root = BuildProbe.packageRoot else { return path }
        let bundled = (root as NSString).appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: bundled) else { return path }
        Diagnostics.note("using \(bundled) (bundled with this qoesim; not found under the current folder)")
        return bundled
    }
}

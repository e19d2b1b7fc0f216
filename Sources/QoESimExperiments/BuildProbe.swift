import Foundation

/// Runs a command (no shell) and returns its exit status, standard output and standard error.
private func shell(_ path: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Finds out what is certain about the running build, for manifests (the executable that
/// links this library: `qoesim`, or a library user's own).
public enum BuildProbe {
    /// The package checkout this binary was built in (the folder above its `.build*`),
    /// or nil when it runs from elsewhere (installed, copied).
    public static var packageRoot: String? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let parts = exe.split(separator: "/", omittingEmptySubsequences: false)
        guard let i = parts.firstIndex(where: { $0.hasPrefix(".build") }), i > 0 else { return nil }
        return parts[..<i].joined(separator: "/")
    }

    /// The git commit, only when certain: the binary lies in the checkout's build folder,
    /// the checkout has no changes to tracked files, and the binary is newer than every
    /// tracked source file (so it was built from these sources, which are that commit's).
    public static func gitCommit(root: String) -> String? {
        func git(_ args: [String]) -> String? {
            guard let r = try? shell("/usr/bin/env", ["git", "-C", root] + args), r.status == 0 else { return nil }
            return r.out
        }
        guard let head = git(["rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines), head.count == 40,
              let status = git(["status", "--porcelain", "--untracked-files=no"]), status.isEmpty,
              let files = git(["ls-files", "Package.swift", "Sources"]) else { return nil }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        guard let built = (try? FileManager.default.attributesOfItem(atPath: exe))?[.modificationDate] as? Date else { return nil }
        for file in files.split(separator: "\n") {
            let path = (root as NSString).appendingPathComponent(String(file))
            guard let m = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, m <= built else { return nil }
        }
        return head
    }

    /// What is known about this build.
    public static var current: BuildInfo {
        guard let root = packageRoot else { return BuildInfo(gitCommit: nil, dependencies: [:]) }
        return BuildInfo(
            gitCommit: gitCommit(root: root),
            dependencies: BuildInfo.dependencies(packageResolved: (root as NSString).appendingPathComponent("Package.resolved")))
    }
}

extension Manifest {
    /// The manifest of a single run (`run --out`, `live --out`, `validate`).
    public static func singleRun(
        command: String, files: [String], policy: String, parameters: [String: String], seed: UInt64, options: [String: String]
    ) throws -> Manifest {
        var m = Manifest(command: command, build: BuildProbe.current)
        try m.addInputs(files)
        m.policies = [Policy(label: policy, name: policy, parameters: parameters)]
        m.seeds = [seed]
        m.options = options
        return m
    }
}


/// The code that runs: the SHA-256 of this process's executable (`/proc/self/exe`), so
/// that results know the build that made them. A build from a tree with uncommitted
/// changes is other code, and so is a library user's executable with its own policy.
public enum CodeIdentity {
    /// Lower-case hex; "unknown" where the executable cannot be read.
    public static let executableSHA256: String = {
        #if os(Linux)
        let path = "/proc/self/exe"
        #else
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        #endif
        guard let data = FileManager.default.contents(atPath: path) else { return "unknown" }
        return FileDigests.sha256(data)
    }()
}

import Foundation
import QoESim

/// `manifest.json` of an output folder: what made it. The qoesim version, the git commit
/// of the checkout the binary was built from where that is known for certain (else
/// null), the SHA-256 of every input file, the resolved options and policies, the seeds,
/// and the resolved versions of the Swift packages it was built with. It holds no
/// wall-clock time, so outputs stay byte-identical for the same inputs and seed (S2).
public struct Manifest: Encodable, Sendable {
    public struct Policy: Encodable, Sendable {
        public var label: String
        public var name: String
        public var parameters: [String: String]
        public init(label: String, name: String, parameters: [String: String]) {
            self.label = label
            self.name = name
            self.parameters = parameters
        }
    }

    public var qoesimVersion = QoESimVersion.current
    /// The SHA-256 of the executable that wrote the folder (``CodeIdentity``).
    public var executableSHA256 = CodeIdentity.executableSHA256
    public var gitCommit: String?
    /// The command that wrote the folder, e.g. "sweep" or "run".
    public var command: String
    /// Input files (as given) and their SHA-256.
    public var inputs: [String: String] = [:]
    /// Resolved options, as text.
    public var options: [String: String] = [:]
    public var policies: [Policy] = []
    public var seeds: [UInt64] = []
    /// Swift package identities and their resolved versions (or revisions).
    public var dependencies: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case command, inputs, options, policies, seeds, dependencies
        case qoesimVersion = "qoesim_version", gitCommit = "git_commit", executableSHA256 = "executable_sha256"
    }

    public init(command: String, build: BuildInfo) {
        self.command = command
        gitCommit = build.gitCommit
        dependencies = build.dependencies
    }

    /// Adds files with their SHA-256 (a folder: each of its `*.json` files).
    public mutating func addInputs(_ paths: [String], digests: FileDigests = FileDigests()) throws {
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                for (file, digest) in try digests.modelFolder(path) { inputs[file] = digest }
            } else {
                inputs[path] = try digests.sha256(file: path)
            }
        }
    }

    /// The manifest of a sweep or study of `spec`.
    public static func experiment(_ spec: ExperimentSpec, command: String, build: BuildInfo) throws -> Manifest {
        var m = Manifest(command: command, build: build)
        var files = [spec.path, spec.modelsFolder] + spec.blocks.compactMap(\.modelsFolder)
        if case .files(let c, let t, let r) = spec.scenario { files += [c, t] + (r.map { [$0] } ?? []) }
        try m.addInputs(files)
        m.policies = spec.policies.map { Policy(label: $0.label, name: $0.name, parameters: $0.parameters) }
        m.seeds = spec.seeds
        m.options = [
            "placement": "\(spec.options.placement)", "actuation_delay_s": "\(spec.options.actuationDelay)",
            "horizon_s": "\(spec.options.horizon)", "histogram_digits": "\(spec.options.histogramDigits)", "alpha": "\(spec.alpha)",
        ]
        return m
    }

    /// 12 hex digits of the SHA-256 of the manifest: the id of a single run in its CSV rows.
    public var runID: String { String(FileDigests.sha256(Data(json.utf8)).prefix(12)) }

    /// Pretty, key-sorted JSON.
    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? enc.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    /// Writes `folder/manifest.json` (through a temporary file and a rename).
    public func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("manifest.json")
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(json.utf8)), rename(tmp, path) == 0 else {
            throw RunOutputError.cannotWrite(path)
        }
    }
}

/// What is known about the build that is running: the git commit (only when certain)
/// and the resolved package versions.
public struct BuildInfo: Sendable {
    public var gitCommit: String?
    public var dependencies: [String: String]

    public init(gitCommit: String?, dependencies: [String: String]) {
        self.gitCommit = gitCommit
        self.dependencies = dependencies
    }

    /// Resolved versions from a Package.resolved file (identity -> version, else revision).
    public static func dependencies(packageResolved path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pins = root["pins"] as? [[String: Any]] else { return [:] }
        var out: [String: String] = [:]
        for pin in pins {
            guard let id = pin["identity"] as? String, let state = pin["state"] as? [String: Any] else { continue }
            out[id] = (state["version"] as? String) ?? (state["revision"] as? String).map { "revision " + $0 } ?? "unknown"
        }
        return out
    }
}

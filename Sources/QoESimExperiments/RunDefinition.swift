import Crypto
import Foundation
import QoESim

/// SHA-256 digests of input files, each file read once per process.
public final class FileDigests: @unchecked Sendable {
    private var cache: [String: String] = [:]
    private let lock = NSLock()

    public init() {}

    /// The shared cache of a process.
    public static let shared = FileDigests()

    /// Hex SHA-256 of `data`.
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Hex SHA-256 of the file at `path` (its bytes now; cached by its standardized path).
    public func sha256(file path: String) throws -> String {
        let key = (path as NSString).standardizingPath
        lock.lock()
        if let d = cache[key] {
            lock.unlock()
            return d
        }
        lock.unlock()
        // Read in 1 MiB pieces: request traces may be larger than memory (streamed).
        guard let handle = FileHandle(forReadingAtPath: key) else {
            throw InputError(file: path, line: 0, "cannot read the file to record its SHA-256")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { hasher.update(data: piece) }
        } catch {
            throw InputError(file: path, line: 0, "cannot read the file to record its SHA-256: \(error)")
        }
        let d = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        lock.lock()
        cache[key] = d
        lock.unlock()
        return d
    }

    /// Every `*.json` file of a model folder with its SHA-256, sorted by name.
    public func modelFolder(_ folder: String) throws -> [(path: String, sha256: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let path = (folder as NSString).appendingPathComponent(name)
            return (path, try sha256(file: path))
        }
    }
}

extension Sweep {
    /// The whole resolved definition of a run, as text: the qoesim version, the SHA-256 of
    /// the running executable (`code`: other code never reuses a run), the scenario
    /// after the grid point is applied (the generator's every field, its arrival process's
    /// parameters among them, or the SHA-256 of each scenario file and of the content of
    /// every arrival parameters file its jobs name), the SHA-256 of every model file it may use, the simulation
    /// options, the policy's name and every parameter, the seed, and the band `alpha`
    /// its rows are reported with. Two runs with the same text produce the same rows; a
    /// change to any part gives another text, hence another run id.
    public func definition(of run: SweepRun, version: String = QoESimVersion.current, code: String = CodeIdentity.executableSHA256) throws -> String {
        var lines = ["qoesim \(version)", "code \(code)", "kind \(run.kind)"]
        let block = run.kind == "sensitivity" ? spec.headlineSpec.block : run.kind
        let resolved = try resolve(run.scenario, block: block, policy: run.policy)
        if let g = resolved.generator {
            lines.append("generator \(String(reflecting: g))")
        } else if case .files(let cluster, let trace, let requests) = spec.scenario {
            // By role and content, not by path: a moved checkout reuses its runs.
            for (role, path) in [("cluster", cluster), ("trace", trace)] + (requests.map { [("requests", $0)] } ?? []) {
                lines.append("\(role) \(try digests.sha256(file: path))")
            }
            // The parameter files a job trace's arrivals name (an MMPP, a rate profile), by content.
            var named = Set<String>()
            for job in fileScenario?.jobs ?? [] {
                guard let (file, text) = job.arrivals.parameterFile, named.insert(file).inserted else { continue }
                lines.append("arrivals \(file) \(FileDigests.sha256(Data(text.utf8)))")
            }
            lines.append("load \(resolved.load) time_scale \(resolved.timeScale)")
        }
        for (path, digest) in try digests.modelFolder(resolved.modelsFolder) {
            lines.append("model \(PathText.lastComponent(path)) \(digest)")
        }
        lines.append("options \(String(reflecting: resolved.options))")
        lines.append("alpha \(spec.alpha)")
        lines.append("policy \(resolved.policy.label) \(resolved.policy.name)")
        for (k, v) in resolved.policy.parameters.sorted(by: { $0.key < $1.key }) { lines.append("param \(k)=\(v)") }
        lines.append("seed \(run.seed)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first 12 hex digits of the SHA-256 of ``definition(of:version:code:)``.
    public func digest(of run: SweepRun, version: String = QoESimVersion.current, code: String = CodeIdentity.executableSHA256) throws -> String {
        String(FileDigests.sha256(Data(try definition(of: run, version: version, code: code).utf8)).prefix(12))
    }
}

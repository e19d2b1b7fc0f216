import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments
import QoESimFit

/// Latency models measured and fitted on this machine, for validation: fits belong to the
/// machine they were measured on (an AMD and an Intel machine of the same kind ran the
/// same workload 1.4-3.4x apart). They are cached under a key of everything that
/// decides them: the CPU model, the core count, OpenBLAS's settings and the SHA-256 of
/// the qoesim-infer binary inside the image (an imported image gets a new id each time,
/// its binary does not).
enum LocalFits {
    /// The cache key and the text it was made from.
    static func key(image: String) throws -> (key: String, text: String) {
        let binaryHash = try imageBinarySHA256(image)
        let env = ProcessInfo.processInfo.environment
        let blas = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"].map { "\($0)=\(env[$0] ?? "")" }.joined(separator: " ")
        let text = "cpu: \(ProfileCommand.cpuModel)\ncores: \(ProcessInfo.processInfo.activeProcessorCount)\nopenblas: \(blas)\nqoesim-infer sha256: \(binaryHash)\n"
        return (String(try sha256(Data(text.utf8)).prefix(16)), text)
    }

    /// SHA-256 (hex) of `data`, with coreutils' sha256sum.
    static func sha256(_ data: Data) throws -> String {
        let file = NSTemporaryDirectory() + "qoesim-hash-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard FileManager.default.createFile(atPath: file, contents: data) else { throw RunOutputError.cannotWrite(file) }
        return try sha256(file: file)
    }

    static func sha256(file: String) throws -> String {
        let r = try shell("/usr/bin/env", ["sha256sum", file])
        guard r.status == 0, let hex = r.out.split(separator: " ").first else { throw ValidationError("sha256sum \(file) failed: \(r.err)") }
        return String(hex)
    }

    /// SHA-256 of /qoesim-infer inside `image` (copied out of a created, never started,
    /// container).
    static func imageBinarySHA256(_ image: String) throws -> String {
        let created = try shell("/usr/bin/env", ["docker", "create", image, "/qoesim-infer"])
        guard created.status == 0 else {
            throw ValidationError("image \(image) is not usable (`qoesim profile` builds it): \(created.err.prefix(300))")
        }
        let id = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? shell("/usr/bin/env", ["docker", "rm", "-f", id]) }
        let file = NSTemporaryDirectory() + "qoesim-infer-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let copied = try shell("/usr/bin/env", ["docker", "cp", "\(id):/qoesim-infer", file])
        guard copied.status == 0 else { throw ValidationError("docker cp from \(image) failed: \(copied.err.prefix(300))") }
        return try sha256(file: file)
    }

    /// A folder of models for `networks` fitted on this machine: profiled through Docker
    /// (`docker run --cpus`) at `limits` and fitted (power family) unless the cache holds
    /// them for this key already. Returns the folder.
    static func folder(
        networks: [String], cache: String, image: String, limits: [Double], requests: Int, log: (String) -> Void
    ) throws -> String {
        let (key, text) = try key(image: image)
        let dir = (cache as NSString).appendingPathComponent(key)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try atomicWrite(text, to: (dir as NSString).appendingPathComponent("KEY.txt"))
        for net in Set(networks).sorted() {
            let model = (dir as NSString).appendingPathComponent("\(net).json")
            if FileManager.default.fileExists(atPath: model) {
                log("using the cached fit of \(net) for this machine (\(model))")
                continue
            }
            let profile = (dir as NSString).appendingPathComponent("\(net).csv")
            if !FileManager.default.fileExists(atPath: profile) {
                let rows = try ProfileCommand.measure(
                    workload: net, limits: limits, requests: requests, warmup: 1, mechanisms: ["docker"], binary: "", image: image)
                try ProfileCommand.write(rows: rows, workload: net, requests: requests, warmup: 1, to: profile)
            }
            let rows = try Profile.load(profile)
            let fit = try LatencyFitter.fit(rows, family: .power)
            let json = LatencyFitter.modelJSON(
                fit, name: net, source: "fitted on this machine (\(ProfileCommand.cpuModel)) by qoesim validate from \(profile)")
            try atomicWrite(json, to: model)
            log(String(format: "fitted %@ on this machine: R^2 %.3f, MAPE %.1f%% (%@)", net, fit.r2, fit.mapePct, model))
        }
        return dir
    }
}

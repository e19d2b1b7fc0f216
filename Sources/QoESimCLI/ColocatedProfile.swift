import ArgumentParser
import Foundation
import QoESim
import QoESimLive

/// Profiles of several containers at once: what co-location does that a profile of one
/// container at a time cannot show (threads of several containers competing for the
/// cores, CFS bandwidth throttling of multi-threaded inference, shared caches).
///
/// For each limit, `k` containers of the same network run `qoesim-infer bench` at once
/// (each `docker run --cpus LIMIT`, or with no limit: Docker's default sharing). Only
/// requests that ran while all `k` containers were measuring are kept: each bench line
/// carries its start on CLOCK_MONOTONIC, which all containers of a machine share.
/// Each kept request becomes a profile row whose `cpus` is what the simulator gives each
/// of `k` busy containers with that limit on this machine (min(limit, cores / k)), with
/// `colocated` = k and `limit` = the Docker limit (empty: none).
enum ColocatedProfile {
    struct Sample {
        var ms: Double
        var start: Double
        var end: Double { start + ms / 1000 }
    }

    /// Rows of the profile CSV (without header) for `workload` at each limit (nil: no limit).
    static func measure(
        workload: String, limits: [Double?], containers k: Int, requests: Int, warmup: Int, image: String, cores: Double
    ) throws -> [String] {
        var rows: [String] = []
        for limit in limits {
            let label = limit.map { "--cpus \($0)" } ?? "no limit"
            Diagnostics.note("profiling \(k) x \(workload) at once, \(label) (\(requests) requests each)")
            let samples = try runTogether(workload: workload, limit: limit, k: k, requests: requests, warmup: warmup, image: image)
            // The window in which every container was measuring.
            let from = samples.map { $0.first!.start }.max()!, to = samples.map { $0.last!.end }.min()!
            let share = min(limit ?? cores, cores / Double(k))
            var kept = 0
            for (c, list) in samples.enumerated() {
                for (i, s) in list.enumerated() where s.start >= from && s.end <= to {
                    rows.append("\(workload),cpu,\(share),1,1,\(s.ms),docker,\(c * requests + i),\(k),\(limit.map { "\($0)" } ?? "")")
                    kept += 1
                }
            }
            guard kept >= 2 else {
                throw ValidationError(
                    "\(k) containers of \(workload) (\(label)) overlapped for only \(kept) requests; raise --requests")
            }
            Diagnostics.note("  kept \(kept) of \(k * requests) requests (those run while all \(k) were measuring)")
        }
        return rows
    }

    /// Starts `k` containers at once and returns each one's timed requests.
    static func runTogether(workload: String, limit: Double?, k: Int, requests: Int, warmup: Int, image: String) throws -> [[Sample]] {
        var args = ["docker", "run", "--rm", "--network", "none"]
        if let limit { args += ["--cpus", "\(limit)"] }
        args += WorkloadEnvironment.dockerRunArguments(from: ProcessInfo.processInfo.environment)
        args += [image, "/qoesim-infer", "bench", "--model", workload, "--requests", "\(requests)", "--warmup", "\(warmup)"]
        // Outputs go to files, not pipes: no container can block on a full pipe.
        let dir = NSTemporaryDirectory() + "qoesim-colocated-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var processes: [Process] = []
        for i in 0..<k {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            for name in ["out", "err"] {
                let path = "\(dir)/\(i).\(name)"
                guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                    throw RunOutputError.cannotWrite(path)
                }
                if name == "out" { p.standardOutput = h } else { p.standardError = h }
            }
            try p.run()
            processes.append(p)
        }
        for p in processes { p.waitUntilExit() }
        let outputs = (0..<k).map { i in
            ((try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(i).out"))) ?? Data(),
             (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(i).err"))) ?? Data())
        }
        var result: [[Sample]] = []
        for (i, p) in processes.enumerated() {
            guard p.terminationStatus == 0 else {
                throw ValidationError("container \(i + 1) of \(k) failed (status \(p.terminationStatus)): \(String(decoding: outputs[i].1, as: UTF8.self).suffix(400))")
            }
            let samples = String(decoding: outputs[i].0, as: UTF8.self).split(separator: "\n").dropFirst().compactMap { line -> Sample? in
                let parts = line.split(separator: ",")
                guard parts.count == 3, let ms = Double(parts[1]), let start = Double(parts[2]) else { return nil }
                return Sample(ms: ms, start: start)
            }
            guard !samples.isEmpty else {
                throw ValidationError("container \(i + 1) of \(k) printed no timed requests with start times (an image from before they were added? rebuild it)")
            }
            result.append(samples)
        }
        return result
    }
}

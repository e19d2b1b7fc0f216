import ArgumentParser
import Foundation
import QoESim
import QoESimLive
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
        let blas = WorkloadEnvironment.keyText(from: env)
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

    /// Containers run at once, without limits, for the shared-cores latency: shares of
    /// cores / 2, / 3 and / 6.
    static let colocations = [2, 3, 6]
    /// Idle time before each request of the cold-start profile, ms.
    static let coldGapMs = 200
    /// The idle-spin profile: pairs of runs alone without a limit, back to back and with
    /// this idle gap before each request (longer than OpenBLAS's default polling, about
    /// 0.1 s), of this many requests each.
    static let spinGapMs = 300, spinRequests = 10, spinPairs = 3

    /// Cores OpenBLAS's worker threads poll on: its threads (OPENBLAS_NUM_THREADS, else
    /// one per core: a container without a cpuset sees every core) less the calling one.
    static var spinCores: Double {
        let env = ProcessInfo.processInfo.environment
        let threads = env["OPENBLAS_NUM_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        return Double(max(threads - 1, 0))
    }

    /// CPU seconds `qoesim-infer bench` reports for its timed requests (and their gaps),
    /// run in a container without a limit (`environment` overrides qoesim's own).
    static func benchCPUSeconds(workload: String, requests: Int, gapMs: Int, image: String, environment: [String: String] = [:]) throws -> Double {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let args = ["docker", "run", "--rm", "--network", "none"] + WorkloadEnvironment.dockerRunArguments(from: env)
            + [image, "/qoesim-infer", "bench", "--model", workload, "--requests", "\(requests)", "--warmup", "1", "--gap-ms", "\(gapMs)"]
        let r = try shell("/usr/bin/env", args)
        guard r.status == 0 else { throw ValidationError("\(args.joined(separator: " ")) failed (status \(r.status)): \(r.err.suffix(300))") }
        guard let line = r.err.split(separator: "\n").last(where: { $0.hasPrefix("cpu_seconds ") }),
              let cpu = Double(line.split(separator: " ")[1]) else {
            throw ValidationError("the qoesim-infer of image \(image) reports no cpu_seconds (an older build): remove the image (docker rmi \(image)) and run again")
        }
        return cpu
    }

    /// Measures the idle spin of `workload` (``spinPairs`` pairs of runs) into `file`.
    static func measureIdleSpin(workload: String, image: String, to file: String) throws {
        var text = "# qoesim idle-spin profile of \(workload): CPU seconds of \(spinRequests) requests alone without a limit, back to back and after \(spinGapMs) ms idle each\n"
        text += "network,pair,gap_ms,requests,cpu_seconds\n"
        for pair in 1...spinPairs {
            for gap in [0, spinGapMs] {
                Diagnostics.note("idle spin of \(workload): pair \(pair) of \(spinPairs), gap \(gap) ms")
                let cpu = try benchCPUSeconds(workload: workload, requests: spinRequests, gapMs: gap, image: image)
                text += "\(workload),\(pair),\(gap),\(spinRequests),\(cpu)\n"
            }
        }
        try atomicWrite(text, to: file)
    }

    /// The busy neighbour of the spin-share profile: a container serving back to back.
    static let spinNeighbour = "mobilenetv2"

    /// Measures how much CPU the polling of `workload` gets beside one busy container
    /// (``spinNeighbour``, back to back, no limit) against alone, into `file`:
    /// ``spinPairs`` repeats of ``spinRequests`` requests after ``spinGapMs`` ms idle
    /// each, with qoesim's OpenBLAS settings and with OPENBLAS_THREAD_TIMEOUT=4 (the
    /// shortest polling: the same work without most of it), alone and beside it.
    static func measureSpinShare(workload: String, image: String, to file: String) throws {
        var text = "# qoesim spin-share profile of \(workload): CPU seconds of \(spinRequests) requests after \(spinGapMs) ms idle each, "
        text += "alone and beside a busy \(spinNeighbour) container, with OpenBLAS's polling as set and at OPENBLAS_THREAD_TIMEOUT=4\n"
        text += "network,repeat,neighbours,thread_timeout,requests,cpu_seconds\n"
        for repeat_ in 1...spinPairs {
            for neighbours in [0, 1] {
                var busy: String? = nil
                if neighbours == 1 {
                    let args = ["docker", "run", "-d", "--rm", "--network", "none"] + WorkloadEnvironment.dockerRunArguments(from: ProcessInfo.processInfo.environment)
                        + [image, "/qoesim-infer", "bench", "--model", spinNeighbour, "--requests", "1000000", "--warmup", "0", "--gap-ms", "0"]
                    let r = try shell("/usr/bin/env", args)
                    guard r.status == 0 else { throw ValidationError("\(args.joined(separator: " ")) failed (status \(r.status)): \(r.err.suffix(300))") }
                    busy = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
                    usleep(2_000_000)  // its network built and serving
                }
                defer { if let busy { _ = try? shell("/usr/bin/env", ["docker", "rm", "-f", busy]) } }
                for timeout in ["set", "4"] {
                    Diagnostics.note("spin share of \(workload): repeat \(repeat_) of \(spinPairs), \(neighbours) busy neighbour(s), thread timeout \(timeout)")
                    let cpu = try benchCPUSeconds(
                        workload: workload, requests: spinRequests, gapMs: spinGapMs, image: image,
                        environment: timeout == "set" ? [:] : ["OPENBLAS_THREAD_TIMEOUT": timeout])
                    text += "\(workload),\(repeat_),\(neighbours),\(timeout),\(spinRequests),\(cpu)\n"
                }
            }
        }
        try atomicWrite(text, to: file)
    }

    /// Fits the spin weight from a file of ``measureSpinShare(workload:image:to:)``.
    static func fitSpinWeight(_ file: String, cores: Double) throws -> LatencyFitter.SpinWeightFit? {
        guard cores > 0 else { return nil }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var cpu: [String: Double] = [:], repeats = Set<Int>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("network,") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 6, let r = Int(f[1]), let k = Int(f[2]), let n = Double(f[4]), n > 0, let c = Double(f[5]) else {
                throw ValidationError("\(file): malformed line '\(line)'")
            }
            cpu["\(r),\(k),\(f[3])"] = c / n
            repeats.insert(r)
        }
        func polling(_ r: Int, _ k: Int) -> Double? {
            guard let set = cpu["\(r),\(k),set"], let short = cpu["\(r),\(k),4"] else { return nil }
            return set - short
        }
        let complete = repeats.sorted().filter { polling($0, 0) != nil && polling($0, 1) != nil }
        return try LatencyFitter.fitSpinWeight(
            alone: complete.map { polling($0, 0)! }, besideBusy: complete.map { polling($0, 1)! }, cores: cores,
            nodeCores: Double(ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Fits the idle spin from a file of ``measureIdleSpin(workload:image:to:)``.
    static func fitIdleSpin(_ file: String, cores: Double) throws -> LatencyFitter.IdleSpinFit? {
        guard cores > 0 else { return nil }  // one OpenBLAS thread: nothing polls
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var busy: [Int: Double] = [:], idle: [Int: Double] = [:], gapMs = 0.0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("network,") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 5, let pair = Int(f[1]), let gap = Double(f[2]), let n = Double(f[3]), n > 0, let cpu = Double(f[4]) else {
                throw ValidationError("\(file): malformed line '\(line)'")
            }
            if gap == 0 { busy[pair] = cpu / n } else { idle[pair] = cpu / n; gapMs = gap }
        }
        let pairs = busy.keys.filter { idle[$0] != nil }.sorted()
        return try LatencyFitter.fitIdleSpin(backToBack: pairs.map { busy[$0]! }, afterGap: pairs.map { idle[$0]! }, cores: cores, gapMs: gapMs)
    }

    /// A folder of models for `networks` fitted on this machine: profiled through Docker
    /// alone (`docker run --cpus`) at `limits`, and `colocations` containers at once
    /// without limits, and alone after `coldGapMs` of idle at the two largest limits, then
    /// fitted (power family; `latency` on the first, `latency_shared` on the second, the
    /// cold-start factor on the third) unless the cache holds them for this key already.
    /// Returns the folder.
    static func folder(
        networks: [String], cache: String, image: String, limits: [Double], requests: Int, log: (String) -> Void
    ) throws -> String {
        let (key, text) = try key(image: image)
        let dir = (cache as NSString).appendingPathComponent(key)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try atomicWrite(text, to: (dir as NSString).appendingPathComponent("KEY.txt"))
        for net in Set(networks).sorted() {
            let model = (dir as NSString).appendingPathComponent("\(net).json")
            let spinShareFile = (dir as NSString).appendingPathComponent("\(net)-spin-share.csv")
            // (A fit made before the spin-share profile existed is made again.)
            if FileManager.default.fileExists(atPath: model) && FileManager.default.fileExists(atPath: spinShareFile) {
                log("using the cached fit of \(net) for this machine (\(model))")
                continue
            }
            let profile = (dir as NSString).appendingPathComponent("\(net).csv")
            if !FileManager.default.fileExists(atPath: profile) {
                let rows = try ProfileCommand.measure(
                    workload: net, limits: limits, requests: requests, warmup: 1, mechanisms: ["docker"], binary: "", image: image)
                try ProfileCommand.write(rows: rows, workload: net, requests: requests, warmup: 1, to: profile)
            }
            var colocated: [ProfileRow] = []
            for k in colocations {
                let file = (dir as NSString).appendingPathComponent("\(net)-colocated-\(k).csv")
                if !FileManager.default.fileExists(atPath: file) {
                    let rows = try ColocatedProfile.measure(
                        workload: net, limits: [nil], containers: k, requests: max(requests, 2 * k), warmup: 1, image: image,
                        cores: Double(ProcessInfo.processInfo.activeProcessorCount))
                    try ProfileCommand.write(rows: rows, workload: net, requests: max(requests, 2 * k), warmup: 1, to: file, colocated: k)
                }
                colocated += try Profile.load(file)
            }
            let coldFile = (dir as NSString).appendingPathComponent("\(net)-cold.csv")
            let coldLimits = Array(limits.sorted().suffix(2)), coldRequests = max(requests, 8)
            if !FileManager.default.fileExists(atPath: coldFile) {
                let rows = try ProfileCommand.measure(
                    workload: net, limits: coldLimits, requests: coldRequests, warmup: 1, mechanisms: ["docker"], binary: "", image: image,
                    gapMs: coldGapMs)
                try ProfileCommand.write(rows: rows, workload: net, requests: coldRequests, warmup: 1, to: coldFile, gapMs: coldGapMs)
            }
            let spinFile = (dir as NSString).appendingPathComponent("\(net)-spin.csv")
            if !FileManager.default.fileExists(atPath: spinFile) { try measureIdleSpin(workload: net, image: image, to: spinFile) }
            if !FileManager.default.fileExists(atPath: spinShareFile) { try measureSpinShare(workload: net, image: image, to: spinShareFile) }
            let rows = try Profile.load(profile)
            let fit = try LatencyFitter.fit(rows, family: .power)
            // The co-located data can be too noisy for a curve: then the model has none.
            var shared: FitResult? = nil
            do { shared = try LatencyFitter.fitShared(colocated, maxParallelism: fit.maxParallelism) } catch {
                log("  no shared-cores latency for \(net): \(error)")
            }
            let cold = try LatencyFitter.fitColdStart(try Profile.load(coldFile), warm: fit)
            let spin = try fitIdleSpin(spinFile, cores: spinCores)
            // No polling, or too little to compare beside a neighbour: the weight stays 1.
            var weight: LatencyFitter.SpinWeightFit? = nil
            if let spin, spin.seconds > 0 {
                do { weight = try fitSpinWeight(spinShareFile, cores: spinCores) } catch { log("  no spin weight for \(net): \(error)") }
            }
            let json = LatencyFitter.modelJSON(
                fit, name: net, source: "fitted on this machine (\(ProfileCommand.cpuModel)) by qoesim validate from \(profile)", shared: shared,
                coldStart: cold, idleSpin: spin, spinWeight: weight)
            try atomicWrite(json, to: model)
            log(String(format: "fitted %@ on this machine: R^2 %.3f, MAPE %.1f%% (%@)", net, fit.r2, fit.mapePct, model))
            if let cold {
                log(String(format: "  cold start of %@ after %.0f ms idle: factor %.3f [%.3f, %.3f] (%d requests)", net, cold.gapMs, cold.factor, cold.ci95[0], cold.ci95[1], cold.n))
            }
            if let spin {
                log(String(format: "  idle spin of %@: %.4f CPU-s per request after %.0f ms idle [%.4f, %.4f] (%d pairs): %.3f s on %.0f core(s)", net, spin.extraCPUSeconds, spin.gapMs, spin.ci95[0], spin.ci95[1], spin.n, spin.seconds, spin.cores))
            }
            if let weight {
                log(String(format: "  spin weight of %@: its polling gets %.2f [%.2f, %.2f] of its CPU alone beside a busy container (%d repeats): weight %.3f [%.3f, %.3f]", net, weight.share, weight.shareCI95[0], weight.shareCI95[1], weight.n, weight.weight, weight.ci95[0], weight.ci95[1]))
            }
            if let shared {
                log(String(format: "  shared-cores latency of %@ (%d co-located requests): R^2 %.3f, MAPE %.1f%%", net, shared.n, shared.r2, shared.mapePct))
            }
        }
        return dir
    }

    /// ``folder(networks:cache:image:limits:requests:log:)`` with only `parts` active.
    static func localFolder(
        parts: Parts, networks: [String], cache: String, image: String, limits: [Double], requests: Int, log: (String) -> Void
    ) throws -> String {
        try variant(of: folder(networks: networks, cache: cache, image: image, limits: limits, requests: requests, log: log), parts: parts)
    }

    /// The parts of the local fits the simulation uses: `quota` (the latency under a CPU
    /// quota, profiled one container at a time), `shared` (plus the shared-cores latency),
    /// `cold` (plus the cold start), `spin` (plus the idle spin, with its fitted weight),
    /// `spin-full-weight` (the idle spin competing as if busy), `full` (all four).
    enum Parts: String, CaseIterable, ExpressibleByArgument {
        case quota, shared, cold, spin, spinFullWeight = "spin-full-weight", full
    }

    /// A folder beside `folder` holding its models with only `parts` active (the other
    /// parts' fit statistics are kept, under `measured_*` keys the simulator does not read).
    static func variant(of folder: String, parts: Parts) throws -> String {
        if parts == .full { return folder }
        let out = (folder as NSString).appendingPathComponent("parts-\(parts.rawValue)")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".json") }).sorted() {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                  var model = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("\(path) is not a model file")
            }
            func drop(_ keys: [String]) {
                for k in keys where model[k] != nil { model["measured_" + k] = model.removeValue(forKey: k) }
            }
            if parts != .shared { drop(["latency_shared", "fit_shared"]) }
            if parts != .cold { drop(["cold_start", "fit_cold_start"]) }
            if parts != .spin && parts != .spinFullWeight { drop(["idle_spin", "fit_idle_spin"]) }
            if parts == .spinFullWeight, var spin = model["idle_spin"] as? [String: Any] {
                spin["weight"] = 1
                model["idle_spin"] = spin
            }
            let text = try JSONSerialization.data(withJSONObject: model, options: [.prettyPrinted, .sortedKeys])
            try atomicWrite(String(decoding: text, as: UTF8.self) + "\n", to: (out as NSString).appendingPathComponent(name))
        }
        return out
    }
}

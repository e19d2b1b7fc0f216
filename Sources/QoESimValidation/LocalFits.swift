import Foundation
import QoESim
import QoESimExperiments
import QoESimFit
import QoESimLive

/// Latency models measured and fitted on this machine, for validation: fits belong to the
/// machine they were measured on (an AMD and an Intel machine of the same kind ran the
/// same workload 1.4-3.4x apart).
///
/// Profiles are cached under a key of everything that changes them (``ProfileCache``);
/// fits are made from the cached profiles by this build's fitter and kept beside them
/// under `fits-VERSION-CODE` (CODE: the first 12 hex digits of the running executable's
/// SHA-256), so that fits of other code are neither reused nor overwritten.
///
/// ```swift
/// import QoESimValidation
/// let docker = try DockerClient.fromEnvironment()
/// try WorkloadImage.ensure(WorkloadImage.defaultName, binary: nil, docker: docker, log: { print($0) })
/// let fits = LocalFits(settings: .init(limits: [0.25, 0.5, 1, 2], requests: 5), cache: "/tmp/qoesim-cache")
/// let folder = try fits.folder(networks: ["mobilenetv2"], docker: docker, log: { print($0) })
/// // folder holds mobilenetv2.json, a model file the simulator reads (ModelCatalog).
/// ```
public struct LocalFits: Sendable {
    /// What is measured: the latency limits and requests per limit, the co-located
    /// container counts, the cold-start gap, the image.
    public struct Settings: Sendable, Equatable {
        /// CPU limits of the quota profile (the two largest also give the cold profile).
        public var limits: [Double]
        /// Timed requests per limit.
        public var requests: Int
        /// Containers at once, without limits, for the shared-cores latency.
        public var colocations = [2, 3, 6]
        /// Idle time before each request of the cold-start profile, ms.
        public var coldGapMs = 200
        /// How the idle spin and its weight are measured.
        public var spin = Profiler.SpinProtocol()
        /// The workload image.
        public var image = WorkloadImage.defaultName

        public init(limits: [Double], requests: Int) {
            self.limits = limits
            self.requests = requests
        }
    }

    public var settings: Settings
    /// The cache folder (e.g. ~/.cache/qoesim/profiles).
    public var cache: String

    public init(settings: Settings, cache: String) {
        self.settings = settings
        self.cache = cache
    }

    /// Cores OpenBLAS's worker threads poll on: its threads (OPENBLAS_NUM_THREADS, else
    /// one per core: a container without a cpuset sees every core) less the calling one.
    public static var spinCores: Double {
        let env = ProcessInfo.processInfo.environment
        let threads = env["OPENBLAS_NUM_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        return Double(max(threads - 1, 0))
    }

    /// A folder of models for `networks` fitted on this machine (the cache's, made by
    /// this build's fitter), profiling what the cache lacks. Returns the folder.
    public func folder(networks: [String], docker: DockerClient, log: @escaping (String) -> Void) throws -> String {
        let session = try ProfileSession(docker: docker, image: settings.image, log: log)
        defer { session.close() }
        let cache = try ProfileCache(root: self.cache, settings: settings, session: session)
        log("profile cache \(cache.folder)")
        let profiler = Profiler(session: session, log: log)
        let fits = (cache.folder as NSString).appendingPathComponent("fits-\(QoESimVersion.current)-\(CodeIdentity.executableSHA256.prefix(12))")
        try FileManager.default.createDirectory(atPath: fits, withIntermediateDirectories: true)
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        for net in Set(networks).sorted() {
            let model = (fits as NSString).appendingPathComponent("\(net).json")
            if FileManager.default.fileExists(atPath: model) {
                log("using the cached fit of \(net) for this machine (\(model))")
                continue
            }
            let s = settings
            let quota = try cache.profile("\(net).csv", kind: .quota, log: log) {
                try profiler.latency(network: net, limits: s.limits, requests: s.requests, warmup: 1)
            }
            var colocated: [ProfileRow] = []
            for k in s.colocations {
                let file = try cache.profile("\(net)-colocated-\(k).csv", kind: .colocated, log: log) {
                    try profiler.colocated(network: net, limits: [nil], containers: k, requests: max(s.requests, 2 * k), warmup: 1, cores: cores)
                }
                colocated += try Profile.load(file.path)
            }
            let cold = try cache.profile("\(net)-cold.csv", kind: .cold, log: log) {
                try profiler.latency(network: net, limits: Array(s.limits.sorted().suffix(2)), requests: max(s.requests, 8), warmup: 1, gapMs: s.coldGapMs)
            }
            let spin = try cache.profile("\(net)-spin.csv", kind: .spin, log: log) { try profiler.idleSpin(network: net, spin: s.spin) }
            let spinShare = try cache.profile("\(net)-spin-share.csv", kind: .spinShare, log: log) { try profiler.spinShare(network: net, spin: s.spin) }
            let fitted = try LocalFits.fit(
                network: net, quota: quota, colocated: colocated, cold: cold, spin: spin, spinShare: spinShare, nodeCores: cores, log: log)
            try atomicWrite(fitted, to: model)
            log("  wrote \(model)")
        }
        if let worst = session.worstOutsideLoad {
            log(String(format: "profiling: at most %.3f cores were used outside the profiling containers (limit %.1f)", worst.cores, ProfileSession.outsideLoadLimit))
        }
        return fits
    }

    /// The model file (JSON) of `network` fitted from its profiles: the quota latency
    /// (power family), the shared-cores latency (when the co-located data fit a curve),
    /// the cold start, the idle spin and its weight beside a busy container.
    public static func fit(
        network net: String, quota: ProfileFile, colocated: [ProfileRow], cold: ProfileFile, spin: ProfileFile, spinShare: ProfileFile,
        nodeCores: Double, log: (String) -> Void
    ) throws -> String {
        let rows = try Profile.load(quota.path)
        var fit = try LatencyFitter.fit(rows, family: .power)
        // The CPU it takes unconstrained caps what the simulator gives it (a single thread
        // cannot use a second core however much the policy grants).
        let largest = rows.map(\.cpus).max()!
        let used = try backToBackCores(spin)
        if let cap = LatencyFitter.demandCap(backToBackCores: used, largestLimit: largest) {
            log(String(format: "  %@ uses %@ cores unconstrained (idle-spin profile, back to back, per run): demand cap %.3f, max_parallelism %.3f",
                       net, used.map { String(format: "%.3f", $0) }.joined(separator: ", "), cap, min(cap, fit.maxParallelism)))
            if cap < fit.maxParallelism {
                fit.maxParallelism = cap
                fit.maxParallelismIdentified = true
            }
        }
        // The co-located data can be too noisy for a curve: then the model has none.
        var shared: FitResult? = nil
        do { shared = try LatencyFitter.fitShared(colocated, maxParallelism: fit.maxParallelism) } catch {
            log("  no shared-cores latency for \(net): \(error)")
        }
        let coldFit = try LatencyFitter.fitColdStart(try Profile.load(cold.path), warm: fit)
        let spinFit = try fitIdleSpin(spin, cores: spinCores)
        // No polling, or too little to compare beside a neighbour: the weight stays 1.
        var weight: LatencyFitter.SpinWeightFit? = nil
        if let spinFit, spinFit.seconds > 0 {
            do { weight = try fitSpinWeight(spinShare, cores: spinCores, nodeCores: nodeCores) } catch { log("  no spin weight for \(net): \(error)") }
        }
        log(String(format: "fitted %@ on this machine: R^2 %.3f, MAPE %.1f%%", net, fit.r2, fit.mapePct))
        if let c = coldFit {
            log(String(format: "  cold start of %@ after %.0f ms idle: factor %.3f [%.3f, %.3f] (%d requests)", net, c.gapMs, c.factor, c.ci95[0], c.ci95[1], c.n))
        }
        if let s = spinFit {
            log(String(format: "  idle spin of %@: %.4f CPU-s per request after %.0f ms idle [%.4f, %.4f] (%d pairs): %.3f s on %.0f core(s)", net, s.extraCPUSeconds, s.gapMs, s.ci95[0], s.ci95[1], s.n, s.seconds, s.cores))
        }
        if let w = weight {
            log(String(format: "  spin weight of %@: its polling gets %.2f [%.2f, %.2f] of its CPU alone beside a busy container (%d repeats): weight %.3f [%.3f, %.3f]", net, w.share, w.shareCI95[0], w.shareCI95[1], w.n, w.weight, w.ci95[0], w.ci95[1]))
        }
        if let sh = shared {
            log(String(format: "  shared-cores latency of %@ (%d co-located requests): R^2 %.3f, MAPE %.1f%%", net, sh.n, sh.r2, sh.mapePct))
        }
        return LatencyFitter.modelJSON(
            fit, name: net, source: "fitted on this machine (\(MachineFacts.cpuModel)) by qoesim validate from \(quota.path)", shared: shared,
            coldStart: coldFit, idleSpin: spinFit, spinWeight: weight)
    }

    /// The cores each back-to-back run (gap 0) of an idle-spin profile used: its CPU
    /// seconds over the seconds its requests took (measured, not a fit's latency).
    public static func backToBackCores(_ file: ProfileFile) throws -> [Double] {
        var out: [Double] = []
        for i in file.rows.indices where try file.number(i, "gap_ms") == 0 {
            let seconds = try file.number(i, "request_seconds")
            guard seconds > 0 else { throw InputError(file: file.path, line: file.lines[i], "request_seconds must be > 0") }
            out.append(try file.number(i, "cpu_seconds") / seconds)
        }
        return out
    }

    /// Fits the idle spin from an idle-spin profile (nil with one OpenBLAS thread: nothing polls).
    public static func fitIdleSpin(_ file: ProfileFile, cores: Double) throws -> LatencyFitter.IdleSpinFit? {
        guard cores > 0 else { return nil }
        var busy: [Int: Double] = [:], idle: [Int: Double] = [:], gapMs = 0.0
        for i in file.rows.indices {
            let pair = Int(try file.number(i, "pair")), gap = try file.number(i, "gap_ms"), n = try file.number(i, "requests")
            let cpu = try file.number(i, "cpu_seconds")
            guard n > 0 else { throw InputError(file: file.path, line: file.lines[i], "requests must be > 0") }
            if gap == 0 { busy[pair] = cpu / n } else { idle[pair] = cpu / n; gapMs = gap }
        }
        let pairs = busy.keys.filter { idle[$0] != nil }.sorted()
        return try LatencyFitter.fitIdleSpin(backToBack: pairs.map { busy[$0]! }, afterGap: pairs.map { idle[$0]! }, cores: cores, gapMs: gapMs)
    }

    /// Fits the spin weight from a spin-share profile.
    public static func fitSpinWeight(_ file: ProfileFile, cores: Double, nodeCores: Double) throws -> LatencyFitter.SpinWeightFit? {
        guard cores > 0 else { return nil }
        var cpu: [String: Double] = [:], repeats = Set<Int>()
        for i in file.rows.indices {
            let r = Int(try file.number(i, "repeat")), k = Int(try file.number(i, "neighbours")), n = try file.number(i, "requests")
            guard n > 0 else { throw InputError(file: file.path, line: file.lines[i], "requests must be > 0") }
            cpu["\(r),\(k),\(file.field(i, "thread_timeout"))"] = try file.number(i, "cpu_seconds") / n
            repeats.insert(r)
        }
        func polling(_ r: Int, _ k: Int) -> Double? {
            guard let set = cpu["\(r),\(k),set"], let short = cpu["\(r),\(k),4"] else { return nil }
            return set - short
        }
        let complete = repeats.sorted().filter { polling($0, 0) != nil && polling($0, 1) != nil }
        return try LatencyFitter.fitSpinWeight(
            alone: complete.map { polling($0, 0)! }, besideBusy: complete.map { polling($0, 1)! }, cores: cores, nodeCores: nodeCores)
    }

    /// The parts of the local fits the simulation uses: `quota` (the latency under a CPU
    /// quota, profiled one container at a time), `shared` (plus the shared-cores latency),
    /// `cold` (plus the cold start), `spin` (plus the idle spin, with its fitted weight),
    /// `spin-full-weight` (the idle spin competing as if busy), `full` (all four).
    public enum Parts: String, CaseIterable, Sendable {
        case quota, shared, cold, spin, spinFullWeight = "spin-full-weight", full
    }

    /// A folder beside `folder` holding its models with only `parts` active (the other
    /// parts' fit statistics are kept, under `measured_*` keys the simulator does not read).
    public static func variant(of folder: String, parts: Parts) throws -> String {
        if parts == .full { return folder }
        let out = (folder as NSString).appendingPathComponent("parts-\(parts.rawValue)")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".json") }).sorted() {
            var model = try ModelFile.read((folder as NSString).appendingPathComponent(name))
            if parts != .shared { model.setAside(.latencyShared) }
            if parts != .cold { model.setAside(.coldStart) }
            if parts != .spin && parts != .spinFullWeight { model.setAside(.idleSpin) }
            if parts == .spinFullWeight { model.idleSpin?.weight = 1 }
            try atomicWrite(model.json, to: (out as NSString).appendingPathComponent(name))
        }
        return out
    }
}

/// The cache of this machine's profiles: a folder per key, the key being the SHA-256 of a
/// text naming every input that changes a profile: the CPU model and core count,
/// OpenBLAS's settings, the Docker engine's version, the SHA-256 of the qoesim-infer
/// binary in the image, and the measurement settings (limits, requests, co-locations,
/// gaps, the spin protocol). `KEY.txt` in the folder holds that text.
public struct ProfileCache {
    /// The folder of this key.
    public let folder: String
    /// The key's text.
    public let keyText: String

    /// The cache under `root` for `settings`, measured by `session`'s engine and image.
    public init(root: String, settings: LocalFits.Settings, session: ProfileSession) throws {
        let docker = session.docker
        let engine = try blockingUnlessInterrupted("profiling") { try await docker.version() }
        let binary = try WorkloadImage.binarySHA256(session.image, docker: docker)
        keyText = ProfileCache.keyText(settings: settings, engineVersion: engine, binarySHA256: binary)
        folder = (root as NSString).appendingPathComponent(String(WorkloadImage.sha256Hex(Data(keyText.utf8)).prefix(16)))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try atomicWrite(keyText, to: (folder as NSString).appendingPathComponent("KEY.txt"))
    }

    /// The key's text for `settings` on this machine.
    public static func keyText(settings: LocalFits.Settings, engineVersion: String, binarySHA256: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        """
        cpu: \(MachineFacts.cpuModel)
        cores: \(ProcessInfo.processInfo.activeProcessorCount)
        openblas: \(WorkloadEnvironment.keyText(from: environment))
        docker engine: \(engineVersion)
        qoesim-infer sha256: \(binarySHA256)
        limits: \(settings.limits.map { "\($0)" }.joined(separator: ","))
        requests: \(settings.requests)
        colocations: \(settings.colocations.map(String.init).joined(separator: ","))
        cold gap ms: \(settings.coldGapMs)
        spin: \(settings.spin.pairs) pairs of \(settings.spin.requests) requests, gap \(settings.spin.gapMs) ms, neighbour \(settings.spin.neighbour)

        """
    }

    /// The profile `name` of `kind` from the cache, or measured by `measure` and cached
    /// (a measurement ``ProfileSession`` refuses as disturbed is not cached). A cached file
    /// that cannot be read as that kind is measured again, and the log says so.
    public func profile(_ name: String, kind: ProfileFile.Kind, log: (String) -> Void, measure: () throws -> ProfileFile) throws -> ProfileFile {
        let path = (folder as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: path) {
            do { return try ProfileFile.read(path, kind: kind) } catch {
                log("the cached profile \(path) is unreadable (\(error)); measuring it again")
            }
        }
        let file = try measure()
        // The path is in this key's cache folder, which qoesim made: an unreadable file there is replaced.
        try file.write(to: path, force: true)
        return try ProfileFile.read(path, kind: kind)
    }
}

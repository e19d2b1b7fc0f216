import Foundation
import QoESim

/// One simulation of a sweep: a policy variant, a scenario point and a seed.
public struct SweepRun: Sendable, Hashable {
    /// The block it belongs to (policies x grid x seeds; "curve" for a plain grid), or
    /// "sensitivity" (one policy's parameters at the headline).
    public var kind: String
    public var policy: ExperimentSpec.PolicyVariant
    public var scenario: [String: String]
    public var seed: UInt64
    /// 12 hex digits of the SHA-256 of the run's whole resolved definition (see
    /// ``Sweep/definition(of:version:)``), set by ``Sweep/runs(includeSensitivity:)``.
    public var digest: String = ""

    public init(kind: String, policy: ExperimentSpec.PolicyVariant, scenario: [String: String], seed: UInt64, digest: String = "") {
        self.kind = kind
        self.policy = policy
        self.scenario = scenario
        self.seed = seed
        self.digest = digest
    }

    /// Stable identifier, also the run's file name: readable (block, policy and its
    /// parameters, grid point, seed) and ending in the digest of everything else that
    /// defines the run, so that a finished run is reused only for the same definition.
    public var id: String {
        let p = policy.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let s = scenario.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let raw = "\(kind)__\(policy.label)\(p.isEmpty ? "" : "[\(p)]")__\(s)__seed=\(seed)" + (digest.isEmpty ? "" : "__\(digest)")
        return String(raw.map { $0.isLetter || $0.isNumber || "-_=.,[]".contains($0) ? $0 : "_" })
    }
}

/// What a run produced, per model plus run-level figures.
public struct RunOutcome: Sendable {
    public var run: SweepRun
    public var result: SimulationResult
    /// Seconds from the last placement to the last allocation change larger than 10%
    /// of the container's previous value (0 if none after it): how long the policy took
    /// to settle.
    public var settleSeconds: Double

    /// Models within the band: measured <= (1 + alpha) x target.
    public func satisfiedBand(alpha: Double) -> Int {
        result.models.filter { m in m.measuredMs.map { $0 <= (1 + alpha) * m.targetMs } ?? false }.count
    }
}

/// Records when allocations last moved by more than 10%: a policy's settling time is
/// `settle`, seconds from the last placement to the last such change.
public final class SettleClock: SimulationRecorder {
    var last: [Int: Allocation] = [:]
    var lastPlacement = 0.0
    var lastBigChange = 0.0

    public init() {}

    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {}

    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {
        defer { last[job] = allocation }
        if reason == "placement" {
            lastPlacement = max(lastPlacement, time)
            return
        }
        guard let old = last[job] else { return }
        func moved(_ a: Double?, _ b: Double?) -> Bool {
            switch (a, b) {
            case let (x?, y?): return abs(x - y) > 0.1 * x
            case (nil, nil): return false
            default: return true
            }
        }
        if moved(old.cpuLimit, allocation.cpuLimit) || moved(old.cpuWeight, allocation.cpuWeight) || moved(old.gpuShare, allocation.gpuShare) {
            lastBigChange = max(lastBigChange, time)
        }
    }

    public var settle: Double { max(0, lastBigChange - lastPlacement) }
}

/// Builds scenarios and runs sweeps of an ``ExperimentSpec``.
public struct Sweep: Sendable {
    public let spec: ExperimentSpec
    /// Whether blocks marked `default: false` run too.
    public let allBlocks: Bool
    /// Model catalogs by folder.
    let catalogs: [String: ModelCatalog]
    let fileScenario: Scenario?
    /// SHA-256 of the input files, read when a run's digest is first needed.
    let digests = FileDigests()

    public init(spec: ExperimentSpec, allBlocks: Bool = false) throws {
        self.spec = spec
        self.allBlocks = allBlocks
        var catalogs: [String: ModelCatalog] = [:]
        for folder in [spec.modelsFolder] + spec.blocks.compactMap(\.modelsFolder) where catalogs[folder] == nil {
            catalogs[folder] = try ModelCatalog.load(folder: folder)
        }
        self.catalogs = catalogs
        if case .files(let c, let t, let r) = spec.scenario {
            fileScenario = try Scenario.load(cluster: c, trace: t, models: spec.modelsFolder, requests: r)
        } else {
            fileScenario = nil
        }
    }

    /// The blocks this sweep runs.
    public var blocks: [ExperimentSpec.Block] { spec.blocks.filter { allBlocks || $0.runByDefault } }

    /// Every run of the experiment, in a fixed order, each with the digest of its
    /// definition.
    public func runs(includeSensitivity: Bool = true) throws -> [SweepRun] {
        var out: [SweepRun] = []
        for block in blocks {
            for point in block.points {
                for p in spec.policies {
                    for seed in spec.seeds { out.append(SweepRun(kind: block.name, policy: p, scenario: point, seed: seed)) }
                }
            }
        }
        if includeSensitivity, let base = spec.sensitivityPolicy {
            for combo in cartesian(spec.sensitivityGrid) {
                var v = base
                v.parameters.merge(combo) { $1 }
                v.label = base.label
                for seed in spec.seeds { out.append(SweepRun(kind: "sensitivity", policy: v, scenario: spec.headline, seed: seed)) }
            }
        }
        for k in out.indices { out[k].digest = try digest(of: out[k]) }
        return out
    }

    /// A run with its grid point applied: the scenario's generator (nil for a file
    /// scenario) or file settings, the simulation options, and the policy variant with
    /// the point's `policy.LABEL.PARAM` values for its label.
    public struct ResolvedRun: Sendable {
        public var generator: HeterogeneousTargetsGenerator?
        /// File-scenario arrival-rate factor and request-trace time scale (1 = as in the files).
        public var load = 1.0
        public var timeScale = 1.0
        public var options: SimulationOptions
        public var policy: ExperimentSpec.PolicyVariant
        /// The model folder of the run's block.
        public var modelsFolder: String
    }

    /// Applies a point (and the experiment's file-scenario settings) to the experiment's
    /// scenario, options and `policy`. The spec was validated when loaded, so errors
    /// here mean a point that did not come from it.
    public func resolve(_ point: [String: String], block: String? = nil, policy: ExperimentSpec.PolicyVariant) throws -> ResolvedRun {
        var r = ResolvedRun(
            generator: nil, options: spec.options, policy: policy,
            modelsFolder: spec.block(block ?? spec.headlineSpec.block)?.modelsFolder ?? spec.modelsFolder)
        if case .generator(let g) = spec.scenario { r.generator = g }
        let at = try StructuredValue.parse("{}", file: spec.path)
        for (k, v) in spec.fileScenarioSettings.merging(point, uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            switch try spec.classify(k, at: at) {
            case .generator(let name): try ExperimentSpec.setGenerator(&r.generator!, name, text: v, at: at)
            case .fileScenario("load"): r.load = try ExperimentSpec.fileScenarioValue(k, text: v, at: at)
            case .fileScenario(_): r.timeScale = try ExperimentSpec.fileScenarioValue(k, text: v, at: at)
            case .option(let name): try ExperimentSpec.setOption(&r.options, name, text: v, at: at)
            case .policy(let label, let p): if label == policy.label { r.policy.parameters[p] = v }
            }
        }
        return r
    }

    /// The scenario of a resolved run for a seed (generated scenarios differ by seed).
    public func scenario(of r: ResolvedRun, seed: UInt64) throws -> Scenario {
        if let g = r.generator {
            let cluster = ClusterSpec(nodes: g.cluster().map { NodeSpec(name: $0.name, cpus: $0.cpus) })
            return Scenario(cluster: cluster, jobs: try g.jobs(catalog: catalogs[r.modelsFolder]!, seed: seed))
        }
        return fileScenario!.scaled(load: r.load, timeScale: r.timeScale)
    }

    /// The scenario of a point of block `block` for a seed (generated scenarios differ by
    /// seed; a block may have its own model folder).
    public func scenario(for point: [String: String], block: String? = nil, seed: UInt64) throws -> Scenario {
        try scenario(of: resolve(point, block: block, policy: spec.policies[0]), seed: seed)
    }

    /// Runs one simulation (optionally also recording into `recorder`).
    public func execute(_ run: SweepRun, recorder: SimulationRecorder? = nil) throws -> RunOutcome {
        let block = run.kind == "sensitivity" ? spec.headlineSpec.block : run.kind
        let resolved = try resolve(run.scenario, block: block, policy: run.policy)
        let scenario = try scenario(of: resolved, seed: run.seed)
        let tracker = SettleClock()
        let sim = try Simulation(scenario: scenario, policy: resolved.policy.make(), options: resolved.options)
        let result: SimulationResult
        if let recorder {
            result = try sim.run(seed: run.seed, recorder: RecorderFan([tracker, recorder]))
        } else {
            result = try sim.run(seed: run.seed, recorder: tracker)
        }
        return RunOutcome(run: run, result: result, settleSeconds: tracker.settle)
    }

    /// The columns of run rows before the varied parameters, and after them.
    static let leadingColumns = ["kind", "run_id", "policy", "policy_name", "policy_params"]
    static let resultColumns = [
        "seed", "job_id", "model", "target_ms", "metric", "requests", "mean_ms", "p95_ms", "p99_ms", "measured_ms",
        "satisfied", "satisfied_band", "cpu_s", "run_satisfied", "run_satisfied_band", "run_total", "run_cpu_s", "settle_s",
        "events",
    ]

    /// The tidy CSV header of run rows (one row per run x model).
    public var csvHeader: String {
        (Sweep.leadingColumns + spec.parameterColumns.map(ExperimentSpec.columnHeader) + Sweep.resultColumns).joined(separator: ",")
    }

    /// The CSV rows of one outcome.
    public func csvRows(_ o: RunOutcome) -> String {
        let params = o.run.policy.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        let grid = spec.parameterColumns.map { ExperimentSpec.columnValue($0, point: o.run.scenario, policy: o.run.policy) }
        let runCPU = o.result.models.reduce(0) { $0 + $1.cpuSeconds }
        let band = 1 + spec.alpha
        func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        var s = ""
        for m in o.result.models {
            let inBand = m.measuredMs.map { $0 <= band * m.targetMs } ?? false
            let cells = [o.run.kind, o.run.id, o.run.policy.label, o.run.policy.name, params] + grid + [
                "\(o.run.seed)", m.id, m.model, "\(m.targetMs)", m.metric.rawValue, "\(m.requests)", f(m.meanMs), f(m.p95Ms),
                f(m.p99Ms), f(m.measuredMs), "\(m.satisfied)", "\(inBand)", "\(m.cpuSeconds)", "\(o.result.satisfied)",
                "\(o.satisfiedBand(alpha: spec.alpha))", "\(o.result.total)", "\(runCPU)", "\(o.settleSeconds)", "\(o.result.events)",
            ]
            s += cells.map { $0.contains(",") || $0.contains(";") ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
        }
        return s
    }

    /// Whether `runsDir` holds `run`'s finished file: this grid's header, then one or more
    /// whole rows of that run (its kind and id first), each ending in a newline.
    func isFinished(_ run: SweepRun, in runsDir: String, header: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: (runsDir as NSString).appendingPathComponent(run.id + ".csv")),
              let text = String(data: data, encoding: .utf8), text.hasSuffix("\n") else { return false }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        let prefix = "\(run.kind),\(run.id),"
        return lines.count >= 2 && lines[0] == header && lines.dropFirst().allSatisfy { $0.hasPrefix(prefix) }
    }

    /// Run files of this grid in `folder/runs/` that are there but do not read back as
    /// their run's rows (cut short, edited): ``execute(into:shard:of:workers:includeSensitivity:only:progress:)``
    /// makes those runs again.
    public func damagedRunFiles(in folder: String, includeSensitivity: Bool = true) throws -> [String] {
        let runsDir = (folder as NSString).appendingPathComponent("runs")
        let header = csvHeader
        return try runs(includeSensitivity: includeSensitivity).filter {
            FileManager.default.fileExists(atPath: (runsDir as NSString).appendingPathComponent($0.id + ".csv")) && !isFinished($0, in: runsDir, header: header)
        }.map { $0.id + ".csv" }
    }

    /// Run files in `folder/runs/` that no run of this grid (made by this code) reuses: runs
    /// made by other code, or with another definition. Their runs are made again.
    public func unreusedRunFiles(in folder: String, includeSensitivity: Bool = true) throws -> Int {
        let runsDir = (folder as NSString).appendingPathComponent("runs")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: runsDir) else { return 0 }
        let ids = Set(try runs(includeSensitivity: includeSensitivity).map { $0.id + ".csv" })
        return names.filter { $0.hasSuffix(".csv") && !$0.hasPrefix(".") && !ids.contains($0) }.count
    }

    /// What a sweep, a merge or a reproduction writes into its folder (``OwnedFolder``).
    public static let folderEntries: Set<String> = ["runs", "results.csv", "summary.csv", "manifest.json", "figures"]

    /// Runs every run not yet finished in `folder/runs/` (those of shard `shard` of
    /// `shards`, and only those whose id is in `only` when given), `workers` at a time, writing each run's rows atomically. Returns the
    /// number of runs executed.
    @discardableResult
    public func execute(
        into folder: String, shard: Int = 0, of shards: Int = 1, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        includeSensitivity: Bool = true, only: Set<String>? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> Int {
        try OwnedFolder.claim(folder, ours: Sweep.folderEntries, what: "a sweep")
        let runsDir = (folder as NSString).appendingPathComponent("runs")
        try FileManager.default.createDirectory(atPath: runsDir, withIntermediateDirectories: true)
        let all = try runs(includeSensitivity: includeSensitivity)
        let mine = all.enumerated().filter { $0.offset % shards == shard && (only?.contains($0.element.id) ?? true) }.map(\.element)
        let header = csvHeader
        // A run file is reused only when it reads back as this run's rows (a file cut short
        // or edited is made again, never summarized).
        let todo = mine.filter { !isFinished($0, in: runsDir, header: header) }
        let state = SweepState(total: mine.count, done: mine.count - todo.count)
        progress?(state.done, state.total)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, todo.count))) { _ in
            while let i = state.next(limit: todo.count) {
                let run = todo[i]
                do {
                    let outcome = try execute(run)
                    let text = header + "\n" + csvRows(outcome)
                    let final = (runsDir as NSString).appendingPathComponent(run.id + ".csv")
                    let tmp = (runsDir as NSString).appendingPathComponent(".\(run.id).\(getpid()).tmp")
                    guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
                        throw RunOutputError.cannotWrite(tmp)
                    }
                    // On disk before it counts as finished: a crash cannot leave an empty
                    // or partial file under a finished run's name.
                    let fd = open(tmp, O_RDONLY)
                    guard fd >= 0, fsync(fd) == 0 else {
                        if fd >= 0 { close(fd) }
                        throw RunOutputError.cannotWrite(tmp)
                    }
                    close(fd)
                    if rename(tmp, final) != 0 { throw RunOutputError.cannotWrite(final) }
                } catch {
                    state.fail(error)
                }
                let d = state.finish()
                progress?(d, state.total)
            }
        }
        if let e = state.error { throw e }
        return todo.count
    }
}

/// Shared counters of a parallel sweep.
final class SweepState: @unchecked Sendable {
    let lock = NSLock()
    let total: Int
    var done: Int
    var cursor = 0
    var error: Error?

    init(total: Int, done: Int) {
        self.total = total
        self.done = done
    }

    func next(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < limit, error == nil else { return nil }
        cursor += 1
        return cursor - 1
    }

    func finish() -> Int {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        return done
    }

    func fail(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}

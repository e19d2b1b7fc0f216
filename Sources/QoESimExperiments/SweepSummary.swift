import Foundation
import QoESim

/// Across-seed summary of one (kind, policy, parameters, grid point).
public struct SummaryRow: Sendable, Equatable {
    public var kind: String
    public var policy: String
    public var policyParams: String
    /// The policy variant as run (label, name, parameters).
    public var variant: ExperimentSpec.PolicyVariant
    public var point: [String: String]
    public var satisfied: MeanCI
    /// Models within the band (measured <= (1 + alpha) x target).
    public var satisfiedBand: MeanCI
    public var total: Double
    public var cpuSeconds: MeanCI
    public var settleSeconds: MeanCI
    /// Satisfied models per seed (strict, and within the band): for paired comparisons.
    public var perSeed: [UInt64: Double]
    public var perSeedBand: [UInt64: Double]
}

/// Reads a sweep's run files and summarizes them.
public struct SweepSummary: Sendable {
    public let sweep: Sweep
    public let rows: [SummaryRow]
    /// Runs of the spec with no file yet (an unfinished or sharded sweep).
    public let missing: [SweepRun]
    /// Tidy rows of every finished run, in run order, with the header first.
    public let results: String

    /// Summarizes the runs found in `folders` (each with a `runs/` subfolder).
    public init(sweep: Sweep, folders: [String], includeSensitivity: Bool = true) throws {
        self.sweep = sweep
        let all = try sweep.runs(includeSensitivity: includeSensitivity)
        var found: [String: String] = [:]
        for folder in folders {
            let dir = (folder as NSString).appendingPathComponent("runs")
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".csv") {
                found[String(name.dropLast(4))] = (dir as NSString).appendingPathComponent(name)
            }
        }
        var missing: [SweepRun] = []
        var results = sweep.csvHeader + "\n"
        struct RunFigures { var seed: UInt64, satisfied: Double, band: Double, total: Double, cpu: Double, settle: Double }
        var perGroup: [String: (SummaryRow, [RunFigures])] = [:]
        var order: [String] = []
        for run in all {
            guard let path = found[run.id] else {
                missing.append(run)
                continue
            }
            let table = try CSVTable(path: path)
            let col = Dictionary(uniqueKeysWithValues: table.header.enumerated().map { ($1, $0) })
            guard let first = table.rows.first, let s = col["run_satisfied"], let t = col["run_total"], let c = col["run_cpu_s"],
                  let st = col["settle_s"], let b = col["run_satisfied_band"] else {
                throw InputError(file: path, line: 1, "not a run file of this experiment (columns differ)")
            }
            let bytes = try TextFile.read(path)
            let text = String(decoding: bytes, as: UTF8.self)
            results += text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
            if !results.hasSuffix("\n") { results += "\n" }
            func num(_ i: Int) throws -> Double {
                guard let v = Double(first.fields[i]) else { throw InputError(file: path, line: first.line, "\(table.header[i]) is not a number") }
                return v
            }
            let figures = RunFigures(
                seed: run.seed, satisfied: try num(s), band: try num(b), total: try num(t), cpu: try num(c), settle: try num(st))
            let params = run.policy.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
            let key = "\(run.kind)|\(run.policy.label)|\(params)|\(run.scenario.sorted { $0.key < $1.key })"
            if perGroup[key] == nil {
                order.append(key)
                let row = SummaryRow(
                    kind: run.kind, policy: run.policy.label, policyParams: params, variant: run.policy, point: run.scenario, satisfied: MeanCI([]),
                    satisfiedBand: MeanCI([]), total: 0, cpuSeconds: MeanCI([]), settleSeconds: MeanCI([]), perSeed: [:],
                    perSeedBand: [:])
                perGroup[key] = (row, [])
            }
            perGroup[key]!.1.append(figures)
        }
        rows = order.map { key in
            var (row, figs) = perGroup[key]!
            row.satisfied = MeanCI(figs.map(\.satisfied))
            row.satisfiedBand = MeanCI(figs.map(\.band))
            for f in figs {
                row.perSeed[f.seed] = f.satisfied
                row.perSeedBand[f.seed] = f.band
            }
            row.total = figs.map(\.total).reduce(0, +) / Double(figs.count)
            row.cpuSeconds = MeanCI(figs.map(\.cpu))
            row.settleSeconds = MeanCI(figs.map(\.settle))
            return row
        }
        self.missing = missing
        self.results = results
    }

    /// The columns of summary.csv before the varied parameters, and after them.
    static let leadingColumns = ["kind", "policy", "policy_params"]
    static let statisticColumns = [
        "seeds", "satisfied_mean", "satisfied_ci95", "satisfied_band_mean", "satisfied_band_ci95", "total", "cpu_s_mean",
        "cpu_s_ci95", "settle_s_mean", "settle_s_ci95",
    ]

    /// summary.csv: one row per group, means and 95% CI half-widths across seeds.
    public var csv: String {
        let gridCols = sweep.spec.parameterColumns
        var s = (SweepSummary.leadingColumns + gridCols.map(ExperimentSpec.columnHeader) + SweepSummary.statisticColumns).joined(separator: ",") + "\n"
        for r in rows {
            let cells = [r.kind, r.policy, r.policyParams] + gridCols.map { ExperimentSpec.columnValue($0, point: r.point, policy: r.variant) } + [
                "\(r.satisfied.n)", "\(r.satisfied.mean)", "\(r.satisfied.halfWidth)", "\(r.satisfiedBand.mean)",
                "\(r.satisfiedBand.halfWidth)", "\(r.total)", "\(r.cpuSeconds.mean)",
                "\(r.cpuSeconds.halfWidth)", "\(r.settleSeconds.mean)", "\(r.settleSeconds.halfWidth)",
            ]
            s += cells.map { $0.contains(",") || $0.contains(";") ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
        }
        return s
    }

    /// Writes results.csv and summary.csv into `folder` (each atomically).
    public func write(to folder: String) throws {
        try OwnedFolder.claim(folder, ours: Sweep.folderEntries, what: "a sweep summary")
        try atomicWrite(results, to: (folder as NSString).appendingPathComponent("results.csv"))
        try atomicWrite(csv, to: (folder as NSString).appendingPathComponent("summary.csv"))
    }
}

/// Writes `text` to `path` through a temporary file and a rename.
public func atomicWrite(_ text: String, to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else { throw RunOutputError.cannotWrite(path) }
    if rename(tmp, path) != 0 {
        unlink(tmp)  // nothing half-written stays behind
        throw RunOutputError.cannotWrite(path)
    }
}

import Foundation
import QoESim
import QoESimFit
import QoESimPlot

/// A latency model fitted to one model's rows of a profile CSV, with everything
/// `qoesim fit` reports: the fit, its held-out scores, the shared-cores latency and cold
/// start when the profile has their rows, the model file, a report and a figure.
public struct ProfileFit {
    public var name: String
    /// The rows measured alone (what `latency` is fitted on).
    public var rows: [ProfileRow]
    public var result: FitResult
    /// k-fold held-out MAPE per family tried.
    public var scores: [FitFamily: Double]
    public var shared: FitResult?
    public var sharedError: String?
    public var cold: LatencyFitter.ColdStartFit?
    public var folds: Int

    /// Fits `profile`'s rows: of `model` (default: the only one), `batch` (default: the
    /// only one), `mechanism` (when the profile has that column), by `family` (`auto`:
    /// the lowest held-out MAPE). Errors name the file.
    public init(profile: String, family: String, model: String?, batch: Int?, mechanism: String?, maxParallelism: Double?, folds: Int) throws {
        var rows = try mechanism.map { try ProfileFit.rows(profile, mechanism: $0) } ?? Profile.load(profile)
        let models = Set(rows.map(\.model))
        guard let first = rows.first else { throw InputError(file: profile, line: 0, "the profile has no measured rows") }
        let name = model ?? first.model
        if model == nil && models.count > 1 {
            throw InputError(file: profile, line: 0, "the profile has several models (\(models.sorted().joined(separator: ", "))); pick one with --model")
        }
        rows = rows.filter { $0.model == name }
        guard !rows.isEmpty else { throw InputError(file: profile, line: 0, "no rows for model '\(name)'") }
        let batches = Set(rows.map(\.batch))
        if let b = batch { rows = rows.filter { $0.batch == b } } else if batches.count > 1 {
            throw InputError(file: profile, line: 0, "the profile has batch sizes \(batches.sorted()); fit one at a time with --batch")
        }
        // Rows of co-located containers feed latency_shared; `latency` is fitted on the
        // rows measured alone.
        let allRows = rows
        rows = LatencyFitter.soloRows(rows)
        guard rows.count >= 4 else { throw InputError(file: profile, line: 0, "the profile has \(rows.count) rows measured alone; the fit needs 4 or more") }
        self.name = name
        self.rows = rows
        self.folds = folds
        do {
            if family == "auto" {
                (result, scores) = try LatencyFitter.auto(rows, folds: folds, maxParallelism: maxParallelism)
            } else {
                guard let f = FitFamily(rawValue: family) else { throw InputError(file: profile, line: 0, "unknown family \(family)") }
                result = try LatencyFitter.fit(rows, family: f, maxParallelism: maxParallelism)
                scores = [:]
                if let s = LatencyFitter.crossValidate(rows, family: result.family, folds: folds, maxParallelism: maxParallelism) { scores[result.family] = s }
            }
            do { shared = try LatencyFitter.fitShared(allRows, maxParallelism: result.maxParallelism) } catch { sharedError = "\(error)" }
            cold = try LatencyFitter.fitColdStart(allRows, warm: result)
        } catch let e as FitError {
            throw InputError(file: profile, line: 0, "cannot fit: \(e.description)")
        }
    }

    /// Profile rows with `mechanism` in the optional `mechanism` column.
    public static func rows(_ path: String, mechanism: String) throws -> [ProfileRow] {
        let table = try CSVTable(path: path)
        guard let m = table.header.firstIndex(of: "mechanism") else {
            throw InputError(file: path, line: table.headerLine, "--mechanism given but the profile has no mechanism column")
        }
        let all = try Profile.load(path)
        let keep = Set(table.rows.filter { $0.fields[m] == mechanism }.map(\.line))
        let rows = all.filter { keep.contains($0.line) }
        guard !rows.isEmpty else {
            let present = Set(table.rows.map { $0.fields[m] }).sorted().joined(separator: ", ")
            throw InputError(file: path, line: table.headerLine, "no rows with mechanism '\(mechanism)' (the profile has: \(present))")
        }
        return rows
    }

    /// The model file (JSON) the simulator reads.
    public func modelJSON(source: String) -> String {
        LatencyFitter.modelJSON(result, name: name, source: source, crossValidation: scores, shared: shared, coldStart: cold)
    }

    /// Each parameter with its standard error and 95% interval, R^2, RMSE, MAPE, held-out MAPE.
    public func report(profile: String) -> String {
        var report = "model \(name): \(result.family.rawValue) fit on \(result.n) requests from \(profile)\n"
        for p in result.parameters {
            report += String(format: "  %-12@ %10.4g  se %9.3g  95%% CI [%.4g, %.4g]\n", p.name as NSString, p.value, p.standardError, p.ci95[0], p.ci95[1])
        }
        report += String(format: "  max_parallelism %g (%@)\n", result.maxParallelism, result.maxParallelismIdentified ? "from the data" : "largest measured limit: saturation not observed" as NSString)
        report += String(format: "  R^2 %.4f   RMSE %.3g ms   MAPE %.2f%%   variability: lognormal cv %.3f\n", result.r2, result.rmseMs, result.mapePct, result.variabilityCV)
        if !scores.isEmpty {
            report += "  \(folds)-fold held-out MAPE: " + scores.keys.sorted { $0.rawValue < $1.rawValue }.map { String(format: "%@ %.2f%%", $0.rawValue as NSString, scores[$0]!) }.joined(separator: ", ") + "\n"
        }
        return report
    }

    /// Notes on the shared-cores latency and the cold start.
    public var notes: [String] {
        var notes: [String] = []
        if let shared {
            notes.append(String(format: "shared-cores latency (co-located rows without a limit): R^2 %.3f, MAPE %.1f%%, n %d", shared.r2, shared.mapePct, shared.n))
        } else if let sharedError {
            notes.append("no shared-cores latency: the co-located rows do not fit (\(sharedError))")
        }
        if let cold {
            notes.append(String(format: "cold start after %.0f ms idle: factor %.3f [%.3f, %.3f], n %d", cold.gapMs, cold.factor, cold.ci95[0], cold.ci95[1], cold.n))
        }
        return notes
    }

    /// The fitted curve over the measured requests, with the mean per limit and its 95% CI.
    public var figure: SVGChart {
        let measured = SVGChart.Series(
            name: "measured requests", points: rows.map { SVGChart.Point(x: $0.cpus, y: $0.latencyMs) }, line: false)
        var means: [SVGChart.Point] = []
        for c in Set(rows.map(\.cpus)).sorted() {
            let ci = MeanCI(rows.filter { $0.cpus == c }.map(\.latencyMs))
            means.append(SVGChart.Point(x: c, y: ci.mean, error: ci.halfWidth))
        }
        let lo = rows.map(\.cpus).min()!, hi = rows.map(\.cpus).max()!
        let grid = (0...100).map { lo + (hi - lo) * Double($0) / 100 }
        let curve = SVGChart.Series(
            name: "\(result.family.rawValue) fit", points: grid.map { SVGChart.Point(x: $0, y: 1000 * result.latencyModel.latencySeconds(cpus: $0)) },
            markers: false)
        return SVGChart(
            title: String(format: "%@: %@ fit, R^2 = %.3f, MAPE %.1f%%", name as NSString, result.family.rawValue as NSString, result.r2, result.mapePct),
            xLabel: "CPU limit (cores)", yLabel: "latency (ms)", series: [measured, curve, SVGChart.Series(name: "mean per limit (95% CI)", points: means, line: false)])
    }
}

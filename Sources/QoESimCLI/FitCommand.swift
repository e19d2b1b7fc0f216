import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments
import QoESimFit
import QoESimPlot

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit a latency model to a measured profile (GSL least squares) and write the model JSON.",
        discussion: """
        Profile CSV: model,device,cpus,gpu_share,batch,latency_ms (one row per measured request).
        Families: amdahl (serial + parallel / min(c, m)), power (a + b c^-k), gpu
        (overhead + cpu / min(c, m) + gpu / g), or auto (the lowest k-fold held-out MAPE).
        Prints each parameter with its standard error and 95% interval, R^2, RMSE and MAPE;
        the variability (lognormal cv) comes from the spread of requests around each level.
        Rows of containers profiled together (`qoesim profile --colocate K`) are not used for
        `latency`; those without a limit are fitted (power family) as `latency_shared`, the
        latency while contention holds a container below its cap; rows with `gap_ms` > 0
        (`qoesim profile --gap-ms`) give `cold_start`, the factor on a request that starts on
        an idle container (README: "How close the simulation is to real Docker").

        Example:
          qoesim fit Traces/profiles/resnet50.csv --family auto -o Traces/models-fitted/resnet50.json
        """)

    @Argument(help: "Profile CSV.") var profile: String
    @Option(help: "amdahl, power, gpu or auto.") var family: String = "auto"
    @Option(help: "Model name (default: the profile's model column).") var model: String?
    @Option(help: "Use only rows with this batch size (needed when the profile has several).") var batch: Int?
    @Option(help: "Rows with this mechanism only (e.g. cgroup or docker), when the profile has a mechanism column.") var mechanism: String?
    @Option(help: "Fix max_parallelism instead of choosing it from the data.") var maxParallelism: Double?
    @Option(help: "Folds for cross-validation.") var folds: Int = 5
    @Option(name: [.short, .customLong("output")], help: "Model JSON to write (default: standard output).") var output: String?
    @Option(help: "Also write an SVG figure of the fitted curve over the measured points.") var figure: String?

    func validate() throws {
        guard family == "auto" || FitFamily(rawValue: family) != nil else { throw ValidationError("--family must be amdahl, power, gpu or auto") }
        guard folds >= 2 else { throw ValidationError("--folds must be >= 2") }
        if let m = maxParallelism, !(m > 0) { throw ValidationError("--max-parallelism must be > 0") }
    }

    func run() throws {
        var rows = try Profile.load(profile)
        if let mechanism {
            rows = try ProfileMechanismFilter.rows(profile, mechanism: mechanism)
        }
        let models = Set(rows.map(\.model))
        guard let first = rows.first else { throw InputError(file: profile, line: 0, "the profile has no measured rows") }
        let name = model ?? first.model
        if model == nil && models.count > 1 {
            throw ValidationError("the profile has several models (\(models.sorted().joined(separator: ", "))); pick one with --model")
        }
        rows = rows.filter { $0.model == name }
        guard !rows.isEmpty else { throw ValidationError("no rows for model '\(name)'") }
        let batches = Set(rows.map(\.batch))
        if let b = batch { rows = rows.filter { $0.batch == b } } else if batches.count > 1 {
            throw ValidationError("the profile has batch sizes \(batches.sorted()); fit one at a time with --batch")
        }
        // Rows of co-located containers feed latency_shared; `latency` is fitted on the
        // rows measured alone.
        let allRows = rows
        rows = LatencyFitter.soloRows(rows)
        guard rows.count >= 4 else { throw ValidationError("the profile has \(rows.count) rows measured alone; the fit needs 4 or more") }
        var scores: [FitFamily: Double] = [:]
        let result: FitResult
        do {
            if family == "auto" {
                (result, scores) = try LatencyFitter.auto(rows, folds: folds, maxParallelism: maxParallelism)
            } else {
                result = try LatencyFitter.fit(rows, family: FitFamily(rawValue: family)!, maxParallelism: maxParallelism)
                if let s = LatencyFitter.crossValidate(rows, family: result.family, folds: folds, maxParallelism: maxParallelism) {
                    scores[result.family] = s
                }
            }
        } catch let e as FitError {
            throw InputError(file: profile, line: 0, "cannot fit: \(e.description)")
        }
        var report = "model \(name): \(result.family.rawValue) fit on \(result.n) requests from \(profile)\n"
        for p in result.parameters {
            report += String(format: "  %-12@ %10.4g  se %9.3g  95%% CI [%.4g, %.4g]\n", p.name as NSString, p.value, p.standardError, p.ci95[0], p.ci95[1])
        }
        report += String(format: "  max_parallelism %g (%@)\n", result.maxParallelism, result.maxParallelismIdentified ? "from the data" : "largest measured limit: saturation not observed" as NSString)
        report += String(format: "  R^2 %.4f   RMSE %.3g ms   MAPE %.2f%%   variability: lognormal cv %.3f\n", result.r2, result.rmseMs, result.mapePct, result.variabilityCV)
        if !scores.isEmpty {
            report += "  \(folds)-fold held-out MAPE: " + scores.keys.sorted { $0.rawValue < $1.rawValue }.map { String(format: "%@ %.2f%%", $0.rawValue as NSString, scores[$0]!) }.joined(separator: ", ") + "\n"
        }
        if let figure {
            let chart = FitFigure.chart(rows: rows, fit: result, model: name)
            try atomicWrite(chart.render(), to: figure)
            try atomicWrite(chart.dataCSV, to: ((figure as NSString).deletingPathExtension) + ".csv")
            Diagnostics.note("wrote \(figure)")
        }
        var shared: FitResult? = nil
        do { shared = try LatencyFitter.fitShared(allRows, maxParallelism: result.maxParallelism) } catch {
            Diagnostics.note("no shared-cores latency: the co-located rows do not fit (\(error))")
        }
        if let shared {
            Diagnostics.note(String(format: "shared-cores latency (co-located rows without a limit): R^2 %.3f, MAPE %.1f%%, n %d", shared.r2, shared.mapePct, shared.n))
        }
        let cold = try LatencyFitter.fitColdStart(allRows, warm: result)
        if let cold {
            Diagnostics.note(String(format: "cold start after %.0f ms idle: factor %.3f [%.3f, %.3f], n %d", cold.gapMs, cold.factor, cold.ci95[0], cold.ci95[1], cold.n))
        }
        let json = LatencyFitter.modelJSON(
            result, name: name, source: "fitted by qoesim fit from \(profile)", crossValidation: scores, shared: shared, coldStart: cold)
        if let output {
            try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent.isEmpty ? "." : (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let tmp = output + ".partial-\(getpid())"
            guard FileManager.default.createFile(atPath: tmp, contents: Data(json.utf8)) else { throw RunOutputError.cannotWrite(output) }
            if rename(tmp, output) != 0 { throw RunOutputError.cannotWrite(output) }
            print(report, terminator: "")
            Diagnostics.note("wrote \(output)")
        } else {
            Diagnostics.note(report)
            print(json, terminator: "")
        }
    }
}

/// Filters profile rows by the optional `mechanism` column.
enum ProfileMechanismFilter {
    static func rows(_ path: String, mechanism: String) throws -> [ProfileRow] {
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
}

/// The fitted curve over the measured requests.
enum FitFigure {
    static func chart(rows: [ProfileRow], fit: FitResult, model: String) -> SVGChart {
        let measured = SVGChart.Series(
            name: "measured requests", points: rows.map { SVGChart.Point(x: $0.cpus, y: $0.latencyMs) }, line: false)
        var means: [SVGChart.Point] = []
        for c in Set(rows.map(\.cpus)).sorted() {
            let ys = rows.filter { $0.cpus == c }.map(\.latencyMs)
            let ci = MeanCI(ys)
            means.append(SVGChart.Point(x: c, y: ci.mean, error: ci.halfWidth))
        }
        let lo = rows.map(\.cpus).min()!, hi = rows.map(\.cpus).max()!
        let grid = (0...100).map { lo + (hi - lo) * Double($0) / 100 }
        let curve = SVGChart.Series(
            name: "\(fit.family.rawValue) fit", points: grid.map { SVGChart.Point(x: $0, y: 1000 * fit.latencyModel.latencySeconds(cpus: $0)) },
            markers: false)
        let meanSeries = SVGChart.Series(name: "mean per limit (95% CI)", points: means, line: false)
        return SVGChart(
            title: String(format: "%@: %@ fit, R^2 = %.3f, MAPE %.1f%%", model as NSString, fit.family.rawValue as NSString, fit.r2, fit.mapePct),
            xLabel: "CPU limit (cores)", yLabel: "latency (ms)", series: [measured, curve, meanSeries])
    }
}

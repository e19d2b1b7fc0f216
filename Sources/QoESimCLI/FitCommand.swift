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
    @Flag(help: "Replace --output (and --figure) even if it is a file qoesim did not write.") var force = false
    @Option(help: "Also write an SVG figure of the fitted curve over the measured points.") var figure: String?

    func validate() throws {
        guard family == "auto" || FitFamily(rawValue: family) != nil else { throw ValidationError("--family must be amdahl, power, gpu or auto") }
        guard folds >= 2 else { throw ValidationError("--folds must be >= 2") }
        if let m = maxParallelism, !(m > 0) { throw ValidationError("--max-parallelism must be > 0") }
        if let m = maxParallelism, let p = InputLimits.problem("max_parallelism", m) { throw ValidationError("--max-parallelism: \(p)") }
    }

    func run() throws {
        let fit = try ProfileFit(
            profile: profile, family: family, model: model, batch: batch, mechanism: mechanism, maxParallelism: maxParallelism, folds: folds)
        let report = fit.report(profile: profile)
        if let figure {
            // The figure and its data (FIGURE less its extension, + .csv) replace only files
            // qoesim drew, or any file with --force.
            let data = PathText.deletingExtension(figure) + ".csv"
            guard data != figure else { throw ValidationError("--figure \(figure): give a .svg path (its data goes to the same name with .csv)") }
            try OwnedFile.replace(figure, with: fit.figure.render(), kind: .contains(SVGChart.signature), force: force)
            try OwnedFile.replace(data, with: fit.figure.dataCSV, kind: .firstLinePrefix("# drawn by qoesim: "), force: force)
            Diagnostics.note("wrote \(figure)")
        }
        fit.notes.forEach(Diagnostics.note)
        let json = fit.modelJSON(source: "fitted by qoesim fit from \(profile)")
        if let output {
            try OwnedFile.replace(output, with: json, kind: .modelJSON, force: force)
            print(report, terminator: "")
            Diagnostics.note("wrote \(output)")
        } else {
            Diagnostics.note(report)
            print(json, terminator: "")
        }
    }
}

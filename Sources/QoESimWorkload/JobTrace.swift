import QoESimInput
import QoESimLatency

/// Reads job trace CSV files.
///
/// Required columns: `job_id,model,arrival_s,duration_s`, and for each job either an
/// absolute target and rate or ones relative to the model's fit:
/// - `target_ms`, or `target_cpus`: the target is the latency (in the job's `metric`)
///   the model's latency model gives at that many cores, so the same trace asks the same
///   of every machine its models were fitted on;
/// - `rate_rps`, or `load`: a Poisson rate of `load` / the model's mean latency at
///   `target_cpus` (else at `cpus`), so a machine 3x faster gets 3x the rate.
/// `rate_rps`/`load` (the mean rate) must be > 0 for jobs whose process draws arrivals
/// (an MMPP's may be empty: its file's mean rate) and may be empty for closed and trace
/// jobs. Optional: `metric` (mean|p95|p99), `arrivals` (an ``ArrivalProcess`` in its text
/// form: poisson, closed, trace, `gamma cv=4`, `mmpp file=F`, ...), `cpus`,
/// `gpu_share`, `node`, `workers`, `weight`. Empty optional cells take defaults.
public enum JobTrace {
    /// Columns every job trace has.
    public static let requiredColumns = ["job_id", "model", "arrival_s", "duration_s"]
    /// Columns a job trace may have.
    public static let optionalColumns = [
        "rate_rps", "target_ms", "target_cpus", "load", "metric", "arrivals", "cpus", "gpu_share", "node", "workers", "weight",
    ]

    /// Loads and validates a job trace against the model catalog and the node names.
    public static func load(_ path: String, models: ModelCatalog, nodeNames: [String]) throws -> [JobSpec] {
        try parse(TextFile.read(path), file: path, models: models, nodeNames: nodeNames)
    }

    /// Validates a job trace held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String, models: ModelCatalog, nodeNames: [String]) throws -> [JobSpec] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: requiredColumns, optional: optionalColumns)
        guard !table.rows.isEmpty else { throw InputError(file: path, line: table.headerLine, "job trace has no jobs") }
        for (absolute, relative) in [("target_ms", "target_cpus"), ("rate_rps", "load")] where col[absolute] == nil && col[relative] == nil {
            throw InputError(file: path, line: table.headerLine, "needs a column \(absolute) or \(relative)")
        }
        let nodes = Set(nodeNames)
        let folder = PathText.parent(path)
        var processes: [String: ArrivalProcess] = [:]
        var firstLine: [String: Int] = [:]
        var jobs: [JobSpec] = []
        jobs.reserveCapacity(table.rows.count)
        for row in table.rows {
            func cell(_ name: String) -> String { col[name].map { row.fields[$0] } ?? "" }
            func ctx(_ name: String) -> FieldContext { FieldContext(file: path, line: row.line, column: name) }
            let id = cell("job_id")
            guard !id.isEmpty else { throw ctx("job_id").error("value is missing") }
            if let first = firstLine[id] {
                throw ctx("job_id").error("duplicate job id '\(id)' (first defined at line \(first))")
            }
            firstLine[id] = row.line
            let modelName = cell("model")
            guard let model = models.models[modelName] else {
                let known = models.models.keys.sorted().joined(separator: ", ")
                throw ctx("model").error("unknown model '\(modelName)'; known models: \(known)")
            }
            let arrival = try ctx("arrival_s").nonNegative(cell("arrival_s"))
            let duration = try ctx("duration_s").positive(cell("duration_s"))
            let metric = cell("metric").isEmpty
                ? QoEMetric.mean
                : QoEMetric(rawValue: try ctx("metric").choice(cell("metric"), among: QoEMetric.allCases.map(\.rawValue)))!
            let cpus = cell("cpus").isEmpty ? nil : try ctx("cpus").positive(cell("cpus"))
            let targetCPUs: Double?
            let target: Double
            switch (cell("target_ms").isEmpty, cell("target_cpus").isEmpty) {
            case (false, true):
                target = try ctx("target_ms").positive(cell("target_ms"))
                targetCPUs = nil
            case (true, false):
                let c = try ctx("target_cpus").positive(cell("target_cpus"))
                targetCPUs = c
                var t = model.latency.latencySeconds(cpus: c) * 1000
                switch metric {
                case .mean: break
                case .p95: t *= model.variability.quantileFactor(0.95)
                case .p99: t *= model.variability.quantileFactor(0.99)
                }
                guard t.isFinite, t > 0 else { throw ctx("target_cpus").error("model '\(modelName)' gives no finite latency at \(c) cores") }
                target = (t * 1000).rounded() / 1000
            case (false, false): throw ctx("target_ms").error("give target_ms or target_cpus, not both")
            case (true, true): throw ctx("target_ms").error("value is missing (give target_ms or target_cpus)")
            }
            let arrivals = cell("arrivals").isEmpty
                ? ArrivalProcess.poisson
                : try ArrivalProcess.parse(cell("arrivals"), context: ctx("arrivals"), relativeTo: folder, cache: &processes)
            // Processes that draw arrivals need a mean rate; an MMPP may take its file's.
            var needsRate = arrivals.drawsArrivals
            if case .mmpp = arrivals { needsRate = false }
            var rate = 0.0
            if !cell("rate_rps").isEmpty && !cell("load").isEmpty { throw ctx("rate_rps").error("give rate_rps or load, not both") }
            if !cell("load").isEmpty {
                let load = arrivals.drawsArrivals ? try ctx("load").positive(cell("load")) : try ctx("load").nonNegative(cell("load"))
                guard let basis = targetCPUs ?? cpus else {
                    throw ctx("load").error("a load needs target_cpus or cpus: the cores whose latency it is relative to")
                }
                let latency = model.latency.latencySeconds(cpus: basis)
                guard latency.isFinite, latency > 0 else { throw ctx("load").error("model '\(modelName)' gives no finite latency at \(basis) cores") }
                rate = load / latency
            } else if !cell("rate_rps").isEmpty {
                rate = arrivals.drawsArrivals
                    ? try ctx("rate_rps").positive(cell("rate_rps"))
                    : try ctx("rate_rps").nonNegative(cell("rate_rps"))
            } else if needsRate {
                throw ctx("rate_rps").error("value is missing (give rate_rps or load: the mean rate of \(arrivals.name) arrivals)")
            } else if case .mmpp(let m, _) = arrivals {
                rate = m.meanRate
            }
            let share: Double?
            if cell("gpu_share").isEmpty {
                share = nil
            } else {
                share = try ctx("gpu_share").positive(cell("gpu_share"))
                if !model.latency.usesGPU {
                    throw ctx("gpu_share").error("model '\(modelName)' does not use a GPU (family \(model.latency.familyName))")
                }
            }
            let node = cell("node").isEmpty ? nil : cell("node")
            if let n = node, !nodes.contains(n) {
                throw ctx("node").error("node '\(n)' does not exist in the cluster (nodes: \(nodeNames.joined(separator: ", ")))")
            }
            let workers = cell("workers").isEmpty ? 1 : try ctx("workers").integer(cell("workers"), minimum: 1)
            let weight = cell("weight").isEmpty ? 1 : try ctx("weight").positive(cell("weight"))
            jobs.append(JobSpec(
                id: id, model: model, arrival: arrival, duration: duration, rate: rate, targetMs: target,
                metric: metric, arrivals: arrivals, cpus: cpus, gpuShare: share, node: node, workers: workers,
                weight: weight, line: row.line))
        }
        return jobs
    }
}

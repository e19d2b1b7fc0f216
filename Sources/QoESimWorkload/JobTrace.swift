import QoESimInput
import QoESimLatency

/// Reads job trace CSV files.
///
/// Required columns: `job_id,model,arrival_s,duration_s,rate_rps,target_ms`.
/// Optional: `metric` (mean|p95|p99), `arrivals` (poisson|closed|trace), `cpus`,
/// `gpu_share`, `node`, `workers`, `weight`. Empty optional cells take defaults.
/// `rate_rps` must be > 0 for Poisson jobs and may be empty for closed and trace jobs.
public enum JobTrace {
    public static let requiredColumns = ["job_id", "model", "arrival_s", "duration_s", "rate_rps", "target_ms"]
    public static let optionalColumns = ["metric", "arrivals", "cpus", "gpu_share", "node", "workers", "weight"]

    /// Loads and validates a job trace against the model catalog and the node names.
    public static func load(_ path: String, models: ModelCatalog, nodeNames: [String]) throws -> [JobSpec] {
        let table = try CSVTable(path: path)
        let col = try table.columnIndex(required: requiredColumns, optional: optionalColumns)
        guard !table.rows.isEmpty else { throw InputError(file: path, line: table.headerLine, "job trace has no jobs") }
        let nodes = Set(nodeNames)
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
            let target = try ctx("target_ms").positive(cell("target_ms"))
            let metric = cell("metric").isEmpty
                ? QoEMetric.mean
                : QoEMetric(rawValue: try ctx("metric").choice(cell("metric"), among: QoEMetric.allCases.map(\.rawValue)))!
            let arrivals = cell("arrivals").isEmpty
                ? ArrivalProcess.poisson
                : ArrivalProcess(rawValue: try ctx("arrivals").choice(
                    cell("arrivals"), among: ArrivalProcess.allCases.map(\.rawValue)))!
            var rate = 0.0
            if arrivals == .poisson || !cell("rate_rps").isEmpty {
                rate = arrivals == .poisson
                    ? try ctx("rate_rps").positive(cell("rate_rps"))
                    : try ctx("rate_rps").nonNegative(cell("rate_rps"))
            }
            let cpus = cell("cpus").isEmpty ? nil : try ctx("cpus").positive(cell("cpus"))
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

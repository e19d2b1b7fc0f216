import QoESimInput

/// One measured request of a latency profile.
public struct ProfileRow: Sendable, Equatable {
    public var model: String
    /// Where it ran, e.g. `cpu` or `gpu`.
    public var device: String
    /// CPU limit (fractional cores).
    public var cpus: Double
    /// Fraction of a GPU (1 when unused).
    public var gpuShare: Double
    public var batch: Int
    public var latencyMs: Double
    /// Containers of the workload that ran at once (1: profiled alone).
    public var colocated: Int
    /// The Docker limit of a co-located run (nil: none, or not recorded).
    public var limit: Double?
    /// Idle time before the request, ms (0: back to back with the previous one).
    public var gapMs: Double
    public var line: Int

    public init(
        model: String, device: String = "cpu", cpus: Double, gpuShare: Double = 1, batch: Int = 1, latencyMs: Double,
        colocated: Int = 1, limit: Double? = nil, gapMs: Double = 0, line: Int = 0
    ) {
        self.gapMs = gapMs
        self.model = model
        self.device = device
        self.cpus = cpus
        self.gpuShare = gpuShare
        self.batch = batch
        self.latencyMs = latencyMs
        self.colocated = colocated
        self.limit = limit
        self.line = line
    }
}

/// Reads latency profiles: CSV `model,device,cpus,gpu_share,batch,latency_ms`, one row
/// per measured request. Optional columns: `mechanism` (how the limit was applied, e.g.
/// cgroup or docker), `request` (index), `colocated` (containers measured at once,
/// default 1; then `cpus` is the share the simulator gives each) and `limit` (their
/// Docker limit, empty for none), `gap_ms` (idle time before each request, default 0).
/// `#` lines are comments (machine, date).
public enum Profile {
    public static let columns = ["model", "device", "cpus", "gpu_share", "batch", "latency_ms"]

    public static func load(_ path: String) throws -> [ProfileRow] {
        try parse(TextFile.read(path), file: path)
    }

    /// Reads a profile held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String) throws -> [ProfileRow] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: columns, optional: ["mechanism", "request", "colocated", "limit", "gap_ms"])
        guard !table.rows.isEmpty else { throw InputError(file: path, line: table.headerLine, "profile has no rows") }
        return try table.rows.map { row in
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            func cell(_ c: String) -> String { row.fields[col[c]!] }
            let model = cell("model")
            guard !model.isEmpty else { throw ctx("model").error("value is missing") }
            let share = try ctx("gpu_share").positive(cell("gpu_share"))
            guard share <= 1 else { throw ctx("gpu_share").error("must be <= 1, got \(cell("gpu_share"))") }
            func optionalCell(_ c: String) -> String { col[c].map { row.fields[$0] } ?? "" }
            let colocated = optionalCell("colocated").isEmpty ? 1 : try ctx("colocated").integer(optionalCell("colocated"), minimum: 1)
            let limit = optionalCell("limit").isEmpty ? nil : try ctx("limit").positive(optionalCell("limit"))
            let gap = optionalCell("gap_ms").isEmpty ? 0 : try ctx("gap_ms").nonNegative(optionalCell("gap_ms"))
            return ProfileRow(
                model: model, device: cell("device").isEmpty ? "cpu" : cell("device"), cpus: try ctx("cpus").positive(cell("cpus")),
                gpuShare: share, batch: try ctx("batch").integer(cell("batch"), minimum: 1),
                latencyMs: try ctx("latency_ms").positive(cell("latency_ms")), colocated: colocated, limit: limit, gapMs: gap,
                line: row.line)
        }
    }
}

import QoESimInput

/// One request of a replayed request trace.
public struct TracedRequest: Sendable, Equatable {
    /// Seconds after the job's container is deployed.
    public var offset: Double
    /// Multiplier of the request's service demand (1 = a typical request).
    public var size: Double

    public init(offset: Double, size: Double = 1) {
        self.offset = offset
        self.size = size
    }
}

/// Reads request trace CSV files: `job_id,time_s[,size]`.
///
/// `time_s` is the request's arrival, in seconds after its job's container is
/// deployed (its `arrival_s`, or later if the job had to wait for room). Requests at or
/// after the job's `duration_s` are not sent. `size` scales the request's service
/// demand (default 1). Rows need not be sorted; each job's requests are replayed in
/// time order (ties in file order).
public enum RequestTrace {
    /// Loads the trace; every `job_id` must be a job of `jobIDs`.
    public static func load(_ path: String, jobIDs: [String]) throws -> [String: [TracedRequest]] {
        try parse(TextFile.read(path), file: path, jobIDs: jobIDs)
    }

    /// Validates a request trace held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String, jobIDs: [String]) throws -> [String: [TracedRequest]] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: ["job_id", "time_s"], optional: ["size"])
        let known = Set(jobIDs)
        var out: [String: [TracedRequest]] = [:]
        for row in table.rows {
            let id = row.fields[col["job_id"]!]
            guard known.contains(id) else {
                throw InputError(file: path, line: row.line, "job_id: '\(id)' is not a job of the job trace")
            }
            let t = try FieldContext(file: path, line: row.line, column: "time_s").nonNegative(row.fields[col["time_s"]!])
            var size = 1.0
            if let s = col["size"], !row.fields[s].isEmpty {
                size = try FieldContext(file: path, line: row.line, column: "size").positive(row.fields[s])
            }
            out[id, default: []].append(TracedRequest(offset: t, size: size))
        }
        for (k, v) in out where !zip(v, v.dropFirst()).allSatisfy({ $0.offset <= $1.offset }) {
            out[k] = v.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
        }
        return out
    }
}

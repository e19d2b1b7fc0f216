import Foundation
import QoESimInput

/// Converts the Azure Functions invocation trace 2021 (Azure Public Dataset, CC-BY 4.0)
/// into a QoESim request trace.
///
/// Input, per the publisher's AzureFunctionsInvocationTrace2021.md: `app,func,end_timestamp,
/// duration`, one row per invocation; `func` is unique only within its `app`. Units: the
/// schema gives both in seconds ("function invocation end timestamp (in seconds)",
/// "duration of function invocation (in seconds)"), and the published sample agrees
/// (end times near 5,200 s of a two-week trace, durations of 0.013-42 s); the reader
/// takes seconds and refuses negative values.
///
/// Output: `job_id,time_s,size`, one job per kept function. A request arrives at
/// `end_timestamp - duration`; `time_s` counts from the earliest arrival of the kept
/// functions; `size` is the invocation's duration over its function's mean duration
/// (so a typical invocation has size 1 and the job's model gives its latency). Which
/// functions are kept: the `top` most invoked (ties by id). Job ids are `fn-` and the
/// first 8 characters of `app` and of `func` (`fn-734272c0-313c03f5`; characters other
/// than letters and digits become `_`); a job trace maps them to models.
public enum AzureFunctions2021Importer {
    /// The attribution every derived file carries (as `#` comment lines).
    public static let attribution = [
        "Derived from the Azure Functions invocation trace 2021 (Azure Public Dataset), licensed CC-BY 4.0.",
        "Cite: Y. Zhang, I. Goiri, G. I. Chaudhry, R. Fonseca, S. Elnikety, C. Delimitrou, R. Bianchini,",
        "\"Faster and Cheaper Serverless Computing on Harvested Resources\", SOSP 2021.",
    ]

    /// One invocation.
    public struct Invocation: Sendable, Equatable {
        /// The application's hash.
        public var app: String
        /// The function's hash.
        public var function: String
        /// When it arrived: end - duration, seconds.
        public var arrival: Double
        /// Execution time, seconds.
        public var duration: Double

        /// An invocation of `function` of `app` that arrived at `arrival` and ran `duration` seconds.
        public init(app: String, function: String, arrival: Double, duration: Double) {
            self.app = app
            self.function = function
            self.arrival = arrival
            self.duration = duration
        }
    }

    /// Parses the trace file.
    public static func read(_ path: String) throws -> [Invocation] { try parse(TextFile.read(path), file: path) }

    /// Parses a trace held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String) throws -> [Invocation] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: ["app", "func", "end_timestamp", "duration"], optional: [])
        var out: [Invocation] = []
        out.reserveCapacity(table.rows.count)
        for row in table.rows {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            let app = row.fields[col["app"]!], fn = row.fields[col["func"]!]
            guard !app.isEmpty else { throw ctx("app").error("value is missing") }
            guard !fn.isEmpty else { throw ctx("func").error("value is missing") }
            let end = try ctx("end_timestamp").nonNegative(row.fields[col["end_timestamp"]!])
            let duration = try ctx("duration").nonNegative(row.fields[col["duration"]!])
            out.append(Invocation(app: app, function: fn, arrival: end - duration, duration: duration))
        }
        guard !out.isEmpty else { throw InputError(file: path, line: table.headerLine, "trace has no invocations") }
        return out
    }

    /// The job id of a function.
    public static func jobID(app: String, function: String) -> String {
        func safe(_ s: Substring) -> String { String(s.map { $0.isLetter || $0.isNumber ? $0 : "_" }) }
        return "fn-\(safe(app.prefix(8)))-\(safe(function.prefix(8)))"
    }

    /// The request trace text of the `top` most invoked functions.
    public static func convert(_ invocations: [Invocation], top: Int, source: String) -> String {
        var byFunction: [String: [Invocation]] = [:]
        for v in invocations { byFunction[jobID(app: v.app, function: v.function), default: []].append(v) }
        let kept = byFunction.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }.prefix(max(1, top))
        let t0 = kept.flatMap(\.value).map(\.arrival).min() ?? 0
        var text = attribution.map { "# \($0)\n" }.joined()
        text += "# Source file: \(source); \(invocations.count) invocations of \(byFunction.count) functions; kept the \(kept.count) most invoked"
        text += " (\(kept.reduce(0) { $0 + $1.value.count }) invocations); arrival = end_timestamp - duration; size = duration / the function's mean duration\n"
        text += "job_id,time_s,size\n"
        for (id, calls) in kept.sorted(by: { $0.key < $1.key }) {
            let mean = calls.reduce(0) { $0 + $1.duration } / Double(calls.count)
            for v in calls.sorted(by: { $0.arrival < $1.arrival }) {
                let size = mean > 0 ? min(max(v.duration / mean, 1e-6), 1e6) : 1
                text += "\(id),\(String(format: "%.6f", v.arrival - t0)),\(String(format: "%.6g", size))\n"
            }
        }
        return text
    }
}

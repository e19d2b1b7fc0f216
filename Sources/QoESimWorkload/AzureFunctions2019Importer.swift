import Foundation
import QoESimEngine
import QoESimInput

/// Converts one day of the Azure Functions trace 2019 (Azure Public Dataset, CC-BY 4.0)
/// into a QoESim request trace.
///
/// Input, per the publisher's AzureFunctionsDataset2019.md: an invocation-count file
/// (`invocations_per_function_md.anon.dNN.csv`: `HashOwner,HashApp,HashFunction,Trigger,
/// 1,...,1440`, invocations per minute of the day) and, optionally, the same day's
/// duration file (`function_durations_percentiles.anon.dNN.csv`: `HashOwner,HashApp,
/// HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,_1,_25,_50,_75,_99,_100`,
/// milliseconds).
///
/// Rules (stated, and in the output's header):
/// - Which functions: the `top` with the most invocations that day (ties by job id),
///   optionally only those of one trigger group (`http`, `timer`, ...). Job ids: `fn-`
///   and the first 8 characters of HashApp and HashFunction; a job trace maps them to
///   models.
/// - Within a minute, its n invocations are spread `even`ly (at (k + 0.5) / n of the
///   minute, k = 0..n-1) or at `random` uniform points (sorted; the stream of the job id
///   under `seed`).
/// - Sizes: with a duration file, each request's duration is drawn from the function's
///   percentiles (p0, p1, p25, p50, p75, p99, p100 of its 30-s averages, linear between
///   them: the publisher notes they tend to the true distribution when few invocations
///   fall in each 30 s) and divided by the function's Average, so that a request of the
///   average duration has size 1 (the sizes' mean is that distribution's mean over the
///   Average, e.g. 1.15 for a right-skewed function); without one, every size is 1.
public enum AzureFunctions2019Importer {
    /// The attribution every derived file carries (as `#` comment lines).
    public static let attribution = [
        "Derived from the Azure Functions trace 2019 (Azure Public Dataset), licensed CC-BY 4.0.",
        "Cite: M. Shahrad, R. Fonseca, I. Goiri, G. Chaudhry, P. Batum, J. Cooke, E. Laureano, C. Tresness, M. Russinovich,",
        "R. Bianchini, \"Serverless in the Wild: Characterizing and Optimizing the Serverless Workload at a Large Cloud Provider\", USENIX ATC 2020.",
    ]

    /// How a minute's invocations are placed inside it.
    public enum Spread: String, Sendable, CaseIterable {
        /// At equal intervals through the minute.
        case even
        /// At seeded uniform random points in the minute.
        case random
    }

    /// One function's day: its trigger and invocations per minute.
    public struct Function: Sendable, Equatable {
        /// The job id made from the app and function hashes (`fn-APP8-FUNC8`).
        public var id: String
        /// Its trigger group (http, timer, queue, ...).
        public var trigger: String
        /// Invocations in each minute of the day (1440 counts).
        public var perMinute: [Int]
        /// Invocations over the day.
        public var total: Int { perMinute.reduce(0, +) }
    }

    /// One function's duration percentiles (ms): p0, p1, p25, p50, p75, p99, p100, and the average.
    public struct Durations: Sendable, Equatable {
        /// The function's average duration, ms.
        public var average: Double
        /// Its duration percentiles p0, p1, p25, p50, p75, p99, p100, ms.
        public var percentiles: [Double]
    }

    /// The percentile levels of the duration file's columns.
    public static let levels: [Double] = [0, 0.01, 0.25, 0.5, 0.75, 0.99, 1]
    static let percentileColumns = ["percentile_Average_0", "percentile_Average_1", "percentile_Average_25", "percentile_Average_50",
                                    "percentile_Average_75", "percentile_Average_99", "percentile_Average_100"]

    /// The job id of a function.
    public static func jobID(app: String, function: String) -> String {
        AzureFunctions2021Importer.jobID(app: app, function: function)
    }

    /// Reads an invocation-count file held in memory.
    public static func parseInvocations(_ bytes: [UInt8], file path: String) throws -> [Function] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let minutes = (1...1440).map(String.init)
        let col = try table.columnIndex(required: ["HashOwner", "HashApp", "HashFunction", "Trigger"] + minutes, optional: [])
        var out: [Function] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            let app = row.fields[col["HashApp"]!], fn = row.fields[col["HashFunction"]!]
            guard !app.isEmpty else { throw ctx("HashApp").error("value is missing") }
            guard !fn.isEmpty else { throw ctx("HashFunction").error("value is missing") }
            let id = jobID(app: app, function: fn)
            if let first = seen[id] { throw ctx("HashFunction").error("function \(id) again (first at line \(first))") }
            seen[id] = row.line
            var counts = [Int](repeating: 0, count: 1440)
            for m in 0..<1440 {
                let text = row.fields[col[minutes[m]]!]
                counts[m] = text.isEmpty ? 0 : try ctx(minutes[m]).integer(text, minimum: 0)
                guard counts[m] <= 10_000_000 else { throw ctx(minutes[m]).error("\(counts[m]) invocations in one minute is beyond the limit of 1e7") }
            }
            out.append(Function(id: id, trigger: row.fields[col["Trigger"]!], perMinute: counts))
        }
        guard !out.isEmpty else { throw InputError(file: path, line: table.headerLine, "the file has no functions") }
        return out
    }

    /// Reads a duration-percentile file held in memory, by job id.
    public static func parseDurations(_ bytes: [UInt8], file path: String) throws -> [String: Durations] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: ["HashApp", "HashFunction", "Average"] + percentileColumns, optional: ["HashOwner", "Count", "Minimum", "Maximum"])
        var out: [String: Durations] = [:]
        for row in table.rows {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            let id = jobID(app: row.fields[col["HashApp"]!], function: row.fields[col["HashFunction"]!])
            let average = try ctx("Average").nonNegative(row.fields[col["Average"]!])
            let p = try percentileColumns.map { try ctx($0).nonNegative(row.fields[col[$0]!]) }
            guard zip(p, p.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw ctx("percentile_Average_0").error("percentiles must not decrease: \(p.map { "\($0)" }.joined(separator: ", "))")
            }
            out[id] = Durations(average: average, percentiles: p)
        }
        return out
    }

    /// The request trace text of the `top` most invoked functions (of `trigger`, if given).
    public static func convert(
        _ functions: [Function], durations: [String: Durations]?, top: Int, trigger: String?, spread: Spread, seed: UInt64, source: String
    ) -> String {
        let pool = functions.filter { trigger == nil || $0.trigger == trigger }
        let kept = pool.sorted { ($0.total, $1.id) > ($1.total, $0.id) }.prefix(max(1, top)).sorted { $0.id < $1.id }
        var text = attribution.map { "# \($0)\n" }.joined()
        text += "# Source: \(source); \(functions.count) functions; kept the \(kept.count) most invoked"
        text += trigger.map { " of trigger \($0)" } ?? ""
        text += " (\(kept.reduce(0) { $0 + $1.total }) invocations); a minute's invocations spread \(spread.rawValue == "even" ? "evenly" : "at uniform random points (seed \(seed))")"
        text += durations == nil ? "; sizes 1 (no duration file)\n" : "; size = a duration drawn from the function's percentiles / its Average (1 where it has none)\n"
        text += "job_id,time_s,size\n"
        for f in kept {
            var times = RandomStream(seed: seed, key: f.id, purpose: .arrivals)
            var sizes = RandomStream(seed: seed, key: f.id, purpose: .service)
            let d = durations?[f.id].flatMap { $0.average > 0 ? $0 : nil }
            for (m, n) in f.perMinute.enumerated() where n > 0 {
                var offsets = (0..<n).map { k in spread == .even ? (Double(k) + 0.5) / Double(n) : times.nextUnitInterval() }
                if spread == .random { offsets.sort() }
                for o in offsets {
                    var size = 1.0
                    if let d { size = min(max(quantile(d.percentiles, sizes.nextUnitInterval()) / d.average, 1e-6), 1e6) }
                    text += "\(f.id),\(String(format: "%.6f", (Double(m) + o) * 60)),\(String(format: "%.6g", size))\n"
                }
            }
        }
        return text
    }

    /// The value at probability `u` of the piecewise-linear distribution through
    /// (levels[i], p[i]).
    static func quantile(_ p: [Double], _ u: Double) -> Double {
        for i in 1..<levels.count where u <= levels[i] {
            let w = (u - levels[i - 1]) / (levels[i] - levels[i - 1])
            return p[i - 1] + w * (p[i] - p[i - 1])
        }
        return p[p.count - 1]
    }
}

import Foundation
import QoESimInput

/// Converts the Azure LLM inference traces 2023 and 2024 (Azure Public Dataset, CC-BY 4.0)
/// into a QoESim request trace.
///
/// Input columns (both editions, per the publisher's AzureLLMInferenceDataset2023.md and
/// 2024.md): `TIMESTAMP,ContextTokens,GeneratedTokens`, with timestamps like
/// `2023-11-16 18:17:03.9799600` (2023) or `2024-05-10 00:00:00.009930+00:00` and
/// `2024-05-12 00:00:00+00:00` (2024: a UTC offset, and whole seconds without a fraction,
/// as the publisher's analysis notebook notes). Output: `job_id,time_s,size` where `time_s` is
/// seconds since the first request and `size` is the request's token count (per
/// ``SizeBasis``) divided by the mean over the trace, so a typical request has size 1
/// and the model's latency model describes it.
public enum AzureLLMImporter {
    /// Which token counts make a request's size.
    public enum SizeBasis: String, Sendable, CaseIterable {
        /// ContextTokens + GeneratedTokens.
        case total
        /// ContextTokens (prompt processing).
        case context
        /// GeneratedTokens (decoding).
        case generated
        /// Every request has size 1.
        case none
    }

    /// Which edition of the trace: each has its own paper to cite.
    public enum Edition: String, Sendable, CaseIterable {
        /// The 2023 edition (timestamps without a UTC offset).
        case y2023 = "2023"
        /// The 2024 edition (timestamps with a UTC offset, whole seconds).
        case y2024 = "2024"

        /// The attribution every derived file carries (as `#` comment lines).
        public var attribution: [String] {
            switch self {
            case .y2023:
                [
                    "Derived from the Azure LLM inference trace 2023 (Azure Public Dataset), licensed CC-BY 4.0.",
                    "Cite: P. Patel, E. Choukse, C. Zhang, A. Shah, I. Goiri, S. Maleki, R. Bianchini,",
                    "\"Splitwise: Efficient generative LLM inference using phase splitting\", ISCA 2024.",
                ]
            case .y2024:
                [
                    "Derived from the Azure LLM inference trace 2024 (Azure Public Dataset), licensed CC-BY 4.0.",
                    "Cite: J. Stojkovic, C. Zhang, I. Goiri, J. Torrellas, E. Choukse,",
                    "\"DynamoLLM: Designing LLM Inference Clusters for Performance and Energy Efficiency\", arXiv:2408.00741.",
                ]
            }
        }

        /// The edition a trace's first timestamp belongs to (its year), nil for another year.
        public static func of(firstTimestamp stamp: String) -> Edition? {
            stamp.hasPrefix("2023-") ? .y2023 : stamp.hasPrefix("2024-") ? .y2024 : nil
        }
    }

    /// The 2023 edition's attribution (the bundled trace's).
    public static let attribution = Edition.y2023.attribution

    /// One parsed request.
    public struct Record: Sendable, Equatable {
        /// Seconds since the trace's first request.
        public var time: Double
        /// Prompt tokens.
        public var contextTokens: Int
        /// Generated tokens.
        public var generatedTokens: Int

        /// A request at `time` with its token counts.
        public init(time: Double, contextTokens: Int, generatedTokens: Int) {
            self.time = time
            self.contextTokens = contextTokens
            self.generatedTokens = generatedTokens
        }
    }

    /// Parses the trace file; times are seconds since the first row's timestamp.
    public static func read(_ path: String) throws -> [Record] {
        try parse(TextFile.read(path), file: path)
    }

    /// Parses a trace held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String) throws -> [Record] {
        try parseWithEdition(bytes, file: path).records
    }

    /// Parses the trace file, with the edition its first TIMESTAMP's year names (nil for
    /// a year other than 2023 and 2024).
    public static func readWithEdition(_ path: String) throws -> (records: [Record], edition: Edition?) {
        try parseWithEdition(TextFile.read(path), file: path)
    }

    static func parseWithEdition(_ bytes: [UInt8], file path: String) throws -> (records: [Record], edition: Edition?) {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let col = try table.columnIndex(required: ["TIMESTAMP", "ContextTokens", "GeneratedTokens"], optional: [])
        var out: [Record] = []
        out.reserveCapacity(table.rows.count)
        var t0: Double? = nil
        for row in table.rows {
            let stamp = row.fields[col["TIMESTAMP"]!]
            guard let t = parseTimestamp(stamp) else {
                throw InputError(file: path, line: row.line, "TIMESTAMP: '\(stamp)' is not 'YYYY-MM-DD HH:MM:SS[.fraction][+HH:MM]'")
            }
            let ctx = try FieldContext(file: path, line: row.line, column: "ContextTokens")
                .integer(row.fields[col["ContextTokens"]!], minimum: 0)
            let gen = try FieldContext(file: path, line: row.line, column: "GeneratedTokens")
                .integer(row.fields[col["GeneratedTokens"]!], minimum: 0)
            if t0 == nil { t0 = t }
            let rel = t - t0!
            guard rel >= 0 else {
                throw InputError(file: path, line: row.line, "TIMESTAMP: earlier than the first row (trace must start with its earliest request)")
            }
            out.append(Record(time: rel, contextTokens: ctx, generatedTokens: gen))
        }
        guard !out.isEmpty else { throw InputError(file: path, line: table.headerLine, "trace has no requests") }
        return (out, Edition.of(firstTimestamp: table.rows[0].fields[col["TIMESTAMP"]!]))
    }

    /// Writes the request trace text for `jobID`; `timeScale` stretches (>1) or
    /// compresses (<1) time, `limit` keeps only the first requests.
    public static func convert(
        _ records: [Record], jobID: String, sizeBasis: SizeBasis, timeScale: Double = 1, source: String, edition: Edition = .y2023
    ) -> String {
        func tokens(_ r: Record) -> Double {
            switch sizeBasis {
            case .total: return Double(r.contextTokens + r.generatedTokens)
            case .context: return Double(r.contextTokens)
            case .generated: return Double(r.generatedTokens)
            case .none: return 1
            }
        }
        let mean = records.reduce(0.0) { $0 + tokens($1) } / Double(records.count)
        var text = edition.attribution.map { "# \($0)\n" }.joined()
        text += "# Source file: \(source); \(records.count) requests; size basis: \(sizeBasis.rawValue)"
        text += " tokens / mean (\(String(format: "%.2f", mean))); time scale: \(timeScale)\n"
        text += "job_id,time_s,size\n"
        for r in records {
            let size = mean > 0 ? max(tokens(r) / mean, 1e-6) : 1
            text += "\(jobID),\(String(format: "%.6f", r.time * timeScale)),\(String(format: "%.6g", size))\n"
        }
        return text
    }

    /// Seconds since 1970-01-01 UTC of `YYYY-MM-DD HH:MM:SS[.fraction][+HH:MM|-HH:MM]` (no
    /// offset: UTC), years 1-9999 (a longer year overflowed the day arithmetic: found by
    /// the fuzzer).
    public static func parseTimestamp(_ s: String) -> Double? {
        let parts = s.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let d = parts[0].split(separator: "-").compactMap { Int($0) }
        var clock = parts[1]
        var offset = 0
        if let sign = clock.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = clock[clock.index(after: sign)...].split(separator: ":", omittingEmptySubsequences: false)
            guard zone.count == 2, zone.allSatisfy({ $0.count == 2 }), let zh = Int(zone[0]), let zm = Int(zone[1]),
                  (0...14).contains(zh), (0..<60).contains(zm) else { return nil }
            offset = (clock[sign] == "+" ? 1 : -1) * (zh * 3600 + zm * 60)
            clock = clock[..<sign]
        }
        let tParts = clock.split(separator: ":")
        guard d.count == 3, tParts.count == 3, let h = Int(tParts[0]), let m = Int(tParts[1]),
              let sec = Double(tParts[2]), (1...9999).contains(d[0]), (1...12).contains(d[1]), (1...31).contains(d[2]),
              (0..<24).contains(h), (0..<60).contains(m), sec >= 0, sec < 61 else { return nil }
        // Days from civil (H. Hinnant's algorithm).
        let y = d[1] <= 2 ? d[0] - 1 : d[0]
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (d[1] + 9) % 12
        let doy = (153 * mp + 2) / 5 + d[2] - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days) * 86400 + Double(h * 3600 + m * 60 - offset) + sec
    }
}

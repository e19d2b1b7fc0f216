import Foundation
import QoESimInput

/// Converts the BurstGPT trace (HPMLL/BurstGPT: ChatGPT and GPT-4 requests served on
/// Azure) into a QoESim request trace.
///
/// Input, per the publisher's README: `Timestamp,Model,Request tokens,Response tokens,
/// Total tokens,Log Type` (release 2.0 adds `Session ID` and `Elapsed time`, read and
/// ignored here); `Timestamp` is the request's submission in seconds from 0:00:00 on the
/// first day. Failed requests are dropped by the rule the publishers state and used to
/// make their `BurstGPT_without_fails_*.csv` files: a failure is a row whose `Response
/// tokens` is 0.
///
/// Output: `job_id,time_s,size`, one job per `Model` (`--by model`), per `Log Type`, or per
/// both; job ids are the names in lower case with other characters than letters and
/// digits as `-` (`chatgpt`, `gpt-4`, `chatgpt-conversation-log`). `time_s` counts from
/// the earliest kept request; `size` is the request's total tokens over its job's mean.
public enum BurstGPTImporter {
    /// The attribution every derived file carries (as `#` comment lines). The
    /// publisher's README asks for the paper to be cited and states no licence for the
    /// data (as read on 2026-12-05): the output says so.
    public static let attribution = [
        "Derived from the BurstGPT trace (github.com/HPMLL/BurstGPT; ChatGPT and GPT-4 requests served on Azure).",
        "Cite: Y. Wang, Y. Chen, Z. Li, X. Kang, Z. Tang, X. He, R. Guo, X. Wang, Q. Wang, A. C. Zhou, X. Chu,",
        "\"BurstGPT: A Real-world Workload Dataset to Optimize LLM Serving Systems\", arXiv:2401.17644. Licence: see the",
        "publisher's repository (its README states none for the data; check it before redistributing this file).",
    ]

    /// How requests are grouped into jobs.
    public enum Grouping: String, Sendable, CaseIterable {
        /// One job per model.
        case model
        /// One job per log type.
        case logType = "log-type"
        /// One job per model and log type.
        case both
    }

    /// One request.
    public struct Request: Sendable, Equatable {
        /// Seconds since the trace's start.
        public var time: Double
        /// The model that served it (ChatGPT, GPT-4).
        public var model: String
        /// The log it comes from (Conversation log, API log).
        public var logType: String
        /// Prompt tokens.
        public var requestTokens: Int
        /// Response tokens (0: failed).
        public var responseTokens: Int
        /// Prompt plus response tokens.
        public var totalTokens: Int

        /// A request with its fields as the trace gives them.
        public init(time: Double, model: String, logType: String, requestTokens: Int, responseTokens: Int, totalTokens: Int) {
            self.time = time
            self.model = model
            self.logType = logType
            self.requestTokens = requestTokens
            self.responseTokens = responseTokens
            self.totalTokens = totalTokens
        }

        /// Whether the publishers count it as failed: no response tokens.
        public var failed: Bool { responseTokens == 0 }
    }

    /// Parses the trace file.
    public static func read(_ path: String) throws -> [Request] { try parse(TextFile.read(path), file: path) }

    /// Parses a trace held in memory (`path` names it in errors); failed rows included.
    public static func parse(_ bytes: [UInt8], file path: String) throws -> [Request] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let names = ["Timestamp", "Model", "Request tokens", "Response tokens", "Total tokens", "Log Type"]
        let col = try table.columnIndex(required: names, optional: ["Session ID", "Elapsed time"])
        var out: [Request] = []
        out.reserveCapacity(table.rows.count)
        for row in table.rows {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: path, line: row.line, column: c) }
            let t = try ctx("Timestamp").nonNegative(row.fields[col["Timestamp"]!])
            let model = row.fields[col["Model"]!]
            guard !model.isEmpty else { throw ctx("Model").error("value is missing") }
            out.append(Request(
                time: t, model: model, logType: row.fields[col["Log Type"]!],
                requestTokens: try ctx("Request tokens").integer(row.fields[col["Request tokens"]!], minimum: 0),
                responseTokens: try ctx("Response tokens").integer(row.fields[col["Response tokens"]!], minimum: 0),
                totalTokens: try ctx("Total tokens").integer(row.fields[col["Total tokens"]!], minimum: 0)))
        }
        guard !out.isEmpty else { throw InputError(file: path, line: table.headerLine, "trace has no requests") }
        return out
    }

    /// The job id of a request under `grouping`.
    public static func jobID(_ r: Request, _ grouping: Grouping) -> String {
        func safe(_ s: String) -> String {
            let t = String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
            return t.isEmpty ? "unnamed" : t
        }
        switch grouping {
        case .model: return safe(r.model)
        case .logType: return safe(r.logType)
        case .both: return safe(r.model + " " + r.logType)
        }
    }

    /// The request trace text: failed requests dropped, one job per group.
    public static func convert(_ requests: [Request], grouping: Grouping, source: String) -> String {
        let kept = requests.filter { !$0.failed }
        var byJob: [String: [Request]] = [:]
        for r in kept { byJob[jobID(r, grouping), default: []].append(r) }
        let t0 = kept.map(\.time).min() ?? 0
        var text = attribution.map { "# \($0)\n" }.joined()
        text += "# Source file: \(source); \(requests.count) requests, \(requests.count - kept.count) failed (Response tokens 0) dropped;"
        text += " jobs by \(grouping.rawValue): \(byJob.keys.sorted().joined(separator: ", ")); size = total tokens / the job's mean\n"
        text += "job_id,time_s,size\n"
        for (id, rs) in byJob.sorted(by: { $0.key < $1.key }) {
            let mean = Double(rs.reduce(0) { $0 + $1.totalTokens }) / Double(rs.count)
            for r in rs.sorted(by: { $0.time < $1.time }) {
                let size = mean > 0 ? min(max(Double(r.totalTokens) / mean, 1e-6), 1e6) : 1
                text += "\(id),\(String(format: "%.6f", r.time - t0)),\(String(format: "%.6g", size))\n"
            }
        }
        return text
    }
}

import Foundation
import QoESim
import QoESimExperiments

/// Every profile CSV qoesim measures, as one type: `#` comment lines (what was measured,
/// on which machine, when), a header and rows. The latency profiles (one container under
/// a quota, co-located containers, the cold start) use the columns `QoESimFit.Profile`
/// reads; the idle-spin and spin-share profiles their own (``Kind``). Written whole and
/// atomically; read back with file:line errors.
public struct ProfileFile: Sendable, Equatable {
    /// What a profile measures, and so its columns.
    public enum Kind: String, Sendable, CaseIterable {
        /// One container at a time under a CPU limit (`--cpus`, or a cgroup quota).
        case quota
        /// Several containers at once (`colocated`, `limit` columns).
        case colocated
        /// One container at a time with idle time before each request (`gap_ms`).
        case cold
        /// CPU seconds of runs alone without a limit, back to back and idle-gapped, and the
        /// seconds their requests took (`request_seconds`, the sum of their latencies).
        case spin
        /// CPU seconds of idle-gapped runs alone and beside a busy container.
        case spinShare = "spin-share"

        /// The header of this kind's CSV.
        public var columns: [String] {
            let latency = ["model", "device", "cpus", "gpu_share", "batch", "latency_ms", "mechanism", "request"]
            switch self {
            case .quota: return latency
            case .colocated: return latency + ["colocated", "limit"]
            case .cold: return latency + ["gap_ms"]
            case .spin: return ["network", "pair", "gap_ms", "requests", "cpu_seconds", "request_seconds"]
            case .spinShare: return ["network", "repeat", "neighbours", "thread_timeout", "requests", "cpu_seconds"]
            }
        }
    }

    public var kind: Kind
    /// Comment lines, without the leading `# `.
    public var comments: [String]
    /// Rows, one field per column of ``Kind/columns``.
    public var rows: [[String]]

    public init(kind: Kind, comments: [String], rows: [[String]] = []) {
        self.kind = kind
        self.comments = comments
        self.rows = rows
    }

    /// The machine line every profile carries: CPU model, cores, when.
    public static func machineComment(date: Date = Date()) -> String {
        "machine: \(MachineFacts.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; measured \(ISO8601DateFormatter().string(from: date))"
    }

    /// The CSV text.
    public var text: String {
        var text = comments.map { "# " + $0 + "\n" }.joined()
        text += kind.columns.joined(separator: ",") + "\n"
        for row in rows { text += row.map(CSVTable.field).joined(separator: ",") + "\n" }
        return text
    }

    /// Writes the file through a temporary file and a rename (its folder is made). An
    /// existing file is replaced only if it is a qoesim profile (its first line starts
    /// with `# qoesim `) or `force` is set; a folder never.
    public func write(to path: String, force: Bool = false) throws {
        try OwnedFile.replace(path, with: text, kind: .firstLinePrefix("# qoesim "), force: force)
    }

    /// Reads a profile of `kind` written by ``write(to:)``: its header must be the kind's
    /// columns, every row complete.
    public static func read(_ path: String, kind: Kind) throws -> ProfileFile {
        let table = try CSVTable(path: path)
        guard table.header == kind.columns else {
            throw InputError(file: path, line: table.headerLine, "expected the \(kind.rawValue) profile's columns \(kind.columns.joined(separator: ",")), got \(table.header.joined(separator: ","))")
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let comments = text.split(separator: "\n").prefix { $0.hasPrefix("#") }.map { String($0.dropFirst(2)) }
        var file = ProfileFile(kind: kind, comments: comments, rows: table.rows.map(\.fields))
        file.lines = table.rows.map(\.line)
        file.path = path
        return file
    }

    /// Source lines of the rows (when read from a file), for errors.
    var lines: [Int] = []
    var path: String = ""

    /// The number in `column` of row `i`, or an error naming file, line and column.
    public func number(_ i: Int, _ column: String) throws -> Double {
        guard let c = kind.columns.firstIndex(of: column) else { throw InputError(file: path, line: 0, "no column \(column)") }
        return try FieldContext(file: path, line: i < lines.count ? lines[i] : 0, column: column).double(rows[i][c])
    }

    /// The text in `column` of row `i`.
    public func field(_ i: Int, _ column: String) -> String {
        kind.columns.firstIndex(of: column).map { rows[i][$0] } ?? ""
    }

    public static func == (a: ProfileFile, b: ProfileFile) -> Bool { a.kind == b.kind && a.comments == b.comments && a.rows == b.rows }
}

/// Facts about this machine that profiles and their cache key name.
public enum MachineFacts {
    /// This machine's CPU model, as /proc/cpuinfo names it.
    public static var cpuModel: String {
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    }
}

import Foundation
import QoESimInput

/// One request of a replayed request trace.
public struct TracedRequest: Sendable, Equatable {
    /// Seconds after the job's container is deployed.
    public var offset: Double
    /// Multiplier of the request's service demand (1 = a typical request).
    public var size: Double

    /// A request `offset` seconds after its job's deployment, with service demand `size` times the model's mean.
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

    /// Reads a request trace for every job it names (for fitting, not replay: no job
    /// trace to check the ids against).
    public static func loadAll(_ path: String) throws -> [String: [TracedRequest]] {
        let bytes = try TextFile.read(path)
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let c = try columns(header: table.header, line: table.headerLine, path: path)
        if let empty = table.rows.first(where: { $0.fields[c.job].isEmpty }) {
            throw InputError(file: path, line: empty.line, "job_id: value is missing")
        }
        return try parse(bytes, file: path, jobIDs: Array(Set(table.rows.map { $0.fields[c.job] })))
    }

    /// Files larger than this are validated in one pass and then streamed from disk
    /// (``StreamedRequestTrace``) instead of being held in memory.
    public static let streamAbove: UInt64 = 256 << 20

    /// The columns of a request trace.
    static func columns(header: [String], line: Int, path: String) throws -> (job: Int, time: Int, size: Int?) {
        let col = try CSVTable.columnIndex(header: header, line: line, path: path, required: ["job_id", "time_s"], optional: ["size"])
        return (col["job_id"]!, col["time_s"]!, col["size"])
    }

    /// One row, checked: its job (one of `known`) and request.
    @inline(__always)
    static func row(
        _ fields: [String], line: Int, path: String, columns c: (job: Int, time: Int, size: Int?), known: Set<String>
    ) throws -> (job: String, request: TracedRequest) {
        let id = fields[c.job]
        guard known.contains(id) else {
            throw InputError(file: path, line: line, "job_id: '\(id)' is not a job of the job trace")
        }
        let t = try FieldContext(file: path, line: line, column: "time_s").nonNegative(fields[c.time])
        var size = 1.0
        if let s = c.size, !fields[s].isEmpty {
            size = try FieldContext(file: path, line: line, column: "size").positive(fields[s])
        }
        return (id, TracedRequest(offset: t, size: size))
    }

    /// Validates a request trace held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String, jobIDs: [String]) throws -> [String: [TracedRequest]] {
        let table = try CSVTable(path: path, bytes: TextFile.check(bytes, file: path))
        let c = try columns(header: table.header, line: table.headerLine, path: path)
        let known = Set(jobIDs)
        var out: [String: [TracedRequest]] = [:]
        for r in table.rows {
            let (id, request) = try row(r.fields, line: r.line, path: path, columns: c, known: known)
            out[id, default: []].append(request)
        }
        for (k, v) in out where !zip(v, v.dropFirst()).allSatisfy({ $0.offset <= $1.offset }) {
            out[k] = v.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
        }
        return out
    }
}

/// A request trace too large to hold, validated in one streaming pass (every row checked
/// as ``RequestTrace/parse(_:file:jobIDs:)`` checks it) and then read back job by job with
/// bounded memory (``reader(for:stretch:)``). Each job's rows must be in time order in the
/// file (rows of different jobs may interleave): an earlier time after a later one is an
/// error naming both lines, since a stream cannot be sorted in bounded memory.
public final class StreamedRequestTrace: @unchecked Sendable {
    /// The trace file.
    public let path: String
    let header: [String]
    let columns: (job: Int, time: Int, size: Int?)
    /// Requests per job.
    public let counts: [String: Int]
    /// Where each job's first row is.
    let first: [String: (offset: UInt64, line: Int)]
    /// File size and modification time at validation: a reader refuses a changed file.
    let identity: (size: UInt64, modified: Double)

    /// Validates `path` in one pass; every `job_id` must be one of `jobIDs`.
    public init(validating path: String, jobIDs: [String]) throws {
        let stream = try CSVStream(path: path)
        let c = try RequestTrace.columns(header: stream.header, line: stream.headerLine, path: path)
        var index: [String: Int] = [:]
        for (k, id) in jobIDs.enumerated() where index[id] == nil { index[id] = k }
        let known = Set(jobIDs)
        var counts = [Int](repeating: 0, count: jobIDs.count)
        var first = [(offset: UInt64, line: Int)?](repeating: nil, count: jobIDs.count)
        var last = [(time: Double, line: Int)?](repeating: nil, count: jobIDs.count)
        while let r = try stream.next() {
            let (id, request) = try RequestTrace.row(r.fields, line: r.line, path: path, columns: c, known: known)
            let k = index[id]!
            if let previous = last[k], request.offset < previous.time {
                throw InputError(
                    file: path, line: r.line,
                    "time_s \(request.offset) of job '\(id)' is earlier than \(previous.time) on line \(previous.line): a request trace over "
                        + "\(RequestTrace.streamAbove >> 20) MiB is streamed and must list each job's requests in time order "
                        + "(e.g. `sort -t, -k1,1 -k2,2g`, header first)")
            }
            last[k] = (request.offset, r.line)
            counts[k] += 1
            if first[k] == nil { first[k] = (r.offset, r.line) }
        }
        self.path = path
        header = stream.header
        columns = c
        var countByID: [String: Int] = [:], firstByID: [String: (offset: UInt64, line: Int)] = [:]
        for (id, k) in index where counts[k] > 0 {
            countByID[id] = counts[k]
            firstByID[id] = first[k]
        }
        self.counts = countByID
        self.first = firstByID
        identity = try StreamedRequestTrace.identity(path)
    }

    static func identity(_ path: String) throws -> (size: UInt64, modified: Double) {
        let a = try FileManager.default.attributesOfItem(atPath: path)
        return ((a[.size] as? NSNumber)?.uint64Value ?? 0, (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    }

    /// A reader of one job's requests in time order, offsets times `stretch`.
    public func reader(for job: String, stretch: Double = 1) -> RequestReader {
        RequestReader(trace: self, job: job, stretch: stretch)
    }

    /// Every request of one job, in memory (live runs, which are short).
    public func requests(of job: String, stretch: Double = 1) -> [TracedRequest] {
        let r = reader(for: job, stretch: stretch)
        var out: [TracedRequest] = []
        out.reserveCapacity(counts[job] ?? 0)
        while let x = r.next() { out.append(x) }
        return out
    }
}

/// Reads one job's requests from a validated ``StreamedRequestTrace``, skipping the rows
/// of other jobs; memory: one chunk. The file is opened at the first call of ``next()``.
public final class RequestReader {
    let trace: StreamedRequestTrace
    let job: String
    let stretch: Double
    let known: Set<String>
    let key: [UInt8]
    var stream: CSVStream?
    var done = false

    init(trace: StreamedRequestTrace, job: String, stretch: Double) {
        self.trace = trace
        self.job = job
        known = [job]
        key = Array(job.utf8)
        self.stretch = stretch
        done = trace.first[job] == nil
    }

    /// The job's next request, nil after its last. A file changed since it was validated
    /// stops the program with a message naming it: the run's input is gone.
    public func next() -> TracedRequest? {
        if done { return nil }
        do {
            if stream == nil {
                guard (try? StreamedRequestTrace.identity(trace.path)).map({ $0 == trace.identity }) ?? false else {
                    throw InputError(file: trace.path, line: 0, "the request trace changed after it was validated")
                }
                let start = trace.first[job]!
                stream = try CSVStream(path: trace.path, header: trace.header, resumeAt: start.offset, line: start.line)
            }
            while let r = try stream!.next(whereField: trace.columns.job, is: key) {
                let (_, request) = try RequestTrace.row(r.fields, line: r.line, path: trace.path, columns: trace.columns, known: known)
                return TracedRequest(offset: request.offset * stretch, size: request.size)
            }
        } catch {
            fatalError("\(error)")
        }
        done = true
        stream = nil
        return nil
    }
}

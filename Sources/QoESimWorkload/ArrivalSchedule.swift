import QoESimEngine

/// The arrivals of one job: the one place where request times are drawn, for the
/// simulator and for the live load generator alike (same seed, same stream, same
/// arithmetic, so both send the same requests at the same times).
///
/// A schedule starts when the job's container is placed (``begin(at:)``) and answers in
/// the caller's clock (simulated seconds, or run seconds of a live run):
/// - Poisson: ``next()`` gives each arrival, the previous one plus an exponential gap
///   drawn from the job's arrivals stream, while it falls before the job's end.
/// - Trace: ``next()`` gives each replayed request at start + its offset, with its size,
///   while its offset is below the job's duration.
/// - Closed loop: ``initialRequests`` (the job's `workers`) are sent at the start, and a
///   request completing at `t` is followed by the next one at `t` while
///   ``continuesAfter(completionAt:)``; ``next()`` gives nothing.
///
/// The schedule holds one random stream and one trace reader: memory does not grow with
/// the number of requests.
public struct ArrivalSchedule {
    /// How the job's requests arrive.
    public let process: ArrivalProcess
    /// When the job's container was placed (the caller's clock).
    public private(set) var start = 0.0
    /// When the job stops receiving requests: start + duration.
    public private(set) var end = 0.0
    /// Requests sent at the start, before any completes: `workers` for a closed loop,
    /// 0 otherwise.
    public let initialRequests: Int
    @usableFromInline let duration: Double
    @usableFromInline let meanGap: Double
    @usableFromInline var stream: RandomStream
    @usableFromInline var feed: TracedFeed
    /// The previous arrival (the start before the first).
    @usableFromInline var last = 0.0

    /// The schedule of `job` under `seed`; `feed` holds or streams its replayed requests
    /// (empty unless its arrivals are `trace`).
    public init(job: JobSpec, seed: UInt64, feed: TracedFeed = TracedFeed(held: [])) {
        process = job.arrivals
        duration = job.duration
        meanGap = job.arrivals == .poisson ? 1 / job.rate : 0
        initialRequests = job.arrivals == .closed ? job.workers : 0
        stream = RandomStream(seed: seed, key: job.id, purpose: .arrivals)
        self.feed = job.arrivals == .trace ? feed : TracedFeed(held: [])
    }

    /// Starts the schedule: the job's container was placed at `t`.
    public mutating func begin(at t: Double) {
        start = t
        end = t + duration
        last = t
    }

    /// The next open-loop arrival (time and service-demand multiplier), nil once the
    /// job's window has no more (and always for a closed loop).
    @inlinable @inline(__always) public mutating func next() -> (time: Double, size: Double)? {
        switch process {
        case .poisson:
            let t = last + stream.nextExponential(mean: meanGap)
            guard t < end else { return nil }
            last = t
            return (t, 1)
        case .trace:
            guard let r = feed.next(), r.offset < duration else { return nil }
            last = start + r.offset
            return (last, r.size)
        case .closed:
            return nil
        }
    }

    /// Closed loop: whether a request that completes at `t` is followed by another
    /// (sent at `t`): while `t` is before the job's end.
    @inlinable public func continuesAfter(completionAt t: Double) -> Bool { process == .closed && t < end }
}

/// One job's replayed requests in time order: an array held in memory, or a reader of a
/// request trace streamed from disk (``StreamedRequestTrace``).
public struct TracedFeed {
    @usableFromInline let held: [TracedRequest]
    @usableFromInline var index = 0
    @usableFromInline let reader: RequestReader?

    /// Requests held in memory, in time order.
    public init(held: [TracedRequest]) {
        self.held = held
        reader = nil
    }

    /// Requests streamed from a request trace on disk.
    public init(reader: RequestReader) {
        held = []
        self.reader = reader
    }

    /// The next request, nil after the last.
    @inlinable public mutating func next() -> TracedRequest? {
        if let reader { return reader.next() }
        guard index < held.count else { return nil }
        defer { index += 1 }
        return held[index]
    }
}

import Foundation
import QoESimEngine

/// The arrivals of one job: the one place where request times are drawn, for the
/// simulator and for the live load generator alike (same seed, same stream, same
/// arithmetic, so both send the same requests at the same times).
///
/// A schedule starts when the job's container is placed (``begin(at:)``) and answers in
/// the caller's clock (simulated seconds, or run seconds of a live run):
/// - Poisson: ``next()`` gives each arrival, the previous one plus an exponential gap
///   drawn from the job's arrivals stream, while it falls before the job's end.
/// - Gamma, Weibull: the same with gaps of the process's law (mean 1 / rate), the first
///   one a full gap from the start (an ordinary renewal process).
/// - MMPP: the hidden state is drawn from the chain's stationary law at the start, so
///   the process is stationary from its first second; arrivals at the state's rate
///   (scaled to the job's mean rate), state changes after exponential dwell times.
/// - Time-varying: Poisson at rate x multiplier(t - start): a piecewise profile by
///   inverting its cumulative rate, a sinusoid by thinning at its peak rate.
/// - Trace: ``next()`` gives each replayed request at start + its offset, with its size,
///   while its offset is below the job's duration.
/// - Closed loop: ``initialRequests`` (the job's `workers`) are sent at the start, and a
///   request completing at `t` is followed by the next one at `t` while
///   ``continuesAfter(completionAt:)``; ``next()`` gives nothing.
///
/// The schedule holds one random stream and one trace reader: memory does not grow with
/// the number of requests.
public struct ArrivalSchedule {
    /// When the job's container was placed (the caller's clock).
    public private(set) var start = 0.0
    /// When the job stops receiving requests: start + duration.
    public private(set) var end = 0.0
    /// Requests sent at the start, before any completes: `workers` for a closed loop,
    /// 0 otherwise.
    public let initialRequests: Int
    @usableFromInline let duration: Double
    @usableFromInline let meanGap: Double
    @usableFromInline let kind: Kind
    @usableFromInline var stream: RandomStream
    @usableFromInline var feed: TracedFeed
    /// The previous arrival (the start before the first).
    @usableFromInline var last = 0.0
    /// The parameters of every drawn process but Poisson (one immutable reference, so
    /// that the schedules of Poisson and closed-loop jobs stay small on the hot path, and
    /// copies of a schedule share nothing that changes) and where it is.
    @usableFromInline let drawn: DrawnArrivals?
    @usableFromInline var position = DrawnArrivals.Position()

    /// The schedule of `job` under `seed`; `feed` holds or streams its replayed requests
    /// (empty unless its arrivals are `trace`).
    public init(job: JobSpec, seed: UInt64, feed: TracedFeed = TracedFeed(held: [])) {
        self.init(process: job.arrivals, rate: job.rate, duration: job.duration, seed: seed, key: job.id, workers: job.workers, feed: feed)
    }

    /// The schedule of a process at mean `rate` for `duration` seconds, drawing from the
    /// arrivals stream of (`seed`, `key`): the stream a job with id `key` draws from.
    public init(
        process: ArrivalProcess, rate: Double, duration: Double, seed: UInt64, key: String, workers: Int = 1,
        feed: TracedFeed = TracedFeed(held: [])
    ) {
        self.duration = duration
        meanGap = process.drawsArrivals ? 1 / rate : 0
        initialRequests = process.isClosed ? workers : 0
        stream = RandomStream(seed: seed, key: key, purpose: .arrivals)
        switch process {
        case .poisson: kind = .poisson
        case .closed: kind = .closed
        case .trace: kind = .trace
        default: kind = .drawn
        }
        self.feed = kind == .trace ? feed : TracedFeed(held: [])
        drawn = kind == .drawn ? DrawnArrivals(process: process, rate: rate) : nil
    }

    /// How the job's requests arrive.
    public var process: ArrivalProcess {
        switch kind {
        case .poisson: .poisson
        case .closed: .closed
        case .trace: .trace
        case .drawn: drawn!.process
        }
    }

    /// The arrival times of a whole window [0, duration) (for fitting and tests; a
    /// simulation draws them one at a time).
    public static func times(of process: ArrivalProcess, rate: Double, duration: Double, seed: UInt64, key: String) -> [Double] {
        var s = ArrivalSchedule(process: process, rate: rate, duration: duration, seed: seed, key: key)
        s.begin(at: 0)
        var out: [Double] = []
        while let a = s.next() { out.append(a.time) }
        return out
    }

    /// Starts the schedule: the job's container was placed at `t`.
    public mutating func begin(at t: Double) {
        start = t
        end = t + duration
        last = t
        drawn?.begin(at: t, position: &position, stream: &stream)
    }

    /// The next open-loop arrival (time and service-demand multiplier), nil once the
    /// job's window has no more (and always for a closed loop).
    @inlinable @inline(__always) public mutating func next() -> (time: Double, size: Double)? {
        switch kind {
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
        case .drawn:
            return nextDrawn()
        }
    }

    @usableFromInline mutating func nextDrawn() -> (time: Double, size: Double)? {
        let t = drawn!.next(after: last, start: start, end: end, position: &position, stream: &stream)
        guard t < end else { return nil }
        last = t
        return (t, 1)
    }

    /// The schedule's branch on the hot path: Poisson and trace replay inline, every
    /// other drawn process through ``DrawnArrivals``.
    @usableFromInline enum Kind: UInt8 { case poisson, closed, trace, drawn }

    /// An MMPP's hidden state after the latest ``next()`` (the state the latest arrival
    /// came in), nil for other processes.
    public var hiddenState: Int? { drawn?.form == .mmpp ? position.state : nil }

    /// Closed loop: whether a request that completes at `t` is followed by another
    /// (sent at `t`): while `t` is before the job's end.
    @inlinable public func continuesAfter(completionAt t: Double) -> Bool { t < closedLoopEnd }

    /// A closed loop's end (a completion before it is followed by another request); -inf
    /// for every other process. Read once per job, it keeps the schedule off the
    /// completion path.
    @inlinable public var closedLoopEnd: Double { kind == .closed ? end : -.infinity }
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

/// The parameters of a drawn process other than Poisson (``ArrivalSchedule``), immutable;
/// where the process is (its ``Position``) is the schedule's.
@usableFromInline final class DrawnArrivals: @unchecked Sendable {
    /// An MMPP's hidden state and when it ends; a piecewise profile's current piece.
    @usableFromInline struct Position {
        var state = 0, stateEnd = 0.0, piece = 0
        @usableFromInline init() {}
    }
    let process: ArrivalProcess
    @usableFromInline enum Form: UInt8 { case none, gamma, weibull, mmpp, sinusoid, piecewise }
    let form: Form
    /// Gamma and Weibull: the law's shape and scale (mean gap = 1 / rate).
    let shape: Double, scale: Double
    /// MMPP: state rates (scaled to the job's rate), mean dwell, cumulative jump and
    /// stationary probabilities.
    let rates: [Double], dwell: [Double], jumps: [[Double]], initial: [Double]
    /// Time-varying: the job's rate and its profile.
    let rate: Double, profile: RateProfile?
    let starts: [Double], multipliers: [Double]

    init(process: ArrivalProcess, rate: Double) {
        self.process = process
        func cumulative(_ p: [Double]) -> [Double] {
            var s = 0.0
            return p.map { s += $0; return s }
        }
        var form = Form.none, shape = 0.0, scale = 0.0
        var rates: [Double] = [], dwell: [Double] = [], jumps: [[Double]] = [], initial: [Double] = []
        var profile: RateProfile? = nil, starts: [Double] = [], multipliers: [Double] = []
        switch process {
        case .gamma(let cv):
            form = .gamma
            shape = 1 / (cv * cv)
            scale = cv * cv / rate
        case .weibull(let k):
            form = .weibull
            shape = k
            scale = 1 / rate / Foundation.tgamma(1 + 1 / k)
        case .mmpp(let m, _):
            form = .mmpp
            let scaled = m.scaled(toMeanRate: rate)
            rates = scaled.rates
            dwell = scaled.meanDwell
            jumps = scaled.jumps.map(cumulative)
            initial = cumulative(scaled.stationary)
        case .varying(let p):
            profile = p
            if case .piecewise(let s, let mult, _) = p {
                form = .piecewise
                starts = s
                multipliers = mult
            } else {
                form = .sinusoid
            }
        case .poisson, .closed, .trace: break
        }
        self.form = form
        self.shape = shape
        self.scale = scale
        self.rates = rates
        self.dwell = dwell
        self.jumps = jumps
        self.initial = initial
        self.rate = rate
        self.profile = profile
        self.starts = starts
        self.multipliers = multipliers
    }

    /// The index drawn from cumulative probabilities `c`.
    static func pick(_ c: [Double], _ stream: inout RandomStream) -> Int {
        let u = stream.nextUnitInterval() * c[c.count - 1]
        return c.firstIndex { u <= $0 } ?? c.count - 1
    }

    func begin(at t: Double, position p: inout Position, stream: inout RandomStream) {
        p = Position()
        guard form == .mmpp else { return }
        p.state = DrawnArrivals.pick(initial, &stream)
        p.stateEnd = t + stream.nextExponential(mean: dwell[p.state])
    }

    /// The next arrival after `last` (>= `end` when there is none before the job's end).
    func next(after last: Double, start: Double, end: Double, position p: inout Position, stream: inout RandomStream) -> Double {
        switch form {
        case .none: return .infinity
        case .gamma: return last + stream.nextGamma(shape: shape, scale: scale)
        case .weibull: return last + stream.nextWeibull(shape: shape, scale: scale)
        case .mmpp:
            var t = last
            while true {
                let r = rates[p.state]
                let gap = r > 0 ? stream.nextExponential(mean: 1 / r) : .infinity
                if t + gap < p.stateEnd { return t + gap }
                t = p.stateEnd
                if t >= end { return t }
                p.state = DrawnArrivals.pick(jumps[p.state], &stream)
                p.stateEnd = t + stream.nextExponential(mean: dwell[p.state])
            }
        case .sinusoid:
            let peak = rate * profile!.peak
            var t = last
            while true {
                t += stream.nextExponential(mean: 1 / peak)
                if t >= end { return t }
                if stream.nextUnitInterval() * peak <= rate * profile!.multiplier(at: t - start) { return t }
            }
        case .piecewise:
            var e = stream.nextExponential(mean: 1)
            var t = last - start
            while true {
                let r = rate * multipliers[p.piece]
                let bound = p.piece + 1 < starts.count ? starts[p.piece + 1] : .infinity
                if r > 0 && e <= r * (bound - t) { return start + t + e / r }
                if bound == .infinity || start + bound >= end { return .infinity }
                e -= r * (bound - t)
                t = bound
                p.piece += 1
            }
        }
    }
}

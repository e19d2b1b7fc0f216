import Histogram
import QoESimPolicies
import QoESimWorkload

/// The monitor's counters for one container: plain numbers, touched on every request
/// (the simulator keeps them with the rest of a container's hot state).
public struct MonitorCounters: Sendable, Equatable {
    // Stored under underscored names so that the simulator's per-request calls inline
    // across the module boundary; read through the public properties below.
    @usableFromInline var _arrived = 0
    @usableFromInline var _completed = 0
    @usableFromInline var _responseSum = 0.0
    @usableFromInline var _windowArrivals = 0
    @usableFromInline var _windowCompleted = 0
    @usableFromInline var _windowSum = 0.0
    var _windowStart = 0.0
    var windowCPU0 = 0.0
    var windowGPU0 = 0.0

    /// Counters at zero.
    public init() {}

    /// Requests that arrived since the container started.
    public var arrived: Int { _arrived }
    /// Requests completed since the container started.
    public var completed: Int { _completed }
    /// Sum of their response times, seconds.
    public var responseSum: Double { _responseSum }
    /// Arrivals in the current window.
    public var windowArrivals: Int { _windowArrivals }
    /// Completions in the current window.
    public var windowCompleted: Int { _windowCompleted }
    /// Sum of the window's response times, seconds.
    public var windowSum: Double { _windowSum }
    /// When the current window started.
    public var windowStart: Double { _windowStart }

    /// Counts one arrival.
    @inlinable @inline(__always) public mutating func recordArrival() {
        _arrived += 1
        _windowArrivals += 1
    }

    /// Counts one completion with its response time (the histograms are separate).
    @inlinable @inline(__always) public mutating func countCompletion(seconds r: Double) {
        _completed += 1
        _responseSum += r
        _windowCompleted += 1
        _windowSum += r
    }

    mutating func startWindow(at t: Double, cpuSeconds: Double, gpuSeconds: Double) {
        _windowStart = t
        _windowArrivals = 0
        _windowCompleted = 0
        _windowSum = 0
        windowCPU0 = cpuSeconds
        windowGPU0 = gpuSeconds
    }
}

/// The monitor's response-time histograms for one container (µs): the lifetime one, and
/// for p95/p99 targets the window's.
public struct ResponseHistograms: Sendable {
    var lifetime: Histogram<UInt32>
    var window: Histogram<UInt32>?

    /// - Parameter digits: significant digits (2: within 1%).
    public init(metric: QoEMetric, digits: Int = 2) {
        let d: SignificantDigits = digits <= 2 ? .two : (digits >= 4 ? .four : .three)
        lifetime = ResponseHistograms.empty(d)
        window = metric == .mean ? nil : ResponseHistograms.empty(d)
    }

    /// An empty response-time histogram (µs). Sized up front for 10 s: growing one later
    /// goes through the histogram library's unspecialized resize path, which costs far
    /// more than the counters (it took 60% of a 10,000-container run). Longer responses
    /// still fit: the histogram then grows as needed.
    static func empty(_ digits: SignificantDigits) -> Histogram<UInt32> {
        var h = Histogram<UInt32>(highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: digits)
        h.autoResize = true
        return h
    }

    /// Adds one response time (µs) to the lifetime and window histograms.
    public mutating func record(micros: UInt64) {
        _ = lifetime.record(micros)
        if window != nil { _ = window!.record(micros) }
    }

    /// Adds a batch of response times (µs): one histogram at a time, so that its
    /// counters stay in cache (the simulator's batches of 32).
    public mutating func record(_ micros: UnsafeBufferPointer<UInt64>) {
        for m in micros { _ = lifetime.record(m) }
        if window != nil {
            for m in micros { _ = window!.record(m) }
        }
    }

    mutating func resetWindow() {
        if window != nil { window!.reset() }
    }
}

/// What the monitor knows of one container: lifetime response-time statistics and the
/// current observation window.
///
/// The simulator and the live adapter measure QoE with this one type (the simulator keeps
/// its ``MonitorCounters`` with its hot per-container state and its
/// ``ResponseHistograms`` apart, and uses the same static functions): exact means,
/// percentiles from HDR histograms of response times in microseconds, the same
/// ``WindowStats`` and ``ModelResult``. A completion is counted at once; its response
/// time may reach the histograms later (the simulator batches them), always before they
/// are read.
public struct ContainerMonitor: Sendable {
    /// Arrival and completion counts, and the running sums of the current window.
    public private(set) var counters = MonitorCounters()
    /// Its response-time histograms.
    public private(set) var histograms: ResponseHistograms
    /// The metric of the container's target.
    public let metric: QoEMetric

    /// A monitor of a container whose target is stated in `metric`; percentiles kept to `digits` significant digits.
    public init(metric: QoEMetric, digits: Int = 2) {
        self.metric = metric
        histograms = ResponseHistograms(metric: metric, digits: digits)
    }

    /// A response time in whole microseconds, rounded to the nearest (no libm call).
    @inlinable @inline(__always) public static func micros(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds * 1e6 + 0.5)) }

    /// Requests completed since the container started.
    public var completed: Int { counters.completed }
    /// Requests arrived since the container started.
    public var arrived: Int { counters.arrived }

    /// Counts one arrival.
    public mutating func recordArrival() { counters.recordArrival() }

    /// Counts a completion and records its response time.
    public mutating func recordCompletion(seconds r: Double) {
        counters.countCompletion(seconds: r)
        histograms.record(micros: ContainerMonitor.micros(r))
    }

    /// The statistics of the window from its start to `t`, given the container's CPU- and GPU-seconds so far.
    public func window(at t: Double, cpuSeconds: Double, gpuSeconds: Double) -> WindowStats {
        ContainerMonitor.window(counters, histograms, metric: metric, at: t, cpuSeconds: cpuSeconds, gpuSeconds: gpuSeconds)
    }

    /// Starts a new window at `t`, with the container's CPU- and GPU-seconds so far.
    public mutating func startWindow(at t: Double, cpuSeconds: Double, gpuSeconds: Double) {
        ContainerMonitor.startWindow(&counters, &histograms, at: t, cpuSeconds: cpuSeconds, gpuSeconds: gpuSeconds)
    }

    /// The job's lifetime outcome: latency statistics, satisfaction against its target, and the given counts.
    public func result(job: JobSpec, node: String?, unfinished: Int, pendingS: Double?, cpuSeconds: Double) -> ModelResult {
        ContainerMonitor.result(counters, histograms, job: job, node: node, unfinished: unfinished, pendingS: pendingS, cpuSeconds: cpuSeconds)
    }

    // The shared code path, on the two parts wherever they are kept.

    /// The window so far, as a policy sees it at time `t`, given the container's
    /// cumulative CPU and GPU seconds now.
    public static func window(
        _ c: MonitorCounters, _ h: ResponseHistograms, metric: QoEMetric, at t: Double, cpuSeconds: Double, gpuSeconds: Double
    ) -> WindowStats {
        let dt = t - c.windowStart
        let mean = c.windowCompleted > 0 ? 1000 * c.windowSum / Double(c.windowCompleted) : nil
        var measured = mean
        if c.windowCompleted > 0, let w = h.window {
            measured = Double(w.valueAtPercentile(metric == .p95 ? 95 : 99)) / 1000
        }
        return WindowStats(
            duration: dt, arrivals: c.windowArrivals, completed: c.windowCompleted, meanMs: mean, measuredMs: measured,
            cpuUsed: dt > 0 ? (cpuSeconds - c.windowCPU0) / dt : 0, gpuUsed: dt > 0 ? (gpuSeconds - c.windowGPU0) / dt : 0)
    }

    /// Starts a new window at `t` (the container's cumulative CPU and GPU seconds now).
    public static func startWindow(
        _ c: inout MonitorCounters, _ h: inout ResponseHistograms, at t: Double, cpuSeconds: Double, gpuSeconds: Double
    ) {
        c.startWindow(at: t, cpuSeconds: cpuSeconds, gpuSeconds: gpuSeconds)
        h.resetWindow()
    }

    /// The job's outcome: lifetime statistics in the target's metric, satisfied when it
    /// is within the target.
    public static func result(
        _ c: MonitorCounters, _ h: ResponseHistograms, job: JobSpec, node: String?, unfinished: Int, pendingS: Double?,
        cpuSeconds: Double
    ) -> ModelResult {
        let n = c.completed
        func pct(_ p: Double) -> Double? { n > 0 ? Double(h.lifetime.valueAtPercentile(p)) / 1000 : nil }
        let mean = n > 0 ? 1000 * c.responseSum / Double(n) : nil
        let measured: Double?
        switch job.metric {
        case .mean: measured = mean
        case .p95: measured = pct(95)
        case .p99: measured = pct(99)
        }
        return ModelResult(
            id: job.id, model: job.model.name, node: node, targetMs: job.targetMs, metric: job.metric, requests: n,
            unfinished: unfinished, meanMs: mean, p50Ms: pct(50), p95Ms: pct(95), p99Ms: pct(99), measuredMs: measured,
            satisfied: measured.map { $0 <= job.targetMs } ?? false, pendingS: pendingS, cpuSeconds: cpuSeconds)
    }
}

extension ContainerObservation {
    /// A container as a policy sees it: the job's declared fields, its allocation, what
    /// is outstanding now, and the monitor's window.
    public init(
        job: JobSpec, gpu: Int?, allocation: Allocation, outstanding: Int, oldestOutstandingAge: Double?, window: WindowStats,
        completedTotal: Int, startedAt: Double
    ) {
        self.init(
            id: job.id, model: job.model, targetMs: job.targetMs, metric: job.metric, arrivals: job.arrivals, workers: job.workers,
            requestedCPUs: job.cpus, gpu: gpu, allocation: allocation, outstanding: outstanding,
            oldestOutstandingAge: oldestOutstandingAge, window: window, completedTotal: completedTotal, startedAt: startedAt)
    }
}

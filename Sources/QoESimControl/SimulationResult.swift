import QoESimWorkload

/// Outcome for one job (one deployed model).
public struct ModelResult: Sendable, Equatable, Codable {
    /// The job's id.
    public var id: String
    /// The model (network) it serves.
    public var model: String
    /// The node it ran on (nil: never placed).
    public var node: String?
    /// Its target, ms, in ``metric``.
    public var targetMs: Double
    /// The statistic the target is stated in.
    public var metric: QoEMetric
    /// Requests completed.
    public var requests: Int
    /// Requests that arrived but had not completed when the run stopped (horizon).
    public var unfinished: Int
    /// Mean response time over the job's life, ms (nil: nothing completed).
    public var meanMs: Double?
    /// Median response time, ms (HDR histogram, 2 significant digits by default).
    public var p50Ms: Double?
    /// 95th percentile of response time, ms.
    public var p95Ms: Double?
    /// 99th percentile of response time, ms.
    public var p99Ms: Double?
    /// The target metric's value over the job's lifetime.
    public var measuredMs: Double?
    /// `measuredMs <= targetMs` (false when nothing completed).
    public var satisfied: Bool
    /// Seconds the job waited for a node with room (0 if placed at once).
    public var pendingS: Double?
    /// CPU core-seconds the container used.
    public var cpuSeconds: Double

    /// An outcome with every field given.
    public init(
        id: String, model: String, node: String?, targetMs: Double, metric: QoEMetric, requests: Int, unfinished: Int,
        meanMs: Double?, p50Ms: Double?, p95Ms: Double?, p99Ms: Double?, measuredMs: Double?, satisfied: Bool, pendingS: Double?,
        cpuSeconds: Double
    ) {
        self.id = id
        self.model = model
        self.node = node
        self.targetMs = targetMs
        self.metric = metric
        self.requests = requests
        self.unfinished = unfinished
        self.meanMs = meanMs
        self.p50Ms = p50Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.measuredMs = measuredMs
        self.satisfied = satisfied
        self.pendingS = pendingS
        self.cpuSeconds = cpuSeconds
    }

    /// The JSON keys (`target_ms`, `mean_ms`, ...), as `qoesim run --json` writes them.
    public enum CodingKeys: String, CodingKey {
        /// Keys named as the properties.
        case id, model, node, metric, requests, unfinished, satisfied
        /// Latency keys, in ms.
        case targetMs = "target_ms", meanMs = "mean_ms", p50Ms = "p50_ms", p95Ms = "p95_ms", p99Ms = "p99_ms"
        /// The lifetime metric, pending seconds and CPU-seconds.
        case measuredMs = "measured_ms", pendingS = "pending_s", cpuSeconds = "cpu_s"
    }
}

/// Outcome of one simulation run.
public struct SimulationResult: Sendable, Equatable {
    /// The policy's name (or label).
    public var policy: String
    /// The seed of the run's random streams.
    public var seed: UInt64
    /// One outcome per job, in trace order.
    public var models: [ModelResult]
    /// The plant's events: in a simulation, the model's timers fired (arrivals,
    /// completions, lifecycle, delayed changes, control ticks; usage samples and ticks
    /// after the last departure left out); in a live run, requests arrived and completed.
    public var events: Int
    /// When the run ended, in its clock's seconds: the last model event of a simulation
    /// (its last departure, or the horizon), or, in a live run, the wall seconds from the
    /// run's start to its last departure.
    public var simulatedSeconds: Double
    /// Jobs that never found a node with room.
    public var neverPlaced: Int

    /// A result with every field given.
    public init(policy: String, seed: UInt64, models: [ModelResult], events: Int, simulatedSeconds: Double, neverPlaced: Int) {
        self.policy = policy
        self.seed = seed
        self.models = models
        self.events = events
        self.simulatedSeconds = simulatedSeconds
        self.neverPlaced = neverPlaced
    }

    /// Number of satisfied models.
    public var satisfied: Int { models.filter(\.satisfied).count }
    /// Number of models.
    public var total: Int { models.count }
}

import QoESimLatency

/// The statistic of response times a QoE target is stated in.
public enum QoEMetric: String, Sendable, CaseIterable, Codable {
    /// The statistic a target is stated in: the mean, 95th or 99th percentile of response times.
    case mean, p95, p99
}

/// One deployed model: a container serving inference requests over a time window.
public struct JobSpec: Sendable, Equatable {
    /// Unique id (`job_id`).
    public var id: String
    /// The model it serves.
    public var model: ModelSpec
    /// When the container is deployed, seconds from the start of the simulation.
    public var arrival: Double
    /// How long it receives requests once deployed, seconds.
    public var duration: Double
    /// Mean requests per second of the processes that draw arrivals (Poisson, Gamma,
    /// Weibull, MMPP, time-varying); ignored by closed and trace jobs.
    public var rate: Double
    /// The client's QoE target, in milliseconds of `metric`.
    public var targetMs: Double
    /// The statistic the target is stated in.
    public var metric: QoEMetric
    /// The arrival process.
    public var arrivals: ArrivalProcess
    /// Requested CPUs: the static/initial `--cpus` limit and the placement reservation.
    public var cpus: Double?
    /// GPU time-slice weight (for models that use a GPU); default 1.
    public var gpuShare: Double?
    /// Node the job must run on, if named.
    public var node: String?
    /// Concurrent workers in the container (requests served at once).
    public var workers: Int
    /// cpu.shares weight relative to the default 1 (Docker's 1024).
    public var weight: Double
    /// Line of the job trace that defined this job (for messages).
    public var line: Int

    /// A job; `line` is its row in the trace (for error messages).
    public init(
        id: String, model: ModelSpec, arrival: Double, duration: Double, rate: Double, targetMs: Double,
        metric: QoEMetric = .mean, arrivals: ArrivalProcess = .poisson, cpus: Double? = nil,
        gpuShare: Double? = nil, node: String? = nil, workers: Int = 1, weight: Double = 1, line: Int = 0
    ) {
        self.id = id
        self.model = model
        self.arrival = arrival
        self.duration = duration
        self.rate = rate
        self.targetMs = targetMs
        self.metric = metric
        self.arrivals = arrivals
        self.cpus = cpus
        self.gpuShare = gpuShare
        self.node = node
        self.workers = workers
        self.weight = weight
        self.line = line
    }
}

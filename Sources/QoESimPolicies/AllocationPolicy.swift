import QoESimLatency
import QoESimWorkload

/// What a policy sets for one container: the Docker knobs it controls.
public struct Allocation: Sendable, Equatable {
    /// `docker --cpus` (CFS quota / period) in fractional cores; nil for no limit.
    public var cpuLimit: Double?
    /// `--cpu-shares` relative to Docker's default 1024 (1 = default).
    public var cpuWeight: Double
    /// GPU time-slice weight among the busy containers on the same GPU (1 = default).
    public var gpuShare: Double

    /// An allocation; the defaults are Docker's (no limit, default weight, GPU share 1).
    public init(cpuLimit: Double? = nil, cpuWeight: Double = 1, gpuShare: Double = 1) {
        self.cpuLimit = cpuLimit
        self.cpuWeight = cpuWeight
        self.gpuShare = gpuShare
    }

    /// Whether the values are usable: limit > 0 when set, weight > 0, share > 0, all finite.
    public var isValid: Bool {
        (cpuLimit.map { $0 > 0 && $0.isFinite } ?? true) && cpuWeight > 0 && cpuWeight.isFinite
            && gpuShare > 0 && gpuShare.isFinite
    }
}

/// What a monitor saw of one container over the last observation window. It only sees
/// completed requests, as `docker stats` plus the service's own latency log would.
public struct WindowStats: Sendable, Equatable {
    /// Length of the window, seconds.
    public var duration: Double
    /// Requests that arrived in the window.
    public var arrivals: Int
    /// Requests that completed in the window.
    public var completed: Int
    /// Mean response time of those completions, ms (nil when none completed).
    public var meanMs: Double?
    /// The container's target metric (mean, p95 or p99) over those completions, ms.
    public var measuredMs: Double?
    /// Average CPU cores used over the window (what `docker stats` reports / 100).
    public var cpuUsed: Double
    /// Average fraction of its GPU used over the window.
    public var gpuUsed: Double

    /// Window statistics; `gpuUsed` defaults to 0 (no GPU).
    public init(
        duration: Double, arrivals: Int, completed: Int, meanMs: Double?, measuredMs: Double?, cpuUsed: Double,
        gpuUsed: Double = 0
    ) {
        self.duration = duration
        self.arrivals = arrivals
        self.completed = completed
        self.meanMs = meanMs
        self.measuredMs = measuredMs
        self.cpuUsed = cpuUsed
        self.gpuUsed = gpuUsed
    }
}

/// One container as a policy sees it.
public struct ContainerObservation: Sendable {
    /// The job id (also the container's name).
    public var id: String
    /// The model it serves, with its latency model (policies may use it; the real
    /// system has it from profiling).
    public var model: ModelSpec
    /// The client's target, ms, and the metric it is stated in.
    public var targetMs: Double
    /// The metric the target is stated in (mean, p95, p99).
    public var metric: QoEMetric
    /// How requests arrive (open-loop Poisson, closed loop, trace).
    public var arrivals: ArrivalProcess
    /// Concurrent workers of the container.
    public var workers: Int
    /// CPUs the job asked for (its `cpus` column), if any.
    public var requestedCPUs: Double?
    /// Which GPU of the node it uses, if any.
    public var gpu: Int?
    /// Its allocation: the policy's latest decision for it (which may still be on its
    /// way to taking effect when there is an actuation delay), or, after a change the
    /// engine refused, what the engine has in force. The same in the simulator and the
    /// live adapter (one controller shows it; Docs/INVARIANTS.md C3): "decided" rather
    /// than "in force", so that a policy does not make its pending change again at every
    /// step of the delay.
    public var allocation: Allocation
    /// Requests waiting or in service now.
    public var outstanding: Int
    /// Seconds since the oldest request now waiting or in service arrived (nil when
    /// none is outstanding, or when the monitor cannot tell). A window with no
    /// completion still bounds the latency from below: that request will take at least
    /// this long.
    public var oldestOutstandingAge: Double?
    /// The last observation window.
    public var window: WindowStats
    /// Requests completed since the container started.
    public var completedTotal: Int
    /// When the container was placed (simulated seconds, or seconds since a live run's
    /// start).
    public var startedAt: Double

    /// A container as the monitor saw it.
    public init(
        id: String, model: ModelSpec, targetMs: Double, metric: QoEMetric, arrivals: ArrivalProcess, workers: Int,
        requestedCPUs: Double?, gpu: Int?, allocation: Allocation, outstanding: Int, oldestOutstandingAge: Double? = nil,
        window: WindowStats, completedTotal: Int, startedAt: Double
    ) {
        self.id = id
        self.model = model
        self.targetMs = targetMs
        self.metric = metric
        self.arrivals = arrivals
        self.workers = workers
        self.requestedCPUs = requestedCPUs
        self.gpu = gpu
        self.allocation = allocation
        self.outstanding = outstanding
        self.oldestOutstandingAge = oldestOutstandingAge
        self.window = window
        self.completedTotal = completedTotal
        self.startedAt = startedAt
    }
}

/// One node as a policy sees it: capacities and its containers.
public struct NodeObservation: Sendable {
    /// The node's name.
    public var name: String
    /// CPU cores of the node.
    public var cpus: Double
    /// GPUs of the node.
    public var gpus: Int
    /// The time of the observation, seconds.
    public var time: Double
    /// Containers placed on the node, in placement order.
    public var containers: [ContainerObservation]

    /// A node with its capacities and containers at time `time`.
    public init(name: String, cpus: Double, gpus: Int, time: Double, containers: [ContainerObservation]) {
        self.name = name
        self.cpus = cpus
        self.gpus = gpus
        self.time = time
        self.containers = containers
    }
}

/// Why a policy is being asked.
public enum PolicyTrigger: Sendable, Equatable {
    /// The periodic control interval elapsed (windows were measured over it).
    case interval
    /// A container was just placed on the node (it is in the observation).
    case arrival(containerID: String)
    /// A container left the node (it is no longer in the observation).
    case departure(containerID: String)
}

/// A new allocation for one container.
public struct AllocationChange: Sendable, Equatable {
    /// The job id of the container to change.
    public var containerID: String
    /// Its new allocation, in full.
    public var allocation: Allocation
    /// Why, in a few words (written to the decision log, `allocations.csv`).
    public var note: String

    /// A change of `containerID` to `allocation`, with a short `note` for the decision log.
    public init(containerID: String, allocation: Allocation, note: String = "") {
        self.containerID = containerID
        self.allocation = allocation
        self.note = note
    }
}

/// A resource-allocation policy: observations in, allocations out.
///
/// A policy sees only what a real monitor could (``NodeObservation``) and answers
/// with Docker knobs (``Allocation``), never touching simulator internals, so the
/// same object can drive the simulator and a real Docker engine. It decides per node,
/// as DQoES does.
///
/// Contract:
/// - It is called every ``controlInterval`` seconds (if not nil) for each node with
///   containers, and on every arrival and departure on a node.
/// - It returns only the containers whose allocation should change; each returned
///   allocation must be ``Allocation/isValid`` and name a container of the node.
public protocol AllocationPolicy: Sendable {
    /// The name used on the command line (e.g. `fair-share`).
    var name: String { get }
    /// Seconds between periodic decisions, or nil for event-driven only.
    var controlInterval: Double? { get }
    /// Decides new allocations for `node`.
    mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange]
}

/// Which Docker knob a policy turns to give a container CPU.
public enum CPUControl: String, Sendable, Codable, CaseIterable {
    /// `docker update --cpus`: hard CFS quotas; CPU a container does not use stays idle.
    case limits
    /// `docker update --cpu-shares`: relative weights, no limits; work-conserving, so a
    /// container also gets what busy neighbours leave unused.
    case shares
}

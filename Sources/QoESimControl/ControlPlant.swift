import QoESimCluster
import QoESimPolicies

/// What the meters read of one placed container at one moment: the monitor's counters
/// and histograms, its cumulative CPU and GPU use, and what is outstanding.
public struct ContainerReading {
    /// The monitor's counters (arrivals, completions, the current window).
    public var counters: MonitorCounters
    /// The monitor's response-time histograms (every completion so far is in them).
    public var histograms: ResponseHistograms
    /// Cumulative CPU core-seconds of the container up to the reading.
    public var cpuSeconds: Double
    /// Cumulative GPU-seconds (a share of one GPU, integrated over time).
    public var gpuSeconds: Double
    /// The GPU of its node it uses, if any.
    public var gpu: Int?
    /// Requests waiting or in service now.
    public var outstanding: Int
    /// Seconds since the oldest outstanding request arrived (nil: none, or unknown).
    public var oldestOutstandingAge: Double?

    /// A reading of one container: its monitor's counters and histograms, CPU- and GPU-seconds used so far, the GPU it uses, and its outstanding requests with the oldest one's age.
    public init(
        counters: MonitorCounters, histograms: ResponseHistograms, cpuSeconds: Double, gpuSeconds: Double, gpu: Int?,
        outstanding: Int, oldestOutstandingAge: Double?
    ) {
        self.counters = counters
        self.histograms = histograms
        self.cpuSeconds = cpuSeconds
        self.gpuSeconds = gpuSeconds
        self.gpu = gpu
        self.outstanding = outstanding
        self.oldestOutstandingAge = oldestOutstandingAge
    }
}

/// The system a ``Controller`` controls: nodes with containers, meters that read them,
/// and an actuator that puts allocations into force.
///
/// Two plants implement it: the simulator (simulated clock, simulated CPU and GPU
/// sharing) and Docker (the wall clock, the Engine API, cgroup and NVML meters). The
/// plant owns its clock and its arrivals (both draw them from ``ArrivalSchedule``); it
/// calls the controller when a container is placed or leaves, when a control tick or a
/// usage sample is due (``Controller/nextTick``, ``Controller/nextSample``) and when a
/// delayed change comes due (``scheduleActuation(_:at:)``). The controller never reads a
/// clock: every call carries the plant's time.
///
/// Containers are numbered by their job's index in the scenario; nodes by their index in
/// the cluster.
public protocol ControlPlant: ~Copyable {
    /// Node `n`: its name, cores and GPUs.
    func nodeSpec(_ n: Int) -> NodeSpec
    /// The node container `j` was placed on, nil if it never was.
    func node(of j: Int) -> Int?
    /// The containers on node `n` (placed, not yet departed), in placement order.
    func containers(on n: Int) -> [Int]
    /// Whether container `j` is placed and has not departed.
    func isPlaced(_ j: Int) -> Bool
    /// What the meters read of container `j` at `t` (every completion up to `t` counted).
    mutating func reading(_ j: Int, at t: Double) -> ContainerReading
    /// Starts container `j`'s observation window at `t`.
    mutating func startWindow(_ j: Int, at t: Double)
    /// Puts `allocation` into force for container `j` at `t`. Throws when it could not
    /// (the plant reports why itself); the controller then asks ``allocationInForce(_:)``.
    mutating func actuate(_ j: Int, _ allocation: Allocation, at t: Double) throws
    /// Node `n`'s changes at `t` are all in force (the simulator redivides its CPU once).
    mutating func actuationsApplied(on n: Int, at t: Double)
    /// The allocation container `j` has in force, read back from the engine (nil: unknown).
    mutating func allocationInForce(_ j: Int) -> Allocation?
    /// Allocations read back before a decision at `t`, after the engine was out of reach
    /// (the Docker plant); empty when nothing changed behind the controller's back.
    mutating func allocationsReadBack(at t: Double) -> [(container: Int, allocation: Allocation)]
    /// Arranges a call of ``Controller/actuationDue(_:at:plant:)`` for `j` at `t` (one
    /// pending call per container: a later request replaces an earlier one).
    mutating func scheduleActuation(_ j: Int, at t: Double)
    /// Whether changes of a container's GPU share reach it. The Docker plant does not:
    /// Docker cannot change a running container's GPU share; such changes are recorded
    /// as not actuated.
    var actuatesGPUShare: Bool { get }
}

extension ControlPlant where Self: ~Copyable {
    public mutating func allocationsReadBack(at t: Double) -> [(container: Int, allocation: Allocation)] { [] }
    public mutating func allocationInForce(_ j: Int) -> Allocation? { nil }
    public var actuatesGPUShare: Bool { true }
}

/// Receives what the policy saw and answered at every decision, for logs and for the
/// validation to compare a simulated run's decisions with a live run's.
public protocol ControlObserver: AnyObject {
    /// The policy was asked at `node.time` because of `trigger`, saw `node`, and
    /// answered `changes` (already checked).
    func decided(node: NodeObservation, trigger: PolicyTrigger, changes: [AllocationChange])
}

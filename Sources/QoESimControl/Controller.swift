import QoESimCluster
import QoESimPolicies
import QoESimWorkload

/// The control loop, written once: the simulator and the live adapter run this type, each
/// with its own ``ControlPlant`` (SimPy's real-time environment is the model: the same
/// model, another clock).
///
/// It owns the tick schedule (the first tick one control interval after the earliest
/// job's arrival, then every interval), the observation windows' reset, the observations
/// a policy sees, the policy call and the check of its answer, the reason of each
/// decision, the changes with their actuation delay, the allocation record, usage
/// sampling and the run's result. The plant calls it; it never reads a clock.
///
/// What a policy is shown (``ContainerObservation/allocation``) is its latest decision
/// for the container, which may still be on its way when there is an actuation delay,
/// or what was read back from the engine after a change failed. A change is recorded
/// (``SimulationRecorder/allocationChanged(time:job:node:allocation:reason:)``) when it
/// takes effect.
public struct Controller {
    /// The jobs, indexed as the plant numbers its containers.
    public let jobs: [JobSpec]
    /// The policy it consults.
    public private(set) var policy: any AllocationPolicy
    /// Seconds between a decision and its effect (0: at once).
    public let actuationDelay: Double
    /// Seconds between usage samples sent to the recorder (nil: none).
    public let sampleInterval: Double?
    let recorder: SimulationRecorder?
    let observer: ControlObserver?
    let idIndex: [String: Int]

    /// The allocation in force per container.
    public private(set) var inForce: [Allocation]
    /// The latest decision per container (what the policy is shown).
    public private(set) var decided: [Allocation]
    var decidedNote: [String]
    /// When each container was placed (nil: not yet, or never).
    public private(set) var placedAt: [Double?]
    var sampleStart: [Double]
    var sampleCPU0: [Double]
    var sampleGPU0: [Double]

    /// When the next control tick is due (infinity: the policy has no interval).
    public private(set) var nextTick: Double
    /// When the next usage sample is due (infinity: no sampling).
    public private(set) var nextSample: Double
    /// The policy answered with a change that cannot be applied: the run stops.
    public private(set) var failure: PolicyChangeError?
    /// `failure != nil`, as a plain flag for the simulator's per-event check.
    public private(set) var stopped = false

    /// - Parameters:
    ///   - jobs: the scenario's jobs; container j serves `jobs[j]`.
    ///   - sampleInterval: seconds between usage samples (only with a recorder).
    ///   - observer: receives every decision's inputs and answer (the observation log).
    public init(
        jobs: [JobSpec], policy: any AllocationPolicy, actuationDelay: Double = 0, sampleInterval: Double? = nil,
        recorder: SimulationRecorder? = nil, observer: ControlObserver? = nil
    ) {
        self.jobs = jobs
        self.policy = policy
        self.actuationDelay = actuationDelay
        self.recorder = recorder
        self.observer = observer
        var index: [String: Int] = [:]
        for (i, j) in jobs.enumerated() { index[j.id] = i }
        idIndex = index
        let initial = jobs.map(Controller.initialAllocation)
        inForce = initial
        decided = initial
        decidedNote = Array(repeating: "", count: jobs.count)
        placedAt = Array(repeating: nil, count: jobs.count)
        sampleStart = Array(repeating: 0, count: jobs.count)
        sampleCPU0 = sampleStart
        sampleGPU0 = sampleStart
        let first = jobs.map(\.arrival).min()
        if let dt = policy.controlInterval, dt > 0, let first { nextTick = first + dt } else { nextTick = .infinity }
        if recorder != nil, let dt = sampleInterval, dt > 0, let first {
            self.sampleInterval = dt
            nextSample = first + dt
        } else {
            self.sampleInterval = nil
            nextSample = .infinity
        }
    }

    /// A job's allocation when its container is created: its requested CPUs as the
    /// limit, its weight, its GPU share (default 1).
    public static func initialAllocation(_ job: JobSpec) -> Allocation {
        Allocation(cpuLimit: job.cpus, cpuWeight: job.weight, gpuShare: job.gpuShare ?? 1)
    }

    // MARK: Events the plant reports

    /// Container `j` was placed on node `n` at `t` (with its ``initialAllocation(_:)`` in
    /// force): its window and usage samples start, the placement is recorded, and the
    /// policy is asked.
    public mutating func placed<P: ControlPlant & ~Copyable>(_ j: Int, on n: Int, at t: Double, plant: inout P) {
        placedAt[j] = t
        plant.startWindow(j, at: t)
        let r = plant.reading(j, at: t)
        sampleStart[j] = t
        sampleCPU0[j] = r.cpuSeconds
        sampleGPU0[j] = r.gpuSeconds
        inForce[j] = Controller.initialAllocation(jobs[j])
        decided[j] = inForce[j]
        recorder?.allocationChanged(time: t, job: j, node: n, allocation: inForce[j], reason: "placement")
        consult(n, at: t, because: .arrival(containerID: jobs[j].id), plant: &plant)
    }

    /// Container `j` left node `n` at `t` (it is no longer among the node's containers):
    /// the policy is asked.
    public mutating func departed<P: ControlPlant & ~Copyable>(_ j: Int, from n: Int, at t: Double, plant: inout P) {
        consult(n, at: t, because: .departure(containerID: jobs[j].id), plant: &plant)
    }

    /// The control tick due at ``nextTick``: every node with containers is consulted and
    /// its containers' windows restart. The next tick is one interval later.
    public mutating func tick<P: ControlPlant & ~Copyable>(nodes: Int, at t: Double, plant: inout P) {
        for n in 0..<nodes {
            let here = plant.containers(on: n)
            guard !here.isEmpty else { continue }
            consult(n, at: t, because: .interval, plant: &plant)
            for j in plant.containers(on: n) { plant.startWindow(j, at: t) }
        }
        nextTick += policy.controlInterval ?? .infinity
    }

    /// The usage sample due at ``nextSample``: each placed container's average cores and
    /// GPU fraction since its previous sample, and what it has outstanding, go to the
    /// recorder. The next sample is one interval later.
    public mutating func sample<P: ControlPlant & ~Copyable>(nodes: Int, at t: Double, plant: inout P) {
        if let recorder {
            for n in 0..<nodes {
                for j in plant.containers(on: n) {
                    let dt = t - sampleStart[j]
                    guard dt > 0 else { continue }
                    let r = plant.reading(j, at: t)
                    recorder.usageSampled(
                        time: t, job: j, node: n, allocation: inForce[j], cpuUsed: (r.cpuSeconds - sampleCPU0[j]) / dt,
                        gpuUsed: (r.gpuSeconds - sampleGPU0[j]) / dt, outstanding: r.outstanding)
                    sampleStart[j] = t
                    sampleCPU0[j] = r.cpuSeconds
                    sampleGPU0[j] = r.gpuSeconds
                }
            }
        }
        nextSample += sampleInterval ?? .infinity
    }

    /// A delayed decision for container `j` comes due at `t` (see
    /// ``ControlPlant/scheduleActuation(_:at:)``): it takes effect if the container is
    /// still placed and the decision differs from what is in force.
    public mutating func actuationDue<P: ControlPlant & ~Copyable>(_ j: Int, at t: Double, plant: inout P) {
        guard plant.isPlaced(j), decided[j] != inForce[j], let n = plant.node(of: j) else { return }
        putInForce(j, on: n, at: t, plant: &plant)
        plant.actuationsApplied(on: n, at: t)
    }

    // MARK: Deciding

    /// What the policy sees of node `n` at `t`.
    public func observe<P: ControlPlant & ~Copyable>(_ n: Int, at t: Double, plant: inout P) -> NodeObservation {
        let spec = plant.nodeSpec(n)
        let here = plant.containers(on: n)
        var list: [ContainerObservation] = []
        list.reserveCapacity(here.count)
        for j in here {
            let job = jobs[j]
            let r = plant.reading(j, at: t)
            list.append(ContainerObservation(
                id: job.id, model: job.model, targetMs: job.targetMs, metric: job.metric, arrivals: job.arrivals,
                workers: job.workers, requestedCPUs: job.cpus, gpu: r.gpu, allocation: decided[j], outstanding: r.outstanding,
                oldestOutstandingAge: r.oldestOutstandingAge,
                window: ContainerMonitor.window(r.counters, r.histograms, metric: job.metric, at: t, cpuSeconds: r.cpuSeconds, gpuSeconds: r.gpuSeconds),
                completedTotal: r.counters.completed, startedAt: placedAt[j] ?? t))
        }
        return NodeObservation(name: spec.name, cpus: spec.cpus, gpus: spec.gpus, time: t, containers: list)
    }

    /// Asks the policy about node `n` and applies its answer, at once or after the
    /// actuation delay. A change the loop cannot apply stops the run (``failure``).
    mutating func consult<P: ControlPlant & ~Copyable>(_ n: Int, at t: Double, because trigger: PolicyTrigger, plant: inout P) {
        guard !stopped else { return }
        for (j, a) in plant.allocationsReadBack(at: t) {
            inForce[j] = plant.actuatesGPUShare ? a : Allocation(cpuLimit: a.cpuLimit, cpuWeight: a.cpuWeight, gpuShare: inForce[j].gpuShare)
            decided[j] = inForce[j]
        }
        let node = observe(n, at: t, plant: &plant)
        let changes: [AllocationChange]
        do {
            changes = try policy.decide(on: node, because: trigger)
        } catch {
            failure = error as? PolicyChangeError
            stopped = true
            return
        }
        observer?.decided(node: node, trigger: trigger, changes: changes)
        guard !changes.isEmpty else { return }
        let reason = Controller.reason(trigger)
        var changedNow = false
        for change in changes {
            // `decide` checked that the container is one of the node's.
            let j = idIndex[change.containerID]!
            guard change.allocation != decided[j] else { continue }
            decided[j] = change.allocation
            decidedNote[j] = change.note.isEmpty ? reason : "\(reason): \(change.note)"
            if actuationDelay > 0 {
                // The last decision wins; its effect comes `actuationDelay` after it was made.
                plant.scheduleActuation(j, at: t + actuationDelay)
            } else {
                putInForce(j, on: n, at: t, plant: &plant)
                changedNow = true
            }
        }
        if changedNow { plant.actuationsApplied(on: n, at: t) }
    }

    /// Container `j`'s decided allocation goes into force at `t` and is recorded; if the
    /// plant could not apply it, what the engine has in force is read back (and shown to
    /// the policy from then on).
    mutating func putInForce<P: ControlPlant & ~Copyable>(_ j: Int, on n: Int, at t: Double, plant: inout P) {
        let wanted = decided[j]
        do {
            try plant.actuate(j, wanted, at: t)
        } catch {
            if let actual = plant.allocationInForce(j) {
                inForce[j] = plant.actuatesGPUShare ? actual : Allocation(cpuLimit: actual.cpuLimit, cpuWeight: actual.cpuWeight, gpuShare: inForce[j].gpuShare)
            }
            decided[j] = inForce[j]
            return
        }
        var note = decidedNote[j]
        if !plant.actuatesGPUShare && wanted.gpuShare != inForce[j].gpuShare {
            note += note.isEmpty ? "gpu_share not actuated" : "; gpu_share not actuated"
        }
        inForce[j] = wanted
        recorder?.allocationChanged(time: t, job: j, node: n, allocation: wanted, reason: note)
    }

    /// The reason a decision is recorded with, from what asked for it.
    static func reason(_ trigger: PolicyTrigger) -> String {
        switch trigger {
        case .interval: return "interval"
        case .arrival: return "arrival"
        case .departure: return "departure"
        }
    }

    // MARK: Result

    /// The run's result, from each container's monitor: its lifetime statistics in its
    /// target's metric, the seconds it waited to be placed, its CPU core-seconds.
    ///
    /// - Parameters:
    ///   - end: when the run ended (usage is read up to then).
    ///   - events: what the plant counts as its events (``SimulationResult/events``).
    public func result<P: ControlPlant & ~Copyable>(
        seed: UInt64, end: Double, events: Int, plant: inout P
    ) -> SimulationResult {
        var models: [ModelResult] = []
        var neverPlaced = 0
        for (j, job) in jobs.enumerated() {
            guard let n = plant.node(of: j), let start = placedAt[j] else {
                neverPlaced += 1
                models.append(ContainerMonitor.result(
                    MonitorCounters(), ResponseHistograms(metric: job.metric), job: job, node: nil, unfinished: 0, pendingS: nil,
                    cpuSeconds: 0))
                continue
            }
            let r = plant.reading(j, at: end)
            models.append(ContainerMonitor.result(
                r.counters, r.histograms, job: job, node: plant.nodeSpec(n).name,
                unfinished: r.counters.arrived - r.counters.completed, pendingS: start - job.arrival, cpuSeconds: r.cpuSeconds))
        }
        return SimulationResult(
            policy: policy.name, seed: seed, models: models, events: events, simulatedSeconds: end, neverPlaced: neverPlaced)
    }
}
/// A policy answered with a change the loop cannot apply: it names no container of the
/// node, or its allocation is invalid. The simulator and the live adapter both stop the
/// run with it.
public struct PolicyChangeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The policy's name.
    public let policy: String
    /// The container id the change named.
    public let container: String
    /// What is wrong with the change.
    public let problem: String

    public var description: String { "policy \(policy): change for '\(container)' \(problem)" }
}

extension AllocationPolicy {
    /// Asks the policy about `node` and checks its answer: every change must name a
    /// container of the node and carry a valid allocation (``Allocation/isValid``).
    public mutating func decide(on node: NodeObservation, because trigger: PolicyTrigger) throws -> [AllocationChange] {
        let changes = allocate(on: node, because: trigger)
        for change in changes {
            guard node.containers.contains(where: { $0.id == change.containerID }) else {
                throw PolicyChangeError(policy: name, container: change.containerID, problem: "names no container of node \(node.name)")
            }
            guard change.allocation.isValid else {
                throw PolicyChangeError(policy: name, container: change.containerID, problem: "is invalid: \(change.allocation)")
            }
        }
        return changes
    }
}

extension PolicyTrigger {
    /// "interval", "arrival" or "departure": the reason a decision is recorded with.
    public var reason: String { Controller.reason(self) }

    /// The container that arrived or left (nil for the control interval).
    public var containerID: String? {
        switch self {
        case .interval: return nil
        case .arrival(let id), .departure(let id): return id
        }
    }
}

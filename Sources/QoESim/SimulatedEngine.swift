import QoESimControl

/// The simulator's physics as a stand-in for a container engine, driven from outside:
/// for testing the live control loop against the simulator with nothing but the control
/// loop's driver in between (the parity tests). Jobs are placed when ``begin(_:at:)``
/// says (as a live run starts a job's load once its placement was decided), allocations
/// go into force when ``apply(_:_:at:)`` says, and time moves when ``advance(to:)``
/// says. Requests arrive by the job's ``ArrivalSchedule`` and are served, shared and
/// accounted exactly as in a ``Simulation``. No policy runs inside it.
@_spi(Testing)
public final class SimulatedEngine {
    /// A policy that never decides: the engine's own controller only lets the simulated
    /// plant run.
    struct Passive: AllocationPolicy {
        let name = "engine"
        var controlInterval: Double? { nil }
        mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] { [] }
    }

    /// Completed requests per job since the last ``takeNew(_:)``.
    final class Completions: SimulationRecorder {
        var byJob: [[(arrival: Double, start: Double, completion: Double)]]
        init(jobs: Int) { byJob = Array(repeating: [], count: jobs) }
        func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {
            byJob[job].append((arrival, start, completion))
        }
        func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {}
    }

    var state: SimulationState
    var control: Controller
    let completions: Completions
    var arrivalsTaken: [Int]
    /// Nodes with changes applied and not yet redivided.
    var changed: Set<Int> = []

    /// An engine running `scenario`'s jobs with random streams from `seed`. Node 0 is the
    /// machine: jobs are placed as in a simulation (`options.placement`).
    public init(scenario: Scenario, seed: UInt64, options: SimulationOptions = .init()) throws {
        let simulation = try Simulation(scenario: scenario, policy: Passive(), options: options)
        completions = Completions(jobs: scenario.jobs.count)
        state = SimulationState(simulation: simulation, seed: seed, recorder: completions)
        control = Controller(jobs: scenario.jobs, policy: Passive())
        arrivalsTaken = Array(repeating: 0, count: scenario.jobs.count)
        state.start(&control, placesJobs: false)
    }

    /// The engine's clock.
    public var now: Double { state.loop.now }

    /// When the next event is due, nil if nothing is armed.
    public var nextEventTime: Double? { state.loop.nextTime }

    /// Processes every event due at or before `t` (those already due now included); the
    /// clock then reads `t`.
    public func advance(to t: Double) {
        guard t >= now else { return }
        while let timer = state.loop.next(until: t) { _ = state.fire(timer, &control) }
    }

    /// Places job `j`'s container at `t` (>= ``now``): its requests start, under the
    /// allocation last applied to it (its job's initial one if none was), as a container
    /// is created with its limits before its load starts. Events already due at `t` stay
    /// pending (the clock processes them), as in a simulation, where a placement's
    /// decisions do not wait for events armed during the instant.
    public func begin(_ j: Int, at t: Double) {
        if t > now { advance(to: t) }
        state.lifecycle(j, t)
        state.decide(t, &control)
    }

    /// Puts `allocation` into force for job `j`'s container at `t` (or when it is
    /// placed, if it is not yet); its node's CPU is redivided by ``changesApplied(at:)``,
    /// once for a batch, as the simulator does. Events already due at `t` stay pending,
    /// as in `begin`.
    public func apply(_ j: Int, _ allocation: Allocation, at t: Double) {
        if t > now { advance(to: t) }
        guard state.isPlaced(j), let n = state.node(of: j) else {
            if state.c[j].phase == .future { state.initialAllocations[j] = allocation }
            return
        }
        state.actuate(j, allocation, at: t)
        changed.insert(n)
    }

    /// A batch of ``apply(_:_:at:)`` is over: the nodes it touched redivide their CPU.
    public func changesApplied(at t: Double) {
        for n in changed.sorted() { state.actuationsApplied(on: n, at: t) }
        changed.removeAll()
    }

    /// What a meter reads of job `j`'s container at `t` (``now`` at the latest).
    public func reading(_ j: Int, at t: Double) -> ContainerReading { state.reading(j, at: t) }

    /// Arrivals and completed requests of job `j` since the last call.
    public func takeNew(_ j: Int) -> (arrivals: Int, completed: [(arrival: Double, start: Double, completion: Double)]) {
        let arrived = state.c[j].counters.arrived
        defer {
            arrivalsTaken[j] = arrived
            completions.byJob[j].removeAll()
        }
        return (arrived - arrivalsTaken[j], completions.byJob[j])
    }

    /// Requests of job `j` arrived so far.
    public func arrivedTotal(_ j: Int) -> Int { state.c[j].counters.arrived }

    /// Whether job `j`'s container has left: its window is over and its requests drained.
    public func isFinished(_ j: Int) -> Bool { state.c[j].phase == .departed }

    /// The allocation in force for job `j`'s container (or to be, once placed).
    public func allocation(_ j: Int) -> Allocation { state.isPlaced(j) ? state.c[j].allocation : state.initialAllocations[j] }

    /// The GPU job `j`'s container uses, if any.
    public func gpu(_ j: Int) -> Int? { state.c[j].gpu >= 0 ? state.c[j].gpu : nil }
}

import Foundation
import QoESim

/// The clock of a live control loop, in seconds since the run's start: the wall clock in
/// a real run, a fake one in tests (the same loop with another clock, as SimPy's
/// real-time environment is the same model with another clock).
public protocol ControlClock: AnyObject {
    var now: Double { get }
    /// Waits until about `t` (or less: the loop polls).
    func wait(until t: Double)
}

/// What the load generator saw of one container's requests (times in run seconds).
public protocol RequestMonitor: AnyObject {
    /// Arrivals and completions since the previous call.
    func takeNew() -> (arrivals: Int, completed: [LiveRequest])
    /// Requests waiting or in service now.
    var outstanding: Int { get }
    /// Seconds since the oldest outstanding request arrived, at run time `t`.
    func oldestOutstandingAge(at t: Double) -> Double?
    /// No more arrivals will come and nothing is outstanding.
    var isFinished: Bool { get }
    /// Why the container stopped answering, if it did.
    var failure: String? { get }
    /// Requests that have arrived so far.
    var arrivedTotal: Int { get }
    /// The job's container was placed at run time `t` and the policy asked: its requests
    /// may start (the load generator starts them here).
    func begin(at t: Double)
}

extension RequestMonitor {
    public func begin(at t: Double) {}
}

/// Applies decisions to containers and reads their counters (Docker in a real run).
public protocol ContainerActuator: AnyObject {
    func apply(_ container: Int, _ allocation: Allocation) throws
    /// The allocation actually in force (read back after a failed apply), nil if unknown.
    func inForce(_ container: Int) -> Allocation?
    /// Cumulative CPU seconds of the container, nil if unreadable.
    func cpuSeconds(_ container: Int) -> Double?
    /// Whether the engine answers now (one quick probe per control step).
    func engineReachable() -> Bool
    /// Whether it puts GPU shares into force. Docker does not: it cannot change a
    /// running container's GPU share.
    var actuatesGPUShare: Bool { get }
    /// A batch of `apply` calls (one decision's changes) is over.
    func changesApplied()
}

/// What each container uses of the GPUs (NVML per-process utilisation in a real run).
public protocol GPUMeter: AnyObject {
    /// Cumulative GPU-seconds of the container at run time `t` (a share of one GPU,
    /// integrated over time, as the simulator counts them), nil if unreadable.
    func gpuSeconds(_ container: Int, at t: Double) -> Double?
    /// The GPU the container uses, nil if none (or none seen yet).
    func gpu(_ container: Int) -> Int?
}

extension ContainerActuator {
    /// An actuator without an engine to lose is always reachable.
    public func engineReachable() -> Bool { true }
    /// Like Docker, an actuator leaves GPU shares alone unless it says otherwise.
    public var actuatesGPUShare: Bool { false }
    /// Each `apply` takes effect on its own (Docker's updates do).
    public func changesApplied() {}
}

/// A live run was stopped by SIGINT or SIGTERM.
public struct LiveRunInterrupted: Error, CustomStringConvertible, Sendable {
    public var description: String { "interrupted: containers removed, partial results discarded" }
}

/// A live run on this machine: the shared ``Controller`` on the wall clock, with the live
/// plant (one node; the load generator's requests, the actuator and the GPU meter).
///
/// Only the clock, the plant and the run loop's driver differ from a simulated run: the
/// controller decides when to tick and sample, builds the observations, consults and
/// checks the policy, applies changes (with the actuation delay, 0 by default: a real
/// `docker update` has its own), records them and assembles the result. The parity tests
/// (`ControlParityTests`) drive it with a fake clock and a plant whose physics is the
/// simulator's and require the policy's inputs and outputs to match the simulator's.
public final class LiveControlLoop {
    let scenario: Scenario
    var policy: any AllocationPolicy
    let loads: [RequestMonitor]
    let actuator: ContainerActuator
    let gpuMeter: GPUMeter?
    let clock: ControlClock
    let sampleInterval: Double
    let drainTimeout: Double
    let actuationDelay: Double
    let seed: UInt64
    let recorder: SimulationRecorder?
    let observer: ControlObserver?
    let log: (String) -> Void
    /// Set to stop the loop early (SIGINT/SIGTERM in a real run).
    var interrupted: () -> Bool

    /// - Parameters:
    ///   - actuationDelay: seconds between a decision and its `apply` (0: at once; a
    ///     real engine adds its own).
    ///   - seed: the seed the load was drawn with (reported in the result).
    ///   - observer: receives each decision's observation and answer.
    public init(
        scenario: Scenario, policy: any AllocationPolicy, loads: [RequestMonitor], actuator: ContainerActuator,
        gpuMeter: GPUMeter? = nil, clock: ControlClock, sampleInterval: Double = 1, drainTimeout: Double = 60,
        actuationDelay: Double = 0, seed: UInt64 = 0, recorder: SimulationRecorder? = nil, observer: ControlObserver? = nil,
        interrupted: @escaping () -> Bool = { false }, log: @escaping (String) -> Void
    ) {
        self.scenario = scenario
        self.policy = policy
        self.loads = loads
        self.actuator = actuator
        self.gpuMeter = gpuMeter
        self.clock = clock
        self.sampleInterval = sampleInterval
        self.drainTimeout = drainTimeout
        self.actuationDelay = actuationDelay
        self.seed = seed
        self.recorder = recorder
        self.observer = observer
        self.interrupted = interrupted
        self.log = log
    }

    public func run() throws -> LiveResult {
        let jobs = scenario.jobs
        var plant = LivePlant(
            node: scenario.cluster.nodes[0], jobs: jobs, loads: loads, actuator: actuator, gpuMeter: gpuMeter, log: log)
        var control = Controller(
            jobs: jobs, policy: policy, actuationDelay: actuationDelay, sampleInterval: sampleInterval, recorder: recorder,
            observer: observer)
        let deadline = (jobs.map { $0.arrival + $0.duration }.max() ?? 0) + drainTimeout
        var t = clock.now
        while !interrupted() {
            t = clock.now
            // One instant in the simulator's order (Docs/INVARIANTS.md C3): what the plant
            // did up to now is in the load generator's counts; then departures, delayed
            // changes coming due, placements in job order (each placement asked about
            // before its load starts), the tick, the usage sample.
            for (i, job) in jobs.enumerated() where plant.state[i] == .active {
                if t >= job.arrival + job.duration && loads[i].isFinished {
                    plant.depart(i)
                    control.departed(i, from: 0, at: t, plant: &plant)
                } else {
                    plant.noteFailure(i)
                }
            }
            for (i, due) in plant.actuationDue.enumerated() where due <= t {
                plant.actuationDue[i] = .infinity
                control.actuationDue(i, at: t, plant: &plant)
            }
            for (i, job) in jobs.enumerated() where plant.state[i] == .waiting && t >= job.arrival {
                plant.place(i)
                control.placed(i, on: 0, at: t, plant: &plant)
                plant.startLoad(i, at: t)
            }
            if let failure = control.failure { throw failure }
            if plant.state.allSatisfy({ $0 == .finished }) || t > deadline { break }
            if t >= control.nextTick {
                control.tick(nodes: 1, at: t, plant: &plant)
                if let failure = control.failure { throw failure }
            }
            if t >= control.nextSample { control.sample(nodes: 1, at: t, plant: &plant) }
            clock.wait(until: min(control.nextTick, control.nextSample, plant.actuationDue.min() ?? .infinity))
        }
        if interrupted() { throw LiveRunInterrupted() }

        // Results, with the simulator's estimator; then every completed request to the
        // recorder (the live run writes them at the end).
        let events = loads.reduce(0) { $0 + $1.arrivedTotal } + plant.done.reduce(0) { $0 + $1.count }
        let result = control.result(seed: seed, end: t, events: events, plant: &plant)
        for i in jobs.indices {
            for r in plant.done[i] { recorder?.requestCompleted(job: i, arrival: r.arrival, start: r.start, completion: r.completion, size: 1) }
        }
        return LiveResult(
            result: result, updates: plant.updates, failures: plant.failures,
            engineGaps: plant.gaps + (plant.engineLostAt.map { [($0, t)] } ?? []))
    }
}

/// The live plant: one node (this machine), its containers as the load generator,
/// the actuator and the GPU meter see them. Each container's requests go through a
/// ``ContainerMonitor``, the simulator's estimator.
final class LivePlant: ControlPlant {
    enum State { case waiting, active, finished }

    let spec: NodeSpec
    let jobs: [JobSpec]
    let loads: [RequestMonitor]
    let actuator: ContainerActuator
    let gpuMeter: GPUMeter?
    let log: (String) -> Void
    var state: [State]
    /// Active containers in placement order, as the simulator lists a node's containers.
    var placed: [Int] = []
    var monitors: [ContainerMonitor]
    var done: [[LiveRequest]]
    var lastCPU: [Double]
    var lastGPU: [Double]
    /// When each container's delayed change comes due (infinity: none).
    var actuationDue: [Double]
    /// Every `apply`: time, job, limit, shares, API latency, error (docker-updates.csv).
    var updates: LiveResult.Updates = []
    var failures: [String] = []
    /// The engine out of reach since this run time (transport errors, no HTTP answer).
    var engineLostAt: Double? = nil
    var gaps: [(from: Double, to: Double)] = []
    var lastFailedAt = 0.0

    init(node: NodeSpec, jobs: [JobSpec], loads: [RequestMonitor], actuator: ContainerActuator, gpuMeter: GPUMeter?, log: @escaping (String) -> Void) {
        spec = node
        self.jobs = jobs
        self.loads = loads
        self.actuator = actuator
        self.gpuMeter = gpuMeter
        self.log = log
        state = Array(repeating: .waiting, count: jobs.count)
        monitors = jobs.map { ContainerMonitor(metric: $0.metric) }
        done = Array(repeating: [], count: jobs.count)
        lastCPU = Array(repeating: 0, count: jobs.count)
        lastGPU = lastCPU
        actuationDue = Array(repeating: .infinity, count: jobs.count)
    }

    func place(_ i: Int) {
        state[i] = .active
        placed.append(i)
    }

    /// Container i's requests start once the controller has seen it placed.
    func startLoad(_ i: Int, at t: Double) { loads[i].begin(at: t) }

    func depart(_ i: Int) {
        state[i] = .finished
        placed.removeAll { $0 == i }
        collect(i)
        actuationDue[i] = .infinity
        if let f = loads[i].failure, !failures.contains(f) {
            failures.append(f)
            log("container of \(jobs[i].id): \(f); the run goes on")
        }
    }

    /// Logs, once, that container i stopped answering.
    func noteFailure(_ i: Int) {
        if let f = loads[i].failure, !failures.contains(f) {
            failures.append(f)
            log("job \(jobs[i].id): \(f); the run goes on for the others")
        }
    }

    /// Moves the load generator's new arrivals and completions into the monitor.
    func collect(_ i: Int) {
        let fresh = loads[i].takeNew()
        for _ in 0..<fresh.arrivals { monitors[i].recordArrival() }
        for r in fresh.completed { monitors[i].recordCompletion(seconds: r.completion - r.arrival) }
        done[i].append(contentsOf: fresh.completed)
    }

    func cpuNow(_ i: Int) -> Double {
        let v = actuator.cpuSeconds(i) ?? lastCPU[i]
        lastCPU[i] = v
        return v
    }

    func gpuNow(_ i: Int, _ t: Double) -> Double {
        let v = gpuMeter?.gpuSeconds(i, at: t) ?? lastGPU[i]
        lastGPU[i] = v
        return v
    }

    // MARK: ControlPlant

    func nodeSpec(_ n: Int) -> NodeSpec { spec }
    func node(of j: Int) -> Int? { state[j] == .waiting ? nil : 0 }
    func containers(on n: Int) -> [Int] { placed }
    func isPlaced(_ j: Int) -> Bool { state[j] == .active }

    func reading(_ j: Int, at t: Double) -> ContainerReading {
        collect(j)
        let gpu = gpuMeter?.gpu(j).flatMap { $0 >= 0 && $0 < spec.gpus ? $0 : nil }
        return ContainerReading(
            counters: monitors[j].counters, histograms: monitors[j].histograms, cpuSeconds: cpuNow(j), gpuSeconds: gpuNow(j, t),
            gpu: gpu, outstanding: loads[j].outstanding, oldestOutstandingAge: loads[j].oldestOutstandingAge(at: t))
    }

    func startWindow(_ j: Int, at t: Double) {
        monitors[j].startWindow(at: t, cpuSeconds: cpuNow(j), gpuSeconds: gpuNow(j, t))
    }

    func actuate(_ j: Int, _ a: Allocation, at t: Double) throws {
        let started = monotonic()
        do {
            try actuator.apply(j, a)
        } catch {
            // Logged; the controller reads back the allocation in force, and the rest of
            // the batch is still applied.
            let message = "t=\(String(format: "%.1f", t)) s: update of \(jobs[j].id) failed: \(error)"
            failures.append(message)
            log(message + "; the run goes on")
            updates.append((t, jobs[j].id, a.cpuLimit, Int(a.cpuWeight * 1024), (monotonic() - started) * 1000, "\(error)"))
            lastFailedAt = t
            throw error
        }
        updates.append((t, jobs[j].id, a.cpuLimit, Int(a.cpuWeight * 1024), (monotonic() - started) * 1000, nil))
    }

    func actuationsApplied(on n: Int, at t: Double) { actuator.changesApplied() }

    func allocationInForce(_ j: Int) -> Allocation? {
        if let actual = actuator.inForce(j) { return actual }
        if engineLostAt == nil && !actuator.engineReachable() {
            engineLostAt = lastFailedAt
            log(String(format: "t=%.1f s: the Docker engine is out of reach; requests are still measured, limits will be read back when it answers", lastFailedAt))
        }
        return nil
    }

    /// After an engine outage: once it answers again, every limit in force is read back
    /// (the engine's, not our belief) before the policy decides.
    func allocationsReadBack(at t: Double) -> [(container: Int, allocation: Allocation)] {
        let reachable = actuator.engineReachable()
        if !reachable && engineLostAt == nil {
            engineLostAt = t
            log(String(format: "t=%.1f s: the Docker engine is out of reach; requests are still measured, limits will be read back when it answers", t))
        }
        guard reachable, let lost = engineLostAt else { return [] }
        var actual: [(container: Int, allocation: Allocation)] = []
        for i in jobs.indices { if let a = actuator.inForce(i) { actual.append((i, a)) } }
        guard !actual.isEmpty else { return [] }
        gaps.append((lost, t))
        engineLostAt = nil
        log(String(format: "t=%.1f s: the Docker engine answers again after %.1f s out of reach; limits read back", t, t - lost))
        return actual
    }

    func scheduleActuation(_ j: Int, at t: Double) { actuationDue[j] = t }

    var actuatesGPUShare: Bool { actuator.actuatesGPUShare }
}

/// The wall clock, from a monotonic epoch; waits poll every 20 ms at most.
final class WallClock: ControlClock {
    let epoch: Double
    init(epoch: Double) { self.epoch = epoch }
    var now: Double { monotonic() - epoch }
    func wait(until t: Double) {
        let dt = min(t - now, 0.02)
        if dt > 0 { usleep(UInt32(dt * 1e6)) }
    }
}

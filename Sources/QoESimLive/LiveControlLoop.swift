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
}

/// The control loop of a live run: containers arrive and leave, windows are measured
/// with the simulator's ``ContainerMonitor``, observations are built as the simulator
/// builds them, the policy is consulted and checked with the simulator's
/// ``AllocationPolicy/decide(on:because:)``, and decisions go to an actuator. Only the
/// clock, the actuator and the request monitors differ from a simulated run; the parity
/// test (`LiveParityTests`) feeds it a simulator's recorded requests with a fake clock and
/// actuator and requires the policy's inputs and outputs to match byte for byte.
public final class LiveControlLoop {
    let scenario: Scenario
    var policy: any AllocationPolicy
    let loads: [RequestMonitor]
    let actuator: ContainerActuator
    let gpuMeter: GPUMeter?
    let clock: ControlClock
    let sampleInterval: Double
    let drainTimeout: Double
    let recorder: SimulationRecorder?
    let log: (String) -> Void
    /// Set to stop the loop early (SIGINT/SIGTERM in a real run).
    var interrupted: () -> Bool

    public init(
        scenario: Scenario, policy: any AllocationPolicy, loads: [RequestMonitor], actuator: ContainerActuator,
        gpuMeter: GPUMeter? = nil, clock: ControlClock, sampleInterval: Double = 1, drainTimeout: Double = 60, recorder: SimulationRecorder? = nil,
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
        self.recorder = recorder
        self.interrupted = interrupted
        self.log = log
    }

    enum State { case waiting, active, finished }

    public func run() throws -> LiveResult {
        let jobs = scenario.jobs
        let node = scenario.cluster.nodes[0]
        var allocation = jobs.map { Allocation(cpuLimit: $0.cpus, cpuWeight: $0.weight, gpuShare: $0.gpuShare ?? 1) }
        var state = [State](repeating: .waiting, count: jobs.count)
        // Active containers in placement order, as the simulator lists a node's containers.
        var placed: [Int] = []
        var monitors = jobs.map { ContainerMonitor(metric: $0.metric) }
        var done: [[LiveRequest]] = Array(repeating: [], count: jobs.count)
        var updates: LiveResult.Updates = []
        var failures: [String] = []
        // The engine out of reach since this run time (transport errors, no HTTP answer).
        var engineLostAt: Double? = nil
        var gaps: [(from: Double, to: Double)] = []
        var lastCPU = [Double](repeating: 0, count: jobs.count)
        var sampleCPU = lastCPU, sampleTime = lastCPU
        var lastGPU = lastCPU, sampleGPU = lastCPU
        let interval = policy.controlInterval
        var nextTick = interval ?? .infinity
        var nextSample = sampleInterval
        let deadline = (jobs.map { $0.arrival + $0.duration }.max() ?? 0) + drainTimeout

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

        /// The GPU a container uses, if it is one of the node's.
        func gpuIndex(_ i: Int) -> Int? { gpuMeter?.gpu(i).flatMap { $0 >= 0 && $0 < node.gpus ? $0 : nil } }

        /// Moves the load generator's new arrivals and completions into the monitor.
        func collect(_ i: Int) {
            let fresh = loads[i].takeNew()
            for _ in 0..<fresh.arrivals { monitors[i].recordArrival() }
            for r in fresh.completed { monitors[i].recordCompletion(seconds: r.completion - r.arrival) }
            done[i].append(contentsOf: fresh.completed)
        }

        func observe(_ t: Double) -> NodeObservation {
            var list: [ContainerObservation] = []
            for i in placed {
                let job = jobs[i]
                collect(i)
                list.append(ContainerObservation(
                    job: job, gpu: gpuIndex(i), allocation: allocation[i], outstanding: loads[i].outstanding,
                    oldestOutstandingAge: loads[i].oldestOutstandingAge(at: t),
                    window: monitors[i].window(at: t, cpuSeconds: cpuNow(i), gpuSeconds: gpuNow(i, t)), completedTotal: monitors[i].completed,
                    startedAt: job.arrival))
            }
            return NodeObservation(name: node.name, cpus: node.cpus, gpus: node.gpus, time: t, containers: list)
        }

        func consult(_ t: Double, _ trigger: PolicyTrigger) throws {
            // After an engine outage: once it answers again, read back every limit in
            // force (the engine's, not our belief) before the policy decides.
            let reachable = actuator.engineReachable()
            if !reachable && engineLostAt == nil {
                engineLostAt = t
                log(String(format: "t=%.1f s: the Docker engine is out of reach; requests are still measured, limits will be read back when it answers", t))
            }
            if reachable, let lost = engineLostAt {
                let actual = jobs.indices.map { actuator.inForce($0) }
                if actual.contains(where: { $0 != nil }) {
                    for i in jobs.indices { if let a = actual[i] { allocation[i] = a } }
                    gaps.append((lost, t))
                    engineLostAt = nil
                    log(String(format: "t=%.1f s: the Docker engine answers again after %.1f s out of reach; limits read back", t, t - lost))
                }
            }
            // An unusable change stops the run, as in the simulator (PolicyChangeError).
            let changes = try policy.decide(on: observe(t), because: trigger)
            for change in changes {
                let i = jobs.firstIndex { $0.id == change.containerID }!
                let a = change.allocation
                guard a != allocation[i] else { continue }
                let started = monotonic()
                do {
                    try actuator.apply(i, a)
                    allocation[i] = a
                } catch {
                    // Logged; the allocation actually in force is read back, and the rest
                    // of the batch is still applied.
                    let message = "t=\(String(format: "%.1f", t)) s: update of \(jobs[i].id) failed: \(error)"
                    failures.append(message)
                    log(message + "; the run goes on")
                    if let actual = actuator.inForce(i) {
                        allocation[i] = actual
                    } else if engineLostAt == nil, (error as? DockerError)?.status == nil {
                        engineLostAt = t
                        log(String(format: "t=%.1f s: the Docker engine is out of reach; requests are still measured, limits will be read back when it answers", t))
                    }
                    updates.append((t, jobs[i].id, a.cpuLimit, Int(a.cpuWeight * 1024), (monotonic() - started) * 1000, "\(error)"))
                    continue
                }
                updates.append((t, jobs[i].id, a.cpuLimit, Int(a.cpuWeight * 1024), (monotonic() - started) * 1000, nil))
                let reason: String
                switch trigger {
                case .interval: reason = "interval"
                case .arrival: reason = "arrival"
                case .departure: reason = "departure"
                }
                recorder?.allocationChanged(time: t, job: i, node: 0, allocation: a, reason: change.note.isEmpty ? reason : "\(reason): \(change.note)")
            }
        }

        var t = clock.now
        while !interrupted() {
            t = clock.now
            // Arrivals and departures, in job order (as the simulator's timers fire).
            for (i, job) in jobs.enumerated() {
                if state[i] == .waiting && t >= job.arrival {
                    state[i] = .active
                    placed.append(i)
                    monitors[i].startWindow(at: t, cpuSeconds: cpuNow(i), gpuSeconds: gpuNow(i, t))
                    sampleCPU[i] = lastCPU[i]
                    sampleGPU[i] = lastGPU[i]
                    sampleTime[i] = t
                    recorder?.allocationChanged(time: t, job: i, node: 0, allocation: allocation[i], reason: "placement")
                    try consult(t, .arrival(containerID: job.id))
                } else if state[i] == .active && t >= job.arrival + job.duration && loads[i].isFinished {
                    state[i] = .finished
                    placed.removeAll { $0 == i }
                    collect(i)
                    if let f = loads[i].failure, !failures.contains(f) { failures.append(f); log("container of \(job.id): \(f); the run goes on") }
                    try consult(t, .departure(containerID: job.id))
                } else if state[i] == .active, let f = loads[i].failure, !failures.contains(f) {
                    failures.append(f)
                    log("job \(job.id): \(f); the run goes on for the others")
                }
            }
            if state.allSatisfy({ $0 == .finished }) || t > deadline { break }
            if t >= nextTick {
                // As in the simulator, a node with no container is not consulted.
                if state.contains(.active) { try consult(t, .interval) }
                for i in jobs.indices where state[i] == .active {
                    monitors[i].startWindow(at: t, cpuSeconds: cpuNow(i), gpuSeconds: gpuNow(i, t))
                }
                nextTick += interval ?? .infinity
            }
            if t >= nextSample {
                for i in jobs.indices where state[i] == .active {
                    let cpu = cpuNow(i), gpu = gpuNow(i, t)
                    let dt = max(t - sampleTime[i], 1e-6)
                    recorder?.usageSampled(
                        time: t, job: i, node: 0, allocation: allocation[i], cpuUsed: (cpu - sampleCPU[i]) / dt,
                        gpuUsed: (gpu - sampleGPU[i]) / dt, outstanding: loads[i].outstanding)
                    sampleCPU[i] = cpu
                    sampleGPU[i] = gpu
                    sampleTime[i] = t
                }
                nextSample += sampleInterval
            }
            clock.wait(until: min(nextTick, nextSample))
        }
        if interrupted() { throw DockerError("interrupted: containers removed, partial results discarded") }

        // Results, with the simulator's estimator.
        var models: [ModelResult] = []
        for (i, job) in jobs.enumerated() {
            collect(i)
            for r in done[i] { recorder?.requestCompleted(job: i, arrival: r.arrival, start: r.start, completion: r.completion, size: 1) }
            models.append(monitors[i].result(
                job: job, node: node.name, unfinished: max(0, loads[i].arrivedTotal - monitors[i].completed), pendingS: 0,
                cpuSeconds: cpuNow(i)))
        }
        let result = SimulationResult(
            // Events that happened: every arrival and every completion.
            policy: policy.name, seed: 0, models: models, events: loads.reduce(0) { $0 + $1.arrivedTotal } + done.reduce(0) { $0 + $1.count },
            simulatedSeconds: t, neverPlaced: 0)
        if let lost = engineLostAt { gaps.append((lost, t)) }
        return LiveResult(result: result, updates: updates, failures: failures, engineGaps: gaps)
    }
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

/// Docker as the actuator: `docker update` and cgroup (or stats API) CPU counters.
final class DockerActuator: ContainerActuator {
    let docker: DockerClient
    let ids: [String]
    init(docker: DockerClient, ids: [String]) {
        self.docker = docker
        self.ids = ids
    }

    func engineReachable() -> Bool {
        let docker = self.docker
        return (try? blocking { try await docker.ping() }) ?? false
    }

    func apply(_ container: Int, _ a: Allocation) throws {
        let docker = self.docker, id = ids[container]
        FaultPoint.pause("live.update")  // tests: a slow update, for signals that land in one
        try blocking { try await docker.update(id, cpus: a.cpuLimit, shares: Int(a.cpuWeight * 1024)) }
    }

    func inForce(_ container: Int) -> Allocation? {
        let docker = self.docker, id = ids[container]
        guard let l = try? blocking({ try await docker.limits(id) }) else { return nil }
        return Allocation(cpuLimit: l.nanoCPUs > 0 ? Double(l.nanoCPUs) / 1e9 : nil, cpuWeight: Double(l.shares) / 1024)
    }

    func cpuSeconds(_ container: Int) -> Double? {
        let docker = self.docker, id = ids[container]
        return try? blocking { try await docker.cpuSeconds(id) }
    }
}

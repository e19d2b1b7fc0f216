import Foundation
import Testing
import QoESim
import QoESimLive

/// Invariant C1 (Docs/INVARIANTS.md): the live adapter runs the simulator's control loop.
/// A simulation's per-request events (arrival, start, completion per container) are fed
/// to the live control loop with a fake clock and a fake actuator; the observations the
/// policy receives and the decisions it returns must be the same, byte for byte, as in
/// the simulation. No Docker is needed, and the test fails on any divergence in windows,
/// percentiles, outstanding counts, ages, CPU accounting, validation or ordering.
@Suite("Live/simulation parity (one control loop)")
struct LiveParityTests {
    /// Writes what a policy sees and answers, one line per container and per change.
    /// Numbers are printed to 9 significant digits: the simulator and the fake actuator
    /// add CPU seconds in different orders, which differ in the last bits only.
    final class PolicyLog: @unchecked Sendable {
        var lines: [String] = []
    }

    struct LoggingPolicy: AllocationPolicy {
        var inner: any AllocationPolicy
        let log: PolicyLog
        var name: String { inner.name }
        var controlInterval: Double? { inner.controlInterval }

        static func f(_ v: Double?) -> String { v.map { String(format: "%.9g", $0) } ?? "-" }

        mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
            log.lines.append("t=\(Self.f(node.time)) \(trigger) node=\(node.name) cpus=\(Self.f(node.cpus))")
            for c in node.containers {
                let w = c.window
                log.lines.append(
                    "  \(c.id) limit=\(Self.f(c.allocation.cpuLimit)) weight=\(Self.f(c.allocation.cpuWeight)) out=\(c.outstanding) "
                        + "age=\(Self.f(c.oldestOutstandingAge)) done=\(c.completedTotal) start=\(Self.f(c.startedAt)) "
                        + "window[dur=\(Self.f(w.duration)) arr=\(w.arrivals) done=\(w.completed) mean=\(Self.f(w.meanMs)) "
                        + "metric=\(Self.f(w.measuredMs)) cpu=\(Self.f(w.cpuUsed)) gpu=\(Self.f(w.gpuUsed))]")
            }
            let changes = inner.allocate(on: node, because: trigger)
            for ch in changes {
                log.lines.append("  -> \(ch.containerID) limit=\(Self.f(ch.allocation.cpuLimit)) weight=\(Self.f(ch.allocation.cpuWeight)) \(ch.note)")
            }
            return changes
        }
    }

    /// Every completed request of a simulation.
    final class Requests: SimulationRecorder {
        var byJob: [Int: [LiveRequest]] = [:]
        func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {
            byJob[job, default: []].append(LiveRequest(arrival: arrival, start: start, completion: completion, serverMs: 0))
        }
        func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {}
    }

    /// Steps through every time at which something happens: arrivals, completions, the
    /// jobs' starts and ends, and whatever the loop waits for.
    final class FakeClock: ControlClock {
        var now = 0.0
        var events: [Double]
        init(events: [Double]) { self.events = Array(Set(events)).sorted() }
        func wait(until t: Double) {
            let next = events.first { $0 > now } ?? .infinity
            let target = min(t, next)
            now = target > now ? target : (next.isFinite ? next : now + 1)
        }
    }

    /// Releases a job's recorded requests as the clock passes them: an arrival counts once
    /// the clock is past it (the simulator consults before a placement's first arrival),
    /// a completion once the clock is at it.
    final class RecordedLoad: RequestMonitor {
        let requests: [LiveRequest]
        let end: Double
        let clock: FakeClock
        var takenArrivals = 0, takenCompletions = 0
        let completionOrder: [LiveRequest]
        init(requests: [LiveRequest], end: Double, clock: FakeClock) {
            self.requests = requests.sorted { $0.arrival < $1.arrival }
            completionOrder = requests.sorted { $0.completion < $1.completion }
            self.end = end
            self.clock = clock
        }
        var arrivedTotal: Int { requests.filter { $0.arrival < clock.now }.count }
        func takeNew() -> (arrivals: Int, completed: [LiveRequest]) {
            let a = arrivedTotal
            let done = completionOrder.filter { $0.completion <= clock.now }
            defer {
                takenArrivals = a
                takenCompletions = done.count
            }
            return (a - takenArrivals, Array(done[takenCompletions...]))
        }
        var outstanding: Int { requests.filter { $0.arrival < clock.now && $0.completion > clock.now }.count }
        func oldestOutstandingAge(at t: Double) -> Double? {
            requests.first { $0.arrival < t && $0.completion > t }.map { t - $0.arrival }
        }
        var isFinished: Bool { clock.now >= end && requests.allSatisfy { $0.completion <= clock.now } }
        var failure: String? { nil }
    }

    /// Records limits as they are applied and integrates CPU as the simulator does on an
    /// uncontended node: while a request is in service, min(limit, parallelism) cores.
    final class FakeActuator: ContainerActuator {
        let clock: FakeClock
        let loads: [RecordedLoad]
        let parallelism: [Double]
        var limits: [[(time: Double, limit: Double)]]
        init(clock: FakeClock, loads: [RecordedLoad], jobs: [JobSpec], nodeCPUs: Double) {
            self.clock = clock
            self.loads = loads
            parallelism = jobs.map { $0.model.latency.maxParallelism }
            limits = jobs.map { [(0, $0.cpus ?? nodeCPUs)] }
        }
        func apply(_ i: Int, _ a: Allocation) throws { limits[i].append((clock.now, a.cpuLimit ?? .infinity)) }
        func inForce(_ i: Int) -> Allocation? { nil }
        func cpuSeconds(_ i: Int) -> Double? {
            let now = clock.now
            var total = 0.0
            for r in loads[i].requests where r.start < now {
                let busyEnd = min(r.completion, now)
                for (k, seg) in limits[i].enumerated() {
                    let segEnd = k + 1 < limits[i].count ? limits[i][k + 1].time : .infinity
                    let lo = max(r.start, seg.time), hi = min(busyEnd, segEnd)
                    if hi > lo { total += (hi - lo) * min(seg.limit, parallelism[i]) }
                }
            }
            return total
        }
    }

    /// GPU-seconds as the simulator counts them for a container alone on its GPU: the
    /// whole GPU while a request is in service.
    final class FakeGPUMeter: GPUMeter {
        let loads: [RecordedLoad]
        let usesGPU: [Bool]
        init(loads: [RecordedLoad], jobs: [JobSpec]) {
            self.loads = loads
            usesGPU = jobs.map { $0.model.latency.usesGPU }
        }
        func gpuSeconds(_ i: Int, at t: Double) -> Double? {
            guard usesGPU[i] else { return 0 }
            return loads[i].requests.reduce(0.0) { $0 + max(0, min($1.completion, t) - $1.start) }
        }
        func gpu(_ i: Int) -> Int? { usesGPU[i] ? 0 : nil }
    }

    /// The scenario with a fourth job on the node's GPU.
    static func scenarioWithGPU() -> Scenario {
        var s = scenario()
        let model = ModelSpec(
            name: "gpu", latency: LatencyModel(family: .gpu(overheadMs: 1, cpuMs: 4, gpuMs: 15), maxParallelism: 2), variability: .exponential)
        s.jobs.append(Fixture.job("gpu", model, rate: 20, duration: 40, arrival: 3.1, target: 30, arrivals: .poisson))
        s.cluster = Fixture.cluster(1, cpus: 16, gpus: 1)
        return s
    }

    static func scenario() -> Scenario {
        let big = Fixture.model("big", serialMs: 5, parallelMs: 200, maxParallelism: 4, variability: .lognormal(cv: 0.2))
        let small = Fixture.model("small", serialMs: 1, parallelMs: 20, maxParallelism: 2, variability: .exponential)
        let jobs = [
            Fixture.job("closed", big, duration: 58, target: 70, arrivals: .closed, cpus: 1),
            Fixture.job("poisson", small, rate: 30, duration: 50, arrival: 1.3, target: 25, metric: .p95, arrivals: .poisson),
            Fixture.job("late", big, duration: 30, arrival: 12.7, target: 400, arrivals: .closed),
        ]
        return Scenario(cluster: Fixture.cluster(1, cpus: 16), jobs: jobs)
    }

    /// Replays the simulation's requests (after `edit`) through the live loop; returns
    /// both policy logs and results.
    static func replay(
        _ scenario: Scenario = Self.scenario(), withGPU: Bool = false, _ edit: ([Int: [LiveRequest]]) -> [Int: [LiveRequest]] = { $0 }
    ) throws
        -> (sim: [String], live: [String], simResult: SimulationResult, liveResult: SimulationResult)
    {
        let simLog = PolicyLog(), liveLog = PolicyLog()
        let requests = Requests()
        let sim = try Simulation(scenario: scenario, policy: LoggingPolicy(inner: DQoESPolicy(), log: simLog))
            .run(seed: 4, recorder: requests)
        let recorded = edit(requests.byJob)
        let clock = FakeClock(events: [])
        let loads = scenario.jobs.indices.map { j in
            RecordedLoad(requests: recorded[j] ?? [], end: scenario.jobs[j].arrival + scenario.jobs[j].duration, clock: clock)
        }
        clock.events = Array(Set(
            loads.flatMap { $0.requests.flatMap { [$0.arrival, $0.completion] } }
                + scenario.jobs.flatMap { [$0.arrival, $0.arrival + $0.duration] })).sorted()
        let actuator = FakeActuator(clock: clock, loads: loads, jobs: scenario.jobs, nodeCPUs: 16)
        let live = try LiveControlLoop(
            scenario: scenario, policy: LoggingPolicy(inner: DQoESPolicy(), log: liveLog), loads: loads, actuator: actuator,
            gpuMeter: withGPU ? FakeGPUMeter(loads: loads, jobs: scenario.jobs) : nil, clock: clock, log: { _ in }
        ).run()
        return (simLog.lines, liveLog.lines, sim, live.result)
    }

    @Test("The live control loop fed a simulation's requests gives the policy the same inputs and outputs")
    func parity() throws {
        let r = try Self.replay()
        #expect(r.sim.count > 40, "too few decisions to compare: \(r.sim.count) lines")
        let firstDifference = zip(r.sim, r.live).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "line \(firstDifference?.offset ?? 0): sim '\(firstDifference?.element.0 ?? "")' vs live '\(firstDifference?.element.1 ?? "")'")
        #expect(r.sim.count == r.live.count)
        // The results come from the same estimator.
        for (s, l) in zip(r.simResult.models, r.liveResult.models) {
            #expect(s.requests == l.requests && s.meanMs == l.meanMs && s.p95Ms == l.p95Ms && s.satisfied == l.satisfied, "\(s.id)")
        }
    }

    /// With a GPU job: the GPU use a meter reports (here, as the simulator integrates it)
    /// reaches the policy as the simulator's does, and without a meter it does not.
    @Test("Parity holds with a GPU job when the live loop has a GPU meter, and fails without one")
    func parityWithGPU() throws {
        let r = try Self.replay(Self.scenarioWithGPU(), withGPU: true)
        #expect(r.sim.contains { $0.contains("gpu=0.") }, "the GPU job's windows show GPU use")
        let firstDifference = zip(r.sim, r.live).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "line \(firstDifference?.offset ?? 0): sim '\(firstDifference?.element.0 ?? "")' vs live '\(firstDifference?.element.1 ?? "")'")
        #expect(r.sim.count == r.live.count)
        let blind = try Self.replay(Self.scenarioWithGPU(), withGPU: false)
        #expect(blind.sim != blind.live, "without a GPU meter the live loop must not match")
    }

    /// The comparison has teeth: one request of the Poisson job completing 1 ms later
    /// than simulated must show up in the logs.
    @Test("Parity detects a 1 ms shift of one request")
    func parityDetectsShift() throws {
        let r = try Self.replay(Self.scenario()) { byJob in
            var out = byJob
            if var list = out[1], list.count > 20 {
                list[10].completion += 0.001
                out[1] = list
            }
            return out
        }
        #expect(r.sim != r.live)
    }

    /// An unusable change stops both loops with the same typed error.
    @Test("An invalid policy change is the same typed error in the simulator and the live loop")
    func invalidChange() throws {
        struct Broken: AllocationPolicy {
            let name = "broken"
            var controlInterval: Double? { 5 }
            mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
                guard case .interval = trigger, let c = node.containers.first else { return [] }
                return [AllocationChange(containerID: c.id, allocation: Allocation(cpuLimit: -1))]
            }
        }
        let scenario = Self.scenario()
        var simError: PolicyChangeError?
        do { _ = try Simulation(scenario: scenario, policy: Broken()).run(seed: 1) } catch let e as PolicyChangeError { simError = e }
        let clock = FakeClock(events: (0..<200).map { Double($0) * 0.5 })
        let loads = scenario.jobs.map { RecordedLoad(requests: [], end: $0.arrival + $0.duration, clock: clock) }
        var liveError: PolicyChangeError?
        do {
            _ = try LiveControlLoop(
                scenario: scenario, policy: Broken(), loads: loads,
                actuator: FakeActuator(clock: clock, loads: loads, jobs: scenario.jobs, nodeCPUs: 16), clock: clock, log: { _ in }
            ).run()
        } catch let e as PolicyChangeError { liveError = e }
        #expect(simError != nil && simError == liveError, "sim \(String(describing: simError)) vs live \(String(describing: liveError))")
        #expect(simError?.container == "closed" && simError?.description.contains("invalid") == true)
    }
}

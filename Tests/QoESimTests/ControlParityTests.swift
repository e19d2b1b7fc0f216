import Foundation
import PropertyBased
import Testing
@_spi(Testing) import QoESim
import QoESimLive

/// Invariant C1 (Docs/INVARIANTS.md): one controller, two plants. The same scenario runs
/// (A) as a simulation and (B) through the live adapter's control loop
/// (``LiveControlLoop``: its wall-clock driver, its plant, its ordering) with a fake
/// clock and, in place of Docker, the simulator's own physics driven from outside
/// (``SimulatedEngine``: the load starts when the live plant starts it, allocations go
/// into force when its actuator applies them, CPU and GPU seconds are the simulator's
/// accounting, arrivals come from the same ``ArrivalSchedule`` the load generator uses).
/// Every decision (what the policy saw, why it was asked, what it answered), every
/// allocation record, every usage sample and every model's result must agree, numbers
/// within a relative 1e-9 (CPU seconds are summed at other moments on the two sides).
///
/// The scenarios are drawn to hit the cases where two loops drift apart: container and
/// request arrivals exactly on multiples of the control interval, deterministic service
/// times (so completions coincide with ticks and arrivals), a non-zero actuation delay,
/// 1-4 workers on closed and open jobs, a first arrival after t = 0, a contended node
/// with binding limits, and a GPU job whose share the policy changes.
@Suite("One controller, two plants (property-based parity)")
struct ControlParityTests {
    // MARK: The fake engine's adapters (the live loop's protocols over SimulatedEngine)

    final class EngineLoad: RequestMonitor {
        let engine: SimulatedEngine
        let j: Int
        init(_ engine: SimulatedEngine, _ j: Int) {
            self.engine = engine
            self.j = j
        }
        func takeNew() -> (arrivals: Int, completed: [LiveRequest]) {
            let fresh = engine.takeNew(j)
            return (fresh.arrivals, fresh.completed.map { LiveRequest(arrival: $0.arrival, start: $0.start, completion: $0.completion, serverMs: 0) })
        }
        var outstanding: Int { engine.reading(j, at: engine.now).outstanding }
        func oldestOutstandingAge(at t: Double) -> Double? { engine.reading(j, at: t).oldestOutstandingAge }
        var isFinished: Bool { engine.isFinished(j) }
        var failure: String? { nil }
        var arrivedTotal: Int { engine.arrivedTotal(j) }
        func begin(at t: Double) { engine.begin(j, at: t) }
    }

    final class EngineActuator: ContainerActuator {
        let engine: SimulatedEngine
        let actuatesGPUShare: Bool
        init(_ engine: SimulatedEngine, actuatesGPUShare: Bool) {
            self.engine = engine
            self.actuatesGPUShare = actuatesGPUShare
        }
        func apply(_ j: Int, _ a: Allocation) throws {
            var a = a
            // An engine that cannot change GPU shares (Docker) leaves the one in force.
            if !actuatesGPUShare { a.gpuShare = engine.allocation(j).gpuShare }
            engine.apply(j, a, at: engine.now)
        }
        func inForce(_ j: Int) -> Allocation? { nil }
        func cpuSeconds(_ j: Int) -> Double? { engine.reading(j, at: engine.now).cpuSeconds }
        func changesApplied() { engine.changesApplied(at: engine.now) }
    }

    /// The GPU a container uses is known from its deployment (a live run creates the
    /// containers, with their devices, before the load starts): here, GPU 0 of the node
    /// for a model that uses one, until the engine has placed it.
    final class EngineGPUMeter: GPUMeter {
        let engine: SimulatedEngine
        let usesGPU: [Bool]
        init(_ engine: SimulatedEngine, jobs: [JobSpec]) {
            self.engine = engine
            usesGPU = jobs.map(\.model.latency.usesGPU)
        }
        func gpuSeconds(_ j: Int, at t: Double) -> Double? { engine.reading(j, at: t).gpuSeconds }
        func gpu(_ j: Int) -> Int? { engine.gpu(j) ?? (usesGPU[j] ? 0 : nil) }
    }

    /// Steps from one thing to the next: the engine's next event, a job's arrival or end,
    /// or what the loop waits for, whichever comes first.
    final class EngineClock: ControlClock {
        let engine: SimulatedEngine
        let marks: [Double]
        init(_ engine: SimulatedEngine, marks: [Double]) {
            self.engine = engine
            self.marks = Array(Set(marks)).sorted()
        }
        var now: Double { engine.now }
        func wait(until t: Double) {
            let now = engine.now
            // Events armed during this instant (a completion brought forward by a
            // change): the instant goes on, and the loop looks again at the same time.
            if let e = engine.nextEventTime, e <= now {
                engine.advance(to: now)
                return
            }
            var target = Double.infinity
            if t > now { target = t }
            if let e = engine.nextEventTime, e > now { target = min(target, e) }
            if let m = marks.first(where: { $0 > now }) { target = min(target, m) }
            engine.advance(to: target.isFinite ? target : now + 1)
        }
    }

    // MARK: What both sides log

    struct Decision {
        var time: Double
        var trigger: String
        var nodeCPUs: Double
        var containers: [ContainerObservation]
        var changes: [AllocationChange]
    }

    final class DecisionLog: ControlObserver {
        var decisions: [Decision] = []
        func decided(node: NodeObservation, trigger: PolicyTrigger, changes: [AllocationChange]) {
            decisions.append(Decision(time: node.time, trigger: "\(trigger)", nodeCPUs: node.cpus, containers: node.containers, changes: changes))
        }
    }

    final class Records: SimulationRecorder {
        var allocations: [(time: Double, job: Int, allocation: Allocation, reason: String)] = []
        var usage: [(time: Double, job: Int, allocation: Allocation, cpu: Double, gpu: Double, outstanding: Int)] = []
        var requests = 0
        func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) { requests += 1 }
        func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {
            allocations.append((time, job, allocation, reason))
        }
        func usageSampled(time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int) {
            usage.append((time, job, allocation, cpuUsed, gpuUsed, outstanding))
        }
    }

    // MARK: Scenarios

    struct Case {
        var scenario: Scenario
        var policy: @Sendable () -> any AllocationPolicy
        var policyName: String
        var actuationDelay: Double
        var sampleInterval: Double
        var describe: String
    }

    /// One scenario from one seed (a failure names the seed; `make(seed:)` rebuilds it).
    static func make(seed: UInt64) -> Case {
        var g = RandomNode.SplitMix(state: seed)
        let interval = [1.0, 2.0, 2.5, 5.0][g.int(0...3)]
        let gpus = g.chance(0.25) ? 1 : 0
        let cpus = g.chance(0.5) ? Double(g.int(1...4)) : g.uniform(0.5, 4)
        // Every job's arrival lies on a multiple of the interval from the earliest one
        // (which may be after 0) in half the cases, so placements coincide with ticks.
        let first = g.chance(0.5) ? 0 : (g.chance(0.5) ? interval * Double(g.int(1...3)) : g.uniform(0.1, 7))
        let count = g.int(1...4)
        var jobs: [JobSpec] = []
        var requests: [String: [TracedRequest]] = [:]
        var reserved = 0.0
        for i in 0..<count {
            let id = "j\(i)"
            // One or two jobs on the GPU (with two, their shares divide it).
            let onGPU = gpus > 0 && (i == 0 || (i == 1 && g.chance(0.5)))
            let deterministic = g.chance(0.4)
            let variability: Variability = deterministic ? .deterministic : (g.chance(0.5) ? .exponential : .lognormal(cv: 0.5))
            let family: LatencyModel.Family = onGPU
                ? .gpu(overheadMs: 1, cpuMs: g.uniform(2, 20), gpuMs: g.uniform(10, 60))
                : .amdahl(serialMs: deterministic ? 10 * Double(g.int(0...2)) : g.uniform(0, 20), parallelMs: deterministic ? 50 * Double(g.int(1...8)) : g.logUniform(40, 600))
            let model = ModelSpec(name: "m\(i)", latency: LatencyModel(family: family, maxParallelism: Double(g.int(1...4))), variability: variability)
            let arrivals: ArrivalProcess = [.closed, .poisson, .trace][g.int(0...2)]
            let aligned = g.chance(0.5)
            let arrival = i == 0 ? first : first + (aligned ? interval * Double(g.int(0...4)) : g.uniform(0, 12))
            let duration = aligned ? interval * Double(g.int(2...8)) : g.uniform(4, 25)
            let rate = g.uniform(1, 12)
            var limit: Double? = nil
            if g.chance(0.4) && reserved + 0.25 <= cpus {
                limit = min(cpus - reserved, g.chance(0.5) ? 0.25 * Double(g.int(1...4)) : g.uniform(0.2, 1.5))
                reserved += limit!
            }
            jobs.append(JobSpec(
                id: id, model: model, arrival: arrival, duration: duration, rate: rate, targetMs: g.logUniform(20, 2000),
                metric: [.mean, .p95, .p99][g.int(0...2)], arrivals: arrivals, cpus: limit, gpuShare: onGPU ? g.uniform(0.5, 2) : nil,
                workers: g.int(1...4), weight: g.chance(0.3) ? g.uniform(0.5, 4) : 1))
            if arrivals == .trace {
                // Requests on multiples of the interval (ticks), of a tenth of it, or anywhere.
                let n = g.int(5...60)
                var offsets: [Double] = []
                for _ in 0..<n {
                    switch g.int(0...2) {
                    case 0: offsets.append(interval * Double(g.int(0...Int(duration / interval))))
                    case 1: offsets.append(interval / 10 * Double(g.int(0...Int(10 * duration / interval))))
                    default: offsets.append(g.uniform(0, duration))
                    }
                }
                requests[id] = offsets.sorted().map { TracedRequest(offset: $0, size: g.chance(0.2) ? g.uniform(0.5, 3) : 1) }
            }
        }
        let scenario = Scenario(cluster: Fixture.cluster(1, cpus: cpus, gpus: gpus), jobs: jobs, requests: requests)
        let which = g.int(0...3)
        let delay = g.chance(0.5) ? 0 : [0.25, 0.5, interval][g.int(0...2)]
        let sample = [0.5, 1, interval][g.int(0...2)]
        let names = ["dqoes", "dqoes-shares", "predictive-limits", "fair-share"]
        let policy: @Sendable () -> any AllocationPolicy = {
            switch which {
            case 0:
                var p = DQoESPolicy()
                p.parameters.interval = interval
                return p
            case 1:
                var p = DQoESPolicy()
                p.parameters.interval = interval
                p.parameters.mode = .shares
                return p
            case 2:
                var p = PredictivePolicy()
                p.parameters.interval = interval
                p.parameters.mode = .limits
                return p
            default:
                return FairSharePolicy()
            }
        }
        let what = jobs.map { "\($0.id):\($0.arrivals)x\($0.workers)@\($0.arrival)+\($0.duration)\($0.cpus.map { " cpus \($0)" } ?? "")\($0.model.latency.usesGPU ? " gpu" : "")" }
        return Case(
            scenario: scenario, policy: policy, policyName: names[which], actuationDelay: delay, sampleInterval: sample,
            describe: "\(names[which]) interval \(interval) delay \(delay) node \(cpus) cpus \(gpus) gpus; " + what.joined(separator: ", "))
    }

    // MARK: Running both plants

    struct Side {
        var decisions: [Decision]
        var records: Records
        var result: SimulationResult
    }

    static func simulate(_ c: Case, seed: UInt64) throws -> Side {
        let log = DecisionLog(), records = Records()
        let options = SimulationOptions(sampleInterval: c.sampleInterval, actuationDelay: c.actuationDelay)
        let result = try Simulation(scenario: c.scenario, policy: c.policy(), options: options).run(seed: seed, recorder: records, observer: log)
        return Side(decisions: log.decisions, records: records, result: result)
    }

    static func live(_ c: Case, seed: UInt64, actuatesGPUShare: Bool = true) throws -> Side {
        let engine = try SimulatedEngine(scenario: c.scenario, seed: seed)
        let jobs = c.scenario.jobs
        let loads = jobs.indices.map { EngineLoad(engine, $0) }
        let clock = EngineClock(engine, marks: jobs.flatMap { [$0.arrival, $0.arrival + $0.duration] })
        let log = DecisionLog(), records = Records()
        let run = try LiveControlLoop(
            scenario: c.scenario, policy: c.policy(), loads: loads, actuator: EngineActuator(engine, actuatesGPUShare: actuatesGPUShare),
            gpuMeter: EngineGPUMeter(engine, jobs: jobs), clock: clock, sampleInterval: c.sampleInterval, drainTimeout: 1e6,
            actuationDelay: c.actuationDelay, seed: seed, recorder: records, observer: log, log: { _ in }
        ).run()
        return Side(decisions: log.decisions, records: records, result: run.result)
    }

    // MARK: Comparing

    static func close(_ a: Double, _ b: Double) -> Bool {
        a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b)) || abs(a - b) <= 1e-12
    }
    static func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return close(x, y)
        default: return false
        }
    }
    static func same(_ a: Allocation, _ b: Allocation) -> Bool {
        close(a.cpuLimit, b.cpuLimit) && close(a.cpuWeight, b.cpuWeight) && close(a.gpuShare, b.gpuShare)
    }

    /// The first difference between the two sides, described, or nil.
    static func firstDifference(_ a: Side, _ b: Side) -> String? {
        for (k, (x, y)) in zip(a.decisions, b.decisions).enumerated() {
            let at = "decision \(k) (sim t=\(x.time) \(x.trigger), live t=\(y.time) \(y.trigger))"
            guard close(x.time, y.time), x.trigger == y.trigger, x.nodeCPUs == y.nodeCPUs else { return "\(at): time or trigger" }
            guard x.containers.map(\.id) == y.containers.map(\.id) else { return "\(at): containers \(x.containers.map(\.id)) vs \(y.containers.map(\.id))" }
            for (p, q) in zip(x.containers, y.containers) {
                let w = p.window, v = q.window
                let checks: [(String, Bool)] = [
                    ("allocation \(p.allocation) vs \(q.allocation)", same(p.allocation, q.allocation)),
                    ("outstanding \(p.outstanding) vs \(q.outstanding)", p.outstanding == q.outstanding),
                    ("oldest age \(String(describing: p.oldestOutstandingAge)) vs \(String(describing: q.oldestOutstandingAge))", close(p.oldestOutstandingAge, q.oldestOutstandingAge)),
                    ("completed \(p.completedTotal) vs \(q.completedTotal)", p.completedTotal == q.completedTotal),
                    ("startedAt \(p.startedAt) vs \(q.startedAt)", close(p.startedAt, q.startedAt)),
                    ("gpu \(String(describing: p.gpu)) vs \(String(describing: q.gpu))", p.gpu == q.gpu),
                    ("window duration \(w.duration) vs \(v.duration)", close(w.duration, v.duration)),
                    ("window arrivals \(w.arrivals) vs \(v.arrivals)", w.arrivals == v.arrivals),
                    ("window completed \(w.completed) vs \(v.completed)", w.completed == v.completed),
                    ("window mean \(String(describing: w.meanMs)) vs \(String(describing: v.meanMs))", close(w.meanMs, v.meanMs)),
                    ("window metric \(String(describing: w.measuredMs)) vs \(String(describing: v.measuredMs))", close(w.measuredMs, v.measuredMs)),
                    ("window cpu \(w.cpuUsed) vs \(v.cpuUsed)", close(w.cpuUsed, v.cpuUsed)),
                    ("window gpu \(w.gpuUsed) vs \(v.gpuUsed)", close(w.gpuUsed, v.gpuUsed)),
                ]
                if let bad = checks.first(where: { !$0.1 }) { return "\(at): \(p.id): \(bad.0)" }
            }
            guard x.changes.count == y.changes.count,
                  zip(x.changes, y.changes).allSatisfy({ $0.containerID == $1.containerID && same($0.allocation, $1.allocation) && $0.note == $1.note })
            else { return "\(at): changes \(x.changes) vs \(y.changes)" }
        }
        if a.decisions.count != b.decisions.count { return "decisions: sim \(a.decisions.count), live \(b.decisions.count)" }
        // Records at one instant may come in another order (changes taking effect vs
        // decisions); within an instant they are compared by job.
        let ra = a.records.allocations.sorted { ($0.time, $0.job) < ($1.time, $1.job) }
        let rb = b.records.allocations.sorted { ($0.time, $0.job) < ($1.time, $1.job) }
        for (k, (x, y)) in zip(ra, rb).enumerated() where !(close(x.time, y.time) && x.job == y.job && same(x.allocation, y.allocation) && x.reason == y.reason) {
            return "allocation record \(k): sim \(x) vs live \(y)"
        }
        if ra.count != rb.count { return "allocation records: sim \(ra.count), live \(rb.count)" }
        for (k, (x, y)) in zip(a.records.usage, b.records.usage).enumerated()
        where !(close(x.time, y.time) && x.job == y.job && same(x.allocation, y.allocation) && close(x.cpu, y.cpu) && close(x.gpu, y.gpu) && x.outstanding == y.outstanding) {
            return "usage sample \(k): sim \(x) vs live \(y)"
        }
        if a.records.usage.count != b.records.usage.count { return "usage samples: sim \(a.records.usage.count), live \(b.records.usage.count)" }
        if a.records.requests != b.records.requests { return "requests recorded: sim \(a.records.requests), live \(b.records.requests)" }
        for (x, y) in zip(a.result.models, b.result.models) {
            let ok = x.requests == y.requests && x.unfinished == y.unfinished && close(x.meanMs, y.meanMs) && close(x.p50Ms, y.p50Ms)
                && close(x.p95Ms, y.p95Ms) && close(x.p99Ms, y.p99Ms) && x.satisfied == y.satisfied && close(x.pendingS, y.pendingS)
                && close(x.cpuSeconds, y.cpuSeconds) && x.node == y.node
            if !ok { return "result of \(x.id): sim \(x) vs live \(y)" }
        }
        if !close(a.result.simulatedSeconds, b.result.simulatedSeconds) {
            return "end: sim \(a.result.simulatedSeconds), live \(b.result.simulatedSeconds)"
        }
        return nil
    }

    /// Runs one case on both plants; records an issue naming the seed if they differ.
    static func check(seed: UInt64) throws {
        let c = Self.make(seed: seed)
        let sim = try Self.simulate(c, seed: seed)
        let live = try Self.live(c, seed: seed)
        if let d = Self.firstDifference(sim, live) { Issue.record("seed \(seed): \(c.describe)\n\(d)") }
    }

    /// CI's fixed seed list: cases 1...300 (`make(seed:)` rebuilds any of them).
    @Test("The live loop and the simulator give the policy the same inputs and record the same outcome (300 fixed scenarios)")
    func parity() throws {
        for seed in UInt64(1)...300 { try Self.check(seed: seed) }
    }

    /// A longer campaign on random seeds, by hand: QOESIM_PARITY_CASES=N (the property
    /// framework prints the seed that reproduces a failure).
    @Test("The same on random scenarios (QOESIM_PARITY_CASES=N; off in CI)",
          .enabled(if: ProcessInfo.processInfo.environment["QOESIM_PARITY_CASES"] != nil))
    func parityOnRandomScenarios() async throws {
        let count = Int(ProcessInfo.processInfo.environment["QOESIM_PARITY_CASES"] ?? "") ?? 0
        await propertyCheck(count: count, input: Gen.uint64(in: 0...UInt64.max)) { seed in try Self.check(seed: seed) }
    }

    /// The comparison has teeth: the same case run live with other random numbers (other
    /// arrivals and service times) must differ wherever the policy decided something.
    @Test("Parity fails when the live side differs: the same scenario on other random numbers")
    func parityHasTeeth() throws {
        var shown = 0
        for seed in UInt64(1)...60 {
            let c = Self.make(seed: seed)
            let sim = try Self.simulate(c, seed: seed)
            // Other random numbers change something only where there is randomness: a
            // Poisson job, or service times that are not deterministic.
            let random = c.scenario.jobs.contains { $0.arrivals == .poisson || $0.model.variability != .deterministic }
            guard random, sim.decisions.contains(where: { !$0.changes.isEmpty }), c.policyName.hasPrefix("dqoes") else { continue }
            // Another seed on the live side: other arrivals and service times.
            let other = try Self.live(c, seed: seed &+ 1)
            #expect(Self.firstDifference(sim, other) != nil, "seed \(seed): a live run with other random numbers matched")
            shown += 1
        }
        #expect(shown >= 5, "too few cases with decisions to show the comparison's teeth: \(shown)")
    }

    /// GPU shares: an engine that cannot change them (Docker) gets the change recorded
    /// as not actuated; one that can matches the simulator.
    @Test("A GPU-share change is recorded as not actuated on a plant that cannot apply it")
    func gpuShareNotActuated() throws {
        let model = ModelSpec(
            name: "gpu", latency: LatencyModel(family: .gpu(overheadMs: 1, cpuMs: 5, gpuMs: 40), maxParallelism: 2), variability: .exponential)
        let jobs = [
            Fixture.job("a", model, rate: 30, duration: 30, target: 20, arrivals: .poisson),
            Fixture.job("b", model, rate: 10, duration: 30, target: 500, arrivals: .poisson),
        ]
        let scenario = Scenario(cluster: Fixture.cluster(1, cpus: 8, gpus: 1), jobs: jobs)
        let c = Case(scenario: scenario, policy: { DQoESPolicy() }, policyName: "dqoes", actuationDelay: 0, sampleInterval: 1, describe: "gpu")
        let sim = try Self.simulate(c, seed: 3)
        #expect(sim.records.allocations.contains { $0.allocation.gpuShare != 1 }, "dqoes should change a GPU share here")
        let able = try Self.live(c, seed: 3, actuatesGPUShare: true)
        #expect(Self.firstDifference(sim, able) == nil)
        let docker = try Self.live(c, seed: 3, actuatesGPUShare: false)
        let marked = docker.records.allocations.filter { $0.reason.contains("gpu_share not actuated") }
        #expect(!marked.isEmpty, "no allocation record says the GPU share was not actuated")
        #expect(!sim.records.allocations.contains { $0.reason.contains("not actuated") })
    }
    /// An unusable change stops both plants with the same typed error.
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
        let model = Fixture.model("m", parallelMs: 50, maxParallelism: 2)
        let scenario = Scenario(
            cluster: Fixture.cluster(1, cpus: 4),
            jobs: [Fixture.job("first", model, duration: 30, arrivals: .closed), Fixture.job("second", model, rate: 5, duration: 30, arrival: 2)])
        let c = Case(scenario: scenario, policy: { Broken() }, policyName: "broken", actuationDelay: 0, sampleInterval: 1, describe: "broken")
        var simError: PolicyChangeError?, liveError: PolicyChangeError?
        do { _ = try Self.simulate(c, seed: 1) } catch let e as PolicyChangeError { simError = e }
        do { _ = try Self.live(c, seed: 1) } catch let e as PolicyChangeError { liveError = e }
        #expect(simError != nil && simError == liveError, "sim \(String(describing: simError)) vs live \(String(describing: liveError))")
        #expect(simError?.container == "first" && simError?.description.contains("invalid") == true)
    }
}

import Foundation
import PropertyBased
import Testing
@_spi(Testing) import QoESimPolicies
import QoESim

/// Random nodes and observations for the policies' documented bounds (Docs/POLICIES.md).
///
/// Each case is drawn from one 64-bit seed (so a failure prints the seed that makes it):
/// 1-12 containers on 0.25-64 cores, 0-2 GPUs, closed-loop, Poisson and trace arrivals,
/// 1-4 workers, limits from 0.01 cores to twice the node or none, weights 0.1-10000,
/// GPU shares 0.05-20, requested CPUs or none, windows with nothing completed (with or
/// without outstanding work and its age), latencies from 0.01 to 100 x the target, and
/// CPU use from none to the whole limit.
enum RandomNode {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
        /// Log-uniform in [a, b]: small and large values equally often.
        mutating func logUniform(_ a: Double, _ b: Double) -> Double { exp(uniform(log(a), log(b))) }
        mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
        mutating func chance(_ p: Double) -> Bool { unit() < p }
    }

    static func make(seed: UInt64) -> NodeObservation {
        var g = SplitMix(state: seed)
        let cpus = g.chance(0.3) ? Double(g.int(1...16)) : g.logUniform(0.25, 64)
        let gpus = g.chance(0.3) ? g.int(1...2) : 0
        let n = g.int(1...12)
        let containers = (0..<n).map { i -> ContainerObservation in
            let onGPU = gpus > 0 && g.chance(0.5)
            let family: LatencyModel.Family = onGPU
                ? .gpu(overheadMs: g.logUniform(0.1, 10), cpuMs: g.logUniform(1, 100), gpuMs: g.logUniform(1, 200))
                : (g.chance(0.5) ? .amdahl(serialMs: g.uniform(0, 20), parallelMs: g.logUniform(5, 2000))
                    : .power(aMs: g.uniform(0, 20), bMs: g.logUniform(5, 2000), k: g.uniform(0.3, 1)))
            let model = ModelSpec(
                name: "m\(i)", latency: LatencyModel(family: family, maxParallelism: Double(g.int(1...16))), variability: .exponential)
            let target = g.logUniform(1, 5000)
            let arrivals: ArrivalProcess = [.closed, .poisson, .trace][g.int(0...2)]
            let limit: Double? = g.chance(0.15) ? nil : g.logUniform(0.01, 2 * cpus)
            let allocation = Allocation(
                cpuLimit: limit, cpuWeight: g.logUniform(0.1, 10000), gpuShare: onGPU ? g.logUniform(0.05, 20) : 1)
            let completed = g.chance(0.2) ? 0 : g.int(1...500)
            let outstanding = g.chance(0.3) ? 0 : g.int(1...50)
            let latency = completed > 0 ? target * g.logUniform(0.01, 100) : nil
            let used = g.uniform(0, 1) * (limit ?? cpus)
            let window = WindowStats(
                duration: 5, arrivals: g.int(0...600), completed: completed, meanMs: latency,
                measuredMs: latency.map { $0 * g.uniform(1, 3) }, cpuUsed: used, gpuUsed: onGPU ? g.unit() : 0)
            return ContainerObservation(
                id: "c\(i)", model: model, targetMs: target, metric: [.mean, .p95, .p99][g.int(0...2)], arrivals: arrivals,
                workers: g.int(1...4), requestedCPUs: g.chance(0.3) ? g.logUniform(0.1, cpus) : nil,
                gpu: onGPU ? g.int(0...(gpus - 1)) : nil, allocation: allocation, outstanding: outstanding,
                oldestOutstandingAge: outstanding > 0 && g.chance(0.5) ? g.logUniform(0.001, 60) : nil, window: window,
                completedTotal: completed + g.int(0...1000), startedAt: 0)
        }
        return NodeObservation(name: "n", cpus: cpus, gpus: gpus, time: 10, containers: containers)
    }

    /// A trigger for the node: mostly the control interval, else an arrival or a departure.
    static func trigger(seed: UInt64, _ node: NodeObservation) -> PolicyTrigger {
        var g = SplitMix(state: seed ^ 0xA5A5)
        let id = node.containers[g.int(0...(node.containers.count - 1))].id
        switch g.int(0...3) {
        case 0: return .arrival(containerID: id)
        case 1: return .departure(containerID: id)
        default: return .interval
        }
    }
}

/// Property tests of every built-in policy against its documented bounds (Docs/POLICIES.md,
/// "Bounds" in Docs/INVARIANTS.md): 2,000 random nodes each, seeds drawn by the property
/// framework (a failure names the seed, and `RandomNode.make(seed:)` rebuilds the case).
@Suite("Policy bounds on random nodes (property-based)")
struct PolicyPropertyTests {
    /// The variants checked, each with the bounds its documentation promises.
    struct Variant: Sendable {
        var label: String
        var make: @Sendable () -> any AllocationPolicy
        /// Sets no CPU limits (work-conserving shares modes, fair-share).
        var setsNoLimits = false
        /// Limits within [floor, node cores] where it sets them.
        var limitsWithinNode = false
        /// Limits sum within the node (dqoes without overcommit, after a control step).
        var sumWithinNode = false
    }

    static let variants: [Variant] = [
        Variant(label: "fair-share", make: { FairSharePolicy() }, setsNoLimits: true),
        // static may overcommit by design; its limits are positive and finite.
        Variant(label: "static", make: { StaticPolicy() }),
        Variant(label: "dqoes", make: { DQoESPolicy() }, limitsWithinNode: true),
        Variant(label: "dqoes-no-overcommit", make: {
            var p = DQoESPolicy()
            p.parameters.overcommit = false
            return p
        }, limitsWithinNode: true, sumWithinNode: true),
        Variant(label: "dqoes-shares", make: {
            var p = DQoESPolicy()
            p.parameters.mode = .shares
            return p
        }, setsNoLimits: true),
        Variant(label: "dqoes-proportional", make: {
            var p = DQoESPolicy()
            p.parameters.triage = .proportional
            p.parameters.overcommit = false
            return p
        }, limitsWithinNode: true, sumWithinNode: true),
        Variant(label: "predictive", make: { PredictivePolicy() }, setsNoLimits: true),
        Variant(label: "predictive-limits", make: {
            var p = PredictivePolicy()
            p.parameters.mode = .limits
            return p
        }, limitsWithinNode: true),
    ]

    /// The checks every policy's output must pass on `node`; returns the problems found.
    static func problems(_ v: Variant, _ node: NodeObservation, _ trigger: PolicyTrigger, _ changes: [AllocationChange]) -> [String] {
        var out: [String] = []
        let ids = Set(node.containers.map(\.id))
        let floor = min(0.1, node.cpus / Double(node.containers.count))
        var seen = Set<String>()
        for c in changes {
            let a = c.allocation
            if !ids.contains(c.containerID) { out.append("change for unknown container \(c.containerID)") }
            if !seen.insert(c.containerID).inserted { out.append("two changes for \(c.containerID)") }
            if !a.isValid { out.append("\(c.containerID): invalid allocation \(a) (NaN, infinite, zero or negative)") }
            if v.setsNoLimits, let l = a.cpuLimit { out.append("\(c.containerID): sets a limit \(l) although it documents none") }
            if v.limitsWithinNode, case .interval = trigger, let l = a.cpuLimit {
                if l < floor * (1 - 1e-9) { out.append("\(c.containerID): limit \(l) below the floor \(floor)") }
                if l > node.cpus * (1 + 1e-9) { out.append("\(c.containerID): limit \(l) above the node's \(node.cpus) cores") }
            }
        }
        if v.sumWithinNode, case .interval = trigger, changes.count == node.containers.count {
            let total = changes.reduce(0.0) { $0 + ($1.allocation.cpuLimit ?? 0) }
            if total > node.cpus * (1 + 1e-9) + 1e-9 { out.append("limits sum to \(total) > \(node.cpus) cores") }
        }
        return out
    }

    @Test("Every built-in policy: valid allocations within its documented bounds, and the same input gives the same output")
    func documentedBounds() async {
        await propertyCheck(count: 2000, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let node = RandomNode.make(seed: seed)
            let trigger = RandomNode.trigger(seed: seed, node)
            for v in Self.variants {
                var first = v.make(), second = v.make()
                let a = first.allocate(on: node, because: trigger)
                let b = second.allocate(on: node, because: trigger)
                #expect(a == b, "\(v.label), seed \(seed): two fresh policies disagree on the same input")
                for p in Self.problems(v, node, trigger, a) { Issue.record("\(v.label), seed \(seed), \(trigger): \(p)") }
            }
        }
    }

    @Test("dqoes, one resource step: before the final clamp no giver goes below what it keeps, nothing is NaN; after it, [floor, capacity]")
    func dqoesDonorsKeepTheirFloor() async {
        await propertyCheck(count: 3000, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = RandomNode.SplitMix(state: seed)
            let n = g.int(1...12)
            let capacity = g.chance(0.3) ? 1 : g.logUniform(0.25, 64)
            let floor = min(0.1, capacity / Double(n))
            var params = DQoESPolicy.Parameters()
            params.triage = [.urgency, .proportional, .need, .none][g.int(0...3)]
            params.releaseGain = g.uniform(0, 1)
            params.maxStepDown = g.uniform(0.05, 0.9)
            params.maxStepUp = g.uniform(0.1, 3)
            params.headroom = g.uniform(0, 0.5)
            let current = (0..<n).map { _ in g.logUniform(floor, capacity) }
            let states: [DQoESPolicy.State] = (0..<n).map { _ in [.satisfied, .unsatisfied, .overSatisfied, .idle, .notCPUBound][g.int(0...4)] }
            let ratio = states.map { s -> Double in
                switch s {
                case .unsatisfied, .notCPUBound: return g.uniform(1.11, 50)
                case .overSatisfied: return g.uniform(0.001, 0.89)
                default: return g.uniform(0.9, 1.1)
                }
            }
            let probe = DQoESPolicy.probeResourceStep(
                parameters: params, capacity: capacity, floor: floor, mayOvercommit: g.chance(0.5), current: current,
                used: current.map { $0 * g.unit() }, usable: (0..<n).map { _ in g.logUniform(floor, capacity) }, ratio: ratio,
                tightness: (0..<n).map { _ in g.logUniform(1e-4, 1) }, openLoop: (0..<n).map { _ in g.chance(0.5) },
                states: states)
            for i in 0..<n {
                let raw = probe.unclamped[i], cur = probe.current[i]
                #expect(raw.isFinite && probe.final[i].isFinite, "seed \(seed): container \(i) not finite")
                // Releasers (over-satisfied) and donors (short ones giving in triage) keep their keep.
                if [.overSatisfied, .unsatisfied, .satisfied].contains(states[i]) && raw < cur - 1e-12 {
                    #expect(raw >= min(cur, probe.keep[i]) * (1 - 1e-9) - 1e-12,
                            "seed \(seed): \(states[i]) container \(i) gave down to \(raw) below its keep \(probe.keep[i]) (had \(cur), \(params.triage))")
                }
                #expect(raw >= floor * (1 - 1e-9), "seed \(seed): container \(i) below the floor before the clamp: \(raw)")
                #expect(probe.final[i] >= floor * (1 - 1e-9) && probe.final[i] <= capacity * (1 + 1e-9),
                        "seed \(seed): container \(i) final \(probe.final[i]) outside [\(floor), \(capacity)]")
            }
        }
    }
}

import QoESimCluster
import QoESimWorkload

/// DQoES, reconstructed from what is known of the paper (see `../shared/PAPER.md` and
/// `Docs/POLICIES.md`): a per-node feedback loop that moves CPU from models that beat
/// their QoE target to models that miss it, favouring tighter targets.
///
/// Every ``Parameters/interval`` seconds, per node:
/// 1. Measure each container's QoE over the last ``Parameters/windowIntervals`` intervals
///    in its target's metric (mean, p95 or p99), from completed requests only.
/// 2. r = measured / (setpoint x target). |r - 1| <= alpha: satisfied; r > 1 + alpha:
///    unsatisfied; r < 1 - alpha: over-satisfied.
///    No container is given more cores than its workers can use at once (threads per
///    request x workers, from its deployment): one already there is short for another
///    reason (e.g. GPU-bound), asks for nothing, and keeps only what it can use.
/// 3. Over-satisfied containers give back a share of their slack:
///    `limit * min(maxStepDown, releaseGain * (1 - r))`. Free plus released CPU goes to
///    unsatisfied ones in proportion to deficit x urgency, each getting at most its
///    deficit `limit * min(r - 1, maxStepUp)` (water-filling).
/// 4. When nothing is free or released and some are still short, the least urgent
///    unsatisfied containers give (at most maxStepDown of their limit each interval) to
///    the most urgent, so the tightest targets are met first rather than everyone
///    missing a little; a short container is served only if the less urgent ones could
///    cover its whole estimated need to reach its target (limit x (measured/target - 1),
///    latency taken as inversely proportional to cores).
/// 5. Limits stay in [floor, node cores] and their sum within the node; fractional.
///
/// 6. GPU: on each GPU shared by several containers, each one's time-slice share is
///    multiplied by its ratio r (bounded by the step limits) and the shares renormalized.
///
/// In `shares` mode the same per-container CPU targets are applied as cpu.shares
/// weights (no limits, work-conserving) instead of `--cpus` limits.
public struct DQoESPolicy: AllocationPolicy {
    /// Every tunable of the loop, with its default and why.
    public struct Parameters: Sendable, Equatable, Codable {
        /// Seconds between decisions. FlowCon used 30 s for training jobs; inference
        /// requests take milliseconds to seconds, so a few seconds already hold tens to
        /// hundreds of completions per model.
        public var interval: Double = 5
        /// QoE is measured over this many past intervals (1: only the last one). Longer
        /// windows are steadier but react later.
        public var windowIntervals: Int = 1
        /// Tolerance band around the setpoint (FlowCon used 0.03-0.05 on job progress;
        /// per-window response times are noisier, so 0.1).
        public var alpha: Double = 0.1
        /// The loop steers each model's windowed QoE to `setpoint x target`, not to the
        /// target itself: satisfaction is judged on the lifetime metric, and a loop that
        /// hovers at the target misses it about half the time. 1 reproduces the paper's
        /// description literally (r = measured / target).
        public var setpoint: Double = 0.8
        /// Largest relative increase of a limit per interval (1 = may double).
        public var maxStepUp: Double = 1
        /// Largest relative decrease of a limit per interval.
        public var maxStepDown: Double = 0.25
        /// Fraction of an over-satisfied container's relative slack (1 - r) it gives back
        /// per interval.
        public var releaseGain: Double = 0.5
        /// No container's limit goes below this many cores (so none starves), unless the
        /// node cannot give every container that much.
        public var floor: Double = 0.1
        /// Urgency weight of a container = (reference / target)^urgencyExponent; 0
        /// ignores urgency, 1 makes it inversely proportional to the target.
        public var urgencyExponent: Double = 1
        /// What a target is tight relative to. `slack`: the model's own latency on one
        /// core (from its profile), so a 5 ms target for MobileNetV2 and a 150 ms one for
        /// VGG-16 compare by how much speed-up each asks for. `target`: 1 ms for every
        /// model, i.e. the literal "smaller target = more urgent", which across different
        /// networks favours small models whatever their clients ask.
        public var urgencyBasis: UrgencyBasis = .slack
        /// Order in which step 4 serves short containers. `urgency` (the paper's rule):
        /// most urgent first, taking from the least urgent. `need`: smallest estimated
        /// need (limit x (r - 1)) first, taking from the largest: a count-maximizing
        /// variant that still uses only feedback, no latency model.
        public var triage: Triage = .urgency
        /// Whether decisions are `--cpus` limits or cpu.shares weights.
        public var mode: CPUControl = .limits

        public init() {}
    }

    /// The reference latency urgency is measured against (``Parameters/urgencyBasis``).
    public enum UrgencyBasis: String, Sendable, Codable, CaseIterable {
        case slack, target
    }

    /// Step 4's service order (``Parameters/triage``).
    public enum Triage: String, Sendable, Codable, CaseIterable {
        case urgency, need
    }

    /// A container's state after classification (also written to the decision log).
    public enum State: String, Sendable {
        case satisfied, unsatisfied, overSatisfied = "over-satisfied", idle
        /// Misses its target but already has all the cores it can use.
        case notCPUBound = "unsatisfied-not-cpu-bound"
    }

    public let name = "dqoes"
    public var parameters: Parameters
    public var controlInterval: Double? { parameters.interval }
    /// Recent windows per container: (completed, mean ms, metric ms).
    var history: [String: [(count: Int, mean: Double, metric: Double)]] = [:]
    /// CPU targets (cores) per container, the loop's state in shares mode.
    var cores: [String: Double] = [:]

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    public mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
        switch trigger {
        case .arrival(let id): return admit(id, on: node)
        case .departure(let id):
            history[id] = nil
            cores[id] = nil
            return []
        case .interval: return control(node)
        }
    }

    /// The floor actually applied on a node: `floor`, or less if the node cannot give
    /// every container that much.
    func effectiveFloor(_ node: NodeObservation) -> Double {
        min(parameters.floor, node.cpus / Double(max(1, node.containers.count)))
    }

    func currentCores(_ c: ContainerObservation, _ node: NodeObservation) -> Double {
        parameters.mode == .limits ? (c.allocation.cpuLimit ?? node.cpus) : (cores[c.id] ?? node.cpus / Double(node.containers.count))
    }

    /// On arrival: the newcomer gets its requested CPUs, else an equal share; if that
    /// overcommits the node, the others shrink in proportion (not below the floor).
    /// (Arrays in container order throughout: sums must not depend on hash order.)
    mutating func admit(_ id: String, on node: NodeObservation) -> [AllocationChange] {
        guard let me = node.containers.firstIndex(where: { $0.id == id }) else { return [] }
        let floor = effectiveFloor(node)
        var target = node.containers.map { currentCores($0, node) }
        var mine = min(node.containers[me].requestedCPUs ?? node.cpus / Double(node.containers.count), node.cpus)
        target[me] = 0
        let others = target.reduce(0, +)
        if others + mine > node.cpus {
            let room = node.cpus - mine
            var shrinkable = 0.0
            for (i, v) in target.enumerated() where i != me { shrinkable += max(0, v - floor) }
            if shrinkable > 0 {
                let f = min(1, (others - room) / shrinkable)
                for i in target.indices where i != me { target[i] -= f * max(0, target[i] - floor) }
            }
            mine = max(floor, node.cpus - target.reduce(0, +))
        }
        target[me] = mine
        var notes = [String](repeating: "", count: target.count)
        notes[me] = "admitted with \(fmt(mine)) cores"
        return emit(target, node, notes: notes)
    }

    func fmt(_ v: Double) -> String {
        let scaled = (v * 1000).rounded() / 1000
        return "\(scaled)"
    }

    /// Steps 1-5 of the loop for one node.
    mutating func control(_ node: NodeObservation) -> [AllocationChange] {
        let p = parameters
        let floor = effectiveFloor(node)
        let n = node.containers.count
        guard n > 0 else { return [] }
        var limit = [Double](repeating: 0, count: n)
        var ratio = [Double](repeating: 1, count: n)
        var state = [State](repeating: .idle, count: n)
        var urgency = [Double](repeating: 1, count: n)
        // Cores each container can use at once: its parallelism x workers.
        let usable = node.containers.map { min(node.cpus, $0.model.latency.maxParallelism * Double($0.workers)) }
        for (i, c) in node.containers.enumerated() {
            limit[i] = max(floor, currentCores(c, node))
            let reference = p.urgencyBasis == .slack ? 1000 * c.model.latency.latencySeconds(cpus: 1) : 1
            urgency[i] = p.urgencyExponent == 0 ? 1 : _pow(reference / c.targetMs, p.urgencyExponent)
            // Step 1: QoE over the window (completed requests only).
            var h = history[c.id] ?? []
            if c.window.completed > 0 {
                h.append((c.window.completed, c.window.meanMs ?? 0, c.window.measuredMs ?? 0))
            } else {
                h.append((0, 0, 0))
            }
            if h.count > p.windowIntervals { h.removeFirst(h.count - p.windowIntervals) }
            history[c.id] = h
            let count = h.reduce(0) { $0 + $1.count }
            if count > 0 {
                // Means combine exactly; percentiles by count-weighted average (approximate).
                let measured = h.reduce(0.0) { $0 + Double($1.count) * (c.metric == .mean ? $1.mean : $1.metric) } / Double(count)
                ratio[i] = measured / (p.setpoint * c.targetMs)
            } else if c.outstanding > 0 {
                // Work is waiting but nothing finished for a whole window: far too slow.
                ratio[i] = 1 + p.maxStepUp
            } else {
                state[i] = .idle
                continue
            }
            // Step 2: classify.
            if ratio[i] > 1 + p.alpha {
                state[i] = limit[i] < usable[i] * (1 - 1e-9) ? .unsatisfied : .notCPUBound
            } else if ratio[i] < 1 - p.alpha {
                state[i] = .overSatisfied
            } else {
                state[i] = .satisfied
            }
        }
        var next = limit
        // Step 3a: release slack from over-satisfied containers.
        for i in 0..<n where state[i] == .overSatisfied {
            let cut = min(p.maxStepDown, p.releaseGain * (1 - ratio[i]))
            next[i] = max(floor, limit[i] * (1 - cut))
        }
        // A container that cannot use more cores keeps what it can use, so the rest of its
        // limit can go to others.
        for i in 0..<n where state[i] == .notCPUBound {
            next[i] = max(floor, min(limit[i], usable[i]))
        }
        // Step 3b: free + released CPU to the unsatisfied, by deficit x urgency.
        let short = (0..<n).filter { state[$0] == .unsatisfied }
        var deficit = [Double](repeating: 0, count: n)
        for i in short { deficit[i] = min(limit[i] * min(ratio[i] - 1, p.maxStepUp), usable[i] - limit[i]) }
        var pool = max(0, node.cpus - next.reduce(0, +))
        if !short.isEmpty && pool > 1e-9 {
            var wf = WaterFilling()
            let grants = wf.divide(
                capacity: pool, caps: short.map { max(0, deficit[$0]) }, weights: short.map { max(1e-12, deficit[$0] * urgency[$0]) })
            for (k, i) in short.enumerated() {
                next[i] += grants[k]
                deficit[i] -= grants[k]
                pool -= grants[k]
            }
        }
        // Step 4: scarcity. Short containers, most urgent first, take CPU from less urgent
        // short ones, but only when those could cover the whole estimated need (limit x
        // (r - 1), latency taken as inversely proportional to cores): CPU is not drained
        // into a target that cannot be reached anyway.
        // Priority: higher first. Urgency, or (triage = need) the inverse estimated need.
        var priority = urgency
        if p.triage == .need {
            for i in 0..<n {
                let estimate: Double = min(limit[i] * (ratio[i] - 1), usable[i] - limit[i])
                priority[i] = -max(0, estimate)
            }
        }
        let needy = short.filter { deficit[$0] > 1e-9 }.sorted { priority[$0] > priority[$1] || (priority[$0] == priority[$1] && $0 < $1) }
        let donorOrder = short.sorted { priority[$0] < priority[$1] || (priority[$0] == priority[$1] && $0 > $1) }
        var given = [Double](repeating: 0, count: n)
        var role = [Int](repeating: 0, count: n)  // 1: received, -1: gave
        for r in needy where role[r] == 0 {
            let donors = donorOrder.filter { priority[$0] < priority[r] && role[$0] != 1 && $0 != r }
            // Cores still needed to reach the target itself (not the setpoint).
            let full = max(0, min(limit[r] * (ratio[r] * p.setpoint - 1), usable[r] - limit[r]) - (next[r] - limit[r]))
            let supply = donors.reduce(0) { $0 + max(0, next[$1] - floor) }
            guard full > 1e-9, supply >= full else { continue }
            var want = deficit[r]
            for d in donors where want > 1e-9 {
                let g = min(max(0, min(limit[d] * p.maxStepDown - given[d], next[d] - floor)), want)
                guard g > 0 else { continue }
                next[d] -= g
                given[d] += g
                role[d] = -1
                next[r] += g
                want -= g
            }
            role[r] = 1
            deficit[r] = want
        }
        // Step 5: clamp; the sum never exceeds the node.
        for i in 0..<n { next[i] = min(max(next[i], floor), node.cpus) }
        let total = next.reduce(0, +)
        if total > node.cpus {
            let over = total - node.cpus
            let above = next.reduce(0) { $0 + ($1 - floor) }
            for i in 0..<n { next[i] -= over * (next[i] - floor) / above }
        }
        // GPU: the same feedback over time-slice shares, per GPU. A container's share
        // moves by its ratio (bounded by the step limits) and shares are renormalized
        // to mean 1 on each GPU, so misses gain GPU time and slack gives it back.
        var gpuShare = node.containers.map(\.allocation.gpuShare)
        for g in Set(node.containers.compactMap(\.gpu)).sorted() {
            let members = (0..<n).filter { node.containers[$0].gpu == g }
            guard members.count > 1 else { continue }
            for i in members where state[i] != .idle {
                let factor = min(max(ratio[i], 1 - p.maxStepDown), 1 + p.maxStepUp)
                gpuShare[i] *= factor
            }
            let mean = members.reduce(0.0) { $0 + gpuShare[$1] } / Double(members.count)
            for i in members { gpuShare[i] = min(max(gpuShare[i] / mean, 0.05), 20) }
        }
        let notes = (0..<n).map { "\(state[$0].rawValue) r=\(fmt(ratio[$0]))" }
        return emit(next, node, notes: notes, gpuShare: gpuShare)
    }

    /// Turns per-container core targets (in container order) into changes, in the
    /// configured mode.
    mutating func emit(_ target: [Double], _ node: NodeObservation, notes: [String], gpuShare: [Double]? = nil) -> [AllocationChange] {
        var out: [AllocationChange] = []
        let mean = target.reduce(0, +) / Double(max(1, target.count))
        for (i, c) in node.containers.enumerated() {
            let v = target[i]
            var a = c.allocation
            if let g = gpuShare, c.gpu != nil { a.gpuShare = g[i] }
            switch parameters.mode {
            case .limits:
                a.cpuLimit = v
            case .shares:
                cores[c.id] = v
                a.cpuLimit = nil
                a.cpuWeight = mean > 0 ? v / mean : 1
            }
            if a != c.allocation { out.append(AllocationChange(containerID: c.id, allocation: a, note: notes[i])) }
        }
        return out
    }
}

extension DQoESPolicy.Parameters: ValidatableParameters {
    public var problem: String? {
        if !(interval > 0) { return "interval must be > 0" }
        if windowIntervals < 1 { return "window_intervals must be >= 1" }
        if !(alpha >= 0 && alpha < 1) { return "alpha must be in [0, 1)" }
        if !(setpoint > 0 && setpoint <= 1.5) { return "setpoint must be in (0, 1.5]" }
        if !(maxStepUp > 0) || !(maxStepDown > 0 && maxStepDown < 1) { return "max_step_up must be > 0 and max_step_down in (0, 1)" }
        if !(releaseGain >= 0) { return "release_gain must be >= 0" }
        if !(floor > 0) { return "floor must be > 0" }
        if !(urgencyExponent >= 0) { return "urgency_exponent must be >= 0" }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#elseif canImport(Darwin)
import Darwin
func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif

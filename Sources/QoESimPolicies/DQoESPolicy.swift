import QoESimCluster
import QoESimWorkload

/// DQoES as the paper describes it (summarised in `Docs/PAPER.md`; the loop in `Docs/POLICIES.md`): a
/// per-node feedback loop that moves CPU (and GPU time) from models that beat their QoE
/// target to models that miss it, the tightest targets first.
///
/// Every ``Parameters/interval`` seconds, per node:
/// 1. **Measure** each container's QoE over the last ``Parameters/windowIntervals``
///    intervals in its target's metric, from completed requests. A window with work
///    outstanding and nothing completed is bounded below by the age of the oldest
///    outstanding request (or the window's length when the monitor cannot tell): that
///    request takes at least that long.
/// 2. **Classify** with r = measured / (setpoint x target): |r - 1| <= alpha satisfied,
///    above unsatisfied, below over-satisfied; no completion and nothing outstanding:
///    idle. A short container that already holds all the cores it can use is "not
///    CPU-bound" and asks for no CPU.
/// 3. **Release and grant** (the resource step, `DQoESPolicy+ResourceStep.swift`): over-satisfied and idle containers give
///    back part of what they hold, never below what an open-loop container is using
///    (its offered load); free plus released capacity goes to the short ones in
///    proportion to deficit x urgency weight.
/// 4. **Scarcity** (``Parameters/triage``): if some are still short, the tightest
///    targets are served first, from the less urgent short ones, but only where those
///    could cover the whole estimated need (no CPU poured into a target it cannot
///    reach); or scarce CPU is divided in proportion to urgency; or (ours) smallest
///    need first; or not at all (control).
/// 5. **Clamp** to [floor, node]; fractional cores. Limits may sum beyond the node while
///    it has idle CPU (as Docker allows; CFS then divides among the busy by weight),
///    and are scaled back within the node once it is saturated.
///
/// The need estimate is feedback-only (no latency model), as in the paper: a closed
/// loop needs r x its cores; an open-loop container using u of its L cores needs
/// u + r x (L - u) (processor sharing: response time ~ 1 / spare capacity).
///
/// GPU: the same steps over each shared GPU's time-slice fractions (capacity 1).
/// In `shares` mode the per-container CPU targets become cpu.shares weights.
public struct DQoESPolicy: AllocationPolicy {
    /// Every tunable of the loop, with its default and why.
    public struct Parameters: Sendable, Equatable, Codable {
        /// Seconds between decisions. FlowCon used 30 s for training jobs; inference
        /// requests take milliseconds to seconds, so a few seconds already hold tens to
        /// hundreds of completions per model.
        public var interval: Double = 5
        /// QoE is measured over this many past intervals (1: only the last one).
        public var windowIntervals: Int = 1
        /// Tolerance band around the setpoint (FlowCon used 0.03-0.05 on job progress;
        /// per-window response times are noisier, so 0.1).
        public var alpha: Double = 0.1
        /// The loop steers each model's windowed QoE to `setpoint x target`: satisfaction
        /// is judged on the lifetime metric, and a loop hovering at the target misses it
        /// about half the time. 1 is the paper's description read literally.
        public var setpoint: Double = 0.8
        /// Largest relative increase of an allocation per interval (1 = may double).
        public var maxStepUp: Double = 1
        /// Largest relative decrease of an allocation per interval.
        public var maxStepDown: Double = 0.25
        /// Fraction of an over-satisfied container's relative slack (1 - r) it gives back
        /// per interval.
        public var releaseGain: Double = 0.5
        /// No container's limit goes below this many cores (so none starves), unless the
        /// node cannot give every container that much.
        public var floor: Double = 0.1
        /// No container's GPU time-slice fraction goes below this.
        public var gpuFloor: Double = 0.05
        /// An open-loop container giving CPU away keeps (1 + headroom) x the cores it used
        /// in the window: below its offered load its queue would grow without bound.
        public var headroom: Double = 0.1
        /// Urgency weight = (reference / target)^urgencyExponent. It only weights the
        /// grants of step 3 and the division of `triage: proportional`; the order of
        /// `triage: urgency` is by tightness whatever the exponent.
        public var urgencyExponent: Double = 1
        /// What a target is tight relative to. `target` (the paper's examples: a vehicle
        /// needs real time, unlocking a phone tolerates delay): the absolute target, the
        /// smaller the more urgent. `slack` (ours): relative to the model's own latency on
        /// one core, i.e. by how much speed-up the target asks for.
        public var urgencyBasis: UrgencyBasis = .target
        /// Step 4's rule when short containers remain (see ``Triage``).
        public var triage: Triage = .urgency
        /// Whether decisions are `--cpus` limits or cpu.shares weights.
        public var mode: CPUControl = .limits
        /// Whether `--cpus` limits may sum beyond the node while the node has idle CPU.
        public var overcommit: Bool = true

        /// The defaults documented in Docs/POLICIES.md.
        public init() {}
    }

    /// The reference latency urgency is measured against (``Parameters/urgencyBasis``).
    public enum UrgencyBasis: String, Sendable, Codable, CaseIterable {
        /// `target`: urgency is the tightness of the absolute target (as in the paper); `slack`: relative to the model's own 1-core latency (ours).
        case target, slack
    }

    /// Step 4's rule (``Parameters/triage``).
    public enum Triage: String, Sendable, Codable, CaseIterable {
        /// As in the paper: most urgent first, taking from the least urgent short
        /// containers, and only where they could cover its whole need.
        case urgency
        /// As in the paper: the CPU held by the short containers is divided among them
        /// in proportion to urgency weight (up to each one's need).
        case proportional
        /// Ours: smallest estimated need first, taking from the largest.
        case need
        /// Control: no scarcity step (only release and grant).
        case none
    }

    /// A container's state after classification (also written to the decision log).
    public enum State: String, Sendable {
        /// A container's class at a step: within the band, above it, below it, or with nothing completed and nothing outstanding.
        case satisfied, unsatisfied, overSatisfied = "over-satisfied", idle
        /// Misses its target but already has all the cores it can use.
        case notCPUBound = "unsatisfied-not-cpu-bound"
    }

    public let name = "dqoes"
    /// The loop's parameters.
    public var parameters: Parameters
    public var controlInterval: Double? { parameters.interval }
    /// Recent windows per container: (completed, mean ms, metric ms).
    var history: [String: [(count: Int, mean: Double, metric: Double)]] = [:]
    /// CPU targets (cores) per container, the loop's state in shares mode.
    var cores: [String: Double] = [:]

    /// DQoES with `parameters` (defaults: the documented ones).
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

    /// Tightness of a container's target: (reference / target), larger = more urgent.
    func tightness(_ c: ContainerObservation) -> Double {
        let reference = parameters.urgencyBasis == .slack ? 1000 * c.model.latency.latencySeconds(cpus: 1) : 1
        return reference / c.targetMs
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

    /// Step 1: the container's QoE (ms) over the window, or nil when it is idle.
    mutating func measure(_ c: ContainerObservation) -> Double? {
        var h = history[c.id] ?? []
        h.append(c.window.completed > 0 ? (c.window.completed, c.window.meanMs ?? 0, c.window.measuredMs ?? 0) : (0, 0, 0))
        if h.count > parameters.windowIntervals { h.removeFirst(h.count - parameters.windowIntervals) }
        history[c.id] = h
        let count = h.reduce(0) { $0 + $1.count }
        if c.window.completed == 0 && c.outstanding > 0 {
            // Nothing finished: the oldest outstanding request will take at least its age.
            let bound = 1000 * (c.oldestOutstandingAge ?? c.window.duration)
            guard count > 0 else { return bound }
            let earlier = h.reduce(0.0) { $0 + Double($1.count) * (c.metric == .mean ? $1.mean : $1.metric) } / Double(count)
            return max(earlier, bound)
        }
        guard count > 0 else { return nil }
        // Means combine exactly; percentiles by count-weighted average (approximate).
        return h.reduce(0.0) { $0 + Double($1.count) * (c.metric == .mean ? $1.mean : $1.metric) } / Double(count)
    }

    /// Steps 1-5 of the loop for one node, CPU then each shared GPU.
    mutating func control(_ node: NodeObservation) -> [AllocationChange] {
        let p = parameters
        let n = node.containers.count
        guard n > 0 else { return [] }
        var cpu = ResourceStep(parameters: p, capacity: node.cpus, floor: effectiveFloor(node), count: n)
        cpu.mayOvercommit = p.overcommit && p.mode == .limits
        var state = [State](repeating: .idle, count: n)
        for (i, c) in node.containers.enumerated() {
            cpu.current[i] = max(cpu.floor, currentCores(c, node))
            cpu.used[i] = c.window.cpuUsed
            // Cores it can use at once: its parallelism x workers.
            cpu.usable[i] = min(node.cpus, c.model.latency.maxParallelism * Double(c.workers))
            cpu.openLoop[i] = !c.arrivals.isClosed
            cpu.tightness[i] = tightness(c)
            cpu.weight[i] = p.urgencyExponent == 0 ? 1 : _pow(cpu.tightness[i], p.urgencyExponent)
            guard let measured = measure(c) else { continue }
            cpu.ratio[i] = measured / (p.setpoint * c.targetMs)
            state[i] = ResourceStep.classify(ratio: cpu.ratio[i], alpha: p.alpha)
            if state[i] == .unsatisfied && cpu.current[i] >= cpu.usable[i] * (1 - 1e-9) { state[i] = .notCPUBound }
        }
        cpu.state = state
        let next = cpu.run()
        // GPU: the same steps over each shared GPU's time-slice fractions.
        var gpuShare = node.containers.map(\.allocation.gpuShare)
        for g in Set(node.containers.compactMap(\.gpu)).sorted() {
            let members = (0..<n).filter { node.containers[$0].gpu == g }
            guard members.count > 1 else { continue }
            let total = members.reduce(0.0) { $0 + gpuShare[$1] }
            var step = ResourceStep(parameters: p, capacity: 1, floor: min(p.gpuFloor, 1 / Double(members.count)), count: members.count)
            for (k, i) in members.enumerated() {
                step.current[k] = gpuShare[i] / total
                step.used[k] = node.containers[i].window.gpuUsed
                step.usable[k] = 1
                step.openLoop[k] = cpu.openLoop[i]
                step.tightness[k] = cpu.tightness[i]
                step.weight[k] = cpu.weight[i]
                step.ratio[k] = cpu.ratio[i]
                step.state[k] = state[i] == .idle ? .idle : ResourceStep.classify(ratio: cpu.ratio[i], alpha: p.alpha)
            }
            let fractions = step.run()
            let mean = fractions.reduce(0, +) / Double(members.count)
            for (k, i) in members.enumerated() { gpuShare[i] = fractions[k] / mean }
        }
        let notes = (0..<n).map { "\(state[$0].rawValue) r=\(fmt(cpu.ratio[$0]))" }
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
        if !(gpuFloor > 0 && gpuFloor < 1) { return "gpu_floor must be in (0, 1)" }
        if !(headroom >= 0 && headroom < 1) { return "headroom must be in [0, 1)" }
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

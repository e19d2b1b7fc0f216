import Foundation
import QoESimCluster
import QoESimLatency
import QoESimWorkload

/// A model-based policy, beyond the paper: it knows each model's latency model, so it
/// computes the CPU each container needs to meet its target at the observed load, and
/// when the node cannot give everyone that much it chooses which models to satisfy so
/// that the most models are satisfied (ties: the most urgency), giving the rest what is
/// left.
///
/// Needed cores, by arrival process (w workers, each request gets c / w cores):
/// - closed loop: every worker is always busy, so the metric is the latency itself:
///   `L(c / w)` for the mean, times the variability's quantile for p95/p99.
/// - open loop (Poisson, trace): an M/G/w queue at the observed arrival rate (EWMA over
///   windows) with service `L(c / w)` and the model's service cv; Allen-Cunneen for the
///   mean wait (exact Pollaczek-Khinchine for w = 1); for percentiles, the service
///   quantile plus an exponential waiting-time tail.
/// Each container's need is found by bisection (the prediction falls as c grows) up to
/// the cores it can use; aiming at `margin x target`.
public struct PredictivePolicy: AllocationPolicy {
    /// The predictive policy's parameters (Docs/POLICIES.md).
    public struct Parameters: Sendable, Equatable, Codable {
        /// Seconds between decisions.
        public var interval: Double = 5
        /// Aim the predicted metric at `margin x target` (prediction error, noise).
        public var margin: Double = 0.85
        /// Weight of the newest window in the arrival-rate estimate (EWMA).
        public var rateSmoothing: Double = 0.5
        /// No limit below this many cores.
        public var floor: Double = 0.1
        /// Urgency weight = (1 / target_ms)^urgencyExponent, the tie-breaker among sets
        /// that satisfy equally many models.
        public var urgencyExponent: Double = 1
        /// Whether CPU left after every chosen model has its need is handed out (in
        /// proportion to need, up to what each can use) rather than left idle.
        public var distributeLeftover: Bool = true
        /// Exact subset search up to this many containers per node; greedy above.
        public var exactSearchLimit: Int = 24
        /// On a shared GPU no container's planned time-slice fraction goes below this.
        public var gpuFloor: Double = 0.05
        /// `shares` (default): the planned cores become cpu.shares weights and no limits
        /// are set, so under full contention each chosen model still gets at least its
        /// need, and idle CPU is not wasted. `limits`: the planned cores are hard limits.
        public var mode: CPUControl = .shares

        /// The documented defaults.
        public init() {}
    }

    public let name = "predictive"
    /// The policy's parameters.
    public var parameters: Parameters
    public var controlInterval: Double? { parameters.interval }
    var rate: [String: Double] = [:]

    /// The predictive policy with `parameters` (defaults: the documented ones).
    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    public mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
        switch trigger {
        case .departure(let id):
            rate[id] = nil
        case .interval:
            let beta = parameters.rateSmoothing
            for c in node.containers where c.window.duration > 0 {
                let observed = Double(c.window.arrivals) / c.window.duration
                rate[c.id] = rate[c.id].map { beta * observed + (1 - beta) * $0 } ?? observed
            }
        case .arrival:
            break
        }
        return plan(node)
    }

    /// The cores each container needs with `gpuFraction` of its GPU (infinity: not
    /// reachable within what it can use; nil: unknown yet, no load observed).
    func need(_ c: ContainerObservation, usable: Double, gpuFraction: Double = 1) -> Double? {
        guard let predict = predictor(c, gpuFraction: gpuFraction) else { return nil }
        return PredictivePolicy.smallest(in: min(parameters.floor, usable)...usable, meeting: parameters.margin * c.targetMs / 1000) {
            predict($0, gpuFraction)
        }
    }

    /// The GPU fraction a container needs with `cores` cores (infinity: not reachable
    /// even with the whole GPU; nil: unknown yet).
    func gpuNeed(_ c: ContainerObservation, cores: Double, floor: Double) -> Double? {
        guard let predict = predictor(c, gpuFraction: 1) else { return nil }
        return PredictivePolicy.smallest(in: floor...1, meeting: parameters.margin * c.targetMs / 1000) { predict(cores, $0) }
    }

    /// The container's predicted metric as a function of (cores, GPU fraction), or nil
    /// while its arrival rate is unknown.
    func predictor(_ c: ContainerObservation, gpuFraction: Double) -> ((Double, Double) -> Double)? {
        let lambda: Double
        if c.arrivals.isClosed {
            lambda = 0
        } else {
            guard let r = rate[c.id] else { return nil }
            lambda = r
        }
        return { cores, g in
            PredictivePolicy.predictedSeconds(
                model: c.model, metric: c.metric, closedLoop: c.arrivals.isClosed, rate: lambda, workers: c.workers,
                cores: cores, gpuFraction: g)
        }
    }

    /// The smallest x in `range` whose prediction meets `goal` (predictions fall as x
    /// grows), by bisection; infinity when even the top of the range misses it.
    static func smallest(in range: ClosedRange<Double>, meeting goal: Double, _ predict: (Double) -> Double) -> Double {
        if predict(range.upperBound) > goal { return .infinity }
        if predict(range.lowerBound) <= goal { return range.lowerBound }
        var lo = range.lowerBound, hi = range.upperBound
        for _ in 0..<50 {
            let mid = 0.5 * (lo + hi)
            if predict(mid) <= goal { hi = mid } else { lo = mid }
        }
        return hi
    }

    /// Predicted metric (seconds) of a container with `cores` cores.
    public static func predictedSeconds(
        model: ModelSpec, metric: QoEMetric, closedLoop: Bool, rate: Double, workers: Int, cores: Double,
        gpuFraction: Double = 1
    ) -> Double {
        let w = Double(workers)
        let s = model.latency.latencySeconds(cpus: cores / w, gpuFraction: gpuFraction / w)
        let q: Double? = metric == .p95 ? 0.95 : (metric == .p99 ? 0.99 : nil)
        let serviceQ = q.map { s * quantileFactor(model.variability, $0) } ?? s
        if closedLoop || rate <= 0 { return serviceQ }
        let mu = 1 / s
        let a = rate / mu
        let rho = a / w
        if rho >= 1 { return .infinity }
        let cv2 = model.variability.cv * model.variability.cv
        let pWait = erlangC(servers: workers, offered: a)
        let wq = pWait / (w * mu - rate) * (1 + cv2) / 2
        guard let q else { return s + wq }
        // Waiting time: 0 with probability 1 - pWait, else roughly exponential with mean wq / pWait.
        let tail = 1 - q
        let waitQ = tail >= pWait || pWait <= 0 ? 0 : (wq / pWait) * Foundation.log(pWait / tail)
        return serviceQ + waitQ
    }

    /// Quantile of the variability factor.
    static func quantileFactor(_ v: Variability, _ q: Double) -> Double {
        switch v {
        case .deterministic: return 1
        case .exponential: return -Foundation.log(1 - q)
        case .lognormal(let cv):
            let s2 = Foundation.log1p(cv * cv)
            return Foundation.exp(-0.5 * s2 + s2.squareRoot() * normalQuantile(q))
        }
    }

    /// Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * Foundation.log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -normalQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    /// Erlang C: probability that an arrival waits in an M/M/c queue with offered load a.
    static func erlangC(servers c: Int, offered a: Double) -> Double {
        let rho = a / Double(c)
        if rho >= 1 { return 1 }
        var term = 1.0, sum = 1.0
        for k in 1..<max(c, 1) {
            term *= a / Double(k)
            sum += term
        }
        let last = term * a / Double(c) / (1 - rho)
        return c == 0 ? 1 : last / (sum + last)
    }

    /// Indices of the containers to satisfy: the most of them whose needs fit in
    /// `capacity`, and among those the largest total urgency. Exact (branch and bound)
    /// up to `exactLimit` candidates, greedy by need above.
    public static func chooseSatisfiable(needs: [Double], urgency: [Double], capacity: Double, exactLimit: Int = 24) -> [Int] {
        let candidates = needs.indices.filter { needs[$0].isFinite }.sorted { needs[$0] < needs[$1] || (needs[$0] == needs[$1] && $0 < $1) }
        // The largest count: smallest needs first.
        var k = 0, used = 0.0
        for i in candidates where used + needs[i] <= capacity + 1e-9 {
            used += needs[i]
            k += 1
        }
        if k == 0 { return [] }
        if candidates.count > exactLimit { return Array(candidates.prefix(k)).sorted() }
        // Among sets of size k that fit, maximize urgency (branch and bound).
        var best: [Int] = Array(candidates.prefix(k))
        var bestU = best.reduce(0) { $0 + urgency[$1] }
        var chosen: [Int] = []
        let m = candidates.count
        func search(_ start: Int, _ load: Double, _ u: Double) {
            if chosen.count == k {
                if u > bestU + 1e-12 {
                    bestU = u
                    best = chosen
                }
                return
            }
            let slots = k - chosen.count
            guard m - start >= slots else { return }
            // Feasibility: the cheapest completion uses the next `slots` needs.
            var cheapest = 0.0
            for t in start..<(start + slots) { cheapest += needs[candidates[t]] }
            if load + cheapest > capacity + 1e-9 { return }
            // Optimism: the largest urgencies among the rest.
            let rest = candidates[start...].map { urgency[$0] }.sorted(by: >)
            if u + rest.prefix(slots).reduce(0, +) <= bestU + 1e-12 { return }
            for t in start..<m {
                let i = candidates[t]
                if load + needs[i] > capacity + 1e-9 { break }
                chosen.append(i)
                search(t + 1, load + needs[i], u + urgency[i])
                chosen.removeLast()
            }
        }
        search(0, 0, 0)
        return best.sorted()
    }

    mutating func plan(_ node: NodeObservation) -> [AllocationChange] {
        let p = parameters
        let n = node.containers.count
        guard n > 0 else { return [] }
        let floor = min(p.floor, node.cpus / Double(n))
        let usable = node.containers.map { min(node.cpus, $0.model.latency.maxParallelism * Double($0.workers)) }
        let urgency = node.containers.map { p.urgencyExponent == 0 ? 1 : Foundation.pow(1 / $0.targetMs, p.urgencyExponent) }
        let gpuFraction = planGPUs(node, usable: usable, urgency: urgency)
        // Unknown needs (no load seen yet) get an equal share provisionally.
        let needs: [Double] = node.containers.enumerated().map { i, c in
            let fallback = min(usable[i], node.cpus / Double(n))
            return max(floor, need(c, usable: usable[i], gpuFraction: gpuFraction[i]) ?? fallback)
        }
        // Every container keeps at least the floor; the choice is over what needs add to it.
        let chosen = Set(PredictivePolicy.chooseSatisfiable(
            needs: needs.map { $0 - floor }, urgency: urgency, capacity: node.cpus - floor * Double(n), exactLimit: p.exactSearchLimit))
        var cores = [Double](repeating: floor, count: n)
        for i in chosen { cores[i] = needs[i] }
        var left = node.cpus - cores.reduce(0, +)
        // The rest: first the unchosen (by urgency), then, optionally, everyone by need.
        var wf = WaterFilling()
        let others = (0..<n).filter { !chosen.contains($0) }
        if left > 1e-9 && !others.isEmpty {
            let g = wf.divide(capacity: left, caps: others.map { max(0, usable[$0] - cores[$0]) }, weights: others.map { urgency[$0] })
            for (k, i) in others.enumerated() { cores[i] += g[k] }
            left = node.cpus - cores.reduce(0, +)
        }
        if p.distributeLeftover && left > 1e-9 {
            let all = Array(0..<n)
            let g = wf.divide(capacity: left, caps: all.map { max(0, usable[$0] - cores[$0]) }, weights: all.map { max(1e-9, cores[$0]) })
            for i in all { cores[i] += g[i] }
        }
        var out: [AllocationChange] = []
        let meanCores = cores.reduce(0, +) / Double(n)
        for (i, c) in node.containers.enumerated() {
            var a = c.allocation
            if c.gpu != nil { a.gpuShare = gpuShare(gpuFraction, i, node) }
            switch p.mode {
            case .limits:
                a.cpuLimit = min(max(cores[i], floor), node.cpus)
            case .shares:
                a.cpuLimit = nil
                a.cpuWeight = max(cores[i], floor) / meanCores
            }
            let note = "need=\(needs[i].isFinite ? "\((needs[i] * 1000).rounded() / 1000)" : "unreachable")\(chosen.contains(i) ? " chosen" : "")"
            if a != c.allocation { out.append(AllocationChange(containerID: c.id, allocation: a, note: note)) }
        }
        return out
    }
}

extension PredictivePolicy {
    /// GPU fractions per container (1 for containers without a GPU, or alone on theirs):
    /// on each shared GPU, the most models whose GPU needs (with the cores they can use)
    /// fit are given their need, the rest share what is left by urgency, and what still
    /// remains is spread in proportion to the plan.
    func planGPUs(_ node: NodeObservation, usable: [Double], urgency: [Double]) -> [Double] {
        var fraction = [Double](repeating: 1, count: node.containers.count)
        for g in Set(node.containers.compactMap(\.gpu)).sorted() {
            let members = node.containers.indices.filter { node.containers[$0].gpu == g }
            guard members.count > 1 else { continue }
            let floor = min(parameters.gpuFloor, 1 / Double(members.count))
            let equal = 1 / Double(members.count)
            let needs = members.map { i in
                max(floor, gpuNeed(node.containers[i], cores: usable[i], floor: floor) ?? equal)
            }
            let chosen = Set(PredictivePolicy.chooseSatisfiable(
                needs: needs.map { $0 - floor }, urgency: members.map { urgency[$0] }, capacity: 1 - floor * Double(members.count),
                exactLimit: parameters.exactSearchLimit))
            var plan = members.indices.map { chosen.contains($0) ? needs[$0] : floor }
            var wf = WaterFilling()
            let others = members.indices.filter { !chosen.contains($0) }
            var left = 1 - plan.reduce(0, +)
            if left > 1e-9 && !others.isEmpty {
                let grant = wf.divide(capacity: left, caps: others.map { _ in 1.0 }, weights: others.map { urgency[members[$0]] })
                for (k, m) in others.enumerated() { plan[m] += grant[k] }
                left = 1 - plan.reduce(0, +)
            }
            if left > 1e-9 {
                let total = plan.reduce(0, +)
                for m in plan.indices { plan[m] += left * plan[m] / total }
            }
            for (k, i) in members.enumerated() { fraction[i] = plan[k] }
        }
        return fraction
    }

    /// A planned GPU fraction as a time-slice share: relative to the mean fraction of the
    /// containers on the same GPU (shares divide a GPU in proportion).
    func gpuShare(_ fraction: [Double], _ i: Int, _ node: NodeObservation) -> Double {
        let members = node.containers.indices.filter { node.containers[$0].gpu == node.containers[i].gpu }
        guard members.count > 1 else { return node.containers[i].allocation.gpuShare }
        let mean = members.reduce(0.0) { $0 + fraction[$1] } / Double(members.count)
        return fraction[i] / mean
    }
}

extension PredictivePolicy.Parameters: ValidatableParameters {
    public var problem: String? {
        if !(interval > 0) { return "interval must be > 0" }
        if !(margin > 0 && margin <= 1.5) { return "margin must be in (0, 1.5]" }
        if !(rateSmoothing > 0 && rateSmoothing <= 1) { return "rate_smoothing must be in (0, 1]" }
        if !(floor > 0) { return "floor must be > 0" }
        if !(urgencyExponent >= 0) { return "urgency_exponent must be >= 0" }
        if exactSearchLimit < 0 { return "exact_search_limit must be >= 0" }
        if !(gpuFloor > 0 && gpuFloor < 1) { return "gpu_floor must be in (0, 1)" }
        return nil
    }
}

import QoESimCluster

extension DQoESPolicy {
    /// Steps 3-5 of the DQoES loop over one resource: a node's CPU (cores) or one GPU's
    /// time (fractions, capacity 1). Arrays are in container order; the result is the
    /// next allocation of each container.
    ///
    /// Bounds (tested in `DQoESTests` and the property test of `PolicyTests`):
    /// - every result is in [floor, capacity], finite;
    /// - the sum is within `capacity`, unless `mayOvercommit` and the resource had idle
    ///   capacity in the window;
    /// - a donor (step 4) and a releaser (step 3) never go below their `keep` (the floor,
    ///   or for an open-loop container (1 + headroom) x what it used) before the clamp.
    struct ResourceStep {
        let parameters: Parameters
        let capacity: Double
        let floor: Double
        /// Limits may sum beyond the capacity while part of it is idle (CPU limits only).
        var mayOvercommit = false
        var current: [Double]
        var used: [Double]
        var usable: [Double]
        var ratio: [Double]
        /// Tightness of the target (larger = more urgent): the order of `triage: urgency`.
        var tightness: [Double]
        /// Urgency weight: grants and `triage: proportional`.
        var weight: [Double]
        var openLoop: [Bool]
        var state: [State]

        init(parameters: Parameters, capacity: Double, floor: Double, count n: Int) {
            self.parameters = parameters
            self.capacity = capacity
            self.floor = floor
            current = [Double](repeating: 0, count: n)
            used = [Double](repeating: 0, count: n)
            usable = [Double](repeating: capacity, count: n)
            ratio = [Double](repeating: 1, count: n)
            tightness = [Double](repeating: 1, count: n)
            weight = [Double](repeating: 1, count: n)
            openLoop = [Bool](repeating: false, count: n)
            state = [State](repeating: .idle, count: n)
        }

        /// Step 2's band.
        static func classify(ratio r: Double, alpha: Double) -> State {
            r > 1 + alpha ? .unsatisfied : (r < 1 - alpha ? .overSatisfied : .satisfied)
        }

        /// Feedback-only estimate of what container i needs to bring its ratio from
        /// `r` to 1: a closed loop r x its allocation; an open-loop one
        /// u + r x max(L - u, headroom x L) (response time ~ 1 / spare capacity).
        func need(_ i: Int, ratio r: Double) -> Double {
            let l = current[i]
            guard openLoop[i] else { return l * r }
            let u = min(used[i], l)
            return u + r * max(l - u, parameters.headroom * l)
        }

        /// What container i keeps when it gives: the floor, or for an open-loop
        /// container its offered load plus headroom (never more than it holds).
        func keep(_ i: Int) -> Double {
            openLoop[i] ? max(floor, min(current[i], (1 + parameters.headroom) * used[i])) : floor
        }

        /// Whether a ranks below b in `priority` (ties: the later container ranks lower).
        static func below(_ a: Int, _ b: Int, _ priority: [Double]) -> Bool {
            priority[a] < priority[b] || (priority[a] == priority[b] && a > b)
        }

        /// The next allocations (steps 3-5).
        func run() -> [Double] { clamp(unclamped()) }

        /// Capacity the containers left unused in the window.
        var idleCapacity: Double {
            var idle = capacity
            for i in 0..<current.count { idle -= min(used[i], current[i]) }
            return idle
        }

        /// Whether the resource had idle capacity in the window (more than 0.1% of it).
        var hasIdle: Bool { idleCapacity > 1e-3 * capacity }

        /// Steps 3 and 4: the allocations before the final clamp.
        func unclamped() -> [Double] {
            let p = parameters
            let n = current.count
            var next = current
            // Step 3a: release.
            for i in 0..<n {
                switch state[i] {
                case .overSatisfied:
                    let cut = min(p.maxStepDown, p.releaseGain * (1 - ratio[i]))
                    next[i] = min(current[i], max(keep(i), need(i, ratio: ratio[i]), current[i] * (1 - cut)))
                case .idle:
                    next[i] = max(floor, current[i] * (1 - p.maxStepDown))
                case .notCPUBound:
                    next[i] = max(floor, min(current[i], usable[i]))
                case .satisfied, .unsatisfied:
                    break
                }
            }
            // Step 3b: free + released capacity (and, where allowed, idle capacity) to the
            // short ones, by deficit x urgency weight.
            let short = (0..<n).filter { state[$0] == .unsatisfied }
            var deficit = [Double](repeating: 0, count: n)
            for i in short {
                deficit[i] = max(0, min(need(i, ratio: ratio[i]) - current[i], current[i] * p.maxStepUp, usable[i] - current[i]))
            }
            let idle = idleCapacity
            let hasIdle = idle > 1e-3 * capacity
            var pool = capacity - next.reduce(0, +)
            if mayOvercommit && hasIdle { pool = max(pool, idle) }
            if !short.isEmpty && pool > 1e-9 {
                var wf = WaterFilling()
                let grants = wf.divide(
                    capacity: pool, caps: short.map { deficit[$0] }, weights: short.map { max(1e-12, deficit[$0] * weight[$0]) })
                for (k, i) in short.enumerated() {
                    next[i] += grants[k]
                    deficit[i] -= grants[k]
                }
            }
            // Step 4: scarcity.
            switch p.triage {
            case .none: break
            case .urgency: serveInOrder(&next, &deficit, short, priority: tightness)
            case .need:
                // Smallest estimated additional need first.
                let priority = (0..<n).map { -max(0, min(need($0, ratio: ratio[$0]), usable[$0]) - current[$0]) }
                serveInOrder(&next, &deficit, short, priority: priority)
            case .proportional: divideByUrgency(&next, short)
            }
            return next
        }

        /// Step 5: clamp to [floor, capacity]; the sum within the capacity unless
        /// overcommit is allowed now.
        func clamp(_ unclamped: [Double]) -> [Double] {
            let n = unclamped.count
            var next = unclamped
            let hasIdle = self.hasIdle
            for i in 0..<n { next[i] = min(max(next[i], floor), capacity) }
            let total = next.reduce(0, +)
            if total > capacity && !(mayOvercommit && hasIdle) {
                let over = total - capacity
                let above = next.reduce(0) { $0 + ($1 - floor) }
                if above > 0 { for i in 0..<n { next[i] -= over * (next[i] - floor) / above } }
            }
            return next
        }

        /// Triage by rank: each short container with a deficit, highest `priority` first,
        /// takes from lower-ranked short ones (at most `max_step_down` of a donor's
        /// allocation per interval, never below its keep), but only if those could cover
        /// its whole need to reach the target itself.
        func serveInOrder(_ next: inout [Double], _ deficit: inout [Double], _ short: [Int], priority: [Double]) {
            let p = parameters
            let needy = short.filter { deficit[$0] > 1e-9 }.sorted { ResourceStep.below($1, $0, priority) }
            let donorOrder = short.sorted { ResourceStep.below($0, $1, priority) }
            var given = [Double](repeating: 0, count: next.count)
            var received = [Bool](repeating: false, count: next.count)
            for r in needy where !received[r] && given[r] == 0 {
                let donors = donorOrder.filter { ResourceStep.below($0, r, priority) && !received[$0] }
                // Capacity still needed to reach the target itself (not the setpoint).
                let full = max(0, min(need(r, ratio: ratio[r] * p.setpoint), usable[r]) - next[r])
                let supply = donors.reduce(0) { $0 + max(0, next[$1] - keep($1)) }
                guard full > 1e-9, supply >= full else { continue }
                var want = deficit[r]
                for d in donors where want > 1e-9 {
                    let g = min(max(0, min(current[d] * p.maxStepDown - given[d], next[d] - keep(d))), want)
                    guard g > 0 else { continue }
                    next[d] -= g
                    given[d] += g
                    next[r] += g
                    want -= g
                }
                received[r] = true
                deficit[r] = want
            }
        }

        /// Triage `proportional`: what the short containers hold is divided among them in
        /// proportion to urgency weight, each up to its need; decreases are limited to
        /// `max_step_down` per interval (and never below a container's keep), and what
        /// they free goes to the others in proportion to what each still lacks.
        func divideByUrgency(_ next: inout [Double], _ short: [Int]) {
            guard short.count > 1 else { return }
            let p = parameters
            let held = short.reduce(0) { $0 + next[$1] }
            var wf = WaterFilling()
            let caps = short.map { max(floor, min(need($0, ratio: ratio[$0]), usable[$0])) }
            let ideal = wf.divide(capacity: held, caps: caps, weights: short.map { max(1e-12, weight[$0]) })
            var freed = 0.0
            var lack = [Double](repeating: 0, count: short.count)
            for (k, i) in short.enumerated() {
                if ideal[k] < next[i] {
                    let lowered = min(next[i], max(ideal[k], current[i] * (1 - p.maxStepDown), keep(i)))
                    freed += next[i] - lowered
                    next[i] = lowered
                } else {
                    lack[k] = max(0, min(ideal[k] - next[i], current[i] * (1 + p.maxStepUp) - next[i]))
                }
            }
            guard freed > 1e-12, lack.contains(where: { $0 > 0 }) else { return }
            let grants = wf.divide(capacity: freed, caps: lack, weights: lack.map { max(1e-12, $0) })
            for (k, i) in short.enumerated() { next[i] += grants[k] }
        }
    }
}

extension DQoESPolicy {
    /// One resource step of the loop, opened up for property tests of its documented
    /// bounds (`@_spi(Testing)`: not part of the library's API).
    @_spi(Testing) public struct ResourceStepProbe: Sendable {
        /// Allocations after steps 3-4, before the clamp.
        public var unclamped: [Double]
        /// Allocations after the clamp (what the policy applies).
        public var final: [Double]
        /// What each container keeps when it gives (the floor, or for an open-loop one
        /// its offered load plus headroom, never more than it holds).
        public var keep: [Double]
        /// The allocations the step started from (never below the floor).
        public var current: [Double]
    }

    /// Runs steps 3-5 over one resource with the given per-container inputs.
    @_spi(Testing) public static func probeResourceStep(
        parameters: Parameters, capacity: Double, floor: Double, mayOvercommit: Bool, current: [Double], used: [Double],
        usable: [Double], ratio: [Double], tightness: [Double], openLoop: [Bool], states: [State]
    ) -> ResourceStepProbe {
        var step = ResourceStep(parameters: parameters, capacity: capacity, floor: floor, count: current.count)
        step.mayOvercommit = mayOvercommit
        step.current = current.map { max(floor, $0) }
        step.used = used
        step.usable = usable
        step.ratio = ratio
        step.tightness = tightness
        step.weight = tightness.map { parameters.urgencyExponent == 0 ? 1 : _pow($0, parameters.urgencyExponent) }
        step.openLoop = openLoop
        step.state = states
        let raw = step.unclamped()
        return ResourceStepProbe(unclamped: raw, final: step.clamp(raw), keep: current.indices.map(step.keep), current: step.current)
    }
}

import DequeModule
import QoESimControl

/// The simulator as the plant of the shared ``Controller``: its meters read the
/// simulated containers exactly (usage up to the moment asked, without touching the
/// accounting, so that reading cannot change a run's numbers, not even their rounding),
/// and its actuator puts an allocation into force at once, redividing the node's CPU
/// after the controller's batch of changes. Delayed changes come back through the
/// container's actuation timer.
extension SimulationState: ControlPlant {
    func nodeSpec(_ n: Int) -> NodeSpec { nodes[n] }

    func node(of j: Int) -> Int? { c[j].node >= 0 ? c[j].node : nil }

    func containers(on n: Int) -> [Int] { nodeContainers[n] }

    func isPlaced(_ j: Int) -> Bool { c[j].phase == .active || c[j].phase == .draining }

    mutating func reading(_ j: Int, at t: Double) -> ContainerReading {
        flushResponses(j)
        let s = c[j]
        // Usage up to now (the stored totals stop at lastUsage).
        let dt = max(t, s.lastUsage) - s.lastUsage
        // The oldest outstanding request: in service (any slot) or first in the FIFO queue.
        var oldest = waiting[j].first?.arrival ?? Double.infinity
        for k in slotBase[j]..<(slotBase[j] + s.busy) { oldest = min(oldest, slots[k].arrival) }
        return ContainerReading(
            counters: s.counters, histograms: histograms[j], cpuSeconds: s.cpuSeconds + s.cpu * dt,
            gpuSeconds: s.gpuSeconds + s.gpuFraction * dt, gpu: s.gpu >= 0 ? s.gpu : nil, outstanding: s.busy + waiting[j].count,
            oldestOutstandingAge: oldest.isFinite ? t - oldest : nil)
    }

    /// Reads usage as the meters do (without folding it into the accounting), so that
    /// the run's accounting, and its rounding, depend on the model's events alone: the
    /// live plant over the simulator's physics then reads the very same numbers.
    mutating func startWindow(_ j: Int, at t: Double) {
        flushResponses(j)
        let s = c[j]
        let dt = max(t, s.lastUsage) - s.lastUsage
        ContainerMonitor.startWindow(
            &c[j].counters, &histograms[j], at: t, cpuSeconds: s.cpuSeconds + s.cpu * dt, gpuSeconds: s.gpuSeconds + s.gpuFraction * dt)
    }

    /// Puts the allocation into force for container j at t (its CPU is redivided by
    /// ``actuationsApplied(on:at:)``).
    mutating func actuate(_ j: Int, _ allocation: Allocation, at t: Double) {
        let n = c[j].node
        advance(j, t)
        account(j, t)
        c[j].allocation = allocation
        if c[j].busy > 0 || c[j].spinning {
            let cap = demandCap(j)
            nodeDemand[n] += cap - c[j].cap
            c[j].cap = cap
        }
    }

    mutating func actuationsApplied(on n: Int, at t: Double) {
        redivide(n, t, changed: -1, force: true)
    }

    mutating func scheduleActuation(_ j: Int, at t: Double) {
        loop.arm(actuationTimer(j), at: t)
        // A decision made at the instant an earlier one comes due replaces it: the new
        // one waits its own delay (the live loop's one due time per container).
        if let k = dueChanges.firstIndex(of: j) { dueChanges.remove(at: k) }
    }
}

import DequeModule
import QoESimControl

extension SimulationState {
    // MARK: Invariants

    /// The first broken invariant, described, or nil (Docs/INVARIANTS.md, S6):
    /// per container, arrived = completed + in service + waiting and in service <= workers;
    /// per node, the recorded demand is the sum of its busy (or spinning) containers' caps,
    /// their CPU adds up to at most the node's cores, and each gets at most its cap; a
    /// spinning container has nothing in service; the event list holds at most one timer
    /// per kind per job plus the control and sample timers.
    @inline(never) func invariantViolation(_ t: Double) -> String? {
        for j in jobs.indices {
            let arrived = c[j].counters.arrived, completed = c[j].counters.completed, busy = c[j].busy, queued = waiting[j].count
            if arrived != completed + busy + queued {
                return "t=\(t): container \(jobs[j].id): arrived \(arrived) != completed \(completed) + in service \(busy) + waiting \(queued)"
            }
            if busy > jobs[j].workers { return "t=\(t): container \(jobs[j].id): \(busy) requests in service with \(jobs[j].workers) workers" }
            if c[j].spinning && busy > 0 { return "t=\(t): container \(jobs[j].id) spins idle with \(busy) requests in service" }
        }
        for n in nodes.indices {
            var demand = 0.0, used = 0.0
            for j in nodeBusy[n] {
                demand += c[j].cap
                used += c[j].cpu
                if c[j].cpu > c[j].cap * (1 + 1e-9) + 1e-12 {
                    return "t=\(t): container \(jobs[j].id) gets \(c[j].cpu) cores above its cap \(c[j].cap)"
                }
            }
            if abs(demand - nodeDemand[n]) > 1e-6 * max(1, demand) {
                return "t=\(t): node \(nodes[n].name): recorded demand \(nodeDemand[n]) != sum of busy caps \(demand)"
            }
            if used > nodes[n].cpus * (1 + 1e-9) + 1e-12 {
                return "t=\(t): node \(nodes[n].name): busy containers get \(used) cores of \(nodes[n].cpus)"
            }
        }
        let bound = TimerKind.allCases.count * jobs.count + 2
        if loop.pendingCount > bound {
            return "t=\(t): the event list holds \(loop.pendingCount) timers for \(jobs.count) jobs (bound \(bound))"
        }
        return nil
    }
}

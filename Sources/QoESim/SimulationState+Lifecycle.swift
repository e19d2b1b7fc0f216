import DequeModule
import QoESimControl

/// Job lifecycle and arrivals.
///
/// One instant, in this order (the live loop keeps the same order; Docs/INVARIANTS.md C3):
/// 1. the plant's events due then: arrivals, completions, ends of idle spins, jobs'
///    windows ending (a drained container departs: its capacity is free at once);
/// 2. the controller's decisions, once those events are over: departures first (each
///    container leaves the node's list, then the policy is asked), then delayed changes
///    coming due (for containers still placed), then placements in job order (each job
///    is placed, the policy is asked, and then its load starts: the requests due at
///    that instant arrive at once), then jobs waiting for room;
/// 3. the control tick; 4. the usage sample.
extension SimulationState {
    mutating func lifecycle(_ j: Int, _ t: Double) {
        switch c[j].phase {
        case .future:
            // Placed (and its load started) by the decisions at the end of the instant.
            dueForPlacement.append(j)
            hasPendingDecisions = true
        case .active:
            // The job's window is over: no more arrivals; it leaves once drained.
            c[j].phase = .draining
            loop.disarm(arrivalTimer(j))
            departIfIdle(j, t)
        default:
            break
        }
    }

    /// Whether the events of instant `t` are over: nothing else is due at `t`. (A tick
    /// or a sample due at `t` goes behind the instant's events and makes the decisions
    /// before it acts: see `fire`.)
    @inline(__always) func instantIsOver(_ t: Double) -> Bool {
        guard let next = loop.nextTime else { return true }
        return next > t
    }

    /// The controller's decisions at the end of instant `t`: departures, placements in
    /// job order, then jobs waiting for room (see the order above).
    mutating func decide(_ t: Double, _ control: inout Controller) {
        hasPendingDecisions = false
        var freed = false
        if !departing.isEmpty {
            let leaving = departing.sorted()
            departing.removeAll(keepingCapacity: true)
            for j in leaving {
                let n = c[j].node
                nodeContainers[n].removeAll { $0 == j }
                // A change decided for it earlier in this instant (a departure before
                // its own) has nothing left to act on.
                loop.disarm(actuationTimer(j))
                dueChanges.removeAll { $0 == j }
                control.departed(j, from: n, at: t, plant: &self)
            }
            freed = true
        }
        if !dueChanges.isEmpty {
            let due = dueChanges.sorted()
            dueChanges.removeAll(keepingCapacity: true)
            for j in due { control.actuationDue(j, at: t, plant: &self) }
        }
        if !dueForPlacement.isEmpty {
            let due = dueForPlacement.sorted()
            dueForPlacement.removeAll(keepingCapacity: true)
            for j in due where !tryPlace(j, t, &control) {
                c[j].phase = .pending
                pending.append(j)
            }
        }
        if freed && !pending.isEmpty {
            var still: [Int] = []
            for p in pending where !tryPlace(p, t, &control) { still.append(p) }
            pending = still
        }
    }

    /// Places job j on a node with room, if there is one: the controller is told (it
    /// asks the policy), then the job's load starts.
    mutating func tryPlace(_ j: Int, _ t: Double, _ control: inout Controller) -> Bool {
        let job = jobs[j]
        let needsGPU = latency[j].usesGPU
        let required = job.node.flatMap { name in nodes.firstIndex { $0.name == name } }
        guard let n = placement.choose(strategy: options.placement, cpus: job.cpus ?? 0, needsGPU: needsGPU, required: required)
        else { return false }
        let gpu = placement.place(node: n, cpus: job.cpus ?? 0, needsGPU: needsGPU)
        c[j].node = n
        c[j].gpu = gpu ?? -1
        c[j].phase = .active
        c[j].idleSince = t
        c[j].lastProgress = t
        c[j].lastUsage = t
        c[j].allocation = initialAllocations[j]
        nodeContainers[n].append(j)
        control.placed(j, on: n, at: t, plant: &self)
        startLoad(j, t)
        return true
    }

    /// Job j's requests start at t, by its arrival schedule: a closed loop's `workers`
    /// requests and any request due at t arrive at once; the next is armed.
    mutating func startLoad(_ j: Int, _ t: Double) {
        schedules[j].begin(at: t)
        c[j].closedLoopEnd = schedules[j].closedLoopEnd
        loop.arm(lifecycleTimer(j), at: schedules[j].end)
        while let next = schedules[j].next() {
            if next.time > t {
                c[j].nextArrivalSize = next.size
                loop.arm(arrivalTimer(j), at: next.time)
                break
            }
            arrive(j, t, size: next.size)
        }
        for _ in 0..<schedules[j].initialRequests { arrive(j, t, size: 1) }
    }

    @inline(never) mutating func arrivalDue(_ j: Int, _ t: Double) {
        arrive(j, t, size: c[j].nextArrivalSize)
        if let next = schedules[j].next() {
            c[j].nextArrivalSize = next.size
            loop.arm(arrivalTimer(j), at: next.time)
        }
    }

    /// Job j leaves once its window is over and nothing is waiting or in service: its
    /// capacity is free at once; the controller hears of it at the end of the instant.
    mutating func departIfIdle(_ j: Int, _ t: Double) {
        guard c[j].busy == 0 && waiting[j].isEmpty else { return }
        if c[j].spinning {
            // Its window is over: the container stops, and its threads with it.
            account(j, t)
            c[j].spinning = false
            loop.disarm(spinTimer(j))
            loadChanged(j, t)
        }
        account(j, t)
        c[j].phase = .departed
        loop.disarm(actuationTimer(j))
        unfinishedJobs -= 1
        placement.remove(node: c[j].node, cpus: jobs[j].cpus ?? 0, gpu: c[j].gpu >= 0 ? c[j].gpu : nil)
        departing.append(j)
        hasPendingDecisions = true
    }
}

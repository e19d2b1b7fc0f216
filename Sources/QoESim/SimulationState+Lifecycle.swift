import DequeModule
import QoESimControl

extension SimulationState {
    // MARK: Job lifecycle

    mutating func lifecycle(_ j: Int, _ t: Double, _ control: inout Controller) {
        switch c[j].phase {
        case .future:
            if !tryPlace(j, t, &control) {
                c[j].phase = .pending
                pending.append(j)
            }
        case .active:
            // The job's window is over: no more arrivals; it leaves once drained.
            c[j].phase = .draining
            loop.disarm(arrivalTimer(j))
            departIfIdle(j, t, &control)
        default:
            break
        }
    }

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
        c[j].allocation = Controller.initialAllocation(job)
        nodeContainers[n].append(j)
        schedules[j].begin(at: t)
        control.placed(j, on: n, at: t, plant: &self)
        loop.arm(lifecycleTimer(j), at: schedules[j].end)
        if let first = schedules[j].next() {
            c[j].nextArrivalSize = first.size
            loop.arm(arrivalTimer(j), at: first.time)
        }
        for _ in 0..<schedules[j].initialRequests { arrive(j, t, size: 1) }
        return true
    }

    mutating func arrivalDue(_ j: Int, _ t: Double) {
        arrive(j, t, size: c[j].nextArrivalSize)
        if let next = schedules[j].next() {
            c[j].nextArrivalSize = next.size
            loop.arm(arrivalTimer(j), at: next.time)
        }
    }

    mutating func departIfIdle(_ j: Int, _ t: Double, _ control: inout Controller) {
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
        let n = c[j].node
        placement.remove(node: n, cpus: jobs[j].cpus ?? 0, gpu: c[j].gpu >= 0 ? c[j].gpu : nil)
        nodeContainers[n].removeAll { $0 == j }
        control.departed(j, from: n, at: t, plant: &self)
        if !pending.isEmpty {
            var still: [Int] = []
            for p in pending where !tryPlace(p, t, &control) { still.append(p) }
            pending = still
        }
    }
}

import DequeModule
import Foundation
import Histogram

/// One request inside a container.
struct Request {
    /// When it arrived at the container.
    var arrival: Double
    /// When it entered service.
    var start: Double
    /// Service demand still to do, in "requests at the current allocation" units: it
    /// progresses at `rate = 1 / latency(allocation)` per second.
    var work: Double
    /// Its size (service-demand multiplier) from the request trace.
    var size: Double
}

enum Phase: UInt8 { case future, pending, active, draining, departed }

/// Mutable per-container state. Fields touched on every request come first, so that an
/// event touches one or two cache lines of it.
struct ContainerState {
    // Per event (arrival, completion).
    var busy = 0
    var rate = 0.0
    var lastProgress = 0.0
    var cpu = 0.0
    var cap = 0.0
    var lastUsage = 0.0
    var cpuSeconds = 0.0
    /// The monitor's counters (shared type with the live adapter; see ContainerMonitor).
    var counters = MonitorCounters()
    var pendingResponses = 0
    var gpuFraction = 0.0
    var gpuSeconds = 0.0
    var busyIndex = -1
    var node = -1
    var endTime = 0.0
    /// The replayed request whose arrival timer is armed (arrivals=trace).
    var nextTraced = TracedRequest(offset: 0)
    /// When the container last became idle (nothing in service), for cold starts.
    var idleSince = 0.0
    /// Idle, but its inference threads still poll for work (the model's idle spin) until
    /// its spin timer fires or a request arrives: it competes for CPU and does no work.
    var spinning = false
    var phase = Phase.future
    // Per control step or lifecycle change.
    var gpu = -1
    /// The allocation in force.
    var allocation = Allocation()
    /// The latest decision, which takes effect `actuationDelay` after it was made.
    var decided = Allocation()
    var decidedNote = ""
    var startTime = 0.0
    // Usage sampling for the recorder.
    var sampleStart = 0.0
    var sampleCPU0 = 0.0
    var sampleGPU0 = 0.0
}

/// The whole mutable state of a run. Value types throughout; nothing is allocated per
/// event once queues and histograms have grown to their working size.
struct SimulationState: ~Copyable {
    // Inputs.
    let nodes: [NodeSpec]
    let jobs: [JobSpec]
    /// Latency under a binding CPU quota (the profile's), per job.
    let latency: [LatencyModel]
    /// Latency when the CPU is set by contention, not by a quota (ModelSpec.sharedLatency),
    /// per job; nil where the model has none (then `latency` serves both).
    let sharedLatency: [LatencyModel?]
    let variability: [Variability]
    /// Per job: service factor of a request that starts on a container idle for at
    /// least `afterS` (factor 1: none).
    let coldStart: [(factor: Double, afterS: Double)]
    /// Per job, the model's idle spin: how long (s) and on how many cores its threads
    /// keep polling after its last in-service request completes, and the fraction of its
    /// CPU weight it polls with.
    let idleSpin: [(seconds: Double, cores: Double, weight: Double)]
    /// Each job's replayed requests, held or streamed (arrivals=trace).
    var traced: [TracedFeed]
    let options: SimulationOptions
    let seed: UInt64
    var policy: any AllocationPolicy
    let recorder: SimulationRecorder?
    let idIndex: [String: Int]

    // Kernel.
    var loop: EventLoop
    let controlTimer: TimerHandle
    let sampleTimer: TimerHandle

    // Containers.
    var c: FixedArray<ContainerState>
    /// In-service requests: container j owns slots `slotBase[j] ..< slotBase[j] + workers`.
    var slots: FixedArray<Request>
    let slotBase: [Int]
    var waiting: FixedArray<Deque<Request>>
    var arrivalStream: FixedArray<RandomStream>
    var serviceStream: FixedArray<RandomStream>
    /// The monitor's response-time histograms per container (with `c[j].counters`, what
    /// the live adapter keeps in a ContainerMonitor).
    var histograms: FixedArray<ResponseHistograms>
    /// Response times (µs) not yet in the histograms: `responseBatch` per container.
    var pendingMicros: FixedArray<UInt64>

    // Nodes.
    var placement: PlacementState
    var nodeBusy: [[Int]]
    var nodeDemand: [Double]
    var nodeSaturated: [Bool]
    var nodeContainers: [[Int]]
    var pending: [Int] = []
    var unfinishedJobs: Int
    /// Set when the policy answers with a change that cannot be applied: the run stops.
    var policyFailure: PolicyChangeError?
    /// `policyFailure != nil`, as a plain flag: the main loop checks it on every event,
    /// and testing the optional there copied it through its value witness each time.
    var stopped = false
    /// Whether every event is followed by ``invariantViolation(_:)`` (tests switch it on
    /// with ``SimulationOptions/checkInvariants``; off, it costs one predicted branch).
    let checking: Bool
    /// The first invariant found broken: the run stops.
    var invariantFailure: String?
    /// Sampling ticks fired (bookkeeping for the recorder, not part of the model: they
    /// are left out of the event count and the simulated time).
    var sampleTicks = 0
    var lastModelEvent = 0.0
    var waterFilling = WaterFilling()
    var scratchCap: [Double] = []
    var scratchWeight: [Double] = []
    var scratchShare: [Double] = []
    var gpuShareSum: [Double] = []

    init(simulation: Simulation, seed: UInt64, recorder: SimulationRecorder?) {
        let scenario = simulation.scenario
        nodes = scenario.cluster.nodes
        jobs = scenario.jobs
        latency = jobs.map(\.model.latency)
        checking = simulation.options.checkInvariants
        sharedLatency = jobs.map(\.model.sharedLatency)
        variability = jobs.map(\.model.variability)
        coldStart = jobs.map { ($0.model.coldStart.factor, $0.model.coldStart.afterMs / 1000) }
        idleSpin = jobs.map { ($0.model.idleSpin.seconds, $0.model.idleSpin.cores, $0.model.idleSpin.weight) }
        traced = jobs.map { job in
            guard job.arrivals == .trace else { return TracedFeed(held: []) }
            if let streamed = scenario.streamedRequests { return TracedFeed(reader: streamed.reader(for: job.id, stretch: scenario.streamStretch)) }
            return TracedFeed(held: scenario.requests[job.id] ?? [])
        }
        options = simulation.options
        self.seed = seed
        policy = simulation.policy
        self.recorder = recorder
        var index: [String: Int] = [:]
        for (i, j) in jobs.enumerated() { index[j.id] = i }
        idIndex = index

        let n = jobs.count
        precondition(TimerKind.allCases.count <= SimulationState.timersPerJob && SimulationState.timersPerJob == 8)
        loop = EventLoop(timerCount: SimulationState.timersPerJob * n + 2)
        controlTimer = TimerHandle(SimulationState.timersPerJob * n)
        sampleTimer = TimerHandle(SimulationState.timersPerJob * n + 1)
        c = FixedArray(repeating: ContainerState(), count: n)
        var base: [Int] = []
        var total = 0
        for j in jobs {
            base.append(total)
            total += j.workers
        }
        slotBase = base
        slots = FixedArray(repeating: Request(arrival: 0, start: 0, work: 0, size: 0), count: total)
        waiting = FixedArray(repeating: Deque(), count: n)
        arrivalStream = FixedArray(jobs.map { RandomStream(seed: seed, key: $0.id, purpose: .arrivals) })
        serviceStream = FixedArray(jobs.map { RandomStream(seed: seed, key: $0.id, purpose: .service) })
        pendingMicros = FixedArray(repeating: 0, count: n * SimulationState.responseBatch)
        let digits = options.histogramDigits
        histograms = FixedArray(jobs.map { ResponseHistograms(metric: $0.metric, digits: digits) })

        placement = PlacementState(cluster: scenario.cluster)
        nodeBusy = Array(repeating: [], count: nodes.count)
        nodeDemand = Array(repeating: 0, count: nodes.count)
        nodeSaturated = Array(repeating: false, count: nodes.count)
        nodeContainers = Array(repeating: [], count: nodes.count)
        gpuShareSum = Array(repeating: 0, count: nodes.map(\.gpus).max() ?? 0)
        unfinishedJobs = n
    }

    // MARK: Timers

    /// What a job's timer slot is for. Job j owns slots `timersPerJob * j + kind`.
    enum TimerKind: UInt8, CaseIterable {
        /// Start of the job's window (placement), then its end.
        case lifecycle
        /// The next request arrival.
        case arrival
        /// The next completion among its in-service requests.
        case completion
        /// A policy decision taking effect after the actuation delay.
        case actuation
        /// The end of the container's idle spin.
        case spinEnd
    }

    /// A power of two at least the number of kinds, as a literal, so that slot arithmetic
    /// compiles to shifts (checked against the kinds in `init`).
    static let timersPerJob = 8
    @inline(__always) static func timer(_ kind: TimerKind, _ j: Int) -> TimerHandle {
        TimerHandle(timersPerJob * j + Int(kind.rawValue))
    }
    /// The job and kind of a job's timer slot.
    @inline(__always) static func decode(_ index: Int) -> (job: Int, kind: TimerKind) {
        // timersPerJob is 8: a shift and a mask.
        (index &>> 3, unsafeBitCast(UInt8(truncatingIfNeeded: index & 7), to: TimerKind.self))
    }
    @inline(__always) func lifecycleTimer(_ j: Int) -> TimerHandle { SimulationState.timer(.lifecycle, j) }
    @inline(__always) func arrivalTimer(_ j: Int) -> TimerHandle { SimulationState.timer(.arrival, j) }
    @inline(__always) func completionTimer(_ j: Int) -> TimerHandle { SimulationState.timer(.completion, j) }
    @inline(__always) func actuationTimer(_ j: Int) -> TimerHandle { SimulationState.timer(.actuation, j) }
    @inline(__always) func spinTimer(_ j: Int) -> TimerHandle { SimulationState.timer(.spinEnd, j) }

    // MARK: Main loop

    mutating func run(progress: ((Simulation.Progress) -> Void)?) {
        for j in jobs.indices { loop.arm(lifecycleTimer(j), at: jobs[j].arrival) }
        if let dt = policy.controlInterval, dt > 0, !jobs.isEmpty {
            loop.arm(controlTimer, at: (jobs.map(\.arrival).min() ?? 0) + dt)
        }
        if recorder != nil, let dt = options.sampleInterval, dt > 0, !jobs.isEmpty {
            loop.arm(sampleTimer, at: (jobs.map(\.arrival).min() ?? 0) + dt)
        }
        let horizon = options.horizon
        var nextReport = 1 << 18
        while let timer = loop.next(until: horizon) {
            let t = loop.now
            let index = Int(timer.index)
            if timer == controlTimer {
                controlTick(t)
            } else if timer == sampleTimer {
                sampleUsage(t)
                sampleTicks += 1
                continue
            } else {
                let (j, kind) = SimulationState.decode(index)
                switch kind {
                case .lifecycle: lifecycle(j, t)
                case .arrival: arrivalDue(j, t)
                case .completion: completion(j, t)
                case .actuation: actuate(j, t)
                case .spinEnd: spinEnd(j, t)
                }
            }
            lastModelEvent = t
            if checking, let broken = invariantViolation(t) {
                invariantFailure = broken
                return
            }
            if stopped { return }
            if let report = progress, loop.eventsProcessed >= nextReport {
                nextReport += 1 << 18
                report(Simulation.Progress(simulatedSeconds: t, events: loop.eventsProcessed, activeJobs: unfinishedJobs))
            }
        }
        for j in jobs.indices { flushResponses(j) }
        // Stopped by the horizon with work left: the run covered [0, horizon].
        if horizon.isFinite && loop.now >= horizon && unfinishedJobs > 0 { lastModelEvent = horizon }
    }

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

    // MARK: Requests

    /// Moves container j's in-service requests forward to time t at the current rate.
    @inline(__always) mutating func advance(_ j: Int, _ t: Double) {
        let dt = t - c[j].lastProgress
        c[j].lastProgress = t
        let busy = c[j].busy
        if dt > 0 && busy > 0 {
            let done = c[j].rate * dt
            let b = slotBase[j]
            for k in b..<(b + busy) { slots[k].work -= done }
        }
    }

    /// Adds the CPU and GPU used since the last call to the container's totals.
    @inline(__always) mutating func account(_ j: Int, _ t: Double) {
        let dt = t - c[j].lastUsage
        if dt > 0 {
            c[j].cpuSeconds += c[j].cpu * dt
            c[j].gpuSeconds += c[j].gpuFraction * dt
        }
        c[j].lastUsage = t
    }

    /// Recomputes container j's per-request rate and re-arms its completion timer.
    /// Precondition: j was advanced to t.
    @inline(__always) mutating func setRate(_ j: Int, _ t: Double) {
        let busy = c[j].busy
        guard busy > 0 else {
            c[j].rate = 0
            loop.disarm(completionTimer(j))
            return
        }
        let k = Double(busy)
        let rate: Double
        // Below its cap (limit, parallelism, node) a container's CPU is set by contention,
        // and the shared-cores latency applies if known; at its cap, the profile's.
        if let shared = sharedLatency[j], c[j].cpu < c[j].cap * (1 - 1e-9) {
            rate = 1 / shared.latencySeconds(cpus: c[j].cpu / k, gpuFraction: c[j].gpuFraction / k)
        } else {
            rate = 1 / latency[j].latencySeconds(cpus: c[j].cpu / k, gpuFraction: c[j].gpuFraction / k)
        }
        c[j].rate = rate
        let b = slotBase[j]
        var least = slots[b].work
        if busy > 1 { for s in (b + 1)..<(b + busy) where slots[s].work < least { least = slots[s].work } }
        loop.arm(completionTimer(j), at: t + max(least, 0) / rate)
    }

    mutating func arrive(_ j: Int, _ t: Double, size: Double) {
        var factor = variability[j].sample(&serviceStream[j])
        if c[j].busy == 0 && coldStart[j].factor != 1 && t - c[j].idleSince >= coldStart[j].afterS { factor *= coldStart[j].factor }
        let request = Request(arrival: t, start: t, work: size * factor, size: size)
        c[j].counters.recordArrival()
        if c[j].busy < jobs[j].workers {
            advance(j, t)
            account(j, t)
            if c[j].spinning {
                // The polling threads take the request: the spin ends.
                c[j].spinning = false
                loop.disarm(spinTimer(j))
            }
            slots[slotBase[j] + c[j].busy] = request
            c[j].busy += 1
            loadChanged(j, t)
        } else {
            waiting[j].append(request)
        }
    }

    mutating func completion(_ j: Int, _ t: Double) {
        advance(j, t)
        account(j, t)
        let b = slotBase[j]
        let busy = c[j].busy
        var done = b
        if busy > 1 { for s in (b + 1)..<(b + busy) where slots[s].work < slots[done].work { done = s } }
        record(j, arrival: slots[done].arrival, start: slots[done].start, size: slots[done].size, t)
        // Closed loop: the client sends its next request as soon as this one returns.
        if jobs[j].arrivals == .closed && c[j].phase == .active {
            let factor = variability[j].sample(&serviceStream[j])
            waiting[j].append(Request(arrival: t, start: t, work: factor, size: 1))
            c[j].counters.recordArrival()
        }
        if var next = waiting[j].popFirst() {
            next.start = t
            slots[done] = next
            setRate(j, t)
        } else {
            slots[done] = slots[b + busy - 1]
            c[j].busy = busy - 1
            if busy == 1 {
                c[j].idleSince = t
                // Its threads keep polling for a while (not when the job is leaving).
                if idleSpin[j].seconds > 0 && c[j].phase == .active {
                    c[j].spinning = true
                    loop.arm(spinTimer(j), at: t + idleSpin[j].seconds)
                }
            }
            loadChanged(j, t)
        }
        if c[j].phase == .draining { departIfIdle(j, t) }
    }

    @inline(__always) mutating func record(_ j: Int, arrival: Double, start: Double, size: Double, _ t: Double) {
        let response = t - arrival
        c[j].counters.countCompletion(seconds: response)
        let micros = ContainerMonitor.micros(response)
        // Response times reach the histograms in batches (see `flushResponses`).
        let k = c[j].pendingResponses
        pendingMicros[j &* SimulationState.responseBatch &+ k] = micros
        c[j].pendingResponses = k + 1
        if k + 1 == SimulationState.responseBatch { flushResponses(j) }
        if let recorder { recorder.requestCompleted(job: j, arrival: arrival, start: start, completion: t, size: size) }
    }

    /// Response times buffered per container before they are added to its histograms.
    static let responseBatch = 32

    /// Adds container j's buffered response times to its histograms. Batching keeps a
    /// histogram's counters in cache for 32 updates instead of one: with thousands of
    /// containers, one update per completion would miss the cache almost every time.
    /// Histograms are only read after a flush (observations, results), and a histogram's
    /// contents do not depend on the order of its updates, so results are unchanged.
    @inline(never) mutating func flushResponses(_ j: Int) {
        let count = c[j].pendingResponses
        guard count > 0 else { return }
        let base = j &* SimulationState.responseBatch
        histograms[j].record(pendingMicros.buffer(base..<(base + count)))
        c[j].pendingResponses = 0
    }

    // MARK: CPU and GPU sharing

    @inline(__always) func demandCap(_ j: Int) -> Double {
        let n = c[j].node
        let busy = c[j].busy
        let wanted = busy > 0 ? latency[j].maxParallelism * Double(busy) : (c[j].spinning ? idleSpin[j].cores : 0)
        return min(c[j].allocation.cpuLimit ?? .infinity, wanted, nodes[n].cpus)
    }

    /// Container j's idle spin is over: it stops competing for CPU.
    mutating func spinEnd(_ j: Int, _ t: Double) {
        guard c[j].spinning else { return }
        account(j, t)
        c[j].spinning = false
        loadChanged(j, t)
    }

    /// Container j's number of in-service requests (or its idle spin) changed (j already
    /// advanced and accounted at t): update the node's busy set and redivide its CPU.
    mutating func loadChanged(_ j: Int, _ t: Double) {
        let n = c[j].node
        if c[j].busy > 0 || c[j].spinning {
            let cap = demandCap(j)
            if c[j].busyIndex < 0 {
                c[j].busyIndex = nodeBusy[n].count
                nodeBusy[n].append(j)
                nodeDemand[n] += cap
            } else {
                nodeDemand[n] += cap - c[j].cap
            }
            c[j].cap = cap
            redivide(n, t, changed: j)
        } else {
            if c[j].busyIndex >= 0 {
                let i = c[j].busyIndex
                let last = nodeBusy[n].removeLast()
                if last != j {
                    nodeBusy[n][i] = last
                    c[last].busyIndex = i
                }
                c[j].busyIndex = -1
                nodeDemand[n] -= c[j].cap
            }
            c[j].cap = 0
            c[j].cpu = 0
            c[j].gpuFraction = 0
            setRate(j, t)
            redivide(n, t, changed: -1)
        }
    }

    /// Divides node n's cores (CFS water-filling) and GPUs (time slices by share) among
    /// its busy containers and updates every container whose allocation changed.
    /// `changed` is a container whose rate must be refreshed regardless.
    mutating func redivide(_ n: Int, _ t: Double, changed: Int, force: Bool = false) {
        let capacity = nodes[n].cpus
        // Fast path: nobody is short of CPU before or after, and there is no GPU to share:
        // every busy container runs at its cap, so only `changed` needs an update.
        if !force && nodes[n].gpus == 0 && !nodeSaturated[n] && nodeDemand[n] <= capacity * (1 - 1e-9) {
            if changed >= 0 && (c[changed].busy > 0 || c[changed].spinning) {
                account(changed, t)
                c[changed].cpu = c[changed].cap
                setRate(changed, t)
            }
            return
        }
        let busy = nodeBusy[n]
        let m = busy.count
        scratchCap.removeAll(keepingCapacity: true)
        scratchWeight.removeAll(keepingCapacity: true)
        var demand = 0.0
        for j in busy {
            scratchCap.append(c[j].cap)
            scratchWeight.append(c[j].spinning ? c[j].allocation.cpuWeight * idleSpin[j].weight : c[j].allocation.cpuWeight)
            demand += c[j].cap
        }
        nodeDemand[n] = demand
        nodeSaturated[n] = demand > capacity * (1 - 1e-9)
        if scratchShare.count < m { scratchShare.append(contentsOf: repeatElement(0, count: m - scratchShare.count)) }
        scratchCap.withUnsafeBufferPointer { cap in
            scratchWeight.withUnsafeBufferPointer { w in
                scratchShare.withUnsafeMutableBufferPointer { s in
                    waterFilling.divide(capacity: capacity, cap: cap, weight: w, into: UnsafeMutableBufferPointer(rebasing: s[0..<m]))
                }
            }
        }
        let gpus = nodes[n].gpus
        if gpus > 0 {
            for g in 0..<gpus { gpuShareSum[g] = 0 }
            for j in busy where c[j].gpu >= 0 && c[j].busy > 0 { gpuShareSum[c[j].gpu] += c[j].allocation.gpuShare }
        }
        for (k, j) in busy.enumerated() {
            let cpu = scratchShare[k]
            // A spinning container polls on its CPU threads, not on the GPU.
            let g = c[j].gpu >= 0 && c[j].busy > 0 ? c[j].allocation.gpuShare / gpuShareSum[c[j].gpu] : 0
            if j == changed || cpu != c[j].cpu || g != c[j].gpuFraction {
                advance(j, t)
                account(j, t)
                c[j].cpu = cpu
                c[j].gpuFraction = g
                setRate(j, t)
            }
        }
    }

    // MARK: Job lifecycle

    mutating func lifecycle(_ j: Int, _ t: Double) {
        switch c[j].phase {
        case .future:
            if !tryPlace(j, t) {
                c[j].phase = .pending
                pending.append(j)
            }
        case .active:
            // The job's window is over: no more arrivals; it leaves once drained.
            c[j].phase = .draining
            loop.disarm(arrivalTimer(j))
            departIfIdle(j, t)
        default:
            break
        }
    }

    mutating func tryPlace(_ j: Int, _ t: Double) -> Bool {
        let job = jobs[j]
        let needsGPU = latency[j].usesGPU
        let required = job.node.flatMap { name in nodes.firstIndex { $0.name == name } }
        guard let n = placement.choose(strategy: options.placement, cpus: job.cpus ?? 0, needsGPU: needsGPU, required: required)
        else { return false }
        let gpu = placement.place(node: n, cpus: job.cpus ?? 0, needsGPU: needsGPU)
        c[j].node = n
        c[j].gpu = gpu ?? -1
        c[j].phase = .active
        c[j].startTime = t
        c[j].idleSince = t
        c[j].endTime = t + job.duration
        c[j].lastProgress = t
        c[j].lastUsage = t
        ContainerMonitor.startWindow(&c[j].counters, &histograms[j], at: t, cpuSeconds: c[j].cpuSeconds, gpuSeconds: c[j].gpuSeconds)
        c[j].sampleStart = t
        c[j].allocation = Allocation(cpuLimit: job.cpus, cpuWeight: job.weight, gpuShare: job.gpuShare ?? 1)
        c[j].decided = c[j].allocation
        nodeContainers[n].append(j)
        recorder?.allocationChanged(time: t, job: j, node: n, allocation: c[j].allocation, reason: "placement")
        consult(n, t, .arrival(containerID: job.id))
        loop.arm(lifecycleTimer(j), at: c[j].endTime)
        switch job.arrivals {
        case .poisson:
            let next = t + arrivalStream[j].nextExponential(mean: 1 / job.rate)
            if next < c[j].endTime { loop.arm(arrivalTimer(j), at: next) }
        case .trace:
            if let first = traced[j].next(), first.offset < job.duration {
                c[j].nextTraced = first
                loop.arm(arrivalTimer(j), at: t + first.offset)
            }
        case .closed:
            for _ in 0..<job.workers { arrive(j, t, size: 1) }
        }
        return true
    }

    mutating func arrivalDue(_ j: Int, _ t: Double) {
        switch jobs[j].arrivals {
        case .poisson:
            arrive(j, t, size: 1)
            let next = t + arrivalStream[j].nextExponential(mean: 1 / jobs[j].rate)
            if next < c[j].endTime { loop.arm(arrivalTimer(j), at: next) }
        case .trace:
            arrive(j, t, size: c[j].nextTraced.size)
            if let next = traced[j].next(), next.offset < jobs[j].duration {
                c[j].nextTraced = next
                loop.arm(arrivalTimer(j), at: c[j].startTime + next.offset)
            }
        case .closed:
            break
        }
    }

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
        let n = c[j].node
        placement.remove(node: n, cpus: jobs[j].cpus ?? 0, gpu: c[j].gpu >= 0 ? c[j].gpu : nil)
        nodeContainers[n].removeAll { $0 == j }
        consult(n, t, .departure(containerID: jobs[j].id))
        if !pending.isEmpty {
            var still: [Int] = []
            for p in pending where !tryPlace(p, t) { still.append(p) }
            pending = still
        }
    }

    // MARK: Policy

    mutating func controlTick(_ t: Double) {
        for n in nodes.indices where !nodeContainers[n].isEmpty {
            consult(n, t, .interval)
            for j in nodeContainers[n] { resetWindow(j, t) }
        }
        // Keep ticking while something can still happen.
        let live = c.contains { $0.phase == .future || $0.phase == .active || $0.phase == .draining }
        if live, let dt = policy.controlInterval { loop.arm(controlTimer, at: t + dt) }
    }

    /// Reports every live container's use since the previous sample to the recorder.
    mutating func sampleUsage(_ t: Double) {
        guard let recorder else { return }
        for n in nodes.indices {
            for j in nodeContainers[n] {
                // Read usage without touching the accounting, so that sampling cannot
                // change the run's own numbers (not even their rounding).
                let dt = t - c[j].sampleStart
                guard dt > 0 else { continue }
                let cpuNow = c[j].cpuSeconds + c[j].cpu * (t - c[j].lastUsage)
                let gpuNow = c[j].gpuSeconds + c[j].gpuFraction * (t - c[j].lastUsage)
                recorder.usageSampled(
                    time: t, job: j, node: n, allocation: c[j].allocation, cpuUsed: (cpuNow - c[j].sampleCPU0) / dt,
                    gpuUsed: (gpuNow - c[j].sampleGPU0) / dt, outstanding: c[j].busy + waiting[j].count)
                c[j].sampleStart = t
                c[j].sampleCPU0 = cpuNow
                c[j].sampleGPU0 = gpuNow
            }
        }
        if c.contains(where: { $0.phase == .future || $0.phase == .active || $0.phase == .draining }),
           let dt = options.sampleInterval {
            loop.arm(sampleTimer, at: t + dt)
        }
    }

    mutating func resetWindow(_ j: Int, _ t: Double) {
        flushResponses(j)
        account(j, t)
        ContainerMonitor.startWindow(&c[j].counters, &histograms[j], at: t, cpuSeconds: c[j].cpuSeconds, gpuSeconds: c[j].gpuSeconds)
    }

    func observe(_ n: Int, _ t: Double) -> NodeObservation {
        var list: [ContainerObservation] = []
        list.reserveCapacity(nodeContainers[n].count)
        for j in nodeContainers[n] {
            let s = c[j]
            // Usage up to now (the stored totals stop at lastUsage).
            let cpuNow = s.cpuSeconds + s.cpu * (t - s.lastUsage)
            let gpuNow = s.gpuSeconds + s.gpuFraction * (t - s.lastUsage)
            // The oldest outstanding request: in service (any slot) or first in the FIFO queue.
            var oldest = waiting[j].first?.arrival ?? Double.infinity
            for k in slotBase[j]..<(slotBase[j] + s.busy) { oldest = min(oldest, slots[k].arrival) }
            list.append(ContainerObservation(
                job: jobs[j], gpu: s.gpu >= 0 ? s.gpu : nil, allocation: s.decided, outstanding: s.busy + waiting[j].count,
                oldestOutstandingAge: oldest.isFinite ? t - oldest : nil,
                window: ContainerMonitor.window(s.counters, histograms[j], metric: jobs[j].metric, at: t, cpuSeconds: cpuNow, gpuSeconds: gpuNow),
                completedTotal: s.counters.completed,
                startedAt: s.startTime))
        }
        return NodeObservation(name: nodes[n].name, cpus: nodes[n].cpus, gpus: nodes[n].gpus, time: t, containers: list)
    }

    /// Asks the policy about node n and applies its answer, at once or after the
    /// actuation delay.
    mutating func consult(_ n: Int, _ t: Double, _ trigger: PolicyTrigger) {
        for j in nodeContainers[n] { flushResponses(j) }
        let changes: [AllocationChange]
        do {
            changes = try policy.decide(on: observe(n, t), because: trigger)
        } catch {
            // The run stops at this event and `Simulation.run` throws it.
            policyFailure = error as? PolicyChangeError
            stopped = true
            return
        }
        guard !changes.isEmpty else { return }
        let reason: String
        switch trigger {
        case .interval: reason = "interval"
        case .arrival: reason = "arrival"
        case .departure: reason = "departure"
        }
        let delay = options.actuationDelay
        var changedNow = false
        for change in changes {
            // `decide` checked that the container is one of the node's.
            let j = idIndex[change.containerID]!
            guard change.allocation != c[j].decided else { continue }
            c[j].decided = change.allocation
            c[j].decidedNote = change.note.isEmpty ? reason : "\(reason): \(change.note)"
            if delay > 0 {
                // The last decision wins; its effect comes `delay` after it was made.
                loop.arm(actuationTimer(j), at: t + delay)
            } else {
                apply(j, t)
                changedNow = true
            }
        }
        if changedNow { redivide(n, t, changed: -1, force: true) }
    }

    /// Puts container j's decided allocation into force at t (CPU redivided by the caller).
    mutating func apply(_ j: Int, _ t: Double) {
        let n = c[j].node
        advance(j, t)
        account(j, t)
        c[j].allocation = c[j].decided
        recorder?.allocationChanged(time: t, job: j, node: n, allocation: c[j].allocation, reason: c[j].decidedNote)
        if c[j].busy > 0 || c[j].spinning {
            let cap = demandCap(j)
            nodeDemand[n] += cap - c[j].cap
            c[j].cap = cap
        }
    }

    /// A delayed decision takes effect.
    mutating func actuate(_ j: Int, _ t: Double) {
        guard c[j].phase == .active || c[j].phase == .draining, c[j].decided != c[j].allocation else { return }
        apply(j, t)
        redivide(c[j].node, t, changed: -1, force: true)
    }

    // MARK: Results

    func result() -> SimulationResult {
        var models: [ModelResult] = []
        var neverPlaced = 0
        for (j, job) in jobs.enumerated() {
            let s = c[j]
            let placed = s.node >= 0
            if !placed { neverPlaced += 1 }
            let cpuUsed = s.cpuSeconds + s.cpu * (max(lastModelEvent, s.lastUsage) - s.lastUsage)
            models.append(ContainerMonitor.result(
                s.counters, histograms[j], job: job, node: placed ? nodes[s.node].name : nil,
                unfinished: s.counters.arrived - s.counters.completed, pendingS: placed ? s.startTime - job.arrival : nil,
                cpuSeconds: placed ? cpuUsed : 0))
        }
        return SimulationResult(
            policy: policy.name, seed: seed, models: models, events: loop.eventsProcessed - sampleTicks,
            simulatedSeconds: lastModelEvent, neverPlaced: neverPlaced)
    }
}

/// One job's replayed requests in time order: an array held in memory, or a reader of a
/// request trace streamed from disk (``StreamedRequestTrace``).
struct TracedFeed {
    let held: [TracedRequest]
    var index = 0
    let reader: RequestReader?

    init(held: [TracedRequest]) {
        self.held = held
        reader = nil
    }

    init(reader: RequestReader) {
        held = []
        self.reader = reader
    }

    @inline(__always) mutating func next() -> TracedRequest? {
        if let reader { return reader.next() }
        guard index < held.count else { return nil }
        defer { index += 1 }
        return held[index]
    }
}

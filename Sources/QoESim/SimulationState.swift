import DequeModule
import Foundation
import Histogram
import QoESimControl

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
    /// The size (service-demand multiplier) of the request whose arrival timer is armed.
    var nextArrivalSize = 1.0
    /// Completions before this time send the next request (a closed loop's end; -inf
    /// for open loops): the schedule's ``ArrivalSchedule/closedLoopEnd``, read at start.
    var closedLoopEnd = -Double.infinity
    /// When the container last became idle (nothing in service), for cold starts.
    var idleSince = 0.0
    /// Idle, but its inference threads still poll for work (the model's idle spin) until
    /// its spin timer fires or a request arrives: it competes for CPU and does no work.
    var spinning = false
    var phase = Phase.future
    // Per control step or lifecycle change.
    var gpu = -1
    /// The allocation in force (the controller decides it; see SimulationState+ControlPlant).
    var allocation = Allocation()
}

/// The simulated plant: the whole mutable state of a run's cluster, its containers and
/// their requests. Value types throughout; nothing is allocated per event once queues
/// and histograms have grown to their working size.
///
/// Its concerns live in one file each: requests (arrival, service, completion),
/// CPU and GPU sharing, lifecycle and arrivals, the control plant (what the
/// ``Controller`` reads and actuates), invariants, results. The control loop itself is
/// the ``Controller``, shared with the live adapter; the run loop below calls it.
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
    let options: SimulationOptions
    /// The allocation each job's container is created with (its requested CPUs as the
    /// limit, its weight, its GPU share: ``Controller/initialAllocation(_:)``).
    var initialAllocations: [Allocation]

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
    /// Each job's arrivals (the schedule the live load generator draws from too).
    var schedules: FixedArray<ArrivalSchedule>
    var serviceStream: FixedArray<RandomStream>
    /// The monitor's response-time histograms per container (with `c[j].counters`, what
    /// the live adapter keeps in a ContainerMonitor).
    var histograms: FixedArray<ResponseHistograms>
    /// Response times (µs) not yet in the histograms: `responseBatch` per container.
    var pendingMicros: FixedArray<UInt64>
    let recorder: SimulationRecorder?

    // Nodes.
    var placement: PlacementState
    var nodeBusy: [[Int]]
    var nodeDemand: [Double]
    var nodeSaturated: [Bool]
    var nodeContainers: [[Int]]
    var pending: [Int] = []
    /// Jobs whose window starts at this instant, placed by the decisions at its end.
    var dueForPlacement: [Int] = []
    /// Containers that left at this instant, announced to the controller at its end.
    var departing: [Int] = []
    /// Containers whose delayed change comes due at this instant.
    var dueChanges: [Int] = []
    /// `dueForPlacement`, `departing` or `dueChanges` is not empty (checked after every event).
    var hasPendingDecisions = false
    var unfinishedJobs: Int
    /// Whether every event is followed by ``invariantViolation(_:)`` (tests switch it on
    /// with ``SimulationOptions/checkInvariants``; off, it costs one predicted branch).
    let checking: Bool
    /// The first invariant found broken: the run stops.
    var invariantFailure: String?
    /// Sampling ticks fired (bookkeeping for the recorder, not part of the model: they
    /// are left out of the event count and the simulated time).
    var sampleTicks = 0
    /// Control ticks put behind events of the same instant, or due after the last
    /// container left (bookkeeping, left out of the event count like the sampling ticks).
    var deferredTicks = 0
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
        schedules = FixedArray(jobs.map { job in
            var feed = TracedFeed(held: [])
            if job.arrivals.isTrace {
                if let streamed = scenario.streamedRequests {
                    feed = TracedFeed(reader: streamed.reader(for: job.id, stretch: scenario.streamStretch))
                } else {
                    feed = TracedFeed(held: scenario.requests[job.id] ?? [])
                }
            }
            return ArrivalSchedule(job: job, seed: seed, feed: feed)
        })
        options = simulation.options
        initialAllocations = jobs.map(Controller.initialAllocation)
        self.recorder = recorder

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

    /// Whether anything can still happen (a job not yet placed, active or draining):
    /// while so, control ticks and usage samples keep coming.
    var hasWorkLeft: Bool { c.contains { $0.phase == .future || $0.phase == .active || $0.phase == .draining } }

    /// Arms the first timers: each job's placement at its arrival (unless `placesJobs` is
    /// false: ``SimulatedEngine`` places jobs when told), the first control tick and the
    /// first usage sample.
    mutating func start(_ control: inout Controller, placesJobs: Bool = true) {
        if placesJobs { for j in jobs.indices { loop.arm(lifecycleTimer(j), at: jobs[j].arrival) } }
        if control.nextTick.isFinite { loop.arm(controlTimer, at: control.nextTick) }
        if control.nextSample.isFinite { loop.arm(sampleTimer, at: control.nextSample) }
    }

    mutating func run(_ control: inout Controller, progress: ((Simulation.Progress) -> Void)?) {
        start(&control)
        let horizon = options.horizon
        var nextReport = 1 << 18
        while let timer = loop.next(until: horizon) {
            guard fire(timer, &control) else { continue }
            if checking, let broken = invariantViolation(loop.now) {
                invariantFailure = broken
                return
            }
            if control.stopped { return }
            if let report = progress, loop.eventsProcessed >= nextReport {
                nextReport += 1 << 18
                report(Simulation.Progress(simulatedSeconds: loop.now, events: loop.eventsProcessed, activeJobs: unfinishedJobs))
            }
        }
        for j in jobs.indices { flushResponses(j) }
        // Stopped by the horizon with work left: the run covered [0, horizon].
        if horizon.isFinite && loop.now >= horizon && unfinishedJobs > 0 { lastModelEvent = horizon }
    }

    /// Handles `timer`, which just fired at `loop.now`. Returns false for bookkeeping
    /// (usage samples, ticks put behind the instant's events), true for a model event.
    /// The model's events are handled here, inline in the run loop; the tick and the
    /// sample, a few per simulated second, in ``tickOrSample(_:_:_:)``.
    @inline(__always) mutating func fire(_ timer: TimerHandle, _ control: inout Controller) -> Bool {
        let t = loop.now
        if timer == controlTimer || timer == sampleTimer {
            guard tickOrSample(timer, t, &control) else { return false }
        } else {
            let (j, kind) = SimulationState.decode(Int(timer.index))
            switch kind {
            case .lifecycle: lifecycle(j, t)
            case .arrival: arrivalDue(j, t)
            case .completion: completion(j, t)
            case .actuation:
                // Takes effect with the instant's decisions, after its departures.
                dueChanges.append(j)
                hasPendingDecisions = true
            case .spinEnd: spinEnd(j, t)
            }
        }
        lastModelEvent = t
        // The instant's events are over: the controller's decisions (SimulationState+Lifecycle).
        if hasPendingDecisions && instantIsOver(t) { decide(t, &control) }
        return true
    }

    /// The control tick or the usage sample fired at `t`. At one instant the plant's
    /// events come first, then the controller's decisions, then the tick, then the
    /// sample (as in the live loop, which ticks after it has seen the instant's events):
    /// a tick or sample due with another event at the same time goes behind it. Returns
    /// true for a tick that ran (a model event), false otherwise.
    @inline(never) mutating func tickOrSample(_ timer: TimerHandle, _ t: Double, _ control: inout Controller) -> Bool {
        if timer == controlTimer {
            if loop.nextTime == t {
                // The sample comes after the tick: past it to see what else is due now.
                if loop.dueTime(of: sampleTimer) == t { loop.arm(sampleTimer, at: t) }
                if let first = loop.nextTimer, first.time == t, first.timer != sampleTimer {
                    loop.arm(controlTimer, at: t)
                    if loop.dueTime(of: sampleTimer) == t { loop.arm(sampleTimer, at: t) }
                    deferredTicks += 1
                    return false
                }
            }
            if hasPendingDecisions { decide(t, &control) }
            // A tick after the last container left is not an event of the run (the live
            // loop stops then): the run ends at its last departure.
            guard hasWorkLeft else {
                deferredTicks += 1
                return false
            }
            control.tick(nodes: nodes.count, at: t, plant: &self)
            // Keep ticking while something can still happen.
            if hasWorkLeft && control.nextTick.isFinite { loop.arm(controlTimer, at: control.nextTick) }
            return true
        }
        sampleTicks += 1
        if loop.nextTime == t {
            loop.arm(sampleTimer, at: t)
            return false
        }
        if hasPendingDecisions { decide(t, &control) }
        control.sample(nodes: nodes.count, at: t, plant: &self)
        if hasWorkLeft && control.nextSample.isFinite { loop.arm(sampleTimer, at: control.nextSample) }
        return false
    }
}

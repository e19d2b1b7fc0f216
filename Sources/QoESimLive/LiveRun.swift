import Foundation
import QoESim

/// Runs an async call to completion from synchronous code.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        sem.signal()
    }
    sem.wait()
    return try box.result!.get()
}

/// Set by SIGINT/SIGTERM; the live loop stops and cleans up.
nonisolated(unsafe) var liveInterrupted: sig_atomic_t = 0

/// Settings of a live run.
public struct LiveOptions: Sendable {
    /// Image with /qoesim-infer (see `qoesim profile`, which builds it with docker import).
    public var image = "qoesim-infer:local"
    /// Container i serves on 127.0.0.1:(basePort + i).
    public var basePort = 19100
    public var seed: UInt64 = 1
    /// Seconds between usage samples (docker stats) for usage.csv.
    public var sampleInterval = 1.0
    /// Longest wait, after a job's window, for its outstanding requests.
    public var drainTimeout = 60.0
    /// Longest wait for a container to start answering.
    public var readyTimeout = 120.0

    public init() {}
}

/// What a live run produced.
public struct LiveResult: Sendable {
    public var result: SimulationResult
    /// Every `docker update` applied: time, job, limit, shares, API latency, error.
    public var updates: [(time: Double, job: String, cpus: Double?, shares: Int, apiMs: Double, error: String?)]
    /// Jobs whose container died or stopped answering, with what was logged.
    public var failures: [String]
}

/// Runs a job trace against real Docker containers, driven by the same policy object
/// as the simulator, on this machine (one node).
///
/// One container per job runs `qoesim-infer serve` for the job's model (host network,
/// its own port); a load generator releases the job's requests at the same arrival
/// times the simulator draws (same seed, same streams) and measures response times; every
/// control interval the policy sees a `NodeObservation` built from completed requests
/// and `docker stats`, and its decisions are applied with `docker update`. Containers are
/// removed on exit, on error and on Ctrl-C.
public final class LiveRun {
    let scenario: Scenario
    var policy: any AllocationPolicy
    let docker: DockerClient
    let options: LiveOptions
    let log: (String) -> Void

    public init(scenario: Scenario, policy: any AllocationPolicy, docker: DockerClient = DockerClient(), options: LiveOptions = LiveOptions(), log: @escaping (String) -> Void) {
        self.scenario = scenario
        self.policy = policy
        self.docker = docker
        self.options = options
        self.log = log
    }

    /// The qoesim-infer network that serves a model: the model's name (as in
    /// Traces/models-fitted), which must be one of the workload's networks.
    static let networks = ["resnet50", "mobilenetv2", "vgg16", "bert-base"]

    public func run(recorder: SimulationRecorder? = nil) throws -> LiveResult {
        let unnegotiated = self.docker
        let docker = try blocking { try await unnegotiated.negotiated() }
        let version = try blocking { try await docker.version() }
        log("Docker engine \(version), API \(docker.apiVersion)")
        guard scenario.cluster.nodes.count == 1 else { throw DockerError("a live run uses this machine only: give a cluster with one node") }
        // The load generator sends one request at a time per container.
        for job in scenario.jobs where job.workers != 1 {
            throw DockerError("job \(job.id): workers = \(job.workers), but live runs serve one request at a time per container (workers = 1)")
        }
        for job in scenario.jobs where !LiveRun.networks.contains(job.model.name) {
            throw DockerError("job \(job.id): model '\(job.model.name)' is not a network of qoesim-infer (\(LiveRun.networks.joined(separator: ", ")))")
        }
        let image = options.image
        guard try blocking({ try await docker.imageExists(image) }) else {
            throw DockerError("image \(image) does not exist; build it with `qoesim profile` (it imports one) or Experiments/profiles/run.sh")
        }
        let node = scenario.cluster.nodes[0]
        var ids: [String] = []
        let previousINT = signal(SIGINT) { _ in liveInterrupted = 1 }
        let previousTERM = signal(SIGTERM) { _ in liveInterrupted = 1 }
        defer {
            // Remove what we created, whatever happened.
            let created = ids
            for id in created { try? blocking { try await docker.remove(id) } }
            if !created.isEmpty { log("removed \(created.count) containers") }
            signal(SIGINT, previousINT)
            signal(SIGTERM, previousTERM)
        }
        // Deploy.
        for (i, job) in scenario.jobs.enumerated() {
            let name = "qoesim-\(getpid())-\(i)-\(job.id.filter { $0.isLetter || $0.isNumber || $0 == "-" })"
            let cmd = ["/qoesim-infer", "serve", "--model", job.model.name, "--port", "\(options.basePort + i)"]
            let nano = job.cpus.map { Int64($0 * 1e9) }
            let shares = Int(job.weight * 1024)
            let id = try blocking { try await docker.createContainer(name: name, image: image, command: cmd, nanoCPUs: nano, cpuShares: shares, labels: ["qoesim": "live"]) }
            ids.append(id)
            try blocking { try await docker.start(id) }
        }
        let readyBy = monotonic() + options.readyTimeout
        for i in scenario.jobs.indices {
            while true {
                let fd = connectLoopback(options.basePort + i)
                if fd >= 0 {
                    close(fd)
                    break
                }
                let id = ids[i]
                let running = try blocking { try await docker.isRunning(id) }
                if !running { throw DockerError("container for \(scenario.jobs[i].id) exited before serving") }
                if monotonic() > readyBy { throw DockerError("container for \(scenario.jobs[i].id) did not answer within \(options.readyTimeout) s") }
                usleep(200_000)
            }
        }
        log("\(ids.count) containers serving; starting the load")

        // Run.
        let epoch = monotonic() + 0.5
        var clients: [JobClient] = []
        for (i, job) in scenario.jobs.enumerated() {
            let c = JobClient(job: job, port: options.basePort + i, epoch: epoch)
            c.start(offsets: JobClient.arrivalOffsets(job, seed: options.seed, traced: scenario.requests[job.id] ?? []))
            clients.append(c)
        }
        var allocation = scenario.jobs.map { Allocation(cpuLimit: $0.cpus, cpuWeight: $0.weight, gpuShare: $0.gpuShare ?? 1) }
        enum State { case waiting, active, finished }
        var state = [State](repeating: .waiting, count: scenario.jobs.count)
        var updates: LiveResult.Updates = []
        var failures: [String] = []
        var lastCPU = [Double](repeating: 0, count: ids.count)
        var lastCPUTime = [Double](repeating: 0, count: ids.count)
        var sampleCPU = lastCPU, sampleTime = lastCPUTime
        var window: [[LiveRequest]] = Array(repeating: [], count: ids.count)
        var windowArrivals = [Int](repeating: 0, count: ids.count)
        var windowStart = [Double](repeating: 0, count: ids.count)
        let interval = policy.controlInterval
        var nextTick = interval.map { $0 } ?? .infinity
        var nextSample = options.sampleInterval
        let deadline = (scenario.jobs.map { $0.arrival + $0.duration }.max() ?? 0) + options.drainTimeout

        func cpuNow(_ i: Int) -> Double {
            let id = ids[i]
            return (try? blocking { try await docker.cpuSeconds(id) }) ?? lastCPU[i]
        }

        func observe(_ t: Double) -> NodeObservation {
            var list: [ContainerObservation] = []
            for (i, job) in scenario.jobs.enumerated() where state[i] == .active {
                let fresh = clients[i].takeWindow()
                window[i].append(contentsOf: fresh.done)
                windowArrivals[i] += fresh.arrivals
                let done = window[i]
                let times = done.map { ($0.completion - $0.arrival) * 1000 }.sorted()
                let mean = times.isEmpty ? nil : times.reduce(0, +) / Double(times.count)
                var measured = mean
                if !times.isEmpty && job.metric != .mean { measured = percentile(times, job.metric == .p95 ? 0.95 : 0.99) }
                let cpu = cpuNow(i)
                let dt = max(t - lastCPUTime[i], 1e-6)
                let used = (cpu - lastCPU[i]) / dt
                let w = WindowStats(duration: t - windowStart[i], arrivals: windowArrivals[i], completed: done.count, meanMs: mean, measuredMs: measured, cpuUsed: used)
                list.append(ContainerObservation(
                    id: job.id, model: job.model, targetMs: job.targetMs, metric: job.metric, arrivals: job.arrivals, workers: 1,
                    requestedCPUs: job.cpus, gpu: nil, allocation: allocation[i], outstanding: clients[i].outstanding,
                    oldestOutstandingAge: clients[i].oldestOutstandingAge(now: monotonic()), window: w,
                    completedTotal: clients[i].completed.count, startedAt: job.arrival))
            }
            return NodeObservation(name: node.name, cpus: node.cpus, gpus: node.gpus, time: t, containers: list)
        }

        func resetWindows(_ t: Double) {
            for i in scenario.jobs.indices where state[i] == .active {
                window[i].removeAll()
                windowArrivals[i] = 0
                windowStart[i] = t
                lastCPU[i] = cpuNow(i)
                lastCPUTime[i] = t
            }
        }

        func consult(_ t: Double, _ trigger: PolicyTrigger) {
            let changes = policy.allocate(on: observe(t), because: trigger)
            for change in changes {
                guard let i = scenario.jobs.firstIndex(where: { $0.id == change.containerID }), state[i] == .active else {
                    let message = "policy \(policy.name) changed '\(change.containerID)', which is not an active container"
                    failures.append("t=\(String(format: "%.1f", t)) s: \(message)")
                    log(message)
                    continue
                }
                guard change.allocation.isValid else {
                    let message = "policy \(policy.name) returned an invalid allocation \(change.allocation) for \(change.containerID)"
                    failures.append("t=\(String(format: "%.1f", t)) s: \(message)")
                    log(message)
                    continue
                }
                let a = change.allocation
                let id = ids[i]
                let started = monotonic()
                do {
                    try blocking { try await docker.update(id, cpus: a.cpuLimit, shares: Int(a.cpuWeight * 1024)) }
                    allocation[i] = a
                } catch {
                    // Logged; the container's actual limit is read back, and the rest of
                    // the batch is still applied.
                    let message = "t=\(String(format: "%.1f", t)) s: docker update of \(scenario.jobs[i].id) failed: \(error)"
                    failures.append(message)
                    log(message + "; the run goes on")
                    if let actual = try? blocking({ try await docker.limits(id) }) {
                        allocation[i].cpuLimit = actual.nanoCPUs > 0 ? Double(actual.nanoCPUs) / 1e9 : nil
                        allocation[i].cpuWeight = Double(actual.shares) / 1024
                    }
                    updates.append((t, scenario.jobs[i].id, a.cpuLimit, Int(a.cpuWeight * 1024), (monotonic() - started) * 1000, "\(error)"))
                    continue
                }
                let apiMs = (monotonic() - started) * 1000
                updates.append((t, scenario.jobs[i].id, a.cpuLimit, Int(a.cpuWeight * 1024), apiMs, nil))
                let reason: String
                switch trigger {
                case .interval: reason = "interval"
                case .arrival: reason = "arrival"
                case .departure: reason = "departure"
                }
                recorder?.allocationChanged(time: t, job: i, node: 0, allocation: a, reason: change.note.isEmpty ? reason : "\(reason): \(change.note)")
            }
        }

        while liveInterrupted == 0 {
            let t = monotonic() - epoch
            // Arrivals and departures.
            for (i, job) in scenario.jobs.enumerated() {
                if state[i] == .waiting && t >= job.arrival {
                    state[i] = .active
                    windowStart[i] = t
                    lastCPU[i] = cpuNow(i)
                    lastCPUTime[i] = t
                    sampleCPU[i] = lastCPU[i]
                    sampleTime[i] = t
                    recorder?.allocationChanged(time: t, job: i, node: 0, allocation: allocation[i], reason: "placement")
                    consult(t, .arrival(containerID: job.id))
                } else if state[i] == .active && t >= job.arrival + job.duration && clients[i].isFinished {
                    state[i] = .finished
                    if let f = clients[i].failed { failures.append(f); log("container of \(job.id): \(f); the run goes on") }
                    consult(t, .departure(containerID: job.id))
                } else if state[i] == .active, let f = clients[i].failed, !failures.contains(f) {
                    failures.append(f)
                    log("job \(job.id): \(f); the run goes on for the others")
                }
            }
            if state.allSatisfy({ $0 == .finished }) || t > deadline { break }
            if t >= nextTick {
                consult(t, .interval)
                resetWindows(t)
                nextTick += interval ?? .infinity
            }
            if t >= nextSample {
                for i in scenario.jobs.indices where state[i] == .active {
                    let cpu = cpuNow(i)
                    let used = (cpu - sampleCPU[i]) / max(t - sampleTime[i], 1e-6)
                    recorder?.usageSampled(time: t, job: i, node: 0, allocation: allocation[i], cpuUsed: used, gpuUsed: 0, outstanding: clients[i].outstanding)
                    sampleCPU[i] = cpu
                    sampleTime[i] = t
                }
                nextSample += options.sampleInterval
            }
            usleep(20_000)
        }
        if liveInterrupted != 0 { throw DockerError("interrupted: containers removed, partial results discarded") }

        // Results.
        var models: [ModelResult] = []
        var totalCPU = [Double](repeating: 0, count: ids.count)
        for i in ids.indices { totalCPU[i] = cpuNow(i) }
        for (i, job) in scenario.jobs.enumerated() {
            let done = clients[i].completed
            for r in done { recorder?.requestCompleted(job: i, arrival: r.arrival, start: r.start, completion: r.completion, size: 1) }
            let times = done.map { ($0.completion - $0.arrival) * 1000 }.sorted()
            let n = times.count
            let mean = n > 0 ? times.reduce(0, +) / Double(n) : nil
            let measured: Double? = n == 0 ? nil : (job.metric == .mean ? mean : percentile(times, job.metric == .p95 ? 0.95 : 0.99))
            models.append(ModelResult(
                id: job.id, model: job.model.name, node: node.name, targetMs: job.targetMs, metric: job.metric, requests: n,
                unfinished: max(0, clients[i].arrivedTotal - n), meanMs: mean, p50Ms: n > 0 ? percentile(times, 0.5) : nil,
                p95Ms: n > 0 ? percentile(times, 0.95) : nil, p99Ms: n > 0 ? percentile(times, 0.99) : nil, measuredMs: measured,
                satisfied: measured.map { $0 <= job.targetMs } ?? false, pendingS: 0, cpuSeconds: totalCPU[i]))
        }
        let result = SimulationResult(
            // Events that happened: every arrival and every completion.
            policy: policy.name, seed: options.seed, models: models,
            events: clients.reduce(0) { $0 + $1.arrivedTotal + $1.completed.count },
            simulatedSeconds: monotonic() - epoch, neverPlaced: 0)
        return LiveResult(result: result, updates: updates, failures: failures)
    }
}

extension LiveResult {
    typealias Updates = [(time: Double, job: String, cpus: Double?, shares: Int, apiMs: Double, error: String?)]
}

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ q: Double) -> Double {
    let k = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[k]
}

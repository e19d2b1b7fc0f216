import Foundation
import QoESim
import QoESimGPU

/// Runs an async call to completion from synchronous code.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

public func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        sem.signal()
    }
    sem.wait()
    return try box.result!.get()
}

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
    /// Periods (from, to; run seconds) when the Docker engine could not be reached (e.g.
    /// dockerd restarted with --live-restore): requests were still measured, updates
    /// failed, and at the end of each the limits in force were read back.
    public var engineGaps: [(from: Double, to: Double)] = []
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

    /// The most workers (requests in service at once) a live container serves: what
    /// `qoesim-infer serve --workers` accepts.
    public static let maxWorkers = 64

    /// Labels of every container a live run creates: `qoesim=live`, the creating
    /// process's pid and the machine's host name (one engine may serve several machines).
    static func labels() -> [String: String] {
        ["qoesim": "live", "qoesim.pid": "\(getpid())", "qoesim.host": ProcessInfo.processInfo.hostName]
    }

    /// Removes the containers of live runs on this machine whose process no longer
    /// exists (the pid from the `qoesim.pid` label, or from the name `qoesim-PID-...` of
    /// containers made before the label); returns what was removed.
    @discardableResult
    public static func removeLeftovers(docker: DockerClient) throws -> [(id: String, pid: Int32)] {
        let host = ProcessInfo.processInfo.hostName
        let mine = try blocking { try await docker.containers(label: "qoesim=live") }
        var removed: [(id: String, pid: Int32)] = []
        for c in mine {
            if let h = c.labels["qoesim.host"], h != host { continue }
            let fromName = c.name.hasPrefix("qoesim-") ? c.name.dropFirst("qoesim-".count).split(separator: "-").first.flatMap { Int32($0) } : nil
            guard let pid = c.labels["qoesim.pid"].flatMap({ Int32($0) }) ?? fromName, pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }  // its run is still going
            try blocking { try await docker.remove(c.id) }
            removed.append((c.id, pid))
        }
        return removed
    }

    /// The qoesim-infer network that serves a model: the model's name (as in
    /// Traces/models-fitted), which must be one of the workload's networks.
    public static let networks = ["resnet50", "mobilenetv2", "vgg16", "bert-base"]

    /// Runs the trace; `recorder` gets the run's records, `observer` every decision's
    /// observation and answer.
    public func run(recorder: SimulationRecorder? = nil, observer: ControlObserver? = nil) throws -> LiveResult {
        try MachineLock.acquire("live run of \(scenario.jobs.count) jobs")
        defer { MachineLock.release() }
        let unnegotiated = self.docker
        let docker = try blocking { try await unnegotiated.negotiated() }
        let version = try blocking { try await docker.version() }
        log("Docker engine \(version), API \(docker.apiVersion)")
        guard scenario.cluster.nodes.count == 1 else { throw DockerError("a live run uses this machine only: give a cluster with one node") }
        // Each worker of a container is a thread of `qoesim-infer serve --workers` with its
        // own copy of the network, and a connection of the load generator.
        // Container i serves on basePort + i: every port must be one.
        guard options.basePort >= 1024, options.basePort + scenario.jobs.count - 1 <= 65535 else {
            throw DockerError("\(scenario.jobs.count) live containers need ports \(options.basePort) to \(options.basePort + scenario.jobs.count - 1); ports end at 65535 (at most \(65535 - options.basePort + 1) jobs in one live run)")
        }
        for job in scenario.jobs where job.workers > LiveRun.maxWorkers {
            throw DockerError("job \(job.id): workers = \(job.workers), but a live container serves at most \(LiveRun.maxWorkers) at once (qoesim-infer serve --workers)")
        }
        for job in scenario.jobs where !LiveRun.networks.contains(job.model.name) {
            throw DockerError("job \(job.id): model '\(job.model.name)' is not a network of qoesim-infer (\(LiveRun.networks.joined(separator: ", ")))")
        }
        let image = options.image
        guard try blocking({ try await docker.imageExists(image) }) else {
            throw DockerError("image \(image) does not exist; build it with `qoesim profile` (it imports one) or Experiments/profiles/run.sh")
        }
        // Containers of earlier runs on this machine that were killed before they could
        // clean up (SIGKILL, power loss) carry our labels: remove them first.
        let leftovers = try LiveRun.removeLeftovers(docker: docker)
        if !leftovers.isEmpty { log("removed \(leftovers.count) containers left by earlier runs that no longer exist (pids \(Set(leftovers.map(\.pid)).sorted().map(String.init).joined(separator: ", ")))") }
        var ids: [String] = []
        let signals = Interruption.Scope()
        defer {
            // Remove what we created, whatever happened.
            let created = ids
            for id in created { try? blocking { try await docker.remove(id) } }
            if !created.isEmpty { log("removed \(created.count) containers") }
            signals.close()
        }
        // Deploy.
        for (i, job) in scenario.jobs.enumerated() {
            let name = "qoesim-\(getpid())-\(i)-\(job.id.filter { $0.isLetter || $0.isNumber || $0 == "-" })"
            let cmd = ["/qoesim-infer", "serve", "--model", job.model.name, "--port", "\(options.basePort + i)", "--workers", "\(job.workers)"]
            let nano = job.cpus.map { Int64($0 * 1e9) }
            let shares = Int(job.weight * 1024)
            let id = try blocking {
                try await docker.createContainer(name: name, image: image, command: cmd, nanoCPUs: nano, cpuShares: shares, labels: LiveRun.labels(),
                    environment: WorkloadEnvironment.forwarded(from: ProcessInfo.processInfo.environment))
            }
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

        // Run: the control loop, with the wall clock and Docker as the actuator.
        let epoch = monotonic() + 0.5
        var clients: [JobClient] = []
        for (i, job) in scenario.jobs.enumerated() {
            // The simulator's arrival schedule, same seed and streams; the load starts
            // when the control loop has placed the container.
            let schedule = ArrivalSchedule(job: job, seed: options.seed, feed: TracedFeed(held: scenario.tracedRequests(of: job.id)))
            clients.append(JobClient(job: job, port: options.basePort + i, epoch: epoch, schedule: schedule))
        }
        // GPU use per container where NVML exists (none on a machine without the driver).
        let containerIDs = ids
        let gpuMeter = NVML.load().map { nvml in
            NVMLGPUMeter(
                nvml: nvml, containers: containerIDs.count,
                pidsOf: { i in (try? blocking { try await docker.processIDs(containerIDs[i]) }) ?? [] }, log: log)
        }
        let loop = LiveControlLoop(
            scenario: scenario, policy: policy, loads: clients, actuator: DockerActuator(docker: docker, ids: ids), gpuMeter: gpuMeter,
            clock: WallClock(epoch: epoch), sampleInterval: options.sampleInterval, drainTimeout: options.drainTimeout,
            seed: options.seed, recorder: recorder, observer: observer, interrupted: { Interruption.received != nil }, log: log)
        return try loop.run()
    }
}

extension LiveResult {
    typealias Updates = [(time: Double, job: String, cpus: Double?, shares: Int, apiMs: Double, error: String?)]
}

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

    /// Labels of every container a live run creates: `qoesim=live`, the run's random id
    /// (``RunLock``), the creating process's pid and the machine's host name (for
    /// people reading `docker ps`; neither decides anything).
    static func labels(run: String) -> [String: String] {
        ["qoesim": "live", "qoesim.run": run, "qoesim.pid": "\(getpid())", "qoesim.host": ProcessInfo.processInfo.hostName]
    }

    /// What ``removeLeftovers(docker:)`` did: containers of dead runs removed, and the
    /// containers it could not judge and left alone (with why).
    public struct Leftovers: Sendable {
        public var removed: [(id: String, run: String, pid: String)] = []
        public var leftAlone: [(id: String, name: String, why: String)] = []
    }

    /// Removes the containers of earlier live runs that are over: those whose run's lock
    /// file (``RunLock``) is on this machine and free. A container whose run holds its
    /// lock is another run's, going on; one whose run has no lock file here (another
    /// namespace, a reboot, an older qoesim without run ids) is left alone and reported,
    /// never removed: the pid and host name on a label do not identify a run.
    public static func removeLeftovers(docker: DockerClient) throws -> Leftovers {
        let listed = try blockingUnlessInterrupted("looking for leftover containers") { try await docker.containers(label: "qoesim=live") }
        var out = Leftovers()
        var byRun: [String: [(id: String, name: String, pid: String)]] = [:]
        for c in listed {
            guard let run = c.labels["qoesim.run"] else {
                out.leftAlone.append((c.id, c.name, "made by a qoesim without run ids"))
                continue
            }
            byRun[run, default: []].append((c.id, c.name, c.labels["qoesim.pid"] ?? "?"))
        }
        for (run, containers) in byRun.sorted(by: { $0.key < $1.key }) {
            switch RunLock.probe(run) {
            case .held:
                continue  // a run going on
            case .unknown:
                for c in containers { out.leftAlone.append((c.id, c.name, "run \(run) has no lock file on this machine")) }
            case .free(let lock):
                var failed = false
                for c in containers {
                    do {
                        try blockingUnlessInterrupted("removing leftover containers") { try await docker.remove(c.id) }
                        out.removed.append((c.id, run, c.pid))
                    } catch let e as Interrupted {
                        lock.abandon()
                        throw e
                    } catch {
                        failed = true
                        out.leftAlone.append((c.id, c.name, "could not remove it: \(error)"))
                    }
                }
                if failed { lock.abandon() } else { lock.release() }
            }
        }
        return out
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
        let signals = Interruption.Scope()
        defer { signals.close() }
        let leftovers = try LiveRun.removeLeftovers(docker: docker)
        if !leftovers.removed.isEmpty {
            log("removed \(leftovers.removed.count) containers left by earlier runs that no longer exist (pids \(Set(leftovers.removed.map(\.pid)).sorted().joined(separator: ", ")))")
        }
        for c in leftovers.leftAlone {
            log("left alone: container \(c.name) (\(c.id.prefix(12))): \(c.why); if its run is over, remove it with `docker rm -f \(c.id.prefix(12))`")
        }
        let runLock = try RunLock()
        var ids: [String] = []
        var result: Result<LiveResult, Error>
        do {
            result = .success(try deployAndRun(docker: docker, image: image, runLock: runLock, ids: &ids, recorder: recorder, observer: observer))
        } catch {
            result = .failure(error)
        }
        // Remove what we created, whatever happened; a removal that fails is reported and
        // fails the run (its containers would otherwise be taken for a clean run's).
        // What it created, and anything else carrying its run id (a create the engine
        // finished after an error).
        let runID = runLock.id
        let labelled = (try? blocking { try await docker.containers(label: "qoesim.run=\(runID)") })?.map(\.id) ?? []
        let created = ids + labelled.filter { !ids.contains($0) }
        var unremoved: [String] = []
        for id in created {
            do {
                if FaultPoint.fails("live.remove") { throw DockerError("removal failed (injected: QOESIM_FAULT=fail:live.remove)") }
                try blocking { try await docker.remove(id) }
            } catch { unremoved.append("\(id.prefix(12)) (\(error))") }
        }
        if !created.isEmpty { log("removed \(created.count - unremoved.count) of \(created.count) containers") }
        if unremoved.isEmpty { runLock.release() } else { runLock.abandon() }
        if !unremoved.isEmpty {
            let message = "could not remove \(unremoved.count) of this run's containers: \(unremoved.joined(separator: "; ")); remove them with `docker rm -f ID` (the next live run also will)"
            switch result {
            case .success: throw DockerError(message)
            case .failure(let e): throw DockerError("\(e); and \(message)")
            }
        }
        return try result.get()
    }

    /// Deploys the containers (their ids into `ids` as each is created), waits until each
    /// answers with its own nonce, and runs the control loop.
    private func deployAndRun(
        docker: DockerClient, image: String, runLock: RunLock, ids: inout [String], recorder: SimulationRecorder?, observer: ControlObserver?
    ) throws -> LiveResult {
        func checkSignal(_ what: String) throws {
            if let s = Interruption.received { throw Interrupted(signal: s, what: what) }
        }
        // Deploy.
        var nonces: [String] = []
        for (i, job) in scenario.jobs.enumerated() {
            let name = "qoesim-\(runLock.id)-\(i)-\(job.id.filter { $0.isLetter || $0.isNumber || $0 == "-" })"
            let nonce = "\(runLock.id)-\(i)"
            nonces.append(nonce)
            let cmd = [
                "/qoesim-infer", "serve", "--model", job.model.name, "--port", "\(options.basePort + i)", "--workers", "\(job.workers)",
                "--nonce", nonce,
            ]
            let nano = job.cpus.map { Int64($0 * 1e9) }
            let shares = Int(job.weight * 1024)
            let labels = LiveRun.labels(run: runLock.id)
            let env = WorkloadEnvironment.forwarded(from: ProcessInfo.processInfo.environment)
            // A create is waited for (seconds at most) so that its id is always known and
            // removed; the signal is looked at right after.
            let id = try blocking {
                try await docker.createContainer(name: name, image: image, command: cmd, nanoCPUs: nano, cpuShares: shares, labels: labels, environment: env)
            }
            ids.append(id)
            try blockingUnlessInterrupted("deploying the live containers") { try await docker.start(id) }
            FaultPoint.pause("live.deploy")
            try checkSignal("deploying the live containers")
        }
        // Ready: each port answers `hello` with its container's nonce. Anything else on the
        // port (another program, another run's container) is not ours: the run stops.
        let readyBy = monotonic() + options.readyTimeout
        for i in scenario.jobs.indices {
            let port = options.basePort + i
            while true {
                switch ServeHandshake.check(port: port, nonce: nonces[i]) {
                case .ours: break
                case .other(let answer):
                    throw DockerError("port \(port) answers, but not as this run's container for \(scenario.jobs[i].id) (it said '\(answer)'): another program serves there (a live run serves on ports \(options.basePort) and up); stop it")
                case .nothing:
                    try checkSignal("waiting for the live containers")
                    let id = ids[i]
                    let running = try blockingUnlessInterrupted("waiting for the live containers") { try await docker.isRunning(id) }
                    if !running {
                        let logs = (try? blockingUnlessInterrupted("reading a container's log") { try await docker.logs(id) }).map { String(decoding: $0.stderr.suffix(300), as: UTF8.self) } ?? ""
                        throw DockerError("container for \(scenario.jobs[i].id) exited before serving on port \(port): \(logs.trimmingCharacters(in: .whitespacesAndNewlines))")
                    }
                    if monotonic() > readyBy { throw DockerError("container for \(scenario.jobs[i].id) did not answer within \(options.readyTimeout) s") }
                    usleep(200_000)
                    continue
                }
                break
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

import Foundation
import QoESim
import QoESimLive

/// Runs `qoesim-infer bench` in containers through the Docker Engine API (the engine
/// live runs use), for profiles.
///
/// Every container is labelled `qoesim=profile` with this process's pid, host and a
/// random session id, tracked, and removed on every exit path: normal return, error,
/// and SIGINT, SIGTERM or SIGHUP (``Interruption``), which end the session with
/// ``Interrupted``. While containers run, the CPU used outside them is measured
/// (``HostLoadMeter``); a measurement made while something else used more than
/// ``outsideLoadLimit`` cores is refused (``ProfileDisturbed``).
///
/// Fault point: `QOESIM_FAULT=pause:profile.bench` sleeps 3 s after each bench container
/// starts, so that a test's signal lands while one runs.
public final class ProfileSession {
    /// The engine (negotiated).
    public let docker: DockerClient
    /// The image holding /qoesim-infer.
    public let image: String
    /// The labels of every container this session starts.
    public let labels: [String: String]
    /// Environment entries (`NAME=VALUE`) given to each container (the OPENBLAS_* set here).
    public var environment: [String]
    /// Most cores something outside the session's containers may use while it measures.
    public static let outsideLoadLimit = 0.1
    /// The most outside load seen in any measurement of the session so far (cores).
    public private(set) var worstOutsideLoad: (cores: Double, seconds: Double)? = nil
    let log: (String) -> Void
    private var running: Set<String> = []
    private var signals: Interruption.Scope?
    private var counter = 0
    private var locked = false

    /// Opens a session on `docker` (negotiating its API version) for `image`, which
    /// must exist (``WorkloadImage/ensure(_:binary:docker:log:)`` makes it).
    public init(docker: DockerClient, image: String, log: @escaping (String) -> Void) throws {
        self.signals = Interruption.Scope()
        let unnegotiated = docker
        self.docker = try blockingUnlessInterrupted("profiling") { try await unnegotiated.negotiated() }
        self.image = image
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        labels = [
            "qoesim": "profile", "qoesim.pid": "\(getpid())", "qoesim.host": ProcessInfo.processInfo.hostName,
            "qoesim.session": bytes.map { String(format: "%02x", $0) }.joined(),
        ]
        environment = WorkloadEnvironment.forwarded(from: ProcessInfo.processInfo.environment)
        self.log = log
        try MachineLock.acquire("profiling")
        locked = true
    }

    /// Removes every container still running and puts the signal handlers back.
    public func close() {
        removeAll()
        signals?.close()
        signals = nil
        if locked {
            MachineLock.release()
            locked = false
        }
    }

    deinit { close() }

    /// What one bench container printed.
    public struct BenchOutput: Sendable {
        /// Timed requests: latency ms and start (CLOCK_MONOTONIC seconds; nil from old builds).
        public var requests: [(ms: Double, start: Double?)]
        /// `cpu_seconds` of its timed requests and their gaps, when reported.
        public var cpuSeconds: Double?
    }

    /// One bench run: network, requests, warm-up, idle gap before each, CPU limit (nil:
    /// none) and extra environment.
    public struct Bench: Sendable {
        public var network: String
        public var requests: Int
        public var warmup: Int
        public var gapMs: Int
        public var cpus: Double?
        public var environment: [String: String]
        public init(network: String, requests: Int, warmup: Int = 1, gapMs: Int = 0, cpus: Double? = nil, environment: [String: String] = [:]) {
            self.network = network
            self.requests = requests
            self.warmup = warmup
            self.gapMs = gapMs
            self.cpus = cpus
            self.environment = environment
        }
        var command: [String] {
            ["/qoesim-infer", "bench", "--model", network, "--requests", "\(requests)", "--warmup", "\(warmup)"]
                + (gapMs > 0 ? ["--gap-ms", "\(gapMs)"] : [])
        }
    }

    /// Starts `bench` in a new labelled container (no network); returns its id.
    public func start(_ bench: Bench) throws -> String {
        let id = try create(bench)
        try start(id: id)
        return id
    }

    /// Creates a labelled container (no network) for `bench`; returns its id.
    func create(_ bench: Bench) throws -> String {
        counter += 1
        let name = "qoesim-profile-\(labels["qoesim.session"]!)-\(counter)"
        var env = environment.filter { entry in !bench.environment.keys.contains { entry.hasPrefix($0 + "=") } }
        env += bench.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let (docker, image, labels, command) = (self.docker, self.image, self.labels, bench.command)
        let nano = bench.cpus.map { Int64(($0 * 1e9).rounded()) }
        let environment = env
        // Not abandoned on a signal: the container would be created after the cleanup,
        // unknown to it. The signal is honoured at the next wait.
        let id = try blocking {
            try await docker.createContainer(
                name: name, image: image, command: command, nanoCPUs: nano, hostNetwork: false, labels: labels, environment: environment)
        }
        running.insert(id)
        return id
    }

    func start(id: String) throws {
        let docker = self.docker
        try blockingUnlessInterrupted("profiling") { try await docker.start(id) }
        FaultPoint.pause("profile.bench")
    }

    /// Removes container `id` (started by ``start(_:)``).
    public func remove(_ id: String) throws {
        let docker = self.docker
        try blocking { try await docker.remove(id) }
        running.remove(id)
    }

    /// How many times one measurement is made before a disturbed one is refused: a blip
    /// (a daemon waking up) passes on the next try, a steady load does not.
    public static let measurementAttempts = 3

    /// Runs `benches` at once (each in its own container), waits for all, and returns what
    /// each printed. A measurement during which more than ``outsideLoadLimit`` cores were
    /// used outside the session's containers is discarded and made again, up to
    /// ``measurementAttempts`` times in all; then ``ProfileDisturbed`` is thrown.
    public func run(_ benches: [Bench]) throws -> [BenchOutput] {
        var attempt = 1
        while true {
            do { return try runOnce(benches) } catch let disturbed as ProfileDisturbed where attempt < ProfileSession.measurementAttempts {
                log("  \(disturbed.summary): measuring again (attempt \(attempt + 1) of \(ProfileSession.measurementAttempts))")
                attempt += 1
            }
        }
    }

    private func runOnce(_ benches: [Bench]) throws -> [BenchOutput] {
        var ids: [String] = []
        do {
            // Created first, then started together: a create copies the image's files
            // (seconds with the vfs storage driver), a start does not.
            for b in benches { ids.append(try create(b)) }
            if ids.count == 1 { try start(id: ids[0]) } else {
                // At once: a start takes a few hundred ms, as long as a short bench.
                let (docker, all) = (self.docker, ids)
                try blockingUnlessInterrupted("profiling") {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for id in all { group.addTask { try await docker.start(id) } }
                        try await group.waitForAll()
                    }
                }
                FaultPoint.pause("profile.bench")
            }
            var meter = HostLoadMeter()
            let t0 = Date()
            let watched = Array(running)
            meter.sample(containers: watched, at: 0)
            var outputs: [BenchOutput] = []
            for (i, id) in ids.enumerated() {
                let docker = self.docker
                let status = try blockingUnlessInterrupted("profiling", tickInterval: 0.25, tick: {
                    meter.sample(containers: watched, at: Date().timeIntervalSince(t0))
                }) { try await docker.wait(id) }
                let (out, err) = try blockingUnlessInterrupted("profiling") { try await docker.logs(id) }
                let stderr = String(decoding: err, as: UTF8.self)
                guard status == 0 else {
                    throw ProfileError("bench container \(i + 1) of \(benches.count) (\(benches[i].network)) exited with status \(status): \(stderr.suffix(400))")
                }
                outputs.append(ProfileSession.parse(stdout: String(decoding: out, as: UTF8.self), stderr: stderr))
            }
            for id in ids { try remove(id) }
            if let outside = meter.outsideCores {
                if worstOutsideLoad == nil || outside.cores > worstOutsideLoad!.cores { worstOutsideLoad = outside }
                if outside.cores > ProfileSession.outsideLoadLimit {
                    throw ProfileDisturbed(cores: outside.cores, seconds: outside.seconds)
                }
            }
            return outputs
        } catch {
            for id in ids where running.contains(id) { try? remove(id) }
            throw error
        }
    }

    /// Parses bench output: stdout `request,latency_ms[,start_s]` rows after a header;
    /// stderr's last `cpu_seconds C ...` line.
    static func parse(stdout: String, stderr: String) -> BenchOutput {
        let requests = stdout.split(separator: "\n").dropFirst().compactMap { line -> (ms: Double, start: Double?)? in
            let parts = line.split(separator: ",")
            guard parts.count >= 2, let ms = Double(parts[1]), ms.isFinite, ms >= 0 else { return nil }
            return (ms, parts.count >= 3 ? Double(parts[2]) : nil)
        }
        let cpu = stderr.split(separator: "\n").last { $0.hasPrefix("cpu_seconds ") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Double($0) }
        return BenchOutput(requests: requests, cpuSeconds: cpu)
    }

    private func removeAll() {
        let docker = self.docker
        var failed: [String] = []
        for id in running {
            do { try blocking { try await docker.remove(id) } } catch { failed.append("\(id.prefix(12)): \(error)") }
        }
        if !running.isEmpty {
            log("removed \(running.count - failed.count) profiling container(s)" + (failed.isEmpty ? "" : "; could not remove \(failed.joined(separator: "; "))"))
        }
        running = []
    }
}

/// A profiling step that failed (a container's exit status, a missing output).
public struct ProfileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A measurement refused because something outside the profiling containers used the CPU.
public struct ProfileDisturbed: Error, CustomStringConvertible, Sendable {
    public let cores: Double
    public let seconds: Double
    /// One line: how much, over how long, against which limit.
    public var summary: String {
        String(format: "%.2f cores used outside the profiling containers over %.1f s (the limit is %.1f)", cores, seconds, ProfileSession.outsideLoadLimit)
    }
    public var description: String {
        String(format: "while profiling, something outside the profiling containers used %.2f cores (over %.1f s; the limit is %.1f): the measurement (made %d times) is not cached. Stop the other load (see `top`, `docker ps`) and run again", cores, seconds, ProfileSession.outsideLoadLimit, ProfileSession.measurementAttempts)
    }
}

import Foundation
import QoESim
import QoESimLive

/// The profiles of the real workload, each as a ``ProfileFile``: latency under a CPU
/// limit (one container at a time, through Docker or a bare cgroup), with several
/// containers at once, after idle time (the cold start), and OpenBLAS's idle spin alone
/// and beside a busy container. Docker measurements run in a ``ProfileSession``.
public struct Profiler {
    /// The session that runs the bench containers (nil: the cgroup mechanism only).
    public let session: ProfileSession?
    let log: (String) -> Void

    public init(session: ProfileSession?, log: @escaping (String) -> Void) {
        self.session = session
        self.log = log
    }

    /// How a CPU limit is applied.
    public enum Mechanism: Sendable, Equatable {
        /// `docker run --cpus LIMIT` (the Engine API's NanoCpus).
        case docker
        /// A CFS quota on a bare cgroup (``CPUGroup``), running this qoesim-infer binary.
        case cgroup(binary: String)
        public var name: String {
            if case .docker = self { return "docker" }
            return "cgroup"
        }
    }

    /// Latency of `network` alone at each CPU limit through each mechanism: `requests`
    /// timed requests after `warmup` untimed ones, with `gapMs` idle before each (a cold
    /// profile when > 0).
    public func latency(network: String, limits: [Double], requests: Int, warmup: Int, gapMs: Int = 0, mechanisms: [Mechanism] = [.docker]) throws -> ProfileFile {
        var file = ProfileFile(kind: gapMs > 0 ? .cold : .quota, comments: [
            "qoesim profile of \(network): \(requests) requests per limit after \(warmup) warm-up; OpenBLAS threads: all cores",
            ProfileFile.machineComment(),
        ] + (gapMs > 0 ? ["each timed request after \(gapMs) ms idle (cold start)"] : []))
        for mechanism in mechanisms {
            for c in limits {
                log("profiling \(network) at \(c) cpus via \(mechanism.name) (\(requests) requests)")
                let bench = ProfileSession.Bench(network: network, requests: requests, warmup: warmup, gapMs: gapMs, cpus: c)
                let output: ProfileSession.BenchOutput
                switch mechanism {
                case .docker: output = try docker().run([bench])[0]
                case .cgroup(let binary): output = try Profiler.inCgroup(bench, binary: binary)
                }
                guard !output.requests.isEmpty else { throw ProfileError("\(network) at \(c) cpus via \(mechanism.name) printed no timed requests") }
                for (i, r) in output.requests.enumerated() {
                    file.rows.append([network, "cpu", "\(c)", "1", "1", "\(r.ms)", mechanism.name, "\(i)"] + (gapMs > 0 ? ["\(gapMs)"] : []))
                }
            }
        }
        return file
    }

    /// `k` containers of `network` at once at each limit (nil: no limit, Docker's default
    /// sharing). Only requests that ran while all `k` were measuring are kept (each bench
    /// line carries its start on CLOCK_MONOTONIC, which all containers of a machine
    /// share); each kept request's `cpus` is what the simulator gives each of `k` busy
    /// containers with that limit here (min(limit, cores / k)).
    public func colocated(network: String, limits: [Double?], containers k: Int, requests: Int, warmup: Int, cores: Double) throws -> ProfileFile {
        var file = ProfileFile(kind: .colocated, comments: [
            "qoesim profile of \(network): \(requests) requests per limit after \(warmup) warm-up; OpenBLAS threads: all cores",
            ProfileFile.machineComment(),
            "\(k) containers at once per limit; kept: requests run while all were measuring; cpus: the share the",
            "simulator gives each (min(limit, cores / \(k))); limit: the docker --cpus (empty: none)",
        ])
        for limit in limits {
            let label = limit.map { "--cpus \($0)" } ?? "no limit"
            log("profiling \(k) x \(network) at once, \(label) (\(requests) requests each)")
            let outputs = try docker().run(Array(repeating: ProfileSession.Bench(network: network, requests: requests, warmup: warmup, cpus: limit), count: k))
            var samples: [[(ms: Double, start: Double)]] = []
            for (i, o) in outputs.enumerated() {
                let timed = o.requests.compactMap { r in r.start.map { (ms: r.ms, start: $0) } }
                guard !timed.isEmpty else {
                    throw ProfileError("container \(i + 1) of \(k) printed no timed requests with start times (an image from before they were added? rebuild it)")
                }
                samples.append(timed)
            }
            let from = samples.map { $0.first!.start }.max()!, to = samples.map { $0.last!.start + $0.last!.ms / 1000 }.min()!
            let share = min(limit ?? cores, cores / Double(k))
            var kept = 0
            for (c, list) in samples.enumerated() {
                for (i, s) in list.enumerated() where s.start >= from && s.start + s.ms / 1000 <= to {
                    file.rows.append([network, "cpu", "\(share)", "1", "1", "\(s.ms)", "docker", "\(c * requests + i)", "\(k)", limit.map { "\($0)" } ?? ""])
                    kept += 1
                }
            }
            guard kept >= 2 else { throw ProfileError("\(k) containers of \(network) (\(label)) overlapped for only \(kept) requests; raise the requests") }
            log("  kept \(kept) of \(k * requests) requests (those run while all \(k) were measuring)")
        }
        return file
    }

    /// How the idle spin is measured: pairs of runs (repeats of the spin-share profile),
    /// requests per run, and the idle time before each request (longer than OpenBLAS's
    /// default polling, about 0.1 s).
    public struct SpinProtocol: Sendable, Equatable {
        public var pairs = 3
        public var requests = 10
        public var gapMs = 300
        /// The busy neighbour of the spin-share profile: a container serving back to back.
        public var neighbour = "mobilenetv2"
        public init() {}
    }

    /// CPU seconds of `spin.pairs` pairs of runs of `network` alone without a limit, back
    /// to back and with `spin.gapMs` idle before each request, and the seconds each run's
    /// requests took (back to back: the CPU over it is the cores the container uses).
    public func idleSpin(network: String, spin: SpinProtocol = SpinProtocol()) throws -> ProfileFile {
        var file = ProfileFile(kind: .spin, comments: [
            "qoesim idle-spin profile of \(network): CPU seconds of \(spin.requests) requests alone without a limit, back to back and after \(spin.gapMs) ms idle each, and the seconds the requests took (the sum of their latencies)",
            ProfileFile.machineComment(),
        ])
        for pair in 1...max(1, spin.pairs) {
            for gap in [0, spin.gapMs] {
                log("idle spin of \(network): pair \(pair) of \(spin.pairs), gap \(gap) ms")
                let (cpu, seconds) = try cpuAndRequestSeconds(ProfileSession.Bench(network: network, requests: spin.requests, gapMs: gap))
                file.rows.append([network, "\(pair)", "\(gap)", "\(spin.requests)", "\(cpu)", "\(seconds)"])
            }
        }
        return file
    }

    /// How much CPU the polling of `network` gets beside one busy container
    /// (`spin.neighbour`, back to back, no limit) against alone: `spin.pairs` repeats of
    /// `spin.requests` requests after `spin.gapMs` ms idle each, with OpenBLAS's polling
    /// as set and at OPENBLAS_THREAD_TIMEOUT=4 (the shortest: the same work without most
    /// of the polling).
    public func spinShare(network: String, spin: SpinProtocol = SpinProtocol()) throws -> ProfileFile {
        var file = ProfileFile(kind: .spinShare, comments: [
            "qoesim spin-share profile of \(network): CPU seconds of \(spin.requests) requests after \(spin.gapMs) ms idle each, alone and beside a busy \(spin.neighbour) container, with OpenBLAS's polling as set and at OPENBLAS_THREAD_TIMEOUT=4",
            ProfileFile.machineComment(),
        ])
        for repeat_ in 1...max(1, spin.pairs) {
            for neighbours in [0, 1] {
                var busy: String? = nil
                if neighbours == 1 {
                    busy = try docker().start(ProfileSession.Bench(network: spin.neighbour, requests: 1_000_000, warmup: 0))
                    usleep(2_000_000)  // its network built and serving
                }
                defer { if let busy { try? docker().remove(busy) } }
                for timeout in ["set", "4"] {
                    log("spin share of \(network): repeat \(repeat_) of \(spin.pairs), \(neighbours) busy neighbour(s), thread timeout \(timeout)")
                    let cpu = try cpuSeconds(ProfileSession.Bench(
                        network: network, requests: spin.requests, gapMs: spin.gapMs,
                        environment: timeout == "set" ? [:] : ["OPENBLAS_THREAD_TIMEOUT": timeout]))
                    file.rows.append([network, "\(repeat_)", "\(neighbours)", timeout, "\(spin.requests)", "\(cpu)"])
                }
            }
        }
        return file
    }

    func docker() throws -> ProfileSession {
        guard let session else { throw ProfileError("this profile runs containers: it needs the Docker engine") }
        return session
    }

    func cpuSeconds(_ bench: ProfileSession.Bench) throws -> Double {
        try cpuAndRequestSeconds(bench).cpu
    }

    /// The CPU seconds of `bench`'s timed requests and gaps, and the seconds its timed
    /// requests took (the sum of their latencies: with no gap, the run's wall time).
    func cpuAndRequestSeconds(_ bench: ProfileSession.Bench) throws -> (cpu: Double, requestSeconds: Double) {
        let output = try docker().run([bench])[0]
        guard let cpu = output.cpuSeconds else {
            throw ProfileError("the qoesim-infer of image \(try docker().image) reports no cpu_seconds (an older build): remove the image and run again")
        }
        return (cpu, output.requests.reduce(0) { $0 + $1.ms } / 1000)
    }

    /// Runs `bench` as a process of `binary` inside a fresh CPU group limited to its
    /// `cpus`: the process is started, then moved into the group (no shell); its warm-up
    /// requests (at least 1) run before the timed ones, so the move precedes them.
    static func inCgroup(_ bench: ProfileSession.Bench, binary: String) throws -> ProfileSession.BenchOutput {
        guard bench.warmup >= 1 else { throw ProfileError("the cgroup mechanism needs at least 1 warm-up request") }
        let group = try CPUGroup.create(name: "qoesim-profile-\(getpid())", cpus: bench.cpus ?? Double(ProcessInfo.processInfo.activeProcessorCount))
        defer { group.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = Array(bench.command.dropFirst())
        p.environment = ProcessInfo.processInfo.environment.merging(bench.environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        try group.add(pid: p.processIdentifier)
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw ProfileError("\(binary) bench at \(bench.cpus ?? 0) cpus failed (status \(p.terminationStatus)): \(stderr.suffix(400))") }
        return ProfileSession.parse(stdout: String(decoding: o, as: UTF8.self), stderr: stderr)
    }
}

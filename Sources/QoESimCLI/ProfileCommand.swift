import ArgumentParser
import Foundation
import QoESim
import QoESimLive
import QoESimValidation

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure the real inference workload under CPU limits (a cgroup, and a Docker container) and write a profile CSV.",
        discussion: """
        For each limit, runs `qoesim-infer bench` (a) in a CPU control group with a CFS quota of
        limit x period (cgroup v1: cpu.cfs_quota_us; cgroup v2: cpu.max), and (b) in a container
        with NanoCpus = limit (`docker run --cpus`), created through the Docker Engine API from
        a minimal image (built from the workload binary and the libraries it links if missing).
        Profiling containers carry the label qoesim=profile and are removed on exit, on error,
        and on SIGINT, SIGTERM or SIGHUP. A measurement during which something outside the
        profiling containers used more than 0.1 core is refused. Every OPENBLAS_* variable set
        here is passed on to the workload. Needs root and a cgroup CPU controller for (a), a
        running dockerd for (b).

        Example:
          qoesim profile --workload resnet50 --cpus 0.25,0.5,1,1.5,2 --requests 10 -o Traces/profiles/resnet50.csv
        """)

    @Option(help: "Network: resnet50, mobilenetv2, vgg16, bert-base.") var workload: String
    @Option(help: "Comma-separated CPU limits; with --colocate, `none` is a run without a limit (Docker's default sharing).")
    var cpus: String = "0.25,0.5,0.75,1,1.5,2"
    @Option(help: "Containers of the workload to run at once per limit (docker mechanism only); 1 profiles one at a time.")
    var colocate: Int = 1
    @Option(help: "Timed requests per limit and mechanism.") var requests: Int = 10
    @Option(help: "Untimed warm-up requests per run (at least 1 for the cgroup mechanism).") var warmup: Int = 1
    @Option(help: "Idle time before each timed request, ms (0: back to back); profiles the cold start of a request on an idle container.")
    var gapMs: Int = 0
    @Option(help: "Comma-separated mechanisms: cgroup, docker.") var mechanisms: String = "cgroup,docker"
    @Option(help: "The qoesim-infer binary (default: next to this qoesim).") var binary: String?
    @OptionGroup var engine: EngineOptions
    @Option(name: [.short, .customLong("output")], help: "Profile CSV to write (an existing file only if qoesim wrote it).") var output: String
    @Flag(help: "Replace --output even if it is a file qoesim did not write.") var force = false

    /// The limits with `none` (no limit) as nil.
    var limits: [Double?] {
        cpus.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { $0 == "none" ? nil : Double($0) }
    }
    var mechanismList: [String] { mechanisms.split(separator: ",").map { String($0) } }

    func validate() throws {
        guard LiveRun.networks.contains(workload) else { throw ValidationError("--workload must be \(LiveRun.networks.joined(separator: ", "))") }
        guard (1...16).contains(colocate) else { throw ValidationError("--colocate must be 1 to 16") }
        if colocate > 1 && mechanismList != ["docker"] { throw ValidationError("--colocate needs --mechanisms docker") }
        let tokens = cpus.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let ok = !tokens.isEmpty && tokens.allSatisfy { t in
            (colocate > 1 && t == "none") || Double(t).map { $0 > 0 && $0 <= 64 } == true
        }
        guard ok else { throw ValidationError("--cpus must be a comma-separated list of limits in (0, 64]\(colocate > 1 ? " or none" : "")") }
        guard (2...100_000).contains(requests) else { throw ValidationError("--requests must be 2 to 100000") }
        guard (0...1000).contains(warmup) else { throw ValidationError("--warmup must be 0 to 1000") }
        if mechanismList.contains("cgroup") && warmup < 1 { throw ValidationError("the cgroup mechanism needs --warmup 1 or more") }
        guard (0...60_000).contains(gapMs) else { throw ValidationError("--gap-ms must be 0 to 60000") }
        if gapMs > 0 && colocate > 1 { throw ValidationError("--gap-ms profiles one container at a time; drop --colocate") }
        guard !mechanismList.isEmpty else { throw ValidationError("--mechanisms must name cgroup and/or docker") }
        for m in mechanismList where m != "cgroup" && m != "docker" {
            throw ValidationError("unknown mechanism '\(m)'; use cgroup and/or docker")
        }
    }

    func run() throws {
        let bin = binary ?? WorkloadImage.binaryNextToExecutable()
        var mechanisms: [Profiler.Mechanism] = []
        for m in mechanismList {
            if m == "docker" { mechanisms.append(.docker); continue }
            guard let bin, FileManager.default.isExecutableFile(atPath: bin) else {
                throw ProfileError("no workload binary \(bin.map { "at \($0)" } ?? "next to this qoesim"); build it with `swift build -c release --product qoesim-infer` or pass --binary")
            }
            // Fails early, naming what is missing, rather than after the first network.
            try CPUGroup.create(name: "qoesim-profile-check-\(getpid())", cpus: 1).remove()
            mechanisms.append(.cgroup(binary: bin))
        }
        var docker: DockerClient? = nil
        if mechanismList.contains("docker") {
            docker = try engine.client()
            try WorkloadImage.ensure(engine.image, binary: bin, docker: docker!, log: Diagnostics.note)
        }
        // The cgroup mechanism alone needs no engine: a session only where Docker is used.
        let session = try docker.map { try ProfileSession(docker: $0, image: engine.image, log: Diagnostics.note) }
        defer { session?.close() }
        let profiler = Profiler(session: session, log: Diagnostics.note)
        let file = colocate > 1
            ? try profiler.colocated(
                network: workload, limits: limits, containers: colocate, requests: requests, warmup: warmup,
                cores: Double(ProcessInfo.processInfo.activeProcessorCount))
            : try profiler.latency(network: workload, limits: limits.compactMap { $0 }, requests: requests, warmup: warmup, gapMs: gapMs, mechanisms: mechanisms)
        try file.write(to: output, force: force)
        Diagnostics.note("wrote \(file.rows.count) measurements to \(output)")
        if let worst = session?.worstOutsideLoad {
            Diagnostics.note(String(format: "at most %.3f cores were used outside the profiling containers (measured over %.1f s; the limit is %.1f)", worst.cores, worst.seconds, ProfileSession.outsideLoadLimit))
        }
    }
}

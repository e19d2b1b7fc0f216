import ArgumentParser
import Foundation
import QoESim
import QoESimLive

/// Runs a command and returns its exit status, standard output and standard error.
@discardableResult
func shell(_ path: String, _ args: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure the real inference workload under CPU limits (a cgroup, and a Docker container) and write a profile CSV.",
        discussion: """
        For each limit, runs `qoesim-infer bench` (a) in a CPU control group with a CFS quota of
        limit x period (cgroup v1: cpu.cfs_quota_us; cgroup v2: cpu.max), and (b) in `docker run
        --cpus LIMIT` from a minimal image made with `docker import` (built from the workload
        binary if missing). Every OPENBLAS_* variable set here is passed on to the workload.
        Needs root and a cgroup CPU controller for (a), a running dockerd for (b).

        Example:
          qoesim profile --workload resnet50 --cpus 0.25,0.5,1,1.5,2 --requests 10 -o Traces/profiles/resnet50.csv
        """)

    @Option(help: "Network: resnet50, mobilenetv2, vgg16, bert-base.") var workload: String
    @Option(help: "Comma-separated CPU limits; with --colocate, `none` is a run without a limit (Docker's default sharing).")
    var cpus: String = "0.25,0.5,0.75,1,1.5,2"
    @Option(help: "Containers of the workload to run at once per limit (docker mechanism only); 1 profiles one at a time.")
    var colocate: Int = 1
    @Option(help: "Timed requests per limit and mechanism.") var requests: Int = 10
    @Option(help: "Untimed warm-up requests per run.") var warmup: Int = 1
    @Option(help: "Idle time before each timed request, ms (0: back to back); profiles the cold start of a request on an idle container.")
    var gapMs: Int = 0
    @Option(help: "Comma-separated mechanisms: cgroup, docker.") var mechanisms: String = "cgroup,docker"
    @Option(help: "The qoesim-infer binary (default: next to this qoesim).") var binary: String?
    @Option(help: "Docker image holding /qoesim-infer.") var image: String = "qoesim-infer:local"
    @Option(name: [.short, .customLong("output")], help: "Profile CSV to write.") var output: String

    var limits: [Double] { cpus.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    /// The limits with `none` (no limit) as nil, for co-located runs.
    var colocatedLimits: [Double?] {
        cpus.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { $0 == "none" ? nil : Double($0) }
    }
    var mechanismList: [String] { mechanisms.split(separator: ",").map { String($0) } }

    func validate() throws {
        guard ["resnet50", "mobilenetv2", "vgg16", "bert-base"].contains(workload) else {
            throw ValidationError("--workload must be resnet50, mobilenetv2, vgg16 or bert-base")
        }
        guard (1...16).contains(colocate) else { throw ValidationError("--colocate must be 1 to 16") }
        if colocate > 1 && mechanismList != ["docker"] { throw ValidationError("--colocate needs --mechanisms docker") }
        let tokens = cpus.split(separator: ",").count
        let given = colocate > 1 ? colocatedLimits.compactMap { $0 } : limits
        let unlimited = colocate > 1 ? colocatedLimits.filter { $0 == nil }.count : 0
        guard tokens > 0, given.count + unlimited == tokens, given.allSatisfy({ $0 > 0 && $0 <= 64 }) else {
            throw ValidationError("--cpus must be a comma-separated list of limits in (0, 64]\(colocate > 1 ? " or none" : "")")
        }
        guard requests >= 2 else { throw ValidationError("--requests must be >= 2") }
        guard (0...60_000).contains(gapMs) else { throw ValidationError("--gap-ms must be 0 to 60000") }
        if gapMs > 0 && colocate > 1 { throw ValidationError("--gap-ms profiles one container at a time; drop --colocate") }
        for m in mechanismList where m != "cgroup" && m != "docker" {
            throw ValidationError("unknown mechanism '\(m)'; use cgroup and/or docker")
        }
    }

    func run() throws {
        let bin = binary ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("qoesim-infer").path
        // The binary is needed for the cgroup mechanism, and to build a missing image; an
        // existing image is enough for the docker mechanism alone.
        let imageExists = try mechanismList.contains("docker") && shell("/usr/bin/env", ["docker", "image", "inspect", image]).status == 0
        if mechanismList.contains("cgroup") || (mechanismList.contains("docker") && !imageExists) {
            guard FileManager.default.isExecutableFile(atPath: bin) else {
                throw ValidationError("no workload binary at \(bin); build it with `swift build -c release --product qoesim-infer` or pass --binary")
            }
        }
        if mechanismList.contains("docker") && !imageExists { try ensureImage(from: bin) }
        if mechanismList.contains("cgroup") {
            // Fails early, naming what is missing, rather than after the first network.
            do { try CPUGroup.create(name: "qoesim-profile-check-\(getpid())", cpus: 1).remove() } catch { throw ValidationError("\(error)") }
        }
        if colocate > 1 {
            let rows = try ColocatedProfile.measure(
                workload: workload, limits: colocatedLimits, containers: colocate, requests: requests, warmup: warmup, image: image,
                cores: Double(ProcessInfo.processInfo.activeProcessorCount))
            try ProfileCommand.write(
                rows: rows, workload: workload, requests: requests, warmup: warmup, to: output, colocated: colocate)
            Diagnostics.note("wrote \(rows.count) measurements to \(output)")
            return
        }
        let rows = try ProfileCommand.measure(
            workload: workload, limits: limits, requests: requests, warmup: warmup, mechanisms: mechanismList, binary: bin, image: image,
            gapMs: gapMs)
        try ProfileCommand.write(rows: rows, workload: workload, requests: requests, warmup: warmup, to: output, gapMs: gapMs)
        Diagnostics.note("wrote \(rows.count) measurements to \(output)")
    }

    /// Measures `workload` at each limit through each mechanism; returns profile CSV rows.
    static func measure(
        workload: String, limits: [Double], requests: Int, warmup: Int, mechanisms: [String], binary bin: String, image: String,
        gapMs: Int = 0
    ) throws -> [String] {
        var rows: [String] = []
        for mechanism in mechanisms {
            for c in limits {
                Diagnostics.note("profiling \(workload) at \(c) cpus via \(mechanism) (\(requests) requests)")
                let args = ["bench", "--model", workload, "--requests", "\(requests)", "--warmup", "\(warmup)"]
                    + (gapMs > 0 ? ["--gap-ms", "\(gapMs)"] : [])
                let result: (status: Int32, out: String, err: String)
                if mechanism == "cgroup" {
                    result = try inCgroup(cpus: c, command: [bin] + args)
                } else {
                    result = try shell("/usr/bin/env", ["docker", "run", "--rm", "--network", "none", "--cpus", "\(c)"]
                        + WorkloadEnvironment.dockerRunArguments(from: ProcessInfo.processInfo.environment) + [image, "/qoesim-infer"] + args)
                }
                guard result.status == 0 else {
                    throw ValidationError("\(mechanism) run at \(c) cpus failed (status \(result.status)): \(result.err.suffix(400))")
                }
                for line in result.out.split(separator: "\n").dropFirst() {
                    let parts = line.split(separator: ",")
                    guard parts.count >= 2, let ms = Double(parts[1]) else { continue }
                    rows.append("\(workload),cpu,\(c),1,1,\(ms),\(mechanism),\(parts[0])" + (gapMs > 0 ? ",\(gapMs)" : ""))
                }
            }
        }
        return rows
    }

    /// This machine's CPU model, as /proc/cpuinfo names it.
    static var cpuModel: String {
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    }

    /// Writes a profile CSV (with the machine and date in its header) atomically.
    static func write(
        rows: [String], workload: String, requests: Int, warmup: Int, to output: String, colocated: Int = 1, gapMs: Int = 0
    ) throws {
        let date = ISO8601DateFormatter().string(from: Date())
        var text = "# qoesim profile of \(workload): \(requests) requests per limit after \(warmup) warm-up; OpenBLAS threads: all cores\n"
        text += "# machine: \(cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; measured \(date)\n"
        if colocated > 1 {
            text += "# \(colocated) containers at once per limit; kept: requests run while all were measuring; cpus: the share the\n"
            text += "# simulator gives each (min(limit, cores / \(colocated))); limit: the docker --cpus (empty: none)\n"
            text += "model,device,cpus,gpu_share,batch,latency_ms,mechanism,request,colocated,limit\n"
        } else if gapMs > 0 {
            text += "# each timed request after \(gapMs) ms idle (cold start)\n"
            text += "model,device,cpus,gpu_share,batch,latency_ms,mechanism,request,gap_ms\n"
        } else {
            text += "model,device,cpus,gpu_share,batch,latency_ms,mechanism,request\n"
        }
        text += rows.joined(separator: "\n") + "\n"
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = output + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)), rename(tmp, output) == 0 else {
            throw RunOutputError.cannotWrite(output)
        }
    }

    /// Runs `command` inside a fresh CPU group (cgroup v1 or v2) limited to `cpus` cores.
    static func inCgroup(cpus: Double, command: [String]) throws -> (status: Int32, out: String, err: String) {
        let group: CPUGroup
        do { group = try CPUGroup.create(name: "qoesim-profile-\(getpid())", cpus: cpus) } catch { throw ValidationError("\(error)") }
        defer { group.remove() }
        return try shell("/bin/sh", ["-c", group.shellLine(running: command)])
    }

    /// Builds the image from the binary and the libraries `ldd` lists, if it is missing.
    func ensureImage(from bin: String) throws {
        if try shell("/usr/bin/env", ["docker", "image", "inspect", image]).status == 0 { return }
        let version = try shell("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"])
        guard version.status == 0 else {
            throw ValidationError("the Docker engine does not answer (is dockerd running?): \(version.err.prefix(300))")
        }
        Diagnostics.note("building image \(image) from \(bin) with docker import")
        let rootfs = NSTemporaryDirectory() + "qoesim-rootfs-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: rootfs) }
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bin, toPath: rootfs + "/qoesim-infer")
        let ldd = try shell("/usr/bin/ldd", [bin])
        for line in ldd.out.split(separator: "\n") {
            guard let path = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first(where: { $0.hasPrefix("/") }).map(String.init) else { continue }
            let target = rootfs + path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if !FileManager.default.fileExists(atPath: target) { try FileManager.default.copyItem(atPath: real, toPath: target) }
        }
        let imported = try shell("/bin/sh", ["-c", "tar -C '\(rootfs)' -c . | docker import - '\(image)'"])
        guard imported.status == 0 else { throw ValidationError("docker import failed: \(imported.err.prefix(300))") }
    }
}

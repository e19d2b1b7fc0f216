import Foundation
import QoESimExperiments
import QoESimLive

/// CPU used on this machine outside a set of containers, from /proc/stat (every CPU's
/// busy time) less the containers' cgroup counters and less this process's own CPU time
/// (the measuring process: its polling and its HTTP client are part of every profile,
/// on every machine): what would distort a profile.
public struct HostLoadMeter {
    /// Busy CPU seconds of the whole machine since boot (user, nice, system, irq,
    /// softirq, steal of /proc/stat's `cpu` line), or nil where /proc/stat is unreadable.
    public static func busySeconds(procStat: String = "/proc/stat") -> Double? {
        guard let text = try? String(contentsOfFile: procStat, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 8 else { return nil }
        let ticks = f[0] + f[1] + f[2] + f[5] + f[6] + f[7]
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    struct Sample {
        var time: Double
        var busy: Double
        var ours: [String: Double]
        var own: Double
    }

    /// CPU seconds this process has used (all its threads).
    public static func ownSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private var first: Sample?
    private var last: Sample?
    /// Containers whose counters could not be read at some sample (the check is then void).
    public private(set) var unreadable = false

    public init() {}

    /// Samples the machine and `containers`; a sample at which one of them has no
    /// readable counter (it has exited, its cgroup is gone) ends the measured window.
    public mutating func sample(containers: [String], at time: Double) {
        guard let busy = HostLoadMeter.busySeconds() else {
            unreadable = true
            return
        }
        var ours: [String: Double] = [:]
        for id in containers {
            guard let s = DockerClient.cgroupCPUSeconds(id) else { return }  // exited: the window ends here
            ours[id] = s
        }
        let s = Sample(time: time, busy: busy, ours: ours, own: HostLoadMeter.ownSeconds())
        if first == nil { first = s }
        last = s
    }

    /// Cores used outside the containers (and this process) over the measured window (nil when the window is
    /// shorter than 0.5 s or the counters were unreadable), and the window's length.
    public var outsideCores: (cores: Double, seconds: Double)? {
        guard !unreadable, let f = first, let l = last, l.time - f.time >= 0.5 else { return nil }
        let ours = l.ours.reduce(0.0) { $0 + $1.value - (f.ours[$1.key] ?? $1.value) }
        let outside = (l.busy - f.busy) - ours - (l.own - f.own)
        return (max(0, outside) / (l.time - f.time), l.time - f.time)
    }
}

/// The CPU the live harness uses during a live run: this process (the control loop, the
/// load generator, its HTTP clients) and the Docker engine's processes (dockerd,
/// containerd, the container shims, runc, their own CPU time only: a shim's reaped
/// children include the container's own processes once it stops), from /proc, with the
/// machine's busy time, so that what ran outside the containers can be told
/// (``HarnessUse/outsideContainersCores``). An engine process that starts and exits
/// between the two samples (runc under a shim) is not counted by the engine's share,
/// only by the machine's.
public struct HarnessMeter: Sendable {
    /// The `comm` names (as /proc truncates them to 15 characters) counted as the engine.
    public static let engineProcesses: Set<String> = ["dockerd", "containerd", "containerd-shim", "runc", "docker-proxy", "docker-init"]

    /// Per engine process id: CPU seconds it has used so far (user + system, itself only).
    public static func engineSeconds(proc: String = "/proc") -> [Int: Double] {
        var out: [Int: Double] = [:]
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: proc)) ?? [] {
            guard let pid = Int(entry), let text = try? String(contentsOfFile: "\(proc)/\(entry)/stat", encoding: .utf8),
                  let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { continue }
            let comm = String(text[text.index(after: open)..<close])
            guard engineProcesses.contains(comm) else { continue }
            // Fields after ")": state is field 3; utime and stime are fields 14 and 15.
            let f = text[text.index(after: close)...].split(separator: " ")
            guard f.count > 12, let u = Double(f[11]), let s = Double(f[12]) else { continue }
            out[pid] = (u + s) / ticks
        }
        return out
    }

    let start: (wall: Double, own: Double, engine: [Int: Double], busy: Double?)

    /// Starts measuring now.
    public init() {
        start = (ProcessInfo.processInfo.systemUptime, HostLoadMeter.ownSeconds(), HarnessMeter.engineSeconds(), HostLoadMeter.busySeconds())
    }

    /// What was used since ``init()``; `containers`: the CPU seconds the run's containers
    /// used (their cgroup counters), when known.
    public func stop(containers: Double? = nil) -> HarnessUse {
        let wall = ProcessInfo.processInfo.systemUptime - start.wall
        let engine = HarnessMeter.engineSeconds().reduce(0.0) { $0 + $1.value - (start.engine[$1.key] ?? 0) }
        let busy = HostLoadMeter.busySeconds().flatMap { b in start.busy.map { b - $0 } }
        return HarnessUse(
            wallSeconds: wall, qoesimCPUSeconds: HostLoadMeter.ownSeconds() - start.own, engineOwnCPUSeconds: max(0, engine),
            machineBusySeconds: busy, containersCPUSeconds: containers)
    }
}

import Foundation
import QoESim

/// What a live run left for validation: enough to compare a simulation with it again
/// without rerunning it (`qoesim validate --reuse-live`), as `recorded.json`. Read here,
/// without SwiftNIO, so that the reader is fuzzed (Tests/Fuzz target `recorded-json`).
public struct RecordedLiveRun: Sendable, Codable {
    public var models: [ModelResult]
    public var satisfied: Int
    public var dockerUpdateMedianMs: Double?
    public var failures: [String]
    /// Per job, each completed request's [arrival, start, completion] in seconds.
    public var requests: [[[Double]]]
    /// The CPU the harness used during the run (absent in recordings made before 0.15).
    public var harness: HarnessUse?
    enum CodingKeys: String, CodingKey {
        case models, satisfied, failures, requests, harness
        case dockerUpdateMedianMs = "docker_update_median_ms"
    }

    public init(
        models: [ModelResult], satisfied: Int, dockerUpdateMedianMs: Double?, failures: [String], requests: [[[Double]]], harness: HarnessUse? = nil
    ) {
        self.models = models
        self.satisfied = satisfied
        self.dockerUpdateMedianMs = dockerUpdateMedianMs
        self.failures = failures
        self.requests = requests
        self.harness = harness
    }

    /// The live run recorded in `file` (a `recorded.json` of an earlier campaign) for the
    /// jobs `ids`; errors name the file and the problem, never trap.
    public static func read(_ file: String, jobs ids: [String]) throws -> RecordedLiveRun {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(file: file, line: 0, "does not exist (recorded by an earlier `qoesim validate --out`)")
        }
        return try decode(data, file: file, jobs: ids)
    }

    /// Decodes `data` (the bytes of `file`) as a recorded live run of the jobs `ids`
    /// (nil: whichever jobs it names); every problem is an ``InputError`` naming the file.
    public static func decode(_ data: Data, file: String, jobs ids: [String]?) throws -> RecordedLiveRun {
        let recorded: RecordedLiveRun
        do { recorded = try JSONDecoder().decode(RecordedLiveRun.self, from: data) } catch {
            throw InputError(file: file, line: 0, "is not a recorded live run: \(error)")
        }
        if let ids, recorded.models.map(\.id) != ids {
            throw InputError(file: file, line: 0, "was recorded for jobs \(recorded.models.map(\.id)), not this trace's \(ids)")
        }
        guard recorded.requests.count == recorded.models.count,
              recorded.requests.allSatisfy({ $0.allSatisfy { $0.count == 3 && $0.allSatisfy(\.isFinite) } }) else {
            throw InputError(file: file, line: 0, "its requests must be, per job, [arrival, start, completion] triples of finite numbers")
        }
        if let h = recorded.harness {
            let all = [h.wallSeconds, h.qoesimCPUSeconds] + [h.engineOwnCPUSeconds, h.machineBusySeconds, h.containersCPUSeconds].compactMap { $0 }
            guard all.allSatisfy({ $0.isFinite && $0 >= 0 }), h.wallSeconds > 0 else {
                throw InputError(file: file, line: 0, "its harness seconds must be finite and >= 0, and wall_s > 0")
            }
        }
        return recorded
    }
}

/// CPU seconds used during one live run by the harness (this qoesim process: control
/// loop, load generator; the Docker engine's processes, their own time), by the run's
/// containers and by the whole machine, over `wallSeconds`. (Recordings made at commit
/// 41877ee also carry `engine_cpu_s`, which counted the shims' reaped children, i.e.
/// the containers' processes: it is not read.)
public struct HarnessUse: Sendable, Codable, Equatable {
    public var wallSeconds: Double
    public var qoesimCPUSeconds: Double
    /// nil in recordings made before it was measured this way.
    public var engineOwnCPUSeconds: Double?
    /// Busy seconds of all CPUs (/proc/stat), nil where unreadable.
    public var machineBusySeconds: Double?
    /// The run's containers (cgroup counters); filled from the recorded models when absent.
    public var containersCPUSeconds: Double?
    enum CodingKeys: String, CodingKey {
        case wallSeconds = "wall_s", qoesimCPUSeconds = "qoesim_cpu_s", engineOwnCPUSeconds = "engine_own_cpu_s"
        case machineBusySeconds = "machine_busy_s", containersCPUSeconds = "containers_cpu_s"
    }

    public init(wallSeconds: Double, qoesimCPUSeconds: Double, engineOwnCPUSeconds: Double?, machineBusySeconds: Double?, containersCPUSeconds: Double?) {
        self.wallSeconds = wallSeconds
        self.qoesimCPUSeconds = qoesimCPUSeconds
        self.engineOwnCPUSeconds = engineOwnCPUSeconds
        self.machineBusySeconds = machineBusySeconds
        self.containersCPUSeconds = containersCPUSeconds
    }

    public var qoesimCores: Double { qoesimCPUSeconds / wallSeconds }
    public var engineOwnCores: Double? { engineOwnCPUSeconds.map { $0 / wallSeconds } }
    /// Cores used on the machine outside the run's containers (qoesim, the engine, the
    /// kernel's work for them, anything else running): machine busy - containers.
    public var outsideContainersCores: Double? {
        guard let b = machineBusySeconds, let c = containersCPUSeconds else { return nil }
        return max(0, b - c) / wallSeconds
    }
}

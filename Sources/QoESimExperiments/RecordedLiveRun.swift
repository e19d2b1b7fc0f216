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
            let all = [h.wallSeconds, h.qoesimCPUSeconds, h.engineCPUSeconds] + (h.machineBusySeconds.map { [$0] } ?? [])
            guard all.allSatisfy({ $0.isFinite && $0 >= 0 }), h.wallSeconds > 0 else {
                throw InputError(file: file, line: 0, "its harness seconds must be finite and >= 0, and wall_s > 0")
            }
        }
        return recorded
    }
}

/// CPU seconds used during one live run by the harness (this qoesim process: control
/// loop, load generator; and the Docker engine's processes) and by the whole machine,
/// over `wallSeconds`.
public struct HarnessUse: Sendable, Codable, Equatable {
    public var wallSeconds: Double
    public var qoesimCPUSeconds: Double
    public var engineCPUSeconds: Double
    /// Busy seconds of all CPUs (/proc/stat), nil where unreadable.
    public var machineBusySeconds: Double?
    enum CodingKeys: String, CodingKey {
        case wallSeconds = "wall_s", qoesimCPUSeconds = "qoesim_cpu_s", engineCPUSeconds = "engine_cpu_s", machineBusySeconds = "machine_busy_s"
    }

    public init(wallSeconds: Double, qoesimCPUSeconds: Double, engineCPUSeconds: Double, machineBusySeconds: Double?) {
        self.wallSeconds = wallSeconds
        self.qoesimCPUSeconds = qoesimCPUSeconds
        self.engineCPUSeconds = engineCPUSeconds
        self.machineBusySeconds = machineBusySeconds
    }

    /// Cores: qoesim, the engine, and the harness together.
    public var qoesimCores: Double { qoesimCPUSeconds / wallSeconds }
    public var engineCores: Double { engineCPUSeconds / wallSeconds }
    public var harnessCores: Double { (qoesimCPUSeconds + engineCPUSeconds) / wallSeconds }
}

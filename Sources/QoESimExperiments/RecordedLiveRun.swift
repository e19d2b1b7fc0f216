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
    enum CodingKeys: String, CodingKey {
        case models, satisfied, failures, requests
        case dockerUpdateMedianMs = "docker_update_median_ms"
    }

    public init(models: [ModelResult], satisfied: Int, dockerUpdateMedianMs: Double?, failures: [String], requests: [[[Double]]]) {
        self.models = models
        self.satisfied = satisfied
        self.dockerUpdateMedianMs = dockerUpdateMedianMs
        self.failures = failures
        self.requests = requests
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
        return recorded
    }
}

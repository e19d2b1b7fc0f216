import Foundation

/// The JSON answers of the Docker Engine API that qoesim reads, decoded here, without
/// SwiftNIO, so that they can be fuzzed (Tests/Fuzz target `engine-json`): whatever the
/// bytes, each reader returns a value or throws ``WireFormatError``, never traps.
public enum EngineAnswer {
    /// `GET /version`.
    public struct Version: Decodable, Sendable, Equatable {
        public var version: String?
        public var apiVersion: String
        public var minAPIVersion: String?
        enum CodingKeys: String, CodingKey {
            case version = "Version", apiVersion = "ApiVersion", minAPIVersion = "MinAPIVersion"
        }
    }

    /// One entry of `GET /containers/json`.
    public struct ContainerSummary: Decodable, Sendable, Equatable {
        public var id: String
        /// The first name, without the leading `/`.
        public var name: String
        public var labels: [String: String]
        enum CodingKeys: String, CodingKey { case id = "Id", names = "Names", labels = "Labels" }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            let names = try c.decodeIfPresent([String].self, forKey: .names) ?? []
            name = String((names.first ?? "").drop { $0 == "/" })
            labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        }
    }

    /// What `GET /containers/{id}/json` says that qoesim uses.
    public struct ContainerState: Decodable, Sendable, Equatable {
        public var running: Bool
        public var nanoCPUs: Int64
        public var cpuShares: Int
        enum Keys: String, CodingKey { case state = "State", hostConfig = "HostConfig" }
        enum StateKeys: String, CodingKey { case running = "Running" }
        enum HostKeys: String, CodingKey { case nanoCPUs = "NanoCpus", cpuShares = "CpuShares" }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let state = try? c.nestedContainer(keyedBy: StateKeys.self, forKey: .state)
            running = (try state?.decodeIfPresent(Bool.self, forKey: .running)) ?? false
            let host = try? c.nestedContainer(keyedBy: HostKeys.self, forKey: .hostConfig)
            nanoCPUs = (try? host?.decodeIfPresent(Int64.self, forKey: .nanoCPUs)) ?? 0
            cpuShares = (try? host?.decodeIfPresent(Int.self, forKey: .cpuShares)) ?? 0
        }
    }

    struct Top: Decodable {
        var Titles: [String]
        var Processes: [[String]]?
    }
    struct Wait: Decodable { var StatusCode: Int }
    struct Created: Decodable { var Id: String }
    struct Message: Decodable { var message: String }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw WireFormatError("\(what): the engine's answer is not what the API documents (\(error)): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    /// `GET /version`.
    public static func version(_ data: Data) throws -> Version { try decode(Version.self, data, "GET /version") }

    /// `GET /containers/json`: every container listed.
    public static func containers(_ data: Data) throws -> [ContainerSummary] {
        try decode([ContainerSummary].self, data, "GET /containers/json")
    }

    /// `GET /containers/{id}/json`.
    public static func containerState(_ data: Data) throws -> ContainerState {
        try decode(ContainerState.self, data, "GET /containers/{id}/json")
    }

    /// `GET /containers/{id}/top`: the PID column (rows without a number there are skipped).
    public static func processIDs(_ data: Data) throws -> [UInt32] {
        let top = try decode(Top.self, data, "GET /containers/{id}/top")
        guard let column = top.Titles.firstIndex(of: "PID") else { return [] }
        return (top.Processes ?? []).compactMap { $0.indices.contains(column) ? UInt32($0[column]) : nil }
    }

    /// `POST /containers/{id}/wait`: the exit status.
    public static func exitStatus(_ data: Data) throws -> Int { try decode(Wait.self, data, "POST /containers/{id}/wait").StatusCode }

    /// `POST /containers/create`: the new container's id.
    public static func createdID(_ data: Data) throws -> String { try decode(Created.self, data, "POST /containers/create").Id }

    /// The `message` of an error answer, if it is one.
    public static func errorMessage(_ data: Data) -> String? { try? JSONDecoder().decode(Message.self, from: data).message }
}

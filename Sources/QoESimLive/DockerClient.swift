import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QoESimDockerWire

/// An error from the Docker Engine API (or from reaching it).
public struct DockerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// HTTP status, when the engine answered.
    public let status: Int?
    public init(_ d: String, status: Int? = nil) {
        description = d
        self.status = status
    }
}

/// A Docker Engine API client over a unix socket (`http+unix://`) or TCP, through
/// AsyncHTTPClient. Calls that fail for transient reasons (connection errors, HTTP 5xx)
/// are retried with exponential backoff; 4xx answers are not retried.
///
/// The API version is negotiated with the engine (``negotiated()``): the newest this
/// client knows that the engine serves, never below the engine's minimum.
public struct DockerClient: Sendable {
    /// Where the engine listens.
    public enum Endpoint: Sendable, Equatable {
        case unix(path: String)
        case tcp(host: String, port: Int)

        /// Parses `unix:///path`, `tcp://host:port` (as DOCKER_HOST is written) or a
        /// plain socket path.
        public static func parse(_ text: String) throws -> Endpoint {
            if text.hasPrefix("unix://") {
                let path = String(text.dropFirst("unix://".count))
                guard path.hasPrefix("/") else { throw DockerError("DOCKER_HOST \(text): a unix socket needs an absolute path") }
                return .unix(path: path)
            }
            if text.hasPrefix("tcp://") {
                let rest = text.dropFirst("tcp://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
                guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), port > 0, port < 65536,
                      colon > rest.startIndex else {
                    throw DockerError("DOCKER_HOST \(text): expected tcp://HOST:PORT")
                }
                let host = String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                // Plain HTTP to another machine would send every request in the clear, and a
                // live run cannot drive a remote engine anyway: its load generator dials
                // 127.0.0.1 and CPU time is read from this machine's cgroups.
                guard ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") else {
                    throw DockerError("""
                        DOCKER_HOST \(text): only a loopback tcp:// engine is used (127.0.0.1, localhost, ::1): \
                        plain tcp:// to another host is unencrypted, and live runs, profiles and validation measure this \
                        machine (the load is sent to 127.0.0.1, CPU time read from local cgroups). Use this machine's engine
                        """)
                }
                return .tcp(host: host, port: port)
            }
            if text.hasPrefix("/") { return .unix(path: text) }
            throw DockerError("DOCKER_HOST \(text): only unix:// and tcp:// are supported")
        }
    }

    public let endpoint: Endpoint
    /// The API version in use, e.g. `v1.41` (see ``negotiated()``).
    public let apiVersion: String
    public var retries = 4

    /// The newest Engine API version this client is written against.
    public static let newestAPIVersion = "1.47"

    /// The socket path (empty for a TCP endpoint), for messages.
    public var socket: String {
        if case .unix(let path) = endpoint { return path }
        return ""
    }

    /// The HTTP methods the Engine API uses here.
    public enum Method: String, Sendable {
        case GET, POST, DELETE
        var http: HTTPMethod {
            switch self {
            case .GET: return .GET
            case .POST: return .POST
            case .DELETE: return .DELETE
            }
        }
    }

    public init(socket: String = "/var/run/docker.sock", apiVersion: String = "v1.41") {
        self.init(endpoint: .unix(path: socket), apiVersion: apiVersion)
    }

    public init(endpoint: Endpoint, apiVersion: String = "v1.41") {
        self.endpoint = endpoint
        self.apiVersion = apiVersion
    }

    /// The client for `explicitSocket` when given (a path or unix:// / tcp:// address),
    /// else for `DOCKER_HOST` when set, else for /var/run/docker.sock.
    public static func fromEnvironment(explicitSocket: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> DockerClient
    {
        if let explicitSocket { return DockerClient(endpoint: try .parse(explicitSocket)) }
        if let host = environment["DOCKER_HOST"], !host.isEmpty { return DockerClient(endpoint: try .parse(host)) }
        return DockerClient()
    }

    /// The API version to use with an engine that serves up to `engine` and down to
    /// `engineMinimum`: the newest both know, never below the engine's minimum.
    public static func negotiate(engine: String, engineMinimum: String?, client: String = newestAPIVersion) -> String {
        func parts(_ v: String) -> [Int] { v.split(separator: ".").map { Int($0) ?? 0 } }
        func less(_ a: String, _ b: String) -> Bool { parts(a).lexicographicallyPrecedes(parts(b)) }
        var chosen = less(engine, client) ? engine : client
        if let minimum = engineMinimum, less(chosen, minimum) { chosen = minimum }
        return chosen
    }

    /// A copy that uses the API version negotiated with the engine (`GET /version`,
    /// which every version serves unversioned).
    public func negotiated() async throws -> DockerClient {
        try checkReachable()
        let (status, data) = try await call(.GET, "/version", versioned: false)
        guard status == 200, let v = try? EngineAnswer.version(data) else {
            throw DockerError("GET /version: HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        var copy = DockerClient(endpoint: endpoint, apiVersion: "v" + DockerClient.negotiate(engine: v.apiVersion, engineMinimum: v.minAPIVersion))
        copy.retries = retries
        return copy
    }

    /// The URL every path is appended to (with the API version unless `versioned` is false).
    public func base(versioned: Bool = true) -> String {
        let root: String
        switch endpoint {
        case .unix(let path): root = "http+unix://" + path.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        case .tcp(let host, let port): root = host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }
        return versioned ? root + "/" + apiVersion : root
    }

    /// A unix socket that does not exist means dockerd is not running: say so at once.
    public func checkReachable() throws {
        if case .unix(let path) = endpoint {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw DockerError("dockerd is not running: \(path) does not exist (start it: dockerd --iptables=false --bridge=none --storage-driver=vfs &)")
            }
            // A folder or a plain file is not an engine (a connection to one never answers).
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw DockerError("\(path) is not a socket (it is a \(info.st_mode & S_IFMT == S_IFDIR ? "folder" : "file")): give the Docker engine's socket, e.g. /var/run/docker.sock")
            }
        }
    }

    /// Sends one request; returns status and body. `body` is JSON-encoded.
    public func call(_ method: Method, _ path: String, body: [String: Any]? = nil, timeout: Int64 = 60, versioned: Bool = true)
        async throws -> (Int, Data)
    {
        let raw = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        return try await call(method, path, raw: raw, contentType: "application/json", timeout: timeout, versioned: versioned)
    }

    /// Sends one request with `raw` bytes as its body (e.g. a tar archive); returns status
    /// and body (up to 256 MiB).
    public func call(
        _ method: Method, _ path: String, raw: Data?, contentType: String, timeout: Int64 = 60, versioned: Bool = true
    ) async throws -> (Int, Data) {
        var attempt = 0
        while true {
            do {
                var request = HTTPClientRequest(url: base(versioned: versioned) + path)
                request.method = method.http
                // dockerd rejects requests without a Host header (400 "missing required Host header").
                request.headers.add(name: "Host", value: "docker")
                if let raw {
                    request.headers.add(name: "Content-Type", value: contentType)
                    request.body = .bytes(Array(raw))
                }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
                let buffer = try await response.body.collect(upTo: 256 << 20)
                let data = Data(buffer.readableBytesView)
                let status = Int(response.status.code)
                if status >= 500 && attempt < retries { throw DockerError(String(decoding: data, as: UTF8.self), status: status) }
                return (status, data)
            } catch {
                attempt += 1
                if attempt > retries {
                    if let e = error as? DockerError { throw e }
                    throw DockerError("cannot reach the Docker engine at \(endpoint): \(error)")
                }
                try await Task.sleep(nanoseconds: UInt64(100_000_000) << UInt64(attempt - 1))  // 0.1, 0.2, 0.4, 0.8 s
            }
        }
    }

    /// Calls and decodes a JSON object, throwing on HTTP errors.
    @discardableResult
    func json(_ method: Method, _ path: String, body: [String: Any]? = nil, expect: Set<Int> = [200, 201, 204, 304]) async throws -> [String: Any] {
        let data = try await answer(method, path, body: body, expect: expect)
        if data.isEmpty { return [:] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Calls and returns the answer's bytes, throwing on HTTP errors (with the engine's
    /// `message`).
    @discardableResult
    func answer(_ method: Method, _ path: String, body: [String: Any]? = nil, expect: Set<Int> = [200, 201, 204, 304]) async throws -> Data {
        let (status, data) = try await call(method, path, body: body)
        guard expect.contains(status) else {
            let message = EngineAnswer.errorMessage(data)
            throw DockerError("\(method.rawValue) \(path): HTTP \(status): \(message ?? String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        return data
    }

    /// Whether the engine answers `GET /_ping` within 2 s, with one attempt (no retries).
    public func ping() async throws -> Bool {
        var once = self
        once.retries = 0
        let (status, _) = try await once.call(.GET, "/_ping", timeout: 2, versioned: false)
        return status == 200
    }

    /// The engine's version (fails fast with a clear error when dockerd is not running).
    public func version() async throws -> String {
        try checkReachable()
        let v = try EngineAnswer.version(try await answer(.GET, "/version"))
        return v.version ?? "unknown"
    }

    public func imageExists(_ image: String) async throws -> Bool {
        let (status, _) = try await call(.GET, "/images/\(image)/json")
        return status == 200
    }

    /// Creates a container; returns its id. `environment` holds `NAME=VALUE` entries.
    public func createContainer(
        name: String, image: String, command: [String], nanoCPUs: Int64? = nil, cpuShares: Int? = nil, hostNetwork: Bool = true,
        labels: [String: String] = [:], environment: [String] = []
    ) async throws -> String {
        var host: [String: Any] = ["NetworkMode": hostNetwork ? "host" : "none"]
        if let n = nanoCPUs { host["NanoCpus"] = n }
        if let s = cpuShares { host["CpuShares"] = s }
        var body: [String: Any] = ["Image": image, "Cmd": command, "HostConfig": host, "Labels": labels]
        if !environment.isEmpty { body["Env"] = environment }
        return try EngineAnswer.createdID(try await answer(.POST, "/containers/create?name=\(name)", body: body))
    }

    /// Waits until the container exits (`POST /containers/{id}/wait`) and returns its exit
    /// status; `timeout` bounds the wait, seconds.
    public func wait(_ id: String, timeout: Int64 = 3600) async throws -> Int {
        var once = self
        once.retries = 0
        let (status, data) = try await once.call(.POST, "/containers/\(id)/wait", timeout: timeout)
        guard status == 200, let code = try? EngineAnswer.exitStatus(data) else {
            throw DockerError("POST /containers/\(id)/wait: HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        return code
    }

    /// The container's standard output and standard error so far (a container without a TTY).
    public func logs(_ id: String) async throws -> (stdout: Data, stderr: Data) {
        let (status, data) = try await call(.GET, "/containers/\(id)/logs?stdout=1&stderr=1")
        guard status == 200 else {
            throw DockerError("GET /containers/\(id)/logs: HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        do { return try LogStream.demultiplex(data, name: "the logs of container \(id.prefix(12))") } catch let e as WireFormatError {
            throw DockerError(e.description)
        }
    }

    /// The file at `path` inside the container (created or running), through
    /// `GET /containers/{id}/archive`.
    public func copyFile(_ id: String, path: String) async throws -> Data {
        let query = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
        let (status, data) = try await call(.GET, "/containers/\(id)/archive?path=\(query)", timeout: 300)
        guard status == 200 else {
            throw DockerError("GET /containers/\(id)/archive?path=\(path): HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        do {
            let files = try TarArchive.files(in: data, name: "the archive of \(path) from container \(id.prefix(12))")
            guard files.count == 1 else { throw DockerError("the archive of \(path) holds \(files.count) files, not one") }
            return files[0].contents
        } catch let e as WireFormatError {
            throw DockerError(e.description)
        }
    }

    /// Imports a root file system (`tar`) as image `reference` (`NAME[:TAG]`), as
    /// `docker import` does (`POST /images/create?fromSrc=-`); returns the image id.
    @discardableResult
    public func importImage(_ tar: Data, reference: String) async throws -> String? {
        let (repo, tag) = DockerClient.splitReference(reference)
        let enc = { (s: String) in s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
        let (status, data) = try await call(
            .POST, "/images/create?fromSrc=-&repo=\(enc(repo))&tag=\(enc(tag))", raw: tar, contentType: "application/x-tar", timeout: 600)
        guard status == 200 else {
            throw DockerError("POST /images/create (import \(reference)): HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        do { return try ImageImportAnswer.imageID(data) } catch let e as WireFormatError { throw DockerError(e.description) }
    }

    /// `NAME[:TAG]` split into name and tag (`latest` when none; a `:` inside a registry
    /// host's port is not a tag).
    public static func splitReference(_ reference: String) -> (name: String, tag: String) {
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "latest")
    }

    public func start(_ id: String) async throws { try await json(.POST, "/containers/\(id)/start") }
    public func stop(_ id: String, timeout: Int = 2) async throws { try await json(.POST, "/containers/\(id)/stop?t=\(timeout)") }
    public func remove(_ id: String) async throws { try await json(.DELETE, "/containers/\(id)?force=true", expect: [200, 204, 404]) }
    public func inspect(_ id: String) async throws -> [String: Any] { try await json(.GET, "/containers/\(id)/json") }

    /// Containers (running or not) that carry `label` (KEY=VALUE): id, name, labels.
    public func containers(label: String) async throws -> [(id: String, name: String, labels: [String: String])] {
        let filter = "{\"label\":[\"\(label)\"]}".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let (status, data) = try await call(.GET, "/containers/json?all=1&filters=\(filter)")
        guard status == 200, let list = try? EngineAnswer.containers(data) else {
            throw DockerError("GET /containers/json: HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))", status: status)
        }
        return list.map { ($0.id, $0.name, $0.labels) }
    }

    /// Whether the container is running.
    /// Host process ids of the container's processes (`GET /containers/{id}/top`).
    public func processIDs(_ id: String) async throws -> [UInt32] {
        try EngineAnswer.processIDs(try await answer(.GET, "/containers/\(id)/top"))
    }

    public func isRunning(_ id: String) async throws -> Bool {
        try await state(id).running
    }

    /// What `GET /containers/{id}/json` says of the container's state and CPU settings.
    public func state(_ id: String) async throws -> EngineAnswer.ContainerState {
        try EngineAnswer.containerState(try await answer(.GET, "/containers/\(id)/json"))
    }

    /// NanoCpus (limit x 1e9; 0 = none) and CpuShares as the engine reports them.
    public func limits(_ id: String) async throws -> (nanoCPUs: Int64, shares: Int) {
        let s = try await state(id)
        return (s.nanoCPUs, s.cpuShares)
    }

    /// Cumulative CPU time of the container in seconds: read from its cgroup
    /// (cpuacct.usage, the counter `docker stats` reports) when this process can see it,
    /// which stays fast when the node is saturated; else one-shot stats through the API.
    public func cpuSeconds(_ id: String) async throws -> Double {
        if let s = DockerClient.cgroupCPUSeconds(id) { return s }
        return try await apiCPUSeconds(id)
    }

    /// Cumulative CPU seconds of container `id` from the cgroup tree under `root`:
    /// cgroup v1 (`cpuacct/docker/ID/cpuacct.usage`, nanoseconds) or v2 (`cpu.stat`'s
    /// `usage_usec` under `system.slice/docker-ID.scope` with the systemd driver, or
    /// `docker/ID` with cgroupfs); nil when none is readable.
    public static func cgroupCPUSeconds(_ id: String, root: String = "/sys/fs/cgroup") -> Double? {
        for path in ["\(root)/cpuacct/docker/\(id)/cpuacct.usage", "\(root)/cpu,cpuacct/docker/\(id)/cpuacct.usage"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let ns = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return ns / 1e9
            }
        }
        for path in ["\(root)/system.slice/docker-\(id).scope/cpu.stat", "\(root)/docker/\(id)/cpu.stat"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
                if let us = Double(line.dropFirst("usage_usec ".count)) { return us / 1e6 }
            }
        }
        return nil
    }

    /// Cumulative CPU time through `GET /containers/{id}/stats?stream=false&one-shot=true`.
    public func apiCPUSeconds(_ id: String) async throws -> Double {
        let s = try await json(.GET, "/containers/\(id)/stats?stream=false&one-shot=true")
        let usage = ((s["cpu_stats"] as? [String: Any])?["cpu_usage"] as? [String: Any])?["total_usage"] as? NSNumber
        return (usage?.doubleValue ?? 0) / 1e9
    }

    /// `docker update`: a CPU limit via NanoCpus, and cpu.shares. The engine treats
    /// NanoCpus 0 in an update as "unchanged", so "no limit" (nil) is applied as a limit
    /// of every core of this machine, which CFS enforces as no limit at all.
    public func update(_ id: String, cpus: Double?, shares: Int? = nil) async throws {
        var body: [String: Any] = [:]
        // NanoCpus cannot be changed while CpuQuota is set and vice versa; we only use NanoCpus.
        let limit = cpus ?? Double(ProcessInfo.processInfo.activeProcessorCount)
        body["NanoCpus"] = Int64((limit * 1e9).rounded())
        if let shares { body["CpuShares"] = max(2, shares) }
        try await json(.POST, "/containers/\(id)/update", body: body)
    }

    // MARK: Swarm (the path the paper used: services with --limit-cpu)

    /// Makes this engine a single-node swarm manager if it is not in a swarm yet.
    public func ensureSwarm() async throws {
        let info = try await json(.GET, "/info")
        let state = (info["Swarm"] as? [String: Any])?["LocalNodeState"] as? String
        if state != "active" {
            try await json(.POST, "/swarm/init", body: ["ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1:2377"], expect: [200])
        }
    }

    /// Creates a service of one replica limited to `cpus`; returns its id.
    public func createService(name: String, image: String, command: [String], cpus: Double) async throws -> String {
        let spec: [String: Any] = [
            "Name": name,
            "TaskTemplate": [
                "ContainerSpec": ["Image": image, "Command": command],
                "Resources": ["Limits": ["NanoCPUs": Int64(cpus * 1e9)]],
                "Networks": [],
            ],
            "Mode": ["Replicated": ["Replicas": 1]],
        ]
        let r = try await json(.POST, "/services/create", body: spec)
        guard let id = r["ID"] as? String else { throw DockerError("service create: no ID in the answer") }
        return id
    }

    /// The service's spec, version and CPU limit.
    public func service(_ id: String) async throws -> (version: Int, spec: [String: Any], nanoCPUs: Int64) {
        let s = try await json(.GET, "/services/\(id)")
        let version = ((s["Version"] as? [String: Any])?["Index"] as? NSNumber)?.intValue ?? 0
        let spec = s["Spec"] as? [String: Any] ?? [:]
        let limits = ((spec["TaskTemplate"] as? [String: Any])?["Resources"] as? [String: Any])?["Limits"] as? [String: Any]
        return (version, spec, (limits?["NanoCPUs"] as? NSNumber)?.int64Value ?? 0)
    }

    /// `docker service update --limit-cpu`.
    public func updateService(_ id: String, cpus: Double) async throws {
        let (version, original, _) = try await service(id)
        var spec = original
        var template = spec["TaskTemplate"] as? [String: Any] ?? [:]
        var resources = template["Resources"] as? [String: Any] ?? [:]
        resources["Limits"] = ["NanoCPUs": Int64(cpus * 1e9)]
        template["Resources"] = resources
        spec["TaskTemplate"] = template
        try await json(.POST, "/services/\(id)/update?version=\(version)", body: spec)
    }

    public func removeService(_ id: String) async throws { try await json(.DELETE, "/services/\(id)", expect: [200, 204, 404]) }
}

import Foundation
import Testing
import QoESim
import QoESimGPU
import QoESimLive

/// The Docker Engine API client against a real dockerd. These need the engine and the
/// qoesim-infer:local image, which `.ci/live-test` installs, starts and builds before
/// running them with QOESIM_DOCKER_TESTS=1 (CI always does). Without that variable they
/// are skipped, not passed.
@Suite("Docker engine (real dockerd)", .enabled(if: ProcessInfo.processInfo.environment["QOESIM_DOCKER_TESTS"] == "1"))
struct DockerTests {
    let docker = DockerClient()

    @Test("create, start, update NanoCpus and CpuShares live, read stats, remove")
    func containerLifecycle() async throws {
        let name = "qoesim-test-\(getpid())"
        let id = try await docker.createContainer(
            name: name, image: "qoesim-infer:local", command: ["/qoesim-infer", "serve", "--model", "mobilenetv2", "--port", "19500"],
            nanoCPUs: 500_000_000, cpuShares: 1024, labels: ["qoesim": "test"], environment: ["OPENBLAS_THREAD_TIMEOUT=4"])
        do {
            try await docker.start(id)
            #expect(try await docker.isRunning(id))
            // The host PIDs the GPU meter attributes NVML samples by: the server process.
            let pids = try await docker.processIDs(id)
            let commands = pids.map { (try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "" }
            #expect(!pids.isEmpty && commands.contains { $0.contains("qoesim-infer") }, "pids \(pids): \(commands)")
            // The environment given at creation reaches the workload (OpenBLAS reads it there).
            let environs = pids.map { (try? String(contentsOfFile: "/proc/\($0)/environ", encoding: .utf8)) ?? "" }
            #expect(environs.contains { $0.split(separator: "\0").contains("OPENBLAS_THREAD_TIMEOUT=4") }, "\(environs)")
            #expect(try await docker.limits(id).nanoCPUs == 500_000_000)
            try await docker.update(id, cpus: 1.25, shares: 2048)
            let l = try await docker.limits(id)
            #expect(l.nanoCPUs == 1_250_000_000 && l.shares == 2048)
            try await docker.update(id, cpus: nil)
            #expect(try await docker.limits(id).nanoCPUs == Int64(ProcessInfo.processInfo.activeProcessorCount) * 1_000_000_000)
            try await Task.sleep(nanoseconds: 2_000_000_000)  // weights are generated at start: CPU is used
            let fromCgroup = try await docker.cpuSeconds(id), fromAPI = try await docker.apiCPUSeconds(id)
            #expect(fromCgroup > 0.05 && fromAPI > 0.05)
            // Both read the same counter, moments apart.
            #expect(abs(fromAPI - fromCgroup) < 0.5, "cgroup \(fromCgroup) s vs stats API \(fromAPI) s")
        } catch {
            try? await docker.remove(id)
            throw error
        }
        try await docker.remove(id)
        let (status, _) = try await docker.call(.GET, "/containers/\(id)/json")
        #expect(status == 404)
    }

    /// Leftovers are judged by their run's lock file, never by pid and host name: the old
    /// adapter removed every `qoesim=live` container of this host name whose pid was not
    /// alive here, which in another PID namespace is another run's.
    @Test("Leftovers: a dead run's containers are removed; a going run's, an unknown run's and a pre-run-id container are left alone")
    func leftovers() async throws {
        let host = ProcessInfo.processInfo.hostName
        func make(_ name: String, _ labels: [String: String]) async throws -> String {
            try await docker.createContainer(
                name: "qoesim-test-\(getpid())-\(name)", image: "qoesim-infer:local", command: ["/qoesim-infer", "list"],
                labels: ["qoesim": "live", "qoesim.pid": "999999", "qoesim.host": host].merging(labels) { $1 })
        }
        func runID() -> String { (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        let (dead, going, unknown) = (runID(), runID(), runID())
        // The dead run's lock file is here and free; the going run's is held (by this test).
        FileManager.default.createFile(atPath: RunLock.path(of: dead), contents: Data("pid 999999\n".utf8))
        FileManager.default.createFile(atPath: RunLock.path(of: going), contents: Data())
        let held = open(RunLock.path(of: going), O_RDWR)
        #expect(flock(held, LOCK_EX | LOCK_NB) == 0)
        defer {
            close(held)
            unlink(RunLock.path(of: going))
            unlink(RunLock.path(of: dead))
        }
        let a = try await make("dead", ["qoesim.run": dead])
        let b = try await make("going", ["qoesim.run": going])
        let c = try await make("unknown", ["qoesim.run": unknown])
        let d = try await make("old", [:])
        let found = try LiveRun.removeLeftovers(docker: docker)
        let listed = Set(try await docker.containers(label: "qoesim=live").map(\.id))
        for id in [b, c, d] { try? await docker.remove(id) }
        #expect(!listed.contains(a) && found.removed.map(\.id) == [a])
        #expect(!FileManager.default.fileExists(atPath: RunLock.path(of: dead)), "the dead run's lock file stays")
        #expect(listed.isSuperset(of: [b, c, d]), "another run's container was removed")
        #expect(Set(found.leftAlone.map(\.id)) == [c, d], "\(found.leftAlone)")
    }

    @Test("Swarm path: a service with a CPU limit, updated through the API")
    func swarmService() async throws {
        try await docker.ensureSwarm()
        let id = try await docker.createService(
            name: "qoesim-test-svc-\(getpid())", image: "qoesim-infer:local",
            command: ["/qoesim-infer", "serve", "--model", "mobilenetv2", "--port", "19600"], cpus: 0.5)
        do {
            #expect(try await docker.service(id).nanoCPUs == 500_000_000)
            try await docker.updateService(id, cpus: 1.5)
            #expect(try await docker.service(id).nanoCPUs == 1_500_000_000)
        } catch {
            try? await docker.removeService(id)
            throw error
        }
        try await docker.removeService(id)
    }

    /// This engine (Debian's docker.io 20.10) serves API 1.41; the client knows up to
    /// 1.47, so the negotiation must land on 1.41 and calls must work with it.
    @Test("The API version is negotiated with the real engine")
    func negotiation() async throws {
        let n = try await docker.negotiated()
        let (status, data) = try await docker.call(.GET, "/version", versioned: false)
        let engine = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["ApiVersion"] as? String)
        #expect(status == 200 && n.apiVersion == "v" + DockerClient.negotiate(engine: engine, engineMinimum: "1.12"), "\(n.apiVersion) for engine \(engine)")
        #expect(try await !n.version().isEmpty)
    }

    /// A `docker update` the engine rejects (4xx) is not retried: one call, one answer.
    @Test("A rejected update (4xx) is not retried")
    func rejectedNotRetried() async throws {
        let started = Date()
        do {
            try await docker.update("no-such-container-\(getpid())", cpus: 1)
            Issue.record("no error")
        } catch let e as DockerError {
            #expect(e.status == 404)
        }
        // Retries back off 0.1 + 0.2 + 0.4 + 0.8 s: a retried call would take 1.5 s or more.
        #expect(Date().timeIntervalSince(started) < 1.5)
    }

    @Test("API errors carry the engine's message (unknown container)")
    func apiError() async throws {
        do {
            try await docker.update("no-such-container-\(getpid())", cpus: 1)
            Issue.record("no error")
        } catch let e as DockerError {
            #expect(e.status == 404 && e.description.contains("No such container"), "\(e)")
        }
    }
}

@Suite("Live adapter without an engine")
struct LiveWithoutEngineTests {
    /// Docker Engine 29 serves 1.44-1.52, 20.10 serves 1.12-1.41; the client knows 1.47.
    @Test("API version negotiation: the newest both know, never below the engine's minimum")
    func negotiate() {
        #expect(DockerClient.negotiate(engine: "1.41", engineMinimum: "1.12", client: "1.47") == "1.41")
        #expect(DockerClient.negotiate(engine: "1.52", engineMinimum: "1.44", client: "1.47") == "1.47")
        #expect(DockerClient.negotiate(engine: "1.52", engineMinimum: "1.50", client: "1.47") == "1.50")
        #expect(DockerClient.negotiate(engine: "1.9", engineMinimum: nil, client: "1.10") == "1.9")
        #expect(DockerClient.negotiate(engine: "1.47", engineMinimum: nil, client: "1.47") == "1.47")
    }

    @Test("DOCKER_HOST: unix:// and loopback tcp:// are honoured, a remote tcp:// refused, an explicit socket wins")
    func dockerHost() throws {
        #expect(try DockerClient.fromEnvironment(environment: [:]).endpoint == .unix(path: "/var/run/docker.sock"))
        #expect(try DockerClient.fromEnvironment(environment: ["DOCKER_HOST": "unix:///run/user/0/docker.sock"]).endpoint
            == .unix(path: "/run/user/0/docker.sock"))
        #expect(try DockerClient.fromEnvironment(environment: ["DOCKER_HOST": "tcp://127.0.0.1:2375"]).endpoint
            == .tcp(host: "127.0.0.1", port: 2375))
        #expect(try DockerClient.fromEnvironment(explicitSocket: "/tmp/d.sock", environment: ["DOCKER_HOST": "tcp://127.0.0.1:2375"]).endpoint
            == .unix(path: "/tmp/d.sock"))
        #expect(DockerClient(endpoint: .tcp(host: "127.0.0.1", port: 2375), apiVersion: "v1.41").base() == "http://127.0.0.1:2375/v1.41")
        #expect(throws: DockerError.self) { try DockerClient.Endpoint.parse("ssh://host") }
        #expect(throws: DockerError.self) { try DockerClient.Endpoint.parse("tcp://nohost") }
        // Another machine's engine over plain tcp:// is refused, with the reason.
        do {
            _ = try DockerClient.Endpoint.parse("tcp://10.0.0.5:2375")
            Issue.record("a remote tcp:// engine was accepted")
        } catch let e as DockerError {
            #expect(e.description.contains("loopback") && e.description.contains("unencrypted"), "\(e)")
        }
        #expect(try DockerClient.Endpoint.parse("tcp://localhost:2375") == .tcp(host: "localhost", port: 2375))
        #expect(try DockerClient.Endpoint.parse("tcp://[::1]:2375") == .tcp(host: "::1", port: 2375))
    }

    /// These machines run cgroup v1; v2 is checked on a fixture tree laid out as the
    /// systemd and cgroupfs drivers lay it out.
    @Test("Container CPU time from cgroup v1 and v2 trees (fixture)")
    func cgroupTrees() throws {
        let root = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func put(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: root + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + "/" + path, atomically: true, encoding: .utf8)
        }
        try put("cpuacct/docker/v1id/cpuacct.usage", "2500000000\n")
        try put("system.slice/docker-v2sd.scope/cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
        try put("docker/v2fs/cpu.stat", "usage_usec 250000\n")
        #expect(DockerClient.cgroupCPUSeconds("v1id", root: root) == 2.5)
        #expect(DockerClient.cgroupCPUSeconds("v2sd", root: root) == 1.5)
        #expect(DockerClient.cgroupCPUSeconds("v2fs", root: root) == 0.25)
        #expect(DockerClient.cgroupCPUSeconds("absent", root: root) == nil)
    }

    @Test("dockerd not running: a clear error before anything starts")
    func noEngine() async throws {
        let docker = DockerClient(socket: "/nonexistent/docker.sock")
        do {
            _ = try await docker.version()
            Issue.record("no error")
        } catch let e as DockerError {
            #expect(e.description.contains("dockerd is not running"))
        }
    }

    /// NVML needs an NVIDIA driver; these machines have none, so the adapter must say so
    /// once and go on CPU-only. (On a GPU machine `NVML.load()` returns devices instead:
    /// checked on an H200 by Tests/GPU/nvml-check.sh, results in Tests/GPU/results/.)
    @Test("NVML absent here (no GPU): load() returns nil with a clear reason")
    func nvmlAbsent() {
        if let nvml = NVML.load() {
            // A machine with a driver: telemetry must list at least one GPU.
            #expect(!nvml.gpus().isEmpty)
        } else {
            #expect(NVML.unavailableReason.contains("libnvidia-ml.so.1"))
        }
    }

    @Test("qoesim live with no engine exits 1 naming the problem, and writes nothing")
    func cliNoEngine() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try CLITests.run(["live", "--docker-socket", "/nonexistent/docker.sock", "--out", folder + "/out"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("dockerd is not running"), "\(r.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder + "/out")) ?? []).isEmpty, "--out must stay empty")
    }
}

import Foundation
import Testing
import QoESim
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
            nanoCPUs: 500_000_000, cpuShares: 1024, labels: ["qoesim": "test"])
        do {
            try await docker.start(id)
            #expect(try await docker.isRunning(id))
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
    /// once and go on CPU-only. (On a GPU machine `NVML.load()` returns devices instead;
    /// that was not checked in this session: no GPU machine was lent.)
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

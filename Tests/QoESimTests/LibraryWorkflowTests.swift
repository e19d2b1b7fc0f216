import Foundation
import Testing
import QoESim
import QoESimLive
import QoESimValidation

/// What a Swift user does with the validation library, end to end on the real engine:
/// build the workload image, profile a network, fit this machine's models (cached), and
/// validate a trace against live runs. Run by `.ci/live-test` with QOESIM_DOCKER_TESTS=1
/// on its own (profiles refuse to be measured beside other load); skipped otherwise.
@Suite("The validation library on the real engine", .serialized, .enabled(if: ProcessInfo.processInfo.environment["QOESIM_DOCKER_TESTS"] == "1"))
struct LibraryWorkflowTests {
    /// The snippet of the library's documentation: profile, fit, validate.
    static func profileFitValidate(out: String, log: @escaping (String) -> Void) throws -> (profile: ProfileFile, models: String, summary: RepeatedValidation) {
        let docker = try DockerClient.fromEnvironment()
        try WorkloadImage.ensure(WorkloadImage.defaultName, binary: nil, docker: docker, log: log)

        // 1. Profile one network under two CPU limits (labelled containers, removed on any exit).
        let session = try ProfileSession(docker: docker, image: WorkloadImage.defaultName, log: log)
        let profile = try Profiler(session: session, log: log).latency(network: "mobilenetv2", limits: [1, 2], requests: 3, warmup: 1)
        session.close()
        try profile.write(to: out + "/mobilenetv2.csv")

        // 2. Fit this machine's models (profiled once, then cached under a key of every input).
        var settings = LocalFits.Settings(limits: [1, 2], requests: 3)
        settings.colocations = [2]
        settings.spin.pairs = 2
        settings.spin.requests = 3
        let fits = LocalFits(settings: settings, cache: out + "/cache")
        let models = try fits.folder(networks: ["mobilenetv2"], docker: docker, log: log)

        // 3. Validate: the trace live and simulated with those fits, compared.
        var campaign = ValidationCampaign(trace: "Tests/live/one.csv", cluster: "Traces/validation/cluster.json", out: out + "/validation")
        campaign.models = models
        campaign.policy = "dqoes"
        campaign.repeats = 1
        campaign.docker = docker
        let summary = try campaign.run(log: log)
        return (profile, models, summary)
    }

    @Test("Profile, fit and validate through the library; nothing left behind; a second fit comes from the cache")
    func workflow() throws {
        let out = NSTemporaryDirectory() + "qoesim-library-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        var lines: [String] = []
        let (profile, models, summary) = try Self.profileFitValidate(out: out) { lines.append($0); print($0) }
        #expect(profile.rows.count == 6 && profile.kind == .quota)
        let model = try #require(FileManager.default.contents(atPath: models + "/mobilenetv2.json"))
        #expect(String(decoding: model, as: UTF8.self).contains("\"latency\""))
        #expect(summary.models.count == 1 && summary.runs.count == 1, "\(summary.table)")
        #expect(FileManager.default.fileExists(atPath: out + "/validation/report.json"))
        for f in ["models.csv", "requests.csv", "allocations.csv", "usage.csv", "docker-updates.csv"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: out + "/validation/repeat-1/live/" + f))?[.size] as? Int ?? 0
            #expect(size > 0, "repeat-1/live/\(f) is empty or missing")
        }
        // The policy's decisions were applied (a header and at least one update).
        let updates = (try? String(contentsOfFile: out + "/validation/repeat-1/live/docker-updates.csv", encoding: .utf8)) ?? ""
        #expect(updates.split(separator: "\n").count > 1, "\(updates)")
        // Nothing of ours is left on the engine.
        let docker = DockerClient()
        let left = try blocking { try await docker.containers(label: "qoesim=profile") }
        #expect(left.isEmpty, "\(left.map(\.name))")
        // The cache holds the profiles under the key's folder; fitting again measures nothing.
        var settings = LocalFits.Settings(limits: [1, 2], requests: 3)
        settings.colocations = [2]
        settings.spin.pairs = 2
        settings.spin.requests = 3
        lines = []
        _ = try LocalFits(settings: settings, cache: out + "/cache").folder(networks: ["mobilenetv2"], docker: DockerClient.fromEnvironment()) { lines.append($0) }
        #expect(!lines.contains { $0.hasPrefix("profiling") || $0.hasPrefix("idle spin") }, "\(lines)")
        #expect(lines.contains { $0.contains("using the cached fit") }, "\(lines)")
    }
}

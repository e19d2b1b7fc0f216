import Foundation
import QoESim
import QoESimExperiments
import QoESimGPU
import QoESimLive

/// The validation campaign: a job trace run live on Docker and in the simulator, same
/// seed and policy, `repeats` times, and the two compared (``RepeatedValidation``).
///
/// The simulation uses this machine's fits (``LocalFits``, profiled through the same
/// engine when the cache lacks them) unless a model folder is given, and the measured
/// median `docker update` latency as its actuation delay. Each repeat writes
/// `repeat-N/live/` and `repeat-N/sim/` (the files of a run), the first
/// `trajectories.svg`; the campaign writes `report.json`, `models/` (the fits used) and
/// `manifest.json`.
///
/// ```swift
/// import QoESimValidation
/// var campaign = ValidationCampaign(trace: "Traces/validation/jobs.csv", cluster: "Traces/validation/cluster.json", out: "/tmp/v")
/// campaign.repeats = 1
/// let summary = try campaign.run(log: { print($0) })
/// print(summary.table)
/// ```
public struct ValidationCampaign {
    public var trace: String
    public var cluster: String
    /// A fitted model folder; nil: this machine's fits (``fits``, ``parts``).
    public var models: String?
    /// How this machine's fits are profiled and where they are cached.
    public var fits = LocalFits(settings: .init(limits: [0.25, 0.5, 1, 2], requests: 5), cache: ValidationCampaign.defaultCache)
    /// The parts of this machine's fits the simulation uses.
    public var parts = LocalFits.Parts.quota
    public var policy = "dqoes"
    public var policyParameters: [String: String] = [:]
    public var seed: UInt64 = 1
    public var repeats = 3
    /// The engine (default: DOCKER_HOST, else /var/run/docker.sock).
    public var docker: DockerClient?
    /// The qoesim-infer binary to build a missing image from (default: next to this executable).
    public var binary: String?
    public var out: String
    /// An earlier campaign's folder whose recorded live runs are compared again (only the
    /// simulation is made).
    public var reuseLive: String?
    /// A model folder with the trace's networks, read only to learn the trace's jobs
    /// before this machine's fits exist (the shipped fits).
    public var referenceModels = "Traces/models-fitted"
    /// What is known about the running build, for the manifest.
    public var build = BuildProbe.current

    /// How far apart a recorded live run's arrivals and a new simulation's may be for
    /// ``reuseLive`` (the same seed and load give equal times; this absorbs rounding).
    public static let reuseArrivalToleranceMs = 1.0
    /// ~/.cache/qoesim/profiles.
    public static var defaultCache: String { (ProcessInfo.processInfo.environment["HOME"] ?? "/tmp") + "/.cache/qoesim/profiles" }

    public init(trace: String, cluster: String, out: String) {
        self.trace = trace
        self.cluster = cluster
        self.out = out
    }

    /// Runs the campaign; `log` gets progress lines. The output folder appears whole at
    /// the end or not at all (``DurableFolder``), and only replaces an empty folder or an
    /// earlier campaign's: a folder holding anything qoesim did not write there is
    /// refused before anything is measured.
    public func run(log: @escaping (String) -> Void) throws -> RepeatedValidation {
        guard repeats >= 1 else { throw ValidationCampaignError("repeats must be >= 1") }
        _ = try PolicyRegistry.make(policy, parameters: policyParameters)
        let jobs = try Scenario.load(cluster: cluster, trace: trace, models: models ?? referenceModels)
        let output = try DurableFolder(destination: out)
        do {
            let summary = try run(into: output.staging, jobs: jobs, log: log)
            try output.commit()
            return summary
        } catch {
            output.discard()
            throw error
        }
    }

    /// This machine's fits for the trace's networks (the ``parts`` variant), profiled
    /// through the engine or taken from the cache, without any live or simulated run: the
    /// folder (inside the profile cache) that ``run(log:)`` would simulate with.
    public func machineFits(log: @escaping (String) -> Void) throws -> String {
        let jobs = try Scenario.load(cluster: cluster, trace: trace, models: models ?? referenceModels)
        let d = try self.docker ?? DockerClient.fromEnvironment()
        try WorkloadImage.ensure(fits.settings.image, binary: binary, docker: d, log: log)
        return try LocalFits.variant(of: fits.folder(networks: jobs.jobs.map(\.model.name), docker: d, log: log), parts: parts)
    }

    private func run(into out: String, jobs: Scenario, log: @escaping (String) -> Void) throws -> RepeatedValidation {
        var docker: DockerClient? = nil
        if reuseLive == nil {
            let d = try self.docker ?? DockerClient.fromEnvironment()
            try WorkloadImage.ensure(fits.settings.image, binary: binary, docker: d, log: log)
            docker = d
        }
        let folder: String
        if let models { folder = models } else {
            guard let docker else {
                throw ValidationCampaignError("reusing recorded live runs needs the fits they were made with: give the model folder (DIR/models)")
            }
            folder = try LocalFits.variant(of: fits.folder(networks: jobs.jobs.map(\.model.name), docker: docker, log: log), parts: parts)
        }
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: folder)
        if NVML.load() == nil { log("NVML: \(NVML.unavailableReason)") }
        var options = LiveOptions()
        options.seed = seed
        options.image = fits.settings.image
        let cpus = scenario.cluster.nodes[0].cpus
        // The manifest is known before the runs; each repeat's live and simulated CSV rows
        // carry its id with the repeat and side appended.
        var manifest = Manifest(command: "validate", build: build)
        try manifest.addInputs([trace, cluster, folder])
        manifest.policies = [Manifest.Policy(label: policy, name: policy, parameters: policyParameters)]
        manifest.seeds = [seed]
        manifest.options = ["repeats": "\(repeats)", "image": options.image, "reuse_live": reuseLive ?? ""]
        // Live runs belong to the machine they ran on: a reused one keeps its recording's.
        let here = "\(MachineFacts.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores"
        manifest.options["simulated_on"] = here
        if let reuseLive {
            let earlier = (FileManager.default.contents(atPath: reuseLive + "/manifest.json"))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            let options = earlier?["options"] as? [String: Any]
            manifest.options["live_on"] = options?["live_on"] as? String ?? "unknown (recorded before qoesim 0.15)"
            manifest.options["live_date"] = options?["live_date"] as? String ?? "unknown"
            // The code that made the live runs: kept through any number of reuses.
            manifest.options["live_made_by"] = options?["live_made_by"] as? String
                ?? (earlier?["executable_sha256"] as? String).map { "qoesim \(earlier?["qoesim_version"] as? String ?? "?") (executable SHA-256 \($0))" }
                ?? "unknown"
        } else {
            manifest.options["live_on"] = here
            manifest.options["live_date"] = ISO8601DateFormatter().string(from: Date())
            manifest.options["live_made_by"] = "qoesim \(QoESimVersion.current) (executable SHA-256 \(CodeIdentity.executableSHA256))"
        }
        if let docker { manifest.inputs["image \(options.image): /qoesim-infer"] = try WorkloadImage.binarySHA256(options.image, docker: docker) }
        func keys(_ k: Int, _ side: String) -> RunKeys { RunKeys(runID: "\(manifest.runID)-repeat-\(k)-\(side)", policy: policy, seed: seed) }
        var reports: [ValidationReport] = []
        var requests: [(live: [[[Double]]], sim: [[[Double]]])] = []
        var harness: [HarnessUse?] = []
        for k in 1...repeats {
            let dir = out + "/repeat-\(k)"
            let liveTrace = AllocationTrace(nodeCPUs: cpus)
            let recorded: RecordedLiveRun
            if let reuse = reuseLive {
                recorded = try RecordedLiveRun.read(reuse + "/repeat-\(k)/live/recorded.json", jobs: scenario.jobs.map(\.id))
                // The recording goes with the new results (the folder is replaced whole).
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: reuse + "/repeat-\(k)/live", toPath: dir + "/live")
                log("repeat \(k) of \(repeats): the live run recorded in \(reuse)/repeat-\(k), simulated again")
            } else {
                log("repeat \(k) of \(repeats): live, then simulated")
                let liveWriter = try RunOutputWriter(folder: dir + "/live", scenario: scenario, keys: keys(k, "live"))
                let liveLog = RequestLog(jobs: scenario.jobs.count)
                do {
                    let meter = HarnessMeter()
                    let live = try LiveRun(
                        scenario: scenario, policy: PolicyRegistry.make(policy, parameters: policyParameters), docker: docker!, options: options, log: log
                    ).run(recorder: RecorderFan([liveTrace, liveWriter, liveLog]), observer: liveWriter)
                    recorded = RecordedLiveRun(live: live, requests: liveLog, harness: meter.stop(containers: live.result.models.reduce(0) { $0 + $1.cpuSeconds }))
                    let enc = JSONEncoder()
                    enc.outputFormatting = [.sortedKeys]
                    try liveWriter.commit(result: live.result, files: [
                        "docker-updates.csv": DockerUpdateLog.csv(live.updates, keys: keys(k, "live")),
                        "recorded.json": String(decoding: try enc.encode(recorded), as: UTF8.self) + "\n",
                    ])
                } catch {
                    liveWriter.discard()
                    throw error
                }
            }
            // The simulation: same trace, seed, policy; actuation delay = the measured docker update latency.
            let delay = (recorded.dockerUpdateMedianMs ?? 0) / 1000
            let simTrace = AllocationTrace(nodeCPUs: cpus)
            let simWriter = try RunOutputWriter(folder: dir + "/sim", scenario: scenario, keys: keys(k, "sim"))
            let simLog = RequestLog(jobs: scenario.jobs.count)
            let sim = try Simulation(
                scenario: scenario, policy: PolicyRegistry.make(policy, parameters: policyParameters),
                options: SimulationOptions(sampleInterval: 1, actuationDelay: delay)
            ).run(seed: seed, recorder: RecorderFan([simTrace, simWriter, simLog]), observer: simWriter)
            var report = ValidationReport.compare(live: recorded, sim: sim, simRequests: simLog, jobs: scenario.jobs, policy: policy)
            // A recorded run is comparable only if the simulation releases the same
            // arrivals: the traces' loads are relative to the fits, so fits other than the
            // ones the run was made with change the arrivals.
            if let reuse = reuseLive, let gap = report.paired?.pooled?.maxArrivalGapMs, gap > ValidationCampaign.reuseArrivalToleranceMs {
                simWriter.discard()
                throw ValidationCampaignError("""
                    reusing \(reuse)/repeat-\(k): its live run released its requests up to \(String(format: "%.1f", gap)) ms \
                    away from this simulation's: its loads came from other fits (the trace's loads are relative to the fit). \
                    Give the fits it was made with (--models; validate keeps them in \(reuse)/models) or run live again.
                    """)
            }
            try simWriter.commit(result: sim)
            if k == 1 && reuseLive == nil {
                let figure = self.out + "/trajectories.svg"
                let chart = ValidationReport.trajectories(
                    live: liveTrace, sim: simTrace, ids: scenario.jobs.map(\.id),
                    title: "CPU limits under \(policy): live (solid) vs simulated (dashed), repeat 1")
                try atomicWrite(chart.render(), to: out + "/trajectories.svg")
                try atomicWrite(chart.dataCSV, to: out + "/trajectories.csv")
                report.figure = figure
            }
            reports.append(report)
            requests.append((recorded.requests, simLog.requests))
            // Recordings made before containers_cpu_s was kept: their models' CPU.
            harness.append(recorded.harness.map { h in
                var h = h
                if h.containersCPUSeconds == nil { h.containersCPUSeconds = recorded.models.reduce(0) { $0 + $1.cpuSeconds } }
                return h
            })
        }
        // The fits the simulation used go with the results, so that the recorded live runs
        // can be simulated again with them (reuse with models = DIR/models).
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".json") }).sorted() {
            let source = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: source) else { throw ValidationCampaignError("cannot read \(source)") }
            try FileManager.default.createDirectory(atPath: out + "/models", withIntermediateDirectories: true)
            try atomicWrite(String(decoding: data, as: UTF8.self), to: out + "/models/" + name)
        }
        var summary = RepeatedValidation(reports: reports, fits: folder, requests: requests, jobs: scenario.jobs, harness: harness)
        summary.liveRecordedIn = reuseLive
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try atomicWrite(String(decoding: try enc.encode(summary), as: UTF8.self) + "\n", to: out + "/report.json")
        try manifest.write(to: out)
        return summary
    }
}

/// A validation campaign that cannot go on (the message says what to do).
public struct ValidationCampaignError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

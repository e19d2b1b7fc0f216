import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments
import QoESimGPU
import QoESimLive

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Run a job trace on real Docker containers, driven by the same policy as the simulator.",
        discussion: """
        One container per job runs the job's network (qoesim-infer serve) from a local image;
        requests are replayed on loopback at the simulator's arrival times (same seed); the policy
        runs every control interval and its decisions are applied with `docker update`. Writes the
        files of `qoesim run --out` plus docker-updates.csv (each applied update and its API
        latency) and engine-gaps.csv (periods the engine was out of reach, e.g. a dockerd
        restart with --live-restore: requests are still measured, limits read back after). Containers are removed on exit, on error and on Ctrl-C. Needs a running dockerd
        and the image (`qoesim profile` builds it).

        Example:
          qoesim live --trace Traces/validation/jobs.csv --policy dqoes --out /tmp/live
        """)

    @Option(help: "Job trace CSV (models must be networks of qoesim-infer).") var trace: String = "Traces/validation/jobs.csv"
    @Option(help: "Cluster file with one node: this machine.") var cluster: String = "Traces/validation/cluster.json"
    @Option(help: "Model folder (fitted models of the same networks).") var models: String = "Traces/models-fitted"
    @Option(help: "Request trace for arrivals=trace jobs.") var requests: String?
    @Option(help: "Policy.") var policy: String = "dqoes"
    @Option(name: .customLong("policy-param"), help: "A policy parameter NAME=VALUE (repeatable).") var policyParams: [String] = []
    @Option(help: "Seed of the arrival streams.") var seed: UInt64 = 1
    @Option(help: "Workload image.") var image: String = "qoesim-infer:local"
    @Option(help: "Docker engine: a socket path, unix:///PATH or tcp://HOST:PORT (default: DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket: String?
    @Option(help: "Output folder.") var out: String?

    func run() throws {
        let trace = Bundled.path(self.trace), cluster = Bundled.path(self.cluster), models = Bundled.path(self.models)
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: models, requests: requests)
        let params = try parsePolicyParams(policyParams)
        let p = try PolicyRegistry.make(policy, parameters: params)
        if NVML.load() == nil { Diagnostics.note("NVML: \(NVML.unavailableReason)") }
        var options = LiveOptions()
        options.seed = seed
        options.image = image
        // The manifest is known before the run; its digest is the run's id in every CSV row.
        let manifest = try out.map { _ in
            try Manifest.singleRun(
                command: "live", files: [trace, cluster, models] + (requests.map { [$0] } ?? []), policy: policy, parameters: params,
                seed: seed, options: ["image": image])
        }
        let keys = manifest.map { RunKeys(runID: $0.runID, policy: policy, seed: seed) }
        let writer = try out.map { try RunOutputWriter(folder: $0, scenario: scenario, keys: keys) }
        do {
            let live = try LiveRun(scenario: scenario, policy: p, docker: DockerClient.fromEnvironment(explicitSocket: dockerSocket), options: options, log: Diagnostics.note)
                .run(recorder: writer, observer: writer)
            if let writer, let manifest, let keys {
                var gaps = "run_id,policy,seed,from_s,to_s,seconds\n"
                for g in live.engineGaps {
                    gaps += "\(CSVTable.field(keys.runID)),\(CSVTable.field(keys.policy)),\(keys.seed),\(g.from),\(g.to),\(g.to - g.from)\n"
                }
                try writer.commit(
                    result: live.result,
                    files: [
                        "manifest.json": manifest.json, "docker-updates.csv": DockerUpdateLog.csv(live.updates, keys: keys),
                        "engine-gaps.csv": gaps,
                    ])
            }
            for g in live.engineGaps {
                Diagnostics.note(String(format: "live: the Docker engine was out of reach from %.1f s to %.1f s (%.1f s)", g.from, g.to, g.to - g.from))
            }
            for f in live.failures { Diagnostics.note("live: \(f)") }
            print(ResultFormatter.table(live.result), terminator: "")
        } catch {
            writer?.discard()
            throw error
        }
    }
}

/// docker-updates.csv: each `docker update` the live loop applied, its API latency and
/// any error, with the run keys first.
enum DockerUpdateLog {
    static func csv(_ updates: [(time: Double, job: String, cpus: Double?, shares: Int, apiMs: Double, error: String?)], keys: RunKeys) -> String {
        let k = "\(CSVTable.field(keys.runID)),\(CSVTable.field(keys.policy)),\(keys.seed),"
        var csv = "run_id,policy,seed,time_s,job_id,cpu_limit,cpu_shares,api_ms,error\n"
        for u in updates {
            csv += k + "\(u.time),\(CSVTable.field(u.job)),\(u.cpus.map { "\($0)" } ?? ""),\(u.shares),\(u.apiMs),\(CSVTable.field(u.error ?? ""))\n"
        }
        return csv
    }
}

func parsePolicyParams(_ items: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("--policy-param needs NAME=VALUE, got '\(item)'") }
        out[parts[0]] = parts[1]
    }
    return out
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Measure the simulation's fidelity: run a trace live on Docker and in the simulator, compare.",
        discussion: """
        Fits belong to the machine they were measured on, so by default the workload's networks are first profiled on this machine through Docker (`docker run --cpus` at --profile-cpus, --profile-requests each) and fitted (power family), or taken from the cache of this machine's fits (keyed by CPU model, core count, OpenBLAS settings and the SHA-256 of the qoesim-infer binary in the image). Then, --repeats times: `qoesim live` on the trace, and the simulator on the same trace, seed and policy with those fits (actuation delay = the measured median `docker update` latency). Reports per model and overall the median error of the mean and p95 latency over the repeats, with their range, and both satisfied counts (table, report.json, an SVG of the CPU-limit trajectories of the first repeat). With no arguments: the bundled validation trace (3 models, 2 cores, 150 s) under dqoes, 3 repeats (about 10 minutes, plus profiling the first time).
        """)

    /// How far apart a recorded live run's arrivals and a new simulation's may be for
    /// `--reuse-live` (the same seed and load give equal times; this absorbs rounding).
    static let reuseArrivalToleranceMs = 1.0

    @Option(help: "Job trace CSV.") var trace: String = "Traces/validation/jobs.csv"
    @Option(help: "Cluster file with one node: this machine.") var cluster: String = "Traces/validation/cluster.json"
    @Option(help: "Fitted model folder (default: fits made on this machine, see above).") var models: String?
    @Option(help: "Cache of this machine's profiles and fits.") var profileCache: String =
        (ProcessInfo.processInfo.environment["HOME"] ?? "/tmp") + "/.cache/qoesim/profiles"
    @Option(help: "CPU limits to profile at.") var profileCpus: String = "0.25,0.5,1,2"
    @Option(help: "Timed requests per limit when profiling.") var profileRequests: Int = 5
    @Option(help: """
        Parts of this machine's fits the simulation uses: quota (latency under a CPU quota, profiled one container \
        at a time), shared (+ the shared-cores latency from co-located profiles), cold (+ the cold start), spin (+ the \
        idle spin: CPU its threads keep using after each request, competing with the weight fitted beside a busy \
        container), spin-full-weight (the idle spin competing as if busy), full (all four). \
        quota was chosen on the bundled trace (README); the others are kept for study.
        """)
    var modelParts: LocalFits.Parts = .quota
    @Option(help: "Policy.") var policy: String = "dqoes"
    @Option(name: .customLong("policy-param"), help: "A policy parameter NAME=VALUE (repeatable).") var policyParams: [String] = []
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Live and simulated runs to make; the report gives medians and ranges.") var repeats: Int = 3
    @Option(help: "Workload image.") var image: String = "qoesim-infer:local"
    @Option(help: "Docker engine: a socket path, unix:///PATH or tcp://HOST:PORT (default: DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket: String?
    @Option(help: "Output folder (repeat-N/{live,sim}/, trajectories.svg, report.json).") var out: String = "Experiments/validation/results"
    @Flag(help: "One JSON object instead of the table.") var json = false
    @Option(help: "Compare with the live runs recorded in this earlier --out folder (repeat-N/live/recorded.json) instead of running live again; only the simulation is made (e.g. after changing the simulator or the fits). Its arrivals must match the recording's, so the fits must give the same loads: --models DIR/models gives the ones it was made with.")
    var reuseLive: String?

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1") }
        guard profileRequests >= 2 else { throw ValidationError("--profile-requests must be >= 2") }
        let limits = profileCpus.split(separator: ",").compactMap { Double($0) }
        guard limits.count >= 2, limits.allSatisfy({ $0 > 0 }) else { throw ValidationError("--profile-cpus needs two or more positive limits") }
    }

    func run() throws {
        let params = try parsePolicyParams(policyParams)
        _ = try PolicyRegistry.make(policy, parameters: params)
        let trace = Bundled.path(self.trace), cluster = Bundled.path(self.cluster)
        let jobs = try Scenario.load(cluster: cluster, trace: trace, models: models ?? Bundled.path("Traces/models-fitted"))
        let folder = try models ?? LocalFits.localFolder(parts: modelParts,
            networks: jobs.jobs.map(\.model.name), cache: profileCache, image: image,
            limits: profileCpus.split(separator: ",").compactMap { Double($0) }, requests: profileRequests, log: Diagnostics.note)
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: folder)
        if NVML.load() == nil { Diagnostics.note("NVML: \(NVML.unavailableReason)") }
        var options = LiveOptions()
        options.seed = seed
        options.image = image
        let cpus = scenario.cluster.nodes[0].cpus
        let docker = reuseLive == nil ? try DockerClient.fromEnvironment(explicitSocket: dockerSocket) : nil
        // The manifest is known before the runs; each repeat's live and simulated CSV rows
        // carry its id with the repeat and side appended.
        var manifest = try Manifest.singleRun(
            command: "validate", files: [trace, cluster, folder], policy: policy, parameters: params, seed: seed,
            options: ["repeats": "\(repeats)", "image": image, "reuse_live": reuseLive ?? ""])
        if reuseLive == nil, let id = try? LocalFits.imageBinarySHA256(image) { manifest.inputs["image \(image): /qoesim-infer"] = id }
        func keys(_ k: Int, _ side: String) -> RunKeys { RunKeys(runID: "\(manifest.runID)-repeat-\(k)-\(side)", policy: policy, seed: seed) }
        var reports: [ValidationReport] = []
        for k in 1...repeats {
            let dir = out + "/repeat-\(k)"
            let liveTrace = AllocationTrace(nodeCPUs: cpus)
            let recorded: RecordedLiveRun
            if let reuse = reuseLive {
                // A live run recorded before: only the simulation is made again.
                let file = reuse + "/repeat-\(k)/live/recorded.json"
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("--reuse-live: \(file) does not exist (recorded by an earlier `qoesim validate --out \(reuse)`)")
                }
                do { recorded = try JSONDecoder().decode(RecordedLiveRun.self, from: data) } catch {
                    throw ValidationError("--reuse-live: \(file) is not a recorded live run: \(error)")
                }
                guard recorded.models.map(\.id) == scenario.jobs.map(\.id) else {
                    throw ValidationError("--reuse-live: \(file) was recorded for jobs \(recorded.models.map(\.id)), not this trace's")
                }
                Diagnostics.note("repeat \(k) of \(repeats): the live run recorded in \(file), simulated again")
            } else {
                Diagnostics.note("repeat \(k) of \(repeats): live, then simulated")
                let liveWriter = try RunOutputWriter(folder: dir + "/live", scenario: scenario, keys: keys(k, "live"))
                let liveLog = RequestLog(jobs: scenario.jobs.count)
                let live = try LiveRun(
                    scenario: scenario, policy: PolicyRegistry.make(policy, parameters: params), docker: docker!, options: options,
                    log: Diagnostics.note
                ).run(recorder: RecorderFan([liveTrace, liveWriter, liveLog]), observer: liveWriter)
                recorded = RecordedLiveRun(live: live, requests: liveLog)
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                try liveWriter.commit(result: live.result, files: [
                    "docker-updates.csv": DockerUpdateLog.csv(live.updates, keys: keys(k, "live")),
                    "recorded.json": String(decoding: try enc.encode(recorded), as: UTF8.self) + "\n",
                ])
            }
            // The simulation: same trace, seed, policy; actuation delay = the measured docker update latency.
            let delay = (recorded.dockerUpdateMedianMs ?? 0) / 1000
            let simTrace = AllocationTrace(nodeCPUs: cpus)
            let simWriter = try RunOutputWriter(folder: dir + "/sim", scenario: scenario, keys: keys(k, "sim"))
            let simLog = RequestLog(jobs: scenario.jobs.count)
            let sim = try Simulation(
                scenario: scenario, policy: PolicyRegistry.make(policy, parameters: params),
                options: SimulationOptions(sampleInterval: 1, actuationDelay: delay)
            ).run(seed: seed, recorder: RecorderFan([simTrace, simWriter, simLog]), observer: simWriter)
            var report = ValidationReport.compare(live: recorded, sim: sim, simRequests: simLog, jobs: scenario.jobs, policy: policy)
            // A recorded run is comparable only if the simulation releases the same
            // arrivals: the traces' loads are relative to the fits, so fits other than the
            // ones the run was made with change the arrivals.
            if let reuse = reuseLive, let gap = report.paired?.pooled?.maxArrivalGapMs, gap > ValidateCommand.reuseArrivalToleranceMs {
                simWriter.discard()
                // Folders this repeat created and left empty go too.
                for folder in [dir, out] where (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true {
                    try? FileManager.default.removeItem(atPath: folder)
                }
                throw ValidationError("""
                    --reuse-live: the live run in \(reuse)/repeat-\(k) released its requests up to \(String(format: "%.1f", gap)) ms \
                    away from this simulation's: its loads came from other fits (the trace's loads are relative to the fit). \
                    Give the fits it was made with (--models; validate keeps them in \(reuse)/models) or run live again.
                    """)
            }
            try simWriter.commit(result: sim)
            if k == 1 && reuseLive == nil {
                let figure = out + "/trajectories.svg"
                let chart = ValidationReport.trajectories(
                    live: liveTrace, sim: simTrace, ids: scenario.jobs.map(\.id),
                    title: "CPU limits under \(policy): live (solid) vs simulated (dashed), repeat 1")
                try atomicWrite(chart.render(), to: figure)
                try atomicWrite(chart.dataCSV, to: out + "/trajectories.csv")
                report.figure = figure
            }
            reports.append(report)
        }
        // The fits the simulation used go with the results, so that the recorded live runs
        // can be simulated again with them (--reuse-live DIR --models DIR/models).
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".json") }).sorted() {
            let source = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: source) else { throw ValidationError("cannot read \(source)") }
            try FileManager.default.createDirectory(atPath: out + "/models", withIntermediateDirectories: true)
            try atomicWrite(String(decoding: data, as: UTF8.self), to: out + "/models/" + name)
        }
        var summary = RepeatedValidation(reports: reports, fits: folder)
        summary.liveRecordedIn = reuseLive
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try enc.encode(summary), as: UTF8.self)
        try atomicWrite(text + "\n", to: out + "/report.json")
        try manifest.write(to: out)
        print(json ? text : summary.table, terminator: json ? "\n" : "")
    }
}

/// A CSV cell (see `CSVTable.field`).

import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments
import QoESimGPU
import QoESimLive
import QoESimValidation

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
        restart with --live-restore: requests are still measured, limits read back after).
        Containers are removed on exit, on error and on SIGINT, SIGTERM or SIGHUP. Needs a
        running dockerd; a missing image is built from the qoesim-infer next to this qoesim.

        Example:
          qoesim live --trace Traces/validation/jobs.csv --policy dqoes --out /tmp/live
        """)

    @OptionGroup var scenario: LiveScenarioOptions
    @Option(help: "Model folder (fitted models of the same networks).") var models: String = "Traces/models-fitted"
    @Option(help: "Request trace for arrivals=trace jobs.") var requests: String?
    @Option(help: "Policy.") var policy: String = "dqoes"
    @OptionGroup var policyParams: PolicyParameterOptions
    @OptionGroup var engine: EngineOptions
    @Option(help: "Output folder.") var out: String?

    func run() throws {
        let trace = Bundled.path(scenario.trace), cluster = Bundled.path(scenario.cluster), models = Bundled.path(self.models)
        let loaded = try Scenario.load(cluster: cluster, trace: trace, models: models, requests: requests)
        let params = try policyParams.parsed()
        let p = try PolicyRegistry.make(policy, parameters: params)
        if NVML.load() == nil { Diagnostics.note("NVML: \(NVML.unavailableReason)") }
        let docker = try engine.client()
        try WorkloadImage.ensure(engine.image, binary: nil, docker: docker, log: Diagnostics.note)
        var options = LiveOptions()
        options.seed = scenario.seed
        options.image = engine.image
        // The manifest is known before the run; its digest is the run's id in every CSV row.
        let manifest = try out.map { _ in
            try Manifest.singleRun(
                command: "live", files: [trace, cluster, models] + (requests.map { [$0] } ?? []), policy: policy, parameters: params,
                seed: scenario.seed, options: ["image": engine.image])
        }
        let keys = manifest.map { RunKeys(runID: $0.runID, policy: policy, seed: scenario.seed) }
        let writer = try out.map { try RunOutputWriter(folder: $0, scenario: loaded, keys: keys) }
        do {
            let live = try LiveRun(scenario: loaded, policy: p, docker: docker, options: options, log: Diagnostics.note)
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

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Measure the simulation's fidelity: run a trace live on Docker and in the simulator, compare.",
        discussion: """
        Fits belong to the machine they were measured on, so by default the workload's networks are first profiled on this machine through the Docker Engine API (containers with NanoCpus at --profile-cpus, --profile-requests each; co-located; idle-gapped; idle spin) and fitted (power family), or taken from the cache of this machine's profiles (keyed by CPU model, core count, OpenBLAS settings, the engine's version, the SHA-256 of the qoesim-infer binary in the image and the profile settings). A missing workload image is built first from the qoesim-infer next to this qoesim (`swift build -c release` makes both). Then, --repeats times: `qoesim live` on the trace, and the simulator on the same trace, seed and policy with those fits (actuation delay = the measured median `docker update` latency). Reports per model and overall the simulation against the mean of the live repeats and that mean's standard error (SD/sqrt(R)), in percent and in standard errors, for the mean and the p95 latency; the simulation's bias (open loop: the median of each live request's error against its simulated twin, pooled over repeats; closed loop: the error of the mean service time); the satisfied counts by majority of repeats; the CPU the harness (qoesim, the Docker engine) used during the live runs; the goal judged (|error| <= 2 SE, |bias| <= 3%, satisfied counts equal); and, as before, the per-repeat errors with their range and the live repeats against each other (table, report.json, an SVG of the CPU-limit trajectories of the first repeat). With no arguments: the bundled validation trace (3 models, 2 cores, 150 s) under dqoes, 3 repeats (about 10 minutes, plus profiling the first time).
        """)

    @OptionGroup var scenario: LiveScenarioOptions
    @Option(help: "Fitted model folder (default: fits made on this machine, see above).") var models: String?
    @Option(help: "Cache of this machine's profiles and fits.") var profileCache: String = ValidationCampaign.defaultCache
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
    @OptionGroup var policyParams: PolicyParameterOptions
    @Option(help: "Live and simulated runs to make (2 or more for standard errors; Experiments/validation/run.sh uses 5).") var repeats: Int = 3
    @OptionGroup var engine: EngineOptions
    @Option(help: "The qoesim-infer binary to build a missing image from (default: next to this qoesim).") var binary: String?
    @Option(help: "Output folder (repeat-N/{live,sim}/, trajectories.svg, report.json).") var out: String = "Experiments/validation/results"
    @Flag(help: "One JSON object instead of the table.") var json = false
    @Option(help: "Compare with the live runs recorded in this earlier --out folder (repeat-N/live/recorded.json) instead of running live again; only the simulation is made (e.g. after changing the simulator or the fits). Its arrivals must match the recording's, so the fits must give the same loads: --models DIR/models gives the ones it was made with.")
    var reuseLive: String?
    @Flag(help: "Only profile (or take from the cache) and fit this machine's models for the trace's networks, print the folder holding them (inside the profile cache; the --model-parts variant) and stop: no live or simulated run, nothing written to --out.")
    var fitsOnly = false

    var limits: [Double] { profileCpus.split(separator: ",").compactMap { Double($0) } }

    func validate() throws {
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be 1 to 1000") }
        guard (2...10_000).contains(profileRequests) else { throw ValidationError("--profile-requests must be 2 to 10000") }
        guard profileCpus.split(separator: ",", omittingEmptySubsequences: false).count == limits.count, limits.count >= 2,
              limits.allSatisfy({ $0 > 0 && $0 <= 64 }) else {
            throw ValidationError("--profile-cpus needs two or more comma-separated limits in (0, 64]")
        }
        if fitsOnly && (reuseLive != nil || models != nil) {
            throw ValidationError("--fits-only makes this machine's fits: it takes neither --reuse-live nor --models")
        }
        if reuseLive != nil && models == nil {
            throw ValidationError("--reuse-live needs --models: the fits the live runs were made with (DIR/models)")
        }
    }

    func run() throws {
        var campaign = ValidationCampaign(trace: Bundled.path(scenario.trace), cluster: Bundled.path(scenario.cluster), out: out)
        campaign.models = models
        var settings = LocalFits.Settings(limits: limits, requests: profileRequests)
        settings.image = engine.image
        campaign.fits = LocalFits(settings: settings, cache: profileCache)
        campaign.parts = modelParts
        campaign.policy = policy
        campaign.policyParameters = try policyParams.parsed()
        campaign.seed = scenario.seed
        campaign.repeats = repeats
        campaign.docker = reuseLive == nil ? try engine.client() : nil
        campaign.binary = binary
        campaign.reuseLive = reuseLive
        campaign.build = BuildProbe.current
        campaign.referenceModels = Bundled.path(campaign.referenceModels)
        if fitsOnly {
            print(try campaign.machineFits(log: Diagnostics.note))
            return
        }
        let summary = try campaign.run(log: Diagnostics.note)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(summary), as: UTF8.self))
        } else {
            print(summary.table, terminator: "")
        }
    }
}

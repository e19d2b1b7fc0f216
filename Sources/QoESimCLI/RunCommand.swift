import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Simulate one job trace on one cluster under one policy.",
        discussion: """
        Prints a per-model table (or one JSON object with --json) on standard output;
        progress and timings go to standard error. With --out DIR, writes models.csv,
        requests.csv, allocations.csv and usage.csv into DIR (all or nothing).

        Example:
          qoesim run --cluster Traces/example/cluster.json --trace Traces/example/jobs.csv --policy fair-share
        """
    )

    @Option(help: "Cluster file (JSON or YAML): {\"nodes\": [{\"name\": \"n1\", \"cpus\": 8, \"gpus\": 0}]}.")
    var cluster: String

    @Option(help: "Job trace CSV (job_id,model,arrival_s,duration_s,rate_rps,target_ms[,metric,arrivals,cpus,gpu_share,node,workers,weight]).")
    var trace: String

    @Option(help: "Request trace CSV (job_id,time_s[,size]) for jobs with arrivals=trace.")
    var requests: String?

    @Option(help: "Folder of model JSON files.")
    var models: String = "Traces/models"

    @Option(help: "Policy: \(PolicyRegistry.names.joined(separator: ", ")).")
    var policy: String = "fair-share"

    @OptionGroup var policyParams: PolicyParameterOptions

    @Option(help: "Seconds between a policy decision and its effect (docker update latency).")
    var actuationDelay: Double = 0

    @Option(help: "Seed of every random stream.")
    var seed: UInt64 = 1

    @Option(help: "Container placement: spread (Docker Swarm's default) or pack.")
    var placement: String = "spread"

    @Option(help: "Stop at this simulated time (seconds); default: when all jobs finish.")
    var horizon: Double?

    @Option(help: "Folder for models.csv, requests.csv, allocations.csv and usage.csv.")
    var out: String?

    @Option(help: "Significant digits of the percentile histograms: 2 (within 1%), 3 (0.1%) or 4; more digits cost memory and, with many containers, time.")
    var histogramDigits: Int = 2

    @Option(help: "Seconds between usage samples in usage.csv (with --out).")
    var sampleInterval: Double = 1

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "No progress or timing lines on standard error.")
    var quiet = false

    func parsedPolicyParams() throws -> [String: String] { try policyParams.parsed() }

    func validate() throws {
        do {
            _ = try PolicyRegistry.make(policy, parameters: parsedPolicyParams())
        } catch let e as PolicyParameterError {
            throw ValidationError(e.description)
        }
        guard actuationDelay >= 0 && actuationDelay.isFinite else { throw ValidationError("--actuation-delay must be >= 0") }
        if let p = InputLimits.problem("actuation_delay_s", actuationDelay) { throw ValidationError("--actuation-delay: \(p)") }
        guard PlacementStrategy(rawValue: placement) != nil else {
            throw ValidationError("unknown placement '\(placement)'; choose spread or pack")
        }
        if let h = horizon, !(h > 0 && h.isFinite) { throw ValidationError("--horizon must be a positive number") }
        if let h = horizon, let p = InputLimits.problem("horizon_s", h) { throw ValidationError("--horizon: \(p)") }
        guard (2...4).contains(histogramDigits) else { throw ValidationError("--histogram-digits must be 2, 3 or 4") }
        guard sampleInterval > 0 && sampleInterval.isFinite else { throw ValidationError("--sample-interval must be > 0") }
        if let p = InputLimits.problem("sample_interval_s", sampleInterval) { throw ValidationError("--sample-interval: \(p)") }
    }

    func run() throws {
        let models = Bundled.path(self.models), cluster = Bundled.path(self.cluster), trace = Bundled.path(self.trace)
        let requests = self.requests.map(Bundled.path)
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: models, requests: requests)
        let options = SimulationOptions(
            placement: PlacementStrategy(rawValue: placement)!, histogramDigits: histogramDigits, horizon: horizon ?? .infinity,
            sampleInterval: out == nil ? nil : sampleInterval, actuationDelay: actuationDelay)
        let simulation = try Simulation(
            scenario: scenario, policy: PolicyRegistry.make(policy, parameters: parsedPolicyParams()), options: options)
        // The manifest is known before the run; its digest is the run's id in every CSV row.
        let manifest = try out.map { _ in
            try Manifest.singleRun(
                command: "run", files: [cluster, trace, models] + (requests.map { [$0] } ?? []), policy: policy,
                parameters: try parsedPolicyParams(), seed: seed,
                options: [
                    "placement": placement, "histogram_digits": "\(histogramDigits)", "horizon_s": "\(horizon ?? .infinity)",
                    "sample_interval_s": "\(sampleInterval)", "actuation_delay_s": "\(actuationDelay)",
                ])
        }
        let keys = manifest.map { RunKeys(runID: $0.runID, policy: policy, seed: seed) }
        let writer = try out.map { try RunOutputWriter(folder: $0, scenario: scenario, keys: keys) }
        let started = DispatchTime.now()
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9 }
        var lastReport = 0.0
        let result = try simulation.run(seed: seed, recorder: writer, observer: writer) { p in
            guard !quiet else { return }
            let wall = elapsed()
            if wall - lastReport >= 1 {
                lastReport = wall
                Diagnostics.note(String(format: "  simulated %.1f s, %d events, %d jobs not finished (%.1f s wall)",
                                        p.simulatedSeconds, p.events, p.activeJobs, wall))
            }
        }
        let wall = elapsed()
        do {
            try writer?.commit(result: result, files: manifest.map { ["manifest.json": $0.json] } ?? [:])
        } catch {
            writer?.discard()
            throw error
        }
        if !quiet {
            Diagnostics.note(String(
                format: "simulated %.1f s in %.3f s wall (%.0fx real time); %d events, %.2f M events/s; peak memory %.0f MB",
                result.simulatedSeconds, wall, wall > 0 ? result.simulatedSeconds / wall : 0, result.events,
                wall > 0 ? Double(result.events) / wall / 1e6 : 0, ResourceUsage.peakResidentMB()))
        }
        print(json ? ResultFormatter.json(result, wallSeconds: wall) : ResultFormatter.table(result), terminator: json ? "\n" : "")
    }
}

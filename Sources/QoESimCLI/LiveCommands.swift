import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments
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
        latency). Containers are removed on exit, on error and on Ctrl-C. Needs a running dockerd
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
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: models, requests: requests)
        let params = try parsePolicyParams(policyParams)
        let p = try PolicyRegistry.make(policy, parameters: params)
        if NVML.load() == nil { Diagnostics.note("NVML: \(NVML.unavailableReason)") }
        var options = LiveOptions()
        options.seed = seed
        options.image = image
        let writer = try out.map { try RunOutputWriter(folder: $0, scenario: scenario) }
        do {
            let live = try LiveRun(scenario: scenario, policy: p, docker: DockerClient.fromEnvironment(explicitSocket: dockerSocket), options: options, log: Diagnostics.note)
                .run(recorder: writer)
            if let writer, let out {
                try writer.commit(result: live.result)
                var csv = "time_s,job_id,cpu_limit,cpu_shares,api_ms,error\n"
                for u in live.updates { csv += "\(u.time),\(u.job),\(u.cpus.map { "\($0)" } ?? ""),\(u.shares),\(u.apiMs),\(csvField(u.error ?? ""))\n" }
                try atomicWrite(csv, to: out + "/docker-updates.csv")
            }
            for f in live.failures { Diagnostics.note("live: \(f)") }
            print(ResultFormatter.table(live.result), terminator: "")
        } catch {
            writer?.discard()
            throw error
        }
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
        Runs `qoesim live` on the trace, then simulates the same trace, seed and policy with the
        models fitted from profiles of the same workload on this machine, and reports per-model
        mean and p95 latency errors, both satisfied counts and the CPU-limit trajectories side by
        side (table, and an SVG figure with --out). With no arguments: the bundled validation
        trace (3 models, 2 cores, 150 s) under dqoes.
        """)

    @Option(help: "Job trace CSV.") var trace: String = "Traces/validation/jobs.csv"
    @Option(help: "Cluster file with one node: this machine.") var cluster: String = "Traces/validation/cluster.json"
    @Option(help: "Fitted model folder.") var models: String = "Traces/models-fitted"
    @Option(help: "Policy.") var policy: String = "dqoes"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Workload image.") var image: String = "qoesim-infer:local"
    @Option(help: "Docker engine: a socket path, unix:///PATH or tcp://HOST:PORT (default: DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket: String?
    @Option(help: "Output folder (live/, sim/, trajectories.svg, report.json).") var out: String = "Experiments/validation/results"
    @Flag(help: "One JSON object instead of the table.") var json = false

    func run() throws {
        let scenario = try Scenario.load(cluster: cluster, trace: trace, models: models)
        if NVML.load() == nil { Diagnostics.note("NVML: \(NVML.unavailableReason)") }
        var options = LiveOptions()
        options.seed = seed
        options.image = image
        let cpus = scenario.cluster.nodes[0].cpus
        let liveTrace = AllocationTrace(nodeCPUs: cpus)
        let liveWriter = try RunOutputWriter(folder: out + "/live", scenario: scenario)
        let docker = try DockerClient.fromEnvironment(explicitSocket: dockerSocket)
        let live = try LiveRun(scenario: scenario, policy: PolicyRegistry.make(policy)!, docker: docker, options: options, log: Diagnostics.note)
            .run(recorder: RecorderFan([liveTrace, liveWriter]))
        try liveWriter.commit(result: live.result)
        // The simulation: same trace, seed, policy; actuation delay = the measured docker update latency.
        let apiMs = live.updates.filter { $0.error == nil }.map(\.apiMs).sorted()
        let delay = apiMs.isEmpty ? 0 : apiMs[apiMs.count / 2] / 1000
        let simTrace = AllocationTrace(nodeCPUs: cpus)
        let simWriter = try RunOutputWriter(folder: out + "/sim", scenario: scenario)
        let sim = try Simulation(scenario: scenario, policy: PolicyRegistry.make(policy)!, options: SimulationOptions(sampleInterval: 1, actuationDelay: delay))
            .run(seed: seed, recorder: RecorderFan([simTrace, simWriter]))
        try simWriter.commit(result: sim)
        var report = ValidationReport.compare(live: live, sim: sim, policy: policy)
        let figure = out + "/trajectories.svg"
        try atomicWrite(ValidationReport.trajectories(live: liveTrace, sim: simTrace, ids: scenario.jobs.map(\.id), title: "CPU limits under \(policy): live (solid) vs simulated (dashed)").render(), to: figure)
        report.figure = figure
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try enc.encode(report), as: UTF8.self)
        try atomicWrite(text + "\n", to: out + "/report.json")
        print(json ? text : report.table, terminator: json ? "\n" : "")
    }
}

/// A CSV cell: quoted (with quotes doubled) when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

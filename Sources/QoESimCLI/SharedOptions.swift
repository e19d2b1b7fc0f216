import ArgumentParser
import Foundation
import QoESim
import QoESimLive
import QoESimValidation

/// `--policy-param NAME=VALUE` (repeatable), shared by run, live and validate.
struct PolicyParameterOptions: ParsableArguments {
    @Option(name: .customLong("policy-param"), help: ArgumentHelp(
        "A policy parameter, NAME=VALUE (repeatable), e.g. alpha=0.05 for dqoes.",
        discussion: "dqoes: \(PolicyRegistry.defaults("dqoes").map { "\($0)=\($1)" }.joined(separator: " ")); predictive: \(PolicyRegistry.defaults("predictive").map { "\($0)=\($1)" }.joined(separator: " "))"))
    var items: [String] = []

    func validate() throws { _ = try parsed() }

    /// NAME -> VALUE.
    func parsed() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--policy-param needs NAME=VALUE, got '\(item)'") }
            out[parts[0]] = parts[1]
        }
        return out
    }
}

/// The Docker engine and the workload image, shared by live, validate and profile.
struct EngineOptions: ParsableArguments {
    @Option(help: "Workload image (holds /qoesim-infer).") var image: String = WorkloadImage.defaultName
    @Option(help: "Docker engine: a socket path, unix:///PATH or tcp://HOST:PORT (default: DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket: String?

    func client() throws -> DockerClient { try DockerClient.fromEnvironment(explicitSocket: dockerSocket) }
}

/// A live scenario on this machine: the job trace and the one-node cluster, shared by
/// live and validate (defaults: the bundled validation trace).
struct LiveScenarioOptions: ParsableArguments {
    @Option(help: "Job trace CSV (models must be networks of qoesim-infer).") var trace: String = "Traces/validation/jobs.csv"
    @Option(help: "Cluster file with one node: this machine.") var cluster: String = "Traces/validation/cluster.json"
    @Option(help: "Seed of the arrival streams.") var seed: UInt64 = 1
}

extension LocalFits.Parts: ExpressibleByArgument {}

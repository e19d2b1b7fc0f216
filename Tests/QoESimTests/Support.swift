import Foundation
import QoESim

/// Builders for programmatic scenarios used across the tests.
enum Fixture {
    /// An amdahl model; `parallelMs` alone (serial 0, max parallelism 1) is a plain
    /// server whose service time is `parallelMs / cpus`.
    static func model(
        _ name: String = "m", serialMs: Double = 0, parallelMs: Double, maxParallelism: Double = 1,
        variability: Variability = .exponential
    ) -> ModelSpec {
        ModelSpec(
            name: name, latency: LatencyModel(family: .amdahl(serialMs: serialMs, parallelMs: parallelMs), maxParallelism: maxParallelism),
            variability: variability)
    }

    static func job(
        _ id: String, _ model: ModelSpec, rate: Double = 1, duration: Double, arrival: Double = 0,
        target: Double = 1000, metric: QoEMetric = .mean, arrivals: ArrivalProcess = .poisson, cpus: Double? = nil,
        node: String? = nil, workers: Int = 1, weight: Double = 1
    ) -> JobSpec {
        JobSpec(
            id: id, model: model, arrival: arrival, duration: duration, rate: rate, targetMs: target, metric: metric,
            arrivals: arrivals, cpus: cpus, node: node, workers: workers, weight: weight)
    }

    static func cluster(_ nodes: Int, cpus: Double, gpus: Int = 0) -> ClusterSpec {
        ClusterSpec(nodes: (0..<nodes).map { NodeSpec(name: "n\($0)", cpus: cpus, gpus: gpus) })
    }

    /// Relative error |a - b| / |b|.
    static func rel(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

    /// Pooled mean response time (ms) over all models of a result, weighted by requests.
    static func pooledMean(_ r: SimulationResult) -> Double {
        let n = r.models.reduce(0) { $0 + $1.requests }
        return r.models.reduce(0.0) { $0 + ($1.meanMs ?? 0) * Double($1.requests) } / Double(n)
    }

    /// A folder under the system temp directory, removed by the caller.
    static func tempFolder() -> String {
        let p = NSTemporaryDirectory() + "qoesim-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// Root of the package (for the shipped example files).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}

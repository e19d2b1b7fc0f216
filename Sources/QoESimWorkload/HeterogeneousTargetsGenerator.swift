import Foundation
import QoESimEngine
import QoESimLatency

/// Generates the concurrent-models scenario of the paper-8x experiment: N models
/// deployed at once on a cluster, each with its own response-time target.
///
/// Every choice is a parameter (documented in `Experiments/paper-8x/README.md`):
/// - Model i serves `modelMix[i mod count]` (or a seeded random pick with `shuffle`).
/// - Its target is the latency its model has at `c*` cores, where `c*` is drawn
///   log-uniformly (seeded per model) from `targetCores` (absolute cores), or, when
///   `targetShare` is set, from `targetShare` x the equal share (all cores /
///   `shareModels`, by default / `models`), and capped at `reachableFraction` of the
///   model's parallelism: a client that needs near real time asks for a latency that
///   takes many cores, a relaxed one for a latency one core or less gives. The target
///   is stated in `metric` and multiplied by the variability's quantile for p95/p99.
///   With `shareModels` fixed, model i keeps its target whatever `models` is.
/// - Requests arrive closed-loop (each container processes a stream back to back, as
///   the inference jobs of DQoES/FlowCon do), or open-loop by any drawn
///   ``ArrivalProcess`` (Poisson, Gamma, MMPP, ...) at a mean rate of `load` times the
///   rate the model sustains at `c*` cores (`loadBasis: target`) or at the equal share
///   (`loadBasis: equalShare`).
public struct HeterogeneousTargetsGenerator: Sendable, Equatable {
    /// Nodes in the cluster.
    public var nodes = 1
    /// Cores per node.
    public var cpusPerNode = 16.0
    /// Models deployed at once (N).
    public var models = 16
    /// The networks, assigned in turn (or at random with `shuffle`).
    public var modelMix = ["resnet50", "mobilenetv2", "vgg16", "bert-base"]
    /// Whether each model's network is a seeded random pick from `modelMix`.
    public var shuffle = true
    /// The range c* is drawn from, in absolute cores (unless `targetShare` is set).
    public var targetCores: ClosedRange<Double> = 0.75...6
    /// When set, c* is drawn from this range times the equal share (overrides `targetCores`).
    public var targetShare: ClosedRange<Double>? = nil
    /// The number of models the equal share is computed for (nil: `models`).
    public var shareModels: Int? = nil
    /// How requests arrive (closed loop by default).
    public var arrivals: ArrivalProcess = .closed
    /// For open-loop arrivals (Poisson or another drawn process): mean rate = load /
    /// latency(c*) or load / latency(equal share).
    public var load = 0.7
    /// What `load` is relative to.
    public var loadBasis: LoadBasis = .target

    /// What a Poisson `load` is relative to.
    public enum LoadBasis: String, Sendable, Equatable, CaseIterable {
        /// The rate the model sustains at its target's c* cores.
        case target
        /// The rate the model sustains at the equal share of the node.
        case equalShare = "equal_share"
    }

    /// Cores each model gets when all cores are split equally among `shareModels`
    /// (or `models`) models.
    public var equalShare: Double { cpusPerNode * Double(max(1, nodes)) / Double(max(1, shareModels ?? models)) }
    /// How long each model is served, seconds.
    public var durationS = 600.0
    /// Arrivals are spread uniformly over [0, arrivalSpreadS].
    public var arrivalSpreadS = 0.0
    /// The metric every target is stated in.
    public var metric: QoEMetric = .mean
    /// c* is capped at this fraction of the model's max parallelism.
    public var reachableFraction = 0.75

    /// The generator with the documented defaults (16 models, one 16-core node, closed loop).
    public init() {}

    /// The cluster of the scenario: `nodes` nodes named n1, n2, ... with `cpusPerNode`.
    public func cluster() -> [(name: String, cpus: Double)] {
        (1...max(1, nodes)).map { ("n\($0)", cpusPerNode) }
    }

    /// The jobs for `seed`. Draws come from streams keyed by the job index, so model i's
    /// target is the same whatever N is.
    public func jobs(catalog: ModelCatalog, seed: UInt64) throws -> [JobSpec] {
        var jobs: [JobSpec] = []
        for i in 0..<models {
            var rng = RandomStream(seed: seed, key: "paper-8x/model-\(i)", purpose: .policy)
            let name = shuffle ? modelMix[Int(rng.next() % UInt64(modelMix.count))] : modelMix[i % modelMix.count]
            guard let spec = catalog.models[name] else {
                throw GeneratorError("model '\(name)' of model_mix is not in the model folder")
            }
            let u = rng.nextUnitInterval()
            let range = targetShare.map { ($0.lowerBound * equalShare)...($0.upperBound * equalShare) } ?? targetCores
            let lo = Foundation.log(range.lowerBound), hi = Foundation.log(range.upperBound)
            // Never tighter than what 3/4 of the model's parallelism gives: every target
            // is reachable with some margin, none sits exactly at the model's best.
            let cores = min(Foundation.exp(lo + u * (hi - lo)), reachableFraction * spec.latency.maxParallelism)
            let latency = spec.latency.latencySeconds(cpus: cores)
            let loadLatency = loadBasis == .target ? latency : spec.latency.latencySeconds(cpus: equalShare)
            var target = latency * 1000
            switch metric {
            case .mean: break
            case .p95: target *= spec.variability.quantileFactor(0.95)
            case .p99: target *= spec.variability.quantileFactor(0.99)
            }
            let arrival = arrivalSpreadS > 0 ? rng.nextUnitInterval() * arrivalSpreadS : 0
            jobs.append(JobSpec(
                id: String(format: "m%02d-%@", i, name), model: spec, arrival: arrival, duration: durationS,
                rate: arrivals.drawsArrivals ? load / loadLatency : 0, targetMs: (target * 1000).rounded() / 1000, metric: metric,
                arrivals: arrivals))
        }
        return jobs
    }
}

/// A bad generator setting.
public struct GeneratorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// An error with the message `d`, which names the setting and the accepted values.
    public init(_ d: String) { description = d }
}

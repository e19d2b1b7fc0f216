import Foundation
import QoESimEngine
import QoESimFit

/// Mean and 95% confidence interval of a sample (Student's t, two-sided).
public struct MeanCI: Sendable, Equatable, Codable {
    public var n: Int
    public var mean: Double
    /// Half-width of the 95% interval (0 for n < 2).
    public var halfWidth: Double

    public init(_ xs: [Double]) {
        n = xs.count
        mean = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
        guard xs.count >= 2 else {
            halfWidth = 0
            return
        }
        let m = mean
        let variance = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        halfWidth = MeanCI.t975(df: xs.count - 1) * (variance / Double(xs.count)).squareRoot()
    }

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }

    /// The 97.5% quantile of Student's t with `df` degrees of freedom (GSL).
    public static func t975(df: Int) -> Double { StudentT.quantile(0.975, df: df) }
}

/// A policy against a baseline over the same seeds (common random numbers): the paired
/// difference with its t interval, the baseline's own interval, and the ratio of means
/// with a bootstrap interval, given only where the baseline is bounded away from zero.
public struct PairedComparison: Sendable, Equatable, Encodable {
    /// Seeds present for both.
    public var seeds: Int
    public var policyMean: Double
    public var baselineMean: Double
    /// The baseline's mean, 95% t interval [lower, upper].
    public var baselineCI95: [Double]
    /// Mean of (policy - baseline) per seed.
    public var pairedDiff: Double
    /// 95% t interval of the paired difference [lower, upper].
    public var pairedDiffCI95: [Double]
    /// policy mean / baseline mean; nil unless the baseline's lower bound is above 0.
    public var ratio: Double?
    /// Bootstrap 95% interval of the ratio (percentile method over resampled seeds);
    /// nil when `ratio` is. An upper bound of infinity means some resamples had a
    /// baseline mean of 0.
    public var ratioCI95: [Double]?

    enum CodingKeys: String, CodingKey {
        case seeds, ratio
        case policyMean = "policy_mean", baselineMean = "baseline_mean", baselineCI95 = "baseline_ci95"
        case pairedDiff = "paired_diff", pairedDiffCI95 = "paired_diff_ci95", ratioCI95 = "ratio_ci95"
    }

    /// Compares `policy[seed]` with `baseline[seed]` over the seeds both have.
    /// `resamples` bootstrap resamples of the seeds are drawn from a stream seeded with
    /// `bootstrapSeed`, so the interval is the same on every run.
    public init(policy: [UInt64: Double], baseline: [UInt64: Double], resamples: Int = 10_000, bootstrapSeed: UInt64 = 20_201_026) {
        let seeds = policy.keys.filter { baseline[$0] != nil }.sorted()
        let x = seeds.map { policy[$0]! }, y = seeds.map { baseline[$0]! }
        self.seeds = seeds.count
        let px = MeanCI(x), by = MeanCI(y), d = MeanCI(zip(x, y).map { $0 - $1 })
        policyMean = px.mean
        baselineMean = by.mean
        baselineCI95 = [by.low, by.high]
        pairedDiff = d.mean
        pairedDiffCI95 = [d.low, d.high]
        guard seeds.count >= 2, by.low > 0 else {
            ratio = nil
            ratioCI95 = nil
            return
        }
        ratio = px.mean / by.mean
        var rng = RandomStream(seed: bootstrapSeed, key: "bootstrap", purpose: .policy)
        var ratios = [Double](repeating: 0, count: resamples)
        let n = seeds.count
        for r in 0..<resamples {
            var sx = 0.0, sy = 0.0
            for _ in 0..<n {
                let k = Int(rng.next() % UInt64(n))
                sx += x[k]
                sy += y[k]
            }
            ratios[r] = sy > 0 ? sx / sy : (sx > 0 ? .infinity : 1)
        }
        ratios.sort()
        func pct(_ q: Double) -> Double { ratios[min(resamples - 1, max(0, Int((q * Double(resamples)).rounded(.down))))] }
        ratioCI95 = [pct(0.025), pct(0.975)]
    }
}

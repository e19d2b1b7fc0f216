import CGSL
import Foundation

/// A Gamma renewal process fitted to inter-arrival times by maximum likelihood: the
/// shape k solves log k - psi(k) = log(mean) - mean(log gap) (Newton's method on GSL's
/// digamma and trigamma, from the Choi-Wette starting value), the scale is mean / k. The
/// process's mean rate is 1 / mean gap and its cv 1 / sqrt(k).
///
/// Gaps of 0 (simultaneous arrivals) have no logarithm: they are raised to the trace's
/// smallest positive gap, and how many were is kept in ``zeroGaps``.
public struct GammaRenewalFit: Sendable, Equatable, Codable {
    /// Mean arrival rate, requests per second.
    public let rate: Double
    /// The fitted shape k.
    public let shape: Double
    /// The cv of the fitted law, 1 / sqrt(k).
    public var cv: Double { 1 / shape.squareRoot() }
    /// The gaps' own cv (sample SD / mean): the cv of the Gamma law fitted by moments
    /// instead (its shape 1 / cv^2). Maximum likelihood fits the bulk of the gaps, moments
    /// their spread: on a heavy-tailed trace the two differ (Azure code: 2.0 against 13).
    public let momentCV: Double
    /// Log-likelihood of the gaps under the fit.
    public let logLikelihood: Double
    /// Gaps fitted.
    public let gaps: Int
    /// Gaps of 0 raised to the smallest positive gap.
    public let zeroGaps: Int

    /// Fits the gaps (at least 2, not all equal); nil when they cannot be fitted.
    public static func fit(gaps raw: [Double]) -> GammaRenewalFit? {
        let positive = raw.filter { $0 > 0 }
        guard raw.count >= 2, let floor = positive.min() else { return nil }
        let gaps = raw.map { max($0, floor) }
        let rawMean = raw.reduce(0, +) / Double(raw.count)
        let n = Double(gaps.count)
        let mean = gaps.reduce(0, +) / n
        let meanLog = gaps.reduce(0) { $0 + log($1) } / n
        let s = log(mean) - meanLog
        guard s > 1e-12 else { return nil }
        var k = (3 - s + ((s - 3) * (s - 3) + 24 * s).squareRoot()) / (12 * s)
        for _ in 0..<100 {
            let f = log(k) - gsl_sf_psi(k) - s
            let df = 1 / k - gsl_sf_psi_1(k)
            let step = f / df
            var next = k - step
            if next <= 0 { next = k / 2 }
            if abs(next - k) <= 1e-12 * k { k = next; break }
            k = next
        }
        let theta = mean / k
        let ll = (k - 1) * meanLog * n - n * mean / theta - n * gsl_sf_lngamma(k) - n * k * log(theta)
        let sd = (raw.reduce(0) { $0 + ($1 - rawMean) * ($1 - rawMean) } / Double(raw.count - 1)).squareRoot()
        return GammaRenewalFit(
            rate: 1 / mean, shape: k, momentCV: sd / rawMean, logLikelihood: ll, gaps: gaps.count, zeroGaps: raw.count - positive.count)
    }
}

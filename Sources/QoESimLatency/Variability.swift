import QoESimEngine
import Foundation

/// The per-request multiplicative noise on a model's latency: each request's service
/// demand is `latency(allocation) * size * factor`, with `factor` drawn from this
/// distribution. Every distribution has mean 1, so the latency model gives the mean.
public enum Variability: Sendable, Equatable {
    /// factor = 1 (no noise).
    case deterministic
    /// factor ~ Exp(1): coefficient of variation 1 (the M/M/1 textbook case).
    case exponential
    /// factor ~ LogNormal with mean 1 and the given coefficient of variation.
    case lognormal(cv: Double)

    /// Coefficient of variation of the factor.
    public var cv: Double {
        switch self {
        case .deterministic: return 0
        case .exponential: return 1
        case .lognormal(let cv): return cv
        }
    }

    /// Draws one factor from `stream`.
    @inlinable public func sample(_ stream: inout RandomStream) -> Double {
        switch self {
        case .deterministic:
            return 1
        case .exponential:
            return stream.nextExponential(mean: 1)
        case .lognormal(let cv):
            // sigma^2 = ln(1 + cv^2), mu = -sigma^2 / 2 gives mean 1 and the requested cv.
            let s2 = Foundation.log1p(cv * cv)
            return Foundation.exp(-0.5 * s2 + s2.squareRoot() * stream.nextStandardNormal())
        }
    }

    /// The factor's `q` quantile (0.95 or 0.99; other values are rounded to the nearer
    /// of the two), i.e. how much a p95/p99 exceeds the mean for this distribution.
    public func quantileFactor(_ q: Double) -> Double {
        switch self {
        case .deterministic: return 1
        case .exponential: return -Foundation.log(1 - q)
        case .lognormal(let cv):
            // Standard normal quantiles for the two percentiles targets use.
            let s2 = Foundation.log1p(cv * cv)
            let z = q >= 0.97 ? 2.3263478740408408 : 1.6448536269514722
            return Foundation.exp(-0.5 * s2 + s2.squareRoot() * z)
        }
    }

    /// Name as written in model files.
    public var distributionName: String {
        switch self {
        case .deterministic: return "deterministic"
        case .exponential: return "exponential"
        case .lognormal: return "lognormal"
        }
    }
}

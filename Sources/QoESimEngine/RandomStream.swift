import Foundation

/// A seeded pseudo-random stream (xoshiro256**), one per job and purpose.
///
/// Streams are derived from `(seed, key, purpose)` by hashing, never from a shared
/// generator, so adding or removing a job does not change the numbers any other job
/// draws (invariant E3), and the same seed replays the same run.
public struct RandomStream: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates the stream for `key` (e.g. a job id) and `purpose` under `seed`.
    public init(seed: UInt64, key: String, purpose: RandomPurpose) {
        self.init(seed: seed, key: RandomStream.stableHash(key), purpose: purpose.rawValue)
    }

    /// Creates a stream from raw 64-bit components.
    public init(seed: UInt64, key: UInt64, purpose: UInt64) {
        var sm = SplitMix64(state: seed ^ 0x5155_4F45_5369_6D21) // "QUOESim!"
        var x = sm.next() ^ key
        x = SplitMix64.mix(x) ^ purpose &* 0x9E37_79B9_7F4A_7C15
        var init2 = SplitMix64(state: SplitMix64.mix(x))
        s0 = init2.next(); s1 = init2.next(); s2 = init2.next(); s3 = init2.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// FNV-1a over the UTF-8 bytes: stable across processes and platforms, unlike
    /// Swift's randomly seeded `Hasher`.
    public static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform double in the open-closed interval (0, 1].
    @inlinable public mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) &+ 1) * 0x1.0p-53
    }

    /// An exponential variate with the given mean.
    @inlinable public mutating func nextExponential(mean: Double) -> Double {
        -mean * Foundation.log(nextUnitInterval())
    }

    /// A Gamma variate of `shape` and `scale` (mean shape x scale): Marsaglia and Tsang's
    /// squeeze (2000); a shape below 1 is boosted, G(shape + 1) x U^(1/shape), taken in
    /// logarithms so that a tiny shape (a cv of 100 is a shape of 1e-4) gives 0 rather
    /// than NaN when the variate is below the smallest double. The number of uniforms a
    /// draw consumes varies (rejections), so a stream is deterministic but not aligned
    /// with other processes' streams.
    public mutating func nextGamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            let boosted = nextGamma(shape: shape + 1, scale: 1)
            let logValue = Foundation.log(boosted) + Foundation.log(nextUnitInterval()) / shape
            return scale * Foundation.exp(logValue)
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = nextStandardNormal()
            let v0 = 1 + c * x
            guard v0 > 0 else { continue }
            let v = v0 * v0 * v0
            let u = nextUnitInterval()
            if u < 1 - 0.0331 * x * x * x * x { return scale * d * v }
            if Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return scale * d * v }
        }
    }

    /// A Weibull variate of `shape` and `scale`, by inversion (one uniform).
    @inlinable public mutating func nextWeibull(shape: Double, scale: Double) -> Double {
        scale * Foundation.pow(-Foundation.log(nextUnitInterval()), 1 / shape)
    }

    /// A standard normal variate (Box-Muller; one of the pair is used, so that each
    /// call consumes exactly two uniforms and streams stay easy to reason about).
    @inlinable public mutating func nextStandardNormal() -> Double {
        let u1 = nextUnitInterval()
        let u2 = nextUnitInterval()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// What a random stream is used for. Each purpose of each job gets its own stream.
public enum RandomPurpose: UInt64, Sendable {
    /// Inter-arrival times of a job's requests.
    case arrivals = 1
    /// Per-request service-time variability factors.
    case service = 2
    /// Anything a policy or experiment needs (e.g. randomized tie-breaking).
    case policy = 3
}

@usableFromInline struct SplitMix64 {
    @usableFromInline var state: UInt64
    @inlinable init(state: UInt64) { self.state = state }
    @inlinable mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }
    @inlinable static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

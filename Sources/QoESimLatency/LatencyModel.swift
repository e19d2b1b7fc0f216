/// How long one inference request of a model takes at a given allocation.
///
/// Families (the `family` field of a model file):
/// - `amdahl`: `latency(c) = serial_ms / min(c, 1) + parallel_ms / min(c, max_parallelism)`.
/// - `power`: `latency(c) = a_ms / min(c, 1) + b_ms * min(c, max_parallelism)^(-k)`.
/// - `gpu`: `latency(c, g) = overhead_ms + cpu_ms / min(c, max_parallelism) + gpu_ms / g`,
///   with `g` the fraction of one GPU the request gets (time-slice share).
///
/// Below one core the serial part (amdahl's `serial_ms`, power's `a_ms`) is slowed too:
/// a CFS quota of c < 1 cores runs *every* instruction at rate c, serial ones included.
/// The measured profiles support this form: fitted on limits of 1-2 cores only, it
/// predicts the held-out limits 0.25-0.75 better than the form that keeps the serial
/// part at full speed (the test "Below one core the serial part slows too" prints both
/// errors; Docs/LATENCY.md quotes them).
///
/// `c` is the number of CPU cores (fractional) the request gets. Preconditions:
/// `c > 0`, and `g > 0` for the gpu family. Postcondition: the result is finite and
/// positive.
public struct LatencyModel: Sendable, Equatable {
    /// The parametric form and its parameters (milliseconds).
    public enum Family: Sendable, Equatable {
        /// `serial_ms + parallel_ms / min(c, max_parallelism)` (the serial part also slows below one core).
        case amdahl(serialMs: Double, parallelMs: Double)
        /// `a_ms + b_ms * min(c, max_parallelism)^-k`.
        case power(aMs: Double, bMs: Double, k: Double)
        /// `overhead_ms + cpu_ms / min(c, max_parallelism) + gpu_ms / g`, g the GPU fraction.
        case gpu(overheadMs: Double, cpuMs: Double, gpuMs: Double)
    }

    /// The family and its parameters.
    public var family: Family
    /// The most cores one request can use; more CPU does not make it faster, and the
    /// CPU scheduler gives the excess to others. `.infinity` for no bound.
    public var maxParallelism: Double

    /// A model of `family`, using at most `maxParallelism` cores per request.
    public init(family: Family, maxParallelism: Double) {
        self.family = family
        self.maxParallelism = maxParallelism
    }

    /// Whether requests of this model need a GPU.
    @inlinable public var usesGPU: Bool {
        if case .gpu = family { return true }
        return false
    }

    /// Latency in seconds of one request that gets `cpus` cores and `gpuFraction` of a GPU.
    @inlinable public func latencySeconds(cpus: Double, gpuFraction: Double = 1) -> Double {
        let c = min(cpus, maxParallelism)
        switch family {
        case let .amdahl(s, p):
            return (s / min(c, 1) + p / c) * 0.001
        case let .power(a, b, k):
            return (a / min(c, 1) + b * _pow(c, -k)) * 0.001
        case let .gpu(o, cpu, gpu):
            return (o + cpu / c + gpu / gpuFraction) * 0.001
        }
    }

    /// Short name of the family, as written in model files.
    public var familyName: String {
        switch family {
        case .amdahl: return "amdahl"
        case .power: return "power"
        case .gpu: return "gpu"
        }
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif

/// The documented range of every numeric input field, by field name (Docs/LIMITS.md).
///
/// A value that parses but lies beyond its field's limit is refused by the reader with
/// `FILE:LINE: FIELD: VALUE is beyond the limit ...`, so that no simulation starts with
/// values it cannot represent or finish (a rate of 1e300 requests per second never lets
/// the clock advance; a weight of 1e308 overflows a sum of weights; a cv of 1e308 makes
/// every service time infinite). The limits are far beyond any real deployment, and each
/// says why it is where it is.
public enum InputLimits {
    /// A closed range for one field, with its unit and reason.
    public struct Limit: Sendable {
        /// The accepted values, inclusive.
        public let range: ClosedRange<Double>
        /// The unit the values are in.
        public let unit: String
        /// Why the bounds are where they are.
        public let why: String
    }

    /// Limits by field name (the name after the last `.`, e.g. `latency.serial_ms` ->
    /// `serial_ms`).
    public static let byName: [String: Limit] = {
        let cores = Limit(range: 0...4096, unit: "cores", why: "the largest machines have a few hundred cores")
        let seconds = Limit(range: 0...1e9, unit: "s", why: "about 32 years of simulated time")
        let ms = Limit(range: 0...1e9, unit: "ms", why: "about 11.6 days per request")
        return [
            "cpus": cores, "cpus_per_node": cores, "target_cpus": cores,
            "gpus": Limit(range: 0...64, unit: "GPUs", why: "per node"),
            "nodes": Limit(range: 1...100_000, unit: "nodes", why: "a generated cluster"),
            "models": Limit(range: 1...1_000_000, unit: "models", why: "a generated scenario; memory limits jobs further"),
            "share_models": Limit(range: 1...1_000_000, unit: "models", why: "a generated scenario"),
            "max_containers": Limit(range: 0...1e6, unit: "containers", why: "per node"),
            "arrival_s": seconds, "duration_s": seconds, "time_s": seconds, "horizon_s": seconds, "arrival_spread_s": seconds,
            "actuation_delay_s": seconds, "sample_interval_s": seconds,
            "rate_rps": Limit(range: 0...1e6, unit: "requests/s", why: "a million requests per second per model"),
            "load": Limit(range: 0...1e6, unit: "x", why: "a load factor"),
            "target_ms": ms, "serial_ms": ms, "parallel_ms": ms, "overhead_ms": ms, "cpu_ms": ms, "gpu_ms": ms, "a_ms": ms,
            "b_ms": ms, "after_ms": ms,
            "k": Limit(range: 0...10, unit: "", why: "the power family's exponent; real speed-ups have k <= 1"),
            "max_parallelism": Limit(range: 0...4096, unit: "cores", why: "threads one request can use"),
            "workers": Limit(range: 1...1024, unit: "workers", why: "requests a container serves at once"),
            "weight": Limit(range: 1e-6...1e6, unit: "", why: "Docker's cpu.shares span 2-262144, a ratio of 1.3e5"),
            "gpu_share": Limit(range: 0...1e6, unit: "", why: "a relative GPU time-slice weight"),
            "cv": Limit(range: 0...100, unit: "", why: "coefficient of variation of service times"),
            "size": Limit(range: 0...1e6, unit: "x", why: "a request's demand relative to a typical one"),
            "factor": Limit(range: 0...100, unit: "x", why: "the cold-start slowdown"),
            "gamma_cv": Limit(range: 0.01...100, unit: "", why: "cv of Gamma inter-arrival times; 100 is a shape of 1e-4"),
            "weibull_shape": Limit(range: 0.05...100, unit: "", why: "below 0.05 the Weibull mean overflows Gamma(1 + 2/k)"),
            "sinusoid_amplitude": Limit(range: 0...1, unit: "", why: "a rate never below 0"),
            "sinusoid_period_s": Limit(range: 1e-3...1e9, unit: "s", why: "a rate that swings faster than each millisecond is a constant one"),
            "sinusoid_phase_s": seconds, "start_s": seconds,
            "mean_dwell_s": Limit(range: 1e-3...1e9, unit: "s", why: "a state under a millisecond is not a burst; bounds state changes per simulated second"),
            "end_timestamp": seconds, "duration": seconds, "Timestamp": seconds,
            "multiplier": Limit(range: 0...1e6, unit: "x", why: "a factor on the job's rate"),
        ]
    }()

    /// A description of how `value` breaks the limit of field `name`, or nil when it is
    /// within it (or the field has no documented limit).
    public static func problem(_ name: String, _ value: Double) -> String? {
        // (Called for every numeric field of every row: no split when there is no dot.)
        let key = name.utf8.contains(UInt8(ascii: ".")) ? (name.split(separator: ".").last.map(String.init) ?? name) : name
        guard let limit = byName[key], !limit.range.contains(value) else { return nil }
        // Below a lower bound of 0 is the reader's own sign check ("must be > 0").
        if value < limit.range.lowerBound && limit.range.lowerBound <= 0 { return nil }
        func f(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }
        let unit = limit.unit.isEmpty ? "" : " \(limit.unit)"
        let bound = value > limit.range.upperBound ? "at most \(f(limit.range.upperBound))\(unit)" : "at least \(f(limit.range.lowerBound))\(unit)"
        return "\(f(value)) is beyond the limit: \(key) must be \(bound) (\(limit.why); Docs/LIMITS.md)"
    }
}

import Foundation
import QoESimWorkload

/// Fits arrival processes to a request trace and judges them on data the fit did not
/// see (`qoesim fit-arrivals`).
///
/// Design, fixed before any fit: the trace's window [0, duration) is cut in two halves;
/// a Gamma renewal process (``GammaRenewalFit``: by maximum likelihood, and with the
/// gaps' own cv, "gamma-moments") and MMPPs of 1 to `maxStates` states
/// (``MMPPFit``, the number chosen by BIC) are fitted on the first half only. Each fitted
/// process, and a Poisson process at the first half's rate, then generates `replicates`
/// samples as long as the second half (seeds 1...replicates); on each sample and on the
/// trace's second half are computed the mean rate, the cv of inter-arrival times, the
/// index of dispersion of counts in 1, 10 and 60 s windows, and the KS distance of the
/// inter-arrival times to the trace's second half. A model reproduces a statistic when
/// the trace's value lies inside the 2.5-97.5% range of its replicates.
public enum ArrivalFitter {
    /// One statistic: the trace's held-out value and each model's replicates.
    public struct Statistic: Sendable, Codable {
        /// Its name (`rate_rps`, `interarrival_cv`, `idc_1s`, ..., `ks_distance`).
        public let name: String
        /// The value on the trace's held-out half (nil where it is undefined; for the KS
        /// distance, 0: the trace against itself).
        public let trace: Double?
        /// Per model (`mmpp`, `gamma`, `gamma-moments`, `poisson`): the replicates' median
        /// and 2.5-97.5%.
        public let models: [String: Spread]
    }

    /// The median and 2.5-97.5% range of a statistic over replicates.
    public struct Spread: Sendable, Codable {
        public let median: Double
        public let low: Double
        public let high: Double
        /// Whether the trace's value lies in [low, high] (for the KS distance: whether the
        /// median distance is below the 5% critical value).
        public let reproduces: Bool
    }

    /// Everything a fit found.
    public struct Report: Sendable {
        /// The window [0, duration) the trace was read over, and where it was cut.
        public let duration: Double
        public let split: Double
        /// Requests in each half.
        public let trainingRequests: Int
        public let heldOutRequests: Int
        /// The Gamma renewal fit of the first half.
        public let gamma: GammaRenewalFit
        /// Every MMPP fitted (K = 1, 2, ...), and the one BIC chose.
        public let candidates: [MMPPFit]
        public let chosen: MMPPFit
        /// The statistics on the held-out half.
        public let statistics: [Statistic]
        /// Replicates per model, and the two-sample KS critical value at 5% for the
        /// held-out gaps against one replicate of the same length.
        public let replicates: Int
        public let ksCritical: Double
    }

    /// The windows of the index of dispersion, seconds.
    public static let windows: [Double] = [1, 10, 60]

    /// Fits and judges `times` (seconds from the trace's start, any order) over
    /// [0, `duration`).
    public static func fit(
        times raw: [Double], duration: Double, bin: Double = 0.1, maxStates: Int = 4, replicates: Int = 40
    ) throws -> Report {
        let times = raw.filter { $0 >= 0 && $0 < duration }.sorted()
        let split = duration / 2
        let training = times.filter { $0 < split }
        let heldOut = times.filter { $0 >= split }.map { $0 - split }
        guard training.count >= 10, heldOut.count >= 10 else {
            throw ArrivalFitError("the trace has \(training.count) and \(heldOut.count) requests in its two halves; at least 10 each are needed")
        }
        guard let gamma = GammaRenewalFit.fit(gaps: ArrivalStatistics.gaps(training)) else {
            throw ArrivalFitError("the first half's inter-arrival times cannot be fitted by a Gamma law (all equal?)")
        }
        let counts = MMPPFit.counts(training, duration: split, bin: bin)
        let candidates = (1...max(1, maxStates)).compactMap { MMPPFit.fit(counts: counts, bin: bin, states: $0) }
        guard let chosen = candidates.min(by: { $0.bic < $1.bic }) else {
            throw ArrivalFitError("the first half has \(counts.count) bins of \(bin) s: too few to fit an MMPP")
        }
        let trainingRate = Double(training.count) / split
        let models: [(String, ArrivalProcess, Double)] = [
            ("mmpp", .mmpp(chosen.mmpp, file: "mmpp.csv"), chosen.mmpp.meanRate),
            ("gamma", .gamma(cv: gamma.cv), gamma.rate),
            ("gamma-moments", .gamma(cv: min(max(gamma.momentCV, 0.01), 100)), gamma.rate),
            ("poisson", .poisson, trainingRate),
        ]
        let traceGaps = ArrivalStatistics.gaps(heldOut)
        func statistics(_ t: [Double]) -> [Double?] {
            [ArrivalStatistics.rate(t, duration: split), ArrivalStatistics.interArrivalCV(t)]
                + windows.map { ArrivalStatistics.indexOfDispersion(t, window: $0, duration: split) }
                + [ArrivalStatistics.ksDistance(ArrivalStatistics.gaps(t), traceGaps)]
        }
        let names = ["rate_rps", "interarrival_cv"] + windows.map { "idc_\(Int($0))s" } + ["ks_distance"]
        let onTrace = statistics(heldOut)
        var perModel: [String: [[Double?]]] = [:]
        for (name, process, rate) in models {
            perModel[name] = (1...replicates).map { r in
                statistics(ArrivalSchedule.times(of: process, rate: rate, duration: split, seed: UInt64(r), key: "fit-arrivals-\(name)"))
            }
        }
        let critical = ArrivalStatistics.ksCritical95(traceGaps.count, max(traceGaps.count, 1))
        var out: [Statistic] = []
        for (s, name) in names.enumerated() {
            var spreads: [String: Spread] = [:]
            for (model, _, _) in models {
                let values = perModel[model]!.compactMap { $0[s] }.sorted()
                guard !values.isEmpty else { continue }
                func q(_ p: Double) -> Double { values[min(values.count - 1, Int((p * Double(values.count - 1)).rounded()))] }
                let (low, median, high) = (q(0.025), q(0.5), q(0.975))
                let reproduces = name == "ks_distance" ? median <= critical : onTrace[s].map { $0 >= low && $0 <= high } ?? false
                spreads[model] = Spread(median: median, low: low, high: high, reproduces: reproduces)
            }
            out.append(Statistic(name: name, trace: onTrace[s], models: spreads))
        }
        return Report(
            duration: duration, split: split, trainingRequests: training.count, heldOutRequests: heldOut.count, gamma: gamma,
            candidates: candidates, chosen: chosen, statistics: out, replicates: replicates, ksCritical: critical)
    }
}

/// A trace that cannot be fitted.
public struct ArrivalFitError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

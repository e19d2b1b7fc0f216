import Foundation
import QoESim
import QoESimExperiments

/// The simulation judged against the live runs' own uncertainty: per model and overall,
/// the simulation's error against the mean of the R live repeats, that mean's standard
/// error (the SD of the repeats / sqrt(R)), and the simulation's bias measured per
/// request; the fidelity goal checked on each.
///
/// Definitions (every number is computed here from the repeats, none is given):
/// - *live mean*: the mean over repeats of a model's live mean (or p95) latency; its
///   standard error SE = sample SD over repeats / sqrt(R) (none with R < 2).
/// - *sim*: the mean over the repeats' simulations (they differ only in the actuation
///   delay, each repeat's measured `docker update` median).
/// - *error*: 100 (sim - live mean) / live mean, signed; *error/SE*: (sim - live mean) / SE.
/// - *bias*: open-loop jobs: the median of the paired per-request response-time error,
///   (sim - live) / live of the k-th arrival, pooled over repeats (p10/p50/p90 given);
///   closed-loop jobs (no common arrivals to pair): the error of the mean service time
///   (completion - start), the mean over repeats on each side.
/// - *overall*: per repeat, the mean over models of latency / target (models measured
///   on both sides in every repeat), then as above; overall bias: the open-loop pairs
///   pooled over all jobs, and the median of the closed-loop jobs' service errors.
/// - *satisfied*: a model is satisfied by a side's majority when satisfied in more
///   than half its repeats (a tie is not a majority).
///
/// The goal: every model and the overall within ``standardErrorLimit`` SE on the mean
/// and on the p95, every |bias| <= ``biasLimitPct``, and the simulation's majority
/// satisfied count equal to the live one's. Judged only with R >= 2.
public struct FidelitySummary: Sendable, Encodable {
    /// |sim - live mean| may be at most this many standard errors of the live mean.
    public static let standardErrorLimit = 2.0
    /// |bias| may be at most this, percent.
    public static let biasLimitPct = 3.0

    /// One statistic (a mean or p95 latency, or the overall score): the live repeats'
    /// mean and its standard error against the simulation.
    public struct Estimate: Sendable, Encodable, Equatable {
        public var live: Double
        public var liveSE: Double?
        public var sim: Double
        public var errorPct: Double
        public var errorSE: Double?
        /// |sim - live| <= 2 SE (nil with no SE).
        public var withinLimit: Bool?
        enum CodingKeys: String, CodingKey {
            case live, sim
            case liveSE = "live_se", errorPct = "error_pct", errorSE = "error_se", withinLimit = "within_limit"
        }

        /// nil when either side has no value in some repeat, or the live mean is not > 0.
        public init?(live: [Double?], sim: [Double?]) {
            let l = live.compactMap { $0 }, s = sim.compactMap { $0 }
            guard !l.isEmpty, l.count == live.count, !s.isEmpty, s.count == sim.count else { return nil }
            let mean = l.reduce(0, +) / Double(l.count)
            guard mean > 0 else { return nil }
            self.live = mean
            self.sim = s.reduce(0, +) / Double(s.count)
            errorPct = 100 * (self.sim - mean) / mean
            if l.count >= 2 {
                let sd = (l.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(l.count - 1)).squareRoot()
                let se = sd / Double(l.count).squareRoot()
                liveSE = se
                errorSE = se > 0 ? (self.sim - mean) / se : nil
                withinLimit = abs(self.sim - mean) <= FidelitySummary.standardErrorLimit * se
            }
        }
    }

    /// The simulation's bias on one model (or pooled).
    public struct Bias: Sendable, Encodable, Equatable {
        /// What it is the error of: "paired response time" (its median) or "mean service time".
        public var of: String
        public var pct: Double
        /// Paired requests: p10, p50, p90 of the signed error, and how many pairs.
        public var percentiles: [Double]?
        public var pairs: Int?
        /// |pct| <= ``FidelitySummary/biasLimitPct``.
        public let withinLimit: Bool
        enum CodingKeys: String, CodingKey { case of, pct, percentiles, pairs, withinLimit = "within_limit" }

        init(of: String, pct: Double, percentiles: [Double]? = nil, pairs: Int? = nil) {
            self.of = of
            self.pct = pct
            self.percentiles = percentiles
            self.pairs = pairs
            withinLimit = abs(pct) <= FidelitySummary.biasLimitPct
        }

        static func paired(_ d: PairedRequests.Distribution) -> Bias {
            Bias(of: "paired response time", pct: d.responseErrorPct[1], percentiles: d.responseErrorPct, pairs: d.pairs)
        }
    }

    public struct Model: Sendable, Encodable {
        public var id: String
        public var model: String
        public var closedLoop: Bool
        public var mean: Estimate?
        public var p95: Estimate?
        public var bias: Bias?
        /// Mean service time (completion - start), ms, mean over repeats on each side.
        public var liveServiceMs: Double?
        public var simServiceMs: Double?
        /// In how many repeats each side met the target.
        public var liveSatisfied: Int
        public var simSatisfied: Int
        enum CodingKeys: String, CodingKey {
            case id, model, mean, p95, bias
            case closedLoop = "closed_loop", liveServiceMs = "live_service_ms", simServiceMs = "sim_service_ms"
            case liveSatisfied = "live_satisfied_repeats", simSatisfied = "sim_satisfied_repeats"
        }
    }

    /// The harness's CPU during the live runs, cores, mean over the repeats that recorded it.
    public struct Harness: Sendable, Encodable, Equatable {
        public var runs: Int
        /// This qoesim process: control loop and load generator.
        public var qoesimCores: Double
        /// The engine's processes, their own CPU (nil when not measured so).
        public var engineOwnCores: Double?
        /// Everything on the machine outside the run's containers.
        public var outsideContainersCores: Double?
        public var machineBusyCores: Double?
        enum CodingKeys: String, CodingKey {
            case runs
            case qoesimCores = "qoesim_cores", engineOwnCores = "engine_own_cores", outsideContainersCores = "outside_containers_cores"
            case machineBusyCores = "machine_busy_cores"
        }
    }

    public var repeats: Int
    public var models: [Model]
    /// Per repeat, the mean over models of latency / target (mean and p95).
    public var overallMean: Estimate?
    public var overallP95: Estimate?
    public var openLoopBias: Bias?
    public var closedLoopBias: Bias?
    public var satisfiedLiveMajority: Int
    public var satisfiedSimMajority: Int
    public var harness: Harness?
    /// nil with fewer than 2 repeats (no standard error).
    public var goalMet: Bool?
    /// What misses the goal, one line each.
    public var goalMisses: [String]

    enum CodingKeys: String, CodingKey {
        case repeats, models, harness
        case overallMean = "overall_mean_over_target", overallP95 = "overall_p95_over_target"
        case openLoopBias = "open_loop_bias", closedLoopBias = "closed_loop_bias"
        case satisfiedLiveMajority = "satisfied_live_majority", satisfiedSimMajority = "satisfied_sim_majority"
        case goalMet = "goal_met", goalMisses = "goal_misses"
    }

    static func meanServiceMs(_ requests: [[Double]]) -> Double? {
        requests.isEmpty ? nil : 1000 * requests.reduce(0) { $0 + ($1[2] - $1[1]) } / Double(requests.count)
    }

    static func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }

    /// `reports[k]` compares repeat k's live run with its simulation; `requests[k]` holds
    /// their [arrival, start, completion] triples per job; `harness[k]` what the harness
    /// used during live run k, if measured.
    public init(
        reports: [ValidationReport], requests: [(live: [[[Double]]], sim: [[[Double]]])], jobs: [JobSpec], harness: [HarnessUse?] = []
    ) {
        repeats = reports.count
        let paired = PairedRequests(runs: requests, jobs: jobs)
        let r = reports.count
        models = (reports.first?.models ?? []).indices.map { j in
            let m = reports[0].models[j]
            let closed = j < jobs.count && jobs[j].arrivals.isClosed
            let live = requests.compactMap { j < $0.live.count ? Self.meanServiceMs($0.live[j]) : nil }
            let sim = requests.compactMap { j < $0.sim.count ? Self.meanServiceMs($0.sim[j]) : nil }
            let liveService = Self.mean(live), simService = Self.mean(sim)
            var bias: Bias?
            if closed {
                if let l = liveService, let s = simService, l > 0 { bias = Bias(of: "mean service time", pct: 100 * (s - l) / l) }
            } else if let d = paired.jobs[m.id] {
                bias = .paired(d)
            }
            return Model(
                id: m.id, model: m.model, closedLoop: closed,
                mean: Estimate(live: reports.map { $0.models[j].liveMeanMs }, sim: reports.map { $0.models[j].simMeanMs }),
                p95: Estimate(live: reports.map { $0.models[j].liveP95Ms }, sim: reports.map { $0.models[j].simP95Ms }),
                bias: bias, liveServiceMs: liveService, simServiceMs: simService,
                liveSatisfied: reports.filter { $0.models[j].liveSatisfied }.count, simSatisfied: reports.filter { $0.models[j].simSatisfied }.count)
        }
        // Overall: models measured on both sides in every repeat, latency over target.
        let meanUsable = models.indices.filter { j in reports.allSatisfy { $0.models[j].liveMeanMs != nil && $0.models[j].simMeanMs != nil } }
        let p95Usable = models.indices.filter { j in reports.allSatisfy { $0.models[j].liveP95Ms != nil && $0.models[j].simP95Ms != nil } }
        func score(_ usable: [Int], _ value: (ValidationReport.Model) -> Double?) -> [Double?] {
            reports.map { rep in Self.mean(usable.compactMap { j in value(rep.models[j]).map { $0 / rep.models[j].targetMs } }) }
        }
        overallMean = meanUsable.isEmpty ? nil : Estimate(live: score(meanUsable, \.liveMeanMs), sim: score(meanUsable, \.simMeanMs))
        overallP95 = p95Usable.isEmpty ? nil : Estimate(live: score(p95Usable, \.liveP95Ms), sim: score(p95Usable, \.simP95Ms))
        openLoopBias = paired.pooled.map { .paired($0) }
        let closedErrors = models.filter(\.closedLoop).compactMap { $0.bias?.pct }
        closedLoopBias = RepeatedValidation.median(closedErrors).map { Bias(of: "mean service time (median over closed-loop models)", pct: $0) }
        satisfiedLiveMajority = models.filter { 2 * $0.liveSatisfied > r }.count
        satisfiedSimMajority = models.filter { 2 * $0.simSatisfied > r }.count
        let measured = harness.compactMap { $0 }
        if !measured.isEmpty {
            func all(_ v: (HarnessUse) -> Double?) -> Double? {
                let xs = measured.compactMap(v)
                return xs.count == measured.count ? Self.mean(xs) : nil
            }
            self.harness = Harness(
                runs: measured.count, qoesimCores: Self.mean(measured.map(\.qoesimCores))!, engineOwnCores: all(\.engineOwnCores),
                outsideContainersCores: all(\.outsideContainersCores), machineBusyCores: all { h in h.machineBusySeconds.map { $0 / h.wallSeconds } })
        }
        // The goal, judged.
        var misses: [String] = []
        func check(_ name: String, _ what: String, _ e: Estimate?) {
            guard let e, let ok = e.withinLimit, !ok else { return }
            let se = e.errorSE.map { String(format: "%+.1f SE", $0) } ?? "SE 0"
            misses.append("\(name): \(what) error \(String(format: "%+.1f", e.errorPct))% (\(se))")
        }
        for m in models {
            check(m.id, "mean", m.mean)
            check(m.id, "p95", m.p95)
            if let b = m.bias, !b.withinLimit { misses.append("\(m.id): bias \(String(format: "%+.1f", b.pct))% (\(b.of))") }
        }
        check("overall", "mean/target", overallMean)
        check("overall", "p95/target", overallP95)
        for (name, b) in [("open-loop", openLoopBias), ("closed-loop", closedLoopBias)] {
            if let b, !b.withinLimit { misses.append("overall \(name): bias \(String(format: "%+.1f", b.pct))%") }
        }
        if satisfiedSimMajority != satisfiedLiveMajority {
            misses.append("satisfied: simulation's majority \(satisfiedSimMajority), live majority \(satisfiedLiveMajority)")
        }
        goalMisses = misses
        goalMet = r >= 2 ? misses.isEmpty : nil
    }

    public var table: String {
        func f(_ v: Double?, _ d: Int = 1) -> String { v.map { String(format: "%.\(d)f", $0) } ?? "-" }
        func sf(_ v: Double?, _ d: Int = 1) -> String { v.map { String(format: "%+.\(d)f", $0) } ?? "-" }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
        func est(_ e: Estimate?, _ d: Int = 1) -> String {
            guard let e else { return pad("-", 43) }
            let live = "\(f(e.live, d))" + (e.liveSE.map { "±" + f($0, d) } ?? "")
            return pad(live, 18) + pad(f(e.sim, d), 9) + pad(sf(e.errorPct), 8) + pad(e.errorSE.map { sf($0) } ?? "-", 8)
        }
        var s = "fidelity over \(repeats) repeats: live = mean of the repeats ± its standard error (SD/sqrt(R)); sim = mean of the simulations;\n"
        s += "err% = (sim - live)/live; err/SE = (sim - live)/SE; bias = median paired response error (open loop) or mean service-time error (closed loop)\n"
        s += pad("job", 17) + pad("loop", 7) + pad("mean ms: live±SE", 18) + pad("sim", 9) + pad("err%", 8) + pad("err/SE", 8)
        s += pad("p95 ms: live±SE", 18) + pad("sim", 9) + pad("err%", 8) + pad("err/SE", 8) + pad("bias%", 8) + "satisfied live/sim (of \(repeats))\n"
        for m in models {
            s += pad(m.id, 17) + pad(m.closedLoop ? "closed" : "open", 7) + est(m.mean) + est(m.p95) + pad(sf(m.bias?.pct), 8)
            s += "\(m.liveSatisfied)/\(m.simSatisfied)\n"
        }
        s += pad("overall (x target)", 24) + est(overallMean, 3) + est(overallP95, 3) + "\n"
        if let b = openLoopBias, let p = b.percentiles {
            s += "open-loop bias: paired response error p10/p50/p90 \(p.map { sf($0) }.joined(separator: "/"))% over \(b.pairs ?? 0) pairs\n"
        }
        if let b = closedLoopBias { s += "closed-loop bias: service-time error \(sf(b.pct))% (median over closed-loop models)\n" }
        s += "satisfied by the majority of repeats: live \(satisfiedLiveMajority), sim \(satisfiedSimMajority)\n"
        if let h = harness {
            s += "harness during the live runs (\(h.runs) measured), cores: qoesim \(f(h.qoesimCores, 3)), engine processes \(f(h.engineOwnCores, 3)), "
            s += "everything outside the containers \(f(h.outsideContainersCores, 3)), machine busy \(f(h.machineBusyCores, 2))\n"
        }
        let limits = "|err| <= \(f(Self.standardErrorLimit, 0)) SE on mean and p95, |bias| <= \(f(Self.biasLimitPct, 0))%, satisfied = live majority"
        switch goalMet {
        case nil: s += "goal (\(limits)): not judged: one repeat has no standard error\n"
        case true?: s += "goal (\(limits)): met\n"
        case false?: s += "goal (\(limits)): missed by\n" + goalMisses.map { "  \($0)\n" }.joined()
        }
        return s
    }
}

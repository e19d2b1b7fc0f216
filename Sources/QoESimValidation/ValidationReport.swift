import Foundation
import QoESim
import QoESimExperiments
import QoESimLive
import QoESimPlot

/// Records allocation steps (CPU limit over time) per job, for trajectories.
public final class AllocationTrace: SimulationRecorder, @unchecked Sendable {
    public private(set) var steps: [Int: [SVGChart.Point]] = [:]
    let nodeCPUs: Double
    public init(nodeCPUs: Double) { self.nodeCPUs = nodeCPUs }
    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {}
    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {
        steps[job, default: []].append(SVGChart.Point(x: time, y: allocation.cpuLimit ?? nodeCPUs))
    }
}

/// Every completed request of a run, per job: arrival, start of service and completion
/// (seconds from the run's start), for pairing live and simulated requests.
public final class RequestLog: SimulationRecorder, @unchecked Sendable {
    public private(set) var requests: [[[Double]]]
    public init(jobs: Int) { requests = Array(repeating: [], count: jobs) }
    public init(requests: [[[Double]]]) { self.requests = requests }
    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {
        requests[job].append([arrival, start, completion])
    }
    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {}
}

/// Live and simulated requests paired one to one: open-loop jobs release the same
/// arrivals in both (same seed and streams), so the k-th arrival of a job live is the
/// k-th simulated. Errors are (sim - live) / live of each request's response time, and
/// of its service time (completion - start), which separates service from queueing.
public struct PairedRequests: Sendable, Encodable, Equatable {
    public struct Distribution: Sendable, Encodable, Equatable {
        public var pairs: Int
        /// Percentiles 10, 50, 90 of the signed response-time error, percent.
        public var responseErrorPct: [Double]
        /// Median of the absolute response-time error, percent.
        public var medianAbsResponseErrorPct: Double
        /// Percentiles 10, 50, 90 of the signed service-time error, percent.
        public var serviceErrorPct: [Double]
        /// Largest |live arrival - simulated arrival| of a pair, ms (the pairing's check).
        public var maxArrivalGapMs: Double
        enum CodingKeys: String, CodingKey {
            case pairs
            case responseErrorPct = "response_error_pct_p10_p50_p90", medianAbsResponseErrorPct = "median_abs_response_error_pct"
            case serviceErrorPct = "service_error_pct_p10_p50_p90", maxArrivalGapMs = "max_arrival_gap_ms"
        }
    }

    /// Per job id (open-loop jobs only).
    public var jobs: [String: Distribution]
    /// All pairs of all open-loop jobs pooled.
    public var pooled: Distribution?

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let x = q * Double(sorted.count - 1)
        let i = Int(x), f = x - Double(i)
        return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
    }

    public init(live: [[[Double]]], sim: [[[Double]]], jobs specs: [JobSpec]) {
        self.init(runs: [(live, sim)], jobs: specs)
    }

    /// The pairs of several runs (repeats: each live run with its own simulation) pooled,
    /// per job and over all open-loop jobs.
    public init(runs: [(live: [[[Double]]], sim: [[[Double]]])], jobs specs: [JobSpec]) {
        var all: [(Double, Double, Double)] = []
        var perJob: [String: Distribution] = [:]
        func distribution(_ xs: [(response: Double, service: Double, gap: Double)]) -> Distribution {
            let r = xs.map(\.response).sorted(), sv = xs.map(\.service).sorted()
            return Distribution(
                pairs: xs.count, responseErrorPct: [0.1, 0.5, 0.9].map { Self.percentile(r, $0) },
                medianAbsResponseErrorPct: Self.percentile(r.map(abs).sorted(), 0.5),
                serviceErrorPct: [0.1, 0.5, 0.9].map { Self.percentile(sv, $0) }, maxArrivalGapMs: xs.map(\.gap).max() ?? 0)
        }
        for (j, spec) in specs.enumerated() where !spec.arrivals.isClosed {
            var xs: [(response: Double, service: Double, gap: Double)] = []
            for (live, sim) in runs where j < live.count && j < sim.count {
                let l = live[j].sorted { $0[0] < $1[0] }, s = sim[j].sorted { $0[0] < $1[0] }
                for (a, b) in zip(l, s) {
                    let lr = a[2] - a[0], sr = b[2] - b[0], ls = a[2] - a[1], ss = b[2] - b[1]
                    guard lr > 0, ls > 0 else { continue }
                    xs.append((100 * (sr - lr) / lr, 100 * (ss - ls) / ls, 1000 * abs(a[0] - b[0])))
                }
            }
            guard !xs.isEmpty else { continue }
            perJob[spec.id] = distribution(xs)
            all += xs.map { ($0.response, $0.service, $0.gap) }
        }
        jobs = perJob
        pooled = all.isEmpty ? nil : distribution(all.map { (response: $0.0, service: $0.1, gap: $0.2) })
    }
}

extension RecordedLiveRun {
    /// What `live` left: its models, satisfied count, the median `docker update` time and
    /// its failures, and `requests`' [arrival, start, completion] triples.
    public init(live: LiveResult, requests: RequestLog, harness: HarnessUse? = nil) {
        let ms = live.updates.filter { $0.error == nil }.map(\.apiMs).sorted()
        self.init(
            models: live.result.models, satisfied: live.result.satisfied, dockerUpdateMedianMs: ms.isEmpty ? nil : ms[ms.count / 2],
            failures: live.failures, requests: requests.requests, harness: harness)
    }
}

/// Live vs simulated, per model.
public struct ValidationReport: Sendable, Encodable {
    public struct Model: Sendable, Encodable {
        public var id: String
        public var model: String
        public var targetMs: Double
        public var liveMeanMs: Double?
        public var simMeanMs: Double?
        public var meanErrorPct: Double?
        public var liveP95Ms: Double?
        public var simP95Ms: Double?
        public var p95ErrorPct: Double?
        public var liveRequests: Int
        public var simRequests: Int
        public var liveSatisfied: Bool
        public var simSatisfied: Bool
        enum CodingKeys: String, CodingKey {
            case id, model
            case targetMs = "target_ms", liveMeanMs = "live_mean_ms", simMeanMs = "sim_mean_ms", meanErrorPct = "mean_error_pct"
            case liveP95Ms = "live_p95_ms", simP95Ms = "sim_p95_ms", p95ErrorPct = "p95_error_pct", liveRequests = "live_requests"
            case simRequests = "sim_requests", liveSatisfied = "live_satisfied", simSatisfied = "sim_satisfied"
        }
    }

    public var policy: String
    /// Median over models of |sim - live| / live of the mean response time, percent.
    public var medianLatencyErrorPct: Double?
    /// Median over models of the same error on the p95 response time, percent.
    public var p95LatencyErrorPct: Double?
    public var satisfiedSim: Int
    public var satisfiedLive: Int
    public var models: [Model]
    /// Median latency of the `docker update` calls, ms.
    public var dockerUpdateMedianMs: Double?
    public var liveFailures: [String]
    /// Live and simulated requests of open-loop jobs paired one to one.
    public var paired: PairedRequests?
    public var figure: String?

    enum CodingKeys: String, CodingKey {
        case policy, models, figure, paired
        case medianLatencyErrorPct = "median_latency_error_pct", p95LatencyErrorPct = "p95_latency_error_pct"
        case satisfiedSim = "satisfied_sim", satisfiedLive = "satisfied_live", dockerUpdateMedianMs = "docker_update_median_ms"
        case liveFailures = "live_failures"
    }

    public static func compare(
        live: RecordedLiveRun, sim: SimulationResult, simRequests: RequestLog, jobs: [JobSpec], policy: String
    ) -> ValidationReport {
        func err(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0 else { return nil }
            return 100 * abs(a - b) / b
        }
        func median(_ xs: [Double]) -> Double? {
            let s = xs.sorted()
            guard !s.isEmpty else { return nil }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let models = zip(live.models, sim.models).map { l, s in
            Model(id: l.id, model: l.model, targetMs: l.targetMs, liveMeanMs: l.meanMs, simMeanMs: s.meanMs, meanErrorPct: err(s.meanMs, l.meanMs),
                  liveP95Ms: l.p95Ms, simP95Ms: s.p95Ms, p95ErrorPct: err(s.p95Ms, l.p95Ms), liveRequests: l.requests, simRequests: s.requests,
                  liveSatisfied: l.satisfied, simSatisfied: s.satisfied)
        }
        return ValidationReport(
            policy: policy, medianLatencyErrorPct: median(models.compactMap(\.meanErrorPct)),
            p95LatencyErrorPct: median(models.compactMap(\.p95ErrorPct)), satisfiedSim: sim.satisfied, satisfiedLive: live.satisfied,
            models: models, dockerUpdateMedianMs: live.dockerUpdateMedianMs, liveFailures: live.failures,
            paired: PairedRequests(live: live.requests, sim: simRequests.requests, jobs: jobs), figure: nil)
    }

    public var table: String {
        func f(_ v: Double?, _ d: Int = 1) -> String { v.map { String(format: "%.\(d)f", $0) } ?? "-" }
        var s = "policy \(policy): live vs simulation (same trace, seed and policy; simulation with the fitted models)\n"
        s += "job              target_ms  live_mean  sim_mean  err%   live_p95  sim_p95  err%   live/sim requests  satisfied live/sim\n"
        for m in models {
            s += m.id.padding(toLength: 17, withPad: " ", startingAt: 0)
            s += f(m.targetMs, 0).padding(toLength: 11, withPad: " ", startingAt: 0) + f(m.liveMeanMs).padding(toLength: 11, withPad: " ", startingAt: 0)
            s += f(m.simMeanMs).padding(toLength: 10, withPad: " ", startingAt: 0) + f(m.meanErrorPct).padding(toLength: 7, withPad: " ", startingAt: 0)
            s += f(m.liveP95Ms).padding(toLength: 10, withPad: " ", startingAt: 0) + f(m.simP95Ms).padding(toLength: 9, withPad: " ", startingAt: 0)
            s += f(m.p95ErrorPct).padding(toLength: 7, withPad: " ", startingAt: 0)
            s += "\(m.liveRequests)/\(m.simRequests)".padding(toLength: 19, withPad: " ", startingAt: 0)
            s += "\(m.liveSatisfied ? "yes" : "no")/\(m.simSatisfied ? "yes" : "no")\n"
        }
        s += "median mean-latency error \(f(medianLatencyErrorPct))%, median p95 error \(f(p95LatencyErrorPct))%; satisfied live \(satisfiedLive), sim \(satisfiedSim)"
        s += "; docker update median \(f(dockerUpdateMedianMs)) ms\n"
        if let paired {
            s += "paired requests (open-loop jobs, same arrivals), error (sim - live) / live, p10/p50/p90 %:\n"
            func dist(_ name: String, _ d: PairedRequests.Distribution) -> String {
                let r = d.responseErrorPct.map { f($0) }.joined(separator: "/"), sv = d.serviceErrorPct.map { f($0) }.joined(separator: "/")
                return "  " + name.padding(toLength: 15, withPad: " ", startingAt: 0)
                    + " \(d.pairs) pairs; response \(r), median |err| \(f(d.medianAbsResponseErrorPct)); service \(sv); arrival gap <= \(f(d.maxArrivalGapMs)) ms\n"
            }
            for m in models { if let d = paired.jobs[m.id] { s += dist(m.id, d) } }
            if let p = paired.pooled { s += dist("all", p) }
        }
        for x in liveFailures { s += "live: \(x)\n" }
        if let figure { s += "figure: \(figure)\n" }
        return s
    }

    /// CPU-limit trajectories, live (solid) and simulated (dashed), per model.
    public static func trajectories(live: AllocationTrace, sim: AllocationTrace, ids: [String], title: String) -> SVGChart {
        var series: [SVGChart.Series] = []
        for (j, id) in ids.enumerated() {
            series.append(SVGChart.Series(name: "live \(id)", points: live.steps[j] ?? [], markers: false, step: true, colorIndex: j))
            series.append(SVGChart.Series(name: "sim \(id)", points: sim.steps[j] ?? [], markers: false, step: true, dashed: true, colorIndex: j))
        }
        return SVGChart(title: title, xLabel: "time (s)", yLabel: "CPU limit (cores)", series: series)
    }
}

/// Several live-vs-simulated repeats of one validation: per model and overall, the
/// median error over the repeats and its range.
public struct RepeatedValidation: Sendable, Encodable {
    public struct ModelSummary: Sendable, Encodable {
        public var id: String
        public var meanErrorPctMedian: Double?
        public var meanErrorPctRange: [Double]?
        public var p95ErrorPctMedian: Double?
        public var p95ErrorPctRange: [Double]?
        enum CodingKeys: String, CodingKey {
            case id
            case meanErrorPctMedian = "mean_error_pct_median", meanErrorPctRange = "mean_error_pct_range"
            case p95ErrorPctMedian = "p95_error_pct_median", p95ErrorPctRange = "p95_error_pct_range"
        }
    }

    public var policy: String
    public var repeats: Int
    /// Median over repeats of the median (over models) mean-latency error, percent.
    public var medianLatencyErrorPct: Double?
    public var medianLatencyErrorRange: [Double]?
    public var p95LatencyErrorPct: Double?
    public var p95LatencyErrorRange: [Double]?
    public var satisfiedLive: [Int]
    public var satisfiedSim: [Int]
    public var models: [ModelSummary]
    /// The live runs' own repeatability, by the same statistic: each live repeat in place
    /// of the simulation against the mean of the other live repeats (same seed, same
    /// arrivals, same machine), the median over models, then over repeats, and its range
    /// (nil with fewer than 2 repeats). A simulation cannot be expected to come closer to
    /// one live run than the live runs come to each other.
    public var liveRepeatabilityPct: Double?
    public var liveRepeatabilityRange: [Double]?
    public var liveRepeatabilityP95Pct: Double?
    public var liveRepeatabilityP95Range: [Double]?
    /// The model folder the simulation used.
    public var fits: String
    /// Where the live runs were recorded, when they were reused rather than made now.
    public var liveRecordedIn: String?
    /// The simulation against the live repeats' mean and its standard error, its bias,
    /// and the goal judged (the headline; the medians above are per-repeat errors).
    public var fidelity: FidelitySummary
    public var runs: [ValidationReport]

    enum CodingKeys: String, CodingKey {
        case policy, repeats, models, fits, runs, fidelity
        case liveRecordedIn = "live_recorded_in"
        case medianLatencyErrorPct = "median_latency_error_pct", medianLatencyErrorRange = "median_latency_error_range"
        case p95LatencyErrorPct = "p95_latency_error_pct", p95LatencyErrorRange = "p95_latency_error_range"
        case satisfiedLive = "satisfied_live", satisfiedSim = "satisfied_sim"
        case liveRepeatabilityPct = "live_repeatability_pct", liveRepeatabilityRange = "live_repeatability_range"
        case liveRepeatabilityP95Pct = "live_repeatability_p95_pct", liveRepeatabilityP95Range = "live_repeatability_p95_range"
    }

    /// Per repeat: the median over models of |live_k - mean of the other repeats' live| /
    /// that mean, percent, for the latency `value` picks (models without it are skipped).
    static func liveRepeatability(_ reports: [ValidationReport], _ value: (ValidationReport.Model) -> Double?) -> [Double] {
        guard reports.count >= 2 else { return [] }
        return reports.indices.compactMap { k in
            let errors: [Double] = reports[k].models.indices.compactMap { j in
                guard let x = value(reports[k].models[j]) else { return nil }
                let others = reports.indices.filter { $0 != k }.compactMap { value(reports[$0].models[j]) }
                guard !others.isEmpty else { return nil }
                let o = others.reduce(0, +) / Double(others.count)
                return o > 0 ? abs(x - o) / o * 100 : nil
            }
            return median(errors)
        }
    }

    static func median(_ xs: [Double]) -> Double? {
        let s = xs.sorted()
        guard !s.isEmpty else { return nil }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func range(_ xs: [Double]) -> [Double]? { xs.isEmpty ? nil : [xs.min()!, xs.max()!] }

    /// `reports[k]` compares live run k with its simulation; `requests[k]` their
    /// requests per job; `harness[k]` the harness's CPU during live run k, if measured.
    public init(
        reports: [ValidationReport], fits: String, requests: [(live: [[[Double]]], sim: [[[Double]]])], jobs: [JobSpec],
        harness: [HarnessUse?] = []
    ) {
        fidelity = FidelitySummary(reports: reports, requests: requests, jobs: jobs, harness: harness)
        policy = reports.first?.policy ?? ""
        repeats = reports.count
        self.fits = fits
        runs = reports
        let overall = reports.compactMap(\.medianLatencyErrorPct), overallP95 = reports.compactMap(\.p95LatencyErrorPct)
        medianLatencyErrorPct = Self.median(overall)
        medianLatencyErrorRange = Self.range(overall)
        p95LatencyErrorPct = Self.median(overallP95)
        p95LatencyErrorRange = Self.range(overallP95)
        let floor = Self.liveRepeatability(reports, \.liveMeanMs), floorP95 = Self.liveRepeatability(reports, \.liveP95Ms)
        liveRepeatabilityPct = Self.median(floor)
        liveRepeatabilityRange = Self.range(floor)
        liveRepeatabilityP95Pct = Self.median(floorP95)
        liveRepeatabilityP95Range = Self.range(floorP95)
        satisfiedLive = reports.map(\.satisfiedLive)
        satisfiedSim = reports.map(\.satisfiedSim)
        models = (reports.first?.models ?? []).enumerated().map { k, m in
            let means = reports.compactMap { $0.models[k].meanErrorPct }, p95s = reports.compactMap { $0.models[k].p95ErrorPct }
            return ModelSummary(
                id: m.id, meanErrorPctMedian: Self.median(means), meanErrorPctRange: Self.range(means),
                p95ErrorPctMedian: Self.median(p95s), p95ErrorPctRange: Self.range(p95s))
        }
    }

    public var table: String {
        func f(_ v: Double?, _ d: Int = 1) -> String { v.map { String(format: "%.\(d)f", $0) } ?? "-" }
        func r(_ v: [Double]?) -> String { v.map { "[\(f($0[0])), \(f($0[1]))]" } ?? "-" }
        var s = ""
        for (k, run) in runs.enumerated() { s += "repeat \(k + 1):\n" + run.table + "\n" }
        s += "policy \(policy), \(repeats) repeats, fits from \(fits)\n"
        if let liveRecordedIn { s += "live runs reused from \(liveRecordedIn) (recorded earlier; only the simulations are new)\n" }
        s += "job              mean err% median [range]      p95 err% median [range]\n"
        for m in models {
            s += m.id.padding(toLength: 17, withPad: " ", startingAt: 0)
            s += "\(f(m.meanErrorPctMedian)) \(r(m.meanErrorPctRange))".padding(toLength: 29, withPad: " ", startingAt: 0)
            s += "\(f(m.p95ErrorPctMedian)) \(r(m.p95ErrorPctRange))\n"
        }
        s += "median mean-latency error \(f(medianLatencyErrorPct))% \(r(medianLatencyErrorRange)), "
        s += "median p95 error \(f(p95LatencyErrorPct))% \(r(p95LatencyErrorRange)); "
        s += "satisfied live \(satisfiedLive.map(String.init).joined(separator: "/")), sim \(satisfiedSim.map(String.init).joined(separator: "/"))\n"
        if liveRepeatabilityPct != nil || liveRepeatabilityP95Pct != nil {
            s += "live repeats against each other (the same statistic): mean latency \(f(liveRepeatabilityPct))% \(r(liveRepeatabilityRange)), "
            s += "p95 \(f(liveRepeatabilityP95Pct))% \(r(liveRepeatabilityP95Range))\n"
        }
        return s + "\n" + fidelity.table
    }
}

import Foundation
import QoESim
import QoESimExperiments
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
    public var figure: String?

    enum CodingKeys: String, CodingKey {
        case policy, models, figure
        case medianLatencyErrorPct = "median_latency_error_pct", p95LatencyErrorPct = "p95_latency_error_pct"
        case satisfiedSim = "satisfied_sim", satisfiedLive = "satisfied_live", dockerUpdateMedianMs = "docker_update_median_ms"
        case liveFailures = "live_failures"
    }

    public static func compare(live: LiveResult, sim: SimulationResult, policy: String) -> ValidationReport {
        func err(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0 else { return nil }
            return 100 * abs(a - b) / b
        }
        func median(_ xs: [Double]) -> Double? {
            let s = xs.sorted()
            guard !s.isEmpty else { return nil }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let models = zip(live.result.models, sim.models).map { l, s in
            Model(id: l.id, model: l.model, targetMs: l.targetMs, liveMeanMs: l.meanMs, simMeanMs: s.meanMs, meanErrorPct: err(s.meanMs, l.meanMs),
                  liveP95Ms: l.p95Ms, simP95Ms: s.p95Ms, p95ErrorPct: err(s.p95Ms, l.p95Ms), liveRequests: l.requests, simRequests: s.requests,
                  liveSatisfied: l.satisfied, simSatisfied: s.satisfied)
        }
        return ValidationReport(
            policy: policy, medianLatencyErrorPct: median(models.compactMap(\.meanErrorPct)),
            p95LatencyErrorPct: median(models.compactMap(\.p95ErrorPct)), satisfiedSim: sim.satisfied, satisfiedLive: live.result.satisfied,
            models: models, dockerUpdateMedianMs: median(live.updates.filter { $0.error == nil }.map(\.apiMs)), liveFailures: live.failures, figure: nil)
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
    /// The model folder the simulation used.
    public var fits: String
    public var runs: [ValidationReport]

    enum CodingKeys: String, CodingKey {
        case policy, repeats, models, fits, runs
        case medianLatencyErrorPct = "median_latency_error_pct", medianLatencyErrorRange = "median_latency_error_range"
        case p95LatencyErrorPct = "p95_latency_error_pct", p95LatencyErrorRange = "p95_latency_error_range"
        case satisfiedLive = "satisfied_live", satisfiedSim = "satisfied_sim"
    }

    static func median(_ xs: [Double]) -> Double? {
        let s = xs.sorted()
        guard !s.isEmpty else { return nil }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func range(_ xs: [Double]) -> [Double]? { xs.isEmpty ? nil : [xs.min()!, xs.max()!] }

    public init(reports: [ValidationReport], fits: String) {
        policy = reports.first?.policy ?? ""
        repeats = reports.count
        self.fits = fits
        runs = reports
        let overall = reports.compactMap(\.medianLatencyErrorPct), overallP95 = reports.compactMap(\.p95LatencyErrorPct)
        medianLatencyErrorPct = Self.median(overall)
        medianLatencyErrorRange = Self.range(overall)
        p95LatencyErrorPct = Self.median(overallP95)
        p95LatencyErrorRange = Self.range(overallP95)
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
        s += "job              mean err% median [range]      p95 err% median [range]\n"
        for m in models {
            s += m.id.padding(toLength: 17, withPad: " ", startingAt: 0)
            s += "\(f(m.meanErrorPctMedian)) \(r(m.meanErrorPctRange))".padding(toLength: 29, withPad: " ", startingAt: 0)
            s += "\(f(m.p95ErrorPctMedian)) \(r(m.p95ErrorPctRange))\n"
        }
        s += "median mean-latency error \(f(medianLatencyErrorPct))% \(r(medianLatencyErrorRange)), "
        s += "median p95 error \(f(p95LatencyErrorPct))% \(r(p95LatencyErrorRange)); "
        s += "satisfied live \(satisfiedLive.map(String.init).joined(separator: "/")), sim \(satisfiedSim.map(String.init).joined(separator: "/"))\n"
        return s
    }
}

import Foundation
import QoESim
import QoESimPlot

/// The paper-8x reproduction: the sweep of an experiment file, reduced to the headline
/// counts and ratio, the curve, the sensitivity table and the figures.
public struct ReproductionReport: Sendable, Encodable {
    public struct Headline: Sendable, Encodable {
        public var point: [String: String]
        public var total: Double
        /// Mean satisfied models over seeds, per policy.
        public var satisfied: [String: Double]
        public var satisfiedCI95: [String: Double]
        /// DQoES / fair-share (nil when fair-share satisfies none: the ratio is unbounded).
        public var ratioDqoesVsFairShare: Double?
        public var ratioPredictiveVsFairShare: Double?
        public var cpuSeconds: [String: Double]
        public var settleSeconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case point, total, satisfied
            case satisfiedCI95 = "satisfied_ci95", ratioDqoesVsFairShare = "ratio_dqoes_vs_fair_share"
            case ratioPredictiveVsFairShare = "ratio_predictive_vs_fair_share", cpuSeconds = "cpu_s", settleSeconds = "settle_s"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(point, forKey: .point)
            try c.encode(total, forKey: .total)
            try c.encode(satisfied, forKey: .satisfied)
            try c.encode(satisfiedCI95, forKey: .satisfiedCI95)
            try c.encode(ratioDqoesVsFairShare, forKey: .ratioDqoesVsFairShare)
            try c.encode(ratioPredictiveVsFairShare, forKey: .ratioPredictiveVsFairShare)
            try c.encode(cpuSeconds, forKey: .cpuSeconds)
            try c.encode(settleSeconds, forKey: .settleSeconds)
        }
    }

    public struct CurvePoint: Sendable, Encodable {
        public var point: [String: String]
        public var policy: String
        public var satisfied: Double
        public var ci95: Double
        public var total: Double
        public var cpuS: Double
        enum CodingKeys: String, CodingKey { case point, policy, satisfied, ci95, total, cpuS = "cpu_s" }
    }

    public struct SensitivityPoint: Sendable, Encodable {
        public var policy: String
        public var parameters: String
        public var satisfied: Double
        public var ci95: Double
        public var settleS: Double
        enum CodingKeys: String, CodingKey { case policy, parameters, satisfied, ci95, settleS = "settle_s" }
    }

    public var experiment: String
    public var seeds: Int
    public var headline: Headline
    public var curve: [CurvePoint]
    public var sensitivity: [SensitivityPoint]
    public var figures: [String]
    public var runs: Int
}

public enum Reproduction {
    /// Runs (or resumes) the experiment in `folder`, then summarizes it and writes figures.
    public static func run(
        spec: ExperimentSpec, folder: String, workers: Int, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> ReproductionReport {
        let sweep = try Sweep(spec: spec)
        try sweep.execute(into: folder, workers: workers, progress: progress)
        let summary = try SweepSummary(sweep: sweep, folders: [folder])
        try summary.write(to: folder)
        return try report(summary, folder: folder)
    }

    /// Builds the report (and figures) from a complete summary.
    public static func report(_ summary: SweepSummary, folder: String) throws -> ReproductionReport {
        let spec = summary.sweep.spec
        let head = summary.rows.filter { $0.kind == "curve" && $0.point == spec.headline }
        var sat: [String: Double] = [:], ci: [String: Double] = [:], cpu: [String: Double] = [:], settle: [String: Double] = [:]
        for r in head {
            sat[r.policy] = r.satisfied.mean
            ci[r.policy] = r.satisfied.halfWidth
            cpu[r.policy] = r.cpuSeconds.mean
            settle[r.policy] = r.settleSeconds.mean
        }
        func ratio(_ p: String) -> Double? {
            guard let a = sat[p], let b = sat["fair-share"], b > 0 else { return nil }
            return a / b
        }
        let headline = ReproductionReport.Headline(
            point: spec.headline, total: head.first?.total ?? 0, satisfied: sat, satisfiedCI95: ci,
            ratioDqoesVsFairShare: ratio("dqoes"), ratioPredictiveVsFairShare: ratio("predictive"), cpuSeconds: cpu,
            settleSeconds: settle)
        let curve = summary.rows.filter { $0.kind == "curve" }.map {
            ReproductionReport.CurvePoint(
                point: $0.point, policy: $0.policy, satisfied: $0.satisfied.mean, ci95: $0.satisfied.halfWidth, total: $0.total,
                cpuS: $0.cpuSeconds.mean)
        }
        let sens = summary.rows.filter { $0.kind == "sensitivity" }.map {
            ReproductionReport.SensitivityPoint(
                policy: $0.policy, parameters: $0.policyParams, satisfied: $0.satisfied.mean, ci95: $0.satisfied.halfWidth,
                settleS: $0.settleSeconds.mean)
        }
        // Figures.
        let figDir = (folder as NSString).appendingPathComponent("figures")
        try FileManager.default.createDirectory(atPath: figDir, withIntermediateDirectories: true)
        var figures: [String] = []
        func save(_ chart: SVGChart, _ name: String) throws {
            let path = (figDir as NSString).appendingPathComponent(name)
            try atomicWrite(chart.render(), to: path)
            figures.append(path)
        }
        if let param = spec.grid.first?.0 {
            try save(
                ExperimentFigures.satisfiedCurve(summary, parameter: param, title: "\(spec.name): satisfied models vs \(param)"),
                "satisfied-vs-\(param).svg")
        }
        // Headline, first seed: per-model latency vs target, and CPU over time.
        let seed = spec.seeds[0]
        var outcomes: [(String, SimulationResult)] = []
        for p in spec.policies {
            let recorder = UsageSeriesRecorder()
            var sweepSpec = spec
            sweepSpec.options.sampleInterval = 5
            let sweep = try Sweep(spec: sweepSpec)
            let run = SweepRun(kind: "curve", policy: p, scenario: spec.headline, seed: seed)
            let outcome = try sweep.execute(run, recorder: recorder)
            outcomes.append((p.label, outcome.result))
            if p.name != "static" {
                let ids = outcome.result.models.map(\.id)
                try save(
                    ExperimentFigures.cpuOverTime(recorder, jobIDs: ids, title: "\(spec.name): CPU used per model, \(p.label) (seed \(seed))"),
                    "cpu-over-time-\(p.label).svg")
            }
        }
        try save(
            ExperimentFigures.latencyVsTarget(outcomes, title: "\(spec.name): measured / target per model (seed \(seed))"),
            "latency-vs-target.svg")
        return ReproductionReport(
            experiment: spec.name, seeds: spec.seeds.count, headline: headline, curve: curve, sensitivity: sens,
            figures: figures, runs: summary.sweep.runs().count - summary.missing.count)
    }

    /// The readable report.
    public static func table(_ r: ReproductionReport, spec: ExperimentSpec) -> String {
        var s = "\(r.experiment): \(r.runs) runs, \(r.seeds) seeds per point; means with 95% CI half-widths\n\n"
        let point = r.headline.point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        s += "Headline (\(point)), \(fmt(r.headline.total, 0)) models deployed:\n"
        for p in spec.policies.map(\.label) {
            guard let v = r.headline.satisfied[p] else { continue }
            s += "  \(p.padding(toLength: 14, withPad: " ", startingAt: 0)) satisfied \(fmt(v)) +- \(fmt(r.headline.satisfiedCI95[p] ?? 0))"
            s += "   cpu-s \(fmt(r.headline.cpuSeconds[p] ?? 0, 0))   settle \(fmt(r.headline.settleSeconds[p] ?? 0, 0)) s\n"
        }
        s += "  dqoes / fair-share = \(r.headline.ratioDqoesVsFairShare.map { fmt($0, 2) } ?? "unbounded (fair-share satisfies none)")"
        s += "   predictive / fair-share = \(r.headline.ratioPredictiveVsFairShare.map { fmt($0, 2) } ?? "unbounded")\n\n"
        if let param = spec.grid.first?.0 {
            let labels = spec.policies.map(\.label)
            s += "Curve: satisfied models vs \(param)\n"
            s += param.padding(toLength: 8, withPad: " ", startingAt: 0) + labels.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined() + "dqoes/fair  predictive/fair\n"
            for v in spec.grid.first!.1 {
                s += v.padding(toLength: 8, withPad: " ", startingAt: 0)
                var fair: Double? = nil, dq: Double? = nil, pr: Double? = nil
                for l in labels {
                    let c = r.curve.first { $0.policy == l && $0.point[param] == v && $0.point.count == r.headline.point.count
                        && $0.point.allSatisfy { k, val in k == param || r.headline.point[k] == val } }
                    if l == "fair-share" { fair = c?.satisfied }
                    if l == "dqoes" { dq = c?.satisfied }
                    if l == "predictive" { pr = c?.satisfied }
                    s += (c.map { "\(fmt($0.satisfied)) +- \(fmt($0.ci95))" } ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0)
                }
                for x in [dq, pr] {
                    guard let f = fair, let x else { continue }
                    s += (f > 0 ? fmt(x / f, 2) : "unbounded").padding(toLength: 12, withPad: " ", startingAt: 0)
                }
                s += "\n"
            }
            s += "\n"
        }
        if !r.sensitivity.isEmpty {
            s += "Sensitivity of \(r.sensitivity[0].policy) at the headline:\n"
            for p in r.sensitivity {
                s += "  \(p.parameters.padding(toLength: 34, withPad: " ", startingAt: 0)) satisfied \(fmt(p.satisfied)) +- \(fmt(p.ci95))   settle \(fmt(p.settleS, 0)) s\n"
            }
            s += "\n"
        }
        s += "Figures:\n" + r.figures.map { "  \($0)\n" }.joined()
        return s
    }

    static func fmt(_ v: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", v) }
}

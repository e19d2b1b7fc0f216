import Foundation
import QoESim
import QoESimPlot

/// A reproduction study: the sweep of an experiment file, reduced to paired comparisons
/// of every policy with the baseline in every cell, the headline cell, tables and figures.
public struct ReproductionReport: Sendable, Encodable {
    /// The regime of a cell: c* / equal share in [lo, hi] (nil for absolute targets),
    /// the number of models, the model mix and the node.
    public struct Regime: Sendable, Encodable, Equatable {
        public var lo: Double?
        public var hi: Double?
        public var models: Int?
        public var modelMix: String?
        public var cpusPerNode: Double?
        enum CodingKeys: String, CodingKey { case lo, hi, models, modelMix = "model_mix", cpusPerNode = "cpus_per_node" }
    }

    /// One scenario point: every policy's mean satisfied count and the comparison of the
    /// study's policy with its baseline (plus every other policy with the baseline).
    public struct Cell: Sendable, Encodable {
        public var block: String
        public var point: [String: String]
        public var regime: Regime
        public var policy: String
        public var baseline: String
        public var seeds: Int
        /// Models deployed.
        public var total: Double
        /// Mean satisfied models (strict: lifetime metric <= target), per policy label.
        public var satisfied: [String: Double]
        /// Mean models within (1 + alpha) x target, per policy label.
        public var satisfiedBand: [String: Double]
        /// `policy` against `baseline`.
        public var comparison: PairedComparison
        /// Every policy against `baseline` (the baseline itself left out).
        public var comparisons: [String: PairedComparison]

        enum CodingKeys: String, CodingKey {
            case block, point, regime, policy, baseline, seeds, total, satisfied, comparisons
            case satisfiedBand = "satisfied_band", ratio, ratioCI95 = "ratio_ci95", baselineCI95 = "baseline_ci95"
            case pairedDiff = "paired_diff", pairedDiffCI95 = "paired_diff_ci95"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(block, forKey: .block)
            try c.encode(point, forKey: .point)
            try c.encode(regime, forKey: .regime)
            try c.encode(policy, forKey: .policy)
            try c.encode(baseline, forKey: .baseline)
            try c.encode(seeds, forKey: .seeds)
            try c.encode(total, forKey: .total)
            try c.encode(satisfied, forKey: .satisfied)
            try c.encode(satisfiedBand, forKey: .satisfiedBand)
            try c.encode(comparison.ratio, forKey: .ratio)
            try c.encode(comparison.ratioCI95, forKey: .ratioCI95)
            try c.encode(comparison.baselineCI95, forKey: .baselineCI95)
            try c.encode(comparison.pairedDiff, forKey: .pairedDiff)
            try c.encode(comparison.pairedDiffCI95, forKey: .pairedDiffCI95)
            try c.encode(comparisons, forKey: .comparisons)
        }
    }

    /// A policy variant as the study ran it.
    public struct Variant: Sendable, Encodable {
        public var label: String
        public var policy: String
        public var parameters: [String: String]
        public var provenance: String
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
    public var seeds: [UInt64]
    public var alpha: Double
    public var variants: [Variant]
    public var headlineRule: String
    public var headline: Cell
    /// Cells of the blocks that vary `target_share` (the regime map).
    public var map: [Cell]
    /// Cells of every other block, by block name.
    public var blocks: [String: [Cell]]
    public var sensitivity: [SensitivityPoint]
    public var figures: [String]
    public var runs: Int

    enum CodingKeys: String, CodingKey {
        case experiment, seeds, alpha, variants, headline, map, blocks, sensitivity, figures, runs
        case headlineRule = "headline_rule"
    }
}

public enum Reproduction {
    /// Runs (or resumes) the experiment in `folder`, then summarizes it and writes figures.
    public static func run(
        spec: ExperimentSpec, folder: String, workers: Int, allBlocks: Bool = false,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> ReproductionReport {
        let sweep = try Sweep(spec: spec, allBlocks: allBlocks)
        try sweep.execute(into: folder, workers: workers, progress: progress)
        let summary = try SweepSummary(sweep: sweep, folders: [folder])
        try summary.write(to: folder)
        return try report(summary, folder: folder)
    }

    /// The cells of the summary, one per (block, point), in run order.
    static func cells(_ summary: SweepSummary) -> [ReproductionReport.Cell] {
        let spec = summary.sweep.spec
        let head = spec.headlineSpec
        var order: [String] = []
        var groups: [String: [SummaryRow]] = [:]
        for r in summary.rows where r.kind != "sensitivity" {
            let key = r.kind + "|" + r.point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        return order.map { key in
            let rows = groups[key]!
            let byLabel = Dictionary(rows.map { ($0.policy, $0) }, uniquingKeysWith: { a, _ in a })
            let base = byLabel[head.baseline]?.perSeed ?? [:]
            var comparisons: [String: PairedComparison] = [:]
            for r in rows where r.policy != head.baseline { comparisons[r.policy] = PairedComparison(policy: r.perSeed, baseline: base) }
            let point = rows[0].point
            let share = point["target_share"]?.split(separator: ";").compactMap { Double($0) }
            let regime = ReproductionReport.Regime(
                lo: share?.first, hi: share?.last, models: point["models"].flatMap { Int($0) },
                modelMix: point["model_mix"], cpusPerNode: point["cpus_per_node"].flatMap { Double($0) })
            return ReproductionReport.Cell(
                block: rows[0].kind, point: point, regime: regime, policy: head.policy, baseline: head.baseline,
                seeds: rows.map(\.satisfied.n).min() ?? 0, total: rows[0].total,
                satisfied: byLabel.mapValues(\.satisfied.mean), satisfiedBand: byLabel.mapValues(\.satisfiedBand.mean),
                comparison: comparisons[head.policy] ?? PairedComparison(policy: [:], baseline: [:]), comparisons: comparisons)
        }
    }

    /// Builds the report (and figures with their data) from a complete summary.
    public static func report(_ summary: SweepSummary, folder: String) throws -> ReproductionReport {
        let spec = summary.sweep.spec
        let all = cells(summary)
        guard let headline = all.first(where: { $0.block == spec.headlineSpec.block && $0.point == spec.headline }) else {
            throw ExperimentError("the headline cell (\(spec.headlineSpec.block), \(spec.headline)) has no runs")
        }
        let mapBlocks = Set(summary.sweep.blocks.filter { b in b.grid.contains { $0.0 == "target_share" } }.map(\.name))
        let map = all.filter { mapBlocks.contains($0.block) }
        var blocks: [String: [ReproductionReport.Cell]] = [:]
        for c in all where !mapBlocks.contains(c.block) { blocks[c.block, default: []].append(c) }
        let sens = summary.rows.filter { $0.kind == "sensitivity" }.map {
            ReproductionReport.SensitivityPoint(
                policy: $0.policy, parameters: $0.policyParams, satisfied: $0.satisfied.mean, ci95: $0.satisfied.halfWidth,
                settleS: $0.settleSeconds.mean)
        }
        let figures = try writeFigures(summary, map: map, blocks: blocks, folder: folder)
        return ReproductionReport(
            experiment: spec.name, seeds: spec.seeds, alpha: spec.alpha,
            variants: spec.policies.map {
                .init(label: $0.label, policy: $0.name, parameters: $0.parameters, provenance: $0.provenanceText)
            },
            headlineRule: spec.headlineSpec.rule, headline: headline, map: map, blocks: blocks, sensitivity: sens,
            figures: figures, runs: try summary.sweep.runs().count - summary.missing.count)
    }

    /// Figures, each with a CSV of its data beside it: a curve per one-parameter block,
    /// a heat map of the ratio per map block and number of models, and measured / target
    /// per model at the headline (first seed).
    static func writeFigures(
        _ summary: SweepSummary, map: [ReproductionReport.Cell], blocks: [String: [ReproductionReport.Cell]], folder: String
    ) throws -> [String] {
        let spec = summary.sweep.spec
        let figDir = (folder as NSString).appendingPathComponent("figures")
        try FileManager.default.createDirectory(atPath: figDir, withIntermediateDirectories: true)
        var figures: [String] = []
        func save(_ svg: String, _ csv: String, _ name: String) throws {
            let path = (figDir as NSString).appendingPathComponent(name + ".svg")
            try atomicWrite(svg, to: path)
            try atomicWrite(csv, to: (figDir as NSString).appendingPathComponent(name + ".csv"))
            figures.append(path)
        }
        let labels = spec.policies.map(\.label)
        // Curves: blocks with one numeric grid parameter.
        for block in summary.sweep.blocks where block.grid.count == 1 && block.grid[0].1.allSatisfy({ Double($0) != nil }) {
            let param = block.grid[0].0
            let rows = summary.rows.filter { $0.kind == block.name }
            var csv = "block,\(param),policy,provenance,seeds,satisfied_mean,satisfied_ci95_low,satisfied_ci95_high,satisfied_band_mean,total\n"
            var series: [SVGChart.Series] = []
            for (k, label) in labels.enumerated() {
                let mine = rows.filter { $0.policy == label }.sorted { Double($0.point[param]!)! < Double($1.point[param]!)! }
                for r in mine {
                    csv += "\(block.name),\(r.point[param]!),\(label),\(spec.policies[k].provenanceText),\(r.satisfied.n),\(r.satisfied.mean),"
                    csv += "\(r.satisfied.low),\(r.satisfied.high),\(r.satisfiedBand.mean),\(r.total)\n"
                }
                let controls = spec.policies[k].provenance != "paper"
                let tag = spec.policies[k].provenance == "paper" ? "paper" : (spec.policies[k].provenance ?? "?")
                series.append(SVGChart.Series(
                    name: "\(label) (\(tag))",
                    points: mine.map { SVGChart.Point(x: Double($0.point[param]!)!, y: $0.satisfied.mean, error: $0.satisfied.halfWidth) },
                    dashed: controls, colorIndex: k))
            }
            if param == "models", let first = labels.first {
                let totals = rows.filter { $0.policy == first }.map { SVGChart.Point(x: Double($0.point[param]!)!, y: $0.total) }
                series.append(SVGChart.Series(name: "models deployed", points: totals.sorted { $0.x < $1.x }, markers: false, dashed: true))
            }
            let chart = SVGChart(
                title: "\(spec.name), \(block.name): satisfied models vs \(param) (\(spec.seeds.count) seeds, 95% CI)",
                xLabel: param.replacingOccurrences(of: "_", with: " "), yLabel: "satisfied models (strict)", series: series)
            try save(chart.render(), csv, "\(block.name)-satisfied-vs-\(param)")
        }
        // Heat maps of the ratio over (lo, hi), per map block and number of models.
        let head = spec.headlineSpec
        var groups: [String: [ReproductionReport.Cell]] = [:]
        var groupOrder: [String] = []
        for c in map {
            let key = "\(c.block)-n\(c.regime.models ?? 0)"
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(c)
        }
        for key in groupOrder {
            let cells = groups[key]!
            let los = Array(Set(cells.compactMap(\.regime.lo))).sorted(), his = Array(Set(cells.compactMap(\.regime.hi))).sorted()
            var csv = "block,models,lo,hi,seeds,\(head.policy),\(head.baseline),ratio,ratio_ci95_low,ratio_ci95_high,baseline_ci95_low,"
            csv += "paired_diff,paired_diff_ci95_low,paired_diff_ci95_high\n"
            var hm: [SVGHeatMap.Cell] = []
            for c in cells {
                guard let lo = c.regime.lo, let hi = c.regime.hi, let r = los.firstIndex(of: lo), let k = his.firstIndex(of: hi) else { continue }
                let cmp = c.comparison
                func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
                csv += "\(c.block),\(c.regime.models.map(String.init) ?? ""),\(lo),\(hi),\(c.seeds),\(c.satisfied[head.policy] ?? .nan),"
                csv += "\(c.satisfied[head.baseline] ?? .nan),\(f(cmp.ratio)),\(f(cmp.ratioCI95?[0])),\(f(cmp.ratioCI95?[1])),"
                csv += "\(cmp.baselineCI95[0]),\(cmp.pairedDiff),\(cmp.pairedDiffCI95[0]),\(cmp.pairedDiffCI95[1])\n"
                let text: [String] = cmp.ratio.map { ["\(fmt($0, 2))x", "[\(fmt(cmp.ratioCI95![0], 2)), \(ciHigh(cmp.ratioCI95![1]))]"] }
                    ?? ["n/a", "\(fmt(c.satisfied[head.policy] ?? 0)) vs \(fmt(c.satisfied[head.baseline] ?? 0))"]
                hm.append(.init(row: r, column: k, value: cmp.ratio, text: text))
            }
            var chart = SVGHeatMap(
                title: "\(spec.name), \(key): \(head.policy) / \(head.baseline), satisfied models (\(spec.seeds.count) seeds)",
                rowLabel: "lo (c* / equal share)", columnLabel: "hi (c* / equal share)", rows: los.map { fmt($0, 2) },
                columns: his.map { fmt($0, 2) }, cells: hm)
            chart.caption = "ratio of means [bootstrap 95% CI]; n/a: the baseline's 95% CI reaches 0 (means shown instead)"
            try save(chart.render(), csv, "ratio-map-\(key)")
        }
        // Measured / target per model at the headline, first seed.
        let seed = spec.seeds[0]
        var outcomes: [(String, SimulationResult)] = []
        let sweep = summary.sweep
        var csv = "policy,seed,job_id,model,target_ms,measured_ms,measured_over_target,satisfied\n"
        for p in spec.policies {
            let run = SweepRun(kind: head.block, policy: p, scenario: spec.headline, seed: seed)
            let result = try sweep.execute(run).result
            outcomes.append((p.label, result))
            for m in result.models {
                csv += "\(p.label),\(seed),\(m.id),\(m.model),\(m.targetMs),\(m.measuredMs.map { "\($0)" } ?? ""),"
                csv += "\(m.measuredMs.map { "\($0 / m.targetMs)" } ?? ""),\(m.satisfied)\n"
            }
        }
        try save(
            ExperimentFigures.latencyVsTarget(outcomes, title: "\(spec.name): measured / target per model, headline (seed \(seed))").render(),
            csv, "latency-vs-target")
        return figures
    }

    static func ciHigh(_ v: Double) -> String { v.isFinite ? fmt(v, 2) : "inf" }

    static func interval(_ v: [Double], _ d: Int = 1) -> String { "[\(fmt(v[0], d)), \(v[1].isFinite ? fmt(v[1], d) : "inf")]" }

    /// The readable report.
    public static func table(_ r: ReproductionReport, spec: ExperimentSpec) -> String {
        let head = spec.headlineSpec
        let seeds = r.seeds.count > 1 ? "\(r.seeds.first!)-\(r.seeds.last!)" : "\(r.seeds.first ?? 0)"
        var s = "\(r.experiment): \(r.runs) runs; \(r.seeds.count) seeds (\(seeds)) shared by all policies (common random numbers).\n"
        s += "Satisfied = lifetime metric <= target (strict); band = <= \(fmt(1 + r.alpha, 2)) x target.\n"
        s += "Ratios: mean / mean with a bootstrap 95% CI (10,000 resamples of seeds), only where the baseline's 95% CI lies above 0.\n\n"
        s += "Variants:\n"
        for v in r.variants {
            let params = v.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            s += "  \(pad(v.label, 20)) \(pad(v.provenance, 16)) \(v.policy) \(params)\n"
        }
        let h = r.headline
        s += "\nHeadline (\(h.block): \(pointText(h.point))), \(fmt(h.total, 0)) models deployed\n"
        if !r.headlineRule.isEmpty { s += "  rule, fixed before the runs: \(r.headlineRule)\n" }
        for l in spec.policies.map(\.label) {
            guard let v = h.satisfied[l] else { continue }
            s += "  \(pad(l, 20)) satisfied \(fmt(v))  band \(fmt(h.satisfiedBand[l] ?? 0))"
            if let c = h.comparisons[l] {
                s += "   vs \(head.baseline): diff \(c.pairedDiff >= 0 ? "+" : "")\(fmt(c.pairedDiff)) \(interval(c.pairedDiffCI95))"
                s += c.ratio.map { ", ratio \(fmt($0, 2)) \(interval(c.ratioCI95!, 2))" } ?? ", ratio n/a"
            }
            s += "\n"
        }
        let c = h.comparison
        s += "  => \(head.policy) / \(head.baseline) = "
        if let ratio = c.ratio, let ci = c.ratioCI95 {
            s += "\(fmt(ratio, 2)) \(interval(ci, 2)); 8x is \(ci[0] <= 8 && 8 <= ci[1] ? "inside" : "outside") this interval\n"
        } else {
            s += "not given: \(head.baseline)'s 95% CI \(interval(c.baselineCI95, 2)) reaches 0\n"
        }
        // The map.
        var byGroup: [String: [ReproductionReport.Cell]] = [:]
        var order: [String] = []
        for cell in r.map {
            let key = "\(cell.block), \(cell.regime.models ?? 0) models"
            if byGroup[key] == nil { order.append(key) }
            byGroup[key, default: []].append(cell)
        }
        if !order.isEmpty {
            s += "\nMap: \(head.policy) / \(head.baseline) [95% CI] by regime, c* / equal share log-uniform in [lo, hi];\n"
            s += "     '~a vs b' gives the means where the baseline's CI reaches 0\n"
        }
        var ratios: [Double] = []
        for key in order {
            let cells = byGroup[key]!
            let los = Array(Set(cells.compactMap(\.regime.lo))).sorted(), his = Array(Set(cells.compactMap(\.regime.hi))).sorted()
            s += "  \(key)\n    " + pad("lo \\ hi", 8) + his.map { pad(fmt($0, 2), 22) }.joined() + "\n"
            for lo in los {
                s += "    " + pad(fmt(lo, 2), 8)
                for hi in his {
                    guard let cell = cells.first(where: { $0.regime.lo == lo && $0.regime.hi == hi }) else {
                        s += pad("-", 22)
                        continue
                    }
                    let cmp = cell.comparison
                    if let ratio = cmp.ratio, let ci = cmp.ratioCI95 {
                        ratios.append(ratio)
                        s += pad("\(fmt(ratio, 2)) \(interval(ci, 2))", 22)
                    } else {
                        s += pad("~\(fmt(cell.satisfied[head.policy] ?? 0)) vs \(fmt(cell.satisfied[head.baseline] ?? 0))", 22)
                    }
                }
                s += "\n"
            }
        }
        if !ratios.isEmpty {
            let inside = r.map.filter { c in c.comparison.ratioCI95.map { $0[0] <= 8 && 8 <= $0[1] } ?? false }.count
            let above = r.map.filter { c in c.comparison.ratioCI95.map { $0[0] > 8 } ?? false }.count
            s += "  \(ratios.count) of \(r.map.count) cells have a bounded ratio: \(fmt(ratios.min()!, 2))-\(fmt(ratios.max()!, 2)); "
            s += "8x inside the CI in \(inside), below the CI's lower bound in \(above)\n"
        }
        // Other blocks (curves, open loop).
        for block in spec.blocks.map(\.name) where r.blocks[block] != nil {
            let cells = r.blocks[block]!
            guard let b = spec.block(block) else { continue }
            let varied = b.grid.map(\.0)
            let labels = spec.policies.map(\.label)
            s += "\n\(block) (\(pointText(b.overrides))): satisfied models (mean)\n"
            s += "  " + varied.map { pad($0, 12) }.joined() + labels.map { pad($0, 14) }.joined() + "\(head.policy)/\(head.baseline) [95% CI]\n"
            for cell in cells {
                s += "  " + varied.map { pad(cell.point[$0] ?? "", 12) }.joined()
                s += labels.map { pad(cell.satisfied[$0].map { fmt($0) } ?? "-", 14) }.joined()
                let cmp = cell.comparison
                s += cmp.ratio.map { "\(fmt($0, 2)) \(interval(cmp.ratioCI95!, 2))" }
                    ?? "n/a (diff \(fmt(cmp.pairedDiff)) \(interval(cmp.pairedDiffCI95)))"
                s += "\n"
            }
        }
        if !r.sensitivity.isEmpty {
            s += "\nSensitivity of \(r.sensitivity[0].policy) at the headline (mean satisfied, 95% CI half-width):\n"
            for p in r.sensitivity {
                s += "  \(pad(p.parameters, 44)) \(fmt(p.satisfied)) +- \(fmt(p.ci95))   settle \(fmt(p.settleS, 0)) s\n"
            }
        }
        s += "\nFigures (each with its data as .csv beside it):\n" + r.figures.map { "  \($0)\n" }.joined()
        return s
    }

    static func pointText(_ p: [String: String]) -> String {
        p.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.replacingOccurrences(of: ";", with: ","))" }.joined(separator: " ")
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }

    static func fmt(_ v: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", v) }
}

/// A study that cannot be summarized as declared.
public struct ExperimentError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

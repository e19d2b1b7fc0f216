import Foundation
import Testing
import QoESim
import QoESimExperiments
import QoESimPlot

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small experiment (seconds to run) used by the sweep tests.
func tinySpec(_ folder: String, extra: String = "") -> String {
    let path = folder + "/tiny.yaml"
    let text = """
    name: tiny
    models: \(Fixture.packageRoot)/Traces/models
    scenario:
      generator: heterogeneous-targets
      cpus_per_node: 4
      models: 4
      duration_s: 60
    policies: [fair-share, {name: dqoes, label: dqoes-fast, interval: 2}, predictive]
    seeds: 3
    grid:
      models: [2, 4, 6]
    headline: {models: 4}
    sensitivity:
      policy: dqoes
      grid: {alpha: [0.1, 0.2]}
    \(extra)
    """
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

@Suite("Experiments: sweeps, resume, shards, figures")
struct ExperimentTests {
    @Test("A rerun skips finished runs and reproduces the same summary; a lost run file is redone")
    func resume() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sweep = try Sweep(spec: ExperimentSpec.load(tinySpec(folder)))
        let out = folder + "/out"
        let total = sweep.runs().count
        #expect(total == 3 * 3 * 3 + 2 * 3)
        #expect(try sweep.execute(into: out, workers: 2) == total)
        let first = try SweepSummary(sweep: sweep, folders: [out])
        #expect(first.missing.isEmpty)
        #expect(try sweep.execute(into: out, workers: 2) == 0)
        // An interrupted sweep: one run's file is gone, and a stray temporary file remains.
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + "/runs").filter { $0.hasSuffix(".csv") }.sorted()
        try FileManager.default.removeItem(atPath: out + "/runs/" + runs[5])
        FileManager.default.createFile(atPath: out + "/runs/.partial.tmp", contents: Data("kind,run_id\ncurve,x".utf8))
        #expect(try sweep.execute(into: out, workers: 2) == 1)
        let second = try SweepSummary(sweep: sweep, folders: [out])
        #expect(second.csv == first.csv)
        #expect(second.results == first.results)
    }

    @Test("Shards run disjoint parts and merge into the single-machine summary")
    func shards() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sweep = try Sweep(spec: ExperimentSpec.load(tinySpec(folder)))
        try sweep.execute(into: folder + "/all", workers: 2)
        var counts: [Int] = []
        for i in 0..<3 { counts.append(try sweep.execute(into: folder + "/s\(i)", shard: i, of: 3, workers: 1)) }
        #expect(counts.reduce(0, +) == sweep.runs().count)
        let partial = try SweepSummary(sweep: sweep, folders: [folder + "/s0"])
        #expect(!partial.missing.isEmpty)
        let merged = try SweepSummary(sweep: sweep, folders: (0..<3).map { folder + "/s\($0)" })
        let single = try SweepSummary(sweep: sweep, folders: [folder + "/all"])
        #expect(merged.missing.isEmpty)
        #expect(merged.csv == single.csv)
        #expect(merged.results == single.results)
    }

    @Test("The reproduction report carries headline counts, ratio, curve and figures")
    func reproduction() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = try ExperimentSpec.load(tinySpec(folder))
        let report = try Reproduction.run(spec: spec, folder: folder + "/out", workers: 2)
        #expect(report.headline.total == 4)
        #expect(Set(report.headline.satisfied.keys) == ["fair-share", "dqoes-fast", "predictive"])
        #expect(report.headline.policy == "dqoes-fast" && report.headline.baseline == "fair-share")
        #expect(report.blocks["curve"]?.count == 3)
        #expect(report.sensitivity.count == 2)
        let cmp = report.headline.comparisons["predictive"]!
        #expect(cmp.seeds == 3)
        if let ratio = cmp.ratio {
            #expect(abs(ratio - report.headline.satisfied["predictive"]! / report.headline.satisfied["fair-share"]!) < 1e-12)
        } else {
            #expect(cmp.baselineCI95[0] <= 0)
        }
        for path in report.figures {
            let svg = try String(contentsOfFile: path, encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
            // Every figure has its data beside it.
            #expect(FileManager.default.fileExists(atPath: String(path.dropLast(4)) + ".csv"), "no data for \(path)")
        }
        #expect(report.figures.contains { $0.hasSuffix("curve-satisfied-vs-models.svg") })
        #expect(report.figures.contains { $0.hasSuffix("latency-vs-target.svg") })
    }

    @Test("Experiment file errors name file and line", arguments: [
        ("policies: [fair-share,\n  nonesuch]", 4, "unknown policy 'nonesuch'"),
        ("policies:\n  - {name: dqoes, alpha: -3}", 4, "alpha must be in [0, 1)"),
        ("policies: [fair-share]\ngrid:\n  cpus: [1, 2]", 5, "grid parameter 'cpus' is not a generator parameter"),
        ("policies: [fair-share]\nseeds: [1, 1]", 1, "seeds must be non-empty and distinct"),
    ])
    func specErrors(text line: String, at expected: Int, message: String) throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bad.yaml"
        let text = "name: bad\nscenario: {generator: heterogeneous-targets}\n" + line + "\n"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        do {
            _ = try ExperimentSpec.load(path)
            Issue.record("no error for \(line)")
        } catch let e as InputError {
            #expect(e.file == path && e.line == expected, "\(e)")
            #expect(e.problem.contains(message), "\(e)")
        }
    }

    /// Paired comparison on numbers checked by hand: differences 1, 2, 0, 1, 1 (mean 1,
    /// sd 0.7071, t(4) = 2.776: 1 +- 0.878); baseline 2, 2, 3, 3, 5 (mean 3, lower bound
    /// 3 - 2.776 x 0.5477 > 0), so the ratio 4 / 3 is given, with a bootstrap interval
    /// that contains it and is the same on every call (fixed bootstrap seed).
    @Test("Paired differences, baseline interval and bootstrap ratio interval")
    func pairedComparison() {
        let base: [UInt64: Double] = [1: 2, 2: 2, 3: 3, 4: 3, 5: 5]
        let pol: [UInt64: Double] = [1: 3, 2: 4, 3: 3, 4: 4, 5: 6, 9: 100]  // seed 9 has no pair: ignored
        let c = PairedComparison(policy: pol, baseline: base)
        #expect(c.seeds == 5 && c.pairedDiff == 1 && c.baselineMean == 3)
        #expect(abs(c.pairedDiffCI95[0] - (1 - 2.776 * 0.70710678 / 5.squareRoot())) < 1e-3)
        #expect(abs(c.ratio! - 4.0 / 3) < 1e-12)
        #expect(c.ratioCI95![0] <= c.ratio! && c.ratio! <= c.ratioCI95![1] && c.ratioCI95![0] > 1)
        #expect(PairedComparison(policy: pol, baseline: base) == c)
        // A baseline whose interval reaches 0 gets no ratio.
        let zero = PairedComparison(policy: [1: 3, 2: 4, 3: 2], baseline: [1: 0, 2: 1, 3: 0])
        #expect(zero.ratio == nil && zero.ratioCI95 == nil && zero.baselineCI95[0] <= 0)
    }

    /// The study form: blocks with overrides and their own model folder, experiment-wide
    /// alpha and setpoint given to dqoes variants, provenance labels, a headline naming a
    /// block, and blocks that only run with allBlocks.
    @Test("Study experiment files: blocks, headline, alpha and setpoint, provenance")
    func studySpec() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/study.yaml"
        let text = """
        name: study
        models: \(Fixture.packageRoot)/Traces/models
        alpha: 0.2
        setpoint: 0.9
        seeds: {from: 101, count: 3}
        scenario: {generator: heterogeneous-targets, cpus_per_node: 4, models: 4, duration_s: 40, target_share: [0.95, 2]}
        policies:
          - {name: fair-share, provenance: paper}
          - {name: dqoes, provenance: paper}
          - {name: dqoes, label: loose, setpoint: 1.0, provenance: ours}
        blocks:
          - {name: map, grid: {target_share: [[0.5, 2], [0.95, 2]], models: [4]}}
          - {name: fitted, models: \(Fixture.packageRoot)/Traces/models-fitted, scenario: {cpus_per_node: 2, model_mix: [resnet50]}, grid: {models: [2]}}
          - {name: wide, default: false, grid: {models: [6]}}
        headline: {block: map, point: {target_share: [0.95, 2]}, policy: dqoes, baseline: fair-share, rule: "chosen first"}
        """
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let spec = try ExperimentSpec.load(path)
        #expect(spec.seeds == [101, 102, 103] && spec.alpha == 0.2)
        #expect(spec.policies[1].parameters == ["alpha": "0.2", "setpoint": "0.9"] && spec.policies[1].provenanceText == "as in the paper")
        #expect(spec.policies[2].parameters["setpoint"] == "1.0" && spec.policies[2].provenanceText == "ours")
        #expect(spec.headline == ["target_share": "0.95;2", "models": "4"] && spec.headlineSpec.rule == "chosen first")
        let sweep = try Sweep(spec: spec)
        #expect(sweep.runs().count == (2 + 1) * 3 * 3)
        #expect(try Sweep(spec: spec, allBlocks: true).runs().count == (2 + 1 + 1) * 3 * 3)
        // The fitted block draws from its own folder, on 2-core nodes.
        let fitted = try sweep.scenario(for: sweep.blocks[1].points[0], block: "fitted", seed: 101)
        #expect(fitted.cluster.nodes[0].cpus == 2 && fitted.jobs.allSatisfy { $0.model.source?.contains("fitted") == true })
        let report = try Reproduction.run(spec: spec, folder: folder + "/out", workers: 2)
        #expect(report.map.count == 2 && report.blocks["fitted"]?.count == 1 && report.headline.block == "map")
        #expect(report.figures.contains { $0.hasSuffix("ratio-map-map-n4.svg") })
        let results = try String(contentsOfFile: folder + "/out/results.csv", encoding: .utf8)
        #expect(results.hasPrefix("kind,run_id,policy,policy_name,policy_params,") && results.contains(",satisfied_band,"))
    }

    @Test("Mean and 95% CI use Student's t")
    func confidenceIntervals() {
        let ci = MeanCI([1, 2, 3, 4, 5])
        #expect(ci.mean == 3)
        // sd = 1.5811, se = 0.7071, t(4) = 2.776.
        #expect(abs(ci.halfWidth - 2.776 * 0.70710678) < 1e-3)
        #expect(MeanCI([7]).halfWidth == 0)
        #expect(abs(MeanCI.t975(df: 200) - 1.972) < 0.002)
    }
}

@Suite("SVG charts")
struct SVGChartTests {
    final class Counter: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements[name, default: 0] += 1
        }
    }

    @Test("Charts are well-formed XML with one marker per point, error bars and escaped text")
    func wellFormed() {
        var chart = SVGChart(
            title: "a < b & c", xLabel: "x", yLabel: "y",
            series: [
                SVGChart.Series(name: "one", points: [.init(x: 1, y: 2, error: 0.5), .init(x: 2, y: 3), .init(x: 4, y: 1)]),
                SVGChart.Series(name: "two \"q\"", points: [.init(x: 1, y: 1), .init(x: 3, y: 4, error: 1)], step: true),
            ])
        chart.referenceLines = [(2.5, "target")]
        let svg = chart.render()
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = Counter()
        parser.delegate = counter
        #expect(parser.parse(), "not well-formed XML")
        #expect(svg.components(separatedBy: "class=\"point\"").count - 1 == 5)
        #expect(counter.elements["polyline"] == 2)
        #expect(svg.contains("a &lt; b &amp; c"))
        chart.logY = true
        #expect(XMLParser(data: Data(chart.render().utf8)).parse())
    }

    @Test("Tick values are round numbers covering the range")
    func ticks() {
        #expect(SVGChart.ticks(0, 10) == [0, 2, 4, 6, 8, 10])
        let t = SVGChart.ticks(0.13, 0.87)
        #expect(t.first! >= 0.13 && t.last! <= 0.87 && t.count >= 3)
    }
}

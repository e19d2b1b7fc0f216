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
        let total = try sweep.runs().count
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
        // A run file cut short (a disk that filled up) and one edited by hand: both are
        // found, named and made again (the old sweep took any file with the name as done).
        let cut = out + "/runs/" + runs[2], edited = out + "/runs/" + runs[7]
        let whole = try String(contentsOfFile: cut, encoding: .utf8)
        try String(whole.prefix(whole.count - 9)).write(toFile: cut, atomically: true, encoding: .utf8)
        let editedText = try String(contentsOfFile: edited, encoding: .utf8)
        try (editedText + "someone's,row\n").write(toFile: edited, atomically: true, encoding: .utf8)
        #expect(try Set(sweep.damagedRunFiles(in: out)) == [runs[2], runs[7]])
        #expect(try sweep.execute(into: out, workers: 2) == 2)
        #expect(try sweep.damagedRunFiles(in: out).isEmpty)
        #expect(try SweepSummary(sweep: sweep, folders: [out]).csv == first.csv)
    }

    @Test("Shards run disjoint parts and merge into the single-machine summary")
    func shards() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sweep = try Sweep(spec: ExperimentSpec.load(tinySpec(folder)))
        try sweep.execute(into: folder + "/all", workers: 2)
        var counts: [Int] = []
        for i in 0..<3 { counts.append(try sweep.execute(into: folder + "/s\(i)", shard: i, of: 3, workers: 1)) }
        #expect(try counts.reduce(0, +) == sweep.runs().count)
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
        ("policies: [fair-share]\ngrid:\n  cpus: [1, 2]", 5, "unknown key 'cpus'"),
        ("policies: [fair-share]\nseeds: [1, 1]", 1, "seeds must be non-empty and distinct"),
        // Bounded before anything is built (the old code built a billion seeds, then their runs).
        ("policies: [fair-share]\nseeds: 1000000000", 4, "at most 100000 seeds"),
        ("policies: [fair-share]\nseeds: {from: 0, count: 1000000000}", 4, "at most 100000 seeds"),
        ("policies: [fair-share, dqoes]\nseeds: 100000\ngrid:\n  models: [\((2...60).map(String.init).joined(separator: ", "))]",
         1, "this experiment has 11800000 runs"),
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
        #expect(try sweep.runs().count == (2 + 1) * 3 * 3)
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
        // GSL's quantile against published table values (4 decimals).
        for (df, t) in [(1, 12.7062), (4, 2.7764), (29, 2.0452), (1000, 1.9623)] {
            #expect(abs(MeanCI.t975(df: df) - t) < 1e-4, "t(\(df)) = \(MeanCI.t975(df: df))")
        }
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

@Suite("Shards")
struct ShardTests {
    @Test("i/n is 0-based; bad forms are refused with the rule")
    func plain() throws {
        #expect(try Shard.parse("0/1", environment: [:]) == Shard(index: 0, count: 1))
        #expect(try Shard.parse("3/4", environment: [:]) == Shard(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "/4", ""] {
            #expect(throws: ShardError.self, "\(bad)") { try Shard.parse(bad, environment: [:]) }
        }
    }

    @Test("slurm: arrays of any base and step map onto 0..<count; tasks outside the array are refused")
    func slurm() throws {
        func env(_ id: Int, _ lo: Int, _ hi: Int, _ step: Int? = nil) -> [String: String] {
            var e = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(lo)", "SLURM_ARRAY_TASK_MAX": "\(hi)"]
            if let step { e["SLURM_ARRAY_TASK_STEP"] = "\(step)" }
            return e
        }
        // --array=1-4 (the usual 1-based array): tasks 1..4 are shards 0..3 of 4.
        for id in 1...4 { #expect(try Shard.parse("slurm", environment: env(id, 1, 4)) == Shard(index: id - 1, count: 4)) }
        // --array=0-6:2: tasks 0, 2, 4, 6 are shards 0..3 of 4.
        for (k, id) in [0, 2, 4, 6].enumerated() {
            #expect(try Shard.parse("slurm", environment: env(id, 0, 6, 2)) == Shard(index: k, count: 4))
        }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: env(3, 0, 6, 2)) }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: env(5, 1, 4)) }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: env(0, 0, 5, 2)) }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: env(1, 1, 4, 0)) }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: ["SLURM_ARRAY_TASK_ID": "1"]) }
        #expect(throws: ShardError.self) { try Shard.parse("slurm", environment: env(1, 1, 4).merging(["SLURM_ARRAY_TASK_ID": "x"]) { $1 }) }
    }
}

/// Run ids cover the whole definition of a run: a finished run is reused only when
/// nothing that defines it changed ("editing any part of a run's definition and
/// rerunning never reports stale numbers").
@Suite("Run ids and stale results")
struct RunIdentityTests {
    func ids(_ path: String) throws -> [String: String] {
        let sweep = try Sweep(spec: ExperimentSpec.load(path))
        // Keyed by the readable part (block, policy, point, seed): the digest is what moves.
        return Dictionary(uniqueKeysWithValues: try sweep.runs().map { run in
            var plain = run
            plain.digest = ""
            return (plain.id, run.id)
        })
    }

    /// Writes `text` to `path` and returns the ids before and after.
    func changed(_ path: String, _ edit: (String) -> String) throws -> (before: [String: String], after: [String: String]) {
        let before = try ids(path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        return (before, try ids(path))
    }

    @Test("A generator field, an option, the band or the version changes every run's id")
    func everyRun() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = tinySpec(folder)
        for edit in [
            { (s: String) in s.replacingOccurrences(of: "duration_s: 60", with: "duration_s: 300") },
            { (s: String) in s + "\noptions: {actuation_delay_s: 0.5}\n" },
            { (s: String) in s + "\nalpha: 0.2\n" },
        ] {
            let (before, after) = try changed(spec, edit)
            #expect(before.count == after.count)
            #expect(Set(before.values).isDisjoint(with: Set(after.values)), "a run kept its id after \(edit(""))")
        }
        let sweep = try Sweep(spec: ExperimentSpec.load(spec))
        let run = try sweep.runs()[0]
        #expect(try sweep.digest(of: run, version: "0.0.0-other") != run.digest)
        // Other code (another executable) never reuses a run.
        #expect(try sweep.digest(of: run, code: "0000") != run.digest)
        #expect(try sweep.definition(of: run).contains("code \(CodeIdentity.executableSHA256)"))
        #expect(try sweep.digest(of: run) == run.digest)
    }

    @Test("A policy parameter changes the ids of that policy's runs only")
    func policyParameter() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = tinySpec(folder)
        // The experiment-wide dqoes setpoint applies to every dqoes variant that sets none.
        let (before, after) = try changed(spec) { $0 + "\nsetpoint: 0.9\n" }
        for (plain, id) in before {
            let dqoes = plain.contains("__dqoes-fast") || plain.hasPrefix("sensitivity__")
            if dqoes {
                // The readable part carries the parameters, so look the run up by seed and point.
                #expect(!after.values.contains(id), "\(plain) kept its id")
            } else {
                #expect(after[plain] == id, "\(plain) changed its id although nothing of it changed")
            }
        }
    }

    @Test("The bytes of a trace or of a model file change the ids")
    func inputFiles() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let models = folder + "/models"
        try FileManager.default.copyItem(atPath: Fixture.packageRoot + "/Traces/models", toPath: models)
        try #"{"nodes": [{"name": "n1", "cpus": 4}]}"#.write(toFile: folder + "/cluster.json", atomically: true, encoding: .utf8)
        try "job_id,model,arrival_s,duration_s,rate_rps,target_ms\na,resnet50,0,30,2,200\n"
            .write(toFile: folder + "/jobs.csv", atomically: true, encoding: .utf8)
        let spec = folder + "/files.yaml"
        try """
            name: files
            models: \(models)
            scenario: {cluster: \(folder)/cluster.json, trace: \(folder)/jobs.csv}
            policies: [fair-share, dqoes]
            seeds: 2
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let base = try ids(spec)
        #expect(base.count == 4)
        let trace = try String(contentsOfFile: folder + "/jobs.csv", encoding: .utf8)
        try trace.replacingOccurrences(of: ",2,200", with: ",3,200").write(toFile: folder + "/jobs.csv", atomically: true, encoding: .utf8)
        let traced = try ids(spec)
        #expect(base.allSatisfy { traced[$0.key] != $0.value })
        let model = models + "/resnet50.json"
        let text = try String(contentsOfFile: model, encoding: .utf8)
        try (text + "\n").write(toFile: model, atomically: true, encoding: .utf8)
        let remodelled = try ids(spec)
        #expect(traced.allSatisfy { remodelled[$0.key] != $0.value })
    }

    @Test("A sweep rerun into the same folder after an edit runs again and reports the new numbers")
    func noStaleSummary() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = tinySpec(folder)
        let out = folder + "/out"
        let first = try Sweep(spec: ExperimentSpec.load(spec))
        let total = try first.runs().count
        #expect(try first.execute(into: out, workers: 2) == total)
        let before = try SweepSummary(sweep: first, folders: [out]).csv
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try text.replacingOccurrences(of: "duration_s: 60", with: "duration_s: 30").write(toFile: spec, atomically: true, encoding: .utf8)
        let second = try Sweep(spec: ExperimentSpec.load(spec))
        #expect(try second.execute(into: out, workers: 2) == total, "the edited sweep reused runs of the old definition")
        let after = try SweepSummary(sweep: second, folders: [out]).csv
        #expect(after != before)
    }
}

@Suite("Sweeps over anything: --set keys and the open policy catalog")
struct SweepOverridesTests {
    @Test("--set: scenario., options. and policy.LABEL. keys change the runs; bad keys and values are named")
    func setKeys() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var spec = try ExperimentSpec.load(tinySpec(folder))
        let before = try Sweep(spec: spec).runs().map(\.id)
        try spec.set("options.actuation_delay_s", "0.5")
        #expect(spec.options.actuationDelay == 0.5)
        try spec.set("scenario.duration_s", "30")
        guard case .generator(let g) = spec.scenario else { Issue.record("not a generator"); return }
        #expect(g.durationS == 30)
        try spec.set("policy.dqoes-fast.setpoint", "0.9")
        #expect(spec.policies.first { $0.label == "dqoes-fast" }?.parameters["setpoint"] == "0.9")
        let after = try Sweep(spec: spec).runs().map(\.id)
        #expect(Set(before).isDisjoint(with: after))
        for (key, value, message) in [
            ("options.colour", "red", "unknown option 'colour'"),
            ("options.actuation_delay_s", "-1", "must be a number >= 0"),
            ("policy.nobody.alpha", "0.1", "no policy labelled 'nobody'"),
            ("policy.dqoes-fast.nonesuch", "1", "nonesuch"),
            ("scenario.warp", "9", "unknown key 'scenario.warp'"),
            ("duration_s", "soon", "duration_s must be a number"),
        ] {
            do {
                try spec.set(key, value)
                Issue.record("no error for \(key)=\(value)")
            } catch let e as InputError {
                #expect(e.problem.contains(message) && e.file.contains("--set"), "\(e)")
            }
        }
    }

    @Test("A grid varies file-scenario load and time scale, options and policy parameters; each swept key is a results.csv column")
    func gridOverAnything() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"nodes": [{"name": "n1", "cpus": 4}]}"#.write(toFile: folder + "/cluster.json", atomically: true, encoding: .utf8)
        try "job_id,model,arrival_s,duration_s,rate_rps,target_ms,arrivals\na,resnet50,0,40,2,900,poisson\nb,mobilenetv2,0,40,0,300,trace\n"
            .write(toFile: folder + "/jobs.csv", atomically: true, encoding: .utf8)
        try "job_id,time_s\nb,1\nb,2.5\nb,4\n".write(toFile: folder + "/requests.csv", atomically: true, encoding: .utf8)
        let path = folder + "/files.yaml"
        try """
            name: files
            models: \(Fixture.packageRoot)/Traces/models
            scenario: {cluster: cluster.json, trace: jobs.csv, requests: requests.csv, time_scale: 2}
            policies: [fair-share, dqoes]
            seeds: 2
            grid: {scenario.load: [1, 2], options.actuation_delay_s: [0, 1], policy.dqoes.alpha: [0.1, 0.3]}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let sweep = try Sweep(spec: ExperimentSpec.load(path))
        // The scenario itself: Poisson rates times load, trace offsets times time_scale / load.
        let base = try sweep.scenario(for: ["scenario.load": "1"], seed: 1)
        let doubled = try sweep.scenario(for: ["scenario.load": "2"], seed: 1)
        #expect(base.jobs[0].rate == 2 && doubled.jobs[0].rate == 4)
        #expect(base.requests["b"]!.map(\.offset) == [2, 5, 8])
        #expect(doubled.requests["b"]!.map(\.offset) == [1, 2.5, 4])
        // Options and the policy parameter reach the run, for its own label only.
        let point = ["scenario.load": "1", "options.actuation_delay_s": "1", "policy.dqoes.alpha": "0.3"]
        let dq = try sweep.resolve(point, policy: sweep.spec.policies[1])
        let fs = try sweep.resolve(point, policy: sweep.spec.policies[0])
        #expect(dq.options.actuationDelay == 1 && dq.policy.parameters["alpha"] == "0.3" && fs.policy.parameters.isEmpty)
        let runs = try sweep.runs()
        #expect(runs.count == 2 * 8 * 2 && Set(runs.map(\.id)).count == runs.count)
        #expect(try sweep.execute(into: folder + "/out", workers: 2) == runs.count)
        let summary = try SweepSummary(sweep: sweep, folders: [folder + "/out"])
        let table = try CSVTable(path: "results.csv", bytes: Array(summary.results.utf8))
        for column in ["scenario.load", "options.actuation_delay_s", "policy.dqoes.alpha"] {
            #expect(table.header.contains(column), "results.csv lacks \(column): \(table.header)")
        }
        // Twice the load: more requests served by job a, in every run pair.
        let load = table.header.firstIndex(of: "scenario.load")!, job = table.header.firstIndex(of: "job_id")!
        let requests = table.header.firstIndex(of: "requests")!
        let a = table.rows.filter { $0.fields[job] == "a" }
        let mean1 = a.filter { $0.fields[load] == "1" }.map { Double($0.fields[requests])! }.reduce(0, +)
        let mean2 = a.filter { $0.fields[load] == "2" }.map { Double($0.fields[requests])! }.reduce(0, +)
        #expect(mean2 > 1.5 * mean1, "load 2 served \(mean2) requests vs \(mean1)")
        // A bad value in the grid is refused at load time with the file's line.
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "[0.1, 0.3]", with: "[0.1, high]")
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ExperimentSpec.load(path)
            Issue.record("no error for alpha=high")
        } catch let e as InputError {
            #expect(e.file == path && e.line > 0 && e.problem.contains("alpha"), "\(e)")
        }
    }

    @Test("A grid over metric: each job's metric and the grid's are two columns (scenario.metric), and the values follow the grid")
    func gridOverMetric() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/metric.yaml"
        try """
            name: metric
            models: \(Fixture.packageRoot)/Traces/models
            scenario: {generator: heterogeneous-targets, cpus_per_node: 4, models: 3, duration_s: 30}
            policies: [fair-share]
            seeds: 1
            grid: {metric: [mean, p95]}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let sweep = try Sweep(spec: ExperimentSpec.load(path))
        #expect(try sweep.execute(into: folder + "/out", workers: 1) == 2)
        let summary = try SweepSummary(sweep: sweep, folders: [folder + "/out"])
        for (name, text) in [("results.csv", summary.results), ("summary.csv", summary.csv)] {
            let table = try CSVTable(path: name, bytes: Array(text.utf8))
            #expect(Set(table.header).count == table.header.count, "\(name) repeats a column: \(table.header)")
            #expect(table.header.contains("scenario.metric"), "\(name): \(table.header)")
        }
        let table = try CSVTable(path: "results.csv", bytes: Array(summary.results.utf8))
        let grid = table.header.firstIndex(of: "scenario.metric")!, metric = table.header.firstIndex(of: "metric")!
        #expect(table.rows.count == 6)
        for row in table.rows { #expect(row.fields[grid] == row.fields[metric], "\(row.fields)") }
    }

    @Test("A registered policy is known to experiment files by name, with its parameters validated by its own factory")
    func openCatalog() throws {
        try PolicyRegistry.register("test-fair-twin", defaults: [("boost", "1")]) { params in
            for (k, v) in params where k != "boost" || Double(v) == nil {
                throw PolicyParameterError("policy 'test-fair-twin' has no parameter '\(k)=\(v)'")
            }
            return FairSharePolicy()
        }
        #expect(PolicyRegistry.names.contains("test-fair-twin"))
        #expect(PolicyRegistry.defaults("test-fair-twin").first?.0 == "boost")
        #expect(throws: PolicyParameterError.self) { try PolicyRegistry.register("dqoes") { _ in FairSharePolicy() } }
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/custom.yaml"
        try """
            name: custom
            models: \(Fixture.packageRoot)/Traces/models
            scenario: {generator: heterogeneous-targets, cpus_per_node: 4, models: 4, duration_s: 30}
            policies: [fair-share, {name: test-fair-twin, label: twin, boost: 2}]
            seeds: 2
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let sweep = try Sweep(spec: ExperimentSpec.load(path))
        #expect(try sweep.execute(into: folder + "/out", workers: 1) == 4)
        // The twin is fair-share under another name: the same results per seed.
        let rows = try SweepSummary(sweep: sweep, folders: [folder + "/out"]).results.split(separator: "\n").dropFirst()
        let satisfied = Dictionary(grouping: rows.map { $0.split(separator: ",", omittingEmptySubsequences: false) }) { String($0[2]) }
        #expect(satisfied["fair-share"]?.count == satisfied["twin"]?.count)
        try """
            name: custom
            models: \(Fixture.packageRoot)/Traces/models
            scenario: {generator: heterogeneous-targets, cpus_per_node: 4, models: 4, duration_s: 30}
            policies: [{name: test-fair-twin, boost: loud}]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try ExperimentSpec.load(path) }
    }
}

@Suite("Experiments are validated before the first run")
struct ExperimentValidationTests {
    @Test("A model_mix naming a model missing from the folder fails before any run, naming the file and line")
    func missingModel() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = tinySpec(folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "  duration_s: 60", with: "  duration_s: 60\n  model_mix: [resnet50, alexnet]")
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Sweep(spec: ExperimentSpec.load(path))
            Issue.record("no error")
        } catch let e as InputError {
            #expect(e.file == path && e.line > 0 && e.problem.contains("model 'alexnet' of model_mix"), "\(e)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/out"))
    }
}

import Foundation
import QoESim

/// An experiment file (YAML or JSON): a scenario, policies, seeds and the grid of
/// parameters to sweep.
///
/// ```yaml
/// name: paper-8x
/// models: ../../Traces/models          # relative to this file
/// scenario:                            # a generator ...
///   generator: heterogeneous-targets
///   cpus_per_node: 16
///   models: 16
/// #  ... or files: scenario: {cluster: c.json, trace: jobs.csv, requests: r.csv}
/// policies: [fair-share, static, dqoes, {name: dqoes, label: dqoes-shares, mode: shares}, predictive]
/// seeds: [1, 2, 3, 4, 5]               # or a count: 5
/// grid: {models: [4, 8, 16, 24]}       # cartesian product of any namespaced keys:
/// #   scenario.NAME (or NAME): a generator parameter, or load / time_scale of a file scenario
/// #   options.NAME: actuation_delay_s, horizon_s, placement
/// #   policy.LABEL.PARAMETER: a parameter of one policy variant (its runs only)
/// headline: {models: 16}               # the grid point reported as the headline
/// sensitivity:                         # one policy's parameters at the headline
///   policy: dqoes
///   grid: {alpha: [0.05, 0.1, 0.2], interval: [2, 5, 10]}
/// options: {actuation_delay_s: 0.5, placement: spread}
/// ```
///
/// A study has several blocks instead of one `grid`, each a grid of its own over the
/// base scenario with some fields overridden (and optionally another model folder);
/// its headline names a block, a grid point, the policy and the baseline:
///
/// ```yaml
/// alpha: 0.1            # satisfied_band: measured <= (1 + alpha) x target; dqoes's band
/// setpoint: 0.8         # dqoes's setpoint, for every dqoes variant that sets none
/// seeds: {from: 1001, count: 30}
/// blocks:
///   - {name: map, grid: {target_share: [[0.5, 2], [0.95, 2]], models: [8, 16]}}
///   - {name: fitted, models: ../../Traces/models-fitted, scenario: {cpus_per_node: 2}, grid: {models: [4]}}
///   - {name: full-map, default: false, grid: {...}}    # only with --all-blocks
/// headline: {block: map, point: {target_share: [0.95, 2], models: 16}, policy: dqoes,
///            baseline: fair-share, rule: "why this cell, written before the runs"}
/// ```
public struct ExperimentSpec: Sendable {
    /// A policy with parameters, and the label it is reported under.
    public struct PolicyVariant: Sendable, Equatable, Hashable {
        public var label: String
        public var name: String
        public var parameters: [String: String]
        /// "paper" (as in the paper) or "ours"; nil when the file does not say.
        public var provenance: String?

        public init(label: String, name: String, parameters: [String: String] = [:], provenance: String? = nil) {
            self.label = label
            self.name = name
            self.parameters = parameters
            self.provenance = provenance
        }

        public func make() throws -> any AllocationPolicy { try PolicyRegistry.make(name, parameters: parameters) }

        /// "as in the paper", "ours" or "unlabelled".
        public var provenanceText: String {
            switch provenance {
            case "paper": return "as in the paper"
            case "ours": return "ours"
            default: return "unlabelled"
            }
        }
    }

    /// One grid of runs over the base scenario (see the type's documentation).
    public struct Block: Sendable {
        public var name: String
        /// Model folder of this block (the experiment's when nil).
        public var modelsFolder: String?
        /// Generator fields this block overrides, as text.
        public var overrides: [String: String]
        public var grid: [(String, [String])]
        /// Whether `reproduce` runs it without `--all-blocks`.
        public var runByDefault: Bool

        /// Every scenario point of the block (overrides merged into each grid point).
        public var points: [[String: String]] { cartesian(grid).map { overrides.merging($0) { $1 } } }
    }

    /// The cell a study reports first, and the comparison made there.
    public struct Headline: Sendable {
        public var block: String
        /// The full scenario point (overrides included).
        public var point: [String: String]
        public var policy: String
        public var baseline: String
        /// The rule by which the cell was chosen, as written in the file.
        public var rule: String
    }

    public enum ScenarioSource: Sendable {
        case generator(HeterogeneousTargetsGenerator)
        case files(cluster: String, trace: String, requests: String?)
    }

    public var path: String
    public var name: String
    public var modelsFolder: String
    public var scenario: ScenarioSource
    public var policies: [PolicyVariant]
    public var seeds: [UInt64]
    /// The blocks of runs; a file with a plain `grid` has one block named "curve".
    public var blocks: [Block]
    public var headlineSpec: Headline
    public var sensitivityPolicy: PolicyVariant?
    public var sensitivityGrid: [(String, [String])]
    public var options: SimulationOptions
    /// Tolerance of `satisfied_band` (measured <= (1 + alpha) x target).
    public var alpha: Double
    /// Settings of a file scenario (`load`, `time_scale`) given in its `scenario:` or by
    /// `sweep --set`; a grid point overrides them.
    public var fileScenarioSettings: [String: String] = [:]

    /// The headline's scenario point.
    public var headline: [String: String] { headlineSpec.point }
    /// The first block's grid (the curve of a plain experiment).
    public var grid: [(String, [String])] { blocks.first?.grid ?? [] }

    /// The block named `name`.
    public func block(_ name: String) -> Block? { blocks.first { $0.name == name } }

    /// Every scenario field any block sets or varies, in first-seen order (the columns of
    /// results.csv and summary.csv).
    public var pointColumns: [String] {
        var out: [String] = []
        for b in blocks {
            for k in b.overrides.keys.sorted() + b.grid.map(\.0) where !out.contains(k) { out.append(k) }
        }
        return out
    }

    /// Settings of a file scenario a grid may vary: `load` multiplies the arrival rate of
    /// every open-loop job (Poisson rates times `load`, request-trace offsets divided by
    /// it; closed-loop jobs are unchanged) and `time_scale` stretches request-trace
    /// offsets (2 = half the rate).
    public static let fileScenarioParameters = ["load", "time_scale"]

    /// Simulation options a grid or `--set` may vary (as `options.NAME`).
    public static let optionNames = ["actuation_delay_s", "horizon_s", "placement"]

    /// What a key of a grid, a block's `scenario`, a headline point or `sweep --set` sets.
    public enum SweepKey: Sendable, Equatable {
        /// A generator parameter (`NAME` or `scenario.NAME`).
        case generator(String)
        /// `load` or `time_scale` of a file scenario (`scenario.NAME` or `NAME`).
        case fileScenario(String)
        /// A simulation option (`options.NAME`).
        case option(String)
        /// A parameter of the policy variant labelled `label` (`policy.LABEL.PARAMETER`).
        case policy(label: String, parameter: String)
    }

    /// Resolves a namespaced key against this experiment; the error points at `at`.
    public func classify(_ key: String, at: StructuredValue) throws -> SweepKey {
        try Self.classify(key, scenario: scenario, labels: policies.map(\.label), at: at)
    }

    static func classify(_ key: String, scenario: ScenarioSource, labels: [String], at: StructuredValue) throws -> SweepKey {
        if key.hasPrefix("options.") {
            let name = String(key.dropFirst("options.".count))
            guard optionNames.contains(name) else {
                throw at.error("unknown option '\(name)'; options: \(optionNames.joined(separator: ", "))")
            }
            return .option(name)
        }
        if key.hasPrefix("policy.") {
            let rest = key.dropFirst("policy.".count)
            guard let dot = rest.lastIndex(of: "."), dot != rest.startIndex, rest.index(after: dot) != rest.endIndex else {
                throw at.error("\(key): a policy key is policy.LABEL.PARAMETER")
            }
            let label = String(rest[..<dot])
            guard labels.contains(label) else {
                throw at.error("\(key): no policy labelled '\(label)'; labels: \(labels.joined(separator: ", "))")
            }
            return .policy(label: label, parameter: String(rest[rest.index(after: dot)...]))
        }
        let name = key.hasPrefix("scenario.") ? String(key.dropFirst("scenario.".count)) : key
        switch scenario {
        case .generator:
            guard generatorParameters.contains(name) else {
                throw at.error("unknown key '\(key)'; scenario parameters: \(generatorParameters.joined(separator: ", ")); or options.NAME, policy.LABEL.PARAMETER")
            }
            return .generator(name)
        case .files:
            guard fileScenarioParameters.contains(name) else {
                throw at.error("unknown key '\(key)'; a file scenario has \(fileScenarioParameters.joined(separator: ", ")); or options.NAME, policy.LABEL.PARAMETER")
            }
            return .fileScenario(name)
        }
    }

    /// Sets one simulation option from its text form.
    public static func setOption(_ o: inout SimulationOptions, _ name: String, text: String, at: StructuredValue) throws {
        switch name {
        case "actuation_delay_s":
            guard let d = Double(text), d.isFinite, d >= 0 else { throw at.error("options.\(name) must be a number >= 0, got '\(text)'") }
            if let p = InputLimits.problem("horizon_s", d) { throw at.error(p) }
            o.actuationDelay = d
        case "horizon_s":
            guard let h = Double(text), h.isFinite, h > 0 else { throw at.error("options.\(name) must be a number > 0, got '\(text)'") }
            if let p = InputLimits.problem(name, h) { throw at.error(p) }
            o.horizon = h
        case "placement":
            guard let p = PlacementStrategy(rawValue: text) else { throw at.error("options.\(name) must be spread or pack, got '\(text)'") }
            o.placement = p
        default:
            throw at.error("unknown option '\(name)'; options: \(optionNames.joined(separator: ", "))")
        }
    }

    /// Reads a file-scenario setting (a finite number > 0).
    public static func fileScenarioValue(_ name: String, text: String, at: StructuredValue) throws -> Double {
        guard let v = Double(text), v.isFinite, v > 0 else { throw at.error("\(name) must be a number > 0, got '\(text)'") }
        if let p = InputLimits.problem(name == "time_scale" ? "load" : name, v) { throw at.error(p) }
        return v
    }

    /// The columns of results.csv and summary.csv that say what a run varied: every key
    /// a block sets or varies (first-seen order), then `policy.LABEL.PARAMETER` for each
    /// parameter of the sensitivity grid.
    public var parameterColumns: [String] {
        var out = pointColumns
        if let p = sensitivityPolicy {
            for (k, _) in sensitivityGrid where !out.contains("policy.\(p.label).\(k)") { out.append("policy.\(p.label).\(k)") }
        }
        return out
    }

    /// Columns results.csv has for every run (a varied parameter never takes one of
    /// these names: see ``columnHeader(_:)``).
    public static let fixedColumns = Set(
        Sweep.leadingColumns + Sweep.resultColumns + SweepSummary.leadingColumns + SweepSummary.statisticColumns)

    /// The header of parameter column `column` in results.csv and summary.csv: its name,
    /// or `scenario.NAME` where a fixed column has that name (a grid over `metric` gives
    /// `scenario.metric`; `metric` stays each job's own metric).
    public static func columnHeader(_ column: String) -> String {
        fixedColumns.contains(column) ? "scenario.\(column)" : column
    }

    /// The value of column `column` (see ``parameterColumns``) for a run of `policy` at
    /// `point`: the point's value, else the policy's own parameter for its own
    /// `policy.LABEL.PARAMETER` column, else empty.
    public static func columnValue(_ column: String, point: [String: String], policy: PolicyVariant) -> String {
        if let v = point[column] { return v }
        let prefix = "policy.\(policy.label)."
        if column.hasPrefix(prefix) { return policy.parameters[String(column.dropFirst(prefix.count))] ?? "" }
        return ""
    }

    /// Generator parameters the grid may vary.
    public static let generatorParameters = [
        "nodes", "cpus_per_node", "models", "model_mix", "shuffle", "target_cores", "target_share", "share_models", "arrivals",
        "load", "load_basis", "duration_s", "arrival_spread_s", "metric",
    ]

    /// Loads and validates an experiment file; errors carry file and line.
    public static func load(_ path: String) throws -> ExperimentSpec {
        try parse(TextFile.read(path), file: path)
    }

    /// Validates an experiment file held in memory; `path` names it in errors and its
    /// folder is where relative paths (models, scenario files) are resolved.
    public static func parse(_ bytes: [UInt8], file path: String) throws -> ExperimentSpec {
        let doc = try StructuredValue.parse(bytes: bytes, file: path)
        try doc.checkKeys(
            allowed: [
                "name", "description", "models", "scenario", "policies", "seeds", "grid", "blocks", "headline", "sensitivity",
                "options", "alpha", "setpoint",
            ],
            in: "experiment")
        let base = PathText.parent(path)
        func rel(_ p: String) -> String { p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p) }
        let name = try doc.optional("name", in: "experiment")?.string("name") ?? (PathText.lastComponent(path) as NSString).deletingPathExtension
        let models = rel(try doc.optional("models", in: "experiment")?.string("models") ?? "../../Traces/models")

        let scen = try doc.required("scenario", in: "experiment")
        let scenario: ScenarioSource
        var fileSettings: [String: String] = [:]
        if try scen.optional("generator", in: "scenario") != nil {
            var g = HeterogeneousTargetsGenerator()
            for key in try scen.keys(of: "scenario") where key != "generator" {
                guard generatorParameters.contains(key) else {
                    throw scen.error("scenario has unknown field '\(key)'; generator parameters: \(generatorParameters.joined(separator: ", "))")
                }
                let v = try scen.required(key, in: "scenario")
                try setGenerator(&g, key, text: try scalarText(v, key), at: v)
            }
            let gen = try scen.required("generator", in: "scenario")
            guard try gen.string("generator") == "heterogeneous-targets" else {
                throw gen.error("generator must be 'heterogeneous-targets'")
            }
            scenario = .generator(g)
        } else {
            try scen.checkKeys(allowed: ["cluster", "trace", "requests"] + fileScenarioParameters, in: "scenario")
            for key in fileScenarioParameters {
                if let v = try scen.optional(key, in: "scenario") {
                    let text = try v.string(key)
                    _ = try fileScenarioValue(key, text: text, at: v)
                    fileSettings[key] = text
                }
            }
            scenario = .files(
                cluster: rel(try scen.required("cluster", in: "scenario").string("cluster")),
                trace: rel(try scen.required("trace", in: "scenario").string("trace")),
                requests: try scen.optional("requests", in: "scenario").map { rel(try $0.string("requests")) })
        }

        let alpha = try doc.optional("alpha", in: "experiment").map { v -> Double in
            let a = try v.nonNegative("alpha")
            guard a < 1 else { throw v.error("alpha must be in [0, 1)") }
            return a
        } ?? 0.1
        let setpoint = try doc.optional("setpoint", in: "experiment").map { try $0.positive("setpoint") }
        // Experiment-wide dqoes settings apply to every dqoes variant that sets none.
        var dqoesDefaults: [String: String] = [:]
        if try doc.optional("alpha", in: "experiment") != nil { dqoesDefaults["alpha"] = "\(alpha)" }
        if let setpoint { dqoesDefaults["setpoint"] = "\(setpoint)" }
        var policies: [PolicyVariant] = []
        for item in try doc.required("policies", in: "experiment").array(of: "policies") {
            policies.append(try variant(item, defaults: dqoesDefaults))
        }
        guard !policies.isEmpty else { throw doc.error("policies is empty") }
        if let dup = Dictionary(grouping: policies, by: \.label).first(where: { $0.value.count > 1 }) {
            throw doc.error("two policies are labelled '\(dup.key)'; give one a 'label'")
        }

        var seeds: [UInt64] = [1]
        if let s = try doc.optional("seeds", in: "experiment") {
            if let list = try? s.array(of: "seeds") {
                seeds = try list.map { UInt64(try $0.integer("seed", minimum: 0)) }
            } else if (try? s.keys(of: "seeds")) != nil {
                try s.checkKeys(allowed: ["from", "count"], in: "seeds")
                let from = try s.required("from", in: "seeds").integer("seeds.from", minimum: 0)
                let countValue = try s.required("count", in: "seeds")
                let count = try countValue.integer("seeds.count", minimum: 1)
                guard count <= maxSeeds else { throw countValue.error("seeds.count is \(count); an experiment may have at most \(maxSeeds) seeds") }
                seeds = (0..<count).map { UInt64(from + $0) }
            } else {
                let k = try s.integer("seeds", minimum: 1)
                guard k <= maxSeeds else { throw s.error("seeds is \(k); an experiment may have at most \(maxSeeds) seeds") }
                seeds = (1...k).map { UInt64($0) }
            }
            guard seeds.count <= maxSeeds else { throw s.error("\(seeds.count) seeds; an experiment may have at most \(maxSeeds)") }
        }
        guard !seeds.isEmpty, Set(seeds).count == seeds.count else { throw doc.error("seeds must be non-empty and distinct") }

        func readGrid(_ v: StructuredValue?, what: String, check: (String, StructuredValue) throws -> Void) throws -> [(String, [String])] {
            guard let v else { return [] }
            var out: [(String, [String])] = []
            for key in try v.keys(of: what) {
                let entry = try v.required(key, in: what)
                let values = try entry.array(of: "\(what).\(key)").map { try scalarText($0, key) }
                guard !values.isEmpty else { throw entry.error("\(what).\(key) has no values") }
                try check(key, entry)
                out.append((key, values))
            }
            return out
        }
        func generatorKey(_ key: String, _ at: StructuredValue) throws {
            guard case .generator = scenario, generatorParameters.contains(key) else {
                throw at.error("block scenario parameter '\(key)' is not a generator parameter (\(generatorParameters.joined(separator: ", ")))")
            }
        }
        // A grid varies anything: scenario (generator or file settings), options, policy parameters.
        func gridKey(_ key: String, _ at: StructuredValue) throws {
            _ = try classify(key, scenario: scenario, labels: policies.map(\.label), at: at)
        }
        var blocks: [Block] = []
        let plainGrid = try doc.optional("grid", in: "experiment")
        let blockList = try doc.optional("blocks", in: "experiment")
        if plainGrid != nil && blockList != nil { throw doc.error("give either grid or blocks, not both") }
        if let blockList {
            for item in try blockList.array(of: "blocks") {
                try item.checkKeys(allowed: ["name", "models", "scenario", "grid", "default"], in: "block")
                let name = try item.required("name", in: "block").string("block name")
                guard name != "sensitivity", !blocks.contains(where: { $0.name == name }) else {
                    throw item.error("block name '\(name)' is used twice or reserved")
                }
                var overrides: [String: String] = [:]
                if let o = try item.optional("scenario", in: "block") {
                    for key in try o.keys(of: "block scenario") {
                        let v = try o.required(key, in: "block scenario")
                        try generatorKey(key, v)
                        overrides[key] = try scalarText(v, key)
                    }
                }
                let grid = try readGrid(try item.optional("grid", in: "block"), what: "grid", check: gridKey)
                let byDefault = try item.optional("default", in: "block").map { v -> Bool in
                    let t = try v.string("default")
                    guard t == "true" || t == "false" else { throw v.error("default must be true or false") }
                    return t == "true"
                } ?? true
                blocks.append(Block(
                    name: name, modelsFolder: try item.optional("models", in: "block").map { rel(try $0.string("models")) },
                    overrides: overrides, grid: grid, runByDefault: byDefault))
            }
            guard !blocks.isEmpty else { throw blockList.error("blocks is empty") }
        } else {
            blocks = [Block(name: "curve", modelsFolder: nil, overrides: [:], grid: try readGrid(plainGrid, what: "grid", check: gridKey), runByDefault: true)]
        }
        let headline = try readHeadline(try doc.optional("headline", in: "experiment"), blocks: blocks, policies: policies, doc: doc)

        var sensPolicy: PolicyVariant? = nil
        var sensGrid: [(String, [String])] = []
        if let s = try doc.optional("sensitivity", in: "experiment") {
            try s.checkKeys(allowed: ["policy", "grid"], in: "sensitivity")
            sensPolicy = try variant(try s.required("policy", in: "sensitivity"), defaults: dqoesDefaults)
            sensGrid = try readGrid(try s.required("grid", in: "sensitivity"), what: "sensitivity.grid") { _, _ in }
            // Check every combination makes a valid policy now, not mid-run.
            for combo in cartesian(sensGrid) {
                do {
                    _ = try PolicyRegistry.make(sensPolicy!.name, parameters: sensPolicy!.parameters.merging(combo) { $1 })
                } catch let e as PolicyParameterError {
                    throw s.error("sensitivity: \(e.description)")
                }
            }
        }

        var options = SimulationOptions()
        if let o = try doc.optional("options", in: "experiment") {
            try o.checkKeys(allowed: optionNames, in: "options")
            for name in optionNames {
                if let v = try o.optional(name, in: "options") { try setOption(&options, name, text: try v.string(name), at: v) }
            }
        }
        var spec = ExperimentSpec(
            path: path, name: name, modelsFolder: models, scenario: scenario, policies: policies, seeds: seeds, blocks: blocks,
            headlineSpec: headline, sensitivityPolicy: sensPolicy, sensitivityGrid: sensGrid, options: options, alpha: alpha)
        spec.fileScenarioSettings = fileSettings
        if spec.runCount > maxRuns {
            throw doc.error("this experiment has \(spec.runCount) runs (grid points x policies x seeds, and the sensitivity grid); at most \(maxRuns) are allowed: split it into experiments or shards")
        }
        try spec.validatePoints(at: try doc.optional("blocks", in: "experiment") ?? plainGrid ?? scen)
        return spec
    }

    /// Most seeds an experiment may list or count.
    public static let maxSeeds = 100_000
    /// Most runs one experiment may define (see ``runCount``).
    public static let maxRuns = 10_000_000

    /// How many runs the experiment defines (every block's points x policies x seeds, and
    /// the sensitivity grid x seeds), counted without building them (saturating).
    public var runCount: Int {
        func product(_ grid: [(String, [String])]) -> Int {
            grid.reduce(1) { n, g in let (r, o) = n.multipliedReportingOverflow(by: g.1.count); return o ? Int.max : r }
        }
        var total = 0
        func add(_ n: Int, _ m: Int) {
            let (r, o) = n.multipliedReportingOverflow(by: m)
            let (t, o2) = total.addingReportingOverflow(o ? Int.max : r)
            total = o2 ? Int.max : t
        }
        for b in blocks { add(product(b.grid), policies.count * seeds.count) }
        if sensitivityPolicy != nil { add(product(sensitivityGrid), seeds.count) }
        return total
    }

    /// Checks every grid point of every block before any run: each key resolves, each
    /// value is valid for it, every policy variant accepts the parameters a point gives
    /// it, and every model a generator point names exists in its block's folder.
    public func validatePoints(at: StructuredValue) throws {
        for block in blocks {
            let folder = block.modelsFolder ?? modelsFolder
            let catalog = try ModelCatalog.load(folder: folder)
            for point in block.points {
                var g: HeterogeneousTargetsGenerator? = nil
                if case .generator(let base) = scenario { g = base }
                var options = self.options
                var params: [String: [String: String]] = [:]
                for (k, v) in fileScenarioSettings.merging(point, uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
                    switch try classify(k, at: at) {
                    case .generator(let name): try Self.setGenerator(&g!, name, text: v, at: at)
                    case .fileScenario(let name): _ = try Self.fileScenarioValue(name, text: v, at: at)
                    case .option(let name): try Self.setOption(&options, name, text: v, at: at)
                    case .policy(let label, let p): params[label, default: [:]][p] = v
                    }
                }
                if let missing = g?.modelMix.first(where: { catalog.models[$0] == nil }) {
                    throw at.error("block '\(block.name)': model '\(missing)' of model_mix is not in \(folder)")
                }
                for (label, extra) in params {
                    let variant = policies.first { $0.label == label }!
                    do {
                        _ = try PolicyRegistry.make(variant.name, parameters: variant.parameters.merging(extra) { $1 })
                    } catch let e as PolicyParameterError {
                        throw at.error("block '\(block.name)': \(e.description)")
                    }
                }
            }
        }
    }

    /// The headline: either the study form {block, point, policy, baseline, rule} or, for
    /// a plain grid, a grid point (missing parameters take their middle value).
    static func readHeadline(_ h: StructuredValue?, blocks: [Block], policies: [PolicyVariant], doc: StructuredValue) throws -> Headline {
        let labels = policies.map(\.label)
        let defaultBaseline = labels.contains("fair-share") ? "fair-share" : labels[0]
        // The compared policy: `dqoes`, else the first dqoes variant, else the first other.
        let defaultCompared = labels.contains("dqoes") ? "dqoes"
            : (policies.first { $0.name == "dqoes" }?.label ?? labels.first { $0 != defaultBaseline } ?? labels[0])
        func defaultPolicy(_ preferred: [String]) -> String { preferred == ["dqoes"] ? defaultCompared : defaultBaseline }
        if let h, try h.optional("point", in: "headline") != nil {
            try h.checkKeys(allowed: ["block", "point", "policy", "baseline", "rule"], in: "headline")
            let name = try h.required("block", in: "headline").string("headline.block")
            guard let block = blocks.first(where: { $0.name == name }) else { throw h.error("headline block '\(name)' is not a block") }
            var point = block.overrides
            let p = try h.required("point", in: "headline")
            for key in try p.keys(of: "headline.point") {
                let v = try p.required(key, in: "headline.point")
                guard let values = block.grid.first(where: { $0.0 == key })?.1 else {
                    throw v.error("headline parameter '\(key)' is not in the grid of block '\(name)'")
                }
                let text = try scalarText(v, key)
                guard values.contains(text) else { throw v.error("headline \(key)=\(text) is not a value of block '\(name)'") }
                point[key] = text
            }
            for (k, values) in block.grid where point[k] == nil { point[k] = values[values.count / 2] }
            let policy = try h.optional("policy", in: "headline")?.string("headline.policy") ?? defaultPolicy(["dqoes"])
            let baseline = try h.optional("baseline", in: "headline")?.string("headline.baseline") ?? defaultPolicy(["fair-share"])
            for l in [policy, baseline] where !labels.contains(l) { throw h.error("headline policy '\(l)' is not a policy label") }
            let rule = try h.optional("rule", in: "headline")?.string("headline.rule") ?? ""
            return Headline(block: name, point: point, policy: policy, baseline: baseline, rule: rule)
        }
        let block = blocks[0]
        var point: [String: String] = block.overrides
        if let h {
            for key in try h.keys(of: "headline") {
                let v = try h.required(key, in: "headline")
                guard block.grid.contains(where: { $0.0 == key }) else { throw v.error("headline parameter '\(key)' is not in grid") }
                point[key] = try scalarText(v, key)
            }
        }
        for (k, values) in block.grid where point[k] == nil { point[k] = values[values.count / 2] }
        return Headline(
            block: block.name, point: point, policy: defaultPolicy(["dqoes"]), baseline: defaultPolicy(["fair-share"]), rule: "")
    }

    static func scalarText(_ v: StructuredValue, _ what: String) throws -> String {
        if let list = try? v.array(of: what) {
            return try list.map { try $0.string(what) }.joined(separator: ";")
        }
        return try v.string(what)
    }

    static func variant(_ item: StructuredValue, defaults: [String: String] = [:]) throws -> PolicyVariant {
        if let name = try? item.string("policy") {
            guard PolicyRegistry.names.contains(name) else {
                throw item.error("unknown policy '\(name)'; choose one of \(PolicyRegistry.names.joined(separator: ", "))")
            }
            return PolicyVariant(label: name, name: name, parameters: name == "dqoes" ? defaults : [:])
        }
        let name = try item.required("name", in: "policy").string("policy name")
        let label = try item.optional("label", in: "policy")?.string("label") ?? name
        let provenance = try item.optional("provenance", in: "policy").map { v -> String in
            let t = try v.string("provenance")
            guard t == "paper" || t == "ours" else { throw v.error("provenance must be paper or ours") }
            return t
        }
        var params: [String: String] = name == "dqoes" ? defaults : [:]
        for key in try item.keys(of: "policy") where !["name", "label", "provenance"].contains(key) {
            params[key] = try scalarText(try item.required(key, in: "policy"), key)
        }
        do {
            _ = try PolicyRegistry.make(name, parameters: params)
        } catch let e as PolicyParameterError {
            throw item.error(e.description)
        }
        return PolicyVariant(label: label, name: name, parameters: params, provenance: provenance)
    }

    /// Sets one generator parameter from its text form.
    public static func setGenerator(_ g: inout HeterogeneousTargetsGenerator, _ key: String, text: String, at: StructuredValue) throws {
        func num() throws -> Double {
            guard let v = Double(text), v.isFinite else { throw at.error("\(key) must be a number, got '\(text)'") }
            if let p = InputLimits.problem(key, v) { throw at.error(p) }
            return v
        }
        func int(_ minimum: Int) throws -> Int {
            guard let v = Int(text), v >= minimum else { throw at.error("\(key) must be an integer >= \(minimum), got '\(text)'") }
            if let p = InputLimits.problem(key, Double(v)) { throw at.error(p) }
            return v
        }
        switch key {
        case "nodes": g.nodes = try int(1)
        case "cpus_per_node":
            g.cpusPerNode = try num()
            guard g.cpusPerNode > 0 else { throw at.error("cpus_per_node must be > 0") }
        case "models": g.models = try int(1)
        case "model_mix":
            g.modelMix = text.split(separator: ";").map(String.init)
            guard !g.modelMix.isEmpty else { throw at.error("model_mix is empty") }
        case "shuffle":
            guard text == "true" || text == "false" else { throw at.error("shuffle must be true or false") }
            g.shuffle = text == "true"
        case "target_cores":
            let parts = text.split(separator: ";").compactMap { Double($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] >= parts[0] else { throw at.error("target_cores must be [low, high] with 0 < low <= high") }
            g.targetCores = parts[0]...parts[1]
        case "target_share":
            let parts = text.split(separator: ";").compactMap { Double($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] >= parts[0] else { throw at.error("target_share must be [low, high] with 0 < low <= high") }
            g.targetShare = parts[0]...parts[1]
        case "share_models": g.shareModels = try int(1)
        case "load_basis":
            guard let b = HeterogeneousTargetsGenerator.LoadBasis(rawValue: text) else {
                throw at.error("load_basis must be one of \(HeterogeneousTargetsGenerator.LoadBasis.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            g.loadBasis = b
        case "arrivals":
            var cache: [String: ArrivalProcess] = [:]
            let a = try ArrivalProcess.parse(
                text, context: FieldContext(file: at.file, line: at.line, column: "arrivals"), relativeTo: PathText.parent(at.file), cache: &cache)
            guard !a.isTrace else { throw at.error("arrivals: a generator draws its arrivals (closed, poisson, gamma, weibull, mmpp, sinusoid or piecewise), not trace") }
            g.arrivals = a
        case "load":
            g.load = try num()
            guard g.load > 0 else { throw at.error("load must be > 0") }
        case "duration_s":
            g.durationS = try num()
            guard g.durationS > 0 else { throw at.error("duration_s must be > 0") }
        case "arrival_spread_s":
            g.arrivalSpreadS = try num()
            guard g.arrivalSpreadS >= 0 else { throw at.error("arrival_spread_s must be >= 0") }
        case "metric":
            guard let m = QoEMetric(rawValue: text) else { throw at.error("metric must be mean, p95 or p99") }
            g.metric = m
        default:
            throw at.error("unknown generator parameter '\(key)'")
        }
    }
}

/// All combinations of a grid, each as name -> value.
public func cartesian(_ grid: [(String, [String])]) -> [[String: String]] {
    var out: [[String: String]] = [[:]]
    for (key, values) in grid {
        out = out.flatMap { partial in values.map { v in partial.merging([key: v]) { $1 } } }
    }
    return out
}

extension ExperimentSpec {
    /// Sets one value of the experiment from the command line (`sweep --set KEY=VALUE`),
    /// with namespaced keys: `scenario.NAME` (or a bare NAME: a generator parameter, or
    /// `load`/`time_scale` of a file scenario; every run's, unless a block or the grid
    /// sets it), `options.NAME` (`actuation_delay_s`, `horizon_s`, `placement`), and
    /// `policy.LABEL.PARAM` (a parameter of the policy variant labelled LABEL). The value
    /// is validated as in the file, and every grid point again with it.
    public mutating func set(_ key: String, _ value: String) throws {
        let at = try StructuredValue.parse("{}", file: "--set \(key)=\(value)")
        switch try classify(key, at: at) {
        case .option(let name):
            try Self.setOption(&options, name, text: value, at: at)
        case .policy(let label, let param):
            let i = policies.firstIndex { $0.label == label }!
            var p = policies[i]
            p.parameters[param] = value
            do { _ = try PolicyRegistry.make(p.name, parameters: p.parameters) } catch let e as PolicyParameterError {
                throw at.error(e.description)
            }
            policies[i] = p
            if sensitivityPolicy?.label == label { sensitivityPolicy?.parameters[param] = value }
        case .fileScenario(let name):
            _ = try Self.fileScenarioValue(name, text: value, at: at)
            fileScenarioSettings[name] = value
        case .generator(let name):
            guard case .generator(var g) = scenario else { fatalError("classify gave a generator key to a file scenario") }
            try Self.setGenerator(&g, name, text: value, at: at)
            scenario = .generator(g)
        }
        try validatePoints(at: at)
    }
}

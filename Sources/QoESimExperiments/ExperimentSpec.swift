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
/// #  ... or files: {cluster: c.json, trace: jobs.csv, requests: r.csv}
/// policies: [fair-share, static, dqoes, {name: dqoes, label: dqoes-shares, mode: shares}, predictive]
/// seeds: [1, 2, 3, 4, 5]               # or a count: 5
/// grid: {models: [4, 8, 16, 24]}       # scenario parameters, cartesian product
/// headline: {models: 16}               # the grid point reported as the headline
/// sensitivity:                         # one policy's parameters at the headline
///   policy: dqoes
///   grid: {alpha: [0.05, 0.1, 0.2], interval: [2, 5, 10]}
/// options: {actuation_delay_s: 0.5, placement: spread}
/// ```
public struct ExperimentSpec: Sendable {
    /// A policy with parameters, and the label it is reported under.
    public struct PolicyVariant: Sendable, Equatable, Hashable {
        public var label: String
        public var name: String
        public var parameters: [String: String]

        public init(label: String, name: String, parameters: [String: String] = [:]) {
            self.label = label
            self.name = name
            self.parameters = parameters
        }

        public func make() throws -> any AllocationPolicy { try PolicyRegistry.make(name, parameters: parameters) }
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
    /// Scenario parameter -> values (generator parameters only), in file order.
    public var grid: [(String, [String])]
    public var headline: [String: String]
    public var sensitivityPolicy: PolicyVariant?
    public var sensitivityGrid: [(String, [String])]
    public var options: SimulationOptions

    /// Generator parameters the grid may vary.
    public static let generatorParameters = [
        "nodes", "cpus_per_node", "models", "model_mix", "shuffle", "target_cores", "arrivals", "load", "duration_s",
        "arrival_spread_s", "metric",
    ]

    /// Loads and validates an experiment file; errors carry file and line.
    public static func load(_ path: String) throws -> ExperimentSpec {
        let doc = try StructuredValue.load(path)
        try doc.checkKeys(
            allowed: ["name", "description", "models", "scenario", "policies", "seeds", "grid", "headline", "sensitivity", "options"],
            in: "experiment")
        let base = (path as NSString).deletingLastPathComponent
        func rel(_ p: String) -> String { p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p) }
        let name = try doc.optional("name", in: "experiment")?.string("name") ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let models = rel(try doc.optional("models", in: "experiment")?.string("models") ?? "../../Traces/models")

        let scen = try doc.required("scenario", in: "experiment")
        let scenario: ScenarioSource
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
            try scen.checkKeys(allowed: ["cluster", "trace", "requests"], in: "scenario")
            scenario = .files(
                cluster: rel(try scen.required("cluster", in: "scenario").string("cluster")),
                trace: rel(try scen.required("trace", in: "scenario").string("trace")),
                requests: try scen.optional("requests", in: "scenario").map { rel(try $0.string("requests")) })
        }

        var policies: [PolicyVariant] = []
        for item in try doc.required("policies", in: "experiment").array(of: "policies") {
            policies.append(try variant(item))
        }
        guard !policies.isEmpty else { throw doc.error("policies is empty") }
        if let dup = Dictionary(grouping: policies, by: \.label).first(where: { $0.value.count > 1 }) {
            throw doc.error("two policies are labelled '\(dup.key)'; give one a 'label'")
        }

        var seeds: [UInt64] = [1]
        if let s = try doc.optional("seeds", in: "experiment") {
            if let list = try? s.array(of: "seeds") {
                seeds = try list.map { UInt64(try $0.integer("seed", minimum: 0)) }
            } else {
                let k = try s.integer("seeds", minimum: 1)
                seeds = (1...k).map { UInt64($0) }
            }
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
        let grid = try readGrid(try doc.optional("grid", in: "experiment"), what: "grid") { key, at in
            guard case .generator = scenario, generatorParameters.contains(key) else {
                throw at.error("grid parameter '\(key)' is not a generator parameter (\(generatorParameters.joined(separator: ", ")))")
            }
        }
        var headline: [String: String] = [:]
        if let h = try doc.optional("headline", in: "experiment") {
            for key in try h.keys(of: "headline") {
                let v = try h.required(key, in: "headline")
                guard grid.contains(where: { $0.0 == key }) else { throw v.error("headline parameter '\(key)' is not in grid") }
                headline[key] = try scalarText(v, key)
            }
        }
        for (k, values) in grid where headline[k] == nil { headline[k] = values[values.count / 2] }

        var sensPolicy: PolicyVariant? = nil
        var sensGrid: [(String, [String])] = []
        if let s = try doc.optional("sensitivity", in: "experiment") {
            try s.checkKeys(allowed: ["policy", "grid"], in: "sensitivity")
            sensPolicy = try variant(try s.required("policy", in: "sensitivity"))
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
            try o.checkKeys(allowed: ["actuation_delay_s", "placement", "horizon_s"], in: "options")
            if let d = try o.optional("actuation_delay_s", in: "options") { options.actuationDelay = try d.nonNegative("actuation_delay_s") }
            if let h = try o.optional("horizon_s", in: "options") { options.horizon = try h.positive("horizon_s") }
            if let p = try o.optional("placement", in: "options") {
                guard let s = PlacementStrategy(rawValue: try p.string("placement")) else { throw p.error("placement must be spread or pack") }
                options.placement = s
            }
        }
        let spec = ExperimentSpec(
            path: path, name: name, modelsFolder: models, scenario: scenario, policies: policies, seeds: seeds, grid: grid,
            headline: headline, sensitivityPolicy: sensPolicy, sensitivityGrid: sensGrid, options: options)
        // Every grid point must make a valid generator.
        if case .generator(let g) = scenario {
            for combo in cartesian(grid) {
                var copy = g
                for (k, v) in combo.sorted(by: { $0.key < $1.key }) { try setGenerator(&copy, k, text: v, at: doc) }
            }
        }
        return spec
    }

    static func scalarText(_ v: StructuredValue, _ what: String) throws -> String {
        if let list = try? v.array(of: what) {
            return try list.map { try $0.string(what) }.joined(separator: ";")
        }
        return try v.string(what)
    }

    static func variant(_ item: StructuredValue) throws -> PolicyVariant {
        if let name = try? item.string("policy") {
            guard PolicyRegistry.names.contains(name) else {
                throw item.error("unknown policy '\(name)'; choose one of \(PolicyRegistry.names.joined(separator: ", "))")
            }
            return PolicyVariant(label: name, name: name)
        }
        let name = try item.required("name", in: "policy").string("policy name")
        let label = try item.optional("label", in: "policy")?.string("label") ?? name
        var params: [String: String] = [:]
        for key in try item.keys(of: "policy") where key != "name" && key != "label" {
            params[key] = try scalarText(try item.required(key, in: "policy"), key)
        }
        do {
            _ = try PolicyRegistry.make(name, parameters: params)
        } catch let e as PolicyParameterError {
            throw item.error(e.description)
        }
        return PolicyVariant(label: label, name: name, parameters: params)
    }

    /// Sets one generator parameter from its text form.
    public static func setGenerator(_ g: inout HeterogeneousTargetsGenerator, _ key: String, text: String, at: StructuredValue) throws {
        func num() throws -> Double {
            guard let v = Double(text), v.isFinite else { throw at.error("\(key) must be a number, got '\(text)'") }
            return v
        }
        func int(_ minimum: Int) throws -> Int {
            guard let v = Int(text), v >= minimum else { throw at.error("\(key) must be an integer >= \(minimum), got '\(text)'") }
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
        case "arrivals":
            guard let a = ArrivalProcess(rawValue: text), a != .trace else { throw at.error("arrivals must be closed or poisson") }
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

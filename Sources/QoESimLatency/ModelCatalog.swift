import Foundation
import QoESimInput

/// A deployable inference model: its name, latency model and variability.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var latency: LatencyModel
    public var variability: Variability
    /// Free-form provenance (e.g. "fitted from Traces/profiles/resnet50.csv").
    public var source: String?

    public init(name: String, latency: LatencyModel, variability: Variability, source: String? = nil) {
        self.name = name
        self.latency = latency
        self.variability = variability
        self.source = source
    }
}

/// The set of models a simulation can deploy, loaded from one JSON file per model.
///
/// Model file schema:
/// ```json
/// {"name": "resnet50",
///  "latency": {"family": "amdahl", "serial_ms": 12, "parallel_ms": 160, "max_parallelism": 4},
///  "variability": {"distribution": "lognormal", "cv": 0.1},
///  "source": "where the numbers come from"}
/// ```
/// `variability` may be omitted (deterministic). Unknown fields are errors.
public struct ModelCatalog: Sendable {
    /// Models by name.
    public private(set) var models: [String: ModelSpec] = [:]

    public init(_ models: [ModelSpec] = []) {
        for m in models { self.models[m.name] = m }
    }

    /// Loads every `*.json` file in `folder` (sorted by file name). Throws
    /// ``InputError`` naming the file and line of the first problem, or when two
    /// files define the same name.
    public static func load(folder: String) throws -> ModelCatalog {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw InputError(file: folder, line: 0, "model folder does not exist (pass --models PATH)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".json") }.sorted()
        guard !names.isEmpty else { throw InputError(file: folder, line: 0, "model folder has no *.json model files") }
        var catalog = ModelCatalog()
        var origin: [String: String] = [:]
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            let (spec, line) = try loadModel(path)
            if let first = origin[spec.name] {
                throw InputError(file: path, line: line, "model '\(spec.name)' is already defined in \(first)")
            }
            origin[spec.name] = path
            catalog.models[spec.name] = spec
        }
        return catalog
    }

    /// Loads one model file; returns the spec and the line of its name.
    public static func loadModel(_ path: String) throws -> (ModelSpec, Int) {
        let doc = try StructuredValue.load(path)
        try doc.checkKeys(allowed: ["name", "latency", "variability", "source", "fit"], in: "model")
        let nameValue = try doc.required("name", in: "model")
        let name = try nameValue.string("name")
        guard !name.isEmpty else { throw nameValue.error("name must not be empty") }
        let lat = try doc.required("latency", in: "model")
        let family = try lat.required("family", in: "latency").string("latency.family")
        let model: LatencyModel
        func num(_ key: String) throws -> Double { try lat.required(key, in: "latency").nonNegative("latency.\(key)") }
        func maxPar(default d: Double) throws -> Double {
            guard let v = try lat.optional("max_parallelism", in: "latency") else { return d }
            let m = try v.positive("latency.max_parallelism")
            return m
        }
        switch family {
        case "amdahl":
            try lat.checkKeys(allowed: ["family", "serial_ms", "parallel_ms", "max_parallelism"], in: "latency")
            let s = try num("serial_ms"), p = try num("parallel_ms")
            let m = try lat.required("max_parallelism", in: "latency").positive("latency.max_parallelism")
            guard s + p > 0 else { throw lat.error("latency: serial_ms + parallel_ms must be > 0") }
            model = LatencyModel(family: .amdahl(serialMs: s, parallelMs: p), maxParallelism: m)
        case "power":
            try lat.checkKeys(allowed: ["family", "a_ms", "b_ms", "k", "max_parallelism"], in: "latency")
            let a = try num("a_ms"), b = try num("b_ms"), k = try num("k")
            guard a + b > 0 else { throw lat.error("latency: a_ms + b_ms must be > 0") }
            model = LatencyModel(family: .power(aMs: a, bMs: b, k: k), maxParallelism: try maxPar(default: .infinity))
        case "gpu":
            try lat.checkKeys(allowed: ["family", "overhead_ms", "cpu_ms", "gpu_ms", "max_parallelism"], in: "latency")
            let o = try lat.optional("overhead_ms", in: "latency")?.nonNegative("latency.overhead_ms") ?? 0
            let c = try num("cpu_ms"), g = try num("gpu_ms")
            guard o + c + g > 0 else { throw lat.error("latency: overhead_ms + cpu_ms + gpu_ms must be > 0") }
            model = LatencyModel(family: .gpu(overheadMs: o, cpuMs: c, gpuMs: g), maxParallelism: try maxPar(default: 1))
        default:
            throw lat.error("latency.family '\(family)' is not one of amdahl, power, gpu")
        }
        var variability = Variability.deterministic
        if let v = try doc.optional("variability", in: "model") {
            try v.checkKeys(allowed: ["distribution", "cv"], in: "variability")
            let dist = try v.required("distribution", in: "variability").string("variability.distribution")
            switch dist {
            case "deterministic": variability = .deterministic
            case "exponential": variability = .exponential
            case "lognormal":
                let cv = try v.required("cv", in: "variability").positive("variability.cv")
                variability = .lognormal(cv: cv)
            default:
                throw v.error("variability.distribution '\(dist)' is not one of deterministic, exponential, lognormal")
            }
        }
        let source = try doc.optional("source", in: "model")?.string("source")
        return (ModelSpec(name: name, latency: model, variability: variability, source: source), nameValue.line)
    }
}

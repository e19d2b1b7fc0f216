import Foundation
import QoESimInput

/// A deployable inference model: its name, latency model and variability.
public struct ModelSpec: Sendable, Equatable {
    /// The model's name, as job traces name it.
    public var name: String
    /// Mean service time as a function of cores (and GPU fraction).
    public var latency: LatencyModel
    /// Per-request variation around the mean (mean 1).
    public var variability: Variability
    /// Free-form provenance (e.g. "fitted from Traces/profiles/resnet50.csv").
    public var source: String?
    /// The latency when the container's CPU is set by other containers competing for the
    /// cores (no quota binds: CFS fair scheduling), where that differs from `latency`,
    /// which is measured under a CPU quota (CFS bandwidth control). Multi-threaded
    /// inference under a quota loses time to throttling (its threads run in parallel,
    /// exhaust the quota early in each period and wait), which time-slicing does not
    /// cost. nil: `latency` is used in both cases.
    public var sharedLatency: LatencyModel?
    /// How much slower a request is that starts on a container idle for at least
    /// `afterMs` (its threads asleep, its caches cold) than one that follows another.
    public var coldStart: ColdStart
    /// How long the container's threads keep polling for work after its last request
    /// completes, and on how many cores (OpenBLAS's workers spin before they sleep).
    public var idleSpin: IdleSpin

    /// A model; the optional parts (shared-cores latency, cold start, idle spin) default to none.
    public init(
        name: String, latency: LatencyModel, variability: Variability, source: String? = nil, sharedLatency: LatencyModel? = nil,
        coldStart: ColdStart = .none, idleSpin: IdleSpin = .none
    ) {
        self.name = name
        self.latency = latency
        self.variability = variability
        self.source = source
        self.sharedLatency = sharedLatency
        self.coldStart = coldStart
        self.idleSpin = idleSpin
    }
}

/// CPU a container keeps using after its last in-service request completes (model file:
/// `"idle_spin": {"seconds": 0.1, "cores": 1, "weight": 0.5}`): its inference threads poll
/// for work for `seconds` (unless a request arrives first) on up to `cores` cores,
/// competing for the CPU like a busy container (within its limit) but with `weight` times
/// its CPU weight, and doing no work. OpenBLAS's worker threads do this after every
/// product (2^OPENBLAS_THREAD_TIMEOUT cycles) in a `sched_yield` loop, which gives way to
/// busy threads: measured, a polling container gets less than a busy one's share.
public struct IdleSpin: Sendable, Equatable {
    /// How long the polling lasts, s (0: none).
    public var seconds: Double
    /// How many cores the polling threads use (> 0).
    public var cores: Double
    /// The polling's CPU weight as a fraction of the container's (0 < weight <= 1; 1:
    /// it competes as if busy).
    public var weight: Double
    /// Polling for `seconds` after the last request, competing for `cores` with `weight` times the container's CPU weight.
    public init(seconds: Double, cores: Double, weight: Double = 1) {
        self.seconds = seconds
        self.cores = cores
        self.weight = weight
    }
    /// No idle spin.
    public static let none = IdleSpin(seconds: 0, cores: 1)
    /// The longest idle spin a model file may give, s (Docs/LIMITS.md).
    public static let maxSeconds = 60.0
}

/// The service-time factor of a request that starts on an idle container (model file:
/// `"cold_start": {"factor": 1.15, "after_ms": 100}`).
public struct ColdStart: Sendable, Equatable {
    /// Multiplies the service demand of such a request (>= 0; 1: no effect).
    public var factor: Double
    /// Idle time after which a container is cold, ms.
    public var afterMs: Double
    /// Requests that find the container idle for at least `afterMs` take `factor` times as long.
    public init(factor: Double, afterMs: Double) {
        self.factor = factor
        self.afterMs = afterMs
    }
    /// No cold start (factor 1).
    public static let none = ColdStart(factor: 1, afterMs: 0)
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
/// `variability` may be omitted (deterministic). Optional `latency_shared` (same
/// schema as `latency`) is ``ModelSpec/sharedLatency``, `cold_start` is
/// ``ModelSpec/coldStart``, `idle_spin` is ``ModelSpec/idleSpin``; `fit`, `fit_shared`,
/// `fit_cold_start` and `fit_idle_spin` hold fit statistics
/// and are not read, nor are `measured_*` (parts measured but left out of the model, e.g.
/// by `qoesim validate --model-parts`). Unknown fields are errors.
public struct ModelCatalog: Sendable {
    /// Models by name.
    public private(set) var models: [String: ModelSpec] = [:]

    /// A catalogue of `models`, by name.
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
        try parseModel(TextFile.read(path), file: path)
    }

    /// Validates one model file held in memory (`path` names it in errors).
    public static func parseModel(_ bytes: [UInt8], file path: String) throws -> (ModelSpec, Int) {
        let doc = try StructuredValue.parse(bytes: bytes, file: path)
        try doc.checkKeys(allowed: ModelFile.CodingKeys.allCases.map(\.rawValue) + ModelFile.statisticKeys, in: "model")
        let nameValue = try doc.required("name", in: "model")
        let name = try nameValue.string("name")
        guard !name.isEmpty else { throw nameValue.error("name must not be empty") }
        let model = try parseLatency(try doc.required("latency", in: "model"), key: "latency")
        let shared = try doc.optional("latency_shared", in: "model").map { try parseLatency($0, key: "latency_shared") }
        if let shared, shared.usesGPU != model.usesGPU {
            throw try doc.required("latency_shared", in: "model").error("latency_shared must be of a CPU family when latency is, and gpu when it is")
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
        var cold = ColdStart.none
        if let v = try doc.optional("cold_start", in: "model") {
            try v.checkKeys(allowed: ["factor", "after_ms"], in: "cold_start")
            let f = try v.required("factor", in: "cold_start").positive("cold_start.factor")
            guard f <= 100 else { throw v.error("cold_start.factor must be <= 100, got \(f)") }
            cold = ColdStart(factor: f, afterMs: try v.required("after_ms", in: "cold_start").nonNegative("cold_start.after_ms"))
        }
        var spin = IdleSpin.none
        if let v = try doc.optional("idle_spin", in: "model") {
            try v.checkKeys(allowed: ["seconds", "cores", "weight"], in: "idle_spin")
            let seconds = try v.required("seconds", in: "idle_spin").nonNegative("idle_spin.seconds")
            guard seconds <= IdleSpin.maxSeconds else {
                throw v.error("idle_spin.seconds must be <= \(IdleSpin.maxSeconds) (Docs/LIMITS.md), got \(seconds)")
            }
            let cores = try v.required("cores", in: "idle_spin").positive("idle_spin.cores")
            guard cores <= 4096 else { throw v.error("idle_spin.cores must be <= 4096, got \(cores)") }
            guard !model.usesGPU || seconds == 0 else { throw v.error("idle_spin is for models of a CPU family (latency is gpu)") }
            var weight = 1.0
            if let w = try v.optional("weight", in: "idle_spin") {
                weight = try w.positive("idle_spin.weight")
                guard weight >= 1e-3 && weight <= 1 else { throw w.error("idle_spin.weight must be in [0.001, 1], got \(weight)") }
            }
            spin = IdleSpin(seconds: seconds, cores: cores, weight: weight)
        }
        // A request takes some time at any allocation (1 ps): zero or denormal latencies
        // would let a closed loop spin without simulated time advancing. How many requests
        // a job may make is limited per scenario (Docs/LIMITS.md).
        for (key, m) in [("latency", model)] + (shared.map { [("latency_shared", $0)] } ?? []) {
            let fastest = m.latencySeconds(cpus: min(m.maxParallelism, 4096))
            guard fastest >= 1e-12 else {
                throw try doc.required(key, in: "model").error(
                    "\(key): the latency at \(min(m.maxParallelism, 4096)) cores is \(fastest * 1000) ms, below the limit of 1e-9 ms (Docs/LIMITS.md)")
            }
        }
        return (
            ModelSpec(
                name: name, latency: model, variability: variability, source: source, sharedLatency: shared, coldStart: cold,
                idleSpin: spin),
            nameValue.line
        )
    }

    /// Parses a latency object (`latency` or `latency_shared`).
    static func parseLatency(_ lat: StructuredValue, key: String) throws -> LatencyModel {
        let family = try lat.required("family", in: key).string("\(key).family")
        func num(_ name: String) throws -> Double { try lat.required(name, in: key).nonNegative("\(key).\(name)") }
        func maxPar(default d: Double) throws -> Double {
            guard let v = try lat.optional("max_parallelism", in: key) else { return d }
            return try v.positive("\(key).max_parallelism")
        }
        switch family {
        case "amdahl":
            try lat.checkKeys(allowed: ["family"] + ModelFile.Latency.keys(family: family)!, in: key)
            let s = try num("serial_ms"), p = try num("parallel_ms")
            let m = try lat.required("max_parallelism", in: key).positive("\(key).max_parallelism")
            guard s + p > 0 else { throw lat.error("\(key): serial_ms + parallel_ms must be > 0") }
            return LatencyModel(family: .amdahl(serialMs: s, parallelMs: p), maxParallelism: m)
        case "power":
            try lat.checkKeys(allowed: ["family"] + ModelFile.Latency.keys(family: family)!, in: key)
            let a = try num("a_ms"), b = try num("b_ms"), k = try num("k")
            guard a + b > 0 else { throw lat.error("\(key): a_ms + b_ms must be > 0") }
            return LatencyModel(family: .power(aMs: a, bMs: b, k: k), maxParallelism: try maxPar(default: .infinity))
        case "gpu":
            try lat.checkKeys(allowed: ["family"] + ModelFile.Latency.keys(family: family)!, in: key)
            let o = try lat.optional("overhead_ms", in: key)?.nonNegative("\(key).overhead_ms") ?? 0
            let c = try num("cpu_ms"), g = try num("gpu_ms")
            guard o + c + g > 0 else { throw lat.error("\(key): overhead_ms + cpu_ms + gpu_ms must be > 0") }
            return LatencyModel(family: .gpu(overheadMs: o, cpuMs: c, gpuMs: g), maxParallelism: try maxPar(default: 1))
        default:
            throw lat.error("\(key).family '\(family)' is not one of amdahl, power, gpu")
        }
    }
}

import Foundation
import QoESimInput

/// A model file as qoesim writes and edits it: the one home of the schema's keys.
/// `qoesim fit` and this machine's fits write it (``json``), `validate --model-parts`
/// edits it (moving parts to `measured_*`), and ``ModelCatalog`` reads it, validating
/// every value with file:line errors (its allowed keys are ``CodingKeys`` and
/// ``Latency/keys(family:)``). ``spec()`` reads a value back through the catalogue.
///
/// Fit statistics (`fit`, `fit_shared`, `fit_cold_start`, `fit_idle_spin`) and parts
/// measured but left out (`measured_*`) are kept in ``statistics``: the simulator does not
/// read them.
public struct ModelFile: Codable, Sendable, Equatable {
    /// A latency curve: its family and parameters (ms, the exponent `k`, `max_parallelism`).
    public struct Latency: Codable, Sendable, Equatable {
        /// `amdahl`, `power` or `gpu`.
        public var family: String
        /// Parameter name to value; an infinite `max_parallelism` is left out (the reader's default).
        public var parameters: [String: Double]

        /// The parameter names of each family (besides `family`).
        public static func keys(family: String) -> [String]? {
            switch family {
            case "amdahl": return ["serial_ms", "parallel_ms", "max_parallelism"]
            case "power": return ["a_ms", "b_ms", "k", "max_parallelism"]
            case "gpu": return ["overhead_ms", "cpu_ms", "gpu_ms", "max_parallelism"]
            default: return nil
            }
        }

        /// A latency part of `family` with its named parameters (ms, or k).
        public init(family: String, parameters: [String: Double]) {
            self.family = family
            self.parameters = parameters
        }

        /// The file's form of `model`.
        public init(_ model: LatencyModel) {
            switch model.family {
            case .amdahl(let s, let p): self.init(family: "amdahl", parameters: ["serial_ms": s, "parallel_ms": p])
            case .power(let a, let b, let k): self.init(family: "power", parameters: ["a_ms": a, "b_ms": b, "k": k])
            case .gpu(let o, let c, let g): self.init(family: "gpu", parameters: ["overhead_ms": o, "cpu_ms": c, "gpu_ms": g])
            }
            // Infinite: left out for power (the reader's default), 1e9 cores for the others.
            if model.maxParallelism.isFinite { parameters["max_parallelism"] = model.maxParallelism } else if family != "power" {
                parameters["max_parallelism"] = 1e9
            }
        }

        typealias Key = ModelFile.AnyKey

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            family = try c.decode(String.self, forKey: Key("family"))
            parameters = [:]
            for key in c.allKeys where key.stringValue != "family" { parameters[key.stringValue] = try c.decode(Double.self, forKey: key) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(family, forKey: Key("family"))
            for (k, v) in parameters where v.isFinite { try c.encode(v, forKey: Key(k)) }
        }
    }

    /// Per-request variability: `deterministic`, `exponential`, or `lognormal` with `cv`.
    public struct Variability: Codable, Sendable, Equatable {
        /// `deterministic`, `exponential` or `lognormal`.
        public var distribution: String
        /// The coefficient of variation (lognormal).
        public var cv: Double?
        /// The JSON form of `variability`.
        public init(_ v: QoESimLatency.Variability) {
            switch v {
            case .deterministic: distribution = "deterministic"
            case .exponential: distribution = "exponential"
            case .lognormal(let cv): distribution = "lognormal"; self.cv = cv
            }
        }
    }

    /// The cold-start part: `factor` for a request after `after_ms` idle.
    public struct ColdStartPart: Codable, Sendable, Equatable {
        /// Service-demand multiplier.
        public var factor: Double
        /// Idle time after which it applies, ms.
        public var afterMs: Double
        enum CodingKeys: String, CodingKey { case factor, afterMs = "after_ms" }
        /// A cold-start part.
        public init(factor: Double, afterMs: Double) {
            self.factor = factor
            self.afterMs = afterMs
        }
    }

    /// The idle-spin part: OpenBLAS's polling after the last request.
    public struct IdleSpinPart: Codable, Sendable, Equatable {
        /// How long it polls, seconds.
        public var seconds: Double
        /// Cores it competes for meanwhile.
        public var cores: Double
        /// Its CPU weight relative to the container's.
        public var weight: Double?
        /// An idle-spin part.
        public init(seconds: Double, cores: Double, weight: Double? = nil) {
            self.seconds = seconds
            self.cores = cores
            self.weight = weight
        }
    }

    /// The model's name.
    public var name: String
    /// Latency under a CPU quota.
    public var latency: Latency
    /// Per-request variation.
    public var variability: Variability?
    /// Where the numbers come from.
    public var source: String?
    /// Latency while sharing cores without a limit (optional).
    public var latencyShared: Latency?
    /// The cold start (optional).
    public var coldStart: ColdStartPart?
    /// The idle spin (optional).
    public var idleSpin: IdleSpinPart?
    /// `fit*` and `measured_*` entries, by key.
    public var statistics: [String: JSONValue] = [:]

    /// The keys of the schema (with `fit*` and `measured_*` for statistics).
    public enum CodingKeys: String, CodingKey, CaseIterable {
        /// The required keys.
        case name, latency, variability, source
        /// The optional parts' keys (``setAside(_:)`` names them).
        case latencyShared = "latency_shared", coldStart = "cold_start", idleSpin = "idle_spin"
    }

    /// The keys of statistics the simulator does not read: the fits' statistics, and parts
    /// measured but set aside (``setAside(_:)``).
    public static let statisticKeys: [String] = {
        let fits = ["fit", "fit_shared", "fit_cold_start", "fit_idle_spin"]
        let parts = [CodingKeys.latencyShared, .coldStart, .idleSpin].map(\.rawValue) + fits.dropFirst()
        return fits + parts.map { "measured_" + $0 }
    }()

    /// Whether `key` holds statistics the simulator does not read.
    public static func isStatistic(_ key: String) -> Bool { statisticKeys.contains(key) }

    /// A model file with the required parts only.
    public init(name: String, latency: Latency, variability: Variability? = nil, source: String? = nil) {
        self.name = name
        self.latency = latency
        self.variability = variability
        self.source = source
    }

    /// The file of `spec` (parts at their "none" values are left out).
    public init(spec: ModelSpec) {
        self.init(name: spec.name, latency: Latency(spec.latency), variability: Variability(spec.variability), source: spec.source)
        latencyShared = spec.sharedLatency.map(Latency.init)
        if spec.coldStart != .none { coldStart = ColdStartPart(factor: spec.coldStart.factor, afterMs: spec.coldStart.afterMs) }
        if spec.idleSpin != .none { idleSpin = IdleSpinPart(seconds: spec.idleSpin.seconds, cores: spec.idleSpin.cores, weight: spec.idleSpin.weight) }
    }

    /// A key named at run time (latency parameters, statistics).
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        latency = try c.decode(Latency.self, forKey: .latency)
        variability = try c.decodeIfPresent(Variability.self, forKey: .variability)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        latencyShared = try c.decodeIfPresent(Latency.self, forKey: .latencyShared)
        coldStart = try c.decodeIfPresent(ColdStartPart.self, forKey: .coldStart)
        idleSpin = try c.decodeIfPresent(IdleSpinPart.self, forKey: .idleSpin)
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where CodingKeys(rawValue: key.stringValue) == nil {
            guard ModelFile.isStatistic(key.stringValue) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: all, debugDescription: "unknown field \(key.stringValue)")
            }
            statistics[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(latency, forKey: .latency)
        try c.encodeIfPresent(variability, forKey: .variability)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(latencyShared, forKey: .latencyShared)
        try c.encodeIfPresent(coldStart, forKey: .coldStart)
        try c.encodeIfPresent(idleSpin, forKey: .idleSpin)
        var all = encoder.container(keyedBy: AnyKey.self)
        for (k, v) in statistics { try all.encode(v, forKey: AnyKey(k)) }
    }

    /// The file's text: JSON, keys sorted, two-space indents, a final newline.
    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    /// Reads a model file (its values are not checked: ``spec()`` checks them).
    public static func read(_ path: String) throws -> ModelFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, line: 0, "cannot read the model file") }
        do { return try JSONDecoder().decode(ModelFile.self, from: data) } catch {
            // The catalogue's reader names the line of the problem.
            _ = try ModelCatalog.parseModel([UInt8](data), file: path)
            throw InputError(file: path, line: 0, "not a model file: \(error)")
        }
    }

    /// Moves part `key` (e.g. `latency_shared`) and its statistics (`fit_shared`) to
    /// `measured_*`: kept in the file, not read by the simulator.
    public mutating func setAside(_ part: CodingKeys) {
        let fitKey: String
        switch part {
        case .latencyShared:
            if let l = latencyShared { statistics["measured_latency_shared"] = JSONValue(encoding: l) }
            latencyShared = nil
            fitKey = "fit_shared"
        case .coldStart:
            if let c = coldStart { statistics["measured_cold_start"] = JSONValue(encoding: c) }
            coldStart = nil
            fitKey = "fit_cold_start"
        case .idleSpin:
            if let s = idleSpin { statistics["measured_idle_spin"] = JSONValue(encoding: s) }
            idleSpin = nil
            fitKey = "fit_idle_spin"
        default: return
        }
        if let f = statistics.removeValue(forKey: fitKey) { statistics["measured_" + fitKey] = f }
    }

    /// The model the simulator reads from this file, through the catalogue's checks.
    public func spec() throws -> ModelSpec {
        try ModelCatalog.parseModel(Array(json.utf8), file: "model \(name)").0
    }
}

/// A JSON value, for the free-form statistics a model file carries.
public enum JSONValue: Codable, Sendable, Equatable {
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// A Boolean.
    case bool(Bool)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])
    /// null.
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): try c.encode(d.isFinite ? d : 1e308 * (d < 0 ? -1 : 1))
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// The JSON form of an encodable value (`.null` if it does not encode).
    public init<T: Encodable>(encoding value: T) {
        guard let data = try? JSONEncoder().encode(value), let v = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            self = .null
            return
        }
        self = v
    }
}

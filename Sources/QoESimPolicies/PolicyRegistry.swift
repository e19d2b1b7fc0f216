import Foundation

/// Policies by command-line name, with their tunable parameters.
///
/// Parameters are set by name (`alpha`, `interval`, `mode`, ...; the snake_case form of
/// each `Parameters` property also works, e.g. `window_intervals`), from the command line
/// (`--policy-param alpha=0.05`) or an experiment file.
///
/// The catalog is open: a library user adds a policy with ``register(_:defaults:make:)``,
/// and from then on experiment files, sweeps and `make` know it by name.
public enum PolicyRegistry {
    /// The built-in policies, in the order they are listed in help text.
    public static let builtIn = ["fair-share", "static", "dqoes", "predictive"]

    /// A policy added by a library user.
    struct Registered: Sendable {
        var defaults: [(String, String)]
        var make: @Sendable ([String: String]) throws -> any AllocationPolicy
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: [String: Registered] = [:]
    nonisolated(unsafe) private static var order: [String] = []

    /// Names accepted by ``make(_:parameters:)``: the built-in policies, then the
    /// registered ones in the order they were added.
    public static var names: [String] {
        lock.lock()
        defer { lock.unlock() }
        return builtIn + order
    }

    /// Adds (or replaces) a policy under `name`. `make` gets the parameters as given
    /// (name -> text) and throws ``PolicyParameterError`` for an unknown parameter or a bad
    /// value; `defaults` lists its parameters and their default values for help text.
    /// A built-in name cannot be replaced.
    public static func register(
        _ name: String, defaults: [(String, String)] = [],
        make: @escaping @Sendable ([String: String]) throws -> any AllocationPolicy
    ) throws {
        guard !builtIn.contains(name) else { throw PolicyParameterError("'\(name)' is a built-in policy; register under another name") }
        guard !name.isEmpty, !name.contains(where: { $0 == "," || $0 == "=" || $0.isWhitespace }) else {
            throw PolicyParameterError("policy name '\(name)' must be non-empty, without commas, '=' or spaces")
        }
        lock.lock()
        defer { lock.unlock() }
        if registered[name] == nil { order.append(name) }
        registered[name] = Registered(defaults: defaults, make: make)
    }

    static func lookup(_ name: String) -> Registered? {
        lock.lock()
        defer { lock.unlock() }
        return registered[name]
    }

    /// A fresh policy object for `name`, or nil for an unknown name.
    public static func make(_ name: String) -> (any AllocationPolicy)? {
        try? make(name, parameters: [:])
    }

    /// A fresh policy with `parameters` (name -> value as text) applied. Throws
    /// ``PolicyParameterError`` for an unknown policy, parameter or bad value.
    public static func make(_ name: String, parameters: [String: String]) throws -> any AllocationPolicy {
        switch name {
        case "fair-share":
            try noParameters(name, parameters)
            return FairSharePolicy()
        case "static":
            try noParameters(name, parameters)
            return StaticPolicy()
        case "dqoes":
            return DQoESPolicy(parameters: try apply(parameters, to: DQoESPolicy.Parameters(), policy: name))
        case "predictive":
            return PredictivePolicy(parameters: try apply(parameters, to: PredictivePolicy.Parameters(), policy: name))
        default:
            if let r = lookup(name) { return try r.make(parameters) }
            throw PolicyParameterError("unknown policy '\(name)'; choose one of \(names.joined(separator: ", "))")
        }
    }

    /// The parameter names and default values of a policy (for help and documentation).
    public static func defaults(_ name: String) -> [(String, String)] {
        switch name {
        case "dqoes": return describe(DQoESPolicy.Parameters())
        case "predictive": return describe(PredictivePolicy.Parameters())
        default: return lookup(name)?.defaults ?? []
        }
    }

    /// Checks that `text` names a case of an enum parameter.
    static func oneOf<E: CaseIterable & RawRepresentable>(_: E.Type, _ text: String, _ key: String, _ policy: String) throws
    where E.RawValue == String {
        guard E(rawValue: text) == nil else { return }
        let cases = E.allCases.map(\.rawValue).joined(separator: ", ")
        throw PolicyParameterError("policy '\(policy)': parameter '\(key)' must be one of \(cases), got '\(text)'")
    }

    static func noParameters(_ name: String, _ p: [String: String]) throws {
        if let k = p.keys.sorted().first { throw PolicyParameterError("policy '\(name)' has no parameter '\(k)'") }
    }

    static func snake(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    static func camel(_ s: String) -> String {
        let parts = s.split(separator: "_")
        guard let first = parts.first else { return s }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func describe<P: Codable>(_ p: P) -> [(String, String)] {
        guard let data = try? JSONEncoder().encode(p),
              let dict = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return dict.keys.sorted().map { (snake($0), "\(dict[$0]!)") }
    }

    /// Sets named fields of a Codable parameter struct through its JSON form, checking
    /// names and types.
    static func apply<P: Codable>(_ values: [String: String], to base: P, policy: String) throws -> P {
        guard !values.isEmpty else { return base }
        var dict = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as! [String: Any]
        // Parameter names are the struct's stored properties.
        for (rawKey, text) in values.sorted(by: { $0.key < $1.key }) {
            let key = dict[rawKey] != nil ? rawKey : camel(rawKey)
            guard let current = dict[key] else {
                let known = dict.keys.sorted().map(snake).joined(separator: ", ")
                throw PolicyParameterError("policy '\(policy)' has no parameter '\(rawKey)'; parameters: \(known)")
            }
            // Property types from the struct itself (JSON numbers and booleans look alike).
            let field = Mirror(reflecting: base).children.first { $0.label == key }?.value ?? current
            switch field {
            case is CPUControl:
                try oneOf(CPUControl.self, text, rawKey, policy)
                dict[key] = text
            case is DQoESPolicy.Triage:
                try oneOf(DQoESPolicy.Triage.self, text, rawKey, policy)
                dict[key] = text
            case is DQoESPolicy.UrgencyBasis:
                try oneOf(DQoESPolicy.UrgencyBasis.self, text, rawKey, policy)
                dict[key] = text
            case is String:
                dict[key] = text
            case is Bool:
                guard text == "true" || text == "false" else {
                    throw PolicyParameterError("policy '\(policy)': parameter '\(rawKey)' needs true or false, got '\(text)'")
                }
                dict[key] = text == "true"
            case is Int:
                guard let v = Int(text) else {
                    throw PolicyParameterError("policy '\(policy)': parameter '\(rawKey)' needs an integer, got '\(text)'")
                }
                dict[key] = v
            default:
                guard let v = Double(text), v.isFinite else {
                    throw PolicyParameterError("policy '\(policy)': parameter '\(rawKey)' needs a finite number, got '\(text)'")
                }
                dict[key] = v
            }
        }
        do {
            let p = try JSONDecoder().decode(P.self, from: JSONSerialization.data(withJSONObject: dict))
            if let v = p as? any ValidatableParameters, let problem = v.problem { throw PolicyParameterError("policy '\(policy)': \(problem)") }
            return p
        } catch let e as PolicyParameterError {
            throw e
        } catch {
            throw PolicyParameterError("policy '\(policy)': a parameter has a value of the wrong kind (\(values.map { "\($0)=\($1)" }.sorted().joined(separator: ", ")))")
        }
    }
}

/// Parameter structs that can say what is wrong with their values.
public protocol ValidatableParameters {
    /// A description of the first invalid value, or nil when all are valid.
    var problem: String? { get }
}

/// A bad policy name, parameter name or value.
public struct PolicyParameterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

import Foundation

/// Policies by command-line name, with their tunable parameters.
///
/// Parameters are set by name (`alpha`, `interval`, `mode`, ...; the snake_case form of
/// each `Parameters` property also works, e.g. `window_intervals`), from the command line
/// (`--policy-param alpha=0.05`) or an experiment file, and decoded into the policy's
/// typed `Parameters` struct by ``PolicyParameters/decode(_:over:policy:)``.
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
            return DQoESPolicy(parameters: try PolicyParameters.decode(parameters, over: DQoESPolicy.Parameters(), policy: name))
        case "predictive":
            return PredictivePolicy(parameters: try PolicyParameters.decode(parameters, over: PredictivePolicy.Parameters(), policy: name))
        default:
            if let r = lookup(name) { return try r.make(parameters) }
            throw PolicyParameterError("unknown policy '\(name)'; choose one of \(names.joined(separator: ", "))")
        }
    }

    /// The parameter names and default values of a policy (for help and documentation).
    public static func defaults(_ name: String) -> [(String, String)] {
        switch name {
        case "dqoes": return PolicyParameters.describe(DQoESPolicy.Parameters())
        case "predictive": return PolicyParameters.describe(PredictivePolicy.Parameters())
        default: return lookup(name)?.defaults ?? []
        }
    }

    static func noParameters(_ name: String, _ p: [String: String]) throws {
        if let k = p.keys.sorted().first { throw PolicyParameterError("policy '\(name)' has no parameter '\(k)'") }
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
    /// An error with the message `d`, which names the policy, the parameter and the accepted values.
    public init(_ d: String) { description = d }
}

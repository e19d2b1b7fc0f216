import Foundation

/// An enum parameter of a policy: one of a fixed set of names.
public protocol ParameterChoice: CaseIterable, RawRepresentable, Codable, Sendable where RawValue == String {}

extension ParameterChoice {
    static var choices: [String] { allCases.map(\.rawValue) }
    static func choice(_ text: String) -> Self? { Self(rawValue: text) }
}

extension CPUControl: ParameterChoice {}
extension DQoESPolicy.Triage: ParameterChoice {}
extension DQoESPolicy.UrgencyBasis: ParameterChoice {}

/// Typed policy parameters from text.
///
/// A policy's `Parameters` is a `Codable` struct with a default for every property. Its
/// values are set by name from text (an experiment file's scalars, `--policy-param
/// NAME=VALUE`): ``decode(_:over:policy:)`` encodes the defaults to name -> text, lays the
/// given values over them (a name may be the property's or its snake_case form) and
/// decodes the struct again with a decoder that parses each property as its own type
/// (`Double` finite, `Int`, `Bool` as true/false, `String`, or a ``ParameterChoice``).
/// Every error names the policy, the parameter and what it needs; there is no JSON
/// round trip and no reflection.
public enum PolicyParameters {
    /// `base` with `values` applied; throws ``PolicyParameterError`` for an unknown name or
    /// a value of the wrong kind, and for values the struct itself rejects
    /// (``ValidatableParameters``).
    public static func decode<P: Codable>(_ values: [String: String], over base: P, policy: String) throws -> P {
        guard !values.isEmpty else { return base }
        var fields = try encode(base)
        for (rawKey, text) in values.sorted(by: { $0.key < $1.key }) {
            let key = fields[rawKey] != nil ? rawKey : camel(rawKey)
            guard fields[key] != nil else {
                let known = fields.keys.sorted().map(snake).joined(separator: ", ")
                throw PolicyParameterError("policy '\(policy)' has no parameter '\(rawKey)'; parameters: \(known)")
            }
            fields[key] = Field(text: text, given: rawKey)
        }
        let p = try P(from: TextDecoder(fields: fields, policy: policy))
        if let v = p as? any ValidatableParameters, let problem = v.problem { throw PolicyParameterError("policy '\(policy)': \(problem)") }
        return p
    }

    /// The parameters of `p` as (snake_case name, value text), sorted by name.
    public static func describe<P: Encodable>(_ p: P) -> [(String, String)] {
        guard let fields = try? encode(p) else { return [] }
        return fields.keys.sorted().map { (snake($0), fields[$0]!.text) }
    }

    /// One property's value as text, and the name it was given under (for errors).
    struct Field {
        var text: String
        var given: String
    }

    static func encode<P: Encodable>(_ p: P) throws -> [String: Field] {
        let encoder = TextEncoder()
        try p.encode(to: encoder)
        return encoder.storage.fields
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

    /// Text of a number as people write it: 5 rather than 5.0.
    static func text(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }
}

// MARK: - Encoding a parameter struct to name -> text

private final class TextStorage {
    var fields: [String: PolicyParameters.Field] = [:]
}

private final class TextEncoder: Encoder {
    let storage = TextStorage()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed<Key>(storage: storage))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("policy parameters are flat structs of scalars") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("policy parameters are flat structs of scalars") }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: TextStorage
        var codingPath: [any CodingKey] = []
        func put(_ text: String, _ key: Key) { storage.fields[key.stringValue] = .init(text: text, given: key.stringValue) }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(value ? "true" : "false", key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(value, key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { put(PolicyParameters.text(value), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { put(PolicyParameters.text(Double(value)), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { put("\(value)", key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            guard let choice = value as? any ParameterChoice else {
                throw PolicyParameterError("parameter '\(key.stringValue)' has a type policy parameters cannot hold (\(T.self))")
            }
            put(choice.rawValue, key)
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            fatalError("policy parameters are flat structs of scalars")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            fatalError("policy parameters are flat structs of scalars")
        }
        mutating func superEncoder() -> any Encoder { fatalError("policy parameters are flat structs of scalars") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("policy parameters are flat structs of scalars") }
    }
}

// MARK: - Decoding a parameter struct from name -> text

private struct TextDecoder: Decoder {
    let fields: [String: PolicyParameters.Field]
    let policy: String
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(fields: fields, policy: policy))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars")
    }
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars")
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let fields: [String: PolicyParameters.Field]
        let policy: String
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

        func field(_ key: Key) throws -> PolicyParameters.Field {
            guard let f = fields[key.stringValue] else {
                throw PolicyParameterError("policy '\(policy)': parameter '\(PolicyParameters.snake(key.stringValue))' has no value")
            }
            return f
        }

        func wrong(_ f: PolicyParameters.Field, _ needs: String) -> PolicyParameterError {
            PolicyParameterError("policy '\(policy)': parameter '\(f.given)' needs \(needs), got '\(f.text)'")
        }

        func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
            let f = try field(key)
            guard let v = I(f.text) else { throw wrong(f, I.bitWidth >= 64 && I.isSigned ? "an integer" : "an integer in \(I.min)...\(I.max)") }
            return v
        }

        func decodeNil(forKey key: Key) throws -> Bool { fields[key.stringValue] == nil }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            let f = try field(key)
            guard f.text == "true" || f.text == "false" else { throw wrong(f, "true or false") }
            return f.text == "true"
        }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try field(key).text }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            let f = try field(key)
            guard let v = Double(f.text), v.isFinite else { throw wrong(f, "a finite number") }
            return v
        }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
            let f = try field(key)
            guard let v = Float(f.text), v.isFinite else { throw wrong(f, "a finite number") }
            return v
        }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let f = try field(key)
            guard let choiceType = T.self as? any ParameterChoice.Type else {
                throw PolicyParameterError("policy '\(policy)': parameter '\(f.given)' has a type policy parameters cannot hold (\(T.self))")
            }
            guard let v = choiceType.choice(f.text) as? T else {
                throw wrong(f, "one of \(choiceType.choices.joined(separator: ", "))")
            }
            return v
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars")
        }
        func superDecoder() throws -> any Decoder { throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars") }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            throw PolicyParameterError("policy '\(policy)': parameters are a flat struct of scalars")
        }
    }
}

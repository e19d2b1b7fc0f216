import Yams

/// A JSON or YAML document whose every value remembers the line it came from.
///
/// JSON is read through a YAML parser (Yams; JSON is YAML's flow style), which gives
/// each node its position, so that a missing field or a wrong type is reported as
/// `FILE:LINE: problem` like every other input error.
public struct StructuredValue {
    /// The file the value came from.
    public let file: String
    /// 1-based line of the value (for a mapping: of its opening).
    public let line: Int
    let node: Node

    /// Parses a JSON or YAML file.
    public static func load(_ path: String) throws -> StructuredValue {
        let bytes = try TextFile.read(path)
        let text = String(decoding: bytes, as: UTF8.self)
        return try parse(text, file: path)
    }

    /// Parses JSON or YAML bytes held in memory (checked as ``TextFile/check(_:file:)`` does).
    public static func parse(bytes: [UInt8], file: String) throws -> StructuredValue {
        try parse(String(decoding: TextFile.check(bytes, file: file), as: UTF8.self), file: file)
    }

    /// Parses JSON or YAML text held in memory.
    public static func parse(_ text: String, file: String) throws -> StructuredValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw InputError(file: file, line: 0, "document is empty")
            }
            return StructuredValue(file: file, node: node)
        } catch let e as InputError {
            throw e
        } catch let e as YamlError {
            throw InputError(file: file, line: e.line, "not valid JSON/YAML: \(e.summary)")
        } catch {
            throw InputError(file: file, line: 0, "not valid JSON/YAML: \(error)")
        }
    }

    init(file: String, node: Node) {
        self.file = file
        self.node = node
        self.line = node.mark?.line ?? 0
    }

    /// An ``InputError`` located at this value.
    public func error(_ problem: String) -> InputError { InputError(file: file, line: line, problem) }

    /// Keys of a mapping, in document order; throws if this is not a mapping.
    public func keys(of what: String) throws -> [String] {
        guard case .mapping(let m) = node else { throw error("\(what) must be an object") }
        return m.keys.compactMap { $0.string }
    }

    /// The value under `key`, or nil when absent (or null).
    public func optional(_ key: String, in what: String) throws -> StructuredValue? {
        guard case .mapping(let m) = node else { throw error("\(what) must be an object") }
        guard let v = m[key] else { return nil }
        if case .scalar(let s) = v, s.style == .plain, ["null", "~", ""].contains(s.string) { return nil }
        return StructuredValue(file: file, node: v)
    }

    /// The value under `key`; throws "missing field" at this mapping's line otherwise.
    public func required(_ key: String, in what: String) throws -> StructuredValue {
        guard let v = try optional(key, in: what) else { throw error("\(what) is missing field '\(key)'") }
        return v
    }

    /// Rejects keys other than `allowed` (catches typos such as `paralel_ms`).
    public func checkKeys(allowed: [String], in what: String) throws {
        guard case .mapping(let m) = node else { throw error("\(what) must be an object") }
        for (k, _) in m {
            let name = k.string ?? "?"
            if !allowed.contains(name) {
                throw InputError(
                    file: file, line: k.mark?.line ?? line,
                    "\(what) has unknown field '\(name)'; allowed: \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// Elements of a sequence.
    public func array(of what: String) throws -> [StructuredValue] {
        guard case .sequence(let s) = node else { throw error("\(what) must be an array") }
        return s.map { StructuredValue(file: file, node: $0) }
    }

    /// A string (quoted or not).
    public func string(_ what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error("\(what) must be a string") }
        return s.string
    }

    /// A finite number (unquoted), within the documented limit of its name (``InputLimits``).
    public func number(_ what: String) throws -> Double {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else {
            throw error("\(what) must be a number")
        }
        guard let v = Double(s.string) else { throw error("\(what) must be a number, got '\(s.string)'") }
        guard v.isFinite else { throw error("\(what) must be finite, got '\(s.string)'") }
        if let p = InputLimits.problem(what, v) { throw error("\(what): \(p)") }
        return v
    }

    /// A number > 0.
    public func positive(_ what: String) throws -> Double {
        let v = try number(what)
        guard v > 0 else { throw error("\(what) must be > 0, got \(v)") }
        return v
    }

    /// A number >= 0.
    public func nonNegative(_ what: String) throws -> Double {
        let v = try number(what)
        guard v >= 0 else { throw error("\(what) must be >= 0, got \(v)") }
        return v
    }

    /// An integer >= `minimum`.
    public func integer(_ what: String, minimum: Int) throws -> Int {
        let v = try number(what)
        guard v == v.rounded(), abs(v) < 1e15 else { throw error("\(what) must be an integer, got \(v)") }
        guard Int(v) >= minimum else { throw error("\(what) must be >= \(minimum), got \(Int(v))") }
        return Int(v)
    }
}

extension YamlError {
    var line: Int {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return 0
        }
    }

    var summary: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default: return "\(self)"
        }
    }
}

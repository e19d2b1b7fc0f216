/// Strict conversions of text fields to numbers, with errors naming file, line, column.
public struct FieldContext: Sendable {
    /// The file being read.
    public let file: String
    /// The line of the row (1-based).
    public let line: Int
    /// The column's name.
    public let column: String

    /// Where a cell is, for error messages.
    public init(file: String, line: Int, column: String) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// An ``InputError`` about this field.
    public func error(_ problem: String) -> InputError {
        InputError(file: file, line: line, "\(column): \(problem)")
    }

    /// A finite double within the documented limit of the column's name
    /// (``InputLimits``); rejects text that is not a number, NaN and infinities
    /// (including overflow such as `1e999`).
    public func double(_ text: String) throws -> Double {
        guard !text.isEmpty else { throw error("value is missing") }
        guard let v = Double(text) else { throw error("'\(text)' is not a number") }
        guard v.isFinite else { throw error("'\(text)' is not a finite number (NaN, infinity or overflow)") }
        if let p = InputLimits.problem(column, v) { throw error(p) }
        return v
    }

    /// A finite double > 0.
    public func positive(_ text: String) throws -> Double {
        let v = try double(text)
        guard v > 0 else { throw error("must be > 0, got \(text)") }
        return v
    }

    /// A finite double >= 0.
    public func nonNegative(_ text: String) throws -> Double {
        let v = try double(text)
        guard v >= 0 else { throw error("must be >= 0, got \(text)") }
        return v
    }

    /// An integer >= `minimum`.
    public func integer(_ text: String, minimum: Int) throws -> Int {
        guard !text.isEmpty else { throw error("value is missing") }
        guard let v = Int(text) else { throw error("'\(text)' is not an integer") }
        guard v >= minimum else { throw error("must be >= \(minimum), got \(text)") }
        if let p = InputLimits.problem(column, Double(v)) { throw error(p) }
        return v
    }

    /// One of `choices`.
    public func choice(_ text: String, among choices: [String]) throws -> String {
        guard choices.contains(text) else {
            throw error("'\(text)' is not one of \(choices.joined(separator: ", "))")
        }
        return text
    }
}

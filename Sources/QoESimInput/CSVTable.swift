/// A CSV file with a header row, read strictly and with line numbers kept.
///
/// Supports RFC 4180 quoting (`"a,b"`, `""` for a quote) within one line, CRLF line
/// ends, and `#` comment lines (used for attribution headers; read them in pandas with
/// `comment="#"`). Blank lines are skipped. Fields are trimmed of surrounding blanks.
///
/// A purpose-built reader rather than a general CSV package: every error must carry
/// its line, and request traces with millions of rows must load fast.
public struct CSVTable: Sendable {
    /// The file, as given.
    public let path: String
    /// Column names from the header, in file order.
    public let header: [String]
    /// Line number of the header.
    public let headerLine: Int
    /// The data rows, each with its 1-based line number.
    public let rows: [Row]

    /// One data row.
    public struct Row: Sendable {
        /// The row's line number in its file (1-based).
        public let line: Int
        /// The row's cells, in column order.
        public let fields: [String]
    }

    /// Reads and splits `path`. Throws ``InputError`` for an unreadable, empty or
    /// binary file, a missing header, an unterminated quote, or a row whose field
    /// count differs from the header's.
    public init(path: String) throws {
        try self.init(path: path, bytes: TextFile.read(path))
    }

    /// Splits already-read bytes (for tests and in-memory inputs).
    public init(path: String, bytes: [UInt8]) throws {
        self.path = path
        var header: [String]? = nil
        var headerLine = 0
        var rows: [Row] = []
        var lineNo = 0
        var start = 0
        let n = bytes.count
        while start < n {
            lineNo += 1
            var end = start
            while end < n && bytes[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { start = end + 1 }
            guard let fields = try CSVTable.fields(bytes[start..<lineEnd], path: path, line: lineNo) else { continue }
            if header == nil {
                try CSVTable.checkHeader(fields, path: path, line: lineNo)
                header = fields
                headerLine = lineNo
                continue
            }
            if fields.count != header!.count {
                throw InputError(
                    file: path, line: lineNo,
                    "expected \(header!.count) fields (\(header!.joined(separator: ","))), found \(fields.count)")
            }
            rows.append(Row(line: lineNo, fields: fields))
        }
        guard let h = header else { throw InputError(file: path, line: 0, "file has no header row") }
        self.header = h
        self.headerLine = headerLine
        self.rows = rows
    }

    /// The fields of one line (without its line end), nil for a blank or comment line.
    static func fields(_ line: ArraySlice<UInt8>, path: String, line lineNo: Int) throws -> [String]? {
        var first = line.startIndex
        while first < line.endIndex && (line[first] == 0x20 || line[first] == 0x09) { first += 1 }
        if first == line.endIndex || line[first] == UInt8(ascii: "#") { return nil }
        return try split(line, path: path, line: lineNo)
    }

    /// A header names every column, once.
    static func checkHeader(_ fields: [String], path: String, line lineNo: Int) throws {
        var seen = Set<String>()
        for name in fields {
            if name.isEmpty { throw InputError(file: path, line: lineNo, "header has an empty column name") }
            if !seen.insert(name).inserted {
                throw InputError(file: path, line: lineNo, "header names column '\(name)' twice")
            }
        }
    }

    static func split(_ line: ArraySlice<UInt8>, path: String, line lineNo: Int) throws -> [String] {
        // Most lines quote nothing: fields straight from the bytes between commas.
        if !line.contains(UInt8(ascii: "\"")) {
            var fields: [String] = []
            var start = line.startIndex
            var i = start
            while true {
                if i == line.endIndex || line[i] == UInt8(ascii: ",") {
                    fields.append(String(decoding: trimmedBlanks(line[start..<i]), as: UTF8.self))
                    if i == line.endIndex { break }
                    start = i + 1
                }
                i += 1
            }
            return fields
        }
        var fields: [String] = []
        var current: [UInt8] = []
        var i = line.startIndex
        var inQuotes = false
        var wasQuoted = false
        while i < line.endIndex {
            let b = line[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < line.endIndex && line[i + 1] == UInt8(ascii: "\"") {
                        current.append(b)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(b)
                }
            } else if b == UInt8(ascii: ",") {
                fields.append(finish(current, quoted: wasQuoted))
                current.removeAll(keepingCapacity: true)
                wasQuoted = false
            } else if b == UInt8(ascii: "\"") && current.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                current.removeAll(keepingCapacity: true)
                inQuotes = true
                wasQuoted = true
            } else {
                current.append(b)
            }
            i += 1
        }
        if inQuotes { throw InputError(file: path, line: lineNo, "unterminated quoted field") }
        fields.append(finish(current, quoted: wasQuoted))
        return fields
    }

    /// The bytes without leading and trailing blanks (spaces, tabs), as ``trimmingBlanks()``.
    @inline(__always) static func trimmedBlanks(_ b: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lo = b.startIndex, hi = b.endIndex
        while lo < hi && (b[lo] == 0x20 || b[lo] == 0x09) { lo += 1 }
        while hi > lo && (b[hi - 1] == 0x20 || b[hi - 1] == 0x09) { hi -= 1 }
        return b[lo..<hi]
    }

    private static func finish(_ bytes: [UInt8], quoted: Bool) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        return quoted ? s : s.trimmingBlanks()
    }

    /// Index of every column in `required` and `optional`; throws when a required
    /// column is missing or the header has a column in neither list.
    public func columnIndex(required: [String], optional: [String]) throws -> [String: Int] {
        try CSVTable.columnIndex(header: header, line: headerLine, path: path, required: required, optional: optional)
    }

    /// ``columnIndex(required:optional:)`` for a header read elsewhere (``CSVStream``).
    public static func columnIndex(header: [String], line headerLine: Int, path: String, required: [String], optional: [String]) throws
        -> [String: Int]
    {
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() { index[name] = i }
        let missing = required.filter { index[$0] == nil }
        if !missing.isEmpty {
            throw InputError(
                file: path, line: headerLine,
                "missing required column(s) \(missing.joined(separator: ", ")); required: \(required.joined(separator: ","))")
        }
        let known = Set(required + optional)
        let extra = header.filter { !known.contains($0) }
        if !extra.isEmpty {
            throw InputError(
                file: path, line: headerLine,
                "unknown column(s) \(extra.joined(separator: ", ")); allowed: \((required + optional).joined(separator: ","))")
        }
        return index
    }
}

extension String {
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension CSVTable {
    /// A field as written in a CSV file: quoted (inner quotes doubled) when it holds a
    /// comma, a quote or a line break; as is otherwise.
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

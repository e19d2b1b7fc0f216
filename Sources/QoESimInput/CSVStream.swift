import Foundation

/// A CSV file read row by row with bounded memory, by the rules of ``CSVTable`` (a header
/// row, RFC 4180 quoting within a line, CRLF line ends, `#` comment lines and blank lines
/// skipped, fields trimmed, every row as wide as the header) and of ``TextFile`` (no NUL
/// bytes, UTF-8), checked line by line as the file goes by: for files too large to hold
/// (request traces of 10^8 rows). Memory: one chunk (64 KiB by default) and the longest
/// line. Errors are ``InputError``s naming the file and line.
public final class CSVStream {
    /// The file, as given.
    public let path: String
    /// Column names from the header.
    public private(set) var header: [String] = []
    /// Line number of the header.
    public private(set) var headerLine = 0
    /// Line number of the last line read.
    public private(set) var lineNo = 0

    let file: UnsafeMutablePointer<FILE>
    var chunk: [UInt8]
    var pos = 0, filled = 0
    var partial: [UInt8] = []
    var atEnd = false
    /// Byte offset (in the file) of the next unread line.
    public private(set) var offset: UInt64 = 0
    var sawText = false

    /// Opens `path` and reads up to its header row.
    public init(path: String, chunkSize: Int = 1 << 16) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw InputError(file: path, line: 0, "file does not exist")
        }
        guard let f = fopen(path, "rb") else { throw InputError(file: path, line: 0, "file cannot be read") }
        file = f
        chunk = [UInt8](repeating: 0, count: max(chunkSize, 64))
        while header.isEmpty {
            guard let (line, _) = try nextLine() else {
                throw InputError(file: path, line: 0, sawText ? "file has no header row" : "file is empty")
            }
            guard let fields = try CSVTable.fields(line, path: path, line: lineNo) else { continue }
            try CSVTable.checkHeader(fields, path: path, line: lineNo)
            header = fields
            headerLine = lineNo
        }
    }

    /// Reopens `path` at a data row read earlier (its byte `offset` and line number), with
    /// the header read then: for readers that go through a validated file again.
    public init(path: String, header: [String], resumeAt offset: UInt64, line: Int, chunkSize: Int = 1 << 16) throws {
        self.path = path
        guard let f = fopen(path, "rb") else { throw InputError(file: path, line: 0, "file cannot be read") }
        file = f
        chunk = [UInt8](repeating: 0, count: max(chunkSize, 64))
        self.header = header
        lineNo = line - 1
        self.offset = offset
        sawText = true
        if fseeko(f, off_t(offset), SEEK_SET) != 0 {
            fclose(f)
            throw InputError(file: path, line: line, "cannot seek to byte \(offset)")
        }
    }

    deinit { fclose(file) }

    /// The next data row: its line number, the byte offset where its line starts, and its
    /// fields; nil at the end of the file.
    public func next() throws -> (line: Int, offset: UInt64, fields: [String])? {
        while let (line, start) = try nextLine() {
            guard let fields = try dataFields(line) else { continue }
            return (lineNo, start, fields)
        }
        return nil
    }

    /// The fields of a data line as wide as the header, nil for a blank or comment line.
    func dataFields(_ line: ArraySlice<UInt8>) throws -> [String]? {
        guard let fields = try CSVTable.fields(line, path: path, line: lineNo) else { return nil }
        if fields.count != header.count {
            throw InputError(
                file: path, line: lineNo, "expected \(header.count) fields (\(header.joined(separator: ","))), found \(fields.count)")
        }
        return fields
    }

    /// The next data row whose field `column` is `key` (other rows are skipped
    /// without being split: for readers of one job in a validated file), nil at the end.
    public func next(whereField column: Int, is key: [UInt8]) throws -> (line: Int, offset: UInt64, fields: [String])? {
        while let (line, start) = try nextLine() {
            // Fast path: an unquoted line whose `column`-th field differs from `key`.
            if let first = line.first, first != UInt8(ascii: "#"), first != 0x20, first != 0x09,
               !line.contains(UInt8(ascii: "\"")) {
                var k = 0, fieldStart = line.startIndex, i = line.startIndex
                while i < line.endIndex && k < column {
                    if line[i] == UInt8(ascii: ",") {
                        k += 1
                        fieldStart = i + 1
                    }
                    i += 1
                }
                var fieldEnd = fieldStart
                while fieldEnd < line.endIndex && line[fieldEnd] != UInt8(ascii: ",") { fieldEnd += 1 }
                if !CSVTable.trimmedBlanks(line[fieldStart..<fieldEnd]).elementsEqual(key) { continue }
            }
            guard let fields = try dataFields(line) else { continue }
            if fields[column] != String(decoding: key, as: UTF8.self) { continue }
            return (lineNo, start, fields)
        }
        return nil
    }

    /// The next line without its line end, checked as text, and its start offset.
    func nextLine() throws -> (ArraySlice<UInt8>, UInt64)? {
        let start = offset
        partial.removeAll(keepingCapacity: true)
        while true {
            if pos == filled {
                if atEnd { break }
                filled = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                pos = 0
                if filled == 0 {
                    atEnd = true
                    if ferror(file) != 0 { throw InputError(file: path, line: lineNo + 1, "file cannot be read") }
                    break
                }
            }
            // Find the line end in the chunk.
            var end = pos
            while end < filled && chunk[end] != 0x0A { end += 1 }
            if end < filled {
                offset += UInt64(end - pos + 1)
                if partial.isEmpty {
                    let line = chunk[pos..<end]
                    pos = end + 1
                    return try checked(line, start: start)
                }
                partial.append(contentsOf: chunk[pos..<end])
                pos = end + 1
                return try checked(partial[...], start: start)
            }
            offset += UInt64(filled - pos)
            partial.append(contentsOf: chunk[pos..<filled])
            pos = filled
        }
        if partial.isEmpty { return nil }
        return try checked(partial[...], start: start)
    }

    func checked(_ raw: ArraySlice<UInt8>, start: UInt64) throws -> (ArraySlice<UInt8>, UInt64) {
        lineNo += 1
        var line = raw
        if let last = line.last, last == 0x0D { line = line.dropLast() }
        var ascii = true
        for b in line {
            if b == 0 { throw InputError(file: path, line: lineNo, "binary content (NUL byte): expected a text file") }
            if b >= 0x80 { ascii = false }
            if !sawText && b != 0x20 && b != 0x09 && b != 0x0D { sawText = true }
        }
        if !ascii && String(validating: line, as: UTF8.self) == nil {
            throw InputError(file: path, line: lineNo, "binary content (not UTF-8): expected a text file")
        }
        return (line, start)
    }
}

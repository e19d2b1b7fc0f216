import Foundation

/// Reads a whole input file as UTF-8 text, rejecting what is not text.
public enum TextFile {
    /// Returns the file's bytes, or throws an ``InputError`` when the file is missing,
    /// unreadable, empty, or binary (NUL bytes or invalid UTF-8).
    public static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError(file: path, line: 0, "file does not exist")
        }
        guard let bytes = bytes(path) else {
            throw InputError(file: path, line: 0, "file cannot be read")
        }
        return try check(bytes, file: path)
    }

    /// The file's bytes, nil if it cannot be opened or read. Read with stdio rather than
    /// `FileManager.contents(atPath:)`, which on Linux leaks 4 KiB for every empty file it
    /// reads (swift-foundation's zero-size path allocates a chunk it never frees when
    /// nothing is read: found by LeakSanitizer in the fuzz target request-trace-stream).
    public static func bytes(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        return ferror(f) != 0 ? nil : out
    }

    /// Returns `bytes` when they are text, or throws an ``InputError`` naming `path` when
    /// they are empty or binary (NUL bytes or invalid UTF-8): what ``read(_:)`` checks,
    /// for input that is already in memory.
    public static func check(_ bytes: [UInt8], file path: String) throws -> [UInt8] {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw InputError(file: path, line: 0, "file is empty")
        }
        var line = 1
        for b in bytes {
            if b == 0x0A { line += 1 }
            if b == 0 {
                throw InputError(file: path, line: line, "binary content (NUL byte): expected a text file")
            }
        }
        if String(validating: bytes, as: UTF8.self) == nil {
            // Find the line of the first invalid sequence for the message.
            var start = 0
            var lineNo = 1
            for i in 0...bytes.count {
                if i == bytes.count || bytes[i] == 0x0A {
                    if String(validating: bytes[start..<i], as: UTF8.self) == nil {
                        throw InputError(file: path, line: lineNo, "binary content (not UTF-8): expected a text file")
                    }
                    start = i + 1
                    lineNo += 1
                }
            }
        }
        return bytes
    }
}

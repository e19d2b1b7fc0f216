import Foundation

/// Why a Docker Engine API payload could not be read (a tar archive, a log stream, a
/// JSON answer): the payload is named and what is wrong with it.
public struct WireFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The POSIX ustar archives the Engine API sends (`GET /containers/{id}/archive`) and
/// takes (`POST /images/create?fromSrc=-`): regular files and folders, 512-byte blocks.
///
/// Reading accepts ustar and GNU archives (long names through `L` entries, PAX headers
/// skipped); every length is checked against the data, so a truncated or hostile archive
/// is an error, never a trap (fuzzed: Tests/Fuzz).
public enum TarArchive {
    /// One regular file or folder of an archive to write.
    public struct Entry: Sendable {
        /// The path inside the archive, relative (no leading `/`); folders end without `/`.
        public var path: String
        /// The file's bytes; nil for a folder.
        public var contents: Data?
        /// Permission bits (e.g. 0o755).
        public var mode: Int

        public init(path: String, contents: Data?, mode: Int = 0o644) {
            self.path = path
            self.contents = contents
            self.mode = mode
        }
    }

    /// An archive of `entries` in order, ending with two zero blocks. Throws when a path
    /// does not fit ustar's name (100 bytes) and prefix (155 bytes) fields.
    public static func archive(_ entries: [Entry]) throws -> Data {
        var out = Data()
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            let path = entry.contents == nil ? entry.path + "/" : entry.path
            let bytes = Array(path.utf8)
            var name = bytes, prefix: [UInt8] = []
            if bytes.count > 100 {
                // Split at a `/` so that the prefix holds at most 155 bytes and the name 100.
                guard let cut = bytes.indices.last(where: { bytes[$0] == UInt8(ascii: "/") && $0 <= 155 && bytes.count - $0 - 1 <= 100 }) else {
                    throw WireFormatError("tar: the path \(path) is too long for a ustar header")
                }
                prefix = Array(bytes[..<cut])
                name = Array(bytes[(cut + 1)...])
            }
            func put(_ field: [UInt8], at offset: Int) { for (i, b) in field.enumerated() { header[offset + i] = b } }
            func octal(_ value: Int, width: Int) -> [UInt8] {
                Array(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1).utf8) + [0]
            }
            let size = entry.contents?.count ?? 0
            guard size < 0o77777777777 else { throw WireFormatError("tar: \(path) is larger than ustar allows") }
            put(name, at: 0)
            put(octal(entry.mode & 0o7777, width: 8), at: 100)
            put(octal(0, width: 8), at: 108)
            put(octal(0, width: 8), at: 116)
            put(octal(size, width: 12), at: 124)
            put(octal(0, width: 12), at: 136)
            put(Array("        ".utf8), at: 148)
            header[156] = entry.contents == nil ? UInt8(ascii: "5") : UInt8(ascii: "0")
            put(Array("ustar\u{0}00".utf8), at: 257)
            put(prefix, at: 345)
            let sum = header.reduce(0) { $0 + Int($1) }
            put(Array(String(String(sum, radix: 8)).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148)
            out.append(contentsOf: header)
            if let contents = entry.contents {
                out.append(contents)
                let pad = (512 - contents.count % 512) % 512
                out.append(contentsOf: [UInt8](repeating: 0, count: pad))
            }
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        return out
    }

    /// The regular files of `archive`, path to contents, in order (folders, links and
    /// other entries are skipped). `name` names the payload in errors.
    public static func files(in archive: Data, name: String = "the archive") throws -> [(path: String, contents: Data)] {
        let bytes = [UInt8](archive)
        var files: [(path: String, contents: Data)] = []
        var offset = 0
        var longName: String? = nil
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { return files }
            func field(_ from: Int, _ length: Int) -> ArraySlice<UInt8> {
                let s = header[(offset + from)..<(offset + from + length)]
                return s.prefix { $0 != 0 }
            }
            func text(_ from: Int, _ length: Int) -> String { String(decoding: field(from, length), as: UTF8.self) }
            // The checksum: the header's bytes with its own field read as spaces.
            let stored = text(148, 8).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let checksum = Int(stored, radix: 8) else { throw WireFormatError("\(name): a tar header at byte \(offset) has no checksum") }
            var sum = 0
            for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
            guard sum == checksum else { throw WireFormatError("\(name): a tar header at byte \(offset) fails its checksum") }
            let sizeText = text(124, 12).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let size = sizeText.isEmpty ? 0 : Int(sizeText, radix: 8), size >= 0 else {
                throw WireFormatError("\(name): a tar header at byte \(offset) has a bad size '\(sizeText)'")
            }
            let dataStart = offset + 512
            guard size <= bytes.count - dataStart else {
                throw WireFormatError("\(name): the tar entry at byte \(offset) claims \(size) bytes; \(bytes.count - dataStart) remain")
            }
            let contents = bytes[dataStart..<(dataStart + size)]
            let type = header[offset + 156]
            var path = text(0, 100)
            if text(257, 5) == "ustar" {
                let prefix = text(345, 155)
                if !prefix.isEmpty { path = prefix + "/" + path }
            }
            if let long = longName { path = long; longName = nil }
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next entry's long name
                longName = String(decoding: contents.prefix { $0 != 0 }, as: UTF8.self)
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                files.append((path, Data(contents)))
            default: break  // folders, links, PAX headers
            }
            offset = dataStart + (size + 511) / 512 * 512
        }
        if offset == bytes.count && !files.isEmpty { return files }  // no end blocks: what is there is whole
        throw WireFormatError("\(name): the tar archive ends inside a header (byte \(offset) of \(bytes.count))")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

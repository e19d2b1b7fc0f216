import Foundation

/// The log stream of a container without a TTY (`GET /containers/{id}/logs`,
/// `attach`): frames of an 8-byte header (stream: 1 stdout, 2 stderr, 0 stdin; three
/// zero bytes; the payload's length, big-endian 32-bit) and the payload.
public enum LogStream {
    /// The stream split into standard output and standard error. A frame that claims more
    /// bytes than remain, or an unknown stream, is an error naming `name`.
    public static func demultiplex(_ data: Data, name: String = "the log stream") throws -> (stdout: Data, stderr: Data) {
        let bytes = [UInt8](data)
        var out = Data(), err = Data()
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 8 else {
                throw WireFormatError("\(name): a frame header at byte \(offset) is cut short (\(bytes.count - offset) of 8 bytes)")
            }
            let stream = bytes[offset]
            let length = bytes[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            let start = offset + 8
            guard length <= bytes.count - start else {
                throw WireFormatError("\(name): the frame at byte \(offset) claims \(length) bytes; \(bytes.count - start) remain")
            }
            switch stream {
            case 0, 1: out.append(contentsOf: bytes[start..<(start + length)])
            case 2: err.append(contentsOf: bytes[start..<(start + length)])
            default: throw WireFormatError("\(name): the frame at byte \(offset) names stream \(stream) (expected 0, 1 or 2)")
            }
            offset = start + length
        }
        return (out, err)
    }

    /// Frames `stdout` and `stderr` as the engine does (for tests): one frame each.
    public static func multiplex(stdout: Data, stderr: Data) -> Data {
        var out = Data()
        for (stream, payload) in [(UInt8(1), stdout), (UInt8(2), stderr)] where !payload.isEmpty {
            let n = UInt32(payload.count)
            out.append(contentsOf: [stream, 0, 0, 0, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)])
            out.append(payload)
        }
        return out
    }
}

/// The answer of `POST /images/create` (an import): a stream of JSON objects, one per
/// line; an object with `error` (or `errorDetail`) means the import failed.
public enum ImageImportAnswer {
    /// The id the engine reports (`status` of the last object, `sha256:...`), or throws
    /// the first error the stream holds.
    public static func imageID(_ data: Data) throws -> String? {
        var id: String? = nil
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw WireFormatError("the image import answered a line that is not a JSON object: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            if let error = object["error"] as? String { throw WireFormatError("the image import failed: \(error)") }
            if let detail = object["errorDetail"] as? [String: Any], let message = detail["message"] as? String {
                throw WireFormatError("the image import failed: \(message)")
            }
            if let status = object["status"] as? String, status.hasPrefix("sha256:") { id = status }
        }
        return id
    }
}

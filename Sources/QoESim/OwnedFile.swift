import Foundation

/// A single file qoesim writes at a path a user names (`import -o`, `fit -o`): an
/// existing file there is replaced only when qoesim wrote it (its ``Signature``), or
/// with `force`; a folder never. The new file is written beside it and renamed over it,
/// so the path holds the old file or the whole new one, never a part.
public enum OwnedFile {
    /// How a file qoesim wrote begins.
    public enum Signature: Sendable {
        /// Its first line is this `#` line (e.g. the attribution of an imported trace).
        case firstLine(String)
        /// A JSON object whose `source` names qoesim (a model file `qoesim fit` wrote).
        case modelJSON
        /// Its first line starts with this text (e.g. `# qoesim ` of a profile CSV).
        case firstLinePrefix(String)
        /// Its first 4 KiB hold this text (e.g. the comment in a figure qoesim drew).
        case contains(String)

        func matches(_ data: Data) -> Bool {
            switch self {
            case .firstLine(let line):
                return String(decoding: data.prefix(64 << 10), as: UTF8.self).split(separator: "\n", maxSplits: 1).first.map(String.init) == line
            case .firstLinePrefix(let prefix):
                return String(decoding: data.prefix(64 << 10), as: UTF8.self).hasPrefix(prefix)
            case .contains(let text):
                return String(decoding: data.prefix(4096), as: UTF8.self).contains(text)
            case .modelJSON:
                guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let source = object["source"] as? String else { return false }
                return source.contains("qoesim")
            }
        }

        var description: String {
            switch self {
            case .firstLine(let line): return "its first line is not `\(line.prefix(60))`"
            case .modelJSON: return "it is not a model file whose source names qoesim"
            case .firstLinePrefix(let prefix): return "its first line does not start with `\(prefix)`"
            case .contains(let text): return "it does not begin with `\(text)`"
            }
        }
    }

    /// Writes `text` to `path`, replacing a file there only if it carries `signature` or
    /// `force` is set; refuses a folder. Errors name the path and say what to do.
    public static func replace(_ path: String, with text: String, kind signature: Signature, force: Bool) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { throw InputError(file: path, line: 0, "is a folder: nothing was written; give a file path") }
            let data = FileManager.default.contents(atPath: path) ?? Data()
            if !force && !signature.matches(data) {
                throw InputError(
                    file: path, line: 0,
                    "exists and was not written by qoesim (\(signature.description)): nothing was written; give another path, or --force to replace it")
            }
        }
        let dir = PathText.parent(path)
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else { throw RunOutputError.cannotWrite(path) }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            _ = try? FileManager.default.removeItem(atPath: tmp)
            throw InputError(file: path, line: 0, "cannot be replaced: \(why)")
        }
    }
}

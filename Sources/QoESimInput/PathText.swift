/// Path arithmetic on strings, for paths users give. NSString's `lastPathComponent` and
/// `deletingLastPathComponent` trap on a one-character relative path (`--out 0`, `-o a`)
/// in swift-corelibs-foundation (6.x, Linux): qoesim uses these instead, which take any
/// string.
public enum PathText {
    /// `path` without trailing slashes (the root stays `/`).
    static func trimmed(_ path: String) -> Substring {
        var s = Substring(path)
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        return s
    }

    /// The folder part of `path`: "" for a bare name, "/" for a name in the root.
    public static func parent(_ path: String) -> String {
        let s = trimmed(path)
        guard let slash = s.lastIndex(of: "/") else { return "" }
        if slash == s.startIndex { return "/" }
        var p = s[..<slash]
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }

    /// The last component of `path` ("/" for the root).
    public static func lastComponent(_ path: String) -> String {
        let s = trimmed(path)
        if s == "/" { return "/" }
        guard let slash = s.lastIndex(of: "/") else { return String(s) }
        return String(s[s.index(after: slash)...])
    }

    /// `path` without the extension of its last component (`a/b.svg` -> `a/b`; a name
    /// that starts with its only dot, like `.hidden`, has none).
    public static func deletingExtension(_ path: String) -> String {
        let s = trimmed(path)
        let nameStart = s.lastIndex(of: "/").map { s.index(after: $0) } ?? s.startIndex
        guard let dot = s[nameStart...].lastIndex(of: "."), dot != nameStart else { return String(s) }
        return String(s[..<dot])
    }
}

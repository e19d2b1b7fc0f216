import Foundation

/// A folder qoesim keeps adding files to (a sweep's run files and summaries, a
/// reproduction's figures, a generated scenario), as opposed to one replaced whole
/// (``DurableFolder``). Before the first write, the folder is claimed: created with
/// qoesim's marker (`.qoesim-output`) when missing; taken when empty; taken when it holds
/// the marker; taken when it has no marker but holds only entries that command writes
/// (a folder of an older qoesim), and then marked. Anything else, a user's folder with
/// other files, is refused with the path and one entry named, before anything is
/// written, so that a command never overwrites or mixes with files qoesim did not write.
public enum OwnedFolder {
    /// Claims `path` for a command that writes the entries `ours` into it (`what` names
    /// the command in errors). `unmarked` names the entries an unmarked folder may hold to
    /// be taken (what the command wrote before qoesim marked its folders; default `ours`):
    /// `[]` for commands newer than the marker, and names a command writes only now (a
    /// generated scenario's arrival parameter files) stay out of it, so that a user's
    /// unmarked folder holding a file of such a name is refused, not overwritten.
    public static func claim(_ path: String, ours: Set<String>, what: String, unmarked: Set<String>? = nil) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let marker = (path as NSString).appendingPathComponent(DurableFolder.marker)
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw RunOutputError.notOurFolder(path, "it is a file (\(what) writes a folder)") }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if entries.contains(DurableFolder.marker) {
                guard DurableFolder.markerText(in: path) != nil else {
                    throw RunOutputError.notOurFolder(path, "its \(DurableFolder.marker) is not qoesim's marker")
                }
                return
            }
            let legacy = unmarked ?? ours
            func isOurs(_ e: String) -> Bool { legacy.contains(e) || legacy.contains { e.hasPrefix($0 + ".tmp-") } }
            if let foreign = entries.filter({ !isOurs($0) }).sorted().first {
                throw RunOutputError.notOurFolder(path, "it holds \(foreign), which \(what) does not write; give an empty or new folder")
            }
        } else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch { throw RunOutputError.cannotWrite(path) }
        }
        guard fm.createFile(atPath: marker, contents: Data("written by qoesim\n".utf8)) else { throw RunOutputError.cannotWrite(marker) }
    }
}

import Foundation

/// An output folder that appears whole or not at all.
///
/// Files are written into a hidden staging folder beside the destination
/// (`PARENT/.NAME.qoesim-staging-PID`), each flushed to disk; ``commit()`` flushes the
/// staging folder, moves an earlier output aside (`.NAME.qoesim-old-PID`), renames the
/// staging folder into place, flushes the parent, and removes the earlier output. A run
/// killed at any point (even with SIGKILL) leaves the previous complete output, or none,
/// never a mix: at the next start, a staging folder of a dead process is removed and an
/// earlier output moved aside by one is put back if nothing replaced it.
///
/// Only an empty folder, or one qoesim wrote, is replaced: it holds the `.qoesim-output`
/// marker, which lists the files committed with it, and nothing the marker does not
/// list (a folder of an older qoesim, whose marker lists nothing, may hold only the
/// files a run writes). Anything else is refused, naming the path, so that `--out` never
/// deletes a user's files (a user's `notes.txt` beside qoesim's `models.csv` included).
public final class DurableFolder {
    /// The folder that appears whole when ``commit()`` succeeds (standardized path).
    public let destination: String
    /// The hidden staging folder beside it that files are written into.
    public let staging: String
    private let parent: String
    private let name: String
    /// The outermost folder above the destination that this object created (removed
    /// again by ``discard()`` if it still holds no file).
    private var createdAbove: String?
    /// The marker file every committed folder holds.
    public static let marker = ".qoesim-output"

    /// Prepares to write `destination`: removes a dead process's staging folder, restores an output an interrupted commit moved aside, and refuses a destination that is neither empty nor qoesim's (naming it).
    public init(destination: String) throws {
        let fm = FileManager.default
        let clean = (destination as NSString).standardizingPath
        self.destination = clean
        parent = PathText.parent(clean).isEmpty ? "." : PathText.parent(clean)
        name = PathText.lastComponent(clean)
        staging = (parent as NSString).appendingPathComponent(".\(name).qoesim-staging-\(getpid())")
        var missing: String? = nil
        var probe = parent
        while !probe.isEmpty && probe != "." && probe != "/" && !fm.fileExists(atPath: probe) {
            missing = probe
            probe = PathText.parent(probe)
        }
        createdAbove = missing
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw RunOutputError.cannotWrite(destination)
        }
        try Self.checkReplaceable(clean)
        recoverLeftovers()
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw RunOutputError.cannotWrite(destination)
        }
        _ = FileManager.default.createFile(atPath: path(Self.marker), contents: Data("written by qoesim\n".utf8))
    }

    /// The path of file `name` in the staging folder.
    public func path(_ file: String) -> String { (staging as NSString).appendingPathComponent(file) }

    /// Writes a whole file into the staging folder and flushes it to disk.
    public func write(_ file: String, _ text: String) throws {
        let p = path(file)
        guard FileManager.default.createFile(atPath: p, contents: Data(text.utf8)) else { throw RunOutputError.cannotWrite(p) }
        try Self.sync(p)
    }

    /// Flushes every staged file and swaps the staging folder in for the destination.
    public func commit() throws {
        let fm = FileManager.default
        let files = (try? fm.contentsOfDirectory(atPath: staging)) ?? []
        // The marker lists what is committed with it: only those may be replaced later.
        let listed = files.filter { $0 != Self.marker }.sorted()
        guard FileManager.default.createFile(atPath: path(Self.marker), contents: Data(Self.markerText(listing: listed).utf8)) else {
            throw RunOutputError.cannotWrite(path(Self.marker))
        }
        for f in (listed + [Self.marker]).sorted() { try Self.sync(path(f)) }
        try Self.sync(staging)
        FaultPoint.reach("output.before-swap")
        try Self.checkReplaceable(destination)
        let old = (parent as NSString).appendingPathComponent(".\(name).qoesim-old-\(getpid())")
        var moved = false
        if fm.fileExists(atPath: destination) {
            guard rename(destination, old) == 0 else { throw RunOutputError.cannotWrite(destination) }
            moved = true
        }
        FaultPoint.reach("output.between-renames")
        guard rename(staging, destination) == 0 else {
            if moved { _ = rename(old, destination) }
            throw RunOutputError.cannotWrite(destination)
        }
        try? Self.sync(parent)
        if moved { try? fm.removeItem(atPath: old) }
    }

    /// Removes the staging folder; the destination stays as it was.
    public func discard() {
        let fm = FileManager.default
        try? fm.removeItem(atPath: staging)
        // Folders made only to hold this output go too, if nothing else was put there.
        if let above = createdAbove, let items = fm.enumerator(atPath: above)?.allObjects as? [String],
           items.allSatisfy({ var d: ObjCBool = false; return fm.fileExists(atPath: (above as NSString).appendingPathComponent($0), isDirectory: &d) && d.boolValue }) {
            try? fm.removeItem(atPath: above)
        }
    }

    /// The text of `folder`'s marker, when it is qoesim's (nil: none, or not qoesim's).
    static func markerText(in folder: String) -> String? {
        guard let text = try? String(contentsOfFile: (folder as NSString).appendingPathComponent(marker), encoding: .utf8),
              text.hasPrefix("written by qoesim\n") else { return nil }
        return text
    }

    /// The marker's text: a line saying who wrote the folder, then `file: NAME` per file.
    static func markerText(listing files: [String]) -> String {
        "written by qoesim\n" + files.map { "file: \($0)\n" }.joined()
    }

    /// The files a run's output folder holds (what a marker of an older qoesim, which
    /// lists nothing, vouches for).
    static let runOutputFiles: Set<String> = [
        "models.csv", "requests.csv", "allocations.csv", "usage.csv", "observations.csv", "manifest.json", "docker-updates.csv",
        "engine-gaps.csv", "recorded.json",
    ]

    /// Refuses a destination that exists and is neither empty nor a qoesim output holding
    /// only what its marker lists.
    static func checkReplaceable(_ destination: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: destination, isDirectory: &isDir) else { return }
        guard isDir.boolValue else { throw RunOutputError.notAnOutputFolder(destination, "it is a file") }
        let entries = (try? fm.contentsOfDirectory(atPath: destination)) ?? []
        if entries.isEmpty { return }
        guard entries.contains(marker), let text = markerText(in: destination) else {
            throw RunOutputError.notAnOutputFolder(destination, "it holds files and no \(marker) marker of qoesim (e.g. \(entries.sorted()[0]))")
        }
        let listed = text.split(separator: "\n").filter { $0.hasPrefix("file: ") }.map { String($0.dropFirst("file: ".count)) }
        let allowed = listed.isEmpty ? runOutputFiles : Set(listed)
        if let foreign = entries.filter({ $0 != marker && !allowed.contains($0) }).sorted().first {
            throw RunOutputError.notAnOutputFolder(destination, "it holds \(foreign), which qoesim did not write there")
        }
    }

    /// Removes staging folders of processes that are gone, and puts back an earlier
    /// output that one of them moved aside if nothing replaced it.
    func recoverLeftovers() {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: parent) else { return }
        for e in entries.sorted() {
            for kind in ["staging", "old"] {
                let prefix = ".\(name).qoesim-\(kind)-"
                guard e.hasPrefix(prefix), let pid = Int32(e.dropFirst(prefix.count)), pid != getpid() else { continue }
                guard kill(pid, 0) != 0 && errno == ESRCH else { continue }  // still running
                let p = (parent as NSString).appendingPathComponent(e)
                if kind == "old" && !fm.fileExists(atPath: destination) {
                    _ = rename(p, destination)
                } else {
                    try? fm.removeItem(atPath: p)
                }
            }
        }
    }

    /// fsync of a file or folder.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RunOutputError.cannotWrite(path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RunOutputError.cannotWrite(path) }
    }
}

/// Named points where a test can kill the process (QOESIM_FAULT=NAME: SIGKILL on
/// reaching it), to check what a crash at that point leaves behind, or slow it down
/// (QOESIM_FAULT=pause:NAME).
public enum FaultPoint {
    static let armed = ProcessInfo.processInfo.environment["QOESIM_FAULT"]

    /// Kills the process with SIGKILL if QOESIM_FAULT names this point.
    public static func reach(_ name: String) {
        if armed == name { kill(getpid(), SIGKILL) }
    }

    /// Sleeps 3 s if QOESIM_FAULT names this point (`pause:NAME`): widens a window, such
    /// as a `docker update` in flight, so that a test's signal lands inside it.
    public static func pause(_ name: String) {
        if armed == "pause:" + name { usleep(3_000_000) }
    }

    /// Whether QOESIM_FAULT names this point as failing (`fail:NAME`): the caller then
    /// takes its error path, as if the operation had failed (e.g. a container removal).
    public static func fails(_ name: String) -> Bool { armed == "fail:" + name }
}

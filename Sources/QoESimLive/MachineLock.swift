import Foundation
import QoESim

/// One live run, validation or profile at a time on this machine: each measures the
/// machine, and two at once would measure each other (and, before the lock, one sent its
/// load to the other's containers). Held (flock) for the whole run on
/// `/tmp/qoesim-machine.lock` (QOESIM_LOCK_FILE overrides), which names the holder's pid
/// and what it does; a second one refuses at once, naming them. Reentrant within one
/// process (validate profiles, then runs live).
public enum MachineLock {
    nonisolated(unsafe) static var depth = 0
    nonisolated(unsafe) static var fd: Int32 = -1
    static let lock = NSLock()

    /// The lock file.
    public static var path: String { ProcessInfo.processInfo.environment["QOESIM_LOCK_FILE"] ?? "/tmp/qoesim-machine.lock" }

    /// Takes the lock for `what` (e.g. "live run"), or throws naming the holder.
    public static func acquire(_ what: String) throws {
        lock.lock()
        defer { lock.unlock() }
        if depth > 0 {
            depth += 1
            return
        }
        let f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw MachineBusy("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        if flock(f, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = pread(f, &buffer, buffer.count, 0)
            close(f)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "another process"
            throw MachineBusy("another qoesim run uses this machine's engine and CPUs (\(holder), lock \(path)): one live run, validation or profile at a time; wait for it to end")
        }
        let text = "pid \(getpid()): \(what)\n"
        _ = ftruncate(f, 0)
        _ = text.withCString { pwrite(f, $0, strlen($0), 0) }
        fd = f
        depth = 1
    }

    /// Releases one acquisition; the last one frees the lock.
    public static func release() {
        lock.lock()
        defer { lock.unlock() }
        guard depth > 0 else { return }
        depth -= 1
        if depth == 0 {
            _ = ftruncate(fd, 0)
            close(fd)
            fd = -1
        }
    }
}

/// The machine is in use by another qoesim run (``MachineLock``).
public struct MachineBusy: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A live run's own lock, `qoesim-run-ID.lock` beside ``MachineLock/path``, held (flock)
/// from before its first container is created until after its last is removed. Its
/// containers carry the run id (label `qoesim.run`), so a later run can tell a dead
/// run's containers (lock file present, lock free) from a running one's (lock held) and
/// from one it cannot judge (no lock file here: a run in another mount or PID namespace
/// with the same host name, or from before a reboot), which it leaves alone.
public final class RunLock {
    /// The random run id (16 hex digits).
    public let id: String
    private var fd: Int32
    private let path: String

    /// What a lock file says about a run.
    public enum Probe {
        /// The run is going (its lock is held).
        case held
        /// The run is gone: its lock file is here and free; the lock is now ours until
        /// ``RunLock/release()`` (call it after removing the run's containers).
        case free(RunLock)
        /// No lock file for the run on this machine: cannot tell.
        case unknown
    }

    /// The lock file of run `id`.
    public static func path(of id: String) -> String {
        (PathText.parent(MachineLock.path) as NSString).appendingPathComponent("qoesim-run-\(id).lock")
    }

    /// Creates a run id and takes its lock.
    public init() throws {
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        id = bytes.map { String(format: "%02x", $0) }.joined()
        path = RunLock.path(of: id)
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MachineBusy("cannot create the run's lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw MachineBusy("cannot lock the run's lock file \(path): \(String(cString: strerror(errno)))")
        }
        _ = "pid \(getpid())\n".withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    private init(id: String, fd: Int32, path: String) {
        self.id = id
        self.fd = fd
        self.path = path
    }

    /// Whether run `id` is going, gone or unknown here (see ``Probe``).
    public static func probe(_ id: String) -> Probe {
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else { return .unknown }
        let path = RunLock.path(of: id)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .unknown }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return .held
        }
        return .free(RunLock(id: id, fd: fd, path: path))
    }

    /// Deletes the lock file and frees the lock: the run's containers are all gone.
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    /// Frees the lock but keeps the file: some of the run's containers could not be
    /// removed, and a later run will (the lock file says the run is gone).
    public func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { abandon() }
}

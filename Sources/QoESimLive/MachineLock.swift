import Foundation

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

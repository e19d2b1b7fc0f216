import Foundation

/// A progress bar on standard error (redrawn in place on a terminal, every 10% otherwise).
public final class ProgressBar: @unchecked Sendable {
    let lock = NSLock()
    let started = Date()
    let label: String
    let quiet: Bool
    var lastTenth = -1
    var baseline: Int? = nil
    let tty = isatty(2) != 0
    let note: (String) -> Void

    /// "42 s", "3 min 5 s", "1 h 2 min".
    public static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t) s" }
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return "\(t / 3600) h \(t % 3600 / 60) min"
    }

    /// A bar for `label`; off when `quiet`; `note` prints a line where standard error is
    /// not a terminal (every 10%).
    public init(label: String, quiet: Bool, note: @escaping (String) -> Void) {
        self.label = label
        self.quiet = quiet
        self.note = note
    }

    /// `done` of `total` runs finished.
    public func update(_ done: Int, _ total: Int) {
        guard !quiet, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let frac = Double(done) / Double(total)
        let elapsed = Date().timeIntervalSince(started)
        // Runs found finished at the start (a resumed sweep) do not count toward the rate.
        if baseline == nil { baseline = done }
        let rate = elapsed > 0 ? Double(done - baseline!) / elapsed : 0
        let eta = done == total ? "done" : rate > 0 ? Self.duration(Double(total - done) / rate) : "?"
        let bar = String(repeating: "#", count: Int(frac * 30)) + String(repeating: ".", count: 30 - Int(frac * 30))
        let line = String(format: "%@ [%@] %d/%d runs, %.1f s, %.1f runs/s, ETA %@", label, bar, done, total, elapsed, rate, eta)
        if tty {
            FileHandle.standardError.write(Data(("\r" + line + (done == total ? "\n" : "")).utf8))
        } else if Int(frac * 10) > lastTenth {
            lastTenth = Int(frac * 10)
            note(line)
        }
    }
}


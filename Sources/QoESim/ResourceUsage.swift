import Foundation

/// What this process has used.
public enum ResourceUsage {
    /// This process's peak resident memory so far, MB (getrusage's ru_maxrss).
    public static func peakResidentMB() -> Double {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1024 // KiB on Linux
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1_048_576 // bytes on macOS
        #endif
    }
}

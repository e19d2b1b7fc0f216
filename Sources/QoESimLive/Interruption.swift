import Foundation

/// The signals that end a run that has containers to clean up: SIGINT (Ctrl-C), SIGTERM
/// (kill, a batch system's end of time) and SIGHUP (a closed terminal). While a
/// ``Scope`` is open each of them only sets a flag, which the run checks at its waits;
/// it then removes what it created and throws ``Interrupted``. SIGPIPE is ignored for
/// the scope's length, so that a closed pipe is a failed write, not a death without
/// cleanup.
public enum Interruption {
    nonisolated(unsafe) static var signalNumber: sig_atomic_t = 0

    /// The signal received since the scope opened, if any.
    public static var received: Int32? { signalNumber == 0 ? nil : Int32(signalNumber) }

    /// Handlers installed for the scope's length; closing it puts back what was there.
    public final class Scope {
        private var previous: [(Int32, sig_t?)] = []

        /// Installs the handlers and clears any earlier signal.
        public init() {
            Interruption.signalNumber = 0
            for s in [SIGINT, SIGTERM, SIGHUP] {
                previous.append((s, signal(s) { Interruption.signalNumber = sig_atomic_t($0) }))
            }
            previous.append((SIGPIPE, signal(SIGPIPE, SIG_IGN)))
        }

        /// Puts the earlier handlers back.
        public func close() {
            for (s, handler) in previous { signal(s, handler) }
            previous = []
        }

        deinit { close() }
    }

    /// The signal's name, for messages.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }
}

/// A run stopped by a signal (``Interruption``); what it created was removed.
public struct Interrupted: Error, CustomStringConvertible, Sendable {
    public let signal: Int32
    public let what: String
    public init(signal: Int32, what: String) {
        self.signal = signal
        self.what = what
    }
    public var description: String { "\(Interruption.name(signal)): \(what) interrupted; the containers it started were removed" }
}

/// Runs an async call to completion from synchronous code, giving up when a signal
/// arrives (``Interruption``): the call is left to finish on its own, and ``Interrupted``
/// is thrown. `tick`, when given, is called about every `tickInterval` seconds while
/// waiting (e.g. to sample CPU counters).
public func blockingUnlessInterrupted<T: Sendable>(
    _ what: String, tickInterval: Double = 0.1, tick: (() -> Void)? = nil, _ body: @escaping @Sendable () async throws -> T
) throws -> T {
    let box = ResultBox<T>()
    let sem = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        sem.signal()
    }
    while sem.wait(timeout: .now() + tickInterval) == .timedOut {
        if let s = Interruption.received { throw Interrupted(signal: s, what: what) }
        tick?()
    }
    return try box.result!.get()
}

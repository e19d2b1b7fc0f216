/// The simulation kernel: a clock and a future-event list of timers.
///
/// The loop knows nothing about clusters, containers or requests. A client arms
/// ``TimerHandle``s and repeatedly asks for the next one that fires; the loop advances
/// the clock to that timer's time and hands it back. What a timer *means* is the
/// client's business:
///
/// ```swift
/// var loop = EventLoop(timerCount: 2)
/// loop.arm(TimerHandle(0), at: 1.5)
/// while let timer = loop.next() { handle(timer, at: loop.now) }
/// ```
///
/// Invariants (see `Docs/INVARIANTS.md`):
/// - E1: `now` never decreases; arming a timer in the past is a programming error.
/// - E2: timers due at the same instant fire in the order they were armed.
///
/// The loop is non-copyable, like its ``TimerQueue``: one owner, no reference counting.
public struct EventLoop: ~Copyable, Sendable {
    /// The simulated clock, in seconds.
    @inlinable public var now: Double { clock }
    /// Number of timers fired so far (the "events" of the run).
    @inlinable public var eventsProcessed: Int { fired }
    @usableFromInline var clock: Double = 0
    @usableFromInline var fired: Int = 0
    @usableFromInline var timers: TimerQueue

    /// Creates a loop with `timerCount` timer slots.
    public init(timerCount: Int) {
        timers = TimerQueue(capacity: timerCount)
    }

    /// Arms `timer` to fire at `time` (>= `now`), replacing any earlier arming.
    @inlinable public mutating func arm(_ timer: TimerHandle, at time: Double) {
        precondition(time >= now, "E1 violated: timer armed at \(time) < now \(now)")
        timers.arm(timer, at: time)
    }

    /// Disarms `timer` if it is armed.
    @inlinable public mutating func disarm(_ timer: TimerHandle) { timers.disarm(timer) }

    /// Whether `timer` is armed.
    @inlinable public func isArmed(_ timer: TimerHandle) -> Bool { timers.isArmed(timer) }

    /// Time of the earliest armed timer, if any.
    @inlinable public var nextTime: Double? { timers.first?.time }

    /// The earliest armed timer and its time, if any (the next that ``next()`` returns).
    @inlinable public var nextTimer: (timer: TimerHandle, time: Double)? { timers.first }

    /// When `timer` is due, nil if it is not armed.
    @inlinable public func dueTime(of timer: TimerHandle) -> Double? { timers.dueTime(of: timer) }

    /// Number of armed timers.
    @inlinable public var pendingCount: Int { timers.count }

    /// Advances the clock to the earliest armed timer and returns it, or returns nil
    /// when nothing is armed (the simulation is over).
    @inlinable public mutating func next() -> TimerHandle? {
        guard let (timer, time) = timers.popFirst() else { return nil }
        clock = time
        fired &+= 1
        return timer
    }

    /// Like ``next()``, but returns nil without firing anything when the earliest
    /// timer is due after `horizon`; the clock then moves to `horizon`.
    @inlinable public mutating func next(until horizon: Double) -> TimerHandle? {
        guard let first = timers.first, first.time <= horizon else {
            if horizon > clock && horizon.isFinite { clock = horizon }
            return nil
        }
        return next()
    }
}

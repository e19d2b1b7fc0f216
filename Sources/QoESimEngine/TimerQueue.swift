/// A handle to one timer slot of a ``TimerQueue``.
///
/// Clients allocate a fixed number of slots up front (one per recurring activity, e.g.
/// "the next completion in container 7") and re-arm them as the simulation goes, so the
/// future-event list never holds more entries than there are activities, whatever the
/// number of requests simulated.
public struct TimerHandle: Hashable, Sendable {
    /// The slot index, `0 ..< queue.capacity`.
    public let index: Int32
    @inlinable public init(_ index: Int) { self.index = Int32(truncatingIfNeeded: index) }
}

/// The future-event list: an indexed binary min-heap of armed timers.
///
/// Ordering is by `(time, sequence)`, where `sequence` is the order in which timers
/// were armed. Two timers due at the same instant therefore fire in the order they
/// were set, which makes every run with the same inputs replay identically
/// (invariant E2 in `Docs/INVARIANTS.md`).
///
/// All operations are O(log n) in the number of *armed* timers and never allocate
/// after `init`: the heap and the position index live in arrays sized once.
public struct TimerQueue: Sendable {
    @usableFromInline struct Entry: Sendable {
        @usableFromInline var time: Double
        @usableFromInline var sequence: UInt64
        @usableFromInline var slot: Int32

        @inlinable init(time: Double, sequence: UInt64, slot: Int32) {
            self.time = time
            self.sequence = sequence
            self.slot = slot
        }

        @inlinable func precedes(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    @usableFromInline var heap: [Entry]
    /// Position of each slot in `heap`, or -1 when the slot is not armed.
    @usableFromInline var position: [Int32]
    @usableFromInline var nextSequence: UInt64 = 0

    /// Creates a queue with `capacity` timer slots, all disarmed.
    public init(capacity: Int) {
        heap = []
        heap.reserveCapacity(capacity)
        position = Array(repeating: -1, count: capacity)
    }

    /// Number of timer slots.
    @inlinable public var capacity: Int { position.count }
    /// Number of armed timers.
    @inlinable public var count: Int { heap.count }
    /// True when no timer is armed.
    @inlinable public var isEmpty: Bool { heap.isEmpty }

    /// Whether `timer` is armed.
    @inlinable public func isArmed(_ timer: TimerHandle) -> Bool { position[Int(timer.index)] >= 0 }

    /// The time `timer` is due, if armed.
    @inlinable public func dueTime(of timer: TimerHandle) -> Double? {
        let p = Int(position[Int(timer.index)])
        return p >= 0 ? heap[p].time : nil
    }

    /// The earliest armed timer and its time, without removing it.
    @inlinable public var first: (timer: TimerHandle, time: Double)? {
        guard let e = heap.first else { return nil }
        return (TimerHandle(Int(e.slot)), e.time)
    }

    /// Arms `timer` to fire at `time`, re-arming it if it was already armed.
    ///
    /// Re-arming counts as a new arming for tie-breaking: it fires after every timer
    /// already armed for the same instant.
    @inlinable public mutating func arm(_ timer: TimerHandle, at time: Double) {
        let slot = Int(timer.index)
        let entry = Entry(time: time, sequence: nextSequence, slot: timer.index)
        nextSequence &+= 1
        let p = Int(position[slot])
        if p < 0 {
            heap.append(entry)
            position[slot] = Int32(heap.count - 1)
            siftUp(heap.count - 1)
        } else {
            let old = heap[p]
            heap[p] = entry
            if entry.precedes(old) { siftUp(p) } else { siftDown(p) }
        }
    }

    /// Disarms `timer`; does nothing if it is not armed.
    @inlinable public mutating func disarm(_ timer: TimerHandle) {
        let slot = Int(timer.index)
        let p = Int(position[slot])
        guard p >= 0 else { return }
        position[slot] = -1
        let last = heap.removeLast()
        if p < heap.count {
            heap[p] = last
            position[Int(last.slot)] = Int32(p)
            if p > 0 && last.precedes(heap[(p - 1) >> 1]) { siftUp(p) } else { siftDown(p) }
        }
    }

    /// Removes and returns the earliest armed timer and its time.
    @inlinable public mutating func popFirst() -> (timer: TimerHandle, time: Double)? {
        guard let top = heap.first else { return nil }
        position[Int(top.slot)] = -1
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            position[Int(last.slot)] = 0
            siftDown(0)
        }
        return (TimerHandle(Int(top.slot)), top.time)
    }

    @inlinable mutating func siftUp(_ start: Int) {
        var i = start
        let moving = heap[i]
        while i > 0 {
            let parent = (i - 1) >> 1
            let p = heap[parent]
            guard moving.precedes(p) else { break }
            heap[i] = p
            position[Int(p.slot)] = Int32(i)
            i = parent
        }
        heap[i] = moving
        position[Int(moving.slot)] = Int32(i)
    }

    @inlinable mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        let moving = heap[i]
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var child = left
            let right = left + 1
            if right < n && heap[right].precedes(heap[left]) { child = right }
            let c = heap[child]
            guard c.precedes(moving) else { break }
            heap[i] = c
            position[Int(c.slot)] = Int32(i)
            i = child
        }
        heap[i] = moving
        position[Int(moving.slot)] = Int32(i)
    }
}

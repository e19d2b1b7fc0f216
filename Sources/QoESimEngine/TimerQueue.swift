/// A handle to one timer slot of a ``TimerQueue``.
///
/// Clients allocate a fixed number of slots up front (one per recurring activity, e.g.
/// "the next completion in container 7") and re-arm them as the simulation goes, so the
/// future-event list never holds more entries than there are activities, whatever the
/// number of requests simulated.
public struct TimerHandle: Hashable, Sendable {
    /// The slot index, `0 ..< queue.capacity`.
    public let index: Int32
    /// The handle of timer slot `index`.
    @inlinable public init(_ index: Int) { self.index = Int32(truncatingIfNeeded: index) }
}

/// The future-event list: an indexed 4-ary min-heap of armed timers.
///
/// Ordering is by `(time, sequence)`, where `sequence` is the order in which timers
/// were armed. Two timers due at the same instant therefore fire in the order they
/// were set, which makes every run with the same inputs replay identically
/// (invariant E2 in `Docs/INVARIANTS.md`).
///
/// All operations are O(log n) in the number of *armed* timers and never allocate
/// after `init`: the heap and the position index are two buffers sized once. The queue
/// is non-copyable: it owns its buffers outright, so the hot path pays no reference
/// counting, no copy-on-write uniqueness checks and no bounds checks (slot indices are
/// checked once, at `arm` and `disarm`).
///
/// Deferred removal: ``popFirst()`` leaves the fired entry at the root (logically
/// disarmed) until the next operation needs it gone. Re-arming the fired slot, the
/// common case (an arrival schedules the next arrival, a completion the next
/// completion), then costs one sift-down instead of a removal plus an insertion.
public struct TimerQueue: ~Copyable, @unchecked Sendable {
    // @unchecked Sendable: the buffers are owned by this non-copyable value alone.

    /// A heap entry: the due time as an order-preserving integer and
    /// `sequence << slotBits | slot`, so that one 128-bit integer comparison orders by
    /// time and breaks ties by arming order (branch-free in the sift loops).
    @usableFromInline struct Entry {
        @usableFromInline var key: UInt128

        @inlinable init(time: Double, order: UInt64) {
            key = UInt128(Entry.orderedBits(time)) << 64 | UInt128(order)
        }

        @inlinable var slot: Int { Int(truncatingIfNeeded: UInt64(truncatingIfNeeded: key) & TimerQueue.slotMask) }

        @inlinable var time: Double { Entry.time(fromOrderedBits: UInt64(truncatingIfNeeded: key >> 64)) }

        @inlinable func precedes(_ other: Entry) -> Bool { key < other.key }

        /// Maps a double to an unsigned integer with the same order (IEEE 754 total order
        /// for non-NaN values): flip every bit of negatives, only the sign bit of the rest.
        @inlinable static func orderedBits(_ time: Double) -> UInt64 {
            let bits = time.bitPattern
            return bits >> 63 == 1 ? ~bits : bits | (1 << 63)
        }

        @inlinable static func time(fromOrderedBits bits: UInt64) -> Double {
            Double(bitPattern: bits >> 63 == 1 ? bits & ~(1 << 63) : ~bits)
        }
    }

    @usableFromInline static let slotBits: UInt64 = 24
    @usableFromInline static let slotMask: UInt64 = (1 << slotBits) - 1
    /// Children per heap node.
    @usableFromInline static let arity = 4

    @usableFromInline let heap: UnsafeMutablePointer<Entry>
    /// Position of each slot in `heap`, or -1 when the slot is not in the heap.
    @usableFromInline let position: UnsafeMutablePointer<Int32>
    /// Number of timer slots.
    public let capacity: Int
    /// Entries in `heap`, including a fired root not yet removed.
    @usableFromInline var size = 0
    @usableFromInline var nextSequence: UInt64 = 0
    /// The slot fired by the last `popFirst`, still at the root; -1 when none.
    @usableFromInline var fired = -1

    /// Creates a queue with `capacity` timer slots (at most 2^24), all disarmed.
    public init(capacity: Int) {
        precondition(capacity >= 0 && capacity <= Int(TimerQueue.slotMask), "TimerQueue supports up to 2^24 slots")
        self.capacity = capacity
        heap = .allocate(capacity: max(capacity, 1))
        position = .allocate(capacity: max(capacity, 1))
        position.initialize(repeating: -1, count: max(capacity, 1))
    }

    deinit {
        heap.deallocate()
        position.deallocate()
    }

    /// Number of armed timers.
    @inlinable public var count: Int { fired >= 0 ? size - 1 : size }
    /// True when no timer is armed.
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Whether `timer` is armed.
    @inlinable public func isArmed(_ timer: TimerHandle) -> Bool {
        let slot = checked(timer)
        return position[slot] >= 0 && slot != fired
    }

    /// The time `timer` is due, if armed.
    @inlinable public func dueTime(of timer: TimerHandle) -> Double? {
        isArmed(timer) ? heap[Int(position[Int(timer.index)])].time : nil
    }

    /// The earliest armed timer and its time, without removing it.
    @inlinable public var first: (timer: TimerHandle, time: Double)? {
        guard fired >= 0 else { return size > 0 ? (TimerHandle(heap[0].slot), heap[0].time) : nil }
        // The fired root is on its way out: the earliest armed timer is its best child.
        guard size > 1 else { return nil }
        var best = 1
        var k = 2
        while k <= min(TimerQueue.arity, size - 1) {
            if heap[k].precedes(heap[best]) { best = k }
            k += 1
        }
        return (TimerHandle(heap[best].slot), heap[best].time)
    }

    /// Arms `timer` to fire at `time`, re-arming it if it was already armed.
    ///
    /// Re-arming counts as a new arming for tie-breaking: it fires after every timer
    /// already armed for the same instant.
    @inlinable public mutating func arm(_ timer: TimerHandle, at time: Double) {
        let slot = checked(timer)
        precondition(!time.isNaN, "timer armed at NaN")
        precondition(nextSequence < 1 << (64 - TimerQueue.slotBits), "TimerQueue sequence space exhausted")
        let entry = Entry(time: time, order: nextSequence << TimerQueue.slotBits | UInt64(slot))
        nextSequence &+= 1
        if slot == fired {
            // Re-arming the timer that just fired: it takes the root's place.
            fired = -1
            heap[0] = entry
            siftDown(0, entry)
            return
        }
        // The fired root must stay ahead of every other entry; an arming before it
        // (possible only for direct users of the queue, the event loop forbids it)
        // removes it first.
        if fired >= 0 && entry.precedes(heap[0]) { removeFiredRoot() }
        let p = Int(position[slot])
        if p < 0 {
            size += 1
            siftUp(size - 1, entry)
        } else if entry.precedes(heap[p]) {
            siftUp(p, entry)
        } else {
            siftDown(p, entry)
        }
    }

    /// Disarms `timer`; does nothing if it is not armed.
    @inlinable public mutating func disarm(_ timer: TimerHandle) {
        let slot = checked(timer)
        if slot == fired { return } // already logically disarmed; removed lazily
        let p = Int(position[slot])
        guard p >= 0 else { return }
        position[slot] = -1
        remove(at: p)
    }

    /// Removes and returns the earliest armed timer and its time.
    @inlinable public mutating func popFirst() -> (timer: TimerHandle, time: Double)? {
        if fired >= 0 { removeFiredRoot() }
        guard size > 0 else { return nil }
        let top = heap[0]
        fired = top.slot
        return (TimerHandle(top.slot), top.time)
    }

    // MARK: Internals

    @inlinable func checked(_ timer: TimerHandle) -> Int {
        let slot = Int(timer.index)
        precondition(slot >= 0 && slot < capacity, "timer slot \(slot) outside 0..<\(capacity)")
        return slot
    }

    @inlinable mutating func removeFiredRoot() {
        position[fired] = -1
        fired = -1
        remove(at: 0)
    }

    /// Removes the entry at heap position p (its slot's position already cleared).
    @inlinable mutating func remove(at p: Int) {
        size -= 1
        guard p < size else { return }
        let last = heap[size]
        if p > 0 && last.precedes(heap[(p - 1) / TimerQueue.arity]) { siftUp(p, last) } else { siftDown(p, last) }
    }

    /// Places `moving` at position `start` or above, moving parents down.
    @inlinable mutating func siftUp(_ start: Int, _ moving: Entry) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / TimerQueue.arity
            let p = heap[parent]
            guard moving.precedes(p) else { break }
            heap[i] = p
            position[p.slot] = Int32(truncatingIfNeeded: i)
            i = parent
        }
        heap[i] = moving
        position[moving.slot] = Int32(truncatingIfNeeded: i)
    }

    /// Places `moving` at position `start` or below, moving children up.
    @inlinable mutating func siftDown(_ start: Int, _ moving: Entry) {
        var i = start
        let n = size
        while true {
            let first = TimerQueue.arity * i + 1
            guard first < n else { break }
            var child = first
            var best = heap[first]
            if first + TimerQueue.arity <= n {
                // All four children exist: a two-round tournament (short dependency chain).
                let a = heap[first], b = heap[first + 1], c = heap[first + 2], d = heap[first + 3]
                let ab = b.precedes(a), cd = d.precedes(c)
                let left = ab ? b : a, right = cd ? d : c
                let leftIndex = ab ? first + 1 : first, rightIndex = cd ? first + 3 : first + 2
                let r = right.precedes(left)
                best = r ? right : left
                child = r ? rightIndex : leftIndex
            } else {
                var k = first + 1
                while k < n {
                    let e = heap[k]
                    let less = e.precedes(best)
                    best = less ? e : best
                    child = less ? k : child
                    k += 1
                }
            }
            guard best.precedes(moving) else { break }
            heap[i] = best
            position[best.slot] = Int32(truncatingIfNeeded: i)
            i = child
        }
        heap[i] = moving
        position[moving.slot] = Int32(truncatingIfNeeded: i)
    }
}

import Foundation
import Testing
import QoESim

/// Engine invariants (Docs/INVARIANTS.md): E1 clock monotonicity, E2 deterministic
/// tie-breaking, E3 independent random streams.
@Suite("Engine")
struct EngineTests {
    /// Arms, re-arms and disarms random timers and checks the queue pops them in
    /// (time, arming order) order, against a simple reference list.
    @Test("Timer queue pops in (time, arming order) under random arm/re-arm/disarm")
    func timerQueueMatchesReference() {
        var rng = RandomStream(seed: 42, key: "timers", purpose: .policy)
        var queue = TimerQueue(capacity: 64)
        var reference: [Int: (time: Double, seq: Int)] = [:]
        var seq = 0
        for _ in 0..<20_000 {
            let slot = Int(rng.next() % 64)
            switch rng.next() % 4 {
            case 0:
                queue.disarm(TimerHandle(slot))
                reference[slot] = nil
            default:
                // Coarse times so that ties are frequent.
                let t = Double(rng.next() % 50)
                queue.arm(TimerHandle(slot), at: t)
                reference[slot] = (t, seq)
                seq += 1
            }
            if rng.next() % 3 == 0, let popped = queue.popFirst() {
                let expected = reference.min { ($0.value.time, $0.value.seq) < ($1.value.time, $1.value.seq) }!
                #expect(Int(popped.timer.index) == expected.key)
                #expect(popped.time == expected.value.time)
                reference[expected.key] = nil
            }
            #expect(queue.count == reference.count)
            // `first` and `isArmed` agree with the reference, also while a fired entry
            // still sits at the root (the queue removes it lazily).
            let expectedFirst = reference.min { ($0.value.time, $0.value.seq) < ($1.value.time, $1.value.seq) }
            #expect(queue.first.map { Int($0.timer.index) } == expectedFirst?.key)
            let probe = Int(rng.next() % 64)
            #expect(queue.isArmed(TimerHandle(probe)) == (reference[probe] != nil))
            #expect(queue.dueTime(of: TimerHandle(probe)) == reference[probe]?.time)
        }
    }

    @Test("FixedArray stores, mutates in place and releases its elements")
    func fixedArray() {
        final class Counter { var alive = 0 }
        final class Token {
            let counter: Counter
            init(_ counter: Counter) { self.counter = counter; counter.alive += 1 }
            deinit { counter.alive -= 1 }
        }
        let counter = Counter()
        do {
            var a = FixedArray(repeating: 0, count: 5)
            for i in a.indices { a[i] = i * i }
            a[2] += 10
            #expect((0..<5).map { a[$0] } == [0, 1, 14, 9, 16])
            #expect(a.contains { $0 == 14 } && !a.contains { $0 == 4 })
            let tokens = FixedArray([Token(counter), Token(counter), Token(counter)])
            #expect(tokens.count == 3 && counter.alive == 3)
        }
        #expect(counter.alive == 0, "every element is deinitialized with the array")
    }

    @Test("E1: the clock never goes back; E2: simultaneous timers fire in arming order")
    func clockAndTies() {
        var loop = EventLoop(timerCount: 5)
        loop.arm(TimerHandle(3), at: 2)
        loop.arm(TimerHandle(1), at: 1)
        loop.arm(TimerHandle(4), at: 1)
        loop.arm(TimerHandle(0), at: 1)
        var order: [Int] = []
        var last = -Double.infinity
        while let t = loop.next() {
            #expect(loop.now >= last)
            last = loop.now
            order.append(Int(t.index))
        }
        #expect(order == [1, 4, 0, 3])
        #expect(loop.eventsProcessed == 4)
    }

    @Test("next(until:) stops at the horizon without firing later timers")
    func horizon() {
        var loop = EventLoop(timerCount: 2)
        loop.arm(TimerHandle(0), at: 1)
        loop.arm(TimerHandle(1), at: 5)
        #expect(loop.next(until: 3) == TimerHandle(0))
        #expect(loop.next(until: 3) == nil)
        #expect(loop.now == 3)
        #expect(loop.pendingCount == 1)
    }

    @Test("E3: streams are reproducible and independent of other keys")
    func streams() {
        var a1 = RandomStream(seed: 7, key: "job-a", purpose: .arrivals)
        var a2 = RandomStream(seed: 7, key: "job-a", purpose: .arrivals)
        var b = RandomStream(seed: 7, key: "job-b", purpose: .arrivals)
        var s = RandomStream(seed: 7, key: "job-a", purpose: .service)
        var other = RandomStream(seed: 8, key: "job-a", purpose: .arrivals)
        let x1 = (0..<100).map { _ in a1.next() }
        #expect(x1 == (0..<100).map { _ in a2.next() })
        #expect(x1 != (0..<100).map { _ in b.next() })
        #expect(x1 != (0..<100).map { _ in s.next() })
        #expect(x1 != (0..<100).map { _ in other.next() })
    }

    /// Variability factors have mean 1 and the stated cv (1% on the mean, 3% on cv
    /// with 400k draws).
    @Test("Variability distributions have mean 1 and their stated cv", arguments: [
        Variability.exponential, .lognormal(cv: 0.1), .lognormal(cv: 0.5), .deterministic,
    ])
    func variability(_ v: Variability) {
        var rng = RandomStream(seed: 1, key: "v", purpose: .service)
        let n = 400_000
        var sum = 0.0, sq = 0.0
        for _ in 0..<n {
            let x = v.sample(&rng)
            sum += x
            sq += x * x
        }
        let mean = sum / Double(n)
        let sd = (sq / Double(n) - mean * mean).squareRoot()
        #expect(abs(mean - 1) < 0.01, "mean \(mean)")
        if v.cv > 0 { #expect(abs(sd / mean - v.cv) / v.cv < 0.03, "cv \(sd / mean) vs \(v.cv)") } else { #expect(sd < 1e-9) }
    }
}

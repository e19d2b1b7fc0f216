import Testing
import QoESim

/// Invariants W1-W4 of CFS water-filling (see WaterFilling's documentation), over
/// random states: random node sizes, caps (including zero-ish and huge), weights.
@Suite("CFS water-filling")
struct WaterFillingTests {
    @Test("W1-W4 hold on 5,000 random states")
    func invariants() {
        var rng = RandomStream(seed: 3, key: "wf", purpose: .policy)
        var wf = WaterFilling()
        for _ in 0..<5_000 {
            // Mostly a node's handful of busy containers (insertion-sort path), 10% of
            // states with 33-80 (the heapsort path).
            let n = rng.nextUnitInterval() < 0.1 ? 33 + Int(rng.next() % 48) : 1 + Int(rng.next() % 12)
            let capacity = Double(1 + rng.next() % 16) * (rng.nextUnitInterval() < 0.3 ? 0.5 : 1)
            let caps = (0..<n).map { _ in rng.nextUnitInterval() < 0.2 ? 1e6 : Double(rng.next() % 800) / 100 + 0.01 }
            let weights = (0..<n).map { _ in rng.nextUnitInterval() * 4 + 0.05 }
            let share = wf.divide(capacity: capacity, caps: caps, weights: weights)
            let total = share.reduce(0, +)
            for i in 0..<n {
                #expect(share[i] >= 0 && share[i] <= caps[i] * (1 + 1e-12), "W1: share \(share[i]) cap \(caps[i])")
            }
            #expect(total <= capacity * (1 + 1e-9), "W2: total \(total) > capacity \(capacity)")
            if total < capacity * (1 - 1e-9) {
                for i in 0..<n { #expect(abs(share[i] - caps[i]) < 1e-9, "W3: not work-conserving") }
            }
            // W4: among containers below their cap, share / weight is the same level,
            // and any capped container's cap is at or below that level times its weight.
            let uncapped = (0..<n).filter { share[$0] < caps[$0] * (1 - 1e-9) }
            if let first = uncapped.first {
                let level = share[first] / weights[first]
                for i in uncapped { #expect(abs(share[i] / weights[i] - level) < 1e-9 * max(1, level), "W4: unequal levels") }
                for i in 0..<n where !uncapped.contains(i) { #expect(caps[i] / weights[i] <= level * (1 + 1e-9)) }
            }
        }
    }

    @Test("Equal weights and large caps split a node equally; a small cap's leftover is redistributed")
    func examples() {
        var wf = WaterFilling()
        #expect(wf.divide(capacity: 4, caps: [10, 10], weights: [1, 1]) == [2, 2])
        let s = wf.divide(capacity: 4, caps: [0.5, 10, 10], weights: [1, 1, 1])
        #expect(s[0] == 0.5)
        #expect(abs(s[1] - 1.75) < 1e-12 && abs(s[2] - 1.75) < 1e-12)
        #expect(wf.divide(capacity: 8, caps: [1, 2], weights: [1, 5]) == [1, 2])
    }
}

import Foundation
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

    /// Weights across the whole documented range (1e-6 to 1e6, Docs/LIMITS.md), log-uniform:
    /// a running weight total that subtracts served weights cancelled catastrophically
    /// here (fuzz finding `weights-1e6-vs-1e-5`: 7.000012 cores given on a 7-core node).
    @Test("W1-W2 hold with weights from 1e-6 to 1e6 (2,000 random states and the fuzz finding)")
    func extremeWeights() {
        var rng = RandomStream(seed: 5, key: "wf-extreme", purpose: .policy)
        var wf = WaterFilling()
        func check(_ capacity: Double, _ caps: [Double], _ weights: [Double]) {
            let share = wf.divide(capacity: capacity, caps: caps, weights: weights)
            let total = share.reduce(0, +)
            #expect(total <= capacity * (1 + 1e-12), "W2: total \(total) > capacity \(capacity), weights \(weights)")
            for i in share.indices { #expect(share[i] >= 0 && share[i] <= caps[i] * (1 + 1e-12), "W1") }
        }
        check(7, [7, 7], [1e6, 1e-5])
        check(7, [2.5, 7], [1e6, 1e-5])
        check(7, [7, 7, 7], [1e-6, 1e6, 1e-6])
        for _ in 0..<2_000 {
            let n = 2 + Int(rng.next() % 10)
            let capacity = Double(1 + rng.next() % 64)
            let caps = (0..<n).map { _ in Double(rng.next() % 6400) / 100 + 0.01 }
            let weights = (0..<n).map { _ in pow(10, rng.nextUnitInterval() * 12 - 6) }
            check(capacity, caps, weights)
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

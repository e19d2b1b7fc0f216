/// CPU division as Linux CFS does it for Docker containers.
///
/// Every container that has work asks for up to `cap` cores (the least of its
/// `--cpus` limit, the parallelism its running requests can use, and the node). The
/// node's `capacity` is divided in proportion to `weight` (cpu.shares); a container
/// that reaches its cap keeps only its cap, and what it leaves is divided again among
/// the others (work-conserving water-filling).
///
/// Invariants (tested in `WaterFillingTests`):
/// - W1: `0 <= share[i] <= cap[i]` for every i.
/// - W2: `sum(share) <= capacity` (up to rounding).
/// - W3: work conservation: if `sum(share) < capacity` then every container has its cap.
/// - W4: proportionality: two uncapped containers get shares in the ratio of their weights.
public struct WaterFilling: Sendable {
    @usableFromInline var order: [Int] = []
    @usableFromInline var ratio: [Double] = []

    /// A water-filler with empty scratch buffers (reused across calls).
    public init() {}

    /// Fills `share` (same count as `cap` and `weight`) with each container's cores.
    ///
    /// Preconditions: `weight[i] > 0`, `cap[i] >= 0`, `capacity >= 0`. Allocation-free
    /// once the scratch buffer has grown to the largest count seen.
    public mutating func divide(
        capacity: Double, cap: UnsafeBufferPointer<Double>, weight: UnsafeBufferPointer<Double>,
        into share: UnsafeMutableBufferPointer<Double>
    ) {
        let n = cap.count
        if n == 0 { return }
        var demand = 0.0
        for i in 0..<n { demand += cap[i] }
        if demand <= capacity {
            // Enough for everyone: each gets its cap (the common, cheap case).
            for i in 0..<n { share[i] = cap[i] }
            return
        }
        // Visit containers in increasing cap/weight: the first ones saturate first.
        order.removeAll(keepingCapacity: true)
        ratio.removeAll(keepingCapacity: true)
        for i in 0..<n {
            order.append(i)
            ratio.append(cap[i] / weight[i])
        }
        ratio.withUnsafeBufferPointer { r in
            order.withUnsafeMutableBufferPointer { o in WaterFilling.sortIndices(o, by: r) }
        }
        // The weight still to serve at each position, summed backwards (`ratio` is free
        // once sorted): subtracting served weights from a running total cancels
        // catastrophically when weights differ by orders of magnitude (1e6 beside 1e-5
        // overshot a 7-core node by 1.2e-5 cores, a fuzz finding).
        var acc = 0.0
        for k in stride(from: n - 1, through: 0, by: -1) {
            acc += weight[order[k]]
            ratio[k] = acc
        }
        var remaining = capacity
        for (k, i) in order.enumerated() {
            let weightLeft = ratio[k]
            let fair = remaining * weight[i] / weightLeft
            if cap[i] <= fair {
                share[i] = cap[i]
                remaining -= cap[i]
            } else {
                // Nobody after this one saturates: split the rest by weight.
                let level = remaining / weightLeft
                for j in order[k...] { share[j] = weight[j] * level }
                return
            }
        }
    }

    /// Sorts indices by (key, index) in place: insertion sort for the handful of busy
    /// containers a node usually has, the standard library's sort beyond. Neither
    /// allocates per call (measured: Benchmarks, "cluster: CFS water-filling").
    static func sortIndices(_ o: UnsafeMutableBufferPointer<Int>, by key: UnsafeBufferPointer<Double>) {
        @inline(__always) func less(_ a: Int, _ b: Int) -> Bool { key[a] < key[b] || (key[a] == key[b] && a < b) }
        let n = o.count
        if n <= 32 {
            for i in 1..<max(n, 1) {
                let x = o[i]
                var j = i
                while j > 0 && less(x, o[j - 1]) {
                    o[j] = o[j - 1]
                    j -= 1
                }
                o[j] = x
            }
            return
        }
        var all = o
        all.sort { less($0, $1) }
    }

    /// Convenience over arrays (tests, policies): returns the shares.
    public mutating func divide(capacity: Double, caps: [Double], weights: [Double]) -> [Double] {
        precondition(caps.count == weights.count)
        var out = [Double](repeating: 0, count: caps.count)
        caps.withUnsafeBufferPointer { c in
            weights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { s in divide(capacity: capacity, cap: c, weight: w, into: s) }
            }
        }
        return out
    }
}

import Foundation

/// Statistics of a sequence of arrival times (seconds, sorted), as `qoesim fit-arrivals`
/// judges a fitted process by them: the mean rate, the cv of inter-arrival times, the
/// index of dispersion of counts in windows of a given length, and the Kolmogorov-Smirnov
/// distance between two samples of inter-arrival times.
public enum ArrivalStatistics {
    /// Requests per second over `duration`.
    public static func rate(_ times: [Double], duration: Double) -> Double { Double(times.count) / duration }

    /// The gaps between consecutive arrivals.
    public static func gaps(_ times: [Double]) -> [Double] {
        guard times.count > 1 else { return [] }
        return (1..<times.count).map { times[$0] - times[$0 - 1] }
    }

    /// Sample SD / mean of the gaps (nil with fewer than 3 arrivals).
    public static func interArrivalCV(_ times: [Double]) -> Double? {
        let g = gaps(times)
        guard g.count > 1 else { return nil }
        let m = g.reduce(0, +) / Double(g.count)
        guard m > 0 else { return nil }
        let v = g.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(g.count - 1)
        return v.squareRoot() / m
    }

    /// Var / mean of the counts in the consecutive windows [k w, (k+1) w) that fit in
    /// [0, `duration`) (the sampling interval is `w`; there are floor(duration / w)
    /// windows). Nil with fewer than 2 windows or no arrivals.
    public static func indexOfDispersion(_ times: [Double], window w: Double, duration: Double) -> Double? {
        let n = Int(duration / w)
        guard n >= 2 else { return nil }
        var counts = [Double](repeating: 0, count: n)
        for t in times where t >= 0 {
            let k = Int(t / w)
            if k < n { counts[k] += 1 }
        }
        let m = counts.reduce(0, +) / Double(n)
        guard m > 0 else { return nil }
        let v = counts.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        return v / m
    }

    /// The two-sample Kolmogorov-Smirnov distance: the largest difference between the
    /// empirical distribution functions of `a` and `b`.
    public static func ksDistance(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 1 }
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        let n = Double(x.count), m = Double(y.count)
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / n - Double(j) / m))
        }
        return d
    }

    /// The two-sample KS distance above which equality is rejected at the 5% level
    /// (asymptotic: 1.358 x sqrt((n + m) / (n m))).
    public static func ksCritical95(_ n: Int, _ m: Int) -> Double {
        1.358 * (Double(n + m) / Double(n * m)).squareRoot()
    }
}

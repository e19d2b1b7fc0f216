import Foundation

/// Mean and 95% confidence interval of a sample (Student's t, two-sided).
public struct MeanCI: Sendable, Equatable, Codable {
    public var n: Int
    public var mean: Double
    /// Half-width of the 95% interval (0 for n < 2).
    public var halfWidth: Double

    public init(_ xs: [Double]) {
        n = xs.count
        mean = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
        guard xs.count >= 2 else {
            halfWidth = 0
            return
        }
        let m = mean
        let variance = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        halfWidth = MeanCI.t975(df: xs.count - 1) * (variance / Double(xs.count)).squareRoot()
    }

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }

    /// The 97.5% quantile of Student's t with `df` degrees of freedom.
    public static func t975(df: Int) -> Double {
        let table: [Double] = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ]
        if df >= 1 && df <= table.count { return table[df - 1] }
        // Large df: Cornish-Fisher expansion around the normal quantile.
        let z = 1.959963984540054, d = Double(df)
        return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d)
    }
}

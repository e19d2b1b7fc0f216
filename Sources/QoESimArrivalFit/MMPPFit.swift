import CGSL
import Foundation
import QoESimWorkload

/// An MMPP fitted to arrival times by EM (Baum-Welch) on the counts in bins of `bin`
/// seconds: a hidden Markov chain stepping once per bin, Poisson counts of mean mu_i in
/// state i. The discrete chain is read as a continuous one: state i's rate is mu_i / bin,
/// its mean dwell bin / (1 - a_ii) (a geometric number of bins) and its jumps
/// a_ij / (1 - a_ii). A state change inside a bin mixes two states' counts in it (with 1-s
/// bins a 5-s burst state comes out 21% long and BIC adds a state for the mixed bins;
/// `ArrivalFitTests`), and two changes inside one bin are not seen, so dwell times much
/// shorter than `bin` are not resolved: choose `bin` below the bursts' length.
///
/// The number of states is chosen by the Bayesian information criterion,
/// BIC = -2 log L + p log T, p = K rates + K (K - 1) transition probabilities, T bins:
/// the K of smallest BIC (K = 1 is a Poisson process).
public struct MMPPFit: Sendable {
    /// The fitted process (rates in requests per second).
    public let mmpp: MMPP
    /// Log-likelihood of the binned counts.
    public let logLikelihood: Double
    /// Free parameters: K + K (K - 1).
    public let parameters: Int
    /// Bins of the counts.
    public let bins: Int
    /// Bin width, seconds.
    public let bin: Double
    /// EM iterations run.
    public let iterations: Int
    /// -2 log L + parameters x log(bins).
    public var bic: Double { -2 * logLikelihood + Double(parameters) * log(Double(bins)) }

    /// Counts per bin of `bin` seconds over [0, duration).
    public static func counts(_ times: [Double], duration: Double, bin: Double) -> [Int] {
        let n = Int(duration / bin)
        var c = [Int](repeating: 0, count: n)
        for t in times where t >= 0 {
            let k = Int(t / bin)
            if k < n { c[k] += 1 }
        }
        return c
    }

    /// Fits K states to the counts (EM from a deterministic start: state means at the
    /// K quantiles of the counts, 0.9 on the diagonal). Nil when there are fewer bins than
    /// 10 x the parameters or no arrivals.
    public static func fit(counts y: [Int], bin: Double, states k: Int, maxIterations: Int = 500) -> MMPPFit? {
        let t = y.count
        let p = k + k * (k - 1)
        guard k >= 1, t >= 10 * p, y.contains(where: { $0 > 0 }) else { return nil }
        let sorted = y.sorted()
        var mu = (0..<k).map { i -> Double in
            let q = k == 1 ? 0.5 : (Double(i) + 0.5) / Double(k)
            return max(Double(sorted[min(t - 1, Int(q * Double(t)))]), 0.05) * (1 + 0.1 * Double(i))
        }
        if k == 1 { mu = [Double(y.reduce(0, +)) / Double(t)] }
        var a = (0..<k).map { i in (0..<k).map { j in k == 1 ? 1.0 : (i == j ? 0.9 : 0.1 / Double(k - 1)) } }
        var start = [Double](repeating: 1 / Double(k), count: k)
        let logFactorial = y.map { gsl_sf_lngamma(Double($0) + 1) }
        var ll = -Double.infinity
        var iterations = 0
        var alpha = [[Double]](repeating: [Double](repeating: 0, count: k), count: t)
        var beta = alpha
        var scale = [Double](repeating: 0, count: t)
        var emission = alpha
        for iteration in 1...maxIterations {
            iterations = iteration
            // Emissions, each row scaled by its largest term to avoid underflow.
            var rowShift = [Double](repeating: 0, count: t)
            for s in 0..<t {
                var logs = (0..<k).map { i in Double(y[s]) * log(mu[i]) - mu[i] - logFactorial[s] }
                let top = logs.max()!
                rowShift[s] = top
                for i in 0..<k { logs[i] = exp(logs[i] - top) }
                emission[s] = logs
            }
            // Forward.
            for s in 0..<t {
                for j in 0..<k {
                    var v = 0.0
                    if s == 0 { v = start[j] } else { for i in 0..<k { v += alpha[s - 1][i] * a[i][j] } }
                    alpha[s][j] = v * emission[s][j]
                }
                let c = alpha[s].reduce(0, +)
                scale[s] = c
                for j in 0..<k { alpha[s][j] /= c }
            }
            let newLL = (0..<t).reduce(0) { $0 + log(scale[$1]) + rowShift[$1] }
            // Backward.
            for i in 0..<k { beta[t - 1][i] = 1 }
            for s in stride(from: t - 2, through: 0, by: -1) {
                for i in 0..<k {
                    var v = 0.0
                    for j in 0..<k { v += a[i][j] * emission[s + 1][j] * beta[s + 1][j] }
                    beta[s][i] = v / scale[s + 1]
                }
            }
            // M step.
            var occupancy = [Double](repeating: 0, count: k)
            var occupancyBeforeLast = [Double](repeating: 0, count: k)
            var weighted = [Double](repeating: 0, count: k)
            var transitions = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            for s in 0..<t {
                for i in 0..<k {
                    let g = alpha[s][i] * beta[s][i]
                    occupancy[i] += g
                    weighted[i] += g * Double(y[s])
                    if s < t - 1 { occupancyBeforeLast[i] += g }
                }
                if s < t - 1 {
                    for i in 0..<k {
                        for j in 0..<k {
                            transitions[i][j] += alpha[s][i] * a[i][j] * emission[s + 1][j] * beta[s + 1][j] / scale[s + 1]
                        }
                    }
                }
            }
            for i in 0..<k {
                mu[i] = max(weighted[i] / max(occupancy[i], 1e-300), 1e-6)
                if k > 1 {
                    let row = transitions[i].reduce(0, +)
                    for j in 0..<k { a[i][j] = row > 0 ? transitions[i][j] / row : (i == j ? 0.9 : 0.1 / Double(k - 1)) }
                }
            }
            start = (0..<k).map { alpha[0][$0] * beta[0][$0] }
            let done = newLL - ll < 1e-7 * abs(newLL)
            ll = newLL
            if done { break }
        }
        // Continuous reading of the discrete chain; off-diagonal probabilities kept above
        // 1e-9 so the chain stays irreducible.
        var rates = mu.map { $0 / bin }
        var dwell = [Double](repeating: bin, count: k)
        var jumps = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        if k > 1 {
            for i in 0..<k {
                let off = (0..<k).filter { $0 != i }.map { max(a[i][$0], 1e-9) }
                let leave = off.reduce(0, +)
                dwell[i] = bin / min(max(leave, 1e-9), 1)
                var m = 0
                for j in 0..<k where j != i { jumps[i][j] = off[m] / leave; m += 1 }
            }
        } else {
            dwell = [bin]
            jumps = [[0]]
        }
        // States in increasing rate.
        let order = (0..<k).sorted { rates[$0] < rates[$1] }
        rates = order.map { rates[$0] }
        dwell = order.map { dwell[$0] }
        jumps = order.map { i in order.map { jumps[i][$0] } }
        guard let mmpp = try? MMPP(rates: rates, meanDwell: dwell, jumps: k == 1 ? nil : jumps) else { return nil }
        return MMPPFit(mmpp: mmpp, logLikelihood: ll, parameters: p, bins: t, bin: bin, iterations: iterations)
    }
}

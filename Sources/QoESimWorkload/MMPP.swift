import Foundation
import QoESimInput

/// A Markov-modulated Poisson process: a continuous-time Markov chain over `states`
/// hidden states; in state i requests arrive as a Poisson process at `rates[i]`, the
/// chain stays an exponential time of mean `meanDwell[i]` seconds, then jumps to state j
/// with probability `jumps[i][j]` (`jumps[i][i]` = 0).
///
/// Written as a parameters file (``parse(_:file:)``, ``csv``), one row per state:
/// ```
/// state,rate_rps,mean_dwell_s,jump_to
/// 0,2.5,40,0;1
/// 1,60,1.5,1;0
/// ```
/// `jump_to` lists the jump probabilities to every state in state order, separated by
/// `;` (its own entry 0); it may be empty with two states (the other state).
///
/// **Load.** A job's `rate_rps` (or `load`) is the process's mean rate: the schedule
/// scales every state rate by the same factor (``scaled(toMeanRate:)``) and keeps the
/// dwell times, so "load x k" multiplies each state's rate by k while bursts keep their
/// length and their share of time.
///
/// Invariants (checked by the reader, tested): rates >= 0 and not all 0, dwell >= 1 ms,
/// every row of `jumps` sums to 1 with a zero diagonal, and the chain is irreducible
/// (every state reaches every other), so its stationary distribution exists and is unique.
public struct MMPP: Sendable, Equatable {
    /// Arrival rate in each state, requests per second.
    public let rates: [Double]
    /// Mean time the chain stays in each state per visit, seconds.
    public let meanDwell: [Double]
    /// Jump probabilities of the embedded chain (rows sum to 1, zero diagonal).
    public let jumps: [[Double]]
    /// Long-run fraction of time in each state.
    public let stationary: [Double]

    /// Number of hidden states.
    public var states: Int { rates.count }

    /// The long-run mean arrival rate: the stationary average of the state rates.
    public var meanRate: Double { zip(stationary, rates).reduce(0) { $0 + $1.0 * $1.1 } }

    /// The infinitesimal generator Q: Q[i][j] = jumps[i][j] / meanDwell[i] off the
    /// diagonal, rows summing to 0.
    public var generator: [[Double]] {
        var q = [[Double]](repeating: [Double](repeating: 0, count: states), count: states)
        for i in 0..<states {
            for j in 0..<states { q[i][j] = i == j ? -1 / meanDwell[i] : jumps[i][j] / meanDwell[i] }
        }
        return q
    }

    /// A process from its parameters; throws a message (no file) when they break an
    /// invariant.
    public init(rates: [Double], meanDwell: [Double], jumps: [[Double]]? = nil) throws {
        let n = rates.count
        guard n >= 1 else { throw MMPPError("an MMPP needs at least one state") }
        guard meanDwell.count == n else { throw MMPPError("\(n) rates but \(meanDwell.count) dwell times") }
        guard rates.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw MMPPError("state rates must be finite and >= 0") }
        guard rates.contains(where: { $0 > 0 }) else { throw MMPPError("every state rate is 0: the process sends nothing") }
        guard meanDwell.allSatisfy({ $0.isFinite && $0 >= 1e-3 }) else {
            throw MMPPError("dwell times must be finite and >= 0.001 s (a shorter state is not a burst, and bounds the state changes per simulated second)")
        }
        let p: [[Double]]
        if let jumps {
            p = jumps
        } else if n == 2 {
            p = [[0, 1], [1, 0]]
        } else if n == 1 {
            p = [[1]]
        } else {
            throw MMPPError("jump probabilities are needed with \(n) states")
        }
        guard p.count == n, p.allSatisfy({ $0.count == n }) else { throw MMPPError("jump probabilities must be \(n) x \(n)") }
        if n > 1 {
            for i in 0..<n {
                guard p[i].allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw MMPPError("state \(i): jump probabilities must be >= 0") }
                guard p[i][i] == 0 else { throw MMPPError("state \(i): the jump probability to itself must be 0") }
                let s = p[i].reduce(0, +)
                guard abs(s - 1) <= 1e-6 else { throw MMPPError("state \(i): jump probabilities sum to \(s), not 1") }
            }
            // Irreducible: every state reaches every other through jumps of positive probability.
            for from in 0..<n {
                var seen = Set([from]), frontier = [from]
                while let i = frontier.popLast() {
                    for j in 0..<n where p[i][j] > 0 && !seen.contains(j) { seen.insert(j); frontier.append(j) }
                }
                guard seen.count == n else {
                    throw MMPPError("state \(from) never reaches state \((0..<n).first { !seen.contains($0) }!): the chain must be irreducible")
                }
            }
        }
        self.rates = rates
        self.meanDwell = meanDwell
        self.jumps = n == 1 ? [[0]] : p.map { row in let s = row.reduce(0, +); return row.map { $0 / s } }
        // pi_i is proportional to nu_i * dwell_i, nu the embedded chain's stationary law.
        let nu = n == 1 ? [1.0] : MMPP.stationaryOfJumpChain(self.jumps)
        let w = (0..<n).map { nu[$0] * meanDwell[$0] }
        let total = w.reduce(0, +)
        stationary = w.map { $0 / total }
    }

    /// The same chain with every state rate multiplied by `meanRate / self.meanRate`.
    public func scaled(toMeanRate target: Double) -> MMPP {
        let k = target / meanRate
        // The invariants hold for the scaled rates: it cannot throw.
        return try! MMPP(rates: rates.map { $0 * k }, meanDwell: meanDwell, jumps: jumps)
    }

    /// The index of dispersion of counts, Var N(t) / E N(t), of the stationary process in
    /// windows of `t` seconds: 1 for Poisson, growing with t towards its limit for a
    /// bursty MMPP. Var N(t) = m t + 2 pi L (t D - D^2 + e^{Qt} D^2) L 1, with L the
    /// diagonal of rates, m the mean rate and D = (1 pi - Q)^{-1} - 1 pi the deviation
    /// matrix (e.g. Fischer and Meier-Hellstern 1993).
    public func indexOfDispersion(window t: Double) -> Double {
        let n = states
        let m = meanRate
        guard n > 1, t > 0 else { return 1 }
        let q = generator
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = stationary[j] - q[i][j] } }
        var d = SmallMatrix.inverse(a)
        for i in 0..<n { for j in 0..<n { d[i][j] -= stationary[j] } }
        let d2 = SmallMatrix.product(d, d)
        let e = SmallMatrix.exponential(q.map { $0.map { $0 * t } })
        let ed2 = SmallMatrix.product(e, d2)
        var s = 0.0
        for i in 0..<n {
            for j in 0..<n {
                s += stationary[i] * rates[i] * (t * d[i][j] - d2[i][j] + ed2[i][j]) * rates[j]
            }
        }
        return 1 + 2 * s / (m * t)
    }

    static func stationaryOfJumpChain(_ p: [[Double]]) -> [Double] {
        // Solve nu (P - I) = 0 with sum nu = 1: the transposed system, one equation replaced.
        let n = p.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = p[j][i] - (i == j ? 1 : 0) } }
        a[n - 1] = [Double](repeating: 1, count: n)
        var b = [Double](repeating: 0, count: n)
        b[n - 1] = 1
        return SmallMatrix.solve(a, b)
    }

    // MARK: - The parameters file

    /// The parameters file's text (``parse(_:file:)`` reads it back exactly).
    public var csv: String {
        var s = "state,rate_rps,mean_dwell_s,jump_to\n"
        for i in 0..<states {
            s += "\(i),\(rates[i]),\(meanDwell[i]),\(jumps[i].map { "\($0)" }.joined(separator: ";"))\n"
        }
        return s
    }

    /// Reads a parameters file held in memory (`file` names it in errors).
    public static func parse(_ bytes: [UInt8], file: String) throws -> MMPP {
        let table = try CSVTable(path: file, bytes: TextFile.check(bytes, file: file))
        let col = try table.columnIndex(required: ["state", "rate_rps", "mean_dwell_s"], optional: ["jump_to"])
        guard !table.rows.isEmpty else { throw InputError(file: file, line: table.headerLine, "the MMPP has no states") }
        guard table.rows.count <= 64 else { throw InputError(file: file, line: table.rows[64].line, "an MMPP of at most 64 states") }
        var rates: [Double] = [], dwell: [Double] = [], jumps: [[Double]] = []
        let n = table.rows.count
        for (i, row) in table.rows.enumerated() {
            func ctx(_ c: String) -> FieldContext { FieldContext(file: file, line: row.line, column: c) }
            let state = try ctx("state").integer(row.fields[col["state"]!], minimum: 0)
            guard state == i else { throw ctx("state").error("states must be numbered 0, 1, 2, ... in order; expected \(i), got \(state)") }
            rates.append(try ctx("rate_rps").nonNegative(row.fields[col["rate_rps"]!]))
            dwell.append(try ctx("mean_dwell_s").positive(row.fields[col["mean_dwell_s"]!]))
            let text = col["jump_to"].map { row.fields[$0] } ?? ""
            if text.isEmpty {
                guard n <= 2 else { throw ctx("jump_to").error("jump probabilities are needed with \(n) states") }
                jumps.append((0..<n).map { $0 == i ? 0 : 1 })
            } else {
                let parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == n else { throw ctx("jump_to").error("needs \(n) probabilities separated by ';', got \(parts.count)") }
                jumps.append(try parts.map { try ctx("jump_to").nonNegative($0) })
            }
        }
        do {
            return try MMPP(rates: rates, meanDwell: dwell, jumps: jumps)
        } catch let e as MMPPError {
            throw InputError(file: file, line: table.headerLine, e.message)
        }
    }

    /// Reads a parameters file.
    public static func load(_ path: String) throws -> MMPP { try parse(TextFile.read(path), file: path) }
}

/// Parameters that break an invariant of ``MMPP``.
public struct MMPPError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, in words.
    public let message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Dense linear algebra for the few states of an MMPP (pure Swift: the `QoESim` product
/// stays free of GSL).
enum SmallMatrix {
    /// x with a x = b, Gaussian elimination with partial pivoting.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = b.count
        var m = a, x = b
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            m.swapAt(c, p); x.swapAt(c, p)
            let d = m[c][c]
            for r in (c + 1)..<max(c + 1, n) where m[r][c] != 0 {
                let f = m[r][c] / d
                for k in c..<n { m[r][k] -= f * m[c][k] }
                x[r] -= f * x[c]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = x[r]
            for k in (r + 1)..<max(r + 1, n) { s -= m[r][k] * x[k] }
            x[r] = s / m[r][r]
        }
        return x
    }

    static func inverse(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        let columns = (0..<n).map { j in solve(a, (0..<n).map { $0 == j ? 1.0 : 0.0 }) }
        return (0..<n).map { i in (0..<n).map { j in columns[j][i] } }
    }

    static func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let n = a.count, m = b[0].count, k = b.count
        return (0..<n).map { i in (0..<m).map { j in (0..<k).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// e^a by scaling and squaring of a Taylor series (a's norm scaled below 1/2).
    static func exponential(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        let norm = a.map { $0.reduce(0) { $0 + abs($1) } }.max() ?? 0
        var squarings = 0
        var scale = 1.0
        while norm * scale > 0.5 { scale /= 2; squarings += 1 }
        let s = a.map { $0.map { $0 * scale } }
        var result = (0..<n).map { i in (0..<n).map { j in i == j ? 1.0 : 0.0 } }
        var term = result
        for k in 1...18 {
            term = product(term, s).map { $0.map { $0 / Double(k) } }
            for i in 0..<n { for j in 0..<n { result[i][j] += term[i][j] } }
        }
        for _ in 0..<squarings { result = product(result, result) }
        return result
    }
}

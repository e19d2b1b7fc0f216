import Foundation
import QoESimInput
import QoESimLatency

/// The latency-model family to fit.
public enum FitFamily: String, Sendable, CaseIterable, Codable {
    case amdahl, power, gpu
}

/// One fitted parameter with its uncertainty.
public struct FittedParameter: Sendable, Equatable, Codable {
    public var name: String
    public var value: Double
    /// Standard error (from the covariance, scaled by the reduced chi-square).
    public var standardError: Double
    /// 95% confidence interval (Student's t with n - p degrees of freedom).
    public var ci95: [Double]
}

/// A fitted latency model with its statistics.
public struct FitResult: Sendable {
    public var family: FitFamily
    public var parameters: [FittedParameter]
    /// max_parallelism used (chosen from the data, or given).
    public var maxParallelism: Double
    /// Whether the data pinned max_parallelism down (saturation seen below the largest
    /// measured limit) or it was set to the largest measured limit for want of data.
    public var maxParallelismIdentified: Bool
    public var n: Int
    /// 1 - SSE / SST on latency in ms.
    public var r2: Double
    public var rmseMs: Double
    /// Mean absolute percentage error of the fit on its own data.
    public var mapePct: Double
    /// Per-request spread around the level means, as a lognormal cv.
    public var variabilityCV: Double

    /// The model as the simulator uses it.
    public var latencyModel: LatencyModel {
        func v(_ n: String) -> Double { parameters.first { $0.name == n }!.value }
        switch family {
        case .amdahl: return LatencyModel(family: .amdahl(serialMs: v("serial_ms"), parallelMs: v("parallel_ms")), maxParallelism: maxParallelism)
        case .power: return LatencyModel(family: .power(aMs: v("a_ms"), bMs: v("b_ms"), k: v("k")), maxParallelism: maxParallelism)
        case .gpu: return LatencyModel(family: .gpu(overheadMs: v("overhead_ms"), cpuMs: v("cpu_ms"), gpuMs: v("gpu_ms")), maxParallelism: maxParallelism)
        }
    }

    public var variability: Variability { variabilityCV > 1e-6 ? .lognormal(cv: variabilityCV) : .deterministic }

    /// Predicted latency (ms) of a row's configuration.
    public func predict(_ r: ProfileRow) -> Double { 1000 * latencyModel.latencySeconds(cpus: r.cpus, gpuFraction: r.gpuShare) }
}

/// Fits latency models to profiles with GSL.
///
/// - amdahl and gpu are linear in their parameters for a given max_parallelism m:
///   weighted linear least squares (`gsl_multifit_wlinear`), iteratively reweighted
///   with 1/prediction^2 so that relative errors count equally at every limit; m is
///   chosen among the measured limits (and "no saturation") by the smallest chi-square.
/// - power is nonlinear in k: trust-region least squares (`gsl_multifit_nlinear`),
///   started from the amdahl fit (k = 1); k is held at the model files' limit (10) when
///   the data drive it past, and m is the fewest measured cores at which the fitted
///   latency is within 2% of that at the largest limit.
public enum LatencyFitter {
    /// Fits one family. `maxParallelism` overrides the data-driven choice.
    public static func fit(_ rows: [ProfileRow], family: FitFamily, maxParallelism: Double? = nil) throws -> FitResult {
        guard rows.count >= 4 else { throw FitError("need at least 4 measurements, got \(rows.count)") }
        let y = rows.map(\.latencyMs)
        let w = y.map { 1 / ($0 * $0) }
        let levels = Array(Set(rows.map(\.cpus))).sorted()
        let result: FitResult
        switch family {
        case .amdahl, .gpu:
            if family == .gpu && Set(rows.map(\.gpuShare)).count < 2 {
                throw FitError("the gpu family needs measurements at two or more GPU shares")
            }
            guard levels.count >= 2 else { throw FitError("need measurements at two or more CPU limits") }
            // Candidate m: each measured limit, and "no saturation" (the largest limit).
            let candidates = maxParallelism.map { [$0] } ?? levels
            var best: (WeightedLinearFit, Double)? = nil
            for m in candidates {
                let design = rows.map { r -> [Double] in
                    let c = 1 / min(r.cpus, m)
                    // amdahl's serial part slows below one core (LatencyModel).
                    return family == .amdahl ? [1 / min(r.cpus, m, 1), c] : [1, c, 1 / r.gpuShare]
                }
                // Iteratively reweighted: weights 1/y^2 first, then 1/prediction^2 (weights
                // from the noisy observations themselves bias the fit low).
                guard var f = try? WeightedLinearFit(design: design, y: y, weights: w) else { continue }
                for _ in 0..<3 {
                    let pred = design.map { row in zip(row, f.coefficients).reduce(0) { $0 + $1.0 * $1.1 } }
                    guard pred.allSatisfy({ $0 > 0 }), let g = try? WeightedLinearFit(design: design, y: y, weights: pred.map { 1 / ($0 * $0) }) else { break }
                    f = g
                }
                // Prefer the larger m unless a smaller one fits clearly better (0.5%).
                if best == nil || f.chiSquare < best!.0.chiSquare * 0.995 || (f.chiSquare <= best!.0.chiSquare * 1.005 && m > best!.1) {
                    best = (f, m)
                }
            }
            guard let (unconstrained, m) = best else { throw FitError("linear fit failed (singular design?)") }
            let names = family == .amdahl ? ["serial_ms", "parallel_ms"] : ["overhead_ms", "cpu_ms", "gpu_ms"]
            // Latency terms cannot be negative: a negative estimate is refitted with that
            // term held at its bound, 0 (reported with standard error 0).
            var f = unconstrained
            var keep = Array(names.indices)
            while let bad = keep.first(where: { f.coefficients[keep.firstIndex(of: $0)!] < 0 }), keep.count > 1 {
                keep.removeAll { $0 == bad }
                let design = rows.map { r -> [Double] in
                    let c = 1 / min(r.cpus, m)
                    let all = family == .amdahl ? [1 / min(r.cpus, m, 1), c] : [1, c, 1 / r.gpuShare]
                    return keep.map { all[$0] }
                }
                f = try reweightedLinearFit(design: design, y: y, weights: w)
            }
            var coef = [Double](repeating: 0, count: names.count)
            var cov = [[Double]](repeating: [Double](repeating: 0, count: names.count), count: names.count)
            for (a, i) in keep.enumerated() {
                coef[i] = f.coefficients[a]
                for (b, j) in keep.enumerated() { cov[i][j] = f.covariance[a][b] }
            }
            result = FitResult(
                family: family, parameters: parameters(names, coef, cov, n: rows.count),
                maxParallelism: m, maxParallelismIdentified: maxParallelism != nil || m < levels.last!, n: rows.count,
                r2: 0, rmseMs: 0, mapePct: 0, variabilityCV: 0)
        case .power:
            let start = try fit(rows, family: .amdahl, maxParallelism: maxParallelism ?? .infinity)
            // As for amdahl: without a given bound, the model is not trusted beyond the
            // largest measured limit (no extrapolation of the speed-up).
            let m = maxParallelism ?? levels.last!
            let problem = NonlinearFit.Problem(
                x: rows.map { min($0.cpus, m) }, y: y, weights: w,
                value: { c, t in t[0] / min(c, 1) + t[1] * pow(c, -t[2]) },
                gradient: { c, t in [1 / min(c, 1), pow(c, -t[2]), -t[1] * pow(c, -t[2]) * log(c)] })
            let s0 = max(start.parameters[0].value, 1e-3), p0 = max(start.parameters[1].value, 1e-3)
            var f = try NonlinearFit(problem, start: [s0, p0, 1])
            for _ in 0..<3 {
                let t = f.coefficients
                let pred = problem.x.map { t[0] / min($0, 1) + t[1] * pow($0, -t[2]) }
                guard pred.allSatisfy({ $0 > 0 }) else { break }
                var reweighted = problem
                reweighted.weights = pred.map { 1 / ($0 * $0) }
                f = try NonlinearFit(reweighted, start: t)
            }
            var coef = f.coefficients, cov = f.covariance
            if coef[0] < 0 {
                // a < 0 is unphysical (latency would turn negative with more cores): refit
                // b c^-k with a held at 0.
                var two = problem
                two.value = { c, t in t[0] * pow(c, -t[1]) }
                two.gradient = { c, t in [pow(c, -t[1]), -t[0] * pow(c, -t[1]) * log(c)] }
                var g = try NonlinearFit(two, start: [max(coef[1], 1e-3), max(coef[2], 0.1)])
                for _ in 0..<3 {
                    let t = g.coefficients
                    two.weights = problem.x.map { 1 / pow(t[0] * pow($0, -t[1]), 2) }
                    g = try NonlinearFit(two, start: t)
                }
                coef = [0, g.coefficients[0], g.coefficients[1]]
                cov = [[0, 0, 0], [0, g.covariance[0][0], g.covariance[0][1]], [0, g.covariance[1][0], g.covariance[1][1]]]
            }
            if coef[2] > powerExponentLimit, coef[1] > 0 {
                // Latency that stops falling at one core (a single-threaded workload) drives k
                // past what model files accept (InputLimits: a model the simulator would
                // refuse). Refit a and b with k held at that bound (standard error 0), as
                // amdahl holds a negative term at 0.
                (coef, cov) = try powerFit(problem, k: powerExponentLimit, y: y, weights: w)
            }
            if coef[1] <= 0, coef[0] > 0 {
                // Latency that does not fall past one core (a single thread; at two cores a
                // little slower than at one) drives b below 0, which is unphysical as a < 0 is:
                // refit a alone with b held at 0 (then k has no effect; it is written as 1,
                // standard error 0), as amdahl holds a negative term at 0.
                (coef, cov) = try quotaOnlyFit(problem, y: y, weights: w)
            }
            guard coef[0] + coef[1] > 0, coef[1] >= 0, coef[2] > 0 else {
                throw FitError("power fit gave b < 0 or k <= 0: latency does not fall with more CPU")
            }
            // Saturation from the data: the fewest measured cores past which the fitted
            // latency falls by less than `saturationGain` (a single-threaded workload: one
            // core). The simulator gives a container no more than this, as Docker's CPU
            // scheduler cannot make its threads use more.
            var power = FitResult(
                family: .power, parameters: parameters(["a_ms", "b_ms", "k"], coef, cov, n: rows.count),
                maxParallelism: m, maxParallelismIdentified: maxParallelism != nil, n: rows.count,
                r2: 0, rmseMs: 0, mapePct: 0, variabilityCV: 0)
            if maxParallelism == nil {
                let model = power.latencyModel
                if let saturation = levels.first(where: { model.latencySeconds(cpus: $0) <= model.latencySeconds(cpus: m) * (1 + saturationGain) }), saturation < m {
                    power.maxParallelism = saturation
                    power.maxParallelismIdentified = true
                }
            }
            result = power
        }
        return withStatistics(result, rows)
    }

    /// The power fit's saturation rule: past the fewest measured cores at which the fitted
    /// latency is within this fraction (2%) of the latency at the largest measured limit,
    /// more CPU is taken to buy nothing (`max_parallelism`).
    static let saturationGain = 0.02

    /// The cores a container can take when nothing limits it: the mean over the idle-spin
    /// profile's back-to-back runs (alone, no limit, no gap) of each run's CPU seconds over
    /// the seconds its requests took; at least 1 (a main thread can always use a core) and
    /// at most `largestLimit` (no extrapolation). A single-threaded workload measures about
    /// 1; one whose idle worker threads spin between products measures up to its thread
    /// count, because the spinning takes CPU that a neighbour then lacks. The simulator
    /// gives a container no more than this (`max_parallelism`).
    public static func demandCap(backToBackCores cores: [Double], largestLimit: Double) -> Double? {
        guard !cores.isEmpty else { return nil }
        return min(largestLimit, max(1, cores.reduce(0, +) / Double(cores.count)))
    }

    /// The largest exponent a model file may carry (``InputLimits``' `k`): the power fit
    /// holds k there rather than write a model the reader refuses.
    static let powerExponentLimit = InputLimits.byName["k"]!.range.upperBound

    /// The power family's a and b by weighted linear least squares (GSL) with k fixed:
    /// `a / min(c, 1) + b c^-k`, reweighted by 1/prediction^2 like the other fits; k's
    /// variance is reported as 0 (held at a bound).
    static func powerFit(_ problem: NonlinearFit.Problem, k: Double, y: [Double], weights: [Double]) throws -> ([Double], [[Double]]) {
        let f = try reweightedLinearFit(design: problem.x.map { c in [1 / min(c, 1), pow(c, -k)] }, y: y, weights: weights)
        let c = f.coefficients, v = f.covariance
        return ([c[0], c[1], k], [[v[0][0], v[0][1], 0], [v[1][0], v[1][1], 0], [0, 0, 0]])
    }

    /// Weighted linear least squares (GSL) on `design`, then refitted up to three times with
    /// weights 1/prediction^2 (stopping where a prediction is not positive): the reweighting
    /// every linear fit here uses.
    static func reweightedLinearFit(design: [[Double]], y: [Double], weights: [Double]) throws -> WeightedLinearFit {
        var f = try WeightedLinearFit(design: design, y: y, weights: weights)
        for _ in 0..<3 {
            let pred = design.map { row in zip(row, f.coefficients).reduce(0) { $0 + $1.0 * $1.1 } }
            guard pred.allSatisfy({ $0 > 0 }) else { break }
            f = try WeightedLinearFit(design: design, y: y, weights: pred.map { 1 / ($0 * $0) })
        }
        return f
    }

    /// The power family with b held at 0: `a / min(c, 1)` by weighted linear least squares
    /// (GSL), reweighted by 1/prediction^2 like the other fits; b and k are reported with
    /// variance 0 (k = 1, which has no effect with b = 0).
    static func quotaOnlyFit(_ problem: NonlinearFit.Problem, y: [Double], weights: [Double]) throws -> ([Double], [[Double]]) {
        let f = try reweightedLinearFit(design: problem.x.map { c in [1 / min(c, 1)] }, y: y, weights: weights)
        return ([f.coefficients[0], 0, 1], [[f.covariance[0][0], 0, 0], [0, 0, 0], [0, 0, 0]])
    }

    /// Fills R^2, RMSE, MAPE and the per-request spread of `result` on `rows`.
    static func withStatistics(_ fitted: FitResult, _ rows: [ProfileRow]) -> FitResult {
        var result = fitted
        let y = rows.map(\.latencyMs)
        let pred = rows.map { result.predict($0) }
        let mean = y.reduce(0, +) / Double(y.count)
        let sse = zip(y, pred).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let sst = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        result.r2 = sst > 0 ? 1 - sse / sst : 1
        result.rmseMs = (sse / Double(y.count)).squareRoot()
        result.mapePct = 100 * zip(y, pred).reduce(0) { $0 + abs($1.0 - $1.1) / $1.0 } / Double(y.count)
        result.variabilityCV = spread(rows)
        return result
    }

    static func parameters(_ names: [String], _ c: [Double], _ cov: [[Double]], n: Int) -> [FittedParameter] {
        let t = tQuantile(0.975, df: n - names.count)
        return names.enumerated().map { i, name in
            let se = max(cov[i][i], 0).squareRoot()
            return FittedParameter(name: name, value: c[i], standardError: se, ci95: [c[i] - t * se, c[i] + t * se])
        }
    }

    /// Lognormal cv of the per-request spread around each configuration's mean:
    /// sigma^2 = pooled variance of log(y / level mean), cv = sqrt(exp(sigma^2) - 1).
    public static func spread(_ rows: [ProfileRow]) -> Double {
        var groups: [String: [Double]] = [:]
        for r in rows { groups["\(r.cpus)|\(r.gpuShare)|\(r.batch)", default: []].append(r.latencyMs) }
        var ss = 0.0, dof = 0
        for key in groups.keys.sorted() {
            let g = groups[key]!
            guard g.count >= 2 else { continue }
            let logs = g.map { log($0) }
            let m = logs.reduce(0, +) / Double(logs.count)
            ss += logs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            dof += g.count - 1
        }
        guard dof > 0 else { return 0 }
        return (exp(ss / Double(dof)) - 1).squareRoot()
    }

    /// Mean held-out MAPE over k folds (row i is in fold i mod k): deterministic.
    public static func crossValidate(_ rows: [ProfileRow], family: FitFamily, folds k: Int = 5, maxParallelism: Double? = nil) -> Double? {
        var errors: [Double] = []
        for fold in 0..<k {
            let train = rows.enumerated().filter { $0.offset % k != fold }.map(\.element)
            let test = rows.enumerated().filter { $0.offset % k == fold }.map(\.element)
            guard !test.isEmpty, let f = try? fit(train, family: family, maxParallelism: maxParallelism) else { return nil }
            errors.append(100 * test.reduce(0) { $0 + abs($1.latencyMs - f.predict($1)) / $1.latencyMs } / Double(test.count))
        }
        return errors.reduce(0, +) / Double(errors.count)
    }

    /// Fits every applicable family and keeps the one with the lowest held-out MAPE.
    public static func auto(_ rows: [ProfileRow], folds: Int = 5, maxParallelism: Double? = nil) throws -> (FitResult, [FitFamily: Double]) {
        var scores: [FitFamily: Double] = [:]
        let families: [FitFamily] = Set(rows.map(\.gpuShare)).count >= 2 ? [.gpu] : [.amdahl, .power]
        for f in families { scores[f] = crossValidate(rows, family: f, folds: folds, maxParallelism: maxParallelism) }
        guard let best = families.filter({ scores[$0] != nil }).min(by: { scores[$0]! < scores[$1]! }) else {
            throw FitError("no family could be fitted")
        }
        return (try fit(rows, family: best, maxParallelism: maxParallelism), scores)
    }

    /// The model file the simulator loads, with the fit statistics under "fit".
    /// Fits ``ModelSpec/sharedLatency``: the latency when the CPU is set by contention
    /// rather than by a quota. Uses the rows of containers co-located without a limit
    /// (`colocated` > 1, no `limit`; their `cpus` is the share each got). Alone on the
    /// machine a container is not short of CPU, so these rows are the whole domain
    /// of the curve (the simulator uses it only while contention holds a container below
    /// its cap). Returns nil when the profile has no such rows.
    ///
    /// The shares of a co-located profile are all at most one core on small machines,
    /// where the power family's serial and parallel terms cannot be told apart, so the
    /// curve is `b c^-k` (power family with a = 0), fitted by GSL as a straight line of
    /// log latency on log share. `maxParallelism` bounds it like the quota curve.
    public static func fitShared(_ rows: [ProfileRow], maxParallelism: Double = .infinity) throws -> FitResult? {
        let colocated = rows.filter { $0.colocated > 1 && $0.limit == nil }
        guard !colocated.isEmpty else { return nil }
        guard Set(colocated.map(\.cpus)).count >= 2 else { throw FitError("the shared-cores curve needs co-located rows at two or more shares") }
        let f = try WeightedLinearFit(
            design: colocated.map { [1, -log($0.cpus)] }, y: colocated.map { log($0.latencyMs) },
            weights: Array(repeating: 1, count: colocated.count))
        let b = exp(f.coefficients[0]), k = f.coefficients[1]
        guard k > 0 else { throw FitError("shared-cores fit gave k = \(k) <= 0: latency does not fall with a larger share") }
        // b's standard error by the delta method (b = exp(log b)).
        let cov = [[0, 0, 0], [0, b * b * f.covariance[0][0], b * f.covariance[0][1]], [0, b * f.covariance[1][0], f.covariance[1][1]]]
        let result = FitResult(
            family: .power, parameters: parameters(["a_ms", "b_ms", "k"], [0, b, k], cov, n: colocated.count),
            maxParallelism: maxParallelism, maxParallelismIdentified: false, n: colocated.count, r2: 0, rmseMs: 0, mapePct: 0,
            variabilityCV: 0)
        return withStatistics(result, colocated)
    }

    /// The rows measured alone and back to back (the data of `latency`).
    public static func soloRows(_ rows: [ProfileRow]) -> [ProfileRow] { rows.filter { $0.colocated == 1 && $0.gapMs == 0 } }

    /// A cold-start factor fitted by GSL (weighted least squares through the origin of the
    /// requests measured after an idle gap against `warm`'s prediction at their limit).
    public struct ColdStartFit: Sendable {
        public var factor: Double
        public var standardError: Double
        public var ci95: [Double]
        public var n: Int
        /// The idle gap the requests were measured after, ms.
        public var gapMs: Double
    }

    /// Fits the cold-start factor from rows measured alone after an idle gap (`gap_ms` > 0).
    /// Returns nil when there are fewer than 2 such rows.
    public static func fitColdStart(_ rows: [ProfileRow], warm: FitResult) throws -> ColdStartFit? {
        let cold = rows.filter { $0.colocated == 1 && $0.gapMs > 0 }
        guard cold.count >= 2 else { return nil }
        let pred = cold.map { warm.latencyModel.latencySeconds(cpus: $0.cpus) * 1000 }
        let f = try WeightedLinearFit(design: pred.map { [$0] }, y: cold.map(\.latencyMs), weights: pred.map { 1 / ($0 * $0) })
        let se = f.covariance[0][0].squareRoot(), t = tQuantile(0.975, df: cold.count - 1)
        return ColdStartFit(
            factor: f.coefficients[0], standardError: se, ci95: [f.coefficients[0] - t * se, f.coefficients[0] + t * se], n: cold.count,
            gapMs: cold.map(\.gapMs).min()!)
    }

    /// The idle spin (``IdleSpin``) fitted from CPU time measured alone without a limit.
    public struct IdleSpinFit: Sendable {
        /// Seconds of polling after each request (the mean extra CPU per request over
        /// `cores`; 0 when the mean is not above 0).
        public var seconds: Double
        /// Cores the polling threads use (OpenBLAS's threads less the calling one).
        public var cores: Double
        /// The mean extra CPU-seconds per request after an idle gap over back to back, its
        /// standard error and 95% interval (t, n - 1 degrees of freedom).
        public var extraCPUSeconds: Double
        public var standardError: Double
        public var ci95: [Double]
        /// Pairs of runs (back to back, after the gap) the fit is made of.
        public var n: Int
        /// The idle gap before each request of the second run of a pair, ms.
        public var gapMs: Double
    }

    /// Fits the idle spin from pairs of runs of one container alone without a limit: CPU
    /// seconds per request back to back (`backToBack[i]`: its threads never wait long for
    /// the next product) and with `gapMs` idle before each request (`afterGap[i]`, a gap
    /// longer than the spin: each request's polling runs to its end). The extra CPU per
    /// request is the polling's, on `cores` cores. Least squares through GSL (the mean
    /// of the paired differences, its standard error from their spread).
    public static func fitIdleSpin(backToBack: [Double], afterGap: [Double], cores: Double, gapMs: Double) throws -> IdleSpinFit {
        guard backToBack.count == afterGap.count, backToBack.count >= 2 else {
            throw FitError("the idle spin needs at least 2 pairs of runs (got \(backToBack.count) and \(afterGap.count))")
        }
        guard cores > 0 else { throw FitError("the idle spin needs the polling threads' cores > 0 (got \(cores))") }
        let d = zip(afterGap, backToBack).map { $0 - $1 }
        let f = try WeightedLinearFit(design: d.map { _ in [1] }, y: d, weights: d.map { _ in 1 })
        let mean = f.coefficients[0], se = f.covariance[0][0].squareRoot(), t = tQuantile(0.975, df: d.count - 1)
        return IdleSpinFit(
            seconds: max(0, mean) / cores, cores: cores, extraCPUSeconds: mean, standardError: se, ci95: [mean - t * se, mean + t * se],
            n: d.count, gapMs: gapMs)
    }

    /// The polling's CPU weight (``IdleSpin/weight``) fitted from how much CPU it gets
    /// beside a busy container.
    public struct SpinWeightFit: Sendable {
        /// The weight (0.001 ... 1) that gives the mean share.
        public var weight: Double
        /// Its 95% interval (the share's interval carried through the same function).
        public var ci95: [Double]
        /// The mean share: polling CPU beside one busy container over polling CPU alone.
        public var share: Double
        /// Its standard error and 95% interval (t, n - 1 degrees of freedom).
        public var shareStandardError: Double
        public var shareCI95: [Double]
        /// Repeats the fit is made of.
        public var n: Int
    }

    /// The weight with which CFS water-filling gives a spinner on `cores` cores the
    /// fraction `share` of its CPU alone, beside one busy container that could use all
    /// `nodeCores` cores (equal container weights): `share x cores = nodeCores x w / (1 + w)`,
    /// so `w = share x cores / (nodeCores - share x cores)`, held to [0.001, 1] (a share
    /// at or above the full-weight one: 1).
    public static func spinWeight(share: Double, cores: Double, nodeCores: Double) -> Double {
        let polled = share * cores
        guard polled < nodeCores else { return 1 }
        return min(1, max(1e-3, polled / (nodeCores - polled)))
    }

    /// Fits the polling's weight from repeats of (polling CPU per request alone,
    /// polling CPU per request beside one busy container): the mean ratio by least squares
    /// through GSL (intercept only), its interval from the spread, and the weight
    /// ``spinWeight(share:cores:nodeCores:)`` that gives it.
    public static func fitSpinWeight(alone: [Double], besideBusy: [Double], cores: Double, nodeCores: Double) throws -> SpinWeightFit {
        guard alone.count == besideBusy.count, alone.count >= 2 else {
            throw FitError("the spin weight needs at least 2 repeats (got \(alone.count) and \(besideBusy.count))")
        }
        guard alone.allSatisfy({ $0 > 0 }) else {
            throw FitError("the spin weight needs polling CPU alone > 0 in every repeat (got \(alone)): nothing polls to compare")
        }
        guard cores > 0, nodeCores > 0 else { throw FitError("the spin weight needs cores > 0 (got \(cores), node \(nodeCores))") }
        let r = zip(besideBusy, alone).map { $0 / $1 }
        let f = try WeightedLinearFit(design: r.map { _ in [1] }, y: r, weights: r.map { _ in 1 })
        let mean = f.coefficients[0], se = f.covariance[0][0].squareRoot(), t = tQuantile(0.975, df: r.count - 1)
        let lo = max(0, mean - t * se), hi = mean + t * se
        return SpinWeightFit(
            weight: spinWeight(share: max(0, mean), cores: cores, nodeCores: nodeCores),
            ci95: [spinWeight(share: lo, cores: cores, nodeCores: nodeCores), spinWeight(share: hi, cores: cores, nodeCores: nodeCores)],
            share: mean, shareStandardError: se, shareCI95: [mean - t * se, mean + t * se], n: r.count)
    }

    /// The model file of a fit (``ModelFile``): the curve, the variability, the parts
    /// given, and their statistics.
    public static func modelFile(
        _ r: FitResult, name: String, source: String, crossValidation: [FitFamily: Double] = [:], shared: FitResult? = nil,
        coldStart: ColdStartFit? = nil, idleSpin: IdleSpinFit? = nil, spinWeight: SpinWeightFit? = nil
    ) -> ModelFile {
        func latency(_ r: FitResult) -> ModelFile.Latency {
            ModelFile.Latency(r.latencyModel)
        }
        func interval(_ v: [Double]) -> JSONValue { .array(v.map { .number($0) }) }
        func fitStats(_ r: FitResult, cv: [FitFamily: Double]) -> JSONValue {
            var parameters: [String: JSONValue] = [:]
            for p in r.parameters {
                parameters[p.name] = .object(["value": .number(p.value), "se": .number(p.standardError), "ci95": interval(p.ci95)])
            }
            return .object([
                "n": .number(Double(r.n)), "r2": .number(r.r2), "rmse_ms": .number(r.rmseMs), "mape_pct": .number(r.mapePct),
                "max_parallelism_identified": .bool(r.maxParallelismIdentified),
                "cv_mape_pct": .object(Dictionary(uniqueKeysWithValues: cv.map { ($0.key.rawValue, JSONValue.number($0.value)) })),
                "parameters": .object(parameters),
            ])
        }
        var file = ModelFile(
            name: name, latency: latency(r),
            variability: ModelFile.Variability(r.variabilityCV > 1e-6 ? .lognormal(cv: r.variabilityCV) : .deterministic), source: source)
        file.statistics["fit"] = fitStats(r, cv: crossValidation)
        if let shared {
            file.latencyShared = latency(shared)
            file.statistics["fit_shared"] = fitStats(shared, cv: [:])
        }
        if let c = coldStart {
            // A container is taken as cold after half the measured gap (an assumption, ours:
            // only one gap is measured).
            file.coldStart = ModelFile.ColdStartPart(factor: c.factor, afterMs: c.gapMs / 2)
            file.statistics["fit_cold_start"] = .object([
                "n": .number(Double(c.n)), "gap_ms": .number(c.gapMs), "se": .number(c.standardError), "ci95": interval(c.ci95),
            ])
        }
        if let spin = idleSpin {
            file.idleSpin = ModelFile.IdleSpinPart(seconds: spin.seconds, cores: spin.cores, weight: spinWeight?.weight)
            var stats: [String: JSONValue] = [
                "n": .number(Double(spin.n)), "gap_ms": .number(spin.gapMs), "extra_cpu_s_per_request": .number(spin.extraCPUSeconds),
                "se": .number(spin.standardError), "ci95": interval(spin.ci95),
            ]
            if let w = spinWeight {
                stats["weight"] = .object([
                    "n": .number(Double(w.n)), "share": .number(w.share), "share_se": .number(w.shareStandardError),
                    "share_ci95": interval(w.shareCI95), "ci95": interval(w.ci95),
                ])
            }
            file.statistics["fit_idle_spin"] = .object(stats)
        }
        return file
    }

    /// The text of ``modelFile(_:name:source:crossValidation:shared:coldStart:idleSpin:spinWeight:)``.
    public static func modelJSON(
        _ r: FitResult, name: String, source: String, crossValidation: [FitFamily: Double] = [:], shared: FitResult? = nil,
        coldStart: ColdStartFit? = nil, idleSpin: IdleSpinFit? = nil, spinWeight: SpinWeightFit? = nil
    ) -> String {
        modelFile(r, name: name, source: source, crossValidation: crossValidation, shared: shared, coldStart: coldStart, idleSpin: idleSpin, spinWeight: spinWeight).json
    }
}

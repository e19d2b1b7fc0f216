import CGSL

/// GSL's default error handler prints and calls abort(): turned off, once, before the
/// first GSL call of this module, so that every failure comes back as a status that is
/// checked and thrown (a `FitError`), never a trap.
/// GSL's default error handler aborts the process (an index out of range, a domain
/// error): it is turned off before the first GSL call of this module (every entry point
/// evaluates ``off``), and every status GSL returns is checked and thrown as a
/// ``FitError``.
public enum GSLErrors {
    /// Turns GSL's aborting error handler off (once per process).
    public static let off: Void = { _ = gsl_set_error_handler_off() }()
}

/// Weighted linear least squares through GSL (`gsl_multifit_wlinear`): minimizes
/// sum w_i (y_i - x_i . c)^2. Returns coefficients, their covariance scaled by the
/// reduced chi-square (so standard errors reflect the observed scatter), and chi^2.
struct WeightedLinearFit {
    var coefficients: [Double]
    var covariance: [[Double]]
    var chiSquare: Double

    init(design: [[Double]], y: [Double], weights: [Double]) throws {
        GSLErrors.off
        let n = y.count, p = design.first?.count ?? 0
        guard n > p, p > 0 else { throw FitError("need more measurements (\(n)) than parameters (\(p))") }
        let X = gsl_matrix_alloc(n, p)!, yv = gsl_vector_alloc(n)!, wv = gsl_vector_alloc(n)!
        let c = gsl_vector_alloc(p)!, cov = gsl_matrix_alloc(p, p)!
        let work = gsl_multifit_linear_alloc(n, p)!
        defer {
            gsl_matrix_free(X); gsl_vector_free(yv); gsl_vector_free(wv); gsl_vector_free(c); gsl_matrix_free(cov)
            gsl_multifit_linear_free(work)
        }
        for i in 0..<n {
            for j in 0..<p { gsl_matrix_set(X, i, j, design[i][j]) }
            gsl_vector_set(yv, i, y[i])
            gsl_vector_set(wv, i, weights[i])
        }
        var chisq = 0.0
        let status = gsl_multifit_wlinear(X, wv, yv, c, cov, &chisq, work)
        guard status == GSL_SUCCESS else { throw FitError("GSL linear fit failed: \(String(cString: gsl_strerror(status)))") }
        let scale = chisq / Double(n - p)
        coefficients = (0..<p).map { gsl_vector_get(c, $0) }
        covariance = (0..<p).map { i in (0..<p).map { j in gsl_matrix_get(cov, i, j) * scale } }
        chiSquare = chisq
    }
}

/// A fitting problem that cannot be solved as posed.
public struct FitError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Student's t quantile through GSL.
func tQuantile(_ p: Double, df: Int) -> Double {
    GSLErrors.off
    return gsl_cdf_tdist_Pinv(p, Double(max(df, 1)))
}

/// Student's t distribution through GSL (`gsl_cdf_tdist_Pinv`).
public enum StudentT {
    /// The `p` quantile with `df` degrees of freedom (df >= 1).
    public static func quantile(_ p: Double, df: Int) -> Double { tQuantile(p, df: df) }
}

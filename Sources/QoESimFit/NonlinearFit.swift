import CGSL
import Foundation

/// Weighted nonlinear least squares through GSL's trust-region solver
/// (`gsl_multifit_nlinear`, Levenberg-Marquardt steps) for models
/// `y = model(x, parameters)` with an analytic Jacobian.
struct NonlinearFit {
    var coefficients: [Double]
    var covariance: [[Double]]
    var chiSquare: Double
    var iterations: Int

    /// The model and its gradient with respect to the parameters at one point.
    struct Problem {
        var x: [Double]
        var y: [Double]
        var weights: [Double]
        var value: (Double, [Double]) -> Double
        var gradient: (Double, [Double]) -> [Double]
    }

    final class Box {
        let problem: Problem
        init(_ p: Problem) { problem = p }
    }

    init(_ problem: Problem, start: [Double]) throws {
        GSLErrors.off
        let n = problem.y.count, p = start.count
        guard n > p else { throw FitError("need more measurements (\(n)) than parameters (\(p))") }
        let box = Unmanaged.passRetained(Box(problem))
        defer { box.release() }
        // Residuals f_i = y_model - y_i (GSL applies the weights itself in winit).
        let f: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { xv, params, fv in
            let pr = Unmanaged<Box>.fromOpaque(params!).takeUnretainedValue().problem
            let theta = (0..<Int(xv!.pointee.size)).map { gsl_vector_get(xv, $0) }
            for i in 0..<pr.y.count { gsl_vector_set(fv, i, pr.value(pr.x[i], theta) - pr.y[i]) }
            return Int32(GSL_SUCCESS)
        }
        let df: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_matrix>?) -> Int32 = { xv, params, J in
            let pr = Unmanaged<Box>.fromOpaque(params!).takeUnretainedValue().problem
            let theta = (0..<Int(xv!.pointee.size)).map { gsl_vector_get(xv, $0) }
            for i in 0..<pr.y.count {
                for (j, g) in pr.gradient(pr.x[i], theta).enumerated() { gsl_matrix_set(J, i, j, g) }
            }
            return Int32(GSL_SUCCESS)
        }
        var fdf = gsl_multifit_nlinear_fdf()
        fdf.f = f
        fdf.df = df
        fdf.fvv = nil
        fdf.n = n
        fdf.p = p
        fdf.params = box.toOpaque()
        var params = gsl_multifit_nlinear_default_parameters()
        let work = gsl_multifit_nlinear_alloc(qoesim_nlinear_trust(), &params, n, p)!
        let x0 = gsl_vector_alloc(p)!, wv = gsl_vector_alloc(n)!, cov = gsl_matrix_alloc(p, p)!
        defer {
            gsl_multifit_nlinear_free(work); gsl_vector_free(x0); gsl_vector_free(wv); gsl_matrix_free(cov)
        }
        for (j, v) in start.enumerated() { gsl_vector_set(x0, j, v) }
        for i in 0..<n { gsl_vector_set(wv, i, problem.weights[i]) }
        let started = gsl_multifit_nlinear_winit(x0, wv, &fdf, work)
        guard started == GSL_SUCCESS else { throw FitError("GSL nonlinear fit could not start: \(String(cString: gsl_strerror(started)))") }
        var info: Int32 = 0
        let status = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 1e-10, nil, nil, &info, work)
        guard status == GSL_SUCCESS || status == GSL_EMAXITER else {
            throw FitError("GSL nonlinear fit failed: \(String(cString: gsl_strerror(status)))")
        }
        let J = gsl_multifit_nlinear_jac(work)
        let covarStatus = gsl_multifit_nlinear_covar(J, 0, cov)
        guard covarStatus == GSL_SUCCESS else { throw FitError("GSL covariance of the fit failed: \(String(cString: gsl_strerror(covarStatus)))") }
        let resid = gsl_multifit_nlinear_residual(work)!
        var chisq = 0.0
        for i in 0..<n { chisq += pow(gsl_vector_get(resid, i), 2) }
        let scale = chisq / Double(n - p)
        let solution = gsl_multifit_nlinear_position(work)!
        coefficients = (0..<p).map { gsl_vector_get(solution, $0) }
        covariance = (0..<p).map { i in (0..<p).map { j in gsl_matrix_get(cov, i, j) * scale } }
        chiSquare = chisq
        iterations = Int(gsl_multifit_nlinear_niter(work))
    }
}

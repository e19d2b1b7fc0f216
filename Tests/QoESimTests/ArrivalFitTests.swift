import Foundation
import QoESim
import QoESimArrivalFit
import XCTest

/// Fits of arrival processes recover the processes that generated their data, choose
/// the number of MMPP states that made it, and judge a fit on the held-out half.
final class ArrivalFitTests: XCTestCase {
    func testGammaMaximumLikelihoodRecoversItsShape() throws {
        for cv in [0.5, 2.0, 6.0] {
            // Gaps drawn directly (times of a process at cv 6 lose gaps below their ulp).
            var stream = RandomStream(seed: 2, key: "g", purpose: .arrivals)
            let k = 1 / (cv * cv)
            let gaps = (0..<40_000).map { _ in stream.nextGamma(shape: k, scale: 0.25 / k) }
            let fit = try XCTUnwrap(GammaRenewalFit.fit(gaps: gaps))
            // 40,000 gaps: the shape's ML standard error is about 1% at these shapes.
            XCTAssertEqual(fit.shape, k, accuracy: 0.05 * k, "cv \(cv): shape")
            XCTAssertEqual(fit.rate, 4, accuracy: 0.04 * cv, "cv \(cv): rate")
            XCTAssertEqual(fit.zeroGaps, 0)
        }
        XCTAssertNil(GammaRenewalFit.fit(gaps: [1, 1, 1]), "equal gaps have no Gamma fit")
    }

    func testEMRecoversATwoStateMMPPAndBICChoosesTwoStates() throws {
        let truth = try MMPP(rates: [1, 20], meanDwell: [30, 5])
        let duration = 10_000.0
        let t = ArrivalSchedule.times(of: .mmpp(truth, file: "t.csv"), rate: truth.meanRate, duration: duration, seed: 5, key: "m")
        // Bins of 0.1 s, 2% of the shorter dwell: a state change inside a bin mixes two
        // states' counts in it (with 1-s bins here BIC adds a third state for those bins
        // and the burst's dwell comes out 21% long).
        let counts = MMPPFit.counts(t, duration: duration, bin: 0.1)
        let fits = (1...3).compactMap { MMPPFit.fit(counts: counts, bin: 0.1, states: $0) }
        XCTAssertEqual(fits.count, 3)
        let chosen = fits.min { $0.bic < $1.bic }!
        XCTAssertEqual(chosen.mmpp.states, 2, "BIC: \(fits.map(\.bic))")
        let m = fits[1].mmpp
        // About 285 visits to each state (dwell SE about 6%): rates within 10%, dwell
        // times within 20%.
        XCTAssertEqual(m.rates[0], 1, accuracy: 0.1)
        XCTAssertEqual(m.rates[1], 20, accuracy: 2)
        XCTAssertEqual(m.meanDwell[0], 30, accuracy: 6)
        XCTAssertEqual(m.meanDwell[1], 5, accuracy: 1)
        XCTAssertEqual(m.meanRate, Double(t.count) / duration, accuracy: 0.02 * m.meanRate, "EM keeps the counts' mean")
        // Poisson data: one state.
        let p = ArrivalSchedule.times(of: .poisson, rate: 5, duration: duration, seed: 5, key: "p")
        let pc = MMPPFit.counts(p, duration: duration, bin: 0.1)
        let pf = (1...3).compactMap { MMPPFit.fit(counts: pc, bin: 0.1, states: $0) }
        XCTAssertEqual(pf.min { $0.bic < $1.bic }!.mmpp.states, 1, "BIC on Poisson counts: \(pf.map(\.bic))")
    }

    func testHeldOutJudgementTellsBurstsFromPoisson() throws {
        let truth = try MMPP(rates: [0.5, 15], meanDwell: [40, 4])
        let duration = 8_000.0
        let t = ArrivalSchedule.times(of: .mmpp(truth, file: "t.csv"), rate: truth.meanRate, duration: duration, seed: 9, key: "h")
        let r = try ArrivalFitter.fit(times: t, duration: duration, replicates: 20)
        XCTAssertEqual(r.trainingRequests + r.heldOutRequests, t.count)
        XCTAssertEqual(r.chosen.mmpp.states, 2)
        // The fitted MMPP's IDC(10 s) near the held-out trace's; Poisson's range far below.
        let idc = try XCTUnwrap(r.statistics.first { $0.name == "idc_10s" })
        let trace = try XCTUnwrap(idc.trace)
        XCTAssertGreaterThan(trace, 5)
        XCTAssertEqual(idc.models["mmpp"]!.median, trace, accuracy: 0.3 * trace, "MMPP \(idc.models["mmpp"]!)")
        XCTAssertFalse(idc.models["poisson"]!.reproduces, "Poisson: \(idc.models["poisson"]!)")
        XCTAssertLessThan(idc.models["poisson"]!.high, 2)
        // Same trace, same fit, same judgement.
        let again = try ArrivalFitter.fit(times: t, duration: duration, replicates: 20)
        XCTAssertEqual(again.chosen.mmpp, r.chosen.mmpp)
        XCTAssertEqual(again.statistics.map { $0.models["gamma"]!.median }, r.statistics.map { $0.models["gamma"]!.median })
    }

    func testStatisticsOnSmallCases() {
        XCTAssertEqual(ArrivalStatistics.gaps([1, 3, 6]), [2, 3])
        XCTAssertEqual(ArrivalStatistics.indexOfDispersion([0.5, 1.5, 1.6, 3.2], window: 1, duration: 4)!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ArrivalStatistics.ksDistance([1, 2, 3], [1, 2, 3]), 0)
        XCTAssertEqual(ArrivalStatistics.ksDistance([1, 2], [3, 4]), 1)
        XCTAssertEqual(ArrivalStatistics.ksDistance([1, 2, 3, 4], [3, 4]), 0.5)
    }
}

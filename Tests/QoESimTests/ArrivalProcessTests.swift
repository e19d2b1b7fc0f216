import Foundation
import QoESim
import XCTest

/// The drawn arrival processes against their theory: mean rate, cv of inter-arrival
/// times, MMPP state occupancy and index of dispersion of counts, time-varying rates per
/// piece and per phase. Tolerances are stated as multiples of each estimate's standard
/// error at the sample sizes used (several hundred thousand arrivals per check).
final class ArrivalProcessTests: XCTestCase {
    /// The arrival times of one job of `process` at mean `rate` over `duration` seconds,
    /// drawn by the schedule the simulator and the live load generator share.
    static func arrivals(
        _ process: ArrivalProcess, rate: Double, duration: Double, seed: UInt64 = 7, id: String = "j",
        states: UnsafeMutablePointer<[Int]>? = nil
    ) -> [Double] {
        let job = Fixture.job(id, Fixture.model(parallelMs: 1), rate: rate, duration: duration, arrivals: process)
        var s = ArrivalSchedule(job: job, seed: seed)
        s.begin(at: 0)
        var out: [Double] = []
        while let a = s.next() {
            out.append(a.time)
            if let states, let h = s.hiddenState { states.pointee.append(h) }
        }
        return out
    }

    static func gaps(_ t: [Double]) -> [Double] { zip(t.dropFirst(), t).map { $0 - $1 } }

    static func cv(_ x: [Double]) -> Double {
        let m = x.reduce(0, +) / Double(x.count)
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
        return v.squareRoot() / m
    }

    /// Var / mean of the counts in consecutive windows of `w` seconds over [0, duration).
    static func idc(_ t: [Double], window w: Double, duration: Double) -> Double {
        let n = Int(duration / w)
        var counts = [Double](repeating: 0, count: n)
        for x in t { let k = Int(x / w); if k < n { counts[k] += 1 } }
        let m = counts.reduce(0, +) / Double(n)
        let v = counts.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        return v / m
    }

    func testGammaAndWeibullRenewalsHaveTheirRateAndCV() {
        let rate = 10.0, duration = 40_000.0
        for cv in [0.5, 3.0] {
            let t = Self.arrivals(.gamma(cv: cv), rate: rate, duration: duration)
            // Rate: relative SE cv / sqrt(n) (0.5% at cv 3); cv: relative SE below 1% here.
            XCTAssertEqual(Double(t.count) / duration, rate, accuracy: rate * 0.03, "gamma cv \(cv): mean rate")
            XCTAssertEqual(Self.cv(Self.gaps(t)), cv, accuracy: cv * 0.05, "gamma cv \(cv): inter-arrival cv")
            // A renewal process's index of dispersion tends to cv^2 in long windows.
            XCTAssertEqual(Self.idc(t, window: 100, duration: duration), cv * cv, accuracy: cv * cv * 0.2, "gamma cv \(cv): IDC(100 s)")
        }
        for shape in [0.6, 2.0] {
            let t = Self.arrivals(.weibull(shape: shape), rate: rate, duration: duration)
            let theory = (tgamma(1 + 2 / shape) / pow(tgamma(1 + 1 / shape), 2) - 1).squareRoot()
            XCTAssertEqual(Double(t.count) / duration, rate, accuracy: rate * 0.03, "weibull k \(shape): mean rate")
            XCTAssertEqual(Self.cv(Self.gaps(t)), theory, accuracy: theory * 0.05, "weibull k \(shape): cv (theory \(theory))")
        }
        // cv 1 and shape 1 are Poisson.
        XCTAssertEqual(Self.cv(Self.gaps(Self.arrivals(.gamma(cv: 1), rate: rate, duration: 20_000))), 1, accuracy: 0.03)
        XCTAssertEqual(Self.cv(Self.gaps(Self.arrivals(.weibull(shape: 1), rate: rate, duration: 20_000))), 1, accuracy: 0.03)
    }

    /// The two-state closed form of the index of dispersion (Heffes and Lucantoni 1986).
    static func twoStateIDC(_ l1: Double, _ l2: Double, leave1 r1: Double, leave2 r2: Double, _ t: Double) -> Double {
        let s = r1 + r2
        let mean = (l1 * r2 + l2 * r1) / s
        return 1 + 2 * (l1 - l2) * (l1 - l2) * r1 * r2 / (s * s * s * mean) * (1 - (1 - exp(-s * t)) / (s * t))
    }

    func testMMPPMatchesItsTheory() throws {
        let m = try MMPP(rates: [2, 40], meanDwell: [20, 2])
        // Stationary law and mean rate in closed form: pi = (20, 2) / 22.
        XCTAssertEqual(m.stationary[0], 20.0 / 22, accuracy: 1e-12)
        XCTAssertEqual(m.meanRate, (2 * 20 + 40 * 2) / 22.0, accuracy: 1e-12)
        // The general formula against the two-state closed form.
        for w in [0.1, 1, 10, 60, 1000] {
            XCTAssertEqual(m.indexOfDispersion(window: w), Self.twoStateIDC(2, 40, leave1: 0.05, leave2: 0.5, w), accuracy: 1e-7 * Self.twoStateIDC(2, 40, leave1: 0.05, leave2: 0.5, w))
        }
        let duration = 100_000.0
        var states: [Int] = []
        let t = Self.arrivals(.mmpp(m, file: "m.csv"), rate: m.meanRate, duration: duration, states: &states)
        XCTAssertEqual(Double(t.count) / duration, m.meanRate, accuracy: m.meanRate * 0.03, "MMPP mean rate")
        // Occupancy as seen by arrivals (Palm): pi_i lambda_i / mean rate.
        let seenInBurst = Double(states.filter { $0 == 1 }.count) / Double(states.count)
        XCTAssertEqual(seenInBurst, m.stationary[1] * 40 / m.meanRate, accuracy: 0.03, "arrivals seen in the burst state")
        // Index of dispersion of counts at 1, 10 and 60 s: counts in about 10^5, 10^4 and
        // 1,666 windows; relative SE of the variance about 1%, 3% and 5%.
        for (w, tolerance) in [(1.0, 0.06), (10.0, 0.12), (60.0, 0.2)] {
            let theory = m.indexOfDispersion(window: w)
            XCTAssertEqual(Self.idc(t, window: w, duration: duration), theory, accuracy: theory * tolerance, "MMPP IDC(\(w) s), theory \(theory)")
        }
    }

    func testThreeStateMMPPOccupancyAndDispersion() throws {
        let jumps = [[0, 0.7, 0.3], [0.5, 0, 0.5], [0.9, 0.1, 0]]
        // Equal rates: the process is Poisson (IDC 1) and arrivals see the time-stationary law.
        let flat = try MMPP(rates: [5, 5, 5], meanDwell: [4, 1, 0.5], jumps: jumps)
        XCTAssertEqual(flat.indexOfDispersion(window: 10), 1, accuracy: 1e-9)
        var states: [Int] = []
        let duration = 60_000.0
        _ = Self.arrivals(.mmpp(flat, file: "f.csv"), rate: 5, duration: duration, states: &states)
        for i in 0..<3 {
            let seen = Double(states.filter { $0 == i }.count) / Double(states.count)
            XCTAssertEqual(seen, flat.stationary[i], accuracy: 0.02, "state \(i) occupancy \(seen) vs pi \(flat.stationary[i])")
        }
        // pi Q = 0 and sums to 1.
        let q = flat.generator
        for j in 0..<3 { XCTAssertEqual((0..<3).reduce(0) { $0 + flat.stationary[$1] * q[$1][j] }, 0, accuracy: 1e-12) }
        XCTAssertEqual(flat.stationary.reduce(0, +), 1, accuracy: 1e-12)
        // Distinct rates: counts against the general formula.
        let bursty = try MMPP(rates: [1, 20, 80], meanDwell: [4, 1, 0.5], jumps: jumps)
        let t = Self.arrivals(.mmpp(bursty, file: "b.csv"), rate: bursty.meanRate, duration: duration, seed: 11)
        for (w, tolerance) in [(1.0, 0.06), (10.0, 0.15)] {
            let theory = bursty.indexOfDispersion(window: w)
            XCTAssertGreaterThan(theory, 2)
            XCTAssertEqual(Self.idc(t, window: w, duration: duration), theory, accuracy: theory * tolerance, "3-state IDC(\(w) s), theory \(theory)")
        }
    }

    func testLoadScalesStateRatesAndKeepsDwellTimes() throws {
        let m = try MMPP(rates: [2, 40], meanDwell: [20, 2])
        let doubled = m.scaled(toMeanRate: 2 * m.meanRate)
        XCTAssertEqual(doubled.rates[0], 4, accuracy: 1e-12)
        XCTAssertEqual(doubled.rates[1], 80, accuracy: 1e-12)
        XCTAssertEqual(doubled.meanDwell, m.meanDwell)
        XCTAssertEqual(doubled.stationary, m.stationary)
        // A job at twice the rate sends twice the requests; the index of dispersion grows
        // with the rate (k x the excess) while the bursts keep their length.
        let one = Self.arrivals(.mmpp(m, file: "m.csv"), rate: m.meanRate, duration: 50_000)
        let two = Self.arrivals(.mmpp(m, file: "m.csv"), rate: 2 * m.meanRate, duration: 50_000)
        XCTAssertEqual(Double(two.count) / Double(one.count), 2, accuracy: 0.1)
        XCTAssertEqual(doubled.indexOfDispersion(window: 10) - 1, 2 * (m.indexOfDispersion(window: 10) - 1), accuracy: 1e-6)
        // Scenario.scaled(load:) multiplies every drawn process's mean rate.
        let job = Fixture.job("g", Fixture.model(parallelMs: 1), rate: 3, duration: 10, arrivals: .gamma(cv: 2))
        let scenario = Scenario(cluster: Fixture.cluster(1, cpus: 1), jobs: [job])
        XCTAssertEqual(scenario.scaled(load: 2).jobs[0].rate, 6)
    }

    func testTimeVaryingRatesFollowTheirProfile() {
        let rate = 20.0
        let pieces = RateProfile.piecewise(starts: [0, 100, 250], multipliers: [1, 0, 3], file: "p.csv")
        let t = Self.arrivals(.varying(pieces), rate: rate, duration: 400)
        let counts = [t.filter { $0 < 100 }.count, t.filter { $0 >= 100 && $0 < 250 }.count, t.filter { $0 >= 250 }.count]
        // Poisson counts: expected 2000, 0 and 9000; 4 SE tolerance.
        XCTAssertEqual(Double(counts[0]), 2000, accuracy: 4 * 2000.0.squareRoot())
        XCTAssertEqual(counts[1], 0)
        XCTAssertEqual(Double(counts[2]), 9000, accuracy: 4 * 9000.0.squareRoot())
        XCTAssertEqual(pieces.integral(to: 400), 100 + 450)
        let wave = RateProfile.sinusoid(amplitude: 0.8, period: 60, phase: 0)
        let duration = 6000.0
        let s = Self.arrivals(.varying(wave), rate: rate, duration: duration)
        // Mean rate over whole periods, and the counts in each quarter of the period
        // against the integral of the rate over it.
        XCTAssertEqual(Double(s.count), rate * duration, accuracy: 4 * (rate * duration).squareRoot())
        for q in 0..<4 {
            let a = Double(q) * 15, b = a + 15
            let expected = rate * (wave.integral(to: b) - wave.integral(to: a)) * duration / 60
            let n = Double(s.filter { let x = $0.truncatingRemainder(dividingBy: 60); return x >= a && x < b }.count)
            XCTAssertEqual(n, expected, accuracy: 4 * expected.squareRoot(), "quarter \(q)")
        }
    }

    func testSameSeedSameArrivalsAndJobsDoNotShareStreams() throws {
        let m = try MMPP(rates: [1, 30], meanDwell: [10, 1])
        for p in [ArrivalProcess.gamma(cv: 4), .weibull(shape: 0.5), .mmpp(m, file: "m.csv"), .varying(.sinusoid(amplitude: 0.5, period: 10, phase: 2))] {
            let a = Self.arrivals(p, rate: 5, duration: 500)
            XCTAssertEqual(a, Self.arrivals(p, rate: 5, duration: 500), "\(p.name): same seed, same times")
            XCTAssertNotEqual(a, Self.arrivals(p, rate: 5, duration: 500, id: "k"), "\(p.name): another job draws other times")
            XCTAssertTrue(zip(a, a.dropFirst()).allSatisfy { $0 <= $1 } && (a.last ?? 0) < 500, "\(p.name): in order, inside the window")
        }
    }

    func testJobTraceReadsEveryProcessAndRefusesBadParameters() throws {
        let dir = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mmppText = "state,rate_rps,mean_dwell_s,jump_to\n0,1,30,\n1,50,2,\n"
        try mmppText.write(toFile: dir + "/bursts.csv", atomically: true, encoding: .utf8)
        try "start_s,multiplier\n0,1\n60,2.5\n".write(toFile: dir + "/day.csv", atomically: true, encoding: .utf8)
        let catalog = ModelCatalog([Fixture.model("m", parallelMs: 10)])
        let good = """
        job_id,model,arrival_s,duration_s,rate_rps,target_ms,arrivals
        a,m,0,100,5,50,gamma cv=4
        b,m,0,100,5,50,weibull shape=0.7
        c,m,0,100,,50,mmpp file=bursts.csv
        d,m,0,100,8,50,mmpp file=bursts.csv
        e,m,0,100,5,50,sinusoid amplitude=0.5 period_s=30
        f,m,0,100,5,50,piecewise file=day.csv
        g,m,0,100,5,50,poisson
        """
        let path = dir + "/jobs.csv"
        let jobs = try JobTrace.parse(Array(good.utf8), file: path, models: catalog, nodeNames: ["n0"])
        XCTAssertEqual(jobs.map(\.arrivals.name), ["gamma", "weibull", "mmpp", "mmpp", "sinusoid", "piecewise", "poisson"])
        let m = try MMPP.parse(Array(mmppText.utf8), file: "x")
        XCTAssertEqual(jobs[2].rate, m.meanRate, accuracy: 1e-12, "an empty rate is the file's mean rate")
        XCTAssertEqual(jobs[3].rate, 8)
        XCTAssertEqual(jobs[4].arrivals.text, "sinusoid amplitude=0.5 period_s=30.0 phase_s=0.0")
        // The text form reads back to the same process; the parameters file to the same MMPP.
        var cache: [String: ArrivalProcess] = [:]
        let ctx = FieldContext(file: path, line: 2, column: "arrivals")
        for j in jobs {
            XCTAssertEqual(try ArrivalProcess.parse(j.arrivals.text, context: ctx, relativeTo: dir, cache: &cache), j.arrivals)
        }
        XCTAssertEqual(try MMPP.parse(Array(m.csv.utf8), file: "y"), m)

        func refusal(_ arrivals: String, rate: String = "5") -> String {
            let text = "job_id,model,arrival_s,duration_s,rate_rps,target_ms,arrivals\na,m,0,100,\(rate),50,\(arrivals)\n"
            do {
                _ = try JobTrace.parse(Array(text.utf8), file: path, models: catalog, nodeNames: ["n0"])
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal("gamma"), "\(path):2: arrivals: gamma needs cv=...")
        XCTAssertEqual(refusal("gamma cv=-1"), "\(path):2: arrivals.gamma_cv: -1 is beyond the limit: gamma_cv must be at least 0.01 (cv of Gamma inter-arrival times; 100 is a shape of 1e-4; Docs/LIMITS.md)")
        XCTAssertEqual(refusal("weibull shape=0"), "\(path):2: arrivals.weibull_shape: 0 is beyond the limit: weibull_shape must be at least 0.05 (below 0.05 the Weibull mean overflows Gamma(1 + 2/k); Docs/LIMITS.md)")
        XCTAssertTrue(refusal("gamma cv=1000").hasPrefix("\(path):2: arrivals.gamma_cv: 1000 is beyond the limit"), refusal("gamma cv=1000"))
        XCTAssertEqual(refusal("gamma cv=2 shape=3"), "\(path):2: arrivals: gamma has no parameter 'shape'")
        XCTAssertEqual(refusal("sinusoid amplitude=1.5 period_s=10"), "\(path):2: arrivals.sinusoid_amplitude: 1.5 is beyond the limit: sinusoid_amplitude must be at most 1 (a rate never below 0; Docs/LIMITS.md)")
        XCTAssertEqual(refusal("burst"), "\(path):2: arrivals: 'burst' is not one of poisson, closed, trace, gamma, weibull, mmpp, sinusoid, piecewise")
        XCTAssertEqual(refusal("gamma cv=2", rate: ""), "\(path):2: rate_rps: value is missing (give rate_rps or load: the mean rate of gamma arrivals)")
        XCTAssertTrue(refusal("mmpp file=missing.csv").contains("missing.csv"), refusal("mmpp file=missing.csv"))
        // Errors inside a parameters file name that file and its line.
        try "state,rate_rps,mean_dwell_s,jump_to\n0,1,30,0;0.5;0.5\n1,2,1,0.5;0;0.5\n2,3,1,0;0;0\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal("mmpp file=bad.csv"), "\(dir)/bad.csv:1: state 2: jump probabilities sum to 0.0, not 1")
        try "state,rate_rps,mean_dwell_s,jump_to\n0,1,30,0;1;0\n1,2,1,1;0;0\n2,3,1,1;0;0\n".write(toFile: dir + "/reducible.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal("mmpp file=reducible.csv"), "\(dir)/reducible.csv:1: state 0 never reaches state 2: the chain must be irreducible")
        try "state,rate_rps,mean_dwell_s\n0,1,-3\n1,2,1\n".write(toFile: dir + "/neg.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal("mmpp file=neg.csv"), "\(dir)/neg.csv:2: mean_dwell_s: -3 is beyond the limit: mean_dwell_s must be at least 0.001 s (a state under a millisecond is not a burst; bounds state changes per simulated second; Docs/LIMITS.md)")
        try "start_s,multiplier\n5,1\n".write(toFile: dir + "/late.csv", atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal("piecewise file=late.csv"), "\(dir)/late.csv:2: start_s: the first piece must start at 0, got 5.0")
    }

    func testDrawnArrivalsRunThroughTheSimulation() throws {
        // A server at 10% utilisation per process: every drawn request is served, none lost.
        let model = Fixture.model(parallelMs: 10)
        let m = try MMPP(rates: [2, 30], meanDwell: [20, 2])
        let processes: [ArrivalProcess] = [.gamma(cv: 3), .weibull(shape: 0.7), .mmpp(m, file: "m.csv"), .varying(.sinusoid(amplitude: 0.9, period: 50, phase: 0))]
        let jobs = processes.enumerated().map { Fixture.job("j\($0.offset)", model, rate: 5, duration: 2000, arrivals: $0.element, cpus: 1) }
        let result = try Simulation(cluster: Fixture.cluster(1, cpus: 8), jobs: jobs, policy: StaticPolicy()).run(seed: 3)
        for (k, p) in processes.enumerated() {
            let drawn = Self.arrivals(p, rate: 5, duration: 2000, seed: 3, id: "j\(k)")
            XCTAssertEqual(result.models[k].requests + result.models[k].unfinished, drawn.count, "\(p.name): the simulation serves exactly the schedule's arrivals")
        }
    }
}

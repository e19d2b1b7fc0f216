import Foundation
import Testing
import QoESim
import QoESimExperiments
import QoESimValidation

/// Validation's statistics: the simulation against the mean of the live
/// repeats and its standard error, the bias from paired requests (open loop) or service
/// times (closed loop), the satisfied majority and the goal, on numbers chosen so that
/// every answer is known in closed form.
@Suite("Fidelity summary")
struct FidelitySummaryTests {
    static func result(_ id: String, target: Double, mean: Double, satisfied: Bool) -> ModelResult {
        ModelResult(
            id: id, model: "m", node: "n", targetMs: target, metric: .mean, requests: 2, unfinished: 0, meanMs: mean, p50Ms: mean,
            p95Ms: 1.5 * mean, p99Ms: 2 * mean, measuredMs: mean, satisfied: satisfied, pendingS: 0, cpuSeconds: 1)
    }

    /// Job a: open loop, target 100 ms; job b: closed loop, target 200 ms.
    static let jobs = [
        Fixture.job("a", FidelityModelTests.model(), duration: 10, target: 100),
        Fixture.job("b", FidelityModelTests.model(), duration: 10, target: 200, arrivals: .closed),
    ]

    /// Repeat k: live means a = liveA[k], b = liveB[k]; the simulation 118 and 240 ms.
    /// Requests: a's second request 10% slower in the simulation; b's service 200 ms live, 210 simulated.
    static func repeats(liveA: [Double], liveB: [Double], satisfiedA: [Bool]) -> (reports: [ValidationReport], requests: [(live: [[[Double]]], sim: [[[Double]]])]) {
        var reports: [ValidationReport] = [], requests: [(live: [[[Double]]], sim: [[[Double]]])] = []
        for k in liveA.indices {
            let liveRequests: [[[Double]]] = [[[0, 0, 0.1], [1, 1, 1.1]], [[0, 0, 0.2], [0.2, 0.2, 0.4]]]
            let simRequests: [[[Double]]] = [[[0, 0, 0.1], [1, 1, 1.11]], [[0, 0, 0.21]]]
            let live = RecordedLiveRun(
                models: [result("a", target: 100, mean: liveA[k], satisfied: satisfiedA[k]), result("b", target: 200, mean: liveB[k], satisfied: false)],
                satisfied: satisfiedA[k] ? 1 : 0, dockerUpdateMedianMs: 2, failures: [], requests: liveRequests)
            let sim = SimulationResult(
                policy: "fair-share", seed: 1,
                models: [result("a", target: 100, mean: 118, satisfied: true), result("b", target: 200, mean: 240, satisfied: k == 0)],
                events: 1, simulatedSeconds: 10, neverPlaced: 0)
            reports.append(ValidationReport.compare(live: live, sim: sim, simRequests: RequestLog(requests: simRequests), jobs: jobs, policy: "fair-share"))
            requests.append((liveRequests, simRequests))
        }
        return (reports, requests)
    }

    @Test("Error against the live mean in standard errors; bias from pairs and service times; satisfied by majority; the goal's misses named")
    func closedForm() throws {
        let (reports, requests) = Self.repeats(liveA: [100, 110, 120], liveB: [200, 200, 230], satisfiedA: [true, true, false])
        let harness = [
            HarnessUse(wallSeconds: 10, qoesimCPUSeconds: 0.2, engineOwnCPUSeconds: 0.1, machineBusySeconds: 15, containersCPUSeconds: 14.5), nil,
            HarnessUse(wallSeconds: 10, qoesimCPUSeconds: 0.4, engineOwnCPUSeconds: nil, machineBusySeconds: 15, containersCPUSeconds: 14.9),
        ]
        let f = FidelitySummary(reports: reports, requests: requests, jobs: Self.jobs, harness: harness)
        #expect(f.repeats == 3)
        let a = try #require(f.models.first { $0.id == "a" }), b = try #require(f.models.first { $0.id == "b" })
        // a: live 110 ± 10/sqrt(3); sim 118: +7.27%, +1.39 SE, within 2 SE.
        let am = try #require(a.mean)
        #expect(abs(am.live - 110) < 1e-9 && abs(am.liveSE! - 10 / 3.0.squareRoot()) < 1e-9 && am.sim == 118)
        #expect(abs(am.errorPct - 800 / 110.0) < 1e-9 && abs(am.errorSE! - 8 / (10 / 3.0.squareRoot())) < 1e-9 && am.withinLimit == true)
        // p95 is 1.5x the mean on both sides: the same error, 1.5x the SE.
        #expect(abs(a.p95!.errorPct - am.errorPct) < 1e-9 && abs(a.p95!.liveSE! - 1.5 * am.liveSE!) < 1e-9)
        // b: live 210 ± sqrt(300)/sqrt(3) = 10; sim 240: +3.0 SE, outside.
        let bm = try #require(b.mean)
        #expect(abs(bm.liveSE! - 10) < 1e-9 && abs(bm.errorSE! - 3) < 1e-9 && bm.withinLimit == false)
        // a's bias: pairs +0% and +10% in each of 3 repeats: median 5%, p10 0, p90 10.
        let ab = try #require(a.bias)
        #expect(!a.closedLoop && ab.of == "paired response time" && ab.pairs == 6)
        #expect(abs(ab.pct - 5) < 1e-9 && abs(ab.percentiles![0]) < 1e-9 && abs(ab.percentiles![2] - 10) < 1e-9 && !ab.withinLimit)
        // b's bias: mean service 200 ms live, 210 simulated: +5%.
        #expect(b.closedLoop && b.bias?.of == "mean service time" && abs(b.bias!.pct - 5) < 1e-9)
        #expect(abs(b.liveServiceMs! - 200) < 1e-9 && abs(b.simServiceMs! - 210) < 1e-9)
        #expect(abs(f.closedLoopBias!.pct - 5) < 1e-9 && abs(f.openLoopBias!.pct - 5) < 1e-9)
        // Overall: per repeat the mean of latency/target: live 1.0, 1.05, 1.175; sim 1.19.
        let o = try #require(f.overallMean)
        #expect(abs(o.live - 1.075) < 1e-9 && abs(o.sim - 1.19) < 1e-9)
        // Satisfied: a live in 2 of 3 (a majority), sim 3 of 3; b live 0, sim 1 (no majority).
        #expect(a.liveSatisfied == 2 && a.simSatisfied == 3 && b.simSatisfied == 1)
        #expect(f.satisfiedLiveMajority == 1 && f.satisfiedSimMajority == 1)
        // The harness: the two measured runs; the engine's own CPU only where both measured it;
        // outside the containers (0.5 + 0.1) / 2 s over 10 s.
        let h = try #require(f.harness)
        #expect(h.runs == 2 && abs(h.qoesimCores - 0.03) < 1e-12 && h.engineOwnCores == nil && abs(h.machineBusyCores! - 1.5) < 1e-12)
        #expect(abs(h.outsideContainersCores! - 0.03) < 1e-12)
        // The goal: missed, by b's mean and p95 and both biases; a's mean is not named.
        #expect(f.goalMet == false)
        #expect(f.goalMisses.contains("b: mean error +14.3% (+3.0 SE)"), "\(f.goalMisses)")
        #expect(f.goalMisses.contains { $0.hasPrefix("a: bias +5.0%") } && f.goalMisses.contains { $0.hasPrefix("b: bias +5.0%") })
        #expect(!f.goalMisses.contains { $0.hasPrefix("a: mean") } && !f.goalMisses.contains { $0.hasPrefix("satisfied") })
        #expect(f.table.contains("goal (") && f.table.contains("missed by"))
    }

    @Test("One repeat has no standard error: the goal is not judged; a simulation on the live mean with no bias meets it")
    func judged() throws {
        let one = Self.repeats(liveA: [118], liveB: [240], satisfiedA: [true])
        let f = FidelitySummary(reports: one.reports, requests: one.requests, jobs: Self.jobs)
        #expect(f.goalMet == nil && f.models[0].mean?.liveSE == nil && f.models[0].mean?.withinLimit == nil)
        #expect(f.table.contains("not judged"))
        // Three repeats around the simulation's values, the same requests on both sides.
        var three = Self.repeats(liveA: [116, 118, 120], liveB: [236, 240, 244], satisfiedA: [true, true, true])
        three.requests = three.requests.map { ($0.live, $0.live) }
        let g = FidelitySummary(reports: three.reports, requests: three.requests, jobs: Self.jobs)
        // b: sim satisfied in 1 of 3 repeats, live in none: both no majority.
        #expect(g.goalMet == true, "\(g.goalMisses)")
        #expect(g.models.allSatisfy { abs($0.bias?.pct ?? 1) < 1e-12 })
    }
}

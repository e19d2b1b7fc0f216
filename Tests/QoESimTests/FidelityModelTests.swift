import Foundation
import Testing
import QoESimFit
import QoESim
import QoESimLive
import QoESimValidation

/// What was added to the model for fidelity with real Docker: the shared-cores
/// latency (CPU set by contention, not by a quota), the cold start of a request on an
/// idle container, their fits, and the pairing of live and simulated requests.
@Suite("Fidelity model")
struct FidelityModelTests {
    /// A server whose latency under a quota is 100 ms / c and, when contention sets its
    /// CPU, 50 ms / c (deterministic, so every number is exact).
    static func model(shared: Bool = true, cold: ColdStart = .none, spin: IdleSpin = .none) -> ModelSpec {
        ModelSpec(
            name: "m", latency: LatencyModel(family: .amdahl(serialMs: 0, parallelMs: 100), maxParallelism: 2),
            variability: .deterministic,
            sharedLatency: shared ? LatencyModel(family: .amdahl(serialMs: 0, parallelMs: 50), maxParallelism: 2) : nil,
            coldStart: cold, idleSpin: spin)
    }

    @Test("An idle spin uses CPU after each request and takes it from a busy neighbour; alone it slows nothing")
    func idleSpin() throws {
        let spin = IdleSpin(seconds: 0.2, cores: 1)
        let duration = 2000.0
        func run(_ spin: IdleSpin, neighbour: Bool) throws -> SimulationResult {
            var jobs = [Fixture.job("a", Self.model(shared: false, spin: spin), rate: 0.5, duration: duration)]
            if neighbour { jobs.append(Fixture.job("b", Self.model(shared: false), duration: duration, arrivals: .closed)) }
            var options = SimulationOptions()
            options.checkInvariants = true  // S6, with spinning containers among the busy
            return try Simulation(cluster: Fixture.cluster(1, cpus: 2), jobs: jobs, policy: FairSharePolicy(), options: options).run(seed: 5)
        }
        // Alone: the same arrivals and latencies (a request ends the spin and runs at 2
        // cores: 50 ms); CPU per request 0.1 CPU-s busy plus up to 0.2 s x 1 core of
        // polling, cut short when the next request comes within 0.2 s (about 10% of gaps).
        let plain = try run(.none, neighbour: false), spun = try run(spin, neighbour: false)
        let n = Double(plain.models[0].requests)
        #expect(n > 900 && spun.models[0].requests == plain.models[0].requests)
        #expect(spun.models[0].meanMs == plain.models[0].meanMs && spun.models[0].p95Ms == plain.models[0].p95Ms)
        #expect(abs(plain.models[0].cpuSeconds - 0.1 * n) < 1e-6 * n, "no spin: \(plain.models[0].cpuSeconds) CPU-s for \(n) requests")
        let polled = spun.models[0].cpuSeconds - plain.models[0].cpuSeconds
        #expect(polled > 0.85 * 0.2 * n && polled <= 0.2 * n + 1e-6, "polling: \(polled) CPU-s for \(n) requests")
        // Beside a closed loop that always wants both cores, the node stays full: what a
        // polls, b loses (equal weights: 1 core each while a polls).
        let quiet = try run(.none, neighbour: true), noisy = try run(spin, neighbour: true)
        let total = { (r: SimulationResult) in r.models.map(\.cpuSeconds).reduce(0, +) }
        // (b's last request may end up to 0.1 s after the window: 0.2 CPU-s.)
        #expect(abs(total(quiet) - 2 * duration) < 0.25 && abs(total(noisy) - 2 * duration) < 0.25, "\(total(quiet)) \(total(noisy))")
        let lostByB = quiet.models[1].cpuSeconds - noisy.models[1].cpuSeconds
        #expect(lostByB > 0.8 * 0.2 * n, "b lost \(lostByB) CPU-s")
        #expect(noisy.models[1].requests < quiet.models[1].requests)
        // A spin longer than every gap: the container never stops competing, as if busy.
        let endless = try run(IdleSpin(seconds: 60, cores: 1), neighbour: false)
        #expect(endless.models[0].cpuSeconds > 0.95 * duration, "\(endless.models[0].cpuSeconds)")

        // The weight the fit derives for a polling that gets half its CPU beside a busy
        // container gives it exactly that half here (a's requests run at 1 core either
        // way, so only the polling differs); alone, the weight changes nothing.
        let w = LatencyFitter.spinWeight(share: 0.5, cores: 1, nodeCores: 2)
        #expect(abs(w - 1.0 / 3) < 1e-12)
        let light = IdleSpin(seconds: 0.2, cores: 1, weight: w)
        let lightAlone = try run(light, neighbour: false), lightBeside = try run(light, neighbour: true)
        #expect(lightAlone.models[0].cpuSeconds == spun.models[0].cpuSeconds)
        let polledBeside = lightBeside.models[0].cpuSeconds - quiet.models[0].cpuSeconds
        let polledFull = noisy.models[0].cpuSeconds - quiet.models[0].cpuSeconds
        #expect(abs(polledBeside / polledFull - 0.5) < 0.01, "weighted polling \(polledBeside) CPU-s against \(polledFull) at full weight")
        #expect(lightBeside.models[0].meanMs == noisy.models[0].meanMs)
        // What a does not take, b gets.
        #expect(abs((quiet.models[1].cpuSeconds - lightBeside.models[1].cpuSeconds) - polledBeside) < 0.25)
    }

    @Test("The spin weight is fitted from the polling's CPU beside a busy container against alone (GSL mean of the ratios)")
    func spinWeightFit() throws {
        // The water-filling identity: share x cores = nodeCores x w / (1 + w), held to [0.001, 1].
        #expect(abs(LatencyFitter.spinWeight(share: 0.25, cores: 1, nodeCores: 2) - 0.25 / 1.75) < 1e-12)
        #expect(LatencyFitter.spinWeight(share: 1, cores: 1, nodeCores: 2) == 1)
        #expect(LatencyFitter.spinWeight(share: 1.3, cores: 1, nodeCores: 2) == 1)
        #expect(LatencyFitter.spinWeight(share: 0, cores: 1, nodeCores: 2) == 1e-3)
        #expect(LatencyFitter.spinWeight(share: 1, cores: 2, nodeCores: 2) == 1)
        let fit = try LatencyFitter.fitSpinWeight(alone: [0.2, 0.1, 0.16], besideBusy: [0.1, 0.06, 0.064], cores: 1, nodeCores: 2)
        // Ratios 0.5, 0.6, 0.4: mean 0.5, weight 1/3.
        #expect(abs(fit.share - 0.5) < 1e-9 && abs(fit.weight - 1.0 / 3) < 1e-9 && fit.n == 3)
        #expect(fit.shareCI95[0] < 0.5 && 0.5 < fit.shareCI95[1] && fit.ci95[0] < fit.weight && fit.weight < fit.ci95[1])
        #expect(throws: FitError.self) { try LatencyFitter.fitSpinWeight(alone: [0.2], besideBusy: [0.1], cores: 1, nodeCores: 2) }
        #expect(throws: FitError.self) { try LatencyFitter.fitSpinWeight(alone: [0.2, 0], besideBusy: [0.1, 0.1], cores: 1, nodeCores: 2) }
        // The model file carries it and reads back.
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let warm = try LatencyFitter.fit(
            [0.5, 1, 2].flatMap { c in (0..<4).map { k in ProfileRow(model: "m", cpus: c, latencyMs: 100 / c * (k % 2 == 0 ? 1.02 : 0.98), line: k) } },
            family: .power)
        let spin = try LatencyFitter.fitIdleSpin(backToBack: [0.20, 0.21, 0.19], afterGap: [0.31, 0.30, 0.29], cores: 1, gapMs: 300)
        try LatencyFitter.modelJSON(warm, name: "m", source: "test", idleSpin: spin, spinWeight: fit)
            .write(toFile: folder + "/m.json", atomically: true, encoding: .utf8)
        let read = try ModelCatalog.loadModel(folder + "/m.json").0.idleSpin
        #expect(abs(read.seconds - 0.1) < 1e-6 && read.cores == 1 && abs(read.weight - 1.0 / 3) < 1e-6)
    }

    @Test("The idle spin is fitted from paired CPU measurements (GSL): seconds = mean extra CPU per request / cores")
    func idleSpinFit() throws {
        // Per request: 0.20 CPU-s back to back; 0.30 +- 0.01 after a gap: 0.1 s on 1 core.
        let fit = try LatencyFitter.fitIdleSpin(backToBack: [0.20, 0.21, 0.19], afterGap: [0.31, 0.30, 0.29], cores: 1, gapMs: 300)
        #expect(abs(fit.extraCPUSeconds - 0.1) < 1e-9 && abs(fit.seconds - 0.1) < 1e-9 && fit.n == 3 && fit.gapMs == 300)
        #expect(fit.ci95[0] < 0.1 && 0.1 < fit.ci95[1] && fit.standardError > 0)
        // Two polling cores: half the time.
        #expect(abs(try LatencyFitter.fitIdleSpin(backToBack: [0.2, 0.2], afterGap: [0.3, 0.32], cores: 2, gapMs: 300).seconds - 0.055) < 1e-9)
        // Less CPU after gaps than back to back (noise): no spin, the raw mean kept.
        let none = try LatencyFitter.fitIdleSpin(backToBack: [0.2, 0.2], afterGap: [0.19, 0.18], cores: 1, gapMs: 300)
        #expect(none.seconds == 0 && none.extraCPUSeconds < 0)
        #expect(throws: FitError.self) { try LatencyFitter.fitIdleSpin(backToBack: [0.2], afterGap: [0.3], cores: 1, gapMs: 300) }
        // The model file it writes reads back.
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let warm = try LatencyFitter.fit(
            [0.5, 1, 2].flatMap { c in (0..<4).map { k in ProfileRow(model: "m", cpus: c, latencyMs: 100 / c * (k % 2 == 0 ? 1.02 : 0.98), line: k) } },
            family: .power)
        try LatencyFitter.modelJSON(warm, name: "m", source: "test", idleSpin: fit).write(toFile: folder + "/m.json", atomically: true, encoding: .utf8)
        let spin = try ModelCatalog.loadModel(folder + "/m.json").0.idleSpin
        #expect(abs(spin.seconds - 0.1) < 1e-12 && spin.cores == 1 && spin.weight == 1, "\(spin)")
    }

    @Test("The shared-cores latency applies only while contention holds a container below its cap")
    func sharedLatencyOnlyUnderContention() throws {
        // Alone on 2 cores: at its cap (max parallelism 2), so the quota curve: 100/2 = 50 ms.
        let alone = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2), jobs: [Fixture.job("a", Self.model(), duration: 10, arrivals: .closed)],
            policy: FairSharePolicy()
        ).run(seed: 1)
        #expect(abs(alone.models[0].meanMs! - 50) < 1e-6, "alone: \(alone.models[0].meanMs!) ms")
        // Two on 2 cores without limits: 1 core each, below the cap of 2, so the shared
        // curve: 50/1 = 50 ms (the quota curve would give 100 ms).
        let two = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2),
            jobs: ["a", "b"].map { Fixture.job($0, Self.model(), duration: 10, arrivals: .closed) }, policy: FairSharePolicy()
        ).run(seed: 1)
        for m in two.models { #expect(abs(m.meanMs! - 50) < 1e-6, "\(m.id) shared: \(m.meanMs!) ms") }
        // The same two with a binding 1-core limit each: at their cap, so the quota curve.
        let limited = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2),
            jobs: ["a", "b"].map { Fixture.job($0, Self.model(), duration: 10, arrivals: .closed, cpus: 1) }, policy: StaticPolicy()
        ).run(seed: 1)
        for m in limited.models { #expect(abs(m.meanMs! - 100) < 1e-6, "\(m.id) limited: \(m.meanMs!) ms") }
        // Without a shared curve, contention uses the quota curve.
        let plain = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2),
            jobs: ["a", "b"].map { Fixture.job($0, Self.model(shared: false), duration: 10, arrivals: .closed) }, policy: FairSharePolicy()
        ).run(seed: 1)
        for m in plain.models { #expect(abs(m.meanMs! - 100) < 1e-6, "\(m.id) plain: \(m.meanMs!) ms") }
    }

    @Test("A request on a container idle for at least after_ms is slower by the cold-start factor; back to back it is not")
    func coldStart() throws {
        let cold = ColdStart(factor: 1.5, afterMs: 100)
        // Poisson at 0.2/s for 5,000 s: gaps of seconds, so nearly every request starts
        // cold: 1.5 x 50 ms. About 3% come less than 100 ms after the previous one
        // finished (warm: 50 ms) and 1.5% queue behind it (warm, after a wait).
        let sparse = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2), jobs: [Fixture.job("p", Self.model(cold: cold), rate: 0.2, duration: 5000)],
            policy: FairSharePolicy()
        ).run(seed: 3)
        #expect(sparse.models[0].requests > 900)
        // p50 from the HDR histogram (2 significant digits: within 1%).
        #expect(abs(sparse.models[0].p50Ms! - 75) < 1, "sparse p50: \(sparse.models[0].p50Ms!) ms")
        #expect(sparse.models[0].meanMs! > 72 && sparse.models[0].meanMs! < 75.5, "sparse mean: \(sparse.models[0].meanMs!) ms")
        // The same arrivals with a threshold longer than every gap: all warm.
        let never = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2),
            jobs: [Fixture.job("p", Self.model(cold: ColdStart(factor: 1.5, afterMs: 1e9)), rate: 0.2, duration: 5000)],
            policy: FairSharePolicy()
        ).run(seed: 3)
        #expect(abs(never.models[0].p50Ms! - 50) < 1, "never cold p50: \(never.models[0].p50Ms!) ms")
        #expect(never.models[0].meanMs! < 51, "never cold mean: \(never.models[0].meanMs!) ms")
        // Closed loop: each request follows the previous one at once, and the first one
        // the placement: none starts cold.
        let closed = try Simulation(
            cluster: Fixture.cluster(1, cpus: 2), jobs: [Fixture.job("c", Self.model(cold: cold), duration: 10, arrivals: .closed)],
            policy: FairSharePolicy()
        ).run(seed: 3)
        #expect(abs(closed.models[0].meanMs! - 50) < 1e-6, "closed mean: \(closed.models[0].meanMs!) ms")
    }

    @Test("Model files: latency_shared and cold_start are read, bad values named with their line")
    func modelFile() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/m.json"
        try """
        {"name": "m",
         "latency": {"family": "power", "a_ms": 0, "b_ms": 100, "k": 1, "max_parallelism": 2},
         "latency_shared": {"family": "power", "a_ms": 0, "b_ms": 60, "k": 1, "max_parallelism": 2},
         "cold_start": {"factor": 1.2, "after_ms": 100}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let (spec, _) = try ModelCatalog.loadModel(path)
        #expect(abs((spec.sharedLatency?.latencySeconds(cpus: 1) ?? 0) - 0.06) < 1e-12)
        #expect(spec.coldStart == ColdStart(factor: 1.2, afterMs: 100))
        #expect(spec.idleSpin == .none)
        let spinning = "{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": 1, \"k\": 1},\n \"idle_spin\": "
        try (spinning + "{\"seconds\": 0.11, \"cores\": 1}}").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ModelCatalog.loadModel(path).0.idleSpin == IdleSpin(seconds: 0.11, cores: 1))
        try (spinning + "{\"seconds\": 0.11, \"cores\": 1, \"weight\": 0.25}}").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ModelCatalog.loadModel(path).0.idleSpin == IdleSpin(seconds: 0.11, cores: 1, weight: 0.25))
        for (text, line, message) in [
            (spinning + "{\"seconds\": 61, \"cores\": 1}}", 3, "idle_spin.seconds must be <= 60"),
            (spinning + "{\"seconds\": 0.1, \"cores\": 0}}", 3, "idle_spin.cores"),
            (spinning + "{\"seconds\": -1, \"cores\": 1}}", 3, "idle_spin.seconds"),
            (spinning + "{\"seconds\": 0.1}}", 3, "missing field 'cores'"),
            (spinning + "{\"seconds\": 0.1, \"cores\": 1, \"weight\": 0}}", 3, "idle_spin.weight"),
            (spinning + "{\"seconds\": 0.1, \"cores\": 1, \"weight\": 1.5}}", 3, "idle_spin.weight must be in [0.001, 1]"),
            ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": 1, \"k\": 1},\n \"cold_start\": {\"factor\": 0, \"after_ms\": 1}}", 3, "cold_start.factor"),
            ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": 1, \"k\": 1},\n \"cold_start\": {\"factor\": 1.2}}", 3, "missing field 'after_ms'"),
            ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": 1, \"k\": 1},\n \"latency_shared\": {\"family\": \"gpu\", \"cpu_ms\": 1, \"gpu_ms\": 1}}", 3, "latency_shared must be"),
            ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": 1, \"k\": 1},\n \"latency_shared\": {\"family\": \"power\", \"a_ms\": 0, \"b_ms\": -1, \"k\": 1}}", 3, "latency_shared.b_ms"),
        ] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try ModelCatalog.loadModel(path)
                Issue.record("no error for \(text)")
            } catch let e as InputError {
                #expect(e.line == line && e.problem.contains(message), "\(e)")
            }
        }
    }

    @Test("The cold-start factor is recovered by the GSL fit (synthetic rows, factor 1.25 within 2%)")
    func coldStartFit() throws {
        var rows: [ProfileRow] = []
        // Warm rows: 200 ms / c with +-5% alternating noise; cold rows: 1.25 x that.
        for (i, c) in [0.5, 1, 2].enumerated() {
            for k in 0..<6 {
                let noise = k % 2 == 0 ? 1.05 : 0.95
                rows.append(ProfileRow(model: "m", cpus: c, latencyMs: 200 / c * noise, line: i * 10 + k))
                rows.append(ProfileRow(model: "m", cpus: c, latencyMs: 1.25 * 200 / c * noise, gapMs: 200, line: 100 + i * 10 + k))
            }
        }
        let warm = try LatencyFitter.fit(LatencyFitter.soloRows(rows), family: .power)
        let cold = try #require(try LatencyFitter.fitColdStart(rows, warm: warm))
        #expect(abs(cold.factor - 1.25) / 1.25 < 0.02, "factor \(cold.factor)")
        #expect(cold.ci95[0] < cold.factor && cold.factor < cold.ci95[1] && cold.n == 18 && cold.gapMs == 200)
        // No cold rows: no factor.
        #expect(try LatencyFitter.fitColdStart(LatencyFitter.soloRows(rows), warm: warm) == nil)
    }

    @Test("The shared-cores curve is fitted on co-located rows without a limit only")
    func sharedFit() throws {
        var rows: [ProfileRow] = []
        for c in [1.0, 0.667, 0.333] {
            for k in 0..<6 {
                rows.append(ProfileRow(model: "m", cpus: c, latencyMs: 80 / c * (k % 2 == 0 ? 1.02 : 0.98), colocated: Int((2 / c).rounded())))
                // Co-located with a limit: not part of the shared curve.
                rows.append(ProfileRow(model: "m", cpus: c, latencyMs: 400 / c, colocated: 2, limit: c))
            }
        }
        let fit = try #require(try LatencyFitter.fitShared(rows))
        #expect(fit.n == 18)
        #expect(abs(fit.latencyModel.latencySeconds(cpus: 0.5) * 1000 - 160) / 160 < 0.05)
        #expect(try LatencyFitter.fitShared(rows.filter { $0.colocated == 1 }) == nil)
    }

    @Test("Paired requests: signed errors of response and service time by arrival order, open-loop jobs only")
    func pairing() {
        let jobs = [
            Fixture.job("open", Self.model(), duration: 10),
            Fixture.job("closed", Self.model(), duration: 10, arrivals: .closed),
        ]
        // [arrival, start, completion]; live listed out of order (pairs follow arrivals).
        let live: [[[Double]]] = [[[2, 2, 2.2], [1, 1, 1.1]], [[0, 0, 1]]]
        let sim: [[[Double]]] = [[[1, 1, 1.12], [2, 2.05, 2.25]], [[0, 0, 2]]]
        let p = PairedRequests(live: live, sim: sim, jobs: jobs)
        #expect(p.jobs.keys.sorted() == ["open"])
        let d = p.jobs["open"]!
        #expect(d.pairs == 2)
        // Responses: 0.12 vs 0.1 (+20%), 0.25 vs 0.2 (+25%); services: +20%, 0%.
        #expect(abs(d.responseErrorPct[1] - 22.5) < 1e-9 && abs(d.medianAbsResponseErrorPct - 22.5) < 1e-9)
        #expect(abs(d.serviceErrorPct[1] - 10) < 1e-9)
        #expect(d.maxArrivalGapMs == 0)
        #expect(p.pooled == d)
    }
}

/// The demand cap: the cores a container takes unconstrained, from the idle-spin profile's
/// back-to-back runs, each run's CPU seconds over the seconds its requests took. Numbers
/// measured on a 2-core AMD EPYC (2026-12-05): MobileNetV2 with OPENBLAS_NUM_THREADS=1 used
/// 0.0469 CPU-s per 43.9-ms request (1.07 cores); with the default OpenBLAS (a polling
/// worker) 0.0896 per 42.0 ms (2.13 cores, capped at the largest limit measured, 2).
@Suite("Demand cap from the CPU a container uses unconstrained")
struct DemandCapTests {
    @Test("Single-threaded about 1 core, polling workers the largest limit; at least 1, never past the largest limit")
    func cap() throws {
        let single = try #require(LatencyFitter.demandCap(backToBackCores: [0.0465 / 0.0439, 0.0470 / 0.0439, 0.0472 / 0.0439], largestLimit: 2))
        #expect(abs(single - 1.07) < 0.01, "\(single)")
        #expect(LatencyFitter.demandCap(backToBackCores: [0.0896 / 0.042], largestLimit: 2) == 2)
        #expect(LatencyFitter.demandCap(backToBackCores: [0.030 / 0.0439], largestLimit: 2) == 1)
        #expect(LatencyFitter.demandCap(backToBackCores: [], largestLimit: 2) == nil)
    }

    @Test("The cores of each back-to-back run are its CPU over its requests' seconds, gapped runs left out; a run without seconds is refused at its line")
    func fromProfile() throws {
        let dir = NSTemporaryDirectory() + "qoesim-demand-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Ten requests back to back: 0.469 CPU-s over 0.439 s; gapped runs carry the idle's CPU.
        var file = ProfileFile(kind: .spin, comments: ["qoesim idle-spin profile of mobilenetv2"], rows: [
            ["mobilenetv2", "1", "0", "10", "0.469", "0.439"],
            ["mobilenetv2", "1", "300", "10", "0.9", "0.5"],
            ["mobilenetv2", "2", "0", "10", "0.896", "0.42"],
        ])
        try file.write(to: dir + "/spin.csv")
        let cores = try LocalFits.backToBackCores(try ProfileFile.read(dir + "/spin.csv", kind: .spin))
        #expect(cores.count == 2)
        #expect(abs(cores[0] - 0.469 / 0.439) < 1e-12 && abs(cores[1] - 0.896 / 0.42) < 1e-12, "\(cores)")
        file.rows[2][5] = "0"
        try file.write(to: dir + "/spin.csv")
        do {
            _ = try LocalFits.backToBackCores(try ProfileFile.read(dir + "/spin.csv", kind: .spin))
            Issue.record("a back-to-back run without request seconds was read")
        } catch let e as InputError {
            #expect(e.description.contains("spin.csv:5") && e.description.contains("request_seconds"), "\(e)")
        }
    }
}

import Foundation
import Testing
import QoESim
import QoESimExperiments
import QoESimFit
import CGSL

/// Synthetic profiles with known parameters.
enum SyntheticProfile {
    static func rows(
        levels: [Double] = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4], shares: [Double] = [1], perLevel: Int = 30, cv: Double,
        seed: UInt64 = 1, latency: (Double, Double) -> Double
    ) -> [ProfileRow] {
        var rng = RandomStream(seed: seed, key: "profile", purpose: .service)
        let v: Variability = cv > 0 ? .lognormal(cv: cv) : .deterministic
        var out: [ProfileRow] = []
        for c in levels {
            for g in shares {
                for _ in 0..<perLevel {
                    out.append(ProfileRow(model: "synth", cpus: c, gpuShare: g, latencyMs: latency(c, g) * v.sample(&rng), line: out.count + 2))
                }
            }
        }
        return out
    }
}

@Suite("Latency model fitting (GSL)")
struct FitTests {
    func value(_ r: FitResult, _ name: String) -> FittedParameter { r.parameters.first { $0.name == name }! }

    @Test("amdahl: noise-free data are recovered within 0.1%, including max_parallelism")
    func amdahlExact() throws {
        let rows = SyntheticProfile.rows(cv: 0) { c, _ in 12 / min(c, 1) + 180 / min(c, 3) }
        let r = try LatencyFitter.fit(rows, family: .amdahl)
        #expect(abs(value(r, "serial_ms").value - 12) / 12 < 1e-3)
        #expect(abs(value(r, "parallel_ms").value - 180) / 180 < 1e-3)
        #expect(r.maxParallelism == 3 && r.maxParallelismIdentified)
        #expect(r.r2 > 0.999999 && r.mapePct < 1e-6)
    }

    /// The issue's acceptance case: 5% noise, the parallel term within 2% on every one
    /// of 40 profiles; its 95% interval covers the truth in at least 34 of 40 (a
    /// calibrated interval misses about 2; 6 or more misses would mean the intervals are
    /// too narrow or the estimate biased); the mean estimate within 0.5%; the variability
    /// cv within 10%.
    @Test("amdahl with 5% noise: parallel term within 2%, 95% CIs calibrated")
    func amdahlNoisy() throws {
        var covered = 0, estimates: [Double] = []
        for seed in UInt64(1)...40 {
            let rows = SyntheticProfile.rows(cv: 0.05, seed: seed) { c, _ in 12 / min(c, 1) + 180 / min(c, 3) }
            let r = try LatencyFitter.fit(rows, family: .amdahl)
            let p = value(r, "parallel_ms")
            #expect(abs(p.value - 180) / 180 < 0.02, "seed \(seed): parallel \(p.value)")
            #expect(abs(r.variabilityCV - 0.05) / 0.05 < 0.1, "seed \(seed): cv \(r.variabilityCV)")
            if p.ci95[0] <= 180 && 180 <= p.ci95[1] { covered += 1 }
            estimates.append(p.value)
        }
        #expect(covered >= 34, "95% CI covered the true value in \(covered) of 40 profiles")
        let mean = estimates.reduce(0, +) / 40
        #expect(abs(mean - 180) / 180 < 0.005, "mean estimate \(mean)")
    }

    @Test("power (nonlinear, trust region): noise-free recovery within 0.1%; noisy within CI")
    func power() throws {
        let exact = try LatencyFitter.fit(SyntheticProfile.rows(cv: 0) { c, _ in 20 / min(c, 1) + 150 * pow(c, -0.8) }, family: .power)
        #expect(abs(value(exact, "a_ms").value - 20) / 20 < 1e-3)
        #expect(abs(value(exact, "b_ms").value - 150) / 150 < 1e-3)
        #expect(abs(value(exact, "k").value - 0.8) / 0.8 < 1e-3)
        let noisy = try LatencyFitter.fit(SyntheticProfile.rows(cv: 0.05, seed: 9) { c, _ in 20 / min(c, 1) + 150 * pow(c, -0.8) }, family: .power)
        let k = value(noisy, "k")
        #expect(k.ci95[0] <= 0.8 && 0.8 <= k.ci95[1], "k CI \(k.ci95)")
    }

    @Test("gpu: overhead, CPU and GPU terms recovered from profiles at several GPU shares")
    func gpu() throws {
        let rows = SyntheticProfile.rows(levels: [0.5, 1, 2], shares: [0.25, 0.5, 1], perLevel: 10, cv: 0) { c, g in
            2 + 6 / min(c, 1) + 9 / g
        }
        let r = try LatencyFitter.fit(rows, family: .gpu)
        #expect(abs(value(r, "overhead_ms").value - 2) < 1e-3)
        #expect(abs(value(r, "cpu_ms").value - 6) < 1e-3)
        #expect(abs(value(r, "gpu_ms").value - 9) < 1e-3)
        #expect(throws: FitError.self) { try LatencyFitter.fit(SyntheticProfile.rows(cv: 0) { c, _ in 1 / c }, family: .gpu) }
    }

    @Test("auto picks the family that generated the data (k-fold held-out error)")
    func auto() throws {
        let (a, _) = try LatencyFitter.auto(SyntheticProfile.rows(cv: 0.03) { c, _ in 12 / min(c, 1) + 180 / min(c, 3) })
        #expect(a.family == .amdahl)
        let (p, scores) = try LatencyFitter.auto(SyntheticProfile.rows(cv: 0.03) { c, _ in 5 + 200 * pow(c, -0.6) })
        #expect(p.family == .power, "\(scores)")
    }

    @Test("Fitting is deterministic: the same profile gives the same model file")
    func deterministic() throws {
        let rows = SyntheticProfile.rows(cv: 0.05) { c, _ in 12 / min(c, 1) + 180 / min(c, 3) }
        let a = LatencyFitter.modelJSON(try LatencyFitter.fit(rows, family: .amdahl), name: "m", source: "s")
        let b = LatencyFitter.modelJSON(try LatencyFitter.fit(rows, family: .amdahl), name: "m", source: "s")
        #expect(a == b)
    }

    @Test("A fitted model file loads in the simulator and reproduces the profile's means")
    func fittedModelSimulates() throws {
        let rows = SyntheticProfile.rows(cv: 0.05) { c, _ in 12 / min(c, 1) + 180 / min(c, 3) }
        let r = try LatencyFitter.fit(rows, family: .amdahl)
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try LatencyFitter.modelJSON(r, name: "synth", source: "test").write(toFile: folder + "/synth.json", atomically: true, encoding: .utf8)
        let (spec, _) = try ModelCatalog.loadModel(folder + "/synth.json")
        for c in [0.5, 1, 2] {
            let job = JobSpec(id: "j", model: spec, arrival: 0, duration: 300, rate: 0, targetMs: 1000, arrivals: .closed, cpus: c)
            let sim = try Simulation(cluster: Fixture.cluster(1, cpus: 4), jobs: [job], policy: StaticPolicy()).run(seed: 1)
            let measured = rows.filter { $0.cpus == c }.map(\.latencyMs)
            let mean = measured.reduce(0, +) / Double(measured.count)
            // Within the fit's error (MAPE ~4%) plus the sampling error of 30 requests.
            #expect(abs(sim.models[0].meanMs! - mean) / mean < 0.05, "at \(c) cores: sim \(sim.models[0].meanMs!) vs profile \(mean)")
        }
    }

    @Test("Bad profiles get file:line errors", arguments: [
        ("model,device,cpus,gpu_share,batch\nm,cpu,1,1,1\n", 1, "missing required column"),
        ("model,device,cpus,gpu_share,batch,latency_ms\nm,cpu,0,1,1,5\n", 2, "cpus: must be > 0"),
        ("model,device,cpus,gpu_share,batch,latency_ms\nm,cpu,1,1,1,fast\n", 2, "latency_ms: 'fast' is not a number"),
        ("model,device,cpus,gpu_share,batch,latency_ms\nm,cpu,1,1.5,1,5\n", 2, "gpu_share: must be <= 1"),
        ("model,device,cpus,gpu_share,batch,latency_ms\nm,cpu,1,1,0,5\n", 2, "batch: must be >= 1"),
    ])
    func badProfiles(text: String, line: Int, message: String) throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/p.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Profile.load(path)
            Issue.record("no error")
        } catch let e as InputError {
            #expect(e.file == path && e.line == line && e.problem.contains(message), "\(e)")
        }
    }
}

/// The shipped profiles (measured here with Experiments/profiles/run.sh) and the models
/// fitted from them. Simulating one container at each measured CPU limit must reproduce
/// the profile's mean latency within the fit's own error at that limit (|fit - measured|)
/// plus 2% (the simulation's sampling error and histogram resolution): the simulator
/// adds no error of its own. Across limits the fit's errors average below its MAPE.
@Suite("Fitted models vs measured profiles")
struct FittedModelTests {
    @Test("Simulated latency matches the measured profile within the fit's error", arguments: ["mobilenetv2", "resnet50", "bert-base", "vgg16"])
    func simulatedMatchesProfile(model: String) throws {
        let root = Fixture.packageRoot
        let rows = try Profile.load("\(root)/Traces/profiles/\(model).csv")
        let (spec, _) = try ModelCatalog.loadModel("\(root)/Traces/models-fitted/\(model).json")
        let fitDoc = try StructuredValue.load("\(root)/Traces/models-fitted/\(model).json").required("fit", in: "model")
        let mape = try fitDoc.required("mape_pct", in: "fit").number("mape_pct") / 100
        var fitErrors: [Double] = []
        for c in Set(rows.map(\.cpus)).sorted() {
            let measured = rows.filter { $0.cpus == c }.map(\.latencyMs)
            let mean = measured.reduce(0, +) / Double(measured.count)
            let predicted = 1000 * spec.latency.latencySeconds(cpus: c)
            let job = JobSpec(id: "j", model: spec, arrival: 0, duration: 2 * predicted, rate: 0, targetMs: 1e9, arrivals: .closed, cpus: c)
            let sim = try Simulation(cluster: Fixture.cluster(1, cpus: 2), jobs: [job], policy: StaticPolicy()).run(seed: 1)
            let fitErr = abs(predicted - mean) / mean
            let simErr = abs(sim.models[0].meanMs! - mean) / mean
            fitErrors.append(fitErr)
            #expect(simErr <= fitErr + 0.02, "\(model) at \(c) cores: simulated \(sim.models[0].meanMs!) ms, fitted \(predicted) ms, measured \(mean) ms")
            print(String(format: "profile %@ at %.2f cores: measured %.1f ms, fitted %.1f ms (%.1f%%), simulated %.1f ms (%.1f%%)",
                         model, c, mean, predicted, 100 * fitErr, sim.models[0].meanMs!, 100 * simErr))
        }
        #expect(fitErrors.reduce(0, +) / Double(fitErrors.count) <= mape, "mean per-limit error above the fit's MAPE")
    }
}

@Suite("Fitting constraints")
struct FitConstraintTests {
    /// Data whose unconstrained power fit would have a < 0 (pure c^-k scaling with
    /// noise): the fit holds a at 0, so latency stays positive at any core count.
    @Test("Negative latency terms are held at zero")
    func nonNegative() throws {
        let rows = SyntheticProfile.rows(levels: [0.25, 0.5, 1, 1.5, 2], cv: 0.08, seed: 5) { c, _ in 300 * pow(c, -0.9) }
        let p = try LatencyFitter.fit(rows, family: .power)
        #expect(p.parameters[0].value >= 0)
        #expect(p.latencyModel.latencySeconds(cpus: 64) > 0)
        let a = try LatencyFitter.fit(SyntheticProfile.rows(cv: 0.05, seed: 2) { c, _ in 200 / min(c, 3) }, family: .amdahl)
        #expect(a.parameters[0].value >= 0 && a.parameters[1].value > 0)
    }

    /// Writes `fit` as a model file, loads it as the simulator does, and checks that its
    /// latency at each measured limit is within `within` (relative) of the measured mean.
    static func writtenModelKeepsMeans(_ fit: FitResult, _ measured: [(Double, Double)], within: Double) throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try LatencyFitter.modelJSON(fit, name: "flat", source: "test").write(toFile: folder + "/flat.json", atomically: true, encoding: .utf8)
        let (spec, _) = try ModelCatalog.loadModel(folder + "/flat.json")
        for c in Set(measured.map(\.0)).sorted() {
            let at = measured.filter { $0.0 == c }.map(\.1)
            let mean = at.reduce(0, +) / Double(at.count)
            let predicted = spec.latency.latencySeconds(cpus: c) * 1000
            #expect(abs(predicted - mean) / mean < within, "at \(c) cores: model \(predicted) ms vs profile \(mean) ms")
        }
    }

    /// A single-threaded workload (OPENBLAS_NUM_THREADS=1): latency falls as 1/c up to one
    /// core and not at all past it. The rows are BERT-base's profile on a 2-core AMD EPYC
    /// (2026-12-05, through Docker, 5 requests per limit); unbounded, the power fit put k at
    /// 19.5, a model file the reader refuses. The fit holds k at the readers' limit (10),
    /// the file loads, the curve keeps each limit's mean within 6%, and max_parallelism is
    /// 1 (the fewest cores within 2% of the fastest), not the largest limit measured.
    @Test("A profile flat past one core fits a power model the simulator accepts (k held at 10, max_parallelism 1)")
    func flatPastOneCore() throws {
        let measured: [(Double, Double)] = [
            (0.25, 1601.1), (0.25, 1490.3), (0.25, 1402.5), (0.25, 1410.2), (0.25, 1400.0),
            (0.5, 633.2), (0.5, 684.4), (0.5, 686.6), (0.5, 640.2), (0.5, 859.4),
            (1.0, 352.3), (1.0, 366.1), (1.0, 340.8), (1.0, 344.7), (1.0, 341.8),
            (2.0, 384.5), (2.0, 340.9), (2.0, 347.2), (2.0, 357.1), (2.0, 332.6),
        ]
        let rows = measured.enumerated().map { i, m in ProfileRow(model: "bert-base", cpus: m.0, gpuShare: 1, latencyMs: m.1, line: i + 2) }
        let r = try LatencyFitter.fit(rows, family: .power)
        let k = r.parameters.first { $0.name == "k" }!
        #expect(k.value > 0 && k.value <= 10, "k = \(k.value)")
        // It saturates at one core: the simulator must not let it consume a second.
        #expect(r.maxParallelism == 1 && r.maxParallelismIdentified, "max_parallelism \(r.maxParallelism)")
        try Self.writtenModelKeepsMeans(r, measured, within: 0.06)
    }

    /// ResNet-50 with OPENBLAS_NUM_THREADS=1 on a 2-core AMD EPYC (2026-12-05, through
    /// Docker, 5 requests per limit): 1/c up to one core, and at two cores 2% slower than at
    /// one. The unconstrained power fit puts b below 0, which 0.18.0 refused ("latency does
    /// not fall with more CPU"), stopping `validate`. The fit holds b at 0 (a alone), the
    /// file loads, each limit's mean is within 12%, and max_parallelism is 1.
    @Test("A profile a little slower at two cores than at one fits a power model with b held at 0 (max_parallelism 1)")
    func slowerPastOneCore() throws {
        let measured: [(Double, Double)] = [
            (0.25, 489.2), (0.25, 406.0), (0.25, 410.2), (0.25, 485.0), (0.25, 410.3),
            (0.5, 209.0), (0.5, 258.8), (0.5, 209.7), (0.5, 204.5), (0.5, 208.5),
            (1.0, 109.0), (1.0, 108.6), (1.0, 108.3), (1.0, 109.8), (1.0, 110.5),
            (2.0, 109.4), (2.0, 112.1), (2.0, 115.8), (2.0, 110.8), (2.0, 108.4),
        ]
        let rows = measured.enumerated().map { i, m in ProfileRow(model: "resnet50", cpus: m.0, gpuShare: 1, latencyMs: m.1, line: i + 2) }
        let r = try LatencyFitter.fit(rows, family: .power)
        let b = r.parameters.first { $0.name == "b_ms" }!, a = r.parameters.first { $0.name == "a_ms" }!
        #expect(b.value == 0 && a.value > 100 && a.value < 120, "a = \(a.value), b = \(b.value)")
        #expect(r.maxParallelism == 1 && r.maxParallelismIdentified, "max_parallelism \(r.maxParallelism)")
        try Self.writtenModelKeepsMeans(r, measured, within: 0.12)
    }
}

@Suite("GSL errors are returned, never an abort")
struct GSLHandlerTests {
    /// GSL's default handler aborts the process on an error (here an index out of
    /// range, which GSL reports through the handler). After any call into the fit module
    /// the handler is off: the call answers (0 for the missing element) and the process
    /// goes on. With the handler on (the old code never turned it off) this test's
    /// process dies with SIGABRT.
    @Test("After the fit module's first GSL call, a GSL error does not abort the process")
    func handlerOff() {
        #expect(abs(StudentT.quantile(0.975, df: 4) - 2.776) < 0.001)
        let v = gsl_vector_alloc(2)!
        defer { gsl_vector_free(v) }
        gsl_vector_set(v, 0, 1)
        #expect(gsl_vector_get(v, 5) == 0)  // out of range: an error, returned
    }
}

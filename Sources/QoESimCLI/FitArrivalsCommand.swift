import ArgumentParser
import Foundation
import QoESim
import QoESimArrivalFit
import QoESimExperiments

struct FitArrivalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-arrivals",
        abstract: "Fit a Gamma renewal process and an MMPP to a request trace, judged on its held-out half.",
        discussion: """
        Reads a request trace (job_id,time_s[,size]; one job's requests, or --job ID) over
        [0, DURATION) (default: up to its last request). Fits on the first half only: a
        Gamma renewal process (maximum likelihood, GSL's digamma; and with the gaps' own cv,
        gamma-moments) and MMPPs of 1 to
        --max-states states (EM on counts in --bin-s bins; the number of states of smallest
        BIC). Judges on the second half: each fitted process and a Poisson process at the
        same rate generate --replicates samples as long as it; the table gives the trace's
        mean rate, inter-arrival cv, index of dispersion of counts (IDC) in 1, 10 and 60 s
        windows and the KS distance of inter-arrival times, beside each model's median and
        2.5-97.5% range over its replicates ('*' marks a trace value inside that range; for
        the KS distance, a median below the 5% critical value).

        With --out DIR: writes mmpp.csv (the MMPP's parameters), job-mmpp.csv,
        job-gamma.csv and job-poisson.csv (one job each, at the trace's mean rate: change
        rate_rps, or the load of an experiment, for another load; an MMPP keeps its dwell
        times and scales its state rates) and fit.json. DIR must be new, empty, or one
        this command wrote (qoesim marks its folders).

        Example:
          qoesim fit-arrivals Traces/azure-llm/requests.csv --out /tmp/azure-fit
        """
    )

    @Argument(help: "The request trace CSV.")
    var requests: String

    @Option(help: "The job whose requests to fit (default: the trace's only job).")
    var job: String?

    @Option(help: "The trace's window in seconds (default: up to its last request).")
    var duration: Double?

    @Option(help: "Bin width of the MMPP's counts, seconds: a state change inside a bin mixes two states' counts, so keep it well below the bursts' length (at 1 s a 5-s burst state comes out 21% long and BIC adds a state for the mixed bins).")
    var binS: Double = 0.1

    @Option(help: "The most MMPP states tried (BIC chooses among 1...N).")
    var maxStates: Int = 4

    @Option(help: "Samples each fitted process generates to judge it.")
    var replicates: Int = 40

    @Option(help: "Model of the written jobs (a model of --models).")
    var model: String = "resnet50"

    @Option(help: "Model folder the written jobs' model must be in (default: the bundled Traces/models).")
    var models: String = "Traces/models"

    @Option(help: "Target of the written jobs, as the cores at whose latency it lies (target_cpus).")
    var targetCpus: Double = 1

    @Option(help: "Folder for the MMPP's parameters, the jobs and fit.json.")
    var out: String?

    func validate() throws {
        guard binS >= 0.001, binS.isFinite else { throw ValidationError("--bin-s must be >= 0.001 (an MMPP's states last at least a millisecond)") }
        guard (1...8).contains(maxStates) else { throw ValidationError("--max-states must be 1...8") }
        guard replicates >= 10 else { throw ValidationError("--replicates must be >= 10 (the 2.5-97.5% range needs them)") }
        if let duration { guard duration > 0, duration.isFinite else { throw ValidationError("--duration must be > 0") } }
        guard targetCpus > 0, targetCpus <= 4096 else { throw ValidationError("--target-cpus must be in (0, 4096]") }
    }

    func run() throws {
        let catalog = try ModelCatalog.load(folder: Bundled.path(models))
        guard catalog.models[model] != nil else {
            throw ValidationError("--model '\(model)' is not a model of \(models) (models: \(catalog.models.keys.sorted().joined(separator: ", ")))")
        }
        let trace = try RequestTrace.loadAll(requests)
        let id: String
        if let job {
            guard trace[job] != nil else {
                throw ValidationError("\(requests): no requests of job '\(job)' (jobs: \(trace.keys.sorted().joined(separator: ", ")))")
            }
            id = job
        } else {
            guard trace.count == 1, let only = trace.keys.first else {
                throw ValidationError("\(requests) holds \(trace.count) jobs (\(trace.keys.sorted().joined(separator: ", "))): name one with --job")
            }
            id = only
        }
        let times = trace[id]!.map(\.offset)
        let window = duration ?? (times.max() ?? 0).nextUp
        Diagnostics.note("fitting \(times.count) requests of \(id) over [0, \(String(format: "%.1f", window))) s ...")
        let report = try ArrivalFitter.fit(times: times, duration: window, bin: binS, maxStates: maxStates, replicates: replicates)
        print(Self.table(report, id: id, file: requests))
        if let out { try write(report, id: id, to: out) }
    }

    static func table(_ r: ArrivalFitter.Report, id: String, file: String) -> String {
        func f(_ v: Double?) -> String {
            guard let v else { return "-" }
            return abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
        }
        var s = "\(file), job \(id): fitted on [0, \(f(r.split))) s (\(r.trainingRequests) requests), judged on [\(f(r.split)), \(f(r.duration))) s (\(r.heldOutRequests) requests)\n"
        s += "Gamma renewal: rate \(f(r.gamma.rate)) /s; maximum likelihood: shape \(String(format: "%.4g", r.gamma.shape)), cv \(f(r.gamma.cv)); by moments (gamma-moments): cv \(f(r.gamma.momentCV))"
        s += r.gamma.zeroGaps > 0 ? ", \(r.gamma.zeroGaps) gaps of 0 raised to the smallest positive gap\n" : "\n"
        s += "MMPP (EM on \(f(r.chosen.bin)) s bins), BIC by states: "
        s += r.candidates.map { "K=\($0.mmpp.states) \(String(format: "%.1f", $0.bic))" }.joined(separator: ", ")
        s += "; chosen K=\(r.chosen.mmpp.states)\n"
        for i in 0..<r.chosen.mmpp.states {
            s += String(format: "  state %d: rate %.4g /s, mean dwell %.4g s, %.1f%% of the time\n", i, r.chosen.mmpp.rates[i], r.chosen.mmpp.meanDwell[i], 100 * r.chosen.mmpp.stationary[i])
        }
        s += "Held-out half: trace vs each model's median [2.5%, 97.5%] over \(r.replicates) replicates (* = trace inside the range; KS: median below the 5% critical value \(String(format: "%.3f", r.ksCritical)))\n"
        let models = ["mmpp", "gamma", "gamma-moments", "poisson"]
        let header = ["statistic", "trace"] + models
        var rows: [[String]] = []
        for st in r.statistics {
            var row = [st.name, st.name == "ks_distance" ? "-" : f(st.trace)]
            for m in models {
                guard let sp = st.models[m] else { row.append("-"); continue }
                row.append("\(f(sp.median)) [\(f(sp.low)), \(f(sp.high))]\(sp.reproduces ? " *" : "")")
            }
            rows.append(row)
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max()! }
        for row in [header] + rows {
            s += row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "\n"
        }
        return s
    }

    func write(_ r: ArrivalFitter.Report, id: String, to out: String) throws {
        let files = ["mmpp.csv", "job-mmpp.csv", "job-gamma.csv", "job-poisson.csv", "fit.json"]
        try OwnedFolder.claim(out, ours: Set(files), what: "fit-arrivals", unmarked: [])
        let source = PathText.lastComponent(requests)
        try atomicWrite(
            "# MMPP of \(r.chosen.mmpp.states) states fitted by qoesim \(QoESimVersion.current) fit-arrivals to \(source) (job \(id)), [0, \(r.split)) s\n"
                + r.chosen.mmpp.csv, to: out + "/mmpp.csv")
        let rate = Double(r.trainingRequests) / r.split
        for (name, arrivals) in [("mmpp", "mmpp file=mmpp.csv"), ("gamma", "gamma cv=\(r.gamma.cv)"), ("poisson", "poisson")] {
            let text = """
            # \(name) arrivals fitted by qoesim fit-arrivals to \(source) (job \(id)); rate_rps is the trace's mean rate: change it for another load
            job_id,model,arrival_s,duration_s,rate_rps,target_cpus,arrivals
            \(id)-\(name),\(model),0,\(r.duration),\(rate),\(targetCpus),\(arrivals)

            """
            try atomicWrite(text, to: out + "/job-\(name).csv")
        }
        struct Candidate: Encodable { let states: Int; let log_likelihood: Double; let bic: Double; let iterations: Int }
        struct Chosen: Encodable { let states: Int; let rates_rps: [Double]; let mean_dwell_s: [Double]; let stationary: [Double]; let bin_s: Double }
        struct Fit: Encodable {
            let qoesim: String
            let requests: String
            let job: String
            let duration_s: Double
            let split_s: Double
            let training_requests: Int
            let held_out_requests: Int
            let replicates: Int
            let ks_critical_5pct: Double
            let gamma: GammaRenewalFit
            let mmpp_candidates: [Candidate]
            let mmpp: Chosen
            let held_out: [ArrivalFitter.Statistic]
        }
        let c = r.chosen
        let fit = Fit(
            qoesim: QoESimVersion.current, requests: source, job: id, duration_s: r.duration, split_s: r.split,
            training_requests: r.trainingRequests, held_out_requests: r.heldOutRequests, replicates: r.replicates,
            ks_critical_5pct: r.ksCritical, gamma: r.gamma,
            mmpp_candidates: r.candidates.map { Candidate(states: $0.mmpp.states, log_likelihood: $0.logLikelihood, bic: $0.bic, iterations: $0.iterations) },
            mmpp: Chosen(states: c.mmpp.states, rates_rps: c.mmpp.rates, mean_dwell_s: c.mmpp.meanDwell, stationary: c.mmpp.stationary, bin_s: c.bin),
            held_out: r.statistics)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try atomicWrite(String(decoding: try enc.encode(fit), as: UTF8.self) + "\n", to: out + "/fit.json")
        Diagnostics.note("wrote \(files.joined(separator: ", ")) to \(out)")
    }
}

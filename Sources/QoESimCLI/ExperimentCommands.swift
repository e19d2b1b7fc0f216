import ArgumentParser
import Foundation
import QoESim
import QoESimExperiments

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run an experiment file's grid (policies x parameters x seeds) in parallel.",
        discussion: """
        Each run's rows are written atomically to OUT/runs/<run>.csv; a rerun skips finished
        runs, and an interrupted sweep leaves no partial rows. When every run of the grid is
        present, OUT/results.csv (a row per run x model) and OUT/summary.csv (means and 95%
        confidence intervals across seeds) are written.

        On several machines: run `qoesim sweep SPEC --shard i/n --out DIR_i` on each (0-based
        i), or in a Slurm job array `--shard slurm` (any base and step: the shard comes from
        SLURM_ARRAY_TASK_ID, _MIN, _MAX and _STEP), then
        `qoesim merge SPEC --out DIR DIR_0 DIR_1 ...`.
        """
    )

    @Argument(help: "Experiment file (YAML or JSON).")
    var spec: String

    @Option(help: "Output folder (not needed with --list).")
    var out: String?

    @Option(help: "Run only shard i of n (i/n, 0-based), e.g. 2/8; or `slurm`: this task's share of a Slurm job array.")
    var shard: String = "0/1"

    @Option(help: "Parallel simulations (default: all cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "No progress bar.")
    var quiet = false

    @Option(name: .customLong("set"), help: """
        Override a value, KEY=VALUE (repeatable): scenario.NAME (or NAME) for a generator parameter or a file \
        scenario's load|time_scale, options.actuation_delay_s|horizon_s|placement, policy.LABEL.PARAM for a \
        policy variant's parameter. The same keys may be grid keys in the experiment file.
        """)
    var settings: [String] = []

    @Flag(help: "Print the grid's run ids (one per line) and exit.")
    var list = false

    @Option(help: "Run only the run with this id (repeatable; ids from --list).")
    var only: [String] = []

    /// The experiment with the --set overrides applied.
    func experiment() throws -> ExperimentSpec {
        var e = try ExperimentSpec.load(spec)
        for item in settings {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("--set needs KEY=VALUE, got '\(item)'") }
            try e.set(kv[0], kv[1])
        }
        return e
    }

    func parsedShard() throws -> (Int, Int) {
        do {
            let s = try Shard.parse(shard, environment: ProcessInfo.processInfo.environment)
            return (s.index, s.count)
        } catch let e as ShardError {
            throw ValidationError(e.description)
        }
    }

    func validate() throws {
        if out == nil && !list { throw ValidationError("--out is required (except with --list)") }
        _ = try parsedShard()
        guard (1...4096).contains(jobs) else { throw ValidationError("--jobs must be 1 to 4096") }
    }

    func run() throws {
        let (i, n) = try parsedShard()
        let experiment = try experiment()
        let sweep = try Sweep(spec: experiment)
        if list {
            for run in try sweep.runs() { print(run.id) }
            return
        }
        if !only.isEmpty {
            let known = Set(try sweep.runs().map(\.id))
            if let missing = only.first(where: { !known.contains($0) }) {
                throw ValidationError("--only \(missing): no run of this experiment has that id (see --list)")
            }
        }
        let out = self.out!
        let stale = try sweep.unreusedRunFiles(in: out)
        if stale > 0 {
            Diagnostics.note("\(stale) run files in \(out)/runs were made by other code (or another definition) and are not reused: their runs are made again")
        }
        let damaged = try sweep.damagedRunFiles(in: out)
        if !damaged.isEmpty {
            Diagnostics.note("\(damaged.count) run files in \(out)/runs do not read back as their run's rows (cut short or edited; e.g. \(damaged[0])): their runs are made again")
        }
        let bar = ProgressBar(label: "sweep \(experiment.name)\(n > 1 ? " shard \(i)/\(n)" : "")", quiet: quiet, note: Diagnostics.note)
        let ran = try sweep.execute(into: out, shard: i, of: n, workers: jobs, only: only.isEmpty ? nil : Set(only)) { bar.update($0, $1) }
        var manifest = try Manifest.experiment(experiment, command: "sweep", build: BuildProbe.current)
        if n > 1 { manifest.options["shard"] = "\(i)/\(n)" }
        for item in settings { manifest.options["set " + item.split(separator: "=", maxSplits: 1)[0]] = String(item.split(separator: "=", maxSplits: 1).last ?? "") }
        try manifest.write(to: out)
        let summary = try SweepSummary(sweep: sweep, folders: [out])
        if summary.missing.isEmpty {
            try summary.write(to: out)
            Diagnostics.note("ran \(ran) runs; wrote \(out)/results.csv and \(out)/summary.csv")
            print(summary.csv, terminator: "")
        } else {
            Diagnostics.note("ran \(ran) runs; \(summary.missing.count) runs of the grid are in other shards: merge with `qoesim merge`")
        }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the outputs of sharded sweeps into one results.csv and summary.csv.")

    @Argument(help: "Experiment file the shards ran.")
    var spec: String

    @Argument(help: "Shard output folders.")
    var shards: [String]

    @Option(help: "Folder for the merged results.")
    var out: String

    func run() throws {
        let sweep = try Sweep(spec: try ExperimentSpec.load(spec))
        // A Slurm array runs one binary on shared storage: shards of other code are refused.
        for folder in shards {
            let path = (folder as NSString).appendingPathComponent("manifest.json")
            guard let data = FileManager.default.contents(atPath: path),
                  let m = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            let code = m["executable_sha256"] as? String ?? "none recorded (an older qoesim)"
            if code != CodeIdentity.executableSHA256 {
                throw InputError(file: path, line: 0, "this shard was made by other code (executable SHA-256 \(code.prefix(16)), this qoesim's \(CodeIdentity.executableSHA256.prefix(16))): run every shard with one qoesim binary, then merge with it")
            }
        }
        let summary = try SweepSummary(sweep: sweep, folders: shards)
        guard summary.missing.isEmpty else {
            throw ValidationError("\(summary.missing.count) runs are missing from the shards, e.g. \(summary.missing[0].id)")
        }
        try OwnedFolder.claim(out, ours: Sweep.folderEntries, what: "merge")
        // Copy the run files too, so the merged folder can be resumed or re-merged.
        let runs = (out as NSString).appendingPathComponent("runs")
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        for folder in shards {
            let dir = (folder as NSString).appendingPathComponent("runs")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".csv") {
                let target = (runs as NSString).appendingPathComponent(name)
                if !FileManager.default.fileExists(atPath: target) {
                    try FileManager.default.copyItem(atPath: (dir as NSString).appendingPathComponent(name), toPath: target)
                }
            }
        }
        try summary.write(to: out)
        try Manifest.experiment(sweep.spec, command: "merge", build: BuildProbe.current).write(to: out)
        print(summary.csv, terminator: "")
    }
}

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Reproduce a paper experiment (paper-8x) end to end: sweep, table, figures.",
        discussion: """
        paper-8x runs the study declared in Experiments/paper-8x/experiment.yaml: every policy
        variant on the same seeds in every block (a map of target regimes, a paper-style curve
        of satisfied models vs concurrency, an open-loop check), compared with the baseline by
        paired differences; the headline ratio with its bootstrap 95% CI; a sensitivity table;
        figures with their data. Finished runs in the output folder are reused only where their
        whole definition (scenario, options, policy parameters, seed, the SHA-256 of every input
        file, the qoesim version, the SHA-256 of this executable) is unchanged. The folder gets a manifest.json.
        """)

    @Argument(help: "Experiment name (a folder of Experiments/ with experiment.yaml; default paper-8x).")
    var name: String?

    @Option(help: "Experiment file (default Experiments/NAME/experiment.yaml).")
    var spec: String?

    @Option(help: "Output folder (default Experiments/NAME/results).")
    var out: String?

    @Option(help: "Parallel simulations (default: all cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "Also run the blocks the experiment marks `default: false` (larger maps).")
    var allBlocks = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard (1...4096).contains(jobs) else { throw ValidationError("--jobs must be 1 to 4096") }
        // With --spec, a name only picks the default --out (Experiments/NAME/results).
        if let name, spec != nil, out != nil { throw ValidationError("the experiment name (\(name)) is unused with --spec and --out: give one or the other") }
        if let name, name.isEmpty || name.contains("/") { throw ValidationError("'\(name)' is not an experiment name (a folder of Experiments/)") }
    }

    func run() throws {
        let name = self.name ?? "paper-8x"
        let specPath = Bundled.path(spec ?? "Experiments/\(name)/experiment.yaml")
        guard FileManager.default.fileExists(atPath: specPath) else {
            let known = (try? FileManager.default.contentsOfDirectory(atPath: Bundled.path("Experiments"))) ?? []
            throw ValidationError("no experiment file \(specPath); known: \(known.sorted().joined(separator: ", "))")
        }
        let experiment = try ExperimentSpec.load(specPath)
        let folder = out ?? "Experiments/\(name)/results"
        let bar = ProgressBar(label: "reproduce \(experiment.name)", quiet: quiet, note: Diagnostics.note)
        let started = Date()
        let report = try Reproduction.run(spec: experiment, folder: folder, workers: jobs, allBlocks: allBlocks) { bar.update($0, $1) }
        var manifest = try Manifest.experiment(experiment, command: "reproduce", build: BuildProbe.current)
        manifest.options["all_blocks"] = "\(allBlocks)"
        try manifest.write(to: folder)
        if !quiet { Diagnostics.note(String(format: "done in %.1f s; results in %@", Date().timeIntervalSince(started), folder)) }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            print(Reproduction.table(report, spec: experiment), terminator: "")
        }
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the scenario of one grid point of an experiment as cluster.json and jobs.csv.",
        discussion: """
        The files are exactly what the sweep simulates for that point and seed, so a run can be
        inspected with `qoesim run` / `qoesim compare` and --out.

        Example:
          qoesim generate Experiments/paper-8x/experiment.yaml --set models=16 --seed 1 --out /tmp/p8
        """)

    @Argument(help: "Experiment file.") var spec: String
    @Option(name: .customLong("set"), help: "A grid parameter, NAME=VALUE (repeatable); others take the headline's.") var settings: [String] = []
    @Option(help: "Seed (the generated targets and models depend on it).") var seed: UInt64 = 1
    @Option(help: "Output folder.") var out: String

    func run() throws {
        let experiment = try ExperimentSpec.load(spec)
        var point = experiment.headline
        for s in settings {
            let kv = s.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("--set needs NAME=VALUE, got '\(s)'") }
            point[kv[0]] = kv[1]
        }
        let scenario = try Sweep(spec: experiment, allBlocks: true).scenario(for: point, block: experiment.headlineSpec.block, seed: seed)
        // Parameter files of the jobs' arrival processes go beside jobs.csv, by their own names.
        var parameterFiles: [String: String] = [:]
        for j in scenario.jobs {
            guard let (file, text) = j.arrivals.parameterFile else { continue }
            let name = PathText.lastComponent(file)
            if let known = parameterFiles[name], known != text {
                throw ValidationError("two different arrival parameter files are both named \(name); rename one")
            }
            parameterFiles[name] = text
        }
        try OwnedFolder.claim(
            out, ours: Set(["cluster.json", "jobs.csv"] + parameterFiles.keys), what: "generate", unmarked: ["cluster.json", "jobs.csv"])
        for (name, text) in parameterFiles.sorted(by: { $0.key < $1.key }) { try atomicWrite(text, to: out + "/" + name) }
        let nodes = scenario.cluster.nodes.map { "    {\"name\": \"\($0.name)\", \"cpus\": \($0.cpus), \"gpus\": \($0.gpus)}" }
        try atomicWrite("{\"nodes\": [\n" + nodes.joined(separator: ",\n") + "\n]}\n", to: out + "/cluster.json")
        var csv = "# generated by qoesim generate \(spec) seed \(seed) \(point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))\n"
        csv += "job_id,model,arrival_s,duration_s,rate_rps,target_ms,metric,arrivals\n"
        for j in scenario.jobs {
            csv += "\(j.id),\(j.model.name),\(j.arrival),\(j.duration),\(j.arrivals.isClosed ? "" : "\(j.rate)"),\(j.targetMs),\(j.metric.rawValue),\(j.arrivals.renamed(file: PathText.lastComponent(j.arrivals.parameterFile?.name ?? "")).text)\n"
        }
        try atomicWrite(csv, to: out + "/jobs.csv")
        Diagnostics.note("wrote \(out)/cluster.json and \(out)/jobs.csv (\(scenario.jobs.count) jobs)")
    }
}

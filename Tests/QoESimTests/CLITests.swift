import Foundation
import Testing
import QoESim
import QoESimExperiments

/// The `qoesim` executable, run as a user would (built alongside the tests).
@Suite("qoesim command line")
struct CLITests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // On Linux the tests run from <config>/QoESimPackageTests.xctest; on macOS from a bundle.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("qoesim").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("qoesim").path
    }

    func run(_ args: [String]) throws -> Outcome { try Self.run(args) }

    /// Runs the built `qoesim` in the package root; returns status, stdout, stderr.
    static func run(_ args: [String], in folder: String = Fixture.packageRoot, environment: [String: String] = [:]) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    let example = ["--cluster", "Traces/example/cluster.json", "--trace", "Traces/example/jobs.csv"]

    /// Were a trap (SIGILL on `rows[0]`) and a negative delay run without a word.
    @Test("fit --mechanism with no rows, and compare --actuation-delay=-1, are clear errors, not a trap or a run")
    func hostileFlags() throws {
        let fit = try run(["fit", "Traces/profiles/resnet50.csv", "--mechanism", "nosuch"])
        #expect(fit.status == 1 && fit.stderr.contains("Traces/profiles/resnet50.csv") && fit.stderr.contains("nosuch"), "\(fit.status): \(fit.stderr)")
        let compare = try run(["compare"] + example + ["--actuation-delay=-1"])
        #expect(compare.status == 2 && compare.stderr.contains("--actuation-delay must be >= 0"), "\(compare.status): \(compare.stderr)")
        #expect(compare.stdout.isEmpty)
    }

    @Test("--version prints the semantic version in the source")
    func version() throws {
        let r = try run(["--version"])
        #expect(r.status == 0 && r.stdout == "qoesim \(QoESimVersion.current)\n", "\(r.stdout)")
        // The citation names the same version (a stale one was found at 0.17.0).
        let citation = try String(contentsOfFile: "CITATION.cff", encoding: .utf8)
        #expect(citation.contains("\nversion: \"\(QoESimVersion.current)\"\n"), "CITATION.cff does not name version \(QoESimVersion.current)")
    }

    @Test("--log-level warning silences progress on stderr, never the results on stdout; a bad level is a usage error")
    func logLevel() throws {
        let quiet = try run(["run"] + example + ["--policy", "fair-share", "--log-level", "warning"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.contains("models satisfied"), "\(quiet.stderr)")
        let chatty = try run(["--log-level=info", "run"] + example + ["--policy", "fair-share"])
        #expect(chatty.status == 0 && chatty.stderr.contains("events/s"))
        let bad = try run(["run"] + example + ["--log-level", "loud"])
        #expect(bad.status == 2 && bad.stderr.contains("--log-level needs one of"))
    }

    @Test("From another folder the bundled files are found, --out lands under that folder, and the manifest records the inputs")
    func anyFolder() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try Self.run(["run"] + example + ["--policy", "dqoes", "--seed", "2", "--out", "out"], in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("bundled with this qoesim"))
        let manifestPath = folder + "/out/manifest.json"
        let data = try #require(FileManager.default.contents(atPath: manifestPath))
        let m = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(m["qoesim_version"] as? String == QoESimVersion.current)
        #expect((m["seeds"] as? [Int]) == [2])
        let inputs = m["inputs"] as? [String: String] ?? [:]
        #expect(inputs.keys.contains { $0.hasSuffix("Traces/example/jobs.csv") } && inputs.keys.contains { $0.hasSuffix("resnet50.json") })
        #expect(inputs.values.allSatisfy { $0.count == 64 })
        #expect(!String(decoding: data, as: UTF8.self).contains("20\(Calendar.current.component(.year, from: Date()) % 100)-"), "no dates")
        // Same inputs and seed: the same bytes, manifest included.
        let again = try Self.run(["run"] + example + ["--policy", "dqoes", "--seed", "2", "--out", "again"], in: folder)
        #expect(again.status == 0)
        for f in ["manifest.json", "models.csv", "requests.csv"] {
            #expect(FileManager.default.contents(atPath: folder + "/out/" + f) == FileManager.default.contents(atPath: folder + "/again/" + f), "\(f)")
        }
    }

    @Test("run --json prints exactly one JSON object with the documented fields")
    func json() throws {
        let r = try run(["run"] + example + ["--policy", "fair-share", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let keys = ["policy", "seed", "models", "satisfied", "total", "events", "simulated_s", "wall_s"]
        for k in keys { #expect(obj?[k] != nil, "missing \(k)") }
        let models = obj?["models"] as? [[String: Any]] ?? []
        #expect(models.count == 6)
        for m in models {
            for k in ["id", "model", "target_ms", "metric", "requests", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "satisfied"] {
                #expect(m[k] != nil, "model lacks \(k)")
            }
        }
        #expect(r.stderr.contains("events/s"), "timings go to stderr")
    }

    @Test("A malformed trace exits 1 with FILE:LINE and writes nothing into --out")
    func malformed() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let trace = folder + "/bad.csv"
        try "job_id,model,arrival_s,duration_s,rate_rps,target_ms\nj,resnet50,0,10,fast,100\n"
            .write(toFile: trace, atomically: true, encoding: .utf8)
        let out = folder + "/results"
        let r = try run(["run", "--cluster", "Traces/example/cluster.json", "--trace", trace, "--out", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(trace):2: rate_rps: 'fast' is not a number"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("Usage errors exit 2; --help exits 0")
    func usage() throws {
        #expect(try run(["run", "--bogus"]).status == 2)
        #expect(try run(["run"] + example + ["--policy", "nonesuch"]).status == 2)
        let help = try run(["run", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--cluster"))
        #expect(try run(["import", "azure-llm", "--help"]).status == 0)
    }

    @Test("--out writes models, requests and allocations CSVs")
    func outFiles() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try run(["run"] + example + ["--policy", "static", "--out", folder, "--quiet"])
        #expect(r.status == 0 && r.stderr.isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == [".qoesim-output", "allocations.csv", "manifest.json", "models.csv", "observations.csv", "requests.csv", "usage.csv"])
        let models = try String(contentsOfFile: folder + "/models.csv", encoding: .utf8).split(separator: "\n")
        #expect(models.count == 7)
        let requests = try String(contentsOfFile: folder + "/requests.csv", encoding: .utf8).split(separator: "\n")
        // Each column once (the run keys hold policy and seed; the table does not repeat them).
        let header = models[0].split(separator: ",").map(String.init)
        #expect(Set(header).count == header.count && header.starts(with: ["run_id", "policy", "seed", "job_id"]), "\(header)")
        let requestsColumn = try #require(header.firstIndex(of: "requests"))
        let total = models.dropFirst().map { Int($0.split(separator: ",", omittingEmptySubsequences: false)[requestsColumn])! }.reduce(0, +)
        #expect(requests.count == total + 1, "one row per completed request")
        // Every row of every per-run file starts with the run's keys: run_id (the
        // manifest's digest), policy, seed.
        let manifest = try #require(FileManager.default.contents(atPath: folder + "/manifest.json"))
        let runID = String(FileDigestsForTests.sha256(manifest).prefix(12))
        for name in ["models.csv", "requests.csv", "allocations.csv", "usage.csv", "observations.csv"] {
            let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n")
            #expect(lines[0].hasPrefix("run_id,policy,seed,"), "\(name): \(lines[0])")
            #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("\(runID),static,1,") }, "\(name) has rows without the run keys")
        }
    }

    /// A run killed with SIGKILL while it writes its output (at each injection point of
    /// `DurableFolder`) leaves the previous complete output byte for byte, or none; the
    /// next run cleans up and writes a complete folder. 3 points x 2 (with and without a
    /// previous output).
    /// The writers that add to a folder (sweep, merge, reproduce, generate) and fit's
    /// figure: each refuses a user's folder or file in the way, naming it, and leaves it as
    /// it was (the old ones wrote results.csv, summary.csv, jobs.csv, the figure and its
    /// .csv over the user's own).
    @Test("sweep, merge, reproduce, generate and fit --figure never write over a user's files")
    func userFilesInTheWay() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = tinySpec(folder)
        func userFolder(_ name: String, holding files: [String]) throws -> String {
            let dir = folder + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in files { try "the user's \(f)\n".write(toFile: dir + "/" + f, atomically: true, encoding: .utf8) }
            return dir
        }
        func untouched(_ dir: String, _ files: [String]) throws {
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == files.sorted(), "\(dir)")
            for f in files { #expect(try String(contentsOfFile: dir + "/" + f, encoding: .utf8) == "the user's \(f)\n", "\(dir)/\(f)") }
        }
        let sweepDir = try userFolder("analysis", holding: ["results.csv", "notes.txt"])
        let sweep = try run(["sweep", spec, "--out", sweepDir, "--quiet"])
        #expect(sweep.status != 0 && sweep.stderr.contains(sweepDir) && sweep.stderr.contains("notes.txt"), "\(sweep.stderr)")
        try untouched(sweepDir, ["results.csv", "notes.txt"])
        let reproduceDir = try userFolder("paper", holding: ["summary.csv", "draft.tex"])
        let reproduce = try run(["reproduce", "--spec", spec, "--out", reproduceDir, "--quiet"])
        #expect(reproduce.status != 0 && reproduce.stderr.contains(reproduceDir), "\(reproduce.stderr)")
        try untouched(reproduceDir, ["summary.csv", "draft.tex"])
        let generateDir = try userFolder("scenario", holding: ["jobs.csv", "README"])
        let generate = try run(["generate", spec, "--out", generateDir])
        #expect(generate.status != 0 && generate.stderr.contains(generateDir), "\(generate.stderr)")
        try untouched(generateDir, ["jobs.csv", "README"])
        // A real shard, merged into a user's folder: refused.
        let shard = try run(["sweep", spec, "--out", folder + "/shard", "--quiet"])
        #expect(shard.status == 0, "\(shard.stderr)")
        let mergeDir = try userFolder("merged", holding: ["results.csv", "plot.py"])
        let merge = try run(["merge", spec, folder + "/shard", "--out", mergeDir])
        #expect(merge.status != 0 && merge.stderr.contains(mergeDir), "\(merge.stderr)")
        try untouched(mergeDir, ["results.csv", "plot.py"])
        // The same folders qoesim wrote are written again (a resumed sweep, a merge redone).
        #expect(try run(["sweep", spec, "--out", folder + "/shard", "--quiet"]).status == 0)
        #expect(try run(["merge", spec, folder + "/shard", "--out", folder + "/merged-by-qoesim"]).status == 0)
        #expect(try run(["merge", spec, folder + "/shard", "--out", folder + "/merged-by-qoesim"]).status == 0)
        // fit --figure: the user's figure and its .csv stay; qoesim's own are replaced.
        let figures = try userFolder("figures", holding: ["fit.svg", "fit.csv"])
        let fit = try run(["fit", "Traces/profiles/resnet50.csv", "--figure", figures + "/fit.svg"])
        #expect(fit.status != 0 && fit.stderr.contains(figures + "/fit.svg"), "\(fit.stderr)")
        try untouched(figures, ["fit.svg", "fit.csv"])
        let drawn = folder + "/drawn.svg"
        #expect(try run(["fit", "Traces/profiles/resnet50.csv", "--figure", drawn]).status == 0)
        #expect(try run(["fit", "Traces/profiles/resnet50.csv", "--figure", drawn]).status == 0)
        #expect(FileManager.default.fileExists(atPath: folder + "/drawn.csv"))
    }

    @Test("--out is whole or absent after SIGKILL at any point of writing, and never replaces a folder qoesim did not write")
    func durableOutput() throws {
        let base = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: base) }
        func snapshot(_ folder: String) -> [String: Data]? {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
            return Dictionary(uniqueKeysWithValues: names.map { ($0, FileManager.default.contents(atPath: folder + "/" + $0) ?? Data()) })
        }
        for point in ["output.mid-write", "output.before-swap", "output.between-renames"] {
            for previous in [false, true] {
                let out = base + "/\(point)-\(previous)"
                if previous {
                    #expect(try run(["run"] + example + ["--policy", "static", "--out", out, "--quiet"]).status == 0)
                }
                let before = snapshot(out)
                // Another seed: a finished run would change the files.
                let killed = try Self.run(
                    ["run"] + example + ["--policy", "dqoes", "--seed", "7", "--out", out, "--quiet"], environment: ["QOESIM_FAULT": point])
                #expect(killed.status != 0, "\(point): the run was not killed")
                let after = snapshot(out)
                if let after {
                    #expect(after == before, "\(point), previous \(previous): the folder is neither the previous output nor absent: \(after.keys.sorted())")
                } else {
                    // None is allowed; a moved-aside previous output is restored at the next start.
                    #expect(point == "output.between-renames" || before == nil, "\(point): the previous output vanished")
                }
                let again = try run(["run"] + example + ["--policy", "dqoes", "--seed", "7", "--out", out, "--quiet"])
                #expect(again.status == 0, "\(again.stderr)")
                let names = try FileManager.default.contentsOfDirectory(atPath: base)
                #expect(!names.contains { $0.contains("qoesim-staging") || $0.contains("qoesim-old") }, "leftovers: \(names)")
                #expect(snapshot(out)?["manifest.json"] != nil && snapshot(out)?["models.csv"] != nil)
            }
        }
        // A folder qoesim did not write is never replaced.
        let mine = base + "/thesis"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try "chapter 1".write(toFile: mine + "/draft.txt", atomically: true, encoding: .utf8)
        let refused = try run(["run"] + example + ["--out", mine, "--quiet"])
        #expect(refused.status == 1 && refused.stderr.contains("will not replace this folder"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: mine + "/draft.txt", encoding: .utf8) == "chapter 1")
        // Nor one holding a models.csv beside the user's notes (any folder with a
        // models.csv was taken for qoesim's, and the notes went with it), nor qoesim's
        // own output with the user's file added: only what the marker lists goes.
        let notes = base + "/notes"
        try FileManager.default.createDirectory(atPath: notes, withIntermediateDirectories: true)
        try "job,x\n".write(toFile: notes + "/models.csv", atomically: true, encoding: .utf8)
        try "mine\n".write(toFile: notes + "/notes.txt", atomically: true, encoding: .utf8)
        let refusedNotes = try run(["run"] + example + ["--out", notes, "--quiet"])
        #expect(refusedNotes.status == 1 && refusedNotes.stderr.contains("will not replace this folder"), "\(refusedNotes.stderr)")
        #expect(try String(contentsOfFile: notes + "/notes.txt", encoding: .utf8) == "mine\n")
        let ours = base + "/ours"
        #expect(try run(["run"] + example + ["--out", ours, "--quiet"]).status == 0)
        #expect(try String(contentsOfFile: ours + "/.qoesim-output", encoding: .utf8).contains("file: models.csv"))
        try "mine\n".write(toFile: ours + "/notes.txt", atomically: true, encoding: .utf8)
        let refusedOurs = try run(["run"] + example + ["--out", ours, "--quiet"])
        #expect(refusedOurs.status == 1 && refusedOurs.stderr.contains("notes.txt"), "\(refusedOurs.stderr)")
        #expect(try String(contentsOfFile: ours + "/notes.txt", encoding: .utf8) == "mine\n")
        try FileManager.default.removeItem(atPath: ours + "/notes.txt")
        #expect(try run(["run"] + example + ["--out", ours, "--quiet"]).status == 0)
    }

    @Test("Results know their code: a resumed sweep says how many run files it does not reuse; merge refuses a shard of other code")
    func resultsKnowTheirCode() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = "Experiments/slurm/sweep.yaml"
        let ids = try run(["sweep", spec, "--list"]).stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == 36)
        // A run file another build made (its id covers other code): not reused, and said so.
        try FileManager.default.createDirectory(atPath: folder + "/s/runs", withIntermediateDirectories: true)
        try "x\n".write(toFile: folder + "/s/runs/0123456789ab.csv", atomically: true, encoding: .utf8)
        let swept = try run(["sweep", spec, "--out", folder + "/s", "--only", ids[0], "--quiet"])
        #expect(swept.status == 0, "\(swept.stderr)")
        #expect(swept.stderr.contains("1 run files in \(folder)/s/runs were made by other code"), "\(swept.stderr)")
        // The shard's manifest names this executable; a shard made by another one is refused.
        let manifestPath = folder + "/s/manifest.json"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        #expect((manifest["executable_sha256"] as? String)?.count == 64)
        manifest["executable_sha256"] = String(repeating: "0", count: 64)
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let merged = try run(["merge", spec, "--out", folder + "/m", folder + "/s"])
        #expect(merged.status == 1 && merged.stderr.contains("made by other code"), "\(merged.status): \(merged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/m"))
    }

    /// Two processes have different hash seeds: nothing may depend on dictionary order.
    @Test("Separate processes with the same inputs and seed write byte-identical files", arguments: ["dqoes", "predictive"])
    func crossProcess(policy: String) throws {
        var contents: [[String: Data]] = []
        for _ in 0..<2 {
            let folder = Fixture.tempFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let r = try run(["run"] + example + ["--policy", policy, "--actuation-delay", "0.5", "--out", folder, "--quiet"])
            #expect(r.status == 0)
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                files[name] = FileManager.default.contents(atPath: folder + "/" + name)
            }
            contents.append(files)
        }
        #expect(contents[0].count == 7 && contents[0] == contents[1], "\(contents[0].keys.sorted())")
    }

    @Test("compare --json lists every policy with the same models")
    func compareJSON() throws {
        let r = try run(["compare"] + example + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let list = obj?["policies"] as? [[String: Any]] ?? []
        #expect(list.map { $0["policy"] as? String ?? "" } == PolicyRegistry.builtIn)
        for p in list { #expect((p["models"] as? [Any])?.count == 6 && p["settle_s"] != nil && p["cpu_s"] != nil) }
    }

    @Test("reproduce --json prints the headline comparison, its intervals and the curve")
    func reproduceJSON() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = tinySpec(folder)
        let r = try run(["reproduce", "--spec", spec, "--out", folder + "/out", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let headline = obj?["headline"] as? [String: Any]
        #expect(headline?["total"] as? Double == 4)
        #expect((headline?["satisfied"] as? [String: Any])?.count == 3)
        #expect((headline?["satisfied_band"] as? [String: Any])?.count == 3)
        #expect(headline?["policy"] as? String == "dqoes-fast" && headline?["baseline"] as? String == "fair-share")
        for key in ["ratio", "ratio_ci95", "baseline_ci95", "paired_diff", "paired_diff_ci95", "regime", "seeds"] {
            #expect(headline?.keys.contains(key) == true, "headline lacks \(key)")
        }
        let interval = headline?["paired_diff_ci95"] as? [Double]
        #expect(interval?.count == 2 && interval![0] <= interval![1])
        #expect(((obj?["blocks"] as? [String: Any])?["curve"] as? [Any])?.count == 3)
        #expect((obj?["map"] as? [Any])?.isEmpty == true)
    }

    #if os(Linux)
    /// GSL's BLAS calls must be served by OpenBLAS, not by GSL's reference CBLAS.
    @Test("GSL's cblas calls bind to OpenBLAS (dynamic linker bindings)")
    func gslUsesOpenBLAS() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var csv = "model,device,cpus,gpu_share,batch,latency_ms\n"
        for c in [0.5, 1, 2] { for k in 0..<4 { csv += "m,cpu,\(c),1,1,\(10 + 100 / c + Double(k))\n" } }
        try csv.write(toFile: folder + "/p.csv", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["fit", folder + "/p.csv", "--family", "amdahl", "-o", folder + "/m.json"]
        p.environment = ["LD_DEBUG": "bindings"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let cblas = text.split(separator: "\n").filter { $0.contains("libgsl.so") && $0.contains("`cblas_") }
        #expect(!cblas.isEmpty, "GSL made no cblas calls")
        #expect(cblas.allSatisfy { $0.contains("libopenblas") }, "some cblas symbol is not bound to OpenBLAS")
    }
    #endif

    @Test("import azure-llm converts timestamps and tokens, with attribution, atomically")
    func importAzure() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let src = folder + "/azure.csv"
        try """
        TIMESTAMP,ContextTokens,GeneratedTokens
        2023-11-16 18:17:03.9799600,100,0
        2023-11-16 18:17:04.4799600,250,50
        2023-11-16 18:18:03.9799600,0,0

        """.write(toFile: src, atomically: true, encoding: .utf8)
        let dst = folder + "/req.csv"
        let r = try run(["import", "azure-llm", src, "--job-id", "llm", "-o", dst])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: dst, encoding: .utf8)
        #expect(text.contains("CC-BY 4.0") && text.contains("Splitwise"))
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows == ["job_id,time_s,size", "llm,0.000000,0.75", "llm,0.500000,2.25", "llm,60.000000,1e-06"])
        let bad = folder + "/bad.csv"
        try "TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r2 = try run(["import", "azure-llm", bad, "-o", folder + "/x.csv"])
        #expect(r2.status == 1 && r2.stderr.contains("\(bad):2: TIMESTAMP"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.csv"))
        // Its own earlier output is replaced; a user's folder or file is not (the old
        // command removed either, recursively, before moving its file in).
        #expect(try run(["import", "azure-llm", src, "-o", dst]).status == 0)
        let results = folder + "/results"
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        try "mine\n".write(toFile: results + "/notes.txt", atomically: true, encoding: .utf8)
        let r3 = try run(["import", "azure-llm", src, "-o", results])
        #expect(r3.status == 1 && r3.stderr.contains("\(results): is a folder"), "\(r3.stderr)")
        #expect(try String(contentsOfFile: results + "/notes.txt", encoding: .utf8) == "mine\n")
        let user = folder + "/user.csv"
        try "job_id,time_s\nmine,1\n".write(toFile: user, atomically: true, encoding: .utf8)
        let r4 = try run(["import", "azure-llm", src, "-o", user])
        #expect(r4.status == 1 && r4.stderr.contains("not written by"), "\(r4.stderr)")
        #expect(try String(contentsOfFile: user, encoding: .utf8) == "job_id,time_s\nmine,1\n")
        #expect(try run(["import", "azure-llm", src, "-o", user, "--force"]).status == 0)
        #expect(try String(contentsOfFile: user, encoding: .utf8).contains("Splitwise"))
    }

    /// fit-arrivals on the bundled Azure trace: the table, the files it writes, the job it
    /// wrote running in the simulator, and a user's folder refused. Generate with a
    /// generator of MMPP arrivals writes the parameters file beside its jobs.
    @Test("fit-arrivals fits the bundled trace, writes a job that runs, and never writes over a user's folder; generate carries an MMPP's file")
    func fitArrivals() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = folder + "/fit"
        let r = try run(["fit-arrivals", "Traces/azure-llm/requests.csv", "--replicates", "10", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        for row in ["rate_rps", "interarrival_cv", "idc_1s", "idc_10s", "idc_60s", "ks_distance", "chosen K="] {
            #expect(r.stdout.contains(row), "\(row) missing from:\n\(r.stdout)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files.contains("mmpp.csv") && files.contains("job-mmpp.csv") && files.contains("job-gamma.csv") && files.contains("fit.json"), "\(files)")
        let sim = try run(["run", "--cluster", "Traces/example/cluster.json", "--trace", out + "/job-mmpp.csv", "--policy", "fair-share"])
        #expect(sim.status == 0 && sim.stdout.contains("models satisfied"), "\(sim.stderr)")
        // Again into its own folder: replaced. Into a user's: refused, untouched.
        #expect(try run(["fit-arrivals", "Traces/azure-llm/requests.csv", "--replicates", "10", "--out", out]).status == 0)
        let user = folder + "/mine"
        try FileManager.default.createDirectory(atPath: user, withIntermediateDirectories: true)
        try "the user's\n".write(toFile: user + "/mmpp.csv", atomically: true, encoding: .utf8)
        let refused = try run(["fit-arrivals", "Traces/azure-llm/requests.csv", "--replicates", "10", "--out", user])
        #expect(refused.status != 0 && refused.stderr.contains(user), "\(refused.stderr)")
        #expect(try String(contentsOfFile: user + "/mmpp.csv", encoding: .utf8) == "the user's\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: user) == ["mmpp.csv"])
        // A generator of MMPP arrivals: generate writes jobs.csv and the MMPP's file beside it.
        try FileManager.default.copyItem(atPath: out + "/mmpp.csv", toPath: folder + "/bursts.csv")
        let spec = tinySpec(folder)
        var text = try String(contentsOfFile: spec, encoding: .utf8)
        text = text.replacingOccurrences(of: "  duration_s: 60\n", with: "  duration_s: 60\n  arrivals: mmpp file=bursts.csv\n  load: 0.5\n")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        // An unmarked folder of the user's holding a file named like the parameters file: refused, untouched.
        let theirs = folder + "/theirs"
        try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)
        try "the user's\n".write(toFile: theirs + "/bursts.csv", atomically: true, encoding: .utf8)
        let refusedGenerate = try run(["generate", spec, "--out", theirs])
        #expect(refusedGenerate.status != 0 && refusedGenerate.stderr.contains(theirs), "\(refusedGenerate.stderr)")
        #expect(try String(contentsOfFile: theirs + "/bursts.csv", encoding: .utf8) == "the user's\n")
        let generated = try run(["generate", spec, "--out", folder + "/scenario"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let jobs = try String(contentsOfFile: folder + "/scenario/jobs.csv", encoding: .utf8)
        #expect(jobs.contains(",mmpp file=bursts.csv"), "\(jobs)")
        #expect(FileManager.default.fileExists(atPath: folder + "/scenario/bursts.csv"))
        let rerun = try run(["run", "--cluster", folder + "/scenario/cluster.json", "--trace", folder + "/scenario/jobs.csv", "--policy", "dqoes"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
    }
}

/// The experiments module's SHA-256, as the tests name it.
enum FileDigestsForTests {
    static func sha256(_ data: Data) -> String { FileDigests.sha256(data) }
}

/// `qoesim validate --reuse-live` against recorded runs made here from a simulation (no
/// Docker needed): a recording with the simulation's own arrivals is compared; one whose
/// arrivals differ (a run made with other fits, so another load) is refused by name.
@Suite("qoesim validate --reuse-live")
struct ReuseLiveTests {
    @Test("A recorded run is reused only when its arrivals are the simulation's; its fits are kept; live repeats are compared with each other")
    func arrivalsMustMatch() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let scenario = ["--trace", "Traces/validation/jobs.csv", "--cluster", "Traces/validation/cluster.json", "--models", "Traces/models-fitted"]
        // A stand-in for a live run: the simulation's own requests and results.
        let ran = try CLITests.run(["run"] + scenario + ["--policy", "fair-share", "--seed", "1", "--json", "--quiet", "--out", folder + "/run"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(ran.stdout.utf8)) as? [String: Any])
        let models = try #require(result["models"] as? [[String: Any]])
        let ids = models.compactMap { $0["id"] as? String }
        let lines = try String(contentsOfFile: folder + "/run/requests.csv", encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let header = lines[0].split(separator: ",").map(String.init)
        let col = { (name: String) in header.firstIndex(of: name)! }
        var requests = ids.map { _ in [[Double]]() }
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard let j = ids.firstIndex(of: f[col("job_id")]) else { continue }
            requests[j].append([Double(f[col("arrival_s")])!, Double(f[col("start_s")])!, Double(f[col("completion_s")])!])
        }
        // One repeat per scale: its models' live mean and p95 times that scale.
        func record(_ name: String, shift: Double, scales: [Double] = [1]) throws -> String {
            let dir = folder + "/" + name
            for (k, scale) in scales.enumerated() {
                try FileManager.default.createDirectory(atPath: dir + "/repeat-\(k + 1)/live", withIntermediateDirectories: true)
                let scaled = models.map { m in
                    m.merging(["mean_ms": (m["mean_ms"] as! Double) * scale, "p95_ms": (m["p95_ms"] as! Double) * scale]) { $1 }
                }
                let recorded: [String: Any] = [
                    "models": scaled, "satisfied": result["satisfied"] ?? 0, "failures": [String](),
                    "requests": requests.map { $0.map { [$0[0] + shift, $0[1] + shift, $0[2] + shift] } },
                ]
                try JSONSerialization.data(withJSONObject: recorded).write(to: URL(fileURLWithPath: dir + "/repeat-\(k + 1)/live/recorded.json"))
            }
            return dir
        }
        let same = try record("same", shift: 0), other = try record("other", shift: 0.5)
        let reused = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "1", "--reuse-live", same, "--out", folder + "/v1"])
        #expect(reused.status == 0, "\(reused.stderr)")
        #expect(reused.stdout.contains("arrival gap <= 0.0 ms"), "\(reused.stdout)")
        // The fits it simulated with are kept beside the results, byte for byte.
        for name in ["mobilenetv2.json", "resnet50.json", "bert-base.json"] {
            let kept = FileManager.default.contents(atPath: folder + "/v1/models/" + name)
            #expect(kept != nil && kept == FileManager.default.contents(atPath: "Traces/models-fitted/" + name), "\(name)")
        }
        let refused = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "1", "--reuse-live", other, "--out", folder + "/v2"])
        #expect(refused.status == 1)  // found while running: not a usage error
        #expect(refused.stderr.contains("reusing \(other)/repeat-1: its live run released its requests up to 500.0 ms"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/v2"), "the refused run left \(folder)/v2")
        // The live runs' repeatability, by validate's own statistic: two repeats whose
        // every live latency differs by 10% are 1/1.1 - 1 = 9.09% and 10% from each other.
        let twice = try record("twice", shift: 0, scales: [1, 1.1])
        let both = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "2", "--reuse-live", twice, "--out", folder + "/v3", "--json"])
        #expect(both.status == 0, "\(both.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [String: Any])
        for key in ["live_repeatability_pct", "live_repeatability_p95_pct"] {
            #expect(abs((report[key] as? Double ?? 0) - (0.1 / 1.1 * 100 + 10) / 2) < 1e-9, "\(key): \(report[key] ?? "none")")
        }
        #expect((report["live_repeatability_range"] as? [Double]).map { abs($0[0] - 0.1 / 1.1 * 100) < 1e-9 && abs($0[1] - 10) < 1e-9 } == true)
        // Against the live mean (1.05 x the simulation's latency) and its standard error
        // (|1.1 - 1| x / 2 = 0.05 x): every model -4.76%, -1.0 SE, within the goal's 2 SE;
        // the recordings are the simulation's own requests: no bias.
        let fidelity = try #require(report["fidelity"] as? [String: Any])
        let perModel = try #require(fidelity["models"] as? [[String: Any]])
        #expect(perModel.count == 3)
        for m in perModel {
            for key in ["mean", "p95"] {
                let e = try #require(m[key] as? [String: Any], "\(m)")
                #expect(abs((e["error_pct"] as? Double ?? 0) - (1 / 1.05 - 1) * 100) < 1e-6, "\(m["id"] ?? "") \(key): \(e)")
                #expect(abs((e["error_se"] as? Double ?? 0) + 1) < 1e-6 && e["within_limit"] as? Bool == true, "\(e)")
            }
            #expect(((m["bias"] as? [String: Any])?["pct"] as? Double).map { abs($0) < 1e-9 } == true, "\(m)")
        }
        #expect(fidelity["goal_met"] as? Bool == true, "\(fidelity["goal_misses"] ?? "")")
        #expect(both.stdout.isEmpty == false)
        let one = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "1", "--reuse-live", twice, "--out", folder + "/v4"])
        #expect(one.status == 0 && !one.stdout.contains("live repeats against each other"), "\(one.stdout)")
        #expect(one.stdout.contains("goal (|err| <= 2 SE on mean and p95, |bias| <= 3%, satisfied = live majority): not judged"), "\(one.stdout)")
        // --out is replaced whole, and only when qoesim wrote it: a user's folder holding a
        // report.json and notes is refused, untouched (the old campaign wrote its
        // report.json, models/ and trajectories into it).
        let mine = folder + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try "my report\n".write(toFile: mine + "/report.json", atomically: true, encoding: .utf8)
        try "my notes\n".write(toFile: mine + "/notes.txt", atomically: true, encoding: .utf8)
        let intoMine = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "1", "--reuse-live", same, "--out", mine])
        #expect(intoMine.status != 0 && intoMine.stderr.contains(mine), "\(intoMine.stderr)")
        #expect(try String(contentsOfFile: mine + "/report.json", encoding: .utf8) == "my report\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mine).sorted() == ["notes.txt", "report.json"])
        // A campaign folder is replaced, and one reused into itself keeps its live recordings.
        let again = try CLITests.run(["validate"] + scenario + ["--policy", "fair-share", "--repeats", "1", "--reuse-live", folder + "/v1", "--out", folder + "/v1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/v1/repeat-1/live/recorded.json"))
        #expect(FileManager.default.fileExists(atPath: folder + "/v1/report.json"))
    }

}

/// The command reference page is the commands' own help (`qoesim reference`).
@Suite("documentation")
struct DocumentationTests {
    @Test("Docs/COMMANDS.md equals `qoesim reference` (run `bash Docs/commands.sh` after changing a help text)")
    func commandReferenceIsCurrent() throws {
        let r = try CLITests.run(["reference"])
        #expect(r.status == 0, "\(r.stderr)")
        let page = try String(contentsOfFile: Fixture.packageRoot + "/Docs/COMMANDS.md", encoding: .utf8)
        #expect(r.stdout.contains("## qoesim import burstgpt") && r.stdout.contains("## qoesim validate"), "the reference lacks commands")
        if page != r.stdout {
            let a = page.split(separator: "\n", omittingEmptySubsequences: false)
            let b = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let first = Array(zip(a, b)).firstIndex { $0.0 != $0.1 } ?? min(a.count, b.count)
            Issue.record("Docs/COMMANDS.md is out of date from line \(first + 1): page \"\(first < a.count ? a[first] : "<end>")\", help \"\(first < b.count ? b[first] : "<end>")\"; run `bash Docs/commands.sh`")
        }
    }

    @Test("every command's help lists its options and an overview (the reference covers them all)")
    func everyCommandHasHelp() throws {
        let r = try CLITests.run(["reference"])
        let sections = r.stdout.components(separatedBy: "\n## ").dropFirst()
        #expect(sections.count >= 17, "\(sections.count) commands")
        for s in sections {
            #expect(s.contains("OVERVIEW:") && s.contains("USAGE:"), "\(s.prefix(80))")
        }
    }
}

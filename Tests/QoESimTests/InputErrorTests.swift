import Foundation
import Testing
import QoESim

/// Every kind of bad input gets an InputError naming the file and the line.
@Suite("Bad input")
struct InputErrorTests {
    let root = Fixture.packageRoot
    var models: String { root + "/Traces/models" }
    var cluster: String { root + "/Traces/example/cluster.json" }

    func write(_ text: String, name: String = "jobs.csv") -> String {
        let folder = Fixture.tempFolder()
        let path = folder + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func loadError(trace: String, cluster c: String? = nil, models m: String? = nil, requests: String? = nil) -> InputError? {
        do {
            _ = try Scenario.load(cluster: c ?? cluster, trace: trace, models: m ?? models, requests: requests)
            return nil
        } catch let e as InputError {
            return e
        } catch {
            return nil
        }
    }

    static let header = "job_id,model,arrival_s,duration_s,rate_rps,target_ms"

    @Test("Job trace errors name file, line and problem", arguments: [
        ("job_id,model,arrival_s,rate_rps,target_ms\nj,resnet50,0,1,100\n", 1, "missing required column(s) duration_s"),
        ("job_id,model,arrival_s,duration_s,rate_rps\nj,resnet50,0,10,1\n", 1, "needs a column target_ms or target_cpus"),
        ("job_id,model,arrival_s,duration_s,target_ms\nj,resnet50,0,10,100\n", 1, "needs a column rate_rps or load"),
        ("\(header),target_cpus\nj,resnet50,0,10,1,100,2\n", 2, "give target_ms or target_cpus, not both"),
        ("\(header),target_cpus\nj,resnet50,0,10,1,,\n", 2, "target_ms: value is missing (give target_ms or target_cpus)"),
        ("\(header),target_cpus\nj,resnet50,0,10,1,,-1\n", 2, "target_cpus: must be > 0"),
        ("\(header),load\nj,resnet50,0,10,1,100,0.5\n", 2, "give rate_rps or load, not both"),
        ("\(header),load\nj,resnet50,0,10,,100,0.5\n", 2, "load: a load needs target_cpus or cpus"),
        ("\(header),load,cpus\nj,resnet50,0,10,,100,0,1\n", 2, "load: must be > 0"),
        ("\(header),colour\nj,resnet50,0,10,1,100,red\n", 1, "unknown column"),
        ("\(header)\nj,resnet50,0,10,1\n", 2, "expected 6 fields"),
        ("\(header)\nj,resnet50,zero,10,1,100\n", 2, "arrival_s: 'zero' is not a number"),
        ("\(header)\nj,resnet50,0,10,nan,100\n", 2, "rate_rps: 'nan' is not a finite number"),
        ("\(header)\nj,resnet50,0,1e999,1,100\n", 2, "duration_s: '1e999' is not a finite number"),
        ("\(header)\nj,resnet50,0,10,-2,100\n", 2, "rate_rps: must be > 0"),
        ("\(header)\nj,resnet50,0,10,0,100\n", 2, "rate_rps: must be > 0"),
        ("\(header)\nj,resnet50,0,0,1,100\n", 2, "duration_s: must be > 0"),
        ("\(header)\nj,resnet50,0,10,1,-5\n", 2, "target_ms: must be > 0"),
        ("\(header)\n\nj,resnet50,0,10,1,100\n# note\nj,resnet50,0,10,1,100\n", 5, "duplicate job id 'j' (first defined at line 3)"),
        ("\(header)\nj,alexnet,0,10,1,100\n", 2, "unknown model 'alexnet'"),
        ("\(header),node\nj,resnet50,0,10,1,100,node9\n", 2, "node 'node9' does not exist"),
        ("\(header),metric\nj,resnet50,0,10,1,100,p90\n", 2, "metric: 'p90' is not one of"),
        ("\(header),workers\nj,resnet50,0,10,1,100,1.5\n", 2, "workers: '1.5' is not an integer"),
        ("\(header),cpus\nj,resnet50,0,10,1,100,64\n", 2, "no eligible node has that many"),
        ("\(header),arrivals\nj,resnet50,0,10,,100,trace\n", 2, "arrivals=trace but no request trace"),
        ("\(header),node\nj,resnet50-gpu,0,10,1,100,node1\n", 2, "needs a GPU"),
        ("\(header)\n\"j,resnet50,0,10,1,100\n", 2, "unterminated quoted field"),
        ("\(header)\n", 1, "job trace has no jobs"),
        ("   \n\n", 0, "file is empty"),
        ("\(header)\nj,resnet50,0,10,1,100\u{0}\n", 2, "binary content"),
        // Values that parse but lie beyond the documented limits (Docs/LIMITS.md).
        ("\(header)\nj,resnet50,0,1e300,1,100\n", 2, "duration_s: 1e+300 is beyond the limit: duration_s must be at most"),
        ("\(header)\nj,resnet50,1e300,10,1,100\n", 2, "arrival_s: 1e+300 is beyond the limit"),
        ("\(header)\nj,resnet50,0,10,1e300,100\n", 2, "rate_rps: 1e+300 is beyond the limit"),
        ("\(header)\nj,resnet50,0,10,1,1e300\n", 2, "target_ms: 1e+300 is beyond the limit"),
        ("\(header),weight\nj,resnet50,0,10,1,100,1e308\n", 2, "weight: 1e+308 is beyond the limit"),
        ("\(header),weight\nj,resnet50,0,10,1,100,1e-9\n", 2, "weight must be at least"),
        ("\(header),workers\nj,resnet50,0,10,1,100,1000000000\n", 2, "workers must be at most 1024"),
        ("\(header),cpus\nj,resnet50,0,10,1,100,1e300\n", 2, "cpus: 1e+300 is beyond the limit"),
        ("\(header)\nj,resnet50,0,1e8,1e5,100\n", 2, "expected requests, beyond the limit of 1e+09 per job"),
    ])
    func jobTrace(text: String, line: Int, message: String) {
        let path = write(text)
        let e = loadError(trace: path)
        #expect(e != nil, "no error for \(text)")
        #expect(e?.file == path)
        #expect(e?.line == line, "line \(String(describing: e?.line)) for \(message): \(String(describing: e))")
        #expect(e?.problem.contains(message) == true, "'\(e?.problem ?? "")' lacks '\(message)'")
    }

    @Test("Targets and loads relative to the fit: target = latency at target_cpus, rate = load / latency there")
    func relativeTargetsAndLoads() throws {
        let path = write("""
            job_id,model,arrival_s,duration_s,target_ms,target_cpus,load,metric,arrivals,cpus
            a,resnet50,0,10,,2,0.5,mean,poisson,
            b,resnet50,0,10,500,,0.25,mean,poisson,4
            c,resnet50,0,10,,3,,p95,closed,
            """)
        let s = try Scenario.load(cluster: cluster, trace: path, models: models)
        let m = s.jobs[0].model
        let at2 = m.latency.latencySeconds(cpus: 2)
        #expect(abs(s.jobs[0].targetMs - at2 * 1000) < 1e-3)
        #expect(abs(s.jobs[0].rate - 0.5 / at2) < 1e-9)
        // Without target_cpus the load is relative to the job's cpus.
        #expect(abs(s.jobs[1].rate - 0.25 / m.latency.latencySeconds(cpus: 4)) < 1e-9)
        // A p95 target is the latency at c* times the variability's 95% quantile.
        let p95 = m.latency.latencySeconds(cpus: 3) * 1000 * m.variability.quantileFactor(0.95)
        #expect(abs(s.jobs[2].targetMs - p95) < 1e-3 && s.jobs[2].targetMs > m.latency.latencySeconds(cpus: 3) * 1000)
        #expect(s.jobs[2].rate == 0)
    }

    @Test("Invalid UTF-8 is reported as binary with its line")
    func invalidUTF8() {
        let folder = Fixture.tempFolder()
        let path = folder + "/jobs.csv"
        var bytes = Array("\(Self.header)\nj,resnet50,0,10,1,100\n".utf8)
        bytes += [0xFF, 0xFE, 0x0A]
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let e = loadError(trace: path)
        #expect(e?.line == 3 && e?.problem.contains("binary") == true, "\(String(describing: e))")
    }

    @Test("A missing file is named")
    func missingFile() {
        let e = loadError(trace: "/nonexistent/jobs.csv")
        #expect(e?.file == "/nonexistent/jobs.csv" && e?.problem == "file does not exist")
    }

    @Test("Cluster file errors name file and line", arguments: [
        ("{\"nodes\": [{\"name\": \"a\", \"cpus\": 4},\n {\"name\": \"a\", \"cpus\": 2}]}", 2, "defined twice"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpus\": -1}]}", 2, "cpus must be > 0"),
        ("{\"nodes\": [\n {\"name\": \"a\"}]}", 2, "missing field 'cpus'"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpus\": \"four\"}]}", 2, "cpus must be a number"),
        ("{\"nodes\": []}", 1, "cluster has no nodes"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpus\": 4,, }]}", 2, "not valid JSON/YAML"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpu\": 4}]}", 2, "unknown field 'cpu'"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpus\": 1e300}]}", 2, "cpus: 1e+300 is beyond the limit: cpus must be at most 4096 cores"),
        ("{\"nodes\": [\n {\"name\": \"a\", \"cpus\": 4, \"gpus\": 1000}]}", 2, "gpus must be at most 64"),
    ])
    func clusterFile(text: String, line: Int, message: String) {
        let path = write(text, name: "cluster.json")
        let trace = write("\(Self.header)\nj,resnet50,0,10,1,100\n")
        let e = loadError(trace: trace, cluster: path)
        #expect(e?.file == path, "\(String(describing: e))")
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.problem.contains(message) == true, "\(String(describing: e))")
    }

    @Test("Model file errors name file and line", arguments: [
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"amdahl\", \"serial_ms\": 1, \"max_parallelism\": 2}}", 2, "missing field 'parallel_ms'"),
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"cubic\"}}", 2, "'cubic' is not one of"),
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 1, \"b_ms\": 2, \"k\": 0.5},\n \"variability\": {\"distribution\": \"lognormal\"}}", 3, "missing field 'cv'"),
        ("{\"latency\": {\"family\": \"power\", \"a_ms\": 1, \"b_ms\": 2, \"k\": 0.5}}", 1, "missing field 'name'"),
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"power\", \"a_ms\": 1, \"b_ms\": 2, \"k\": 0.5},\n \"variability\": {\"distribution\": \"lognormal\", \"cv\": 1e308}}", 3, "cv must be at most 100"),
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"amdahl\", \"serial_ms\": 1, \"parallel_ms\": 1e308, \"max_parallelism\": 2}}", 2, "parallel_ms must be at most"),
        ("{\"name\": \"m\",\n \"latency\": {\"family\": \"amdahl\", \"serial_ms\": 1, \"parallel_ms\": 5, \"max_parallelism\": 1e300}}", 2, "max_parallelism must be at most 4096"),
    ])
    func modelFile(text: String, line: Int, message: String) {
        let folder = Fixture.tempFolder()
        let path = folder + "/m.json"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let trace = write("\(Self.header)\nj,m,0,10,1,100\n")
        let e = loadError(trace: trace, models: folder)
        #expect(e?.file == path, "\(String(describing: e))")
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.problem.contains(message) == true, "\(String(describing: e))")
    }

    @Test("Request trace errors name file and line")
    func requestTrace() {
        let trace = write("\(Self.header),arrivals\nj,resnet50,0,10,,100,trace\n")
        let bad = write("job_id,time_s,size\nj,0.5,1\nk,1.0,1\n", name: "req.csv")
        let e = loadError(trace: trace, requests: bad)
        #expect(e?.file == bad && e?.line == 3 && e?.problem.contains("not a job") == true, "\(String(describing: e))")
        let neg = write("job_id,time_s\nj,0.5\nj,-1\n", name: "req.csv")
        let e2 = loadError(trace: trace, requests: neg)
        #expect(e2?.line == 3 && e2?.problem.contains("time_s: must be >= 0") == true, "\(String(describing: e2))")
    }

    @Test("More jobs than memory allows: a clear error naming the limit, before any allocation for the run")
    func tooManyJobs() throws {
        let budget = Double(ProcessInfo.processInfo.physicalMemory) / 2
        let limit = Int(budget / (16 * 1024))
        let model = Fixture.model(parallelMs: 10)
        let job = Fixture.job("j", model, duration: 10)
        let scenario = Scenario(cluster: Fixture.cluster(1, cpus: 4), jobs: [JobSpec](repeating: job, count: limit + 1))
        do {
            try scenario.validate(jobFile: "big.csv")
            Issue.record("no error for \(limit + 1) jobs")
        } catch let e as InputError {
            #expect(e.file == "big.csv" && e.problem.contains("the limit here is \(limit) jobs"), "\(e)")
        }
    }
}

@Suite("Input limits")
struct LimitsDocumentationTests {
    @Test("Docs/LIMITS.md names every field of InputLimits with its bounds")
    func documented() throws {
        let doc = try String(contentsOfFile: Fixture.packageRoot + "/Docs/LIMITS.md", encoding: .utf8)
        for (name, limit) in InputLimits.byName {
            let row = doc.split(separator: "\n").first { $0.hasPrefix("|") && $0.contains("`\(name)`") }
            #expect(row != nil, "Docs/LIMITS.md has no row for \(name)")
            if let row {
                #expect(row.contains(limit.why), "the row of \(name) does not give its reason '\(limit.why)'")
            }
        }
    }
}

@Suite("Fuzz findings, as regression tests")
struct FuzzRegressionTests {
    /// Found by Tests/Fuzz (parse-and-simulate, 545,848 executions in): weights 1e6 and
    /// 1e-5 on a 7-core node; the water-filling gave 7.000012 cores (invariant S6). The
    /// finding's scenario as the fuzz target runs it (first byte 1: policy "static",
    /// seed 1, actuation delay 0.25 s, 2 s, invariant checks on; the job id, which keys its
    /// random stream, as the target decodes it), then under every policy.
    @Test("Weights 1e6 beside 1e-5 on a 7-core node keep the simulation's invariants", arguments: PolicyRegistry.builtIn)
    func extremeWeights(policy: String) throws {
        let catalog = try ModelCatalog.load(folder: Fixture.packageRoot + "/Traces/models")
        let jobs = try JobTrace.parse(
            Array("job_id,model,arrival_s,duration_s,rate_rps,target_ms,weight\n\u{FFFD}Collecti,mobilenetv2,0,2,5,50,1000000\nb,resnet50,0,2,5,300,0.000010\n".utf8),
            file: "weights.csv", models: catalog, nodeNames: ["n"])
        var options = SimulationOptions(horizon: 2)
        options.checkInvariants = true
        options.actuationDelay = 0.25
        let r = try Simulation(
            scenario: Scenario(cluster: Fixture.cluster(1, cpus: 7), jobs: jobs), policy: PolicyRegistry.make(policy, parameters: [:]),
            options: options
        ).run(seed: 1)
        #expect(r.models.allSatisfy { $0.requests > 0 })
    }

    /// Found by Tests/Fuzz (azure-trace, 120,186 executions in): a 19-digit year overflowed
    /// the day arithmetic and trapped. Years must be 1-9999; the row is then refused.
    @Test("Azure timestamps: a year beyond 9999 is refused, not an overflow trap")
    func azureYearOverflow() throws {
        #expect(AzureLLMImporter.parseTimestamp("4099276460824343294-11-16 18:17:03.96") == nil)
        #expect(AzureLLMImporter.parseTimestamp("10000-01-01 00:00:00") == nil)
        #expect(AzureLLMImporter.parseTimestamp("1970-01-02 00:00:01.5") == 86401.5)
        let bytes = Array("TIMESTAMP,ContextTokens,GeneratedTokens\n4099276460824343294-11-16 18:17:03.96,4808,10\n".utf8)
        #expect(throws: InputError.self) { try AzureLLMImporter.parse(bytes, file: "azure.csv") }
    }
}


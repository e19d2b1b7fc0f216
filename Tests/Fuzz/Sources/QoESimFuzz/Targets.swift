import Foundation
import QoESim
import QoESimExperiments
import QoESimFit
import QoESimDockerWire

/// The fuzz targets. libFuzzer calls ``LLVMFuzzerTestOneInput`` with each input; the
/// target is chosen once per process by QOESIM_FUZZ_TARGET (run.sh runs one process per
/// target). A reader may throw ``InputError`` (that is its job); anything else it throws,
/// a trap, a leak or a hang (`-timeout`) is a finding.
enum FuzzTarget: String, CaseIterable {
    case jobTrace = "job-trace"
    case requestTrace = "request-trace"
    case requestStream = "request-trace-stream"
    case clusterJSON = "cluster-json"
    case clusterYAML = "cluster-yaml"
    case modelFile = "model-file"
    case experimentFile = "experiment-file"
    case profileCSV = "profile-csv"
    case azureTrace = "azure-trace"
    case simulate = "parse-and-simulate"
    case engineTar = "engine-tar"
    case engineLogs = "engine-logs"
    case engineImport = "engine-import"
    case engineJSON = "engine-json"
    case recordedJSON = "recorded-json"
    case arrivalFiles = "arrival-files"
    case functionsTrace = "functions-trace"
    case functions2019 = "functions-2019"
}

/// What every target shares: the bundled models and a folder for experiment files.
final class FuzzContext: @unchecked Sendable {
    static let shared = FuzzContext()
    let target: FuzzTarget
    let root: String
    let catalog: ModelCatalog
    let folder: String
    /// A file for targets that read from disk (the streamed request trace).
    let scratch: String

    init() {
        let name = ProcessInfo.processInfo.environment["QOESIM_FUZZ_TARGET"] ?? ""
        guard let t = FuzzTarget(rawValue: name) else {
            let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("QOESIM_FUZZ_TARGET must be one of \(all), got '\(name)'\n".utf8))
            exit(2)
        }
        target = t
        root = ProcessInfo.processInfo.environment["QOESIM_ROOT"] ?? FileManager.default.currentDirectoryPath
        catalog = try! ModelCatalog.load(folder: root + "/Traces/models")
        folder = root + "/Experiments/paper-8x"
        scratch = NSTemporaryDirectory() + "qoesim-fuzz-\(getpid()).csv"
    }
}

/// Runs one input through the current target. Input errors are expected; anything
/// else is reported by trapping, which libFuzzer records as a crash with the input.
func fuzzOne(_ bytes: [UInt8]) {
    let ctx = FuzzContext.shared
    do {
        switch ctx.target {
        case .jobTrace:
            _ = try JobTrace.parse(bytes, file: "fuzz.csv", models: ctx.catalog, nodeNames: ["node1", "node2"])
        case .requestTrace:
            _ = try RequestTrace.parse(bytes, file: "fuzz.csv", jobIDs: ["a", "b", "drive-detect"])
        case .requestStream:
            try streamAgainstHeld(bytes, file: ctx.scratch)
        case .clusterJSON:
            _ = try ClusterSpec.parse(bytes, file: "fuzz.json")
        case .clusterYAML:
            _ = try ClusterSpec.parse(bytes, file: "fuzz.yaml")
        case .modelFile:
            _ = try ModelCatalog.parseModel(bytes, file: "fuzz.json")
        case .experimentFile:
            // Relative paths resolve against a real experiment's folder, so that the
            // bundled models and traces can be named as the shipped files name them.
            let spec = try ExperimentSpec.parse(bytes, file: ctx.folder + "/fuzz.yaml")
            let sweep = try Sweep(spec: spec)
            // Every run's id hashes its whole definition: list them for small experiments
            // only (a paper-sized one has thousands; that is the sweep's work, not the reader's).
            let count = sweep.blocks.reduce(0) { $0 + $1.points.count } * spec.policies.count * spec.seeds.count
            if count <= 64 { _ = try sweep.runs() }
        case .profileCSV:
            _ = try Profile.parse(bytes, file: "fuzz.csv")
        case .azureTrace:
            _ = try AzureLLMImporter.parse(bytes, file: "fuzz.csv")
        case .simulate:
            try parseAndSimulate(bytes, catalog: ctx.catalog)
        case .engineTar:
            // What the reader accepts, the writer writes back to the same files.
            let files = try TarArchive.files(in: Data(bytes))
            let entries = files.map { TarArchive.Entry(path: $0.path, contents: $0.contents) }
            if let again = try? TarArchive.archive(entries) {
                let back = try TarArchive.files(in: again)
                precondition(back.map(\.contents) == files.map(\.contents), "a tar archive written from what was read reads back differently")
            }
        case .engineLogs:
            let (out, err) = try LogStream.demultiplex(Data(bytes))
            precondition(out.count + err.count <= bytes.count, "the log payloads are longer than the stream")
        case .engineImport:
            _ = try ImageImportAnswer.imageID(Data(bytes))
        case .engineJSON:
            // Every JSON answer qoesim reads, on the same bytes.
            let data = Data(bytes)
            _ = try? EngineAnswer.version(data)
            _ = try? EngineAnswer.containers(data)
            _ = try? EngineAnswer.containerState(data)
            _ = try? EngineAnswer.exitStatus(data)
            _ = try? EngineAnswer.createdID(data)
            _ = EngineAnswer.errorMessage(data)
            if let pids = try? EngineAnswer.processIDs(data) {
                precondition(pids.count <= bytes.count, "more process ids than bytes")
            }
        case .functionsTrace:
            // What it accepts converts to a request trace the request-trace reader takes.
            // A first line starting with "Timestamp" is a BurstGPT file instead.
            if bytes.starts(with: Array("Timestamp".utf8)) {
                let requests = try BurstGPTImporter.parse(bytes, file: "fuzz.csv")
                let text = BurstGPTImporter.convert(requests, grouping: .both, source: "fuzz.csv")
                let ids = Set(requests.filter { !$0.failed }.map { BurstGPTImporter.jobID($0, .both) })
                do {
                    _ = try RequestTrace.parse(Array(text.utf8), file: "converted.csv", jobIDs: Array(ids))
                } catch {
                    if !ids.isEmpty { fatalError("burstgpt: an accepted trace converts to a request trace that is refused: \(error)") }
                }
                return
            }
            let calls = try AzureFunctions2021Importer.parse(bytes, file: "fuzz.csv")
            let text = AzureFunctions2021Importer.convert(calls, top: 3, source: "fuzz.csv")
            let ids = Set(calls.map { AzureFunctions2021Importer.jobID(app: $0.app, function: $0.function) })
            do {
                _ = try RequestTrace.parse(Array(text.utf8), file: "converted.csv", jobIDs: Array(ids))
            } catch {
                fatalError("functions-trace: an accepted trace converts to a request trace that is refused: \(error)")
            }
        case .functions2019:
            // The first byte picks the file: an invocation-count file (what it accepts
            // converts to a valid request trace) or a duration-percentile file.
            guard let first = bytes.first else { return }
            let rest = Array(bytes.dropFirst())
            if first % 2 == 0 {
                let functions = try AzureFunctions2019Importer.parseInvocations(rest, file: "fuzz.csv")
                guard functions.reduce(0, { $0 + $1.total }) <= 20_000 else { return }
                let text = AzureFunctions2019Importer.convert(functions, durations: nil, top: 3, trigger: nil, spread: .random, seed: 1, source: "fuzz")
                do {
                    _ = try RequestTrace.parse(Array(text.utf8), file: "converted.csv", jobIDs: functions.map(\.id))
                } catch {
                    fatalError("functions-2019: an accepted file converts to a request trace that is refused: \(error)")
                }
            } else {
                _ = try AzureFunctions2019Importer.parseDurations(rest, file: "fuzz.csv")
            }
        case .arrivalFiles:
            // The parameter files a job trace's arrivals name: the first byte chooses an
            // MMPP's (what it accepts is a valid chain: it writes back to itself) or a
            // piecewise rate profile's.
            guard let first = bytes.first else { return }
            let rest = Array(bytes.dropFirst())
            if first % 2 == 0 {
                let m = try MMPP.parse(rest, file: "fuzz-mmpp.csv")
                precondition(abs(m.stationary.reduce(0, +) - 1) < 1e-6 && m.meanRate > 0, "an MMPP accepted without a stationary law")
                let again = try MMPP.parse(Array(m.csv.utf8), file: "again.csv")
                precondition(again.rates == m.rates && again.meanDwell == m.meanDwell, "an MMPP reads back differently")
                precondition(zip(again.jumps.joined(), m.jumps.joined()).allSatisfy { abs($0 - $1) <= 1e-12 }, "an MMPP's jumps read back differently")
            } else {
                let p = try RateProfile.parsePiecewise(rest, file: "fuzz-rates.csv", named: "fuzz-rates.csv")
                precondition(p.peak > 0 && p.integral(to: 1e6) >= 0, "a rate profile accepted that sends nothing")
            }
        case .recordedJSON:
            let recorded = try RecordedLiveRun.decode(Data(bytes), file: "recorded.json", jobs: nil)
            precondition(recorded.requests.count == recorded.models.count, "a recording accepted with requests for other jobs")
        }
    } catch is InputError {
    } catch is WireFormatError {
    } catch is PolicyParameterError {
    } catch {
        fatalError("\(ctx.target.rawValue): an error that is not an InputError: \(error)")
    }
}

/// Splits the input into a cluster file, a job trace and a request trace (separated by
/// lines `---jobs` and `---requests`), validates them as `qoesim run` does, and
/// simulates up to 2 s under a policy chosen by the first byte, with invariant checks
/// on. Work is bounded so that a slow input is not a hang: scenarios expecting more than
/// 20,000 requests in those 2 s are skipped (the limits of Docs/LIMITS.md allow far more
/// in a real run; the engine's speed is measured in Benchmarks/).
func parseAndSimulate(_ bytes: [UInt8], catalog: ModelCatalog) throws {
    guard let first = bytes.first else { return }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let parts = text.components(separatedBy: "\n---jobs\n")
    guard parts.count == 2 else { return }
    let rest = parts[1].components(separatedBy: "\n---requests\n")
    let cluster = try ClusterSpec.parse(Array(parts[0].utf8), file: "fuzz-cluster.yaml")
    let jobs = try JobTrace.parse(Array(rest[0].utf8), file: "fuzz-jobs.csv", models: catalog, nodeNames: cluster.nodes.map(\.name))
    var requests: [String: [TracedRequest]] = [:]
    if rest.count > 1 { requests = try RequestTrace.parse(Array(rest[1].utf8), file: "fuzz-requests.csv", jobIDs: jobs.map(\.id)) }
    let scenario = Scenario(cluster: cluster, jobs: jobs, requests: requests)
    try scenario.validate(jobFile: "fuzz-jobs.csv", requestFile: "fuzz-requests.csv")
    let horizon = 2.0
    var expected = 0.0
    for j in jobs {
        let window = max(0, min(j.duration, horizon - j.arrival))
        switch j.arrivals {
        case .poisson: expected += j.rate * window
        case .closed: expected += window / max(1e-6, j.model.latency.latencySeconds(cpus: 4096)) * Double(j.workers)
        case .trace: expected += Double(requests[j.id]?.count ?? 0)
        case .varying(let profile): expected += j.rate * profile.integral(to: window)
        case .gamma, .weibull, .mmpp: expected += j.rate * window
        }
    }
    guard expected <= 20_000, jobs.count <= 200 else { return }
    let names = PolicyRegistry.builtIn
    let policy = try PolicyRegistry.make(names[Int(first) % names.count], parameters: [:])
    var options = SimulationOptions(horizon: horizon)
    options.checkInvariants = true
    options.actuationDelay = Double(first % 3) * 0.25
    let result = try Simulation(scenario: scenario, policy: policy, options: options).run(seed: UInt64(first))
    precondition(result.models.count == jobs.count, "a job went missing from the result")
}

/// Differential: the bytes as a file, validated and read back by the streaming reader,
/// must be refused when the held reader refuses them, and otherwise give the held
/// reader's requests for every job (unless a job's rows go back in time, which only the
/// stream refuses).
func streamAgainstHeld(_ bytes: [UInt8], file: String) throws {
    let ids = ["a", "b", "drive-detect"]
    guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else { fatalError("cannot write \(file)") }
    var held: [String: [TracedRequest]]? = nil, heldError: InputError? = nil
    do { held = try RequestTrace.load(file, jobIDs: ids) } catch let e as InputError { heldError = e }
    do {
        let streamed = try StreamedRequestTrace(validating: file, jobIDs: ids)
        guard let held else { fatalError("streamed accepted what the held reader refused: \(heldError!)") }
        for id in ids {
            let a = streamed.requests(of: id), b = held[id] ?? []
            precondition(a == b, "job \(id): streamed \(a.count) requests differ from held \(b.count)")
        }
    } catch let e as InputError {
        // Both refuse, or the streamed reader refuses rows out of time order that the held
        // one sorts. (With several faults in one file the two may name different ones: the
        // held reader checks the text of the whole file first, the stream line by line.)
        precondition(heldError != nil || e.problem.contains("is earlier than"), "streamed refused what the held reader accepted: \(e)")
        throw e
    }
}

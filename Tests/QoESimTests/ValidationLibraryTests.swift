import Foundation
import Testing
import QoESim
import QoESimDockerWire
import QoESimExperiments
import QoESimFit
import QoESimLive
import QoESimValidation

/// The pieces of the validation library that need no engine: the Engine API payloads
/// (tar archives, log streams, import answers), the profile files, the cache key, the
/// outside-load meter, and files replaced only when qoesim wrote them.
@Suite("Validation library without an engine")
struct ValidationLibraryTests {
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "qoesim-vlib-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("tar: what is written reads back, long paths included; GNU tar reads ours; ours reads GNU tar's")
    func tarRoundTrip() throws {
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/lib.so"
        let entries = [
            TarArchive.Entry(path: "usr", contents: nil, mode: 0o755),
            TarArchive.Entry(path: "qoesim-infer", contents: Data((0..<1500).map { UInt8($0 % 251) }), mode: 0o755),
            TarArchive.Entry(path: "empty", contents: Data()),
            TarArchive.Entry(path: long, contents: Data("x".utf8)),
        ]
        let tar = try TarArchive.archive(entries)
        #expect(tar.count % 512 == 0)
        let files = try TarArchive.files(in: tar)
        #expect(files.map(\.path) == ["qoesim-infer", "empty", long])
        #expect(files[0].contents == entries[1].contents && files[1].contents.isEmpty && files[2].contents == Data("x".utf8))
        // The system's tar lists and extracts what we wrote, and we read what it writes.
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tar.write(to: URL(fileURLWithPath: dir + "/ours.tar"))
        let extract = Process()
        extract.executableURL = URL(fileURLWithPath: "/bin/tar")
        extract.arguments = ["-xf", dir + "/ours.tar", "-C", dir]
        try extract.run()
        extract.waitUntilExit()
        #expect(extract.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: dir + "/qoesim-infer") == entries[1].contents)
        #expect(FileManager.default.contents(atPath: dir + "/" + long) == Data("x".utf8))
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/bin/tar")
        create.arguments = ["-cf", dir + "/theirs.tar", "-C", dir, "qoesim-infer", long]
        try create.run()
        create.waitUntilExit()
        let theirs = try TarArchive.files(in: Data(contentsOf: URL(fileURLWithPath: dir + "/theirs.tar")))
        #expect(theirs.map(\.path) == ["qoesim-infer", long] && theirs[0].contents == entries[1].contents)
    }

    @Test("tar: a truncated archive, a bad checksum or a size past the end is an error, never a trap")
    func tarRefusals() throws {
        let tar = try TarArchive.archive([TarArchive.Entry(path: "f", contents: Data(repeating: 7, count: 700))])
        #expect(throws: WireFormatError.self) { try TarArchive.files(in: tar.prefix(600)) }
        #expect(throws: WireFormatError.self) { try TarArchive.files(in: tar.prefix(300)) }
        var corrupt = tar
        corrupt[10] ^= 0xff
        #expect(throws: WireFormatError.self) { try TarArchive.files(in: corrupt) }
        #expect(throws: WireFormatError.self) { try TarArchive.archive([TarArchive.Entry(path: String(repeating: "a", count: 300), contents: Data())]) }
    }

    @Test("Log streams: stdout and stderr frames are split; a frame past the end or an unknown stream is an error")
    func logStreams() throws {
        let framed = LogStream.multiplex(stdout: Data("request,latency_ms\n0,1.5\n".utf8), stderr: Data("cpu_seconds 0.5\n".utf8))
        let (out, err) = try LogStream.demultiplex(framed + LogStream.multiplex(stdout: Data("1,2.5\n".utf8), stderr: Data()))
        #expect(String(decoding: out, as: UTF8.self) == "request,latency_ms\n0,1.5\n1,2.5\n")
        #expect(String(decoding: err, as: UTF8.self) == "cpu_seconds 0.5\n")
        #expect(throws: WireFormatError.self) { try LogStream.demultiplex(framed.dropLast()) }
        #expect(throws: WireFormatError.self) { try LogStream.demultiplex(Data([5, 0, 0, 0, 0, 0, 0, 1, 65])) }
        #expect(throws: WireFormatError.self) { try LogStream.demultiplex(Data([1, 0, 0])) }
        #expect(try ImageImportAnswer.imageID(Data("{\"status\":\"sha256:abc\"}\n".utf8)) == "sha256:abc")
        #expect(throws: WireFormatError.self) { try ImageImportAnswer.imageID(Data("{\"errorDetail\":{\"message\":\"no space\"}}\n".utf8)) }
    }

    @Test("Profile files: written and read back for every kind; a wrong header names the file and line")
    func profileFiles() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for kind in ProfileFile.Kind.allCases {
            let row = kind.columns.enumerated().map { "\($0.offset + 1)" }
            let file = ProfileFile(kind: kind, comments: ["qoesim \(kind.rawValue) profile", "machine: test"], rows: [row, row])
            try file.write(to: dir + "/\(kind.rawValue).csv")
            let back = try ProfileFile.read(dir + "/\(kind.rawValue).csv", kind: kind)
            #expect(back == file, "\(kind)")
            #expect(try back.number(1, kind.columns.last!) == Double(kind.columns.count))
        }
        do {
            _ = try ProfileFile.read(dir + "/spin.csv", kind: .quota)
            Issue.record("a spin profile was read as a quota profile")
        } catch let e as InputError {
            #expect(e.description.contains("spin.csv") && e.description.contains(":3"), "\(e)")
        }
        // A user's file at the path is not replaced (unless forced); a qoesim profile is.
        try "my notes\n".write(toFile: dir + "/mine.csv", atomically: true, encoding: .utf8)
        let some = ProfileFile(kind: .spin, comments: ["qoesim idle-spin profile"], rows: [["n", "1", "0", "1", "0.5", "0.1"]])
        #expect(throws: InputError.self) { try some.write(to: dir + "/mine.csv") }
        #expect(try String(contentsOfFile: dir + "/mine.csv", encoding: .utf8) == "my notes\n")
        try some.write(to: dir + "/spin.csv")
                // Latency profiles are what QoESimFit reads.
        let quota = ProfileFile(kind: .quota, comments: ["x"], rows: [["mobilenetv2", "cpu", "1.0", "1", "1", "80.5", "docker", "0"]])
        try quota.write(to: dir + "/q.csv")
        #expect(try Profile.load(dir + "/q.csv").map(\.latencyMs) == [80.5])
    }

    @Test("The cache key names every input that changes a profile: each one changed changes the key")
    func cacheKey() {
        let base = LocalFits.Settings(limits: [0.25, 0.5, 1, 2], requests: 5)
        let env = ["OPENBLAS_NUM_THREADS": "2"]
        let reference = ProfileCache.keyText(settings: base, engineVersion: "20.10.24", binarySHA256: "aa", environment: env)
        var variants: [String] = []
        var s = base
        s.limits = [0.5, 1, 2]
        variants.append(ProfileCache.keyText(settings: s, engineVersion: "20.10.24", binarySHA256: "aa", environment: env))
        s = base
        s.requests = 6
        variants.append(ProfileCache.keyText(settings: s, engineVersion: "20.10.24", binarySHA256: "aa", environment: env))
        s = base
        s.colocations = [2, 3]
        variants.append(ProfileCache.keyText(settings: s, engineVersion: "20.10.24", binarySHA256: "aa", environment: env))
        s = base
        s.coldGapMs = 100
        variants.append(ProfileCache.keyText(settings: s, engineVersion: "20.10.24", binarySHA256: "aa", environment: env))
        s = base
        s.spin.pairs = 2
        variants.append(ProfileCache.keyText(settings: s, engineVersion: "20.10.24", binarySHA256: "aa", environment: env))
        variants.append(ProfileCache.keyText(settings: base, engineVersion: "24.0.5", binarySHA256: "aa", environment: env))
        variants.append(ProfileCache.keyText(settings: base, engineVersion: "20.10.24", binarySHA256: "bb", environment: env))
        variants.append(ProfileCache.keyText(settings: base, engineVersion: "20.10.24", binarySHA256: "aa", environment: ["OPENBLAS_THREAD_TIMEOUT": "4"]))
        for (i, v) in variants.enumerated() { #expect(v != reference, "variant \(i) gives the reference key") }
        #expect(Set(variants).count == variants.count)
        #expect(ProfileCache.keyText(settings: base, engineVersion: "20.10.24", binarySHA256: "aa", environment: env) == reference)
    }

    @Test("Outside load: this machine's busy time is readable and grows with work done here")
    func hostLoad() throws {
        let before = try #require(HostLoadMeter.busySeconds())
        var x = 0.0
        let start = Date()
        while Date().timeIntervalSince(start) < 0.3 { x += sin(x) + 1 }
        let after = try #require(HostLoadMeter.busySeconds())
        #expect(x > 0 && after - before >= 0.1, "busy \(before) -> \(after)")
        var meter = HostLoadMeter()
        meter.sample(containers: [], at: 0)
        #expect(meter.outsideCores == nil)  // one sample, no window
    }

    @Test("A file named by the user is replaced only when qoesim wrote it; a folder never")
    func ownedFiles() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        try "notes\n".write(toFile: dir + "/folder/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try OwnedFile.replace(dir + "/folder", with: "x", kind: .modelJSON, force: true) }
        #expect(FileManager.default.contents(atPath: dir + "/folder/notes.txt") == Data("notes\n".utf8))
        try "{\"name\": \"mine\"}\n".write(toFile: dir + "/model.json", atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try OwnedFile.replace(dir + "/model.json", with: "{}", kind: .modelJSON, force: false) }
        #expect(FileManager.default.contents(atPath: dir + "/model.json") == Data("{\"name\": \"mine\"}\n".utf8))
        try OwnedFile.replace(dir + "/model.json", with: "{\"source\": \"fitted by qoesim fit\"}\n", kind: .modelJSON, force: true)
        try OwnedFile.replace(dir + "/model.json", with: "{\"source\": \"fitted by qoesim fit again\"}\n", kind: .modelJSON, force: false)
        #expect(String(decoding: FileManager.default.contents(atPath: dir + "/model.json") ?? Data(), as: UTF8.self).contains("again"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["folder", "model.json"])  // no partial files
    }

    @Test("A recorded live run that is malformed is an error naming the file, never a trap")
    func recordedRuns() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases = [
            "not json", "{}", "{\"models\": [], \"satisfied\": 0, \"failures\": [], \"requests\": []}",
            "{\"models\": [], \"satisfied\": 0, \"failures\": [], \"requests\": [[[1, 2]]]}",
        ]
        for (i, text) in cases.enumerated() {
            try text.write(toFile: dir + "/r\(i).json", atomically: true, encoding: .utf8)
            do {
                _ = try RecordedLiveRun.read(dir + "/r\(i).json", jobs: ["a"])
                Issue.record("case \(i) was read")
            } catch let e as InputError {
                #expect(e.description.contains("r\(i).json"), "\(e)")
            }
        }
    }

    @Test("Model files: one type read by the catalogue, written by the fitter, edited by local fits; every shipped file round-trips")
    func modelFiles() throws {
        for folder in ["Traces/models", "Traces/models-fitted"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".json") }) {
                let path = folder + "/" + name
                let spec = try ModelCatalog.loadModel(path).0
                let file = try ModelFile.read(path)
                #expect(try file.spec() == spec, "\(path)")
                #expect(try ModelFile(spec: spec).spec() == spec, "\(path)")
                // What is written reads back as the same file.
                #expect(try JSONDecoder().decode(ModelFile.self, from: Data(file.json.utf8)) == file, "\(path)")
            }
        }
        // Setting a part aside keeps it, and its statistics, where the simulator does not look.
        var file = ModelFile(spec: ModelSpec(
            name: "m", latency: LatencyModel(family: .power(aMs: 10, bMs: 100, k: 1), maxParallelism: .infinity), variability: .lognormal(cv: 0.1),
            source: "qoesim test", coldStart: ColdStart(factor: 1.2, afterMs: 100), idleSpin: IdleSpin(seconds: 0.2, cores: 1, weight: 0.5)))
        file.statistics["fit_idle_spin"] = .object(["n": .number(3)])
        file.setAside(.idleSpin)
        #expect(file.idleSpin == nil && file.statistics["measured_idle_spin"] != nil && file.statistics["measured_fit_idle_spin"] != nil)
        #expect(try file.spec().idleSpin == .none && file.spec().coldStart == ColdStart(factor: 1.2, afterMs: 100))
        // An unknown field is refused by both the type and the catalogue.
        let unknown = Data("{\"name\": \"m\", \"latency\": {\"family\": \"power\", \"a_ms\": 1, \"b_ms\": 1, \"k\": 1}, \"colds\": 1}".utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ModelFile.self, from: unknown) }
        #expect(throws: InputError.self) { try ModelCatalog.parseModel([UInt8](unknown), file: "u.json") }
    }
}

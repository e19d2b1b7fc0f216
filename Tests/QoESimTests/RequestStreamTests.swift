import Foundation
import Testing
import QoESim
import QoESimExperiments

/// Request traces over `RequestTrace.streamAbove` are validated in one pass and streamed
/// (`StreamedRequestTrace`, `CSVStream`): the same rows, the same errors and the same
/// simulation as a trace held in memory. Peak memory on a 10^8-row trace is measured in
/// Benchmarks/stream, not here.
@Suite("Streamed request traces")
struct RequestStreamTests {
    static func write(_ text: String, in folder: String, name: String = "requests.csv") -> String {
        let p = folder + "/" + name
        try! Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    @Test("CSVStream reads the rows CSVTable reads, across chunk boundaries (64-byte chunks)")
    func sameRows() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let long = String(repeating: "x", count: 300)
        let text = "# attribution\r\n\njob_id,time_s,size\r\n a , 0.5 ,1\n\"q,\"\"uo\"\"te\",1.5,2\n# comment\n   \n\(long),2.5,1\r\nlast,3.5,"
        let path = Self.write(text, in: folder)
        let table = try CSVTable(path: path)
        let stream = try CSVStream(path: path, chunkSize: 64)
        #expect(stream.header == table.header && stream.headerLine == table.headerLine)
        var rows: [(Int, [String])] = []
        while let r = try stream.next() { rows.append((r.line, r.fields)) }
        #expect(rows.map(\.0) == table.rows.map(\.line))
        #expect(rows.map(\.1) == table.rows.map(\.fields))
        #expect(rows.count == 4)
    }

    @Test("Streamed validation gives the in-memory reader's errors (file, line, problem)", arguments: [
        "job_id,time_s,size\nj,0.5,1\nk,1.0,1\n",  // unknown job
        "job_id,time_s\nj,0.5\nj,-1\n",  // negative time
        "job_id,time_s,size\nj,0.5,0\n",  // size not positive
        "job_id,time_s\nj,0.5,3\n",  // field count
        "job_id,time_s\nj,\"0.5\n",  // unterminated quote
        "job_id,when\nj,0.5\n",  // missing column
        "job_id,time_s\nj,0.5\nj,1\u{0}\n",  // NUL byte
        "   \n\n",  // blank
        "",  // zero bytes
        "# only a comment\n",  // no header
        "job_id,time_s\nj,nan\n",  // not a number
    ])
    func sameErrors(text: String) throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = Self.write(text, in: folder)
        var held: InputError? = nil, streamed: InputError? = nil
        do { _ = try RequestTrace.load(path, jobIDs: ["j"]) } catch let e as InputError { held = e }
        do { _ = try StreamedRequestTrace(validating: path, jobIDs: ["j"]) } catch let e as InputError { streamed = e }
        #expect(held != nil)
        #expect(streamed?.file == held?.file && streamed?.line == held?.line && streamed?.problem == held?.problem,
                "held \(String(describing: held)) vs streamed \(String(describing: streamed))")
    }

    @Test("Invalid UTF-8 is reported on its line by both readers")
    func invalidUTF8() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/requests.csv"
        try Data(Array("job_id,time_s\nj,0.5\n".utf8) + [0x6A, 0xFF, 0x2C, 0x31, 0x0A]).write(to: URL(fileURLWithPath: path))
        var held: InputError? = nil, streamed: InputError? = nil
        do { _ = try RequestTrace.load(path, jobIDs: ["j"]) } catch let e as InputError { held = e }
        do { _ = try StreamedRequestTrace(validating: path, jobIDs: ["j"]) } catch let e as InputError { streamed = e }
        #expect(held?.line == 3 && streamed?.line == 3 && streamed?.problem == held?.problem)
    }

    @Test("A job's rows out of time order are refused when streaming, naming both lines")
    func outOfOrder() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = Self.write("job_id,time_s\nj,0.5\nk,0.1\nj,2\nj,1.5\n", in: folder)
        #expect(try RequestTrace.load(path, jobIDs: ["j", "k"])["j"]?.map(\.offset) == [0.5, 1.5, 2])
        do {
            _ = try StreamedRequestTrace(validating: path, jobIDs: ["j", "k"])
            Issue.record("no error")
        } catch let e as InputError {
            #expect(e.line == 5 && e.problem.contains("earlier than 2.0 on line 4"), "\(e)")
        }
    }

    /// Run ids and manifests hash input files in 1 MiB pieces (a streamed trace may not
    /// fit in memory): the digest must be the whole file's.
    @Test("A file's SHA-256 read in pieces equals the digest of its whole bytes (3.5 MiB)")
    func pieceDigest() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = RandomStream(seed: 2, key: "digest", purpose: .policy)
        let bytes = (0..<(3 << 20) + 512 * 1024).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let path = folder + "/big.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try FileDigests().sha256(file: path) == FileDigests.sha256(Data(bytes)))
    }

    /// Two open-loop trace jobs whose rows interleave in the file, one Poisson job beside
    /// them; the streamed and held traces must give byte-identical results, scaled too.
    @Test("A streamed trace simulates exactly as the same trace held in memory")
    func sameSimulation() throws {
        let folder = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = RandomStream(seed: 9, key: "stream-test", purpose: .policy)
        var rows = ["# a comment", "job_id,time_s,size"]
        var t = [0.0, 0.0]
        for _ in 0..<6000 {
            let j = Int(rng.next() % 2)
            t[j] += rng.nextUnitInterval() * 0.02
            rows.append("\(["a", "b"][j]),\(t[j]),\(1 + Double(rng.next() % 3) / 2)")
        }
        let path = Self.write(rows.joined(separator: "\n") + "\n", in: folder)
        let m = Fixture.model("m", serialMs: 1, parallelMs: 12, maxParallelism: 2)
        let jobs = [
            Fixture.job("a", m, duration: 50, arrivals: .trace),
            Fixture.job("b", m, duration: 40, arrival: 5, arrivals: .trace),
            Fixture.job("p", m, rate: 20, duration: 60, arrivals: .poisson),
        ]
        let held = Scenario(cluster: Fixture.cluster(1, cpus: 3), jobs: jobs, requests: try RequestTrace.load(path, jobIDs: ["a", "b", "p"]))
        var streamed = Scenario(cluster: Fixture.cluster(1, cpus: 3), jobs: jobs)
        streamed.streamedRequests = try StreamedRequestTrace(validating: path, jobIDs: ["a", "b", "p"])
        #expect(streamed.tracedCount(of: "a") == held.tracedCount(of: "a") && streamed.tracedCount(of: "b") == held.tracedCount(of: "b"))
        #expect(streamed.tracedRequests(of: "b") == held.tracedRequests(of: "b"))
        for (h, s) in [(held, streamed), (held.scaled(load: 1.7), streamed.scaled(load: 1.7))] {
            let a = try Simulation(scenario: h, policy: DQoESPolicy()).run(seed: 3)
            let b = try Simulation(scenario: s, policy: DQoESPolicy()).run(seed: 3)
            #expect(a.models.map(\.requests).reduce(0, +) > 4000)
            #expect(ResultFormatter.json(a, wallSeconds: 0) == ResultFormatter.json(b, wallSeconds: 0))
        }
    }
}

import Foundation
import QoESim
import Testing

/// The public-trace importers on real rows their publishers printed (Traces/azure-llm/
/// sample-2023.csv, sample-2024.csv, Traces/azure-functions-2021/sample.csv; each file's
/// header says where its rows come from).
@Suite("Importers of public traces")
struct ImporterTests {
    let root = Fixture.packageRoot

    @Test("Azure LLM 2024: offsets and whole seconds read, times and sizes exact, its own attribution")
    func azureLLM2024() throws {
        let (records, edition) = try AzureLLMImporter.readWithEdition(root + "/Traces/azure-llm/sample-2024.csv")
        #expect(edition == .y2024)
        #expect(records.count == 10)
        // Epoch seconds as doubles keep about 0.24 µs at 1.7e9 s: times within 1 µs.
        #expect(abs(records[1].time - 0.007405) < 1e-6)
        // 2024-05-16 23:59:59.929501 - 2024-05-10 00:00:00.009930 = 6 d 23:59:59.919571.
        #expect(abs(records[9].time - 604_799.919571) < 1e-6)
        #expect(records[0] == AzureLLMImporter.Record(time: 0, contextTokens: 2162, generatedTokens: 5))
        let text = AzureLLMImporter.convert(records, jobID: "code", sizeBasis: .total, source: "sample-2024.csv", edition: .y2024)
        #expect(text.hasPrefix("# Derived from the Azure LLM inference trace 2024"))
        #expect(text.contains("DynamoLLM"))
        let mean = records.reduce(0.0) { $0 + Double($1.contextTokens + $1.generatedTokens) } / 10
        #expect(text.contains("code,0.000000,\(String(format: "%.6g", 2167 / mean))\n"))
        // The other forms: whole seconds with an offset, other offsets, no offset (2023).
        #expect(AzureLLMImporter.parseTimestamp("2024-05-12 00:00:00+00:00") == AzureLLMImporter.parseTimestamp("2024-05-12 00:00:00"))
        #expect(AzureLLMImporter.parseTimestamp("2024-01-01 00:00:00-05:00") == AzureLLMImporter.parseTimestamp("2024-01-01 05:00:00"))
        #expect(AzureLLMImporter.parseTimestamp("2024-01-01 00:00:00+5:00") == nil)
        #expect(AzureLLMImporter.parseTimestamp("2024-01-01 00:00:00+15:00") == nil)
        let (old, oldEdition) = try AzureLLMImporter.readWithEdition(root + "/Traces/azure-llm/sample-2023.csv")
        #expect(oldEdition == .y2023 && old.count == 20 && abs(old[1].time - 0.052) < 1e-6)
    }

    @Test("Azure Functions 2021: arrival = end - duration, the most invoked kept, sizes per function, errors named")
    func azureFunctions2021() throws {
        let calls = try AzureFunctions2021Importer.read(root + "/Traces/azure-functions-2021/sample.csv")
        #expect(calls.count == 6)
        #expect(abs(calls[0].arrival - (5160.142570018768 - 0.134)) < 1e-9)
        let text = AzureFunctions2021Importer.convert(calls, top: 3, source: "sample.csv")
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        // Every function is invoked once: ties go by job id; times from the earliest kept arrival.
        #expect(rows == ["job_id,time_s,size", "fn-17c37a0f-c9f8e30e,1.259427,1", "fn-734272c0-313c03f5,0.000000,1", "fn-7fa05b60-9bc86d6c,39.203160,1"])
        #expect(text.hasPrefix("# Derived from the Azure Functions invocation trace 2021"))
        // Two invocations of one function: sizes are durations over its mean.
        let two = [calls[0], AzureFunctions2021Importer.Invocation(app: calls[0].app, function: calls[0].function, arrival: 5170, duration: 0.402)]
        let sized = AzureFunctions2021Importer.convert(two + [calls[1]], top: 1, source: "x")
        #expect(sized.contains("fn-734272c0-313c03f5,0.000000,0.5\n") && sized.contains("fn-734272c0-313c03f5,9.991430,1.5\n"), "\(sized)")
        // The request trace it writes is a valid one.
        let parsed = try RequestTrace.parse(Array(text.utf8), file: "out.csv", jobIDs: ["fn-17c37a0f-c9f8e30e", "fn-734272c0-313c03f5", "fn-7fa05b60-9bc86d6c"])
        #expect(parsed.count == 3)
        func refusal(_ body: String) -> String {
            do { _ = try AzureFunctions2021Importer.parse(Array(("app,func,end_timestamp,duration\n" + body).utf8), file: "f.csv"); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal("a,b,10,-1\n") == "f.csv:2: duration: must be >= 0, got -1")
        #expect(refusal("a,,10,1\n") == "f.csv:2: func: value is missing")
        #expect(refusal("a,b,ten,1\n") == "f.csv:2: end_timestamp: 'ten' is not a number")
        #expect(refusal("") == "f.csv:1: trace has no invocations")
    }

    @Test("Azure Functions 2019 (synthetic rows in the published schema): even and random spreads, sizes from the percentiles, errors named")
    func azureFunctions2019() throws {
        let folder = root + "/Traces/azure-functions-2019"
        let functions = try AzureFunctions2019Importer.parseInvocations(TextFile.read(folder + "/synthetic-invocations.csv"), file: "inv.csv")
        let durations = try AzureFunctions2019Importer.parseDurations(TextFile.read(folder + "/synthetic-durations.csv"), file: "dur.csv")
        #expect(functions.count == 3 && durations.count == 2)
        let http = try #require(functions.first { $0.trigger == "http" })
        let text = AzureFunctions2019Importer.convert(functions, durations: durations, top: 3, trigger: nil, spread: .even, seed: 1, source: "x")
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { $0.split(separator: ",") }
        #expect(rows.count == functions.reduce(0) { $0 + $1.total }, "every invocation is a request")
        // Even spread: the n invocations of minute m at (m + (k + 0.5) / n) x 60 s.
        let mine = rows.filter { $0[0] == Substring(http.id) }.map { Double($0[1])! }
        let firstMinute = http.perMinute.firstIndex { $0 > 0 }!, n = http.perMinute[firstMinute]
        for k in 0..<n { #expect(abs(mine[k] - (Double(firstMinute) + (Double(k) + 0.5) / Double(n)) * 60) < 1e-6) }
        // Sizes: drawn from the piecewise-linear percentiles over the Average; their mean
        // against that distribution's mean (about 4,800 draws: SE about 1.2%).
        let d = durations[http.id]!
        var exact = 0.0
        for i in 1..<AzureFunctions2019Importer.levels.count {
            exact += (AzureFunctions2019Importer.levels[i] - AzureFunctions2019Importer.levels[i - 1]) * (d.percentiles[i] + d.percentiles[i - 1]) / 2
        }
        let sizes = rows.filter { $0[0] == Substring(http.id) }.map { Double($0[2])! }
        let mean = sizes.reduce(0, +) / Double(sizes.count)
        #expect(abs(mean - exact / d.average) < 0.05 * exact / d.average, "mean size \(mean), theory \(exact / d.average)")
        // No duration file for the third function: size 1. A trigger filter keeps its group only.
        #expect(rows.filter { $0[0] == "fn-ffeeddcc-aabbccdd" }.allSatisfy { $0[2] == "1" })
        let timers = AzureFunctions2019Importer.convert(functions, durations: nil, top: 5, trigger: "timer", spread: .even, seed: 1, source: "x")
        #expect(timers.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().allSatisfy { $0.hasPrefix("fn-a1b2c3d4-01234567,") })
        // Random spread: same seed same text, inside each minute, sorted.
        let r1 = AzureFunctions2019Importer.convert(functions, durations: nil, top: 1, trigger: nil, spread: .random, seed: 4, source: "x")
        #expect(r1 == AzureFunctions2019Importer.convert(functions, durations: nil, top: 1, trigger: nil, spread: .random, seed: 4, source: "x"))
        #expect(r1 != AzureFunctions2019Importer.convert(functions, durations: nil, top: 1, trigger: nil, spread: .random, seed: 5, source: "x"))
        let times = r1.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { Double($0.split(separator: ",")[1])! }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // Errors name file, line and column.
        let header = "HashOwner,HashApp,HashFunction,Trigger," + (1...1440).map(String.init).joined(separator: ",") + "\n"
        func refusal(_ row: String) -> String {
            do { _ = try AzureFunctions2019Importer.parseInvocations(Array((header + row).utf8), file: "inv.csv"); return "accepted" } catch { return "\(error)" }
        }
        let zeros = [String](repeating: "0", count: 1439).joined(separator: ",")
        #expect(refusal("o,a,f,http,-3," + zeros + "\n") == "inv.csv:2: 1: must be >= 0, got -3")
        #expect(refusal("o,,f,http,1," + zeros + "\n") == "inv.csv:2: HashApp: value is missing")
        #expect(refusal("o,a,f,http,1," + zeros + "\no,a,f,http,1," + zeros + "\n") == "inv.csv:3: HashFunction: function fn-a-f again (first at line 2)")
        do {
            _ = try AzureFunctions2019Importer.parseDurations(Array("HashApp,HashFunction,Average,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\na,f,10,1,2,3,9,5,6,7\n".utf8), file: "dur.csv")
            Issue.record("decreasing percentiles accepted")
        } catch { #expect("\(error)".hasPrefix("dur.csv:2: percentile_Average_0: percentiles must not decrease")) }
    }

    @Test("BurstGPT: failed requests dropped by the publishers' rule, one job per model, sizes per job, errors named")
    func burstGPT() throws {
        let requests = try BurstGPTImporter.read(root + "/Traces/burstgpt/sample.csv")
        #expect(requests.count == 24 && requests.filter(\.failed).count == 1)
        let text = BurstGPTImporter.convert(requests, grouping: .model, source: "sample.csv")
        #expect(text.contains("1 failed (Response tokens 0) dropped"))
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { $0.split(separator: ",") }
        #expect(rows.count == 23)
        let gpt4 = rows.filter { $0[0] == "gpt-4" }
        #expect(gpt4.count == 5)
        // GPT-4's first request at 118 s, 113 s after the earliest kept one (5 s); its size
        // is 693 tokens over GPT-4's mean of (693 + 879 + 911 + 1175 + 2075) / 5.
        #expect(gpt4[0][1] == "113.000000")
        #expect(abs(Double(gpt4[0][2])! - 693 / (5733.0 / 5)) < 1e-5)
        #expect(rows.filter { $0[0] == "chatgpt" }.count == 18)
        let both = BurstGPTImporter.convert(requests, grouping: .both, source: "x")
        #expect(both.contains("\nchatgpt-conversation-log,0.000000,"))
        _ = try RequestTrace.parse(Array(text.utf8), file: "out.csv", jobIDs: ["chatgpt", "gpt-4"])
        do {
            _ = try BurstGPTImporter.parse(Array("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,-1,3,2,API log\n".utf8), file: "b.csv")
            Issue.record("negative tokens accepted")
        } catch { #expect("\(error)" == "b.csv:2: Request tokens: must be >= 0, got -1") }
    }
}

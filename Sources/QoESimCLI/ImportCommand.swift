import ArgumentParser
import Foundation
import QoESim

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert external traces into QoESim request traces.",
        subcommands: [AzureLLM.self, AzureFunctions2019.self, AzureFunctions2021.self, BurstGPT.self]
    )

    struct AzureLLM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "azure-llm",
            abstract: "Convert the Azure LLM inference trace (CC-BY 4.0) into a request trace.",
            discussion: """
            Input: TIMESTAMP,ContextTokens,GeneratedTokens. Output: job_id,time_s,size, with
            time_s in seconds since the first request and size = tokens / mean tokens, so
            a typical request has size 1. The output carries the trace's attribution as
            '#' comment lines (pandas: read_csv(path, comment="#")).

            Example (the file as the Azure Public Dataset publishes it):
              qoesim import azure-llm AzureLLMInferenceTrace_code.csv --job-id llm -o requests.csv
            """
        )

        @Argument(help: "The Azure trace CSV.")
        var file: String

        @Option(help: "job_id to give every request (a job of your job trace with arrivals=trace).")
        var jobID: String = "llm"

        @Option(help: "Token counts that make a request's size: total, context, generated, none.")
        var sizeBasis: String = "total"

        @Option(help: "Multiply every time by this factor (e.g. 0.5 doubles the request rate).")
        var timeScale: Double = 1

        @Option(help: "Which edition's attribution the output carries: 2023, 2024, or auto (the year of the first TIMESTAMP).")
        var edition: String = "auto"

        @OptionGroup var destination: ImportDestination

        func validate() throws {
            guard AzureLLMImporter.SizeBasis(rawValue: sizeBasis) != nil else {
                throw ValidationError("--size-basis must be one of total, context, generated, none")
            }
            guard timeScale > 0 && timeScale <= 1e6 else { throw ValidationError("--time-scale must be in (0, 1e6]") }
            guard edition == "auto" || AzureLLMImporter.Edition(rawValue: edition) != nil else {
                throw ValidationError("--edition must be auto, 2023 or 2024")
            }
            guard !jobID.isEmpty, !jobID.contains(","), !jobID.contains("\"") else {
                throw ValidationError("--job-id must be non-empty and contain no comma or quote")
            }
        }

        func run() throws {
            let (records, found) = try AzureLLMImporter.readWithEdition(file)
            let last = records.map(\.time).max() ?? 0
            guard last * timeScale <= 1e9 else {
                throw ValidationError("\(file): --time-scale \(timeScale) stretches its last request to \(last * timeScale) s, beyond the limit of 1e9 s of time_s (Docs/LIMITS.md)")
            }
            guard let which = AzureLLMImporter.Edition(rawValue: edition) ?? found else {
                throw ValidationError("\(file): its first TIMESTAMP is of neither 2023 nor 2024: give --edition")
            }
            let text = AzureLLMImporter.convert(
                records, jobID: jobID, sizeBasis: .init(rawValue: sizeBasis)!, timeScale: timeScale,
                source: PathText.lastComponent(file), edition: which)
            // Never replace what qoesim did not write: a folder, or a file that does not
            // start with the attribution this command writes (unless --force).
            try destination.write(text, kind: .firstLinePrefix("# Derived from the Azure LLM inference trace 20"), done: "wrote \(records.count) requests")
        }
    }

    struct AzureFunctions2021: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "azure-functions-2021",
            abstract: "Convert the Azure Functions invocation trace 2021 (CC-BY 4.0) into a request trace.",
            discussion: """
            Input: app,func,end_timestamp,duration (seconds, as the publisher's schema gives
            them). Output: job_id,time_s,size, one job per function among the --top most
            invoked (job ids fn-APP8-FUNC8), a request arriving at end_timestamp - duration,
            time_s from the earliest kept arrival, size = duration / the function's mean
            duration. Map the job ids to models in your job trace (arrivals=trace). The output
            carries the trace's attribution as '#' comment lines.

            Example:
              qoesim import azure-functions-2021 AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt --top 5 -o functions.csv
            """
        )

        @Argument(help: "The trace file (CSV with a header).")
        var file: String

        @Option(help: "Keep the N most invoked functions.")
        var top: Int = 10

        @OptionGroup var destination: ImportDestination

        func validate() throws {
            guard (1...100_000).contains(top) else { throw ValidationError("--top must be 1...100000") }
        }

        func run() throws {
            let invocations = try AzureFunctions2021Importer.read(file)
            let text = AzureFunctions2021Importer.convert(invocations, top: top, source: PathText.lastComponent(file))
            try destination.write(text, kind: .firstLine("# " + AzureFunctions2021Importer.attribution[0]), done: "wrote the requests of the \(top) most invoked functions (of \(invocations.count) invocations)")
        }
    }

    struct AzureFunctions2019: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "azure-functions-2019",
            abstract: "Convert one day of the Azure Functions trace 2019 (CC-BY 4.0) into a request trace.",
            discussion: """
            Input: the day's invocations_per_function_md.anon.dNN.csv (HashOwner,HashApp,
            HashFunction,Trigger,1..1440: invocations per minute) and, with --durations, its
            function_durations_percentiles.anon.dNN.csv (ms). Output: job_id,time_s,size, one
            job per function among the --top most invoked (of --trigger, if given; job ids
            fn-APP8-FUNC8). A minute's invocations are spread evenly in it (--spread even) or
            at uniform random points (--spread random, --seed). With --durations, each
            request's size is a duration drawn from its function's percentiles (linear
            between p0, p1, p25, p50, p75, p99, p100) over the function's Average; else 1.
            The output carries the trace's attribution as '#' comment lines.

            Example:
              qoesim import azure-functions-2019 invocations_per_function_md.anon.d01.csv --durations function_durations_percentiles.anon.d01.csv --top 5 --trigger http -o day1.csv
            """
        )

        @Argument(help: "The day's invocation-count file.")
        var file: String

        @Option(help: "The same day's duration-percentile file (sizes from durations; without it every size is 1).")
        var durations: String?

        @Option(help: "Keep the N most invoked functions.")
        var top: Int = 10

        @Option(help: "Keep only functions of this trigger group (http, timer, event, queue, storage, orchestration, others).")
        var trigger: String?

        @Option(help: "How a minute's invocations are placed in it: even or random.")
        var spread: String = "even"

        @Option(help: "Seed of the random spread and of the drawn durations.")
        var seed: UInt64 = 1

        @OptionGroup var destination: ImportDestination

        func validate() throws {
            guard (1...100_000).contains(top) else { throw ValidationError("--top must be 1...100000") }
            guard AzureFunctions2019Importer.Spread(rawValue: spread) != nil else { throw ValidationError("--spread must be even or random") }
            let groups = ["http", "timer", "event", "queue", "storage", "orchestration", "others"]
            if let trigger, !groups.contains(trigger) { throw ValidationError("--trigger must be one of \(groups.joined(separator: ", "))") }
        }

        func run() throws {
            let functions = try AzureFunctions2019Importer.parseInvocations(TextFile.read(file), file: file)
            let table = try durations.map { try AzureFunctions2019Importer.parseDurations(TextFile.read($0), file: $0) }
            let text = AzureFunctions2019Importer.convert(
                functions, durations: table, top: top, trigger: trigger, spread: .init(rawValue: spread)!, seed: seed,
                source: ([file] + (durations.map { [$0] } ?? [])).map(PathText.lastComponent).joined(separator: " + "))
            try destination.write(text, kind: .firstLine("# " + AzureFunctions2019Importer.attribution[0]), done: "wrote the requests of the \(top) most invoked functions (of \(functions.count))")
        }
    }

    struct BurstGPT: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "burstgpt",
            abstract: "Convert the BurstGPT trace (HPMLL/BurstGPT) into a request trace.",
            discussion: """
            Input: Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
            (seconds from 0:00:00 of the first day; release 2.0's Session ID and Elapsed time
            are read and ignored). Failed requests (Response tokens 0, the publishers' rule)
            are dropped. Output: job_id,time_s,size, one job per --by group (model: chatgpt,
            gpt-4), time_s from the earliest kept request, size = total tokens / the job's
            mean. The output carries the trace's attribution as '#' comment lines; the
            publisher's README states no licence for the data: check it before you share
            derived files.

            Example:
              qoesim import burstgpt BurstGPT_1.csv --by model -o burstgpt.csv
            """
        )

        @Argument(help: "The BurstGPT CSV.")
        var file: String

        @Option(help: "One job per model, log-type or both.")
        var by: String = "model"

        @OptionGroup var destination: ImportDestination

        func validate() throws {
            guard BurstGPTImporter.Grouping(rawValue: by) != nil else { throw ValidationError("--by must be model, log-type or both") }
        }

        func run() throws {
            let requests = try BurstGPTImporter.read(file)
            let text = BurstGPTImporter.convert(requests, grouping: .init(rawValue: by)!, source: PathText.lastComponent(file))
            try destination.write(text, kind: .firstLine("# " + BurstGPTImporter.attribution[0]), done: "wrote \(requests.filter { !$0.failed }.count) requests (\(requests.filter(\.failed).count) failed ones dropped)")
        }
    }
}

/// Where an importer writes its request trace: a file it may replace only if it wrote it
/// (`--force` otherwise), or standard output.
struct ImportDestination: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: "Output request trace CSV (default: standard output). An existing file is replaced only if this command wrote it (its first line is the trace's attribution) or with --force; a folder never.")
    var output: String?

    @Flag(help: "Replace --output even if it is a file this command did not write.")
    var force = false

    /// Writes `text` to --output (`kind` recognises a file this importer wrote; `done`
    /// says what was written) or prints it.
    func write(_ text: String, kind: OwnedFile.Signature, done: String) throws {
        if let output {
            try OwnedFile.replace(output, with: text, kind: kind, force: force)
            Diagnostics.note("\(done) to \(output)")
        } else {
            print(text, terminator: "")
        }
    }
}

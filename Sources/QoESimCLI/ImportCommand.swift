import ArgumentParser
import Foundation
import QoESim

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert external traces into QoESim request traces.",
        subcommands: [AzureLLM.self]
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

            Example:
              qoesim import azure-llm ../shared/traces/AzureLLMInferenceTrace_code.csv --job-id llm -o Traces/azure-llm/requests.csv
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

        @Option(name: [.short, .customLong("output")], help: "Output request trace CSV (default: standard output). An existing file is replaced only if this command wrote it (its first line is the trace's attribution) or with --force; a folder never.")
        var output: String?

        @Flag(help: "Replace --output even if it is a file this command did not write.")
        var force = false

        func validate() throws {
            guard AzureLLMImporter.SizeBasis(rawValue: sizeBasis) != nil else {
                throw ValidationError("--size-basis must be one of total, context, generated, none")
            }
            guard timeScale > 0 && timeScale.isFinite else { throw ValidationError("--time-scale must be > 0") }
            guard !jobID.isEmpty, !jobID.contains(","), !jobID.contains("\"") else {
                throw ValidationError("--job-id must be non-empty and contain no comma or quote")
            }
        }

        func run() throws {
            let records = try AzureLLMImporter.read(file)
            let text = AzureLLMImporter.convert(
                records, jobID: jobID, sizeBasis: .init(rawValue: sizeBasis)!, timeScale: timeScale,
                source: PathText.lastComponent(file))
            if let output {
                // Never replace what qoesim did not write: a folder, or a file that does not
                // start with the attribution this command writes (unless --force).
                try OwnedFile.replace(output, with: text, kind: .firstLine("# " + AzureLLMImporter.attribution[0]), force: force)
                Diagnostics.note("wrote \(records.count) requests to \(output)")
            } else {
                print(text, terminator: "")
            }
        }
    }
}

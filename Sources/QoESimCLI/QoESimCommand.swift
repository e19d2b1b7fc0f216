import ArgumentParser
import Foundation
import Logging
import QoESim
import QoESimLive

/// `qoesim`: the command-line front end.
///
/// Exit status: 0 success; 1 a failure while running: bad input (the message names file and
/// line), an engine that does not answer, a signal; 2 a usage error (the command line).
@main
struct QoESimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qoesim",
        abstract: "Simulate QoE-aware scheduling of deep-learning inference containers (DQoES and baselines).",
        discussion: """
        Every command takes --log-level LEVEL (trace, debug, info, notice, warning, error,
        critical; default info): progress and notes go to standard error at info, results to
        standard output whatever the level.
        """,
        version: "qoesim \(QoESimVersion.current)",
        subcommands: [RunCommand.self, CompareCommand.self, SweepCommand.self, MergeCommand.self, ReproduceCommand.self, GenerateCommand.self, FitCommand.self, FitArrivalsCommand.self, ProfileCommand.self, LiveCommand.self, ValidateCommand.self, ImportCommand.self, ReferenceCommand.self]
    )

    static func main() {
        // `--log-level LEVEL` (any command, anywhere on the line) is taken out before
        // the command line is parsed.
        var args = Array(CommandLine.arguments.dropFirst())
        if let i = args.firstIndex(where: { $0 == "--log-level" || $0.hasPrefix("--log-level=") }) {
            let value: String?
            if args[i] == "--log-level" {
                value = i + 1 < args.count ? args[i + 1] : nil
                args.removeSubrange(i..<min(i + 2, args.count))
            } else {
                value = String(args[i].dropFirst("--log-level=".count))
                args.remove(at: i)
            }
            guard let value, let level = Logger.Level(rawValue: value) else {
                Diagnostics.fail(
                    "error: --log-level needs one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))", status: 2)
            }
            Diagnostics.logger.logLevel = level
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(args)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure { exit(withError: error) }
            // Usage errors (unknown option, bad value): message and help hint, status 2.
            Diagnostics.fail(fullMessage(for: error), status: 2)
        }
        do {
            try command.run()
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch where exitCode(for: error) == .success {
            exit(withError: error)  // --help, --version (ArgumentParser's help command)
        } catch where String(describing: type(of: error)) == "CommandError" {
            Diagnostics.fail(fullMessage(for: error), status: 2)
        } catch {
            // Everything that fails while running (bad input, an engine that does not
            // answer, a signal) is status 1, with a message that says what to do.
            Diagnostics.fail("error: \(String(describing: error))", status: 1)
        }
    }
}

/// Writes each log message as one plain line on standard error (the level is shown for
/// warnings and worse): standard output carries results only.
struct StandardErrorLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "\(event.level): " : ""
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}

enum Diagnostics {
    /// The CLI's logger (swift-log): progress and notes at `info`, details at `debug`;
    /// `--log-level warning` keeps only warnings and errors.
    nonisolated(unsafe) static var logger = Logger(label: "qoesim") { _ in StandardErrorLogHandler() }

    /// A progress line or note (log level info) on standard error, never standard output.
    static func note(_ s: String) {
        logger.info("\(s)")
    }

    /// A detail (log level debug).
    static func debug(_ s: String) {
        logger.debug("\(s)")
    }

    /// An error line, whatever the log level, then exit with `status`.
    static func fail(_ s: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((s + "\n").utf8))
        exit(status)
    }
}

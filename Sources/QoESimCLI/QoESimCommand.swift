import ArgumentParser
import Foundation
import QoESim
import QoESimLive

/// `qoesim`: the command-line front end.
///
/// Exit status: 0 success, 1 bad input (the message names file and line), 2 usage error.
@main
struct QoESimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qoesim",
        abstract: "Simulate QoE-aware scheduling of deep-learning inference containers (DQoES and baselines).",
        subcommands: [RunCommand.self, CompareCommand.self, SweepCommand.self, MergeCommand.self, ReproduceCommand.self, GenerateCommand.self, FitCommand.self, ProfileCommand.self, LiveCommand.self, ValidateCommand.self, ImportCommand.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as InputError {
            Diagnostics.fail("error: \(error)", status: 1)
        } catch let error as RunOutputError {
            Diagnostics.fail("error: \(error)", status: 1)
        } catch let error as DockerError {
            Diagnostics.fail("error: \(error)", status: 1)
        } catch let error as GeneratorError {
            Diagnostics.fail("error: \(error)", status: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure {
                exit(withError: error)
            }
            // Usage errors (unknown option, bad value): message and help hint, status 2.
            Diagnostics.fail(fullMessage(for: error), status: 2)
        }
    }
}

enum Diagnostics {
    /// Writes a line to standard error (never to standard output).
    static func note(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    static func fail(_ s: String, status: Int32) -> Never {
        note(s)
        exit(status)
    }

    /// This process's peak resident memory so far, MB (getrusage's ru_maxrss).
    static func peakResidentMB() -> Double {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1024 // KiB on Linux
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Double(usage.ru_maxrss) / 1_048_576 // bytes on macOS
        #endif
    }
}

import Foundation
import ArgumentParser

/// `qoesim reference` (hidden): prints the command reference, `Docs/COMMANDS.md`, from the
/// commands' own help texts, so that the page cannot drift from the help. A test compares
/// the committed page with this output; `bash Docs/commands.sh` writes it again.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Print the command reference (Docs/COMMANDS.md) in Markdown, made from every command's --help.",
        shouldDisplay: false
    )

    /// The width the help texts are wrapped to on the page (any terminal gives the same page).
    static let columns = 100

    func run() throws {
        print(Self.markdown(), terminator: "")
    }

    /// Every visible command, depth first in the order `qoesim --help` lists them, with its
    /// path (`["qoesim", "import", "burstgpt"]`).
    static func commands() -> [(path: [String], type: ParsableCommand.Type)] {
        var out: [(path: [String], type: ParsableCommand.Type)] = []
        func visit(_ type: ParsableCommand.Type, _ path: [String]) {
            out.append((path, type))
            for sub in type.configuration.subcommands where sub.configuration.shouldDisplay {
                visit(sub, path + [sub._commandName])
            }
        }
        visit(QoESimCommand.self, ["qoesim"])
        return out
    }

    /// The page: a list of the commands, then each command's help verbatim.
    static func markdown() -> String {
        let all = commands()
        var page = """
        # Command reference

        Generated from the commands' own `--help` (`bash Docs/commands.sh`; a test fails when
        this page and the help differ). Standard output carries results only; progress goes to
        standard error. Exit status: 0 success, 1 a failure while running (bad input with
        `FILE:LINE: problem`, an engine that does not answer, a signal), 2 a usage error.


        """
        for (path, type) in all {
            let name = path.joined(separator: " ")
            let anchor = path.joined(separator: "-")
            page += "- [`\(name)`](#\(anchor)): \(type.configuration.abstract)\n"
        }
        for (path, type) in all {
            let help = path.count == 1
                ? QoESimCommand.helpMessage(columns: columns)
                : QoESimCommand.helpMessage(for: type, columns: columns)
            page += "\n<a id=\"\(path.joined(separator: "-"))\"></a>\n## \(path.joined(separator: " "))\n\n```text\n"
            page += help.trimmingCharacters(in: .newlines) + "\n```\n"
        }
        return page
    }
}

import Foundation
import Testing
import QoESim

/// Every flag and argument of every command, with hostile values, each in its own
/// subprocess. The commands and their flags come from `qoesim --experimental-dump-help`,
/// so a new flag is swept without editing this file (a new command needs a base
/// invocation below, and the test says so).
///
/// Each case starts from a base invocation that works and replaces one value with one of
/// `-1`, `0`, `nan`, `inf`, `1e308`, the empty string, a path that does not exist and an
/// empty folder given where a file is expected. A case fails on: a death by a signal (a
/// trap), no exit within 5 s (a hang), exit 0 where the value makes no sense (see
/// ``HostileFlagTests/accepted``), or a failed command that left anything behind
/// (nothing half-written). The Docker engine is a socket that does not exist; the
/// machine lock is a file of this test's own.
@Suite("Hostile values on every flag (from --experimental-dump-help)")
struct HostileFlagTests {
    /// The values every flag is given (MISSING and FOLDER are made per case).
    static let values = ["-1", "0", "nan", "inf", "1e308", "", "MISSING", "FOLDER"]

    /// Where exit 0 is right, by flag (or `COMMAND.ARGUMENT` for an argument), with why.
    /// Anything else that exits 0 on a hostile value is a finding.
    static let accepted: [String: (values: Set<String>, why: String)] = [
        "out": (["-1", "0", "nan", "inf", "1e308", "MISSING", "FOLDER"], "any name is a folder name; an empty folder may be written into"),
        "output": (["-1", "0", "nan", "inf", "1e308", "MISSING"], "any name is a file name"),
        "figure": (["-1", "0", "nan", "inf", "1e308", "MISSING"], "any name is a file name"),
        "seed": (["0"], "0 is a seed"),
        "actuation-delay": (["0"], "no delay is the default"),
        "job-id": (["-1", "0", "nan", "inf", "1e308", "MISSING", "FOLDER"], "any text without a comma or quote is a job id"),
        "help.subcommands": (Set(values), "swift-argument-parser's help shows the root help for a name it does not know"),
    ]

    /// A working invocation of each command (OUT: the case's output path).
    static func base(_ command: String, work: String) -> [String]? {
        let root = Fixture.packageRoot
        let cluster = root + "/Traces/validation/cluster.json", trace = root + "/Tests/live/one.csv", models = root + "/Traces/models-fitted"
        switch command {
        case "run": return ["--cluster", cluster, "--trace", trace, "--models", models, "--out", "OUT"]
        case "compare": return ["--cluster", cluster, "--trace", trace, "--models", models, "--policies", "fair-share,dqoes"]
        case "sweep": return [work + "/tiny.yaml", "--out", "OUT", "--quiet"]
        case "merge": return [work + "/tiny.yaml", work + "/shard", "--out", "OUT"]
        case "reproduce": return ["--spec", work + "/tiny.yaml", "--out", "OUT", "--quiet"]
        case "generate": return [work + "/tiny.yaml", "--out", "OUT"]
        case "fit": return [root + "/Traces/profiles/resnet50.csv", "--output", "OUT.json"]
        case "profile": return ["--workload", "mobilenetv2", "--output", "OUT.csv"]
        case "live": return ["--trace", trace, "--cluster", cluster, "--models", models, "--out", "OUT"]
        case "validate": return ["--trace", trace, "--cluster", cluster, "--models", models, "--out", "OUT"]
        case "fit-arrivals": return [work + "/requests.csv", "--replicates", "10", "--out", "OUT"]
        case "import azure-llm": return [root + "/Traces/azure-llm/sample-2024.csv", "--output", "OUT.csv"]
        case "import azure-functions-2019":
            return [root + "/Traces/azure-functions-2019/synthetic-invocations.csv", "--durations", root + "/Traces/azure-functions-2019/synthetic-durations.csv", "--output", "OUT.csv"]
        case "import burstgpt": return [root + "/Traces/burstgpt/sample.csv", "--output", "OUT.csv"]
        case "import azure-functions-2021": return [root + "/Traces/azure-functions-2021/sample.csv", "--output", "OUT.csv"]
        case "help", "reference": return []
        default: return nil
        }
    }

    struct Argument {
        var option: String?  // the long name, nil for a positional
        var valueName: String
        var position: Int  // index among the command's positionals
    }

    struct Command {
        var path: [String]
        var arguments: [Argument]
    }

    /// The leaf commands of the dump, with the arguments that take a value.
    static func commands(_ dump: [String: Any]) -> [Command] {
        var out: [Command] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            let subs = c["subcommands"] as? [[String: Any]] ?? []
            for s in subs { walk(s, path + [s["commandName"] as? String ?? "?"]) }
            guard subs.isEmpty else { return }
            var arguments: [Argument] = []
            var positionals = 0
            for a in c["arguments"] as? [[String: Any]] ?? [] {
                let kind = a["kind"] as? String
                let value = a["valueName"] as? String ?? "?"
                if kind == "option" {
                    arguments.append(Argument(option: (a["preferredName"] as? [String: Any])?["name"] as? String, valueName: value, position: -1))
                } else if kind == "positional" {
                    arguments.append(Argument(option: nil, valueName: value, position: positionals))
                    positionals += 1
                }
            }
            out.append(Command(path: path, arguments: arguments))
        }
        walk(dump["command"] as? [String: Any] ?? [:], [])
        return out
    }

    struct Case {
        var command: Command
        var argument: Argument
        var value: String
    }

    /// Runs `arguments` in `folder` with a 5 s limit: exit status, whether a signal
    /// ended it, whether it hung, and the end of stderr.
    static func run(_ arguments: [String], in folder: String, log: String, environment: [String: String]) -> (status: Int32, signalled: Bool, hung: Bool, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: folder)
        p.environment = environment
        FileManager.default.createFile(atPath: log, contents: nil)
        guard let err = FileHandle(forWritingAtPath: log) else { return (-1, false, false, "cannot open \(log)") }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch { return (-1, false, false, "\(error)") }
        var hung = false
        if done.wait(timeout: .now() + 5) == .timedOut {
            hung = true
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        try? err.close()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (p.terminationStatus, p.terminationReason == .uncaughtSignal && !hung, hung, String(text.suffix(300)))
    }

    @Test("No trap, no hang, no exit 0 on nonsense, nothing left by a failed command: every flag of every command")
    func everyFlag() throws {
        let work = Fixture.tempFolder()
        defer { try? FileManager.default.removeItem(atPath: work) }
        try """
            name: tiny
            models: \(Fixture.packageRoot)/Traces/models
            scenario: {generator: heterogeneous-targets, cpus_per_node: 2, models: 2, duration_s: 10}
            policies: [fair-share]
            seeds: 1
            """.write(toFile: work + "/tiny.yaml", atomically: true, encoding: .utf8)
        // The first 800 requests of the bundled Azure trace (about 5 minutes): fit-arrivals' input.
        let azure = try String(contentsOfFile: Fixture.packageRoot + "/Traces/azure-llm/requests.csv", encoding: .utf8)
        try (azure.split(separator: "\n").prefix(805).joined(separator: "\n") + "\n").write(toFile: work + "/requests.csv", atomically: true, encoding: .utf8)
        let shard = try CLITests.run(["sweep", work + "/tiny.yaml", "--out", work + "/shard", "--quiet"])
        #expect(shard.status == 0, "\(shard.stderr)")
        let dump = try CLITests.run(["--experimental-dump-help"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let commands = Self.commands(json)
        #expect(commands.count >= 12, "\(commands.map { $0.path.joined(separator: " ") })")
        var cases: [Case] = []
        for c in commands {
            let name = c.path.joined(separator: " ")
            guard Self.base(name, work: work) != nil else {
                Issue.record("command '\(name)' has no base invocation in HostileFlagTests.base: add one that works")
                continue
            }
            for a in c.arguments { for v in Self.values { cases.append(Case(command: c, argument: a, value: v)) } }
        }
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
        environment["QOESIM_LOCK_FILE"] = work + "/machine.lock"
        environment["SWIFT_BACKTRACE"] = "enable=no"
        try FileManager.default.createDirectory(atPath: work + "/logs", withIntermediateDirectories: true)

        /// The next case to run and what was found, shared by the workers under `lock`.
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var findings: [String] = []
        }
        let shared = Shared(), lock = shared.lock
        let allCases = cases, env = environment
        let started = Date()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while true {
                lock.lock()
                let i = shared.next
                shared.next += 1
                lock.unlock()
                guard i < allCases.count else { return }
                let k = allCases[i]
                let name = k.command.path.joined(separator: " ")
                let folder = work + "/case-\(i)"
                try? FileManager.default.createDirectory(atPath: folder + "/folder", withIntermediateDirectories: true)
                let value = ["MISSING": folder + "/missing/nothing-here", "FOLDER": folder + "/folder"][k.value] ?? k.value
                var args = Self.base(name, work: work)!.map { $0.replacingOccurrences(of: "OUT", with: folder + "/out") }
                if let option = k.argument.option {
                    if let at = args.firstIndex(of: "--" + option) { args.removeSubrange(at...(at + 1)) }
                    args.append("--\(option)=\(value)")
                } else {
                    let positionals = args.prefix { !$0.hasPrefix("--") }.count
                    if k.argument.position < positionals { args[k.argument.position] = value } else { args.insert(value, at: positionals) }
                }
                let r = Self.run(k.command.path + args, in: folder, log: work + "/logs/\(i).txt", environment: env)
                let key = k.argument.option ?? "\(name).\(k.argument.valueName)"
                let shown = "qoesim \(name) " + args.map { $0.replacingOccurrences(of: work, with: "W") }.joined(separator: " ")
                var problem: String? = nil
                if r.signalled {
                    problem = "died by signal \(r.status)"
                } else if r.hung {
                    problem = "no exit within 5 s"
                } else if r.status == 0 && !(Self.accepted[key]?.values.contains(k.value) ?? false) {
                    problem = "exit 0 on a value that makes no sense for \(key)"
                } else if r.status != 0 {
                    // A failed command leaves nothing: only the case's empty folder remains.
                    let left = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { $0 != "folder" }
                    if !left.isEmpty { problem = "failed (exit \(r.status)) and left \(left.sorted().prefix(3))" }
                }
                if let problem {
                    lock.lock()
                    shared.findings.append("\(shown): \(problem); stderr: \(r.stderr.replacingOccurrences(of: work, with: "W").suffix(200))")
                    lock.unlock()
                }
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
        let findings = shared.findings
        print("hostile flags: \(cases.count) cases of \(commands.count) commands in \(String(format: "%.1f", Date().timeIntervalSince(started))) s, \(findings.count) findings")
        #expect(cases.count > 500)
        #expect(findings.isEmpty, "\(findings.count) cases:\n\(findings.sorted().prefix(40).joined(separator: "\n"))")
    }
}

@Suite("Path arithmetic on any string")
struct PathTextTests {
    /// NSString's versions trap on one-character names (`qoesim fit ... -o 0` died with
    /// SIGILL; `run --out 0` too).
    @Test("parent, last component and extension, one-character names included")
    func paths() {
        for (path, parent, last) in [("0", "", "0"), ("a/b", "a", "b"), ("/a", "/", "a"), ("a/b/", "a", "b"), ("/", "/", "/"), ("x//y", "x", "y"), ("", "", "")] {
            #expect(PathText.parent(path) == parent, "parent of '\(path)'")
            #expect(PathText.lastComponent(path) == last, "last component of '\(path)'")
        }
        for (path, stem) in [("a/b.svg", "a/b"), ("0", "0"), (".hidden", ".hidden"), ("d.x/f", "d.x/f"), ("f.tar.gz", "f.tar"), ("a/.b", "a/.b")] {
            #expect(PathText.deletingExtension(path) == stem, "'\(path)' without its extension")
        }
    }
}

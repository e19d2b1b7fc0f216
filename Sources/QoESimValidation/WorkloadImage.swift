import Crypto
import Foundation
import QoESimDockerWire
import QoESimLive
import QoESim

/// The image live runs and profiles run: a root file system holding `/qoesim-infer` (the
/// real inference workload) and the shared libraries it links, imported into the engine
/// as `docker import` would (`POST /images/create?fromSrc=-`), built in memory: no
/// staging folder, no shell, no `docker` CLI.
public enum WorkloadImage {
    /// The image name qoesim uses unless told otherwise.
    public static let defaultName = "qoesim-infer:local"

    /// The `qoesim-infer` next to the running executable (a `swift build` puts both in
    /// one folder), if it is there.
    public static func binaryNextToExecutable() -> String? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let path = exe.deletingLastPathComponent().appendingPathComponent("qoesim-infer").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Makes sure `image` exists on the engine: if it does not, builds it from `binary`
    /// (default: ``binaryNextToExecutable()``) and says so through `log`.
    public static func ensure(_ image: String, binary: String?, docker: DockerClient, log: (String) -> Void) throws {
        try docker.checkReachable()
        if try blockingUnlessInterrupted("checking the image", { try await docker.imageExists(image) }) { return }
        guard let bin = binary ?? binaryNextToExecutable() else {
            throw ProfileError("""
                image \(image) does not exist and no qoesim-infer binary was found next to this qoesim to build it from. \
                Build it with `swift build -c release --product qoesim-infer` (or pass --binary PATH), then run again
                """)
        }
        guard FileManager.default.isExecutableFile(atPath: bin) else { throw ProfileError("no workload binary at \(bin) (--binary)") }
        log("building image \(image) from \(bin) (the binary and the libraries it links, imported through the Engine API)")
        let tar = try rootFileSystem(binary: bin)
        memo.clear()
        // Not abandoned on a signal (the import would finish unseen); honoured after it.
        let id = try blocking { try await docker.importImage(tar, reference: image) }
        if let s = Interruption.received { throw Interrupted(signal: s, what: "building the image") }
        log("image \(image) imported (\(tar.count / 1_048_576) MiB\(id.map { ", \($0.prefix(19))" } ?? ""))")
    }

    /// The root file system: /qoesim-infer and every library `ldd` lists, at its path.
    public static func rootFileSystem(binary: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: binary) else { throw ProfileError("cannot read \(binary)") }
        var entries = [TarArchive.Entry(path: "qoesim-infer", contents: data, mode: 0o755)]
        var folders = Set<String>()
        for library in try linkedLibraries(binary) {
            let relative = String(library.dropFirst())
            var folder = PathText.parent(relative)
            var chain: [String] = []
            while !folder.isEmpty && !folders.contains(folder) {
                chain.append(folder)
                folders.insert(folder)
                folder = PathText.parent(folder)
            }
            entries += chain.reversed().map { TarArchive.Entry(path: $0, contents: nil, mode: 0o755) }
            let real = URL(fileURLWithPath: library).resolvingSymlinksInPath().path
            guard let bytes = FileManager.default.contents(atPath: real) else { throw ProfileError("cannot read \(real) (linked by \(binary))") }
            entries.append(TarArchive.Entry(path: relative, contents: bytes, mode: 0o755))
        }
        return try TarArchive.archive(entries)
    }

    /// Absolute paths of the shared libraries `binary` loads, as `ldd` (run directly, not
    /// through a shell) lists them; none for a static binary.
    static func linkedLibraries(_ binary: String) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        p.arguments = [binary]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        // A static binary: ldd exits 1 ("not a dynamic executable").
        guard p.terminationStatus == 0 else { return [] }
        var paths: [String] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let path = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first(where: { $0.hasPrefix("/") }) {
                if !paths.contains(String(path)) { paths.append(String(path)) }
            }
        }
        return paths
    }

    /// SHA-256 (hex) of /qoesim-infer inside `image`: copied out of a created, never
    /// started, container (`GET /containers/{id}/archive`), which is then removed. An
    /// imported image gets a new id each time; its binary does not.
    public static func binarySHA256(_ image: String, docker: DockerClient) throws -> String {
        // Asked twice by a validation (the cache key, the manifest): read once per image.
        let memoKey = "\(docker.endpoint) \(image)"
        if let known = memo.get(memoKey) { return known }
        let hash = try readBinarySHA256(image, docker: docker)
        memo.set(memoKey, hash)
        return hash
    }

    /// What ``binarySHA256(_:docker:)`` found, per engine and image, in this process
    /// (cleared when ``ensure(_:binary:docker:log:)`` builds an image).
    static let memo = Memo()

    final class Memo: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String: String] = [:]
        func get(_ key: String) -> String? { lock.withLock { values[key] } }
        func set(_ key: String, _ value: String) { lock.withLock { values[key] = value } }
        func clear() { lock.withLock { values = [:] } }
    }

    static func readBinarySHA256(_ image: String, docker: DockerClient) throws -> String {
        let labels = ["qoesim": "profile", "qoesim.pid": "\(getpid())", "qoesim.host": ProcessInfo.processInfo.hostName]
        let id = try blocking {
            try await docker.createContainer(
                name: "qoesim-hash-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", image: image, command: ["/qoesim-infer"],
                hostNetwork: false, labels: labels)
        }
        defer { _ = try? blocking { try await docker.remove(id) } }
        let data = try blockingUnlessInterrupted("reading the image") { try await docker.copyFile(id, path: "/qoesim-infer") }
        return sha256Hex(data)
    }

    /// SHA-256 of `data`, lower-case hex.
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

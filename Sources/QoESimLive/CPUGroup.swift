import Foundation

/// A control group that limits a command to a CFS bandwidth quota without Docker (what
/// `qoesim profile --mechanisms cgroup` measures through), on either cgroup hierarchy:
/// v1 (the `cpu` controller's `cpu.cfs_quota_us` over `cpu.cfs_period_us`) or v2 (the
/// unified tree's `cpu.max`, "QUOTA PERIOD", with `cpu` enabled in the root's
/// `cgroup.subtree_control`). The hierarchy is told by the root: v2's root holds
/// `cgroup.controllers`, v1's a `cpu` controller folder.
public struct CPUGroup: Sendable {
    public enum Hierarchy: String, Sendable { case v1, v2 }

    public let hierarchy: Hierarchy
    /// The group's folder.
    public let path: String

    /// The hierarchy mounted at `root`, or nil when neither is there.
    public static func detect(root: String = "/sys/fs/cgroup") -> Hierarchy? {
        let fm = FileManager.default
        if fm.fileExists(atPath: root + "/cgroup.controllers") { return .v2 }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: root + "/cpu", isDirectory: &isDirectory), isDirectory.boolValue { return .v1 }
        return nil
    }

    /// Creates group `name` limited to `cpus` cores (quota = cpus x period) under `root`.
    /// Throws, naming what is missing, when there is no usable CPU controller or it is not
    /// writable (the mechanism needs root).
    public static func create(name: String, cpus: Double, root: String = "/sys/fs/cgroup", periodMicros: Int = 100_000) throws -> CPUGroup {
        guard cpus > 0, cpus.isFinite else { throw CPUGroupError("a CPU group needs a positive, finite limit (got \(cpus))") }
        let quota = max(1000, Int((cpus * Double(periodMicros)).rounded()))  // the kernel's floor is 1 ms
        let fm = FileManager.default
        switch detect(root: root) {
        case .v1:
            let parent = root + "/cpu"
            guard fm.isWritableFile(atPath: parent) else { throw CPUGroupError("\(parent) is not writable: the cgroup mechanism needs root") }
            let group = CPUGroup(hierarchy: .v1, path: parent + "/" + name)
            try group.makeFolder()
            try group.write("\(periodMicros)", to: "cpu.cfs_period_us")
            try group.write("\(quota)", to: "cpu.cfs_quota_us")
            return group
        case .v2:
            let available = (try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? ""
            guard available.split(whereSeparator: \.isWhitespace).contains("cpu") else {
                throw CPUGroupError("\(root)/cgroup.controllers does not list cpu: this cgroup v2 tree has no CPU controller to limit with")
            }
            let control = root + "/cgroup.subtree_control"
            guard fm.isWritableFile(atPath: control) else { throw CPUGroupError("\(control) is not writable: the cgroup mechanism needs root") }
            let enabled = (try? String(contentsOfFile: control, encoding: .utf8)) ?? ""
            if !enabled.split(whereSeparator: \.isWhitespace).contains(where: { $0 == "cpu" || $0 == "+cpu" }) {
                do { try "+cpu".write(toFile: control, atomically: false, encoding: .utf8) } catch {
                    throw CPUGroupError("cannot enable the cpu controller in \(control): \(error)")
                }
            }
            let group = CPUGroup(hierarchy: .v2, path: root + "/" + name)
            try group.makeFolder()
            try group.write("\(quota) \(periodMicros)", to: "cpu.max")
            return group
        case nil:
            throw CPUGroupError("no cgroup CPU controller under \(root) (neither v2's cgroup.controllers nor v1's cpu/)")
        }
    }

    /// Moves process `pid` (all its threads) into the group.
    public func add(pid: Int32) throws {
        try write("\(pid)", to: "cgroup.procs")
    }

    /// Removes the group (it must be empty: the command has exited). On a real cgroup tree
    /// the kernel's files go with the folder; elsewhere (a test's fixture) they are removed.
    public func remove() {
        if rmdir(path) != 0 { try? FileManager.default.removeItem(atPath: path) }
    }

    private func makeFolder() throws {
        try? FileManager.default.removeItem(atPath: path)
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) } catch {
            throw CPUGroupError("cannot create the CPU group \(path): \(error)")
        }
    }

    private func write(_ value: String, to file: String) throws {
        do { try value.write(toFile: path + "/" + file, atomically: false, encoding: .utf8) } catch {
            throw CPUGroupError("cannot write \(value) to \(path)/\(file): \(error)")
        }
    }
}

/// Why a CPU group could not be made.
public struct CPUGroupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Foundation
import Testing
import QoESimLive

/// CPU groups for `qoesim profile --mechanisms cgroup`: both hierarchies on fixture trees
/// (these machines run cgroup v1, so v2 is checked on a fixture), and v1 for real.
@Suite("CPU groups (cgroup v1 and v2)")
struct CPUGroupTests {
    /// A scratch folder standing in for /sys/fs/cgroup.
    static func fixture(_ files: [String: String], folders: [String] = []) throws -> String {
        let root = NSTemporaryDirectory() + "qoesim-cgroup-fixture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for f in folders { try FileManager.default.createDirectory(atPath: root + "/" + f, withIntermediateDirectories: true) }
        for (name, text) in files { try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        return root
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

    @Test("cgroup v2 (fixture): cpu enabled for the children, cpu.max = quota period, a process joins by pid")
    func v2Fixture() throws {
        let root = try Self.fixture(["cgroup.controllers": "cpuset cpu io memory pids\n", "cgroup.subtree_control": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(CPUGroup.detect(root: root) == .v2)
        let group = try CPUGroup.create(name: "g", cpus: 0.5, root: root)
        #expect(group.hierarchy == .v2 && group.path == root + "/g")
        #expect(Self.read(root + "/cgroup.subtree_control") == "+cpu")
        #expect(Self.read(root + "/g/cpu.max") == "50000 100000")
        // A process is moved in by its pid (no shell).
        try group.add(pid: 4242)
        #expect(Self.read(root + "/g/cgroup.procs") == "4242")
        group.remove()
        #expect(!FileManager.default.fileExists(atPath: root + "/g"))
    }

    @Test("cgroup v2 (fixture): cpu already enabled is left alone; a tree without cpu is refused by name")
    func v2Refusals() throws {
        let enabled = try Self.fixture(["cgroup.controllers": "cpu memory", "cgroup.subtree_control": "cpu memory\n"])
        defer { try? FileManager.default.removeItem(atPath: enabled) }
        _ = try CPUGroup.create(name: "g", cpus: 2, root: enabled)
        #expect(Self.read(enabled + "/cgroup.subtree_control") == "cpu memory\n")
        #expect(Self.read(enabled + "/g/cpu.max") == "200000 100000")

        let noCPU = try Self.fixture(["cgroup.controllers": "memory pids", "cgroup.subtree_control": ""])
        defer { try? FileManager.default.removeItem(atPath: noCPU) }
        #expect { try CPUGroup.create(name: "g", cpus: 1, root: noCPU) } throws: { "\($0)".contains("does not list cpu") }

        let empty = try Self.fixture([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(CPUGroup.detect(root: empty) == nil)
        #expect { try CPUGroup.create(name: "g", cpus: 1, root: empty) } throws: { "\($0)".contains("no cgroup CPU controller under \(empty)") }
        #expect { try CPUGroup.create(name: "g", cpus: .infinity, root: enabled) } throws: { "\($0)".contains("positive, finite") }
    }

    @Test("cgroup v1 (fixture): cpu.cfs_period_us and cpu.cfs_quota_us, with the kernel's 1 ms floor")
    func v1Fixture() throws {
        let root = try Self.fixture([:], folders: ["cpu"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(CPUGroup.detect(root: root) == .v1)
        let group = try CPUGroup.create(name: "g", cpus: 1.25, root: root)
        #expect(group.path == root + "/cpu/g")
        #expect(Self.read(root + "/cpu/g/cpu.cfs_period_us") == "100000" && Self.read(root + "/cpu/g/cpu.cfs_quota_us") == "125000")
        let tiny = try CPUGroup.create(name: "t", cpus: 0.001, root: root)
        #expect(Self.read(tiny.path + "/cpu.cfs_quota_us") == "1000")
    }

    @Test("The real cgroup tree of this machine: a command runs inside a group with the quota asked for")
    func realTree() throws {
        guard let hierarchy = CPUGroup.detect(), getuid() == 0 else {
            Issue.record("this machine has no writable cgroup CPU controller (not root, or no /sys/fs/cgroup): the real-tree check cannot run here")
            return
        }
        let group = try CPUGroup.create(name: "qoesim-test-\(getpid())", cpus: 0.5)
        defer { group.remove() }
        let quota = hierarchy == .v1 ? Self.read(group.path + "/cpu.cfs_quota_us") : Self.read(group.path + "/cpu.max")
        #expect(quota.hasPrefix("50000"), "\(quota)")
        // A running process moved in by its pid (what `profile --mechanisms cgroup` does).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["5"]
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        try group.add(pid: p.processIdentifier)
        let membership = Self.read("/proc/\(p.processIdentifier)/cgroup")
        let name = (group.path as NSString).lastPathComponent
        // v1: a line "N:cpu,cpuacct:/NAME" (or "cpu:"), v2: "0::/NAME".
        #expect(membership.split(separator: "\n").contains { $0.hasSuffix("/" + name) && (hierarchy == .v2 || $0.contains("cpu")) }, "\(membership)")
    }
}

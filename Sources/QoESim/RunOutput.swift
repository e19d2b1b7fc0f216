import Foundation
import QoESimInput

/// A byte buffer flushed to a file in large writes.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw RunOutputError.cannotWrite(path)
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        try handle.synchronize()
        try handle.close()
    }
}

/// Errors writing run output.
public enum RunOutputError: Error, CustomStringConvertible {
    /// A file or folder could not be written (its path).
    case cannotWrite(String)
    /// The destination holds files qoesim did not write (its path, and why it is refused): refused, never deleted.
    case notAnOutputFolder(String, String)
    /// A folder a command would add files to that holds files it did not write (``OwnedFolder``).
    case notOurFolder(String, String)
    public var description: String {
        switch self {
        case .cannotWrite(let p): return "\(p): cannot write (check the folder exists and is writable)"
        case .notAnOutputFolder(let p, let why): return "\(p): will not replace this folder: \(why); choose a new or empty folder for --out"
        case .notOurFolder(let p, let why): return "\(p): will not write into this folder: \(why)"
        }
    }
}

/// What identifies a run in each row of its CSV files (`run_id,policy,seed` first), so
/// that the files of several runs can be concatenated and still told apart.
public struct RunKeys: Sendable, Equatable {
    /// The run's id: the first 12 hex digits of its manifest's SHA-256.
    public var runID: String
    /// The policy's name (or label, in a sweep).
    public var policy: String
    /// The seed of the run's random streams.
    public var seed: UInt64
    /// Keys for the rows of one run's files.
    public init(runID: String, policy: String, seed: UInt64) {
        self.runID = runID
        self.policy = policy
        self.seed = seed
    }
}

/// Writes a run's tidy CSV files into a folder, all or nothing.
///
/// Files (one row per observation, ready for `pandas.read_csv`):
/// - `models.csv`: one row per job (the table `qoesim run` prints).
/// - `requests.csv`: one row per completed request.
/// - `allocations.csv`: one row per allocation change (placement, then policy decisions).
/// - `usage.csv`: every sample interval, each container's allocation, the cores and
///   GPU fraction it used since the previous sample, and its outstanding requests.
/// - `observations.csv`, when the writer is also the run's ``ControlObserver`` (`qoesim
///   run`, `live` and `validate` make it so): at every decision, one row per container
///   of the node with what the policy saw (its allocation, outstanding requests, the
///   oldest one's age, the window) and the change it answered for it, if any; the
///   policy's inputs, for comparing a simulated run's decisions with a live run's.
///
/// Everything is written into a ``DurableFolder`` (staged beside the destination, flushed,
/// swapped in by renames) only by ``commit(result:files:)``; ``discard()`` (or an error,
/// or a crash) leaves the destination as it was.
public final class RunOutputWriter: SimulationRecorder, ControlObserver {
    private let folder: DurableFolder
    private let jobIDs: [String]
    private let nodeNames: [String]
    private let requests: BufferedFile
    private let allocations: BufferedFile
    private let usage: BufferedFile
    /// Made at the first decision (only runs that observe their decisions have one).
    private var observations: BufferedFile?
    /// The run keys' cells with a trailing comma, or "" (and the header's).
    private let keyCells: String
    private let keyHeader: String

    /// Prepares to write into `folder` (created if missing) for the given scenario; with
    /// `keys`, every row of every file starts with them.
    public init(folder: String, scenario: Scenario, keys: RunKeys? = nil) throws {
        keyCells = keys.map { "\(CSVTable.field($0.runID)),\(CSVTable.field($0.policy)),\($0.seed)," } ?? ""
        keyHeader = keys == nil ? "" : "run_id,policy,seed,"
        self.folder = try DurableFolder(destination: folder)
        let staging = self.folder.staging
        jobIDs = scenario.jobs.map(\.id)
        nodeNames = scenario.cluster.nodes.map(\.name)
        requests = try BufferedFile(path: (staging as NSString).appendingPathComponent("requests.csv"))
        allocations = try BufferedFile(path: (staging as NSString).appendingPathComponent("allocations.csv"))
        usage = try BufferedFile(path: (staging as NSString).appendingPathComponent("usage.csv"))
        requests.write(keyHeader + "job_id,arrival_s,start_s,completion_s,response_ms,size\n")
        usage.write(keyHeader + "time_s,job_id,node,cpu_limit,cpu_weight,gpu_share,cpu_used,gpu_used,outstanding\n")
        allocations.write(keyHeader + "time_s,job_id,node,cpu_limit,cpu_weight,gpu_share,reason\n")
    }

    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {
        requests.write(keyCells + "\(jobIDs[job]),\(arrival),\(start),\(completion),\((completion - arrival) * 1000),\(size)\n")
    }

    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {
        let limit = allocation.cpuLimit.map { "\($0)" } ?? ""
        let why = CSVTable.field(reason)
        allocations.write(keyCells + "\(time),\(jobIDs[job]),\(nodeNames[node]),\(limit),\(allocation.cpuWeight),\(allocation.gpuShare),\(why)\n")
    }

    public func usageSampled(
        time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int
    ) {
        let limit = allocation.cpuLimit.map { "\($0)" } ?? ""
        usage.write(keyCells + "\(time),\(jobIDs[job]),\(nodeNames[node]),\(limit),\(allocation.cpuWeight),\(allocation.gpuShare),\(cpuUsed),\(gpuUsed),\(outstanding)\n")
    }

    public func decided(node: NodeObservation, trigger: PolicyTrigger, changes: [AllocationChange]) {
        if observations == nil {
            guard let file = try? BufferedFile(path: (folder.staging as NSString).appendingPathComponent("observations.csv")) else { return }
            file.write(
                keyHeader + "time_s,node,trigger,trigger_job,job_id,cpu_limit,cpu_weight,gpu_share,outstanding,oldest_age_s,completed,"
                    + "window_s,window_arrivals,window_completed,window_mean_ms,window_measured_ms,window_cpu_used,window_gpu_used,"
                    + "new_cpu_limit,new_cpu_weight,new_gpu_share,note\n")
            observations = file
        }
        func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        let why = trigger.reason, who = trigger.containerID ?? ""
        let name = CSVTable.field(node.name)
        for c in node.containers {
            let w = c.window, a = c.allocation
            let change = changes.first { $0.containerID == c.id }
            observations?.write(
                keyCells + "\(node.time),\(name),\(why),\(CSVTable.field(who)),\(CSVTable.field(c.id)),\(f(a.cpuLimit)),\(a.cpuWeight),\(a.gpuShare),"
                    + "\(c.outstanding),\(f(c.oldestOutstandingAge)),\(c.completedTotal),\(w.duration),\(w.arrivals),\(w.completed),"
                    + "\(f(w.meanMs)),\(f(w.measuredMs)),\(w.cpuUsed),\(w.gpuUsed),"
                    + "\(change.map { f($0.allocation.cpuLimit) } ?? ""),\(change.map { "\($0.allocation.cpuWeight)" } ?? ""),"
                    + "\(change.map { "\($0.allocation.gpuShare)" } ?? ""),\(CSVTable.field(change?.note ?? ""))\n")
        }
    }

    /// Writes `models.csv` and `files` (name -> text, e.g. the manifest) and swaps the
    /// whole folder into place.
    public func commit(result: SimulationResult, files: [String: String] = [:]) throws {
        let staging = folder.staging
        try requests.close()
        try allocations.close()
        try usage.close()
        try observations?.close()
        let models = try BufferedFile(path: (staging as NSString).appendingPathComponent("models.csv"))
        let table = ResultFormatter.modelsCSV(result)
        if keyCells.isEmpty {
            models.write(table)
        } else {
            // The keys hold the policy and seed: the table's own first two columns go.
            for (k, line) in table.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                let rest = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).last ?? ""
                models.write((k == 0 ? keyHeader : keyCells) + rest + "\n")
            }
        }
        try models.close()
        FaultPoint.reach("output.mid-write")
        for (name, text) in files.sorted(by: { $0.key < $1.key }) { try folder.write(name, text) }
        try folder.commit()
    }

    /// Removes the staging folder without touching the destination's files.
    public func discard() {
        try? requests.close()
        try? allocations.close()
        try? usage.close()
        try? observations?.close()
        folder.discard()
    }
}

/// One share of a sweep's grid: runs whose position k in the grid has k mod count == index.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// A shard from `--shard`: `i/n` (0-based, 0 <= i < n), or `slurm`: the task of a Slurm
    /// job array, from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_MAX and
    /// SLURM_ARRAY_TASK_STEP (default 1) in `environment`, for arrays of any base and step
    /// (`--array=1-4`, `0-6:2`): index = (ID - MIN) / STEP, count = (MAX - MIN) / STEP + 1.
    public static func parse(_ text: String, environment: [String: String]) throws -> Shard {
        if text == "slurm" {
            func value(_ name: String, default d: Int? = nil) throws -> Int {
                guard let s = environment[name] else {
                    if let d { return d }
                    throw ShardError("--shard slurm: \(name) is not set (run it as a task of `sbatch --array=...`)")
                }
                guard let v = Int(s) else { throw ShardError("--shard slurm: \(name)='\(s)' is not an integer") }
                return v
            }
            let id = try value("SLURM_ARRAY_TASK_ID"), lo = try value("SLURM_ARRAY_TASK_MIN"), hi = try value("SLURM_ARRAY_TASK_MAX")
            let step = try value("SLURM_ARRAY_TASK_STEP", default: 1)
            guard step >= 1 else { throw ShardError("--shard slurm: SLURM_ARRAY_TASK_STEP=\(step) must be >= 1") }
            guard lo <= hi, (hi - lo) % step == 0 else {
                throw ShardError("--shard slurm: the array \(lo)-\(hi):\(step) is not a range whose tasks can be numbered (MAX - MIN must be a multiple of STEP)")
            }
            guard id >= lo, id <= hi, (id - lo) % step == 0 else {
                throw ShardError("--shard slurm: task \(id) is not a task of the array \(lo)-\(hi):\(step)")
            }
            return Shard(index: (id - lo) / step, count: (hi - lo) / step + 1)
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 0, i < n else {
            throw ShardError("--shard must be i/n with 0 <= i < n (0-based), or slurm; got '\(text)'")
        }
        return Shard(index: i, count: n)
    }
}

/// A `--shard` that does not define a shard.
public struct ShardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

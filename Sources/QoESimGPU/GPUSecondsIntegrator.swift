/// Cumulative GPU-seconds per container from NVML's per-process utilisation: the live
/// counterpart of the simulator's per-container GPU-seconds (a share of one GPU, integrated
/// over time), so that a policy's `window.gpuUsed` means the same thing in both.
///
/// Each ``advance(to:samples:containerOf:)`` covers the interval since the previous one.
/// A container's use over it is the sum, over its processes, of each process's mean SM
/// utilisation in the samples read for that interval; a process NVML does not list was
/// idle (NVML reports only processes with non-zero use). Invariants (tested in
/// `GPUMeterTests`): GPU-seconds never decrease; an interval adds at most
/// `interval x processes` per container, and nothing for a container none of whose
/// processes appear.
public struct GPUSecondsIntegrator: Sendable {
    /// GPU-seconds of each container so far.
    public private(set) var gpuSeconds: [Double]
    /// The GPU on which each container's processes were last seen, nil until seen.
    public private(set) var lastGPU: [Int?]
    /// Samples that belonged to no container (other users of the GPU), in GPU-seconds.
    public private(set) var unattributedSeconds: Double = 0
    var lastTime: Double?

    public init(containers: Int) {
        gpuSeconds = Array(repeating: 0, count: containers)
        lastGPU = Array(repeating: nil, count: containers)
    }

    /// Adds the interval from the previous call to `t` (seconds, any monotonic clock). The
    /// first call only starts the clock.
    public mutating func advance(to t: Double, samples: [ProcessUtilization], containerOf: (UInt32) -> Int?) {
        defer { lastTime = max(lastTime ?? t, t) }
        guard let t0 = lastTime, t > t0 else { return }
        let dt = t - t0
        // Mean utilisation per (process, GPU) over the samples of this interval.
        var sum: [Key: (total: Double, count: Int)] = [:]
        for s in samples {
            let k = Key(pid: s.pid, gpu: s.gpu)
            let v = sum[k] ?? (0, 0)
            sum[k] = (v.total + Double(min(s.smUtilPct, 100)), v.count + 1)
        }
        for (k, v) in sum.sorted(by: { ($0.key.gpu, $0.key.pid) < ($1.key.gpu, $1.key.pid) }) {
            let used = v.total / Double(v.count) / 100 * dt
            if let c = containerOf(k.pid), gpuSeconds.indices.contains(c) {
                gpuSeconds[c] += used
                lastGPU[c] = k.gpu
            } else {
                unattributedSeconds += used
            }
        }
    }

    struct Key: Hashable {
        var pid: UInt32
        var gpu: Int
    }
}

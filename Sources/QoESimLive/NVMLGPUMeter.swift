import Foundation
import QoESimGPU

/// Each container's GPU use in a live run, from NVML's per-process SM utilisation of the
/// container's processes (their host PIDs, from Docker), integrated into GPU-seconds by
/// ``GPUSecondsIntegrator`` (checked against NVML's device utilisation on an H200 by
/// Tests/GPU/nvml-check.sh). A container's GPU is the one its processes were last seen on.
/// Per-process utilisation that the driver does not support is logged once; the meter then
/// reads 0 for every container (it does not guess a split of the device's utilisation).
public final class NVMLGPUMeter: GPUMeter {
    let nvml: NVML
    let pidsOf: (Int) -> [UInt32]
    let containers: Int
    let log: (String) -> Void
    var integrator: GPUSecondsIntegrator
    var owner: [UInt32: Int] = [:]
    var lastSeen: [UInt64]
    var lastRefresh: Double = -.infinity
    var lastPIDRead: Double = -.infinity
    var reported = false

    /// `pidsOf(i)`: the host PIDs of container `i` now.
    public init(nvml: NVML, containers: Int, pidsOf: @escaping (Int) -> [UInt32], log: @escaping (String) -> Void) {
        self.nvml = nvml
        self.containers = containers
        self.pidsOf = pidsOf
        self.log = log
        integrator = GPUSecondsIntegrator(containers: containers)
        lastSeen = Array(repeating: NVMLGPUMeter.epochMicros(), count: nvml.deviceCount)
    }

    static func epochMicros() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e6)) }

    public func gpuSeconds(_ container: Int, at t: Double) -> Double? {
        refresh(t)
        return integrator.gpuSeconds[container]
    }

    public func gpu(_ container: Int) -> Int? { integrator.lastGPU[container] }

    /// Reads every GPU's new samples once per run time `t`.
    func refresh(_ t: Double) {
        guard t > lastRefresh else { return }
        lastRefresh = t
        var samples: [ProcessUtilization] = []
        for g in lastSeen.indices {
            let now = NVMLGPUMeter.epochMicros()
            do {
                samples += try nvml.processUtilization(gpu: g, sinceMicros: lastSeen[g])
            } catch {
                if !reported { log("NVML: \(error); GPU use reads 0 for every container") }
                reported = true
            }
            lastSeen[g] = now
        }
        // PIDs change (a worker forks): re-read them when an unknown PID uses a GPU, at
        // most every 5 s, and at the first samples.
        if samples.contains(where: { owner[$0.pid] == nil }) && t - lastPIDRead >= 5 {
            lastPIDRead = t
            owner = [:]
            for i in 0..<containers { for pid in pidsOf(i) { owner[pid] = i } }
        }
        integrator.advance(to: t, samples: samples, containerOf: { self.owner[$0] })
    }
}

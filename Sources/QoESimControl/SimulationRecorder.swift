import QoESimPolicies

/// Receives the detailed record of a run as it happens (per-request lines, allocation
/// changes). Used by ``RunOutputWriter`` for `--out`; pass nil to keep memory flat.
public protocol SimulationRecorder: AnyObject {
    /// A request of job `job` (index into the job list) completed.
    func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double)
    /// The policy changed a container's allocation (also called once at placement).
    func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String)
    /// Periodic sample (see ``SimulationOptions/sampleInterval``): average cores and GPU
    /// fraction used since the previous sample, and requests outstanding now.
    func usageSampled(time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int)
}

extension SimulationRecorder {
    public func usageSampled(time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int) {}
}

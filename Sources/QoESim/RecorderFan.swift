/// Forwards to several recorders.
public final class RecorderFan: SimulationRecorder {
    let all: [SimulationRecorder]
    /// Forwards every record to each of `all`, in order.
    public init(_ all: [SimulationRecorder]) { self.all = all }
    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {
        for r in all { r.requestCompleted(job: job, arrival: arrival, start: start, completion: completion, size: size) }
    }
    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {
        for r in all { r.allocationChanged(time: time, job: job, node: node, allocation: allocation, reason: reason) }
    }
    public func usageSampled(time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int) {
        for r in all { r.usageSampled(time: time, job: job, node: node, allocation: allocation, cpuUsed: cpuUsed, gpuUsed: gpuUsed, outstanding: outstanding) }
    }
}

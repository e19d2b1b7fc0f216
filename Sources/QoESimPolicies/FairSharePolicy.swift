/// Docker's default ("the existing system" in the DQoES paper): no CPU limits, and
/// the Linux CFS divides each node's cores among the busy containers by cpu.shares
/// (equal unless the job trace gives a `weight`). Work-conserving.
public struct FairSharePolicy: AllocationPolicy {
    public let name = "fair-share"
    public let controlInterval: Double? = nil

    /// Docker's default sharing (no parameters).
    public init() {}

    /// On arrival, removes any initial limit the job trace set; otherwise does nothing.
    public mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
        guard case .arrival(let id) = trigger,
              let c = node.containers.first(where: { $0.id == id }), c.allocation.cpuLimit != nil else { return [] }
        var a = c.allocation
        a.cpuLimit = nil
        return [AllocationChange(containerID: id, allocation: a)]
    }
}

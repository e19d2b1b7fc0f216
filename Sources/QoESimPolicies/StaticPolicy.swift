/// Fixed per-container limits set once, at placement, and never changed.
///
/// A container's limit is its job's `cpus` column when given, else the node's cores
/// divided by the number of containers on the node at that moment (itself included).
/// Earlier containers keep their limits, so the sum can exceed the node (Docker
/// allows this too); CFS then shares the contention by weight.
public struct StaticPolicy: AllocationPolicy {
    public let name = "static"
    public let controlInterval: Double? = nil

    /// Static limits (no parameters).
    public init() {}

    public mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
        guard case .arrival(let id) = trigger, let c = node.containers.first(where: { $0.id == id }) else { return [] }
        var a = c.allocation
        a.cpuLimit = c.requestedCPUs ?? node.cpus / Double(node.containers.count)
        return a == c.allocation ? [] : [AllocationChange(containerID: id, allocation: a)]
    }
}

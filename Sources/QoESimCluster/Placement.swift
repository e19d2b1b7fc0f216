/// Where a new container goes.
public enum PlacementStrategy: String, Sendable, CaseIterable {
    /// Docker Swarm's default: the node with the fewest containers (ties: the node
    /// with fewer reserved CPUs, then the earlier node in the cluster file).
    case spread
    /// Fill nodes in cluster-file order: the first node with room.
    case pack
}

/// The placement state of the cluster: which nodes have room for what.
///
/// A container reserves the CPUs of its job's `cpus` column (0 when absent, as with
/// plain `docker run`) and, if its model needs one, a slot on one GPU. A node has room
/// when the reservation fits in its free CPUs, it has a GPU when one is needed, and
/// its container cap (if any) is not reached.
public struct PlacementState: Sendable {
    /// The cluster's nodes.
    public let nodes: [NodeSpec]
    /// Containers on each node.
    public private(set) var containerCount: [Int]
    /// Reserved CPUs on each node.
    public private(set) var reservedCPUs: [Double]
    /// Containers on each GPU of each node.
    public private(set) var gpuContainerCount: [[Int]]

    /// An empty cluster: no container placed.
    public init(cluster: ClusterSpec) {
        nodes = cluster.nodes
        containerCount = Array(repeating: 0, count: nodes.count)
        reservedCPUs = Array(repeating: 0, count: nodes.count)
        gpuContainerCount = nodes.map { Array(repeating: 0, count: $0.gpus) }
    }

    /// Whether node `n` has room for a container reserving `cpus` (and a GPU if `needsGPU`).
    public func hasRoom(node n: Int, cpus: Double, needsGPU: Bool) -> Bool {
        let node = nodes[n]
        if let cap = node.maxContainers, containerCount[n] >= cap { return false }
        if needsGPU && node.gpus == 0 { return false }
        return reservedCPUs[n] + cpus <= node.cpus + 1e-9
    }

    /// Chooses a node (honouring `required` when given) or returns nil when none has room.
    public func choose(strategy: PlacementStrategy, cpus: Double, needsGPU: Bool, required: Int?) -> Int? {
        if let r = required { return hasRoom(node: r, cpus: cpus, needsGPU: needsGPU) ? r : nil }
        var best: Int? = nil
        for n in nodes.indices where hasRoom(node: n, cpus: cpus, needsGPU: needsGPU) {
            switch strategy {
            case .pack:
                return n
            case .spread:
                if let b = best {
                    if containerCount[n] < containerCount[b]
                        || (containerCount[n] == containerCount[b] && reservedCPUs[n] < reservedCPUs[b]) {
                        best = n
                    }
                } else {
                    best = n
                }
            }
        }
        return best
    }

    /// Records a container on node `n`; returns the GPU index it got (nil without GPU).
    public mutating func place(node n: Int, cpus: Double, needsGPU: Bool) -> Int? {
        containerCount[n] += 1
        reservedCPUs[n] += cpus
        guard needsGPU else { return nil }
        let counts = gpuContainerCount[n]
        let g = counts.indices.min { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }!
        gpuContainerCount[n][g] += 1
        return g
    }

    /// Releases what `place` recorded.
    public mutating func remove(node n: Int, cpus: Double, gpu: Int?) {
        containerCount[n] -= 1
        reservedCPUs[n] -= cpus
        if reservedCPUs[n] < 1e-12 { reservedCPUs[n] = 0 }
        if let g = gpu { gpuContainerCount[n][g] -= 1 }
    }
}

import QoESimInput

/// One machine of the cluster.
public struct NodeSpec: Sendable, Equatable {
    /// Unique name (jobs may name it in their `node` column).
    public var name: String
    /// CPU cores, possibly fractional.
    public var cpus: Double
    /// Whole GPUs.
    public var gpus: Int
    /// Most containers the node accepts (nil: no limit), like a Swarm node's task cap.
    public var maxContainers: Int?

    /// A node with `cpus` cores and `gpus` GPUs; `maxContainers` caps its containers (nil: no cap).
    public init(name: String, cpus: Double, gpus: Int = 0, maxContainers: Int? = nil) {
        self.name = name
        self.cpus = cpus
        self.gpus = gpus
        self.maxContainers = maxContainers
    }
}

/// The cluster: its nodes, in file order (the order `pack` placement fills them).
///
/// File format (JSON or YAML):
/// ```json
/// {"nodes": [{"name": "n1", "cpus": 8, "gpus": 0}, {"name": "n2", "cpus": 8, "gpus": 1, "max_containers": 10}]}
/// ```
public struct ClusterSpec: Sendable, Equatable {
    /// The nodes, in the order `pack` placement fills them.
    public var nodes: [NodeSpec]

    /// A cluster of `nodes`.
    public init(nodes: [NodeSpec]) { self.nodes = nodes }

    /// Index of the node named `name`.
    public func nodeIndex(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Loads and validates a cluster file.
    public static func load(_ path: String) throws -> ClusterSpec {
        try parse(TextFile.read(path), file: path)
    }

    /// Validates a cluster file held in memory (`path` names it in errors).
    public static func parse(_ bytes: [UInt8], file path: String) throws -> ClusterSpec {
        let doc = try StructuredValue.parse(bytes: bytes, file: path)
        try doc.checkKeys(allowed: ["nodes"], in: "cluster")
        let list = try doc.required("nodes", in: "cluster").array(of: "nodes")
        guard !list.isEmpty else { throw doc.error("cluster has no nodes") }
        var nodes: [NodeSpec] = []
        var seen: [String: Int] = [:]
        for item in list {
            try item.checkKeys(allowed: ["name", "cpus", "gpus", "max_containers"], in: "node")
            let name = try item.required("name", in: "node").string("node name")
            guard !name.isEmpty else { throw item.error("node name must not be empty") }
            if let first = seen[name] { throw item.error("node '\(name)' is defined twice (first at line \(first))") }
            seen[name] = item.line
            let cpus = try item.required("cpus", in: "node").positive("cpus")
            let gpus = try item.optional("gpus", in: "node")?.integer("gpus", minimum: 0) ?? 0
            let cap = try item.optional("max_containers", in: "node")?.integer("max_containers", minimum: 1)
            nodes.append(NodeSpec(name: name, cpus: cpus, gpus: gpus, maxContainers: cap))
        }
        return ClusterSpec(nodes: nodes)
    }
}

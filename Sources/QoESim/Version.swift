/// The version of QoESim (semantic versioning: a changed result format or a changed
/// model that can change results raises the minor version at least). Recorded in
/// output manifests and printed by `qoesim --version`.
public enum QoESimVersion {
    /// This version, `major.minor.patch`.
    public static let current = "0.18.0"
}

/// The environment a workload container gets from the qoesim process that starts it.
///
/// OpenBLAS reads its settings (thread count, how long idle worker threads spin before
/// they sleep, core type) from `OPENBLAS_*` variables. A container does not inherit them
/// from the process that creates it, so qoesim passes every `OPENBLAS_*` variable set in
/// its own environment on to each container it starts (profiles through `docker run`,
/// live runs through the Engine API), and the profile cache key lists them: a profile,
/// its key and the live run it validates then see the same BLAS configuration.
public enum WorkloadEnvironment {
    /// Variables the cache key always names, set or not (the key's text of earlier
    /// versions, kept so that their cached profiles stay valid).
    public static let alwaysKeyed = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"]

    /// `NAME=VALUE` for every `OPENBLAS_*` variable set (non-empty) in `environment`,
    /// sorted by name: what each workload container is given.
    public static func forwarded(from environment: [String: String]) -> [String] {
        environment.filter { $0.key.hasPrefix("OPENBLAS_") && !$0.value.isEmpty }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
    }

    /// The OpenBLAS part of the profile cache key: the `alwaysKeyed` variables (empty
    /// when unset), then every other forwarded variable, sorted.
    public static func keyText(from environment: [String: String]) -> String {
        let fixed = alwaysKeyed.map { "\($0)=\(environment[$0] ?? "")" }
        let others = forwarded(from: environment).filter { entry in !alwaysKeyed.contains { entry.hasPrefix($0 + "=") } }
        return (fixed + others).joined(separator: " ")
    }

    /// `docker run` arguments (`-e NAME=VALUE` ...) that pass the forwarded variables on.
    public static func dockerRunArguments(from environment: [String: String]) -> [String] {
        forwarded(from: environment).flatMap { ["-e", $0] }
    }
}

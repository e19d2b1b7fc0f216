import Testing
import QoESimLive

/// What a workload container inherits from qoesim (OpenBLAS's settings) and how the
/// profile cache key names it. That the variables reach a real container is checked in
/// `DockerTests.containerLifecycle`.
@Suite("Workload environment (OpenBLAS settings passed to containers)")
struct WorkloadEnvironmentTests {
    @Test("Only non-empty OPENBLAS_* variables are passed on, sorted by name")
    func forwarded() {
        let env = ["PATH": "/bin", "OPENBLAS_THREAD_TIMEOUT": "4", "OPENBLAS_NUM_THREADS": "2", "OPENBLAS_CORETYPE": "", "GOTO_X": "1"]
        #expect(WorkloadEnvironment.forwarded(from: env) == ["OPENBLAS_NUM_THREADS=2", "OPENBLAS_THREAD_TIMEOUT=4"])
        #expect(WorkloadEnvironment.dockerRunArguments(from: env) == ["-e", "OPENBLAS_NUM_THREADS=2", "-e", "OPENBLAS_THREAD_TIMEOUT=4"])
        #expect(WorkloadEnvironment.forwarded(from: ["HOME": "/root"]).isEmpty)
    }

    @Test("The cache key keeps its earlier text when nothing else is set, and names every other variable passed on")
    func keyText() {
        // The text of keys made before other variables were passed on (cached profiles stay valid).
        #expect(WorkloadEnvironment.keyText(from: [:]) == "OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= OPENBLAS_NUM_THREADS=")
        let env = ["OPENBLAS_THREAD_TIMEOUT": "4", "OPENBLAS_NUM_THREADS": "2"]
        #expect(WorkloadEnvironment.keyText(from: env) == "OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= OPENBLAS_NUM_THREADS=2 OPENBLAS_THREAD_TIMEOUT=4")
        #expect(WorkloadEnvironment.keyText(from: env) != WorkloadEnvironment.keyText(from: [:]))
    }
}

import Foundation

/// GPU telemetry through NVML, loaded at run time with dlopen (no build-time NVIDIA
/// dependency). Without libnvidia-ml.so.1 (no driver, no GPU) ``load()`` returns nil and
/// the caller prints one notice and goes on CPU-only.
public final class NVML: @unchecked Sendable {
    /// One GPU's state.
    public struct GPU: Sendable, Equatable {
        public var index: Int
        public var name: String
        /// Percent of time a kernel was running over the last sample period.
        public var utilizationPct: Int
        public var memoryUsedBytes: UInt64
        public var memoryTotalBytes: UInt64
        /// Processes with a compute context on the GPU.
        public var processes: Int
    }

    typealias InitFn = @convention(c) () -> Int32
    typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias UtilFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32  // nvmlUtilization_t {gpu, memory}
    typealias MemFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32   // nvmlMemory_t {total, free, used}
    typealias NameFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias ProcFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>, UnsafeMutableRawPointer?) -> Int32

    let handle: UnsafeMutableRawPointer
    let count: CountFn, byIndex: HandleFn, util: UtilFn, mem: MemFn, name: NameFn, procs: ProcFn?
    let shutdown: InitFn

    /// Why NVML could not be loaded, when it could not.
    public nonisolated(unsafe) static var unavailableReason = ""

    /// Loads and initializes NVML, or returns nil (see ``unavailableReason``).
    public static func load(library: String = "libnvidia-ml.so.1") -> NVML? {
        guard let h = dlopen(library, RTLD_NOW) else {
            unavailableReason = "\(library) not found (no NVIDIA driver on this machine): GPU telemetry off, CPU only"
            return nil
        }
        func sym<T>(_ n: String, _: T.Type) -> T? { dlsym(h, n).map { unsafeBitCast($0, to: T.self) } }
        guard let initFn = sym("nvmlInit_v2", InitFn.self), let count = sym("nvmlDeviceGetCount_v2", CountFn.self),
              let byIndex = sym("nvmlDeviceGetHandleByIndex_v2", HandleFn.self), let util = sym("nvmlDeviceGetUtilizationRates", UtilFn.self),
              let mem = sym("nvmlDeviceGetMemoryInfo", MemFn.self), let name = sym("nvmlDeviceGetName", NameFn.self),
              let shutdown = sym("nvmlShutdown", InitFn.self) else {
            unavailableReason = "\(library) lacks the NVML functions used: GPU telemetry off"
            dlclose(h)
            return nil
        }
        let rc = initFn()
        guard rc == 0 else {
            unavailableReason = "nvmlInit failed (NVML error \(rc)): GPU telemetry off"
            dlclose(h)
            return nil
        }
        return NVML(handle: h, count: count, byIndex: byIndex, util: util, mem: mem, name: name,
                    procs: sym("nvmlDeviceGetComputeRunningProcesses_v3", ProcFn.self) ?? sym("nvmlDeviceGetComputeRunningProcesses", ProcFn.self),
                    shutdown: shutdown)
    }

    init(handle: UnsafeMutableRawPointer, count: CountFn, byIndex: HandleFn, util: UtilFn, mem: MemFn, name: NameFn, procs: ProcFn?, shutdown: InitFn) {
        self.handle = handle
        self.count = count
        self.byIndex = byIndex
        self.util = util
        self.mem = mem
        self.name = name
        self.procs = procs
        self.shutdown = shutdown
    }

    deinit {
        _ = shutdown()
        dlclose(handle)
    }

    /// A snapshot of every GPU.
    public func gpus() -> [GPU] {
        var n: UInt32 = 0
        guard count(&n) == 0 else { return [] }
        return (0..<n).compactMap { i -> GPU? in
            var device: OpaquePointer? = nil
            guard byIndex(i, &device) == 0 else { return nil }
            var u = [UInt32](repeating: 0, count: 2)
            _ = util(device, &u)
            var m = [UInt64](repeating: 0, count: 3)
            _ = mem(device, &m)
            var buf = [CChar](repeating: 0, count: 96)
            _ = name(device, &buf, 96)
            var procCount: UInt32 = 0
            if let procs { _ = procs(device, &procCount, nil) }
            return GPU(index: Int(i), name: String(cString: buf), utilizationPct: Int(u[0]), memoryUsedBytes: m[2],
                       memoryTotalBytes: m[0], processes: Int(procCount))
        }
    }
}

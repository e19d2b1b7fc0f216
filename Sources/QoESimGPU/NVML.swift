#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

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
    // nvmlDeviceGetProcessUtilization(device, nvmlProcessUtilizationSample_t *, unsigned *count, unsigned long long lastSeen)
    typealias ProcUtilFn = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt32>, UInt64) -> Int32

    let handle: UnsafeMutableRawPointer
    let count: CountFn, byIndex: HandleFn, util: UtilFn, mem: MemFn, name: NameFn, procs: ProcFn?, procUtil: ProcUtilFn?
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
                    procUtil: sym("nvmlDeviceGetProcessUtilization", ProcUtilFn.self), shutdown: shutdown)
    }

    init(
        handle: UnsafeMutableRawPointer, count: CountFn, byIndex: HandleFn, util: UtilFn, mem: MemFn, name: NameFn, procs: ProcFn?,
        procUtil: ProcUtilFn?, shutdown: InitFn
    ) {
        self.handle = handle
        self.count = count
        self.byIndex = byIndex
        self.util = util
        self.mem = mem
        self.name = name
        self.procs = procs
        self.procUtil = procUtil
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
            return GPU(index: Int(i), name: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), utilizationPct: Int(u[0]), memoryUsedBytes: m[2],
                       memoryTotalBytes: m[0], processes: Int(procCount))
        }
    }

    /// Why per-process utilisation could not be read, when it could not.
    public enum ProcessUtilizationError: Error, Equatable, CustomStringConvertible {
        /// The driver has no such function or the device does not support it.
        case unsupported
        /// NVML answered with this error code.
        case nvml(Int32)
        public var description: String {
            switch self {
            case .unsupported: return "per-process utilisation is not supported by this driver or GPU"
            case .nvml(let rc): return "nvmlDeviceGetProcessUtilization failed (NVML error \(rc))"
            }
        }
    }

    /// Per-process SM utilisation of GPU `index` since `lastSeenMicros` (a CPU time stamp
    /// in microseconds since the epoch, as NVML keeps them; 0 for every sample the driver
    /// holds). NVML lists only processes with non-zero use in that period: an empty answer
    /// means an idle GPU.
    public func processUtilization(gpu index: Int, sinceMicros lastSeenMicros: UInt64) throws(ProcessUtilizationError) -> [ProcessUtilization] {
        guard let procUtil else { throw .unsupported }
        var device: OpaquePointer? = nil
        let rcHandle = byIndex(UInt32(index), &device)
        guard rcHandle == 0 else { throw .nvml(rcHandle) }
        // nvmlProcessUtilizationSample_t: pid u32, (pad), timeStamp u64, smUtil, memUtil,
        // encUtil, decUtil u32: 32 bytes; read by offset, not through a Swift struct.
        let stride = 32
        var n: UInt32 = 0
        var rc = procUtil(device, nil, &n, lastSeenMicros)
        switch rc {
        case 0: return []
        case 6: return []  // NVML_ERROR_NOT_FOUND: no sample newer than lastSeen
        case 3: throw .unsupported  // NVML_ERROR_NOT_SUPPORTED
        case 7: break  // NVML_ERROR_INSUFFICIENT_SIZE: n holds the count
        default: throw .nvml(rc)
        }
        // Room for processes that appeared between the two calls.
        n += 8
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(n) * stride, alignment: 8)
        defer { buffer.deallocate() }
        rc = procUtil(device, buffer, &n, lastSeenMicros)
        if rc == 6 { return [] }
        if rc == 3 { throw .unsupported }
        guard rc == 0 else { throw .nvml(rc) }
        return (0..<Int(n)).map { k in
            let base = buffer + k * stride
            return ProcessUtilization(
                gpu: index, pid: base.loadUnaligned(as: UInt32.self), timeStampMicros: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                smUtilPct: base.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        }
    }

    /// The number of GPUs NVML sees.
    public var deviceCount: Int {
        var n: UInt32 = 0
        return count(&n) == 0 ? Int(n) : 0
    }
}

/// One process's SM utilisation on one GPU, as NVML reports it.
public struct ProcessUtilization: Sendable, Equatable {
    public var gpu: Int
    public var pid: UInt32
    /// CPU time stamp of the sample, microseconds since the epoch.
    public var timeStampMicros: UInt64
    /// Percent of the sample period in which a kernel of this process ran on the SMs.
    public var smUtilPct: UInt32

    public init(gpu: Int, pid: UInt32, timeStampMicros: UInt64, smUtilPct: UInt32) {
        self.gpu = gpu
        self.pid = pid
        self.timeStampMicros = timeStampMicros
        self.smUtilPct = smUtilPct
    }
}

// qoesim-gpu-probe: loads NVML as the live adapter does (dlopen, no build-time NVIDIA
// dependency), lists the GPUs, then samples device and per-process utilisation for a while
// and integrates them into GPU-seconds with the live adapter's own integrator
// (`GPUSecondsIntegrator`). Built with --static-swift-stdlib so that it runs on a GPU
// machine without a Swift toolchain; Tests/GPU/nvml-check.sh is the check that uses it.
//
// No Foundation (as qoesim-infer): it links into a small static binary.
#if canImport(Glibc)
import Glibc
#endif
import QoESimGPU

let usage = """
    usage: qoesim-gpu-probe [--seconds S] [--interval-ms M] [--pid PID ...]

    Prints one JSON object: the GPUs NVML sees, then, over S seconds (default 5) sampled
    every M ms (default 200), each GPU's mean utilisation and GPU-seconds, and the
    GPU-seconds of each --pid from NVML's per-process utilisation (integrated as the live
    adapter integrates a container's processes). Exit status 1 without NVML, 2 on bad
    arguments.

    """

func fail(_ message: String, status: Int32) -> Never {
    fputs("qoesim-gpu-probe: \(message)\n", stderr)
    exit(status)
}

var seconds = 5.0, intervalMs = 200.0
var pids: [UInt32] = []
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    func value() -> String {
        guard let v = args.popFirst() else { fail("\(a) needs a value\n\(usage)", status: 2) }
        return v
    }
    switch a {
    case "--help", "-h":
        print(usage, terminator: "")
        exit(0)
    case "--seconds":
        guard let v = Double(value()), v > 0, v <= 3600 else { fail("--seconds needs a number in (0, 3600]", status: 2) }
        seconds = v
    case "--interval-ms":
        guard let v = Double(value()), v >= 10, v <= 10_000 else { fail("--interval-ms needs a number in [10, 10000]", status: 2) }
        intervalMs = v
    case "--pid":
        guard let v = UInt32(value()) else { fail("--pid needs a process id", status: 2) }
        pids.append(v)
    default:
        fail("unknown argument '\(a)'\n\(usage)", status: 2)
    }
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func epochMicros() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
}

func json(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where ch.value < 0x20: out += "\\u00" + String(ch.value, radix: 16).leftPadded(2)
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

func fixed(_ x: Double) -> String {
    let scaled = (x * 1000).rounded()
    return "\(scaled / 1000)"
}

guard let nvml = NVML.load() else { fail(NVML.unavailableReason, status: 1) }
let gpus = nvml.gpus()
var deviceSeconds = [Double](repeating: 0, count: gpus.count)
var deviceReads = [Int](repeating: 0, count: gpus.count)
var utilSum = [Double](repeating: 0, count: gpus.count)
var integrator = GPUSecondsIntegrator(containers: pids.count)
var processError: String? = nil
var processSamples = 0
let start = nowSeconds()
var last = start
var lastSeen = [UInt64](repeating: epochMicros(), count: gpus.count)
integrator.advance(to: 0, samples: [], containerOf: { _ in nil })
while nowSeconds() - start < seconds {
    usleep(UInt32(intervalMs * 1000))
    let t = nowSeconds()
    let snapshot = nvml.gpus()
    var samples: [ProcessUtilization] = []
    for g in snapshot.indices where g < gpus.count {
        // Device utilisation: percent of the driver's last sample period, held over ours.
        deviceSeconds[g] += Double(snapshot[g].utilizationPct) / 100 * (t - last)
        utilSum[g] += Double(snapshot[g].utilizationPct)
        deviceReads[g] += 1
        let seen = epochMicros()
        do {
            samples += try nvml.processUtilization(gpu: g, sinceMicros: lastSeen[g])
        } catch {
            processError = error.description
        }
        lastSeen[g] = seen
    }
    processSamples += samples.count
    integrator.advance(to: t - start, samples: samples, containerOf: { pid in pids.firstIndex(of: pid) })
    last = t
}
let elapsed = last - start

var lines: [String] = []
lines.append("{")
lines.append("  \"gpus\": [")
lines.append(gpus.enumerated().map { g, gpu in
    "    {\"index\": \(gpu.index), \"name\": \(json(gpu.name)), \"memory_total_bytes\": \(gpu.memoryTotalBytes), "
        + "\"mean_utilization_pct\": \(fixed(deviceReads[g] > 0 ? utilSum[g] / Double(deviceReads[g]) : 0)), "
        + "\"gpu_seconds\": \(fixed(deviceSeconds[g])), \"compute_processes_at_start\": \(gpu.processes)}"
}.joined(separator: ",\n"))
lines.append("  ],")
lines.append("  \"seconds\": \(fixed(elapsed)),")
lines.append("  \"interval_ms\": \(fixed(intervalMs)),")
lines.append("  \"process_samples\": \(processSamples),")
lines.append("  \"process_utilization_error\": \(processError.map(json) ?? "null"),")
lines.append("  \"unattributed_gpu_seconds\": \(fixed(integrator.unattributedSeconds)),")
lines.append("  \"processes\": [" + pids.enumerated().map { k, pid in
    "{\"pid\": \(pid), \"gpu\": \(integrator.lastGPU[k].map(String.init) ?? "null"), \"gpu_seconds\": \(fixed(integrator.gpuSeconds[k]))}"
}.joined(separator: ", ") + "]")
lines.append("}")
print(lines.joined(separator: "\n"))

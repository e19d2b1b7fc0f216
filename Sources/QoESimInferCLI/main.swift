// qoesim-infer: a real deep-learning inference workload. It runs the forward pass of
// ResNet-50, MobileNetV2, VGG-16 or a BERT-base encoder by their published layer shapes
// as OpenBLAS GEMMs on random weights, and either benchmarks it (`bench`) or serves it
// on loopback with a line protocol (`serve`: each line "infer" is answered with
// "ok <milliseconds>"; `--workers N` serves N connections at once, each worker thread
// with its own copy of the network). No Foundation: it links statically into a minimal
// image.
import CGSL
import Glibc
import QoESimInference

func usage() -> Never {
    let text = """
    usage: qoesim-infer list
           qoesim-infer bench --model NAME [--requests N] [--warmup W] [--threads T] [--gap-ms G]
           qoesim-infer serve --model NAME [--port P] [--threads T] [--workers N] [--nonce TEXT]

    bench prints `request,latency_ms,start_s` for N timed forward passes (after W untimed
    ones), idle for G ms before each (default 0: back to back); start_s is CLOCK_MONOTONIC,
    which all containers on a machine share. Last, on stderr: `cpu_seconds C requests N
    gap_ms G`, the CPU time all threads used over the timed requests and their gaps.
    serve listens on 127.0.0.1:P (default 9000); send "infer\\n", get "ok <ms>\\n"; "quit\\n" closes;
    "hello\\n" is answered with "qoesim-infer TEXT\\n" (--nonce; a live run's check that the
    port is served by its own container).
    With --workers N (default 1) N threads each serve one connection at a time, so up to N
    requests (one per connection) are in service at once; each thread has its own copy of
    the network (N x its weights in memory), all share OpenBLAS's thread pool.
    models: \(NetworkCatalog.names.joined(separator: ", "))

    """
    fputs(text, stderr)
    exit(2)
}

/// User + system CPU time of the whole process (all threads), seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

var args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else { usage() }
args.removeFirst()
var options: [String: String] = [:]
while !args.isEmpty {
    let key = args.removeFirst()
    guard key.hasPrefix("--"), !args.isEmpty else { usage() }
    options[String(key.dropFirst(2))] = args.removeFirst()
}
func intOption(_ k: String, _ d: Int) -> Int {
    guard let v = options[k] else { return d }
    guard let i = Int(v), i >= 0 else {
        fputs("error: --\(k) needs a non-negative integer, got '\(v)'\n", stderr)
        exit(2)
    }
    return i
}

/// One worker: accepts a connection on `listening` and answers its lines, one request at
/// a time, until it closes; then the next connection.
func serveConnections(_ listening: Int32, _ net: InferenceNetwork) -> Never {
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let client = accept(listening, nil, nil)
        if client < 0 { continue }
        var pending: [UInt8] = []
        connection: while true {
            let got = read(client, &chunk, chunk.count)
            if got <= 0 { break }
            pending.append(contentsOf: chunk[0..<got])
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[0..<nl], as: UTF8.self).trimmingCharacters()
                pending.removeSubrange(0...nl)
                if line == "quit" { break connection }
                let reply: String
                if line == "hello" {
                    reply = "qoesim-infer \(serveNonce)\n"
                } else if line == "infer" {
                    let t0 = now()
                    net.infer()
                    reply = "ok \((now() - t0) * 1000)\n"
                } else {
                    reply = "error unknown command\n"
                }
                _ = reply.withCString { write(client, $0, strlen($0)) }
            }
        }
        close(client)
    }
}

switch mode {
case "list":
    for n in NetworkCatalog.names { print(n) }
    exit(0)
case "bench", "serve":
    break
default:
    usage()
}

guard let name = options["model"] else { usage() }
guard let net = NetworkCatalog.make(name) else {
    fputs("error: unknown model '\(name)'; models: \(NetworkCatalog.names.joined(separator: ", "))\n", stderr)
    exit(2)
}
if let t = options["threads"] { openblas_set_num_threads(Int32(intOption("threads", Int(t) ?? 1))) }
fputs("\(net.name): \(Double(net.macs) / 1e9) GMAC per inference\n", stderr)

if mode == "bench" {
    let n = intOption("requests", 10), warm = intOption("warmup", 1), gap = intOption("gap-ms", 0)
    for _ in 0..<warm { net.infer() }
    print("request,latency_ms,start_s")
    let cpu0 = processCPUSeconds()
    for i in 0..<n {
        if gap > 0 { usleep(UInt32(min(gap, 60_000)) * 1000) }
        let t0 = now()
        net.infer()
        print("\(i),\((now() - t0) * 1000),\(t0)")
        fflush(stdout)
    }
    if gap > 0 { usleep(UInt32(min(gap, 60_000)) * 1000) }  // the last request's idle too
    // CPU time of every thread of the process over the timed requests and their idle gaps
    // (OpenBLAS's workers keep polling for work after each product before they sleep).
    fputs("cpu_seconds \(processCPUSeconds() - cpu0) requests \(n) gap_ms \(gap)\n", stderr)
    exit(0)
}

// serve
let port = intOption("port", 9000)
/// What `hello` is answered with (after "qoesim-infer "): the live run's id for this
/// container, so that the run knows the port is served by its own container.
let serveNonce = options["nonce"] ?? "-"
let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
var yes: Int32 = 1
setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
var addr = sockaddr_in()
addr.sin_family = sa_family_t(AF_INET)
addr.sin_port = in_port_t(UInt16(port).bigEndian)
addr.sin_addr.s_addr = inet_addr("127.0.0.1")
/// The listening socket every worker accepts on.
let listenFD = fd
let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
guard bound == 0, listen(fd, 16) == 0 else {
    fputs("error: cannot listen on 127.0.0.1:\(port) (errno \(errno))\n", stderr)
    exit(1)
}
let workerCount = intOption("workers", 1)
guard workerCount >= 1, workerCount <= 64 else {
    fputs("error: --workers must be 1 to 64, got \(workerCount)\n", stderr)
    exit(2)
}
// One network per worker: a network's activation buffers serve one request at a time.
var workerNets: [InferenceNetwork] = [net] + (1..<workerCount).map { _ in NetworkCatalog.make(name)! }
for n in workerNets { n.infer() }  // warm up caches and OpenBLAS threads before taking requests
fputs("serving \(net.name) on 127.0.0.1:\(port) with \(workerCount) worker(s)\n", stderr)
signal(SIGPIPE, SIG_IGN)
var threads: [pthread_t] = []
for w in 1..<workerCount {
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        serveConnections(listenFD, workerNets[Int(bitPattern: arg) - 1])
    }, UnsafeMutableRawPointer(bitPattern: w + 1))
    guard rc == 0 else {
        fputs("error: cannot start worker thread \(w) (pthread_create: \(rc))\n", stderr)
        exit(1)
    }
    threads.append(thread)
}
serveConnections(listenFD, workerNets[0])

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let l = s.last, l == "\r" || l == " " { s.removeLast() }
        return String(s)
    }
}

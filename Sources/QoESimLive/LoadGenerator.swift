import Foundation
import QoESim

/// Monotonic seconds.
func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Sleeps until monotonic time `t` (or returns at once if it has passed).
func sleep(until t: Double) {
    let dt = t - monotonic()
    if dt > 0 { usleep(UInt32(min(dt, 4000) * 1e6)) }
}

/// One completed request, seen by the client.
public struct LiveRequest: Sendable {
    public var arrival: Double
    public var start: Double
    public var completion: Double
    /// Compute time the server reported.
    public var serverMs: Double

    public init(arrival: Double, start: Double, completion: Double, serverMs: Double) {
        self.arrival = arrival
        self.start = start
        self.completion = completion
        self.serverMs = serverMs
    }
}

/// Drives one job's requests against its container over the line protocol: one thread
/// releases the job's arrivals at the times its ``ArrivalSchedule`` gives (the
/// simulator's schedule, so live and simulated runs see the same arrivals: common random
/// numbers) into a FIFO, and `job.workers` sender threads, each with its own connection
/// (the container serves each connection with one of its workers), take them in order,
/// one at a time each, and record response times: up to `workers` requests in service
/// at once, the rest waiting, as in the simulator. A closed loop starts with `workers`
/// requests and sends the next one as each completes, while the job's window lasts.
final class JobClient: @unchecked Sendable {
    let job: JobSpec
    let port: Int
    let epoch: Double
    let lock = NSCondition()
    var queue: [Double] = []
    var completed: [LiveRequest] = []
    var arrivalsDone = false
    var failed: String? = nil
    /// Arrival times (monotonic) of the requests in service, one per busy sender.
    var inFlight: [Double] = []
    var arrived = 0
    var arrivedTotal = 0
    var windowStart = 0
    /// The job's arrivals, begun at its arrival time in run seconds (fixed once begun).
    var schedule: ArrivalSchedule
    var started = false

    init(job: JobSpec, port: Int, epoch: Double, schedule: ArrivalSchedule) {
        self.job = job
        self.port = port
        self.epoch = epoch
        self.schedule = schedule
        self.schedule.begin(at: job.arrival)
    }

    /// Starts the load (once): the job's container has been placed and the policy asked.
    /// Arrivals keep their scheduled times (run seconds from the epoch): those already
    /// due go out at once.
    func begin() {
        lock.lock()
        if started {
            lock.unlock()
            return
        }
        started = true
        lock.unlock()
        Thread.detachNewThread { [self] in
            var releases = schedule
            let t0 = epoch + releases.start
            lock.lock()
            for _ in 0..<releases.initialRequests {
                queue.append(t0)
                arrived += 1
                arrivedTotal += 1
            }
            lock.broadcast()
            lock.unlock()
            while let a = releases.next() {
                sleep(until: epoch + a.time)
                lock.lock()
                queue.append(epoch + a.time)
                arrived += 1
                arrivedTotal += 1
                lock.signal()
                lock.unlock()
            }
            if !job.arrivals.isClosed {
                lock.lock()
                arrivalsDone = true
                lock.broadcast()
                lock.unlock()
            }
        }
        for _ in 0..<max(1, job.workers) {
            Thread.detachNewThread { [self] in sender() }
        }
    }

    func sender() {
        let fd = connectLoopback(port)
        guard fd >= 0 else {
            lock.lock(); failed = "cannot connect to 127.0.0.1:\(port)"; arrivalsDone = true; lock.broadcast(); lock.unlock()
            return
        }
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        while true {
            lock.lock()
            while queue.isEmpty && !arrivalsDone { lock.wait() }
            if queue.isEmpty && arrivalsDone {
                lock.unlock()
                return
            }
            let arrival = queue.removeFirst()
            inFlight.append(arrival)
            lock.unlock()
            let start = monotonic()
            let ok = "infer\n".withCString { write(fd, $0, 6) } == 6
            let line = ok ? reader.next() : nil
            let done = monotonic()
            lock.lock()
            if let k = inFlight.firstIndex(of: arrival) { inFlight.remove(at: k) }
            guard let line, line.hasPrefix("ok ") else {
                failed = "container for \(job.id) stopped answering at t=\(String(format: "%.1f", done - epoch)) s"
                arrivalsDone = true
                queue.removeAll()
                lock.broadcast()
                lock.unlock()
                return
            }
            completed.append(LiveRequest(arrival: arrival - epoch, start: start - epoch, completion: done - epoch, serverMs: Double(line.dropFirst(3)) ?? 0))
            if job.arrivals.isClosed {
                if schedule.continuesAfter(completionAt: done - epoch) {
                    queue.append(done)
                    arrived += 1
                    arrivedTotal += 1
                } else {
                    arrivalsDone = true
                }
            }
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Requests completed since the last call (the monitoring window).
    func takeWindow() -> (arrivals: Int, done: ArraySlice<LiveRequest>) {
        lock.lock()
        defer { lock.unlock() }
        let slice = completed[windowStart...]
        windowStart = completed.count
        let a = arrived
        arrived = 0
        return (a, slice)
    }

    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return arrivalsDone && queue.isEmpty && inFlight.isEmpty
    }

    var outstanding: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count + inFlight.count
    }

    /// Seconds since the oldest request now in flight or queued arrived, at monotonic
    /// time `now` (nil when none is outstanding). (Queue times are monotonic.)
    func oldestOutstandingAge(now: Double) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        let oldest = (inFlight + (queue.first.map { [$0] } ?? [])).min()
        return oldest.map { max(0, now - $0) }
    }
}

/// Reads newline-terminated lines from a socket.
struct LineReader {
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> String? {
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[0..<nl], as: UTF8.self)
                buffer.removeSubrange(0...nl)
                return line
            }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}

/// A TCP connection to 127.0.0.1:port, or -1.
func connectLoopback(_ port: Int) -> Int32 {
    guard let port16 = UInt16(exactly: port) else { return -1 }  // not a port: no connection, never a trap
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(port16.bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    if rc != 0 {
        close(fd)
        return -1
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

extension JobClient: RequestMonitor {
    func begin(at t: Double) { begin() }

    func takeNew() -> (arrivals: Int, completed: [LiveRequest]) {
        let w = takeWindow()
        return (w.arrivals, Array(w.done))
    }

    func oldestOutstandingAge(at t: Double) -> Double? { oldestOutstandingAge(now: epoch + t) }

    var failure: String? {
        lock.lock()
        defer { lock.unlock() }
        return failed
    }
}

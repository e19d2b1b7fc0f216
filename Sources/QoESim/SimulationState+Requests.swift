import DequeModule
import QoESimControl

extension SimulationState {
    // MARK: Requests

    /// Moves container j's in-service requests forward to time t at the current rate.
    @inline(__always) mutating func advance(_ j: Int, _ t: Double) {
        let dt = t - c[j].lastProgress
        c[j].lastProgress = t
        let busy = c[j].busy
        if dt > 0 && busy > 0 {
            let done = c[j].rate * dt
            let b = slotBase[j]
            for k in b..<(b + busy) { slots[k].work -= done }
        }
    }

    /// Adds the CPU and GPU used since the last call to the container's totals.
    @inline(__always) mutating func account(_ j: Int, _ t: Double) {
        let dt = t - c[j].lastUsage
        if dt > 0 {
            c[j].cpuSeconds += c[j].cpu * dt
            c[j].gpuSeconds += c[j].gpuFraction * dt
        }
        c[j].lastUsage = t
    }

    /// Recomputes container j's per-request rate and re-arms its completion timer.
    /// Precondition: j was advanced to t.
    @inline(__always) mutating func setRate(_ j: Int, _ t: Double) {
        let busy = c[j].busy
        guard busy > 0 else {
            c[j].rate = 0
            loop.disarm(completionTimer(j))
            return
        }
        let k = Double(busy)
        let rate: Double
        // Below its cap (limit, parallelism, node) a container's CPU is set by contention,
        // and the shared-cores latency applies if known; at its cap, the profile's.
        if let shared = sharedLatency[j], c[j].cpu < c[j].cap * (1 - 1e-9) {
            rate = 1 / shared.latencySeconds(cpus: c[j].cpu / k, gpuFraction: c[j].gpuFraction / k)
        } else {
            rate = 1 / latency[j].latencySeconds(cpus: c[j].cpu / k, gpuFraction: c[j].gpuFraction / k)
        }
        c[j].rate = rate
        let b = slotBase[j]
        var least = slots[b].work
        if busy > 1 { for s in (b + 1)..<(b + busy) where slots[s].work < least { least = slots[s].work } }
        loop.arm(completionTimer(j), at: t + max(least, 0) / rate)
    }

    mutating func arrive(_ j: Int, _ t: Double, size: Double) {
        var factor = variability[j].sample(&serviceStream[j])
        if c[j].busy == 0 && coldStart[j].factor != 1 && t - c[j].idleSince >= coldStart[j].afterS { factor *= coldStart[j].factor }
        let request = Request(arrival: t, start: t, work: size * factor, size: size)
        c[j].counters.recordArrival()
        if c[j].busy < jobs[j].workers {
            advance(j, t)
            account(j, t)
            if c[j].spinning {
                // The polling threads take the request: the spin ends.
                c[j].spinning = false
                loop.disarm(spinTimer(j))
            }
            slots[slotBase[j] + c[j].busy] = request
            c[j].busy += 1
            loadChanged(j, t)
        } else {
            waiting[j].append(request)
        }
    }

    mutating func completion(_ j: Int, _ t: Double) {
        advance(j, t)
        account(j, t)
        let b = slotBase[j]
        let busy = c[j].busy
        var done = b
        if busy > 1 { for s in (b + 1)..<(b + busy) where slots[s].work < slots[done].work { done = s } }
        record(j, arrival: slots[done].arrival, start: slots[done].start, size: slots[done].size, t)
        // Closed loop: the client sends its next request as soon as this one returns.
        if c[j].phase == .active && t < c[j].closedLoopEnd {
            let factor = variability[j].sample(&serviceStream[j])
            waiting[j].append(Request(arrival: t, start: t, work: factor, size: 1))
            c[j].counters.recordArrival()
        }
        if var next = waiting[j].popFirst() {
            next.start = t
            slots[done] = next
            setRate(j, t)
        } else {
            slots[done] = slots[b + busy - 1]
            c[j].busy = busy - 1
            if busy == 1 {
                c[j].idleSince = t
                // Its threads keep polling for a while (not when the job is leaving).
                if idleSpin[j].seconds > 0 && c[j].phase == .active {
                    c[j].spinning = true
                    loop.arm(spinTimer(j), at: t + idleSpin[j].seconds)
                }
            }
            loadChanged(j, t)
        }
        if c[j].phase == .draining { departIfIdle(j, t) }
    }

    @inline(__always) mutating func record(_ j: Int, arrival: Double, start: Double, size: Double, _ t: Double) {
        let response = t - arrival
        c[j].counters.countCompletion(seconds: response)
        let micros = ContainerMonitor.micros(response)
        // Response times reach the histograms in batches (see `flushResponses`).
        let k = c[j].pendingResponses
        pendingMicros[j &* SimulationState.responseBatch &+ k] = micros
        c[j].pendingResponses = k + 1
        if k + 1 == SimulationState.responseBatch { flushResponses(j) }
        if let recorder { recorder.requestCompleted(job: j, arrival: arrival, start: start, completion: t, size: size) }
    }

    /// Response times buffered per container before they are added to its histograms.
    static let responseBatch = 32

    /// Adds container j's buffered response times to its histograms. Batching keeps a
    /// histogram's counters in cache for 32 updates instead of one: with thousands of
    /// containers, one update per completion would miss the cache almost every time.
    /// Histograms are only read after a flush (observations, results), and a histogram's
    /// contents do not depend on the order of its updates, so results are unchanged.
    @inline(never) mutating func flushResponses(_ j: Int) {
        let count = c[j].pendingResponses
        guard count > 0 else { return }
        let base = j &* SimulationState.responseBatch
        histograms[j].record(pendingMicros.buffer(base..<(base + count)))
        c[j].pendingResponses = 0
    }
}

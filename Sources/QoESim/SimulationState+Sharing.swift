import DequeModule
import QoESimControl

extension SimulationState {
    // MARK: CPU and GPU sharing

    @inline(__always) func demandCap(_ j: Int) -> Double {
        let n = c[j].node
        let busy = c[j].busy
        let wanted = busy > 0 ? latency[j].maxParallelism * Double(busy) : (c[j].spinning ? idleSpin[j].cores : 0)
        return min(c[j].allocation.cpuLimit ?? .infinity, wanted, nodes[n].cpus)
    }

    /// Container j's idle spin is over: it stops competing for CPU.
    mutating func spinEnd(_ j: Int, _ t: Double) {
        guard c[j].spinning else { return }
        account(j, t)
        c[j].spinning = false
        loadChanged(j, t)
    }

    /// Container j's number of in-service requests (or its idle spin) changed (j already
    /// advanced and accounted at t): update the node's busy set and redivide its CPU.
    mutating func loadChanged(_ j: Int, _ t: Double) {
        let n = c[j].node
        if c[j].busy > 0 || c[j].spinning {
            let cap = demandCap(j)
            if c[j].busyIndex < 0 {
                c[j].busyIndex = nodeBusy[n].count
                nodeBusy[n].append(j)
                nodeDemand[n] += cap
            } else {
                nodeDemand[n] += cap - c[j].cap
            }
            c[j].cap = cap
            redivide(n, t, changed: j)
        } else {
            if c[j].busyIndex >= 0 {
                let i = c[j].busyIndex
                let last = nodeBusy[n].removeLast()
                if last != j {
                    nodeBusy[n][i] = last
                    c[last].busyIndex = i
                }
                c[j].busyIndex = -1
                nodeDemand[n] -= c[j].cap
            }
            c[j].cap = 0
            c[j].cpu = 0
            c[j].gpuFraction = 0
            setRate(j, t)
            redivide(n, t, changed: -1)
        }
    }

    /// Divides node n's cores (CFS water-filling) and GPUs (time slices by share) among
    /// its busy containers and updates every container whose allocation changed.
    /// `changed` is a container whose rate must be refreshed regardless.
    mutating func redivide(_ n: Int, _ t: Double, changed: Int, force: Bool = false) {
        let capacity = nodes[n].cpus
        // Fast path: nobody is short of CPU before or after, and there is no GPU to share:
        // every busy container runs at its cap, so only `changed` needs an update.
        if !force && nodes[n].gpus == 0 && !nodeSaturated[n] && nodeDemand[n] <= capacity * (1 - 1e-9) {
            if changed >= 0 && (c[changed].busy > 0 || c[changed].spinning) {
                account(changed, t)
                c[changed].cpu = c[changed].cap
                setRate(changed, t)
            }
            return
        }
        let busy = nodeBusy[n]
        let m = busy.count
        scratchCap.removeAll(keepingCapacity: true)
        scratchWeight.removeAll(keepingCapacity: true)
        var demand = 0.0
        for j in busy {
            scratchCap.append(c[j].cap)
            scratchWeight.append(c[j].spinning ? c[j].allocation.cpuWeight * idleSpin[j].weight : c[j].allocation.cpuWeight)
            demand += c[j].cap
        }
        nodeDemand[n] = demand
        nodeSaturated[n] = demand > capacity * (1 - 1e-9)
        if scratchShare.count < m { scratchShare.append(contentsOf: repeatElement(0, count: m - scratchShare.count)) }
        scratchCap.withUnsafeBufferPointer { cap in
            scratchWeight.withUnsafeBufferPointer { w in
                scratchShare.withUnsafeMutableBufferPointer { s in
                    waterFilling.divide(capacity: capacity, cap: cap, weight: w, into: UnsafeMutableBufferPointer(rebasing: s[0..<m]))
                }
            }
        }
        let gpus = nodes[n].gpus
        if gpus > 0 {
            for g in 0..<gpus { gpuShareSum[g] = 0 }
            for j in busy where c[j].gpu >= 0 && c[j].busy > 0 { gpuShareSum[c[j].gpu] += c[j].allocation.gpuShare }
        }
        for (k, j) in busy.enumerated() {
            let cpu = scratchShare[k]
            // A spinning container polls on its CPU threads, not on the GPU.
            let g = c[j].gpu >= 0 && c[j].busy > 0 ? c[j].allocation.gpuShare / gpuShareSum[c[j].gpu] : 0
            if j == changed || cpu != c[j].cpu || g != c[j].gpuFraction {
                advance(j, t)
                account(j, t)
                c[j].cpu = cpu
                c[j].gpuFraction = g
                setRate(j, t)
            }
        }
    }
}

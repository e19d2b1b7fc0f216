import Foundation
import QoESimInput

/// Everything a simulation runs on: the cluster, the jobs and any replayed requests.
public struct Scenario: Sendable {
    /// The nodes, in order.
    public var cluster: ClusterSpec
    /// The jobs (one deployed model each), in trace order.
    public var jobs: [JobSpec]
    /// Replayed requests of `arrivals=trace` jobs, by job id (a request trace held in memory).
    public var requests: [String: [TracedRequest]]
    /// A request trace streamed from disk instead (files over
    /// ``RequestTrace/streamAbove``): read job by job while the simulation runs.
    public var streamedRequests: StreamedRequestTrace?
    /// Offsets of the streamed trace are multiplied by this (``scaled(load:timeScale:)``).
    public var streamStretch = 1.0

    /// A scenario built in code; `requests` holds the request trace of each `trace` job, by job id.
    public init(cluster: ClusterSpec, jobs: [JobSpec], requests: [String: [TracedRequest]] = [:]) {
        self.cluster = cluster
        self.jobs = jobs
        self.requests = requests
    }

    /// Loads and cross-checks the input files of a run.
    ///
    /// - Parameters:
    ///   - cluster: cluster JSON/YAML file.
    ///   - trace: job trace CSV.
    ///   - models: folder of model JSON files.
    ///   - requests: request trace CSV, needed when a job has `arrivals=trace`.
    public static func load(cluster: String, trace: String, models: String, requests: String? = nil) throws -> Scenario {
        let clusterSpec = try ClusterSpec.load(cluster)
        let catalog = try ModelCatalog.load(folder: models)
        let jobs = try JobTrace.load(trace, models: catalog, nodeNames: clusterSpec.nodes.map(\.name))
        var scenario = Scenario(cluster: clusterSpec, jobs: jobs)
        if let r = requests {
            let size = (try? FileManager.default.attributesOfItem(atPath: r)[.size] as? NSNumber)??.uint64Value ?? 0
            if size > RequestTrace.streamAbove {
                scenario.streamedRequests = try StreamedRequestTrace(validating: r, jobIDs: jobs.map(\.id))
            } else {
                scenario.requests = try RequestTrace.load(r, jobIDs: jobs.map(\.id))
            }
        }
        try scenario.validate(jobFile: trace, requestFile: requests)
        return scenario
    }

    /// This scenario with its open-loop arrivals scaled: every drawn process's mean rate times
    /// `load`, every replayed request's offset times `timeScale / load`. Closed-loop jobs
    /// are unchanged (their rate is set by their own responses). Both must be finite and > 0.
    public func scaled(load: Double = 1, timeScale: Double = 1) -> Scenario {
        precondition(load.isFinite && load > 0 && timeScale.isFinite && timeScale > 0, "load and time scale must be finite and > 0")
        guard load != 1 || timeScale != 1 else { return self }
        var out = self
        for k in out.jobs.indices where out.jobs[k].arrivals.drawsArrivals { out.jobs[k].rate *= load }
        let stretch = timeScale / load
        for (id, reqs) in out.requests { out.requests[id] = reqs.map { TracedRequest(offset: $0.offset * stretch, size: $0.size) } }
        out.streamStretch *= stretch
        return out
    }

    /// How many replayed requests job `id` has (held or streamed).
    public func tracedCount(of id: String) -> Int {
        streamedRequests?.counts[id] ?? requests[id]?.count ?? 0
    }

    /// Every replayed request of job `id` in time order, in memory (live runs).
    public func tracedRequests(of id: String) -> [TracedRequest] {
        if let s = streamedRequests { return s.requests(of: id, stretch: streamStretch) }
        return requests[id] ?? []
    }

    /// The most requests one open-loop job may expect (rate x duration): about 3e9 events,
    /// minutes of simulation.
    public static let maxExpectedRequests = 1e9

    /// Checks what no single file can: every job can be placed somewhere, trace jobs
    /// have requests. Errors point at the job's line in `jobFile`.
    public func validate(jobFile: String = "<jobs>", requestFile: String? = nil) throws {
        guard !cluster.nodes.isEmpty else { throw InputError(file: "<cluster>", line: 0, "cluster has no nodes") }
        // Memory: about 16 KB per job (its histograms, streams and container state;
        // measured 12 KB per job with 20,000 jobs), within half of this machine's memory.
        let perJob = 16 * 1024.0, budget = Double(ProcessInfo.processInfo.physicalMemory) / 2
        if Double(jobs.count) * perJob > budget {
            throw InputError(file: jobFile, line: 0, String(
                format: "%d jobs need about %.1f GB (16 KB each), more than half of this machine's %.1f GB of memory; the limit here is %d jobs (Docs/LIMITS.md)",
                jobs.count, Double(jobs.count) * perJob / 1e9, budget * 2 / 1e9, Int(budget / perJob)))
        }
        var seen = Set<String>()
        for job in jobs {
            func fail(_ p: String) -> InputError { InputError(file: jobFile, line: job.line, p) }
            if !seen.insert(job.id).inserted { throw fail("duplicate job id '\(job.id)'") }
            let needsGPU = job.model.latency.usesGPU
            let eligible = cluster.nodes.filter { job.node == nil || $0.name == job.node }
            if eligible.isEmpty { throw fail("node '\(job.node ?? "")' does not exist in the cluster") }
            if needsGPU && !eligible.contains(where: { $0.gpus > 0 }) {
                throw fail("model '\(job.model.name)' needs a GPU but \(job.node.map { "node '\($0)' has" } ?? "no node has") one")
            }
            let reserve = job.cpus ?? 0
            if !eligible.contains(where: { $0.cpus + 1e-9 >= reserve && (!needsGPU || $0.gpus > 0) }) {
                throw fail("job requests \(reserve) cpus but no eligible node has that many")
            }
            // Work: an open-loop job may expect at most 1e9 requests (minutes of simulation each).
            // A closed loop makes at most duration / (latency with every core it can get) requests per worker.
            if job.arrivals.isClosed {
                let cores = eligible.map(\.cpus).max() ?? 1
                let fastest = job.model.latency.latencySeconds(cpus: cores)
                let most = Double(job.workers) * job.duration / fastest
                if most > Self.maxExpectedRequests {
                    throw fail(String(
                        format: "a closed loop of %d worker(s) for %.3g s at %.3g ms per request could make %.3g requests, beyond the limit of %.0e per job (Docs/LIMITS.md)",
                        job.workers, job.duration, fastest * 1000, most, Self.maxExpectedRequests))
                }
            }
            if job.arrivals.drawsArrivals {
                var expected = job.rate * job.duration
                if case .varying(let profile) = job.arrivals { expected = job.rate * profile.integral(to: job.duration) }
                if expected > Self.maxExpectedRequests {
                    throw fail(String(
                        format: "rate_rps x duration_s = %.3g expected requests, beyond the limit of %.0e per job (Docs/LIMITS.md); shorten duration_s or lower rate_rps",
                        expected, Self.maxExpectedRequests))
                }
            }
            if job.arrivals.isTrace && tracedCount(of: job.id) == 0 {
                let hint = requestFile.map { "the request trace \($0) has no rows for it" } ?? "no request trace was given (--requests FILE)"
                throw fail("job '\(job.id)' has arrivals=trace but \(hint)")
            }
        }
    }
}

import Foundation
import QoESim

/// Docker as the actuator of the live plant: `docker update` and cgroup (or stats API) CPU
/// counters. It does not put GPU shares into force (Docker cannot change a running
/// container's GPU share): the controller records such changes as not actuated.
final class DockerActuator: ContainerActuator {
    let docker: DockerClient
    let ids: [String]
    init(docker: DockerClient, ids: [String]) {
        self.docker = docker
        self.ids = ids
    }

    func engineReachable() -> Bool {
        let docker = self.docker
        return (try? blocking { try await docker.ping() }) ?? false
    }

    func apply(_ container: Int, _ a: Allocation) throws {
        let docker = self.docker, id = ids[container]
        FaultPoint.pause("live.update")  // tests: a slow update, for signals that land in one
        try blocking { try await docker.update(id, cpus: a.cpuLimit, shares: Int(a.cpuWeight * 1024)) }
    }

    func inForce(_ container: Int) -> Allocation? {
        let docker = self.docker, id = ids[container]
        guard let l = try? blocking({ try await docker.limits(id) }) else { return nil }
        return Allocation(cpuLimit: l.nanoCPUs > 0 ? Double(l.nanoCPUs) / 1e9 : nil, cpuWeight: Double(l.shares) / 1024)
    }

    func cpuSeconds(_ container: Int) -> Double? {
        let docker = self.docker, id = ids[container]
        return try? blocking { try await docker.cpuSeconds(id) }
    }
}

/// docker-updates.csv: each `docker update` a live run applied, its API latency and any
/// error, with the run keys first.
public enum DockerUpdateLog {
    public static func csv(_ updates: [(time: Double, job: String, cpus: Double?, shares: Int, apiMs: Double, error: String?)], keys: RunKeys) -> String {
        let k = "\(CSVTable.field(keys.runID)),\(CSVTable.field(keys.policy)),\(keys.seed),"
        var csv = "run_id,policy,seed,time_s,job_id,cpu_limit,cpu_shares,api_ms,error\n"
        for u in updates {
            csv += k + "\(u.time),\(CSVTable.field(u.job)),\(u.cpus.map { "\($0)" } ?? ""),\(u.shares),\(u.apiMs),\(CSVTable.field(u.error ?? ""))\n"
        }
        return csv
    }
}

import Foundation

/// Renders results as a readable table, CSV or JSON.
public enum ResultFormatter {
    static func fmt(_ v: Double?, _ digits: Int = 1) -> String {
        guard let v else { return "-" }
        return String(format: "%.\(digits)f", v)
    }

    /// The per-model table printed by `qoesim run`.
    public static func table(_ r: SimulationResult) -> String {
        let header = ["job", "model", "node", "metric", "target_ms", "requests", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "satisfied"]
        var rows: [[String]] = [header]
        for m in r.models {
            rows.append([
                m.id, m.model, m.node ?? "(never placed)", m.metric.rawValue, fmt(m.targetMs), "\(m.requests)",
                fmt(m.meanMs), fmt(m.p50Ms), fmt(m.p95Ms), fmt(m.p99Ms), m.satisfied ? "yes" : "no",
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = "policy \(r.policy), seed \(r.seed): \(r.satisfied) of \(r.total) models satisfied\n"
        for (k, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, cell in
                i < 4 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }
            out += cells.joined(separator: "  ") + "\n"
            if k == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        if r.neverPlaced > 0 { out += "\(r.neverPlaced) job(s) never found a node with room\n" }
        return out
    }

    /// `models.csv`: one row per job, full precision.
    public static func modelsCSV(_ r: SimulationResult) -> String {
        var s = "policy,seed,job_id,model,node,metric,target_ms,requests,unfinished,mean_ms,p50_ms,p95_ms,p99_ms,measured_ms,satisfied,pending_s,cpu_s\n"
        func o(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        for m in r.models {
            s += "\(r.policy),\(r.seed),\(m.id),\(m.model),\(m.node ?? ""),\(m.metric.rawValue),\(m.targetMs),\(m.requests),"
            s += "\(m.unfinished),\(o(m.meanMs)),\(o(m.p50Ms)),\(o(m.p95Ms)),\(o(m.p99Ms)),\(o(m.measuredMs)),"
            s += "\(m.satisfied),\(o(m.pendingS)),\(m.cpuSeconds)\n"
        }
        return s
    }

    struct RunJSON: Encodable {
        let policy: String
        let seed: UInt64
        let satisfied: Int
        let total: Int
        let neverPlaced: Int
        let events: Int
        let simulatedS: Double
        let wallS: Double
        let eventsPerS: Double
        let models: [ModelResult]

        enum CodingKeys: String, CodingKey {
            case policy, seed, satisfied, total, events, models
            case neverPlaced = "never_placed", simulatedS = "simulated_s", wallS = "wall_s", eventsPerS = "events_per_s"
        }
    }

    /// One JSON object describing the run. Every field but `wall_s` and
    /// `events_per_s` is deterministic for a given input and seed.
    public static func json(_ r: SimulationResult, wallSeconds: Double) -> String {
        let doc = RunJSON(
            policy: r.policy, seed: r.seed, satisfied: r.satisfied, total: r.total, neverPlaced: r.neverPlaced,
            events: r.events, simulatedS: r.simulatedSeconds, wallS: wallSeconds,
            eventsPerS: wallSeconds > 0 ? Double(r.events) / wallSeconds : 0, models: r.models)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A value JSON cannot hold (an infinite or NaN metric) is written as a string
        // ("inf", "-inf", "nan"), never a trap.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return String(decoding: try encoder.encode(doc), as: UTF8.self) } catch {
            return "{\"error\": \"the result could not be encoded: \(error)\"}"
        }
    }
}

extension ModelResult {
    /// Encodes absent values as `null` so every model has every field.
    public func encode(to encoder: Encoder) throws {
        var k = encoder.container(keyedBy: CodingKeys.self)
        try k.encode(id, forKey: .id)
        try k.encode(model, forKey: .model)
        try k.encode(node, forKey: .node)
        try k.encode(targetMs, forKey: .targetMs)
        try k.encode(metric, forKey: .metric)
        try k.encode(requests, forKey: .requests)
        try k.encode(unfinished, forKey: .unfinished)
        try k.encode(meanMs, forKey: .meanMs)
        try k.encode(p50Ms, forKey: .p50Ms)
        try k.encode(p95Ms, forKey: .p95Ms)
        try k.encode(p99Ms, forKey: .p99Ms)
        try k.encode(measuredMs, forKey: .measuredMs)
        try k.encode(satisfied, forKey: .satisfied)
        try k.encode(pendingS, forKey: .pendingS)
        try k.encode(cpuSeconds, forKey: .cpuSeconds)
    }
}

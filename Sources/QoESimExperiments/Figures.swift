import Foundation
import QoESim
import QoESimPlot

/// Collects per-container CPU samples of one run (for "CPU over time" figures).
public final class UsageSeriesRecorder: SimulationRecorder {
    public private(set) var samples: [Int: [SVGChart.Point]] = [:]
    public init() {}
    public func requestCompleted(job: Int, arrival: Double, start: Double, completion: Double, size: Double) {}
    public func allocationChanged(time: Double, job: Int, node: Int, allocation: Allocation, reason: String) {}
    public func usageSampled(time: Double, job: Int, node: Int, allocation: Allocation, cpuUsed: Double, gpuUsed: Double, outstanding: Int) {
        samples[job, default: []].append(SVGChart.Point(x: time, y: cpuUsed))
    }
}

/// The figures an experiment writes.
public enum ExperimentFigures {
    /// Each model's measured metric / target under each policy (log scale; below 1 = met).
    public static func latencyVsTarget(_ outcomes: [(String, SimulationResult)], title: String) -> SVGChart {
        guard let first = outcomes.first?.1 else { return SVGChart(title: title, xLabel: "", yLabel: "", series: []) }
        let order = first.models.indices.sorted { first.models[$0].targetMs < first.models[$1].targetMs }
        let series = outcomes.map { name, r in
            SVGChart.Series(
                name: name,
                points: order.enumerated().compactMap { k, i in
                    r.models[i].measuredMs.map { SVGChart.Point(x: Double(k), y: $0 / r.models[i].targetMs) }
                },
                line: false)
        }
        var chart = SVGChart(title: title, xLabel: "model (sorted by target)", yLabel: "measured / target (log)", series: series)
        chart.logY = true
        chart.referenceLines = [(1, "target")]
        chart.xTickLabels = order.enumerated().map { (Double($0), first.models[$1].id) }
        return chart
    }

    /// CPU cores used by each container over time.
    public static func cpuOverTime(_ recorder: UsageSeriesRecorder, jobIDs: [String], title: String) -> SVGChart {
        let series = recorder.samples.keys.sorted().map { j in
            SVGChart.Series(name: jobIDs[j], points: recorder.samples[j]!, markers: false, step: true)
        }
        var chart = SVGChart(title: title, xLabel: "time (s)", yLabel: "CPU cores used", series: series)
        chart.legendLimit = 16
        return chart
    }
}

import Foundation

/// Settings of one simulation run that are not part of its inputs.
public struct SimulationOptions: Sendable {
    /// How new containers are placed on nodes.
    public var placement: PlacementStrategy = .spread
    /// Significant digits (2, 3 or 4) of the response-time histograms that give
    /// percentiles; means are exact whatever the setting. 2 (the default): percentiles
    /// within 1% relative (HdrHistogram's worst case 1/128), ~9 KiB per histogram.
    /// 3: within 0.1%, ~61 KiB per histogram; measured on the 10,000-container scale run
    /// (Benchmarks/README.md): 635 MB instead of 137 MB and 1.4x the wall time (the
    /// counters no longer stay in cache).
    public var histogramDigits: Int = 2
    /// Stop the simulation at this time even if work remains (requests still
    /// outstanding are reported as unfinished). Infinity: run until all jobs finish.
    public var horizon: Double = .infinity
    /// Every this many simulated seconds, report each container's CPU and GPU use to
    /// the recorder (``SimulationRecorder/usageSampled(time:job:node:allocation:cpuUsed:gpuUsed:outstanding:)``).
    /// Nil: no sampling.
    public var sampleInterval: Double? = nil
    /// Seconds between a policy's decision and its effect (a `docker update` is not
    /// instant: the engine round trip plus the cgroup write, and CFS applies the new
    /// quota from the next period). 0: immediate.
    public var actuationDelay: Double = 0
    /// Check the simulation's invariants after every event (Docs/INVARIANTS.md, S6) and
    /// stop with ``SimulationInvariantError`` at the first broken one. For tests and
    /// debugging: it makes runs several times slower. Also switched on by the environment
    /// variable QOESIM_CHECK_INVARIANTS=1.
    public var checkInvariants: Bool = ProcessInfo.processInfo.environment["QOESIM_CHECK_INVARIANTS"] == "1"

    /// Options with the documented defaults (`spread` placement, 2 significant digits, no horizon, no usage samples, no actuation delay).
    public init(
        placement: PlacementStrategy = .spread, histogramDigits: Int = 2, horizon: Double = .infinity,
        sampleInterval: Double? = nil, actuationDelay: Double = 0
    ) {
        self.actuationDelay = actuationDelay
        self.placement = placement
        self.histogramDigits = histogramDigits
        self.horizon = horizon
        self.sampleInterval = sampleInterval
    }
}

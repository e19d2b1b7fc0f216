import DequeModule
import Foundation
import Histogram

/// An invariant of the simulation found broken while ``SimulationOptions/checkInvariants``
/// was on: a defect of the simulator, never of the input.
public struct SimulationInvariantError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// A simulation of one scenario under one policy.
///
/// ```swift
/// let scenario = try Scenario.load(cluster: "c.json", trace: "jobs.csv", models: "Traces/models")
/// let result = try Simulation(scenario: scenario, policy: FairSharePolicy()).run(seed: 7)
/// print(result.satisfied, "of", result.total)
/// ```
///
/// A run is a pure function of (scenario, policy, options, seed): the same inputs give
/// the same result and the same recorder output, byte for byte.
public struct Simulation: Sendable {
    /// What is simulated: cluster, jobs, request traces.
    public let scenario: Scenario
    /// The policy that allocates resources (each ``run(seed:recorder:observer:progress:)`` starts from this value).
    public let policy: any AllocationPolicy
    /// Placement, horizon, sampling, actuation delay, histogram precision.
    public let options: SimulationOptions

    /// Prepares a run; throws ``InputError`` when the scenario is inconsistent.
    public init(scenario: Scenario, policy: any AllocationPolicy, options: SimulationOptions = .init()) throws {
        try scenario.validate()
        self.scenario = scenario
        self.policy = policy
        self.options = options
    }

    /// Convenience for programmatic scenarios.
    public init(
        cluster: ClusterSpec, jobs: [JobSpec], requests: [String: [TracedRequest]] = [:],
        policy: any AllocationPolicy, options: SimulationOptions = .init()
    ) throws {
        try self.init(scenario: Scenario(cluster: cluster, jobs: jobs, requests: requests), policy: policy, options: options)
    }

    /// Progress of a long run, for a progress display.
    public struct Progress: Sendable {
        /// Simulated seconds reached.
        public var simulatedSeconds: Double
        /// Events processed so far.
        public var events: Int
        /// Jobs placed and not yet finished.
        public var activeJobs: Int
    }

    /// Runs the simulation with random streams derived from `seed`.
    ///
    /// - Parameters:
    ///   - seed: the seed of every random stream (arrivals, service draws, per job and purpose).
    ///   - recorder: receives per-request and allocation records (nil: none kept).
    ///   - observer: receives what the policy saw and answered at every decision.
    ///   - progress: called about every 2^18 events.
    /// - Throws: ``PolicyChangeError`` when the policy answers with a change that names no
    ///   container of the node or an invalid allocation (the live adapter stops the same way).
    public func run(
        seed: UInt64, recorder: SimulationRecorder? = nil, observer: ControlObserver? = nil,
        progress: ((Progress) -> Void)? = nil
    ) throws -> SimulationResult {
        var state = SimulationState(simulation: self, seed: seed, recorder: recorder)
        var control = Controller(
            jobs: scenario.jobs, policy: policy, actuationDelay: options.actuationDelay, sampleInterval: options.sampleInterval,
            recorder: recorder, observer: observer)
        state.run(&control, progress: progress)
        if let broken = state.invariantFailure { throw SimulationInvariantError(description: broken) }
        if let failure = control.failure { throw failure }
        return state.result(control, seed: seed)
    }
}

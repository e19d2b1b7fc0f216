import QoESimControl

extension SimulationState {
    /// The run's result, assembled by the controller from this plant's meters: usage up
    /// to the last model event; events are the timers fired for the model (sampling
    /// ticks and deferred control ticks, which are bookkeeping, left out).
    mutating func result(_ control: Controller, seed: UInt64) -> SimulationResult {
        control.result(seed: seed, end: lastModelEvent, events: loop.eventsProcessed - sampleTicks - deferredTicks, plant: &self)
    }
}

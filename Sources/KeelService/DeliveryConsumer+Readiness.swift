public import KeelBus

extension DeliveryConsumer {
    /// Readiness: the consumer has declared its queues and bindings and is taking deliveries.
    ///
    /// Connected is not enough: a consumer declares its queue only once it starts, and until then an
    /// event published to the exchange it binds to reaches no queue and is gone. A service whose consumers
    /// have not started (or have stopped, waiting to start again) says so in `/health/ready`.
    public var readinessCheck: ReadinessCheck {
        ReadinessCheck(name: name, reason: { _ in "not consuming yet" }) { [self] in
            guard isConsuming else { throw NotConsuming() }
        }
    }
}

private struct NotConsuming: Error, CustomStringConvertible {
    var description: String { "the consumer has not declared its queues and started consuming" }
}

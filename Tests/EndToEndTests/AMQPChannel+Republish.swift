import AMQPClient

extension AMQPChannel {
    /// Publishes as a careful client does: a nack means the broker did not take responsibility for the
    /// message (a quorum queue whose write timed out on a loaded machine nacks too), so it is sent again,
    /// up to `attempts` times. Triggers carry an idempotency key, so a second copy changes nothing.
    func publishRepublishingNacks(
        _ body: [UInt8], exchange: String, routingKey: String, properties: AMQPProperties,
        mandatory: Bool = true, attempts: Int = 3
    ) async throws {
        for attempt in 1... {
            do {
                return try await publish(
                    body, exchange: exchange, routingKey: routingKey, properties: properties,
                    mandatory: mandatory)
            } catch let error as AMQPError where error == .nacked && attempt < attempts {
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}

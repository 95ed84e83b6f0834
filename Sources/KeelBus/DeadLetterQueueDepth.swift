import AMQPClient
import Metrics

/// Keeps `keel_dead_letter_queue_messages{queue}` current for the dead-letter queues of the queues a
/// consumer reads. The broker dead-letters a message at its queue's delivery limit without Keel seeing
/// it, so the depth is asked of the broker: declaring the queue again, exactly as it was declared,
/// answers with its count of ready messages.
struct DeadLetterQueueDepth: Sendable {
    let queues: [KeelQueue]
    let interval: Duration

    /// Reads now and every `interval` until cancelled; a read that fails is skipped (a closed channel
    /// ends the consumer anyway, and it starts again).
    func run(on channel: AMQPChannel) async throws {
        while !Task.isCancelled {
            for queue in queues {
                guard
                    let info = try? await channel.declareQueue(
                        queue.deadLetterQueue, arguments: ["x-queue-type": "quorum"])
                else { continue }
                Gauge(
                    label: "keel_dead_letter_queue_messages", dimensions: [("queue", queue.deadLetterQueue)]
                )
                .record(Int(info.messageCount))
            }
            try await Task.sleep(for: interval)
        }
    }
}

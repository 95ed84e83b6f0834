import AMQPClient
import Foundation
import KeelCore
import Logging

/// One trigger's conversation with Keel over RabbitMQ: publish it with `reply_to` set to a queue of
/// our own (exclusive, auto-delete, named by the broker), then read trigger-intake's answer and, when
/// asked to, the engine's `run.finished` on the same queue.
final class TriggerConversation {
    let connection: AMQPConnection
    let channel: AMQPChannel
    /// The reply queue's broker-given name.
    let replies: String
    /// The broker account we publish as: sent as `user-id`, which RabbitMQ checks, so the run's
    /// requester is authenticated rather than claimed.
    let user: String
    /// Messages read while looking for another type, in arrival order (a run that finishes at once
    /// may have its outcome relayed before trigger-intake's answer).
    private var unclaimed: [(type: String, body: JSONValue)] = []

    private init(connection: AMQPConnection, channel: AMQPChannel, replies: String, user: String) {
        self.user = user
        self.connection = connection
        self.channel = channel
        self.replies = replies
    }

    /// Connects and declares the reply queue.
    static func open(url: String) async throws -> TriggerConversation {
        var logger = Logger(label: "keel.cli")
        logger.logLevel = .critical
        let configuration = try AMQPConfiguration(url: url)
        let connection = try await AMQPConnection.connect(configuration, logger: logger)
        do {
            let channel = try await connection.openChannel()
            let queue = try await channel.declareQueue("", durable: false, exclusive: true, autoDelete: true)
            try await channel.enablePublisherConfirms()
            return TriggerConversation(
                connection: connection, channel: channel, replies: queue.name, user: configuration.user)
        } catch {
            await connection.close()
            throw error
        }
    }

    func close() async {
        await connection.close()
    }

    /// Publishes with confirms to `keel.triggers`, routed by the flow's name.
    func publish(_ body: [UInt8], flow: String) async throws {
        let messageID = UUID().uuidString.lowercased()
        do {
            try await channel.publish(
                body, exchange: "keel.triggers", routingKey: flow,
                properties: AMQPProperties(
                    contentType: "application/json", headers: ["keel-schema": "1"], correlationID: messageID,
                    replyTo: replies, messageID: messageID, userID: user),
                mandatory: true)
        } catch let error as AMQPError {
            if case .returned = error.code {
                throw CLIFailure.infrastructure(
                    "no queue is bound to keel.triggers: is trigger-intake running?")
            }
            throw error
        }
    }

    /// The next message on the reply queue whose type (`keel-type` header, else the body's `type`) is
    /// one of `types`, or nil when none came before `deadline`. Others are kept for a later call.
    /// Polls, quickly at first, then every half second.
    func next(_ types: Set<String>, before deadline: ContinuousClock.Instant) async throws -> JSONValue? {
        if let index = unclaimed.firstIndex(where: { types.contains($0.type) }) {
            return unclaimed.remove(at: index).body
        }
        var pause = Duration.milliseconds(20)
        while ContinuousClock.now < deadline {
            if let delivery = try await channel.get(queue: replies) {
                try await channel.ack(delivery)
                // Not ours to judge: a message that is not JSON is no answer, and is skipped.
                guard let body = try? JSONValue(parsing: delivery.body) else { continue }
                let type =
                    delivery.properties.headers["keel-type"]?.stringValue ?? body["type"]?.stringValue ?? ""
                if types.contains(type) { return body }
                unclaimed.append((type, body))
                continue
            }
            try await Task.sleep(for: min(pause, deadline - ContinuousClock.now))
            pause = min(pause * 2, .milliseconds(500))
        }
        return nil
    }
}

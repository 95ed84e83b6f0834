import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelService
import KeelStore

/// Starts runs for the people the operators' API authenticated: publishes their trigger to
/// `keel.triggers` as any publisher does, from the approval-service's own broker account with the
/// person named in `keel-requester` (`OnBehalfOf`), which trigger-intake believes only from an account
/// marked `acts_for_others` (`keel publisher trust`). Then it waits a little for trigger-intake's answer
/// in the database: the run with this idempotency key, or the rejection of this message.
struct RunStarter: Sendable {
    let publishing: AMQPConnectionService
    let runs: RunStore
    let rejections: TriggerRejectionStore

    enum Started: Sendable {
        case created(RunSummary)
        case existing(RunSummary)
        /// Published and confirmed by the broker; trigger-intake had not answered within the wait.
        case accepted(idempotencyKey: String)
        case rejected(TriggerRejectionRecord)
    }

    func start(
        flow: String, input: JSONValue, idempotencyKey: String?, draft: Int?, for principal: APITokenRecord,
        wait: Duration
    ) async throws -> Started {
        let key = idempotencyKey ?? UUID().uuidString.lowercased()
        if let existing = try await runs.summary(flow: flow, idempotencyKey: key) {
            return .existing(existing)
        }
        var body: JSONObject = [
            "flow": .string(flow), "input": input, "idempotency_key": .string(key),
            "actor": .string(principal.name),
        ]
        if let draft { body["draft"] = .number(JSONNumber(draft)) }
        let messageID = UUID().uuidString.lowercased()
        var properties = AMQPProperties(
            contentType: "application/json", deliveryMode: .persistent, correlationID: messageID,
            messageID: messageID)
        properties.userID = publishing.user
        properties.headers[OnBehalfOf.header] = .string(principal.name)
        let bytes = JSONValue.object(body).jsonBytes()
        guard bytes.count <= TriggerRequest.maximumBodyBytes else {
            // trigger-intake would dead-letter it unread; say so now, with the field that made it so.
            throw ProblemDetails(
                status: .contentTooLarge, type: "/problems/body-too-large", title: "Input too large",
                detail:
                    "The trigger would be \(bytes.count) bytes; a trigger holds at most \(TriggerRequest.maximumBodyBytes).",
                errors: [.init(pointer: "/input", detail: "too large")])
        }
        try await publish(bytes, routingKey: flow, properties: properties)

        let deadline = ContinuousClock.now + wait
        var delay = Duration.milliseconds(20)
        repeat {
            if let run = try await runs.summary(flow: flow, idempotencyKey: key) { return .created(run) }
            if let rejected = try await rejections.find(messageID: messageID) { return .rejected(rejected) }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(250))
        } while ContinuousClock.now < deadline
        return .accepted(idempotencyKey: key)
    }

    /// Publishes with confirms on a channel of its own, closed here whatever happens; a nack (the broker
    /// did not take the message) is sent again, as every Keel publisher does, then answered 503.
    private func publish(_ body: [UInt8], routingKey: String, properties: AMQPProperties) async throws {
        let connection: AMQPConnection
        do {
            connection = try await publishing.connected()
        } catch {
            throw Problems.brokerUnavailable
        }
        do {
            try await connection.withChannel { channel in
                try await channel.enablePublisherConfirms()
                for attempt in 1...3 {
                    do {
                        try await channel.publish(
                            body, exchange: KeelTopology.triggers.name, routingKey: routingKey,
                            properties: properties, mandatory: true)
                        break
                    } catch let error as AMQPError where error == .nacked && attempt < 3 {
                        try await Task.sleep(for: .milliseconds(100 * attempt))
                    }
                }
            }
        } catch {
            throw error is AMQPError ? Problems.brokerUnavailable : error
        }
    }
}

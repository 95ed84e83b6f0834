import AMQPClient
import Foundation
import KeelBus
import KeelStore
import KeelTestSupport
import Logging
import Testing

/// The services as a least-privilege deployment runs them: each with a PostgreSQL login in its own
/// role (every `EngineStack` does that) and here also a broker user of its own from `keel broker user`.
/// A run through an approval and a callback still finishes, and each broker user is refused what
/// belongs to another service.
@Suite(.serialized) struct LeastPrivilegeTests {
    @Test func aRunThroughAnApprovalAndACallbackFinishesWithEveryServiceOnItsOwnBrokerUser() async throws {
        let testbed = try CallbackTestbed()
        defer { testbed.remove() }
        let keel = ServiceProcess.binDirectory.appendingPathComponent("keel").path
        let stack = try await EngineStack(
            flows: [TraceFlowTests.tracedFlow(keel: keel)],
            environment: [
                "KEEL_CALLBACK_KEYS": testbed.keysSetting, "KEEL_CALLBACK_GATEWAY_URL": testbed.gatewayURL,
                "KEEL_RUN_PATH": "/usr/bin:/bin",
                // The approval-service's notifier consumes keel.notifications on its own user too.
                "KEEL_WEBHOOK_SECRET": WebhookNotificationTests.secret,
            ], brokerUsers: true)
        do {
            _ = try await stack.startCallbackGateway(port: testbed.gatewayPort)
            let approvals = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
            let alice = try await stack.token("alice")
            try await stack.trigger("traced", key: "least-privilege")
            let run = try await stack.runID(key: "least-privilege", flow: "traced")
            let pending = try await approvals.pending(run: run, step: "gate", token: alice)
            let id = try #require(pending["id"] as? String)
            #expect(try await approvals.decide(id, "approve", token: alice).status == 200)
            #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")
            #expect(!stack.logs.contains("ACCESS_REFUSED"), "\(stack.logs)")
            #expect(stack.logs.contains("keel.notifications"), "the notifier did not consume:\n\(stack.logs)")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    /// What one service's broker user tries that belongs to another.
    enum Attempt: Sendable, CustomTestStringConvertible {
        case publish(exchange: String)
        case read(queue: String)
        case declare(queue: String)

        var testDescription: String {
            switch self {
            case .publish(let exchange): "publish to \(exchange)"
            case .read(let queue): "read \(queue)"
            case .declare(let queue): "declare \(queue)"
            }
        }
    }

    static let refusals: [(DatabaseRole, Attempt)] = [
        (.approvalService, .read(queue: "keel.triggers")),
        (.callbackGateway, .publish(exchange: "keel.triggers")),
        (.stepExecutor, .publish(exchange: "keel.triggers")),
        (.stepExecutor, .read(queue: "keel.triggers")),
        (.triggerIntake, .read(queue: "keel.steps.default.0")),
        (.callbackGateway, .read(queue: "keel.triggers")),
        (.approvalService, .declare(queue: "keel.callbacks")),
        (.stepExecutor, .read(queue: "keel.dead.keel.steps.default.0")),
        (.stepExecutor, .read(queue: "keel.notifications")),
        (.callbackGateway, .read(queue: "keel.notifications")),
        (.approvalService, .read(queue: "keel.triggers")),
    ]

    @Test func eachServiceBrokerUserIsRefusedWhatBelongsToAnother() async throws {
        let stack = try await EngineStack(flows: [], startingExecutor: false, brokerUsers: true)
        do {
            // The approval-service's queue, as its notifier declares it.
            try await KeelTopology.notifications.declare(on: stack.channel)
            for (role, attempt) in Self.refusals {
                let url = try #require(stack.brokerURLs[role])
                let connection = try await AMQPConnection.connect(
                    try AMQPConfiguration(url: url), logger: Logger(label: "test"))
                let channel = try await connection.openChannel()
                let refused = await #expect(
                    throws: AMQPError.self, "\(role.rawValue) may \(attempt.testDescription)"
                ) {
                    switch attempt {
                    case .publish(let exchange):
                        try await channel.enablePublisherConfirms()
                        try await channel.publish(
                            Array("{}".utf8), exchange: exchange, routingKey: "x",
                            properties: AMQPProperties())
                    case .read(let queue):
                        _ = try await channel.get(queue: queue)
                    case .declare(let queue):
                        try await channel.declareQueue(queue, arguments: ["x-queue-type": "quorum"])
                    }
                }
                #expect(
                    "\(String(describing: refused))".contains("403")
                        || "\(String(describing: refused))".contains("ACCESS_REFUSED"),
                    "\(role.rawValue) \(attempt.testDescription): \(String(describing: refused))")
                await connection.close()
            }
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}

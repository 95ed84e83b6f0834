import KeelBus
import Testing

/// Each service's broker permissions cover exactly what it declares, consumes and publishes to, and
/// none of another service's queues (RabbitMQ searches the patterns; Swift's `firstMatch` does too).
@Suite("Broker permissions")
struct BrokerPermissionsTests {
    static func matches(_ pattern: String, _ name: String) throws -> Bool {
        try Regex(pattern).firstMatch(in: name) != nil
    }

    @Test("each consumer may declare, bind and read its own topology and publish through the outbox")
    func ownTopology() throws {
        let consumers: [(BrokerPermissions.Service, KeelDeclaration)] = [
            (.triggerIntake, KeelTopology.triggerIntake),
            (.callbackGateway, KeelTopology.callbackGateway),
            (.stepExecutor, KeelTopology.stepExecutor(pool: "default", shards: 4)),
            (.stepExecutor, KeelTopology.stepExecutor(pool: "gpu-1", shards: 2)),
            (.stepExecutor, KeelTopology.stepExecutor(pool: "gpu+linux", shards: 12)),
            (.approvalService, KeelTopology.notifications),
        ]
        for (service, declaration) in consumers {
            let permissions = BrokerPermissions.of(service)
            let declared = declaration + KeelTopology.publishing
            for exchange in declared.exchanges {
                #expect(
                    try Self.matches(permissions.configure, exchange.name),
                    "\(service) configure \(exchange.name)")
            }
            for queue in declared.queues {
                for name in [queue.name, queue.deadLetterQueue] {
                    #expect(try Self.matches(permissions.configure, name), "\(service) configure \(name)")
                    #expect(try Self.matches(permissions.write, name), "\(service) bind \(name)")
                }
                #expect(try Self.matches(permissions.read, queue.name), "\(service) consume \(queue.name)")
            }
            for binding in declared.bindings {
                #expect(
                    try Self.matches(permissions.read, binding.exchange),
                    "\(service) bind from \(binding.exchange)")
            }
            for exchange in ["amq.default", "keel.events", "keel.steps", "keel.dead-letters"] {
                #expect(try Self.matches(permissions.write, exchange), "\(service) publish to \(exchange)")
            }
        }
        let approvals = BrokerPermissions.of(.approvalService)
        // It also starts runs for the people its API authenticates, as a publisher of triggers.
        for exchange in ["amq.default", "keel.events", "keel.steps", "keel.triggers"] {
            #expect(try Self.matches(approvals.write, exchange))
        }
    }

    @Test("no service may consume, declare or publish what belongs to another")
    func othersRefused() throws {
        let refused: [(BrokerPermissions.Service, kind: String, name: String)] = [
            (.triggerIntake, "read", "keel.steps.default.0"),
            (.triggerIntake, "read", "keel.callbacks"),
            (.triggerIntake, "write", "keel.callbacks"),
            (.triggerIntake, "configure", "keel.steps.default.0"),
            (.stepExecutor, "read", "keel.triggers"),
            (.stepExecutor, "write", "keel.triggers"),
            (.stepExecutor, "configure", "keel.triggers"),
            (.stepExecutor, "read", "keel.callbacks"),
            (.stepExecutor, "read", "keel.dead.keel.steps.default.0"),
            (.approvalService, "read", "keel.triggers"),
            (.approvalService, "read", "keel.steps.default.0"),
            (.approvalService, "configure", "keel.callbacks"),
            (.callbackGateway, "write", "keel.triggers"),
            (.approvalService, "configure", "keel.triggers"),
            (.approvalService, "read", "keel.callbacks"),
            (.triggerIntake, "read", "keel.notifications"),
            (.stepExecutor, "read", "keel.notifications"),
            (.callbackGateway, "read", "keel.notifications"),
            (.callbackGateway, "read", "keel.steps.default.0"),
            (.callbackGateway, "configure", "keel.steps.default.0"),
            // Anchored: a prefix or suffix of an own name is not the name.
            (.triggerIntake, "read", "keel.triggers.evil"),
            (.stepExecutor, "read", "xkeel.steps.default.0"),
            (.stepExecutor, "configure", "keel.steps.default.0.extra"),
        ]
        for (service, kind, name) in refused {
            let permissions = BrokerPermissions.of(service)
            let pattern =
                kind == "read"
                ? permissions.read : kind == "write" ? permissions.write : permissions.configure
            #expect(try !Self.matches(pattern, name), "\(service) may \(kind) \(name): \(pattern)")
        }
    }
}

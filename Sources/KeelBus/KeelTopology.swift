public import AMQPClient

/// Keel's RabbitMQ objects, declared as types so every service declares exactly the same thing
/// (a queue re-declared with other arguments is a channel error, so there must be one source).
///
/// Every work queue is a quorum queue with a delivery limit and a dead-letter target: a message that
/// keeps failing, or that a service rejects as invalid, ends in `keel.dead.<queue>` with its reason,
/// never nowhere. The dead-letter queues themselves are terminal.
public enum KeelTopology {
    /// Triggers: routing key = flow name (DESIGN §4).
    public static let triggers = KeelExchange(name: "keel.triggers", type: .topic)
    /// Child runs that `flow` steps ask for, routed like triggers into trigger-intake's queue. Apart from
    /// `keel.triggers` so that services, which relay these, still cannot publish ordinary triggers; a
    /// message here must name its parent's wait (`keel-parent-wait`), which intake checks.
    public static let subflows = KeelExchange(name: "keel.subflows", type: .topic)
    /// Run, step and approval events: `run.succeeded.<flow>`, `step.failed.<flow>.<step>`...
    public static let events = KeelExchange(name: "keel.events", type: .topic)
    /// Callbacks from remote workers over AMQP.
    public static let callbacks = KeelExchange(name: "keel.callbacks", type: .topic)
    /// Step dispatches: routing key `<pool>.<shard>`.
    public static let steps = KeelExchange(name: "keel.steps", type: .direct)
    /// Where every work queue's dead letters go, routed by the queue's name.
    public static let deadLetters = KeelExchange(name: "keel.dead-letters", type: .direct)

    public static let triggerQueue = KeelQueue(name: "keel.triggers")
    public static let callbackQueue = KeelQueue(name: "keel.callbacks")
    /// The events the approval-service turns into webhooks (docs/notifications.md).
    public static let notificationQueue = KeelQueue(name: "keel.notifications")

    /// `keel.steps.<pool>.<shard>`.
    public static func stepQueue(pool: String, shard: Int) -> KeelQueue {
        KeelQueue(name: "keel.steps.\(pool).\(shard)")
    }

    /// What trigger-intake consumes.
    public static var triggerIntake: KeelDeclaration {
        KeelDeclaration(
            exchanges: [triggers, subflows, deadLetters],
            queues: [triggerQueue],
            bindings: [
                KeelBinding(queue: triggerQueue.name, exchange: triggers.name, routingKey: "#"),
                KeelBinding(queue: triggerQueue.name, exchange: subflows.name, routingKey: "#"),
            ])
    }

    /// What callback-gateway consumes.
    public static var callbackGateway: KeelDeclaration {
        KeelDeclaration(
            exchanges: [callbacks, deadLetters],
            queues: [callbackQueue],
            bindings: [KeelBinding(queue: callbackQueue.name, exchange: callbacks.name, routingKey: "#")])
    }

    /// What the approval-service's notifier consumes: approval requests, reminders and decisions and
    /// failed runs, of every flow (`#`: flow names may hold dots).
    public static var notifications: KeelDeclaration {
        KeelDeclaration(
            exchanges: [events, deadLetters],
            queues: [notificationQueue],
            bindings: ["approval.requested", "approval.reminder", "approval.decided", "run.failed"].map {
                KeelBinding(queue: notificationQueue.name, exchange: events.name, routingKey: "\($0).#")
            })
    }

    /// What step-executors of one pool consume, over `shards` queues.
    public static func stepExecutor(pool: String, shards: Int) -> KeelDeclaration {
        let queues = (0..<shards).map { stepQueue(pool: pool, shard: $0) }
        return KeelDeclaration(
            exchanges: [steps, deadLetters],
            queues: queues,
            bindings: (0..<shards).map {
                KeelBinding(queue: queues[$0].name, exchange: steps.name, routingKey: "\(pool).\($0)")
            })
    }

    /// The exchanges the outbox relay publishes to: the run's events, step dispatches and child runs'
    /// triggers (replies go through the default exchange). Every service relays the one outbox, so every service needs them,
    /// and no more: `BrokerPermissions` lets each service configure only what it declares.
    public static var publishing: KeelDeclaration {
        KeelDeclaration(exchanges: [events, steps, subflows], queues: [], bindings: [])
    }
}

public struct KeelExchange: Sendable, Hashable {
    public var name: String
    public var type: AMQPExchangeType
}

/// A durable quorum work queue and its dead-letter queue.
public struct KeelQueue: Sendable, Hashable {
    public var name: String
    /// Deliveries before a message is dead-lettered instead of redelivered (a poison message).
    public var deliveryLimit: Int = 10

    public init(name: String, deliveryLimit: Int = 10) {
        self.name = name
        self.deliveryLimit = deliveryLimit
    }

    /// Where this queue's dead letters are kept.
    public var deadLetterQueue: String { "keel.dead.\(name)" }

    public var arguments: AMQPTable {
        [
            "x-queue-type": "quorum",
            "x-delivery-limit": .int64(Int64(deliveryLimit)),
            "x-dead-letter-exchange": .string(KeelTopology.deadLetters.name),
            "x-dead-letter-routing-key": .string(name),
        ]
    }
}

public struct KeelBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String

    public init(queue: String, exchange: String, routingKey: String) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

/// A set of objects to declare; declaring is idempotent.
public struct KeelDeclaration: Sendable, Hashable {
    public var exchanges: [KeelExchange]
    public var queues: [KeelQueue]
    public var bindings: [KeelBinding]

    public init(exchanges: [KeelExchange], queues: [KeelQueue], bindings: [KeelBinding]) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// Declares exchanges, then each queue with its dead-letter queue, then bindings.
    public func declare(on channel: AMQPChannel) async throws {
        for exchange in exchanges {
            try await channel.declareExchange(exchange.name, type: exchange.type)
        }
        for queue in queues {
            try await channel.declareQueue(queue.deadLetterQueue, arguments: ["x-queue-type": "quorum"])
            try await channel.bindQueue(
                queue.deadLetterQueue, exchange: KeelTopology.deadLetters.name, routingKey: queue.name)
            try await channel.declareQueue(queue.name, arguments: queue.arguments)
        }
        for binding in bindings {
            try await channel.bindQueue(
                binding.queue, exchange: binding.exchange, routingKey: binding.routingKey)
        }
    }

    public static func + (lhs: KeelDeclaration, rhs: KeelDeclaration) -> KeelDeclaration {
        KeelDeclaration(
            exchanges: lhs.exchanges + rhs.exchanges.filter { !lhs.exchanges.contains($0) },
            queues: lhs.queues + rhs.queues.filter { !lhs.queues.contains($0) },
            bindings: lhs.bindings + rhs.bindings.filter { !lhs.bindings.contains($0) })
    }
}

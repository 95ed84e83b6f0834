/// The RabbitMQ permissions of each service's own broker user, per virtual host: regular expressions
/// over the names a user may configure (declare), write (publish to; bind a queue) and read (consume;
/// bind from an exchange), as `rabbitmqctl set_permissions` takes them.
///
/// Each names only the service's own objects (`KeelTopology`): what it declares and consumes, the
/// exchanges the outbox relay publishes to (`KeelTopology.publishing`; every service relays the one
/// outbox, replies included, through `amq.default`) and, for a consumer, the dead-letter exchange its
/// refusals go to. RabbitMQ matches names, not kinds, so a queue named like its exchange
/// (`keel.triggers`, `keel.callbacks`) shares its write permission: trigger-intake may bind its queue,
/// and so may publish to the exchange of the same name.
public struct BrokerPermissions: Sendable, Hashable {
    public var configure: String
    public var write: String
    public var read: String

    /// The service whose user this is.
    public enum Service: String, CaseIterable, Sendable {
        case triggerIntake = "trigger-intake"
        case stepExecutor = "step-executor"
        case approvalService = "approval-service"
        case callbackGateway = "callback-gateway"
    }

    /// Nothing: RabbitMQ's way to grant no configure, write or read.
    static let nothing = "^$"

    public static func of(_ service: Service) -> BrokerPermissions {
        // The step-executor's pools and shard counts are settings, so its queues are a pattern
        // (`keel.steps.<runs_on labels joined with +>.<shard>`).
        let stepQueues = #"keel\.steps\..+\.[0-9]+"#
        let published = ["amq.default"] + KeelTopology.publishing.exchanges.map(\.name)
        let dead = KeelTopology.deadLetters.name
        switch service {
        case .triggerIntake:
            // Its queue is bound to keel.subflows too (an exchange it also publishes to, as every relay).
            return consumer(
                of: KeelTopology.triggerQueue, boundTo: KeelTopology.triggers.name,
                and: [KeelTopology.subflows.name])
        case .callbackGateway:
            return consumer(of: KeelTopology.callbackQueue, boundTo: KeelTopology.callbacks.name)
        case .stepExecutor:
            let own = #"|^(keel\.dead\.)?"# + stepQueues + "$"
            return BrokerPermissions(
                configure: names(KeelTopology.publishing.exchanges.map(\.name) + [dead]) + own,
                write: names(published + [dead]) + own,
                read: names([KeelTopology.steps.name, dead]) + #"|^"# + stepQueues + "$")
        case .approvalService:
            // Its notifier consumes keel.notifications, bound to keel.events (docs/notifications.md), and it
            // starts runs for the people its API authenticates: keel.triggers, as a publisher.
            let notifier = consumer(of: KeelTopology.notificationQueue, boundTo: KeelTopology.events.name)
            let triggers = names([KeelTopology.triggers.name])
            // It never declares keel.triggers (trigger-intake does), so it cannot delete its queue either.
            return BrokerPermissions(
                configure: notifier.configure, write: notifier.write + "|" + triggers, read: notifier.read)
        }
    }

    /// A service that consumes one queue bound to one exchange: it declares both, the queue's dead-letter
    /// queue and the exchanges the outbox relay publishes to; it binds its queues and publishes through
    /// the outbox and to the dead-letter exchange; it reads its queue.
    static func consumer(of queue: KeelQueue, boundTo exchange: String, and others: [String] = [])
        -> BrokerPermissions
    {
        let outbox = KeelTopology.publishing.exchanges.map(\.name)
        let dead = KeelTopology.deadLetters.name
        let own = [queue.name, queue.deadLetterQueue]
        return BrokerPermissions(
            configure: names(outbox + [exchange, dead] + own),
            write: names(["amq.default"] + outbox + [dead] + own),
            read: names([queue.name, exchange] + others + [dead]))
    }

    /// A pattern matching exactly these names.
    static func names(_ names: [String]) -> String {
        var seen = Set<String>()
        let unique = names.filter { seen.insert($0).inserted }
        return "^(" + unique.map(escaped).joined(separator: "|") + ")$"
    }

    /// `name` with the regular-expression metacharacters it may hold escaped.
    static func escaped(_ name: String) -> String {
        var result = ""
        for character in name {
            if ".-+*?()[]{}|^$\\".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

import ArgumentParser

/// `keel broker ...`: the services' own broker users.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Give each service a RabbitMQ user that may touch only its own exchanges and queues.",
        discussion: """
            `broker user` creates (or re-passwords) a service's user and sets its configure, write and read \
            permissions on one virtual host to the patterns docs/operations.md lists. It runs rabbitmqctl \
            (KEEL_RABBITMQCTL, default `rabbitmqctl`) on a machine that may administer the broker; users \
            belong to the whole cluster, permissions to one virtual host.
            """,
        subcommands: [BrokerUser.self, BrokerLimits.self])
}

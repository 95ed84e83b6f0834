import ArgumentParser

/// `keel publisher ...`: broker accounts of their own for those who trigger runs.
struct PublisherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publisher",
        abstract: "Give each trigger publisher broker credentials of its own, mapped to a Keel principal.",
        discussion: """
            A run's requester is who Keel authenticated, not who the trigger says: RabbitMQ checks a \
            message's user-id against the account that published it, and trigger-intake maps that account \
            to a principal. `publisher add` creates a RabbitMQ account that may publish to keel.triggers \
            and read its own reply queue, and nothing else, and records whom it publishes for. It runs \
            rabbitmqctl (KEEL_RABBITMQCTL, default `rabbitmqctl`) on a machine that may administer the \
            broker, and writes the mapping to PostgreSQL.
            """,
        subcommands: [PublisherAdd.self, PublisherTrust.self, PublisherList.self, PublisherRemove.self])
}

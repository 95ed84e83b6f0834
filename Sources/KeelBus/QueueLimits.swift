/// The length limit of Keel's work queues, as a RabbitMQ policy: at most `maxLength` messages ready in
/// each of `keel.triggers`, `keel.callbacks` and `keel.steps.<pool>.<shard>`, and publishes beyond that
/// refused (`reject-publish`: the publisher's confirm is a nack) rather than piling up in the broker
/// until its memory alarm stops every connection.
///
/// A policy, not queue arguments: a queue's arguments cannot change once it exists, so a limit given as
/// arguments would make every release that changes it fail on queues an older release declared. A policy
/// applies to queues that exist and can be changed at any time (`keel broker limits`). Dead-letter
/// queues (`keel.dead.*`) are left unlimited: they are where refused work must never be lost.
public struct QueueLimits: Sendable, Hashable {
    public var maxLength: Int

    /// The policy's name in each virtual host.
    public static let policyName = "keel-queue-limits"
    /// The default: room for bursts well beyond what executors' prefetch holds, bounded in memory
    /// (a dispatch is about 1 KiB, so 100,000 of them are about 100 MiB per queue at worst).
    public static let defaultMaxLength = 100_000

    public init(maxLength: Int = Self.defaultMaxLength) {
        self.maxLength = maxLength
    }

    /// The queues it applies to: the work queues, not their dead-letter queues.
    public static let pattern = #"^keel\.(triggers|callbacks|steps\..+)$"#

    /// The policy definition, as `rabbitmqctl set_policy` takes it.
    public var definition: String {
        #"{"max-length":\#(maxLength),"overflow":"reject-publish"}"#
    }

    /// The arguments of `rabbitmqctl set_policy` for `vhost`.
    public func setPolicyArguments(vhost: String) -> [String] {
        ["set_policy", "-p", vhost, "--apply-to", "queues", Self.policyName, Self.pattern, definition]
    }
}
